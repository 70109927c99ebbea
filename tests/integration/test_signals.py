#!/usr/bin/env python3
"""Integration tests: SIGTERM and SIGINT: draining and aborting. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_signals."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest  # noqa: E402


class SignalsTest(ServerTest):
    # ---- signals --------------------------------------------------------------------------------
    def test_sigterm_drains_and_output_is_valid(self):
        out = os.path.join(self.tmp, "o.jsonl")
        urls = "".join("%s/delay/300?i=%d\n" % (self.b, i) for i in range(100))
        p = subprocess.Popen([CRAWL, "-q", "-j", "5", "-i", "-", "-o", out], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        p.stdin.write(urls)
        p.stdin.flush()
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        p.stdin.close()
        self.assertEqual(p.returncode, 130)
        with open(out) as f:
            lines = f.read().splitlines()
        recs = [json.loads(l) for l in lines]  # every line is complete JSON
        self.assertGreater(len(recs), 5)
        self.assertLess(len(recs), 100)
        # In-flight fetches were allowed to finish within the grace period.
        self.assertTrue(all(r["status"] == 200 for r in recs))
        self.assertEqual(len({r["url"] for r in recs}), len(recs))

    def test_second_signal_aborts_with_complete_records(self):
        out = os.path.join(self.tmp, "o.jsonl")
        p = subprocess.Popen([CRAWL, "-q", "-j", "4", "-o", out] + ["%s/delay/5000?i=%d" % (self.b, i) for i in range(8)],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        p.wait(30)
        self.assertEqual(p.returncode, 130)
        with open(out) as f:
            recs = [json.loads(l) for l in f.read().splitlines()]
        self.assertEqual(len(recs), 4)  # the four in flight, none of the queued
        self.assertTrue(all(r["error"]["kind"] == "interrupted" for r in recs))


if __name__ == "__main__":
    unittest.main(verbosity=2)
