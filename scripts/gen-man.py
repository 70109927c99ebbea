#!/usr/bin/env python3
"""Regenerate the option lists in man/crawl.1 and the key list in
man/crawl.conf.5 from `crawl --help` (the option table), between the
'.\\" BEGIN GENERATED' and '.\\" END GENERATED' markers. The prose around them
is written by hand. Run after changing an option:
    python3 scripts/gen-man.py build/crawl
The test suite checks that both pages list every option and key."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helptable  # noqa: E402

crawl = sys.argv[1] if len(sys.argv) > 1 else "build/crawl"
table = helptable.options(crawl)
opts = [o[:5] for o in table]
topic_of = {o[1]: o[5] for o in table}


def esc(s):
    return s.replace("\\", "\\\\").replace("-", "\\-")


def block_crawl1():
    out, topic = [], None
    for short, name, arg, text, _ in opts:
        if topic_of[name] != topic:
            topic = topic_of[name]
            out.append(".SS %s" % esc(helptable.TITLES[topic]))
        head = ("\\fB\\-%s\\fR, " % short if short else "") + "\\fB\\-\\-%s\\fR" % esc(name)
        if arg:
            head += " \\fI%s\\fR" % esc(arg)
        out.append(".TP\n%s\n%s." % (head, esc(text)))
    return "\n".join(out)


def block_conf5():
    out = []
    for short, name, arg, text, cli_only in opts:
        if cli_only:
            continue
        val = esc(arg) if arg else "true|false"
        out.append(".TP\n\\fB%s\\fR = \\fI%s\\fR\n%s (\\fB\\-\\-%s\\fR)." % (esc(name), val, esc(text), esc(name)))
    return "\n".join(out)


for path, block in (("man/crawl.1", block_crawl1()), ("man/crawl.conf.5", block_conf5())):
    with open(path) as f:
        page = f.read()
    new = re.sub(r'(\.\\" BEGIN GENERATED\n).*?(\.\\" END GENERATED\n)', lambda m: m.group(1) + block + "\n" + m.group(2),
                 page, flags=re.S)
    if new == page and "BEGIN GENERATED" not in page:
        sys.exit("%s has no generated-block markers" % path)
    with open(path, "w") as f:
        f.write(new)
