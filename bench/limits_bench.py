#!/usr/bin/env python3
"""limits_bench: does each concurrency limit achieve what it says?

Runs crawl against the project's test server on 127.0.0.1, which records per
Host header the peak number of requests it answered at once and each start
time (/hoststats). For each case it prints the achieved peak over the
requested cap and the wall time over the ideal (waves x reply time); 1.00 is
exact. Cases: --max-per-host 1, 2, 8, 100, 1000 on slow replies; a slow
capped host ahead of a fast one in one list (how soon the fast host is done,
against the same fast URLs alone); and, with --big, 10,000 one-second
requests with and without --max-per-host 10000 (wall time and peak RSS).

Usage: bench/limits_bench.py [--build DIR] [--big]
Traffic goes to 127.0.0.1 only, with bounded request counts.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class Server:
    def __init__(self, exe):
        self.p = subprocess.Popen([exe, "--backlog", "16384"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        self.port = int(self.p.stdout.readline().split()[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            return r.read()

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


def run_crawl(crawl, args, stdin=None):
    wrapper = ("import resource,subprocess,sys,time\n"
               "t=time.monotonic();r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL)\n"
               "print(time.monotonic()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n")
    out = subprocess.run([sys.executable, "-c", wrapper, crawl] + args, input=stdin, capture_output=True,
                         text=True, timeout=600).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--big", action="store_true", help="also the 10,000 x 1 s case")
    a = ap.parse_args()
    crawl = os.path.join(a.build, "crawl")
    srv = Server(os.path.join(a.build, "tests", "testserver"))
    hp = "127.0.0.1:%d" % srv.port
    tmp = tempfile.mkdtemp(prefix="limits-bench-")
    try:
        print("%-34s %8s %8s %8s %8s" % ("case", "peak", "of cap", "wall s", "/ideal"))
        for cap, n, ms in ((1, 8, 300), (2, 8, 500), (8, 32, 500), (100, 400, 1000), (1000, 2000, 1000)):
            srv.get("/_reset")
            urls = "".join("%s/delay/%d?c=%d&i=%d\n" % (srv.base, ms, cap, i) for i in range(n))
            wall, _, _ = run_crawl(crawl, ["-q", "-j", str(max(cap, 100)), "--max-per-host", str(cap), "-i", "-"],
                                   stdin=urls)
            st = json.loads(srv.get("/hoststats"))[hp]
            ideal = -(-n // cap) * ms / 1000
            print("%-34s %8d %8.2f %8.2f %8.2f" % ("--max-per-host %d, %d x %d ms" % (cap, n, ms), st["peak"],
                                                   st["peak"] / cap, wall, wall / ideal))
        # head of line: 40 slow URLs of a capped host, then 2,000 fast ones of another
        slow = ["http://localhost:%d/delay/1000?i=%d" % (srv.port, i) for i in range(40)]
        fast = ["%s/page/f%d" % (srv.base, i) for i in range(2000)]
        srv.get("/_reset")
        alone, _, _ = run_crawl(crawl, ["-q", "-j", "100", "-i", "-"], stdin="\n".join(fast) + "\n")
        srv.get("/_reset")
        wall, _, _ = run_crawl(crawl, ["-q", "-j", "100", "--max-per-host", "4", "-i", "-"],
                               stdin="\n".join(slow + fast) + "\n")
        hs = json.loads(srv.get("/hoststats"))
        t0 = min(hs["localhost:%d" % srv.port]["starts"])
        fast_done = (max(hs[hp]["starts"]) - t0) / 1000
        print("%-34s fast host done after %.2f s (alone: %.2f s); whole list %.2f s (ideal 10.0 s)"
              % ("slow capped host ahead of a fast", fast_done, alone, wall))
        if a.big:
            urls = "".join("%s/delay/1000?i=%d\n" % (srv.base, i) for i in range(10000))
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 10,000 sockets each side
            for extra in ([], ["--max-per-host", "10000"]):
                walls, rss = [], 0
                for _ in range(3):
                    w, r, code = run_crawl(crawl, ["-q", "-j", "10000", "--timeout", "60s"] + extra + ["-i", "-"],
                                           stdin=urls)
                    walls.append(w)
                    rss = max(rss, r)
                walls.sort()
                print("%-34s median %.2f s (runs %s), peak RSS %d MiB" % (
                    "10,000 x 1 s" + (" --max-per-host 10000" if extra else ""), walls[1],
                    ", ".join("%.2f" % w for w in walls), rss // 1024))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
