/* libFuzzer target: charset detection from Content-Type and the body's
 * <meta> and BOM, and conversion to UTF-8 (src/crawl/charset.c). The first
 * input line is the Content-Type header value, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t cl = nl ? (size_t)(nl - data) : 0;
    char *ct = malloc(cl + 1);
    if (!ct)
        return 0;
    memcpy(ct, data, cl);
    ct[cl] = 0;
    const char *body = nl ? (const char *)nl + 1 : (const char *)data;
    size_t blen = nl ? size - cl - 1 : size;
    char cs[64];
    charset_detect(cl ? ct : NULL, body, blen, cs, sizeof cs);
    if (strlen(cs) >= sizeof cs)
        abort();
    size_t ulen = 0;
    char *u = charset_to_utf8(cs, body, blen, &ulen);
    if (u && strlen(u) > ulen)
        abort();
    free(u);
    char *q = charset_link_query(cs, "?q=caf\xc3\xa9");
    free(q);
    free(ct);
    return 0;
}
