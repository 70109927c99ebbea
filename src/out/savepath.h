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
 * Threads: the functions are pure or use caller-owned descriptors; a
 * savepath_dirs is used by one thread at a time. Ownership: a savepath_dirs
 * owns the directory descriptors it caches.
 */
#ifndef CRAWL_OUT_SAVEPATH_H
#define CRAWL_OUT_SAVEPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Map an http(s) URL to a relative path. 0, or -EINVAL / -ENAMETOOLONG. */
int savepath_for_url(const char *url, char *out, size_t len);
/* wget's layout switches. */
typedef struct savepath_opts {
    bool no_host_dirs;        /* -nH: no HOST[:PORT] directory */
    bool no_dirs;             /* -nd: every file directly under DIR */
    int cut_dirs;             /* --cut-dirs N: drop the first N directories of the path */
    bool adjust_ext;          /* -E: .html for HTML, .css for CSS, when the name lacks it */
    const char *content_type; /* for adjust_ext */
} savepath_opts;
int savepath_for_url_opts(const char *url, const savepath_opts *o, char *out, size_t len);
/* Open descriptors of the directories files were last saved in (at most
 * 64), so saving many files into one directory does not create, open and
 * close every parent again for each file. Entries are keyed by the path
 * under the root they were opened from: use one cache per root. */
typedef struct savepath_dirs savepath_dirs;
int savepath_dirs_new(savepath_dirs **out);
void savepath_dirs_free(savepath_dirs *d);

/* Create rel (with its directories) under dirfd and write n bytes: from
 * src_fd (read from offset 0 on) when src_fd >= 0, else from data; dirs (or
 * NULL) caches the directories. On success returns 0 and the path actually
 * used (maybe with a ".N" suffix, or "a.d/" for a directory "a" that is
 * already a file) in used; -ENAMETOOLONG when that path does not fit. */
int savepath_write(int dirfd, savepath_dirs *dirs, const char *rel, const void *data, size_t n, int src_fd,
                   char *used, size_t used_len);
/* As savepath_write, but over a file already at rel (wget -N): the body goes
 * to a temporary file next to it that is renamed over it when whole, so a
 * failure leaves the old file. With mtime >= 0 (seconds since the epoch),
 * the file's times are set to it. */
int savepath_replace(int dirfd, savepath_dirs *dirs, const char *rel, const void *data, size_t n, int src_fd,
                     int64_t mtime, char *used, size_t used_len);
/* The modification time of the regular file at rel under dirfd (symlinks
 * not followed). 0, or a negative errno (-ENOENT: none). */
int savepath_mtime(int dirfd, const char *rel, int64_t *mtime);

#endif
