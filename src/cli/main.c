/* main: the crawl command. Parses the command line (and, with --config, a
 * configuration file), maps each job's settings onto the engine
 * configuration, and runs the engine(s) as tasks of one coroutine loop. */
#include <ares.h>
#include <curl/curl.h>
#include <libpsl.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"
#include "cli/config.h"
#include "cli/options.h"
#include "cli/reqopts.h"
#include "crawl/co.h"
#include "crawl/co_group.h"
#include "crawl/co_sync.h"
#include "crawl/fetcher.h"
#include "crawl/charset.h"
#include "crawl/links.h"
#include "crawl/robots.h"
#include "net/url.h"
#ifdef CRAWL_MIMALLOC
#include <mimalloc.h>
#endif

#ifndef CRAWL_VERSION
#define CRAWL_VERSION "0.0.0"
#endif

static void print_version(void)
{
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    printf("crawl %s\n", CRAWL_VERSION);
    printf("libcurl %s (%s)\n", cv->version, cv->ssl_version ? cv->ssl_version : "no TLS");
    printf("libevent %s\n", event_get_version());
    printf("c-ares %s\n", ares_version(NULL));
#ifdef CRAWL_MIMALLOC
    printf("mimalloc %d.%d.%d\n", mi_version() / 100, mi_version() / 10 % 10, mi_version() % 10);
#endif
    long xv = atol(xmlParserVersion); /* the loaded library's version, e.g. "20914" */
    printf("libxml2 %ld.%ld.%ld\n", xv / 10000, xv / 100 % 100, xv % 100);
    printf("jansson %s\n", jansson_version_str());
    printf("libpsl %s\n", psl_get_version());
    /* what this build can do, as curl -V lists it */
    static const struct {
        int bit;
        const char *name;
    } feats[] = {{CURL_VERSION_SSL, "TLS"}, {CURL_VERSION_HTTP2, "HTTP/2"}, {CURL_VERSION_HTTP3, "HTTP/3"}, {CURL_VERSION_IPV6, "IPv6"}, {CURL_VERSION_LIBZ, "gzip"}, {CURL_VERSION_BROTLI, "brotli"}, {CURL_VERSION_ZSTD, "zstd"}, {CURL_VERSION_IDN, "IDN"}, {CURL_VERSION_UNIX_SOCKETS, "unix-sockets"}, {CURL_VERSION_ASYNCHDNS, "async-DNS"}};
    printf("features:");
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++)
        if (cv->features & feats[i].bit)
            printf(" %s", feats[i].name);
    printf(" PSL WARC state-resume\n"); /* libpsl and the rest are always built in */
}

/* One job: its settings and what the engine needs kept alive. */
typedef struct job {
    const char *name;
    crawl_opts o;
    fetcher_cfg cfg;
    struct curl_slist *headers;
    char *dns_servers;
    char ua[64];
    str_list domains, exclude_domains, accept, reject; /* comma lists split */
    reqopts req;                                       /* the request: method, body, credentials */
    int result;
} job;

static char *join_list(const str_list *l)
{
    if (!l->n)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < l->n; i++)
        len += strlen(l->v[i]) + 1;
    char *s = xcalloc(1, len);
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, l->v[i]);
    }
    return s;
}

static void split_commas(const str_list *in, str_list *out)
{
    for (size_t i = 0; i < in->n; i++) {
        char *copy = xstrdup(in->v[i]), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            char **nv = xrealloc(out->v, (out->n + 1) * sizeof *nv);
            if (!nv)
                abort();
            out->v = nv;
            out->v[out->n++] = xstrdup(t);
        }
        free(copy);
    }
}

static void list_release(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Fill j->cfg from j->o. 0, or -1 after printing a message. */
/* Is out the same file as one of the inputs (same device and inode:
 * a symlink or another name for it counts)? Opening it for writing would
 * truncate the input before a line of it is read. */
static bool same_as_input(const crawl_opts *o, const char *out, const char **which)
{
    struct stat so, si;
    if (!out || strcmp(out, "-") == 0 || stat(out, &so) != 0 || !S_ISREG(so.st_mode))
        return false;
    for (size_t i = 0; i < o->input_files.n; i++) {
        const char *in = o->input_files.v[i];
        if (strcmp(in, "-") != 0 && stat(in, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            *which = in;
            return true;
        }
    }
    return false;
}

/* --format, --fields, --write-out and the status filters: valid, and
 * compatible with --state (whose resume recognises JSON records by url). */
static int check_selection(job *j, recsel_format *fmt)
{
    crawl_opts *o = &j->o;
    *fmt = RECSEL_JSONL;
    if (o->format && strcmp(o->format, "csv") == 0)
        *fmt = RECSEL_CSV;
    else if (o->format && strcmp(o->format, "tsv") == 0)
        *fmt = RECSEL_TSV;
    else if (o->format && strcmp(o->format, "jsonl") != 0) {
        fprintf(stderr, "crawl: --format '%s': expected jsonl, csv or tsv\n", o->format);
        return -1;
    }
    recsel_opts so = {*fmt, o->fields, o->write_out, o->match_status, o->filter_status};
    recsel *sel = NULL;
    char err[1024] = "";
    if (recsel_new(&so, &sel, err, sizeof err) < 0) {
        fprintf(stderr, "crawl: %s\n", err);
        return -1;
    }
    bool ok = recsel_keeps_json_url(sel);
    recsel_free(sel);
    if (!ok && o->state_dir) {
        fprintf(stderr, "crawl: --state resumes from JSON Lines records that carry their url: it cannot be "
                        "combined with --format csv/tsv, --write-out or --fields without url\n");
        return -1;
    }
    return 0;
}

static int build_cfg(job *j)
{
    crawl_opts *o = &j->o;
    const char *in = NULL;
    recsel_format fmt;
    if (check_selection(j, &fmt) < 0)
        return -1;
    const char *outs[2][2] = {{"-o", o->output}, {"-O", o->output_document}};
    for (int k = 0; k < 2; k++)
        if (same_as_input(o, outs[k][1], &in)) {
            fprintf(stderr,
                    "crawl: %s%s%s%s '%s' is also an input (-i '%s'): it would be overwritten before it is read\n",
                    j->name ? "job '" : "", j->name ? j->name : "", j->name ? "': " : "", outs[k][0], outs[k][1], in);
            return -1;
        }
    bool doc_stdout = o->output_document && strcmp(o->output_document, "-") == 0;
    if (doc_stdout && (!o->output || strcmp(o->output, "-") == 0) && o->state_dir) {
        fprintf(stderr, "crawl: with -O - the records go nowhere unless -o FILE, and --state needs them\n");
        return -1;
    }
    if (doc_stdout && o->output && strcmp(o->output, "-") == 0) {
        fprintf(stderr, "crawl: -O - and -o - would mix bodies and records on standard output\n");
        return -1;
    }
    /* wget users type -o for the page: say what it is */
    static const char *const page_exts[] = {".html", ".htm", ".pdf", ".zip", ".gz", ".tar", ".jpg", ".png", ".iso",
                                            NULL};
    for (const char *const *e = page_exts; o->output && *e; e++) {
        size_t ol = strlen(o->output), el = strlen(*e);
        if (ol > el && strcasecmp(o->output + ol - el, *e) == 0) {
            fprintf(stderr,
                    "crawl: warning: -o '%s' receives the JSON Lines records, not the page (for the body: -O FILE, "
                    "or -P DIR)\n",
                    o->output);
            break;
        }
    }
    for (size_t i = 0; i < o->headers.n; i++) {
        if (!strchr(o->headers.v[i], ':')) {
            fprintf(stderr, "crawl: --header '%s': expected 'Name: value'\n", o->headers.v[i]);
            return -1;
        }
        j->headers = curl_slist_append(j->headers, o->headers.v[i]);
    }
    if (reqopts_build(o, &j->req, stderr) < 0)
        return -1;
    if ((o->timestamping || o->no_clobber) && !o->directory_prefix) {
        fprintf(stderr, "crawl: --%s needs -P/--directory-prefix (the saved files it compares with)\n",
                o->timestamping ? "timestamping" : "no-clobber");
        return -1;
    }
    if (o->timestamping && o->no_clobber) {
        fprintf(stderr, "crawl: give one of --timestamping and --no-clobber\n");
        return -1;
    }
    int ip_family = 0; /* -4, -6 */
    if (o->inet4_only)
        ip_family = 4;
    else if (o->inet6_only)
        ip_family = 6;
    snprintf(j->ua, sizeof j->ua, "crawl/%s", CRAWL_VERSION);
    split_commas(&o->domains, &j->domains);
    split_commas(&o->exclude_domains, &j->exclude_domains);
    split_commas(&o->accept, &j->accept);
    split_commas(&o->reject, &j->reject);
    j->dns_servers = join_list(&o->dns_servers);
    j->cfg = (fetcher_cfg){
        .name = j->name,
        .http = {
            .connect_timeout_ms = o->connect_timeout_ms,
            .timeout_ms = o->timeout_ms,
            .speed_limit = o->speed_limit,
            .speed_time_s = (long)((o->speed_time_ms + 999) / 1000),
            .max_total_conns = o->concurrency,
            .max_per_host_conns = o->max_per_host,
            .max_body = (size_t)o->max_body,
            .user_agent = o->user_agent ? o->user_agent : j->ua,
            .headers = j->headers,
            .proxies = j->req.proxies,
            .proxy_user = j->req.proxy_user,
            .proxy_password = j->req.proxy_password,
            .insecure = o->insecure,
            .cacert = o->cacert,
            .capath = o->capath,
            .client_cert = o->cert,
            .client_key = o->key,
            .ip_family = ip_family,
            .limit_rate = o->limit_rate,
            .limit_rate_total = o->limit_rate_total,
            .http_version = o->http_version,
            .allow_private = o->allow_private,
            .username = j->req.username,
            .password = j->req.password,
            .no_cookies = o->no_cookies,
            .cookie_files = j->req.cookie_files,
            .ncookie_files = j->req.ncookie_files,
            .cookie_header = j->req.cookie_header,
            .cookie_jar = j->req.cookie_jar,
            .jar_session_cookies = j->req.jar_session,
        },
        .request = j->req.have_spec ? &j->req.spec : NULL,
        .timestamping = o->timestamping,
        .no_clobber = o->no_clobber,
        .random_wait = o->random_wait,
        .urls = (const char *const *)o->urls.v,
        .nurls = o->urls.n,
        .inputs = (const char *const *)o->input_files.v,
        .ninputs = o->input_files.n,
        /* wget's -O -: the bodies alone on stdout, the records only where -o says */
        .output = doc_stdout && !o->output ? "/dev/null" : o->output,
        .output_document = o->output_document,
        .sel = {.format = fmt, .fields = o->fields, .write_out = o->write_out, .match_status = o->match_status, .filter_status = o->filter_status},
        .directory_prefix = o->directory_prefix,
        .concurrency = o->concurrency,
        .max_per_host = o->max_per_host,
        .rate = o->rate,
        .host_rate = o->host_rate,
        .retries = o->retries,
        .retry_delay_ms = o->retry_delay_ms,
        .max_retry_delay_ms = o->max_retry_delay_ms,
        .location = o->location,
        .location_trusted = o->location_trusted,
        .max_redirs = o->max_redirs,
        .dns_servers = j->dns_servers,
        .dns_timeout_ms = o->dns_timeout_ms,
        .resolve = (const char *const *)o->resolve.v,
        .nresolve = o->resolve.n,
        .progress = !o->quiet && (o->progress == PROGRESS_BAR || (o->progress == PROGRESS_AUTO && isatty(STDERR_FILENO))),
        .summary = !o->quiet,
        .verbose = (int)o->verbose,
        .grace_ms = o->grace_ms,
        .recursive = o->recursive,
        .max_depth = (int)o->level,
        .span_hosts = o->span_hosts,
        .domains = (const char *const *)j->domains.v,
        .ndomains = j->domains.n,
        .exclude_domains = (const char *const *)j->exclude_domains.v,
        .nexclude_domains = j->exclude_domains.n,
        .no_parent = o->no_parent,
        .accept = (const char *const *)j->accept.v,
        .naccept = j->accept.n,
        .reject = (const char *const *)j->reject.v,
        .nreject = j->reject.n,
        .save = {.no_host_dirs = o->no_host_dirs, .no_dirs = o->no_dirs, .cut_dirs = (int)o->cut_dirs, .adjust_ext = o->adjust_ext},
        .accept_regex = o->accept_regex,
        .reject_regex = o->reject_regex,
        .max_pages = o->max_pages,
        .max_pages_per_host = o->max_pages_per_host,
        .max_url_length = o->max_url_length,
        .delay_ms = o->delay_ms,
        .robots = o->robots,
        .page_requisites = o->page_requisites,
        .follow_nofollow = o->follow_nofollow,
        .spider = o->spider,
        .max_links_per_page = o->max_links_per_page,
        .max_queued = o->max_queued,
        .same_site = o->same_site,
        .sitemaps = (const char *const *)o->sitemaps.v,
        .nsitemaps = o->sitemaps.n,
        .warc_file = o->warc_file,
        .warc_max_size = o->warc_max_size,
        .warc_dedup = o->warc_dedup,
        .state_dir = o->state_dir,
        .resume = o->resume,
        .checkpoint_ms = o->checkpoint_ms,
    };
    return 0;
}

static void job_free(job *j)
{
    list_release(&j->domains);
    list_release(&j->exclude_domains);
    list_release(&j->accept);
    list_release(&j->reject);
    opts_free(&j->o);
    curl_slist_free_all(j->headers);
    free(j->dns_servers);
    reqopts_free(&j->req);
}

/* ---- running several jobs on one loop ------------------------------------------ */

typedef struct runner {
    job *jobs;
    size_t n;
    long parallel;
    bool stop_on_error;
    co_sem slots;
    bool failed;
    bool interrupted;
} runner;

typedef struct job_task {
    runner *r;
    job *j;
} job_task;

static int run_job(void *arg)
{
    job_task *t = arg;
    t->j->result = fetcher_main(&t->j->cfg);
    if (t->j->result != 0)
        t->r->failed = true;
    if (t->j->result == EXIT_INTERRUPTED)
        t->r->interrupted = true;
    co_sem_release(&t->r->slots);
    return 0;
}

static void on_runner_signal(evutil_socket_t sig, short w, void *arg)
{
    (void)sig;
    (void)w;
    ((runner *)arg)->interrupted = true; /* the engines handle the signal themselves */
}

static int runner_main(void *arg)
{
    runner *r = arg;
    co_sem_init(&r->slots, r->parallel, 0);
    struct event_base *base = co_loop_base(co_loop_current());
    struct event *si = evsignal_new(base, SIGINT, on_runner_signal, r);
    struct event *st = evsignal_new(base, SIGTERM, on_runner_signal, r);
    event_add(si, NULL);
    event_add(st, NULL);
    fetcher_signals_listen(true);
    job_task *tasks = xcalloc(r->n, sizeof *tasks);
    co_group g;
    co_group_init(&g);
    for (size_t i = 0; i < r->n; i++) {
        if (co_sem_acquire(&r->slots, CO_FOREVER) < 0)
            break;
        if (r->interrupted || (r->failed && r->stop_on_error)) {
            if (r->failed && r->stop_on_error && !r->interrupted)
                fprintf(stderr, "crawl: stop-on-error: not starting job '%s' and later jobs\n", r->jobs[i].name);
            for (size_t k = i; k < r->n; k++)
                r->jobs[k].result = -1; /* not run */
            break;
        }
        tasks[i] = (job_task){.r = r, .j = &r->jobs[i]};
        co_group_spawn(&g, run_job, &tasks[i], NULL);
    }
    co_group_wait(&g, CO_FOREVER);
    co_group_destroy(&g);
    free(tasks);
    fetcher_signals_listen(false);
    event_free(si);
    event_free(st);
    return 0;
}

/* Each transfer in flight holds a socket: raise the soft limit on open files
 * toward the hard limit when -j needs more (as nginx's worker_rlimit_nofile
 * does), and say so when even the hard limit is too low, instead of letting
 * connections fail later as "Couldn't connect". */
static void raise_nofile(long concurrency, long jobs)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)(concurrency > 0 ? concurrency : 1) * (rlim_t)(jobs > 0 ? jobs : 1) + 256;
    if (rl.rlim_cur >= want)
        return;
    rlim_t to = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (to > rl.rlim_cur) {
        rl.rlim_cur = to;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (to < want)
        fprintf(stderr,
                "crawl: warning: -j %ld needs about %llu open files, the limit is %llu (raise it with ulimit -n)\n",
                concurrency, (unsigned long long)want, (unsigned long long)to);
}

/* The worst status of several runs (see exit_merge). */
static int worst(int a, int b) { return exit_merge(a, b); }

/* ---- configuration-file validation ------------------------------------------------ */

/* The assignment that set this key last (job layer first), for FILE:LINE. */
static const opt_assign *who_set(const conf *c, const conf_job *cj, const char *key, const char *value)
{
    const opt_list *layers[2] = {&cj->set, &c->defaults};
    for (int l = 0; l < 2; l++)
        for (size_t i = layers[l]->n; i-- > 0;) {
            const opt_assign *a = &layers[l]->v[i];
            bool c_key;
            (void)c_key;
            if (strcmp(*(const char *const *)a->def, key) == 0 && (!value || (a->value && strcmp(a->value, value) == 0)))
                return a;
        }
    return NULL;
}

/* A FILE:LINE message about a job's setting. fmt is always a literal here:
 * values from the file are arguments, never part of a format. */
static void report(const conf *c, const conf_job *cj, const char *key, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void report(const conf *c, const conf_job *cj, const char *key, const char *value, const char *fmt, ...)
{
    const opt_assign *a = who_set(c, cj, key, value);
    if (a)
        fprintf(stderr, "%s:%d: ", a->file, a->line);
    else
        fprintf(stderr, "%s:%d: ", c->path, cj->line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Resolve an output path for collision checks. */
static void canonical_output(const char *path, char *out, size_t len)
{
    if (!path || strcmp(path, "-") == 0) {
        snprintf(out, len, "-");
        return;
    }
    char dir[PATH_MAX], resolved[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
    else
        snprintf(dir, sizeof dir, ".");
    if (realpath(dir, resolved))
        snprintf(out, len, "%s/%s", resolved, base);
    else
        snprintf(out, len, "%s", path);
}

static int run_config(const opt_list *cli, const crawl_opts *cli_o)
{
    conf c;
    int errors = conf_load(cli_o->config, &c, stderr);
    if (!c.path || access(cli_o->config, R_OK) != 0) {
        conf_free(&c);
        return EXIT_USAGE;
    }
    /* Global settings: defaults, then [defaults], then the command line.
     * Errors in [defaults] are reported here, once, not again per job. */
    crawl_opts g;
    opts_defaults(&g);
    errors += opts_apply(&g, &c.defaults, stderr);
    opts_apply(&g, cli, NULL); /* already validated in main() */
    /* Which jobs */
    for (size_t k = 0; k < cli_o->job_names.n; k++) {
        bool found = false;
        for (size_t i = 0; i < c.njobs; i++)
            found |= strcmp(c.jobs[i].name, cli_o->job_names.v[k]) == 0;
        if (!found) {
            fprintf(stderr, "crawl: --job %s: %s has no [job %s]\n", cli_o->job_names.v[k], c.path,
                    cli_o->job_names.v[k]);
            errors++;
        }
    }
    if (c.njobs == 0) {
        fprintf(stderr, "%s: no [job NAME] section\n", c.path);
        errors++;
    }
    job *jobs = xcalloc(c.njobs ? c.njobs : 1, sizeof *jobs);
    conf_job **cjs = xcalloc(c.njobs ? c.njobs : 1, sizeof *cjs);
    size_t n = 0;
    for (size_t i = 0; i < c.njobs; i++) {
        bool wanted = cli_o->job_names.n == 0;
        for (size_t k = 0; k < cli_o->job_names.n; k++)
            wanted |= strcmp(c.jobs[i].name, cli_o->job_names.v[k]) == 0;
        if (!wanted)
            continue;
        job *j = &jobs[n];
        cjs[n] = &c.jobs[i];
        n++;
        j->name = c.jobs[i].name;
        opts_defaults(&j->o);
        opts_apply(&j->o, &c.defaults, NULL);
        int jerr = opts_apply(&j->o, &c.jobs[i].set, stderr);
        opts_apply(&j->o, cli, NULL);
        /* only what the job itself sets: [defaults] may serve jobs of both kinds */
        jerr += opts_check_requires(&j->o, &c.jobs[i].set, stderr);
        errors += jerr;
        if (j->o.urls.n == 0 && j->o.input_files.n == 0) {
            fprintf(stderr, "%s:%d: job '%s' has no url and no input-file\n", c.path, c.jobs[i].line, j->name);
            errors++;
        }
        for (size_t k = 0; k < j->o.input_files.n; k++) {
            const char *f = j->o.input_files.v[k];
            if (strcmp(f, "-") != 0 && access(f, R_OK) != 0) {
                report(&c, &c.jobs[i], "input-file", f, "input file '%s': %s", f, strerror(errno));
                errors++;
            }
        }
        for (size_t k = 0; k < j->o.headers.n; k++)
            if (!strchr(j->o.headers.v[k], ':')) {
                report(&c, &c.jobs[i], "header", j->o.headers.v[k], "header '%s': expected 'Name: value'",
                       j->o.headers.v[k]);
                errors++;
            }
    }
    /* Two jobs must not write the same output file (nor share stdout when
     * running at the same time). */
    for (size_t a = 0; a < n; a++) {
        char pa[PATH_MAX + 8];
        canonical_output(jobs[a].o.output, pa, sizeof pa);
        for (size_t b = 0; b < a; b++) {
            char pb[PATH_MAX + 8];
            canonical_output(jobs[b].o.output, pb, sizeof pb);
            if (strcmp(pa, pb) != 0)
                continue;
            if (strcmp(pa, "-") == 0 && g.jobs <= 1)
                continue; /* one after another on stdout is fine */
            report(&c, cjs[a], "output", NULL, "job '%s' writes to the same output as job '%s' (%s)", jobs[a].name,
                   jobs[b].name, strcmp(pa, "-") == 0 ? "stdout" : pa);
            errors++;
            break;
        }
    }
    int rc = 0;
    if (errors) {
        rc = EXIT_USAGE;
    } else if (cli_o->check) {
        for (size_t i = 0; i < n; i++) {
            printf("%s[job %s]\n", i ? "\n" : "", jobs[i].name);
            opts_print_effective(&jobs[i].o, stdout);
        }
        printf("\n# %zu job(s), %ld at a time, stop-on-error = %s\n", n, g.jobs, g.stop_on_error ? "true" : "false");
    } else {
        for (size_t i = 0; i < n && rc == 0; i++)
            if (build_cfg(&jobs[i]) < 0)
                rc = EXIT_USAGE;
        if (rc == 0) {
            runner r = {.jobs = jobs, .n = n, .parallel = g.jobs, .stop_on_error = g.stop_on_error};
            long most = 1;
            for (size_t i = 0; i < n; i++)
                if (jobs[i].o.concurrency > most)
                    most = jobs[i].o.concurrency;
            raise_nofile(most, g.jobs);
            int lrc = co_run(runner_main, &r, NULL);
            if (lrc < 0) {
                fprintf(stderr, "crawl: cannot start the event loop: %s\n", strerror(-lrc));
                rc = EXIT_GENERIC;
            }
            for (size_t i = 0; i < n; i++)
                if (jobs[i].result > 0)
                    rc = worst(rc, jobs[i].result);
            if (r.interrupted)
                rc = EXIT_INTERRUPTED;
        }
    }
    for (size_t i = 0; i < n; i++)
        job_free(&jobs[i]);
    free(jobs);
    free(cjs);
    opts_free(&g);
    conf_free(&c);
    return rc;
}

/* crawl robots FILE AGENT URL...: the matcher the crawler uses, for
 * debugging rules. Exit 0 when every URL is allowed, 1 otherwise, 2 on usage
 * errors, 3 when FILE cannot be read. */
static int cmd_robots(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: crawl robots FILE|- AGENT URL...\n");
        return EXIT_USAGE;
    }
    FILE *f = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "rb");
    if (!f) {
        fprintf(stderr, "crawl: cannot read '%s': %s\n", argv[2], strerror(errno));
        return EXIT_IO;
    }
    size_t cap = 65536, len = 0;
    char *buf = xmalloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= ROBOTS_MAX_BYTES + 65536)
                break; /* the matcher reads only the first 500 KiB */
            char *nb = xrealloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
    }
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || err) {
        fprintf(stderr, "crawl: cannot read '%s'\n", argv[2]);
        free(buf);
        return EXIT_IO;
    }
    robots *r = robots_parse(buf, len);
    free(buf);
    int rc = 0;
    for (int i = 4; i < argc; i++) {
        bool ok = robots_allowed(r, argv[3], argv[i]);
        printf("%s %s\n", ok ? "allowed" : "disallowed", argv[i]);
        if (!ok)
            rc = 1;
    }
    robots_free(r);
    return rc;
}

/* Read a whole file (or stdin for "-"); NULL after a message. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "crawl: cannot read '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, r;
    char *buf = xmalloc(cap + 1);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = xrealloc(buf, (cap *= 2) + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    if (buf && ferror(f)) {
        fprintf(stderr, "crawl: cannot read '%s': %s\n", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

typedef struct link_list {
    char **v;
    bool *keep;
    size_t n;
    bool requisites, all;
} link_list;

static void collect_link(void *ud, const link_ref *l)
{
    link_list *L = ud;
    bool keep = (l->kind == LINK_FOLLOW || L->requisites) && (L->all || !l->nofollow);
    char **nv = xrealloc(L->v, (L->n + 1) * sizeof *nv);
    bool *nk = xrealloc(L->keep, (L->n + 1) * sizeof *nk);
    if (!nv || !nk)
        abort();
    L->v = nv;
    L->keep = nk;
    L->v[L->n] = xstrndup(l->value, l->len);
    L->keep[L->n++] = keep;
}

/* crawl links [--base URL] [--page-requisites] [--all] FILE|-: the links the
 * extractor finds, resolved and normalized, once each, in document order. */
static int cmd_links(int argc, char **argv)
{
    const char *base = NULL, *file = NULL, *charset = NULL;
    link_list L = {0};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--base") == 0 && i + 1 < argc)
            base = argv[++i];
        else if (strncmp(argv[i], "--base=", 7) == 0)
            base = argv[i] + 7;
        else if (strcmp(argv[i], "--charset") == 0 && i + 1 < argc)
            charset = argv[++i];
        else if (strcmp(argv[i], "--page-requisites") == 0)
            L.requisites = true;
        else if (strcmp(argv[i], "--all") == 0)
            L.all = true;
        else if (!file && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            file = argv[i];
        else {
            fprintf(stderr, "usage: crawl links [--base URL] [--charset NAME] [--page-requisites] [--all] FILE|-\n");
            return EXIT_USAGE;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: crawl links [--base URL] [--page-requisites] [--all] FILE|-\n");
        return EXIT_USAGE;
    }
    char *doc_base = NULL;
    if (base && !(doc_base = url_resolve(NULL, base))) {
        fprintf(stderr, "crawl: --base '%s' is not an absolute http(s) URL\n", base);
        return EXIT_USAGE;
    }
    size_t len;
    char *html = slurp(file, &len);
    if (!html) {
        free(doc_base);
        return EXIT_IO;
    }
    /* the encoding: --charset (as a Content-Type charset would give it), else sniffed */
    char ct[80] = "", cs[48];
    if (charset)
        snprintf(ct, sizeof ct, "text/html; charset=%.60s", charset);
    charset_detect(charset ? ct : NULL, html, len, cs, sizeof cs);
    size_t ulen = 0;
    char *utf8 = charset_to_utf8(cs, html, len, &ulen);
    links_info info;
    links_extract(utf8 ? utf8 : html, utf8 ? ulen : len, 0, collect_link, &L, &info);
    free(utf8);
    free(html);
    /* <base href> applies to the whole document, wherever it stands */
    char *eff = doc_base ? xstrdup(doc_base) : NULL;
    if (info.base[0]) {
        char *b = url_resolve(doc_base, info.base);
        if (b) {
            free(eff);
            eff = b;
        }
    }
    char **seen = xcalloc(L.n + 1, sizeof *seen);
    size_t nseen = 0;
    for (size_t i = 0; i < L.n; i++) {
        char *q = charset_link_query(cs, L.v[i]); /* the query in the page's encoding */
        char *abs = L.keep[i] && !(info.meta_nofollow && !L.all) ? url_resolve(eff, q ? q : L.v[i]) : NULL;
        free(q);
        char *norm = abs ? url_normalize(abs) : NULL;
        bool dup = false;
        for (size_t k = 0; norm && k < nseen && !dup; k++)
            dup = strcmp(seen[k], norm) == 0;
        if (norm && !dup) {
            puts(norm);
            seen[nseen++] = norm;
        } else {
            free(norm);
        }
        free(abs);
        free(L.v[i]);
    }
    for (size_t k = 0; k < nseen; k++)
        free(seen[k]);
    free(seen);
    free(L.v);
    free(L.keep);
    free(eff);
    free(doc_base);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "robots") == 0)
        return cmd_robots(argc, argv);
    if (argc > 1 && strcmp(argv[1], "links") == 0)
        return cmd_links(argc, argv);
    /* --help TOPIC (as curl's): one group of options */
    if (argc == 3 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) && argv[2][0] != '-') {
        if (!opts_help_topic_known(argv[2])) {
            fprintf(stderr,
                    "crawl: no help topic '%s' (topics: all, output, http, limits, recursive, mirroring, durable, "
                    "batch)\n",
                    argv[2]);
            return EXIT_USAGE;
        }
        opts_print_help_topic(stdout, argv[2]);
        return 0;
    }
    /* SIGINT/SIGTERM are handled on the event loop; until the engine has
     * registered for them (it unblocks them then), they wait, so a stop
     * request right at start-up is still a clean stop. */
    fetcher_signals_init();
    opt_list cli = {0};
    if (opts_parse_args(argc, argv, &cli, stderr) < 0) {
        opt_list_free(&cli);
        return EXIT_USAGE;
    }
    job single = {.name = NULL};
    opts_defaults(&single.o);
    if (opts_apply(&single.o, &cli, stderr) > 0 || (!single.o.config && opts_check_requires(&single.o, &cli, stderr) > 0)) {
        job_free(&single);
        opt_list_free(&cli);
        return EXIT_USAGE;
    }
    int rc = 0;
    /* Broken pipes are reported as write errors, never as a signal; the
     * engine handles SIGINT/SIGTERM on its loop (correct as PID 1 too). */
    signal(SIGPIPE, SIG_IGN);
    if (single.o.help) {
        opts_print_help(stdout);
    } else if (single.o.version) {
        print_version();
    } else if (http_global_init() < 0) {
        fprintf(stderr, "crawl: cannot initialise libcurl\n");
        rc = EXIT_GENERIC;
    } else {
        if (single.o.config) {
            if (single.o.urls.n) {
                fprintf(stderr, "crawl: URLs on the command line cannot be combined with --config "
                                "(put them in a job as url = ...)\n");
                rc = EXIT_USAGE;
            } else {
                rc = run_config(&cli, &single.o);
            }
        } else if (single.o.check || single.o.job_names.n) {
            fprintf(stderr, "crawl: --check and --job need --config FILE\n");
            rc = EXIT_USAGE;
        } else if (single.o.urls.n == 0 && single.o.input_files.n == 0) {
            fprintf(stderr, "crawl: no URLs given (pass URLs or -i FILE; see crawl --help)\n");
            rc = EXIT_USAGE;
        } else if (build_cfg(&single) < 0) {
            rc = EXIT_USAGE;
        } else {
            raise_nofile(single.o.concurrency, 1);
            rc = co_run(fetcher_main, &single.cfg, NULL);
            if (rc < 0) {
                fprintf(stderr, "crawl: cannot start the event loop: %s\n", strerror(-rc));
                rc = EXIT_GENERIC;
            }
        }
        http_global_cleanup();
    }
    job_free(&single);
    opt_list_free(&cli);
    return rc;
}
