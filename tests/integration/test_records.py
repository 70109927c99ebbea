#!/usr/bin/env python3
"""Integration tests: JSON records field by field, exit codes, input and output files. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_records."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, by_url, run  # noqa: E402


class RecordsTest(ServerTest):
    # ---- records, field by field -------------------------------------------------
    def test_record_fields(self):
        code, recs, _ = run(["-q", self.b + "/page/one"])
        self.assertEqual(code, 0)
        self.assertEqual(len(recs), 1)
        r = recs[0]
        self.assertEqual(r["url"], self.b + "/page/one")
        self.assertEqual(r["final_url"], self.b + "/page/one")
        self.assertEqual(r["status"], 200)
        self.assertIsNone(r["error"])
        self.assertEqual(r["content_type"], "text/html; charset=utf-8")
        self.assertEqual(r["bytes"], len("<html><head><title>one</title></head><body><p>page one</p></body></html>\n"))
        self.assertFalse(r["truncated"])
        self.assertEqual(r["redirects"], [])
        self.assertEqual(r["attempts"], 1)
        self.assertEqual(r["remote_ip"], "127.0.0.1")
        self.assertEqual(r["http_version"], "1.1")
        self.assertGreaterEqual(r["elapsed_ms"], 0)
        for k in ("dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"):
            self.assertIn(k, r["timings"])

    def test_http_error_exit_8(self):
        code, recs, _ = run(["-q", "--retries", "0", self.b + "/status/404", self.b + "/status/200"])
        self.assertEqual(code, 8)
        r = by_url(recs)
        self.assertEqual(r[self.b + "/status/404"]["status"], 404)
        self.assertEqual(r[self.b + "/status/404"]["error"]["kind"], "http")
        self.assertIsNone(r[self.b + "/status/200"]["error"])

    def test_invalid_lines_continue(self):
        lines = "\n".join(["not a url", "ftp://example/x", "http://", "# comment", "", self.b + "/status/200"])
        code, recs, _ = run(["-q", "-i", "-"], stdin=lines + "\n")
        self.assertEqual(code, 1)
        self.assertEqual(len(recs), 4)  # comment and blank lines are skipped
        kinds = sorted((r["error"] or {}).get("kind", "ok") for r in recs)
        self.assertEqual(kinds, ["invalid_url", "invalid_url", "invalid_url", "ok"])
        bad = [r for r in recs if r["error"]]
        self.assertTrue(all(r["status"] is None for r in bad))

    def test_input_file_and_output_file(self):
        inp = os.path.join(self.tmp, "urls.txt")
        with open(inp, "w") as f:
            for i in range(200):
                f.write("%s/page/p%d\n" % (self.b, i))
        out = os.path.join(self.tmp, "out.jsonl")
        code, _, _ = run(["-q", "-j", "20", "-i", inp, "-o", out])
        self.assertEqual(code, 0)
        with open(out) as f:
            recs = [json.loads(l) for l in f]
        self.assertEqual(len(recs), 200)
        self.assertEqual(len({r["url"] for r in recs}), 200)
        self.assertTrue(all(r["status"] == 200 for r in recs))


if __name__ == "__main__":
    unittest.main(verbosity=2)
