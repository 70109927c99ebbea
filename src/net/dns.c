/* dns: see dns.h. */
#include "dns.h"
#include "crawl/hash.h"

#include <ares.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "crawl/co_sync.h"

typedef struct dns_entry {
    struct dns_entry *next; /* hash chain */
    char *host;
    int status;             /* 0 or negative errno */
    dns_addrs addrs;
    int64_t expires_ns;     /* INT64_MAX for static entries */
    bool pending;
    co_event done;          /* set when the pending query finished */
} dns_entry;

typedef struct dns_sock {
    ares_socket_t fd;
    struct event *ev;
    struct dns_sock *next;
} dns_sock;

struct dns_resolver {
    ares_channel ch;
    struct event_base *base;
    struct event *timer;
    dns_sock *socks;
    dns_entry **buckets;
    size_t nbuckets, count;
    int min_ttl, max_ttl;
    int family; /* hints.ai_family of every query */
    uint64_t queries, hits;
};

const char *dns_strerror(int err)
{
    switch (err) {
    case -ENOENT: return "no such host";
    case -ETIMEDOUT: return "DNS lookup timed out";
    case -ECONNREFUSED: return "DNS server refused the connection";
    case -ECANCELED: return "DNS lookup cancelled";
    case -ENOMEM: return "out of memory";
    default: return "DNS lookup failed";
    }
}

static void rearm_timer(dns_resolver *d)
{
    struct timeval max = {60, 0}, tv;
    struct timeval *t = ares_timeout(d->ch, &max, &tv);
    if (d->socks == NULL) {
        evtimer_del(d->timer);
        return;
    }
    evtimer_add(d->timer, t);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    dns_resolver *d = arg;
    ares_process_fd(d->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD, (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    rearm_timer(d);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dns_resolver *d = arg;
    ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm_timer(d);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    dns_resolver *d = data;
    dns_sock **pp = &d->socks, *s;
    while ((s = *pp) && s->fd != fd)
        pp = &s->next;
    if (!readable && !writable) {
        if (s) {
            event_free(s->ev);
            *pp = s->next;
            free(s);
        }
        return;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return;
        s->fd = fd;
        s->next = d->socks;
        d->socks = s;
    } else {
        event_free(s->ev);
    }
    short ev = EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
    s->ev = event_new(d->base, fd, ev, on_sock, d);
    if (s->ev)
        event_add(s->ev, NULL);
}

int dns_new(const dns_opts *o, dns_resolver **out)
{
    co_loop *loop = co_loop_current();
    if (!loop)
        return -EINVAL;
    static bool lib_init;
    if (!lib_init) {
        if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
            return -EIO;
        lib_init = true;
    }
    dns_resolver *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->base = co_loop_base(loop);
    d->family = o ? o->family : AF_UNSPEC;
    d->min_ttl = o && o->min_ttl_s > 0 ? o->min_ttl_s : 5;
    d->max_ttl = o && o->max_ttl_s > 0 ? o->max_ttl_s : 3600;
    d->nbuckets = 1024;
    d->buckets = calloc(d->nbuckets, sizeof *d->buckets);
    d->timer = evtimer_new(d->base, on_timer, d);
    if (!d->buckets || !d->timer) {
        dns_free(d);
        return -ENOMEM;
    }
    struct ares_options opts;
    memset(&opts, 0, sizeof opts);
    opts.sock_state_cb = sock_state_cb;
    opts.sock_state_cb_data = d;
    opts.timeout = o && o->timeout_ms > 0 ? o->timeout_ms : 5000;
    opts.tries = o && o->tries > 0 ? o->tries : 2;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (ares_init_options(&d->ch, &opts, mask) != ARES_SUCCESS) {
        d->ch = NULL;
        dns_free(d);
        return -EIO;
    }
    if (o && o->servers && *o->servers && ares_set_servers_ports_csv(d->ch, o->servers) != ARES_SUCCESS) {
        dns_free(d);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

void dns_free(dns_resolver *d)
{
    if (!d)
        return;
    if (d->ch)
        ares_destroy(d->ch); /* fires pending callbacks with ARES_EDESTRUCTION */
    while (d->socks) {
        dns_sock *s = d->socks;
        d->socks = s->next;
        event_free(s->ev);
        free(s);
    }
    if (d->timer)
        event_free(d->timer);
    for (size_t i = 0; d->buckets && i < d->nbuckets; i++) {
        dns_entry *e = d->buckets[i];
        while (e) {
            dns_entry *n = e->next;
            free(e->host);
            free(e);
            e = n;
        }
    }
    free(d->buckets);
    free(d);
}

static size_t hash_host(const char *s) { return (size_t)crawl_hash_str(s); }

static dns_entry *find(dns_resolver *d, const char *host)
{
    for (dns_entry *e = d->buckets[hash_host(host) % d->nbuckets]; e; e = e->next)
        if (strcmp(e->host, host) == 0)
            return e;
    return NULL;
}

static void rehash(dns_resolver *d)
{
    size_t nb = d->nbuckets * 2;
    dns_entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < d->nbuckets; i++) {
        dns_entry *e = d->buckets[i];
        while (e) {
            dns_entry *n = e->next;
            size_t h = hash_host(e->host) % nb;
            e->next = b[h];
            b[h] = e;
            e = n;
        }
    }
    free(d->buckets);
    d->buckets = b;
    d->nbuckets = nb;
}

/* Drop expired, idle entries (called when the table grows). */
static void evict_expired(dns_resolver *d, int64_t now)
{
    for (size_t i = 0; i < d->nbuckets; i++) {
        dns_entry **pp = &d->buckets[i], *e;
        while ((e = *pp)) {
            if (!e->pending && e->expires_ns <= now) {
                *pp = e->next;
                free(e->host);
                free(e);
                d->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static dns_entry *insert(dns_resolver *d, const char *host)
{
    if (d->count >= d->nbuckets) {
        evict_expired(d, co_now_ns());
        if (d->count >= d->nbuckets)
            rehash(d);
    }
    dns_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->host = strdup(host);
    if (!e->host) {
        free(e);
        return NULL;
    }
    co_event_init(&e->done);
    size_t h = hash_host(host) % d->nbuckets;
    e->next = d->buckets[h];
    d->buckets[h] = e;
    d->count++;
    return e;
}

static void lower(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = 0;
}

int dns_add_static(dns_resolver *d, const char *host, const char *addr)
{
    net_addr ss;
    if (!addr_parse_literal(addr, &ss))
        return -EINVAL;
    char h[256];
    lower(h, host, sizeof h);
    dns_entry *e = find(d, h);
    if (!e || e->expires_ns != INT64_MAX) {
        if (!e && !(e = insert(d, h)))
            return -ENOMEM;
        e->addrs.n = 0;
    }
    if (e->addrs.n >= DNS_MAX_ADDRS)
        return -ENOSPC;
    e->addrs.addr[e->addrs.n++] = ss;
    e->status = 0;
    e->expires_ns = INT64_MAX;
    e->pending = false;
    co_event_set(&e->done);
    return 0;
}

typedef struct query {
    dns_resolver *d;
    dns_entry *e;
} query;

static int map_ares(int status)
{
    switch (status) {
    case ARES_SUCCESS: return 0;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
    case ARES_EBADNAME: return -ENOENT;
    case ARES_ETIMEOUT: return -ETIMEDOUT;
    case ARES_ECONNREFUSED: return -ECONNREFUSED;
    case ARES_ENOMEM: return -ENOMEM;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return -ECANCELED;
    default: return -EIO;
    }
}

/* Runs inside c-ares (possibly synchronously in ares_getaddrinfo): only
 * record the result and wake waiters; never switch stacks here. */
static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    query *q = arg;
    dns_entry *e = q->e;
    dns_resolver *d = q->d;
    free(q);
    e->addrs.n = 0;
    int ttl = d->max_ttl;
    e->status = map_ares(status);
    if (e->status == 0 && res) {
        for (struct ares_addrinfo_node *n = res->nodes; n && e->addrs.n < DNS_MAX_ADDRS; n = n->ai_next) {
            if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
                continue;
            if (n->ai_addrlen > sizeof(net_addr))
                continue;
            memset(&e->addrs.addr[e->addrs.n], 0, sizeof(net_addr));
            memcpy(&e->addrs.addr[e->addrs.n], n->ai_addr, n->ai_addrlen);
            e->addrs.n++;
            if (n->ai_ttl >= 0 && n->ai_ttl < ttl)
                ttl = n->ai_ttl;
        }
        if (e->addrs.n == 0)
            e->status = -ENOENT;
    }
    if (res)
        ares_freeaddrinfo(res);
    if (e->status != 0 || ttl < d->min_ttl)
        ttl = d->min_ttl;
    e->expires_ns = co_now_ns() + (int64_t)ttl * 1000000000;
    e->pending = false;
    co_event_set(&e->done);
}

int dns_resolve(dns_resolver *d, const char *host, dns_addrs *out, int64_t timeout_ms)
{
    net_addr lit;
    if (addr_parse_literal(host, &lit)) {
        out->n = 1;
        out->addr[0] = lit;
        return 0;
    }
    char h[256];
    if (strlen(host) >= sizeof h || !*host)
        return -ENOENT;
    lower(h, host, sizeof h);
    dns_entry *e = find(d, h);
    int64_t now = co_now_ns();
    if (e && !e->pending && e->expires_ns > now) {
        d->hits++;
    } else if (e && e->pending) {
        d->hits++; /* coalesced onto the query in flight */
    } else {
        if (!e && !(e = insert(d, h)))
            return -ENOMEM;
        query *q = malloc(sizeof *q);
        if (!q)
            return -ENOMEM;
        q->d = d;
        q->e = e;
        e->pending = true;
        co_event_clear(&e->done);
        d->queries++;
        struct ares_addrinfo_hints hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = d->family;
        hints.ai_socktype = SOCK_STREAM;
        ares_getaddrinfo(d->ch, h, NULL, &hints, on_answer, q);
        rearm_timer(d);
    }
    while (e->pending) {
        int st = co_event_wait(&e->done, timeout_ms);
        if (st < 0)
            return st;
    }
    if (e->status < 0)
        return e->status;
    *out = e->addrs;
    return 0;
}

void dns_counters(const dns_resolver *d, uint64_t *queries, uint64_t *hits)
{
    *queries = d->queries;
    *hits = d->hits;
}
