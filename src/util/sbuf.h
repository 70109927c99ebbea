/* sbuf: a growable string buffer, the one way crawl builds text of a length
 * not known in advance (WARC headers, paths, messages), instead of printf
 * arithmetic into fixed arrays. Always NUL-terminated once anything was
 * added. An allocation failure is sticky: the text is freed (p is NULL,
 * len 0), later calls do nothing and sbuf_failed() says so, so a caller
 * checks once at the end and never uses half a text.
 *
 * Threads: any; one buffer belongs to one thread at a time. Ownership: the
 * caller owns the struct (embed it, zero-initialise or SBUF_INIT) and frees
 * the text with sbuf_free, or takes it with sbuf_take.
 */
#ifndef CRAWL_UTIL_SBUF_H
#define CRAWL_UTIL_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct sbuf {
    char *p;
    size_t len, cap;
    size_t limit; /* 0 = none; past it, adds fail with failed = true */
    bool failed;
} sbuf;

#define SBUF_INIT            \
    {                        \
        NULL, 0, 0, 0, false \
    }

/* Append n bytes of s. false once the buffer has failed. */
bool sbuf_add(sbuf *b, const void *s, size_t n);
bool sbuf_adds(sbuf *b, const char *s);
bool sbuf_addc(sbuf *b, char c);
/* Mark b failed (a part built elsewhere ran out of memory); returns false. */
bool sbuf_fail(sbuf *b);
bool sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sbuf_vprintf(sbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drop the contents, keep the memory. */
void sbuf_reset(sbuf *b);
/* The text ("" when empty), valid until the next change. */
const char *sbuf_str(const sbuf *b);
static inline bool sbuf_failed(const sbuf *b) { return b->failed; }
/* Hand the malloc'd text to the caller (NULL on failure); the buffer is emptied. */
char *sbuf_take(sbuf *b);
void sbuf_free(sbuf *b);

#endif
