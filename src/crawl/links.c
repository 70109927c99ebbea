/* links: see links.h. */
#include "links.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ATTRS 16

typedef struct attr {
    const char *name;
    size_t nlen;
    const char *val;
    size_t vlen;
} attr;

typedef struct ctx {
    links_fn fn;
    void *ud;
    links_info *info;
    size_t max, count;
    char *buf; /* decoded values */
    size_t cap;
} ctx;

static inline bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

/* ---- character references ----------------------------------------------------- */

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

#include "entities.inc"

/* The table entry for name[0..n) exactly (n includes a trailing ';' when the
 * name has one), or NULL. */
static const struct entity *entity_find(const char *name, size_t n)
{
    size_t lo = 0, hi = ENTITY_COUNT;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *e = ENTITIES[mid].name;
        int r = strncmp(name, e, n);
        if (r == 0)
            r = e[n] ? -1 : 0; /* e is longer: name sorts first */
        if (r == 0)
            return &ENTITIES[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Numeric references 0x80-0x9F name windows-1252 characters (HTML Standard,
 * "numeric character reference end state"); 0 = keep the number. */
static const uint16_t C1_MAP[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};

/* Decode an attribute value into c->buf the way the HTML Standard's tokenizer
 * does: character references (named, with the attribute rule for legacy names
 * without ';', and numeric), CR LF and lone CR as LF, and U+0000 as U+FFFD. */
static const char *decode(ctx *c, const char *v, size_t n, size_t *outlen)
{
    if (n * 4 + 8 > c->cap) {
        size_t cap = n * 4 + 64;
        char *nb = realloc(c->buf, cap);
        if (!nb)
            return NULL;
        c->buf = nb;
        c->cap = cap;
    }
    char *o = c->buf;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] != '&') {
            if (v[i] == '\r') { /* input stream preprocessing: CR LF and CR become LF */
                o[k++] = '\n';
                if (i + 1 < n && v[i + 1] == '\n')
                    i++;
            } else if (v[i]) {
                o[k++] = v[i];
            } else {
                k += put_utf8(o + k, 0xFFFD);
            }
            continue;
        }
        size_t j = i + 1;
        if (j < n && v[j] == '#') {
            j++;
            bool hex = j < n && (v[j] == 'x' || v[j] == 'X');
            if (hex)
                j++;
            size_t ds = j;
            uint32_t cp = 0;
            while (j < n && (hex ? isxdigit((unsigned char)v[j]) : isdigit((unsigned char)v[j]))) {
                int d = isdigit((unsigned char)v[j]) ? v[j] - '0' : tolower((unsigned char)v[j]) - 'a' + 10;
                if (cp < 0x110000)
                    cp = cp * (hex ? 16 : 10) + (uint32_t)d;
                j++;
            }
            if (j == ds) { /* "&#" or "&#x" with no digits: literal */
                o[k++] = '&';
                continue;
            }
            if (j < n && v[j] == ';')
                j++;
            if (cp >= 0x80 && cp <= 0x9F && C1_MAP[cp - 0x80])
                cp = C1_MAP[cp - 0x80];
            k += put_utf8(o + k, cp);
            i = j - 1;
            continue;
        }
        /* Named: the longest name in the table that the text starts with.
         * Names ending in ';' match only the whole alphanumeric run; legacy
         * names without ';' (at most 6 characters) may match a prefix, but in
         * an attribute value one followed by '=' or an alphanumeric stays text. */
        size_t ns = j;
        while (j < n && isalnum((unsigned char)v[j]) && j - ns < 40)
            j++;
        size_t nl = j - ns;
        const struct entity *e = NULL;
        size_t used = 0;
        if (nl && j < n && v[j] == ';' && (e = entity_find(v + ns, nl + 1)) != NULL) {
            used = nl + 1;
        } else {
            for (size_t l = nl < 6 ? nl : 6; l >= 2 && !e; l--)
                if ((e = entity_find(v + ns, l)) != NULL)
                    used = l;
            if (e) {
                size_t after = ns + used;
                if (after < n && (v[after] == '=' || isalnum((unsigned char)v[after])))
                    e = NULL;
            }
        }
        if (!e) {
            o[k++] = '&';
            continue;
        }
        k += put_utf8(o + k, e->cp[0]);
        if (e->cp[1])
            k += put_utf8(o + k, e->cp[1]);
        i = ns + used - 1;
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

/* ---- reporting ------------------------------------------------------------------ */

static const attr *find(const attr *a, int n, const char *name)
{
    size_t l = strlen(name);
    for (int i = 0; i < n; i++)
        if (a[i].nlen == l && strncasecmp(a[i].name, name, l) == 0)
            return &a[i];
    return NULL;
}

static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i < n;) {
        while (i < n && is_ws((unsigned char)v[i]))
            i++;
        size_t s = i;
        while (i < n && !is_ws((unsigned char)v[i]))
            i++;
        if (i - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return true;
    }
    return false;
}

static void report(ctx *c, const char *v, size_t n, link_kind kind, bool nofollow, const char *tag)
{
    if (c->max && c->count >= c->max)
        return;
    size_t dl;
    const char *d = decode(c, v, n, &dl);
    if (!d)
        return;
    /* trim like the URL parser will; skip empty values */
    while (dl && is_ws((unsigned char)*d)) {
        d++;
        dl--;
    }
    if (!dl)
        return;
    link_ref l = {.value = d, .len = dl, .kind = kind, .nofollow = nofollow, .tag = tag};
    c->count++;
    c->fn(c->ud, &l);
}

static void report_attr(ctx *c, const attr *a, int na, const char *name, link_kind k, bool nofollow, const char *tag)
{
    const attr *x = find(a, na, name);
    if (x && x->val)
        report(c, x->val, x->vlen, k, nofollow, tag);
}

static void report_srcset(ctx *c, const attr *a, int na, const char *tag)
{
    const attr *x = find(a, na, "srcset");
    if (!x || !x->val)
        return;
    const char *v = x->val;
    size_t n = x->vlen, i = 0;
    while (i < n) {
        while (i < n && (is_ws((unsigned char)v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && !is_ws((unsigned char)v[i]))
            i++;
        size_t e = i;
        while (e > s && v[e - 1] == ',') /* "a.jpg," with no descriptor */
            e--;
        if (e > s)
            report(c, v + s, e - s, LINK_REQUISITE, false, tag);
        /* skip the descriptor up to the next comma */
        while (i < n && v[i] != ',')
            i++;
    }
}

static void meta_refresh(ctx *c, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && is_ws((unsigned char)v[i]))
        i++;
    while (i < n && (isdigit((unsigned char)v[i]) || v[i] == '.'))
        i++;
    while (i < n && is_ws((unsigned char)v[i]))
        i++;
    if (i < n && (v[i] == ';' || v[i] == ','))
        i++;
    while (i < n && is_ws((unsigned char)v[i]))
        i++;
    if (i + 3 <= n && strncasecmp(v + i, "url", 3) == 0) {
        size_t j = i + 3;
        while (j < n && is_ws((unsigned char)v[j]))
            j++;
        if (j < n && v[j] == '=') {
            i = j + 1;
            while (i < n && is_ws((unsigned char)v[i]))
                i++;
        }
    }
    if (i >= n)
        return;
    size_t e = n;
    if (v[i] == '"' || v[i] == '\'') {
        const char *q = memchr(v + i + 1, v[i], n - i - 1);
        e = q ? (size_t)(q - v) : n;
        i++;
    }
    while (e > i && is_ws((unsigned char)v[e - 1]))
        e--;
    if (e > i)
        report(c, v + i, e - i, LINK_FOLLOW, false, "meta");
}

static void element(ctx *c, const char *tag, size_t tl, const attr *a, int na)
{
#define IS(s) (tl == sizeof(s) - 1 && memcmp(tag, s, tl) == 0)
    if (IS("a") || IS("area")) {
        const attr *rel = find(a, na, "rel");
        bool nf = rel && rel->val && has_token(rel->val, rel->vlen, "nofollow");
        report_attr(c, a, na, "href", LINK_FOLLOW, nf, IS("a") ? "a" : "area");
    } else if (IS("link")) {
        const attr *rel = find(a, na, "rel");
        if (!rel || !rel->val)
            return;
        bool nf = has_token(rel->val, rel->vlen, "nofollow");
        if (has_token(rel->val, rel->vlen, "stylesheet") || has_token(rel->val, rel->vlen, "icon") ||
            has_token(rel->val, rel->vlen, "apple-touch-icon") || has_token(rel->val, rel->vlen, "preload"))
            report_attr(c, a, na, "href", LINK_REQUISITE, nf, "link");
        else if (has_token(rel->val, rel->vlen, "alternate") || has_token(rel->val, rel->vlen, "next") ||
                 has_token(rel->val, rel->vlen, "prev") || has_token(rel->val, rel->vlen, "canonical"))
            report_attr(c, a, na, "href", LINK_FOLLOW, nf, "link");
    } else if (IS("frame") || IS("iframe")) {
        report_attr(c, a, na, "src", LINK_FOLLOW, false, IS("frame") ? "frame" : "iframe");
    } else if (IS("base")) {
        const attr *h = find(a, na, "href");
        if (h && h->val && !c->info->base[0]) {
            size_t dl;
            const char *d = decode(c, h->val, h->vlen, &dl);
            if (d && dl < sizeof c->info->base) {
                memcpy(c->info->base, d, dl + 1);
            }
        }
    } else if (IS("meta")) {
        const attr *he = find(a, na, "http-equiv"), *content = find(a, na, "content"), *name = find(a, na, "name");
        if (he && he->val && content && content->val && he->vlen == 7 && strncasecmp(he->val, "refresh", 7) == 0) {
            size_t dl;
            const char *d = decode(c, content->val, content->vlen, &dl);
            if (d) {
                char *copy = strndup(d, dl);
                if (copy) {
                    meta_refresh(c, copy, dl);
                    free(copy);
                }
            }
        } else if (name && name->val && content && content->val && name->vlen == 6 &&
                   strncasecmp(name->val, "robots", 6) == 0) {
            /* tokens separated by commas and/or spaces */
            char tmp[256];
            size_t n = content->vlen < sizeof tmp - 1 ? content->vlen : sizeof tmp - 1;
            for (size_t i = 0; i < n; i++)
                tmp[i] = content->val[i] == ',' ? ' ' : content->val[i];
            if (has_token(tmp, n, "nofollow") || has_token(tmp, n, "none"))
                c->info->meta_nofollow = true;
            if (has_token(tmp, n, "noindex") || has_token(tmp, n, "none"))
                c->info->meta_noindex = true;
        }
    } else if (IS("img")) {
        report_attr(c, a, na, "src", LINK_REQUISITE, false, "img");
        report_srcset(c, a, na, "img");
    } else if (IS("source")) {
        report_attr(c, a, na, "src", LINK_REQUISITE, false, "source");
        report_srcset(c, a, na, "source");
    } else if (IS("script") || IS("embed") || IS("audio") || IS("track") || IS("input")) {
        char t[8];
        memcpy(t, tag, tl);
        t[tl] = 0;
        report_attr(c, a, na, "src", LINK_REQUISITE, false,
                    IS("script") ? "script" : IS("embed") ? "embed" : IS("audio") ? "audio" : IS("track") ? "track" : "input");
    } else if (IS("video")) {
        report_attr(c, a, na, "src", LINK_REQUISITE, false, "video");
        report_attr(c, a, na, "poster", LINK_REQUISITE, false, "video");
    }
#undef IS
}

/* ---- the tokenizer ----------------------------------------------------------------- */

/* After "<!": comment, doctype, CDATA or bogus comment. Returns the index
 * after the construct. */
static size_t skip_decl(const char *h, size_t len, size_t i)
{
    if (i + 1 < len && h[i] == '-' && h[i + 1] == '-') {
        i += 2;
        if (i < len && h[i] == '>') /* <!--> */
            return i + 1;
        if (i + 1 < len && h[i] == '-' && h[i + 1] == '>') /* <!---> */
            return i + 2;
        for (;;) {
            const char *d = memchr(h + i, '-', len - i);
            if (!d)
                return len;
            size_t j = (size_t)(d - h);
            if (j + 2 < len && h[j + 1] == '-' && h[j + 2] == '>')
                return j + 3;
            if (j + 3 < len && h[j + 1] == '-' && h[j + 2] == '!' && h[j + 3] == '>')
                return j + 4;
            i = j + 1;
        }
    }
    const char *gt = memchr(h + i, '>', len - i); /* doctype, CDATA, bogus */
    return gt ? (size_t)(gt - h) + 1 : len;
}

/* Skip raw text up to "</name" + [ws / >]; returns the index of that '<'. */
static size_t skip_raw(const char *h, size_t len, size_t i, const char *name, size_t nl)
{
    while (i < len) {
        const char *lt = memchr(h + i, '<', len - i);
        if (!lt)
            return len;
        size_t j = (size_t)(lt - h);
        if (j + 2 + nl <= len && h[j + 1] == '/' && strncasecmp(h + j + 2, name, nl) == 0 &&
            (j + 2 + nl == len || is_ws((unsigned char)h[j + 2 + nl]) || h[j + 2 + nl] == '/' || h[j + 2 + nl] == '>'))
            return j;
        i = j + 1;
    }
    return len;
}

/* Parse attributes from i (just after the tag name) to the end of the tag.
 * Returns the index after '>', or len when the document ends first (the tag
 * is then incomplete and, per the Standard, not emitted: *closed = false).
 * *self_close: the tag ended in "/>". */
static size_t parse_attrs(const char *h, size_t len, size_t i, attr *a, int *na, bool *self_close, bool *closed)
{
    *na = 0;
    *self_close = false;
    *closed = false;
    for (;;) {
        bool slash = false; /* a '/' right before '>' outside a value: "/>" */
        while (i < len && (is_ws((unsigned char)h[i]) || h[i] == '/'))
            slash = h[i++] == '/';
        if (i >= len)
            return len;
        if (h[i] == '>') {
            *self_close = slash;
            *closed = true;
            return i + 1;
        }
        size_t ns = i;
        i++; /* the first character may be '=' */
        while (i < len && !is_ws((unsigned char)h[i]) && h[i] != '/' && h[i] != '>' && h[i] != '=')
            i++;
        size_t ne = i;
        while (i < len && is_ws((unsigned char)h[i]))
            i++;
        const char *val = NULL;
        size_t vlen = 0;
        if (i < len && h[i] == '=') {
            i++;
            while (i < len && is_ws((unsigned char)h[i]))
                i++;
            if (i < len && (h[i] == '"' || h[i] == '\'')) {
                const char *q = memchr(h + i + 1, h[i], len - i - 1);
                size_t qe = q ? (size_t)(q - h) : len;
                val = h + i + 1;
                vlen = qe - i - 1;
                i = q ? qe + 1 : len;
            } else {
                size_t vs = i;
                while (i < len && !is_ws((unsigned char)h[i]) && h[i] != '>')
                    i++;
                val = h + vs;
                vlen = i - vs;
            }
        } else {
            val = h + ne; /* no value: the empty string */
            vlen = 0;
        }
        /* duplicate attributes: the first wins */
        bool dup = false;
        for (int k = 0; k < *na && !dup; k++)
            dup = a[k].nlen == ne - ns && strncasecmp(a[k].name, h + ns, ne - ns) == 0;
        if (!dup && *na < MAX_ATTRS)
            a[(*na)++] = (attr){h + ns, ne - ns, val, vlen};
    }
}

static bool is_breakout(const char *t, size_t tl, const attr *a, int na)
{
    static const char *const tags[] = {"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl",
                                       "dt", "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i",
                                       "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby",
                                       "s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u",
                                       "ul", "var"};
    for (size_t k = 0; k < sizeof tags / sizeof tags[0]; k++)
        if (strlen(tags[k]) == tl && memcmp(tags[k], t, tl) == 0)
            return true;
    return tl == 4 && memcmp(t, "font", 4) == 0 &&
           (find(a, na, "color") || find(a, na, "face") || find(a, na, "size"));
}

static bool is_integration_point(bool svg, const char *t, size_t tl, const attr *a, int na)
{
#define IS(s) (tl == sizeof(s) - 1 && memcmp(t, s, tl) == 0)
    if (svg)
        return IS("foreignobject") || IS("desc") || IS("title");
    if (IS("mi") || IS("mo") || IS("mn") || IS("ms") || IS("mtext"))
        return true;
    if (IS("annotation-xml")) {
        const attr *e = find(a, na, "encoding");
        return e && e->val &&
               ((e->vlen == 9 && strncasecmp(e->val, "text/html", 9) == 0) ||
                (e->vlen == 21 && strncasecmp(e->val, "application/xhtml+xml", 21) == 0));
    }
    return false;
#undef IS
}

/* "</script" or "<script" at h[j] followed by whitespace, '/' or '>'. */
static bool script_tag_at(const char *h, size_t len, size_t j, bool end)
{
    size_t k = j + 1 + end;
    if (end && (j + 1 >= len || h[j + 1] != '/'))
        return false;
    return k + 6 < len && strncasecmp(h + k, "script", 6) == 0 &&
           (is_ws((unsigned char)h[k + 6]) || h[k + 6] == '/' || h[k + 6] == '>');
}

/* Script data, with the Standard's escape states: after "<!--", a
 * "<script" starts a double-escaped run in which "</script" does not end the
 * script (it only ends the run); "-->" goes back to plain script data.
 * Returns the index of the '<' of the closing "</script". */
static size_t skip_script(const char *h, size_t len, size_t i)
{
    enum { DATA, ESCAPED, DOUBLE } st = DATA;
    for (; i < len; i++) {
        char ch = h[i];
        if (ch == '-' && st != DATA) {
            if (i + 2 < len && h[i + 1] == '-' && h[i + 2] == '>') {
                st = DATA;
                i += 2;
            }
        } else if (ch == '<') {
            if (st == DATA && i + 3 < len && h[i + 1] == '!' && h[i + 2] == '-' && h[i + 3] == '-') {
                st = ESCAPED;
                i += 1; /* the next '-' may already close it: "<!-->" */
            } else if (script_tag_at(h, len, i, true)) {
                if (st != DOUBLE)
                    return i;
                st = ESCAPED;
            } else if (st == ESCAPED && script_tag_at(h, len, i, false)) {
                st = DOUBLE;
            }
        }
    }
    return len;
}

/* Where the text after a start tag ends: the index of the '<' of the
 * "</name" that closes raw text or RCDATA, or i for any other tag. */
static size_t raw_text_end(const char *h, size_t len, size_t i, const char *tag, size_t tl)
{
    static const struct {
        const char *name;
        size_t len;
    } raw[] = {{"xmp", 3}, {"style", 5}, {"title", 5}, {"iframe", 6}, {"noembed", 7}, {"textarea", 8}, {"noframes", 8}};
    if (tl == 6 && !memcmp(tag, "script", 6))
        return skip_script(h, len, i);
    if (tl == 9 && !memcmp(tag, "plaintext", 9))
        return len; /* everything after is text */
    for (size_t k = 0; k < sizeof raw / sizeof raw[0]; k++)
        if (raw[k].len == tl && !memcmp(tag, raw[k].name, tl))
            return skip_raw(h, len, i, tag, tl);
    return i;
}

/* What the tree builder does to the tokenizer, as far as links need it:
 * foreign content (inline SVG and MathML) never switches to raw text and has
 * real CDATA sections; an HTML "breakout" tag ends it; integration points
 * (svg foreignObject, desc, title; MathML text elements, annotation-xml
 * holding HTML) hold HTML again, which may nest foreign content (a small
 * stack). And inside <select> most start tags are dropped unseen, so an
 * ignored <style> or <title> switches nothing. */
#define TREE_DEPTH 8
typedef struct tree {
    struct {
        int foreign;  /* open svg/math elements (0: HTML content) */
        int anchors;  /* open foreign <a> elements */
        bool svg;     /* ... in the SVG namespace (else MathML) */
        char ip[16];  /* the integration point we are in, if any */
    } f[TREE_DEPTH];
    int sp;
    bool in_select;
    bool select_in_table; /* table tags close this select */
    int tables;           /* open <table> elements */
    bool a_open;          /* an <a> is open: "</a>" in foreign content ends it */
} tree;

static bool tree_in_foreign(const tree *t) { return t->f[t->sp].foreign > 0 && !t->f[t->sp].ip[0]; }

static void tree_leave_foreign(tree *t)
{
    if (t->sp > 0)
        t->sp--;
    else
        t->f[0].foreign = 0;
}

#define TAG_IS(s) (tl == sizeof(s) - 1 && memcmp(tag, s, tl) == 0)

static void tree_end_tag(tree *t, const char *tag, size_t tl)
{
    bool svg_math = TAG_IS("svg") || TAG_IS("math");
    if (t->in_select && !tree_in_foreign(t) && TAG_IS("select"))
        t->in_select = false;
    if (t->f[t->sp].ip[0] && strcmp(tag, t->f[t->sp].ip) == 0) {
        t->f[t->sp].ip[0] = 0;
    } else if (t->f[t->sp].foreign > 0 && svg_math) {
        t->f[t->sp].ip[0] = 0;
        if (--t->f[t->sp].foreign == 0 && t->sp > 0)
            t->sp--;
    } else if (tree_in_foreign(t) && TAG_IS("a") && t->f[t->sp].anchors > 0) {
        t->f[t->sp].anchors--; /* closes a foreign <a> */
    } else if (tree_in_foreign(t) && (TAG_IS("br") || TAG_IS("p") || (TAG_IS("a") && t->a_open))) {
        tree_leave_foreign(t); /* for </a>: the adoption agency pops up to the <a> */
        t->a_open = false;
    } else if (!tree_in_foreign(t)) {
        if (TAG_IS("a"))
            t->a_open = false;
        else if (TAG_IS("table") && t->tables > 0)
            t->tables--;
    }
}

/* A start tag; true when the tokenizer then reads raw text or RCDATA if the
 * tag is one of those elements. */
static bool tree_start_tag(tree *t, const char *tag, size_t tl, const attr *a, int na, bool self_close)
{
    bool svg_math = TAG_IS("svg") || TAG_IS("math");
    if (tree_in_foreign(t)) {
        if (!is_breakout(tag, tl, a, na)) {
            if (svg_math && !self_close)
                t->f[t->sp].foreign++;
            else if (TAG_IS("a") && !self_close)
                t->f[t->sp].anchors++;
            else if (!self_close && is_integration_point(t->f[t->sp].svg, tag, tl, a, na))
                memcpy(t->f[t->sp].ip, tag, tl + 1);
            return false;
        }
        tree_leave_foreign(t); /* back in HTML content */
    }
    if (t->in_select) {
        /* <script> is processed; select, input, keygen and textarea close the
         * select; template content is parsed as in the body again. */
        if (TAG_IS("script"))
            return true;
        bool table_tag = TAG_IS("caption") || TAG_IS("table") || TAG_IS("tbody") || TAG_IS("tfoot") ||
                         TAG_IS("thead") || TAG_IS("tr") || TAG_IS("td") || TAG_IS("th");
        if (!(TAG_IS("input") || TAG_IS("keygen") || TAG_IS("textarea") || TAG_IS("template") || TAG_IS("select") ||
              (t->select_in_table && table_tag)))
            return false;
        t->in_select = false;
        if (TAG_IS("select"))
            return false; /* a nested <select> only closes the open one */
    }
    if (svg_math && !self_close) {
        if (t->f[t->sp].ip[0]) {
            if (t->sp + 1 >= TREE_DEPTH)
                return false;
            t->sp++;
            t->f[t->sp].ip[0] = 0;
        }
        t->f[t->sp].foreign = 1;
        t->f[t->sp].anchors = 0;
        t->f[t->sp].svg = tl == 3;
        return false;
    }
    if (TAG_IS("select")) {
        t->in_select = true;
        t->select_in_table = t->tables > 0;
    } else if (TAG_IS("table")) {
        t->tables++;
        t->a_open = false; /* an <a> outside the table is out of scope inside it */
    } else if (TAG_IS("a")) {
        t->a_open = true;
    }
    return true;
}

#undef TAG_IS

size_t links_extract(const char *h, size_t len, size_t max, links_fn fn, void *ud, links_info *info)
{
    ctx c = {.fn = fn, .ud = ud, .info = info, .max = max};
    memset(info, 0, sizeof *info);
    attr a[MAX_ATTRS];
    tree t;
    memset(&t, 0, sizeof t);
    size_t i = 0;
    while (i < len) {
        const char *lt = memchr(h + i, '<', len - i);
        if (!lt)
            break;
        i = (size_t)(lt - h) + 1;
        if (i >= len)
            break;
        unsigned char ch = (unsigned char)h[i];
        if (ch == '!') {
            if (tree_in_foreign(&t) && len - i >= 8 && memcmp(h + i + 1, "[CDATA[", 7) == 0) {
                const char *e = memmem(h + i + 8, len - i - 8, "]]>", 3);
                i = e ? (size_t)(e - h) + 3 : len;
            } else {
                i = skip_decl(h, len, i + 1);
            }
            continue;
        }
        if (ch == '?') {
            const char *gt = memchr(h + i, '>', len - i);
            i = gt ? (size_t)(gt - h) + 1 : len;
            continue;
        }
        bool end = ch == '/';
        if (end) {
            i++;
            if (i < len && h[i] == '>') { /* "</>" is ignored */
                i++;
                continue;
            }
            if (i < len && !isalpha((unsigned char)h[i])) { /* bogus comment */
                const char *gt = memchr(h + i, '>', len - i);
                i = gt ? (size_t)(gt - h) + 1 : len;
                continue;
            }
        } else if (!isalpha(ch)) {
            continue; /* a '<' in text */
        }
        size_t ns = i;
        while (i < len && !is_ws((unsigned char)h[i]) && h[i] != '/' && h[i] != '>')
            i++;
        char tag[16];
        size_t tl = i - ns;
        bool interesting = tl < sizeof tag;
        if (interesting) {
            for (size_t k = 0; k < tl; k++)
                tag[k] = (char)tolower((unsigned char)h[ns + k]);
            tag[tl] = 0;
        }
        int na;
        bool self_close, closed;
        i = parse_attrs(h, len, i, a, &na, &self_close, &closed);
        if (!interesting || !closed)
            continue; /* a tag cut off by the end of the document is dropped */
        if (end) {
            tree_end_tag(&t, tag, tl);
            continue;
        }
        element(&c, tag, tl, a, na);
        if (tree_start_tag(&t, tag, tl, a, na, self_close))
            i = raw_text_end(h, len, i, tag, tl); /* raw text and RCDATA: no tags inside */
    }
    free(c.buf);
    info->found = c.count;
    return c.count;
}
