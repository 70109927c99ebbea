#!/usr/bin/env python3
"""Integration tests: request headers and bodies saved to disk. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_saving."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


class SavingTest(ServerTest):
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
