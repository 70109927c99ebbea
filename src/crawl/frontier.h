/* frontier: the URLs a recursive crawl still has to fetch, queued per origin
 * (scheme, host, port), handed out politely: at most max_per_host fetches in
 * flight per origin, at least the origin's delay between two starts there,
 * origins served round-robin so one slow origin never starves the others,
 * and per-origin backoff (429/503). Workers block in frontier_next() until
 * some origin may start a fetch; it returns -EPIPE once nothing is queued
 * and nothing is in flight (the crawl is complete) or after frontier_close().
 *
 * Memory is bounded: at most max_queued URLs wait in memory; pushes beyond
 * that are refused (-ENOSPC) and counted, never silently lost.
 *
 * Each origin also carries the crawl's robots.txt state for it.
 *
 * Loop thread only. The frontier owns queued items until frontier_next hands
 * one out; the caller then owns it (fr_item_free).
 */
#ifndef CRAWL_CRAWL_FRONTIER_H
#define CRAWL_CRAWL_FRONTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crawl/co_sync.h"
#include "crawl/robots.h"

typedef struct fr_item {
    struct fr_item *next;
    char *url;     /* normalized absolute URL */
    char *parent;  /* the page it was found on, or NULL for a seed */
    int depth;
} fr_item;

typedef enum { ROBOTS_UNKNOWN, ROBOTS_FETCHING, ROBOTS_READY } robots_state;

typedef struct fr_host {
    struct fr_host *next_hash;
    struct fr_host *ring_next, *ring_prev; /* in the ring while items are queued */
    char *origin;                           /* "http://host:port" */
    fr_item *head, *tail;
    size_t queued;
    size_t pushed;                          /* ever pushed (for --max-pages-per-host) */
    int in_flight;
    int64_t next_ns;                        /* earliest next start */
    int64_t delay_ns;                       /* between starts */
    /* robots.txt for this origin */
    robots_state rstate;
    robots *rules;                          /* NULL: everything allowed */
    bool disallow_all;                      /* robots.txt was unreachable (5xx, network) */
    co_event robots_ready;
} fr_host;

typedef struct frontier {
    fr_host **buckets;
    size_t nbuckets, nhosts;
    fr_host *ring;       /* cursor into the ring of origins with queued items */
    size_t queued, in_flight;
    size_t max_queued;
    size_t refused;      /* pushes refused because max_queued was reached */
    int max_per_host;
    int64_t delay_ns;    /* default delay between starts per origin */
    bool random_delay;   /* --random-wait: each delay drawn from [d/2, 3d/2) */
    uint64_t rng;
    bool closed;
    co_event changed;
} frontier;

int frontier_init(frontier *f, size_t max_queued, int max_per_host, int64_t delay_ns);
void frontier_free(frontier *f);
/* The origin record for an http(s) URL (created on first use). NULL on ENOMEM. */
fr_host *frontier_host(frontier *f, const char *origin);
/* Queue url (takes ownership of url and parent). -ENOSPC when full. */
int frontier_push(frontier *f, fr_host *h, char *url, char *parent, int depth);
/* Wake waiting workers after a batch of pushes or a finished fetch. */
void frontier_notify(frontier *f);
/* Awaitable: the next item that may start now. 0, -EPIPE (done), -ECANCELED. */
int frontier_next(frontier *f, fr_item **item, fr_host **host);
/* A fetch from h finished; backoff_ns > 0 delays that origin's next start. */
void frontier_done(frontier *f, fr_host *h, int64_t backoff_ns);
void frontier_close(frontier *f);
/* Keep the crawl from counting as complete while seeds are still being read. */
void frontier_hold(frontier *f);
void frontier_release(frontier *f);
void fr_item_free(fr_item *it);
/* "scheme://host[:port]" of a URL, malloc'd; NULL if none. */
char *frontier_origin_of(const char *url);

#endif
