/* retry: when to retry a fetch and how long to wait (exponential backoff with
 * jitter, honouring Retry-After), plus a token bucket for request rates.
 * Pure functions over caller-owned state; no globals; any thread. */
#ifndef CRAWL_CRAWL_RETRY_H
#define CRAWL_CRAWL_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "net/http.h"

/* Retry on connection errors, timeouts, resets, 429 and 500/502/503/504. */
bool retry_wanted(http_err err, long status);
/* Delay before retry number `retry` (1 = first retry): base * 2^(retry-1),
 * capped at cap_ms, then jittered uniformly into [d/2, d]; a Retry-After of
 * retry_after_s seconds (>= 0) raises it to at least that, still capped.
 * *rng is a xorshift state (any non-zero seed). */
int64_t retry_delay_ms(int retry, int64_t base_ms, int64_t cap_ms, int64_t retry_after_s, uint64_t *rng);

/* --random-wait (wget): a gap between two starts on one host drawn
 * uniformly from [gap/2, 3*gap/2). *rng as above. */
int64_t retry_random_gap(int64_t gap_ns, uint64_t *rng);

/* Token bucket: rate tokens per second, up to burst. Reservation style: a
 * caller takes a token now and is told how long to wait for it, so waiters
 * are served in order and never spin. rate <= 0 means unlimited. */
typedef struct tbucket {
    double rate, burst, tokens;
    int64_t last_ns;
} tbucket;

void tb_init(tbucket *tb, double rate, double burst, int64_t now_ns);
/* Take one token; returns the nanoseconds to wait before using it (0 = now). */
int64_t tb_reserve(tbucket *tb, int64_t now_ns);

#endif
