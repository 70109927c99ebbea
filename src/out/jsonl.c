/* jsonl: see jsonl.h. */
#include "jsonl.h"

#include <errno.h>
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

int jsonl_open_resume(const char *path, int64_t size, jsonl **out)
{
    if (!path || strcmp(path, "-") == 0)
        return -EINVAL;
    if (truncate(path, (off_t)size) != 0 && !(errno == ENOENT && size == 0))
        return -errno;
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
