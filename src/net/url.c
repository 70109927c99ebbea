/* url: see url.h. */
#include "url.h"
#include "util/sbuf.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <idn2.h>
#include <stdint.h>
#include <stdio.h>

/* WHATWG preprocessing: trim C0 controls and spaces, drop tab/LF/CR. */
static char *preprocess(const char *in)
{
    size_t n = strlen(in);
    const char *s = in, *e = in + n;
    while (s < e && (unsigned char)*s <= 0x20)
        s++;
    while (e > s && (unsigned char)e[-1] <= 0x20)
        e--;
    char *out = malloc((size_t)(e - s) + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (; s < e; s++)
        if (*s != '\t' && *s != '\n' && *s != '\r')
            out[k++] = *s;
    out[k] = 0;
    return out;
}

/* Length of a leading "scheme:" (scheme only), or 0. */
static size_t scheme_len(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

static bool is_special(const char *scheme, size_t n)
{
    return (n == 4 && strncasecmp(scheme, "http", 4) == 0) || (n == 5 && strncasecmp(scheme, "https", 5) == 0);
}

/* Percent-encode per the WHATWG sets: which == 'p' path, 'q' query,
 * 'f' fragment. Existing %xx escapes are kept. */
static bool encode_part(sbuf *b, const char *s, size_t n, char which)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool enc = c < 0x21 || c >= 0x7F || c == '"' || c == '<' || c == '>';
        if (which == 'p')
            enc |= c == '`' || c == '{' || c == '}' || c == '^' || c == '|';
        else if (which == 'q')
            enc |= c == '\'';
        else if (which == 'f')
            enc |= c == '`';
        if (c == '%' && !(i + 2 < n + 0 && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])))
            enc = false; /* a lone % is kept as-is, as browsers do */
        if (enc) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (!sbuf_add(b, e, 3))
                return false;
        } else if (!sbuf_addc(b, (char)c)) {
            return false;
        }
    }
    return true;
}

/* ---- hosts (WHATWG host parser, for http and https) ------------------------ */

static bool forbidden_domain_cp(unsigned char c)
{
    return c <= 0x20 || c == 0x7F || strchr("#%/:<>?@[\\]^|", c) != NULL;
}

/* Parse one IPv4 number (decimal, 0x hex, leading-0 octal). */
static bool ipv4_number(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    int base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        s += 1;
        n -= 1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], d;
        if (isdigit(c))
            d = c - '0';
        else if (base == 16 && isxdigit(c))
            d = tolower(c) - 'a' + 10;
        else
            return false;
        if (d >= base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
        if (v > 0xFFFFFFFFULL * 256)
            v = 0xFFFFFFFFULL * 256; /* saturate: too large either way */
    }
    *out = v;
    return true;
}

/* Does the host "end in a number" (so it must parse as IPv4)? */
static bool ends_in_number(const char *h)
{
    size_t n = strlen(h);
    if (n && h[n - 1] == '.')
        n--;
    size_t start = n;
    while (start > 0 && h[start - 1] != '.')
        start--;
    const char *last = h + start;
    size_t ln = n - start;
    if (ln == 0)
        return false;
    bool digits = true;
    for (size_t i = 0; i < ln; i++)
        digits &= isdigit((unsigned char)last[i]) != 0;
    if (digits)
        return true;
    if (ln >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
        for (size_t i = 2; i < ln; i++)
            if (!isxdigit((unsigned char)last[i]))
                return false;
        return true;
    }
    return false;
}

static bool ipv4_parse(const char *h, sbuf *out)
{
    size_t n = strlen(h);
    if (n && h[n - 1] == '.')
        n--;
    uint64_t parts[4];
    int np = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && h[j] != '.')
            j++;
        if (np == 4 || !ipv4_number(h + i, j - i, &parts[np]))
            return false;
        np++;
        i = j + 1;
        if (j == n)
            break;
    }
    for (int k = 0; k < np - 1; k++)
        if (parts[k] > 255)
            return false;
    uint64_t limit = 1ULL << (8 * (5 - np));
    if (parts[np - 1] >= limit)
        return false;
    uint64_t v = parts[np - 1];
    for (int k = 0; k < np - 1; k++)
        v += parts[k] << (8 * (3 - k));
    char buf[32];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u", (unsigned)(v >> 24) & 255, (unsigned)(v >> 16) & 255,
             (unsigned)(v >> 8) & 255, (unsigned)v & 255);
    return sbuf_add(out, buf, strlen(buf));
}

/* IPv6 in brackets, serialized the WHATWG way (longest zero run compressed,
 * no embedded IPv4 form). */
static bool ipv6_parse(const char *h, size_t n, sbuf *out)
{
    char tmp[64];
    if (n < 2 || n - 2 >= sizeof tmp || h[n - 1] != ']')
        return false;
    memcpy(tmp, h + 1, n - 2);
    tmp[n - 2] = 0;
    unsigned char a[16];
    if (inet_pton(AF_INET6, tmp, a) != 1)
        return false;
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int best = -1, blen = 1;
    for (int i = 0; i < 8;) {
        if (w[i] == 0) {
            int j = i;
            while (j < 8 && w[j] == 0)
                j++;
            if (j - i > blen) {
                best = i;
                blen = j - i;
            }
            i = j;
        } else {
            i++;
        }
    }
    sbuf_addc(out, '[');
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            sbuf_add(out, i == 0 ? "::" : ":", i == 0 ? 2 : 1);
            i += blen - 1;
            continue;
        }
        char buf[8];
        snprintf(buf, sizeof buf, "%x", w[i]);
        sbuf_add(out, buf, strlen(buf));
        if (i < 7)
            sbuf_addc(out, ':');
    }
    return sbuf_addc(out, ']');
}

static int hexv(int c) { return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10; }

static bool host_parse(const char *h, size_t n, sbuf *out)
{
    if (n == 0)
        return false;
    if (h[0] == '[')
        return ipv6_parse(h, n, out);
    /* percent-decode */
    char *dec = malloc(n + 1);
    if (!dec)
        return sbuf_fail(out);
    size_t k = 0;
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '%' && i + 2 < n + 0 && isxdigit((unsigned char)h[i + 1]) && isxdigit((unsigned char)h[i + 2])) {
            dec[k++] = (char)(hexv((unsigned char)h[i + 1]) * 16 + hexv((unsigned char)h[i + 2]));
            i += 2;
        } else {
            dec[k++] = h[i];
        }
        ascii &= (unsigned char)dec[k - 1] < 0x80;
    }
    dec[k] = 0;
    if (memchr(dec, 0, k)) {
        free(dec);
        return false;
    }
    char *ascii_host = NULL;
    if (ascii) {
        ascii_host = strdup(dec);
        if (!ascii_host) {
            free(dec);
            return sbuf_fail(out);
        }
        for (char *p = ascii_host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    } else if (idn2_to_ascii_8z(dec, &ascii_host, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
        ascii_host = NULL;
    }
    free(dec);
    if (!ascii_host || !*ascii_host) {
        free(ascii_host);
        return false;
    }
    bool ok = true;
    for (const char *p = ascii_host; *p && ok; p++)
        ok = !forbidden_domain_cp((unsigned char)*p);
    if (ok) {
        if (ends_in_number(ascii_host))
            ok = ipv4_parse(ascii_host, out);
        else
            ok = sbuf_add(out, ascii_host, strlen(ascii_host));
    }
    free(ascii_host);
    return ok;
}

/* ---- the parts after the host ------------------------------------------------- */

static bool is_dot(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 3 && strncasecmp(s, "%2e", 3) == 0);
}

static bool is_dotdot(const char *s, size_t n)
{
    if (n == 2)
        return s[0] == '.' && s[1] == '.';
    if (n == 4)
        return (s[0] == '.' && strncasecmp(s + 1, "%2e", 3) == 0) || (strncasecmp(s, "%2e", 3) == 0 && s[3] == '.');
    return n == 6 && strncasecmp(s, "%2e%2e", 6) == 0;
}

/* Path: backslashes as slashes, %2e dot segments spelled as dots (libcurl
 * then removes dot segments), and percent-encoded. */
static bool encode_path(sbuf *b, const char *s, size_t n)
{
    sbuf t = SBUF_INIT;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '/' && s[j] != '\\')
            j++;
        if (is_dot(s + i, j - i))
            sbuf_addc(&t, '.');
        else if (is_dotdot(s + i, j - i))
            sbuf_add(&t, "..", 2);
        else
            sbuf_add(&t, s + i, j - i);
        if (j < n)
            sbuf_addc(&t, '/');
        i = j + 1;
    }
    if (t.failed)
        return sbuf_fail(b);
    bool ok = encode_part(b, t.p ? t.p : "", t.len, 'p');
    free(t.p);
    return ok;
}

/* Path, query and fragment of a reference, encoded. */
static void encode_tail(sbuf *b, const char *p, bool *q_empty, bool *f_empty)
{
    size_t plen = strcspn(p, "?#");
    encode_path(b, p, plen);
    p += plen;
    *q_empty = *f_empty = false;
    if (*p == '?') {
        size_t qlen = strcspn(p + 1, "#");
        *q_empty = qlen == 0;
        sbuf_addc(b, '?');
        encode_part(b, p + 1, qlen, 'q');
        p += 1 + qlen;
    }
    if (*p == '#') {
        *f_empty = p[1] == 0;
        sbuf_addc(b, '#');
        encode_part(b, p + 1, strlen(p + 1), 'f');
    }
}

static void encode_userinfo(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c >= 0x7F || strchr("\"#<>?`{}/:;=@[\\]^|", c)) {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sbuf_add(b, e, 3);
        } else {
            sbuf_addc(b, (char)c);
        }
    }
}

/* scheme + everything after "scheme:" of an absolute special URL, made into
 * a string libcurl parses the way browsers would. NULL if invalid. */
static char *build_absolute(const char *scheme, size_t sl, const char *rest, bool *q_empty, bool *f_empty)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, scheme, sl);
    for (char *c = b.p; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    sbuf_add(&b, "://", 3);
    while (*rest == '/' || *rest == '\\')
        rest++;
    size_t alen = strcspn(rest, "/\\?#");
    const char *auth = rest, *aend = rest + alen;
    /* userinfo: up to the last '@' */
    const char *at = NULL;
    for (const char *p = auth; p < aend; p++)
        if (*p == '@')
            at = p;
    const char *hp = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        const char *ue = colon ? colon : at;
        sbuf ui = SBUF_INIT;
        encode_userinfo(&ui, auth, (size_t)(ue - auth));
        if (colon && at - colon > 1) {
            sbuf_addc(&ui, ':');
            encode_userinfo(&ui, colon + 1, (size_t)(at - colon - 1));
        }
        if (ui.failed) {
            free(b.p);
            return NULL;
        }
        if (ui.len) {
            sbuf_add(&b, ui.p, ui.len);
            sbuf_addc(&b, '@');
        }
        free(ui.p);
        hp = at + 1;
    }
    /* host and port */
    const char *pe = aend, *colon = NULL;
    bool in_brackets = false;
    for (const char *p = hp; p < aend; p++) {
        if (*p == '[')
            in_brackets = true;
        else if (*p == ']')
            in_brackets = false;
        else if (*p == ':' && !in_brackets)
            colon = p;
    }
    const char *hend = colon ? colon : pe;
    if (!host_parse(hp, (size_t)(hend - hp), &b))
        goto fail;
    if (colon) {
        const char *d = colon + 1;
        size_t dn = (size_t)(aend - d);
        if (dn) {
            unsigned long port = 0;
            for (size_t i = 0; i < dn; i++) {
                if (!isdigit((unsigned char)d[i]))
                    goto fail;
                port = port * 10 + (unsigned long)(d[i] - '0');
                if (port > 65535)
                    goto fail;
            }
            bool dflt = (sl == 4 && port == 80) || (sl == 5 && port == 443);
            if (!dflt) {
                char buf[16];
                snprintf(buf, sizeof buf, ":%lu", port);
                sbuf_add(&b, buf, strlen(buf));
            }
        }
    }
    if (*aend != '/' && *aend != '\\')
        sbuf_addc(&b, '/');
    encode_tail(&b, aend, q_empty, f_empty);
    return b.p;
fail:
    free(b.p);
    return NULL;
}

/* Serialize, restoring an empty query or fragment that libcurl drops. */
static char *serialize(CURLU *u, bool q_empty, bool f_empty)
{
    char *scheme = NULL, *url = NULL, *out = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !is_special(scheme, strlen(scheme)))
        goto done;
    if (curl_url_get(u, CURLUPART_URL, &url, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
        goto done;
    sbuf b = SBUF_INIT;
    size_t hash = strcspn(url, "#");
    sbuf_add(&b, url, hash);
    if (q_empty && !memchr(url, '?', hash))
        sbuf_addc(&b, '?');
    sbuf_add(&b, url + hash, strlen(url + hash));
    if (f_empty && !url[hash])
        sbuf_addc(&b, '#');
    out = b.p;
done:
    curl_free(url);
    curl_free(scheme);
    return out;
}

static size_t remove_dot_segments(const char *in, size_t n, char *out);

/* Resolve the encoded reference ref ("path?query#fragment", the path not
 * starting with "//") against the URL in u, in place. false: not done (a
 * path too deep for remove_dot_segments, or no memory); u is unchanged. */
static bool resolve_path(CURLU *u, const char *ref)
{
    size_t plen = strcspn(ref, "?#");
    char *bpath = NULL;
    sbuf merged = SBUF_INIT;
    if (ref[0] != '/') {
        curl_url_get(u, CURLUPART_PATH, &bpath, 0);
        const char *bp = bpath && bpath[0] == '/' ? bpath : "/";
        const char *slash = strrchr(bp, '/');
        sbuf_add(&merged, bp, (size_t)(slash - bp) + 1);
    }
    sbuf_add(&merged, ref, plen);
    curl_free(bpath);
    char *np = merged.p ? malloc(merged.len + 2) : NULL;
    size_t dl = np ? remove_dot_segments(merged.p, merged.len, np) : 0;
    free(merged.p);
    if (!dl) {
        free(np);
        return false;
    }
    np[dl] = 0;
    /* set as a whole absolute URL: setting the path part alone makes
     * libcurl lower-case its escapes */
    char *cur = NULL;
    bool ok = false;
    if (curl_url_get(u, CURLUPART_URL, &cur, 0) == CURLUE_OK) {
        const char *auth = strstr(cur, "://");
        size_t origin = auth ? (size_t)(auth + 3 - cur) + strcspn(auth + 3, "/?#") : 0;
        sbuf abs = SBUF_INIT;
        sbuf_add(&abs, cur, origin);
        sbuf_add(&abs, np, dl);
        sbuf_add(&abs, ref + plen, strlen(ref + plen));
        ok = auth && abs.p && curl_url_set(u, CURLUPART_URL, abs.p, 0) == CURLUE_OK;
        free(abs.p);
    }
    curl_free(cur);
    free(np);
    return ok;
}

char *url_resolve(const char *base, const char *ref)
{
    char *in = preprocess(ref);
    if (!in)
        return NULL;
    char *result = NULL, *abs = NULL, *bnorm = NULL;
    bool q_empty = false, f_empty = false;
    CURLU *u = curl_url();
    if (!u)
        goto out;
    size_t sl = scheme_len(in);
    const char *rel = in;
    if (sl) {
        if (!is_special(in, sl))
            goto out; /* only http and https */
        const char *rest = in + sl + 1;
        bool two_slashes = (rest[0] == '/' || rest[0] == '\\') && (rest[1] == '/' || rest[1] == '\\');
        bool same = false;
        if (base) {
            size_t bsl = scheme_len(base);
            same = bsl == sl && strncasecmp(base, in, sl) == 0;
        }
        if (!same || two_slashes) {
            abs = build_absolute(in, sl, rest, &q_empty, &f_empty);
            if (abs && curl_url_set(u, CURLUPART_URL, abs, 0) == CURLUE_OK)
                result = serialize(u, q_empty, f_empty);
            goto out;
        }
        rel = rest; /* "http:foo" against an http base is relative */
    }
    if (!base)
        goto out;
    /* The base, as its own canonical form. */
    size_t bsl = scheme_len(base);
    if (!bsl || !is_special(base, bsl))
        goto out;
    bool bq, bf;
    bnorm = build_absolute(base, bsl, base + bsl + 1, &bq, &bf);
    if (!bnorm || curl_url_set(u, CURLUPART_URL, bnorm, 0) != CURLUE_OK)
        goto out;
    if ((rel[0] == '/' || rel[0] == '\\') && (rel[1] == '/' || rel[1] == '\\')) {
        abs = build_absolute(base, bsl, rel, &q_empty, &f_empty); /* scheme-relative */
        curl_url_cleanup(u);
        u = curl_url();
        if (abs && curl_url_set(u, CURLUPART_URL, abs, 0) == CURLUE_OK)
            result = serialize(u, q_empty, f_empty);
        goto out;
    }
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (rel[0] == 0) {
        result = serialize(u, bq && !strchr(rel, '?'), false);
        goto out;
    }
    if (rel[0] == '#') {
        /* the base without its fragment, then ours (appended as text:
         * libcurl would lower-case the escapes) */
        char *s0 = serialize(u, bq, false);
        sbuf f = SBUF_INIT;
        if (s0) {
            sbuf_add(&f, s0, strlen(s0));
            sbuf_addc(&f, '#');
            encode_part(&f, rel + 1, strlen(rel + 1), 'f');
        }
        free(s0);
        result = f.p;
        goto out;
    }
    sbuf r = SBUF_INIT;
    if (rel[0] == '?') {
        curl_url_set(u, CURLUPART_QUERY, NULL, 0);
        sbuf_addc(&r, '?');
        encode_tail(&r, "", &q_empty, &f_empty);
        size_t qlen = strcspn(rel + 1, "#");
        q_empty = qlen == 0;
        encode_part(&r, rel + 1, qlen, 'q');
        const char *fr = rel + 1 + qlen;
        if (*fr == '#') {
            f_empty = fr[1] == 0;
            sbuf_addc(&r, '#');
            encode_part(&r, fr + 1, strlen(fr + 1), 'f');
        }
        /* libcurl resolves "?q" against the base's path */
        char *path = NULL;
        curl_url_get(u, CURLUPART_PATH, &path, 0);
        sbuf full = SBUF_INIT;
        sbuf_add(&full, path ? path : "/", strlen(path ? path : "/"));
        sbuf_add(&full, r.p, r.len);
        curl_free(path);
        free(r.p);
        r = full;
    } else {
        encode_tail(&r, rel, &q_empty, &f_empty);
    }
    /* The path is merged here (RFC 3986 5.2.3, then dot segments removed),
     * not by libcurl: 7.88 drops empty segments ("a//b"), loses the last
     * segment of "../?", and reads a path starting "//" as a host (all
     * found by fuzz_url). */
    if (r.p && resolve_path(u, r.p)) {
        free(r.p);
        result = serialize(u, q_empty, f_empty);
        goto out;
    }
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, r.p ? r.p : "", 0);
    free(r.p);
    if (rc == CURLUE_OK)
        result = serialize(u, q_empty, f_empty);
out:
    curl_url_cleanup(u);
    free(abs);
    free(bnorm);
    free(in);
    return result;
}

static bool unreserved(int c) { return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

static int hexval(int c) { return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10; }

/* Upper-case escapes and decode unreserved characters in one component. */
static void norm_escapes(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '%' && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
            int c = hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]);
            /* a decoded hex digit after a lone '%' (or '%' and one hex digit)
             * would make a new escape, and normalizing again would change
             * the URL: keep that one encoded (found by fuzz_url) */
            bool makes_escape = isxdigit(c) && ((b->len >= 1 && b->p[b->len - 1] == '%') ||
                                                (b->len >= 2 && b->p[b->len - 2] == '%' &&
                                                 isxdigit((unsigned char)b->p[b->len - 1])));
            if (unreserved(c) && !makes_escape) {
                sbuf_addc(b, (char)c);
            } else {
                char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                sbuf_add(b, e, 3);
            }
            i += 2;
        } else {
            sbuf_addc(b, s[i]);
        }
    }
}

char *url_normalize(const char *url)
{
    char *r = url_resolve(NULL, url);
    if (!r)
        return NULL;
    CURLU *u = curl_url();
    char *out = NULL, *path = NULL, *query = NULL;
    if (curl_url_set(u, CURLUPART_URL, r, 0) == CURLUE_OK) {
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        sbuf b = SBUF_INIT;
        if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
            norm_escapes(&b, path);
            curl_url_set(u, CURLUPART_PATH, b.p ? b.p : "/", 0);
            free(b.p);
            b = (sbuf){0};
        }
        if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
            norm_escapes(&b, query);
            curl_url_set(u, CURLUPART_QUERY, b.p ? b.p : "", 0);
            free(b.p);
        }
        out = serialize(u, false, false);
        /* RFC 3986 6.2.2.1: escapes in upper case (libcurl lower-cases them) */
        for (char *q = out ? strchr(out, '%') : NULL; q; q = strchr(q + 1, '%'))
            if (isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
                q[1] = (char)toupper((unsigned char)q[1]);
                q[2] = (char)toupper((unsigned char)q[2]);
            }
    }
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    free(r);
    return out;
}

/* Characters a reference may hold for the fast path: nothing that needs
 * percent-encoding, decoding or case changes. */
static bool plain_char(unsigned char c)
{
    return isalnum(c) || strchr("-._~!$&()*+,;=:@/?", c) != NULL;
}

/* RFC 3986 5.2.4 on a path that starts with '/': writes into out (at least
 * n + 1 bytes). Returns the length, or 0 if the path has too many segments
 * for this fast version. */
static size_t remove_dot_segments(const char *in, size_t n, char *out)
{
    enum { MAXSEG = 256 };
    const char *sp[MAXSEG];
    size_t sl[MAXSEG];
    int ns = 0;
    bool trailing = false;
    size_t i = 1; /* after the leading '/' */
    for (;;) {
        size_t j = i;
        while (j < n && in[j] != '/')
            j++;
        const char *seg = in + i;
        size_t len = j - i;
        bool last = j >= n;
        if (len == 1 && seg[0] == '.') {
            trailing = last;
        } else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (ns > 0)
                ns--;
            trailing = last;
        } else {
            if (ns == MAXSEG)
                return 0;
            sp[ns] = seg;
            sl[ns++] = len;
            trailing = false;
        }
        if (last)
            break;
        i = j + 1;
    }
    size_t k = 0;
    for (int x = 0; x < ns; x++) {
        out[k++] = '/';
        memcpy(out + k, sp[x], sl[x]);
        k += sl[x];
    }
    if (trailing || ns == 0)
        out[k++] = '/';
    return k;
}

char *url_resolve_normalized(const char *base, const char *ref)
{
    size_t rl = strcspn(ref, "#"); /* the fragment goes anyway */
    if (base && rl == 0 && strchr(base, '#') == NULL)
        return strdup(base); /* "" or "#anchor": this very page */
    if (base && ref[0] == '?' && !strchr(base, '#')) {
        bool plain = true;
        for (size_t i = 1; plain && i < rl; i++)
            plain = plain_char((unsigned char)ref[i]);
        if (plain) { /* "?query": the base's path with this query */
            size_t bl = strcspn(base, "?");
            char *out = malloc(bl + rl + 1);
            if (!out)
                return NULL;
            memcpy(out, base, bl);
            memcpy(out + bl, ref, rl);
            out[bl + rl] = 0;
            if (rl == 1) /* a bare "?" keeps an empty query, which normalization drops */
                out[bl] = 0;
            return out;
        }
    }
    bool fast = base && rl > 0 && ref[0] != '?';
    for (size_t i = 0; fast && i < rl; i++)
        fast = plain_char((unsigned char)ref[i]);
    if (fast) {
        /* no scheme: a ':' must not come before the first '/' or '?' */
        size_t first = strcspn(ref, "/?:");
        fast = ref[first] != ':' && !(ref[0] == '/' && ref[1] == '/');
    }
    const char *auth = fast ? strstr(base, "://") : NULL;
    if (auth) {
        const char *path = auth + 3 + strcspn(auth + 3, "/?#");
        size_t origin = (size_t)(path - base);
        /* the merged path (RFC 3986 5.2.3), then its query */
        size_t rp = strcspn(ref, "?");
        if (rp > rl)
            rp = rl;
        size_t cap = origin + strlen(path) + rl + 4;
        char *merged = malloc(cap), *out = malloc(cap);
        if (!merged || !out) {
            free(merged);
            free(out);
            return NULL;
        }
        size_t m = 0;
        if (ref[0] != '/') {
            const char *q = path + strcspn(path, "?#");
            const char *slash = q;
            while (slash > path && slash[-1] != '/')
                slash--;
            if (slash == path) {
                merged[m++] = '/';
            } else {
                memcpy(merged, path, (size_t)(slash - path));
                m = (size_t)(slash - path);
            }
        }
        memcpy(merged + m, ref, rp);
        m += rp;
        memcpy(out, base, origin);
        size_t dl = remove_dot_segments(merged, m, out + origin);
        if (dl == 0) { /* very deep path: the general way */
            free(merged);
            free(out);
            char *abs = url_resolve(base, ref);
            char *n = abs ? url_normalize(abs) : NULL;
            free(abs);
            return n;
        }
        size_t k = origin + dl;
        if (rl - rp > 1) { /* the query, if any; an empty one ("x?") is dropped, as url_normalize does */
            memcpy(out + k, ref + rp, rl - rp);
            k += rl - rp;
        }
        out[k] = 0;
        free(merged);
        return out;
    }
    char *abs = url_resolve(base, ref);
    char *n = abs ? url_normalize(abs) : NULL;
    free(abs);
    return n;
}

/* Where the password of the first "scheme://user:password@" at or after s
 * starts and ends (*pe), or NULL. */
static const char *redact_span(const char *s, const char **pe)
{
    for (const char *p = strstr(s, "://"); p; p = strstr(p + 3, "://")) {
        const char *a = p + 3;
        size_t alen = strcspn(a, "/?#\\ \t\r\n\"'<>");
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (a[i] == '@')
                at = a + i; /* the last '@' ends the userinfo */
        if (!at)
            continue;
        const char *colon = memchr(a, ':', (size_t)(at - a));
        if (!colon || colon + 1 == at)
            continue; /* no password, or an empty one */
        *pe = at;
        return colon + 1;
    }
    return NULL;
}

char *url_redact(const char *text, int *oom)
{
    *oom = 0;
    const char *end;
    const char *pw = text ? redact_span(text, &end) : NULL;
    if (!pw)
        return NULL;
    sbuf b = SBUF_INIT;
    const char *s = text;
    while (pw) {
        sbuf_add(&b, s, (size_t)(pw - s));
        sbuf_adds(&b, "***");
        s = end;
        pw = redact_span(s, &end);
    }
    sbuf_adds(&b, s);
    char *r = sbuf_take(&b);
    if (!r)
        *oom = 1;
    return r;
}

const char *url_printable(const char *text, char **tmp)
{
    int oom;
    *tmp = url_redact(text, &oom);
    if (oom)
        return "(a URL: out of memory)";
    return *tmp ? *tmp : text;
}
