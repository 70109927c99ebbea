/* lsched: the scheduler of a URL list, the input-ordered frontier. Items are
 * queued per host in input order; a worker gets the earliest item (lowest
 * `order`) whose host may start a fetch now: fewer than `max_per_host` of its
 * items out, its start gap (delay, host rate) and any backoff elapsed, and one
 * of `permits` fetch permits free (the run's -j). A capped, slow or
 * backing-off host therefore never holds back the hosts behind it in the
 * list, while the list's order is kept wherever the caps allow it.
 *
 * Memory is bounded: at most `lookahead` items wait; lsched_put() blocks the
 * producer until one is taken, so a 10-million-line list costs no more than
 * its look-ahead.
 *
 * A worker that must wait before retrying (lsched_pause) returns its fetch
 * permit but keeps its host slot; lsched_resume() takes a permit again ahead
 * of new items. So a retry's wait holds no worker that could serve another
 * host, and the host's cap is never exceeded.
 *
 * Threads: the loop thread only. Ownership: items belong to the caller; the
 * scheduler links them through their embedded ls_node until they are taken.
 */
#ifndef CRAWL_CRAWL_LSCHED_H
#define CRAWL_CRAWL_LSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crawl/co_sync.h"

typedef struct ls_node {
    struct ls_node *next;
    int64_t order; /* input position: lower goes first where caps allow */
} ls_node;

typedef struct ls_host ls_host;

typedef struct lsched_opts {
    long permits;      /* fetches at once overall (-j), > 0 */
    long max_per_host; /* items out per host at once, 0 = no limit */
    int64_t gap_ns;    /* least time between two starts on one host (delay, host rate) */
    size_t lookahead;  /* items waiting at most (0: a default of 4096) */
    bool random_gap;   /* --random-wait: each gap drawn from [gap/2, 3*gap/2) */
} lsched_opts;

typedef struct lsched_stats {
    uint64_t taken;         /* items handed out */
    long peak_out;          /* most fetch permits in use at once */
    double out_ns_integral; /* sum over time of permits in use (for the mean) */
    int64_t wait_host_ns;   /* time workers waited while items were queued but no host could start */
    size_t peak_waiting;    /* most items waiting at once */
} lsched_stats;

typedef struct lsched {
    lsched_opts o;
    uint64_t rng; /* for random_gap */
    ls_host **buckets;
    size_t nbuckets, nhosts;
    ls_host **ready; /* min-heap by the order of each host's first item */
    size_t nready, cap_ready;
    ls_host **timed; /* min-heap by the time each host may start next */
    size_t ntimed, cap_timed;
    size_t waiting;   /* items queued */
    long out;         /* permits in use */
    long resumers;    /* paused workers waiting for a permit */
    bool closed;      /* no more puts */
    bool stopped;     /* hand nothing out any more */
    co_event changed; /* something may have become ready: workers re-check */
    co_event room;    /* an item was taken: the producer re-checks */
    co_event permit;  /* a permit came back: resumers re-check */
    int64_t last_ns, start_ns;
    int64_t idle_since_ns; /* when workers started waiting on queued-but-blocked items, or 0 */
    lsched_stats st;
} lsched;

int lsched_init(lsched *s, const lsched_opts *o);
/* Frees the scheduler's own memory; items still queued are passed to drop(). */
void lsched_free(lsched *s, void (*drop)(ls_node *n, void *ud), void *ud);
/* Queue n for host (copied). Blocks while `lookahead` items wait. 0, -ENOMEM,
 * -EPIPE (stopped), -ECANCELED. */
int lsched_put(lsched *s, const char *host, ls_node *n);
/* No more puts: once every item is taken, lsched_get returns -EPIPE. */
void lsched_close(lsched *s);
/* Stop handing out items (a signal): lsched_get returns -EPIPE; what is
 * queued stays for lsched_free. */
void lsched_stop(lsched *s);
/* Wait for the next item that may start: *n, and *h its host (pass it back to
 * lsched_done). 0, -EPIPE (closed and empty, or stopped), -ECANCELED. */
int lsched_get(lsched *s, ls_node **n, ls_host **h);
/* The item taken from h is finished: its permit and host slot come back. A
 * backoff_ns > 0 keeps h quiet that long (429/503). */
void lsched_done(lsched *s, ls_host *h, int64_t backoff_ns);
/* Keep h quiet for backoff_ns from now (its queued items wait). */
void lsched_backoff(lsched *s, ls_host *h, int64_t backoff_ns);
/* Give the permit back for a wait (the host slot is kept); then resume. */
void lsched_pause(lsched *s);
/* Take a permit again, before any new item is handed out. 0 or -ECANCELED. */
int lsched_resume(lsched *s);
/* Items of h still queued (0 once every one was taken). */
size_t lsched_host_queued(const ls_host *h);
/* Permits not in use now. */
long lsched_permits_free(const lsched *s);
/* Mean permits in use (fetches in flight) since init, for the summary. */
double lsched_mean_out(lsched *s);

#endif
