#!/usr/bin/env python3
"""Integration tests: long URL lists, progress and the summary. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_progress."""
import os
import resource
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


class ProgressTest(ServerTest):
    # ---- long lists, progress, summary ---------------------------------------------------------
    def test_long_list_memory_flat(self):
        inp = os.path.join(self.tmp, "long.txt")
        with open(inp, "w") as f:
            for i in range(100000):
                f.write("%s/status/204?i=%d\n" % (self.b, i))
        out = os.path.join(self.tmp, "long.jsonl")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        code, _, _ = run(["-q", "-j", "50", "-i", inp, "-o", out], timeout=300)
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.assertEqual(code, 0)
        with open(out) as f:
            self.assertEqual(sum(1 for _ in f), 100000)
        # the input is 5 MB and the output 40 MB; the fetcher stays small
        if not os.environ.get("CRAWL_SANITIZED"):
            self.assertLess(max(before, after), 64 * 1024, "peak RSS %d KiB" % max(before, after))

    def test_progress_and_summary(self):
        code, _, err = run(["--progress=bar", "-j", "4"] + ["%s/delay/300?i=%d" % (self.b, i) for i in range(8)])
        self.assertEqual(code, 0)
        self.assertIn("done", err)
        self.assertIn("in flight", err)
        self.assertRegex(err, r"crawl: 8 fetched in [0-9.]+s .* 2xx=8.*p50 [0-9.]+ms p95 [0-9.]+ms p99")
        code, _, err = run(["-q", self.b + "/status/200"])
        self.assertEqual(err, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
