#!/usr/bin/env python3
"""Integration tests: WARC output, validated by a reader we did not write. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_warc."""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, ServerTest, run  # noqa: E402


class WarcTest(ServerTest):
    # ---- WARC ----------------------------------------------------------------------------------------
    def validate_warc(self, files):
        here = os.path.dirname(os.path.abspath(__file__))
        validator = os.path.join(here, "..", "warc", "validate.mjs")
        if not shutil.which("node") or not os.path.isdir(os.path.join(here, "..", "warc", "node_modules", "warcio")):
            if os.environ.get("CI"):
                self.fail("warcio.js is not installed (scripts/test.sh installs it)")
            self.skipTest("node or warcio.js not installed")
        p = subprocess.run(["node", validator] + files, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_warc_round_trip(self):
        name = os.path.join(self.tmp, "arch")
        urls = [self.b + "/page/w1", self.b + "/page/w1?again", self.b + "/big?size=200000", self.b + "/gzip?size=5000",
                self.b + "/redirect/2", self.b + "/status/404"]
        code, recs, _ = run(["-q", "-L", "--warc-file", name, "--warc-dedup", "--retries", "0"] + urls)
        self.assertEqual(code, 8)
        s = self.validate_warc([name + "-00000.warc.gz"])
        self.assertEqual(s["errors"], [])
        self.assertEqual(s["types"]["warcinfo"], 1)
        # one request per exchange: 5 single URLs, and /redirect/2 takes 4 hops
        self.assertEqual(s["types"]["request"], 9)
        self.assertEqual(s["types"]["response"] + s["types"]["revisit"], 9)
        self.assertGreaterEqual(s["types"]["revisit"], 1)  # /page/w1?again has the same payload
        import base64
        page = base64.b64decode(s["responses"][self.b + "/page/w1"])
        self.assertEqual(page, b"<html><head><title>w1</title></head><body><p>page w1</p></body></html>\n")
        self.assertEqual(base64.b64decode(s["responses"][self.b + "/big?size=200000"]), b"x" * 200000)
        # the gzip response is archived as sent (still compressed)
        self.assertEqual(base64.b64decode(s["responses"][self.b + "/gzip?size=5000"])[:2], b"\x1f\x8b")
        # rotation
        name2 = os.path.join(self.tmp, "rot")
        run(["-q", "--warc-file", name2, "--warc-max-size", "1K"] + [self.b + "/big?size=30000&i=%d" % i for i in range(4)])
        files = sorted(f for f in os.listdir(self.tmp) if f.startswith("rot-"))
        self.assertGreaterEqual(len(files), 2)  # the bodies compress to almost nothing
        s = self.validate_warc([os.path.join(self.tmp, f) for f in files])
        self.assertEqual(s["errors"], [])
        self.assertEqual(s["types"]["warcinfo"], len(files))
        self.assertEqual(s["types"]["response"], 4)
        # a second run with the same name continues with the next file, overwriting nothing
        run(["-q", "--warc-file", name2, self.b + "/page/again"])
        files2 = sorted(f for f in os.listdir(self.tmp) if f.startswith("rot-"))
        self.assertEqual(len(files2), len(files) + 1)
        # an unwritable WARC location is an I/O error at once
        code, _, err = run(["-q", "--warc-file", "/nonexistent-dir/x", self.b + "/page/a"])
        self.assertEqual(code, 3)
        self.assertIn("cannot create WARC", err)
        # a recursive crawl archives robots.txt and the sitemaps it read too
        srv = Server()
        try:
            name3 = os.path.join(self.tmp, "site")
            code, _, err = run(["-q", "-r", "-l", "2", "--warc-file", name3, "-o", os.devnull, srv.base + "/site/"])
            self.assertEqual(code, 0, err)
            s = self.validate_warc([name3 + "-00000.warc.gz"])
            self.assertEqual(s["errors"], [])
            for u in ("/robots.txt", "/site/sitemap-index.xml", "/site/sitemap1.xml.gz", "/site/", "/site/a.html"):
                self.assertIn(srv.base + u, s["responses"])
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
