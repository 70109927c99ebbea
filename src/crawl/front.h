/* front: the frontier interface. A run's workers see their frontier only
 * through this small ops table, in the way redis puts its connection types
 * and nginx its event methods behind one face: offer a URL, lease the next
 * one whose host may start now, finish the lease (with a backoff for its
 * host), back a host off before a retry, give the fetch permit back while a
 * retry waits, stop. Two local backends:
 *   front_list    the input-ordered scheduler of a URL list (lsched), and
 *   front_polite  the per-origin polite frontier of a recursive crawl.
 * A distributed backend (host buckets leased from Redis) plugs in here.
 *
 * The rule every backend keeps and every caller follows: a lease is
 * finished (front_done) only after its result was handed to the sink
 * (writer_submit), which commits it before or with the frontier's own
 * record that the URL is done. So a crash between the two refetches a URL;
 * it never loses one.
 *
 * Politeness lives in the backend: a lease is handed out only when its host
 * has fewer than max-per-host leases out and its delay, rate and backoff
 * have passed; the worker holds the lease for the whole fetch (retries and
 * redirects included).
 *
 * Threads: the loop thread of the run. Ownership: an offered item belongs to
 * the backend; a lease's item belongs to the worker until front_done, which
 * frees it.
 */
#ifndef CRAWL_CRAWL_FRONT_H
#define CRAWL_CRAWL_FRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "frontier.h"
#include "lsched.h"

struct fetch_item;

/* What is offered: a URL (normalized) or an input line that did not parse. */
typedef struct front_offer {
    const char *url;  /* normalized absolute URL, or NULL: line is invalid (why says why) */
    const char *line; /* lists: the input line as read */
    const char *why;
    const char *host; /* lists: the host as parsed (NULL when url is NULL) */
    long port;
    int64_t item;       /* lists: the input position; else -1 */
    int64_t lineno, src; /* lists: the physical line in its file (0: positional) and the source */
    const char *parent; /* recursive: the page it was found on, NULL for a seed */
    int depth;
    struct request_spec *spec; /* lists: the line's own request, or NULL; the offer takes it */
} front_offer;

/* A leased URL. */
typedef struct front_lease {
    struct fetch_item *fi; /* what to fetch (url, host, port, line, item) */
    bool page;             /* a recursive crawl's page: depth and parent apply */
    int depth;
    const char *parent;
    fr_host *origin;         /* front_polite: the origin (robots.txt state), else NULL */
    void *be_item, *be_host; /* the backend's own */
} front_lease;

typedef struct front_ops {
    const char *name;
    /* Queue o (copied; o->spec taken). May wait while the backend's look-ahead is full.
     * 0, -ENOSPC (refused: over the backend's limit, counted), -ENOMEM,
     * -EPIPE (stopped), -ECANCELED. */
    int (*offer)(void *self, const front_offer *o);
    /* Wait for the next lease that may start now. 0, -EPIPE (nothing queued
     * or leased and no more offers coming, or stopped), -ECANCELED. */
    int (*next)(void *self, front_lease *l);
    /* The lease is finished (after writer_submit); backoff_ns > 0 keeps its
     * host quiet that long. Frees the lease's item. */
    void (*done)(void *self, front_lease *l, int64_t backoff_ns);
    /* Keep the lease's host quiet for ns from now (before a retry). */
    void (*backoff)(void *self, front_lease *l, int64_t ns);
    /* A retry waits: give back the fetch permit (keep the host slot); then
     * take one again. resume: 0 or -ECANCELED. */
    void (*pause)(void *self);
    int (*resume)(void *self);
    /* No more offers: once everything is finished, next returns -EPIPE. */
    void (*close)(void *self);
    /* Hand nothing out any more (a signal): next returns -EPIPE. */
    void (*stop)(void *self);
} front_ops;

typedef struct front {
    const front_ops *ops;
    void *self;
} front;

extern const front_ops front_list_ops;   /* self: an lsched */
extern const front_ops front_polite_ops; /* self: a frontier */

static inline int front_offer_one(front *f, const front_offer *o) { return f->ops->offer(f->self, o); }
static inline int front_next(front *f, front_lease *l) { return f->ops->next(f->self, l); }
static inline void front_done(front *f, front_lease *l, int64_t backoff_ns) { f->ops->done(f->self, l, backoff_ns); }
static inline void front_backoff(front *f, front_lease *l, int64_t ns) { f->ops->backoff(f->self, l, ns); }
static inline void front_pause(front *f) { f->ops->pause(f->self); }
static inline int front_resume(front *f) { return f->ops->resume(f->self); }
static inline void front_close(front *f) { f->ops->close(f->self); }
static inline void front_stop(front *f) { f->ops->stop(f->self); }

/* The lease's item, for a backend and its free: url, host, line. */
void front_item_free(struct fetch_item *fi);

#endif
