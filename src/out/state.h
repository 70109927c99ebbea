/* state: a crawl's durable state (--state DIR), SQLite in WAL mode.
 *
 * What it keeps: for URL lists, which input items have a record; for
 * recursive crawls, every URL queued (the seen set and the frontier) and
 * which of them have a record; and the byte size of the output file at the
 * last checkpoint.
 *
 * Consistency: only the single writer task appends records. A checkpoint
 * (every 4,000 records or --checkpoint-interval, 250 ms by default) flushes and fsyncs the output, then commits
 * one transaction with the output size and everything queued or finished
 * since the last checkpoint. A page's links are queued before its record is
 * written, so a committed page always has its links committed with it. On
 * --resume the output is never cut back (a reader may have consumed its
 * lines): records written after the last commit stay, only a torn last line
 * is removed, and what was not committed as done is fetched again, its record
 * not written a second time when one is already in the file (see
 * writer_tail_line): every URL ends up in the output exactly once, however
 * the run was stopped (SIGKILL included).
 *
 * Threads: open, the resume readers (state_each_*, state_get_prefix,
 * state_output_size) and close run on the loop thread while no writer thread
 * runs. During the run the pending side (state_item_done, state_url_*,
 * state_host, state_set_prefix, state_item_was_done, state_seal) belongs to
 * the loop thread and the commit side (state_commit, state_error) to the one
 * writer thread: they share nothing but the sealed batch handed between
 * them. The state owns its database handle.
 */
#ifndef CRAWL_OUT_STATE_H
#define CRAWL_OUT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct crawl_state crawl_state;

/* Open DIR/state.db (creating DIR). resume: continue an existing crawl;
 * without it, an existing state is an error (-EEXIST) so nothing is lost
 * by accident. */
int state_open(const char *dir, bool resume, crawl_state **out);
void state_close(crawl_state *s);
/* The output size at the last checkpoint (0 for a new crawl). */
int64_t state_output_size(crawl_state *s);
bool state_is_new(crawl_state *s);

/* URL lists: item i (input order) has its record. */
void state_item_done(crawl_state *s, int64_t item);
bool state_item_was_done(crawl_state *s, int64_t item);

/* Where a resumed URL-list run can start reading: every item before `item`
 * is done, and item `item` starts at byte `off` of input source `src`. */
void state_set_prefix(crawl_state *s, int64_t item, int64_t src, int64_t off);
bool state_get_prefix(crawl_state *s, int64_t *item, int64_t *src, int64_t *off);

/* Recursive crawls. */
void state_url_queued(crawl_state *s, const char *url, int depth, const char *parent);
void state_url_done(crawl_state *s, const char *url);
/* Call fn for every URL in the state (done or not), for the seen set and
 * the frontier on resume. */
int state_each_url(crawl_state *s, void (*fn)(void *ud, const char *url, int depth, const char *parent, bool done),
                   void *ud);

/* Per-origin state (robots.txt and politeness), kept so a resumed crawl
 * behaves as the interrupted one did. kind: 0 no robots.txt (allow all),
 * 1 parsed robots.txt (body), 2 unreachable (disallow all). */
void state_host(crawl_state *s, const char *origin, int kind, const char *robots, size_t len, int64_t delay_ns);
int state_each_host(crawl_state *s,
                    void (*fn)(void *ud, const char *origin, int kind, const char *robots, size_t len, int64_t delay_ns),
                    void *ud);

/* Take every pending change off the state as one batch (loop side; cheap:
 * no copy, no database call). NULL when out of memory: the changes stay
 * pending for the next seal. */
typedef struct state_batch state_batch;
state_batch *state_seal(crawl_state *s);
/* Commit a sealed batch (NULL: nothing could be sealed) with the output
 * size it goes with, after the output was fsync'd (commit side). Frees b.
 * 0 or -errno; the first error sticks, and every later commit fails. A batch
 * that lost a change to out of memory fails with -ENOMEM. */
int state_commit(crawl_state *s, state_batch *b, int64_t output_size);
void state_batch_free(state_batch *b);
/* state_seal and state_commit in one (one thread). */
int state_checkpoint(crawl_state *s, int64_t output_size);
size_t state_pending(crawl_state *s);
const char *state_error(crawl_state *s);

#endif
