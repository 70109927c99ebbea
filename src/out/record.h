/* record: one result record (a fetch, a refused or invalid URL, a sitemap)
 * as plain data, and its serialization to one line of JSON.
 *
 * Workers fill a record; the single writer serializes it. The serializer
 * keeps one jansson tree per shape (the set of optional field groups
 * present) and updates its values in place for every record of that shape,
 * so a record costs a few string copies and a dump, not the ~50 allocations
 * of building and freeing a tree (measured in docs/performance.md).
 * Strings that are not valid UTF-8 are made valid by percent-encoding every
 * byte >= 0x80.
 *
 * Field order on output: url, final_url, status, error, input, input_line,
 * input_file, location, content_type, bytes, content_length, etag, last_modified, not_modified, skipped, truncated, elapsed_ms, timings, redirects, attempts, remote_ip,
 * http_version, sitemap, depth, parent, links_found, saved_path, save_error.
 *
 * Threads: a record belongs to whoever holds it; a record_fmt is used by one
 * thread at a time. Ownership: every char * in a record is owned by it
 * (record_clear frees them); err_kind and http_version are static strings.
 */
#ifndef CRAWL_OUT_RECORD_H
#define CRAWL_OUT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Optional field groups (record.fields). url, final_url, status and error
 * are always present. */
enum {
    REC_INPUT = 1 << 0,        /* input: the input line (invalid URLs) */
    REC_BODY = 1 << 1,         /* location, content_type, bytes, content_length, etag, last_modified */
    REC_EXCHANGE = 1 << 2,     /* truncated, elapsed_ms, timings, redirects, attempts, remote_ip, http_version */
    REC_SITEMAP = 1 << 3,      /* sitemap: true */
    REC_PAGE = 1 << 4,         /* depth, parent */
    REC_LINKS = 1 << 5,        /* links_found */
    REC_SAVED = 1 << 6,        /* saved_path (NULL = null: saving failed) */
    REC_SAVE_ERROR = 1 << 7,   /* save_error */
    REC_NOT_MODIFIED = 1 << 8, /* not_modified: true (-N: the saved file is current) */
    REC_SKIPPED = 1 << 9,      /* skipped: why no request was sent (-nc: "exists") */
    REC_INPUT_LINE = 1 << 10,  /* input_line: the physical line of an input file, from 1 */
    REC_INPUT_FILE = 1 << 11,  /* input_file: which file (when the run has several sources) */
    REC_NSHAPES = 1 << 12
};

typedef struct rec_hop {
    char *url;
    long status;
} rec_hop;

typedef struct record {
    unsigned fields;        /* REC_* groups present */
    char *url;              /* NULL on output = null, for every string */
    char *final_url;
    long status;            /* 0 = null (no response) */
    const char *err_kind;   /* NULL = "error": null; else {kind, message} */
    char *err_msg;
    char *input;
    char *content_type;
    int64_t bytes;
    int64_t content_length; /* as declared (Content-Length), -1: none */
    char *location;         /* a 3xx's Location, absolute; NULL otherwise */
    int64_t input_line;
    char *input_file;
    char *etag; /* response validators, as the server sent them */
    char *last_modified;
    const char *skipped; /* static string */
    bool truncated;
    double elapsed_ms, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms;
    rec_hop *hops;          /* redirects, in order */
    size_t nhops, hops_cap;
    int attempts;
    char *remote_ip;
    const char *http_version;
    int depth;
    char *parent;
    long links_found;
    char *saved_path;
    char *save_error;
} record;

/* Copy s into *dst (freeing what was there); NULL stays NULL. 0 or -ENOMEM. */
int record_set(char **dst, const char *s);
/* Append a redirect hop. 0 or -ENOMEM. */
int record_add_hop(record *r, const char *url, long status);
/* Free what the record owns and zero it. */
void record_clear(record *r);

/* The name of the i-th top-level key a record can have, in output order;
 * NULL past the last. */
const char *record_key(size_t i);

typedef struct record_fmt record_fmt;

int record_fmt_new(record_fmt **out);
void record_fmt_free(record_fmt *f);
/* Serialize r as one line of compact JSON ending in '\n'. *line points into
 * f's buffer, valid until the next call. 0 or -ENOMEM. */
int record_format(record_fmt *f, const record *r, const char **line, size_t *len);

#endif
