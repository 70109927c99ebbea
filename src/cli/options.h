/* options: the one table of command-line options. --help, the parser and the
 * man-page check (tests) are all driven by it, so they cannot drift apart.
 *
 * Ownership: opts_parse() fills a crawl_opts whose strings point into argv
 * or into heap copies freed by opts_free(). Single-threaded.
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
    str_list urls;          /* positional */
    const char *output;     /* NULL or "-" = stdout */
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
    long max_redirs;
    const char *user_agent;
    str_list headers;
    const char *proxy;
    bool insecure;
    int http_version;       /* 0, 11, 2 */
    int64_t max_body;       /* bytes, 0 = unlimited */
    const char *directory_prefix;
    progress_mode progress;
    bool quiet;
    int verbose;
    str_list dns_servers;
    int64_t dns_timeout_ms;
    str_list resolve;       /* HOST:PORT:ADDR */
    bool allow_private;
    int64_t grace_ms;
    bool help, version;
} crawl_opts;

void opts_defaults(crawl_opts *o);
/* Returns 0, or -1 after printing "crawl: <message>" to err. */
int opts_parse(crawl_opts *o, int argc, char **argv, FILE *err);
void opts_free(crawl_opts *o);
void opts_print_help(FILE *out);

/* Value parsers, shared with the config file (and unit-tested). */
int parse_duration_ms(const char *s, int64_t *out);  /* "500ms", "10s", "5m", "1h", bare = seconds */
int parse_size(const char *s, int64_t *out);         /* "100", "10K", "5M", "1G" (binary) */
int parse_rate(const char *s, double *out);          /* "20", "20/s", "600/m", "3600/h" */

/* For tests: iterate option long names. NULL past the end. */
const char *opts_long_name(size_t i);

#endif
