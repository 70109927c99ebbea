/* recsel: what of a record is written, and how: --fields (only these keys),
 * --format jsonl|csv|tsv, --write-out FORMAT (curl's %{name} variables) and
 * the status filters --match-status / --filter-status (httpx's -mc / -fc).
 *
 * It works on the record's JSON line as record_format made it, so every
 * record field is selectable by its name (dotted for nested ones:
 * error.kind, timings.total_ms) without this module knowing the record's
 * layout. The parse costs a few microseconds per record and runs on the
 * writer thread, only when one of these options is given.
 *
 * CSV follows RFC 4180: a header row, fields quoted when they hold a comma,
 * a quote or a line break, quotes doubled, CRLF line ends. TSV: a header
 * row, tabs and line breaks in values written as \t, \n, \r and backslash
 * as \\ (the escaping of PostgreSQL's text format and of `jq @tsv`).
 * Values: strings as they are, numbers as JSON writes them, true/false,
 * null as an empty field, objects and arrays as compact JSON.
 *
 * Threads: one recsel is used by one thread at a time. Ownership: the
 * lines it returns point into its own buffer, valid until the next call.
 */
#ifndef CRAWL_OUT_RECSEL_H
#define CRAWL_OUT_RECSEL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { RECSEL_JSONL,
               RECSEL_CSV,
               RECSEL_TSV } recsel_format;

typedef struct recsel_opts {
    recsel_format format;
    const char *fields;        /* comma-separated keys, NULL: all (JSON Lines) or a default set (CSV, TSV) */
    const char *write_out;     /* curl-style format, NULL: none; replaces the record */
    const char *match_status;  /* LIST: write only records whose status is in it (200,301-399; 0: no response) */
    const char *filter_status; /* LIST: never write records whose status is in it */
} recsel_opts;

typedef struct recsel recsel;

/* NULL (nothing to do: plain JSON Lines) when o selects nothing. A bad
 * option value gives -EINVAL with a message in err naming the option. */
int recsel_new(const recsel_opts *o, recsel **out, char *err, size_t errlen);
void recsel_free(recsel *s);
/* Turn one JSON record line (len bytes, ending in '\n') into the line to
 * write: 0 with *out and *olen set, 1 when the filters drop it, -ENOMEM,
 * -EINVAL when line is not a JSON object. */
int recsel_apply(recsel *s, const char *line, size_t len, const char **out, size_t *olen);
/* The header row for CSV and TSV (with its line end), else NULL. */
const char *recsel_header(const recsel *s);
/* Does s still write JSON records with their url (so --state can resume)? */
bool recsel_keeps_json_url(const recsel *s);

#endif
