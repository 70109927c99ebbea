/* charset: see charset.h. */
#include "charset.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool charset_is_utf8(const char *cs)
{
    return !*cs || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
           strcasecmp(cs, "ascii") == 0;
}

/* The value after "charset=" in s (up to len bytes), into out. */
static bool charset_param(const char *s, size_t len, char *out, size_t outlen)
{
    for (size_t i = 0; i + 8 <= len; i++) {
        if (strncasecmp(s + i, "charset", 7) != 0)
            continue;
        size_t j = i + 7;
        while (j < len && isspace((unsigned char)s[j]))
            j++;
        if (j >= len || s[j] != '=')
            continue;
        j++;
        while (j < len && (isspace((unsigned char)s[j]) || s[j] == '"' || s[j] == '\''))
            j++;
        size_t k = 0;
        while (j < len && k + 1 < outlen && (isalnum((unsigned char)s[j]) || strchr("-_.:", s[j])))
            out[k++] = (char)tolower((unsigned char)s[j++]);
        out[k] = 0;
        return k > 0;
    }
    return false;
}

void charset_detect(const char *ct, const char *body, size_t len, char *out, size_t outlen)
{
    out[0] = 0;
    if (ct && charset_param(ct, strlen(ct), out, outlen))
        return;
    const unsigned char *b = (const unsigned char *)body;
    if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        snprintf(out, outlen, "utf-8");
        return;
    }
    if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
        snprintf(out, outlen, b[0] == 0xFF ? "utf-16le" : "utf-16be");
        return;
    }
    /* <meta charset=...> or <meta http-equiv=content-type content="...; charset=..."> */
    size_t n = len < 1024 ? len : 1024;
    for (size_t i = 0; i + 5 < n; i++) {
        if (body[i] != '<' || strncasecmp(body + i + 1, "meta", 4) != 0)
            continue;
        const char *gt = memchr(body + i, '>', n - i);
        size_t tl = gt ? (size_t)(gt - (body + i)) : n - i;
        if (charset_param(body + i, tl, out, outlen))
            return;
    }
    snprintf(out, outlen, "utf-8");
}

char *charset_to_utf8(const char *cs, const char *body, size_t len, size_t *outlen)
{
    if (charset_is_utf8(cs))
        return NULL;
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return NULL; /* unknown encoding: read as UTF-8 */
    size_t cap = len * 4 + 16, left = cap - 1;
    char *out = malloc(cap), *op = out;
    char *ip = (char *)body;
    size_t il = len;
    while (out && il > 0) {
        if (iconv(cd, &ip, &il, &op, &left) == (size_t)-1) {
            if (errno == EILSEQ || errno == EINVAL) { /* skip a bad byte, keep going */
                ip++;
                il--;
                continue;
            }
            break; /* E2BIG cannot happen: 4 bytes per input byte suffice */
        }
    }
    iconv_close(cd);
    if (!out)
        return NULL;
    *op = 0;
    *outlen = (size_t)(op - out);
    return out;
}

char *charset_link_query(const char *cs, const char *link)
{
    if (charset_is_utf8(cs))
        return NULL;
    const char *q = strchr(link, '?');
    if (!q)
        return NULL;
    size_t ql = strcspn(q + 1, "#");
    bool ascii = true;
    for (size_t i = 1; i <= ql && ascii; i++)
        ascii = (unsigned char)q[i] < 0x80;
    if (ascii)
        return NULL;
    char target[64];
    snprintf(target, sizeof target, "%s//TRANSLIT", cs);
    iconv_t cd = iconv_open(target, "UTF-8");
    if (cd == (iconv_t)-1)
        return NULL;
    size_t head = (size_t)(q + 1 - link), tail = strlen(q + 1 + ql);
    size_t cap = head + ql * 4 + tail + 16;
    char *out = malloc(cap);
    if (!out) {
        iconv_close(cd);
        return NULL;
    }
    memcpy(out, link, head);
    char *ip = (char *)q + 1, *op = out + head;
    size_t il = ql, left = cap - head - tail - 1;
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &left) == (size_t)-1) {
            if (left < 2)
                break;
            *op++ = '?'; /* not representable: as browsers substitute */
            left--;
            ip++;
            il--;
            while (il > 0 && ((unsigned char)*ip & 0xC0) == 0x80) { /* rest of that character */
                ip++;
                il--;
            }
        }
    }
    iconv_close(cd);
    memcpy(op, q + 1 + ql, tail);
    op[tail] = 0;
    return out;
}
