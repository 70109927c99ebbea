/* libFuzzer target: URL resolution and normalization (src/net/url.c). The
 * first input line is the base, the rest the reference. Asserts: results are
 * http(s) URLs, normalizing a normalized URL changes nothing, and the fast
 * path of url_resolve_normalized (for a base already normalized, as every
 * page URL is) gives what resolving and then normalizing gives. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/url.h"

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t bl = nl ? (size_t)(nl - data) : size;
    char *base = dup_n(data, bl), *ref = dup_n(nl ? nl + 1 : data + size, nl ? size - bl - 1 : 0);
    if (!base || !ref)
        goto out;
    char *n1 = url_normalize(base);
    if (n1) {
        if (strncmp(n1, "http://", 7) != 0 && strncmp(n1, "https://", 8) != 0)
            abort();
        char *n2 = url_normalize(n1);
        if (!n2 || strcmp(n1, n2) != 0) /* idempotent */
            abort();
        free(n2);
    }
    char *r = url_resolve(base, ref);
    free(r);
    if (n1) {
        char *rn = url_resolve_normalized(n1, ref);
        char *slow = url_resolve(n1, ref);
        char *slow_n = slow ? url_normalize(slow) : NULL;
        if ((rn == NULL) != (slow_n == NULL) || (rn && strcmp(rn, slow_n) != 0))
            abort();
        if (rn && strncmp(rn, "http://", 7) != 0 && strncmp(rn, "https://", 8) != 0)
            abort();
        free(rn);
        free(slow);
        free(slow_n);
    }
    free(n1);
out:
    free(base);
    free(ref);
    return 0;
}
