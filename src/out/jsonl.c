/* jsonl: see jsonl.h. */
#include "jsonl.h"

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

struct jsonl {
    FILE *f;
    bool owned;
    int err;
};

/* A sink on path opened with mode ("we" new, "ae" append), or stdout. */
static int open_sink(const char *path, const char *mode, jsonl **out)
{
    jsonl *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    if (!path || strcmp(path, "-") == 0) {
        j->f = stdout;
    } else {
        j->f = fopen(path, mode);
        if (!j->f) {
            int e = -errno;
            free(j);
            return e;
        }
        j->owned = true;
    }
    setvbuf(j->f, NULL, _IOFBF, 1 << 16);
    *out = j;
    return 0;
}

int jsonl_open(const char *path, jsonl **out) { return open_sink(path, "we", out); }

/* Read the lines after `from` in fd, pass the complete ones to line_cb;
 * *keep = the offset just past the last complete line. */
static int scan_tail(int fd, int64_t from, void (*line_cb)(void *, const char *, size_t), void *ud, int64_t *keep)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int64_t off = from, line_start = from;
    *keep = from;
    for (;;) {
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = pread(fd, buf + len, cap - len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = -errno;
            free(buf);
            return e;
        }
        if (r == 0)
            break;
        off += r;
        len += (size_t)r;
        size_t start = 0;
        for (char *nl; (nl = memchr(buf + start, '\n', len - start));) {
            size_t l = (size_t)(nl - (buf + start));
            if (line_cb)
                line_cb(ud, buf + start, l);
            start += l + 1;
            line_start += (int64_t)(l + 1);
            *keep = line_start;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
    }
    free(buf);
    return 0;
}

int jsonl_open_resume(const char *path, int64_t size, void (*line_cb)(void *ud, const char *line, size_t len),
                      void *ud, jsonl **out)
{
    if (!path || strcmp(path, "-") == 0)
        return -EINVAL;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && !(errno == ENOENT && size == 0))
        return -errno;
    if (fd >= 0) {
        struct stat st;
        int64_t keep = size;
        int rc = fstat(fd, &st) == 0 ? 0 : -errno;
        if (rc == 0 && st.st_size < size)
            rc = -EINVAL; /* shorter than what was committed: not this crawl's output */
        if (rc == 0)
            rc = scan_tail(fd, size, line_cb, ud, &keep);
        if (rc == 0 && keep < st.st_size && ftruncate(fd, (off_t)keep) != 0)
            rc = -errno; /* only the torn fragment after the last newline */
        close(fd);
        if (rc < 0)
            return rc;
    }
    return open_sink(path, "ae", out);
}

int jsonl_sync(jsonl *j, int64_t *size)
{
    if (jsonl_flush(j) < 0)
        return j->err;
    if (fsync(fileno(j->f)) != 0 && errno != EINVAL)
        return j->err = -errno;
    off_t pos = ftello(j->f);
    if (pos < 0)
        return j->err = -errno;
    *size = (int64_t)pos;
    return 0;
}

int jsonl_write(jsonl *j, const char *line, size_t len)
{
    if (!j->err && fwrite(line, 1, len, j->f) != len)
        j->err = errno ? -errno : -EIO;
    return j->err;
}

int jsonl_flush(jsonl *j)
{
    if (!j->err && fflush(j->f) != 0)
        j->err = errno ? -errno : -EIO;
    return j->err;
}

int jsonl_close(jsonl *j)
{
    int err = jsonl_flush(j);
    if (j->owned && fclose(j->f) != 0 && !err)
        err = errno ? -errno : -EIO;
    free(j);
    return err;
}
