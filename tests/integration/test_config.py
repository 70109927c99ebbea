#!/usr/bin/env python3
"""Integration tests: configuration files: keys, layers, jobs, validation. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_config."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, Server, ServerTest  # noqa: E402


class ConfigTest(ServerTest):
    # ---- configuration files ---------------------------------------------------------------------
    def conf(self, text, name="c.conf"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_config_example_and_docs_cover_every_key(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        example = os.path.join(root, "crawl.conf.example")
        p = subprocess.run([CRAWL, "--config", example, "--check"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        helptext = subprocess.run([CRAWL, "--help"], capture_output=True, text=True).stdout
        # an option's line and the lines its description wraps onto
        keys = [m.group(1) for m in re.finditer(r"^  (?:-\S, |    )--([a-z0-9.-]+).*(?:\n {32}.*)*", helptext, re.M)
                if "[command line only]" not in m.group(0)]
        self.assertGreater(len(keys), 30)
        with open(example) as f:
            ex = f.read()
        with open(os.path.join(root, "man", "crawl.conf.5")) as f:
            man5 = f.read()
        for k in keys:
            self.assertRegex(ex, r"(?m)^#? ?%s =" % re.escape(k), "%s missing from crawl.conf.example" % k)
            self.assertIn("\\fB%s\\fR =" % k.replace("-", "\\-"), man5, "%s missing from crawl.conf.5" % k)
        if shutil.which("groff"):
            p = subprocess.run(["groff", "-ww", "-z", "-man", os.path.join(root, "man", "crawl.conf.5")],
                               capture_output=True, text=True)
            self.assertEqual((p.returncode, p.stderr), (0, ""))

    def test_config_jobs_layers_and_env(self):
        save = os.path.join(self.tmp, "saved")
        c = self.conf("""# two jobs
[defaults]
retries = 0
timeout = 20s
header = Authorization: Bearer ${CRAWL_TEST_TOKEN}

[job first]
url = %(b)s/headers
output = %(t)s/first.jsonl
directory-prefix = %(s)s

[job second]
url = %(b)s/page/x
url = %(b)s/page/y
output = %(t)s/second.jsonl
timeout = 30s
""" % {"b": self.b, "t": self.tmp, "s": save})
        env = dict(os.environ, CRAWL_TEST_TOKEN="t0ken")
        p = subprocess.run([CRAWL, "--config", c, "--check", "--connect-timeout", "3s"], capture_output=True,
                           text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        first, second = p.stdout.split("[job second]")
        self.assertIn("timeout = 20s", first)          # from [defaults]
        self.assertIn("timeout = 30s", second)         # the job overrides
        self.assertIn("connect-timeout = 3s", second)  # the command line overrides both
        self.assertNotIn("t0ken", p.stdout)            # credentials are not echoed
        p = subprocess.run([CRAWL, "-q", "--config", c], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "second.jsonl")) as f:
            self.assertEqual(sorted(json.loads(l)["url"] for l in f), [self.b + "/page/x", self.b + "/page/y"])
        with open(os.path.join(self.tmp, "first.jsonl")) as f:
            rec = json.loads(f.readline())
        with open(rec["saved_path"]) as f:
            self.assertIn("Authorization: Bearer t0ken", f.read())
        # --job picks one
        os.unlink(os.path.join(self.tmp, "first.jsonl"))
        p = subprocess.run([CRAWL, "-q", "--config", c, "--job", "second"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "first.jsonl")))
        p = subprocess.run([CRAWL, "--config", c, "--job", "nope"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 2)
        self.assertIn("nope", p.stderr)

    def test_config_validation_errors(self):
        before = json.loads(subprocess.run(["curl", "-s", self.b + "/stats"], capture_output=True, text=True).stdout
                            if shutil.which("curl") else '{"served": 0}')["served"] if shutil.which("curl") else None
        c = self.conf("""[defaults]
concurrancy = 5
timeout = soon
header = X: ${CRAWL_SURELY_UNSET_VAR}

[job a]
url = %(b)s/status/200
output = %(t)s/same.jsonl
input-file = %(t)s/missing.txt

[job b]
url = %(b)s/status/200
output = %(t)s/same.jsonl

[job empty]

[jobb c]
url = x
[job long]
url = %(long)s
""" % {"b": self.b, "t": self.tmp, "long": "http://127.0.0.1/" + "x" * 300})
        p = subprocess.run([CRAWL, "--config", c], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        err = p.stderr
        self.assertIn("%s:2: unknown key 'concurrancy'" % c, err)
        self.assertIn("%s:3: timeout: expected a duration" % c, err)
        self.assertIn("%s:4: environment variable CRAWL_SURELY_UNSET_VAR is not set" % c, err)
        self.assertIn("%s:9: input file" % c, err)
        self.assertIn("%s:13: job 'b' writes to the same output as job 'a'" % c, err)
        self.assertIn("%s:15: job 'empty' has no url and no input-file" % c, err)
        self.assertIn("%s:17: unknown section [jobb c]" % c, err)
        self.assertIn("%s:20: line longer than" % c, err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "same.jsonl")))  # nothing ran
        p = subprocess.run([CRAWL, "--config", self.conf("[job x]\nurl = %s/\nconfig = y\n" % self.b)],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn(":3: 'config' is a command-line option", p.stderr)
        p = subprocess.run([CRAWL, "--config", os.path.join(self.tmp, "nofile.conf")], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)

    def test_config_parallel_jobs_and_stop_on_error(self):
        srv = Server()
        try:
            jobs = "".join("""[job j%(i)d]
url = %(b)s/delay/400?j=%(i)d&k=1
url = %(b)s/delay/400?j=%(i)d&k=2
output = %(t)s/j%(i)d.jsonl
""" % {"i": i, "b": srv.base, "t": self.tmp} for i in range(3))
            c = self.conf("[defaults]\njobs = 3\nconcurrency = 2\n\n" + jobs)
            p = subprocess.run([CRAWL, "-q", "--config", c], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            stats = json.loads(subprocess.run([CRAWL, "-q", "-P", self.tmp + "/st", srv.base + "/stats"],
                                              capture_output=True, text=True).stdout or "{}") and None
            for i in range(3):
                with open(os.path.join(self.tmp, "j%d.jsonl" % i)) as f:
                    self.assertEqual(len(f.readlines()), 2)
            st = subprocess.run([CRAWL, "-q", "-P", os.path.join(self.tmp, "st"), srv.base + "/stats"],
                                capture_output=True, text=True)
            rec = json.loads(st.stdout)
            with open(rec["saved_path"]) as f:
                peak = json.load(f)["peak"]
            self.assertGreaterEqual(peak, 4)  # jobs overlapped on one loop (each has only 2 in flight)
        finally:
            srv.stop()
        c = self.conf("""[defaults]
stop-on-error = true
retries = 0
[job bad]
url = %(b)s/status/404
output = %(t)s/bad.jsonl
[job later]
url = %(b)s/status/200
output = %(t)s/later.jsonl
""" % {"b": self.b, "t": self.tmp}, "s.conf")
        p = subprocess.run([CRAWL, "-q", "--config", c], capture_output=True, text=True)
        self.assertEqual(p.returncode, 8)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "later.jsonl")))
        p = subprocess.run([CRAWL, "-q", "--config", c, "--stop-on-error=false"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 8)  # the worst job
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "later.jsonl")))

    def test_config_values_are_never_formats(self):
        # File and job names reach the diagnostics; printf directives in them
        # are printed as they are (they once were the format: a crash).
        c = self.conf("""[job %%n%%s%%s]
url = %(b)s/status/200
output = %(t)s/same.jsonl
input-file = %(t)s/%%s%%s%%n%%x.txt

[job other]
url = %(b)s/status/200
output = %(t)s/same.jsonl
""" % {"b": self.b, "t": self.tmp})
        p = subprocess.run([CRAWL, "--config", c], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("input file '%s/%%s%%s%%n%%x.txt': No such file or directory" % self.tmp, p.stderr)
        self.assertIn("job 'other' writes to the same output as job '%n%s%s'", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
