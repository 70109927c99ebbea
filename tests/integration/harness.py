"""Shared pieces of the integration tests: the project's test server started on
127.0.0.1, a runner for the real crawl binary, and a base class that gives each
test a temporary directory. Every test file imports this module; run by ctest
with CRAWL_BIN and TESTSERVER_BIN in the environment."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

CRAWL = os.environ.get("CRAWL_BIN", "build/crawl")
SERVER = os.environ.get("TESTSERVER_BIN", "build/tests/testserver")
SANITIZED = bool(os.environ.get("CRAWL_SANITIZED"))
# crawl honours the proxy variables (as curl does): a proxy set where the
# tests run must not come between crawl and the test server
for _v in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
           "NO_PROXY"):
    os.environ.pop(_v, None)


class Server:
    """One testserver process; stop() ends it. args are extra testserver flags."""

    def __init__(self, bind="127.0.0.1", args=()):
        self.proc = subprocess.Popen([SERVER, "--bind", bind] + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        self.base = "http://%s:%d" % (bind, self.port)

    def get(self, path):
        """GET a control endpoint of the server with urllib (never with crawl)."""
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return r.read()

    def get_json(self, path):
        return json.loads(self.get(path))

    def requests(self):
        """Every request the server received since the last /_reset, as it
        received it: dicts with method, uri, headers (a list of [name, value])
        and body (bytes >= 0x80 as \\u00XX)."""
        return [json.loads(l) for l in self.get("/_reqs").decode().splitlines() if l]

    def reset(self):
        self.get("/_reset")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()



def wait_signals_ready(proc, timeout=10):
    """Wait until crawl has blocked or caught SIGTERM (the first thing its
    main() does): before that, a signal still has its default action. Under
    load, exec and loading the shared libraries alone can take longer than a
    test's shortest pause."""
    bit = 1 << (signal.SIGTERM - 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                st = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
        except OSError:
            return  # already gone
        if (int(st.get("SigBlk", "0"), 16) | int(st.get("SigCgt", "0"), 16)) & bit:
            return
        time.sleep(0.002)

def free_port():
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(args, stdin=None, timeout=60):
    p = subprocess.run([CRAWL] + args, input=stdin, capture_output=True, text=True, timeout=timeout)
    recs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    return p.returncode, recs, p.stderr


def by_url(recs):
    return {r["url"]: r for r in recs}


class ServerTest(unittest.TestCase):
    """A test class with one shared server (self.srv, self.b) and a fresh temporary directory."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(args=cls.server_args)
        cls.b = cls.srv.base

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="crawl-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def served(self, srv):
        """The lines of srv's request log (its /_log page, fetched with crawl)."""
        p = subprocess.run([CRAWL, "-q", "-P", os.path.join(self.tmp, "log%d" % time.monotonic_ns()),
                            srv.base + "/_log"], capture_output=True, text=True)
        with open(json.loads(p.stdout)["saved_path"]) as f:
            return [l for l in f.read().splitlines() if l]
