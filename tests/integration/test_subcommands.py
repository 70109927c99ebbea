#!/usr/bin/env python3
"""Integration tests: the robots and links subcommands. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_subcommands."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest  # noqa: E402


class SubcommandsTest(ServerTest):
    # ---- subcommands -----------------------------------------------------------------------------
    def test_robots_subcommand(self):
        rt = os.path.join(self.tmp, "robots.txt")
        with open(rt, "w") as f:
            f.write("User-agent: *\nDisallow: /private\nAllow: /private/ok\n\nUser-agent: crawl\nDisallow: /x$\n")
        p = subprocess.run([CRAWL, "robots", rt, "otherbot", "http://h/a", "http://h/private/ok/1"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, "allowed http://h/a\nallowed http://h/private/ok/1\n")
        p = subprocess.run([CRAWL, "robots", "-", "crawl/1.0", "http://h/x", "http://h/x/y", "http://h/private"],
                           input=open(rt).read(), capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "disallowed http://h/x\nallowed http://h/x/y\nallowed http://h/private\n")
        self.assertEqual(subprocess.run([CRAWL, "robots", rt], capture_output=True).returncode, 2)
        self.assertEqual(subprocess.run([CRAWL, "robots", rt + ".missing", "a", "http://h/"],
                                        capture_output=True).returncode, 3)

    def test_links_subcommand_and_scrapy_cases(self):
        html = os.path.join(self.tmp, "p.html")
        with open(html, "w") as f:
            f.write("<base href='/d/'><a href='a.html'>a</a><!-- <a href='c'> --><script>'<a href=s>'</script>"
                    "<a href='a.html#x'>dup</a><a rel='nofollow' href='nf'>n</a><img src='i.png'>"
                    "<a href='mailto:x@y'>m</a><a href='HTTP://H.example:80/%7Ex'>abs</a>")
        p = subprocess.run([CRAWL, "links", "--base", "http://h.example/x/y", html], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.split(), ["http://h.example/d/a.html", "http://h.example/~x"])
        p = subprocess.run([CRAWL, "links", "--all", "--page-requisites", "--base", "http://h.example/", "-"],
                           input=open(html).read(), capture_output=True, text=True)
        self.assertEqual(p.stdout.split(), ["http://h.example/d/a.html", "http://h.example/d/nf",
                                            "http://h.example/d/i.png", "http://h.example/~x"])
        self.assertEqual(subprocess.run([CRAWL, "links"], capture_output=True).returncode, 2)
        # Scrapy's link-extraction pages (../shared/testdata), compared after the same
        # normalization (fragments dropped, duplicates once, only http/https followed).
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "testdata",
                            "links_cases.json")
        data = os.environ.get("CRAWL_TESTDATA", os.path.dirname(data)) + "/links_cases.json"
        if not os.path.exists(data):
            self.skipTest("links_cases.json not present")
        cases = json.load(open(data))
        passed = []
        for c in cases:
            body = bytes.fromhex(c["html_hex"]) if "html_hex" in c else c["html"].encode("utf-8")
            with open(html, "wb") as f:
                f.write(body)
            extra = ["--page-requisites"] if "img" in c.get("tags", []) else []
            if c.get("encoding"):
                extra += ["--charset", c["encoding"]]
            p = subprocess.run([CRAWL, "links", "--all"] + extra + ["--base", c["doc_url"], html], capture_output=True,
                               text=True)
            want = []
            for u in c["expected_links"]:
                u = u.split("#")[0]
                if u.startswith(("http://", "https://")) and u not in want:
                    want.append(u)
            if p.stdout.split() == want:
                passed.append(c["name"])
            else:
                print("links case %s: got %s want %s" % (c["name"], p.stdout.split(), want))
        print("Scrapy link-extraction cases: %d of %d pass" % (len(passed), len(cases)))
        self.assertEqual(len(passed), len(cases))


if __name__ == "__main__":
    unittest.main(verbosity=2)
