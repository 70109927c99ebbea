#!/usr/bin/env python3
"""Proxies as curl and wget use them: -x/--proxy, else http_proxy,
https_proxy and all_proxy from the environment (not HTTP_PROXY); no_proxy
and --noproxy (names with their subdomains, addresses, CIDR ranges, *);
--no-proxy ignores the environment; --proxy-user; an error reaching the
proxy says it was the proxy. The proxy is a small Python forward/CONNECT
proxy on 127.0.0.1 (proxy_server.py) that logs what it was asked."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
              "NO_PROXY")


class Proxy:
    def __init__(self, auth=None):
        fd, self.log = tempfile.mkstemp(prefix="crawl-proxy-")
        os.close(fd)
        args = [sys.executable, os.path.join(HERE, "proxy_server.py"), "--log", self.log]
        if auth:
            args += ["--auth", auth]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline().split()[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def seen(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def clear(self):
        open(self.log, "w").close()

    def stop(self):
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(5)
        os.unlink(self.log)


class ProxiesTest(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.proxy = Proxy()
        cls.authproxy = Proxy(auth="pu:pp")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.authproxy.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.srv.reset()
        self.proxy.clear()
        self.authproxy.clear()

    def crawl(self, args, env=None, want=0):
        e = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
        e.update(env or {})
        p = subprocess.run([CRAWL, "-q", "--retries", "0"] + args, capture_output=True, text=True, env=e, timeout=60)
        self.assertEqual(p.returncode, want, p.stderr)
        return [json.loads(l) for l in p.stdout.splitlines() if l.strip()], p.stderr

    def targets(self, proxy=None):
        return [r["target"] for r in (proxy or self.proxy).seen()]

    def test_explicit_proxy(self):
        recs, _ = self.crawl(["-x", self.proxy.url, self.b + "/page/a"])
        self.assertEqual(recs[0]["status"], 200)
        self.assertEqual(self.targets(), [self.b + "/page/a"])
        self.assertEqual(len(self.srv.requests()), 1)

    def test_environment_proxies(self):
        url = self.b + "/page/env"
        for env, via in (({"http_proxy": self.proxy.url}, True), ({"all_proxy": self.proxy.url}, True),
                         ({"ALL_PROXY": self.proxy.url}, True),
                         ({"HTTP_PROXY": self.proxy.url}, False),  # curl ignores it (httpoxy)
                         ({"https_proxy": self.proxy.url}, False),  # an http URL
                         ({"http_proxy": self.proxy.url, "no_proxy": "127.0.0.1"}, False),
                         ({"http_proxy": self.proxy.url, "NO_PROXY": "127.0.0.0/8"}, False),
                         ({"http_proxy": self.proxy.url, "no_proxy": "example.com,*"}, False),
                         ({"http_proxy": self.proxy.url, "no_proxy": "10.0.0.0/8, other.test"}, True)):
            self.proxy.clear()
            recs, _ = self.crawl([url], env=env)
            self.assertEqual(recs[0]["status"], 200, env)
            self.assertEqual(self.targets(), [url] if via else [], env)

    def test_noproxy_option_and_no_proxy_switch(self):
        env = {"http_proxy": self.proxy.url}
        self.crawl(["--noproxy", "localhost,127.0.0.1", self.b + "/page/n"], env=env)
        self.crawl(["--no-proxy", self.b + "/page/n"], env=env)
        self.assertEqual(self.targets(), [])
        self.crawl(["-x", self.proxy.url, "--noproxy", "", self.b + "/page/n"], env={"no_proxy": "*"})
        self.assertEqual(self.targets(), [self.b + "/page/n"])  # --noproxy '' overrides no_proxy

    def test_proxy_user(self):
        recs, _ = self.crawl(["-x", self.authproxy.url, "--proxy-user", "pu:pp", self.b + "/page/p"])
        self.assertEqual(recs[0]["status"], 200)
        self.assertEqual(self.authproxy.seen()[0]["proxy_authorization"], "Basic cHU6cHA=")
        # the server never sees the proxy's credentials
        self.assertNotIn("Proxy-Authorization", dict(self.srv.requests()[0]["headers"]))
        recs, _ = self.crawl(["-x", self.authproxy.url, self.b + "/page/p"], want=8)
        self.assertEqual(recs[0]["status"], 407)

    def test_error_names_the_proxy(self):
        recs, _ = self.crawl(["-x", "http://u:secretpw@127.0.0.1:1", self.b + "/page/x"], want=4)
        err = recs[0]["error"]
        self.assertEqual(err["kind"], "connect")
        self.assertIn("proxy http://u:***@127.0.0.1:1", err["message"])
        self.assertNotIn("secretpw", json.dumps(recs))

    def test_https_goes_through_connect(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "tls_server.py")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            port = int(p.stdout.readline().split()[1])
            url = "https://localhost:%d/x" % port
            recs, _ = self.crawl(["--insecure", url], env={"https_proxy": self.proxy.url})
            self.assertEqual(recs[0]["status"], 200)
            self.assertEqual(self.proxy.seen()[0], {"method": "CONNECT", "target": "localhost:%d" % port,
                                                    "proxy_authorization": None})
        finally:
            p.stdin.close()
            p.wait(10)

    def test_usage_error(self):
        _, err = self.crawl(["-x", self.proxy.url, "--no-proxy", self.b + "/page/x"], want=2)
        self.assertIn("--no-proxy", err)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
