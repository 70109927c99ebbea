/* sitemap: XML sitemaps and sitemap indexes (sitemaps.org protocol), plain or
 * gzip-compressed, parsed with libxml2 (no network, no entity expansion).
 * Decompression stops at max_bytes (the protocol's limit is 50 MB), so a
 * compression bomb cannot exhaust memory.
 *
 * Pure function over a buffer, safe on any thread (it runs on the executor).
 * The result owns its strings (sitemap_result_free). libxml2 must have been
 * initialised (xmlInitParser) on the main thread before workers start.
 */
#ifndef CRAWL_CRAWL_SITEMAP_H
#define CRAWL_CRAWL_SITEMAP_H

#include <stdbool.h>
#include <stddef.h>

#define SITEMAP_MAX_BYTES (50u * 1024 * 1024)

typedef struct sitemap_result {
    bool index;   /* a <sitemapindex>: locs are sitemaps */
    char **locs;  /* <loc> values, trimmed, in document order */
    size_t n;
} sitemap_result;

/* 0, or -EINVAL (not a sitemap / malformed XML), -EFBIG (over max_bytes
 * after decompression), -ENOMEM. */
int sitemap_parse(const char *data, size_t len, size_t max_bytes, sitemap_result *out);
void sitemap_result_free(sitemap_result *r);

#endif
