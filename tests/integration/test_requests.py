#!/usr/bin/env python3
"""Methods and bodies: -X/--request (--method), -d/--data (--post-data,
--body-data), --data-binary (--body-file, --post-file: streamed from the
file, resent on retry), --json, -I/--head; the method across redirects
(301/302 turn POST into GET, 303 anything but HEAD, 307/308 keep it);
--spider asks with HEAD (GET where HEAD is refused, and for pages whose links
a recursive crawl wants); input lines that are request objects. Every test
asserts what the test server received (its /_reqs log)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


def hdr(req, name):
    for k, v in req["headers"]:
        if k.lower() == name.lower():
            return v
    return None


class RequestsTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.srv.reset()

    def crawl(self, args, stdin=None, want=0):
        code, recs, err = run(["-q", "--retry-delay", "10ms"] + args, stdin=stdin)
        self.assertEqual(code, want, err)
        return recs, err

    def file(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # ---- methods and bodies ----------------------------------------------------------------------
    def test_request_and_data(self):
        self.crawl(["-X", "PUT", "-d", "a=1", "--data", "b=2", self.b + "/status/200"])
        r, = self.srv.requests()
        self.assertEqual((r["method"], r["body"]), ("PUT", "a=1&b=2"))
        self.assertEqual(hdr(r, "Content-Type"), "application/x-www-form-urlencoded")
        self.assertEqual(hdr(r, "Content-Length"), "7")

    def test_data_is_post_and_at_file_drops_line_breaks(self):
        f = self.file("form", b"x=1\r\ny=2\n")
        self.crawl(["-d", "@" + f, "--post-data", "z=3", self.b + "/status/200"])
        r, = self.srv.requests()
        self.assertEqual((r["method"], r["body"]), ("POST", "x=1y=2&z=3"))

    def test_data_binary_file_is_sent_as_is(self):
        data = b"\x00\x01\xffbin\r\nary"
        f = self.file("blob", data)
        for opt, val in (("--data-binary", "@" + f), ("--body-file", f), ("--post-file", f)):
            self.srv.reset()
            self.crawl([opt, val, self.b + "/status/200"])
            r, = self.srv.requests()
            self.assertEqual(r["method"], "POST", opt)
            self.assertEqual(r["body"].encode("latin-1"), data, opt)
            self.assertEqual(hdr(r, "Content-Length"), str(len(data)), opt)

    def test_body_resent_on_retry(self):
        f = self.file("blob", b"payload-" * 1000)
        recs, _ = self.crawl(["--data-binary", "@" + f, "--retries", "2", self.b + "/flaky/2?key=retry-body"])
        self.assertEqual((recs[0]["status"], recs[0]["attempts"]), (200, 3))
        reqs = self.srv.requests()
        self.assertEqual(len(reqs), 3)
        for r in reqs:
            self.assertEqual((r["method"], len(r["body"])), ("POST", 8000))

    def test_json(self):
        f = self.file("j", b'{"b": [1, 2]}\n')
        self.crawl(["--json", '{"a": 1}', self.b + "/status/200"])
        self.crawl(["-X", "PATCH", "--json", "@" + f, self.b + "/status/200"])
        a, b = self.srv.requests()
        self.assertEqual((a["method"], a["body"]), ("POST", '{"a": 1}'))
        self.assertEqual((b["method"], b["body"]), ("PATCH", '{"b": [1, 2]}\n'))
        for r in (a, b):
            self.assertEqual(hdr(r, "Content-Type"), "application/json")
            self.assertEqual(hdr(r, "Accept"), "application/json")

    def test_user_header_wins_over_json_content_type(self):
        self.crawl(["--json", "[]", "-H", "Content-Type: application/vnd.x+json", self.b + "/status/200"])
        r, = self.srv.requests()
        self.assertEqual(hdr(r, "Content-Type"), "application/vnd.x+json")
        self.assertEqual([k for k, _ in r["headers"]].count("Content-Type"), 1)

    def test_head_and_method_alias(self):
        recs, _ = self.crawl(["-I", self.b + "/big?size=100000"])
        self.assertEqual((recs[0]["status"], recs[0]["bytes"]), (200, 0))
        self.crawl(["--method", "DELETE", self.b + "/status/200"])
        self.crawl(["-X", "HEAD", self.b + "/status/200"])
        self.assertEqual([r["method"] for r in self.srv.requests()], ["HEAD", "DELETE", "HEAD"])

    def test_usage_errors(self):
        f = self.file("x", b"1")
        for args in (["-d", "a", "--json", "{}"], ["-I", "-d", "a"], ["--data-binary", "@" + f + ".missing"],
                     ["-X", "BAD METHOD"], ["-d", "@-"]):
            code, _, err = run(args + [self.b + "/status/200"])
            self.assertEqual(code, 2, (args, err))
            self.assertIn("crawl:", err)
        self.assertEqual(self.srv.requests(), [])

    # ---- redirects -------------------------------------------------------------------------------
    def test_redirect_method_rules(self):
        cases = [("POST", 301, "GET"), ("POST", 302, "GET"), ("POST", 303, "GET"), ("POST", 307, "POST"),
                 ("POST", 308, "POST"), ("PUT", 302, "PUT"), ("PUT", 303, "GET"), ("HEAD", 303, "HEAD")]
        for method, code, then in cases:
            self.srv.reset()
            args = ["-I"] if method == "HEAD" else ["-X", method, "-d", "k=v"]
            self.crawl(["-L"] + args + ["%s/redirect-to?url=/status/200&code=%d" % (self.b, code)])
            first, second = self.srv.requests()
            self.assertEqual(first["method"], method, (method, code))
            self.assertEqual(second["method"], then, (method, code))
            self.assertEqual(second["body"], "k=v" if then in ("POST", "PUT") else "", (method, code))

    # ---- --spider --------------------------------------------------------------------------------
    def test_spider_sends_head(self):
        recs, _ = self.crawl(["--spider", self.b + "/big?size=3000000"])
        self.assertEqual((recs[0]["status"], recs[0]["bytes"]), (200, 0))
        self.assertEqual([r["method"] for r in self.srv.requests()], ["HEAD"])

    def test_spider_falls_back_to_get_where_head_is_refused(self):
        recs, _ = self.crawl(["--spider", self.b + "/nohead"])
        self.assertEqual(recs[0]["status"], 200)
        self.assertEqual([r["method"] for r in self.srv.requests()], ["HEAD", "GET"])

    def test_recursive_spider_gets_html_pages_for_their_links(self):
        recs, _ = self.crawl(["--spider", "-r", "-l", "1", "--robots", "off", self.b + "/site/"])
        got = {}
        for r in self.srv.requests():
            got.setdefault(r["uri"], []).append(r["method"])
        self.assertEqual(got["/site/"], ["HEAD", "GET"])  # its links are wanted
        self.assertEqual(got["/site/a.html"], ["HEAD"])  # at the last level: only checked
        self.assertGreater(len(recs), 2)

    # ---- request objects in the input ----------------------------------------------------------
    def test_input_lines_as_request_objects(self):
        lines = [
            json.dumps({"url": self.b + "/status/200?one", "method": "PUT", "headers": {"X-Id": "1"},
                        "body": "text body"}),
            json.dumps({"url": self.b + "/status/200?two", "body": {"k": [1, None]}}),
            self.b + "/status/200?plain",
            '{"url": 5}',
            '{"url": "%s/x", "headers": {"Bad\\r\\nName": "v"}}' % self.b,
            '{"url": "%s/x", "headers": {"X": "a\\r\\nInjected: 1"}}' % self.b,
            '{"url": "%s/x", "colour": "red"}' % self.b,
            '{"url": "%s/x",' % self.b,
            '{}',
        ]
        recs, _ = self.crawl(["-i", "-"], stdin="\n".join(lines) + "\n", want=1)
        self.assertEqual(len(recs), len(lines))
        bad = [r for r in recs if r["error"]]
        self.assertEqual(len(bad), 6)
        for r in bad:
            self.assertEqual(r["error"]["kind"], "invalid_url")
            self.assertIn("request object", r["error"]["message"])
            self.assertTrue(r["input"].startswith("{"))
        reqs = {r["uri"]: r for r in self.srv.requests()}
        self.assertEqual(len(reqs), 3)
        one, two, plain = reqs["/status/200?one"], reqs["/status/200?two"], reqs["/status/200?plain"]
        self.assertEqual((one["method"], one["body"], hdr(one, "X-Id")), ("PUT", "text body", "1"))
        self.assertEqual((two["method"], two["body"]), ("POST", '{"k":[1,null]}'))
        self.assertEqual(hdr(two, "Content-Type"), "application/json")
        self.assertEqual((plain["method"], plain["body"]), ("GET", ""))

    def test_request_object_credentials_stay_on_their_origin(self):
        other = "http://localhost:%d/status/200" % self.srv.port
        line = json.dumps({"url": "%s/redirect-to?url=%s" % (self.b, other),
                           "headers": {"Authorization": "Bearer tok", "X-Keep": "yes"}})
        self.crawl(["-L", "--allow-private-addresses", "-i", "-"], stdin=line + "\n")
        first, second = self.srv.requests()
        self.assertEqual(hdr(first, "Authorization"), "Bearer tok")
        self.assertIsNone(hdr(second, "Authorization"))
        self.assertEqual(hdr(second, "X-Keep"), "yes")


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
