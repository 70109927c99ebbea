#!/usr/bin/env python3
"""Integration tests: what crawl refuses or reports so that a user loses
nothing: an output that is the input, options that would do nothing, the
exit status of a run with several kinds of failure, a recursive crawl whose
seed redirects. The real crawl binary against the project's test server on
127.0.0.1 (harness.py); run by ctest as integration_guards."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL, ServerTest, free_port, run  # noqa: E402


class GuardTest(ServerTest):
    def test_output_that_is_the_input_is_refused(self):
        inp = os.path.join(self.tmp, "urls.txt")
        text = "%s/status/200\n%s/status/204\n" % (self.b, self.b)
        with open(inp, "w") as f:
            f.write(text)
        link = os.path.join(self.tmp, "same.txt")
        os.symlink(inp, link)
        for out in (inp, link):
            p = subprocess.run([CRAWL, "-q", "-i", inp, "-o", out], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("is also an input", p.stderr)
            with open(inp) as f:
                self.assertEqual(f.read(), text, "the input was not touched")
        warc = os.path.join(self.tmp, "w")
        p = subprocess.run([CRAWL, "-q", "-i", inp, "-o", os.path.join(self.tmp, "o.jsonl"), "--warc-file", warc],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)  # a different file is fine

    def test_options_that_would_do_nothing_are_refused(self):
        u = self.b + "/status/200"
        cases = [
            (["-l", "2", u], "--level", "-r"),
            (["--accept-regex", "x", u], "--accept-regex", "-r"),
            (["--robots", "off", u], "--robots", "-r"),
            (["--max-pages", "5", u], "--max-pages", "-r"),
            (["-D", "example.org", u], "--domains", "-r"),
            (["--resume", u], "--resume", "--state"),
            (["--warc-dedup", u], "--warc-dedup", "--warc-file"),
        ]
        for args, opt, needs in cases:
            code, recs, err = run(["-q"] + args)
            self.assertEqual((code, recs), (2, []), (args, err))
            self.assertIn("crawl: %s needs %s" % (opt, needs), err)
        code, recs, err = run(["-q", "-r", "-l", "1", "--robots", "off", self.b + "/site/"])
        self.assertEqual(code, 0, err)  # with -r they are fine

    def test_options_that_would_do_nothing_in_a_config_job(self):
        conf = os.path.join(self.tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("[job a]\nurl = %s/status/200\nlevel = 3\n" % self.b)
        p = subprocess.run([CRAWL, "--config", conf, "--check"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("%s:3: level needs recursive" % conf, p.stderr)

    def test_exit_status_generic_yields_to_any_other(self):
        bad = "http://127.0.0.1:%d/" % free_port()
        cases = [
            (["not a url", bad], 4),                        # network beats an invalid line
            (["not a url", self.b + "/status/404"], 8),    # HTTP error beats an invalid line
            ([bad, self.b + "/status/404"], 4),            # otherwise the lowest code wins
            (["not a url", self.b + "/status/200"], 1),
        ]
        for lines, want in cases:
            code, recs, err = run(["-q", "--retries", "0", "-i", "-"], stdin="\n".join(lines) + "\n")
            self.assertEqual(code, want, (lines, err))
            self.assertEqual(len(recs), 2)

    def test_recursive_seed_that_redirects_is_crawled(self):
        # /redirect-to?url=/site/ answers 302 to the site's start page
        code, recs, err = run(["-q", "-r", "-l", "1", "--robots", "off", self.b + "/redirect-to?url=/site/"])
        self.assertEqual(code, 0, err)
        urls = {r["url"]: r for r in recs}
        seed = urls[self.b + "/redirect-to?url=/site/"]
        self.assertEqual(seed["status"], 302)
        self.assertIn(self.b + "/site/", urls, "the redirect's target is crawled")
        self.assertEqual(urls[self.b + "/site/"]["status"], 200)
        self.assertEqual(urls[self.b + "/site/"]["depth"], 0, "a redirect keeps its depth")
        self.assertIn(self.b + "/site/a.html", urls, "and the target's links are followed")

    def test_links_over_max_queued_are_reported_and_kept_with_state(self):
        seed = self.b + "/site/"
        code, full, err = run(["-q", "-r", "--robots", "off", seed])
        self.assertEqual(code, 0, err)
        code, recs, err = run(["-q", "-r", "--robots", "off", "--max-queued", "1", seed])
        self.assertRegex(err, r"crawl: warning: \d+ links were dropped because --max-queued \(1\) was reached")
        self.assertLess(len(recs), len(full))
        # with --state they wait there: each --resume fetches more, until all are done
        st, out = os.path.join(self.tmp, "st"), os.path.join(self.tmp, "o.jsonl")
        args = ["-q", "-r", "--robots", "off", "--max-queued", "1", "--state", st, "-o", out, seed]
        code, _, err = run(args)
        self.assertIn("they are kept in the state: run again with --resume", err)
        for _ in range(len(full)):
            code, _, err = run(args[:-1] + ["--resume", seed])
            if "warning" not in err:
                break
        with open(out) as f:
            got = sorted(json.loads(l)["url"] for l in f)
        self.assertEqual(got, sorted(r["url"] for r in full))

    def test_output_document_like_wget(self):
        doc = os.path.join(self.tmp, "page.bin")
        code, recs, err = run(["-q", "-O", doc, self.b + "/big?size=100", self.b + "/big?size=2000000"])
        self.assertEqual(code, 0, err)
        self.assertEqual(len(recs), 2)  # the records still go to stdout
        with open(doc, "rb") as f:
            self.assertEqual(f.read(), b"x" * 2000100)  # both bodies (the large one spilled), one after another
        p = subprocess.run([CRAWL, "-q", "-O", "-", self.b + "/big?size=10"], capture_output=True, timeout=30)
        self.assertEqual((p.returncode, p.stdout), (0, b"x" * 10))  # wget -O -: the body alone
        code, recs, err = run(["-q", "-O", "-", "-o", "-", self.b + "/big?size=10"])
        self.assertEqual(code, 2)
        code, recs, err = run(["-q", "-o", os.path.join(self.tmp, "page.html"), self.b + "/status/200"])
        self.assertEqual(code, 0)
        self.assertIn("receives the JSON Lines records, not the page", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
