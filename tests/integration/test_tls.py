#!/usr/bin/env python3
"""Integration tests: TLS verification and HTTP/2 over TLS. The real crawl binary against the
project's test server on 127.0.0.1 (harness.py); run by ctest as integration_tls."""
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
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

    def tls_server(self, *args):
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        here = os.path.dirname(os.path.abspath(__file__))
        p = subprocess.Popen([sys.executable, os.path.join(here, "tls_server.py")] + list(args),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (p.stdin.close(), p.wait(10)))
        info = {"PORT": p.stdout.readline().split()[1], "CERT": p.stdout.readline().split()[1]}
        if args:
            info["CLIENT"] = p.stdout.readline().split()[1:]
        return info

    def test_cacert_and_capath(self):
        s = self.tls_server()
        url = "https://localhost:%s/x" % s["PORT"]
        for args in (["--cacert", s["CERT"]], ["--ca-certificate", s["CERT"]]):
            code, recs, err = run(["-q"] + args + [url])
            self.assertEqual((code, recs[0]["status"]), (0, 200), (args, err))
        capath = os.path.join(self.tmp, "ca")
        os.mkdir(capath)
        h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", s["CERT"]], capture_output=True,
                           text=True, check=True).stdout.strip()
        shutil.copy(s["CERT"], os.path.join(capath, h + ".0"))
        code, recs, err = run(["-q", "--capath", capath, url])
        self.assertEqual((code, recs[0]["status"]), (0, 200), err)
        code, _, err = run(["-q", "--cacert", os.path.join(self.tmp, "missing.pem"), url])
        self.assertEqual(code, 2)
        self.assertIn("--cacert", err)

    def test_client_certificate(self):
        s = self.tls_server("--client-auth")
        url = "https://localhost:%s/x" % s["PORT"]
        crt, key = s["CLIENT"]
        code, recs, _ = run(["-q", "--retries", "0", "--cacert", s["CERT"], url])
        self.assertNotEqual(code, 0)
        self.assertIsNone(recs[0]["status"])
        for args in (["--cert", crt, "--key", key], ["--certificate", crt, "--private-key", key]):
            code, recs, err = run(["-q", "--cacert", s["CERT"]] + args + [url])
            self.assertEqual((code, recs[0]["status"]), (0, 200), (args, err))

    def test_address_family(self):
        # the same port on ::1 (a second server) and 127.0.0.1 (the test server)
        class V6(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"v6\n")

            def log_message(self, *a):
                pass

        try:
            v6 = V6(("::1", self.srv.port), H)
        except OSError as e:
            self.skipTest("no IPv6 loopback: %s" % e)
        threading.Thread(target=v6.serve_forever, daemon=True).start()
        self.addCleanup(v6.shutdown)
        res = ["--resolve", "dual.test:%d:127.0.0.1" % self.srv.port, "--resolve", "dual.test:%d:::1" % self.srv.port]
        url = "http://dual.test:%d/page/x" % self.srv.port
        for flag, ip in (("-4", "127.0.0.1"), ("--inet4-only", "127.0.0.1"), ("-6", "::1"), ("--ipv6", "::1")):
            code, recs, err = run(["-q", flag] + res + [url])
            self.assertEqual((code, recs[0]["remote_ip"]), (0, ip), (flag, err))
        code, recs, _ = run(["-q", "-6", "--retries", "0", "http://127.0.0.1:%d/page/x" % self.srv.port])
        self.assertEqual(recs[0]["error"]["kind"], "dns")
        self.assertIn("no IPv6 address", recs[0]["error"]["message"])
        code, _, err = run(["-4", "-6", url])
        self.assertEqual(code, 2)

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
