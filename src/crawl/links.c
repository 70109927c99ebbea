/* links: see links.h. */
#include "links.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
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

/* Decode character references in an attribute value into c->buf. */
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
            o[k++] = v[i];
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
            if (j == ds) { /* "&#" with no digits: literal */
                o[k++] = '&';
                continue;
            }
            if (j < n && v[j] == ';')
                j++;
            k += put_utf8(o + k, cp);
            i = j - 1;
            continue;
        }
        size_t ns = j;
        while (j < n && isalnum((unsigned char)v[j]) && j - ns < 32)
            j++;
        size_t nl = j - ns;
        bool semi = j < n && v[j] == ';';
        const htmlEntityDesc *e = NULL;
        if (nl) {
            char name[40];
            memcpy(name, v + ns, nl);
            name[nl] = 0;
            if (semi || ((j >= n || v[j] != '=') && (strcmp(name, "amp") == 0 || strcmp(name, "lt") == 0 ||
                                                      strcmp(name, "gt") == 0 || strcmp(name, "quot") == 0 ||
                                                      strcmp(name, "nbsp") == 0)))
                e = strcmp(name, "apos") == 0 ? NULL : htmlEntityLookup((const xmlChar *)name);
            if (!e && semi && strcmp(name, "apos") == 0) {
                o[k++] = '\'';
                i = j;
                continue;
            }
        }
        if (!e) {
            o[k++] = '&';
            continue;
        }
        k += put_utf8(o + k, e->value);
        i = semi ? j : j - 1;
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
 * Returns the index after '>' (or len). */
static size_t parse_attrs(const char *h, size_t len, size_t i, attr *a, int *na)
{
    *na = 0;
    for (;;) {
        while (i < len && (is_ws((unsigned char)h[i]) || h[i] == '/'))
            i++;
        if (i >= len)
            return len;
        if (h[i] == '>')
            return i + 1;
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

size_t links_extract(const char *h, size_t len, size_t max, links_fn fn, void *ud, links_info *info)
{
    ctx c = {.fn = fn, .ud = ud, .info = info, .max = max};
    memset(info, 0, sizeof *info);
    attr a[MAX_ATTRS];
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
            i = skip_decl(h, len, i + 1);
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
        if (interesting)
            for (size_t k = 0; k < tl; k++)
                tag[k] = (char)tolower((unsigned char)h[ns + k]);
        int na;
        i = parse_attrs(h, len, i, a, &na);
        if (end || !interesting)
            continue;
        tag[tl] = 0;
        element(&c, tag, tl, a, na);
        /* raw text and RCDATA: no tags inside */
        switch (tl) {
        case 3:
            if (!memcmp(tag, "xmp", 3))
                i = skip_raw(h, len, i, "xmp", 3);
            break;
        case 5:
            if (!memcmp(tag, "style", 5) || !memcmp(tag, "title", 5))
                i = skip_raw(h, len, i, tag, 5);
            break;
        case 6:
            if (!memcmp(tag, "script", 6) || !memcmp(tag, "iframe", 6))
                i = skip_raw(h, len, i, tag, 6);
            break;
        case 7:
            if (!memcmp(tag, "noembed", 7))
                i = skip_raw(h, len, i, tag, 7);
            break;
        case 8:
            if (!memcmp(tag, "textarea", 8) || !memcmp(tag, "noframes", 8))
                i = skip_raw(h, len, i, tag, 8);
            break;
        case 9:
            if (!memcmp(tag, "plaintext", 9))
                i = len; /* everything after is text */
            break;
        }
    }
    free(c.buf);
    info->found = c.count;
    return c.count;
}
