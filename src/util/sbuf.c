/* sbuf: see sbuf.h. */
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sbuf_fail(sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = true;
    return false;
}

static bool reserve(sbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > ((size_t)-1 >> 2) - b->len || (b->limit && b->len + extra > b->limit))
        return sbuf_fail(b);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np)
        return sbuf_fail(b);
    b->p = np;
    b->cap = cap;
    return true;
}

bool sbuf_add(sbuf *b, const void *s, size_t n)
{
    if (!reserve(b, n))
        return false;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return true;
}

bool sbuf_adds(sbuf *b, const char *s) { return sbuf_add(b, s, strlen(s)); }

bool sbuf_addc(sbuf *b, char c) { return sbuf_add(b, &c, 1); }

bool sbuf_vprintf(sbuf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return false;
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return sbuf_fail(b);
    if ((size_t)n >= room) {
        if (!reserve(b, (size_t)n))
            return false;
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    } else if (b->limit && b->len + (size_t)n > b->limit) {
        return sbuf_fail(b);
    }
    b->len += (size_t)n;
    return true;
}

bool sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = sbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

void sbuf_reset(sbuf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->p)
        b->p[0] = 0;
}

const char *sbuf_str(const sbuf *b) { return b->p ? b->p : ""; }

char *sbuf_take(sbuf *b)
{
    char *p = b->p;
    if (!p && !b->failed)
        p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return p;
}

void sbuf_free(sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
