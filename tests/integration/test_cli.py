#!/usr/bin/env python3
"""Integration tests: the real crawl binary against the project's test server
on 127.0.0.1 (started and stopped here). Run by ctest; needs CRAWL_BIN and
TESTSERVER_BIN in the environment."""
import json
import os
import re
import resource
import sys
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

CRAWL = os.environ.get("CRAWL_BIN", "build/crawl")
SERVER = os.environ.get("TESTSERVER_BIN", "build/tests/testserver")


class Server:
    def __init__(self, bind="127.0.0.1", args=()):
        self.proc = subprocess.Popen([SERVER, "--bind", bind] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.base = "http://%s:%d" % (bind, self.port)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(args, stdin=None, timeout=60):
    p = subprocess.run([CRAWL] + args, input=stdin, capture_output=True, text=True, timeout=timeout)
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, recs, p.stderr


def by_url(recs):
    return {r["url"]: r for r in recs}


class CrawlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.b = cls.srv.base

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="crawl-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- records, field by field -------------------------------------------------
    def test_record_fields(self):
        code, recs, _ = run(["-q", self.b + "/page/one"])
        self.assertEqual(code, 0)
        self.assertEqual(len(recs), 1)
        r = recs[0]
        self.assertEqual(r["url"], self.b + "/page/one")
        self.assertEqual(r["final_url"], self.b + "/page/one")
        self.assertEqual(r["status"], 200)
        self.assertIsNone(r["error"])
        self.assertEqual(r["content_type"], "text/html; charset=utf-8")
        self.assertEqual(r["bytes"], len("<html><head><title>one</title></head><body><p>page one</p></body></html>\n"))
        self.assertFalse(r["truncated"])
        self.assertEqual(r["redirects"], [])
        self.assertEqual(r["attempts"], 1)
        self.assertEqual(r["remote_ip"], "127.0.0.1")
        self.assertEqual(r["http_version"], "1.1")
        self.assertGreaterEqual(r["elapsed_ms"], 0)
        for k in ("dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"):
            self.assertIn(k, r["timings"])

    def test_http_error_exit_8(self):
        code, recs, _ = run(["-q", "--retries", "0", self.b + "/status/404", self.b + "/status/200"])
        self.assertEqual(code, 8)
        r = by_url(recs)
        self.assertEqual(r[self.b + "/status/404"]["status"], 404)
        self.assertEqual(r[self.b + "/status/404"]["error"]["kind"], "http")
        self.assertIsNone(r[self.b + "/status/200"]["error"])

    def test_invalid_lines_continue(self):
        lines = "\n".join(["not a url", "ftp://example/x", "http://", "# comment", "", self.b + "/status/200"])
        code, recs, _ = run(["-q", "-i", "-"], stdin=lines + "\n")
        self.assertEqual(code, 1)
        self.assertEqual(len(recs), 4)  # comment and blank lines are skipped
        kinds = sorted((r["error"] or {}).get("kind", "ok") for r in recs)
        self.assertEqual(kinds, ["invalid_url", "invalid_url", "invalid_url", "ok"])
        bad = [r for r in recs if r["error"]]
        self.assertTrue(all(r["status"] is None for r in bad))

    def test_input_file_and_output_file(self):
        inp = os.path.join(self.tmp, "urls.txt")
        with open(inp, "w") as f:
            for i in range(200):
                f.write("%s/page/p%d\n" % (self.b, i))
        out = os.path.join(self.tmp, "out.jsonl")
        code, _, _ = run(["-q", "-j", "20", "-i", inp, "-o", out])
        self.assertEqual(code, 0)
        with open(out) as f:
            recs = [json.loads(l) for l in f]
        self.assertEqual(len(recs), 200)
        self.assertEqual(len({r["url"] for r in recs}), 200)
        self.assertTrue(all(r["status"] == 200 for r in recs))

    # ---- redirects --------------------------------------------------------------------
    def test_redirect_chain_recorded(self):
        code, recs, _ = run(["-q", "-L", self.b + "/redirect/3"])
        self.assertEqual(code, 0)
        r = recs[0]
        self.assertEqual(r["final_url"], self.b + "/status/200")
        self.assertEqual(r["status"], 200)
        self.assertEqual([h["url"] for h in r["redirects"]],
                         [self.b + "/redirect/3", self.b + "/redirect/2", self.b + "/redirect/1", self.b + "/redirect/0"])
        self.assertTrue(all(h["status"] == 302 for h in r["redirects"]))

    def test_redirect_not_followed_without_L(self):
        code, recs, _ = run(["-q", self.b + "/redirect/1"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["status"], 302)
        self.assertEqual(recs[0]["final_url"], self.b + "/redirect/1")

    def test_redirect_loop_and_limit(self):
        code, recs, _ = run(["-q", "-L", self.b + "/loop"])
        self.assertEqual(code, 7)
        self.assertEqual(recs[0]["error"]["kind"], "redirect")
        code, recs, _ = run(["-q", "-L", "--max-redirs", "2", self.b + "/redirect/5"])
        self.assertEqual(code, 7)
        self.assertEqual(recs[0]["error"]["kind"], "redirect")
        self.assertEqual(len(recs[0]["redirects"]), 3)

    # ---- retries and backoff ------------------------------------------------------------
    def test_retries_then_success(self):
        code, recs, _ = run(["-q", "--retry-delay", "20ms", self.b + "/flaky/2?key=t1"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["status"], 200)
        self.assertEqual(recs[0]["attempts"], 3)

    def test_retries_exhausted(self):
        code, recs, _ = run(["-q", "--retries", "1", "--retry-delay", "20ms", self.b + "/flaky/5?key=t2"])
        self.assertEqual(code, 8)
        self.assertEqual(recs[0]["status"], 500)
        self.assertEqual(recs[0]["attempts"], 2)

    def test_retry_after_honoured(self):
        t0 = time.monotonic()
        code, recs, _ = run(["-q", "--retry-delay", "10ms", self.b + "/retry-after/1?key=t3&s=1"])
        took = time.monotonic() - t0
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["attempts"], 2)
        self.assertGreaterEqual(took, 0.9)  # waited for Retry-After: 1, not 10 ms

    def test_no_retry_on_404(self):
        code, recs, _ = run(["-q", "--retry-delay", "10ms", self.b + "/status/404"])
        self.assertEqual(recs[0]["attempts"], 1)

    # ---- timeouts, drips, resets, bodies ----------------------------------------------------
    def test_timeout(self):
        code, recs, _ = run(["-q", "--retries", "0", "--timeout", "300ms", self.b + "/delay/3000"])
        self.assertEqual(code, 4)
        self.assertEqual(recs[0]["error"]["kind"], "timeout")
        self.assertLess(recs[0]["elapsed_ms"], 2500)

    def test_slow_drip_aborted(self):
        code, recs, _ = run(["-q", "--retries", "0", "--speed-limit", "100", "--speed-time", "1s",
                             self.b + "/drip?n=50&ms=200"])
        self.assertEqual(code, 4)
        self.assertEqual(recs[0]["error"]["kind"], "timeout")

    def test_reset_mid_body(self):
        code, recs, _ = run(["-q", "--retries", "0", self.b + "/reset?bytes=500"])
        self.assertEqual(code, 4)
        self.assertEqual(recs[0]["error"]["kind"], "recv")

    def test_connections_reused_and_idle_close_survived(self):
        srv = Server(args=["--idle-timeout-ms", "400"])
        try:
            seen = [0]

            def new_connections():
                """Connections the server accepted since the last call (not
                counting the one that asks)."""
                with urllib.request.urlopen(srv.base + "/stats") as r:
                    total = json.loads(r.read())["connections"]
                n = total - seen[0] - 1
                seen[0] = total
                return n
            new_connections()
            urls = [srv.base + "/status/200?i=%d" % i for i in range(3)]
            # back to back: one kept-alive connection serves all three
            code, recs, err = run(["--progress=none", "-j", "1"] + urls)
            self.assertEqual(code, 0, err)
            self.assertEqual([r["status"] for r in recs], [200] * 3)
            self.assertEqual(new_connections(), 1)
            # four workers, one slot at the host: the requests queue up for the
            # slot and take turns on one connection
            code, recs, err = run(["--progress=none", "-j", "4", "--max-per-host", "1"] + urls + [srv.base + "/status/200"])
            self.assertEqual(code, 0, err)
            self.assertEqual(new_connections(), 1)
            # a second apart: the server closes each idle connection first; the
            # next request notices and connects again
            code, recs, err = run(["--progress=none", "-j", "1", "--rate", "1"] + urls)
            self.assertEqual(code, 0, err)
            self.assertEqual([r["status"] for r in recs], [200] * 3)
            self.assertEqual(new_connections(), 3)
        finally:
            srv.stop()

    def test_gzip_decoded_and_bomb_stopped(self):
        code, recs, _ = run(["-q", self.b + "/gzip?size=50000"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["bytes"], 50000)
        self.assertFalse(recs[0]["truncated"])
        code, recs, _ = run(["-q", "--max-body", "1M", self.b + "/gzip?size=200000000"])
        self.assertEqual(code, 1)
        self.assertTrue(recs[0]["truncated"])
        self.assertEqual(recs[0]["bytes"], 1024 * 1024)
        self.assertEqual(recs[0]["error"]["kind"], "too_large")

    def test_large_body(self):
        code, recs, _ = run(["-q", self.b + "/big?size=5000000"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["bytes"], 5000000)

    # ---- headers and saved bodies --------------------------------------------------------------
    def test_headers_and_user_agent(self):
        d = os.path.join(self.tmp, "save")
        code, recs, _ = run(["-q", "-P", d, "-H", "X-Token: s3cret", "--user-agent", "tester/1", self.b + "/headers"])
        self.assertEqual(code, 0)
        path = recs[0]["saved_path"]
        with open(path) as f:
            body = f.read()
        self.assertIn("X-Token: s3cret", body)
        self.assertIn("User-Agent: tester/1", body)

    def test_saved_layout_and_traversal(self):
        d = os.path.join(self.tmp, "save")
        urls = [self.b + "/page/a", self.b + "/page/", self.b + "/page/a?x=1",
                self.b + "/../../../../etc/passwd", self.b + "/%2e%2e/%2e%2e/escape",
                self.b + "/page/..%2F..%2Fescape2", self.b + "/page/a", self.b + "/" + "n" * 400]
        code, recs, _ = run(["-q", "-P", d] + urls)
        root = os.path.realpath(d)
        saved = [r["saved_path"] for r in recs if r.get("saved_path")]
        for p in saved:
            self.assertTrue(os.path.realpath(p).startswith(root + os.sep), p)
        files = []
        for dp, _, fs in os.walk(d):
            files += [os.path.join(dp, f) for f in fs]
        self.assertEqual(len(files), len(saved))  # nothing overwritten: one file per saved record
        host = "127.0.0.1%%3A%d" % self.srv.port
        self.assertIn(os.path.join(d, host, "page", "a"), files)
        self.assertIn(os.path.join(d, host, "page", "index.html"), files)
        self.assertIn(os.path.join(d, host, "page", "a?x=1"), files)
        self.assertIn(os.path.join(d, host, "page", "a.1"), files)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape")))

    # ---- usage and I/O errors ---------------------------------------------------------------
    def test_usage_errors(self):
        self.assertEqual(run(["--no-such-option"])[0], 2)
        self.assertEqual(run(["--timeout", "soon", self.b])[0], 2)
        self.assertEqual(run(["-j", "0", self.b])[0], 2)
        self.assertEqual(run([])[0], 2)
        for opt in ("--accept-regex", "--reject-regex"):  # refused before any fetch
            code, recs, err = run(["-r", opt, "a(b", self.b + "/site/"])
            self.assertEqual((code, recs), (2, []), err)
            self.assertIn("crawl: %s 'a(b' is not a valid regular expression" % opt, err)
        p = subprocess.run([CRAWL, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for opt in ("--input-file", "--concurrency", "--max-body", "--directory-prefix", "Exit status"):
            self.assertIn(opt, p.stdout)
        p = subprocess.run([CRAWL, "--version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for lib in ("libcurl", "libevent", "c-ares", "libxml2"):
            self.assertIn(lib, p.stdout)

    def test_man_page_in_step_with_help(self):
        man = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "man", "crawl.1")
        with open(man) as f:
            text = f.read()
        helptext = subprocess.run([CRAWL, "--help"], capture_output=True, text=True).stdout
        longs = re.findall(r"^\s+(?:-\S, )?--([a-z0-9.-]+)", helptext, re.M)
        self.assertGreater(len(longs), 30)
        for name in longs:
            self.assertIn("\\-\\-" + name.replace("-", "\\-"), text, "--%s missing from crawl.1" % name)
        if shutil.which("groff"):
            p = subprocess.run(["groff", "-ww", "-z", "-man", man], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(p.stderr, "")

    def test_unwritable_output(self):
        code, _, err = run(["-q", "-o", "/nonexistent-dir/x.jsonl", self.b + "/status/200"])
        self.assertEqual(code, 3)
        self.assertIn("cannot open output", err)
        code, _, err = run(["-q", "-i", os.path.join(self.tmp, "missing.txt")])
        self.assertEqual(code, 3)

    # ---- address policy ------------------------------------------------------------------------
    def test_redirect_to_private_address_refused(self):
        other = Server("127.0.0.2")
        try:
            target = "http://other.test:%d/status/200" % other.port
            url = self.b + "/redirect-to?url=" + target
            resolve = "other.test:%d:127.0.0.2" % other.port
            code, recs, _ = run(["-q", "-L", "--resolve", resolve, url])
            self.assertEqual(code, 1)
            self.assertEqual(recs[0]["error"]["kind"], "policy")
            self.assertIn("127.0.0.2", recs[0]["error"]["message"])
            code, recs, _ = run(["-q", "-L", "--allow-private-addresses", "--resolve", resolve, url])
            self.assertEqual(code, 0)
            self.assertEqual(recs[0]["final_url"], target)
            self.assertEqual(recs[0]["remote_ip"], "127.0.0.2")
            # Named explicitly by the user: allowed.
            code, recs, _ = run(["-q", "--resolve", resolve, target])
            self.assertEqual(code, 0)
        finally:
            other.stop()

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
        keys = [m.group(1) for m in re.finditer(r"^\s+(?:-\S, )?--([a-z0-9.-]+).*$", helptext, re.M)
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

    # ---- subcommands -----------------------------------------------------------------------------
    def test_robots_subcommand(self):
        rt = os.path.join(self.tmp, "robots.txt")
        with open(rt, "w") as f:
            f.write("User-agent: *\nDisallow: /private\nAllow: /private/ok\n\nUser-agent: crawl\nDisallow: /x$\n")
        p = subprocess.run([CRAWL, "robots", rt, "otherbot", "http://h/a", "http://h/private/ok/1"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, "allowed http://h/a\nallowed http://h/private/ok/1\n")
        p = subprocess.run([CRAWL, "robots", "-", "crawl/1.0", "http://h/x", "http://h/x/y", "http://h/private"],
                           input=open(rt).read(), capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "disallowed http://h/x\nallowed http://h/x/y\nallowed http://h/private\n")
        self.assertEqual(subprocess.run([CRAWL, "robots", rt], capture_output=True).returncode, 2)
        self.assertEqual(subprocess.run([CRAWL, "robots", rt + ".missing", "a", "http://h/"],
                                        capture_output=True).returncode, 3)

    def test_links_subcommand_and_scrapy_cases(self):
        html = os.path.join(self.tmp, "p.html")
        with open(html, "w") as f:
            f.write("<base href='/d/'><a href='a.html'>a</a><!-- <a href='c'> --><script>'<a href=s>'</script>"
                    "<a href='a.html#x'>dup</a><a rel='nofollow' href='nf'>n</a><img src='i.png'>"
                    "<a href='mailto:x@y'>m</a><a href='HTTP://H.example:80/%7Ex'>abs</a>")
        p = subprocess.run([CRAWL, "links", "--base", "http://h.example/x/y", html], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.split(), ["http://h.example/d/a.html", "http://h.example/~x"])
        p = subprocess.run([CRAWL, "links", "--all", "--page-requisites", "--base", "http://h.example/", "-"],
                           input=open(html).read(), capture_output=True, text=True)
        self.assertEqual(p.stdout.split(), ["http://h.example/d/a.html", "http://h.example/d/nf",
                                            "http://h.example/d/i.png", "http://h.example/~x"])
        self.assertEqual(subprocess.run([CRAWL, "links"], capture_output=True).returncode, 2)
        # Scrapy's link-extraction pages (../shared/testdata), compared after the same
        # normalization (fragments dropped, duplicates once, only http/https followed).
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "testdata",
                            "links_cases.json")
        data = os.environ.get("CRAWL_TESTDATA", os.path.dirname(data)) + "/links_cases.json"
        if not os.path.exists(data):
            self.skipTest("links_cases.json not present")
        cases = json.load(open(data))
        passed = []
        for c in cases:
            body = bytes.fromhex(c["html_hex"]) if "html_hex" in c else c["html"].encode("utf-8")
            with open(html, "wb") as f:
                f.write(body)
            extra = ["--page-requisites"] if "img" in c.get("tags", []) else []
            if c.get("encoding"):
                extra += ["--charset", c["encoding"]]
            p = subprocess.run([CRAWL, "links", "--all"] + extra + ["--base", c["doc_url"], html], capture_output=True,
                               text=True)
            want = []
            for u in c["expected_links"]:
                u = u.split("#")[0]
                if u.startswith(("http://", "https://")) and u not in want:
                    want.append(u)
            if p.stdout.split() == want:
                passed.append(c["name"])
            else:
                print("links case %s: got %s want %s" % (c["name"], p.stdout.split(), want))
        print("Scrapy link-extraction cases: %d of %d pass" % (len(passed), len(cases)))
        self.assertEqual(len(passed), len(cases))

    # ---- recursive crawling -------------------------------------------------------------------------
    def served(self, srv):
        p = subprocess.run([CRAWL, "-q", "-P", os.path.join(self.tmp, "log%d" % time.monotonic_ns()),
                            srv.base + "/_log"], capture_output=True, text=True)
        with open(json.loads(p.stdout)["saved_path"]) as f:
            return [l for l in f.read().splitlines() if l]

    def test_recursive_crawl_site(self):
        srv = Server()
        try:
            out = os.path.join(self.tmp, "r.jsonl")
            code, _, err = run(["--progress=none", "-r", "-l", "4", "-o", out, srv.base + "/site/"])
            self.assertEqual(code, 0, err)
            recs = [json.loads(l) for l in open(out)]
            got = {r["url"]: r for r in recs}
            b = srv.base + "/site/"
            fetched = sorted(u for u, r in got.items() if r["status"] == 200 and not r.get("sitemap"))
            self.assertEqual(fetched, sorted([
                b, b + "a.html", b + "b.html", b + "c/", b + "c/d.html", b + "meta-nofollow.html",
                b + "from-sitemap.html", b + "large.html",
                b + "cal?month=1", b + "cal?month=2", b + "cal?month=3", b + "cal?month=4",
                b + "loop/", b + "loop/x/", b + "loop/x/x/", b + "loop/x/x/x/"]))
            # robots.txt obeyed (and asked for first), nofollow honoured, out-of-scope host skipped
            self.assertEqual(got[b + "private/secret.html"]["error"]["kind"], "robots")
            for u in ("nofollow.html", "hidden.html", "commented.html", "script.html"):
                self.assertNotIn(b + u, got)
            self.assertFalse(any("127.0.0.2" in u for u in got))
            # robots.txt's sitemap index led to a gzip sitemap, whose in-scope URLs were crawled
            self.assertTrue(got[b + "sitemap-index.xml"]["sitemap"])
            self.assertEqual(got[b + "sitemap-index.xml"]["links_found"], 1)
            self.assertEqual(got[b + "sitemap1.xml.gz"]["links_found"], 3)
            self.assertEqual(got[b + "from-sitemap.html"]["parent"], b + "sitemap1.xml.gz")
            # every page was parsed by the executor, off the loop thread
            m = re.search(r"links extracted from ([0-9]+) pages \(([0-9]+) off the loop\)", err)
            self.assertTrue(m, err)
            self.assertGreater(int(m.group(1)), 10)
            self.assertEqual(m.group(1), m.group(2))
            # depth and parent recorded
            self.assertEqual(got[b]["depth"], 0)
            self.assertIsNone(got[b]["parent"])
            self.assertEqual(got[b + "c/d.html"]["depth"], 2)
            self.assertEqual(got[b + "c/d.html"]["parent"], b + "b.html")
            self.assertEqual(got[b + "cal?month=4"]["depth"], 4)
            # the server saw every URL once, robots.txt first
            log = self.served(srv)
            self.assertEqual(log[0], "/robots.txt")
            self.assertEqual(len(log), len(set(log)), "fetched twice: %s" % log)
            self.assertNotIn("/site/private/secret.html", log)
            self.assertNotIn("/site/nofollow.html", log)
        finally:
            srv.stop()

    def test_recursive_limits_and_politeness(self):
        srv = Server()
        try:
            out = os.path.join(self.tmp, "r.jsonl")
            code, _, _ = run(["-q", "-r", "-l", "0", "--max-pages", "5", "-o", out, srv.base + "/site/"])
            self.assertEqual(code, 0)
            pages = [json.loads(l) for l in open(out)]
            self.assertEqual(sum(1 for r in pages if not r.get("sitemap")), 5)  # robots-refused ones included
            # --robots=off fetches the private page; --reject-regex skips the calendar
            code, _, _ = run(["-q", "-r", "-l", "2", "--robots=off", "--reject-regex", "cal|loop", "-o", out,
                              srv.base + "/site/"])
            urls = [json.loads(l)["url"] for l in open(out)]
            self.assertIn(srv.base + "/site/private/secret.html", urls)
            self.assertFalse(any("cal" in u or "loop" in u for u in urls))
            # at most --max-per-host in flight per host (the server records its peak)
            subprocess.run([CRAWL, "-q", srv.base + "/_reset"], capture_output=True)
            seeds = [srv.base + "/delay/200?i=%d" % i for i in range(8)]
            code, _, _ = run(["-q", "-r", "-j", "8", "--max-per-host", "2", "--delay", "0", "-o", out] + seeds)
            self.assertEqual(code, 0)
            st = subprocess.run([CRAWL, "-q", "-P", os.path.join(self.tmp, "st"), srv.base + "/stats"],
                                capture_output=True, text=True)
            with open(json.loads(st.stdout)["saved_path"]) as f:
                self.assertLessEqual(json.load(f)["peak"], 2)
            # --spider saves nothing
            d = os.path.join(self.tmp, "spider")
            run(["-q", "-r", "-l", "1", "--spider", "-P", d, "-o", out, srv.base + "/site/"])
            self.assertFalse(os.path.exists(d) and any(os.scandir(d)))
        finally:
            srv.stop()

    # ---- WARC ----------------------------------------------------------------------------------------
    def validate_warc(self, files):
        here = os.path.dirname(os.path.abspath(__file__))
        validator = os.path.join(here, "..", "warc", "validate.mjs")
        if not shutil.which("node") or not os.path.isdir(os.path.join(here, "..", "warc", "node_modules", "warcio")):
            if os.environ.get("CI"):
                self.fail("warcio.js is not installed (scripts/test.sh installs it)")
            self.skipTest("node or warcio.js not installed")
        p = subprocess.run(["node", validator] + files, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_warc_round_trip(self):
        name = os.path.join(self.tmp, "arch")
        urls = [self.b + "/page/w1", self.b + "/page/w1?again", self.b + "/big?size=200000", self.b + "/gzip?size=5000",
                self.b + "/redirect/2", self.b + "/status/404"]
        code, recs, _ = run(["-q", "-L", "--warc-file", name, "--warc-dedup", "--retries", "0"] + urls)
        self.assertEqual(code, 8)
        s = self.validate_warc([name + "-00000.warc.gz"])
        self.assertEqual(s["errors"], [])
        self.assertEqual(s["types"]["warcinfo"], 1)
        # one request per exchange: 5 single URLs, and /redirect/2 takes 4 hops
        self.assertEqual(s["types"]["request"], 9)
        self.assertEqual(s["types"]["response"] + s["types"]["revisit"], 9)
        self.assertGreaterEqual(s["types"]["revisit"], 1)  # /page/w1?again has the same payload
        import base64
        page = base64.b64decode(s["responses"][self.b + "/page/w1"])
        self.assertEqual(page, b"<html><head><title>w1</title></head><body><p>page w1</p></body></html>\n")
        self.assertEqual(base64.b64decode(s["responses"][self.b + "/big?size=200000"]), b"x" * 200000)
        # the gzip response is archived as sent (still compressed)
        self.assertEqual(base64.b64decode(s["responses"][self.b + "/gzip?size=5000"])[:2], b"\x1f\x8b")
        # rotation
        name2 = os.path.join(self.tmp, "rot")
        run(["-q", "--warc-file", name2, "--warc-max-size", "1K"] + [self.b + "/big?size=30000&i=%d" % i for i in range(4)])
        files = sorted(f for f in os.listdir(self.tmp) if f.startswith("rot-"))
        self.assertGreaterEqual(len(files), 2)  # the bodies compress to almost nothing
        s = self.validate_warc([os.path.join(self.tmp, f) for f in files])
        self.assertEqual(s["errors"], [])
        self.assertEqual(s["types"]["warcinfo"], len(files))
        self.assertEqual(s["types"]["response"], 4)
        # a second run with the same name continues with the next file, overwriting nothing
        run(["-q", "--warc-file", name2, self.b + "/page/again"])
        files2 = sorted(f for f in os.listdir(self.tmp) if f.startswith("rot-"))
        self.assertEqual(len(files2), len(files) + 1)
        # an unwritable WARC location is an I/O error at once
        code, _, err = run(["-q", "--warc-file", "/nonexistent-dir/x", self.b + "/page/a"])
        self.assertEqual(code, 3)
        self.assertIn("cannot create WARC", err)
        # a recursive crawl archives robots.txt and the sitemaps it read too
        srv = Server()
        try:
            name3 = os.path.join(self.tmp, "site")
            code, _, err = run(["-q", "-r", "-l", "2", "--warc-file", name3, "-o", os.devnull, srv.base + "/site/"])
            self.assertEqual(code, 0, err)
            s = self.validate_warc([name3 + "-00000.warc.gz"])
            self.assertEqual(s["errors"], [])
            for u in ("/robots.txt", "/site/sitemap-index.xml", "/site/sitemap1.xml.gz", "/site/", "/site/a.html"):
                self.assertIn(srv.base + u, s["responses"])
        finally:
            srv.stop()

    # ---- durable state: kill and resume ------------------------------------------------------------
    def kill_resume_loop(self, args, out, sig, rounds, seed):
        """Stop the crawl with sig at `rounds` random moments, resuming each
        time, then let it run to completion. Returns the final records."""
        import random
        rnd = random.Random(seed)
        state = os.path.join(self.tmp, "state-%d" % sig)
        interruptions = 0
        for attempt in range(rounds + 1):
            cmd = [CRAWL, "-q", "--state", state, "--checkpoint-interval", "20ms", "-o", out] + \
                (["--resume"] if attempt else []) + args
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if attempt < rounds:
                # after start-up (a signal during exec is the default action)
                time.sleep(rnd.uniform(0.05, 0.2))
                p.send_signal(sig)
            p.wait(120)
            err = p.stderr.read()
            p.stderr.close()
            if attempt < rounds:
                self.assertIn(p.returncode, (-signal.SIGKILL, 130, 0, 1), err)
                interruptions += p.returncode in (-signal.SIGKILL, 130)
                if os.environ.get("CRAWL_TEST_DEBUG"):
                    print("attempt", attempt, sig, p.returncode, err[:200])
        self.assertIn(p.returncode, (0, 1), err)  # 1: the list holds an invalid line
        self.assertEqual(interruptions, rounds, "the crawl ended before it could be interrupted")
        with open(out) as f:
            return [json.loads(l) for l in f.read().splitlines()]

    def test_state_resume_url_list_after_sigkill(self):
        srv = Server()
        try:
            inp = os.path.join(self.tmp, "urls.txt")
            urls = ["%s/delay/50?i=%d" % (srv.base, i) for i in range(800)]
            with open(inp, "w") as f:
                f.write("\n".join(urls + ["not a url"]) + "\n")
            out = os.path.join(self.tmp, "out.jsonl")
            recs = self.kill_resume_loop(["-j", "10", "-i", inp], out, signal.SIGKILL, 20, seed=7)
            got = [r["url"] for r in recs]
            self.assertEqual(sorted(got), sorted(urls + ["not a url"]))  # every URL exactly once
            self.assertTrue(all(r["status"] == 200 for r in recs if r["url"] != "not a url"))
        finally:
            srv.stop()

    def test_state_resume_recursive_after_sigkill_and_sigterm(self):
        srv = Server()
        try:
            base = srv.base + "/site/"
            args = ["-r", "-l", "0", "--max-pages", "180", "--delay", "30ms", base]  # about 5 s of work
            ref = os.path.join(self.tmp, "ref.jsonl")
            code, _, _ = run(["-q", "-o", ref] + args)
            self.assertEqual(code, 0)
            want = sorted(json.loads(l)["url"] for l in open(ref))
            self.assertEqual(len(want), len(set(want)))
            for sig, seed in ((signal.SIGKILL, 11), (signal.SIGTERM, 12)):
                out = os.path.join(self.tmp, "out-%d.jsonl" % sig)
                recs = self.kill_resume_loop(args, out, sig, 20, seed)
                got = sorted(r["url"] for r in recs)
                self.assertEqual(got, want, "signal %d" % sig)  # every URL exactly once
            # a finished crawl resumed again asks the server for nothing, robots.txt included
            subprocess.run([CRAWL, "-q", srv.base + "/_reset"], capture_output=True)
            out = os.path.join(self.tmp, "out-%d.jsonl" % signal.SIGKILL)
            code, _, _ = run(["-q", "--state", os.path.join(self.tmp, "state-%d" % signal.SIGKILL), "--resume",
                              "-o", out] + args)
            self.assertEqual(code, 0)
            self.assertEqual(self.served(srv), [])
        finally:
            srv.stop()

    def test_full_disk_is_reported(self):
        code, _, err = run(["-q", "-o", "/dev/full"] + [self.b + "/page/f%d" % i for i in range(50)])
        self.assertEqual(code, 3)
        self.assertIn("No space left on device", err)

    def test_state_guards(self):
        st = os.path.join(self.tmp, "st")
        out = os.path.join(self.tmp, "o.jsonl")
        self.assertEqual(run(["-q", "--state", st, self.b + "/page/a"])[0], 2)  # needs -o FILE
        self.assertEqual(run(["-q", "--state", st, "-o", out, self.b + "/page/a"])[0], 0)
        code, _, err = run(["-q", "--state", st, "-o", out, self.b + "/page/a"])
        self.assertEqual(code, 2)  # an existing state is not overwritten by accident
        self.assertIn("--resume", err)
        code, recs, _ = run(["-q", "--state", st, "--resume", "-o", out, self.b + "/page/a"])
        self.assertEqual(code, 0)
        self.assertEqual(len(open(out).read().splitlines()), 1)  # nothing fetched twice
        # one crawl per state directory at a time
        st2 = os.path.join(self.tmp, "st2")
        p = subprocess.Popen([CRAWL, "-q", "--state", st2, "-o", out + "2", self.b + "/delay/3000"],
                             stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        code, _, err = run(["-q", "--state", st2, "--resume", "-o", out + "2", self.b + "/delay/3000"])
        p.kill()
        p.wait()
        self.assertEqual(code, 2)
        self.assertIn("in use by another crawl", err)

    # ---- TLS ------------------------------------------------------------------------------------
    def test_tls_verification(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        here = os.path.dirname(os.path.abspath(__file__))
        p = subprocess.Popen([sys.executable, os.path.join(here, "tls_server.py")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            port = int(p.stdout.readline().split()[1])
            url = "https://localhost:%d/x" % port
            code, recs, _ = run(["-q", "--retries", "0", url])
            self.assertEqual(code, 5)
            self.assertEqual(recs[0]["error"]["kind"], "tls")
            code, recs, _ = run(["-q", "--insecure", url])
            self.assertEqual(code, 0)
            self.assertEqual(recs[0]["status"], 200)
            self.assertEqual(recs[0]["bytes"], 7)
            self.assertGreaterEqual(recs[0]["timings"]["tls_ms"], 0)
        finally:
            p.stdin.close()
            p.wait(10)

    def test_http2_multiplexed_over_tls(self):
        # nghttpd (nghttp2's HTTP/2 server, TLS with a self-signed certificate)
        # bound to 127.0.0.1; its verbose log names the session of every request
        nghttpd = shutil.which("nghttpd")
        if not nghttpd or not shutil.which("openssl"):
            if os.environ.get("CI"):
                self.fail("nghttpd and openssl are needed (scripts/deps.sh installs them)")
            self.skipTest("nghttpd or openssl not installed")
        d = os.path.join(self.tmp, "h2")
        os.makedirs(os.path.join(d, "www"))
        key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        for i in range(20):
            with open(os.path.join(d, "www", "f%d.html" % i), "w") as f:
                f.write("<html><body>file %d</body></html>\n" % i)
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        log = open(os.path.join(d, "nghttpd.log"), "w")
        srv = subprocess.Popen([nghttpd, "-v", "-a", "127.0.0.1", "-d", os.path.join(d, "www"), str(port), key, crt],
                               stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    self.assertLess(time.time(), deadline, "nghttpd did not start")
                    time.sleep(0.05)
            urls = ["https://localhost:%d/f%d.html" % (port, i) for i in range(20)]
            code, recs, err = run(["-q", "--insecure", "-j", "20"] + urls)
            self.assertEqual(code, 0, err)
            self.assertEqual(len(recs), 20)
            for r in recs:
                n = int(re.search(r"f(\d+)\.html", r["url"]).group(1))
                body = "<html><body>file %d</body></html>\n" % n
                self.assertEqual((r["status"], r["http_version"], r["bytes"]), (200, "2", len(body)), r)
        finally:
            srv.terminate()
            srv.wait(10)
            log.close()
        sessions = {}
        with open(os.path.join(d, "nghttpd.log")) as f:
            for line in f:
                m = re.match(r"\[id=(\d+)\].*recv \(stream_id=\d+\) :path: (/f\d+\.html)", line)
                if m:
                    sessions.setdefault(m.group(1), []).append(m.group(2))
        # the twenty requests (the connection probe above made no request)
        self.assertEqual(sum(len(v) for v in sessions.values()), 20, sessions)
        # all of them multiplexed over one connection
        self.assertEqual(len(sessions), 1, sessions)

    # ---- long lists, progress, summary ---------------------------------------------------------
    def test_long_list_memory_flat(self):
        inp = os.path.join(self.tmp, "long.txt")
        with open(inp, "w") as f:
            for i in range(100000):
                f.write("%s/status/204?i=%d\n" % (self.b, i))
        out = os.path.join(self.tmp, "long.jsonl")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        code, _, _ = run(["-q", "-j", "50", "-i", inp, "-o", out], timeout=300)
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.assertEqual(code, 0)
        with open(out) as f:
            self.assertEqual(sum(1 for _ in f), 100000)
        # the input is 5 MB and the output 40 MB; the fetcher stays small
        if not os.environ.get("CRAWL_SANITIZED"):
            self.assertLess(max(before, after), 64 * 1024, "peak RSS %d KiB" % max(before, after))

    def test_progress_and_summary(self):
        code, _, err = run(["--progress=bar", "-j", "4"] + ["%s/delay/300?i=%d" % (self.b, i) for i in range(8)])
        self.assertEqual(code, 0)
        self.assertIn("done", err)
        self.assertIn("in flight", err)
        self.assertRegex(err, r"crawl: 8 fetched in [0-9.]+s .* 2xx=8.*p50 [0-9.]+ms p95 [0-9.]+ms p99")
        code, _, err = run(["-q", self.b + "/status/200"])
        self.assertEqual(err, "")

    # ---- signals --------------------------------------------------------------------------------
    def test_sigterm_drains_and_output_is_valid(self):
        out = os.path.join(self.tmp, "o.jsonl")
        urls = "".join("%s/delay/300?i=%d\n" % (self.b, i) for i in range(100))
        p = subprocess.Popen([CRAWL, "-q", "-j", "5", "-i", "-", "-o", out], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        p.stdin.write(urls)
        p.stdin.flush()
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        p.stdin.close()
        self.assertEqual(p.returncode, 130)
        with open(out) as f:
            lines = f.read().splitlines()
        recs = [json.loads(l) for l in lines]  # every line is complete JSON
        self.assertGreater(len(recs), 5)
        self.assertLess(len(recs), 100)
        # In-flight fetches were allowed to finish within the grace period.
        self.assertTrue(all(r["status"] == 200 for r in recs))
        self.assertEqual(len({r["url"] for r in recs}), len(recs))

    def test_second_signal_aborts_with_complete_records(self):
        out = os.path.join(self.tmp, "o.jsonl")
        p = subprocess.Popen([CRAWL, "-q", "-j", "4", "-o", out] + ["%s/delay/5000?i=%d" % (self.b, i) for i in range(8)],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        p.wait(30)
        self.assertEqual(p.returncode, 130)
        with open(out) as f:
            recs = [json.loads(l) for l in f.read().splitlines()]
        self.assertEqual(len(recs), 4)  # the four in flight, none of the queued
        self.assertTrue(all(r["error"]["kind"] == "interrupted" for r in recs))


if __name__ == "__main__":
    unittest.main(verbosity=2)
