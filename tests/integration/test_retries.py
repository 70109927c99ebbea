#!/usr/bin/env python3
"""Integration tests: retries, backoff and Retry-After. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_retries."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


class RetriesTest(ServerTest):
    # ---- retries and backoff ------------------------------------------------------------
    def test_retries_then_success(self):
        code, recs, _ = run(["-q", "--retry-delay", "20ms", self.b + "/flaky/2?key=t1"])
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["status"], 200)
        self.assertEqual(recs[0]["attempts"], 3)

    def test_retries_exhausted(self):
        code, recs, _ = run(["-q", "--retries", "1", "--retry-delay", "20ms", self.b + "/flaky/5?key=t2"])
        self.assertEqual(code, 8)
        self.assertEqual(recs[0]["status"], 500)
        self.assertEqual(recs[0]["attempts"], 2)

    def test_retry_after_honoured(self):
        t0 = time.monotonic()
        code, recs, _ = run(["-q", "--retry-delay", "10ms", self.b + "/retry-after/1?key=t3&s=1"])
        took = time.monotonic() - t0
        self.assertEqual(code, 0)
        self.assertEqual(recs[0]["attempts"], 2)
        self.assertGreaterEqual(took, 0.9)  # waited for Retry-After: 1, not 10 ms

    def test_no_retry_on_404(self):
        code, recs, _ = run(["-q", "--retry-delay", "10ms", self.b + "/status/404"])
        self.assertEqual(recs[0]["attempts"], 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
