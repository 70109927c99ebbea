/* fetcher: the URL-list engine. A producer task reads the inputs lazily (file
 * reads run on the executor, never blocking the loop) into a bounded queue;
 * `concurrency` worker tasks take URLs, apply the global and per-host limits,
 * fetch (following redirects hop by hop, retrying with backoff), save bodies
 * and write exactly one JSON Lines record per input URL.
 *
 * Signals: the first SIGINT/SIGTERM stops reading input, lets fetches in
 * flight finish for `grace_ms`, then cancels them; a second signal cancels
 * them at once. Either way every record written is complete and the output
 * is flushed and closed.
 *
 * Threads: runs on one loop (fetcher_main is a co_fn). Ownership: the engine
 * borrows cfg for the duration of the run.
 */
#ifndef CRAWL_CRAWL_FETCHER_H
#define CRAWL_CRAWL_FETCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "net/http.h"
#include "out/recsel.h"
#include "out/savepath.h"

/* Exit statuses (documented in --help and crawl(1)). */
enum {
    EXIT_OK = 0,
    EXIT_GENERIC = 1,
    EXIT_USAGE = 2,
    EXIT_IO = 3,
    EXIT_NETWORK = 4,
    EXIT_TLS = 5,
    EXIT_PROTOCOL = 7,
    EXIT_HTTP = 8,
    EXIT_INTERRUPTED = 130,
};

/* Two statuses of one run (or of several jobs) into one, as wget does: 130
 * wins over all; otherwise the lowest non-zero code wins, except that 1 (a
 * generic error such as an invalid input line) yields to any other, so it
 * never hides a network outage (4) or HTTP errors (8). */
static inline int exit_merge(int a, int b)
{
    if (a == EXIT_INTERRUPTED || b == EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED;
    if (a == 0 || (a == EXIT_GENERIC && b != 0))
        return b;
    if (b == 0 || b == EXIT_GENERIC)
        return a;
    return a < b ? a : b;
}

typedef struct fetcher_cfg {
    const char *name;          /* job name for messages, or NULL */
    http_opts http;            /* dns is filled in by the engine */
    const char *const *urls;   /* positional URLs */
    size_t nurls;
    const char *const *inputs; /* input files, "-" = stdin */
    size_t ninputs;
    const char *output;        /* NULL/"-" = stdout */
    recsel_opts sel;           /* --fields, --format, --write-out, --match-status, --filter-status */
    const char *output_document; /* -O: the 2xx bodies, concatenated ("-" = stdout), or NULL */
    const char *directory_prefix;
    long concurrency;
    long max_per_host;
    double rate, host_rate;
    long retries;
    int64_t retry_delay_ms, max_retry_delay_ms;
    bool location;
    bool location_trusted; /* send -H Authorization/Cookie/Proxy-Authorization to other origins too */
    const struct request_spec *request; /* method, headers and body of every request; NULL: GET */
    bool timestamping;                  /* -N: with -P, re-fetch only what is newer than the saved file, and overwrite it */
    bool no_clobber;                    /* -nc: with -P, do not fetch what is already saved */
    bool random_wait;                   /* --delay/--wait drawn from [d/2, 3d/2) for each start (wget) */
    long max_redirs;
    const char *dns_servers;   /* comma-separated, or NULL */
    int64_t dns_timeout_ms;
    const char *const *resolve;/* HOST:PORT:ADDR */
    size_t nresolve;
    bool progress;             /* draw a progress line on stderr */
    bool summary;
    int verbose;
    int64_t grace_ms;
    /* recursive crawling (-r) */
    bool recursive;
    int max_depth;              /* 0 = unlimited */
    bool span_hosts;
    const char *const *domains; /* with span_hosts: only these domains (and subdomains) */
    size_t ndomains;
    const char *const *exclude_domains;
    size_t nexclude_domains;
    bool no_parent;                            /* never above the seeds' directories */
    const char *const *accept, *const *reject; /* -A / -R: suffixes or globs of file names */
    size_t naccept, nreject;
    savepath_opts save;                      /* -nH, -nd, --cut-dirs, -E */
    const char *accept_regex, *reject_regex; /* POSIX extended, on the normalized URL */
    long max_pages, max_pages_per_host;      /* 0 = unlimited */
    long max_url_length;
    int64_t delay_ms;           /* < 0: robots.txt Crawl-delay (capped), else this */
    bool robots;                /* obey robots.txt */
    bool page_requisites;
    bool follow_nofollow;
    bool spider;                /* fetch and report, save nothing */
    long max_links_per_page;
    long max_queued;            /* frontier bound */
    bool same_site;             /* follow links anywhere in the seeds' registrable domains */
    const char *const *sitemaps;/* sitemap URLs to read (besides robots.txt's) */
    size_t nsitemaps;
    /* WARC output */
    const char *warc_file;      /* NAME for NAME-00000.warc.gz ..., or NULL */
    int64_t warc_max_size;      /* rotate past this many bytes, 0 = never */
    bool warc_dedup;            /* revisit records for identical payloads */
    /* durable state */
    const char *state_dir;      /* --state DIR, or NULL */
    bool resume;
    int64_t checkpoint_ms;      /* commit at least this often */
} fetcher_cfg;

/* SIGINT/SIGTERM are handled on the loop. The program blocks them from its
 * start (fetcher_signals_init, on the main thread before any other thread
 * exists); each party that registers loop signal events (an engine, the job
 * runner) calls fetcher_signals_listen(true) after registering and
 * fetcher_signals_listen(false) before removing them. The signals are
 * unblocked while at least one party listens, so no stop request is lost or
 * kills the process halfway through a flush, and one job finishing never
 * silences another. Loop (main) thread only. */
void fetcher_signals_init(void);
void fetcher_signals_listen(bool on);

/* The main task: returns the run's exit status (>= 0). */
int fetcher_main(void *cfg);

#endif
