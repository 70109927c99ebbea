/* engine: the state one run of the fetch engine shares between its parts:
 * input.c reads the URL lists, discover.c decides what a recursive crawl
 * fetches (scope, links, robots.txt, sitemaps), writer.c turns results into
 * records, saved bodies, WARC records and checkpoints, and fetcher.c runs
 * the workers, the signals and the run itself. Internal to src/crawl.
 *
 * Threads: the loop thread only (executor jobs get copies of what they
 * need). Ownership: fetcher_main owns the engine and everything in it.
 */
#ifndef CRAWL_CRAWL_ENGINE_H
#define CRAWL_CRAWL_ENGINE_H

#include <event2/event.h>
#include <libpsl.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crawl/co_exec.h"
#include "crawl/co_group.h"
#include "crawl/co_queue.h"
#include "crawl/co_sync.h"
#include "fetcher.h"
#include "front.h"
#include "frontier.h"
#include "lsched.h"
#include "net/request.h"
#include "out/jsonl.h"
#include "out/record.h"
#include "out/savepath.h"
#include "out/state.h"
#include "out/warc.h"
#include "retry.h"
#include "seen.h"
#include "stats.h"

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
    record_fmt *fmt; /* the writer's serializer */
    recsel *sel;     /* --fields, --format, --write-out, status filters; NULL: none */
    int dirfd;
    int docfd;           /* -O: the document the bodies are appended to, or -1 */
    savepath_dirs *dirs; /* the directories bodies were last saved in */
    lsched ls;           /* URL lists: the input-ordered, per-host scheduler */
    front front;         /* the frontier the workers lease from: ls or fr behind front.h's ops */
    long list_workers, paused; /* URL lists: live workers, and those waiting to retry */
    struct writer_q *wq;       /* finished records, to the writer thread */
    host_state **hosts;
    size_t nhosts_b;
    tbucket global_tb;
    crawl_stats st;
    int exit_code;
    bool input_error;
    bool stopping;  /* first signal: no more input */
    bool input_eof; /* URL lists: every input line is queued */
    atomic_bool input_stop;
    bool aborting; /* grace over or second signal */
    co_group workers;
    co_group services; /* sitemap readers: cancelled and awaited before anything they use is freed */
    co_task *producer;
    struct event *sig_int, *sig_term, *grace_timer;
    uint64_t rng;
    uint64_t dropped; /* queued URLs not fetched because of a stop */
    int64_t total_items; /* URL lists: input URLs in all, for the progress line; -1 unknown */
    co_event finished;
    /* recursive crawling */
    frontier fr;
    seen_set seen;
    bool fr_ready, seen_ready;
    char **seed_hosts;
    size_t nseed_hosts;
    char **seed_sites; /* registrable domains of the seeds (--same-site) */
    size_t nseed_sites;
    char **seed_dirs; /* the seeds' directories (--no-parent) */
    size_t nseed_dirs;
    const psl_ctx_t *psl;
    uint64_t pages_extracted, pages_extracted_off_loop;
    warc_writer *warc;
    crawl_state *state;
    int64_t next_item; /* input items numbered in order (URL lists) */
    int64_t prefix;    /* every item below this one is done */
    struct item_pos {
        int64_t src, off;
        bool done;
    } * win; /* items from prefix on (a ring) */
    size_t win_cap, win_head;
    int64_t cur_src, cur_off; /* where the item after the last one read starts */
    uint64_t resumed_skipped; /* items done in an earlier run */
    struct tail_set *tail;    /* --resume: URLs of records written after the last commit, kept in the file */
    int64_t tail_floor;       /* --resume: the committed output size the run began from */
    uint64_t resumed_kept;    /* records of the tail found again (not written twice) */
    int64_t last_checkpoint_ns;
    size_t since_checkpoint;
    bool io_failed;
    regex_t accept_re, reject_re;
    bool have_accept, have_reject;
    long queued_pages; /* seeds + links queued (for --max-pages) */
    uint64_t skipped_scope, skipped_robots, skipped_limit, skipped_trap, skipped_accept;
} engine;

/* A queued URL, validated and normalized by the producer. URL parsing uses
 * libcurl's URL API, whose printf machinery takes about 5 KiB of stack: doing
 * it here, on the one producer task, keeps it off every worker's stack. */
typedef struct fetch_item {
    ls_node node; /* URL lists: queued in the scheduler (first member) */
    ls_host *lh;  /* URL lists: its host in the scheduler, while taken */
    int64_t item; /* input order, for --state */
    int64_t lineno; /* its physical line in its input file, from 1; 0: a positional URL */
    int64_t src;    /* its source: positional URLs first, then the input files */
    char *line;   /* the input line as read */
    char *url;    /* normalized absolute URL, or NULL if invalid */
    char *host;
    long port;
    char why[160];
    request_spec *spec; /* the line's own request (a JSON object line), or NULL: the run's; owned */
} fetch_item;

/* A page of a recursive crawl: where it was found. */
typedef struct page_ctx {
    int depth;
    const char *parent;
    fr_host *host;
    int links_found;
    int64_t backoff_ms; /* after a final 429/503: keep the origin quiet this long */
} page_ctx;

/* Keep the most severe exit status (see exit_merge). */
static inline void engine_note_exit(engine *E, int code) { E->exit_code = exit_merge(E->exit_code, code); }

static inline int engine_exit_for(http_err err, long status, bool redirect_err)
{
    if (redirect_err)
        return EXIT_PROTOCOL;
    switch (err) {
    case HTTP_OK:
        return status >= 400 ? EXIT_HTTP : EXIT_OK;
    case HTTP_E_DNS:
    case HTTP_E_CONNECT:
    case HTTP_E_TIMEOUT:
    case HTTP_E_RECV:
        return EXIT_NETWORK;
    case HTTP_E_TLS:
        return EXIT_TLS;
    case HTTP_E_PROTOCOL:
        return EXIT_PROTOCOL;
    case HTTP_E_CANCELLED:
        return 0; /* counted as the interruption */
    default:
        return EXIT_GENERIC;
    }
}

/* fetcher.c: fetch one URL (following redirects, retrying) and write its
 * record; pg is NULL for a URL list's item. */
void engine_process(engine *E, fetch_item *it, page_ctx *pg);
/* fetcher.c: true when no later request can reuse the connection of a
 * request to hs (NULL: to any host); see the definition. */
bool engine_winding_down(engine *E, const ls_host *h);
/* fetcher.c: an I/O failure (full disk, unwritable output or state): stop
 * at once; what was checkpointed stays consistent. */
void engine_stop(engine *E);

#endif
