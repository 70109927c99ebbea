#!/usr/bin/env python3
"""Credentials given with -H do not leak: Authorization, Cookie and
Proxy-Authorization follow a redirect only within the same origin (as curl
does since CVE-2018-1000007), and reach other hosts of a recursive crawl only
with --location-trusted. The test server echoes the headers it received
(/headers); the saved bodies show what each host was sent."""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, run  # noqa: E402

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

    # ---- -u/--user, --http-user, --http-password ---------------------------------------------------
    def auths(self):
        return [dict(r["headers"]).get("Authorization") for r in self.srv.requests()]

    def test_user_option_sends_basic_credentials(self):
        url = self.b + "/basic?user=alice&pass=pw%3Ax"
        for args in (["-u", "alice:pw:x"], ["--user", "alice:pw:x"], ["--http-user", "alice", "--http-password", "pw:x"],
                     ["--http-user", "alice", "--password", "pw:x"]):
            code, recs, err = run(["-q"] + args + [url])
            self.assertEqual((code, recs[0]["status"]), (0, 200), (args, err))

    def test_user_credentials_do_not_follow_to_another_origin(self):
        other = "http://localhost:%d/status/200" % self.srv.port
        url = "%s/redirect-to?url=%s" % (self.b, other)
        for extra, want in (([], None), (["--location-trusted"], "Basic YWxpY2U6cHc=")):
            self.srv.reset()
            code, recs, err = run(["-q", "-L", "--allow-private-addresses", "-u", "alice:pw"] + extra + [url])
            self.assertEqual(code, 0, err)
            self.assertEqual(self.auths(), ["Basic YWxpY2U6cHc=", want], extra)

    def test_check_hides_user_passwords(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[job a]\nurl = %s/basic\nuser = alice:${CRAWL_TEST_PW}\n"
                    "[job b]\nurl = %s/basic\nhttp-user = bob\nhttp-password = ${CRAWL_TEST_PW}\n" % (self.b, self.b))
        env = dict(os.environ, CRAWL_TEST_PW="pw-from-env")
        p = subprocess.run([CRAWL, "--config", conf, "--check"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("pw-from-env", p.stdout + p.stderr)
        self.assertIn("user = alice:(hidden)", p.stdout)
        self.assertIn("http-password = (hidden)", p.stdout)
        self.srv.reset()
        p = subprocess.run([CRAWL, "--config", conf, "-q"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 8, p.stderr)  # /basic without user= and pass= wants ":"
        self.assertEqual(sorted(self.auths()), ["Basic YWxpY2U6cHctZnJvbS1lbnY=", "Basic Ym9iOnB3LWZyb20tZW52"])


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
