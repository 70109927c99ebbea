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

int jsonl_write(jsonl *j, json_t *rec)
{
    char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(rec);
    if (!s)
        return j->err ? j->err : -ENOMEM;
    size_t n = strlen(s);
    s[n] = '\n'; /* replaces the terminator: one write for the whole line */
    if (!j->err && fwrite(s, 1, n + 1, j->f) != n + 1)
        j->err = errno ? -errno : -EIO;
    free(s);
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

json_t *jsonl_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *v = json_string(s);
    if (v)
        return v;
    /* Not UTF-8: keep ASCII, percent-encode every byte >= 0x80. */
    size_t n = strlen(s);
    char *b = malloc(3 * n + 1);
    if (!b)
        return json_null();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            b[k++] = (char)c;
        else
            k += (size_t)sprintf(b + k, "%%%02X", c);
    }
    b[k] = 0;
    v = json_string(b);
    free(b);
    return v ? v : json_null();
}
