/* options: see options.h. */
#include "options.h"
#include "net/url.h"
#include "out/errkind.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_FLAG, K_LONG, K_DURATION, K_SIZE, K_STRING, K_LIST, K_RATE, K_PROGRESS, K_HTTPVER, K_COUNT } kind;

typedef struct opt_def {
    const char *lname;
    char sname;
    const char *arg;   /* metavar, NULL for flags */
    kind k;
    size_t off;
    long min;          /* K_LONG minimum */
    int value;         /* K_FLAG / K_HTTPVER value to store */
    const char *help;
    bool cli_only;     /* not a config-file key */
} opt_def;

#define OFF(f) offsetof(crawl_opts, f)

static const opt_def defs[] = {
    {"input-file", 'i', "FILE", K_LIST, OFF(input_files), 0, 0, "read URLs from FILE, one per line ('-' = stdin); repeatable", false},
    {"output", 'o', "FILE", K_STRING, OFF(output), 0, 0, "write JSON Lines records to FILE (default: stdout)", false},
    {"output-document", 'O', "FILE", K_STRING, OFF(output_document), 0, 0, "write the bodies to FILE, one after another ('-' = stdout; then records only with -o)", false},
    {"format", 0, "jsonl|csv|tsv", K_STRING, OFF(format), 0, 0, "records as JSON Lines (default), or CSV/TSV with a header row", false},
    {"fields", 0, "LIST", K_STRING, OFF(fields), 0, 0, "write only these record fields, in this order (dotted: error.kind)", false},
    {"write-out", 0, "FORMAT", K_STRING, OFF(write_out), 0, 0, "write FORMAT per record instead, with curl's %{http_code}, %{url_effective}, %{json}...", false},
    {"match-status", 0, "LIST", K_STRING, OFF(match_status), 0, 0, "write only records whose status is in LIST (200,301-399,5xx; 0 = none)", false},
    {"filter-status", 0, "LIST", K_STRING, OFF(filter_status), 0, 0, "write no record whose status is in LIST (the summary counts all)", false},
    {"concurrency", 'j', "N", K_LONG, OFF(concurrency), 1, 0, "fetches in flight at once (default 100)", false},
    {"max-per-host", 0, "N", K_LONG, OFF(max_per_host), 0, 0, "fetches in flight per host, 0 = no limit (default 0)", false},
    {"rate", 0, "N[/s|/m|/h]", K_RATE, OFF(rate), 0, 0, "start at most N requests per second overall", false},
    {"host-rate", 0, "N[/s|/m|/h]", K_RATE, OFF(host_rate), 0, 0, "start at most N requests per second per host", false},
    {"timeout", 0, "DURATION", K_DURATION, OFF(timeout_ms), 0, 0, "limit for one request, 0 = none (default 60s)", false},
    {"connect-timeout", 0, "DURATION", K_DURATION, OFF(connect_timeout_ms), 0, 0, "limit for connecting (default 10s)", false},
    {"speed-limit", 0, "BYTES", K_LONG, OFF(speed_limit), 1, 0, "abort below BYTES/s held for --speed-time (default 1)", false},
    {"speed-time", 0, "DURATION", K_DURATION, OFF(speed_time_ms), 0, 0, "window for --speed-limit, 0 = off (default 30s)", false},
    {"retries", 0, "N", K_LONG, OFF(retries), 0, 0, "retries on connection errors, timeouts, 429 and 5xx (default 2)", false},
    {"retry-delay", 0, "DURATION", K_DURATION, OFF(retry_delay_ms), 0, 0, "first retry delay, doubled each time, jittered (default 1s)", false},
    {"max-retry-delay", 0, "DURATION", K_DURATION, OFF(max_retry_delay_ms), 0, 0, "cap on one retry delay incl. Retry-After (default 2m)", false},
    {"location", 'L', NULL, K_FLAG, OFF(location), 0, 1, "follow redirects (recording every hop)", false},
    {"location-trusted", 0, NULL, K_FLAG, OFF(location_trusted), 0, 1,
     "send -H Authorization, Cookie and Proxy-Authorization to other origins too (redirects, -r links)", false},
    {"max-redirs", 0, "N", K_LONG, OFF(max_redirs), 0, 0, "redirects followed at most (default 10)", false},
    {"user-agent", 0, "STRING", K_STRING, OFF(user_agent), 0, 0, "User-Agent header (default crawl/VERSION)", false},
    {"header", 'H', "'NAME: VALUE'", K_LIST, OFF(headers), 0, 0, "extra request header; repeatable", false},
    {"proxy", 'x', "URL", K_STRING, OFF(proxy), 0, 0, "use this proxy for every URL (default: http_proxy, https_proxy, all_proxy from the environment)", false},
    {"noproxy", 0, "LIST", K_STRING, OFF(noproxy), 0, 0, "reach these hosts directly: comma-separated names (and their subdomains), addresses, CIDR ranges, or * (default: no_proxy)", false},
    {"proxy-user", 0, "USER[:PASSWORD]", K_STRING, OFF(proxy_user), 0, 0, "credentials for the proxy", false},
    {"no-proxy", 0, NULL, K_FLAG, OFF(no_proxy), 0, 1, "use no proxy, whatever the environment says", false},
    {"insecure", 0, NULL, K_FLAG, OFF(insecure), 0, 1, "do not verify TLS certificates", false},
    {"cacert", 0, "FILE", K_STRING, OFF(cacert), 0, 0, "verify servers with the CA certificates in FILE (PEM) instead of the system's", false},
    {"capath", 0, "DIR", K_STRING, OFF(capath), 0, 0, "verify servers with the CA certificates in DIR (hashed names, c_rehash)", false},
    {"cert", 0, "FILE", K_STRING, OFF(cert), 0, 0, "client certificate (PEM; may hold the key too)", false},
    {"key", 0, "FILE", K_STRING, OFF(key), 0, 0, "private key of --cert (PEM)", false},
    {"inet4-only", '4', NULL, K_FLAG, OFF(inet4_only), 0, 1, "connect to IPv4 addresses only (DNS asks for A records only)", false},
    {"inet6-only", '6', NULL, K_FLAG, OFF(inet6_only), 0, 1, "connect to IPv6 addresses only (DNS asks for AAAA records only)", false},
    {"request", 'X', "METHOD", K_STRING, OFF(request_method), 0, 0, "send this method (default GET, or POST with a body)", false},
    {"data", 'd', "STRING|@FILE", K_LIST, OFF(data), 0, 0, "POST this body (form encoded); several are joined with '&'; @FILE: its contents, line breaks dropped", false},
    {"data-binary", 0, "STRING|@FILE", K_STRING, OFF(data_binary), 0, 0, "POST this body as is; @FILE is streamed from the file at each attempt", false},
    {"json", 0, "STRING|@FILE", K_LIST, OFF(json), 0, 0, "POST this JSON body (Content-Type and Accept: application/json); several are concatenated", false},
    {"head", 'I', NULL, K_FLAG, OFF(head), 0, 1, "send HEAD: status and headers only", false},
    {"user", 'u', "USER[:PASSWORD]", K_STRING, OFF(user), 0, 0, "Basic credentials, sent only to the input URLs' origins (see --location-trusted)", false},
    {"http-user", 0, "USER", K_STRING, OFF(http_user), 0, 0, "the user name of --user", false},
    {"http-password", 0, "PASSWORD", K_STRING, OFF(http_password), 0, 0, "the password of --user", false},
    {"cookie", 'b', "FILE|'N=V'", K_LIST, OFF(cookies), 0, 0, "load cookies from FILE (Netscape format), or send these ('N=V; N2=V2') to the input URLs' origins; repeatable", false},
    {"cookie-jar", 0, "FILE", K_STRING, OFF(cookie_jar), 0, 0, "at the end, write every cookie to FILE (Netscape format, atomically)", false},
    {"save-cookies", 0, "FILE", K_STRING, OFF(save_cookies), 0, 0, "as --cookie-jar, without session cookies unless --keep-session-cookies (wget)", false},
    {"keep-session-cookies", 0, NULL, K_FLAG, OFF(keep_session_cookies), 0, 1, "with --save-cookies: session cookies too", false},
    {"no-cookies", 0, NULL, K_FLAG, OFF(no_cookies), 0, 1, "no cookie engine (by default cookies set by servers are kept for the run)", false},
    {"http1.1", 0, NULL, K_HTTPVER, OFF(http_version), 0, 11, "use HTTP/1.1 only", false},
    {"http2", 0, NULL, K_HTTPVER, OFF(http_version), 0, 2, "prefer HTTP/2 (default over TLS)", false},
    {"limit-rate", 0, "RATE", K_SIZE, OFF(limit_rate), 0, 0, "receive at most RATE bytes/s per transfer (K, M, G: 1024s); 0 = no limit", false},
    {"limit-rate-total", 0, "RATE", K_SIZE, OFF(limit_rate_total), 0, 0, "receive at most RATE bytes/s in all, shared by the transfers in flight; 0 = no limit", false},
    {"max-body", 0, "SIZE", K_SIZE, OFF(max_body), 0, 0, "read at most SIZE bytes of a body after decoding; 0 = no limit (default 1G)", false},
    {"directory-prefix", 'P', "DIR", K_STRING, OFF(directory_prefix), 0, 0, "save bodies under DIR/HOST/PATH", false},
    {"timestamping", 'N', NULL, K_FLAG, OFF(timestamping), 0, 1, "with -P: fetch only what is newer than the saved file (If-Modified-Since), overwrite it and date it by Last-Modified", false},
    {"no-clobber", 0, NULL, K_FLAG, OFF(no_clobber), 0, 1, "with -P: do not fetch a URL whose file is already saved (also -nc)", false},
    {"progress", 0, "auto|bar|none", K_PROGRESS, OFF(progress), 0, 0, "progress line on stderr (auto: when it is a terminal)", false},
    {"quiet", 'q', NULL, K_FLAG, OFF(quiet), 0, 1, "no progress and no summary", false},
    {"verbose", 'v', NULL, K_COUNT, OFF(verbose), 0, 0, "log each fetch to stderr", false},
    {"dns-servers", 0, "IP[:PORT],...", K_LIST, OFF(dns_servers), 0, 0, "DNS servers to use instead of /etc/resolv.conf", false},
    {"dns-timeout", 0, "DURATION", K_DURATION, OFF(dns_timeout_ms), 0, 0, "limit for one DNS lookup (default 10s)", false},
    {"resolve", 0, "HOST:PORT:ADDR", K_LIST, OFF(resolve), 0, 0, "resolve HOST to ADDR (any port); repeatable", false},
    {"allow-private-addresses", 0, NULL, K_FLAG, OFF(allow_private), 0, 1,
     "let redirects reach loopback, private and link-local addresses", false},
    {"grace", 0, "DURATION", K_DURATION, OFF(grace_ms), 0, 0, "on SIGINT/SIGTERM, let fetches in flight finish this long (default 10s)", false},
    {"url", 0, "URL", K_LIST, OFF(urls), 0, 0, "a URL to fetch (like a positional URL); repeatable", false},
    {"recursive", 'r', NULL, K_FLAG, OFF(recursive), 0, 1, "crawl: follow links from the URLs given, within the scope", false},
    {"level", 'l', "N", K_LONG, OFF(level), 0, 0, "with -r: maximum link depth, 0 = unlimited (default 5)", false},
    {"span-hosts", 0, NULL, K_FLAG, OFF(span_hosts), 0, 1, "with -r: follow links to other hosts (see --domains)", false},
    {"domains", 'D', "LIST", K_LIST, OFF(domains), 0, 0, "with --span-hosts: only these comma-separated domains and their subdomains", false},
    {"same-site", 0, NULL, K_FLAG, OFF(same_site), 0, 1, "with -r: follow links anywhere in the seeds' registrable domains (public suffix list)", false},
    {"sitemap", 0, "URL", K_LIST, OFF(sitemaps), 0, 0, "with -r: also read this XML sitemap or sitemap index (gzip too); repeatable", false},
    {"state", 0, "DIR", K_STRING, OFF(state_dir), 0, 0, "keep the crawl's state in DIR (SQLite) so it can be resumed after any stop", false},
    {"resume", 0, NULL, K_FLAG, OFF(resume), 0, 1, "with --state: continue the crawl kept there", false},
    {"checkpoint-interval", 0, "DURATION", K_DURATION, OFF(checkpoint_ms), 0, 0, "with --state: commit at least this often (default 250ms; at most this much work is redone after a crash)", false},
    {"warc-file", 0, "NAME", K_STRING, OFF(warc_file), 0, 0, "also write every exchange to NAME-00000.warc.gz (WARC 1.1, per-record gzip)", false},
    {"warc-max-size", 0, "SIZE", K_SIZE, OFF(warc_max_size), 0, 0, "start a new WARC file past SIZE, 0 = never (default 1G)", false},
    {"warc-dedup", 0, NULL, K_FLAG, OFF(warc_dedup), 0, 1, "write revisit records for payloads already archived", false},
    {"exclude-domains", 0, "LIST", K_LIST, OFF(exclude_domains), 0, 0, "with -r: never these comma-separated domains", false},
    {"accept-regex", 0, "REGEX", K_STRING, OFF(accept_regex), 0, 0, "with -r: follow only URLs matching this POSIX extended regex", false},
    {"reject-regex", 0, "REGEX", K_STRING, OFF(reject_regex), 0, 0, "with -r: never follow URLs matching this regex", false},
    {"max-pages", 0, "N", K_LONG, OFF(max_pages), 0, 0, "with -r: queue at most N pages in all, 0 = no limit (default 0)", false},
    {"max-pages-per-host", 0, "N", K_LONG, OFF(max_pages_per_host), 0, 0, "with -r: at most N pages per host, 0 = no limit", false},
    {"max-url-length", 0, "N", K_LONG, OFF(max_url_length), 0, 0, "with -r: skip longer URLs (default 2048)", false},
    {"delay", 'w', "DURATION", K_DURATION, OFF(delay_ms), 0, 0, "least time between two request starts on one host (-r: default robots.txt Crawl-delay)", false},
    {"random-wait", 0, NULL, K_FLAG, OFF(random_wait), 0, 1, "vary --delay randomly between 0.5 and 1.5 times (wget)", false},
    {"robots", 0, "on|off", K_FLAG, OFF(robots), 0, 1, "with -r: obey robots.txt (default on)", false},
    {"page-requisites", 'p', NULL, K_FLAG, OFF(page_requisites), 0, 1, "with -r: also fetch images, scripts, stylesheets", false},
    {"follow-nofollow", 0, NULL, K_FLAG, OFF(follow_nofollow), 0, 1, "with -r: follow rel=nofollow links and nofollow pages too", false},
    {"spider", 0, NULL, K_FLAG, OFF(spider), 0, 1, "check with HEAD (GET where HEAD is refused, and for pages -r reads for links); save nothing", false},
    {"max-links-per-page", 0, "N", K_LONG, OFF(max_links_per_page), 0, 0, "with -r: read at most N links from one page (default 10000)", false},
    {"no-parent", 0, NULL, K_FLAG, OFF(no_parent), 0, 1, "with -r: never go above the seeds' directories (wget -np)", false},
    {"accept", 'A', "LIST", K_LIST, OFF(accept), 0, 0, "with -r: keep only files whose names end in or match these (pdf,*.jpg); HTML is still read for links", false},
    {"reject", 'R', "LIST", K_LIST, OFF(reject), 0, 0, "with -r: keep no file whose name ends in or matches these", false},
    {"no-host-directories", 0, NULL, K_FLAG, OFF(no_host_dirs), 0, 1, "with -P: no HOST directory (wget -nH)", false},
    {"no-directories", 0, NULL, K_FLAG, OFF(no_dirs), 0, 1, "with -P: every file directly under DIR (wget -nd)", false},
    {"cut-dirs", 0, "N", K_LONG, OFF(cut_dirs), 0, 0, "with -P: drop the first N directories of each path", false},
    {"adjust-extension", 'E', NULL, K_FLAG, OFF(adjust_ext), 0, 1, "with -P: add .html to HTML pages and .css to stylesheets that lack it", false},
    {"mirror", 'm', NULL, K_FLAG, OFF(mirror), 0, 1, "mirror a site: -r -N -l inf (with -P)", false},
    {"max-queued", 0, "N", K_LONG, OFF(max_queued), 1, 0, "with -r: URLs waiting in memory at most; more are dropped with a warning (kept for --resume with --state) (default 1000000)", false},
    {"config", 0, "FILE", K_STRING, OFF(config), 0, 0, "run the jobs of this configuration file (see crawl.conf(5))", true},
    {"job", 0, "NAME", K_LIST, OFF(job_names), 0, 0, "with --config: run only this job; repeatable", true},
    {"check", 0, NULL, K_FLAG, OFF(check), 0, 1, "with --config: validate and print each job's settings, fetch nothing", true},
    {"jobs", 0, "N", K_LONG, OFF(jobs), 1, 0, "with --config: run N jobs at a time (default 1)", false},
    {"stop-on-error", 0, NULL, K_FLAG, OFF(stop_on_error), 0, 1, "with --config: start no further job after one fails", false},
    {"version", 'V', NULL, K_FLAG, OFF(version), 0, 1, "print versions and exit", true},
    {"help", 'h', NULL, K_FLAG, OFF(help), 0, 1, "print this help and exit", true},
};
#define NDEFS (sizeof defs / sizeof defs[0])

/* Other spellings (wget's and curl's long names) of options in the table.
 * at_file: the alias takes a bare FILE where the option takes @FILE. */
static const struct opt_alias {
    const char *alias, *name;
    bool at_file;
} aliases[] = {
    {"method", "request", false},
    {"post-data", "data", false},
    {"body-data", "data", false},
    {"body-file", "data-binary", true},
    {"post-file", "data-binary", true},
    {"password", "http-password", false},
    {"load-cookies", "cookie", false},
    {"no-check-certificate", "insecure", false},
    {"ca-certificate", "cacert", false},
    {"ca-directory", "capath", false},
    {"certificate", "cert", false},
    {"private-key", "key", false},
    {"ipv4", "inet4-only", false},
    {"ipv6", "inet6-only", false},
    {"max-overall-download-limit", "limit-rate-total", false},
    {"wait", "delay", false},
};
#define NALIASES (sizeof aliases / sizeof aliases[0])

const char *opts_long_name(size_t i, bool *config_key)
{
    if (i >= NDEFS)
        return NULL;
    if (config_key)
        *config_key = !defs[i].cli_only;
    return defs[i].lname;
}

void opts_defaults(crawl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->concurrency = 100;
    o->timeout_ms = 60000;
    o->connect_timeout_ms = 10000;
    o->speed_limit = 1;
    o->speed_time_ms = 30000;
    o->retries = 2;
    o->retry_delay_ms = 1000;
    o->max_retry_delay_ms = 120000;
    o->max_redirs = 10;
    o->dns_timeout_ms = 10000;
    o->grace_ms = 10000;
    o->progress = PROGRESS_AUTO;
    o->jobs = 1;
    o->level = 5;
    o->max_url_length = 2048;
    o->delay_ms = -1;
    o->robots = true;
    o->max_links_per_page = 10000;
    o->max_queued = 1000000;
    o->warc_max_size = 1024LL * 1024 * 1024;
    o->max_body = 1024LL * 1024 * 1024; /* as Scrapy's DOWNLOAD_MAXSIZE: an endless body ends */
    o->checkpoint_ms = 250;
}

static void list_add(str_list *l, const char *s)
{
    char **nv = xrealloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv)
        abort();
    l->v = nv;
    l->v[l->n++] = xstrdup(s);
}

static void list_free(str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void opts_free(crawl_opts *o)
{
    for (size_t i = 0; i < NDEFS; i++) {
        char *p = (char *)o + defs[i].off;
        if (defs[i].k == K_LIST)
            list_free((str_list *)p);
        else if (defs[i].k == K_STRING) {
            free(*(char **)p);
            *(char **)p = NULL;
        }
    }
}

int parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v))
        return -EINVAL;
    double mult = 1000;
    if (*end == 0 || strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else
        return -EINVAL;
    if (v * mult > 9e15)
        return -ERANGE;
    *out = (int64_t)llround(v * mult);
    return 0;
}

int parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v))
        return -EINVAL;
    double mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 0: break;
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1024.0 * 1024; end++; break;
    case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    default: return -EINVAL;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || v * mult > 9e15)
        return -EINVAL;
    *out = (int64_t)llround(v * mult);
    return 0;
}

int parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || !isfinite(v))
        return -EINVAL;
    if (*end == 0 || strcmp(end, "/s") == 0)
        *out = v;
    else if (strcmp(end, "/m") == 0)
        *out = v / 60;
    else if (strcmp(end, "/h") == 0)
        *out = v / 3600;
    else
        return -EINVAL;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* Where an assignment came from, for messages. */
static void where(const opt_assign *a, char *buf, size_t len)
{
    if (a->file)
        snprintf(buf, len, "%s:%d: %s", a->file, a->line, a->def->lname);
    else
        snprintf(buf, len, "crawl: --%s", a->def->lname);
}

/* Apply one assignment. fresh: first time this layer sets a list option. */
static int apply_one(crawl_opts *o, const opt_assign *a, bool fresh, char *msg, size_t mlen)
{
    const opt_def *d = a->def;
    const char *val = a->value;
    char *p = (char *)o + d->off;
    char w[512];
    int rc = 0;
    switch (d->k) {
    case K_FLAG:
    case K_HTTPVER: {
        bool on = true;
        if (val && parse_bool(val, &on) < 0) {
            where(a, w, sizeof w);
            snprintf(msg, mlen, "%s: expected true or false, got '%s'", w, val);
            return -1;
        }
        if (d->k == K_FLAG)
            *(bool *)p = on;
        else
            *(int *)p = on ? d->value : 0;
        if (on && strcmp(d->lname, "mirror") == 0) { /* wget's -m: -r -N -l inf; a later -l still wins */
            o->recursive = true;
            o->level = 0;
            o->timestamping = true;
        }
        return 0;
    }
    case K_COUNT:
        if (!val) {
            (*(long *)p)++;
            return 0;
        }
        __attribute__((fallthrough)); /* a count given as a number */
    case K_LONG: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (strcmp(d->lname, "level") == 0 && (strcmp(val, "inf") == 0 || strcmp(val, "infinite") == 0))
            v = 0, end = (char *)val + strlen(val); /* wget's -l inf */
        if (end == val || *end || errno || v < d->min) {
            where(a, w, sizeof w);
            snprintf(msg, mlen, "%s: expected a whole number >= %ld, got '%s'", w, d->min, val);
            return -1;
        }
        *(long *)p = v;
        return 0;
    }
    case K_STRING:
        free(*(char **)p);
        *(char **)p = xstrdup(val);
        return 0;
    case K_LIST:
        if (fresh)
            list_free((str_list *)p);
        list_add((str_list *)p, val);
        return 0;
    case K_DURATION: rc = parse_duration_ms(val, (int64_t *)p); break;
    case K_SIZE: rc = parse_size(val, (int64_t *)p); break;
    case K_RATE: rc = parse_rate(val, (double *)p); break;
    case K_PROGRESS:
        if (strcmp(val, "auto") == 0)
            *(progress_mode *)p = PROGRESS_AUTO;
        else if (strcmp(val, "bar") == 0)
            *(progress_mode *)p = PROGRESS_BAR;
        else if (strcmp(val, "none") == 0)
            *(progress_mode *)p = PROGRESS_NONE;
        else
            rc = -EINVAL;
        break;
    }
    if (rc < 0) {
        const char *what = d->k == K_DURATION ? "a duration such as 500ms, 10s, 5m"
                         : d->k == K_SIZE     ? "a size such as 512K, 10M, 1G"
                         : d->k == K_RATE     ? "a rate such as 20, 20/s, 600/m"
                                              : "one of auto, bar, none";
        where(a, w, sizeof w);
        snprintf(msg, mlen, "%s: expected %s, got '%s'", w, what, val);
        return -1;
    }
    return 0;
}

/* Options that mean something only with another one: given without it,
 * they would do nothing, so they are refused (exit status 2) instead of
 * accepted silently. */
static const struct {
    const char *opt, *needs, *needs_cli;
} requires[] = {
    {"level", "recursive", "-r"},
    {"span-hosts", "recursive", "-r"},
    {"domains", "recursive", "-r"},
    {"exclude-domains", "recursive", "-r"},
    {"same-site", "recursive", "-r"},
    {"sitemap", "recursive", "-r"},
    {"accept-regex", "recursive", "-r"},
    {"reject-regex", "recursive", "-r"},
    {"max-pages", "recursive", "-r"},
    {"max-pages-per-host", "recursive", "-r"},
    {"max-url-length", "recursive", "-r"},
    {"robots", "recursive", "-r"},
    {"page-requisites", "recursive", "-r"},
    {"follow-nofollow", "recursive", "-r"},
    {"max-links-per-page", "recursive", "-r"},
    {"max-queued", "recursive", "-r"},
    {"no-parent", "recursive", "-r"},
    {"accept", "recursive", "-r"},
    {"reject", "recursive", "-r"},
    {"no-host-directories", "directory-prefix", "-P"},
    {"no-directories", "directory-prefix", "-P"},
    {"cut-dirs", "directory-prefix", "-P"},
    {"adjust-extension", "directory-prefix", "-P"},
    {"mirror", "directory-prefix", "-P"},
    {"resume", "state", "--state"},
    {"checkpoint-interval", "state", "--state"},
    {"warc-max-size", "warc-file", "--warc-file"},
    {"warc-dedup", "warc-file", "--warc-file"},
};

static const opt_def *def_named(const char *name)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (strcmp(defs[i].lname, name) == 0)
            return &defs[i];
    return NULL;
}

/* Is the option named name in effect in o (a flag on, a string or list set)? */
static bool in_effect(const crawl_opts *o, const char *name)
{
    const opt_def *d = def_named(name);
    if (!d)
        return false;
    const char *f = (const char *)o + d->off;
    switch (d->k) {
    case K_FLAG: {
        bool b;
        memcpy(&b, f, sizeof b);
        return b;
    }
    case K_STRING: {
        const char *v;
        memcpy(&v, f, sizeof v);
        return v != NULL;
    }
    case K_LIST: {
        str_list l;
        memcpy(&l, f, sizeof l);
        return l.n > 0;
    }
    default:
        return true;
    }
}

int opts_check_requires(const crawl_opts *o, const opt_list *l, FILE *err)
{
    int errors = 0;
    for (size_t i = 0; i < l->n; i++) {
        const opt_assign *a = &l->v[i];
        for (size_t k = 0; k < sizeof requires / sizeof requires[0]; k++) {
            if (strcmp(a->def->lname, requires[k].opt) != 0 || in_effect(o, requires[k].needs))
                continue;
            errors++;
            if (!err)
                break;
            if (a->file)
                fprintf(err, "%s:%d: %s needs %s; without it, it would do nothing\n", a->file, a->line, a->def->lname,
                        requires[k].needs);
            else
                fprintf(err, "crawl: --%s needs %s; without it, it would do nothing\n", a->def->lname,
                        requires[k].needs_cli);
            break;
        }
    }
    return errors;
}

int opts_apply(crawl_opts *o, const opt_list *l, FILE *err)
{
    bool seen[NDEFS];
    memset(seen, 0, sizeof seen);
    int errors = 0;
    char msg[1024];
    for (size_t i = 0; i < l->n; i++) {
        size_t k = (size_t)(l->v[i].def - defs);
        bool fresh = !seen[k];
        seen[k] = true;
        if (apply_one(o, &l->v[i], fresh, msg, sizeof msg) < 0) {
            errors++;
            if (err)
                fprintf(err, "%s\n", msg);
        }
    }
    return errors;
}

static void push(opt_list *l, const opt_def *d, const char *value, const char *file, int line)
{
    opt_assign *nv = xrealloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv)
        abort();
    l->v = nv;
    l->v[l->n].def = d;
    l->v[l->n].value = value ? xstrdup(value) : NULL;
    l->v[l->n].file = file;
    l->v[l->n].line = line;
    l->n++;
}

static void push_value(opt_list *l, const opt_def *d, const char *value, bool at_file, const char *file, int line)
{
    if (!at_file || !value) {
        push(l, d, value, file, line);
        return;
    }
    size_t n = strlen(value);
    char *v = xcalloc(1, n + 2);
    v[0] = '@';
    memcpy(v + 1, value, n + 1); /* with its NUL */
    push(l, d, v, file, line);
    free(v);
}

void opt_list_free(opt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].value);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static const opt_def *find_def(const char *name, size_t len)
{
    for (size_t k = 0; k < NDEFS; k++)
        if (strlen(defs[k].lname) == len && strncmp(defs[k].lname, name, len) == 0)
            return &defs[k];
    return NULL;
}

/* The option named name (or one of its aliases); *at_file: see aliases. */
static const opt_def *find_long_alias(const char *name, size_t len, bool *at_file)
{
    *at_file = false;
    const opt_def *d = find_def(name, len);
    for (size_t k = 0; !d && k < NALIASES; k++)
        if (strlen(aliases[k].alias) == len && strncmp(aliases[k].alias, name, len) == 0) {
            d = find_def(aliases[k].name, strlen(aliases[k].name));
            *at_file = aliases[k].at_file;
        }
    return d;
}

static const opt_def *find_long(const char *name, size_t len)
{
    bool at_file;
    return find_long_alias(name, len, &at_file);
}

/* push() for an alias that takes a bare FILE: the option's @FILE. */
static void push_value(opt_list *l, const opt_def *d, const char *value, bool at_file, const char *file, int line);

static const opt_def *find_short(char c, bool flag_only)
{
    for (size_t k = 0; k < NDEFS; k++)
        if (defs[k].sname == c && (!flag_only || !defs[k].arg))
            return &defs[k];
    return NULL;
}

int opts_lookup_key(const char *key, const char *value, const char *file, int line, opt_list *out, char *msg,
                    size_t mlen)
{
    bool at_file;
    const opt_def *d = find_long_alias(key, strlen(key), &at_file);
    if (!d) {
        snprintf(msg, mlen, "%s:%d: unknown key '%s'", file, line, key);
        return -1;
    }
    if (d->cli_only) {
        snprintf(msg, mlen, "%s:%d: '%s' is a command-line option, not a configuration key", file, line, key);
        return -1;
    }
    push_value(out, d, value, at_file, file, line);
    return 0;
}

/* wget's two-letter short options, parsed as wget parses them. */
static const char *wget_two_letter(const char *s)
{
    static const char *const map[][2] = {
        {"np", "no-parent"}, {"nH", "no-host-directories"}, {"nd", "no-directories"}, {"nc", "no-clobber"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], s) == 0)
            return map[i][1];
    return NULL;
}

int opts_parse_args(int argc, char **argv, opt_list *out, FILE *err)
{
    const opt_def *url_def = find_long("url", 3);
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            push(out, url_def, a, NULL, 0);
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        const opt_def *d = NULL;
        const char *val = NULL;
        bool at_file = false;
        if (strcmp(a, "-nc") == 0) { /* wget's two-letter short option */
            push(out, find_def("no-clobber", 10), NULL, NULL, 0);
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            d = find_long_alias(name, len, &at_file);
            if (!d) {
                fprintf(err, "crawl: unknown option '--%.*s' (see crawl --help)\n", (int)len, name);
                return -1;
            }
            if (eq) {
                if (!d->arg && d->k != K_FLAG) {
                    fprintf(err, "crawl: option '--%s' takes no value\n", d->lname);
                    return -1;
                }
                val = eq + 1; /* --flag=false is allowed for boolean options */
            }
        } else if (a[1] == 'n' && a[2] && !a[3] && wget_two_letter(a + 1)) {
            /* wget's two-letter short options: -np, -nH, -nd, -nc */
            const char *name = wget_two_letter(a + 1);
            d = find_long(name, strlen(name));
            if (!d) {
                fprintf(err, "crawl: option '%s' (wget's --%s) is not supported (see crawl --help)\n", a, name);
                return -1;
            }
        } else {
            d = find_short(a[1], false);
            if (!d) {
                fprintf(err, "crawl: unknown option '-%c' (see crawl --help)\n", a[1]);
                return -1;
            }
            if (a[2]) {
                if (d->arg) {
                    val = a + 2; /* -j50 */
                } else {
                    for (const char *f = a + 1; *f; f++) { /* bundled flags: -qL */
                        const opt_def *fd = find_short(*f, true);
                        if (!fd) {
                            fprintf(err, "crawl: unknown or value-taking option '-%c' in '%s'\n", *f, a);
                            return -1;
                        }
                        push(out, fd, NULL, NULL, 0);
                    }
                    continue;
                }
            }
        }
        if (d->arg && !val) {
            if (i + 1 >= argc) {
                fprintf(err, "crawl: option '--%s' needs a value (%s)\n", d->lname, d->arg);
                return -1;
            }
            val = argv[++i];
        }
        push_value(out, d, val, at_file, NULL, 0);
    }
    return 0;
}

int opts_parse(crawl_opts *o, int argc, char **argv, FILE *err)
{
    opt_list l = {0};
    int rc = opts_parse_args(argc, argv, &l, err);
    if (rc == 0 && opts_apply(o, &l, err) > 0)
        rc = -1;
    opt_list_free(&l);
    return rc;
}

static void print_ms(FILE *out, int64_t ms)
{
    if (ms % 3600000 == 0 && ms)
        fprintf(out, "%lldh", (long long)(ms / 3600000));
    else if (ms % 60000 == 0 && ms)
        fprintf(out, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        fprintf(out, "%llds", (long long)(ms / 1000));
    else
        fprintf(out, "%lldms", (long long)ms);
}

/* A value as --check shows it: never a password given in a URL. */
static void print_redacted(FILE *out, const char *v)
{
    char *tmp;
    fputs(url_printable(v, &tmp), out);
    free(tmp);
}

static void print_value(FILE *out, const char *key, const char *v)
{
    fprintf(out, "%s = ", key);
    print_redacted(out, v);
    fputc('\n', out);
}

void opts_print_effective(const crawl_opts *o, FILE *out)
{
    for (size_t i = 0; i < NDEFS; i++) {
        const opt_def *d = &defs[i];
        if (d->cli_only)
            continue;
        const char *p = (const char *)o + d->off;
        if (d->k == K_LIST) {
            const str_list *l = (const str_list *)p;
            if (l->n == 0)
                fprintf(out, "# %s = (none)\n", d->lname);
            for (size_t j = 0; j < l->n; j++) {
                const char *v = l->v[j];
                /* never echo credentials (they usually come from ${VAR}) */
                if (strcmp(d->lname, "cookie") == 0 && strchr(v, '=')) { /* cookies, not a file */
                    fprintf(out, "%s = (hidden)\n", d->lname);
                    continue;
                }
                if (strcmp(d->lname, "header") == 0 &&
                    (strncasecmp(v, "authorization:", 14) == 0 || strncasecmp(v, "proxy-authorization:", 20) == 0 ||
                     strncasecmp(v, "cookie:", 7) == 0)) {
                    fprintf(out, "%s = %.*s: (hidden)\n", d->lname, (int)(strchr(v, ':') - v), v);
                    continue;
                }
                print_value(out, d->lname, v);
            }
            continue;
        }
        if (d->k == K_HTTPVER) {
            if (*(const int *)p == d->value)
                fprintf(out, "%s = true\n", d->lname);
            else
                fprintf(out, "%s = false\n", d->lname);
            continue;
        }
        if ((d->k == K_STRING && !*(char *const *)p) || (d->k == K_DURATION && *(const int64_t *)p < 0)) {
            fprintf(out, "# %s = (not set)\n", d->lname);
            continue;
        }
        bool userpass = strcmp(d->lname, "user") == 0 || strcmp(d->lname, "proxy-user") == 0;
        if (userpass || strcmp(d->lname, "http-password") == 0) {
            /* never echo credentials (they usually come from ${VAR}) */
            const char *v = *(char *const *)p;
            if (userpass && strchr(v, ':'))
                fprintf(out, "%s = %.*s:(hidden)\n", d->lname, (int)(strchr(v, ':') - v), v);
            else if (userpass)
                fprintf(out, "%s = %s\n", d->lname, v);
            else
                fprintf(out, "%s = (hidden)\n", d->lname);
            continue;
        }
        fprintf(out, "%s = ", d->lname);
        switch (d->k) {
        case K_FLAG: fputs(*(const bool *)p ? "true" : "false", out); break;
        case K_LONG:
        case K_COUNT: fprintf(out, "%ld", *(const long *)p); break;
        case K_DURATION: print_ms(out, *(const int64_t *)p); break;
        case K_SIZE: fprintf(out, "%lld", (long long)*(const int64_t *)p); break;
        case K_RATE: fprintf(out, "%g/s", *(const double *)p); break;
        case K_STRING: print_redacted(out, *(char *const *)p ? *(char *const *)p : ""); break;
        case K_PROGRESS: {
            progress_mode m = *(const progress_mode *)p;
            fputs(m == PROGRESS_AUTO ? "auto" : m == PROGRESS_BAR ? "bar" : "none", out);
            break;
        }
        default: break;
        }
        fputc('\n', out);
    }
}

/* --help's topics, and the topic of each option (by long name; an option
 * not listed here is shown under "other", so none is ever left out). */
static const struct {
    const char *name, *title;
} topics[] = {
    {"output", "Input and output"},
    {"http", "HTTP"},
    {"limits", "Limits and politeness"},
    {"recursive", "Recursive crawls (-r)"},
    {"mirroring", "Mirroring (saving a site under -P)"},
    {"durable", "Durable crawls and WARC"},
    {"batch", "Batch jobs (--config)"},
    {"other", "Other"},
};
#define NTOPICS (sizeof topics / sizeof topics[0])

static const struct {
    const char *opt, *topic;
} opt_topic[] = {
    {"input-file", "output"},
    {"url", "output"},
    {"output", "output"},
    {"format", "output"},
    {"fields", "output"},
    {"write-out", "output"},
    {"match-status", "output"},
    {"filter-status", "output"},
    {"directory-prefix", "output"},
    {"progress", "output"},
    {"quiet", "output"},
    {"verbose", "output"},
    {"output-document", "output"},
    {"version", "output"},
    {"help", "output"},
    {"location", "http"},
    {"location-trusted", "http"},
    {"max-redirs", "http"},
    {"user-agent", "http"},
    {"header", "http"},
    {"proxy", "http"},
    {"insecure", "http"},
    {"http1.1", "http"},
    {"http2", "http"},
    {"max-body", "http"},
    {"retries", "http"},
    {"retry-delay", "http"},
    {"max-retry-delay", "http"},
    {"timeout", "http"},
    {"connect-timeout", "http"},
    {"speed-limit", "http"},
    {"speed-time", "http"},
    {"dns-servers", "http"},
    {"dns-timeout", "http"},
    {"resolve", "http"},
    {"allow-private-addresses", "http"},
    {"concurrency", "limits"},
    {"max-per-host", "limits"},
    {"rate", "limits"},
    {"host-rate", "limits"},
    {"delay", "limits"},
    {"grace", "limits"},
    {"recursive", "recursive"},
    {"level", "recursive"},
    {"span-hosts", "recursive"},
    {"domains", "recursive"},
    {"exclude-domains", "recursive"},
    {"same-site", "recursive"},
    {"sitemap", "recursive"},
    {"accept-regex", "recursive"},
    {"reject-regex", "recursive"},
    {"max-pages", "recursive"},
    {"max-pages-per-host", "recursive"},
    {"max-url-length", "recursive"},
    {"robots", "recursive"},
    {"page-requisites", "recursive"},
    {"follow-nofollow", "recursive"},
    {"spider", "recursive"},
    {"max-links-per-page", "recursive"},
    {"max-queued", "recursive"},
    {"state", "durable"},
    {"resume", "durable"},
    {"checkpoint-interval", "durable"},
    {"warc-file", "durable"},
    {"warc-max-size", "durable"},
    {"warc-dedup", "durable"},
    {"no-parent", "mirroring"},
    {"accept", "mirroring"},
    {"reject", "mirroring"},
    {"no-host-directories", "mirroring"},
    {"no-directories", "mirroring"},
    {"cut-dirs", "mirroring"},
    {"adjust-extension", "mirroring"},
    {"mirror", "mirroring"},
    {"timestamping", "mirroring"},
    {"no-clobber", "mirroring"},
    {"noproxy", "http"},
    {"proxy-user", "http"},
    {"no-proxy", "http"},
    {"cacert", "http"},
    {"capath", "http"},
    {"cert", "http"},
    {"key", "http"},
    {"inet4-only", "http"},
    {"inet6-only", "http"},
    {"request", "http"},
    {"data", "http"},
    {"data-binary", "http"},
    {"json", "http"},
    {"head", "http"},
    {"user", "http"},
    {"http-user", "http"},
    {"http-password", "http"},
    {"cookie", "http"},
    {"cookie-jar", "http"},
    {"save-cookies", "http"},
    {"keep-session-cookies", "http"},
    {"no-cookies", "http"},
    {"limit-rate", "limits"},
    {"limit-rate-total", "limits"},
    {"random-wait", "limits"},
    {"config", "batch"},
    {"job", "batch"},
    {"check", "batch"},
    {"jobs", "batch"},
    {"stop-on-error", "batch"},
};

static const char *topic_of(const char *opt)
{
    for (size_t i = 0; i < sizeof opt_topic / sizeof opt_topic[0]; i++)
        if (strcmp(opt_topic[i].opt, opt) == 0)
            return opt_topic[i].topic;
    return "other";
}

#define HELP_WIDTH 80
#define HELP_COL 32 /* where descriptions start */

/* One option: its names at the left, its description wrapped to 80
 * columns in a column of its own (on the next line when the names are
 * long). */
static void print_option(FILE *out, const opt_def *d)
{
    char left[96];
    if (d->sname)
        snprintf(left, sizeof left, "  -%c, --%s%s%s", d->sname, d->lname, d->arg ? " " : "", d->arg ? d->arg : "");
    else
        snprintf(left, sizeof left, "      --%s%s%s", d->lname, d->arg ? " " : "", d->arg ? d->arg : "");
    char text[1024];
    size_t tl = (size_t)snprintf(text, sizeof text, "%s", d->help);
    for (size_t k = 0, n = 0; k < NALIASES && tl < sizeof text; k++) /* wget's and curl's other names */
        if (strcmp(aliases[k].name, d->lname) == 0)
            tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s--%s%s", n++ ? ", " : " (also ", aliases[k].alias,
                                   aliases[k].at_file ? " FILE" : "");
    for (size_t k = 0; k < NALIASES && tl < sizeof text; k++)
        if (strcmp(aliases[k].name, d->lname) == 0) {
            tl += (size_t)snprintf(text + tl, sizeof text - tl, ")");
            break;
        }
    if (tl < sizeof text)
        snprintf(text + tl, sizeof text - tl, "%s", d->cli_only ? " [command line only]" : "");
    int col = fprintf(out, "%s", left);
    if (col + 2 > HELP_COL) {
        fputc('\n', out);
        col = 0;
    }
    const char *t = text;
    while (*t) {
        fprintf(out, "%*s", HELP_COL - col, "");
        size_t room = HELP_WIDTH - HELP_COL, n = strlen(t);
        if (n > room) { /* break at the last space that fits */
            n = room;
            while (n > 0 && t[n] != ' ')
                n--;
            if (n == 0)
                n = room;
        }
        fprintf(out, "%.*s\n", (int)n, t);
        t += n;
        while (*t == ' ')
            t++;
        col = 0;
    }
}

bool opts_help_topic_known(const char *topic)
{
    if (strcmp(topic, "all") == 0)
        return true;
    for (size_t i = 0; i < NTOPICS; i++)
        if (strcmp(topics[i].name, topic) == 0)
            return true;
    return false;
}

void opts_print_help_topic(FILE *out, const char *topic)
{
    for (size_t k = 0; k < NTOPICS; k++) {
        if (strcmp(topic, "all") != 0 && strcmp(topic, topics[k].name) != 0)
            continue;
        bool any = false;
        for (size_t i = 0; i < NDEFS; i++) {
            if (strcmp(topic_of(defs[i].lname), topics[k].name) != 0)
                continue;
            if (!any)
                fprintf(out, "\n%s (--help %s):\n", topics[k].title, topics[k].name);
            any = true;
            print_option(out, &defs[i]);
        }
    }
}

void opts_print_help(FILE *out)
{
    fputs("Usage: crawl [OPTIONS] [URL...]\n"
          "       crawl --config FILE [--job NAME]... [--check] [OPTIONS]\n"
          "       crawl robots FILE|- AGENT URL...\n"
          "       crawl links [--base URL] [--charset NAME] [--page-requisites] [--all]\n"
          "                   FILE|-\n"
          "Fetch every URL (from the arguments and from -i files) concurrently and write\n"
          "one JSON Lines record per URL. With --config, run the jobs of a configuration\n"
          "file; every option below except the command-line-only ones is also a key\n"
          "there, and the command line overrides the file. `crawl --help TOPIC` shows\n"
          "one group: output, http, limits, recursive, mirroring, durable, batch.\n",
          out);
    opts_print_help_topic(out, "all");
    fputs("\nDurations take units (500ms, 10s, 5m, 1h; bare numbers are seconds);\n"
          "sizes take K, M, G (powers of 1024).\n"
          "\nExit status (the lowest non-zero code of the run wins, but 1 yields to any other\n"
          "and 130 to none):\n"
          "  0    every URL was fetched with a 2xx/3xx response\n"
          "  1    generic error (invalid URL lines, policy refusals, over --max-body)\n"
          "  2    usage error (bad option or value)\n"
          "  3    file I/O error (input, output, saved bodies)\n"
          "  4    network failure (DNS, connect, timeout, connection reset)\n"
          "  5    TLS failure (including certificate verification)\n"
          "  7    protocol error (malformed response, bad encoding, redirect loop or limit)\n"
          "  8    the server answered with an HTTP error (4xx/5xx)\n"
          "  130  interrupted by SIGINT/SIGTERM (the output is still complete and valid)\n",
          out);
    errkind_print_help(out);
}
