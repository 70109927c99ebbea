/* options: the one table of options. The command-line parser, the
 * configuration-file keys (same long names), --help, --check's listing of
 * effective settings, and the man-page tests are all driven by it, so they
 * cannot drift apart.
 *
 * Settings are applied in layers: built-in defaults, then a config file's
 * [defaults], then its [job NAME], then the command line. Within a layer a
 * repeatable option accumulates; a later layer that sets it replaces it.
 *
 * Ownership: crawl_opts owns every string in it (opts_free). Single-threaded.
 */
#ifndef CRAWL_CLI_OPTIONS_H
#define CRAWL_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct str_list {
    char **v;
    size_t n;
} str_list;

typedef enum { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_NONE } progress_mode;

typedef struct crawl_opts {
    str_list input_files;
    str_list urls;          /* positional and --url */
    char *output;           /* NULL or "-" = stdout */
    char *output_document;  /* -O FILE: the bodies */
    char *fields;           /* --fields LIST */
    char *format;           /* --format jsonl|csv|tsv */
    char *write_out;        /* --write-out FORMAT */
    char *match_status;     /* --match-status LIST */
    char *filter_status;    /* --filter-status LIST */
    long concurrency;
    long max_per_host;
    double rate;            /* requests/s, 0 = unlimited */
    double host_rate;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    long speed_limit;
    int64_t speed_time_ms;
    long retries;
    int64_t retry_delay_ms;
    int64_t max_retry_delay_ms;
    bool location;
    bool location_trusted; /* credentials may follow a redirect or link to another origin */
    long max_redirs;
    char *user_agent;
    str_list headers;
    char *proxy;
    char *noproxy;    /* --noproxy LIST */
    char *proxy_user; /* --proxy-user USER[:PASSWORD] */
    bool no_proxy;    /* --no-proxy: no proxy, whatever the environment says */
    bool insecure;
    char *cacert, *capath, *cert, *key; /* TLS files */
    bool inet4_only, inet6_only;        /* -4, -6 */
    int64_t limit_rate, limit_rate_total; /* bytes/s, 0 = none */
    bool random_wait;
    /* the request: method, body, credentials, cookies */
    char *request_method; /* -X */
    str_list data;        /* -d STRING|@FILE, joined with '&' */
    char *data_binary;    /* --data-binary STRING|@FILE (a file is streamed) */
    str_list json;        /* --json STRING|@FILE, concatenated */
    bool head;            /* -I */
    char *user;           /* -u USER[:PASSWORD] */
    char *http_user, *http_password;
    str_list cookies;   /* -b FILE|'N=V; ...' */
    char *cookie_jar;   /* curl's -c: every cookie */
    char *save_cookies; /* wget's: session cookies only with keep_session_cookies */
    bool keep_session_cookies;
    bool no_cookies;
    int http_version;       /* 0, 11, 2 */
    int64_t max_body;       /* bytes, 0 = unlimited */
    char *directory_prefix;
    bool timestamping; /* -N */
    bool no_clobber;   /* -nc */
    progress_mode progress;
    bool quiet;
    long verbose;
    str_list dns_servers;
    int64_t dns_timeout_ms;
    str_list resolve;       /* HOST:PORT:ADDR */
    bool allow_private;
    int64_t grace_ms;
    /* recursive crawling */
    bool recursive;
    long level;
    bool span_hosts;
    str_list domains;
    str_list exclude_domains;
    char *accept_regex;
    char *reject_regex;
    long max_pages;
    long max_pages_per_host;
    long max_url_length;
    int64_t delay_ms;
    bool robots;
    bool page_requisites;
    bool no_parent;
    str_list accept, reject; /* -A / -R: suffixes or globs, comma lists */
    bool no_host_dirs, no_dirs, adjust_ext;
    long cut_dirs;
    bool mirror;
    bool follow_nofollow;
    bool spider;
    long max_links_per_page;
    long max_queued;
    bool same_site;
    str_list sitemaps;
    char *warc_file;
    int64_t warc_max_size;
    bool warc_dedup;
    char *state_dir;
    bool resume;
    int64_t checkpoint_ms;
    /* batch jobs */
    char *config;
    str_list job_names;
    bool check;
    long jobs;
    bool stop_on_error;
    bool help, version;
} crawl_opts;

/* One "--name value" or "name = value", not yet applied. */
typedef struct opt_assign {
    const struct opt_def *def;
    char *value;            /* NULL for a bare flag on the command line */
    const char *file;       /* for messages: NULL = command line */
    int line;
} opt_assign;

typedef struct opt_list {
    opt_assign *v;
    size_t n;
} opt_list;

void opts_defaults(crawl_opts *o);
void opts_free(crawl_opts *o);
/* Command line -> assignments. 0, or -1 after printing "crawl: ..." to err. */
int opts_parse_args(int argc, char **argv, opt_list *out, FILE *err);
/* A config-file key -> assignment. 0, or -1 with a message in msg. */
int opts_lookup_key(const char *key, const char *value, const char *file, int line, opt_list *out, char *msg,
                    size_t msglen);
/* Apply one layer, going on after errors. Returns the number of errors, each
 * printed to err (if not NULL) as "FILE:LINE: message" or "crawl: --opt: ...". */
int opts_apply(crawl_opts *o, const opt_list *l, FILE *err);
/* Options assigned in l that mean nothing in o without another one (-l
 * without -r, --resume without --state, ...): each is reported to err (may
 * be NULL) with its FILE:LINE when it has one. Returns how many. */
int opts_check_requires(const crawl_opts *o, const opt_list *l, FILE *err);
void opt_list_free(opt_list *l);
/* Convenience: parse and apply the command line (no config). */
int opts_parse(crawl_opts *o, int argc, char **argv, FILE *err);
void opts_print_help(FILE *out);
/* --help TOPIC: a topic's options ("all": every one, grouped). */
bool opts_help_topic_known(const char *topic);
void opts_print_help_topic(FILE *out, const char *topic);
/* Every setting of o that a config file can hold, as "key = value" lines. */
void opts_print_effective(const crawl_opts *o, FILE *out);

/* Value parsers, shared with the config file (and unit-tested). */
int parse_duration_ms(const char *s, int64_t *out);  /* "500ms", "10s", "5m", "1h", bare = seconds */
int parse_size(const char *s, int64_t *out);         /* "100", "10K", "5M", "1G" (binary) */
int parse_rate(const char *s, double *out);          /* "20", "20/s", "600/m", "3600/h" */

/* For tests and docs: option long names; config_key is false for options
 * that only make sense on the command line. NULL past the end. */
const char *opts_long_name(size_t i, bool *config_key);

#endif
