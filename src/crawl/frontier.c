/* frontier: see frontier.h. */
#include "frontier.h"
#include "crawl/hash.h"
#include "retry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crawl/co.h"

int frontier_init(frontier *f, size_t max_queued, int max_per_host, int64_t delay_ns)
{
    memset(f, 0, sizeof *f);
    f->nbuckets = 1024;
    f->buckets = calloc(f->nbuckets, sizeof *f->buckets);
    if (!f->buckets)
        return -ENOMEM;
    f->max_queued = max_queued ? max_queued : 1000000;
    f->max_per_host = max_per_host > 0 ? max_per_host : 1;
    f->delay_ns = delay_ns;
    co_event_init(&f->changed);
    return 0;
}

void fr_item_free(fr_item *it)
{
    if (!it)
        return;
    free(it->url);
    free(it->parent);
    free(it);
}

void frontier_free(frontier *f)
{
    for (size_t i = 0; i < f->nbuckets; i++) {
        fr_host *h = f->buckets[i];
        while (h) {
            fr_host *n = h->next_hash;
            while (h->head) {
                fr_item *it = h->head;
                h->head = it->next;
                fr_item_free(it);
            }
            robots_free(h->rules);
            free(h->origin);
            free(h);
            h = n;
        }
    }
    free(f->buckets);
    f->buckets = NULL;
}

static size_t hash_str(const char *s) { return (size_t)crawl_hash_str(s); }

fr_host *frontier_host(frontier *f, const char *origin)
{
    size_t b = hash_str(origin) % f->nbuckets;
    for (fr_host *h = f->buckets[b]; h; h = h->next_hash)
        if (strcmp(h->origin, origin) == 0)
            return h;
    fr_host *h = calloc(1, sizeof *h);
    if (!h || !(h->origin = strdup(origin))) {
        free(h);
        return NULL;
    }
    h->delay_ns = f->delay_ns;
    co_event_init(&h->robots_ready);
    h->next_hash = f->buckets[b];
    f->buckets[b] = h;
    f->nhosts++;
    return h;
}

static void ring_add(frontier *f, fr_host *h)
{
    if (!f->ring) {
        h->ring_next = h->ring_prev = h;
        f->ring = h;
    } else {
        h->ring_prev = f->ring->ring_prev;
        h->ring_next = f->ring;
        f->ring->ring_prev->ring_next = h;
        f->ring->ring_prev = h;
    }
}

static void ring_remove(frontier *f, fr_host *h)
{
    if (h->ring_next == h) {
        f->ring = NULL;
    } else {
        h->ring_prev->ring_next = h->ring_next;
        h->ring_next->ring_prev = h->ring_prev;
        if (f->ring == h)
            f->ring = h->ring_next;
    }
    h->ring_next = h->ring_prev = NULL;
}

int frontier_push(frontier *f, fr_host *h, char *url, char *parent, int depth)
{
    if (f->queued >= f->max_queued) {
        f->refused++;
        free(url);
        free(parent);
        return -ENOSPC;
    }
    fr_item *it = malloc(sizeof *it);
    if (!it) {
        free(url);
        free(parent);
        return -ENOMEM;
    }
    *it = (fr_item){.url = url, .parent = parent, .depth = depth};
    if (h->tail)
        h->tail->next = it;
    else
        h->head = it;
    h->tail = it;
    if (h->queued++ == 0)
        ring_add(f, h);
    h->pushed++;
    f->queued++;
    return 0;
}

void frontier_notify(frontier *f) { co_event_set(&f->changed); }

int frontier_next(frontier *f, fr_item **item, fr_host **host)
{
    for (;;) {
        if (f->closed)
            return -EPIPE;
        int64_t now = co_now_ns(), wait = -1;
        fr_host *h = f->ring;
        for (size_t n = 0; h && n < f->nhosts; n++, h = h->ring_next) {
            if (h->in_flight >= f->max_per_host)
                continue;
            if (h->next_ns > now) {
                int64_t w = h->next_ns - now;
                if (wait < 0 || w < wait)
                    wait = w;
                continue;
            }
            fr_item *it = h->head;
            h->head = it->next;
            if (!h->head)
                h->tail = NULL;
            it->next = NULL;
            h->in_flight++;
            h->next_ns = now + (f->random_delay ? retry_random_gap(h->delay_ns, &f->rng) : h->delay_ns);
            f->queued--;
            f->in_flight++;
            fr_host *after = h->ring_next;
            if (--h->queued == 0)
                ring_remove(f, h);
            else
                f->ring = after; /* round-robin: start after this origin next time */
            *item = it;
            *host = h;
            return 0;
        }
        if (f->queued == 0 && f->in_flight == 0) {
            f->closed = true;
            co_event_set(&f->changed);
            return -EPIPE;
        }
        co_event_clear(&f->changed);
        int st = co_event_wait(&f->changed, wait < 0 ? CO_FOREVER : wait / 1000000 + 1);
        if (st == -ECANCELED)
            return st;
    }
}

void frontier_done(frontier *f, fr_host *h, int64_t backoff_ns)
{
    h->in_flight--;
    f->in_flight--;
    if (backoff_ns > 0) {
        int64_t t = co_now_ns() + backoff_ns;
        if (t > h->next_ns)
            h->next_ns = t;
    }
    co_event_set(&f->changed);
}

void frontier_hold(frontier *f) { f->in_flight++; }

void frontier_release(frontier *f)
{
    f->in_flight--;
    co_event_set(&f->changed);
}

void frontier_close(frontier *f)
{
    f->closed = true;
    co_event_set(&f->changed);
}

char *frontier_origin_of(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t n = (size_t)(p - url) + strcspn(p, "/?#");
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    memcpy(o, url, n);
    o[n] = 0;
    /* drop userinfo */
    char *at = strchr(o, '@');
    if (at) {
        char *s = strstr(o, "://") + 3;
        memmove(s, at + 1, strlen(at + 1) + 1);
    }
    return o;
}
