#!/usr/bin/env python3
"""Integration tests: timeouts, slow drips, resets, connection reuse, encodings, large bodies. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_transfers."""
import json
import os
import sys
import urllib.request
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, ServerTest, run  # noqa: E402


class TransfersTest(ServerTest):
    # ---- timeouts, drips, resets, bodies ----------------------------------------------------
    def test_timeout(self):
        code, recs, _ = run(["-q", "--retries", "0", "--timeout", "300ms", self.b + "/delay/3000"])
        self.assertEqual(code, 4)
        self.assertEqual(recs[0]["error"]["kind"], "timeout")
        self.assertLess(recs[0]["elapsed_ms"], 2500)

    def test_slow_drip_aborted(self):
        code, recs, _ = run(["-q", "--retries", "0", "--speed-limit", "100", "--speed-time", "1s",
                             self.b + "/drip?n=50&ms=200"])
        self.assertEqual(code, 4)
        self.assertEqual(recs[0]["error"]["kind"], "timeout")

    def test_reset_mid_body(self):
        code, recs, _ = run(["-q", "--retries", "0", self.b + "/reset?bytes=500"])
        self.assertEqual(code, 4)
        self.assertEqual(recs[0]["error"]["kind"], "recv")

    def test_connections_reused_and_idle_close_survived(self):
        srv = Server(args=["--idle-timeout-ms", "400"])
        try:
            seen = [0]

            def new_connections():
                """Connections the server accepted since the last call (not
                counting the one that asks)."""
                with urllib.request.urlopen(srv.base + "/stats") as r:
                    total = json.loads(r.read())["connections"]
                n = total - seen[0] - 1
                seen[0] = total
                return n
            new_connections()
            urls = [srv.base + "/status/200?i=%d" % i for i in range(3)]
            # back to back: one kept-alive connection serves all three
            code, recs, err = run(["--progress=none", "-j", "1"] + urls)
            self.assertEqual(code, 0, err)
            self.assertEqual([r["status"] for r in recs], [200] * 3)
            self.assertEqual(new_connections(), 1)
            # four workers, one slot at the host: the requests queue up for the
            # slot and take turns on one connection
            code, recs, err = run(["--progress=none", "-j", "4", "--max-per-host", "1"] + urls + [srv.base + "/status/200"])
            self.assertEqual(code, 0, err)
            self.assertEqual(new_connections(), 1)
            # a second apart: the server closes each idle connection first; the
            # next request notices and connects again
            code, recs, err = run(["--progress=none", "-j", "1", "--rate", "1"] + urls)
            self.assertEqual(code, 0, err)
            self.assertEqual([r["status"] for r in recs], [200] * 3)
            self.assertEqual(new_connections(), 3)
        finally:
            srv.stop()

    def test_gzip_decoded_and_bomb_stopped(self):
        code, recs, _ = run(["-q", self.b + "/gzip?size=50000"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["bytes"], 50000)
        self.assertFalse(recs[0]["truncated"])
        code, recs, _ = run(["-q", "--max-body", "1M", self.b + "/gzip?size=200000000"])
        self.assertEqual(code, 1)
        self.assertTrue(recs[0]["truncated"])
        self.assertEqual(recs[0]["bytes"], 1024 * 1024)
        self.assertEqual(recs[0]["error"]["kind"], "too_large")

    def test_large_body(self):
        code, recs, _ = run(["-q", self.b + "/big?size=5000000"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["bytes"], 5000000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
