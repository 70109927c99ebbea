/* lsched: see lsched.h. */
#include "lsched.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crawl/co.h"
#include "crawl/hash.h"
#include "retry.h"

enum { IN_NONE,
       IN_READY,
       IN_TIMED };

struct ls_host {
    ls_host *next_hash;
    uint64_t hash;
    char *name;
    ls_node *head, *tail;
    size_t queued;
    long out;        /* items taken and not done */
    int64_t next_ns; /* earliest next start */
    int where;       /* IN_NONE, IN_READY or IN_TIMED */
    size_t idx;      /* position in that heap */
};

/* ---- two binary heaps of hosts, each host knowing its index ---------------- */

static int64_t key_of(const ls_host *h, int which)
{
    return which == IN_READY ? h->head->order : h->next_ns;
}

static void heap_set(ls_host **a, size_t i, ls_host *h)
{
    a[i] = h;
    h->idx = i;
}

static void heap_up(ls_host **a, size_t i, int which)
{
    ls_host *h = a[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (key_of(a[p], which) <= key_of(h, which))
            break;
        heap_set(a, i, a[p]);
        i = p;
    }
    heap_set(a, i, h);
}

static void heap_down(ls_host **a, size_t n, size_t i, int which)
{
    ls_host *h = a[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        int64_t km = key_of(h, which);
        if (l < n && key_of(a[l], which) < km)
            m = l, km = key_of(a[l], which);
        if (l + 1 < n && key_of(a[l + 1], which) < km)
            m = l + 1;
        if (m == i)
            break;
        heap_set(a, i, a[m]);
        i = m;
    }
    heap_set(a, i, h);
}

static int heap_push(ls_host ***a, size_t *n, size_t *cap, ls_host *h, int which)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        ls_host **na = realloc(*a, nc * sizeof *na);
        if (!na)
            return -ENOMEM;
        *a = na;
        *cap = nc;
    }
    heap_set(*a, (*n)++, h);
    heap_up(*a, *n - 1, which);
    return 0;
}

static void heap_remove(ls_host **a, size_t *n, size_t i, int which)
{
    ls_host *last = a[--*n];
    if (i == *n)
        return;
    heap_set(a, i, last);
    heap_up(a, i, which);
    heap_down(a, *n, last->idx, which);
}

/* ---- hosts -------------------------------------------------------------------- */

static int grow_buckets(lsched *s)
{
    size_t nb = s->nbuckets * 2;
    ls_host **b = calloc(nb, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < s->nbuckets; i++)
        for (ls_host *h = s->buckets[i], *next; h; h = next) {
            next = h->next_hash;
            h->next_hash = b[h->hash % nb];
            b[h->hash % nb] = h;
        }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = nb;
    return 0;
}

static ls_host *host_find(lsched *s, const char *name, bool create)
{
    uint64_t hv = crawl_hash_lower(name);
    for (ls_host *h = s->buckets[hv % s->nbuckets]; h; h = h->next_hash)
        if (h->hash == hv && strcasecmp(h->name, name) == 0)
            return h;
    if (!create)
        return NULL;
    if (s->nhosts >= s->nbuckets * 2 && grow_buckets(s) < 0)
        return NULL;
    ls_host *h = calloc(1, sizeof *h);
    if (!h || !(h->name = strdup(name))) {
        free(h);
        return NULL;
    }
    h->hash = hv;
    h->next_hash = s->buckets[hv % s->nbuckets];
    s->buckets[hv % s->nbuckets] = h;
    s->nhosts++;
    return h;
}

static void host_unlink_free(lsched *s, ls_host *h)
{
    ls_host **pp = &s->buckets[h->hash % s->nbuckets];
    while (*pp != h)
        pp = &(*pp)->next_hash;
    *pp = h->next_hash;
    s->nhosts--;
    free(h->name);
    free(h);
}

static void unplace(lsched *s, ls_host *h)
{
    if (h->where == IN_READY)
        heap_remove(s->ready, &s->nready, h->idx, IN_READY);
    else if (h->where == IN_TIMED)
        heap_remove(s->timed, &s->ntimed, h->idx, IN_TIMED);
    h->where = IN_NONE;
}

/* Put h where its state says: ready to start, waiting for a time, busy at
 * its cap (nowhere: lsched_done re-places it), or idle (freed; a host with a
 * gap still running waits in the timed heap until it may be forgotten). */
static void place(lsched *s, ls_host *h, int64_t now)
{
    unplace(s, h);
    bool capped = s->o.max_per_host > 0 && h->out >= s->o.max_per_host;
    if (h->queued > 0 && !capped) {
        if (h->next_ns <= now) {
            if (heap_push(&s->ready, &s->nready, &s->cap_ready, h, IN_READY) == 0)
                h->where = IN_READY;
        } else if (heap_push(&s->timed, &s->ntimed, &s->cap_timed, h, IN_TIMED) == 0) {
            h->where = IN_TIMED;
        }
    } else if (h->queued == 0 && h->out == 0) {
        if (h->next_ns <= now)
            host_unlink_free(s, h);
        else if (heap_push(&s->timed, &s->ntimed, &s->cap_timed, h, IN_TIMED) == 0)
            h->where = IN_TIMED;
    }
    /* heap growth failing leaves h nowhere: lsched_done or a put re-places it */
}

/* ---- the scheduler -------------------------------------------------------------- */

static void account(lsched *s, int64_t now)
{
    s->st.out_ns_integral += (double)s->out * (double)(now - s->last_ns);
    s->last_ns = now;
}

int lsched_init(lsched *s, const lsched_opts *o)
{
    memset(s, 0, sizeof *s);
    s->o = *o;
    s->rng = (uint64_t)co_now_ns() | 1;
    if (s->o.permits <= 0)
        s->o.permits = 1;
    if (s->o.lookahead == 0)
        s->o.lookahead = 4096;
    s->nbuckets = 256;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    if (!s->buckets)
        return -ENOMEM;
    co_event_init(&s->changed);
    co_event_init(&s->room);
    co_event_init(&s->permit);
    s->last_ns = s->start_ns = co_now_ns();
    return 0;
}

void lsched_free(lsched *s, void (*drop)(ls_node *n, void *ud), void *ud)
{
    for (size_t i = 0; s->buckets && i < s->nbuckets; i++)
        for (ls_host *h = s->buckets[i], *next; h; h = next) {
            next = h->next_hash;
            for (ls_node *n = h->head, *nn; n; n = nn) {
                nn = n->next;
                if (drop)
                    drop(n, ud);
            }
            free(h->name);
            free(h);
        }
    free(s->buckets);
    free(s->ready);
    free(s->timed);
    s->buckets = NULL;
    s->ready = s->timed = NULL;
}

int lsched_put(lsched *s, const char *host, ls_node *n)
{
    while (!s->stopped && s->waiting >= s->o.lookahead) {
        co_event_clear(&s->room);
        int st = co_event_wait(&s->room, CO_FOREVER);
        if (st < 0)
            return st;
    }
    if (s->stopped)
        return -EPIPE;
    ls_host *h = host_find(s, host ? host : "", true);
    if (!h)
        return -ENOMEM;
    n->next = NULL;
    if (h->tail)
        h->tail->next = n;
    else
        h->head = n;
    h->tail = n;
    h->queued++;
    if (++s->waiting > s->st.peak_waiting)
        s->st.peak_waiting = s->waiting;
    if (h->where == IN_NONE || (h->where == IN_TIMED && h->queued == 1))
        place(s, h, co_now_ns());
    co_event_set(&s->changed);
    return 0;
}

void lsched_close(lsched *s)
{
    s->closed = true;
    co_event_set(&s->changed);
}

void lsched_stop(lsched *s)
{
    s->stopped = s->closed = true;
    co_event_set(&s->changed);
    co_event_set(&s->room);
    co_event_set(&s->permit);
}

int lsched_get(lsched *s, ls_node **out, ls_host **hout)
{
    int64_t blocked_since = 0;
    for (;;) {
        if (s->stopped)
            return -EPIPE;
        int64_t now = co_now_ns();
        while (s->ntimed && s->timed[0]->next_ns <= now)
            place(s, s->timed[0], now);
        if (s->out < s->o.permits && s->resumers == 0 && s->nready) {
            ls_host *h = s->ready[0];
            ls_node *n = h->head;
            h->head = n->next;
            if (!h->head)
                h->tail = NULL;
            n->next = NULL;
            h->queued--;
            h->out++;
            h->next_ns = now + (s->o.random_gap ? retry_random_gap(s->o.gap_ns, &s->rng) : s->o.gap_ns);
            s->waiting--;
            account(s, now);
            if (++s->out > s->st.peak_out)
                s->st.peak_out = s->out;
            s->st.taken++;
            if (blocked_since)
                s->st.wait_host_ns += now - blocked_since;
            place(s, h, now);
            co_event_set(&s->room);
            *out = n;
            *hout = h;
            return 0;
        }
        if (s->closed && s->waiting == 0)
            return -EPIPE;
        /* Items wait, a permit is free, and yet nothing may start: the caps,
         * gaps or backoff are what this worker waits for. */
        if (!blocked_since && s->waiting > 0 && s->out < s->o.permits && s->resumers == 0)
            blocked_since = now;
        int64_t timeout = CO_FOREVER;
        if (s->ntimed)
            timeout = (s->timed[0]->next_ns - now) / 1000000 + 1;
        co_event_clear(&s->changed);
        int st = co_event_wait(&s->changed, timeout);
        if (st == -ECANCELED)
            return st;
    }
}

static void give_back(lsched *s, int64_t now)
{
    account(s, now);
    s->out--;
    co_event_set(&s->changed);
    co_event_set(&s->permit);
}

void lsched_done(lsched *s, ls_host *h, int64_t backoff_ns)
{
    int64_t now = co_now_ns();
    h->out--;
    if (backoff_ns > 0 && now + backoff_ns > h->next_ns)
        h->next_ns = now + backoff_ns;
    give_back(s, now);
    place(s, h, now);
}

void lsched_backoff(lsched *s, ls_host *h, int64_t backoff_ns)
{
    int64_t now = co_now_ns();
    if (backoff_ns > 0 && now + backoff_ns > h->next_ns) {
        h->next_ns = now + backoff_ns;
        if (h->where != IN_NONE)
            place(s, h, now);
    }
}

void lsched_pause(lsched *s) { give_back(s, co_now_ns()); }

int lsched_resume(lsched *s)
{
    s->resumers++;
    while (!s->stopped && s->out >= s->o.permits) {
        co_event_clear(&s->permit);
        int st = co_event_wait(&s->permit, CO_FOREVER);
        if (st < 0) {
            s->resumers--;
            return st;
        }
    }
    s->resumers--;
    int64_t now = co_now_ns();
    account(s, now);
    if (++s->out > s->st.peak_out)
        s->st.peak_out = s->out;
    co_event_set(&s->changed); /* getters held back for us may go on */
    return 0;
}

size_t lsched_host_queued(const ls_host *h) { return h->queued; }

long lsched_permits_free(const lsched *s) { return s->o.permits - s->out; }

double lsched_mean_out(lsched *s)
{
    int64_t now = co_now_ns();
    account(s, now);
    return now > s->start_ns ? s->st.out_ns_integral / (double)(now - s->start_ns) : 0.0;
}
