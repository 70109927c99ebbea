/* stats: see stats.h. */
#include "stats.h"

#include <math.h>
#include <stdio.h>
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

/* n bytes in human units (decimal, as curl and wget show them). */
static void human(char *buf, size_t len, double n, const char *suffix)
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    while (n >= 1000 && u < 4) {
        n /= 1000;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s%s" : "%.0f %s%s", n, unit[u], suffix);
}

static const char *plural(uint64_t n, const char *one, const char *many) { return n == 1 ? one : many; }

void stats_summary(const crawl_stats *s, FILE *out, const char *prefix, uint64_t not_fetched)
{
    double secs = (double)(co_now_ns() - s->start_ns) / 1e9;
    char total[32], rate[32];
    human(total, sizeof total, (double)s->bytes, "");
    human(rate, sizeof rate, secs > 0 ? (double)s->bytes / secs : 0.0, "/s");
    fprintf(out, "%s%llu %s in %.2fs (%.0f/s; %s, %s)", prefix, (unsigned long long)s->done,
            plural(s->done, "record", "records"), secs, secs > 0 ? (double)s->done / secs : 0.0, total, rate);
    const char *sep = ": ";
    uint64_t fetched = 0;
    for (int i = 1; i < 6; i++)
        fetched += s->by_class[i];
    if (fetched) {
        fprintf(out, "%s%llu fetched (", sep, (unsigned long long)fetched);
        const char *cls[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
        const char *comma = "";
        for (int i = 1; i < 6; i++)
            if (s->by_class[i]) {
                fprintf(out, "%s%s %llu", comma, cls[i], (unsigned long long)s->by_class[i]);
                comma = ", ";
            }
        fputc(')', out);
        sep = ", ";
    }
    if (s->invalid) {
        fprintf(out, "%s%llu invalid input %s", sep, (unsigned long long)s->invalid,
                plural(s->invalid, "line", "lines"));
        sep = ", ";
    }
    if (s->failed) {
        fprintf(out, "%s%llu failed (", sep, (unsigned long long)s->failed);
        const char *comma = "";
        for (int i = 1; i <= STATS_ERR_REDIRECT; i++)
            if (s->by_err[i] && i != HTTP_E_INVALID_URL) {
                fprintf(out, "%s%s %llu", comma, i == STATS_ERR_REDIRECT ? "redirect" : http_err_name((http_err)i),
                        (unsigned long long)s->by_err[i]);
                comma = ", ";
            }
        fputc(')', out);
        sep = ", ";
    }
    if (s->interrupted)
        fprintf(out, "%s%llu interrupted", sep, (unsigned long long)s->interrupted);
    if (s->retries)
        fprintf(out, "; %llu %s", (unsigned long long)s->retries, plural(s->retries, "retry", "retries"));
    fprintf(out, "; latency p50 %.1fms p95 %.1fms p99 %.1fms\n", stats_percentile(s, 50), stats_percentile(s, 95),
            stats_percentile(s, 99));
    if (not_fetched)
        fprintf(out, "%sinterrupted: %llu queued URLs were not fetched\n", prefix, (unsigned long long)not_fetched);
}
