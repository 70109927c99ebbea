#!/usr/bin/env python3
"""A hostile HTTP/1.1 server for the hostile-input tests, bound to 127.0.0.1 on
an ephemeral port. Prints "PORT <n>"; serves until stdin closes or SIGTERM.
Each connection gets a thread; what it answers depends on the path:

  /endless[?ct=TYPE]          200, chunked, never ends (a byte stream as fast as it is read)
  /endless-close[?ct=TYPE]    200, no Content-Length, Connection: close, never ends
  /bomb/ENC?mb=N              a body of N MiB of zeros (default 1024) sent compressed
                              with ENC (gzip, deflate, br, zstd when python has it)
  /hugeheader?kb=N            a response header line of N KiB
  /manyheaders?n=N            N response header lines
  /hugelocation?kb=N          302 with a Location of N KiB
  /longredirect?len=N&to=P    302 to /P?pad=<N bytes>, which answers 200 "same" (for WARC dedup)
  /same                       200 "same payload" (identical bytes for every URL)
  /robots.txt                 an endless robots.txt (with ?mode=big: 100 MiB, then ends)
  /sitemap.xml                an endless sitemap
  /badrobots.txt              Disallow: / plus a rule of 500,000 '*'
  /page                       200 small HTML page linking to nothing
  /collide                    links to /c/S1, /c/S1/S2, ... (63 levels) whose saved paths collide
  /slowsitemap.xml            a sitemap sent one byte every 100 ms, forever
"""
import os
import socket
import socketserver
import sys
import threading
import zlib
from urllib.parse import parse_qs, urlsplit

CHUNK = b"x" * 65536


def compressed(enc, mb):
    """Yield the compressed bytes of mb MiB of zeros, streaming."""
    zeros = b"\0" * (1 << 20)
    if enc in ("gzip", "deflate"):
        c = zlib.compressobj(9, zlib.DEFLATED, 31 if enc == "gzip" else 15)
        for _ in range(mb):
            out = c.compress(zeros)
            if out:
                yield out
        yield c.flush()
    elif enc == "zstd":
        import zstandard  # noqa: F401 (optional)
        yield zstandard.ZstdCompressor().compress(b"\0" * (mb << 20))
    elif enc == "br":
        import brotli  # noqa: F401 (optional)
        yield brotli.compress(b"\0" * (mb << 20))


class Handler(socketserver.StreamRequestHandler):
    def send(self, data):
        self.wfile.write(data)

    def head(self, status, headers, reason="OK"):
        lines = ["HTTP/1.1 %d %s" % (status, reason)] + ["%s: %s" % h for h in headers]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    def body(self, status, data, ctype="text/plain", extra=()):
        self.head(status, [("Content-Type", ctype), ("Content-Length", str(len(data)))] + list(extra))
        self.send(data)

    def endless_chunked(self, ctype, prefix=b""):
        self.head(200, [("Content-Type", ctype), ("Transfer-Encoding", "chunked")])
        if prefix:
            self.send(b"%x\r\n%s\r\n" % (len(prefix), prefix))
        while True:
            self.send(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))

    def handle(self):
        try:
            while self.one():
                pass
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            pass

    def one(self):
        line = self.rfile.readline(65537)
        if not line:
            return False
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
        parts = line.decode("latin-1").split()
        if len(parts) < 2:
            return False
        u = urlsplit(parts[1])
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        p = u.path
        if p == "/endless":
            self.endless_chunked(q.get("ct", "application/octet-stream"))
        elif p == "/endless-close":
            self.head(200, [("Content-Type", q.get("ct", "text/html")), ("Connection", "close")])
            if q.get("ct", "text/html") == "text/html":
                self.send(b"<html><body>")
            while True:
                self.send(CHUNK)
        elif p.startswith("/bomb/"):
            enc = p[6:]
            mb = int(q.get("mb", "1024"))
            self.head(200, [("Content-Type", q.get("ct", "text/plain")), ("Content-Encoding", enc),
                            ("Transfer-Encoding", "chunked")])
            for part in compressed(enc, mb):
                if part:
                    self.send(b"%x\r\n%s\r\n" % (len(part), part))
            self.send(b"0\r\n\r\n")
        elif p == "/hugeheader":
            kb = int(q.get("kb", "10240"))
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Huge: ")
            for _ in range(kb):
                self.send(b"h" * 1024)
            self.send(b"\r\n\r\nok")
        elif p == "/manyheaders":
            n = int(q.get("n", "100000"))
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n")
            for i in range(n):
                self.send(b"X-H%d: v\r\n" % i)
            self.send(b"\r\nok")
        elif p == "/hugelocation":
            kb = int(q.get("kb", "1024"))
            self.head(302, [("Location", "/page?" + "l" * (kb * 1024)), ("Content-Length", "0")], "Found")
        elif p == "/longredirect":
            n = int(q.get("len", "90000"))
            self.head(302, [("Location", "/%s?pad=%s" % (q.get("to", "same"), "p" * n)), ("Content-Length", "0")],
                      "Found")
        elif p == "/same":
            self.body(200, b"same payload\n")
        elif p == "/robots.txt":
            if q.get("mode") == "big":
                self.head(200, [("Content-Type", "text/plain"), ("Content-Length", str(100 << 20))])
                line = b"Disallow: /nothing-here\n" * 2730
                for _ in range(100 << 20 // len(line)):
                    self.send(line)
                self.send(b"\n" * ((100 << 20) - (100 << 20) // len(line) * len(line)))
            else:
                self.endless_chunked("text/plain", b"User-agent: *\nAllow: /\n")
        elif p == "/sitemap.xml":
            self.head(200, [("Content-Type", "application/xml"), ("Transfer-Encoding", "chunked")])
            pre = b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            self.send(b"%x\r\n%s\r\n" % (len(pre), pre))
            i = 0
            while True:
                blob = b"".join(b"<url><loc>http://127.0.0.1:1/s%d</loc></url>" % (i + k) for k in range(1000))
                i += 1000
                self.send(b"%x\r\n%s\r\n" % (len(blob), blob))
        elif p == "/badrobots.txt":
            self.body(200, b"User-agent: *\nDisallow: /\nAllow: /" + b"*" * 500000 + b"x\n")
        elif p == "/collide":
            # links whose save paths collide file/dir at every level (a.d/b.d/...)
            segs = ["*" * 21 + c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"]
            links = ["/c/" + "/".join(segs[:i + 1]) for i in range(len(segs))]
            self.body(200, ("<html><body>" + "".join("<a href='%s'>x</a>" % l for l in links)
                            + "</body></html>").encode(), "text/html")
        elif p.startswith("/c/"):
            self.body(200, b"<html><body>leaf</body></html>", "text/html")
        elif p == "/slowsitemap.xml":
            self.head(200, [("Content-Type", "application/xml"), ("Transfer-Encoding", "chunked")])
            import time
            while True:
                self.send(b"1\r\n \r\n")
                time.sleep(0.1)
        elif p == "/page":
            self.body(200, b"<html><body>page</body></html>", "text/html")
        else:
            self.body(404, b"not found\n")
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    srv.shutdown()
    os._exit(0)


main()
