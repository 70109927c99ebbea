#!/usr/bin/env python3
"""A small forward proxy for the proxy tests: absolute-form requests
(GET http://127.0.0.1:P/x) are forwarded, CONNECT is tunnelled; only to
127.0.0.1 and localhost. With --auth USER:PASS it wants Proxy-Authorization
(407 otherwise). Every request line (and its Proxy-Authorization) is appended
to the --log file as one JSON object per line. Prints "PORT <n>" and serves
until stdin closes or SIGTERM."""
import argparse
import base64
import http.client
import http.server
import json
import select
import socket
import sys
import threading
import urllib.parse

ALLOWED = ("127.0.0.1", "localhost")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self):
        with self.server.lock, open(self.server.log, "a") as f:
            f.write(json.dumps({"method": self.command, "target": self.path,
                                "proxy_authorization": self.headers.get("Proxy-Authorization")}) + "\n")

    def authorized(self):
        if not self.server.auth:
            return True
        want = "Basic " + base64.b64encode(self.server.auth.encode()).decode()
        if self.headers.get("Proxy-Authorization") == want:
            return True
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def forward(self):
        self.note()
        if not self.authorized():
            return
        u = urllib.parse.urlsplit(self.path)
        if u.scheme != "http" or u.hostname not in ALLOWED:
            self.send_error(403)
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "proxy-connection")}
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
        c.request(self.command, (u.path or "/") + ("?" + u.query if u.query else ""), body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_POST = do_HEAD = do_PUT = forward

    def do_CONNECT(self):
        self.note()
        if not self.authorized():
            return
        host, _, port = self.path.rpartition(":")
        if host not in ALLOWED:
            self.send_error(403)
            return
        up = socket.create_connection((host, int(port)), timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        a = self.connection
        try:
            while True:
                r, _, _ = select.select([a, up], [], [], 10)
                if not r:
                    break
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        return
                    (up if s is a else a).sendall(d)
        finally:
            up.close()
            self.close_connection = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--auth")
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.log, srv.auth, srv.lock = a.log, a.auth, threading.Lock()
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin


if __name__ == "__main__":
    main()
