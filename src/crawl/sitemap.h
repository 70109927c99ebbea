/* sitemap: XML sitemaps and sitemap indexes (sitemaps.org protocol), plain or
 * gzip-compressed, read with libxml2's streaming reader (no network, no
 * entity expansion, no tree): memory stays constant whatever the size. The
 * protocol's limits hold: at most max_bytes after decompression (50 MB) and
 * SITEMAP_MAX_URLS <loc> entries; past either the read stops, a compression
 * bomb included.
 *
 * Pure function over a buffer or a file, safe on any thread (it runs on the
 * executor). The result owns its strings (sitemap_result_free). libxml2 must
 * have been initialised (xmlInitParser) on the main thread before workers
 * start.
 */
#ifndef CRAWL_CRAWL_SITEMAP_H
#define CRAWL_CRAWL_SITEMAP_H

#include <stdbool.h>
#include <stddef.h>

#define SITEMAP_MAX_BYTES (50u * 1024 * 1024)
#define SITEMAP_MAX_URLS 50000

typedef struct sitemap_result {
    bool index;     /* a <sitemapindex>: locs are sitemaps */
    bool truncated; /* stopped at SITEMAP_MAX_URLS entries */
    char **locs;    /* <loc> values, trimmed, in document order */
    size_t n;
} sitemap_result;

/* The document: len bytes at data, or (fd >= 0) len bytes of fd from offset 0. */
typedef struct sitemap_src {
    const char *data;
    size_t len;
    int fd;
} sitemap_src;

/* 0, or -EINVAL (not a sitemap / malformed XML), -EFBIG (over max_bytes
 * after decompression), -ENOMEM, -EIO. */
int sitemap_read(const sitemap_src *src, size_t max_bytes, sitemap_result *out);
/* The same over a buffer. */
int sitemap_parse(const char *data, size_t len, size_t max_bytes, sitemap_result *out);
void sitemap_result_free(sitemap_result *r);

#endif
