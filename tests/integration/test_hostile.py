#!/usr/bin/env python3
"""Hostile input: servers that send endless bodies, bombs, huge headers, long
URLs and colliding paths; config values that look like formats; signals at
awkward moments. Each test asserts no crash, the documented exit status, one
valid record per URL, and (outside sanitizer builds) peak RSS under the
memory budget documented in crawl(1)."""
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, SANITIZED, Server, ServerTest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RSS_BUDGET_KB = 100 * 1024  # crawl(1), MEMORY: under 100 MiB on every case here at default options


class Hostile:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "hostile_server.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(10)


def run_rss(args, timeout=60, stdin=None):
    """Run crawl; return (exit code, records, stderr, peak RSS in KiB of crawl alone)."""
    wrapper = ("import resource,subprocess,sys\n"
               "r=subprocess.run(sys.argv[1:])\n"
               "sys.stderr.write('\\nRSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)\n")
    p = subprocess.run([sys.executable, "-c", wrapper, CRAWL] + args, input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    err, _, rss = p.stderr.rpartition("\nRSS_KB ")
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, recs, err, int(rss.split()[0])


def warc_records(path):
    """Parse a WARC .gz (one gzip member per record) into (headers dict, block bytes) pairs."""
    out = []
    with open(path, "rb") as f:
        data = gzip.GzipFile(fileobj=io.BytesIO(f.read())).read()
    i = 0
    while i < len(data):
        end = data.index(b"\r\n\r\n", i)
        lines = data[i:end].decode("utf-8").split("\r\n")
        assert lines[0] == "WARC/1.1", lines[0]
        h = dict(l.split(": ", 1) for l in lines[1:])
        n = int(h["Content-Length"])
        block = data[end + 4:end + 4 + n]
        assert len(block) == n
        assert data[end + 4 + n:end + 8 + n] == b"\r\n\r\n"
        out.append((h, block))
        i = end + 8 + n
    return out


class HostileTest(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.h = Hostile()
        cls.hb = cls.h.base

    @classmethod
    def tearDownClass(cls):
        cls.h.stop()
        super().tearDownClass()

    def assert_rss(self, rss, what):
        if not SANITIZED:
            self.assertLess(rss, RSS_BUDGET_KB, "%s: peak RSS %d KiB" % (what, rss))

    # 1: the revisit record's prior URI is as long as a redirect made it
    def test_warc_revisit_with_long_prior_uri(self):
        warc = os.path.join(self.tmp, "w")
        code, recs, err, _ = run_rss(["-q", "-j", "1", "-L", "--warc-file", warc, "--warc-dedup",
                                      self.hb + "/longredirect?len=90000&to=same", self.hb + "/same"])
        self.assertEqual(code, 0, err)
        self.assertEqual(len(recs), 2)
        rs = warc_records(warc + "-00000.warc.gz")
        revisits = [h for h, _ in rs if h["WARC-Type"] == "revisit"]
        self.assertEqual(len(revisits), 1)
        self.assertGreater(len(revisits[0]["WARC-Refers-To-Target-URI"]), 90000)

    # 2: saved paths that grow past PATH_MAX with ".d" renames
    def test_saved_paths_colliding_at_every_level(self):
        d = os.path.join(self.tmp, "p")
        code, recs, err, _ = run_rss(["-q", "-r", "-l", "2", "--robots", "off", "-j", "1", "-P", d,
                                      self.hb + "/collide"], timeout=120)
        self.assertIn(code, (0, 3), err)  # 3: the paths that do not fit are reported, not written
        self.assertEqual(len(recs), 64)
        for r in recs:
            if r.get("saved_path"):
                self.assertTrue(os.path.realpath(r["saved_path"]).startswith(os.path.realpath(d) + os.sep))
                self.assertTrue(os.path.isfile(r["saved_path"]), r["saved_path"][:200])
        self.assertTrue(any("save_error" in r for r in recs))

    # 3: Ctrl-C while a sitemap is still downloading
    def test_sigint_during_slow_sitemap(self):
        out = os.path.join(self.tmp, "o.jsonl")
        p = subprocess.Popen([CRAWL, "-q", "-r", "--robots", "off", "--grace", "1s", "-o", out,
                              "--sitemap", self.hb + "/slowsitemap.xml", self.hb + "/page"],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        self.assertNotIn("AddressSanitizer", err)
        with open(out) as f:
            recs = [json.loads(l) for l in f]
        self.assertIn(self.hb + "/page", {r["url"] for r in recs})

    # 4: a config value is never a format
    def test_config_value_with_format_directives(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[job x]\ninput-file = /nonexistent/%s%s%s%n%n\n")
        p = subprocess.run([CRAWL, "--config", conf, "--check"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("/nonexistent/%s%s%s%n%n", p.stderr)

    # 5: one job finishing does not silence SIGINT for the other
    def test_sigint_reaches_second_job(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[defaults]\njobs = 2\ngrace = 1s\nquiet = true\n")
            f.write("[job fast]\nurl = %s/status/200\noutput = %s/a.jsonl\n" % (self.b, self.tmp))
            f.write("[job slow]\nconcurrency = 2\noutput = %s/b.jsonl\n" % self.tmp)
            for i in range(20):
                f.write("url = %s/delay/5000?i=%d\n" % (self.b, i))
        p = subprocess.Popen([CRAWL, "--config", conf], stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertLess(time.monotonic() - t0, 8)
        with open(os.path.join(self.tmp, "b.jsonl")) as f:
            recs = [json.loads(l) for l in f]
        self.assertLess(len(recs), 20)

    # 6: memory stays bounded whatever the body
    def test_endless_and_bomb_bodies_bounded(self):
        cases = [("/endless", []), ("/endless", ["-P", os.path.join(self.tmp, "p1")]),
                 ("/endless-close", ["-r", "--robots", "off"]),
                 ("/endless", ["--warc-file", os.path.join(self.tmp, "w1"), "--max-body", "64M"]),
                 ("/bomb/gzip?mb=1024", ["-P", os.path.join(self.tmp, "p2")]),
                 ("/bomb/deflate?mb=512&ct=text/html", ["-r", "--robots", "off"]),
                 ("/bomb/gzip?mb=256", [])]
        for path, extra in cases:
            code, recs, err, rss = run_rss(["-q", "--retries", "0", "--timeout", "3s"] + extra + [self.hb + path],
                                           timeout=90)
            what = "%s %s" % (path, " ".join(extra))
            self.assertIn(code, (0, 1, 4), what + ": " + err)
            self.assertTrue(recs, what)
            self.assertEqual(recs[0]["url"], self.hb + path)
            self.assert_rss(rss, what)

    def test_hundred_endless_pages_at_j100(self):
        # -r at -j 100: 100 endless HTML pages, each parsed up to 10 MiB, all
        # held bodies together under 256 MiB (crawl(1), MEMORY)
        urls = ["%s/endless-close?ct=text/html&i=%d" % (self.hb, i) for i in range(100)]
        code, recs, err, rss = run_rss(["-q", "-r", "-l", "1", "--robots", "off", "--retries", "0", "--timeout",
                                        "4s", "-j", "100"] + urls, timeout=120)
        self.assertNotIn("Sanitizer", err)
        self.assertEqual({r["url"] for r in recs} & set(urls), set(urls))
        if not SANITIZED:
            self.assertLess(rss, 300 * 1024, "peak RSS %d KiB" % rss)

    def test_endless_robots_and_sitemap_bounded(self):
        for args in (["-r", self.hb + "/page"],
                     ["-r", "--robots", "off", "--sitemap", self.hb + "/sitemap.xml", self.hb + "/page"]):
            code, recs, err, rss = run_rss(["-q", "--retries", "0", "--timeout", "4s"] + args, timeout=90)
            self.assertNotIn("Sanitizer", err)
            self.assertIn(self.hb + "/page", {r["url"] for r in recs})
            self.assert_rss(rss, " ".join(args))

    # 8: sizes the server chose are too_large, not crawl's internal errors
    def test_huge_headers_are_too_large(self):
        for path in ("/hugeheader?kb=10240", "/hugelocation?kb=1024", "/manyheaders?n=100000"):
            code, recs, err, rss = run_rss(["-q", "--retries", "0", "-L", self.hb + path])
            self.assertEqual(len(recs), 1, err)
            self.assertEqual(recs[0]["error"]["kind"], "too_large", recs[0])
            self.assertEqual(code, 1)
            self.assert_rss(rss, path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
