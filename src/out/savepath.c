/* savepath: see savepath.h. */
#include "savepath.h"
#include "crawl/hash.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEG 200
#define MAX_DEPTH 64

static bool safe_char(unsigned char c)
{
    return isalnum(c) || strchr("._~!$&'()+,;=@%-", c) != NULL;
}

/* Append an encoded segment; returns new length or -1. */
static int put_seg(char *out, size_t len, size_t pos, const char *s, size_t n, bool keep_qmark)
{
    char seg[3 * MAX_SEG * 4 + 64];
    size_t k = 0;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
        k = (size_t)snprintf(seg, sizeof seg, "%s", n == 1 ? "%2E" : "%2E%2E");
    } else {
        for (size_t i = 0; i < n && k + 4 < sizeof seg; i++) {
            unsigned char c = (unsigned char)s[i];
            if (safe_char(c) || (keep_qmark && c == '?'))
                seg[k++] = (char)c;
            else
                k += (size_t)snprintf(seg + k, sizeof seg - k, "%%%02X", c);
        }
        seg[k] = 0;
    }
    if (k > MAX_SEG) {
        uint64_t h = crawl_hash(seg, k);
        k = 180 + (size_t)snprintf(seg + 180, sizeof seg - 180, "~%016llx", (unsigned long long)h);
    }
    if (pos + k + 2 >= len)
        return -1;
    if (pos)
        out[pos++] = '/';
    memcpy(out + pos, seg, k);
    pos += k;
    out[pos] = 0;
    return (int)pos;
}

int savepath_for_url(const char *url, char *out, size_t len) { return savepath_for_url_opts(url, NULL, out, len); }

/* -E: does the file name (its query aside) already end in one of exts? */
static bool has_ext(const char *file, size_t n, const char *const *exts)
{
    const char *q = memchr(file, '?', n);
    size_t m = q ? (size_t)(q - file) : n;
    for (; *exts; exts++) {
        size_t e = strlen(*exts);
        if (m >= e && strncasecmp(file + m - e, *exts, e) == 0)
            return true;
    }
    return false;
}

int savepath_for_url_opts(const char *url, const savepath_opts *o, char *out, size_t len)
{
    static const savepath_opts none = {0};
    if (!o)
        o = &none;
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *scheme = NULL;
    int rc = -EINVAL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* absent when default */
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    char hostport[300];
    snprintf(hostport, sizeof hostport, "%s%s%s", host, port ? ":" : "", port ? port : "");
    for (char *p = hostport; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    out[0] = 0;
    int pos = o->no_host_dirs || o->no_dirs ? 0 : put_seg(out, len, 0, hostport, strlen(hostport), false);
    if (pos < 0) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    const char *p = path;
    int depth = 0;
    const char *last = NULL;
    size_t last_n = 0;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0)
            break;
        if (!e) { /* the file name: add the query to it below */
            last = p;
            last_n = n;
            break;
        }
        if (++depth > MAX_DEPTH) {
            rc = -ENAMETOOLONG;
            goto out;
        }
        /* --cut-dirs drops the first directories; -nd all of them */
        if (!o->no_dirs && depth > o->cut_dirs && (pos = put_seg(out, len, (size_t)pos, p, n, false)) < 0) {
            rc = -ENAMETOOLONG;
            goto out;
        }
        p = e;
    }
    char file[3 * MAX_SEG + 64];
    int fl = snprintf(file, sizeof file, "%.*s%s%s", (int)(last ? last_n : 10), last ? last : "index.html",
                      query ? "?" : "", query ? query : "");
    if (fl < 0)
        fl = 0;
    if ((size_t)fl >= sizeof file - 8) { /* an over-long name: put_seg shortens it with a hash anyway */
        fl = (int)(sizeof file - 8);
        file[fl] = 0;
    }
    /* -E: an HTML page or a stylesheet gets the extension a browser needs
     * to open the saved copy (wget's --adjust-extension) */
    static const char *const html_exts[] = {".html", ".htm", NULL}, *const css_exts[] = {".css", NULL};
    const char *ct = o->content_type;
    if (o->adjust_ext && ct) {
        if ((strncasecmp(ct, "text/html", 9) == 0 || strncasecmp(ct, "application/xhtml+xml", 21) == 0) &&
            !has_ext(file, (size_t)fl, html_exts))
            memcpy(file + fl, ".html", 6);
        else if (strncasecmp(ct, "text/css", 8) == 0 && !has_ext(file, (size_t)fl, css_exts))
            memcpy(file + fl, ".css", 5);
    }
    if ((pos = put_seg(out, len, (size_t)pos, file, strlen(file), true)) < 0) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}

/* Open (creating) directory `name` under dirfd; if a file holds the name,
 * use "name.d" instead. *alt_used tells which. */
static int open_dir(int dirfd, const char *name, bool *alt_used)
{
    char alt[MAX_SEG + 64];
    const char *cand[2] = {name, alt};
    snprintf(alt, sizeof alt, "%.220s.d", name);
    for (int i = 0; i < 2; i++) {
        if (mkdirat(dirfd, cand[i], 0755) != 0 && errno != EEXIST)
            return -errno;
        int fd = openat(dirfd, cand[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            *alt_used = i == 1;
            return fd;
        }
        if (errno != ENOTDIR && errno != ELOOP)
            return -errno;
    }
    return -ENOTDIR;
}

/* ---- directory cache ----------------------------------------------------------------- */

#define DIRS_SLOTS 64

typedef struct dir_slot {
    char *key;  /* the directory part of rel, as asked for */
    char *used; /* the path actually used, ending in '/' ("a.d/" when "a" is a file) */
    int fd;
} dir_slot;

struct savepath_dirs {
    dir_slot slot[DIRS_SLOTS];
};

int savepath_dirs_new(savepath_dirs **out)
{
    savepath_dirs *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    for (int i = 0; i < DIRS_SLOTS; i++)
        d->slot[i].fd = -1;
    *out = d;
    return 0;
}

void savepath_dirs_free(savepath_dirs *d)
{
    if (!d)
        return;
    for (int i = 0; i < DIRS_SLOTS; i++) {
        if (d->slot[i].fd >= 0)
            close(d->slot[i].fd);
        free(d->slot[i].key);
        free(d->slot[i].used);
    }
    free(d);
}

/* A path segment we may create: 0, -EINVAL (empty, "." or "..") or
 * -ENAMETOOLONG (over 220 bytes). */
static int check_segment(const char *seg)
{
    if (!*seg || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
        return -EINVAL;
    return strlen(seg) > 220 ? -ENAMETOOLONG : 0;
}

/* Walk (creating) the directories of dir ("a/b", modified in place) under
 * dirfd: a descriptor of the last one, its used path in usedpath. */
static int walk_dirs(int dirfd, char *dir, char *usedpath, size_t cap)
{
    int cur = dup(dirfd);
    if (cur < 0)
        return -errno;
    size_t up = 0;
    usedpath[0] = 0;
    char *seg = dir;
    while (seg) {
        char *slash = strchr(seg, '/');
        if (slash)
            *slash = 0;
        int bad = check_segment(seg);
        if (bad < 0) {
            close(cur);
            return bad;
        }
        bool alt = false;
        int next = open_dir(cur, seg, &alt);
        close(cur);
        if (next < 0)
            return next;
        /* the path as used, with ".d" where a file took the name: it grows
         * past the requested path, so its length is checked, never assumed */
        size_t sl = strlen(seg), need = sl + (alt ? 2 : 0) + 1;
        if (up + need >= cap) {
            close(next);
            return -ENAMETOOLONG;
        }
        memcpy(usedpath + up, seg, sl);
        up += sl;
        if (alt) {
            memcpy(usedpath + up, ".d", 2);
            up += 2;
        }
        usedpath[up++] = '/';
        usedpath[up] = 0;
        cur = next;
        seg = slash ? slash + 1 : NULL;
    }
    return cur;
}

/* A descriptor of rel's parent directory (to close unless *cached), its
 * used path in usedpath; *name = rel's last segment (inside buf). */
static int parent_of(int dirfd, savepath_dirs *dirs, char *buf, char **name, char *usedpath, size_t cap,
                     bool *cached)
{
    *cached = false;
    char *slash = strrchr(buf, '/');
    if (!slash) {
        *name = buf;
        usedpath[0] = 0;
        int fd = dup(dirfd);
        return fd < 0 ? -errno : fd;
    }
    *slash = 0;
    *name = slash + 1;
    dir_slot *sl = NULL;
    if (dirs) {
        sl = &dirs->slot[crawl_hash_str(buf) % DIRS_SLOTS];
        if (sl->key && strcmp(sl->key, buf) == 0) {
            snprintf(usedpath, cap, "%s", sl->used);
            *cached = true;
            return sl->fd;
        }
    }
    char *key = dirs ? strdup(buf) : NULL;
    int fd = walk_dirs(dirfd, buf, usedpath, cap);
    if (fd >= 0 && key) {
        char *used = strdup(usedpath);
        if (used) { /* replace whatever the slot held */
            if (sl->fd >= 0)
                close(sl->fd);
            free(sl->key);
            free(sl->used);
            *sl = (dir_slot){key, used, fd};
            *cached = true;
            return fd;
        }
    }
    free(key);
    return fd;
}

static void drop_cached(savepath_dirs *d, int fd)
{
    for (int i = 0; i < DIRS_SLOTS; i++) {
        if (d->slot[i].fd == fd) {
            close(fd);
            free(d->slot[i].key);
            free(d->slot[i].used);
            d->slot[i] = (dir_slot){NULL, NULL, -1};
        }
    }
}

/* Create seg (or seg.1, seg.2, ... when taken) in directory cur. */
static int create_in(int cur, const char *seg, char *name, size_t cap)
{
    for (int i = 0; i < 1000; i++) {
        if (i == 0)
            snprintf(name, cap, "%.220s", seg);
        else
            snprintf(name, cap, "%.220s.%d", seg, i);
        int fd = openat(cur, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST && errno != EISDIR)
            return -errno;
    }
    return -EEXIST;
}

/* Copy n bytes from src_fd (offset 0 on) to fd. */
static int copy_from(int fd, int src_fd, size_t n)
{
    enum { BUFSZ = 65536 };
    char *buf = malloc(BUFSZ); /* not on a coroutine's stack */
    if (!buf)
        return -ENOMEM;
    int rc = 0;
    off_t off = 0;
    while (n && rc == 0) {
        ssize_t r = pread(src_fd, buf, n < BUFSZ ? n : BUFSZ, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : -EIO;
            break;
        }
        for (ssize_t done = 0; done < r && rc == 0;) {
            ssize_t w = write(fd, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                rc = -errno;
            else
                done += w;
        }
        off += r;
        n -= (size_t)r;
    }
    free(buf);
    return rc;
}

/* Write n bytes (from src_fd, else data) to fd, then close it; with
 * mtime >= 0, the file's times are set to it. 0 or a negative errno. */
static int fill_file(int fd, const void *data, size_t n, int src_fd, int64_t mtime)
{
    int rc = 0;
    if (src_fd >= 0) {
        rc = copy_from(fd, src_fd, n);
    } else {
        const char *p = data;
        size_t left = n;
        while (left && rc == 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -errno;
                break;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    if (rc == 0 && mtime >= 0) {
        struct timespec ts[2] = {{(time_t)mtime, 0}, {(time_t)mtime, 0}};
        if (futimens(fd, ts) != 0)
            rc = -errno;
    }
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* savepath_write, and with replace savepath_replace. */
static int write_at(int dirfd, savepath_dirs *dirs, const char *rel, const void *data, size_t n, int src_fd,
                    char *used, size_t used_len, bool replace, int64_t mtime)
{
    char buf[4096];
    if (strlen(rel) >= sizeof buf || rel[0] == '/')
        return -EINVAL;
    char usedpath[4096];
    char name[MAX_SEG + 64];
    char tmpseg[MAX_SEG + 32];
    int fd = -EINVAL, cur = -1;
    bool cached = false;
    char *seg = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        snprintf(buf, sizeof buf, "%s", rel);
        cur = parent_of(dirfd, dirs, buf, &seg, usedpath, sizeof usedpath, &cached);
        if (cur < 0)
            return cur;
        if (check_segment(seg) < 0) { /* a bad file name is always -EINVAL */
            if (!cached)
                close(cur);
            return -EINVAL;
        }
        /* replacing: write a temporary file next to it, renamed over it when whole */
        snprintf(tmpseg, sizeof tmpseg, ".%.200s.crawl-tmp", seg);
        fd = create_in(cur, replace ? tmpseg : seg, name, sizeof name);
        if (cached && fd == -ENOENT) { /* the cached directory was removed behind our back: walk again */
            drop_cached(dirs, cur);
            continue;
        }
        break;
    }
    int rc = fd;
    const char *final = replace ? seg : name;
    if (rc >= 0 && strlen(usedpath) + strlen(final) >= used_len) {
        close(fd);
        unlinkat(cur, name, 0);
        rc = -ENAMETOOLONG;
    }
    if (rc >= 0) {
        rc = fill_file(fd, data, n, src_fd, mtime);
        if (rc == 0 && replace && renameat(cur, name, cur, seg) != 0)
            rc = -errno;
        if (rc < 0 && replace)
            unlinkat(cur, name, 0);
        if (rc == 0)
            snprintf(used, used_len, "%s%s", usedpath, final);
    }
    if (!cached)
        close(cur);
    return rc;
}

int savepath_write(int dirfd, savepath_dirs *dirs, const char *rel, const void *data, size_t n, int src_fd,
                   char *used, size_t used_len)
{
    return write_at(dirfd, dirs, rel, data, n, src_fd, used, used_len, false, -1);
}

int savepath_replace(int dirfd, savepath_dirs *dirs, const char *rel, const void *data, size_t n, int src_fd,
                     int64_t mtime, char *used, size_t used_len)
{
    return write_at(dirfd, dirs, rel, data, n, src_fd, used, used_len, true, mtime);
}

int savepath_mtime(int dirfd, const char *rel, int64_t *mtime)
{
    struct stat st;
    if (rel[0] == '/' || fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EISDIR;
    *mtime = (int64_t)st.st_mtime;
    return 0;
}
