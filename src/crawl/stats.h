/* stats: run statistics for the progress line and the summary: counts by
 * status class and error kind, bytes, and a latency histogram with
 * logarithmic buckets (about 4% wide), so percentiles cost constant memory
 * however many requests run. Loop thread only. */
#ifndef CRAWL_CRAWL_STATS_H
#define CRAWL_CRAWL_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "net/http.h"

#define STATS_BUCKETS 512

typedef struct crawl_stats {
    uint64_t done, ok, errors, in_flight, queued_total;
    uint64_t by_class[6];                 /* fetched (a response, no transport error): index status/100 */
    uint64_t failed;                      /* no usable response: a transport or redirect error (by_err) */
    uint64_t invalid;                     /* input lines that are not URLs */
    uint64_t interrupted;                 /* stopped by a signal before the fetch completed */
    uint64_t by_err[HTTP_E_INTERNAL + 2]; /* + one for "redirect" */
    uint64_t bytes;
    uint64_t retries;
    uint64_t peak_in_flight;
    int64_t retry_wait_ns;       /* time fetches spent waiting to retry (summed over fetches) */
    uint64_t lat[STATS_BUCKETS]; /* milliseconds, log buckets */
    int64_t start_ns;
} crawl_stats;

#define STATS_ERR_REDIRECT (HTTP_E_INTERNAL + 1)

void stats_init(crawl_stats *s);
void stats_latency(crawl_stats *s, double ms);
double stats_percentile(const crawl_stats *s, double p);
/* prefix: e.g. "crawl: " or "crawl: [job x] " */
void stats_summary(const crawl_stats *s, FILE *out, const char *prefix, uint64_t not_fetched);

#endif
