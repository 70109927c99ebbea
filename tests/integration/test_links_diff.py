#!/usr/bin/env python3
"""Differential test of the link tokenizer against html5lib.

html5lib implements the HTML Standard's tokenizer together with the tree
builder state changes that drive it (script/style raw text, title/textarea
RCDATA, plaintext, foreign content, CDATA). For every document we compare the
attribute values html5lib's tokenizer produces for the link attributes we
extract with what our extractor reports (via the links_dump helper), in
document order.

Documents: a few thousand random ones built from a grammar of the constructs
the tokenizer must get right (quoting, character references, comments,
raw text, slashes, case, NULs, whitespace kinds), the pages of the shared
link-extraction vectors when ../shared/testdata is present, and Debian's
python3.11-doc HTML when it is installed (the benchmark corpus).

Out of scope, so not generated: <template> (its insertion modes reorder how
later tags are treated, and html5lib 1.1 itself departs from the Standard
when templates nest inside <select>).

Environment: LINKS_DUMP (path of tests/links_dump), optional
CRAWL_TESTDATA, LINKS_DIFF_DOCS (number of random documents, default 3000).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    import html5lib
    from html5lib import _tokenizer
    from html5lib.constants import tokenTypes
except ImportError:  # CI installs python3-html5lib; elsewhere say why we skip
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)  # Debian's python has the package
    print("SKIP: python3-html5lib is not installed")
    sys.exit(77)

# tag -> attributes whose values we compare (a subset of what we extract that
# needs no extra interpretation: no srcset splitting, rel filtering or
# meta-refresh parsing).
COMPARED = {"a": ("href",), "area": ("href",), "frame": ("src",), "iframe": ("src",),
            "script": ("src",), "embed": ("src",), "audio": ("src",), "track": ("src",),
            "input": ("src",)}
WS = " \t\n\f\r"


def html5lib_links(text):
    """Start tags as html5lib's tokenizer emits them while its parser runs."""
    seen = []
    orig_iter = _tokenizer.HTMLTokenizer.__iter__

    def recording_iter(self):
        for tok in orig_iter(self):
            if tok["type"] == tokenTypes["StartTag"]:
                seen.append((tok["name"], dict(tok["data"])))
            yield tok

    _tokenizer.HTMLTokenizer.__iter__ = recording_iter
    try:
        html5lib.HTMLParser(namespaceHTMLElements=False).parse(text)
    finally:
        _tokenizer.HTMLTokenizer.__iter__ = orig_iter
    out = []
    for name, attrs in seen:
        for a in COMPARED.get(name, ()):
            if a in attrs:
                v = attrs[a].strip(WS)
                if v:
                    out.append((name, v))
    return out


def our_links(dump, paths):
    res = subprocess.run([dump] + paths, capture_output=True, check=True)
    docs = res.stdout.decode("utf-8", "surrogateescape").split("\f\n")[:len(paths)]
    out = []
    for d in docs:
        links = []
        for line in d.split("\n"):
            tag, _, v = line.partition("\t")
            if not line or tag not in COMPARED:
                continue
            v = v.replace("\\n", "\n").replace("\\\\", "\\").strip(WS)
            if v:
                links.append((tag, v))
        out.append(links)
    return out


# ---- random documents ---------------------------------------------------------------

VALUES = ["x", "/p/1", "a b", "q?x=1&y=2", "&amp;", "&lt;&gt;", "&#65;", "&#x41;", "&#0;", "&#x110000;",
          "&notit;", "&not", "&amp=", "&ampx", "&copy", "&copy;x", "&#x;", "&#;", "&#65", "&#128;",
          "é", "\u2603", "\0", "\t", "\n", " ", "'", '"', "=", ">", "<", "/", "`", "&", "&&", "#frag"]
TAGS = ["a", "A", "area", "iframe", "frame", "script", "embed", "audio", "track", "input", "img", "div", "p",
        "svg", "math", "table", "select", "base", "noscript", "object"]
RAW = ["script", "style", "xmp", "iframe", "noembed", "noframes", "title", "textarea"]
SEPS = [" ", "\t", "\n", "\f", "\r\n", "/", " / ", "  "]


def rand_value(r):
    return "".join(r.choice(VALUES) for _ in range(r.randint(0, 4)))


def rand_attr(r):
    name = r.choice(["href", "HREF", "src", "Src", "rel", "x", "data-href", "href", "src"])
    v = rand_value(r)
    q = r.randint(0, 5)
    if q == 0:
        return name
    if q in (1, 2):
        return '%s="%s"' % (name, v.replace('"', ""))
    if q == 3:
        return "%s='%s'" % (name, v.replace("'", ""))
    if q == 4:
        return "%s = %s" % (name, "".join(c for c in v if c not in WS + ">\"'") or "u")
    return "%s=%s" % (name, "".join(c for c in v if c not in WS + ">") or "u")


def rand_tag(r):
    t = r.choice(TAGS)
    attrs = "".join(r.choice(SEPS) + rand_attr(r) for _ in range(r.randint(0, 4)))
    return "<%s%s%s>" % (t, attrs, r.choice(["", "", "/", " /", "\n"]))


def rand_piece(r):
    k = r.randint(0, 15)
    if k <= 5:
        return rand_tag(r)
    if k == 6:
        return r.choice(["<!-- c -->", "<!-->", "<!--->", "<!-- a --!>", "<!-- <a href=c1> -->", "<!--",
                         "-->", "<!-- -- -->"])
    if k == 7:
        t = r.choice(RAW)
        return "<%s>%s</%s%s>" % (t, r.choice(["<a href=raw1>", "x</scrip>", "</%s" % t, "<!--", ""]),
                                  r.choice([t, t.upper(), t + "x"]), r.choice(["", " ", " x=y"]))
    if k == 8:
        return r.choice(["<!DOCTYPE html>", "<!doctype html>", "<?xml ?>", "<![CDATA[ <a href=cd> ]]>",
                         "<!x <a href=bog>", "</ a href=e1>", "</a href=e2>", "<>", "< a href=lt>", "</>",
                         "<plaintext>", "<svg><![CDATA[ > <a href=svgcd> ]]></svg>"])
    if k == 9:
        return "&amp;&lt;&#65;&notit;"
    return r.choice(["text ", "\n", " ", "x", "<", ">", "&", "é"])


def random_docs(n, seed):
    r = random.Random(seed)
    return ["".join(rand_piece(r) for _ in range(r.randint(1, 25))) for _ in range(n)]


def main():
    dump = os.environ.get("LINKS_DUMP") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not dump:
        print("usage: LINKS_DUMP=path/to/links_dump test_links_diff.py")
        return 2
    docs = [("random-%d" % i, d) for i, d in enumerate(random_docs(int(os.environ.get("LINKS_DIFF_DOCS", "3000")),
                                                                     int(os.environ.get("LINKS_DIFF_SEED", "20261202"))))]
    td = os.environ.get("CRAWL_TESTDATA") or os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                                          "testdata")
    lc = os.path.join(td, "links_cases.json")
    if os.path.exists(lc):
        with open(lc) as f:
            data = json.load(f)
        pages = data.get("pages", data) if isinstance(data, dict) else data
        for i, p in enumerate(pages if isinstance(pages, list) else pages.values()):
            if isinstance(p, dict) and isinstance(p.get("html"), str):
                docs.append(("links_cases-%d" % i, p["html"]))
    pydoc = "/usr/share/doc/python3.11/html"
    if os.path.isdir(pydoc):
        for root, _, files in os.walk(pydoc):
            for fn in sorted(files):
                if fn.endswith(".html"):
                    with open(os.path.join(root, fn), encoding="utf-8", errors="replace") as f:
                        docs.append((os.path.join(root, fn), f.read()))
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (_, text) in enumerate(docs):
            p = os.path.join(tmp, "%d.html" % i)
            with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            paths.append(p)
        ours = []
        for i in range(0, len(paths), 500):
            ours += our_links(dump, paths[i:i + 500])
    bad = 0
    total = 0
    for (name, text), mine in zip(docs, ours):
        ref = html5lib_links(text)
        total += len(ref)
        if ref != mine:
            bad += 1
            if bad <= 10:
                print("MISMATCH %s\n  doc:  %r\n  html5lib: %r\n  ours:     %r" % (name, text[:600], ref[:12], mine[:12]))
    print("%d documents, %d links compared, %d documents differ" % (len(docs), total, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
