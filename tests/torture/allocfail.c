/* allocfail: an LD_PRELOAD library for allocation-failure injection, as
 * curl's torture tests do, but for every library in the process at once
 * (crawl's own code, libcurl, libevent, c-ares, jansson, SQLite, libxml2).
 *
 *   CRAWL_ALLOC_FAIL_AT=N   the Nth allocation (1 = the first) returns NULL
 *                           with errno ENOMEM; all others succeed
 *   CRAWL_ALLOC_COUNT=FILE  at exit, write how many allocations there were
 *                           and how many blocks were still not freed
 *
 * Counting starts when the process starts. Use it with a crawl built
 * without mimalloc (-DCRAWL_MIMALLOC=OFF): the shim forwards to glibc's own
 * allocator. tests/torture/torture.py drives it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

void *memalign(size_t al, size_t n);
void *valloc(size_t n);
void *reallocarray(void *p, size_t a, size_t b);

static atomic_long count;
static atomic_long live;  /* blocks allocated and not freed */
static long fail_at = -2; /* -2: not read yet, -1: never */

static int fail_now(void)
{
    if (fail_at == -2) {
        const char *s = getenv("CRAWL_ALLOC_FAIL_AT"); /* getenv does not allocate */
        fail_at = s ? atol(s) : -1;
    }
    long n = atomic_fetch_add(&count, 1) + 1;
    if (n == fail_at) {
        if (getenv("CRAWL_ALLOC_BACKTRACE")) { /* where the failure was injected */
            void *frames[32];
            int k = backtrace(frames, 32);
            static const char head[] = "allocfail: failing this allocation:\n";
            ssize_t w = write(STDERR_FILENO, head, sizeof head - 1);
            (void)w;
            backtrace_symbols_fd(frames, k, STDERR_FILENO);
        }
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

static void *counted(void *p)
{
    if (p)
        atomic_fetch_add(&live, 1);
    return p;
}

void *malloc(size_t n) { return fail_now() ? NULL : counted(__libc_malloc(n)); }
void *calloc(size_t a, size_t b) { return fail_now() ? NULL : counted(__libc_calloc(a, b)); }
void *realloc(void *p, size_t n)
{
    if (n == 0) {
        if (p)
            atomic_fetch_sub(&live, 1);
        return __libc_realloc(p, n);
    }
    if (fail_now())
        return NULL;
    void *q = __libc_realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&live, 1);
    return q;
}
void *reallocarray(void *p, size_t a, size_t b)
{
    if (b && a > (size_t)-1 / b) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, a * b);
}
void free(void *p)
{
    if (p)
        atomic_fetch_sub(&live, 1);
    __libc_free(p);
}
void *memalign(size_t al, size_t n) { return fail_now() ? NULL : counted(__libc_memalign(al, n)); }
void *aligned_alloc(size_t al, size_t n) { return memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n)
{
    void *p = memalign(al, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
void *valloc(size_t n) { return memalign((size_t)sysconf(_SC_PAGESIZE), n); }

/* A crash prints its stack (addresses; resolve them with addr2line), so a
 * failure point found by torture.py can be understood from one run. */
static void on_crash(int sig)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    static const char head[] = "allocfail: crashed; stack:\n";
    ssize_t w = write(STDERR_FILENO, head, sizeof head - 1);
    (void)w;
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((constructor)) static void arm(void)
{
    if (!getenv("CRAWL_ALLOC_BACKTRACE"))
        return;
    void *warm[2];
    backtrace(warm, 2); /* loads libgcc now, not inside the handler */
    signal(SIGSEGV, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGBUS, on_crash);
}

__attribute__((destructor)) static void report(void)
{
    const char *f = getenv("CRAWL_ALLOC_COUNT");
    if (!f)
        return;
    char buf[64];
    int l = snprintf(buf, sizeof buf, "%ld %ld\n", (long)atomic_load(&count), (long)atomic_load(&live));
    FILE *o = fopen(f, "w");
    if (o) {
        fwrite(buf, 1, (size_t)l, o);
        fclose(o);
    }
}
