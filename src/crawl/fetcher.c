/* fetcher: see fetcher.h. */
#include "fetcher.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crawl/hash.h"
#include "discover.h"
#include "engine.h"
#include "input.h"
#include "net/url.h"
#include "robots.h"
#include "out/progress.h"
#include "util/sbuf.h"
#include "writer.h"

/* robots.txt files whose patterns total more bytes than this are matched on
 * the executor (a check costs at most path length x pattern bytes). */
#define ROBOTS_LOOP_COST (16 * 1024)

/* ---- hosts ------------------------------------------------------------------------ */

static host_state *host_get(engine *E, const char *name)
{
    size_t h = (size_t)(crawl_hash_lower(name) % E->nhosts_b);
    for (host_state *s = E->hosts[h]; s; s = s->next)
        if (strcasecmp(s->name, name) == 0)
            return s;
    host_state *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name))) {
        free(s);
        return NULL;
    }
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

/* Do two URLs share scheme, host and port? */
static bool same_origin(const char *a, const char *b)
{
    char *oa = frontier_origin_of(a), *ob = frontier_origin_of(b);
    bool same = oa && ob && strcasecmp(oa, ob) == 0;
    free(oa);
    free(ob);
    return same;
}

/* ---- one URL --------------------------------------------------------------------- */

static char *url_host(const char *url)
{
    CURLU *u = curl_url();
    char *h = NULL, *res = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
        res = strdup(h);
    curl_free(h);
    curl_url_cleanup(u);
    return res;
}

/* URL lists: no later request can reuse a connection to h's host once the
 * list is read to its end and none of h's items waits in the scheduler (or,
 * without a per-host cap, idle workers will take every waiting item at once,
 * each on a connection of its own). When nothing waits at all, the transfers
 * in flight are told too (http_client_wind_down). Paced runs (rates, delays)
 * keep their connections: requests wait their turn. */
bool engine_winding_down(engine *E, const ls_host *h)
{
    const fetcher_cfg *c = E->cfg;
    if (c->recursive || !E->input_eof || c->rate > 0 || c->host_rate > 0 || c->delay_ms > 0)
        return false;
    size_t waiting = E->ls.waiting;
    bool here = h ? lsched_host_queued(h) == 0 : waiting == 0;
    if (!here && c->max_per_host <= 0 && waiting <= (size_t)lsched_permits_free(&E->ls))
        here = true;
    if (waiting == 0)
        http_client_wind_down(E->http);
    return here;
}

static int worker_main(void *arg);

/* URL lists: wait ms before a retry without holding a worker: the fetch
 * permit goes back to the scheduler (the host slot is kept, so the host's cap
 * holds), and if no other worker could use it, one more worker is started. */
static int retry_wait(engine *E, bool list, int64_t ms)
{
    E->st.retry_wait_ns += ms * 1000000;
    if (!list)
        return co_sleep(ms);
    front_pause(&E->front);
    E->paused++;
    if (E->list_workers - E->paused < E->cfg->concurrency &&
        co_group_spawn(&E->workers, worker_main, E, NULL) == 0)
        E->list_workers++;
    int st = co_sleep(ms);
    int rs = front_resume(&E->front);
    E->paused--;
    return st < 0 ? st : rs;
}

/* Where a list's URL came from (its file and physical line), so records
 * written in completion order can be joined back to the list. */
static void note_input_pos(const fetcher_cfg *c, const fetch_item *it, record *rec)
{
    if (it->lineno <= 0)
        return;
    rec->fields |= REC_INPUT_LINE;
    rec->input_line = it->lineno;
    if (c->ninputs + (c->nurls ? 1 : 0) > 1 && it->src >= (int64_t)c->nurls) {
        rec->fields |= REC_INPUT_FILE;
        record_set(&rec->input_file, c->inputs[it->src - (int64_t)c->nurls]);
    }
}

void engine_process(engine *E, fetch_item *it, page_ctx *pg)
{
    const fetcher_cfg *c = E->cfg;
    int64_t t0 = co_now_ns();
    const char *url = it->url, *host = it->host;
    long port = it->port;
    rec_item *ri = writer_rec_new(url ? url : it->line);
    record *rec = ri ? &ri->rec : &(record){0};
    char *cur = url ? strdup(url) : NULL;
    if (!url || !cur) {
        bool oom = url != NULL;
        rec->fields = REC_INPUT;
        note_input_pos(c, it, rec);
        writer_rec_error(rec, oom ? "internal" : "invalid_url", oom ? "out of memory" : it->why);
        record_set(&rec->input, it->line);
        E->st.done++;
        E->st.errors++;
        E->st.by_err[oom ? HTTP_E_INTERNAL : HTTP_E_INVALID_URL]++;
        if (oom)
            E->st.failed++;
        else
            E->st.invalid++;
        engine_note_exit(E, EXIT_GENERIC);
        writer_submit(E, ri, rec, oom ? -1 : it->item, pg && !oom ? it->line : NULL);
        return;
    }

    /* A list's item comes from the scheduler, which already holds its host
     * slot and paced its start; a recursive crawl's page is paced by the
     * frontier and capped here. */
    host_state *hs = pg ? host_get(E, host) : NULL;
    bool have_slot = false;
    int st = 0;
    if (hs && c->max_per_host > 0) {
        st = co_sem_acquire(&hs->sem, CO_FOREVER);
        have_slot = st == 0;
    }

    bool extract = pg && (c->max_depth == 0 || pg->depth < c->max_depth);
    http_req req = {.url = url,
                    .host = host,
                    .port = port,
                    .explicit_host = true,
                    .keep_body = ((c->directory_prefix != NULL || c->output_document) && !c->spider) || extract,
                    /* a saved body goes whole to disk past the memory ceiling;
                     * a page kept only for its links stops at the ceiling */
                    .keep_max = extract ? HTTP_KEEP_MAX : HTTP_SPILL_AT,
                    .spill = (c->directory_prefix != NULL || c->output_document) && !c->spider,
                    .markup_only = extract};
    if (pg) /* a discovered link may not reach private addresses; a seed may */
        req.explicit_host = discover_is_seed_host(E, host);
    /* the user's credentials go to the seeds' and the list's own hosts only */
    if (pg && !c->location_trusted && !req.explicit_host)
        req.no_credentials = true;
    if (!pg && engine_winding_down(E, it->lh))
        req.no_reuse = true;
    /* the line's own request, or the run's; --spider asks with HEAD (wget) */
    const request_spec *rs = it->spec ? it->spec : c->request;
    bool spider_head = c->spider && !(rs && (rs->method || request_has_body(rs)));
    if (rs) {
        req.method = rs->method;
        req.headers = rs->headers;
        req.body = rs->body;
        req.body_len = rs->body_len;
        req.body_file = rs->body_file;
    }
    if (spider_head)
        req.method = "HEAD";
    /* -N / -nc: what is already saved decides (wget) */
    char *saved = NULL;
    int64_t saved_mtime = -1;
    if (c->directory_prefix && !c->spider && (c->timestamping || c->no_clobber))
        saved_mtime = writer_saved_mtime(E, url, &saved);
    bool skip = saved_mtime >= 0 && c->no_clobber;
    if (saved_mtime >= 0 && c->timestamping)
        req.if_modified_since = saved_mtime > 0 ? saved_mtime : 1;
    http_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.retry_after_s = -1;
    rec->fields = REC_BODY | REC_EXCHANGE;
    int attempts = 0;
    bool redirect_err = false;
    char redirect_msg[160] = "";
    bool fetched = false;
    if (++E->st.in_flight > E->st.peak_in_flight)
        E->st.peak_in_flight = E->st.in_flight;
    for (long hop = 0; st == 0 && !skip; hop++) {
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
            if (fetched) { /* an attempt before a retry: archived, then gone */
                writer_keep(E, ri, cur, &resp, false, false);
                http_resp_free(&resp);
            }
            req.url = cur;
            attempts++;
            st = http_fetch(E->http, &req, &resp);
            fetched = true;
            if (c->verbose) {
                char *tmp; /* never a password in a log */
                fprintf(stderr, "crawl: %s -> %ld%s%s\n", url_printable(cur, &tmp), resp.status,
                        resp.err ? " " : "", resp.err ? resp.errmsg : "");
                free(tmp);
            }
            if (st < 0 || retry >= c->retries || !retry_wanted(resp.err, resp.status))
                break;
            int64_t d = retry_delay_ms(retry + 1, c->retry_delay_ms, c->max_retry_delay_ms,
                                       resp.retry_after_s, &E->rng);
            if (hs && (resp.status == 429 || resp.status == 503))
                hs->not_before_ns = co_now_ns() + d * 1000000;
            if (!pg && it->lh && (resp.status == 429 || resp.status == 503))
                lsched_backoff(&E->ls, it->lh, d * 1000000);
            E->st.retries++;
            if ((st = retry_wait(E, !pg, d)) < 0)
                break;
        }
        if (spider_head && st == 0 && !resp.err &&
            (resp.status == 405 || resp.status == 501 ||
             (extract && resp.status >= 200 && resp.status < 300 && discover_is_html(&resp)))) {
            /* as wget: where HEAD is refused, or for a page whose links
             * are wanted, the same URL again with GET */
            spider_head = false;
            req.method = NULL;
            hop--;
            continue;
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
            bool go = norm && discover_in_scope(E, norm) && seen_add(&E->seen, norm, strlen(norm), NULL);
            free(norm);
            if (!go)
                break;
        }
        char *next = strdup(resp.location);
        if (!next) {
            st = -ENOMEM;
            break;
        }
        writer_keep(E, ri, cur, &resp, false, false); /* the hop's exchange, archived */
        http_resp_free(&resp);
        free(cur);
        cur = next;
        req.host = NULL; /* let http_fetch parse the new URL */
        req.if_modified_since = 0; /* -N: the saved file checked was the first URL's */
        /* 301/302 turn POST into GET, 303 anything but HEAD; 307/308 keep it */
        const char *sent = req.method;
        if (!sent)
            sent = req.body || req.body_file ? "POST" : "GET";
        if (request_redirect_to_get(sent, resp.status)) {
            req.method = NULL;
            req.body = NULL;
            req.body_len = 0;
            req.body_file = NULL;
        }
        /* as curl since CVE-2018-1000007: Authorization, Cookie and
         * Proxy-Authorization from -H do not follow to another origin */
        req.no_credentials = !c->location_trusted && !same_origin(url, cur);
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
    } else {
        writer_resp_error(&resp, &kind, &msg);
    }
    if (kind)
        writer_rec_error(rec, kind, msg);
    record_set(&rec->content_type, resp.content_type);
    rec->content_length = fetched ? resp.content_length : -1;
    if (resp.status >= 300 && resp.status < 400)
        record_set(&rec->location, resp.location); /* where a 3xx points, followed or not */
    note_input_pos(c, it, rec);
    record_set(&rec->etag, resp.etag);
    record_set(&rec->last_modified, resp.last_modified);
    bool not_modified = req.if_modified_since > 0 && resp.not_modified && !resp.err;
    if (skip || not_modified) { /* the saved file stays: the record says where */
        rec->fields |= REC_SAVED | (skip ? REC_SKIPPED : REC_NOT_MODIFIED);
        rec->skipped = skip ? "exists" : NULL;
        record_set(&rec->saved_path, saved);
    }
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
            discover_is_html(&resp))
            found = discover_follow_links(E, cur, &resp, pg->depth);
        if (found < 0) { /* stopped while extracting: the page is not done */
            interrupted = true;
            found = 0;
        }
        /* Without -L a crawl treats a redirect's target as a link found on
         * the page, at the page's depth (as Heritrix does): scope, robots,
         * politeness and the seen set apply to it like to any other link. */
        if (!interrupted && !resp.err && resp.status >= 300 && resp.status < 400 && resp.location &&
            !c->location && (strncmp(resp.location, "http://", 7) == 0 || strncmp(resp.location, "https://", 8) == 0)) {
            char *norm = url_normalize(resp.location);
            if (norm) {
                discover_queue_link(E, norm, cur, pg->depth);
                frontier_notify(&E->fr);
                found = 1;
            }
        }
        rec->links_found = found;
        if (pg->host && (resp.status == 429 || resp.status == 503))
            /* the server asked us to slow down: honour Retry-After, else the
             * retry delay, capped like retries are */
            pg->backoff_ms =
                retry_delay_ms(1, c->retry_delay_ms, c->max_retry_delay_ms, resp.retry_after_s, &E->rng);
    }
    bool save = c->directory_prefix && !c->spider && resp.body && !interrupted && !resp.err && !not_modified &&
                resp.status >= 200 && resp.status < 300 && (!pg || discover_keep_file(E, cur));
    bool doc = c->output_document && !c->spider && resp.body && !interrupted && !resp.err && !not_modified &&
               resp.status >= 200 && resp.status < 300;

    E->st.done++;
    E->st.bytes += resp.bytes;
    if (interrupted)
        E->st.interrupted++;
    else if (redirect_err || resp.err)
        E->st.failed++;
    else
        E->st.by_class[resp.status >= 100 && resp.status < 600 ? resp.status / 100 : 0]++;
    if (kind) {
        E->st.errors++;
        if (redirect_err)
            E->st.by_err[STATS_ERR_REDIRECT]++;
        else if (resp.err && !interrupted)
            E->st.by_err[resp.err]++;
    } else {
        E->st.ok++;
    }
    stats_latency(&E->st, elapsed);
    engine_note_exit(E, interrupted ? 0 : engine_exit_for(resp.err, resp.status, redirect_err));
    /* An interrupted fetch is not done: a resumed crawl fetches it again. With
     * --state its record is left out, so every URL is in the output once. */
    if (interrupted && E->state) {
        writer_rec_free(ri);
        if (!ri)
            record_clear(rec);
    } else {
        if (ri && fetched)
            writer_keep(E, ri, cur, &resp, save, doc); /* saved and archived on the writer thread */
        writer_submit(E, ri, rec, interrupted ? -1 : it->item, pg && !interrupted ? it->line : NULL);
    }
    http_resp_free(&resp);
    free(cur);
    free(saved);
}

typedef struct robots_job {
    const robots *rules;
    const char *agent, *url;
    bool allowed;
} robots_job;

static void *robots_check_fn(void *arg)
{
    robots_job *j = arg;
    j->allowed = robots_allowed(j->rules, j->agent, j->url);
    return NULL;
}

/* robots.txt allows url? A check against a large file (a hostile one can
 * cost milliseconds per URL) runs on the executor, never on the loop. */
static bool robots_check(engine *E, const fr_host *h, const char *url)
{
    if (h->disallow_all)
        return false;
    robots_job j = {h->rules, E->cfg->http.user_agent ? E->cfg->http.user_agent : "crawl", url, true};
    void *ignored;
    if (robots_cost(h->rules) > ROBOTS_LOOP_COST && co_exec_run(E->exec, robots_check_fn, &j, &ignored) == 0)
        return j.allowed;
    robots_check_fn(&j);
    return j.allowed;
}

/* A recursive crawl's worker: politely take the next URL from the frontier,
 * check robots.txt, fetch, extract and queue links, write the record. */
/* A worker: lease a URL from the frontier, fetch it (engine_process hands
 * the result to the writer), finish the lease. The same for URL lists and
 * recursive crawls; what differs is the backend behind E->front. */
static int worker_main(void *arg)
{
    engine *E = arg;
    const fetcher_cfg *c = E->cfg;
    for (;;) {
        front_lease l;
        int st = front_next(&E->front, &l);
        if (st < 0) {
            E->list_workers--;
            return st == -EPIPE ? 0 : st;
        }
        if (E->stopping) {
            E->dropped++;
            front_done(&E->front, &l, 0);
            continue;
        }
        fr_host *h = l.origin;
        if (l.page && c->robots && h) {
            discover_robots(E, h);
            if (!robots_check(E, h, l.fi->line)) {
                E->skipped_robots++;
                rec_item *ri = writer_rec_new(l.fi->line);
                if (ri) {
                    ri->rec.fields = REC_PAGE;
                    writer_rec_error(&ri->rec, "robots",
                                     h->disallow_all ? "robots.txt unreachable: origin not crawled"
                                                     : "disallowed by robots.txt");
                    ri->rec.depth = l.depth;
                    record_set(&ri->rec.parent, l.parent);
                }
                writer_submit(E, ri, NULL, -1, l.fi->line);
                front_done(&E->front, &l, 0);
                continue;
            }
        }
        page_ctx pg = {.depth = l.depth, .parent = l.parent, .host = h};
        engine_process(E, l.fi, l.page ? &pg : NULL);
        front_done(&E->front, &l, l.page ? pg.backoff_ms * 1000000 : 0);
    }
}

static void drop_item(ls_node *n, void *ud)
{
    engine *E = ud;
    input_item_free((fetch_item *)n);
    E->dropped++;
}

/* ---- signals, progress -------------------------------------------------------------- */

static void on_grace(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    engine *E = arg;
    E->aborting = true;
    co_group_cancel(&E->workers);
    co_group_cancel(&E->services);
}

/* An I/O failure (full disk, unwritable output or state): stop at once; what
 * was checkpointed stays consistent and --resume continues from there. */
void engine_stop(engine *E)
{
    E->io_failed = true;
    if (!E->stopping) {
        E->stopping = true;
        atomic_store(&E->input_stop, true);
        if (E->producer)
            co_cancel(E->producer);
        front_stop(&E->front);
    }
    if (!E->aborting) {
        E->aborting = true;
        co_group_cancel(&E->workers);
        co_group_cancel(&E->services);
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
        front_stop(&E->front); /* workers stop taking new URLs */
        struct timeval tv = {E->cfg->grace_ms / 1000, (E->cfg->grace_ms % 1000) * 1000};
        evtimer_add(E->grace_timer, &tv);
    } else if (!E->aborting) {
        E->aborting = true;
        co_group_cancel(&E->workers);
        co_group_cancel(&E->services);
    }
}

/* The counters the progress line shows, now. */
static progress_in progress_now(engine *E)
{
    progress_in in = {.done = E->st.done + E->resumed_skipped,
                      .errors = E->st.errors,
                      .in_flight = E->st.in_flight,
                      .bytes = E->st.bytes,
                      .total = E->total_items};
    if (E->cfg->recursive && E->fr_ready) /* what is done against what is known so far */
        in.total = (int64_t)(E->st.done + E->fr.queued + E->st.in_flight);
    return in;
}

/* The progress line on a terminal: redrawn 4 times a second, rates
 * averaged over the last 10 s (src/out/progress.h); one final line. */
static int ticker_main(void *arg)
{
    engine *E = arg;
    progress pr;
    progress_init(&pr, E->st.start_ns ? E->st.start_ns : co_now_ns());
    sbuf line = SBUF_INIT;
    while (!co_event_is_set(&E->finished)) {
        if (co_event_wait(&E->finished, E->cfg->progress ? 250 : 1000) == -ECANCELED)
            break;
        if (E->cfg->progress) {
            progress_in in = progress_now(E);
            if (progress_line(&pr, co_now_ns(), &in, &line))
                fprintf(stderr, "\r\033[K%s", sbuf_str(&line));
        }
    }
    if (E->cfg->progress) {
        progress_in in = progress_now(E);
        if (progress_line(&pr, co_now_ns(), &in, &line))
            fprintf(stderr, "\r\033[K%s\n", sbuf_str(&line));
    }
    sbuf_free(&line);
    return 0;
}

/* ---- the run ---------------------------------------------------------------------------- */

/* CRAWL_LOOP_PROBE=1 (benchmarks): a 1 ms timer on the loop records the
 * longest gap between two of its firings, i.e. the longest time the loop
 * thread was busy with something else (a disk call, a parse, a commit). */
typedef struct loop_probe {
    struct event *ev;
    int64_t last_ns, max_gap_ns, started_ns;
    int64_t last_cpu_ns, max_gap_cpu_ns; /* the loop thread's CPU time, over the longest gap */
    uint64_t over_10ms, ticks;
} loop_probe;

static void on_probe(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    loop_probe *p = arg;
    int64_t now = co_now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    int64_t cpu = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    int64_t gap = now - p->last_ns;
    if (gap > p->max_gap_ns) {
        p->max_gap_ns = gap;
        p->max_gap_cpu_ns = cpu - p->last_cpu_ns;
    }
    p->last_cpu_ns = cpu;
    if (gap > 10000000)
        p->over_10ms++;
    p->ticks++;
    p->last_ns = now;
}

static void probe_start(loop_probe *p, struct event_base *base)
{
    memset(p, 0, sizeof *p);
    const char *v = getenv("CRAWL_LOOP_PROBE");
    if (!v || !*v || strcmp(v, "0") == 0)
        return;
    p->ev = event_new(base, -1, EV_PERSIST, on_probe, p);
    struct timeval tv = {0, 1000};
    if (p->ev && event_add(p->ev, &tv) < 0) {
        event_free(p->ev);
        p->ev = NULL;
    }
    p->started_ns = p->last_ns = co_now_ns();
}

static void probe_stop(loop_probe *p)
{
    if (!p->ev)
        return;
    event_free(p->ev);
    fprintf(stderr,
            "crawl: loop probe: longest gap between loop turns %.1f ms (%.1f ms of it on the loop's CPU); %llu gaps "
            "over 10 ms in %.1f s\n",
            (double)p->max_gap_ns / 1e6, (double)p->max_gap_cpu_ns / 1e6, (unsigned long long)p->over_10ms,
            (double)(co_now_ns() - p->started_ns) / 1e9);
    p->ev = NULL;
}


/* --resume: each origin's robots.txt and delay as the interrupted run had them. */
static void resume_host(void *ud, const char *origin, int kind, const char *body, size_t len,
                        int64_t delay_ns)
{
    engine *E = ud;
    fr_host *h = frontier_host(&E->fr, origin);
    if (!h || h->rstate == ROBOTS_READY)
        return;
    h->disallow_all = kind == 2;
    h->rules = kind == 1 ? robots_parse(body ? body : "", body ? len : 0) : NULL;
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

/* Compile an optional --accept-regex/--reject-regex pattern (NULL: none). */
static int compile_pattern(regex_t *re, bool *have, const char *pattern, const char *option)
{
    if (!pattern)
        return 0;
    if (regcomp(re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        fprintf(stderr, "crawl: %s '%s' is not a valid regular expression\n", option, pattern);
        return -EINVAL;
    }
    *have = true;
    return 0;
}

static int setup(engine *E)
{
    const fetcher_cfg *c = E->cfg;
    dns_opts dopts = {.servers = c->dns_servers,
                      .family = c->http.ip_family == 4 ? AF_INET : c->http.ip_family == 6 ? AF_INET6
                                                                                          : AF_UNSPEC,
                      .timeout_ms = (int)(c->dns_timeout_ms / 2 > 0 ? c->dns_timeout_ms / 2 : 0)};
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
            fprintf(stderr, "crawl: --resolve '%s': expected HOST:PORT:ADDR with a numeric address\n",
                    c->resolve[i]);
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
            fprintf(stderr, "crawl: cannot create WARC file %s-00000.warc.gz: %s\n", c->warc_file,
                    strerror(-rc));
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
            fprintf(stderr, "crawl: cannot create directory '%s': %s\n", c->directory_prefix,
                    strerror(errno));
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
        E->fr.random_delay = c->random_wait;
        E->fr.rng = (uint64_t)co_now_ns() | 1;
        frontier_hold(&E->fr);
        xmlInitParser(); /* before the executor's threads parse sitemaps */
        E->psl = psl_builtin();
        if (c->same_site && !E->psl)
            fprintf(stderr,
                    "crawl: warning: no public suffix list built in; --same-site compares whole hosts\n");
        if (compile_pattern(&E->accept_re, &E->have_accept, c->accept_regex, "--accept-regex") < 0 ||
            compile_pattern(&E->reject_re, &E->have_reject, c->reject_regex, "--reject-regex") < 0)
            return EXIT_USAGE;
    }
    if (c->state_dir) {
        if (!c->output || strcmp(c->output, "-") == 0) {
            fprintf(stderr, "crawl: --state needs an output file (-o FILE): a resumed crawl appends to it\n");
            return EXIT_USAGE;
        }
        if ((rc = state_open(c->state_dir, c->resume, &E->state)) < 0) {
            if (rc == -EEXIST)
                fprintf(stderr,
                        "crawl: %s already holds a crawl's state: add --resume to continue it, or use a new "
                        "directory\n",
                        c->state_dir);
            else if (rc == -EBUSY)
                fprintf(stderr, "crawl: the state in %s is in use by another crawl\n", c->state_dir);
            else
                fprintf(stderr, "crawl: cannot open the state in '%s': %s\n", c->state_dir, strerror(-rc));
            return rc == -EEXIST || rc == -EBUSY ? EXIT_USAGE : EXIT_IO;
        }
        rc = state_is_new(E->state) ? jsonl_open(c->output, &E->out)
                                    : jsonl_open_resume(c->output, state_output_size(E->state), writer_tail_line, E,
                                                        &E->out);
        E->last_checkpoint_ns = co_now_ns();
        E->tail_floor = state_output_size(E->state);
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
    char err[1024] = "";
    if (recsel_new(&c->sel, &E->sel, err, sizeof err) < 0) { /* validated before: out of memory */
        fprintf(stderr, "crawl: %s\n", err);
        return EXIT_GENERIC;
    }
    if (c->output_document) {
        E->docfd = strcmp(c->output_document, "-") == 0
                       ? dup(STDOUT_FILENO)
                       : open(c->output_document, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (E->docfd < 0) {
            fprintf(stderr, "crawl: cannot open -O '%s': %s\n", c->output_document, strerror(errno));
            return EXIT_IO;
        }
    }
    const char *header = recsel_header(E->sel);
    if (header && (!E->state || state_is_new(E->state)) && (rc = jsonl_write(E->out, header, strlen(header))) < 0) {
        fprintf(stderr, "crawl: cannot write output: %s\n", strerror(-rc));
        return EXIT_IO;
    }
    return 0;
}

static void stop_signals_mask(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(how, &set, NULL);
}

static int signal_listeners; /* main thread only */

void fetcher_signals_init(void) { stop_signals_mask(SIG_BLOCK); }

void fetcher_signals_listen(bool on)
{
    if (on) {
        if (signal_listeners++ == 0)
            stop_signals_mask(SIG_UNBLOCK);
    } else if (signal_listeners > 0 && --signal_listeners == 0) {
        stop_signals_mask(SIG_BLOCK);
    }
}

int fetcher_main(void *arg)
{
    engine E;
    memset(&E, 0, sizeof E);
    E.cfg = arg;
    E.dirfd = -1;
    E.rng = (uint64_t)co_now_ns() | 1;
    E.total_items = -1;
    E.docfd = -1;
    stats_init(&E.st);
    co_event_init(&E.finished);
    E.nhosts_b = 4096;
    E.hosts = calloc(E.nhosts_b, sizeof *E.hosts);
    tb_init(&E.global_tb, E.cfg->rate, 1, co_now_ns());
    co_group_init(&E.workers);
    co_group_init(&E.services);
    int code = E.hosts ? setup(&E) : EXIT_GENERIC;
    lsched_opts lo = {.permits = E.cfg->concurrency,
                      .max_per_host = E.cfg->max_per_host,
                      .gap_ns = E.cfg->delay_ms * 1000000,
                      .random_gap = E.cfg->random_wait,
                      .lookahead = 0};
    if (E.cfg->host_rate > 0 && (int64_t)(1e9 / E.cfg->host_rate) > lo.gap_ns)
        lo.gap_ns = (int64_t)(1e9 / E.cfg->host_rate);
    if ((size_t)E.cfg->concurrency * 4 > 4096)
        lo.lookahead = (size_t)E.cfg->concurrency * 4;
    if (code == 0 && (lsched_init(&E.ls, &lo) < 0 || writer_init(&E) < 0))
        code = EXIT_GENERIC;
    /* the frontier backend: per-origin polite for -r, input-ordered for lists */
    E.front = E.cfg->recursive ? (front){&front_polite_ops, &E.fr} : (front){&front_list_ops, &E.ls};
    if (code != 0)
        goto cleanup;

    struct event_base *base = co_loop_base(co_loop_current());
    E.sig_int = evsignal_new(base, SIGINT, on_signal, &E);
    E.sig_term = evsignal_new(base, SIGTERM, on_signal, &E);
    E.grace_timer = evtimer_new(base, on_grace, &E);
    if (!E.sig_int || !E.sig_term || !E.grace_timer) {
        fprintf(stderr, "crawl: out of memory starting the run\n");
        code = EXIT_GENERIC;
        goto cleanup;
    }
    event_add(E.sig_int, NULL);
    event_add(E.sig_term, NULL);
    fetcher_signals_listen(true); /* blocked until now, so none was lost before we listened */

    loop_probe probe;
    probe_start(&probe, base);
    co_task *ticker = co_spawn(ticker_main, &E);
    if (E.cfg->progress && !E.cfg->recursive)
        co_group_spawn(&E.services, input_count_main, &E, NULL); /* the total, for the progress line */
    co_task *writer = co_spawn(writer_main, &E);
    E.producer = writer && ticker ? co_spawn(input_main, &E) : NULL;
    if (!ticker || !writer || !E.producer) { /* out of memory: no worker starts, the run ends cleanly */
        fprintf(stderr, "crawl: out of memory starting the run\n");
        engine_note_exit(&E, EXIT_GENERIC);
    }
    for (long i = 0; E.producer && i < E.cfg->concurrency; i++) {
        if (co_group_spawn(&E.workers, worker_main, &E, NULL) < 0)
            break;
        E.list_workers++;
    }
    co_group_wait(&E.workers, CO_FOREVER);
    /* Services (sitemap readers) outlive no worker: once the workers are
     * done, whatever still runs there is cancelled and awaited. */
    co_group_cancel(&E.services);
    co_group_wait(&E.services, CO_FOREVER);
    atomic_store(&E.input_stop, true);
    if (E.producer) {
        co_cancel(E.producer); /* if workers ended early, the producer must not block */
        co_join(E.producer, NULL, CO_FOREVER);
        co_task_release(E.producer);
        E.producer = NULL;
    }
    writer_close(&E); /* the writer writes what is left, then ends */
    if (writer) {
        co_shield_begin();
        co_join(writer, NULL, CO_FOREVER);
        co_shield_end();
        co_task_release(writer);
    }
    probe_stop(&probe);
    co_event_set(&E.finished);
    if (ticker) {
        co_join(ticker, NULL, CO_FOREVER);
        co_task_release(ticker);
    }
    /* URLs left in the scheduler after a stop were read but never fetched. */
    lsched_free(&E.ls, drop_item, &E);
    /* Done listening: block them again, so a late stop request during the
     * teardown cannot kill the process halfway through flushing. */
    fetcher_signals_listen(false);
    event_free(E.sig_int);
    event_free(E.sig_term);
    event_free(E.grace_timer);
    E.sig_int = E.sig_term = E.grace_timer = NULL;
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
        if (!E.cfg->recursive)
            fprintf(stderr,
                    "%sin flight: peak %llu of -j %ld, mean %.1f; waited %.1fs for host slots, delays and "
                    "backoff, %.1fs before retries (summed over fetches)\n",
                    prefix, (unsigned long long)E.st.peak_in_flight, E.cfg->concurrency,
                    lsched_mean_out(&E.ls), (double)E.ls.st.wait_host_ns / 1e9,
                    (double)E.st.retry_wait_ns / 1e9);
        else
            fprintf(stderr, "%sin flight: peak %llu of -j %ld; waited %.1fs before retries (summed over fetches)\n",
                    prefix, (unsigned long long)E.st.peak_in_flight, E.cfg->concurrency,
                    (double)E.st.retry_wait_ns / 1e9);
        if (E.resumed_kept)
            fprintf(stderr, "%sresumed: %llu records written after the last checkpoint were kept, not written again\n",
                    prefix, (unsigned long long)E.resumed_kept);
        if (E.resumed_skipped)
            fprintf(stderr, "%sresumed: %llu input URLs already had records\n", prefix,
                    (unsigned long long)E.resumed_skipped);
        if (E.cfg->recursive)
            fprintf(stderr,
                    "%slinks extracted from %llu pages (%llu off the loop); skipped: %llu out of scope, "
                    "%llu by robots.txt, %llu over limits, %llu traps, %llu by -A/-R; %zu URLs seen (%zu bytes)\n",
                    prefix, (unsigned long long)E.pages_extracted,
                    (unsigned long long)E.pages_extracted_off_loop, (unsigned long long)E.skipped_scope,
                    (unsigned long long)E.skipped_robots, (unsigned long long)E.skipped_limit,
                    (unsigned long long)E.skipped_trap, (unsigned long long)E.skipped_accept, E.seen.count,
                    seen_bytes(&E.seen));
    }

    if (E.cfg->recursive && E.fr_ready && E.fr.refused) {
        if (E.state)
            fprintf(stderr,
                    "crawl: %s%s%swarning: %zu links were not fetched because --max-queued (%zu) was reached; "
                    "they are kept in the state: run again with --resume to fetch them\n",
                    E.cfg->name ? "[job " : "", E.cfg->name ? E.cfg->name : "", E.cfg->name ? "] " : "",
                    E.fr.refused, E.fr.max_queued);
        else
            fprintf(stderr,
                    "crawl: %s%s%swarning: %zu links were dropped because --max-queued (%zu) was reached "
                    "(raise it, or use --state to keep them for a --resume)\n",
                    E.cfg->name ? "[job " : "", E.cfg->name ? E.cfg->name : "", E.cfg->name ? "] " : "",
                    E.fr.refused, E.fr.max_queued);
    }

cleanup:
    if (E.sig_int)
        event_free(E.sig_int);
    if (E.sig_term)
        event_free(E.sig_term);
    if (E.grace_timer)
        event_free(E.grace_timer);
    co_group_destroy(&E.workers);
    co_group_destroy(&E.services);
    if (E.out) {
        int err = jsonl_close(E.out);
        if (err < 0) {
            fprintf(stderr, "crawl: cannot write output: %s\n", strerror(-err));
            code = exit_merge(code, EXIT_IO);
        }
    }
    if (E.ls.buckets)
        lsched_free(&E.ls, drop_item, &E);
    writer_free(&E);
    record_fmt_free(E.fmt);
    recsel_free(E.sel);
    state_close(E.state);
    if (E.warc) {
        int err = warc_close(E.warc);
        if (err < 0) {
            fprintf(stderr, "crawl: cannot write WARC: %s\n", strerror(-err));
            code = exit_merge(code, EXIT_IO);
        }
    }
    co_exec_free(E.exec);
    if (E.http && E.cfg->http.cookie_jar) {
        int err = http_cookies_save(E.http);
        if (err < 0) {
            fprintf(stderr, "crawl: cannot write the cookie jar '%s': %s\n", E.cfg->http.cookie_jar, strerror(-err));
            if (code == 0 || (code > EXIT_IO && code != EXIT_INTERRUPTED))
                code = EXIT_IO;
        }
    }
    http_client_free(E.http);
    dns_free(E.dns);
    savepath_dirs_free(E.dirs);
    if (E.dirfd >= 0)
        close(E.dirfd);
    if (E.docfd >= 0 && close(E.docfd) != 0) {
        fprintf(stderr, "crawl: cannot write -O %s: %s\n", E.cfg->output_document, strerror(errno));
        code = exit_merge(code, EXIT_IO);
    }
    hosts_free(&E);
    if (E.fr_ready) {
        E.dropped += E.fr.queued;
        frontier_free(&E.fr);
    }
    if (E.seen_ready)
        seen_free(&E.seen);
    free(E.win);
    writer_tail_free(&E);
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
    for (size_t i = 0; i < E.nseed_dirs; i++)
        free(E.seed_dirs[i]);
    free(E.seed_dirs);
    return code;
}
