/* jsonl: the JSON Lines sink. One record per line (serialized by record.h),
 * written with a single buffered write per record, so records are never
 * interleaved or cut (short of a crash mid-write; the durable-resume work
 * handles torn last lines).
 *
 * Threads: loop thread only. Ownership: the sink owns its FILE (stdout is
 * borrowed, never closed).
 */
#ifndef CRAWL_OUT_JSONL_H
#define CRAWL_OUT_JSONL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct jsonl jsonl;

/* path NULL or "-" = stdout. 0 or -errno. */
int jsonl_open(const char *path, jsonl **out);
/* Continue an existing file whose first size bytes were committed. Output is
 * append-only: every complete line after them is kept (a reader may have
 * consumed it already) and passed to line_cb (may be NULL) so the caller can
 * recognise the records it need not write again; only a torn last line (no
 * newline: never a line anyone read) is cut. Then appends. */
int jsonl_open_resume(const char *path, int64_t size, void (*line_cb)(void *ud, const char *line, size_t len),
                      void *ud, jsonl **out);
/* Flush and fsync; *size = bytes in the file. 0 or -errno. */
int jsonl_sync(jsonl *j, int64_t *size);
/* Write one line (len bytes, ending in '\n'). 0 or -errno (the first I/O
 * error sticks). */
int jsonl_write(jsonl *j, const char *line, size_t len);
int jsonl_flush(jsonl *j);
/* Flush and close; returns the first error seen, if any. */
int jsonl_close(jsonl *j);

#endif
