#!/usr/bin/env python3
"""Integration tests: redirect chains, loops and limits, and redirects to other addresses. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_redirects."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, ServerTest, run  # noqa: E402


class RedirectsTest(ServerTest):
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
