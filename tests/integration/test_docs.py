#!/usr/bin/env python3
"""Integration tests: the docs list exactly the error kinds of the one table
(src/out/errkind.h), as `crawl --help` prints it. Run by ctest as
integration_docs."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CRAWL  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def help_kinds():
    out = subprocess.run([CRAWL, "--help"], capture_output=True, text=True, check=True).stdout
    section = out.split("\nError kinds (error.kind in records):\n", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  ([a-z_]+) +\S", section, re.M)]



class DocsTest(unittest.TestCase):
    def setUp(self):
        self.kinds = help_kinds()

    def test_help_lists_the_table(self):
        self.assertEqual(self.kinds[:3], ["dns", "connect", "tls"])
        self.assertIn("invalid_url", self.kinds)
        self.assertEqual(len(self.kinds), len(set(self.kinds)))

    def test_readme_lists_exactly_the_kinds(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            text = f.read()
        i = text.index("with kind one")
        block = text[i:text.index(")", i)]
        words = re.findall(r"`([a-z_]+)`", block)
        self.assertEqual(sorted(words), sorted(self.kinds))

    def test_man_page_lists_exactly_the_kinds(self):
        with open(os.path.join(ROOT, "man", "crawl.1")) as f:
            text = f.read()
        i = text.index("kinds: ")
        block = text[i + len("kinds: "):text.index(")", i)]
        words = [w for w in re.split(r"[,\s]+", block.replace("and in recursive crawls", ",").replace(" and ", ","))
                 if w and w != "and"]
        self.assertEqual(sorted(words), sorted(self.kinds))


if __name__ == "__main__":
    unittest.main(verbosity=2)
