/* stats: see stats.h. */
#include "stats.h"

#include <math.h>
#include <string.h>

#include "crawl/co.h"

#define GROWTH 1.04

void stats_init(crawl_stats *s)
{
    memset(s, 0, sizeof *s);
    s->start_ns = co_now_ns();
}

static int bucket_of(double ms)
{
    if (ms < 0.01)
        return 0;
    int b = 1 + (int)(log(ms / 0.01) / log(GROWTH));
    return b >= STATS_BUCKETS ? STATS_BUCKETS - 1 : b;
}

static double bucket_value(int b) { return b == 0 ? 0.0 : 0.01 * pow(GROWTH, b - 0.5); }

void stats_latency(crawl_stats *s, double ms) { s->lat[bucket_of(ms)]++; }

double stats_percentile(const crawl_stats *s, double p)
{
    uint64_t total = 0;
    for (int i = 0; i < STATS_BUCKETS; i++)
        total += s->lat[i];
    if (!total)
        return 0;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)total), seen = 0;
    for (int i = 0; i < STATS_BUCKETS; i++) {
        seen += s->lat[i];
        if (seen >= want)
            return bucket_value(i);
    }
    return bucket_value(STATS_BUCKETS - 1);
}

void stats_summary(const crawl_stats *s, FILE *out, const char *prefix, uint64_t not_fetched)
{
    double secs = (double)(co_now_ns() - s->start_ns) / 1e9;
    fprintf(out, "%s%llu fetched in %.2fs (%.0f req/s, %.2f MB/s)",
            prefix, (unsigned long long)s->done, secs, secs > 0 ? (double)s->done / secs : 0.0,
            secs > 0 ? (double)s->bytes / secs / 1e6 : 0.0);
    fprintf(out, "; status");
    const char *cls[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 0; i < 6; i++)
        if (s->by_class[i])
            fprintf(out, " %s=%llu", cls[i], (unsigned long long)s->by_class[i]);
    if (s->errors) {
        fprintf(out, "; errors");
        for (int i = 1; i <= STATS_ERR_REDIRECT; i++)
            if (s->by_err[i])
                fprintf(out, " %s=%llu", i == STATS_ERR_REDIRECT ? "redirect" : http_err_name((http_err)i),
                        (unsigned long long)s->by_err[i]);
    }
    if (s->retries)
        fprintf(out, "; retries %llu", (unsigned long long)s->retries);
    fprintf(out, "; latency p50 %.1fms p95 %.1fms p99 %.1fms\n", stats_percentile(s, 50), stats_percentile(s, 95),
            stats_percentile(s, 99));
    if (not_fetched)
        fprintf(out, "%sinterrupted: %llu queued URLs were not fetched\n", prefix, (unsigned long long)not_fetched);
}
