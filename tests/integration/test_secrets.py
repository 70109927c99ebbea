#!/usr/bin/env python3
"""Passwords given in URLs (http://user:password@host/) never reach records,
-v lines or --check: crawl writes user:***@ wherever it prints a URL (issue
16's second defect). The password still goes to the server, as Basic
credentials."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, run  # noqa: E402
import subprocess  # noqa: E402

SECRET = "s3cr3tpw"


class SecretsTest(ServerTest):
    def url(self, path):
        return "http://alice:%s@127.0.0.1:%d%s" % (SECRET, self.srv.port, path)

    def test_records_and_verbose_lines_hide_the_password(self):
        self.srv.reset()
        u = self.url("/redirect-to?url=/basic%3Fuser%3Dalice%26pass%3D" + SECRET)
        code, recs, err = run(["-v", "-L", "--progress", "none", u, self.url("/status/404"), "http://bob:%s@[" % SECRET])
        out = "\n".join(str(r) for r in recs)
        self.assertEqual(len(recs), 3, err)
        # the query string of the test URL names the password on purpose: mask it out of the check
        shown = (out + err).replace("pass%3D" + SECRET, "").replace("pass=" + SECRET, "")
        self.assertNotIn(SECRET, shown)
        first = [r for r in recs if "redirect-to" in r["url"]][0]
        self.assertTrue(first["url"].startswith("http://alice:***@127.0.0.1:"), first["url"])
        self.assertIn("alice:***@", first["redirects"][0]["url"])
        self.assertIn("alice:***@", err)
        bad = [r for r in recs if r["error"] and r["error"]["kind"] == "invalid_url"][0]
        self.assertIn("bob:***@", bad["input"])
        # the server still got the credentials
        auth = [dict(r["headers"]).get("Authorization") for r in self.srv.requests()]
        self.assertIn("Basic YWxpY2U6czNjcjN0cHc=", auth)

    def test_check_hides_the_password(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[job a]\nurl = %s\nproxy = http://p:%s@127.0.0.1:1/\n" % (self.url("/x"), SECRET))
        p = subprocess.run([CRAWL, "--config", conf, "--check"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        self.assertIn("alice:***@", p.stdout)
        self.assertIn("p:***@", p.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
