#!/usr/bin/env python3
"""Integration tests: wget's mirroring switches: -np, -A/-R, -nH, -nd,
--cut-dirs, -E, -m, -p, -l inf, and wget's two-letter short options. What
is checked is what the server served and what is on disk. The real crawl
binary against the project's test server on 127.0.0.1 (harness.py); run by
ctest as integration_mirroring."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


def files_under(d):
    out = set()
    for dp, _, fs in os.walk(d):
        for f in fs:
            out.add(os.path.relpath(os.path.join(dp, f), d))
    return out


class MirroringTest(ServerTest):
    def crawl(self, *args):
        d = os.path.join(self.tmp, "m%d" % len(os.listdir(self.tmp)))
        robots = ["--robots", "off"] if "-r" in args or "-m" in args else []
        code, recs, err = run(["-q", "-P", d] + robots + list(args))
        self.assertIn(code, (0, 8), err)
        return d, {r["url"]: r for r in recs}, err

    def test_no_parent(self):
        d, recs, _ = self.crawl("-r", "-np", "-nH", self.b + "/site/c/")
        self.assertEqual(sorted(recs), [self.b + "/site/c/", self.b + "/site/c/d.html"])  # ../a.html is above
        self.assertEqual(files_under(d), {"site/c/index.html", "site/c/d.html"})
        d, recs, _ = self.crawl("-r", "--no-parent", "-l", "inf", "-nH", self.b + "/site/c/d.html")
        self.assertEqual(sorted(recs), [self.b + "/site/c/d.html"])

    def test_host_directories_and_cut_dirs(self):
        d, _, _ = self.crawl("-r", "-l", "1", self.b + "/site/c/")
        host = self.b.split("//")[1].replace(":", "%3A")  # the port's colon is encoded, as before
        self.assertIn(os.path.join(host, "site/c/d.html"), files_under(d))
        d, _, _ = self.crawl("-r", "-l", "1", "-nH", "--cut-dirs", "1", self.b + "/site/c/")
        self.assertEqual(files_under(d) - {"a.html"}, {"c/index.html", "c/d.html"})
        d, _, _ = self.crawl("-r", "-l", "1", "-nd", self.b + "/site/c/")
        self.assertEqual(files_under(d), {"index.html", "d.html", "a.html"})

    def test_adjust_extension(self):
        d, _, _ = self.crawl("-nH", "-E", self.b + "/page/about", self.b + "/status/200")
        got = files_under(d)
        self.assertIn("page/about.html", got)  # text/html without .html gets it

    def test_accept_reject_keep_files_but_read_pages(self):
        d, recs, _ = self.crawl("-r", "-nH", "-A", "d.html", self.b + "/site/c/")
        self.assertIn(self.b + "/site/c/", recs)  # fetched for its links
        self.assertEqual(files_under(d), {"site/c/d.html"})  # but only d.html kept
        d, recs, _ = self.crawl("-r", "-nH", "-l", "1", "-R", "*.html", self.b + "/site/")
        self.assertIn(self.b + "/site/a.html", recs)
        self.assertEqual(files_under(d), {"site/cal?month=1"})  # the only file name not ending in .html

    def test_mirror_and_short_aliases(self):
        d, recs, _ = self.crawl("-m", "-nH", "--max-pages", "40", self.b + "/site/c/")
        # -m is -r -l inf: everything reachable from c/ on the site
        self.assertIn(self.b + "/site/b.html", recs)
        self.assertIn("site/b.html", files_under(d))
        code, _, err = run(["-q", "-p", "-r", "-l", "1", "--robots", "off", self.b + "/site/c/"])
        self.assertEqual(code, 0, err)  # -p is --page-requisites
        code, _, err = run(["-q", "-nH", self.b + "/site/"])
        self.assertEqual(code, 2)
        self.assertIn("--no-host-directories needs -P", err)
        code, _, err = run(["-q", "-m", self.b + "/site/"])
        self.assertEqual(code, 2)
        self.assertIn("--mirror needs -P", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
