/* progress: the progress line a run draws on a terminal. Pure: it keeps the
 * recent samples and formats a line; the caller reads the counters, decides
 * when to draw (at most 4 times a second) and writes the line.
 *
 *   1,234/5,000 24.7% | 120 req/s | 1.2 MB/s | 8 in flight | 3 errors | 0:12 | ETA 0:31
 *
 * The rates are averaged over the last PROGRESS_WINDOW_NS (over the time
 * elapsed until that much has passed), never a per-tick count. done/total,
 * the percentage and the ETA appear when the total is known.
 *
 * Threads: one progress belongs to one thread. Ownership: plain data.
 */
#ifndef CRAWL_OUT_PROGRESS_H
#define CRAWL_OUT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sbuf.h"

#define PROGRESS_WINDOW_NS (10LL * 1000000000)
#define PROGRESS_SAMPLES 64

typedef struct progress_in {
    uint64_t done, errors, in_flight, bytes;
    int64_t total; /* < 0: unknown */
} progress_in;

typedef struct progress {
    struct {
        int64_t t;
        uint64_t done, bytes;
    } s[PROGRESS_SAMPLES];
    size_t head, n;
    int64_t start_ns;
} progress;

void progress_init(progress *p, int64_t now_ns);
/* Record the counters at now_ns and format the line (no line end) into out
 * (reset first). false when out ran out of memory. */
bool progress_line(progress *p, int64_t now_ns, const progress_in *in, sbuf *out);
/* The request rate over the window, as the line shows it (tests). */
double progress_rate(const progress *p, int64_t now_ns, uint64_t done);

#endif
