/* options: see options.h. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
} opt_def;

#define OFF(f) offsetof(crawl_opts, f)

static const opt_def defs[] = {
    {"input-file", 'i', "FILE", K_LIST, OFF(input_files), 0, 0, "read URLs from FILE, one per line ('-' = stdin); repeatable"},
    {"output", 'o', "FILE", K_STRING, OFF(output), 0, 0, "write JSON Lines records to FILE (default: stdout)"},
    {"concurrency", 'j', "N", K_LONG, OFF(concurrency), 1, 0, "fetches in flight at once (default 100)"},
    {"max-per-host", 0, "N", K_LONG, OFF(max_per_host), 0, 0, "fetches in flight per host, 0 = no limit (default 0)"},
    {"rate", 0, "N[/s|/m|/h]", K_RATE, OFF(rate), 0, 0, "start at most N requests per second overall"},
    {"host-rate", 0, "N[/s|/m|/h]", K_RATE, OFF(host_rate), 0, 0, "start at most N requests per second per host"},
    {"timeout", 0, "DURATION", K_DURATION, OFF(timeout_ms), 0, 0, "limit for one request, 0 = none (default 60s)"},
    {"connect-timeout", 0, "DURATION", K_DURATION, OFF(connect_timeout_ms), 0, 0, "limit for connecting (default 10s)"},
    {"speed-limit", 0, "BYTES", K_LONG, OFF(speed_limit), 1, 0, "abort below BYTES/s held for --speed-time (default 1)"},
    {"speed-time", 0, "DURATION", K_DURATION, OFF(speed_time_ms), 0, 0, "window for --speed-limit, 0 = off (default 30s)"},
    {"retries", 0, "N", K_LONG, OFF(retries), 0, 0, "retries on connection errors, timeouts, 429 and 5xx (default 2)"},
    {"retry-delay", 0, "DURATION", K_DURATION, OFF(retry_delay_ms), 0, 0, "first retry delay, doubled each time, jittered (default 1s)"},
    {"max-retry-delay", 0, "DURATION", K_DURATION, OFF(max_retry_delay_ms), 0, 0, "cap on one retry delay incl. Retry-After (default 2m)"},
    {"location", 'L', NULL, K_FLAG, OFF(location), 0, 1, "follow redirects (recording every hop)"},
    {"max-redirs", 0, "N", K_LONG, OFF(max_redirs), 0, 0, "redirects followed at most (default 10)"},
    {"user-agent", 0, "STRING", K_STRING, OFF(user_agent), 0, 0, "User-Agent header (default crawl/VERSION)"},
    {"header", 'H', "'NAME: VALUE'", K_LIST, OFF(headers), 0, 0, "extra request header; repeatable"},
    {"proxy", 'x', "URL", K_STRING, OFF(proxy), 0, 0, "use this proxy (environment proxies are ignored)"},
    {"insecure", 0, NULL, K_FLAG, OFF(insecure), 0, 1, "do not verify TLS certificates"},
    {"http1.1", 0, NULL, K_HTTPVER, OFF(http_version), 0, 11, "use HTTP/1.1 only"},
    {"http2", 0, NULL, K_HTTPVER, OFF(http_version), 0, 2, "prefer HTTP/2 (default over TLS)"},
    {"max-body", 0, "SIZE", K_SIZE, OFF(max_body), 0, 0, "read at most SIZE bytes of a body after decoding; 0 = no limit (default 0)"},
    {"directory-prefix", 'P', "DIR", K_STRING, OFF(directory_prefix), 0, 0, "save bodies under DIR/HOST/PATH"},
    {"progress", 0, "auto|bar|none", K_PROGRESS, OFF(progress), 0, 0, "progress line on stderr (auto: when it is a terminal)"},
    {"quiet", 'q', NULL, K_FLAG, OFF(quiet), 0, 1, "no progress and no summary"},
    {"verbose", 'v', NULL, K_COUNT, OFF(verbose), 0, 0, "log each fetch to stderr"},
    {"dns-servers", 0, "IP[:PORT],...", K_LIST, OFF(dns_servers), 0, 0, "DNS servers to use instead of /etc/resolv.conf"},
    {"dns-timeout", 0, "DURATION", K_DURATION, OFF(dns_timeout_ms), 0, 0, "limit for one DNS lookup (default 10s)"},
    {"resolve", 0, "HOST:PORT:ADDR", K_LIST, OFF(resolve), 0, 0, "resolve HOST to ADDR (any port); repeatable"},
    {"allow-private-addresses", 0, NULL, K_FLAG, OFF(allow_private), 0, 1,
     "let redirects reach loopback, private and link-local addresses"},
    {"grace", 0, "DURATION", K_DURATION, OFF(grace_ms), 0, 0, "on SIGINT/SIGTERM, let fetches in flight finish this long (default 10s)"},
    {"version", 'V', NULL, K_FLAG, OFF(version), 0, 1, "print versions and exit"},
    {"help", 'h', NULL, K_FLAG, OFF(help), 0, 1, "print this help and exit"},
};
#define NDEFS (sizeof defs / sizeof defs[0])

const char *opts_long_name(size_t i) { return i < NDEFS ? defs[i].lname : NULL; }

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
}

static void list_add(str_list *l, const char *s)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv)
        abort();
    l->v = nv;
    l->v[l->n++] = strdup(s);
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
    list_free(&o->input_files);
    list_free(&o->urls);
    list_free(&o->headers);
    list_free(&o->dns_servers);
    list_free(&o->resolve);
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

static int apply(crawl_opts *o, const opt_def *d, const char *val, FILE *err)
{
    char *p = (char *)o + d->off;
    int rc = 0;
    switch (d->k) {
    case K_FLAG: *(bool *)p = true; break;
    case K_COUNT: (*(int *)p)++; break;
    case K_HTTPVER: *(int *)p = d->value; break;
    case K_STRING: *(const char **)p = val; break;
    case K_LIST: list_add((str_list *)p, val); break;
    case K_LONG: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno || v < d->min) {
            fprintf(err, "crawl: --%s: expected a whole number >= %ld, got '%s'\n", d->lname, d->min, val);
            return -1;
        }
        *(long *)p = v;
        break;
    }
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
        fprintf(err, "crawl: --%s: expected %s, got '%s'\n", d->lname, what, val);
        return -1;
    }
    return 0;
}

int opts_parse(crawl_opts *o, int argc, char **argv, FILE *err)
{
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            list_add(&o->urls, a);
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        const opt_def *d = NULL;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (size_t k = 0; k < NDEFS && !d; k++)
                if (strlen(defs[k].lname) == len && strncmp(defs[k].lname, name, len) == 0)
                    d = &defs[k];
            if (!d) {
                fprintf(err, "crawl: unknown option '--%.*s' (see crawl --help)\n", (int)len, name);
                return -1;
            }
            if (eq) {
                if (!d->arg) {
                    fprintf(err, "crawl: option '--%s' takes no value\n", d->lname);
                    return -1;
                }
                val = eq + 1;
            }
        } else {
            for (size_t k = 0; k < NDEFS && !d; k++)
                if (defs[k].sname == a[1])
                    d = &defs[k];
            if (!d) {
                fprintf(err, "crawl: unknown option '-%c' (see crawl --help)\n", a[1]);
                return -1;
            }
            if (a[2]) {
                if (d->arg) {
                    val = a + 2; /* -j50 */
                } else {
                    /* bundled flags: -qL */
                    for (const char *f = a + 1; *f; f++) {
                        const opt_def *fd = NULL;
                        for (size_t k = 0; k < NDEFS && !fd; k++)
                            if (defs[k].sname == *f && !defs[k].arg)
                                fd = &defs[k];
                        if (!fd) {
                            fprintf(err, "crawl: unknown or value-taking option '-%c' in '%s'\n", *f, a);
                            return -1;
                        }
                        apply(o, fd, NULL, err);
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
        if (apply(o, d, val, err) < 0)
            return -1;
    }
    return 0;
}

void opts_print_help(FILE *out)
{
    fputs("Usage: crawl [OPTIONS] [URL...]\n"
          "Fetch every URL (from the arguments and from -i files) concurrently and write\n"
          "one JSON Lines record per URL.\n\nOptions:\n",
          out);
    for (size_t i = 0; i < NDEFS; i++) {
        const opt_def *d = &defs[i];
        char left[64];
        if (d->sname)
            snprintf(left, sizeof left, "-%c, --%s%s%s", d->sname, d->lname, d->arg ? " " : "", d->arg ? d->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->lname, d->arg ? " " : "", d->arg ? d->arg : "");
        fprintf(out, "  %-36s %s\n", left, d->help);
    }
    fputs("\nDurations take units (500ms, 10s, 5m, 1h; bare numbers are seconds);\n"
          "sizes take K, M, G (powers of 1024).\n"
          "\nExit status (the lowest non-zero code of the run wins, except 130):\n"
          "  0    every URL was fetched with a 2xx/3xx response\n"
          "  1    generic error (invalid URL lines, policy refusals, bodies over --max-body)\n"
          "  2    usage error (bad option or value)\n"
          "  3    file I/O error (input, output, saved bodies)\n"
          "  4    network failure (DNS, connect, timeout, connection reset)\n"
          "  5    TLS failure (including certificate verification)\n"
          "  7    protocol error (malformed response, bad encoding, redirect loop or limit)\n"
          "  8    the server answered with an HTTP error (4xx/5xx)\n"
          "  130  interrupted by SIGINT/SIGTERM (the output is still complete and valid)\n",
          out);
}
