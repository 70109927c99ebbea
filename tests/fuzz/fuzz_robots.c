/* libFuzzer target: the robots.txt parser and matcher (src/crawl/robots.c).
 * The first line of the input is the URL path to check, the rest the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/robots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    size_t ul = nl ? (size_t)(nl - p) : 0;
    char *url = malloc(ul + 32);
    if (!url)
        return 0;
    memcpy(url, "http://example.test/", 20);
    memcpy(url + 20, p, ul);
    url[20 + ul] = 0;
    robots *r = robots_parse(nl ? nl + 1 : p, nl ? size - ul - 1 : size);
    if (r) {
        robots_allowed(r, "crawl", url);
        robots_allowed(r, "Googlebot/2.1", url);
        robots_crawl_delay(r, "crawl");
        for (size_t i = 0; i < robots_sitemap_count(r); i++)
            (void)robots_sitemap(r, i);
        robots_free(r);
    }
    free(url);
    return 0;
}
