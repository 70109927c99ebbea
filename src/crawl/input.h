/* input: the producer of a run. Reads positional URLs and input files
 * (stdin too) lazily, a batch of lines at a time on the executor so that a
 * blocking read never stalls the loop; validates and normalizes each line;
 * queues URL-list items for the workers, or seeds the frontier of a
 * recursive crawl. With --state it tracks the done prefix of the input so a
 * resumed run seeks past it.
 *
 * Threads: the loop thread (the reads run on the executor). Ownership: see
 * each function.
 */
#ifndef CRAWL_CRAWL_INPUT_H
#define CRAWL_CRAWL_INPUT_H

#include "engine.h"

/* The producer task (a co_fn on the engine): returns when every input is
 * read or the run stops. */
int input_main(void *arg);
/* Normalize an input line into an absolute http(s) URL (malloc'd), or NULL
 * with the reason in why. *host_out (malloc'd) and *port_out on success. */
char *input_url(const char *line, char *why, size_t wlen, char **host_out, long *port_out);
void input_item_free(fetch_item *it);
/* A services task (progress on a terminal, URL lists): count the input's
 * URL lines on the executor and set E->total_items; left at -1 for a pipe. */
int input_count_main(void *arg);
/* Item `item` has its record written: advance the done prefix. */
void input_item_finished(engine *E, int64_t item);

#endif
