#!/usr/bin/env python3
"""Regenerate crawl.conf.example from the option table: every configuration
key with its help text and default value (what `crawl --config ... --check`
prints for an empty job), commented out, plus an example job. Run after
changing an option:  python3 scripts/gen-conf-example.py build/crawl
The test suite checks that the example lists every key and parses."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helptable  # noqa: E402

crawl = sys.argv[1] if len(sys.argv) > 1 else "build/crawl"
help_by = {o[1]: o[3] for o in helptable.options(crawl)}
with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
    f.write("[job x]\nurl = http://127.0.0.1/\n")
    tmp = f.name
eff = subprocess.run([crawl, "--config", tmp, "--check"], capture_output=True, text=True, check=True).stdout
os.unlink(tmp)
out = ["# crawl.conf.example: every configuration key with its default value.",
       "# Copy it, uncomment what you need, and run:  crawl --config FILE [--check]",
       "# Keys are the long names of crawl's command-line options (see crawl.conf(5)).",
       "# [defaults] applies to every job; each [job NAME] overrides it; the command",
       "# line overrides both. ${VAR} takes an environment variable (keep secrets out).",
       "", "[defaults]"]
seen = set()
for line in eff.splitlines():
    m = re.match(r"^(?:# )?([a-z0-9.-]+) = (.*)$", line)
    if not m:
        continue
    key, val = m.groups()
    if key in seen or key in ("url", "input-file", "output"):
        continue
    seen.add(key)
    text = help_by[key]
    if val in ("(none)", "(not set)"):
        val = ""
    out.append("# %s%s." % (text[0].upper(), text[1:]))
    out.append("# %s = %s" % (key, val) if val else "# %s =" % key)
    out.append("")
out += ["# An example job. A job needs at least one url or input-file.",
        "[job example]",
        "# Read URLs from a file, one per line ('-' = standard input); repeatable.",
        "# input-file = urls.txt",
        "# URLs can also be listed here; repeatable.",
        "url = http://127.0.0.1:8080/",
        "# Where the JSON Lines records go (default: standard output).",
        "output = example.jsonl",
        "# Secrets from the environment, never written in the file:",
        "# header = Authorization: Bearer ${API_TOKEN}",
        ""]
with open("crawl.conf.example", "w") as f:
    f.write("\n".join(out))
