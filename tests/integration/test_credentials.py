#!/usr/bin/env python3
"""Credentials given with -H do not leak: Authorization, Cookie and
Proxy-Authorization follow a redirect only within the same origin (as curl
does since CVE-2018-1000007), and reach other hosts of a recursive crawl only
with --location-trusted. The test server echoes the headers it received
(/headers); the saved bodies show what each host was sent."""
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402

CRED = ["-H", "Authorization: Bearer s3cret", "-H", "Cookie: sid=42", "-H", "X-Other: kept"]


class CredentialsTest(ServerTest):
    def fetch_saved(self, args, url):
        d = os.path.join(self.tmp, "p%d" % len(os.listdir(self.tmp)))
        code, recs, err = run(["-q", "-L", "--allow-private-addresses", "-P", d] + CRED + args + [url])
        self.assertEqual(code, 0, err)
        files = glob.glob(os.path.join(d, "*", "headers*"))
        self.assertEqual(len(files), 1, files)
        with open(files[0]) as f:
            return f.read().lower()

    def test_cross_origin_redirect_drops_credentials(self):
        other = "http://localhost:%d/headers" % self.srv.port
        got = self.fetch_saved([], "%s/redirect-to?url=%s" % (self.b, other))
        self.assertNotIn("authorization", got)
        self.assertNotIn("s3cret", got)
        self.assertNotIn("cookie", got)
        self.assertIn("x-other: kept", got)

    def test_same_origin_redirect_keeps_credentials(self):
        got = self.fetch_saved([], "%s/redirect-to?url=/headers" % self.b)
        self.assertIn("authorization: bearer s3cret", got)
        self.assertIn("cookie: sid=42", got)

    def test_location_trusted_sends_them_anywhere(self):
        other = "http://localhost:%d/headers" % self.srv.port
        got = self.fetch_saved(["--location-trusted"], "%s/redirect-to?url=%s" % (self.b, other))
        self.assertIn("authorization: bearer s3cret", got)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
