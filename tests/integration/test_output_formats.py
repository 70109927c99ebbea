#!/usr/bin/env python3
"""Integration tests: choosing what of a record is written and how: --fields,
--format csv|tsv (parsed back with Python's csv module), --write-out with
curl's variables, --match-status and --filter-status. The real crawl binary
against the project's test server on 127.0.0.1 (harness.py); run by ctest as
integration_output_formats."""
import csv
import io
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, run  # noqa: E402


class OutputFormatTest(ServerTest):
    def lines(self):
        return [self.b + "/status/200?a=1,2", self.b + "/status/404", "not a url",
                self.b + "/redirect-to?url=/status/204"]

    def crawl(self, *args):
        p = subprocess.run([CRAWL, "-q", "-L", "--retries", "0", "-i", "-"] + list(args),
                           input="\n".join(self.lines()) + "\n", capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def test_fields_select_and_order_keys(self):
        code, out, err = self.crawl("--fields", "status,url,error.kind")
        self.assertEqual(code, 8, err)
        recs = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(recs), 4)
        for r in recs:
            self.assertEqual(list(r), ["status", "url", "error.kind"])
        by = {r["url"]: r for r in recs}
        self.assertEqual(by["not a url"]["error.kind"], "invalid_url")
        self.assertEqual(by[self.b + "/status/404"]["status"], 404)

    def test_csv_parses_back(self):
        code, out, err = self.crawl("--format", "csv", "-o", os.path.join(self.tmp, "r.csv"))
        self.assertEqual(code, 8, err)
        with open(os.path.join(self.tmp, "r.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 4)
        by = {r["url"]: r for r in rows}
        self.assertEqual(by[self.b + "/status/200?a=1,2"]["status"], "200")  # the comma was quoted
        self.assertEqual(by["not a url"]["error.kind"], "invalid_url")
        self.assertEqual(by["not a url"]["status"], "")  # null: an empty field
        self.assertEqual(by[self.b + "/redirect-to?url=/status/204"]["final_url"], self.b + "/status/204")
        with open(os.path.join(self.tmp, "r.csv"), "rb") as f:
            self.assertTrue(f.readline().endswith(b"\r\n"))  # RFC 4180 line ends

    def test_tsv_with_fields(self):
        code, out, err = self.crawl("--format", "tsv", "--fields", "url,status,error.message")
        self.assertEqual(code, 8, err)
        rows = list(csv.reader(io.StringIO(out), delimiter="\t"))
        self.assertEqual(rows[0], ["url", "status", "error.message"])
        self.assertEqual(len(rows), 5)

    def test_write_out_like_curl(self):
        code, out, err = self.crawl("--write-out", "%{http_code} %{url_effective} %{num_redirects} %{error.kind}\\n")
        self.assertEqual(code, 8, err)
        got = sorted(out.splitlines())
        want = sorted(["200 %s/status/200?a=1,2 0 " % self.b, "404 %s/status/404 0 http" % self.b,
                       "000  0 invalid_url", "204 %s/status/204 1 " % self.b])
        self.assertEqual(got, want)
        code, out, err = self.crawl("--write-out", "%{json}\\n")
        self.assertEqual(len([json.loads(l) for l in out.splitlines()]), 4)
        code, out, err = self.crawl("--write-out", "%{time_total}\\n")
        for l in out.splitlines():
            if l:
                self.assertRegex(l, r"^\d+\.\d{6}$")  # seconds, as curl writes them

    def test_status_filters(self):
        code, out, err = self.crawl("--match-status", "2xx", "--fields", "url")
        self.assertEqual(code, 8, err)  # the exit status still counts every record
        self.assertEqual(sorted(json.loads(l)["url"] for l in out.splitlines()),
                         sorted([self.b + "/status/200?a=1,2", self.b + "/redirect-to?url=/status/204"]))
        code, out, err = self.crawl("--filter-status", "400-599,0", "--fields", "url")
        self.assertEqual(len(out.splitlines()), 2)
        code, out, err = self.crawl("--match-status", "200-299,404", "--filter-status", "204", "--fields", "status")
        self.assertEqual(sorted(json.loads(l)["status"] for l in out.splitlines()), [200, 404])

    def test_bad_values_are_usage_errors(self):
        for args, msg in [(["--fields", "urll"], "unknown field 'urll'"),
                          (["--format", "xml"], "--format 'xml'"),
                          (["--write-out", "%{nope}"], "unknown variable"),
                          (["--match-status", "2yy"], "--match-status '2yy'"),
                          (["--format", "csv", "--state", os.path.join(self.tmp, "st")], "--state resumes"),
                          (["--format", "csv", "--write-out", "x"], "choose one")]:
            code, recs, err = run(["-q", self.b + "/status/200"] + args)
            self.assertEqual((code, recs), (2, []), (args, err))
            self.assertIn(msg, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
