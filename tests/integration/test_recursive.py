#!/usr/bin/env python3
"""Integration tests: recursive crawling, limits and politeness. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_recursive."""
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, Server, ServerTest, run  # noqa: E402


class RecursiveTest(ServerTest):
    # ---- recursive crawling -------------------------------------------------------------------------
    def test_recursive_crawl_site(self):
        srv = Server()
        try:
            out = os.path.join(self.tmp, "r.jsonl")
            code, _, err = run(["--progress=none", "-r", "-l", "4", "-o", out, srv.base + "/site/"])
            self.assertEqual(code, 0, err)
            recs = [json.loads(l) for l in open(out)]
            got = {r["url"]: r for r in recs}
            b = srv.base + "/site/"
            fetched = sorted(u for u, r in got.items() if r["status"] == 200 and not r.get("sitemap"))
            self.assertEqual(fetched, sorted([
                b, b + "a.html", b + "b.html", b + "c/", b + "c/d.html", b + "meta-nofollow.html",
                b + "from-sitemap.html", b + "large.html",
                b + "cal?month=1", b + "cal?month=2", b + "cal?month=3", b + "cal?month=4",
                b + "loop/", b + "loop/x/", b + "loop/x/x/", b + "loop/x/x/x/"]))
            # robots.txt obeyed (and asked for first), nofollow honoured, out-of-scope host skipped
            self.assertEqual(got[b + "private/secret.html"]["error"]["kind"], "robots")
            for u in ("nofollow.html", "hidden.html", "commented.html", "script.html"):
                self.assertNotIn(b + u, got)
            self.assertFalse(any("127.0.0.2" in u for u in got))
            # robots.txt's sitemap index led to a gzip sitemap, whose in-scope URLs were crawled
            self.assertTrue(got[b + "sitemap-index.xml"]["sitemap"])
            self.assertEqual(got[b + "sitemap-index.xml"]["links_found"], 1)
            self.assertEqual(got[b + "sitemap1.xml.gz"]["links_found"], 3)
            self.assertEqual(got[b + "from-sitemap.html"]["parent"], b + "sitemap1.xml.gz")
            # every page was parsed by the executor, off the loop thread
            m = re.search(r"links extracted from ([0-9]+) pages \(([0-9]+) off the loop\)", err)
            self.assertTrue(m, err)
            self.assertGreater(int(m.group(1)), 10)
            self.assertEqual(m.group(1), m.group(2))
            # depth and parent recorded
            self.assertEqual(got[b]["depth"], 0)
            self.assertIsNone(got[b]["parent"])
            self.assertEqual(got[b + "c/d.html"]["depth"], 2)
            self.assertEqual(got[b + "c/d.html"]["parent"], b + "b.html")
            self.assertEqual(got[b + "cal?month=4"]["depth"], 4)
            # the server saw every URL once, robots.txt first
            log = self.served(srv)
            self.assertEqual(log[0], "/robots.txt")
            self.assertEqual(len(log), len(set(log)), "fetched twice: %s" % log)
            self.assertNotIn("/site/private/secret.html", log)
            self.assertNotIn("/site/nofollow.html", log)
        finally:
            srv.stop()

    def test_recursive_limits_and_politeness(self):
        srv = Server()
        try:
            out = os.path.join(self.tmp, "r.jsonl")
            code, _, _ = run(["-q", "-r", "-l", "0", "--max-pages", "5", "-o", out, srv.base + "/site/"])
            self.assertEqual(code, 0)
            pages = [json.loads(l) for l in open(out)]
            self.assertEqual(sum(1 for r in pages if not r.get("sitemap")), 5)  # robots-refused ones included
            # --robots=off fetches the private page; --reject-regex skips the calendar
            code, _, _ = run(["-q", "-r", "-l", "2", "--robots=off", "--reject-regex", "cal|loop", "-o", out,
                              srv.base + "/site/"])
            urls = [json.loads(l)["url"] for l in open(out)]
            self.assertIn(srv.base + "/site/private/secret.html", urls)
            self.assertFalse(any("cal" in u or "loop" in u for u in urls))
            # at most --max-per-host in flight per host (the server records its peak)
            subprocess.run([CRAWL, "-q", srv.base + "/_reset"], capture_output=True)
            seeds = [srv.base + "/delay/200?i=%d" % i for i in range(8)]
            code, _, _ = run(["-q", "-r", "-j", "8", "--max-per-host", "2", "--delay", "0", "-o", out] + seeds)
            self.assertEqual(code, 0)
            st = subprocess.run([CRAWL, "-q", "-P", os.path.join(self.tmp, "st"), srv.base + "/stats"],
                                capture_output=True, text=True)
            with open(json.loads(st.stdout)["saved_path"]) as f:
                self.assertLessEqual(json.load(f)["peak"], 2)
            # --spider saves nothing
            d = os.path.join(self.tmp, "spider")
            run(["-q", "-r", "-l", "1", "--spider", "-P", d, "-o", out, srv.base + "/site/"])
            self.assertFalse(os.path.exists(d) and any(os.scandir(d)))
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
