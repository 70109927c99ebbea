/* libFuzzer target: the link tokenizer, and every link it reports resolved
 * against a base URL and normalized (src/crawl/links.c, src/net/url.c).
 * Build: cmake -DCRAWL_FUZZ=ON with CC=clang; see tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/links.h"
#include "net/url.h"

static void on_link(void *ud, const link_ref *l)
{
    const char *base = ud;
    if (strlen(l->value) != l->len) /* values are NUL-terminated and NUL-free */
        abort();
    char *abs = url_resolve_normalized(base, l->value);
    free(abs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    links_info info;
    links_extract((const char *)data, size, 0, on_link, "http://example.test/a/b.html", &info);
    if (info.base[0]) {
        char *b = url_resolve_normalized("http://example.test/a/b.html", info.base);
        free(b);
    }
    return 0;
}
