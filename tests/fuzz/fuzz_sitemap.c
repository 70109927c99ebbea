/* libFuzzer target: the streaming sitemap reader (src/crawl/sitemap.c),
 * plain and gzip input, with a small size limit so the limit paths run.
 * Asserts: at most SITEMAP_MAX_URLS entries, every one non-empty. */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/sitemap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sitemap_result r;
    size_t max = size && data[0] == 'S' ? 4096 : SITEMAP_MAX_BYTES;
    if (sitemap_parse((const char *)data, size, max, &r) == 0) {
        if (r.n > SITEMAP_MAX_URLS)
            abort();
        for (size_t i = 0; i < r.n; i++)
            if (!r.locs[i][0])
                abort();
        sitemap_result_free(&r);
    }
    return 0;
}
