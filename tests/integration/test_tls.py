#!/usr/bin/env python3
"""Integration tests: TLS verification and HTTP/2 over TLS. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_tls."""
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest, run  # noqa: E402


class TlsTest(ServerTest):
    # ---- TLS ------------------------------------------------------------------------------------
    def test_tls_verification(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        here = os.path.dirname(os.path.abspath(__file__))
        p = subprocess.Popen([sys.executable, os.path.join(here, "tls_server.py")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            port = int(p.stdout.readline().split()[1])
            url = "https://localhost:%d/x" % port
            code, recs, _ = run(["-q", "--retries", "0", url])
            self.assertEqual(code, 5)
            self.assertEqual(recs[0]["error"]["kind"], "tls")
            code, recs, _ = run(["-q", "--insecure", url])
            self.assertEqual(code, 0)
            self.assertEqual(recs[0]["status"], 200)
            self.assertEqual(recs[0]["bytes"], 7)
            self.assertGreaterEqual(recs[0]["timings"]["tls_ms"], 0)
        finally:
            p.stdin.close()
            p.wait(10)

    def test_http2_multiplexed_over_tls(self):
        # nghttpd (nghttp2's HTTP/2 server, TLS with a self-signed certificate)
        # bound to 127.0.0.1; its verbose log names the session of every request
        nghttpd = shutil.which("nghttpd")
        if not nghttpd or not shutil.which("openssl"):
            if os.environ.get("CI"):
                self.fail("nghttpd and openssl are needed (scripts/deps.sh installs them)")
            self.skipTest("nghttpd or openssl not installed")
        d = os.path.join(self.tmp, "h2")
        os.makedirs(os.path.join(d, "www"))
        key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        for i in range(20):
            with open(os.path.join(d, "www", "f%d.html" % i), "w") as f:
                f.write("<html><body>file %d</body></html>\n" % i)
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        log = open(os.path.join(d, "nghttpd.log"), "w")
        srv = subprocess.Popen([nghttpd, "-v", "-a", "127.0.0.1", "-d", os.path.join(d, "www"), str(port), key, crt],
                               stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    self.assertLess(time.time(), deadline, "nghttpd did not start")
                    time.sleep(0.05)
            urls = ["https://localhost:%d/f%d.html" % (port, i) for i in range(20)]
            code, recs, err = run(["-q", "--insecure", "-j", "20"] + urls)
            self.assertEqual(code, 0, err)
            self.assertEqual(len(recs), 20)
            for r in recs:
                n = int(re.search(r"f(\d+)\.html", r["url"]).group(1))
                body = "<html><body>file %d</body></html>\n" % n
                self.assertEqual((r["status"], r["http_version"], r["bytes"]), (200, "2", len(body)), r)
        finally:
            srv.terminate()
            srv.wait(10)
            log.close()
        sessions = {}
        with open(os.path.join(d, "nghttpd.log")) as f:
            for line in f:
                m = re.match(r"\[id=(\d+)\].*recv \(stream_id=\d+\) :path: (/f\d+\.html)", line)
                if m:
                    sessions.setdefault(m.group(1), []).append(m.group(2))
        # the twenty requests (the connection probe above made no request)
        self.assertEqual(sum(len(v) for v in sessions.values()), 20, sessions)
        # all of them multiplexed over one connection
        self.assertEqual(len(sessions), 1, sessions)


if __name__ == "__main__":
    unittest.main(verbosity=2)
