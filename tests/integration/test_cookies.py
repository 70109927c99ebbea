#!/usr/bin/env python3
"""Cookies: an engine on by default, one store shared by every transfer of a
run (a login redirect that sets a cookie and then needs it works; so does a
later URL of the list), scoped to the host that set it; -b/--cookie FILE or
'N=V' (--load-cookies), --cookie-jar (every cookie) and wget's
--save-cookies (persistent ones unless --keep-session-cookies), written
atomically at the end; --no-cookies. What the server received is read from
its /_reqs log."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, run  # noqa: E402

LOGIN = "/setcookie?name=sid&value=42&to=/needcookie%3Fname%3Dsid%26value%3D42"
NEED = "/needcookie?name=sid&value=42"


def cookie(req):
    return dict(req["headers"]).get("Cookie")


class CookiesTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.srv.reset()

    def crawl(self, args, want=0):
        code, recs, err = run(["-q", "-j", "1"] + args)
        self.assertEqual(code, want, err)
        return recs

    def jar_lines(self, path):
        with open(path) as f:
            return sorted(l.split("\t")[5:7] for l in f.read().splitlines() if l and not l.startswith("#"))

    def test_login_redirect_sets_and_then_needs_a_cookie(self):
        recs = self.crawl(["-L", self.b + LOGIN])
        self.assertEqual(recs[0]["status"], 200)
        self.assertEqual(cookie(self.srv.requests()[1]), "sid=42")

    def test_one_store_for_the_whole_run(self):
        recs = self.crawl([self.b + "/setcookie?name=sid&value=42", self.b + NEED,
                           "http://localhost:%d%s" % (self.srv.port, NEED)], want=8)
        st = {r["url"]: r["status"] for r in recs}
        self.assertEqual(st[self.b + NEED], 200)
        self.assertEqual(st["http://localhost:%d%s" % (self.srv.port, NEED)], 403)  # another host: not sent

    def test_no_cookies(self):
        recs = self.crawl(["--no-cookies", "-L", self.b + LOGIN], want=8)
        self.assertEqual(recs[0]["status"], 403)

    def test_cookie_string_stays_on_its_origin(self):
        other = "http://localhost:%d/status/200" % self.srv.port
        self.crawl(["-L", "--allow-private-addresses", "-b", "a=1; b=2", "-b", "c=3",
                    "%s/redirect-to?url=%s" % (self.b, other)])
        first, second = self.srv.requests()
        self.assertEqual(cookie(first), "a=1; b=2; c=3")
        self.assertIsNone(cookie(second))

    def test_cookie_file_is_loaded(self):
        f = os.path.join(self.tmp, "in.txt")
        with open(f, "w") as fh:
            fh.write("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t42\n")
        for opt in ("-b", "--cookie", "--load-cookies"):
            recs = self.crawl([opt, f, self.b + NEED])
            self.assertEqual(recs[0]["status"], 200, opt)

    def test_cookie_jar_and_save_cookies(self):
        urls = [self.b + "/setcookie?name=s&value=1", self.b + "/setcookie?name=p&value=2&maxage=3600"]
        jar = os.path.join(self.tmp, "jar.txt")
        with open(jar, "w") as fh:
            fh.write("old\n")
        self.crawl(["--cookie-jar", jar] + urls)
        self.assertEqual(self.jar_lines(jar), [["p", "2"], ["s", "1"]])
        self.assertEqual(os.stat(jar).st_mode & 0o777, 0o600)
        saved = os.path.join(self.tmp, "saved.txt")
        self.crawl(["--save-cookies", saved] + urls)
        self.assertEqual(self.jar_lines(saved), [["p", "2"]])  # wget: no session cookies
        self.crawl(["--save-cookies", saved, "--keep-session-cookies"] + urls)
        self.assertEqual(self.jar_lines(saved), [["p", "2"], ["s", "1"]])
        self.assertEqual(sorted(os.listdir(self.tmp)), ["jar.txt", "saved.txt"])  # no temporary left
        # and the jar loads again
        recs = self.crawl(["-b", jar, self.b + "/needcookie?name=p&value=2"])
        self.assertEqual(recs[0]["status"], 200)

    def test_usage_errors(self):
        f = os.path.join(self.tmp, "c.txt")
        open(f, "w").close()
        for args in (["--cookie-jar", f, "--save-cookies", f], ["--no-cookies", "-b", f],
                     ["-b", os.path.join(self.tmp, "missing")]):
            code, _, err = run(args + [self.b + "/status/200"])
            self.assertEqual(code, 2, (args, err))
        self.assertEqual(self.srv.requests(), [])

    def test_check_hides_cookie_values(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[job a]\nurl = %s\ncookie = sid=topsecret\n" % self.b)
        p = subprocess.run([CRAWL, "--config", conf, "--check"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("topsecret", p.stdout)
        self.assertIn("cookie = (hidden)", p.stdout)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
