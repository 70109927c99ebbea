#!/usr/bin/env python3
"""Integration tests: the durable state database: kill, resume and guards. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_state."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, Server, ServerTest, run, wait_signals_ready  # noqa: E402


class StateTest(ServerTest):
    # ---- durable state: kill and resume ------------------------------------------------------------
    def kill_resume_loop(self, args, out, sig, rounds, seed):
        """Stop the crawl with sig at `rounds` random moments, resuming each
        time, then let it run to completion. Returns the final records."""
        import random
        rnd = random.Random(seed)
        state = os.path.join(self.tmp, "state-%d" % sig)
        interruptions = 0
        for attempt in range(rounds + 1):
            cmd = [CRAWL, "-q", "--state", state, "--checkpoint-interval", "20ms", "-o", out] + \
                (["--resume"] if attempt else []) + args
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if attempt < rounds:
                # after start-up (a signal during exec is the default action)
                wait_signals_ready(p)
                time.sleep(rnd.uniform(0.05, 0.2))
                p.send_signal(sig)
            p.wait(120)
            err = p.stderr.read()
            p.stderr.close()
            if attempt < rounds:
                self.assertIn(p.returncode, (-signal.SIGKILL, 130, 0, 1), err)
                interruptions += p.returncode in (-signal.SIGKILL, 130)
                if os.environ.get("CRAWL_TEST_DEBUG"):
                    print("attempt", attempt, sig, p.returncode, err[:200])
        self.assertIn(p.returncode, (0, 1), err)  # 1: the list holds an invalid line
        self.assertEqual(interruptions, rounds, "the crawl ended before it could be interrupted")
        with open(out) as f:
            return [json.loads(l) for l in f.read().splitlines()]

    def test_state_resume_url_list_after_sigkill(self):
        srv = Server()
        try:
            inp = os.path.join(self.tmp, "urls.txt")
            urls = ["%s/delay/50?i=%d" % (srv.base, i) for i in range(800)]
            with open(inp, "w") as f:
                f.write("\n".join(urls + ["not a url"]) + "\n")
            out = os.path.join(self.tmp, "out.jsonl")
            recs = self.kill_resume_loop(["-j", "10", "-i", inp], out, signal.SIGKILL, 20, seed=7)
            got = [r["url"] for r in recs]
            self.assertEqual(sorted(got), sorted(urls + ["not a url"]))  # every URL exactly once
            self.assertTrue(all(r["status"] == 200 for r in recs if r["url"] != "not a url"))
        finally:
            srv.stop()

    def test_state_resume_recursive_after_sigkill_and_sigterm(self):
        srv = Server()
        try:
            base = srv.base + "/site/"
            args = ["-r", "-l", "0", "--max-pages", "180", "--delay", "30ms", base]  # about 5 s of work
            ref = os.path.join(self.tmp, "ref.jsonl")
            code, _, _ = run(["-q", "-o", ref] + args)
            self.assertEqual(code, 0)
            want = sorted(json.loads(l)["url"] for l in open(ref))
            self.assertEqual(len(want), len(set(want)))
            for sig, seed in ((signal.SIGKILL, 11), (signal.SIGTERM, 12)):
                out = os.path.join(self.tmp, "out-%d.jsonl" % sig)
                recs = self.kill_resume_loop(args, out, sig, 20, seed)
                got = sorted(r["url"] for r in recs)
                self.assertEqual(got, want, "signal %d" % sig)  # every URL exactly once
            # a finished crawl resumed again asks the server for nothing, robots.txt included
            subprocess.run([CRAWL, "-q", srv.base + "/_reset"], capture_output=True)
            out = os.path.join(self.tmp, "out-%d.jsonl" % signal.SIGKILL)
            code, _, _ = run(["-q", "--state", os.path.join(self.tmp, "state-%d" % signal.SIGKILL), "--resume",
                              "-o", out] + args)
            self.assertEqual(code, 0)
            self.assertEqual(self.served(srv), [])
        finally:
            srv.stop()

    def test_full_disk_is_reported(self):
        code, _, err = run(["-q", "-o", "/dev/full"] + [self.b + "/page/f%d" % i for i in range(50)])
        self.assertEqual(code, 3)
        self.assertIn("No space left on device", err)

    def test_state_guards(self):
        st = os.path.join(self.tmp, "st")
        out = os.path.join(self.tmp, "o.jsonl")
        self.assertEqual(run(["-q", "--state", st, self.b + "/page/a"])[0], 2)  # needs -o FILE
        self.assertEqual(run(["-q", "--state", st, "-o", out, self.b + "/page/a"])[0], 0)
        code, _, err = run(["-q", "--state", st, "-o", out, self.b + "/page/a"])
        self.assertEqual(code, 2)  # an existing state is not overwritten by accident
        self.assertIn("--resume", err)
        code, recs, _ = run(["-q", "--state", st, "--resume", "-o", out, self.b + "/page/a"])
        self.assertEqual(code, 0)
        self.assertEqual(len(open(out).read().splitlines()), 1)  # nothing fetched twice
        # one crawl per state directory at a time
        st2 = os.path.join(self.tmp, "st2")
        p = subprocess.Popen([CRAWL, "-q", "--state", st2, "-o", out + "2", self.b + "/delay/3000"],
                             stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        code, _, err = run(["-q", "--state", st2, "--resume", "-o", out + "2", self.b + "/delay/3000"])
        p.kill()
        p.wait()
        self.assertEqual(code, 2)
        self.assertIn("in use by another crawl", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
