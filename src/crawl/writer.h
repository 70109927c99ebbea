/* writer: what a run writes. Workers fill a record (writer_rec_new) and
 * hand it over (writer_submit); the single writer task serializes records in
 * completion order, so they are never interleaved or cut, and with --state
 * makes them durable with checkpoints. Also saves bodies under
 * --directory-prefix and archives exchanges in the WARC file.
 *
 * The serialization (jansson, printf of reals) runs on the writer's one
 * stack instead of touching an extra page of every worker's stack, and the
 * queue to it is unbounded, so handing a record over never waits.
 *
 * Threads: the loop thread only. Ownership: writer_submit takes the record.
 */
#ifndef CRAWL_CRAWL_WRITER_H
#define CRAWL_CRAWL_WRITER_H

#include "engine.h"

/* A record on its way to the writer. */
typedef struct rec_item {
    record rec;
    int64_t item;   /* URL lists: the input item, or -1 */
    char *done_url; /* recursive crawls: the frontier URL (or "sitemap URL") */
} rec_item;

/* A record to fill, for url (NULL when out of memory: the record is lost). */
rec_item *writer_rec_new(const char *url);
void writer_rec_free(rec_item *ri);
/* The record's error: kind is a static string. */
void writer_rec_error(record *r, const char *kind, const char *msg);
/* The error a response itself carries (a transport error, or an HTTP error
 * status) into *kind and *msg; false, leaving them alone, when it has none. */
bool writer_resp_error(const http_resp *r, const char **kind, const char **msg);
/* Hand ri to the writer. ri NULL (out of memory): the record is lost, and
 * scratch (filled in its place, may be NULL) is cleared. */
void writer_submit(engine *E, rec_item *ri, record *scratch, int64_t item, const char *done_url);
/* --resume: a complete line of the output past the committed size (a
 * jsonl_open_resume line_cb, ud = the engine). Its record stays in the file;
 * when the resumed run finishes that URL again, the writer does not write it
 * a second time. */
void writer_tail_line(void *ud, const char *line, size_t len);
void writer_tail_free(engine *E);
/* The writer task (a co_fn on the engine): runs until E->records closes. */
int writer_main(void *arg);
/* Save a 2xx body under --directory-prefix; notes the path (or the error)
 * in rec. */
void writer_save_body(engine *E, record *rec, const char *url, const http_resp *resp);
/* -N, -nc: the modification time of the file url's body would be saved as
 * under --directory-prefix, or -1 when there is none; *path (malloc'd, or
 * NULL) is its path as a record shows it. */
int64_t writer_saved_mtime(engine *E, const char *url, char **path);
/* Archive one exchange in the WARC file, if archiving and a response came. */
void writer_archive(engine *E, const char *url, const http_resp *r);

#endif
