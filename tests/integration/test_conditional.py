#!/usr/bin/env python3
"""Conditional re-fetch: records carry the response's etag and last_modified;
-N/--timestamping (with -P) sends If-Modified-Since from the saved file's
time, keeps the file on a 304 (record: not_modified: true), and otherwise
overwrites it and dates it by Last-Modified, as wget does; -nc/--no-clobber
sends nothing for a URL whose file is already saved. What the server
received is read from its /_reqs log."""
import email.utils
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402

MTIME = 1700000000
COND = "/cond?etag=abc&mtime=%d" % MTIME


def hdr(req, name):
    return dict(req["headers"]).get(name)


class ConditionalTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.srv.reset()
        self.dir = os.path.join(self.tmp, "p")

    def crawl(self, args, want=0):
        code, recs, err = run(["-q"] + args)
        self.assertEqual(code, want, err)
        return recs

    def files(self):
        out = []
        for root, _, names in os.walk(self.dir):
            out += [os.path.join(root, n) for n in names]
        return sorted(out)

    def test_records_carry_validators(self):
        r, = self.crawl([self.b + COND])
        self.assertEqual(r["etag"], '"abc"')
        self.assertEqual(r["last_modified"], email.utils.formatdate(MTIME, usegmt=True))
        self.assertNotIn("not_modified", r)
        r, = self.crawl([self.b + "/status/200"])
        self.assertIsNone(r["etag"])
        self.assertIsNone(r["last_modified"])

    def test_timestamping(self):
        first, = self.crawl(["-N", "-P", self.dir, self.b + COND])
        path = first["saved_path"]
        self.assertEqual(os.stat(path).st_mtime, MTIME)  # dated by Last-Modified
        self.assertIsNone(hdr(self.srv.requests()[0], "If-Modified-Since"))
        # unchanged on the server: 304, the file stays
        self.srv.reset()
        again, = self.crawl(["--timestamping", "-P", self.dir, self.b + COND])
        self.assertEqual((again["status"], again.get("not_modified"), again["saved_path"]), (304, True, path))
        self.assertEqual(hdr(self.srv.requests()[0], "If-Modified-Since"), email.utils.formatdate(MTIME, usegmt=True))
        self.assertEqual(self.files(), [path])
        # the saved copy is older than the server's: fetched again, overwritten in place
        with open(path, "w") as f:
            f.write("stale")
        os.utime(path, (MTIME - 1000, MTIME - 1000))
        newer, = self.crawl(["-N", "-P", self.dir, self.b + COND])
        self.assertEqual((newer["status"], newer.get("not_modified"), newer["saved_path"]), (200, None, path))
        with open(path) as f:
            self.assertEqual(f.read(), "conditional body\n")
        self.assertEqual(os.stat(path).st_mtime, MTIME)
        self.assertEqual(self.files(), [path])  # no .1, no temporary left

    def test_no_clobber(self):
        first, = self.crawl(["-P", self.dir, self.b + "/page/one"])
        self.srv.reset()
        for opt in ("-nc", "--no-clobber"):
            again, = self.crawl([opt, "-P", self.dir, self.b + "/page/one"])
            self.assertEqual((again["status"], again["skipped"], again["saved_path"]),
                             (None, "exists", first["saved_path"]))
        self.assertEqual(self.srv.requests(), [])
        new, = self.crawl(["-nc", "-P", self.dir, self.b + "/page/two"])
        self.assertEqual(new["status"], 200)
        self.assertEqual(len(self.files()), 2)

    def test_usage_errors(self):
        for args in (["-N"], ["-nc"], ["-N", "-nc", "-P", self.dir]):
            code, _, err = run(args + [self.b + COND])
            self.assertEqual(code, 2, (args, err))
        self.assertEqual(self.srv.requests(), [])


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
