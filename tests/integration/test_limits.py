#!/usr/bin/env python3
"""The concurrency contract, measured by the servers, never by crawl's counters:
per-host caps reach exactly their value (HTTP/1.1 with Content-Length, chunked,
Connection: close, TLS, HTTP/2, recursive), a slow capped host does not hold a
URL list back, --rate/--host-rate/--delay gaps hold, and a host that backs off
holds no worker. The test server reports, per Host header, the peak number of
requests it answered at once and every request's start time (/hoststats)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, Server, ServerTest, free_port, run  # noqa: E402


class Nghttpx:
    """nghttpx (nghttp2-proxy) terminating TLS (HTTP/2 and HTTP/1.1 by ALPN) in
    front of the test server, one backend connection per request, the client's
    Host passed through: the test server still measures per-host concurrency."""

    def __init__(self, backend_port, tmp):
        exe = shutil.which("nghttpx")
        if not exe or not shutil.which("openssl"):
            if os.environ.get("CI"):
                raise AssertionError("nghttpx and openssl are needed (scripts/deps.sh installs them)")
            raise unittest.SkipTest("nghttpx or openssl not installed")
        key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        self.port = free_port()
        self.log = open(os.path.join(tmp, "nghttpx.log"), "w")
        self.proc = subprocess.Popen([exe, "--conf=/dev/null", "-f127.0.0.1,%d" % self.port,
                                      "-b127.0.0.1,%d" % backend_port, "--workers=1",
                                      "--backend-connections-per-host=1000", "--no-ocsp",
                                      "--errorlog-file=" + os.path.join(tmp, "nghttpx.err"),
                                      key, crt], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise AssertionError("nghttpx did not start")
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class LimitTest(ServerTest):
    def hosts(self):
        return self.srv.get_json("/hoststats")

    def host(self, name):
        return self.hosts().get(name, {"peak": 0, "served": 0, "starts": []})

    def reset(self):
        self.srv.get("/_reset")

    def cap_run(self, urls, cap, hostname, extra=(), j=None):
        """Fetch urls with --max-per-host cap; return (wall seconds, server's view of hostname)."""
        self.reset()
        args = ["-q", "--retries", "0", "-j", str(j or max(cap, len(urls))), "--max-per-host", str(cap)]
        t0 = time.monotonic()
        code, recs, err = run(args + list(extra) + urls, timeout=120)
        wall = time.monotonic() - t0
        self.assertEqual(code, 0, err)
        if "-o" in extra:
            with open(extra[extra.index("-o") + 1]) as f:
                recs = [json.loads(l) for l in f]
        self.assertEqual(len(recs), len(urls))
        self.assertTrue(all(r["status"] == 200 for r in recs), recs)
        return wall, self.host(hostname)

    def assert_waves(self, wall, st, cap, n, each_s):
        waves = -(-n // cap)
        self.assertEqual(st["peak"], cap, "server saw %d at once, cap %d" % (st["peak"], cap))
        self.assertGreaterEqual(wall, waves * each_s - 0.1)
        self.assertLess(wall, waves * each_s + 1.5, "%d waves of %.1f s took %.2f s" % (waves, each_s, wall))

    # ---- per-host caps reach their value ---------------------------------------------------------
    def test_cap_plain_http_content_length(self):
        hp = "127.0.0.1:%d" % self.srv.port
        for cap in (1, 2, 8):
            urls = ["%s/delay/600?c=%d&i=%d" % (self.b, cap, i) for i in range(8)]
            wall, st = self.cap_run(urls, cap, hp, j=8)
            self.assert_waves(wall, st, cap, 8, 0.6)

    def test_cap_with_state(self):
        hp = "127.0.0.1:%d" % self.srv.port
        urls = ["%s/delay/600?s=1&i=%d" % (self.b, i) for i in range(8)]
        out = os.path.join(self.tmp, "o.jsonl")
        wall, st = self.cap_run(urls, 4, hp, extra=["--state", os.path.join(self.tmp, "st"), "-o", out], j=8)
        self.assert_waves(wall, st, 4, 8, 0.6)

    def test_cap_100_one_wave(self):
        hp = "127.0.0.1:%d" % self.srv.port
        urls = ["%s/delay/1000?i=%d" % (self.b, i) for i in range(100)]
        wall, st = self.cap_run(urls, 100, hp)
        self.assert_waves(wall, st, 100, 100, 1.0)

    def test_cap_chunked_replies(self):
        hp = "127.0.0.1:%d" % self.srv.port
        urls = ["%s/drip?n=1&ms=600&i=%d" % (self.b, i) for i in range(8)]
        wall, st = self.cap_run(urls, 4, hp, j=8)
        self.assert_waves(wall, st, 4, 8, 0.6)

    def test_cap_connection_close_server(self):
        hp = "127.0.0.1:%d" % self.srv.port
        urls = ["%s/delay/600?close=1&i=%d" % (self.b, i) for i in range(8)]
        wall, st = self.cap_run(urls, 4, hp, j=8)
        self.assert_waves(wall, st, 4, 8, 0.6)

    def test_cap_over_tls_and_http2(self):
        px = Nghttpx(self.srv.port, self.tmp)
        try:
            hp = "localhost:%d" % px.port
            for proto, flag in (("1.1", "--http1.1"), ("2", "--http2")):
                urls = ["https://%s/delay/600?p=%s&i=%d" % (hp, proto, i) for i in range(8)]
                self.reset()
                t0 = time.monotonic()
                code, recs, err = run(["-q", "--insecure", "--retries", "0", "-j", "8", "--max-per-host", "4", flag]
                                      + urls, timeout=60)
                wall = time.monotonic() - t0
                self.assertEqual(code, 0, err)
                self.assertEqual({r["http_version"] for r in recs}, {proto})
                self.assert_waves(wall, self.host(hp), 4, 8, 0.6)
        finally:
            px.stop()

    def test_cap_recursive(self):
        hp = "127.0.0.1:%d" % self.srv.port
        self.reset()
        t0 = time.monotonic()
        code, recs, err = run(["-q", "-r", "--robots", "off", "-j", "16", "--max-per-host", "4", "--retries", "0",
                               self.b + "/fan?n=8&ms=600"], timeout=60)
        wall = time.monotonic() - t0
        self.assertEqual(code, 0, err)
        self.assertEqual(len(recs), 9)
        st = self.host(hp)
        self.assertEqual(st["peak"], 4)
        self.assertLess(wall, 2 * 0.6 + 1.5)

    # ---- one slow host does not hold a list back ------------------------------------------------
    def test_slow_capped_host_does_not_block_list(self):
        slow = ["http://localhost:%d/delay/1000?i=%d" % (self.srv.port, i) for i in range(40)]
        fast = ["%s/page/f%d" % (self.b, i) for i in range(400)]
        inp = os.path.join(self.tmp, "list.txt")
        with open(inp, "w") as f:
            f.write("\n".join(slow + fast) + "\n")
        self.reset()
        code, recs, err = run(["-q", "-j", "100", "--max-per-host", "4", "-i", inp], timeout=60)
        self.assertEqual(code, 0, err)
        self.assertEqual(len(recs), 440)
        hs = self.hosts()
        slow_st, fast_st = hs["localhost:%d" % self.srv.port], hs["127.0.0.1:%d" % self.srv.port]
        self.assertEqual(slow_st["peak"], 4)
        # 40 slow URLs at 4 at a time take ten seconds; the fast host's 400 are
        # all started within a few seconds of the run's start, not after them.
        t0 = min(slow_st["starts"])
        self.assertLess(max(fast_st["starts"]) - t0, 3000, "fast host held back behind the capped one")
        # the records of the fast host are written before most of the slow ones
        first_slow_done = [i for i, r in enumerate(recs) if "localhost" in r["url"]]
        self.assertGreater(sum(1 for r in recs[:first_slow_done[4]] if "127.0.0.1" in r["url"]), 300)

    # ---- politeness ----------------------------------------------------------------------------
    def gaps(self, starts):
        s = sorted(starts)
        return [b - a for a, b in zip(s, s[1:])]

    def test_host_rate_gaps(self):
        hp = "127.0.0.1:%d" % self.srv.port
        self.reset()
        code, _, err = run(["-q", "-j", "10", "--host-rate", "5/s"] + ["%s/page/r%d" % (self.b, i) for i in range(11)])
        self.assertEqual(code, 0, err)
        st = self.host(hp)
        span = max(st["starts"]) - min(st["starts"])
        # 11 starts at 5 per second take at least 2 s (a burst of one token at most)
        self.assertGreaterEqual(span, 1800)
        self.assertLess(span, 3500)

    def test_rate_overall_across_hosts(self):
        self.reset()
        urls = []
        for i in range(6):
            urls.append("%s/page/a%d" % (self.b, i))
            urls.append("http://localhost:%d/page/b%d" % (self.srv.port, i))
        code, _, err = run(["-q", "-j", "10", "--rate", "4/s"] + urls)
        self.assertEqual(code, 0, err)
        starts = []
        for st in self.hosts().values():
            starts += st["starts"]
        starts = sorted(starts)
        self.assertEqual(len(starts), 12)
        span = max(starts) - min(starts)
        self.assertGreaterEqual(span, 2500)  # 12 starts at 4/s: 2.75 s
        self.assertLess(span, 4500)

    def test_delay_gaps_recursive_and_list(self):
        hp = "127.0.0.1:%d" % self.srv.port
        self.reset()
        code, recs, err = run(["-q", "-r", "--robots", "off", "-j", "8", "--max-per-host", "4", "--delay", "0.3",
                               self.b + "/fan?n=5&ms=10"])
        self.assertEqual(code, 0, err)
        self.assertEqual(len(recs), 6)
        gaps = self.gaps(self.host(hp)["starts"])
        self.assertEqual(len(gaps), 5)
        self.assertGreaterEqual(min(gaps), 290, gaps)
        # a URL list: the same gaps on one host, while another host is not held
        self.reset()
        urls = ["%s/page/d%d" % (self.b, i) for i in range(5)]
        urls += ["http://localhost:%d/page/e%d" % (self.srv.port, i) for i in range(5)]
        code, recs, err = run(["-q", "-j", "8", "--delay", "0.3"] + urls)
        self.assertEqual(code, 0, err)
        hs = self.hosts()
        for name in ("127.0.0.1:%d" % self.srv.port, "localhost:%d" % self.srv.port):
            gaps = self.gaps(hs[name]["starts"])
            self.assertEqual(len(gaps), 4)
            self.assertGreaterEqual(min(gaps), 290, (name, gaps))
        both = sorted(hs["127.0.0.1:%d" % self.srv.port]["starts"] + hs["localhost:%d" % self.srv.port]["starts"])
        self.assertLess(both[-1] - both[0], 1800)  # the two hosts paced side by side, not one after the other

    def test_backing_off_host_holds_no_worker(self):
        # localhost answers 503 + Retry-After: 6 once; 127.0.0.1 has 30 pages of
        # 200 ms. With -j 2, a worker asleep on the retry would leave one for the
        # 30 pages (6 s); both serve them while the other host waits (3 s).
        self.reset()
        urls = ["http://localhost:%d/retry-after/1?key=bo&s=6" % self.srv.port]
        urls += ["%s/delay/200?i=%d" % (self.b, i) for i in range(30)]
        code, recs, err = run(["-q", "-j", "2", "--retries", "1"] + urls, timeout=60)
        self.assertEqual(code, 0, err)
        self.assertEqual(len(recs), 31)
        st = self.host("127.0.0.1:%d" % self.srv.port)
        starts = sorted(st["starts"])
        self.assertEqual(len(starts), 30)
        self.assertLess(max(starts) - min(starts), 4200, "a retry wait held a worker")


if __name__ == "__main__":
    unittest.main(verbosity=2)
