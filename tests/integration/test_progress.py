#!/usr/bin/env python3
"""Integration tests: long URL lists, progress and the summary. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_progress."""
import os
import pty
import re
import resource
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, run  # noqa: E402


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
        self.assertIn("8/8 100.0%", err)  # positional URLs: the total is known
        self.assertIn("in flight", err)
        self.assertRegex(err, r"crawl: 8 records in [0-9.]+s \([0-9]+/s; [0-9.]+ [kM]?B, [0-9.]+ [kM]?B/s\): "
                              r"8 fetched \(2xx 8\); latency p50 [0-9.]+ms p95 [0-9.]+ms p99")
        code, _, err = run(["-q", self.b + "/status/200"])
        self.assertEqual(err, "")

    def test_progress_line_on_a_terminal(self):
        # a server answering at a steady rate: 2 fetches in flight, 150 ms each
        inp = os.path.join(self.tmp, "urls.txt")
        with open(inp, "w") as f:
            f.write("# a comment and a blank line are not URLs\n\n")
            for i in range(40):
                f.write("%s/delay/150?i=%d\n" % (self.b, i))
        master, slave = pty.openpty()
        t0 = time.monotonic()
        p = subprocess.Popen([CRAWL, "-j", "2", "-i", inp, "-o", os.devnull], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append((time.monotonic() - t0, data.decode(errors="replace")))
        p.wait(60)
        os.close(master)
        self.assertEqual(p.returncode, 0)
        text = "".join(c for _, c in chunks)
        lines = [l.replace("\x1b[K", "").strip() for l in re.split(r"[\r\n]", text)]
        bars = [l for l in lines if " req/s " in l]
        self.assertGreater(len(bars), 4, text)
        m = re.search(r"crawl: 40 records in ([0-9.]+)s", text)
        self.assertTrue(m, text)
        true_rate = 40 / float(m.group(1))
        for l in bars:
            b = re.match(r"(\d+)/40 ([0-9.]+)% \| ([0-9.]+) req/s \| .* \| (\d+):(\d+)( \| ETA \d+:\d+)?$", l)
            self.assertTrue(b, "a progress line with done/total and percent: %r" % l)
            done, elapsed = int(b.group(1)), int(b.group(4)) * 60 + int(b.group(5))
            self.assertAlmostEqual(float(b.group(2)), 100.0 * done / 40, delta=0.1)
            if elapsed >= 1:  # after the first second the rate is an average, within 30% of the truth
                self.assertLess(abs(float(b.group(3)) - true_rate), 0.3 * true_rate, (l, true_rate))
            if 0 < done < 40:
                self.assertTrue(b.group(6), "an ETA while the total is known: %r" % l)
        self.assertTrue(bars[-1].startswith("40/40 100.0%"), bars[-1])  # the final line stays


if __name__ == "__main__":
    unittest.main(verbosity=2)
