/* xalloc: allocation for the command-line layer (option parsing, config
 * files, subcommands), which runs before any fetch: out of memory there
 * ends the process with "crawl: out of memory" and exit status 1, as git's
 * xmalloc does, instead of a crash. The engine below reports -ENOMEM as a
 * value instead. Header-only; any thread.
 */
#ifndef CRAWL_CLI_XALLOC_H
#define CRAWL_CLI_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void *xalloc_check(void *p)
{
    if (!p) {
        static const char msg[] = "crawl: out of memory\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1); /* stdio may need memory */
        (void)w;
        exit(1);
    }
    return p;
}

static inline void *xmalloc(size_t n) { return xalloc_check(malloc(n ? n : 1)); }
static inline void *xcalloc(size_t a, size_t b) { return xalloc_check(calloc(a ? a : 1, b ? b : 1)); }
static inline void *xrealloc(void *p, size_t n) { return xalloc_check(realloc(p, n ? n : 1)); }
/* NULL in, NULL out: a missing value stays missing. */
static inline char *xstrdup(const char *s) { return s ? xalloc_check(strdup(s)) : NULL; }
static inline char *xstrndup(const char *s, size_t n) { return xalloc_check(strndup(s, n)); }

#endif
