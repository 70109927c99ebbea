/* fetcher: see fetcher.h. */
#include "fetcher.h"
#include "crawl/hash.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crawl/co_exec.h"
#include "crawl/co_group.h"
#include "crawl/co_queue.h"
#include "crawl/co_sync.h"
#include "out/jsonl.h"
#include "out/record.h"
#include "out/savepath.h"
#include "out/state.h"
#include "out/warc.h"
#include "frontier.h"
#include "charset.h"
#include "links.h"
#include "net/url.h"
#include "retry.h"
#include "seen.h"
#include "sitemap.h"

#include <libpsl.h>
#include <libxml/parser.h>
#include "stats.h"

#define READ_BATCH 256
#define MAX_URL_LEN 8000

typedef struct host_state {
    struct host_state *next;
    char *name;
    co_sem sem;
    tbucket tb;
    int64_t not_before_ns; /* per-host backoff after 429/503 */
} host_state;

typedef struct engine {
    const fetcher_cfg *cfg;
    dns_resolver *dns;
    http_client *http;
    co_exec *exec;
    jsonl *out;
    record_fmt *fmt;    /* the writer's serializer */
    int dirfd;
    savepath_dirs *dirs; /* the directories bodies were last saved in */
    co_queue q;
    co_queue records;   /* finished records, to the writer task */
    host_state **hosts;
    size_t nhosts_b;
    tbucket global_tb;
    crawl_stats st;
    int exit_code;
    bool input_error;
    bool stopping;       /* first signal: no more input */
    bool input_eof;      /* URL lists: every input line is queued */
    size_t busy;         /* URL lists: workers holding an item */
    atomic_bool input_stop;
    bool aborting;       /* grace over or second signal */
    co_group workers;
    co_task *producer;
    struct event *sig_int, *sig_term, *grace_timer;
    uint64_t rng;
    uint64_t dropped;    /* queued URLs not fetched because of a stop */
    co_event finished;
    /* recursive crawling */
    frontier fr;
    seen_set seen;
    bool fr_ready, seen_ready;
    char **seed_hosts;
    size_t nseed_hosts;
    char **seed_sites;   /* registrable domains of the seeds (--same-site) */
    size_t nseed_sites;
    const psl_ctx_t *psl;
    uint64_t pages_extracted, pages_extracted_off_loop;
    warc_writer *warc;
    crawl_state *state;
    int64_t next_item;        /* input items numbered in order (URL lists) */
    int64_t prefix;           /* every item below this one is done */
    struct item_pos { int64_t src, off; bool done; } *win; /* items from prefix on (a ring) */
    size_t win_cap, win_head;
    int64_t cur_src, cur_off; /* where the item after the last one read starts */
    uint64_t resumed_skipped; /* items done in an earlier run */
    int64_t last_checkpoint_ns;
    size_t since_checkpoint;
    bool io_failed;
    regex_t accept_re, reject_re;
    bool have_accept, have_reject;
    long queued_pages;   /* seeds + links queued (for --max-pages) */
    uint64_t skipped_scope, skipped_robots, skipped_limit, skipped_trap;
} engine;

/* ---- exit status ------------------------------------------------------------ */

static void note_exit(engine *E, int code)
{
    if (code == 0)
        return;
    if (E->exit_code == 0 || code < E->exit_code)
        E->exit_code = code;
}

static int exit_for(http_err err, long status, bool redirect_err)
{
    if (redirect_err)
        return EXIT_PROTOCOL;
    switch (err) {
    case HTTP_OK: return status >= 400 ? EXIT_HTTP : EXIT_OK;
    case HTTP_E_DNS:
    case HTTP_E_CONNECT:
    case HTTP_E_TIMEOUT:
    case HTTP_E_RECV: return EXIT_NETWORK;
    case HTTP_E_TLS: return EXIT_TLS;
    case HTTP_E_PROTOCOL: return EXIT_PROTOCOL;
    case HTTP_E_CANCELLED: return 0; /* counted as the interruption */
    default: return EXIT_GENERIC;
    }
}

/* ---- hosts ------------------------------------------------------------------------ */

static host_state *host_get(engine *E, const char *name)
{
    size_t h = (size_t)(crawl_hash_lower(name) % E->nhosts_b);
    for (host_state *s = E->hosts[h]; s; s = s->next)
        if (strcasecmp(s->name, name) == 0)
            return s;
    host_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = strdup(name);
    co_sem_init(&s->sem, E->cfg->max_per_host > 0 ? E->cfg->max_per_host : 1, 0);
    tb_init(&s->tb, E->cfg->host_rate, 1, co_now_ns());
    s->next = E->hosts[h];
    E->hosts[h] = s;
    return s;
}

static void hosts_free(engine *E)
{
    for (size_t i = 0; i < E->nhosts_b; i++) {
        host_state *s = E->hosts[i];
        while (s) {
            host_state *n = s->next;
            free(s->name);
            free(s);
            s = n;
        }
    }
    free(E->hosts);
}

/* ---- input ------------------------------------------------------------------------ */

typedef struct read_job {
    int fd;
    int64_t base_off;   /* file offset of buf[0] */
    int64_t offs[READ_BATCH]; /* where each line starts */
    int64_t end_off;    /* just past the last line taken */
    char *buf;          /* carry-over bytes of a partial line */
    size_t len, cap;
    char *lines[READ_BATCH];
    size_t n;
    bool eof;
    int err;
    atomic_bool *stop;  /* set by the loop: give up waiting for input */
} read_job;

/* Take complete lines out of j->buf. */
static void split_lines(read_job *j, bool final)
{
    if (!j->buf)
        return;
    size_t start = 0;
    for (;;) {
        if (j->n >= READ_BATCH)
            break;
        char *nl = memchr(j->buf + start, '\n', j->len - start);
        if (!nl && !(final && start < j->len))
            break;
        size_t end = nl ? (size_t)(nl - j->buf) : j->len;
        j->buf[end] = 0;
        char *s = j->buf + start;
        int64_t line_off = j->base_off + (int64_t)start;
        start = nl ? end + 1 : j->len;
        j->end_off = j->base_off + (int64_t)start;
        while (*s && isspace((unsigned char)*s))
            s++;
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
            s[--l] = 0;
        if (*s && *s != '#') {
            j->offs[j->n] = line_off;
            j->lines[j->n++] = strdup(s);
        }
    }
    memmove(j->buf, j->buf + start, j->len - start);
    j->len -= start;
    j->base_off += (int64_t)start;
}

/* Runs on an executor thread: blocking reads never stall the loop. It polls
 * so that a stop request is noticed even on an idle pipe or terminal. */
static void *read_batch(void *arg)
{
    read_job *j = arg;
    j->n = 0;
    split_lines(j, false);
    /* Return as soon as some lines are ready: a slow pipe must not hold back
     * URLs that already arrived. */
    while (j->n == 0 && !j->eof) {
        if (atomic_load(j->stop)) {
            j->eof = true;
            break;
        }
        struct pollfd pfd = {.fd = j->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 200);
        if (pr == 0 || (pr < 0 && errno == EINTR))
            continue;
        if (j->cap - j->len < 65536) {
            size_t cap = j->cap ? j->cap * 2 : 131072;
            char *nb = realloc(j->buf, cap);
            if (!nb) {
                j->err = ENOMEM;
                j->eof = true;
                break;
            }
            j->buf = nb;
            j->cap = cap;
        }
        ssize_t r = read(j->fd, j->buf + j->len, j->cap - j->len - 1);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0) {
            if (r < 0)
                j->err = errno;
            j->eof = true;
            split_lines(j, true);
            break;
        }
        j->len += (size_t)r;
        split_lines(j, false);
        if (j->len > (1 << 20)) { /* a 1 MiB line is not a URL */
            j->len = 0;
        }
    }
    return NULL;
}

/* A queued URL, validated and normalized by the producer. URL parsing uses
 * libcurl's URL API, whose printf machinery takes about 5 KiB of stack: doing
 * it here, on the one producer task, keeps it off every worker's stack. */
typedef struct fetch_item {
    int64_t item; /* input order, for --state */
    char *line;  /* the input line as read */
    char *url;   /* normalized absolute URL, or NULL if invalid */
    char *host;
    long port;
    char why[160];
} fetch_item;

static char *input_url(const char *line, char *why, size_t wlen, char **host_out, long *port_out);

/* A page of a recursive crawl: where it was found. */
typedef struct page_ctx {
    int depth;
    const char *parent;
    fr_host *host;
    int links_found;
    int64_t backoff_ms; /* after a final 429/503: keep the origin quiet this long */
} page_ctx;

static const char *host_of(const char *url, char *buf, size_t len);
static bool is_seed_host(const engine *E, const char *host);
static void queue_link(engine *E, char *url, const char *parent, int depth);
static void process(engine *E, fetch_item *it, page_ctx *pg);
static void start_sitemap(engine *E, const char *url, int level);

static void item_free(fetch_item *it)
{
    free(it->line);
    free(it->url);
    free(it->host);
    free(it);
}

/* ---- the done prefix of a URL list (so a resume can seek past it) ---------- */

static struct item_pos *win_at(engine *E, int64_t item)
{
    size_t need = (size_t)(item - E->prefix) + 1;
    if (need > E->win_cap) {
        size_t cap = E->win_cap ? E->win_cap : 1024;
        while (cap < need)
            cap *= 2;
        struct item_pos *n = calloc(cap, sizeof *n);
        if (!n)
            return NULL;
        for (size_t i = 0; i < E->win_cap; i++)
            n[i] = E->win[(E->win_head + i) % E->win_cap];
        free(E->win);
        E->win = n;
        E->win_cap = cap;
        E->win_head = 0;
    }
    return &E->win[(E->win_head + (size_t)(item - E->prefix)) % E->win_cap];
}

static void item_note(engine *E, int64_t item, int64_t src, int64_t off)
{
    struct item_pos *p = E->state ? win_at(E, item) : NULL;
    if (p)
        *p = (struct item_pos){src, off, false};
}

static void item_finished(engine *E, int64_t item)
{
    if (!E->state || item < E->prefix)
        return;
    struct item_pos *p = win_at(E, item);
    if (p)
        p->done = true;
    while (E->win_cap && E->prefix < E->next_item && E->win[E->win_head].done) {
        E->win[E->win_head] = (struct item_pos){0, 0, false};
        E->win_head = (E->win_head + 1) % E->win_cap;
        E->prefix++;
    }
    if (E->prefix < E->next_item)
        state_set_prefix(E->state, E->prefix, E->win[E->win_head].src, E->win[E->win_head].off);
    else
        state_set_prefix(E->state, E->prefix, E->cur_src, E->cur_off);
}

/* Takes ownership of line. */
static int enqueue_at(engine *E, char *line, int64_t src, int64_t off)
{
    fetch_item *it = calloc(1, sizeof *it);
    if (!it || !line) {
        free(it);
        free(line);
        return -ENOMEM;
    }
    it->line = line;
    it->item = E->next_item++;
    if (E->state && !E->cfg->recursive)
        item_note(E, it->item, src, off);
    if (E->state && !E->cfg->recursive && state_item_was_done(E->state, it->item)) {
        E->resumed_skipped++; /* its record is already in the output */
        item_finished(E, it->item);
        item_free(it);
        return 0;
    }
    it->url = input_url(line, it->why, sizeof it->why, &it->host, &it->port);
    if (E->cfg->recursive) {
        /* a seed: its host is in scope; queue it at depth 0 */
        if (it->url) {
            char *norm = url_normalize(it->url);
            char hb[300];
            const char *h = norm ? host_of(norm, hb, sizeof hb) : NULL;
            if (h && !is_seed_host(E, h)) {
                char **n = realloc(E->seed_hosts, (E->nseed_hosts + 1) * sizeof *n);
                if (n) {
                    E->seed_hosts = n;
                    E->seed_hosts[E->nseed_hosts++] = strdup(h);
                }
                const char *site = E->psl ? psl_registrable_domain(E->psl, h) : NULL;
                char **ns = realloc(E->seed_sites, (E->nseed_sites + 1) * sizeof *ns);
                if (ns) {
                    E->seed_sites = ns;
                    E->seed_sites[E->nseed_sites++] = strdup(site ? site : h);
                }
            }
            if (norm) {
                queue_link(E, norm, NULL, 0);
                frontier_notify(&E->fr);
                E->st.queued_total++;
                item_free(it);
                return 0;
            }
        }
        process(E, it, NULL); /* the invalid_url record */
        item_free(it);
        return 0;
    }
    int st = co_queue_put(&E->q, it, CO_FOREVER);
    if (st < 0)
        item_free(it);
    else
        E->st.queued_total++;
    return st;
}

static int producer_main(void *arg)
{
    engine *E = arg;
    const fetcher_cfg *c = E->cfg;
    int st = 0;
    /* A resumed URL list starts where the done prefix ends: earlier sources
     * are not read again, and the file it ends in is entered by seeking. */
    int64_t p_item = 0, p_src = 0, p_off = 0;
    bool seek = E->state && !c->recursive && state_get_prefix(E->state, &p_item, &p_src, &p_off) && p_item > 0;
    if (seek && (p_src < (int64_t)c->nurls || p_src - (int64_t)c->nurls >= (int64_t)c->ninputs ||
                 strcmp(c->inputs[p_src - (int64_t)c->nurls], "-") == 0))
        seek = false; /* positional URLs and stdin: count through them instead */
    if (seek) {
        E->next_item = E->prefix = p_item;
        E->resumed_skipped += (uint64_t)p_item;
    }
    for (size_t i = 0; i < c->nurls && st == 0; i++) {
        if (seek)
            break;
        E->cur_src = (int64_t)i + 1;
        E->cur_off = 0;
        st = enqueue_at(E, strdup(c->urls[i]), (int64_t)i, 0);
    }
    for (size_t i = 0; i < c->ninputs && st == 0; i++) {
        int64_t src = (int64_t)c->nurls + (int64_t)i;
        if (seek && src < p_src)
            continue;
        bool is_stdin = strcmp(c->inputs[i], "-") == 0;
        int fd = is_stdin ? STDIN_FILENO : open(c->inputs[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "crawl: cannot read input file '%s': %s\n", c->inputs[i], strerror(errno));
            E->input_error = true;
            note_exit(E, EXIT_IO);
            continue;
        }
        read_job j = {.fd = fd, .stop = &E->input_stop};
        if (seek && src == p_src && lseek(fd, (off_t)p_off, SEEK_SET) == (off_t)p_off)
            j.base_off = p_off;
        E->cur_src = src;
        E->cur_off = j.base_off;
        while (st == 0 && !j.eof) {
            st = co_exec_run(E->exec, read_batch, &j, NULL);
            size_t k = 0;
            for (; k < j.n && st == 0; k++) {
                E->cur_off = k + 1 < j.n ? j.offs[k + 1] : j.end_off;
                st = enqueue_at(E, j.lines[k], src, j.offs[k]);
            }
            for (; k < j.n; k++)
                free(j.lines[k]);
            if (j.err) {
                fprintf(stderr, "crawl: error reading '%s': %s\n", c->inputs[i], strerror(j.err));
                E->input_error = true;
                note_exit(E, EXIT_IO);
            }
        }
        free(j.buf);
        if (!is_stdin)
            close(fd);
    }
    E->input_eof = true;
    co_queue_close(&E->q); /* workers drain what is queued, then stop */
    if (E->cfg->recursive) {
        for (size_t i = 0; i < c->nsitemaps; i++)
            start_sitemap(E, c->sitemaps[i], 0);
        frontier_release(&E->fr); /* seeds are in: the crawl may now complete */
    }
    return st == -ECANCELED ? 0 : st;
}

/* ---- one URL --------------------------------------------------------------------- */

/* Normalize an input line into an absolute http(s) URL, or say why not. */
static char *input_url(const char *line, char *why, size_t wlen, char **host_out, long *port_out)
{
    /* No large buffers here: this runs on a coroutine stack, and every page a
     * frame touches stays resident for each of thousands of tasks. */
    if (strlen(line) > MAX_URL_LEN) {
        snprintf(why, wlen, "URL longer than %d bytes", MAX_URL_LEN);
        return NULL;
    }
    char *buf = NULL;
    if (!strstr(line, "://")) { /* like wget and curl */
        if (asprintf(&buf, "http://%s", line) < 0)
            buf = NULL;
    } else {
        buf = strdup(line);
    }
    if (!buf) {
        snprintf(why, wlen, "out of memory");
        return NULL;
    }
    CURLU *u = curl_url();
    char *scheme = NULL, *url = NULL, *host = NULL, *port = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, buf, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        snprintf(why, wlen, "not a valid URL: %s", curl_url_strerror(uc));
    } else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
               (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(why, wlen, "unsupported scheme '%s' (only http and https)", scheme ? scheme : "");
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        snprintf(why, wlen, "URL has no host");
    } else if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK ||
               curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(why, wlen, "not a valid URL");
    }
    char *res = NULL;
    if (url && host && port) {
        res = strdup(url);
        *host_out = strdup(host);
        *port_out = strtol(port, NULL, 10);
    }
    curl_free(port);
    curl_free(scheme);
    curl_free(url);
    curl_free(host);
    curl_url_cleanup(u);
    free(buf);
    return res;
}

static char *url_host(const char *url)
{
    CURLU *u = curl_url();
    char *h = NULL, *res = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
        res = strdup(h);
    curl_free(h);
    curl_url_cleanup(u);
    return res;
}

/* The record's error: kind is a static string. */
static void rec_error(record *r, const char *kind, const char *msg)
{
    r->err_kind = kind;
    record_set(&r->err_msg, msg);
}

/* Write one exchange to the WARC file, if archiving and a response came. */
static __attribute__((noinline)) void archive(engine *E, const char *url, const http_resp *r)
{
    if (!E->warc || !r->resp_head || !r->status)
        return;
    warc_exchange x = {.url = url, .ip = r->remote_ip, .when_us = r->started_us, .req_head = r->req_head,
                       .req_len = r->req_head_len, .resp_head = r->resp_head, .resp_head_len = r->resp_head_len,
                       .body = r->body ? r->body : "", .body_len = r->body ? r->bytes : 0};
    int rc = warc_write(E->warc, &x);
    if (rc < 0 && E->exit_code != EXIT_IO) {
        fprintf(stderr, "crawl: cannot write WARC: %s\n", strerror(-rc));
        note_exit(E, EXIT_IO);
    }
}

/* Workers fill a record and hand it to the single writer task: records come
 * out whole and in completion order, and the serialization (jansson, printf
 * of reals) runs on one stack instead of touching an extra page of every
 * worker's stack. The queue is unbounded, so handing over never waits. */
typedef struct rec_item {
    record rec;
    int64_t item;   /* URL lists: the input item, or -1 */
    char *done_url; /* recursive crawls: the frontier URL (or "sitemap URL") */
} rec_item;

static void rec_item_free(rec_item *ri)
{
    if (!ri)
        return;
    record_clear(&ri->rec);
    free(ri->done_url);
    free(ri);
}

/* A record to fill, for url (NULL when out of memory: the record is lost). */
static rec_item *rec_new(const char *url)
{
    rec_item *ri = calloc(1, sizeof *ri);
    if (ri && record_set(&ri->rec.url, url) < 0) {
        free(ri);
        ri = NULL;
    }
    return ri;
}

/* Hand ri to the writer. ri NULL (out of memory): the record is lost, and
 * scratch, filled in its place, is cleared. */
static void write_record_for(engine *E, rec_item *ri, record *scratch, int64_t item, const char *done_url)
{
    if (!ri) {
        if (scratch)
            record_clear(scratch);
        return;
    }
    ri->item = item;
    ri->done_url = done_url ? strdup(done_url) : NULL;
    if (co_queue_try_put(&E->records, ri) < 0) /* only after the writer is gone: cannot happen */
        rec_item_free(ri);
}


static void stop_everything(engine *E);

/* Make what was written durable: fsync the output, then commit the state. */
static void checkpoint(engine *E)
{
    if (!E->state)
        return;
    int64_t size = 0;
    int err = jsonl_sync(E->out, &size);
    if (err == 0)
        err = state_checkpoint(E->state, size);
    E->since_checkpoint = 0;
    E->last_checkpoint_ns = co_now_ns();
    if (err < 0 && E->exit_code != EXIT_IO) {
        fprintf(stderr, "crawl: cannot checkpoint: %s%s%s\n", strerror(-err), err == -EIO ? ": " : "",
                err == -EIO ? state_error(E->state) : "");
        note_exit(E, EXIT_IO);
        stop_everything(E);
    }
}

static int writer_main(void *arg)
{
    engine *E = arg;
    for (;;) {
        void *p;
        int64_t every = E->cfg->checkpoint_ms > 0 ? E->cfg->checkpoint_ms : 250;
        int64_t wait = E->state ? every : CO_FOREVER;
        int st = co_queue_get(&E->records, &p, wait);
        if (st == -ETIMEDOUT) {
            if (E->since_checkpoint)
                checkpoint(E);
            continue;
        }
        if (st < 0)
            break; /* closed and drained */
        rec_item *ri = p;
        const char *line;
        size_t len;
        int err = record_format(E->fmt, &ri->rec, &line, &len);
        if (err == 0)
            err = jsonl_write(E->out, line, len);
        if (err < 0 && E->exit_code != EXIT_IO) {
            fprintf(stderr, "crawl: cannot write output: %s\n", strerror(-err));
            note_exit(E, EXIT_IO);
            stop_everything(E); /* a full disk stops the run: no record is dropped silently */
        }
        if (E->state && err == 0) {
            if (ri->item >= 0) {
                state_item_done(E->state, ri->item);
                item_finished(E, ri->item);
            }
            if (ri->done_url)
                state_url_done(E->state, ri->done_url);
            if (++E->since_checkpoint >= 4000 || co_now_ns() - E->last_checkpoint_ns > every * 1000000)
                checkpoint(E);
        }
        rec_item_free(ri);
    }
    if (E->since_checkpoint)
        checkpoint(E);
    return 0;
}

/* Save a 2xx body under --directory-prefix. Kept out of process() so its
 * path buffers live on the heap, not on every worker's stack. */
static void save_body(engine *E, record *rec, const char *url, const http_resp *resp)
{
    const size_t len = 4096;
    char *rel = malloc(len), *used = malloc(len), *full = NULL;
    int rc = rel && used ? savepath_for_url(url, rel, len) : -ENOMEM;
    if (rc == 0)
        rc = savepath_write(E->dirfd, E->dirs, rel, resp->body, resp->bytes, used, len);
    rec->fields |= REC_SAVED;
    if (rc == 0 && asprintf(&full, "%s/%s", E->cfg->directory_prefix, used) >= 0) {
        record_set(&rec->saved_path, full);
    } else {
        if (rc == 0)
            rc = -ENOMEM;
        rec->fields |= REC_SAVE_ERROR;
        record_set(&rec->save_error, strerror(-rc));
        fprintf(stderr, "crawl: cannot save %s: %s\n", url, strerror(-rc));
        note_exit(E, EXIT_IO);
    }
    free(full);
    free(rel);
    free(used);
}

/* ---- recursive crawling: scope, de-duplication, the frontier ------------------ */

/* The host of a normalized URL (no userinfo, no port), copied into buf. */
static const char *host_of(const char *url, char *buf, size_t len)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t hl = n;
    if (*p == '[') {
        const char *rb = memchr(p, ']', n);
        hl = rb ? (size_t)(rb - p) + 1 : n;
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon)
            hl = (size_t)(colon - p);
    }
    if (hl >= len)
        return NULL;
    memcpy(buf, p, hl);
    buf[hl] = 0;
    return buf;
}

static bool domain_match(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (dl && domain[0] == '.') {
        domain++;
        dl--;
    }
    return hl == dl ? strcasecmp(host, domain) == 0
                    : hl > dl && host[hl - dl - 1] == '.' && strcasecmp(host + hl - dl, domain) == 0;
}

/* Calendar-style traps: a path whose segments repeat, or that is absurdly deep. */
static bool looks_like_trap(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        return false;
    size_t plen = strcspn(p, "?#");
    const char *seg[64];
    size_t segl[64];
    int n = 0;
    for (size_t i = 0; i < plen;) {
        while (i < plen && p[i] == '/')
            i++;
        size_t s0 = i;
        while (i < plen && p[i] != '/')
            i++;
        if (i > s0) {
            if (n == 64)
                return true; /* more than 64 segments */
            seg[n] = p + s0;
            segl[n++] = i - s0;
        }
    }
    for (int a = 0; a < n; a++) {
        int same = 0;
        for (int b = 0; b < n; b++)
            same += segl[a] == segl[b] && memcmp(seg[a], seg[b], segl[a]) == 0;
        if (same > 3)
            return true;
    }
    return false;
}

/* Was this host named by a seed? Such hosts count as named by the user:
 * the address policy lets them resolve anywhere. */
static bool is_seed_host(const engine *E, const char *host)
{
    for (size_t i = 0; host && i < E->nseed_hosts; i++)
        if (strcasecmp(E->seed_hosts[i], host) == 0)
            return true;
    return false;
}

static bool in_scope(engine *E, const char *url)
{
    const fetcher_cfg *c = E->cfg;
    if (c->max_url_length > 0 && (long)strlen(url) > c->max_url_length)
        return false;
    char hb[300];
    const char *host = host_of(url, hb, sizeof hb);
    if (!host)
        return false;
    if (c->same_site) {
        const char *site = E->psl ? psl_registrable_domain(E->psl, host) : NULL;
        if (!site)
            site = host;
        bool ok = false;
        for (size_t i = 0; i < E->nseed_sites && !ok; i++)
            ok = strcasecmp(E->seed_sites[i], site) == 0;
        if (!ok)
            return false;
    } else if (!c->span_hosts) {
        if (!is_seed_host(E, host))
            return false;
    } else if (c->ndomains) {
        bool ok = false;
        for (size_t i = 0; i < c->ndomains && !ok; i++)
            ok = domain_match(host, c->domains[i]);
        if (!ok)
            return false;
    }
    for (size_t i = 0; i < c->nexclude_domains; i++)
        if (domain_match(host, c->exclude_domains[i]))
            return false;
    if (E->have_accept && regexec(&E->accept_re, url, 0, NULL, 0) != 0)
        return false;
    if (E->have_reject && regexec(&E->reject_re, url, 0, NULL, 0) == 0)
        return false;
    return true;
}

/* Queue a normalized URL if it is new, in scope and within the limits.
 * Takes ownership of url. */
static void queue_link(engine *E, char *url, const char *parent, int depth)
{
    const fetcher_cfg *c = E->cfg;
    if (c->max_depth > 0 && depth > c->max_depth) {
        free(url);
        return;
    }
    if (!in_scope(E, url)) {
        E->skipped_scope++;
        free(url);
        return;
    }
    if (looks_like_trap(url)) {
        E->skipped_trap++;
        free(url);
        return;
    }
    if (c->max_pages > 0 && E->queued_pages >= c->max_pages) {
        E->skipped_limit++;
        free(url);
        return;
    }
    int err;
    if (!seen_add(&E->seen, url, strlen(url), &err)) {
        free(url);
        return;
    }
    char *origin = frontier_origin_of(url);
    fr_host *h = origin ? frontier_host(&E->fr, origin) : NULL;
    free(origin);
    if (!h || (c->max_pages_per_host > 0 && (long)h->pushed >= c->max_pages_per_host)) {
        E->skipped_limit++;
        free(url);
        return;
    }
    if (E->state)
        state_url_queued(E->state, url, depth, parent);
    if (frontier_push(&E->fr, h, url, parent ? strdup(parent) : NULL, depth) == 0)
        E->queued_pages++;
}

/* Link extraction runs on an executor thread: this is the job. */
typedef struct extract_job {
    const char *body;
    size_t len;
    const char *content_type;
    const char *page_url;
    bool requisites, follow_nofollow;
    size_t max_links;
    char **out;
    size_t nout, cap;
    char **raw;
    size_t nraw, rawcap;
    links_info info;
    pthread_t loop_thread;
    bool on_worker;   /* it really ran off the loop thread */
} extract_job;

static void extract_collect(void *ud, const link_ref *l)
{
    extract_job *j = ud;
    if (l->kind == LINK_REQUISITE && !j->requisites)
        return;
    if (l->nofollow && !j->follow_nofollow)
        return;
    if (j->nraw == j->rawcap) {
        size_t cap = j->rawcap ? j->rawcap * 2 : 64;
        char **n = realloc(j->raw, cap * sizeof *n);
        if (!n)
            return;
        j->raw = n;
        j->rawcap = cap;
    }
    j->raw[j->nraw++] = strndup(l->value, l->len);
}

static void *extract_fn(void *arg)
{
    extract_job *j = arg;
    j->on_worker = !pthread_equal(pthread_self(), j->loop_thread);
    /* decode the document with its declared or sniffed encoding */
    char cs[48];
    charset_detect(j->content_type, j->body, j->len, cs, sizeof cs);
    size_t ulen = 0;
    char *utf8 = charset_to_utf8(cs, j->body, j->len, &ulen);
    links_extract(utf8 ? utf8 : j->body, utf8 ? ulen : j->len, j->max_links, extract_collect, j, &j->info);
    free(utf8);
    /* the base every link resolves against, in normalized form */
    char *base = j->info.base[0] ? url_resolve_normalized(j->page_url, j->info.base) : url_normalize(j->page_url);
    const char *eff = base ? base : j->page_url;
    bool drop_all = j->info.meta_nofollow && !j->follow_nofollow;
    for (size_t i = 0; i < j->nraw; i++) {
        char *q = charset_link_query(cs, j->raw[i]); /* the query in the page's encoding */
        char *norm = drop_all ? NULL : url_resolve_normalized(eff, q ? q : j->raw[i]);
        free(q);
        free(j->raw[i]);
        if (!norm)
            continue;
        if (j->nout == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 64;
            char **n = realloc(j->out, cap * sizeof *n);
            if (!n) {
                free(norm);
                continue;
            }
            j->out = n;
            j->cap = cap;
        }
        j->out[j->nout++] = norm;
    }
    free(j->raw);
    free(base);
    return NULL;
}

static bool is_html(const http_resp *r)
{
    if (r->content_type)
        return strncasecmp(r->content_type, "text/html", 9) == 0 ||
               strncasecmp(r->content_type, "application/xhtml+xml", 21) == 0;
    const char *b = r->body;
    size_t n = r->bytes;
    while (n && isspace((unsigned char)*b)) {
        b++;
        n--;
    }
    return n && *b == '<';
}

/* Pages up to this size are parsed on the loop: extracting the links of a
 * few KiB (~10 us) costs less than handing the page to an executor thread
 * and back (two thread wake-ups; when both share a core, two switches).
 * Measured in docs/performance.md. */
#define EXTRACT_ON_LOOP_MAX (16 * 1024)

/* Extract the page's links (off the loop when it is large) and queue them.
 * Returns how many links the page had. */
static __attribute__((noinline)) int follow_links(engine *E, const char *page_url, const http_resp *resp, int depth)
{
    const fetcher_cfg *c = E->cfg;
    extract_job j = {.body = resp->body, .len = resp->bytes, .content_type = resp->content_type, .page_url = page_url,
                     .requisites = c->page_requisites, .follow_nofollow = c->follow_nofollow,
                     .max_links = c->max_links_per_page > 0 ? (size_t)c->max_links_per_page : 0,
                     .loop_thread = pthread_self()};
    int st = 0;
    if (resp->bytes <= EXTRACT_ON_LOOP_MAX) {
        extract_fn(&j);
    } else {
        void *ignored;
        st = co_exec_run(E->exec, extract_fn, &j, &ignored);
    }
    if (st == 0) {
        E->pages_extracted++;
        E->pages_extracted_off_loop += j.on_worker;
    }
    /* Queue (and, with --state, persist) the links even while stopping: the
     * page's record says it is done, so a resumed crawl relies on them. */
    for (size_t i = 0; i < j.nout; i++) {
        if (st == 0)
            queue_link(E, j.out[i], page_url, depth + 1);
        else
            free(j.out[i]);
    }
    free(j.out);
    frontier_notify(&E->fr);
    return st == 0 ? (int)j.info.found : -1; /* -1: cancelled, the links are lost */
}

/* GET url with its body, following up to five redirects (robots.txt and
 * sitemaps). Returns the last URL asked for (malloc'd); *r holds the last
 * response when *fetched. With honour_stop, no new hop starts once the run
 * is stopping. */
static char *fetch_following(engine *E, const char *start, http_resp *r, bool *fetched, bool honour_stop)
{
    char *url = strdup(start);
    memset(r, 0, sizeof *r);
    *fetched = false;
    for (int hop = 0; url && hop <= 5 && !(honour_stop && E->stopping); hop++) {
        if (*fetched)
            http_resp_free(r);
        char hb[300];
        http_req req = {.url = url, .keep_body = true, .explicit_host = is_seed_host(E, host_of(url, hb, sizeof hb))};
        *fetched = true;
        if (http_fetch(E->http, &req, r) < 0)
            break;
        if (r->err || r->status < 300 || r->status >= 400 || !r->location)
            break;
        free(url);
        url = strdup(r->location);
    }
    return url;
}

/* ---- sitemaps ----------------------------------------------------------------- */

typedef struct sm_task {
    engine *E;
    char *url;
    int level; /* 0: given or from robots.txt; 1+: from a sitemap index */
} sm_task;

typedef struct sm_job {
    const char *body;
    size_t len;
    sitemap_result res;
    int rc;
} sm_job;

static void *sitemap_fn(void *arg)
{
    sm_job *j = arg;
    j->rc = sitemap_parse(j->body, j->len, SITEMAP_MAX_BYTES, &j->res);
    return NULL;
}

static int sitemap_main(void *arg);

/* Read a sitemap (once per URL) in its own task; the crawl does not complete
 * while one is being read. */
static void start_sitemap(engine *E, const char *url, int level)
{
    if (E->stopping || level > 2)
        return;
    char *norm = url_normalize(url);
    if (!norm)
        return;
    char *key = NULL;
    if (asprintf(&key, "sitemap %s", norm) < 0 || !seen_add(&E->seen, key, strlen(key), NULL)) {
        free(key);
        free(norm);
        return;
    }
    if (E->state)
        state_url_queued(E->state, key, 0, NULL);
    free(key);
    sm_task *t = malloc(sizeof *t);
    if (!t) {
        free(norm);
        return;
    }
    *t = (sm_task){.E = E, .url = norm, .level = level};
    frontier_hold(&E->fr);
    co_task *tk = co_spawn(sitemap_main, t);
    if (!tk) {
        frontier_release(&E->fr);
        free(norm);
        free(t);
        return;
    }
    co_task_release(tk);
}

static int sitemap_main(void *arg)
{
    sm_task *t = arg;
    engine *E = t->E;
    http_resp r;
    bool fetched;
    char *url = fetch_following(E, t->url, &r, &fetched, true);
    int found = 0;
    const char *errkind = NULL, *errmsg = NULL;
    if (fetched && !r.err && r.status >= 200 && r.status < 300 && r.body) {
        sm_job j = {.body = r.body, .len = r.bytes};
        void *ignored;
        if (co_exec_run(E->exec, sitemap_fn, &j, &ignored) == 0 && j.rc == 0) {
            found = (int)j.res.n;
            for (size_t i = 0; i < j.res.n; i++) {
                if (j.res.index) {
                    start_sitemap(E, j.res.locs[i], t->level + 1);
                } else {
                    char *norm = url_normalize(j.res.locs[i]);
                    if (norm)
                        queue_link(E, norm, t->url, 1);
                }
            }
            frontier_notify(&E->fr);
        } else if (j.rc < 0) {
            errkind = "sitemap";
            errmsg = j.rc == -EFBIG ? "sitemap larger than 50 MB" : "not a valid XML sitemap";
        }
        sitemap_result_free(&j.res);
    }
    rec_item *ri = rec_new(t->url);
    record *rec = ri ? &ri->rec : &(record){0};
    rec->fields = REC_BODY | REC_SITEMAP | REC_PAGE | REC_LINKS;
    record_set(&rec->final_url, url);
    rec->status = r.status;
    if (!errkind && r.err) {
        errkind = http_err_name(r.err);
        errmsg = r.errmsg;
    } else if (!errkind && r.status >= 400) {
        errkind = "http";
        errmsg = "HTTP error status";
    }
    if (errkind)
        rec_error(rec, errkind, errmsg);
    record_set(&rec->content_type, r.content_type);
    rec->bytes = (int64_t)r.bytes;
    rec->links_found = found;
    char *key = NULL;
    if (asprintf(&key, "sitemap %s", t->url) < 0)
        key = NULL;
    write_record_for(E, ri, rec, -1, key);
    free(key);
    if (fetched)
        http_resp_free(&r);
    free(url);
    free(t->url);
    free(t);
    frontier_release(&E->fr);
    return 0;
}

/* robots.txt for an origin, fetched once, before any other request there. */
static void ensure_robots(engine *E, fr_host *h)
{
    while (h->rstate == ROBOTS_FETCHING)
        if (co_event_wait(&h->robots_ready, CO_FOREVER) < 0)
            return;
    if (h->rstate == ROBOTS_READY)
        return;
    h->rstate = ROBOTS_FETCHING;
    char *robots_url = NULL, *url = NULL;
    http_resp r;
    bool fetched = false;
    if (asprintf(&robots_url, "%s/robots.txt", h->origin) >= 0) {
        url = fetch_following(E, robots_url, &r, &fetched, false);
        free(robots_url);
    }
    if (fetched && !r.err && r.status >= 200 && r.status < 300) {
        h->rules = robots_parse(r.body ? r.body : "", r.bytes);
        for (size_t i = 0; i < robots_sitemap_count(h->rules); i++)
            start_sitemap(E, robots_sitemap(h->rules, i), 0);
        double d = robots_crawl_delay(h->rules, E->cfg->http.user_agent ? E->cfg->http.user_agent : "crawl");
        if (E->cfg->delay_ms < 0 && d > 0)
            h->delay_ns = (int64_t)((d > 60 ? 60 : d) * 1e9); /* capped at a minute */
    } else if (fetched && !r.err && r.status >= 400 && r.status < 500) {
        h->rules = NULL; /* no robots.txt: no restrictions */
    } else {
        h->disallow_all = true; /* 5xx or unreachable: do not crawl this origin */
    }
    if (E->state)
        state_host(E->state, h->origin, h->disallow_all ? 2 : h->rules ? 1 : 0,
                   h->rules && r.body ? r.body : NULL, h->rules && r.body ? r.bytes : 0, h->delay_ns);
    if (fetched)
        http_resp_free(&r);
    free(url);
    h->rstate = ROBOTS_READY;
    co_event_set(&h->robots_ready);
}

static void process(engine *E, fetch_item *it, page_ctx *pg)
{
    const fetcher_cfg *c = E->cfg;
    int64_t t0 = co_now_ns();
    const char *url = it->url, *host = it->host;
    long port = it->port;
    rec_item *ri = rec_new(url ? url : it->line);
    record *rec = ri ? &ri->rec : &(record){0};
    if (!url) {
        rec->fields = REC_INPUT;
        rec_error(rec, "invalid_url", it->why);
        record_set(&rec->input, it->line);
        E->st.done++;
        E->st.errors++;
        E->st.by_err[HTTP_E_INVALID_URL]++;
        E->st.by_class[0]++;
        note_exit(E, EXIT_GENERIC);
        write_record_for(E, ri, rec, it->item, pg ? it->line : NULL);
        return;
    }

    host_state *hs = host_get(E, host);
    bool have_slot = false;
    int st = 0;
    if (hs && c->max_per_host > 0) {
        st = co_sem_acquire(&hs->sem, CO_FOREVER);
        have_slot = st == 0;
    }

    bool extract = pg && (c->max_depth == 0 || pg->depth < c->max_depth);
    http_req req = {.url = url, .host = host, .port = port, .explicit_host = true,
                    .keep_body = (c->directory_prefix != NULL && !c->spider) || extract};
    if (pg) /* a discovered link may not reach private addresses; a seed may */
        req.explicit_host = is_seed_host(E, host);
    /* The list is read to its end and idle workers will take what is queued
     * at once: no later request can reuse this connection. */
    if (!pg && E->input_eof && co_queue_len(&E->q) <= (size_t)c->concurrency - E->busy)
        req.no_reuse = true;
    http_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.retry_after_s = -1;
    rec->fields = REC_BODY | REC_EXCHANGE;
    char *cur = strdup(url);
    int attempts = 0;
    bool redirect_err = false;
    char redirect_msg[160] = "";
    bool fetched = false;
    E->st.in_flight++;
    for (long hop = 0; st == 0; hop++) {
        for (int retry = 0;; retry++) {
            /* rate limits and per-host backoff */
            int64_t now = co_now_ns();
            int64_t wait = tb_reserve(&E->global_tb, now);
            if (hs) {
                int64_t hw = tb_reserve(&hs->tb, now);
                if (hw > wait)
                    wait = hw;
                if (hs->not_before_ns - now > wait)
                    wait = hs->not_before_ns - now;
            }
            if (wait > 0 && (st = co_sleep(wait / 1000000 + 1)) < 0)
                break;
            if (fetched)
                http_resp_free(&resp);
            req.url = cur;
            attempts++;
            st = http_fetch(E->http, &req, &resp);
            fetched = true;
            archive(E, cur, &resp);
            if (c->verbose)
                fprintf(stderr, "crawl: %s -> %ld%s%s\n", cur, resp.status, resp.err ? " " : "",
                        resp.err ? resp.errmsg : "");
            if (st < 0 || retry >= c->retries || !retry_wanted(resp.err, resp.status))
                break;
            int64_t d = retry_delay_ms(retry + 1, c->retry_delay_ms, c->max_retry_delay_ms,
                                       resp.retry_after_s, &E->rng);
            if (hs && (resp.status == 429 || resp.status == 503))
                hs->not_before_ns = co_now_ns() + d * 1000000;
            E->st.retries++;
            if ((st = co_sleep(d)) < 0)
                break;
        }
        if (st < 0 || !c->location || resp.err || resp.status < 300 || resp.status >= 400 || !resp.location)
            break;
        /* follow the redirect */
        record_add_hop(rec, cur, resp.status);
        if (hop + 1 > c->max_redirs) {
            redirect_err = true;
            snprintf(redirect_msg, sizeof redirect_msg, "more than %ld redirects", c->max_redirs);
            break;
        }
        bool loop = strcmp(resp.location, url) == 0;
        for (size_t i = 0; i < rec->nhops && !loop; i++)
            loop = strcmp(rec->hops[i].url, resp.location) == 0;
        if (loop) {
            redirect_err = true;
            snprintf(redirect_msg, sizeof redirect_msg, "redirect loop at %.120s", resp.location);
            break;
        }
        if (strncmp(resp.location, "http://", 7) != 0 && strncmp(resp.location, "https://", 8) != 0) {
            redirect_err = true;
            snprintf(redirect_msg, sizeof redirect_msg, "redirect to a non-http(s) URL refused");
            break;
        }
        if (pg) {
            /* a crawl follows a redirect only into scope, and never to a URL
             * it has already queued or fetched */
            char *norm = url_normalize(resp.location);
            bool go = norm && in_scope(E, norm) && seen_add(&E->seen, norm, strlen(norm), NULL);
            free(norm);
            if (!go)
                break;
        }
        free(cur);
        cur = strdup(resp.location);
        req.host = NULL; /* let http_fetch parse the new URL */
        char *nh = url_host(cur);
        req.explicit_host = nh && strcasecmp(nh, host) == 0;
        free(nh);
    }
    E->st.in_flight--;
    if (have_slot)
        co_sem_release(&hs->sem);

    /* the record */
    bool interrupted = st < 0 || resp.err == HTTP_E_CANCELLED;
    record_set(&rec->final_url, cur);
    rec->status = resp.status;
    const char *kind = NULL;
    const char *msg = NULL;
    if (interrupted) {
        kind = "interrupted";
        msg = "stopped by a signal before the fetch completed";
    } else if (redirect_err) {
        kind = "redirect";
        msg = redirect_msg;
    } else if (resp.err) {
        kind = http_err_name(resp.err);
        msg = resp.errmsg;
    } else if (resp.status >= 400) {
        kind = "http";
        msg = "HTTP error status";
    }
    if (kind)
        rec_error(rec, kind, msg);
    record_set(&rec->content_type, resp.content_type);
    rec->bytes = (int64_t)resp.bytes;
    rec->truncated = resp.truncated;
    double elapsed = (double)(co_now_ns() - t0) / 1e6;
    rec->elapsed_ms = elapsed;
    rec->dns_ms = resp.dns_ms;
    rec->connect_ms = resp.connect_ms;
    rec->tls_ms = resp.tls_ms;
    rec->first_byte_ms = resp.first_byte_ms;
    rec->total_ms = resp.total_ms;
    rec->attempts = attempts;
    if (resp.remote_ip[0])
        record_set(&rec->remote_ip, resp.remote_ip);
    rec->http_version = resp.http_version;

    if (pg) {
        rec->fields |= REC_PAGE | REC_LINKS;
        rec->depth = pg->depth;
        record_set(&rec->parent, pg->parent);
        int found = 0;
        if (extract && resp.body && !interrupted && !resp.err && resp.status >= 200 && resp.status < 300 &&
            is_html(&resp))
            found = follow_links(E, cur, &resp, pg->depth);
        if (found < 0) { /* stopped while extracting: the page is not done */
            interrupted = true;
            found = 0;
        }
        rec->links_found = found;
        if (pg->host && (resp.status == 429 || resp.status == 503))
            /* the server asked us to slow down: honour Retry-After, else the
             * retry delay, capped like retries are */
            pg->backoff_ms = retry_delay_ms(1, c->retry_delay_ms, c->max_retry_delay_ms, resp.retry_after_s, &E->rng);
    }
    if (c->directory_prefix && !c->spider && resp.body && !interrupted && !resp.err && resp.status >= 200 &&
        resp.status < 300)
        save_body(E, rec, cur, &resp);

    E->st.done++;
    E->st.bytes += resp.bytes;
    E->st.by_class[resp.status >= 100 && resp.status < 600 ? resp.status / 100 : 0]++;
    if (kind) {
        E->st.errors++;
        if (redirect_err)
            E->st.by_err[STATS_ERR_REDIRECT]++;
        else if (resp.err)
            E->st.by_err[resp.err]++;
    } else {
        E->st.ok++;
    }
    stats_latency(&E->st, elapsed);
    note_exit(E, interrupted ? 0 : exit_for(resp.err, resp.status, redirect_err));
    /* An interrupted fetch is not done: a resumed crawl fetches it again. With
     * --state its record is left out, so every URL is in the output once. */
    if (interrupted && E->state) {
        rec_item_free(ri);
        if (!ri)
            record_clear(rec);
    } else
        write_record_for(E, ri, rec, interrupted ? -1 : it->item, pg && !interrupted ? it->line : NULL);
    http_resp_free(&resp);
    free(cur);
}

/* Host and port of a normalized URL without a URL parser (queued URLs are
 * already canonical): fills fi->url, fi->host, fi->port. */
static void split_url(const char *url, fetch_item *fi)
{
    char hb[300];
    const char *h = host_of(url, hb, sizeof hb);
    if (!h) {
        fi->url = input_url(url, fi->why, sizeof fi->why, &fi->host, &fi->port);
        return;
    }
    fi->url = strdup(url);
    fi->host = strdup(h);
    fi->port = strncmp(url, "https:", 6) == 0 ? 443 : 80;
    const char *a = strstr(url, "://") + 3;
    size_t alen = strcspn(a, "/?#");
    const char *rb = memchr(a, ']', alen);
    const char *colon = memchr(rb ? rb : a, ':', alen - (size_t)((rb ? rb : a) - a));
    if (colon)
        fi->port = strtol(colon + 1, NULL, 10);
}

/* A recursive crawl's worker: politely take the next URL from the frontier,
 * check robots.txt, fetch, extract and queue links, write the record. */
static int crawl_worker(void *arg)
{
    engine *E = arg;
    const fetcher_cfg *c = E->cfg;
    for (;;) {
        fr_item *it;
        fr_host *h;
        int st = frontier_next(&E->fr, &it, &h);
        if (st < 0)
            return st == -EPIPE ? 0 : st;
        if (E->stopping) {
            E->dropped++;
            fr_item_free(it);
            frontier_done(&E->fr, h, 0);
            continue;
        }
        if (c->robots)
            ensure_robots(E, h);
        if (c->robots && (h->disallow_all || !robots_allowed(h->rules, c->http.user_agent ? c->http.user_agent : "crawl",
                                                             it->url))) {
            E->skipped_robots++;
            rec_item *ri = rec_new(it->url);
            if (ri) {
                ri->rec.fields = REC_PAGE;
                rec_error(&ri->rec, "robots", h->disallow_all ? "robots.txt unreachable: origin not crawled"
                                                              : "disallowed by robots.txt");
                ri->rec.depth = it->depth;
                record_set(&ri->rec.parent, it->parent);
            }
            write_record_for(E, ri, NULL, -1, it->url);
            fr_item_free(it);
            frontier_done(&E->fr, h, 0);
            continue;
        }
        fetch_item fi = {.line = it->url};
        split_url(it->url, &fi);
        page_ctx pg = {.depth = it->depth, .parent = it->parent, .host = h};
        process(E, &fi, &pg);
        free(fi.url);
        free(fi.host);
        fr_item_free(it);
        frontier_done(&E->fr, h, pg.backoff_ms * 1000000);
    }
}

static int worker_main(void *arg)
{
    engine *E = arg;
    for (;;) {
        void *item;
        int st = co_queue_get(&E->q, &item, CO_FOREVER);
        if (st < 0)
            return st == -EPIPE ? 0 : st;
        E->busy++;
        if (E->stopping) {
            E->dropped++;
        } else {
            process(E, item, NULL);
        }
        E->busy--;
        item_free(item);
        co_queue_task_done(&E->q);
    }
}

/* ---- signals, progress -------------------------------------------------------------- */

static void on_grace(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    engine *E = arg;
    E->aborting = true;
    co_group_cancel(&E->workers);
}

/* An I/O failure (full disk, unwritable output or state): stop at once; what
 * was checkpointed stays consistent and --resume continues from there. */
static void stop_everything(engine *E)
{
    E->io_failed = true;
    if (!E->stopping) {
        E->stopping = true;
        atomic_store(&E->input_stop, true);
        if (E->producer)
            co_cancel(E->producer);
        co_queue_close(&E->q);
        if (E->fr_ready)
            frontier_notify(&E->fr);
    }
    if (!E->aborting) {
        E->aborting = true;
        co_group_cancel(&E->workers);
    }
}

static void on_signal(evutil_socket_t sig, short w, void *arg)
{
    (void)w;
    engine *E = arg;
    if (!E->stopping) {
        E->stopping = true;
        if (E->cfg->summary)
            fprintf(stderr, "\ncrawl: %s: finishing fetches in flight (up to %.1fs; send again to abort)\n",
                    sig == SIGINT ? "interrupt" : "terminated", (double)E->cfg->grace_ms / 1000);
        atomic_store(&E->input_stop, true);
        if (E->producer)
            co_cancel(E->producer);
        co_queue_close(&E->q);
        if (E->fr_ready)
            frontier_notify(&E->fr); /* workers stop taking new URLs */
        struct timeval tv = {E->cfg->grace_ms / 1000, (E->cfg->grace_ms % 1000) * 1000};
        evtimer_add(E->grace_timer, &tv);
    } else if (!E->aborting) {
        E->aborting = true;
        co_group_cancel(&E->workers);
    }
}

static int ticker_main(void *arg)
{
    engine *E = arg;
    uint64_t last_done = 0;
    int64_t last_t = co_now_ns();
    while (!co_event_is_set(&E->finished)) {
        if (co_event_wait(&E->finished, E->cfg->progress ? 250 : 1000) == -ECANCELED)
            break;
        jsonl_flush(E->out);
        if (E->cfg->progress) {
            int64_t now = co_now_ns();
            double dt = (double)(now - last_t) / 1e9;
            double rps = dt > 0 ? (double)(E->st.done - last_done) / dt : 0;
            double secs = (double)(now - E->st.start_ns) / 1e9;
            fprintf(stderr, "\r\033[K%llu done", (unsigned long long)E->st.done);
            if (E->cfg->ninputs == 0)
                fprintf(stderr, "/%zu", E->cfg->nurls);
            fprintf(stderr, " | %.0f req/s | %llu in flight | %llu errors | %.2f MB/s",
                    rps, (unsigned long long)E->st.in_flight, (unsigned long long)E->st.errors,
                    secs > 0 ? (double)E->st.bytes / secs / 1e6 : 0.0);
            if (E->cfg->ninputs == 0 && rps > 0 && E->st.done < E->cfg->nurls)
                fprintf(stderr, " | ETA %.0fs", (double)(E->cfg->nurls - E->st.done) / rps);
            last_done = E->st.done;
            last_t = now;
        }
    }
    if (E->cfg->progress)
        fprintf(stderr, "\r\033[K");
    return 0;
}

/* ---- the run ---------------------------------------------------------------------------- */

/* --resume: each origin's robots.txt and delay as the interrupted run had them. */
static void resume_host(void *ud, const char *origin, int kind, const char *robots, size_t len, int64_t delay_ns)
{
    engine *E = ud;
    fr_host *h = frontier_host(&E->fr, origin);
    if (!h || h->rstate == ROBOTS_READY)
        return;
    h->disallow_all = kind == 2;
    h->rules = kind == 1 ? robots_parse(robots ? robots : "", robots ? len : 0) : NULL;
    h->delay_ns = delay_ns;
    h->rstate = ROBOTS_READY;
    co_event_set(&h->robots_ready);
}

/* --resume of a recursive crawl: every URL in the state is seen; those
 * without a record go back into the frontier. */
static void resume_url(void *ud, const char *url, int depth, const char *parent, bool done)
{
    engine *E = ud;
    if (strncmp(url, "sitemap ", 8) == 0) {
        if (done) /* read already; an unfinished one is read again when named */
            seen_add(&E->seen, url, strlen(url), NULL);
        return;
    }
    seen_add(&E->seen, url, strlen(url), NULL);
    E->queued_pages++;
    if (done)
        return;
    char *origin = frontier_origin_of(url);
    fr_host *h = origin ? frontier_host(&E->fr, origin) : NULL;
    free(origin);
    if (h)
        frontier_push(&E->fr, h, strdup(url), parent ? strdup(parent) : NULL, depth);
}

static int setup(engine *E)
{
    const fetcher_cfg *c = E->cfg;
    dns_opts dopts = {.servers = c->dns_servers, .timeout_ms = (int)(c->dns_timeout_ms / 2 > 0 ? c->dns_timeout_ms / 2 : 0)};
    int rc = dns_new(&dopts, &E->dns);
    if (rc < 0) {
        fprintf(stderr, "crawl: cannot set up DNS%s%s: %s\n", c->dns_servers ? " with servers " : "",
                c->dns_servers ? c->dns_servers : "", strerror(-rc));
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < c->nresolve; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", c->resolve[i]);
        char *p1 = strchr(buf, ':');
        char *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
        if (!p1 || !p2 || dns_add_static(E->dns, (*p1 = 0, buf), p2 + 1) < 0) {
            fprintf(stderr, "crawl: --resolve '%s': expected HOST:PORT:ADDR with a numeric address\n", c->resolve[i]);
            return EXIT_USAGE;
        }
    }
    http_opts ho = c->http;
    ho.dns = E->dns;
    ho.capture = c->warc_file != NULL;
    if (c->warc_file) {
        char sw[64];
        snprintf(sw, sizeof sw, "%s", c->http.user_agent ? c->http.user_agent : "crawl");
        if ((rc = warc_open(c->warc_file, c->warc_max_size, c->warc_dedup, sw, &E->warc)) < 0) {
            fprintf(stderr, "crawl: cannot create WARC file %s-00000.warc.gz: %s\n", c->warc_file, strerror(-rc));
            return EXIT_IO;
        }
    }
    ho.dns_timeout_ms = c->dns_timeout_ms;
    if ((rc = http_client_new(&ho, &E->http)) < 0) {
        fprintf(stderr, "crawl: cannot set up HTTP: %s\n", strerror(-rc));
        return EXIT_GENERIC;
    }
    E->exec = co_exec_new(1, 4);
    if (!E->exec) {
        fprintf(stderr, "crawl: cannot start worker threads\n");
        return EXIT_GENERIC;
    }
    if (c->directory_prefix) {
        if (mkdir(c->directory_prefix, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "crawl: cannot create directory '%s': %s\n", c->directory_prefix, strerror(errno));
            return EXIT_IO;
        }
        E->dirfd = open(c->directory_prefix, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (E->dirfd < 0) {
            fprintf(stderr, "crawl: cannot open directory '%s': %s\n", c->directory_prefix, strerror(errno));
            return EXIT_IO;
        }
        if (savepath_dirs_new(&E->dirs) < 0) {
            fprintf(stderr, "crawl: out of memory\n");
            return EXIT_GENERIC;
        }
    }
    if (c->recursive) {
        if (frontier_init(&E->fr, c->max_queued > 0 ? (size_t)c->max_queued : 0,
                          c->max_per_host > 0 ? (int)c->max_per_host : 2,
                          c->delay_ms > 0 ? c->delay_ms * 1000000 : 0) < 0 ||
            seen_init(&E->seen, 1 << 16) < 0) {
            fprintf(stderr, "crawl: out of memory\n");
            return EXIT_GENERIC;
        }
        E->fr_ready = E->seen_ready = true;
        frontier_hold(&E->fr);
        xmlInitParser(); /* before the executor's threads parse sitemaps */
        E->psl = psl_builtin();
        if (c->same_site && !E->psl)
            fprintf(stderr, "crawl: warning: no public suffix list built in; --same-site compares whole hosts\n");
        if (c->accept_regex) {
            if (regcomp(&E->accept_re, c->accept_regex, REG_EXTENDED | REG_NOSUB) != 0) {
                fprintf(stderr, "crawl: --accept-regex '%s' is not a valid regular expression\n", c->accept_regex);
                return EXIT_USAGE;
            }
            E->have_accept = true;
        }
        if (c->reject_regex) {
            if (regcomp(&E->reject_re, c->reject_regex, REG_EXTENDED | REG_NOSUB) != 0) {
                fprintf(stderr, "crawl: --reject-regex '%s' is not a valid regular expression\n", c->reject_regex);
                return EXIT_USAGE;
            }
            E->have_reject = true;
        }
    }
    if (c->state_dir) {
        if (!c->output || strcmp(c->output, "-") == 0) {
            fprintf(stderr, "crawl: --state needs an output file (-o FILE): a resumed crawl appends to it\n");
            return EXIT_USAGE;
        }
        if ((rc = state_open(c->state_dir, c->resume, &E->state)) < 0) {
            if (rc == -EEXIST)
                fprintf(stderr, "crawl: %s already holds a crawl's state: add --resume to continue it, or use a new "
                                "directory\n", c->state_dir);
            else if (rc == -EBUSY)
                fprintf(stderr, "crawl: the state in %s is in use by another crawl\n", c->state_dir);
            else
                fprintf(stderr, "crawl: cannot open the state in '%s': %s\n", c->state_dir, strerror(-rc));
            return rc == -EEXIST || rc == -EBUSY ? EXIT_USAGE : EXIT_IO;
        }
        rc = state_is_new(E->state) ? jsonl_open(c->output, &E->out)
                                    : jsonl_open_resume(c->output, state_output_size(E->state), &E->out);
        E->last_checkpoint_ns = co_now_ns();
        if (rc == 0 && c->recursive &&
            (state_each_host(E->state, resume_host, E) < 0 || state_each_url(E->state, resume_url, E) < 0))
            rc = -EIO;
    } else {
        rc = jsonl_open(c->output, &E->out);
    }
    if (rc < 0) {
        fprintf(stderr, "crawl: cannot open output '%s': %s\n", c->output ? c->output : "-", strerror(-rc));
        return EXIT_IO;
    }
    if (record_fmt_new(&E->fmt) < 0) {
        fprintf(stderr, "crawl: out of memory\n");
        return EXIT_GENERIC;
    }
    return 0;
}

void fetcher_stop_signals(bool blocked)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

int fetcher_main(void *arg)
{
    engine E;
    memset(&E, 0, sizeof E);
    E.cfg = arg;
    E.dirfd = -1;
    E.rng = (uint64_t)co_now_ns() | 1;
    stats_init(&E.st);
    co_event_init(&E.finished);
    E.nhosts_b = 4096;
    E.hosts = calloc(E.nhosts_b, sizeof *E.hosts);
    tb_init(&E.global_tb, E.cfg->rate, 1, co_now_ns());
    co_group_init(&E.workers);
    int code = E.hosts ? setup(&E) : EXIT_GENERIC;
    if (code == 0 && (co_queue_init(&E.q, (size_t)E.cfg->concurrency * 2) < 0 || co_queue_init(&E.records, 0) < 0))
        code = EXIT_GENERIC;
    if (code != 0)
        goto cleanup;

    struct event_base *base = co_loop_base(co_loop_current());
    E.sig_int = evsignal_new(base, SIGINT, on_signal, &E);
    E.sig_term = evsignal_new(base, SIGTERM, on_signal, &E);
    E.grace_timer = evtimer_new(base, on_grace, &E);
    event_add(E.sig_int, NULL);
    event_add(E.sig_term, NULL);
    fetcher_stop_signals(false); /* blocked until now, so none was lost before we listened */

    co_task *ticker = co_spawn(ticker_main, &E);
    co_task *writer = co_spawn(writer_main, &E);
    E.producer = co_spawn(producer_main, &E);
    for (long i = 0; i < E.cfg->concurrency; i++)
        if (co_group_spawn(&E.workers, E.cfg->recursive ? crawl_worker : worker_main, &E, NULL) < 0)
            break;
    co_group_wait(&E.workers, CO_FOREVER);
    atomic_store(&E.input_stop, true);
    co_cancel(E.producer); /* if workers ended early, the producer must not block */
    co_join(E.producer, NULL, CO_FOREVER);
    co_task_release(E.producer);
    co_queue_close(&E.records); /* the writer drains what is left, then ends */
    co_shield_begin();
    co_join(writer, NULL, CO_FOREVER);
    co_shield_end();
    co_task_release(writer);
    co_event_set(&E.finished);
    co_join(ticker, NULL, CO_FOREVER);
    co_task_release(ticker);
    /* URLs left in the queue after a stop were read but never fetched. */
    void *item;
    while (co_queue_try_get(&E.q, &item) == 0) {
        item_free(item);
        E.dropped++;
    }
    /* Done listening: block them again, so a late stop request during the
     * teardown cannot kill the process halfway through flushing. */
    fetcher_stop_signals(true);
    event_free(E.sig_int);
    event_free(E.sig_term);
    event_free(E.grace_timer);
    code = E.exit_code;
    if (E.stopping && !E.io_failed)
        code = EXIT_INTERRUPTED;
    if (E.cfg->summary) {
        char prefix[300];
        if (E.cfg->name)
            snprintf(prefix, sizeof prefix, "crawl: [job %.250s] ", E.cfg->name);
        else
            snprintf(prefix, sizeof prefix, "crawl: ");
        stats_summary(&E.st, stderr, prefix, E.dropped);
        if (E.resumed_skipped)
            fprintf(stderr, "%sresumed: %llu input URLs already had records\n", prefix,
                    (unsigned long long)E.resumed_skipped);
        if (E.cfg->recursive)
            fprintf(stderr, "%slinks extracted from %llu pages (%llu off the loop); skipped: %llu out of scope, "
                            "%llu by robots.txt, %llu over limits, %llu traps; %zu URLs seen (%zu bytes)\n",
                    prefix, (unsigned long long)E.pages_extracted, (unsigned long long)E.pages_extracted_off_loop,
                    (unsigned long long)E.skipped_scope,
                    (unsigned long long)E.skipped_robots, (unsigned long long)E.skipped_limit,
                    (unsigned long long)E.skipped_trap, E.seen.count, seen_bytes(&E.seen));
    }

cleanup:
    co_group_destroy(&E.workers);
    if (E.out) {
        int err = jsonl_close(E.out);
        if (err < 0) {
            fprintf(stderr, "crawl: cannot write output: %s\n", strerror(-err));
            if (code == 0 || (code > EXIT_IO && code != EXIT_INTERRUPTED))
                code = EXIT_IO;
        }
    }
    if (E.q.buf)
        co_queue_destroy(&E.q);
    if (E.records.buf)
        co_queue_destroy(&E.records);
    record_fmt_free(E.fmt);
    state_close(E.state);
    if (E.warc) {
        int err = warc_close(E.warc);
        if (err < 0) {
            fprintf(stderr, "crawl: cannot write WARC: %s\n", strerror(-err));
            if (code == 0 || (code > EXIT_IO && code != EXIT_INTERRUPTED))
                code = EXIT_IO;
        }
    }
    co_exec_free(E.exec);
    http_client_free(E.http);
    dns_free(E.dns);
    savepath_dirs_free(E.dirs);
    if (E.dirfd >= 0)
        close(E.dirfd);
    hosts_free(&E);
    if (E.fr_ready) {
        E.dropped += E.fr.queued;
        frontier_free(&E.fr);
    }
    if (E.seen_ready)
        seen_free(&E.seen);
    free(E.win);
    if (E.have_accept)
        regfree(&E.accept_re);
    if (E.have_reject)
        regfree(&E.reject_re);
    for (size_t i = 0; i < E.nseed_hosts; i++)
        free(E.seed_hosts[i]);
    free(E.seed_hosts);
    for (size_t i = 0; i < E.nseed_sites; i++)
        free(E.seed_sites[i]);
    free(E.seed_sites);
    return code;
}
