#!/usr/bin/env python3
"""A small HTTPS server for the TLS tests: a self-signed certificate for
localhost and 127.0.0.1 made at start-up (openssl), bound to 127.0.0.1 on an
ephemeral port. Prints "PORT <n>" and "CERT <path of the certificate>";
with --client-auth it also makes a client certificate, requires one signed
by it, and prints "CLIENT <certificate> <key>". Serves until stdin closes or
SIGTERM."""
import http.server
import os
import ssl
import subprocess
import sys
import tempfile
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"secure\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def selfsigned(d, name, cn, san=None):
    key, crt = os.path.join(d, name + "-k.pem"), os.path.join(d, name + "-c.pem")
    args = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "1",
            "-subj", "/CN=" + cn]
    if san:
        args += ["-addext", "subjectAltName=" + san]
    subprocess.run(args, check=True, capture_output=True)
    return key, crt


def main():
    client_auth = "--client-auth" in sys.argv[1:]
    d = tempfile.mkdtemp(prefix="crawl-tls-")
    key, crt = selfsigned(d, "server", "localhost", "DNS:localhost,IP:127.0.0.1")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    if client_auth:
        ckey, ccrt = selfsigned(d, "client", "crawl-test-client")
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(ccrt)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    print("CERT %s" % crt, flush=True)
    if client_auth:
        print("CLIENT %s %s" % (ccrt, ckey), flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin
    srv.shutdown()


main()
