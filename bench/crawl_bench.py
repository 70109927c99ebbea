#!/usr/bin/env python3
"""crawl_bench: recursive crawls, crawl -r against wget2 -r and Scrapy, in one run.

nginx (pinned to CPU 1) serves (a) a generated 20,000-page site and (b) the
Python 3.11 HTML documentation from Debian's python3.11-doc package on
127.0.0.1; each client, pinned to CPU 0, crawls from the start page with
unlimited depth, 8 connections, saving pages under a temporary directory.
Reports wall time, pages/s, peak RSS, CPU, and whether crawl found every page
wget2 found. Usage: bench/crawl_bench.py [--pages N] [--build DIR]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fetch_bench import free_port, measure, stop_all, wait_port  # noqa: E402


def gen_site(root, n):
    os.makedirs(root)
    rnd = random.Random(42)
    for i in range(n):
        links = [2 * i + 1, 2 * i + 2] + [rnd.randrange(n) for _ in range(8)]
        body = "".join("<li><a href='/p/%d.html'>page %d</a></li>" % (j, j) for j in links if j < n)
        d = os.path.join(root, "p")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%d.html" % i), "w") as f:
            f.write("<!DOCTYPE html><html><head><title>page %d</title></head><body><ul>%s</ul>%s</body></html>\n"
                    % (i, body, "x" * 2000))
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<html><body><a href='/p/0.html'>start</a></body></html>\n")


def nginx(tmp, sites):
    conf = os.path.join(tmp, "nginx.conf")
    servers = "".join("server { listen 127.0.0.1:%d backlog=4096; root %s; }\n" % (p, r) for p, r in sites)
    with open(conf, "w") as f:
        f.write("""user root; worker_processes 1; worker_cpu_affinity 10; daemon off;
pid %(t)s/nginx.pid; error_log %(t)s/error.log; worker_rlimit_nofile 20000;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; types { text/html html; text/css css; }
  client_body_temp_path %(t)s; proxy_temp_path %(t)s; fastcgi_temp_path %(t)s;
  uwsgi_temp_path %(t)s; scgi_temp_path %(t)s;
  %(s)s }
""" % {"t": tmp, "s": servers})
    p = subprocess.Popen(["nginx", "-c", conf], stderr=subprocess.DEVNULL)
    for port, _ in sites:
        wait_port(port)
    return p


def files_under(d):
    out = set()
    for dp, _, fs in os.walk(d):
        for f in fs:
            out.add(os.path.relpath(os.path.join(dp, f), d))
    return out


def crawl_paths(records):
    import json
    out = set()
    for line in open(records):
        r = json.loads(line)
        if r.get("status") == 200 and not r.get("sitemap"):
            path = r["final_url"].split("/", 3)[3] if r["final_url"].count("/") >= 3 else ""
            path = path.split("?")[0]
            if path == "" or path.endswith("/"):
                path += "index.html"
            out.add(path)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--skip-scrapy", action="store_true", help="leave Scrapy out (it takes minutes)")
    a = ap.parse_args()
    crawl = os.path.abspath(os.path.join(a.build, "crawl"))
    tmp = tempfile.mkdtemp(prefix="crawl-rbench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    procs = []
    try:
        site = os.path.join(tmp, "site")
        gen_site(site, a.pages)
        docs = "/usr/share/doc/python3.11/html"
        p1, p2 = free_port(), free_port()
        sites = [(p1, site)] + ([(p2, docs)] if os.path.isdir(docs) else [])
        procs.append(nginx(tmp, sites))
        print("machine: %s, %d CPUs; nginx on CPU 1, clients on CPU 0" % (os.uname().release, os.cpu_count()))
        for port, root in sites:
            name = "generated %d-page site" % a.pages if root == site else "Python 3.11 docs"
            start = "http://127.0.0.1:%d/%s" % (port, "index.html" if root == site else "index.html")
            wdir, cdir = os.path.join(tmp, "w%d" % port), os.path.join(tmp, "c%d" % port)
            rec = os.path.join(tmp, "c%d.jsonl" % port)
            w = measure("wget2 -r", ["wget2", "-q", "-r", "-l", "inf", "--max-threads=8", "-nH", "-P", wdir, start])
            c = measure("crawl -r", [crawl, "-q", "-r", "-l", "0", "-j", "8", "--max-per-host", "8", "-P", cdir,
                                     "-o", rec, start])
            slist = os.path.join(tmp, "s%d.txt" % port)
            sc = None
            if not a.skip_scrapy:
                sc = measure("scrapy", ["/usr/bin/python3", os.path.join(HERE, "scrapy_crawl.py"), start, slist, "8"])
            sp = set()
            if os.path.exists(slist):
                for line in open(slist):
                    path = line.strip().split("/", 3)[3] if line.count("/") >= 3 else ""
                    sp.add(path.split("?")[0] or "index.html")
            wp = files_under(wdir)
            cp = crawl_paths(rec)
            # pages = HTML documents (wget2 -r also fetches images; crawl does with --page-requisites)
            missing = sorted(p for p in wp - cp if p.endswith(".html"))
            print("\n%s: wget2 saved %d files (%d HTML), crawl fetched %d"
                  % (name, len(wp), sum(1 for p in wp if p.endswith(".html")), len(cp)))
            print("%-10s %8s %9s %9s %7s %5s" % ("client", "wall s", "pages/s", "peak MiB", "CPU s", "rc"))
            for r, n in ((w, len(wp)), (sc, len(sp)), (c, len(cp))):
                if r is None:
                    continue
                print("%-10s %8.2f %9.0f %9.1f %7.2f %5d" % (r["name"], r["wall"], n / r["wall"], r["rss_mib"], r["cpu"],
                                                            r["rc"]))
            if sc:
                print("crawl vs scrapy speed: %.2fx" % (sc["wall"] / c["wall"]))
            print("crawl vs wget2 speed: %.2fx; HTML pages wget2 found that crawl missed: %d %s"
                  % (w["wall"] / c["wall"], len(missing), missing[:5]))
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    main()
