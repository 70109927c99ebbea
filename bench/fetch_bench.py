#!/usr/bin/env python3
"""fetch_bench: crawl against its peers, measured in one run on this machine.

Serves a generated site with nginx on 127.0.0.1 (pinned to CPU 1) and runs,
each pinned to CPU 0:
  wrk (the ceiling), crawl, curl --parallel, wget2, aria2c, Python aiohttp
fetching the same URL list at concurrency 100; then crawl and aiohttp making
10,000 concurrent requests to an endpoint that answers after 1 second (the
project's test server; curl --parallel is left out there: it caps at 300
transfers). crawl, curl and wget2 run --rounds times, interleaved, and the
median counts (this VM is noisy); wrk, aria2c and aiohttp run once.
Reports wall time, requests/s, peak RSS and CPU for each, and ratios.

Usage: bench/fetch_bench.py [--urls N] [--slow N] [--rounds N] [--build DIR] [--skip-peers]
Then the same list over HTTP/2 + TLS from nghttpd (crawl, curl --parallel, and
h2load as the ceiling).
Needs: nginx-light wrk wget2 aria2 python3-aiohttp curl nghttp2-server
nghttp2-client (bench/run.sh installs them).
Traffic goes to 127.0.0.1 only, with bounded request counts.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server on %d did not come up" % port)


def stop_all(procs, tmp):
    """Stop the servers a benchmark started and remove its directory."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def measure(name, argv, stdin=None, env=None):
    """Run argv pinned to CPU 0; return wall, rusage."""
    full = ["taskset", "-c", "0"] + argv
    t0 = time.monotonic()
    p = subprocess.Popen(full, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if stdin:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.returncode = os.waitstatus_to_exitcode(status)
    return {"name": name, "wall": wall, "rss_mib": ru.ru_maxrss / 1024.0,
            "cpu": ru.ru_utime + ru.ru_stime, "rc": p.returncode, "err": err[-400:]}


def median_runs(clients, rounds):
    """Run each (name, argv) `rounds` times, interleaved (A B C A B C ...) so
    that a noisy moment hits every client alike; return one row per client
    with the median wall time (and the largest RSS and median CPU)."""
    runs = {name: [] for name, _ in clients}
    for _ in range(rounds):
        for name, argv in clients:
            runs[name].append(measure(name, argv))
    rows = []
    for name, _ in clients:
        rs = sorted(runs[name], key=lambda r: r["wall"])
        mid = dict(rs[len(rs) // 2])
        mid["rss_mib"] = max(r["rss_mib"] for r in rs)
        mid["rc"] = max(r["rc"] for r in rs)
        mid["walls"] = [r["wall"] for r in runs[name]]
        rows.append(mid)
    return rows


def print_runs(rows):
    """Every run's wall time of the clients median_runs measured."""
    for r in rows:
        if "walls" in r:
            print("  %-22s runs: %s s" % (r["name"], " ".join("%.2f" % x for x in r["walls"])))


def write_list(path, urls):
    """A URL list, one per line (crawl -i, wget2 -i, aria2c -i, aiohttp)."""
    with open(path, "w") as f:
        f.write("\n".join(urls) + "\n")


def write_curl_cfg(path, urls):
    """The same list as a curl -K config, every body to /dev/null."""
    with open(path, "w") as f:
        for u in urls:
            f.write('url = "%s"\noutput = "/dev/null"\n' % u)


def table(title, rows, n, ref_names):
    print("\n" + title)
    print("%-22s %9s %10s %10s %9s %8s  %s" % ("client", "wall s", "req/s", "peak MiB", "CPU s", "rc", "ratios"))
    rates = {r["name"]: n / r["wall"] for r in rows}
    for r in rows:
        rate = n / r["wall"]
        ratios = "  ".join("%.2fx %s" % (rate / rates[x], x) for x in ref_names if x in rates and x != r["name"])
        print("%-22s %9.2f %10.0f %10.1f %9.2f %8d  %s" % (r["name"], r["wall"], rate, r["rss_mib"], r["cpu"], r["rc"], ratios))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", type=int, default=20000)
    ap.add_argument("--slow", type=int, default=10000)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each fast client; the median counts")
    a = ap.parse_args()
    crawl = os.path.abspath(os.path.join(a.build, "crawl"))
    testserver = os.path.abspath(os.path.join(a.build, "tests", "testserver"))
    tmp = tempfile.mkdtemp(prefix="crawl-bench-")
    procs = []
    try:
        site = os.path.join(tmp, "site")
        os.makedirs(os.path.join(site, "p"))
        body = "<html><body>" + ("x" * 900) + "</body></html>\n"
        for i in range(a.urls):
            with open(os.path.join(site, "p", "%d.html" % i), "w") as f:
                f.write(body)
        port = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""user root; worker_processes 1; worker_cpu_affinity 10; daemon off;
pid %(t)s/nginx.pid; error_log %(t)s/error.log; worker_rlimit_nofile 20000;
events { worker_connections 16000; multi_accept on; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 60;
  client_body_temp_path %(t)s; proxy_temp_path %(t)s; fastcgi_temp_path %(t)s;
  uwsgi_temp_path %(t)s; scgi_temp_path %(t)s;
  server { listen 127.0.0.1:%(p)d backlog=16384; root %(s)s; } }
""" % {"t": tmp, "p": port, "s": site})
        procs.append(subprocess.Popen(["nginx", "-c", conf], stderr=subprocess.DEVNULL))
        wait_port(port)
        base = "http://127.0.0.1:%d" % port
        urls = ["%s/p/%d.html" % (base, i) for i in range(a.urls)]
        ulist = os.path.join(tmp, "urls.txt")
        write_list(ulist, urls)
        out = os.path.join(tmp, "out.jsonl")
        dl = os.path.join(tmp, "dl")
        os.makedirs(dl)

        # wrk, the ceiling: a warm-up run, then the one whose report counts
        wrk_rate = 0.0
        for _ in range(2):
            w = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c100", "-d5s", urls[0]], capture_output=True,
                               text=True)
        for line in w.stdout.splitlines():
            if line.startswith("Requests/sec:"):
                wrk_rate = float(line.split()[1])
        clients = [("crawl -j100", [crawl, "-q", "-j", "100", "-i", ulist, "-o", out])]
        if not a.skip_peers:
            cfg = os.path.join(tmp, "curl.cfg")
            write_curl_cfg(cfg, urls)
            clients.append(("curl --parallel 100", ["curl", "-s", "--parallel", "--parallel-max", "100", "-K", cfg]))
            clients.append(("wget2 100 threads", ["wget2", "-q", "--max-threads=100", "--no-robots", "-i", ulist,
                                                  "-O", "/dev/null"]))
        rows = median_runs(clients, a.rounds)
        with open(out) as f:
            recs = sum(1 for _ in f)
        if not a.skip_peers:  # slow peers: once
            rows.append(measure("aria2c -j100", ["aria2c", "-q", "-j", "100", "-i", ulist, "-d", dl,
                                                  "--allow-overwrite=true", "--auto-file-renaming=false",
                                                  "--max-connection-per-server=16", "--file-allocation=none"]))
            rows.append(measure("python aiohttp 100", ["/usr/bin/python3", os.path.join(HERE, "aiohttp_fetch.py"),
                                                        ulist, "100"]))
        n = a.urls
        print("machine: %s, %d CPUs; nginx on CPU 1, clients on CPU 0; median of %d interleaved runs for crawl, "
              "curl and wget2" % (os.uname().release, os.cpu_count(), a.rounds))
        print_runs(rows)
        print("crawl wrote %d records for %d URLs" % (recs, n))
        table("%d URLs, concurrency 100" % n, rows, n, ["crawl -j100", "curl --parallel 100"])
        crawl_rate = n / rows[0]["wall"]
        peers = [n / r["wall"] for r in rows[1:] if r["rc"] == 0]
        print("wrk -t1 -c100 (same URL, ceiling): %.0f req/s" % wrk_rate)
        print("crawl_rps=%.0f" % crawl_rate)
        if peers:
            print("crawl_vs_fastest_peer=%.2f" % (crawl_rate / max(peers)))
        if wrk_rate:
            print("crawl_vs_wrk=%.2f" % (crawl_rate / wrk_rate))

        # HTTP/2 over TLS: nghttpd (CPU 1) serves the same pages; one
        # multiplexed connection, 100 streams at a time
        if shutil.which("nghttpd") and shutil.which("h2load") and shutil.which("openssl"):
            key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                            "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
            hport = free_port()
            procs.append(subprocess.Popen(["taskset", "-c", "1", "nghttpd", "-a", "127.0.0.1", "-d", site, str(hport),
                                           key, crt], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            wait_port(hport)
            hurls = ["https://localhost:%d/p/%d.html" % (hport, i) for i in range(a.urls)]
            hlist = os.path.join(tmp, "h2urls.txt")
            write_list(hlist, hurls)
            hcfg = os.path.join(tmp, "h2curl.cfg")
            write_curl_cfg(hcfg, hurls)
            h = subprocess.run(["taskset", "-c", "0", "h2load", "-n", str(a.urls), "-c", "1", "-m", "100", hurls[0]],
                               capture_output=True, text=True)
            h2load_rate = 0.0
            for line in h.stdout.splitlines():
                if line.startswith("finished in"):
                    h2load_rate = float(line.split(",")[1].split()[0])
            clients = [("crawl -j100 (h2)", [crawl, "-q", "--insecure", "-j", "100", "-i", hlist, "-o", out])]
            if not a.skip_peers:
                clients.append(("curl --parallel (h2)", ["curl", "-sk", "--parallel", "--parallel-max", "100", "-K",
                                                         hcfg]))
            rows = median_runs(clients, a.rounds)
            with open(out) as f:
                h2recs = sum(1 for l in f if '"http_version":"2"' in l)
            print_runs(rows)
            table("%d URLs over HTTP/2 + TLS, one connection, 100 streams" % a.urls, rows, a.urls,
                  ["crawl -j100 (h2)", "curl --parallel (h2)"])
            print("crawl: %d of %d records over HTTP/2" % (h2recs, a.urls))
            print("h2load -c1 -m100 (one URL, ceiling): %.0f req/s" % h2load_rate)
            print("h2_crawl_rps=%.0f" % (a.urls / rows[0]["wall"]))
        else:
            print("\n(HTTP/2 part skipped: needs nghttpd and h2load, Debian's nghttp2-server and nghttp2-client)")

        # 10,000 concurrent requests to a 1-second endpoint
        sp = subprocess.Popen(["taskset", "-c", "1", testserver, "--backlog", "20000"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
        procs.append(sp)
        sport = int(sp.stdout.readline().split()[1])
        slow = ["http://127.0.0.1:%d/delay/1000?i=%d" % (sport, i) for i in range(a.slow)]
        slist = os.path.join(tmp, "slow.txt")
        write_list(slist, slow)
        rows = median_runs([("crawl -j%d" % a.slow, [crawl, "-q", "-j", str(a.slow), "--timeout", "60s",
                                                       "-i", slist, "-o", out])], a.rounds)
        print_runs(rows)
        with open(out) as f:
            ok = sum(1 for l in f if '"status":200' in l)
        if not a.skip_peers:
            rows.append(measure("python aiohttp %d" % a.slow, ["/usr/bin/python3", os.path.join(HERE, "aiohttp_fetch.py"),
                                                                 slist, str(a.slow)]))
        table("%d concurrent requests to a 1-second endpoint" % a.slow, rows, a.slow, ["crawl -j%d" % a.slow])
        print("crawl: %d of %d answered 200" % (ok, a.slow))
        print("slow_wall_s=%.2f" % rows[0]["wall"])
        print("slow_peak_rss_mib=%.1f (largest of the runs)" % rows[0]["rss_mib"])
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    main()
