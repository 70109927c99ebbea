/* input: see input.h. */
#include "input.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover.h"
#include "net/url.h"

#define READ_BATCH 256
#define MAX_URL_LEN 8000

typedef struct read_job {
    int fd;
    int64_t base_off;         /* file offset of buf[0] */
    int64_t offs[READ_BATCH]; /* where each line starts */
    int64_t linenos[READ_BATCH]; /* each line's physical number in the file, from 1 */
    int64_t line_no;             /* physical lines before buf[0] */
    int64_t count_to;            /* resumed mid-file: count the lines before this offset first (-1: no) */
    int64_t end_off;          /* just past the last line taken */
    char *buf;                /* carry-over bytes of a partial line */
    size_t len, cap;
    char *lines[READ_BATCH];
    size_t n;
    bool eof;
    int err;
    atomic_bool *stop; /* set by the loop: give up waiting for input */
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
        int64_t lineno = ++j->line_no; /* comments and blank lines count too */
        start = nl ? end + 1 : j->len;
        j->end_off = j->base_off + (int64_t)start;
        while (*s && isspace((unsigned char)*s))
            s++;
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
            s[--l] = 0;
        if (*s && *s != '#') {
            j->linenos[j->n] = lineno;
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
    if (j->count_to > 0) { /* resumed mid-file: the line numbers go on from there */
        char buf[65536];
        for (int64_t off = 0; off < j->count_to;) {
            size_t want = j->count_to - off < (int64_t)sizeof buf ? (size_t)(j->count_to - off) : sizeof buf;
            ssize_t r = pread(j->fd, buf, want, (off_t)off);
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                j->line_no += buf[i] == '\n';
            off += r;
        }
        j->count_to = 0;
    }
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

void input_item_free(fetch_item *it)
{
    free(it->line);
    free(it->url);
    free(it->host);
    request_spec_clear(it->spec);
    free(it->spec);
    free(it);
}

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

void input_item_finished(engine *E, int64_t item)
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
static int enqueue_at(engine *E, char *line, int64_t src, int64_t off, int64_t lineno)
{
    fetch_item *it = calloc(1, sizeof *it);
    if (!it || !line) {
        free(it);
        free(line);
        return -ENOMEM;
    }
    it->line = line;
    it->item = E->next_item++;
    it->lineno = lineno;
    it->src = src;
    if (E->state && !E->cfg->recursive)
        item_note(E, it->item, src, off);
    if (E->state && !E->cfg->recursive && state_item_was_done(E->state, it->item)) {
        E->resumed_skipped++; /* its record is already in the output */
        input_item_finished(E, it->item);
        input_item_free(it);
        return 0;
    }
    if (request_is_json_line(line)) { /* a request object: its own method, headers, body */
        char *u = NULL;
        if (request_from_json(line, &u, &it->spec, it->why, sizeof it->why) == 0)
            it->url = input_url(u, it->why, sizeof it->why, &it->host, &it->port);
        free(u);
    } else {
        it->url = input_url(line, it->why, sizeof it->why, &it->host, &it->port);
    }
    if (E->cfg->recursive) {
        /* a seed: its host is in scope; queue it at depth 0 */
        if (it->url) {
            char *norm = url_normalize(it->url);
            char hb[300];
            const char *h = norm ? discover_host_of(norm, hb, sizeof hb) : NULL;
            if (h && !discover_is_seed_host(E, h)) {
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
                discover_add_seed_dir(E, norm);
                discover_queue_link(E, norm, NULL, 0);
                frontier_notify(&E->fr);
                E->st.queued_total++;
                input_item_free(it);
                return 0;
            }
        }
        engine_process(E, it, NULL); /* the invalid_url record */
        input_item_free(it);
        return 0;
    }
    front_offer o = {.url = it->url,
                     .line = it->line,
                     .why = it->why,
                     .host = it->host,
                     .port = it->port,
                     .item = it->item,
                     .lineno = it->lineno,
                     .src = it->src,
                     .depth = 0,
                     .spec = it->spec};
    it->spec = NULL; /* the offer takes it */
    int st = front_offer_one(&E->front, &o);
    if (st == 0)
        E->st.queued_total++;
    input_item_free(it);
    return st;
}

int input_main(void *arg)
{
    engine *E = arg;
    const fetcher_cfg *c = E->cfg;
    int st = 0;
    /* A resumed URL list starts where the done prefix ends: earlier sources
     * are not read again, and the file it ends in is entered by seeking. */
    int64_t p_item = 0, p_src = 0, p_off = 0;
    bool seek =
        E->state && !c->recursive && state_get_prefix(E->state, &p_item, &p_src, &p_off) && p_item > 0;
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
        st = enqueue_at(E, strdup(c->urls[i]), (int64_t)i, 0, 0);
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
            engine_note_exit(E, EXIT_IO);
            continue;
        }
        read_job j = {.fd = fd, .stop = &E->input_stop};
        if (seek && src == p_src && lseek(fd, (off_t)p_off, SEEK_SET) == (off_t)p_off)
            j.base_off = j.count_to = p_off;
        E->cur_src = src;
        E->cur_off = j.base_off;
        while (st == 0 && !j.eof) {
            st = co_exec_run(E->exec, read_batch, &j, NULL);
            size_t k = 0;
            for (; k < j.n && st == 0; k++) {
                E->cur_off = k + 1 < j.n ? j.offs[k + 1] : j.end_off;
                st = enqueue_at(E, j.lines[k], src, j.offs[k], j.linenos[k]);
            }
            for (; k < j.n; k++)
                free(j.lines[k]);
            if (j.err) {
                fprintf(stderr, "crawl: error reading '%s': %s\n", c->inputs[i], strerror(j.err));
                E->input_error = true;
                engine_note_exit(E, EXIT_IO);
            }
        }
        free(j.buf);
        if (!is_stdin)
            close(fd);
    }
    E->input_eof = true;
    front_close(&E->front); /* workers drain what is queued, then stop */
    engine_winding_down(E, NULL);
    if (E->cfg->recursive) {
        for (size_t i = 0; i < c->nsitemaps; i++)
            discover_start_sitemap(E, c->sitemaps[i], 0);
        frontier_release(&E->fr); /* seeds are in: the crawl may now complete */
    }
    return st == -ECANCELED ? 0 : st;
}

/* Normalize an input line into an absolute http(s) URL, or say why not. */
char *input_url(const char *line, char *why, size_t wlen, char **host_out, long *port_out)
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

/* ---- the total, for the progress line ---- */

typedef struct count_job {
    const char *path;
    int64_t n;
    bool ok;
} count_job;

/* On the executor: the URL lines of a regular file (not blank, not a
 * comment), read in pieces, never held whole. */
static void *count_fn(void *arg)
{
    count_job *j = arg;
    j->ok = false;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    static const size_t bufsz = 1 << 16;
    char *buf = malloc(bufsz);
    bool start = true, counted = false; /* at a line's start; this line already counted */
    ssize_t r = 0;
    while (buf && (r = read(fd, buf, bufsz)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            char ch = buf[i];
            if (ch == '\n') {
                start = true;
                counted = false;
            } else if (start && !counted && ch != ' ' && ch != '\t' && ch != '\r') {
                if (ch != '#')
                    j->n++;
                counted = true; /* the line's first visible character decided it */
            }
        }
    }
    j->ok = buf && r == 0;
    free(buf);
    close(fd);
    return NULL;
}

int input_count_main(void *arg)
{
    engine *E = arg;
    const fetcher_cfg *c = E->cfg;
    int64_t total = (int64_t)c->nurls;
    for (size_t i = 0; i < c->ninputs; i++) {
        if (strcmp(c->inputs[i], "-") == 0)
            return 0; /* a pipe: the total stays unknown */
        count_job j = {.path = c->inputs[i]};
        void *ignored;
        if (co_exec_run(E->exec, count_fn, &j, &ignored) < 0 || !j.ok)
            return 0;
        total += j.n;
    }
    E->total_items = total;
    return 0;
}
