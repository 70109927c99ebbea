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

    def test_location_content_length_and_input_position(self):
        a, b = os.path.join(self.tmp, "a.txt"), os.path.join(self.tmp, "b.txt")
        with open(a, "w") as f:
            f.write("# a comment\n\n%s/status/200\nnot a url\n  %s/redirect-to?url=/status/204  \n"
                    % (self.b, self.b))
        with open(b, "w") as f:
            f.write("%s/big?size=100\n" % self.b)
        code, recs, err = run(["-q", "-i", a, "-i", b])
        self.assertEqual(code, 1, err)
        by = {r["url"]: r for r in recs}
        r = by[self.b + "/redirect-to?url=/status/204"]
        self.assertEqual((r["status"], r["location"]), (302, self.b + "/status/204"))  # not followed, but said
        self.assertEqual((r["input_line"], r["input_file"]), (5, a))  # physical lines, comments counted
        self.assertEqual((by["not a url"]["input_line"], by["not a url"]["input_file"]), (4, a))
        r = by[self.b + "/big?size=100"]
        self.assertEqual((r["content_length"], r["bytes"], r["input_line"], r["input_file"]), (100, 100, 1, b))
        self.assertIsNone(by[self.b + "/status/200"]["location"])
        # one source: no input_file; positional URLs: no input_line
        code, recs, err = run(["-q", "-i", b])
        self.assertEqual(recs[0]["input_line"], 1)
        self.assertNotIn("input_file", recs[0])
        code, recs, err = run(["-q", self.b + "/status/200"])
        self.assertNotIn("input_line", recs[0])

    def test_input_line_after_a_resume_seeks_into_the_file(self):
        inp, st, out = (os.path.join(self.tmp, n) for n in ("u.txt", "st", "o.jsonl"))
        with open(inp, "w") as f:
            f.write("# list\n%s/status/200?i=1\n%s/status/200?i=2\n" % (self.b, self.b))
        code, _, err = run(["-q", "--state", st, "-i", inp, "-o", out])
        self.assertEqual(code, 0, err)
        with open(inp, "a") as f:  # more lines; the resumed run seeks past the done ones
            f.write("\n%s/status/200?i=3\n" % self.b)
        code, _, err = run(["-q", "--state", st, "--resume", "-i", inp, "-o", out])
        self.assertEqual(code, 0, err)
        with open(out) as f:
            lines = {json.loads(l)["url"]: json.loads(l)["input_line"] for l in f}
        self.assertEqual(lines[self.b + "/status/200?i=3"], 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
