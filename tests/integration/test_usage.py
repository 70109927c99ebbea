#!/usr/bin/env python3
"""Integration tests: usage errors, --help and --version, the man page, unwritable output. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_usage."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, run  # noqa: E402


class UsageTest(ServerTest):
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

    def test_help_by_topic_within_80_columns(self):
        full = subprocess.run([CRAWL, "--help"], capture_output=True, text=True).stdout
        for line in full.splitlines():
            self.assertLessEqual(len(line), 80, line)
        topics = re.findall(r"^\S.* \(--help (\S+)\):$", full, re.M)
        self.assertEqual(topics[:3], ["output", "http", "limits"])
        every = set(re.findall(r"^  (?:-\S, |    )--([a-z0-9.-]+)", full, re.M))
        seen = set()
        for t in topics:
            p = subprocess.run([CRAWL, "--help", t], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0)
            names = set(re.findall(r"^  (?:-\S, |    )--([a-z0-9.-]+)", p.stdout, re.M))
            self.assertTrue(names)
            self.assertFalse(names & seen, "an option in two topics")
            seen |= names
        self.assertEqual(seen, every)  # every option is in exactly one topic
        self.assertIn("--max-per-host", subprocess.run([CRAWL, "--help", "limits"], capture_output=True,
                                                       text=True).stdout)
        self.assertEqual(subprocess.run([CRAWL, "--help", "all"], capture_output=True, text=True).returncode, 0)
        p = subprocess.run([CRAWL, "--help", "nope"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no help topic 'nope'", p.stderr)

    def test_completions_cover_every_option(self):
        comp = os.path.join(os.path.dirname(os.path.abspath(CRAWL)), "completions")
        if not os.path.isdir(comp):
            self.skipTest("completions are generated only when CMake finds Python 3")
        full = subprocess.run([CRAWL, "--help"], capture_output=True, text=True).stdout
        every = set(re.findall(r"^  (?:-\S, |    )--([a-z0-9.-]+)", full, re.M))
        for name in ("crawl.bash", "_crawl", "crawl.fish"):
            with open(os.path.join(comp, name)) as f:
                text = f.read()
            for opt in every:
                self.assertIn(opt, text, "%s lacks --%s" % (name, opt))
        self.assertEqual(subprocess.run(["bash", "-n", os.path.join(comp, "crawl.bash")]).returncode, 0)
        p = subprocess.run(["bash", "-c", "source %s; COMP_WORDS=(crawl --progr); COMP_CWORD=1; _crawl; "
                            "echo ${COMPREPLY[@]}" % os.path.join(comp, "crawl.bash")], capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), "--progress")

    def test_version_lists_features(self):
        p = subprocess.run([CRAWL, "--version"], capture_output=True, text=True)
        feats = re.search(r"^features: (.*)$", p.stdout, re.M)
        self.assertTrue(feats, p.stdout)
        for f in ("TLS", "HTTP/2", "IPv6", "gzip", "PSL"):
            self.assertIn(f, feats.group(1).split())

    def test_unwritable_output(self):
        code, _, err = run(["-q", "-o", "/nonexistent-dir/x.jsonl", self.b + "/status/200"])
        self.assertEqual(code, 3)
        self.assertIn("cannot open output", err)
        code, _, err = run(["-q", "-i", os.path.join(self.tmp, "missing.txt")])
        self.assertEqual(code, 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
