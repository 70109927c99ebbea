/* discover: see discover.h. */
#include "discover.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fnmatch.h>
#include <strings.h>

#include "charset.h"
#include "links.h"
#include "net/url.h"
#include "robots.h"
#include "sitemap.h"
#include "writer.h"

/* The host of a normalized URL (no userinfo, no port), copied into buf. */
const char *discover_host_of(const char *url, char *buf, size_t len)
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
bool discover_is_seed_host(const engine *E, const char *host)
{
    for (size_t i = 0; host && i < E->nseed_hosts; i++)
        if (strcasecmp(E->seed_hosts[i], host) == 0)
            return true;
    return false;
}

/* The file name of a URL's path (after the last '/', before '?' or '#'). */
static void file_name(const char *url, const char **name, size_t *n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t end = strcspn(p, "?#");
    const char *path = memchr(p, '/', end);
    if (!path) {
        *name = p + end;
        *n = 0;
        return;
    }
    const char *last = path;
    for (const char *q = path; q < p + end; q++)
        if (*q == '/')
            last = q;
    *name = last + 1;
    *n = (size_t)(p + end - (last + 1));
}

/* wget's test for -A/-R: a pattern with * ? [ is a glob on the file name,
 * anything else a suffix of it. */
static bool name_matches(const char *name, size_t n, const char *const *pats, size_t npats)
{
    char buf[512];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, name, n);
    buf[n] = 0;
    for (size_t i = 0; i < npats; i++) {
        const char *pat = pats[i];
        if (strpbrk(pat, "*?[")) {
            if (fnmatch(pat, buf, 0) == 0)
                return true;
        } else {
            size_t m = strlen(pat);
            if (m && n >= m && memcmp(buf + n - m, pat, m) == 0)
                return true;
        }
    }
    return false;
}

bool discover_keep_file(const engine *E, const char *url)
{
    const fetcher_cfg *c = E->cfg;
    if (!c->naccept && !c->nreject)
        return true;
    const char *name;
    size_t n;
    file_name(url, &name, &n);
    if (n == 0) /* a directory: its index page */
        name = "index.html", n = 10;
    if (c->naccept && !name_matches(name, n, c->accept, c->naccept))
        return false;
    return !(c->nreject && name_matches(name, n, c->reject, c->nreject));
}

/* Could url be an HTML page (read for links even when -A/-R would not keep
 * it)? A directory, a page suffix, or no suffix at all, as wget guesses. */
static bool may_be_page(const char *url)
{
    static const char *const pages[] = {".html", ".htm", ".shtml", ".xhtml", ".php", ".asp", ".aspx", ".jsp",
                                        ".cgi", ".pl", NULL};
    const char *name;
    size_t n;
    file_name(url, &name, &n);
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (name[i] == '.')
            dot = name + i;
    if (n == 0 || !dot)
        return true;
    for (const char *const *s = pages; *s; s++)
        if ((size_t)(name + n - dot) == strlen(*s) && strncasecmp(dot, *s, strlen(*s)) == 0)
            return true;
    return false;
}

void discover_add_seed_dir(engine *E, const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return;
    p += 3;
    size_t end = strcspn(p, "?#");
    const char *last = NULL;
    for (const char *q = p; q < p + end; q++)
        if (*q == '/')
            last = q;
    size_t n = last ? (size_t)(last + 1 - url) : (size_t)(p + end - url);
    char *dir = strndup(url, n);
    char **v = dir ? realloc(E->seed_dirs, (E->nseed_dirs + 1) * sizeof *v) : NULL;
    if (!v) {
        free(dir);
        return;
    }
    E->seed_dirs = v;
    E->seed_dirs[E->nseed_dirs++] = dir;
}

/* --no-parent: url is under a seed's directory, or on an origin no seed is
 * on (reached with --span-hosts). */
static bool under_seed_dirs(const engine *E, const char *url)
{
    bool same_origin = false;
    for (size_t i = 0; i < E->nseed_dirs; i++) {
        const char *d = E->seed_dirs[i];
        size_t n = strlen(d);
        if (strncmp(url, d, n) == 0)
            return true;
        const char *h = strstr(d, "://");
        size_t o = h ? (size_t)(h + 3 - d) + strcspn(h + 3, "/") : n;
        if (strncmp(url, d, o) == 0 && (url[o] == '/' || url[o] == 0 || url[o] == '?'))
            same_origin = true;
    }
    return !same_origin;
}

bool discover_in_scope(engine *E, const char *url)
{
    const fetcher_cfg *c = E->cfg;
    if (c->max_url_length > 0 && (long)strlen(url) > c->max_url_length)
        return false;
    char hb[300];
    const char *host = discover_host_of(url, hb, sizeof hb);
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
        if (!discover_is_seed_host(E, host))
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
    if (c->no_parent && !under_seed_dirs(E, url))
        return false;
    if (E->have_accept && regexec(&E->accept_re, url, 0, NULL, 0) != 0)
        return false;
    if (E->have_reject && regexec(&E->reject_re, url, 0, NULL, 0) == 0)
        return false;
    return true;
}

/* Queue a normalized URL if it is new, in scope and within the limits.
 * Takes ownership of url. */
void discover_queue_link(engine *E, char *url, const char *parent, int depth)
{
    const fetcher_cfg *c = E->cfg;
    if (c->max_depth > 0 && depth > c->max_depth) {
        free(url);
        return;
    }
    if (!discover_in_scope(E, url)) {
        E->skipped_scope++;
        free(url);
        return;
    }
    if (!may_be_page(url) && !discover_keep_file(E, url)) { /* -A/-R: not kept, and no page to read */
        E->skipped_accept++;
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
    bool on_worker; /* it really ran off the loop thread */
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
    char *v = strndup(l->value, l->len);
    if (v) /* out of memory: this link is lost, the page's others are kept */
        j->raw[j->nraw++] = v;
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
    char *base =
        j->info.base[0] ? url_resolve_normalized(j->page_url, j->info.base) : url_normalize(j->page_url);
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

bool discover_is_html(const http_resp *r)
{
    if (r->content_type)
        return strncasecmp(r->content_type, "text/html", 9) == 0 ||
               strncasecmp(r->content_type, "application/xhtml+xml", 21) == 0;
    const char *b = r->body;
    size_t n = r->body ? r->body_len : 0;
    while (n && isspace((unsigned char)*b)) {
        b++;
        n--;
    }
    return n && *b == '<';
}

/* Extract the page's links on the executor (never on the loop) and queue
 * them. Returns how many links the page had. */
int discover_follow_links(engine *E, const char *page_url, const http_resp *resp, int depth)
{
    const fetcher_cfg *c = E->cfg;
    extract_job j = {.body = resp->body,
                     .len = resp->body_len,
                     .content_type = resp->content_type,
                     .page_url = page_url,
                     .requisites = c->page_requisites,
                     .follow_nofollow = c->follow_nofollow,
                     .max_links = c->max_links_per_page > 0 ? (size_t)c->max_links_per_page : 0,
                     .loop_thread = pthread_self()};
    void *ignored;
    int st = co_exec_run(E->exec, extract_fn, &j, &ignored);
    if (st == 0) {
        E->pages_extracted++;
        E->pages_extracted_off_loop += j.on_worker;
    }
    /* Queue (and, with --state, persist) the links even while stopping: the
     * page's record says it is done, so a resumed crawl relies on them. */
    for (size_t i = 0; i < j.nout; i++) {
        if (st == 0)
            discover_queue_link(E, j.out[i], page_url, depth + 1);
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
char *discover_fetch(engine *E, const char *start, http_resp *r, bool *fetched, bool honour_stop, size_t keep_max)
{
    char *url = strdup(start);
    memset(r, 0, sizeof *r);
    *fetched = false;
    for (int hop = 0; url && hop <= 5 && !(honour_stop && E->stopping); hop++) {
        if (*fetched)
            http_resp_free(r);
        char hb[300];
        http_req req = {.url = url,
                        .keep_body = true,
                        .keep_max = keep_max ? keep_max : HTTP_SPILL_AT,
                        .spill = keep_max == 0,
                        .explicit_host = discover_is_seed_host(E, discover_host_of(url, hb, sizeof hb))};
        *fetched = true;
        if (http_fetch(E->http, &req, r) < 0)
            break;
        writer_archive_copy(E, url, r); /* robots.txt and sitemaps belong in the archive too */
        if (r->err || r->status < 300 || r->status >= 400 || !r->location)
            break;
        free(url);
        url = strdup(r->location);
    }
    return url;
}

typedef struct sm_task {
    engine *E;
    char *url;
    int level; /* 0: given or from robots.txt; 1+: from a sitemap index */
} sm_task;

typedef struct sm_job {
    sitemap_src src;
    sitemap_result res;
    int rc;
} sm_job;

static void *sitemap_fn(void *arg)
{
    sm_job *j = arg;
    j->rc = sitemap_read(&j->src, SITEMAP_MAX_BYTES, &j->res);
    return NULL;
}

static int sitemap_main(void *arg);

/* Read a sitemap (once per URL) in its own task; the crawl does not complete
 * while one is being read. */
void discover_start_sitemap(engine *E, const char *url, int level)
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
    /* In the engine's services group, never detached: the run cancels and
     * awaits it before the HTTP client and the writer go away. */
    if (co_group_spawn(&E->services, sitemap_main, t, NULL) < 0) {
        frontier_release(&E->fr);
        free(norm);
        free(t);
    }
}

static int sitemap_main(void *arg)
{
    sm_task *t = arg;
    engine *E = t->E;
    http_resp r;
    bool fetched;
    char *url = discover_fetch(E, t->url, &r, &fetched, true, 0);
    int found = 0;
    const char *errkind = NULL, *errmsg = NULL;
    if (fetched && !r.err && r.status >= 200 && r.status < 300 && r.body) {
        /* read while it streams from memory or, past 1 MiB, from its file */
        sm_job j = {.src = {r.body, r.spilled ? r.bytes : r.body_len, r.spilled ? r.spill_fd : -1}};
        void *ignored;
        if (co_exec_run(E->exec, sitemap_fn, &j, &ignored) == 0 && j.rc == 0) {
            found = (int)j.res.n;
            for (size_t i = 0; i < j.res.n; i++) {
                if (j.res.index) {
                    discover_start_sitemap(E, j.res.locs[i], t->level + 1);
                } else {
                    char *norm = url_normalize(j.res.locs[i]);
                    if (norm)
                        discover_queue_link(E, norm, t->url, 1);
                }
            }
            frontier_notify(&E->fr);
        } else if (j.rc < 0) {
            errkind = "sitemap";
            errmsg = j.rc == -EFBIG ? "sitemap larger than 50 MB" : "not a valid XML sitemap";
        }
        sitemap_result_free(&j.res);
    }
    rec_item *ri = writer_rec_new(t->url);
    record *rec = ri ? &ri->rec : &(record){0};
    rec->fields = REC_BODY | REC_SITEMAP | REC_PAGE | REC_LINKS;
    record_set(&rec->final_url, url);
    rec->status = r.status;
    if (!errkind)
        writer_resp_error(&r, &errkind, &errmsg);
    if (errkind)
        writer_rec_error(rec, errkind, errmsg);
    record_set(&rec->content_type, r.content_type);
    rec->bytes = (int64_t)r.bytes;
    rec->links_found = found;
    char *key = NULL;
    if (asprintf(&key, "sitemap %s", t->url) < 0)
        key = NULL;
    writer_submit(E, ri, rec, -1, key);
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
void discover_robots(engine *E, fr_host *h)
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
        url = discover_fetch(E, robots_url, &r, &fetched, false, ROBOTS_MAX_BYTES);
        free(robots_url);
    }
    if (fetched && !r.err && r.status >= 200 && r.status < 300) {
        h->rules = robots_parse(r.body ? r.body : "", r.body ? r.body_len : 0);
        for (size_t i = 0; i < robots_sitemap_count(h->rules); i++)
            discover_start_sitemap(E, robots_sitemap(h->rules, i), 0);
        double d = robots_crawl_delay(h->rules, E->cfg->http.user_agent ? E->cfg->http.user_agent : "crawl");
        if (E->cfg->delay_ms < 0 && d > 0)
            h->delay_ns = (int64_t)((d > 60 ? 60 : d) * 1e9); /* capped at a minute */
    } else if (fetched && !r.err && r.status >= 400 && r.status < 500) {
        h->rules = NULL; /* no robots.txt: no restrictions */
    } else {
        h->disallow_all = true; /* 5xx or unreachable: do not crawl this origin */
    }
    if (E->state)
        state_host(E->state, h->origin,
                   h->disallow_all ? 2
                   : h->rules      ? 1
                                   : 0,
                   h->rules && r.body ? r.body : NULL, h->rules && r.body ? r.body_len : 0, h->delay_ns);
    if (fetched)
        http_resp_free(&r);
    free(url);
    h->rstate = ROBOTS_READY;
    co_event_set(&h->robots_ready);
}
