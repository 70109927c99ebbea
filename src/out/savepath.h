/* savepath: where a fetched body is saved under --directory-prefix DIR.
 *
 * Layout: DIR/HOST[:PORT]/PATH, with "index.html" for directory URLs and the
 * query kept as "?QUERY" on the file name (as wget does). Every segment is
 * encoded so it is a plain file name: bytes outside a safe set become %XX,
 * "." and ".." become %2E / %2E%2E, and over-long names are shortened with a
 * hash suffix. Files are created relative to DIR's descriptor with
 * O_NOFOLLOW and O_EXCL, so no URL can put a file outside DIR, follow a
 * symlink, or overwrite another URL's file: a taken name gets ".1", ".2", ...
 *
 * Pure functions and caller-owned descriptors; any thread.
 */
#ifndef CRAWL_OUT_SAVEPATH_H
#define CRAWL_OUT_SAVEPATH_H

#include <stddef.h>

/* Map an http(s) URL to a relative path. 0, or -EINVAL / -ENAMETOOLONG. */
int savepath_for_url(const char *url, char *out, size_t len);
/* Create rel (with its directories) under dirfd and write data. On success
 * returns 0 and the path actually used (maybe with a ".N" suffix) in used. */
int savepath_write(int dirfd, const char *rel, const void *data, size_t n, char *used, size_t used_len);

#endif
