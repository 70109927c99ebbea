/* writer: what a run writes, written by one thread of its own.
 *
 * Workers fill a record (writer_rec_new), hand the writer what it must write
 * besides the record (writer_keep: the exchanges to archive, the body to
 * save) and submit it (writer_submit). The writer thread then, for each
 * submitted item in submission order: saves the body under
 * --directory-prefix (noting the path or the error in the record), writes
 * the exchanges to the WARC file, serializes the record and appends it to
 * the output, so records are never interleaved or cut. With --state the
 * loop seals the state's pending changes into a checkpoint item every 4,000
 * records or --checkpoint-interval; the writer thread fsyncs the output and
 * then commits that batch. Because items are handled in order, a commit
 * covers exactly the records submitted before it: the output is durable
 * before the state says a URL is done.
 *
 * So no disk call (file creation, write, fsync, SQLite commit, WARC
 * compression or hashing) and no JSON serialization runs on the loop
 * thread. At most WRITER_SLOTS items wait for the writer: past that,
 * writer_submit waits (bodies held for the writer also stay inside the
 * HTTP client's memory budget until the writer frees them). A failure to
 * write the output or the state stops the run (engine_stop, posted to the
 * loop); a failure to save a body or write the WARC file sets exit status 5.
 *
 * Threads: every function here runs on the loop thread; the thread they
 * start touches only what was handed to it (the items, and the engine's
 * output, formatter, WARC writer, save directory and state commit side,
 * which the loop leaves alone while it runs). Ownership: writer_submit
 * takes the item.
 */
#ifndef CRAWL_CRAWL_WRITER_H
#define CRAWL_CRAWL_WRITER_H

#include "engine.h"

#define WRITER_SLOTS 1024

typedef struct writer_x writer_x;

/* A record on its way to the writer, with what goes with it. */
typedef struct rec_item {
    struct rec_item *next; /* in the writer's queue */
    record rec;
    bool has_record; /* false: only exchanges to archive, or a checkpoint */
    bool holds_slot; /* took one of the WRITER_SLOTS */
    writer_x *x;     /* exchanges to archive and/or the body to save */
    size_t nx, capx;
    state_batch *batch; /* a checkpoint: commit this after an fsync */
} rec_item;

/* Set up the writer (its queue; the thread starts in writer_main). 0 or
 * -ENOMEM. */
int writer_init(engine *E);
/* No more items: writer_main writes what is queued, checkpoints, and ends. */
void writer_close(engine *E);
/* After writer_main has returned (or never ran). */
void writer_free(engine *E);
/* The writer task (a co_fn on the engine): runs the thread until
 * writer_close, sealing checkpoints on time; then waits for the thread to
 * finish everything submitted. Its exit status (5 after an I/O failure) is
 * merged into the engine's. */
int writer_main(void *arg);

/* A record to fill, for url (NULL when out of memory: the record is lost). */
rec_item *writer_rec_new(const char *url);
void writer_rec_free(rec_item *ri);
/* The record's error: kind is a static string. */
void writer_rec_error(record *r, const char *kind, const char *msg);
/* The error a response itself carries (a transport error, or an HTTP error
 * status) into *kind and *msg; false, leaving them alone, when it has none. */
bool writer_resp_error(const http_resp *r, const char **kind, const char **msg);
/* Move into ri what the writer needs of the exchange r fetched from url:
 * the request and response heads and the body when archiving (and a
 * response came), and the body when save (a 2xx body to save under
 * --directory-prefix), and the body when doc (-O: appended to the document).
 * r's moved parts are gone (set to NULL); free r as
 * usual. Out of memory: nothing is moved, and a body to save gets a
 * save_error in the record. */
void writer_keep(engine *E, rec_item *ri, const char *url, http_resp *r, bool save, bool doc);
/* Archive an exchange that has no record of its own (robots.txt, a
 * sitemap), copying what it needs: r stays whole. */
void writer_archive_copy(engine *E, const char *url, const http_resp *r);
/* Hand ri to the writer (may wait for a slot). item (URL lists, >= 0) and
 * done_url (recursive crawls) are marked done in the state here, on the
 * loop: the checkpoint that commits them is queued after ri. ri NULL (out
 * of memory): the record is lost, and scratch (filled in its place, may be
 * NULL) is cleared. */
void writer_submit(engine *E, rec_item *ri, record *scratch, int64_t item, const char *done_url);
/* --resume: a complete line of the output past the committed size (a
 * jsonl_open_resume line_cb, ud = the engine). Its record stays in the file;
 * when the resumed run finishes that URL again, the writer does not write it
 * a second time. Before the writer starts. */
void writer_tail_line(void *ud, const char *line, size_t len);
void writer_tail_free(engine *E);
/* -N, -nc: the modification time of the file url's body would be saved as
 * under --directory-prefix, or -1 when there is none; *path (malloc'd, or
 * NULL) is its path as a record shows it. A stat on the loop thread. */
int64_t writer_saved_mtime(engine *E, const char *url, char **path);

#endif
