#!/usr/bin/env python3
"""stall_bench: how long crawl's event loop is kept from its work by disk I/O.

nginx (pinned to CPU 1) serves a generated site on 127.0.0.1 (N pages of
about 40 KB, and one 8 MB file every 100 pages, so spilled bodies, -P copies,
WARC compression and SHA-1 all happen). crawl -r crawls it with --state,
--warc-file and -P, with CRAWL_LOOP_PROBE=1: a 1 ms timer on the loop reports
the longest gap between two firings, i.e. the longest time the loop thread
was busy with something other than its transfers. Also reports wall time and
CPU. Usage: bench/stall_bench.py [--pages N] [--rounds R] [--build DIR]
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from crawl_bench import nginx  # noqa: E402
from fetch_bench import free_port, measure, stop_all  # noqa: E402


def gen_site(root, n):
    d = os.path.join(root, "p")
    os.makedirs(d)
    rnd = random.Random(7)
    filler = "".join(chr(97 + rnd.randrange(26)) for _ in range(40000))
    for i in range(n):
        links = [2 * i + 1, 2 * i + 2] + [rnd.randrange(n) for _ in range(4)]
        body = "".join("<a href='/p/%d.html'>%d</a>\n" % (j, j) for j in links if j < n)
        if i % 100 == 0:
            body += "<a href='/big/%d.bin'>big</a>\n" % i
        with open(os.path.join(d, "%d.html" % i), "w") as f:
            f.write("<html><body>%s<p>%s</p></body></html>\n" % (body, filler))
    b = os.path.join(root, "big")
    os.makedirs(b)
    blob = os.urandom(8 << 20)
    for i in range(0, n, 100):
        with open(os.path.join(b, "%d.bin" % i), "wb") as f:
            f.write(blob)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<html><body><a href='/p/0.html'>start</a></body></html>\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--cpus", default="0", help="CPUs crawl may use (taskset list; nginx has CPU 1)")
    a = ap.parse_args()
    crawl = os.path.abspath(os.path.join(a.build, "crawl"))
    tmp = tempfile.mkdtemp(prefix="crawl-stall-")
    procs = []
    try:
        site = os.path.join(tmp, "site")
        gen_site(site, a.pages)
        port = free_port()
        procs.append(nginx(tmp, [(port, site)]))
        start = "http://127.0.0.1:%d/" % port
        env = dict(os.environ, CRAWL_LOOP_PROBE="1")
        print("%d pages of 40 KB + %d files of 8 MB; crawl -r -j 8 --state --warc-file -P" %
              (a.pages, (a.pages + 99) // 100))
        for r in range(a.rounds):
            out = os.path.join(tmp, "run")
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            m = measure("crawl", ["taskset", "-c", a.cpus, crawl, "-q", "-r", "-l", "0", "-j", "8", "--max-per-host", "8",
                                  "--state", os.path.join(out, "state"), "--warc-file", os.path.join(out, "a.warc.gz"),
                                  "-P", os.path.join(out, "pages"), "-o", os.path.join(out, "records.jsonl"), start],
                        env=env)
            g = re.search(r"longest gap between loop turns ([0-9.]+) ms \(([0-9.]+) ms of it on the loop.s CPU\); (\d+) gaps over 10 ms", m["err"])
            print("round %d: wall %.2f s, cpu %.2f s, rc %d, longest loop gap %s ms (%s ms on the loop's CPU), "
                  "gaps over 10 ms %s" % (r + 1, m["wall"], m["cpu"], m["rc"], g.group(1) if g else "?",
                                          g.group(2) if g else "?", g.group(3) if g else "?"))
    finally:
        stop_all(procs, tmp)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
