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

    def test_unwritable_output(self):
        code, _, err = run(["-q", "-o", "/nonexistent-dir/x.jsonl", self.b + "/status/200"])
        self.assertEqual(code, 3)
        self.assertIn("cannot open output", err)
        code, _, err = run(["-q", "-i", os.path.join(self.tmp, "missing.txt")])
        self.assertEqual(code, 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
