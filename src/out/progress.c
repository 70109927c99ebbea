/* progress: see progress.h. */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>

void progress_init(progress *p, int64_t now_ns)
{
    p->head = 0;
    p->n = 1;
    p->start_ns = now_ns;
    p->s[0].t = now_ns;
    p->s[0].done = p->s[0].bytes = 0;
}

/* The oldest sample still inside the window (the start until a window has
 * passed). */
static size_t oldest(const progress *p, int64_t now_ns)
{
    size_t best = p->head;
    for (size_t k = 0; k < p->n; k++) {
        size_t i = (p->head + PROGRESS_SAMPLES - k) % PROGRESS_SAMPLES;
        if (now_ns - p->s[i].t > PROGRESS_WINDOW_NS)
            break;
        best = i;
    }
    return best;
}

static double per_second(uint64_t now_v, uint64_t then_v, int64_t dt_ns)
{
    return dt_ns > 0 && now_v >= then_v ? (double)(now_v - then_v) * 1e9 / (double)dt_ns : 0;
}

double progress_rate(const progress *p, int64_t now_ns, uint64_t done)
{
    size_t o = oldest(p, now_ns);
    return per_second(done, p->s[o].done, now_ns - p->s[o].t);
}

static void duration(sbuf *b, double secs)
{
    uint64_t s = secs > 0 ? (uint64_t)(secs + 0.5) : 0;
    if (s >= 3600)
        sbuf_printf(b, "%" PRIu64 ":%02u:%02u", s / 3600, (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    else
        sbuf_printf(b, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

static void bytes_rate(sbuf *b, double bps)
{
    static const char *const unit[] = {"B/s", "kB/s", "MB/s", "GB/s"};
    size_t u = 0;
    while (bps >= 1000 && u < 3) {
        bps /= 1000;
        u++;
    }
    sbuf_printf(b, u ? "%.1f %s" : "%.0f %s", bps, unit[u]);
}

bool progress_line(progress *p, int64_t now_ns, const progress_in *in, sbuf *out)
{
    /* a new sample at most every 200 ms: the ring then spans the window */
    size_t h = p->head;
    if (now_ns - p->s[h].t >= 200000000) {
        p->head = (h + 1) % PROGRESS_SAMPLES;
        p->s[p->head].t = now_ns;
        p->s[p->head].done = in->done;
        p->s[p->head].bytes = in->bytes;
        if (p->n < PROGRESS_SAMPLES)
            p->n++;
    }
    size_t o = oldest(p, now_ns);
    int64_t dt = now_ns - p->s[o].t;
    double rate = per_second(in->done, p->s[o].done, dt);
    double bps = per_second(in->bytes, p->s[o].bytes, dt);
    sbuf_reset(out);
    if (in->total >= 0) {
        uint64_t total = (uint64_t)in->total > in->done ? (uint64_t)in->total : in->done;
        sbuf_printf(out, "%" PRIu64 "/%" PRIu64 " %.1f%%", in->done, total,
                    total ? 100.0 * (double)in->done / (double)total : 100.0);
    } else {
        sbuf_printf(out, "%" PRIu64 " done", in->done);
    }
    sbuf_printf(out, " | %.*f req/s | ", rate < 10 ? 1 : 0, rate);
    bytes_rate(out, bps);
    sbuf_printf(out, " | %" PRIu64 " in flight | %" PRIu64 " error%s | ", in->in_flight, in->errors,
                in->errors == 1 ? "" : "s");
    duration(out, (double)(now_ns - p->start_ns) / 1e9);
    if (in->total >= 0 && (uint64_t)in->total > in->done && rate > 0) {
        sbuf_adds(out, " | ETA ");
        duration(out, (double)((uint64_t)in->total - in->done) / rate);
    }
    return !sbuf_failed(out);
}
