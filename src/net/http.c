/* http: see http.h. */
#include "http.h"
#include "crawl/hash.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <event2/event.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "url.h"
#include "crawl/co_sync.h"
#include "coro/list.h"

#define POOL_MAX 1024

/* Per host:port bookkeeping, to skip libcurl's connection-reuse search when
 * it cannot succeed: libcurl 7.88 walks every connection to the host for each
 * new transfer, which is quadratic with thousands of connections to one host. */
/* The opening window per host: its start, its ceiling, and how long a new
 * connection may stay unproven before it counts as lost (the kernel's first
 * SYN retransmit comes after 1 s). */
#define HTTP_OPEN_WINDOW 4
#define HTTP_OPEN_WINDOW_MAX (1L << 20)
#define HTTP_OPEN_LOSS_NS (1000 * 1000000LL)
/* How often a request on a stuck new connection is started over. */
#define HTTP_OPEN_RESTARTS 3

/* TCP states (include/net/tcp_states.h in the kernel; not in linux/tcp.h). */
#define CRAWL_TCP_ESTABLISHED 1

typedef struct conn_host {
    struct conn_host *next;
    char *key;         /* "host:port" */
    long conns;        /* sockets open */
    long active;       /* transfers in flight */
    bool multiplexed;  /* answered over HTTP/2 or 3: always look for reuse */
    bool proto_known;  /* a response came: multiplexed is known */
    /* Opening connections like TCP's slow start: at most `window` new
     * connections whose request the server's kernel has not acknowledged
     * yet; the window grows by one per proven connection and halves when
     * one stays unproven (a SYN or a syncookie handshake lost to a full
     * accept queue), so a burst never overflows a small listen backlog. */
    long unproven, window;
    int64_t calm_until_ns; /* after a loss: no growth before this */
    co_event room;         /* a slot in the window came free */
} conn_host;

/* --limit-rate, --limit-rate-total: bytes a transfer (or all of them) may
 * still take now; refilled at rate per second up to burst, and allowed to go
 * below zero by one write's worth. */
typedef struct rate_bucket {
    double rate, burst, tokens;
    int64_t last_ns;
} rate_bucket;

static void bucket_init(rate_bucket *b, int64_t rate)
{
    b->rate = (double)rate;
    b->burst = b->rate / 10 > 16384 ? b->rate / 10 : 16384;
    b->tokens = b->burst;
    b->last_ns = co_now_ns();
}

/* Seconds until the bucket is above zero (0: now). */
static double bucket_wait(rate_bucket *b, int64_t now)
{
    if (b->rate <= 0)
        return 0;
    b->tokens += b->rate * (double)(now - b->last_ns) / 1e9;
    if (b->tokens > b->burst)
        b->tokens = b->burst;
    b->last_ns = now;
    return b->tokens > 0 ? 0 : (1 - b->tokens) / b->rate;
}

typedef struct sock_slot {
    struct event *ev;
    short kind; /* events currently registered, 0 = none */
    bool parked; /* curl stopped watching; the read event stays registered */
    conn_host *host; /* whose connection this socket is */
} sock_slot;

struct http_client {
    http_opts o;
    CURLM *multi;
    CURLSH *share;
    CURL *cookies; /* holds the cookie store's files and reads it back (http_cookies_save); NULL: no engine */
    struct event_base *base;
    struct event *timer;
    sock_slot *socks;
    size_t nsocks;
    CURL **pool;
    size_t npool;
    size_t in_flight;
    size_t conns; /* open connections, all hosts */
    conn_host **hosts;
    size_t nhosts_b;
    co_dlist live;         /* transfers in flight (fetch_op.node; for http_client_wind_down) */
    bool winding_down;     /* no request will follow those in flight */
    atomic_size_t kept;    /* body bytes held in memory, by transfers and by responses not yet freed (any thread lowers it) */
    struct curl_slist *nocred; /* the user's headers without Authorization, Cookie, Proxy-Authorization */
    rate_bucket total_rate;    /* --limit-rate-total, shared by every transfer */
    co_dlist unproven;     /* transfers on a new connection not proven yet (fetch_op.unode) */
    struct event *prove;   /* polls the unproven ones (TCP_INFO) while there are any */
};

typedef struct fetch_op {
    http_client *c;
    CURL *easy;
    co_dnode node;                /* in c->live while in flight */
    co_dnode unode;               /* in c->unproven while its new connection is unproven */
    bool unproven;
    bool restart; /* its new connection is stuck: start over on a fresh one */
    int fd;       /* the socket it opened, or -1 */
    int64_t opened_ns;
    bool shared_conn;             /* may share its connection (HTTP/2): never closed early */
    co_future done;
    CURLcode code;
    bool finished;
    bool policy_checked;        /* the connect-time hook enforces `allowed` */
    bool policy_refused;
    dns_addrs allowed;
    char refused_ip[64];
    bool keep_body;
    bool spill;
    bool markup_only;    /* http_req.markup_only, until the first body byte decides it */
    bool soft_truncated; /* stopped at keep_max without spill: not an error */
    bool header_too_large;
    int spill_fd; /* -1 until the body outgrows keep_max */
    conn_host *host;
    size_t limit;
    size_t keep_max;
    size_t head_bytes; /* response header bytes seen */
    char *body;
    size_t len, cap;
    size_t bytes;
    bool truncated;
    bool write_failed;
    int body_fd;                /* req->body_file while it is sent, or -1 */
    rate_bucket rate;           /* --limit-rate */
    struct event *resume_ev;    /* unpauses a transfer paused by the rate limits */
    char *etag, *last_modified; /* of the last response's headers */
    /* capture (WARC) */
    char *req_head, *resp_head;
    size_t req_len, req_cap, resp_len, resp_cap;
} fetch_op;

/* Append s to buf (capacity cap, length *len), truncating. Used instead of
 * snprintf on the fetch path: glibc's printf needs ~2 KiB of stack, and every
 * page a fetch touches stays resident on each of thousands of coroutine stacks. */
static void buf_add(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        n = *len + 1 < cap ? cap - *len - 1 : 0;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = 0;
}

static void buf_add_long(char *buf, size_t cap, size_t *len, long v)
{
    char d[24];
    int n = 0;
    unsigned long u = v > 0 ? (unsigned long)v : 0;
    do
        d[n++] = (char)('0' + u % 10);
    while ((u /= 10) && n < 22);
    char out[24];
    for (int i = 0; i < n; i++)
        out[i] = d[n - 1 - i];
    out[n] = 0;
    buf_add(buf, cap, len, out);
}

const char *http_err_name(http_err e)
{
    static const char *names[] = {"", "dns", "connect", "tls", "timeout", "too_large", "policy",
                                  "recv", "protocol", "invalid_url", "interrupted", "internal"};
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "internal";
}

int http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void) { curl_global_cleanup(); }

/* ---- multi_socket glue --------------------------------------------------------- */

static void check_done(http_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode code = m->data.result; /* m is invalid after remove_handle */
        fetch_op *op = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&op);
        curl_multi_remove_handle(c->multi, e);
        if (op) {
            op->code = code;
            op->finished = true;
            co_future_set(&op->done, NULL); /* marks the task ready; no switch here */
        }
    }
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    http_client *c = arg;
    sock_slot *sl = &c->socks[fd];
    if (sl->parked) {
        /* An idle connection became readable (the server closed it, most
         * likely): stop watching it. curl finds out when it next uses it. */
        event_del(sl->ev);
        sl->kind = 0;
        sl->parked = false;
        return;
    }
    int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_client *c = arg;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    http_client *c = userp;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
    } else {
        /* 0 too: never call back into curl from here; let the loop do it. */
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        evtimer_add(c->timer, &tv);
    }
    return 0;
}

static sock_slot *slot_for(http_client *c, curl_socket_t s)
{
    if (s < 0)
        return NULL;
    if ((size_t)s >= c->nsocks) {
        size_t n = c->nsocks ? c->nsocks : 256;
        while (n <= (size_t)s)
            n *= 2;
        sock_slot *ns = realloc(c->socks, n * sizeof *ns);
        if (!ns)
            return NULL;
        memset(ns + c->nsocks, 0, (n - c->nsocks) * sizeof *ns);
        c->socks = ns;
        c->nsocks = n;
    }
    return &c->socks[s];
}

static void slot_clear(http_client *c, curl_socket_t s)
{
    if (s >= 0 && (size_t)s < c->nsocks && c->socks[s].kind) {
        event_del(c->socks[s].ev);
        c->socks[s].kind = 0;
        c->socks[s].parked = false;
    }
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    (void)socketp;
    http_client *c = userp;
    if (what == CURL_POLL_REMOVE) {
        /* A connection going idle keeps its read event: the next transfer on
         * it asks for reading again, and two epoll_ctl calls per request are
         * saved. on_sock drops the event if the idle socket wakes up. */
        if (s >= 0 && (size_t)s < c->nsocks && c->socks[s].kind == (EV_PERSIST | EV_READ))
            c->socks[s].parked = true;
        else
            slot_clear(c, s);
        return 0;
    }
    sock_slot *sl = slot_for(c, s);
    if (!sl)
        return 0; /* out of memory: the transfer will time out */
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    sl->parked = false;
    if (sl->kind == kind)
        return 0; /* already watching exactly this */
    if (!sl->ev) {
        sl->ev = event_new(c->base, s, kind, on_sock, c);
        if (!sl->ev)
            return 0;
    } else {
        if (sl->kind)
            event_del(sl->ev);
        event_assign(sl->ev, c->base, s, kind, on_sock, c);
    }
    event_add(sl->ev, NULL);
    sl->kind = kind;
    return 0;
}

/* Defence against sockets closed without CURL_POLL_REMOVE (fd reuse). */
static int close_cb(void *clientp, curl_socket_t s)
{
    http_client *c = clientp;
    slot_clear(c, s);
    if (s >= 0 && (size_t)s < c->nsocks && c->socks[s].host) {
        c->socks[s].host->conns--;
        c->socks[s].host = NULL;
        c->conns--;
    }
    return close(s);
}

static conn_host *conn_host_get(http_client *c, const char *host, long port)
{
    /* "host:port", built by hand: printf would take ~2 KiB of the calling
     * coroutine's stack for this. */
    char key[300];
    size_t kl = 0;
    key[0] = 0;
    buf_add(key, sizeof key, &kl, host);
    buf_add(key, sizeof key, &kl, ":");
    buf_add_long(key, sizeof key, &kl, port);
    size_t h = (size_t)(crawl_hash_str(key) % c->nhosts_b);
    for (conn_host *e = c->hosts[h]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    conn_host *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    e->window = HTTP_OPEN_WINDOW;
    co_event_init(&e->room);
    e->next = c->hosts[h];
    c->hosts[h] = e;
    return e;
}

/* ---- opening connections: a window per host, grown by proof ---------------------- */

/* The new connection of op is proven (or op is done with it): its slot in
 * the host's window comes free; grow the window when it was a proof. */
static void unproven_end(http_client *c, fetch_op *op, bool proven)
{
    if (!op->unproven)
        return;
    op->unproven = false;
    co_dnode_unlink(&op->unode);
    conn_host *h = op->host;
    h->unproven--;
    if (proven && co_now_ns() >= h->calm_until_ns && h->window < HTTP_OPEN_WINDOW_MAX)
        h->window++;
    co_event_set(&h->room);
    if (co_dlist_empty(&c->unproven))
        evtimer_del(c->prove);
}

/* What the kernel knows of a new connection: 1 when the server's kernel has
 * acknowledged bytes we sent (the request), so the server holds a real
 * socket for it, in its accept queue or accepted, and neither a dropped SYN
 * nor a lost syncookie handshake applies; -1 when it is established, our
 * request is unacknowledged and the kernel has had to retransmit it (the
 * server dropped the handshake's last ACK on a full accept queue: only our
 * data retransmits, backing off 0.2, 0.4, 0.8 ... s, would recover it);
 * 0 otherwise. */
static int conn_state(int fd)
{
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0)
        return 0;
    if (ti.tcpi_state != CRAWL_TCP_ESTABLISHED)
        return 0;
    if (ti.tcpi_unacked == 0 && ti.tcpi_bytes_acked > 0)
        return 1;
    return ti.tcpi_unacked > 0 && ti.tcpi_retransmits > 0 ? -1 : 0;
}

static void on_prove(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_client *c = arg;
    int64_t now = co_now_ns();
    for (co_dnode *n = c->unproven.next, *next; n != &c->unproven; n = next) {
        next = n->next;
        fetch_op *op = co_container_of(n, fetch_op, unode);
        int cs = conn_state(op->fd);
        if (cs > 0) {
            unproven_end(c, op, true);
        } else if (cs < 0 && now - op->opened_ns > HTTP_OPEN_LOSS_NS && !op->restart && op->bytes == 0) {
            /* stuck behind a lost handshake: wake the task, which starts
             * the request over on a fresh connection */
            op->restart = true;
            co_future_set(&op->done, NULL);
        } else if (now - op->opened_ns > HTTP_OPEN_LOSS_NS) {
            /* unproven this long on loopback or LAN: lost to a full queue;
             * halve the window (once per calm period) and keep waiting */
            conn_host *h = op->host;
            if (now >= h->calm_until_ns) {
                h->window = h->window / 2 > HTTP_OPEN_WINDOW ? h->window / 2 : HTTP_OPEN_WINDOW;
                h->calm_until_ns = now + HTTP_OPEN_LOSS_NS;
            }
        }
    }
    if (!co_dlist_empty(&c->unproven)) {
        struct timeval tv = {0, 1000};
        evtimer_add(c->prove, &tv);
    }
}

/* Connect-time policy: only addresses that passed the check may be used. */
static curl_socket_t open_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    fetch_op *op = clientp;
    (void)purpose;
    if (op->policy_checked) {
        bool ok = false;
        for (int i = 0; i < op->allowed.n && !ok; i++)
            ok = addr_equal((struct sockaddr *)&op->allowed.addr[i], &a->addr);
        if (!ok || addr_is_restricted(&a->addr)) {
            op->policy_refused = true;
            addr_to_string(&a->addr, op->refused_ip, sizeof op->refused_ip);
            return CURL_SOCKET_BAD;
        }
    }
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    op->fd = fd;
    sock_slot *sl = fd >= 0 ? slot_for(op->c, fd) : NULL;
    if (sl && op->host) {
        sl->host = op->host;
        op->host->conns++;
        op->c->conns++;
    }
    return fd;
}

/* An unlinked temporary file for a body that outgrew memory. */
static int spill_open(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
        return fd < 0 ? -errno : fd;
    /* on the heap: this runs inside libcurl's write path, deep on a task's stack */
    char *path = NULL;
    if (asprintf(&path, "%s/crawl-body-XXXXXX", dir) < 0)
        return -ENOMEM;
    fd = mkostemp(path, O_CLOEXEC);
    int err = errno;
    if (fd >= 0)
        unlink(path);
    free(path);
    return fd < 0 ? -err : fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Keep n bytes of a body: in memory up to keep_max, then (spill) in a file
 * holding the whole body, or (no spill) stop: false ends the transfer. */
static bool keep(fetch_op *op, const char *p, size_t n)
{
    size_t room = op->keep_max > op->len ? op->keep_max - op->len : 0;
    /* all bodies held together stay within HTTP_KEEP_BUDGET: past it, this
     * one spills (or stops) as if it had reached its own ceiling */
    size_t kept = atomic_load_explicit(&op->c->kept, memory_order_relaxed);
    size_t budget_left = kept < HTTP_KEEP_BUDGET ? HTTP_KEEP_BUDGET - kept : 0;
    if (room > budget_left)
        room = budget_left;
    size_t mem = n < room ? n : room;
    if (mem) {
        if (op->len + mem + 1 > op->cap) {
            size_t cap = op->cap ? op->cap : 16384;
            curl_off_t cl = -1;
            /* First chunk: room for the whole body when its length is known,
             * so it is not copied as it grows; at most 1 MiB, as the length
             * is only the server's word (a compressed body grows from there). */
            if (!op->cap && curl_easy_getinfo(op->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
                cl >= (curl_off_t)cap)
                cap = cl < (curl_off_t)(1 << 20) ? (size_t)cl + 1 : (size_t)(1 << 20);
            while (cap < op->len + mem + 1)
                cap *= 2;
            if (cap > op->keep_max + 1)
                cap = op->keep_max + 1;
            char *nb = realloc(op->body, cap);
            if (!nb) {
                op->write_failed = true;
                return false;
            }
            op->body = nb;
            op->cap = cap;
        }
        memcpy(op->body + op->len, p, mem);
        op->len += mem;
        atomic_fetch_add_explicit(&op->c->kept, mem, memory_order_relaxed);
    }
    if (mem == n)
        return true;
    if (!op->spill) {
        op->soft_truncated = true;
        return false;
    }
    if (op->spill_fd < 0) {
        op->spill_fd = spill_open();
        if (op->spill_fd < 0 || !write_all(op->spill_fd, op->body, op->len)) {
            op->write_failed = true;
            return false;
        }
    }
    if (!write_all(op->spill_fd, p + mem, n - mem)) {
        op->write_failed = true;
        return false;
    }
    return true;
}

static void on_rate_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_op *op = arg;
    /* an event callback, not a curl one: unpausing here is allowed (libcurl
     * may deliver the held data to write_cb at once, which may pause again) */
    curl_easy_pause(op->easy, CURLPAUSE_CONT);
}

/* The rate limits: false when the transfer must pause now (a timer resumes
 * it when the buckets allow), else the bytes are taken from them. */
static bool rate_allows(fetch_op *op, size_t len)
{
    http_client *c = op->c;
    int64_t now = co_now_ns();
    double w1 = bucket_wait(&op->rate, now), w2 = bucket_wait(&c->total_rate, now);
    double wait = w1 > w2 ? w1 : w2;
    if (wait > 0) {
        if (!op->resume_ev)
            op->resume_ev = evtimer_new(c->base, on_rate_resume, op);
        if (op->resume_ev) {
            int64_t us = (int64_t)(wait * 1e6) + 1;
            struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
            evtimer_add(op->resume_ev, &tv);
            return false;
        }
    }
    op->rate.tokens -= (double)len;
    c->total_rate.tokens -= (double)len;
    return true;
}

static size_t write_cb(char *p, size_t sz, size_t n, void *userp)
{
    fetch_op *op = userp;
    if (op->unproven) /* an answer is the best proof */
        unproven_end(op->c, op, true);
    size_t len = sz * n;
    if ((op->rate.rate > 0 || op->c->total_rate.rate > 0) && !rate_allows(op, len))
        return CURL_WRITEFUNC_PAUSE; /* libcurl keeps these bytes and hands them over again */
    size_t take = len;
    if (op->limit && op->bytes + len > op->limit) {
        take = op->limit - op->bytes;
        op->truncated = true;
    }
    if (op->markup_only) {
        op->markup_only = false;
        char *ct = NULL;
        if (curl_easy_getinfo(op->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct &&
            strncasecmp(ct, "text/html", 9) != 0 && strncasecmp(ct, "application/xhtml+xml", 21) != 0) {
            /* not a page to parse: written out whole past the spill size,
             * or not kept at all */
            if (!op->spill)
                op->keep_body = false;
            else if (op->keep_max > HTTP_SPILL_AT)
                op->keep_max = HTTP_SPILL_AT;
        }
    }
    if (op->keep_body && take && !keep(op, p, take))
        return 0; /* returning short aborts the transfer */
    op->bytes += take;
    return op->truncated ? 0 : len;
}

/* A request body streamed from a file (req->body_file). */
static size_t read_cb(char *p, size_t sz, size_t n, void *userp)
{
    fetch_op *op = userp;
    for (;;) {
        ssize_t r = read(op->body_fd, p, sz * n);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
    }
}

static int seek_cb(void *userp, curl_off_t off, int origin)
{
    fetch_op *op = userp;
    return lseek(op->body_fd, (off_t)off, origin) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

static bool is_cred_header(const char *h)
{
    size_t nl = strcspn(h, ":;");
    return (nl == 13 && strncasecmp(h, "authorization", 13) == 0) || (nl == 6 && strncasecmp(h, "cookie", 6) == 0) ||
           (nl == 19 && strncasecmp(h, "proxy-authorization", 19) == 0);
}

/* Does list name header h (its name, up to ':' or ';')? */
static bool names_header(const struct curl_slist *list, const char *h)
{
    size_t nl = strcspn(h, ":;");
    for (; list; list = list->next)
        if (strcspn(list->data, ":;") == nl && strncasecmp(list->data, h, nl) == 0)
            return true;
    return false;
}

/* The request's own headers (those the user's -H do not name; without
 * credentials when they may not go here), then the user's. NULL when the
 * request has none: use base as it is. noinline: keeps http_fetch's frame
 * small. */
static __attribute__((noinline)) struct curl_slist *merge_headers(const struct curl_slist *own,
                                                                  const struct curl_slist *base, bool no_cred,
                                                                  bool *oom)
{
    *oom = false;
    if (!own)
        return NULL;
    struct curl_slist *l = NULL, *n;
    for (const struct curl_slist *h = own; h; h = h->next) {
        if (names_header(base, h->data) || (no_cred && is_cred_header(h->data)))
            continue;
        if (!(n = curl_slist_append(l, h->data)))
            goto fail;
        l = n;
    }
    for (const struct curl_slist *h = base; h; h = h->next) {
        if (!(n = curl_slist_append(l, h->data)))
            goto fail;
        l = n;
    }
    if (!l) /* nothing at all: an empty list would still be "a list" to curl */
        return NULL;
    return l;
fail:
    curl_slist_free_all(l);
    *oom = true;
    return NULL;
}

/* How long past --timeout a transfer libcurl never reports done is given up. */
#define HTTP_WATCHDOG_SLACK_MS 5000

/* ---- capture (WARC) -------------------------------------------------------------- */

static void grow_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*len + n + 1) * 2;
        char *nb = realloc(*buf, c);
        if (!nb)
            return;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = 0;
}

/* A header's value without surrounding blanks and CRLF (NULL if empty or
 * out of memory). */
static char *header_value(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return n ? strndup(p, n) : NULL;
}

/* Every response header line. Counts them (all of a transfer's 1xx and
 * final headers) so that too many end the transfer as too_large, not as an
 * allocation failure; while archiving, keeps them as received. */
static size_t header_cb(char *p, size_t sz, size_t n, void *userp)
{
    fetch_op *op = userp;
    size_t len = sz * n;
    op->head_bytes += len;
    if (op->head_bytes > HTTP_MAX_HEADER_BYTES) {
        op->header_too_large = true;
        return 0;
    }
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response: forget the last one's validators */
        free(op->etag);
        free(op->last_modified);
        op->etag = op->last_modified = NULL;
    } else if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
        free(op->etag);
        op->etag = header_value(p + 5, len - 5);
    } else if (len > 14 && strncasecmp(p, "last-modified:", 14) == 0) {
        free(op->last_modified);
        op->last_modified = header_value(p + 14, len - 14);
    }
    if (!op->c->o.capture)
        return len;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        op->resp_len = 0; /* a new response (after 1xx, or a retry inside curl) */
    grow_append(&op->resp_head, &op->resp_len, &op->resp_cap, p, len);
    return len;
}

static int debug_cb(CURL *e, curl_infotype type, char *p, size_t n, void *userp)
{
    (void)e;
    fetch_op *op = userp;
    if (type == CURLINFO_HEADER_OUT)
        grow_append(&op->req_head, &op->req_len, &op->req_cap, p, n);
    return 0;
}

/* ---- client --------------------------------------------------------------------- */

/* ---- cookies -------------------------------------------------------------------- */

/* The cookie engine: every transfer's handle shares one store (the share
 * handle); a handle of its own loads the user's files into it now, so a
 * missing file is an error at the start, not a silent no-op per transfer. */
static int cookies_start(http_client *c)
{
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    c->cookies = curl_easy_init();
    if (!c->cookies)
        return -ENOMEM;
    curl_easy_setopt(c->cookies, CURLOPT_SHARE, c->share);
    curl_easy_setopt(c->cookies, CURLOPT_COOKIEFILE, "");
    for (size_t i = 0; i < c->o.ncookie_files; i++) {
        const char *f = c->o.cookie_files[i];
        FILE *fp = fopen(f, "r");
        if (!fp)
            return -errno;
        fclose(fp);
        if (curl_easy_setopt(c->cookies, CURLOPT_COOKIEFILE, f) != CURLE_OK)
            return -ENOMEM;
    }
    if (c->o.ncookie_files && curl_easy_setopt(c->cookies, CURLOPT_COOKIELIST, "RELOAD") != CURLE_OK)
        return -EIO;
    return 0;
}

static bool write_str(int fd, const char *s) { return write_all(fd, s, strlen(s)); }

int http_cookies_save(http_client *c)
{
    const char *path = c->o.cookie_jar;
    if (!c->cookies || !path)
        return 0;
    struct curl_slist *list = NULL;
    if (curl_easy_getinfo(c->cookies, CURLINFO_COOKIELIST, &list) != CURLE_OK)
        return -ENOMEM;
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
        curl_slist_free_all(list);
        return -ENOMEM;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    int rc = fd < 0 ? -errno : 0;
    if (rc == 0 && !write_str(fd, "# Netscape HTTP Cookie File\n# Written by crawl.\n\n"))
        rc = -errno;
    for (struct curl_slist *l = list; l && rc == 0; l = l->next) {
        /* domain, tailmatch, path, secure, expires, name, value: expires 0 is a session cookie */
        const char *p = l->data;
        if (!p)
            continue;
        for (int tab = 0; tab < 4 && p; tab++) {
            p = strchr(p, '\t');
            if (p)
                p++;
        }
        bool session = p && p[0] == '0' && p[1] == '\t';
        if (session && !c->o.jar_session_cookies)
            continue;
        if (!write_str(fd, l->data) || !write_str(fd, "\n"))
            rc = -errno;
    }
    curl_slist_free_all(list);
    if (rc == 0 && fchmod(fd, 0600) < 0) /* cookies are credentials */
        rc = -errno;
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0 && fd >= 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int http_client_new(const http_opts *o, http_client **out)
{
    co_loop *loop = co_loop_current();
    if (!loop)
        return -EINVAL;
    http_client *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->o = *o;
    co_dlist_init(&c->live);
    co_dlist_init(&c->unproven);
    c->base = co_loop_base(loop);
    c->multi = curl_multi_init();
    c->share = curl_share_init();
    c->timer = evtimer_new(c->base, on_timer, c);
    c->prove = evtimer_new(c->base, on_prove, c);
    c->pool = calloc(POOL_MAX, sizeof *c->pool);
    c->nhosts_b = 1024;
    c->hosts = calloc(c->nhosts_b, sizeof *c->hosts);
    if (!c->multi || !c->share || !c->timer || !c->prove || !c->pool || !c->hosts) {
        http_client_free(c);
        return -ENOMEM;
    }
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (o->limit_rate_total > 0)
        bucket_init(&c->total_rate, o->limit_rate_total);
    if (!o->no_cookies) {
        int crc = cookies_start(c);
        if (crc < 0) {
            http_client_free(c);
            return crc;
        }
    }
    for (struct curl_slist *h = o->headers; h; h = h->next) {
        if (!is_cred_header(h->data)) {
            struct curl_slist *n = curl_slist_append(c->nocred, h->data);
            if (!n) {
                http_client_free(c);
                return -ENOMEM;
            }
            c->nocred = n;
        }
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o->max_total_conns);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->max_per_host_conns);
    long cache = o->max_total_conns > 0 ? o->max_total_conns * 2 : 1024;
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, cache);
    *out = c;
    return 0;
}

void http_client_free(http_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    free(c->pool);
    if (c->cookies)
        curl_easy_cleanup(c->cookies);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->share)
        curl_share_cleanup(c->share);
    for (size_t i = 0; i < c->nsocks; i++)
        if (c->socks[i].ev)
            event_free(c->socks[i].ev);
    free(c->socks);
    curl_slist_free_all(c->nocred);
    if (c->timer)
        event_free(c->timer);
    if (c->prove)
        event_free(c->prove);
    for (size_t i = 0; c->hosts && i < c->nhosts_b; i++)
        for (conn_host *e = c->hosts[i], *n; e; e = n) {
            n = e->next;
            free(e->key);
            free(e);
        }
    free(c->hosts);
    free(c);
}

/* A new easy handle with every option that is the same for all requests.
 * Pooled handles keep them (no curl_easy_reset), so a request only sets the
 * handful of options that change. */
/* Every transfer holds a receive buffer, and at thousands of transfers the
 * touched part of each is a large share of resident memory: keep the total
 * near HTTP_RECV_BUDGET (16 KiB each, libcurl's default, up to 1,024
 * connections; 1 KiB, libcurl's minimum, from 16,384). */
static long recv_buffer_size(long max_conns)
{
    long n = max_conns > 0 ? HTTP_RECV_BUDGET / max_conns : 16384;
    n &= ~1023L;
    return n < 1024 ? 1024 : n > 16384 ? 16384 : n;
}

static CURL *easy_new(http_client *c)
{
    const http_opts *o = &c->o;
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    if (c->cookies)
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* the engine, on the shared store */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FILETIME, 1L); /* Last-Modified, parsed (resp.filetime) */
    /* crawl decides about proxies (proxy.h): libcurl never reads no_proxy itself */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, recv_buffer_size(o->max_total_conns));
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    if (!o->capture)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* while archiving: identity, the body as sent */
    else {
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
    if (o->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    if (o->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    if (o->speed_time_s > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->speed_limit > 0 ? o->speed_limit : 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->speed_time_s);
    }
    if (o->user_agent)
        curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent);

    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
    if (o->capath)
        curl_easy_setopt(e, CURLOPT_CAPATH, o->capath);
    if (o->client_cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, o->client_cert);
    if (o->client_key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, o->client_key);
    if (o->ip_family)
        curl_easy_setopt(e, CURLOPT_IPRESOLVE, o->ip_family == 4 ? (long)CURL_IPRESOLVE_V4 : (long)CURL_IPRESOLVE_V6);
    if (o->http_version == 11)
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    else if (o->http_version == 2)
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    return e;
}

static CURL *easy_get(http_client *c)
{
    if (c->npool)
        return c->pool[--c->npool];
    return easy_new(c);
}

static void easy_put(http_client *c, CURL *e)
{
    if (c->npool < POOL_MAX)
        c->pool[c->npool++] = e; /* keeps its connection association and buffers */
    else
        curl_easy_cleanup(e);
}

void http_client_wind_down(http_client *c)
{
    if (c->winding_down)
        return;
    c->winding_down = true;
    /* libcurl reads CURLOPT_FORBID_REUSE when a transfer ends (multi_done), so
     * the transfers in flight close their connections as they finish: spread
     * over the run's last responses instead of a burst of closes at exit, and
     * each leaves libcurl's connection list from near its head (7.88 walks that
     * list from the head to unlink a connection). We are on a task, never
     * inside a curl callback, so setting an option here is allowed. */
    for (co_dnode *n = c->live.next; n != &c->live; n = n->next) {
        fetch_op *op = co_container_of(n, fetch_op, node);
        if (!op->shared_conn)
            curl_easy_setopt(op->easy, CURLOPT_FORBID_REUSE, 1L);
    }
}

void http_resp_free(http_resp *r)
{
    if (r->kept_in) {
        atomic_fetch_sub_explicit(r->kept_in, r->body_len, memory_order_relaxed);
        r->kept_in = NULL;
    }
    if (r->spilled)
        close(r->spill_fd);
    r->spilled = false;
    free(r->body);
    free(r->content_type);
    free(r->location);
    free(r->etag);
    free(r->last_modified);
    r->etag = r->last_modified = NULL;
    free(r->req_head);
    free(r->resp_head);
    r->body = r->content_type = r->location = r->req_head = r->resp_head = NULL;
}

static void fail(http_resp *r, http_err e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(http_resp *r, http_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->err = e;
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
}

static http_err map_curl(CURLcode code)
{
    switch (code) {
    case CURLE_OK: return HTTP_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return HTTP_E_DNS;
    case CURLE_COULDNT_CONNECT: return HTTP_E_CONNECT;
    case CURLE_OPERATION_TIMEDOUT: return HTTP_E_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED: return HTTP_E_TLS;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING: return HTTP_E_RECV;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS: return HTTP_E_PROTOCOL;
    case CURLE_URL_MALFORMAT: return HTTP_E_INVALID_URL;
    default: return HTTP_E_INTERNAL;
    }
}

static double us_to_ms(curl_off_t us) { return (double)us / 1000.0; }

/* A transport error; through a proxy the message says so: a failure to
 * reach the proxy names it, any other says it went through it. noinline:
 * keeps http_fetch's frame small. */
static __attribute__((noinline)) void proxy_fail(http_resp *r, CURLcode code, const char *msg, const char *proxy)
{
    if (!proxy) {
        fail(r, map_curl(code), "%s", msg);
        return;
    }
    char *tmp; /* never a proxy's password in a record */
    const char *shown = url_printable(proxy, &tmp);
    bool at_proxy = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_PROXY;
    if (at_proxy)
        fail(r, map_curl(code), "proxy %s: %s", shown, msg);
    else
        fail(r, map_curl(code), "%s (through proxy %s)", msg, shown);
    free(tmp);
}

/* Build "+host:port:addr1,addr2" for CURLOPT_RESOLVE. */
/* noinline and heap-backed: keeps http_fetch's frame (on a coroutine
 * stack) small. */
static __attribute__((noinline)) struct curl_slist *pin_list(const char *host, long port, const dns_addrs *a)
{
    enum { LEN = 1024 };
    char *buf = malloc(LEN);
    if (!buf)
        return NULL;
    size_t n = 0;
    buf[0] = 0;
    buf_add(buf, LEN, &n, "+");
    buf_add(buf, LEN, &n, host);
    buf_add(buf, LEN, &n, ":");
    buf_add_long(buf, LEN, &n, port);
    buf_add(buf, LEN, &n, ":");
    for (int i = 0; i < a->n; i++) {
        char ip[64];
        addr_to_string((const struct sockaddr *)&a->addr[i], ip, sizeof ip);
        bool v6 = a->addr[i].sa.sa_family == AF_INET6;
        if (i)
            buf_add(buf, LEN, &n, ",");
        buf_add(buf, LEN, &n, v6 ? "[" : "");
        buf_add(buf, LEN, &n, ip);
        buf_add(buf, LEN, &n, v6 ? "]" : "");
    }
    struct curl_slist *l = curl_slist_append(NULL, buf);
    free(buf);
    return l;
}

/* -4/-6: keep the addresses of that family; refuse (-ENOENT, a DNS error
 * in r) if none is left. noinline to keep http_fetch's frame small. */
static __attribute__((noinline)) int keep_family(dns_addrs *a, int family, const char *host, http_resp *r)
{
    int want = family == 4 ? AF_INET : AF_INET6;
    dns_addrs keep = {.n = 0};
    for (int i = 0; i < a->n; i++)
        if (a->addr[i].sa.sa_family == want)
            keep.addr[keep.n++] = a->addr[i];
    if (keep.n == 0) {
        fail(r, HTTP_E_DNS, "%s: no IPv%d address (-%d)", host, family, family);
        return -ENOENT;
    }
    *a = keep;
    return 0;
}

/* Address policy for hosts the user did not name: keep only public
 * addresses; refuse (-EPERM, r filled) if none is left. noinline to keep
 * http_fetch's frame small. */
static __attribute__((noinline)) int keep_public(dns_addrs *a, const char *host, http_resp *r)
{
    dns_addrs pub = {.n = 0};
    const char *why = NULL;
    char ip[64] = "";
    for (int i = 0; i < a->n; i++) {
        const char *w = addr_restricted_reason(&a->addr[i].sa);
        if (!w)
            pub.addr[pub.n++] = a->addr[i];
        else if (!why) {
            why = w;
            addr_to_string(&a->addr[i].sa, ip, sizeof ip);
        }
    }
    if (pub.n == 0) {
        fail(r, HTTP_E_POLICY, "refused: %s resolves to %s address %s (use --allow-private-addresses)", host,
             why ? why : "a restricted", ip);
        return -EPERM;
    }
    *a = pub;
    return 0;
}

/* The method and body of req on e (a pooled handle: every option is set
 * either way). 0, or -1 with r filled. noinline: keeps http_fetch's frame
 * small. */
static __attribute__((noinline)) int set_method(CURL *e, const http_req *req, fetch_op *op, http_resp *r)
{
    /* POSTFIELDS first: setting it (even to NULL) makes the request a POST */
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* clears NOBODY, POST and UPLOAD */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    bool has_body = req->body || req->body_file;
    const char *dflt = has_body ? "POST" : "GET";
    if (req->body_file) {
        op->body_fd = open(req->body_file, O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (op->body_fd < 0 || fstat(op->body_fd, &sb) < 0) {
            fail(r, HTTP_E_INTERNAL, "cannot read the request body from '%.120s': %s", req->body_file,
                 strerror(errno));
            return -1;
        }
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, op);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, op);
        /* a regular file's size is known: Content-Length; else chunked */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, S_ISREG(sb.st_mode) ? (curl_off_t)sb.st_size : (curl_off_t)-1);
    } else if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    }
    if (req->method && strcasecmp(req->method, "HEAD") == 0 && !has_body)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (req->method && strcmp(req->method, dflt) != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    return 0;
}

/* Leave the pooled handle without pointers into this request. */
static void unset_method(CURL *e, fetch_op *op)
{
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL); /* before HTTPGET: see set_method */
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, NULL);
    curl_easy_setopt(e, CURLOPT_READDATA, NULL);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, NULL);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, NULL);
    if (op->body_fd >= 0) {
        close(op->body_fd);
        op->body_fd = -1;
    }
}

int http_fetch(http_client *c, const http_req *req, http_resp *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
    const http_opts *o = &c->o;

    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL, *port_s = NULL;
    int rc = 0;
    long port = req->port;
    const char *hostname = req->host;
    if (!hostname) {
        u = curl_url();
        if (!u) {
            fail(r, HTTP_E_INTERNAL, "out of memory");
            return 0;
        }
        if (curl_url_set(u, CURLUPART_URL, req->url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port_s, CURLU_DEFAULT_PORT) != CURLUE_OK) {
            fail(r, HTTP_E_INVALID_URL, "not a valid URL");
            goto out_url;
        }
        if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
            fail(r, HTTP_E_INVALID_URL, "unsupported scheme '%s' (only http and https)", scheme);
            goto out_url;
        }
        port = strtol(port_s, NULL, 10);
        hostname = host;
    }
    /* curl returns IPv6 hosts with brackets. */
    char bare[256];
    size_t hl = strlen(hostname);
    if (hl >= 2 && hostname[0] == '[' && hl - 2 < sizeof bare) {
        memcpy(bare, hostname + 1, hl - 2);
        bare[hl - 2] = 0;
    } else {
        size_t bl = 0;
        bare[0] = 0;
        buf_add(bare, sizeof bare, &bl, hostname);
    }

    fetch_op op;
    memset(&op, 0, sizeof op);
    op.c = c;
    op.keep_body = req->keep_body || o->capture;
    op.keep_max = req->keep_max ? req->keep_max : req->keep_body ? HTTP_KEEP_MAX
                                                                 : HTTP_SPILL_AT;
    op.spill = req->spill || o->capture; /* an archived body is written whole */
    op.markup_only = req->markup_only;
    op.spill_fd = -1;
    op.body_fd = -1;
    op.fd = -1;
    if (o->limit_rate > 0)
        bucket_init(&op.rate, o->limit_rate);
    op.limit = o->max_body;
    co_future_init(&op.done);

    struct curl_slist *pins = NULL;
    /* the proxy, if any, resolves the host and connects to it */
    const char *proxy = proxy_for(&o->proxies, strncasecmp(req->url, "https:", 6) == 0, bare);
    bool use_proxy = proxy != NULL;
    if (!use_proxy && o->dns) {
        int64_t t0 = co_now_ns();
        rc = dns_resolve(o->dns, bare, &op.allowed, o->dns_timeout_ms > 0 ? o->dns_timeout_ms : CO_FOREVER);
        r->dns_ms = (double)(co_now_ns() - t0) / 1e6;
        if (rc == -ECANCELED || (rc == -ETIMEDOUT && co_task_cancelled(co_current()))) {
            fail(r, HTTP_E_CANCELLED, "interrupted during DNS lookup");
            goto out_url;
        }
        if (rc < 0) {
            fail(r, HTTP_E_DNS, "%s: %s", bare, dns_strerror(rc));
            rc = 0;
            goto out_url;
        }
        if (o->ip_family && keep_family(&op.allowed, o->ip_family, bare, r) < 0)
            goto out_url;
        if (!req->explicit_host && !o->allow_private) {
            if (keep_public(&op.allowed, bare, r) < 0)
                goto out_url;
            op.policy_checked = true;
        }
        net_addr lit;
        if (!addr_parse_literal(bare, &lit)) /* curl never resolves literals */
            pins = pin_list(bare, port, &op.allowed);
    }

    CURL *e = easy_get(c);
    if (!e) {
        fail(r, HTTP_E_INTERNAL, "out of memory");
        curl_slist_free_all(pins);
        goto out_url;
    }
    /* Only what changes per request; the rest was set once in easy_new(). */
    op.easy = e;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&op);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &op);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &op);
    curl_easy_setopt(e, CURLOPT_RESOLVE, pins);
    curl_easy_setopt(e, CURLOPT_PROXY, use_proxy ? proxy : ""); /* "": never libcurl's own look at the environment */
    curl_easy_setopt(e, CURLOPT_PROXYUSERNAME, use_proxy ? o->proxy_user : NULL);
    curl_easy_setopt(e, CURLOPT_PROXYPASSWORD, use_proxy && o->proxy_user ? (o->proxy_password ? o->proxy_password : "") : NULL);
    /* the user's credentials only where the caller allows them (their origin) */
    struct curl_slist *base_headers = req->no_credentials ? c->nocred : o->headers;
    bool hoom;
    struct curl_slist *merged = merge_headers(req->headers, base_headers, req->no_credentials, &hoom);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, merged ? merged : base_headers);
    /* -N: If-Modified-Since */
    curl_easy_setopt(e, CURLOPT_TIMECONDITION,
                     req->if_modified_since > 0 ? (long)CURL_TIMECOND_IFMODSINCE : (long)CURL_TIMECOND_NONE);
    curl_easy_setopt(e, CURLOPT_TIMEVALUE_LARGE, (curl_off_t)(req->if_modified_since > 0 ? req->if_modified_since : 0));
    /* -b 'N=V': a cookie header of the user's, where credentials may go */
    curl_easy_setopt(e, CURLOPT_COOKIE, req->no_credentials ? NULL : o->cookie_header);
    bool creds = !req->no_credentials && o->username;
    curl_easy_setopt(e, CURLOPT_USERNAME, creds ? o->username : NULL);
    curl_easy_setopt(e, CURLOPT_PASSWORD, creds ? (o->password ? o->password : "") : NULL);
    if (hoom || set_method(e, req, &op, r) < 0) {
        if (hoom)
            fail(r, HTTP_E_INTERNAL, "out of memory");
        unset_method(e, &op);
        curl_slist_free_all(merged);
        easy_put(c, e);
        curl_slist_free_all(pins);
        goto out_url;
    }
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &op);
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = 0;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    if (o->capture) {
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, &op);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->started_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    op.host = conn_host_get(c, bare, port);
    /* Until an https origin has answered, it may speak HTTP/2: let libcurl
     * wait for the first connection (PIPEWAIT) and multiplex over it. */
    bool may_multiplex = op.host && (op.host->multiplexed || (!op.host->proto_known && o->http_version != 11 &&
                                                               strncasecmp(req->url, "https:", 6) == 0));
    /* PIPEWAIT only where multiplexing is possible. libcurl 7.88 never marks a
     * plain HTTP/1.1 origin as "cannot multiplex", so with PIPEWAIT every
     * transfer to it waits for the one connection already open: a per-host cap
     * of N then yields one request at a time. */
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, may_multiplex ? 1L : 0L);
    /* No idle connection to this host can exist: this transfer opens one. */
    bool opens = op.host && !may_multiplex && op.host->conns <= op.host->active;
    /* A new connection waits for room in its host's opening window (see
     * conn_host): a burst of connects never overflows a small backlog. */
    while (opens && !use_proxy && op.host->unproven >= op.host->window) {
        co_event_clear(&op.host->room);
        int ws = co_event_wait(&op.host->room, CO_FOREVER);
        if (ws < 0) {
            fail(r, HTTP_E_CANCELLED, "interrupted");
            rc = ws;
            unset_method(e, &op);
            curl_slist_free_all(merged);
            easy_put(c, e);
            curl_slist_free_all(pins);
            goto out_url;
        }
        opens = op.host->conns <= op.host->active; /* one may have come free meanwhile */
    }
    /* ... so libcurl's reuse search can be skipped. */
    bool fresh = opens && !use_proxy && o->max_per_host_conns == 0;
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    /* libcurl 7.88 walks every cached connection when a transfer that left
     * its connection open is removed (the connect-only sweep in
     * curl_multi_remove_handle): parking connections nobody will reuse makes
     * the end of a wide run quadratic. So a connection is closed when done if
     * the caller says no request will follow (unless it may be an HTTP/2
     * connection other requests share), or if it is new and HTTP_KEEP_CONNS
     * connections are already open (as nginx caps its cached upstream
     * connections). */
    bool close_after = ((req->no_reuse || c->winding_down) && !may_multiplex) ||
                       (opens && c->conns >= HTTP_KEEP_CONNS);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, close_after ? 1L : 0L);
    int restarts = 0;
again:
    if (op.host)
        op.host->active++;

    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        fail(r, HTTP_E_INTERNAL, "could not start the transfer");
        if (op.host)
            op.host->active--;
        unset_method(e, &op);
        curl_slist_free_all(merged);
        easy_put(c, e);
        curl_slist_free_all(pins);
        goto out_url;
    }
    c->in_flight++;
    op.shared_conn = may_multiplex;
    co_dlist_push_back(&c->live, &op.node);
    if (opens && !use_proxy) {
        op.unproven = true;
        op.opened_ns = co_now_ns();
        op.host->unproven++;
        if (co_dlist_empty(&c->unproven)) {
            struct timeval tv = {0, 1000};
            evtimer_add(c->prove, &tv);
        }
        co_dlist_push_back(&c->unproven, &op.unode);
    }
    /* A watchdog past libcurl's own timeout: should libcurl ever lose a
     * transfer (it does when an allocation fails inside
     * curl_multi_socket_action, found by the torture run), the task still
     * ends, as a timeout, instead of waiting forever. */
    int64_t watchdog = o->timeout_ms > 0 ? o->timeout_ms + HTTP_WATCHDOG_SLACK_MS : CO_FOREVER;
    int st = co_future_await(&op.done, NULL, watchdog);
    co_dnode_unlink(&op.node);
    unproven_end(c, &op, false);
    c->in_flight--;
    if (op.resume_ev) {
        event_free(op.resume_ev);
        op.resume_ev = NULL;
    }
    if (op.host)
        op.host->active--;
    if (!op.finished && op.restart && st == 0) {
        /* Its new connection is stuck (see conn_state): drop it and start the
         * same request over, on a fresh connection, a few times at most.
         * Nothing of the response has arrived, so nothing is lost. */
        curl_multi_remove_handle(c->multi, e);
        op.restart = false;
        op.fd = -1;
        op.req_len = op.resp_len = op.head_bytes = 0;
        co_future_init(&op.done);
        if (restarts++ < HTTP_OPEN_RESTARTS) {
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
            if (op.body_fd >= 0)
                lseek(op.body_fd, 0, SEEK_SET); /* the body is sent again from its start */
            opens = !use_proxy && op.host;
            goto again;
        }
        fail(r, HTTP_E_CONNECT, "connection stalled: the server never acknowledged the request");
        rc = 0;
    } else if (!op.finished) {
        /* Cancelled or deadline: remove the transfer cleanly. We run on a task,
         * not inside a curl callback, so this call is allowed. */
        curl_multi_remove_handle(c->multi, e);
        rc = st;
        if (st == -ETIMEDOUT)
            fail(r, HTTP_E_TIMEOUT, "deadline expired");
        else
            fail(r, HTTP_E_CANCELLED, "interrupted");
    }

    long status = 0, ver = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    r->status = status;
    char *s = NULL;
    if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
        r->content_type = strdup(s);
    s = NULL;
    if (status >= 300 && status < 400 && curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &s) == CURLE_OK && s)
        r->location = strdup(s);
    curl_off_t ra = -1;
    if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        r->retry_after_s = (int64_t)ra;
    curl_off_t ft = -1;
    r->filetime = curl_easy_getinfo(e, CURLINFO_FILETIME_T, &ft) == CURLE_OK && ft >= 0 ? (int64_t)ft : -1;
    curl_off_t cl = -1;
    r->content_length =
        curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0 ? (int64_t)cl : -1;
    long unmet = 0;
    curl_easy_getinfo(e, CURLINFO_CONDITION_UNMET, &unmet);
    r->not_modified = status == 304 || (req->if_modified_since > 0 && unmet);
    r->etag = op.etag;
    r->last_modified = op.last_modified;
    op.etag = op.last_modified = NULL;
    s = NULL;
    if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s)
    {
        size_t il = 0;
        buf_add(r->remote_ip, sizeof r->remote_ip, &il, s);
    }
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &ver);
    if (op.host && ver) {
        op.host->proto_known = true;
        op.host->multiplexed = ver >= CURL_HTTP_VERSION_2_0;
    }
    r->http_version = ver == CURL_HTTP_VERSION_1_0 ? "1.0"
                    : ver == CURL_HTTP_VERSION_1_1 ? "1.1"
                    : ver == CURL_HTTP_VERSION_2_0 ? "2"
                    : ver == CURL_HTTP_VERSION_3   ? "3"
                                                   : NULL;
    curl_off_t tc = 0, ta = 0, ts = 0, tt = 0;
    curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &tc);
    curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &ta);
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &ts);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &tt);
    r->connect_ms = us_to_ms(tc);
    r->tls_ms = ta > tc ? us_to_ms(ta - tc) : 0;
    r->first_byte_ms = us_to_ms(ts);
    r->total_ms = us_to_ms(tt) + r->dns_ms;

    if (op.finished) {
        if (op.truncated) {
            fail(r, HTTP_E_TOO_LARGE, "body exceeds --max-body (%zu bytes); truncated", op.limit);
        } else if (op.header_too_large) {
            fail(r, HTTP_E_TOO_LARGE, "response headers larger than %zu KiB", HTTP_MAX_HEADER_BYTES >> 10);
        } else if (op.soft_truncated) {
            /* the caller asked for at most keep_max bytes: not an error */
        } else if (op.write_failed) {
            fail(r, HTTP_E_INTERNAL, "cannot store the body: %s", op.spill_fd < 0 && errno ? strerror(errno) : "out of memory");
        } else if (op.code == CURLE_OUT_OF_MEMORY) {
            /* libcurl 7.88 refuses a header line past its own limit (100 KiB)
             * with "out of memory" and no message: it is the server's size;
             * an allocation of ours that failed is reported above */
            fail(r, HTTP_E_TOO_LARGE, "response header line longer than libcurl accepts (100 KiB)%s%s",
                 errbuf[0] ? ": " : "", errbuf);
        } else if (op.policy_refused) {
            fail(r, HTTP_E_POLICY, "refused to connect to restricted address %s", op.refused_ip);
        } else if (op.code != CURLE_OK) {
            proxy_fail(r, op.code, errbuf[0] ? errbuf : curl_easy_strerror(op.code), use_proxy ? proxy : NULL);
        }
    }
    r->bytes = op.bytes;
    r->truncated = op.truncated || op.soft_truncated;
    if (op.keep_body) {
        if (!op.body)
            op.body = calloc(1, 1);
        else
            op.body[op.len] = 0;
        r->body = op.body;
        r->body_len = op.body ? op.len : 0;
        r->kept_in = &c->kept; /* counted until http_resp_free */
        op.body = NULL;
    } else {
        atomic_fetch_sub_explicit(&c->kept, op.len, memory_order_relaxed);
    }
    free(op.body);
    if (op.spill_fd >= 0 && r->body && !op.write_failed) {
        r->spilled = true;
        r->spill_fd = op.spill_fd;
    } else if (op.spill_fd >= 0) {
        close(op.spill_fd);
    }
    r->req_head = op.req_head;
    r->req_head_len = op.req_len;
    r->resp_head = op.resp_head;
    r->resp_head_len = op.resp_len;
    unset_method(e, &op);
    easy_put(c, e);
    curl_slist_free_all(merged);
    curl_slist_free_all(pins);
out_url:
    curl_free(scheme);
    curl_free(host);
    curl_free(port_s);
    curl_url_cleanup(u);
    return rc;
}
