#!/usr/bin/env python3
"""--state resume keeps the output append-only: after a SIGKILL, every
complete line already in the file stays where it was (a `tail -f` reader has
consumed it), the resumed run does not write those URLs again, and in the end
every URL is in the file exactly once."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest  # noqa: E402


def complete_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    return data[:data.rfind(b"\n") + 1]


class ResumeAppendTest(ServerTest):
    def run_rounds(self, args, out, state, rounds, first_wait):
        seen_prefixes = []
        for rnd in range(rounds):
            cmd = [CRAWL, "-q", "--state", state, "-o", out] + (["--resume"] if rnd else []) + args
            p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
            time.sleep(first_wait)
            if p.poll() is not None:
                break
            p.send_signal(signal.SIGKILL)
            p.wait(10)
            before = complete_lines(out)
            seen_prefixes.append(before)
            # what a reader saw is never taken back: the next run starts after it
        p = subprocess.run([CRAWL, "-q", "--state", state, "--resume", "-o", out] + args, capture_output=True,
                           text=True, timeout=120)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        final = complete_lines(out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), final, "the file ends with a complete line")
        for i, pre in enumerate(seen_prefixes):
            self.assertTrue(final.startswith(pre), "round %d: %d bytes a reader saw were rewritten" % (i, len(pre)))
        return [json.loads(l) for l in final.decode().splitlines()], seen_prefixes

    def test_list_resume_keeps_written_lines(self):
        inp = os.path.join(self.tmp, "urls.txt")
        urls = ["%s/delay/40?i=%d" % (self.b, i) for i in range(500)]
        with open(inp, "w") as f:
            f.write("\n".join(urls) + "\n")
        out, state = os.path.join(self.tmp, "o.jsonl"), os.path.join(self.tmp, "st")
        # commits only every 5 s: the kills land between checkpoints, with records past the last one
        recs, prefixes = self.run_rounds(["-j", "10", "--checkpoint-interval", "5s", "-i", inp], out, state, 3, 0.8)
        self.assertTrue(any(prefixes), "no round was killed with records in the file")
        self.assertEqual(sorted(r["url"] for r in recs), sorted(urls))  # each exactly once

    def test_recursive_resume_keeps_written_lines(self):
        args = ["-r", "-l", "0", "--max-pages", "120", "--delay", "20ms", self.b + "/site/"]
        ref = os.path.join(self.tmp, "ref.jsonl")
        subprocess.run([CRAWL, "-q", "-o", ref] + args, check=False, timeout=120)
        args = ["--checkpoint-interval", "5s"] + args  # with --state only
        with open(ref) as f:
            want = sorted(json.loads(l)["url"] for l in f)
        out, state = os.path.join(self.tmp, "o.jsonl"), os.path.join(self.tmp, "st")
        recs, prefixes = self.run_rounds(args, out, state, 3, 0.7)
        self.assertTrue(any(prefixes))
        self.assertEqual(sorted(r["url"] for r in recs), want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
