/* testserver: the project's HTTP test server (libevent evhttp), for the
 * integration tests and the container test. Binds 127.0.0.1 on an ephemeral
 * port (or --port N), prints "PORT <n>" on stdout, serves until it gets
 * SIGTERM/SIGINT or its stdin closes (so it never outlives the test).
 *
 * Endpoints:
 *   /status/N              respond with status N
 *   /delay/MS              respond 200 after MS milliseconds
 *   /redirect/N            302 chain of N hops ending at /status/200
 *   /loop                  302 to itself
 *   /redirect-to?url=U     302 to U
 *   /flaky/N?key=K         500 for the first N requests with key K, then 200
 *   /retry-after/N?key=K&s=S  503 + Retry-After: S for the first N, then 200
 *   /drip?n=N&ms=M         N chunks of one byte, M ms apart (chunked)
 *   /reset?bytes=B         promise 100000 bytes, send B, then drop the connection
 *   /big?size=N            N bytes of 'x'
 *   /gzip?size=N           N bytes of zeros, gzip-encoded (a small bomb for large N)
 *   /headers               the request headers, one "Name: value" per line
 *   /page/NAME             a small HTML page
 *   /stats                 requests served, peak concurrency and connections accepted, as JSON
 *   /hoststats             per Host header: peak requests answered at once, served, in flight,
 *                          and each request's start time in ms since the server started (JSON);
 *                          /_reset clears it
 *   /fan?n=N&ms=M          an HTML page linking to N pages /delay/M?i=0..N-1
 *   /delay/MS?close=1      as /delay/MS, answered with Connection: close
 *   /_reqs                 every request (but the control ones) as received: one JSON object per line,
 *                          {"method", "uri", "headers": [[name, value]...], "body"} (bytes >= 0x80
 *                          as \u00XX); /_reset clears it
 *   /redirect-to?url=U&code=C  as above, with status C (301, 302, 303, 307, 308)
 *   /basic?user=U&pass=P   200 with Basic credentials U:P, else 401 + WWW-Authenticate
 *   /setcookie?name=N&value=V&to=URL&maxage=S  Set-Cookie N=V (Path=/; Max-Age=S if given, else
 *                          a session cookie), then 302 to URL (200 without to)
 *   /needcookie?name=N&value=V  200 "cookie ok" when the request carries cookie N=V, else 403
 *   /cond?etag=E&mtime=T   ETag "E" and Last-Modified T (seconds since the epoch); 304 on a
 *                          matching If-None-Match or an If-Modified-Since >= T
 *   /nohead                405 to HEAD, else a small HTML page
 *   /ranged?size=N         N bytes of 'a'..'z', honouring Range: bytes=K-
 *
 * Options: --port N, --bind ADDR (loopback only), --backlog N, --idle-timeout-ms N
 * (close a kept-alive connection idle that long; default: libevent's).
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <zlib.h>

static struct event_base *base;
static long served, in_flight, peak, connections;

/* Connections seen and not yet closed, to count new ones. */
#define MAX_LIVE 4096
static struct evhttp_connection *live[MAX_LIVE];

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    (void)arg;
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == evcon)
            live[i] = NULL;
}

static void note_connection(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    int free_slot = -1;
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i] == evcon)
            return;
        if (!live[i] && free_slot < 0)
            free_slot = i;
    }
    connections++;
    if (free_slot >= 0) {
        live[free_slot] = evcon;
        evhttp_connection_set_closecb(evcon, on_conn_close, NULL);
    }
}
static char *reqlog;          /* every request's URI, one per line (see /_log) */
static size_t reqlog_len, reqlog_cap;

static void log_request(const char *uri)
{
    size_t n = strlen(uri);
    if (reqlog_len + n + 2 > reqlog_cap) {
        reqlog_cap = (reqlog_len + n + 2) * 2;
        reqlog = realloc(reqlog, reqlog_cap);
    }
    memcpy(reqlog + reqlog_len, uri, n);
    reqlog_len += n;
    reqlog[reqlog_len++] = '\n';
    reqlog[reqlog_len] = 0;
}

/* Every request as received, JSON Lines (see /_reqs). */
static char *reqs;
static size_t reqs_len, reqs_cap;

static void reqs_add(const char *p, size_t n)
{
    if (reqs_len + n + 1 > reqs_cap) {
        reqs_cap = (reqs_len + n + 1) * 2;
        reqs = realloc(reqs, reqs_cap);
    }
    memcpy(reqs + reqs_len, p, n);
    reqs_len += n;
    reqs[reqs_len] = 0;
}

static void reqs_str(const unsigned char *p, size_t n)
{
    reqs_add("\"", 1);
    for (size_t i = 0; i < n; i++) {
        char e[8];
        if (p[i] == '"' || p[i] == '\\') {
            e[0] = '\\';
            e[1] = (char)p[i];
            reqs_add(e, 2);
        } else if (p[i] < 0x20 || p[i] >= 0x7f) {
            snprintf(e, sizeof e, "\\u%04x", p[i]);
            reqs_add(e, 6);
        } else {
            reqs_add((const char *)&p[i], 1);
        }
    }
    reqs_add("\"", 1);
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "?";
}

static void log_full(struct evhttp_request *req)
{
    const char *m = method_name(evhttp_request_get_command(req));
    const char *uri = evhttp_request_get_uri(req);
    reqs_add("{\"method\": ", 11);
    reqs_str((const unsigned char *)m, strlen(m));
    reqs_add(", \"uri\": ", 9);
    reqs_str((const unsigned char *)uri, strlen(uri));
    reqs_add(", \"headers\": [", 14);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    for (struct evkeyval *h = in->tqh_first; h; h = h->next.tqe_next) {
        reqs_add(h == in->tqh_first ? "[" : ", [", h == in->tqh_first ? 1 : 3);
        reqs_str((const unsigned char *)h->key, strlen(h->key));
        reqs_add(", ", 2);
        reqs_str((const unsigned char *)h->value, strlen(h->value));
        reqs_add("]", 1);
    }
    reqs_add("], \"body\": ", 11);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t bl = evbuffer_get_length(body);
    reqs_str(evbuffer_pullup(body, (ssize_t)bl), bl);
    reqs_add("}\n", 2);
}

/* The generated test site for recursive crawls. %P is replaced by the port. */
static const struct {
    const char *path, *type, *body;
} site[] = {
    {"/robots.txt", "text/plain",
     "User-agent: *\nDisallow: /site/private\nCrawl-delay: 0.05\n\nUser-agent: otherbot\nDisallow: /\n"
     "Sitemap: http://127.0.0.1:%P/site/sitemap-index.xml\n"},
    {"/site/sitemap-index.xml", "application/xml",
     "<?xml version='1.0' encoding='UTF-8'?>"
     "<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
     "<sitemap><loc>http://127.0.0.1:%P/site/sitemap1.xml.gz</loc></sitemap></sitemapindex>"},
    {"/site/sitemap1.xml.gz", "application/gzip",
     "<?xml version='1.0' encoding='UTF-8'?>"
     "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
     "<url><loc>http://127.0.0.1:%P/site/from-sitemap.html</loc></url>"
     "<url><loc> http://127.0.0.1:%P/site/a.html </loc></url>"
     "<url><loc>http://127.0.0.2:%P/site/out-of-scope.html</loc></url></urlset>"},
    {"/site/from-sitemap.html", "text/html", "<html><body>only listed in the sitemap</body></html>"},
    {"/site/", "text/html",
     "<html><head><title>home</title></head><body>"
     "<a href='a.html'>a</a> <a href=\"/site/b.html#frag\">b</a>"
     "<a href='http://127.0.0.1:%P/site/a.html'>a again, absolute</a>"
     "<a href='HTTP://127.0.0.1:%P/site/./x/../a.html'>a, dot segments</a>"
     "<a href='/site/%61.html'>a, percent-encoded</a>"
     "<a href='c/'>c</a> <a href='http://127.0.0.2:%P/site/'>other host</a>"
     "<a href='private/secret.html'>robots says no</a>"
     "<a href='nofollow.html' rel='nofollow'>nofollow</a>"
     "<a href='meta-nofollow.html'>meta nofollow page</a>"
     "<a href='cal?month=1'>calendar</a> <a href='loop/'>loop</a> <a href='large.html'>large</a>"
     "<a href='mailto:x@example.com'>mail</a><!-- <a href='commented.html'> -->"
     "<script>document.write(\"<a href='script.html'>\")</script>"
     "</body></html>"},
    {"/site/a.html", "text/html", "<html><body><a href='b.html'>b</a><a href='/site/'>home</a></body></html>"},
    {"/site/b.html", "text/html", "<html><head><base href='/site/c/'></head><body><a href='d.html'>d</a></body></html>"},
    {"/site/c/", "text/html", "<html><body><a href='../a.html'>a</a><a href='d.html'>d</a></body></html>"},
    {"/site/c/d.html", "text/html", "<html><body>leaf</body></html>"},
    {"/site/private/secret.html", "text/html", "<html><body>secret</body></html>"},
    {"/site/nofollow.html", "text/html", "<html><body>should not be fetched</body></html>"},
    {"/site/meta-nofollow.html", "text/html",
     "<html><head><meta name='robots' content='noindex, nofollow'></head><body><a href='hidden.html'>h</a></body></html>"},
    {"/site/hidden.html", "text/html", "<html><body>only reachable through a nofollow page</body></html>"},
};

/* 200 with an HTML body, which is consumed. */
static void send_html(struct evhttp_request *req, struct evbuffer *b)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/html");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static bool site_page(struct evhttp_request *req, const char *path, const char *uri, int port)
{
    if (strncmp(path, "/site/cal", 9) == 0) { /* a calendar: always a next month */
        int m = 0;
        const char *q = strstr(uri, "month=");
        if (q)
            m = atoi(q + 6);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "<html><body>month %d <a href='cal?month=%d'>next</a></body></html>", m, m + 1);
        send_html(req, b);
        return true;
    }
    if (strcmp(path, "/site/large.html") == 0) { /* a 34 KB page: a link after a lot of text */
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "<html><body><p>");
        for (int i = 0; i < 2000; i++)
            evbuffer_add_printf(b, "filler text %04d ", i);
        evbuffer_add_printf(b, "</p><a href='c/d.html'>d</a></body></html>");
        send_html(req, b);
        return true;
    }
    if (strncmp(path, "/site/loop/", 11) == 0) { /* a trap: x/ under itself forever */
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "<html><body><a href='x/'>deeper</a></body></html>");
        send_html(req, b);
        return true;
    }
    for (size_t i = 0; i < sizeof site / sizeof site[0]; i++) {
        if (strcmp(site[i].path, path) != 0)
            continue;
        struct evbuffer *b = evbuffer_new();
        char portbuf[16];
        snprintf(portbuf, sizeof portbuf, "%d", port);
        for (const char *p = site[i].body; *p; p++) {
            if (p[0] == '%' && p[1] == 'P') {
                evbuffer_add(b, portbuf, strlen(portbuf));
                p++;
            } else {
                evbuffer_add(b, p, 1);
            }
        }
        if (strstr(site[i].path, ".gz")) { /* served gzip-compressed, as a file */
            size_t n = evbuffer_get_length(b);
            unsigned char *raw = malloc(n), *z = malloc(n + 1024);
            evbuffer_remove(b, raw, n);
            z_stream zs;
            memset(&zs, 0, sizeof zs);
            deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
            zs.next_in = raw;
            zs.avail_in = (uInt)n;
            zs.next_out = z;
            zs.avail_out = (uInt)(n + 1024);
            deflate(&zs, Z_FINISH);
            evbuffer_add(b, z, n + 1024 - zs.avail_out);
            deflateEnd(&zs);
            free(raw);
            free(z);
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", site[i].type);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        return true;
    }
    return false;
}

static int listen_port;

typedef struct counter {
    char key[128];
    int n;
    struct counter *next;
} counter;
static counter *counters;

static int bump(const char *key)
{
    for (counter *c = counters; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return ++c->n;
    counter *c = calloc(1, sizeof *c);
    snprintf(c->key, sizeof c->key, "%.127s", key);
    c->n = 1;
    c->next = counters;
    counters = c;
    return 1;
}

static const char *qparam(struct evhttp_request *req, const char *name, char *buf, size_t len)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *q = evhttp_uri_get_query(u);
    if (!q)
        return NULL;
    struct evkeyvalq kv;
    if (evhttp_parse_query_str(q, &kv) != 0)
        return NULL;
    const char *v = evhttp_find_header(&kv, name);
    const char *out = NULL;
    if (v) {
        snprintf(buf, len, "%s", v);
        out = buf;
    }
    evhttp_clear_headers(&kv);
    return out;
}

static long qnum(struct evhttp_request *req, const char *name, long dflt)
{
    char buf[64];
    const char *v = qparam(req, name, buf, sizeof buf);
    return v ? atol(v) : dflt;
}

/* Per Host header: requests being answered now, the peak of that, and each
 * request's start time (ms since the server started), for /hoststats. */
typedef struct host_acct {
    char name[128];
    long in_flight, peak, served;
    long *starts;
    size_t nstarts, cap;
    struct host_acct *next;
} host_acct;
static host_acct *hosts;
static struct timespec t_start;

static host_acct *host_of(struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    if (!h)
        h = "";
    for (host_acct *a = hosts; a; a = a->next)
        if (strncmp(a->name, h, sizeof a->name - 1) == 0)
            return a;
    host_acct *a = calloc(1, sizeof *a);
    snprintf(a->name, sizeof a->name, "%.127s", h);
    a->next = hosts;
    hosts = a;
    return a;
}

/* The server's own control endpoints are not counted per host. */
static bool is_control(struct evhttp_request *req)
{
    const char *p = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    return p && (strcmp(p, "/_reset") == 0 || strcmp(p, "/_log") == 0 || strcmp(p, "/stats") == 0 ||
                 strcmp(p, "/hoststats") == 0 || strcmp(p, "/_reqs") == 0);
}

static void host_start(struct evhttp_request *req)
{
    if (is_control(req))
        return;
    host_acct *a = host_of(req);
    a->served++;
    if (++a->in_flight > a->peak)
        a->peak = a->in_flight;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long ms = (ts.tv_sec - t_start.tv_sec) * 1000 + (ts.tv_nsec - t_start.tv_nsec) / 1000000;
    if (a->nstarts == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 64;
        long *n = realloc(a->starts, ncap * sizeof *n);
        if (!n)
            return;
        a->starts = n;
        a->cap = ncap;
    }
    a->starts[a->nstarts++] = ms;
}

/* Called before the reply is handed to libevent (which may free req). */
static void finish(struct evhttp_request *req)
{
    in_flight--;
    if (!is_control(req))
        host_of(req)->in_flight--;
}

static void send_hoststats(struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{");
    for (host_acct *a = hosts; a; a = a->next) {
        evbuffer_add_printf(b, "%s\"%s\": {\"peak\": %ld, \"served\": %ld, \"in_flight\": %ld, \"starts\": [",
                            a == hosts ? "" : ", ", a->name, a->peak, a->served, a->in_flight);
        for (size_t i = 0; i < a->nstarts; i++)
            evbuffer_add_printf(b, "%s%ld", i ? "," : "", a->starts[i]);
        evbuffer_add_printf(b, "]}");
    }
    evbuffer_add_printf(b, "}\n");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void reset_hosts(void)
{
    for (host_acct *a = hosts, *n; a; a = n) {
        n = a->next;
        free(a->starts);
        free(a);
    }
    hosts = NULL;
}

static void reply(struct evhttp_request *req, int code, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (body)
        evbuffer_add(b, body, strlen(body));
    finish(req);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Status", b);
    evbuffer_free(b);
}

static void redirect(struct evhttp_request *req, const char *to)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", to);
    reply(req, 302, "redirect\n");
}

/* ---- delayed replies ---- */
typedef struct delayed {
    struct evhttp_request *req;
    struct event *ev;
    int left; /* drip: chunks left */
    long ms;
} delayed;

static void on_delay(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    delayed *d = arg;
    reply(d->req, 200, "delayed\n");
    event_free(d->ev);
    free(d);
}

static void on_drip(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    delayed *d = arg;
    if (d->left-- <= 0) {
        finish(d->req);
        evhttp_send_reply_end(d->req);
        event_free(d->ev);
        free(d);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "x", 1);
    evhttp_send_reply_chunk(d->req, b);
    evbuffer_free(b);
    struct timeval tv = {d->ms / 1000, (d->ms % 1000) * 1000};
    evtimer_add(d->ev, &tv);
}

static void on_reset_later(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    delayed *d = arg;
    struct evhttp_connection *conn = evhttp_request_get_connection(d->req);
    finish(d->req);
    evhttp_connection_free(conn); /* drops the connection mid-body */
    event_free(d->ev);
    free(d);
}

static void handle(struct evhttp_request *req, void *arg)
{
    (void)arg;
    served++;
    note_connection(req);
    if (++in_flight > peak)
        peak = in_flight;
    host_start(req);
    const char *uri = evhttp_request_get_uri(req);
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(u);
    if (!path)
        path = "/";
    if (strcmp(path, "/_log") != 0 && strcmp(path, "/stats") != 0 && strcmp(path, "/hoststats") != 0 &&
        strcmp(path, "/_reqs") != 0)
        log_request(uri);
    if (!is_control(req))
        log_full(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    char buf[512], key[256];
    long n;
    (void)uri;

    if (strcmp(path, "/_log") == 0) {
        reply(req, 200, reqlog ? reqlog : "");
    } else if (strcmp(path, "/_reqs") == 0) {
        reply(req, 200, reqs ? reqs : "");
    } else if (strcmp(path, "/_reset") == 0) {
        reqs_len = 0;
        if (reqs)
            reqs[0] = 0;
        reqlog_len = 0;
        if (reqlog)
            reqlog[0] = 0;
        peak = in_flight;
        reset_hosts();
        reply(req, 200, "reset\n");
    } else if (strncmp(path, "/site/", 6) == 0 || strcmp(path, "/robots.txt") == 0) {
        finish(req);
        if (!site_page(req, path, uri, listen_port)) {
            struct evbuffer *b = evbuffer_new();
            evbuffer_add_printf(b, "not found\n");
            evhttp_send_reply(req, 404, "Not Found", b);
            evbuffer_free(b);
        }
    } else if (sscanf(path, "/status/%ld", &n) == 1) {
        reply(req, (int)n, "status\n");
    } else if (sscanf(path, "/delay/%ld", &n) == 1) {
        if (qnum(req, "close", 0))
            evhttp_add_header(out, "Connection", "close");
        delayed *d = calloc(1, sizeof *d);
        d->req = req;
        d->ev = evtimer_new(base, on_delay, d);
        struct timeval tv = {n / 1000, (n % 1000) * 1000};
        evtimer_add(d->ev, &tv);
    } else if (sscanf(path, "/redirect/%ld", &n) == 1) {
        if (n <= 0)
            snprintf(buf, sizeof buf, "/status/200");
        else
            snprintf(buf, sizeof buf, "/redirect/%ld", n - 1);
        redirect(req, buf);
    } else if (strcmp(path, "/loop") == 0) {
        redirect(req, "/loop");
    } else if (strcmp(path, "/redirect-to") == 0) {
        const char *to = qparam(req, "url", buf, sizeof buf);
        long code = qnum(req, "code", 302);
        if (to) {
            evhttp_add_header(out, "Location", to);
            reply(req, (int)code, "redirect\n");
        } else
            reply(req, 400, "missing url\n");
    } else if (sscanf(path, "/flaky/%ld", &n) == 1) {
        const char *k = qparam(req, "key", key, sizeof key);
        snprintf(buf, sizeof buf, "flaky:%s", k ? k : "");
        reply(req, bump(buf) <= n ? 500 : 200, "flaky\n");
    } else if (sscanf(path, "/retry-after/%ld", &n) == 1) {
        const char *k = qparam(req, "key", key, sizeof key);
        snprintf(buf, sizeof buf, "ra:%s", k ? k : "");
        if (bump(buf) <= n) {
            char s[32];
            snprintf(s, sizeof s, "%ld", qnum(req, "s", 1));
            evhttp_add_header(out, "Retry-After", s);
            reply(req, 503, "busy\n");
        } else {
            reply(req, 200, "ok\n");
        }
    } else if (strcmp(path, "/drip") == 0) {
        delayed *d = calloc(1, sizeof *d);
        d->req = req;
        d->left = (int)qnum(req, "n", 10);
        d->ms = qnum(req, "ms", 100);
        d->ev = evtimer_new(base, on_drip, d);
        evhttp_send_reply_start(req, 200, "OK");
        struct timeval tv = {0, 0};
        evtimer_add(d->ev, &tv);
    } else if (strcmp(path, "/reset") == 0) {
        long bytes = qnum(req, "bytes", 1000);
        evhttp_add_header(out, "Content-Length", "100000");
        evhttp_send_reply_start(req, 200, "OK");
        struct evbuffer *b = evbuffer_new();
        for (long i = 0; i < bytes; i++)
            evbuffer_add(b, "r", 1);
        evhttp_send_reply_chunk(req, b);
        evbuffer_free(b);
        delayed *d = calloc(1, sizeof *d);
        d->req = req;
        d->ev = evtimer_new(base, on_reset_later, d);
        struct timeval tv = {0, 50000};
        evtimer_add(d->ev, &tv);
    } else if (strcmp(path, "/big") == 0) {
        long size = qnum(req, "size", 1000000);
        struct evbuffer *b = evbuffer_new();
        char chunk[4096];
        memset(chunk, 'x', sizeof chunk);
        for (long left = size; left > 0; left -= (long)sizeof chunk)
            evbuffer_add(b, chunk, left < (long)sizeof chunk ? (size_t)left : sizeof chunk);
        evhttp_add_header(out, "Content-Type", "application/octet-stream");
        finish(req);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
    } else if (strcmp(path, "/gzip") == 0) {
        long size = qnum(req, "size", 1000);
        unsigned char *raw = calloc(1, (size_t)size + 1);
        uLongf cap = compressBound((uLong)size) + 64;
        unsigned char *z = malloc(cap);
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY); /* gzip wrapper */
        zs.next_in = raw;
        zs.avail_in = (uInt)size;
        zs.next_out = z;
        zs.avail_out = (uInt)cap;
        deflate(&zs, Z_FINISH);
        size_t zlen = cap - zs.avail_out;
        deflateEnd(&zs);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, z, zlen);
        evhttp_add_header(out, "Content-Encoding", "gzip");
        evhttp_add_header(out, "Content-Type", "text/plain");
        finish(req);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        free(raw);
        free(z);
    } else if (strcmp(path, "/headers") == 0) {
        struct evbuffer *b = evbuffer_new();
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        for (struct evkeyval *h = in->tqh_first; h; h = h->next.tqe_next)
            evbuffer_add_printf(b, "%s: %s\n", h->key, h->value);
        evhttp_add_header(out, "Content-Type", "text/plain");
        finish(req);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
    } else if (strcmp(path, "/basic") == 0) {
        char user[128], pass[128], want[300], enc[420];
        snprintf(want, sizeof want, "%s:%s", qparam(req, "user", user, sizeof user) ? user : "",
                 qparam(req, "pass", pass, sizeof pass) ? pass : "");
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t wl = strlen(want), k = 0;
        for (size_t i = 0; i < wl; i += 3) {
            unsigned v = (unsigned)(unsigned char)want[i] << 16;
            if (i + 1 < wl)
                v |= (unsigned)(unsigned char)want[i + 1] << 8;
            if (i + 2 < wl)
                v |= (unsigned char)want[i + 2];
            enc[k++] = b64[(v >> 18) & 63];
            enc[k++] = b64[(v >> 12) & 63];
            enc[k++] = i + 1 < wl ? b64[(v >> 6) & 63] : '=';
            enc[k++] = i + 2 < wl ? b64[v & 63] : '=';
        }
        enc[k] = 0;
        const char *got = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        if (got && strncmp(got, "Basic ", 6) == 0 && strcmp(got + 6, enc) == 0) {
            reply(req, 200, "auth ok\n");
        } else {
            evhttp_add_header(out, "WWW-Authenticate", "Basic realm=\"test\"");
            reply(req, 401, "auth needed\n");
        }
    } else if (strcmp(path, "/setcookie") == 0) {
        char name[64], value[128], to[256], sc[256];
        long maxage = qnum(req, "maxage", -1);
        snprintf(sc, sizeof sc, "%s=%s; Path=/", qparam(req, "name", name, sizeof name) ? name : "sid",
                 qparam(req, "value", value, sizeof value) ? value : "1");
        if (maxage >= 0)
            snprintf(sc + strlen(sc), sizeof sc - strlen(sc), "; Max-Age=%ld", maxage);
        evhttp_add_header(out, "Set-Cookie", sc);
        if (qparam(req, "to", to, sizeof to))
            redirect(req, to);
        else
            reply(req, 200, "cookie set\n");
    } else if (strcmp(path, "/needcookie") == 0) {
        char name[64], value[128], want[200];
        snprintf(want, sizeof want, "%s=%s", qparam(req, "name", name, sizeof name) ? name : "sid",
                 qparam(req, "value", value, sizeof value) ? value : "1");
        const char *got = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
        bool ok = false;
        for (const char *p = got; p && *p && !ok;) {
            while (*p == ' ' || *p == ';')
                p++;
            size_t l = strcspn(p, ";");
            ok = l == strlen(want) && strncmp(p, want, l) == 0;
            p += l;
        }
        reply(req, ok ? 200 : 403, ok ? "cookie ok\n" : "no cookie\n");
    } else if (strcmp(path, "/cond") == 0) {
        char etag[64], et[80], lm[64];
        long mtime = qnum(req, "mtime", 1700000000);
        snprintf(et, sizeof et, "\"%s\"", qparam(req, "etag", etag, sizeof etag) ? etag : "v1");
        time_t t = (time_t)mtime;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        evhttp_add_header(out, "ETag", et);
        evhttp_add_header(out, "Last-Modified", lm);
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        const char *inm = evhttp_find_header(in, "If-None-Match");
        const char *ims = evhttp_find_header(in, "If-Modified-Since");
        bool fresh = inm ? strcmp(inm, et) == 0 : false;
        if (!inm && ims) {
            struct tm it;
            memset(&it, 0, sizeof it);
            if (strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &it))
                fresh = timegm(&it) >= t;
        }
        if (fresh) {
            finish(req);
            evhttp_send_reply(req, 304, "Not Modified", NULL);
        } else {
            evhttp_add_header(out, "Content-Type", "text/plain");
            reply(req, 200, "conditional body\n");
        }
    } else if (strcmp(path, "/nohead") == 0) {
        if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
            reply(req, 405, "no HEAD here\n");
        } else {
            evhttp_add_header(out, "Content-Type", "text/html");
            reply(req, 200, "<html><body>nohead</body></html>\n");
        }
    } else if (strcmp(path, "/ranged") == 0) {
        long size = qnum(req, "size", 1000), from = 0;
        const char *rg = evhttp_find_header(evhttp_request_get_input_headers(req), "Range");
        if (rg && sscanf(rg, "bytes=%ld-", &from) == 1 && from > 0 && from < size) {
            snprintf(buf, sizeof buf, "bytes %ld-%ld/%ld", from, size - 1, size);
            evhttp_add_header(out, "Content-Range", buf);
        } else {
            from = 0;
        }
        struct evbuffer *b = evbuffer_new();
        for (long i = from; i < size; i++) {
            char ch = (char)('a' + i % 26);
            evbuffer_add(b, &ch, 1);
        }
        evhttp_add_header(out, "Content-Type", "application/octet-stream");
        finish(req);
        evhttp_send_reply(req, from ? 206 : 200, from ? "Partial Content" : "OK", b);
        evbuffer_free(b);
    } else if (strncmp(path, "/page/", 6) == 0) {
        evhttp_add_header(out, "Content-Type", "text/html; charset=utf-8");
        snprintf(buf, sizeof buf, "<html><head><title>%s</title></head><body><p>page %s</p></body></html>\n",
                 path + 6, path + 6);
        reply(req, 200, buf);
    } else if (strcmp(path, "/fan") == 0) {
        long nl = qnum(req, "n", 8), ms = qnum(req, "ms", 500);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "<html><body>");
        for (long i = 0; i < nl; i++)
            evbuffer_add_printf(b, "<a href='/delay/%ld?i=%ld'>%ld</a>\n", ms, i, i);
        evbuffer_add_printf(b, "</body></html>");
        finish(req);
        send_html(req, b);
    } else if (strcmp(path, "/hoststats") == 0) {
        finish(req);
        send_hoststats(req);
    } else if (strcmp(path, "/stats") == 0) {
        snprintf(buf, sizeof buf, "{\"served\": %ld, \"peak\": %ld, \"connections\": %ld}\n", served, peak,
                 connections);
        reply(req, 200, buf);
    } else {
        reply(req, 404, "not found\n");
    }
}

static int bind_socket_ok(int fd, struct sockaddr_in *sin)
{
    return fd >= 0 && bind(fd, (struct sockaddr *)sin, sizeof *sin) == 0;
}

static void on_signal(evutil_socket_t s, short w, void *arg)
{
    (void)s;
    (void)w;
    (void)arg;
    event_base_loopexit(base, NULL);
}

static void on_stdin(evutil_socket_t fd, short w, void *arg)
{
    (void)w;
    (void)arg;
    char b[256];
    ssize_t r = read(fd, b, sizeof b);
    if (r <= 0)
        event_base_loopexit(base, NULL);
}

int main(int argc, char **argv)
{
    int port = 0, backlog = 1024;
    long idle_ms = 0;
    const char *bind = "127.0.0.1";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
            bind = argv[++i];
        else if (strcmp(argv[i], "--backlog") == 0 && i + 1 < argc)
            backlog = atoi(argv[++i]);
        else if (strcmp(argv[i], "--idle-timeout-ms") == 0 && i + 1 < argc)
            idle_ms = atol(argv[++i]);
    }
    if (strncmp(bind, "127.", 4) != 0 && strcmp(bind, "::1") != 0) {
        fprintf(stderr, "testserver: refusing to bind %s (loopback only)\n", bind);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, handle, NULL);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(http, 65536);
    if (idle_ms > 0) {
        struct timeval tv = {idle_ms / 1000, (idle_ms % 1000) * 1000};
        evhttp_set_timeout_tv(http, &tv);
    }
    /* Our own listening socket, so the backlog can hold thousands of
     * simultaneous connects (the benchmark opens 10,000 at once). */
    struct evhttp_bound_socket *bs = NULL;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (inet_pton(AF_INET, bind, &sin.sin_addr) == 1 && bind_socket_ok(lfd, &sin) && listen(lfd, backlog) == 0)
        bs = evhttp_accept_socket_with_handle(http, lfd);
    if (!bs) {
        fprintf(stderr, "testserver: cannot bind %s:%d: %s\n", bind, port, strerror(errno));
        return 1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    int actual = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    listen_port = actual;
    printf("PORT %d\n", actual);
    fflush(stdout);
    struct event *sig1 = evsignal_new(base, SIGTERM, on_signal, NULL);
    struct event *sig2 = evsignal_new(base, SIGINT, on_signal, NULL);
    event_add(sig1, NULL);
    event_add(sig2, NULL);
    struct event *in = NULL;
    if (!isatty(0)) {
        in = event_new(base, 0, EV_READ | EV_PERSIST, on_stdin, NULL);
        event_add(in, NULL);
    }
    event_base_dispatch(base);
    if (in)
        event_free(in);
    event_free(sig1);
    event_free(sig2);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
