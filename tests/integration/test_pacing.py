#!/usr/bin/env python3
"""Bandwidth and waits: --limit-rate (per transfer, wget and curl),
--limit-rate-total (aria2's --max-overall-download-limit: the transfers in
flight share it), -w/--wait (another name of --delay) in URL lists and in
-r, --random-wait. Request start times come from the test server's
/hoststats."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


class PacingTest(ServerTest):
    def setUp(self):
        super().setUp()
        self.srv.reset()

    def crawl(self, args):
        t0 = time.monotonic()
        code, recs, err = run(["-q"] + args)
        self.assertEqual(code, 0, err)
        return recs, time.monotonic() - t0

    def assert_paced(self, gaps, wait_ms):
        # measured where the server sees a request start: a connect that takes
        # longer for one request (a loaded machine, a sanitizer build) shortens
        # the gap after it, so each gap gets slack and their mean less
        self.assertTrue(gaps and all(g >= 0.6 * wait_ms for g in gaps), gaps)
        self.assertGreaterEqual(sum(gaps) / len(gaps), 0.85 * wait_ms, gaps)

    def gaps(self):
        starts = sorted(self.srv.get_json("/hoststats")["127.0.0.1:%d" % self.srv.port]["starts"])
        return [b - a for a, b in zip(starts, starts[1:])]

    def test_limit_rate_per_transfer(self):
        recs, _ = self.crawl(["--limit-rate", "100k", self.b + "/big?size=150000"])
        self.assertEqual(recs[0]["bytes"], 150000)
        self.assertGreater(recs[0]["elapsed_ms"], 1000)  # 150000 B at 102400 B/s, 16 KiB at once: 1.3 s

    def test_limit_rate_total_is_shared(self):
        urls = [self.b + "/big?size=60000&n=%d" % i for i in range(3)]
        _, fast = self.crawl(["-j", "3"] + urls)
        for opt in ("--limit-rate-total", "--max-overall-download-limit"):
            recs, took = self.crawl(["-j", "3", opt, "120k"] + urls)
            self.assertEqual(sum(r["bytes"] for r in recs), 180000)
            self.assertGreater(took, 1.0, opt)  # 180000 B at 122880 B/s, 16 KiB at once: 1.3 s in all
        self.assertLess(fast, 1.0)

    def test_wait_in_a_url_list(self):
        urls = [self.b + "/page/w%d" % i for i in range(4)]
        for opt in ("-w", "--wait"):
            self.srv.reset()
            self.crawl([opt, "300ms"] + urls)
            gaps = self.gaps()
            self.assertEqual(len(gaps), 3)
            self.assert_paced(gaps, 300)

    def test_random_wait(self):
        urls = [self.b + "/page/r%d" % i for i in range(6)]
        self.crawl(["-w", "400ms", "--random-wait"] + urls)
        gaps = self.gaps()
        self.assertEqual(len(gaps), 5)
        self.assertTrue(all(180 <= g <= 700 for g in gaps), gaps)  # [200, 600) ms, with slack
        self.assertGreater(max(gaps) - min(gaps), 10, gaps)  # they vary

    def test_wait_in_a_recursive_crawl(self):
        recs, _ = self.crawl(["-r", "-l", "1", "--robots", "off", "-w", "250ms", self.b + "/site/a.html"])
        self.assertGreaterEqual(len(recs), 3)
        self.assert_paced(self.gaps(), 250)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
