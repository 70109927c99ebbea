/* writer: see writer.h. */
#include "writer.h"
#include "net/url.h"

#include <jansson.h>

#include "crawl/hash.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"

/* One exchange to archive, and/or the body to save. */
struct writer_x {
    char *url;
    char ip[64];
    int64_t when_us;
    char *req_head, *resp_head;
    size_t req_len, resp_head_len;
    char *body;             /* in memory (NUL-terminated), or the first part of a spilled one */
    size_t body_len;        /* bytes at body; counted in *kept_in until freed */
    size_t bytes;           /* the whole body: body_len, or all of the spill file */
    int fd;                 /* the spill file holding the whole body, or -1 */
    atomic_size_t *kept_in; /* the HTTP client's memory budget */
    long status;
    int64_t filetime; /* -N: Last-Modified, seconds since the epoch, or -1 */
    bool archive, save, doc;
};

/* The writer's queue and thread. Fields marked (loop) belong to the loop
 * thread, (thread) to the writer thread, (mu) are guarded by mu; the rest
 * are set before the thread starts. */
typedef struct writer_q {
    engine *E;
    co_loop *loop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rec_item *head, *tail; /* (mu) */
    bool stop;             /* (mu) no more items */
    bool sleeping;         /* (mu) the thread waits on cv */
    pthread_t thread;
    bool started;      /* (loop) */
    co_event closed;   /* (loop) writer_close was called */
    co_event finished; /* (loop) the thread is done (posted) */
    co_sem slots;      /* (loop) WRITER_SLOTS */
    /* thread -> loop */
    co_post rel_post, stop_post, done_post;
    atomic_long released;
    atomic_bool rel_posted, stop_posted;
    /* (thread) */
    bool out_failed, warc_failed, doc_failed;
    int exit_code;
    uint64_t kept; /* resumed records not written again */
} writer_q;

/* The record's error: kind is a static string. */
void writer_rec_error(record *r, const char *kind, const char *msg)
{
    r->err_kind = kind;
    record_set(&r->err_msg, msg);
}

bool writer_resp_error(const http_resp *r, const char **kind, const char **msg)
{
    if (r->err) {
        *kind = http_err_name(r->err);
        *msg = r->errmsg;
    } else if (r->status >= 400) {
        *kind = "http";
        *msg = "HTTP error status";
    } else {
        return false;
    }
    return true;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void x_free(writer_x *x)
{
    if (x->kept_in)
        atomic_fetch_sub_explicit(x->kept_in, x->body_len, memory_order_relaxed);
    if (x->fd >= 0)
        close(x->fd);
    free(x->url);
    free(x->req_head);
    free(x->resp_head);
    free(x->body);
}

void writer_rec_free(rec_item *ri)
{
    if (!ri)
        return;
    record_clear(&ri->rec);
    for (size_t i = 0; i < ri->nx; i++)
        x_free(&ri->x[i]);
    free(ri->x);
    state_batch_free(ri->batch);
    free(ri);
}

/* A record to fill, for url (NULL when out of memory: the record is lost). */
rec_item *writer_rec_new(const char *url)
{
    rec_item *ri = calloc(1, sizeof *ri);
    if (ri && record_set(&ri->rec.url, url) < 0) {
        free(ri);
        ri = NULL;
    }
    if (ri) {
        ri->has_record = true;
        ri->rec.content_length = -1; /* null unless a response declared one */
    }
    return ri;
}

static writer_x *x_add(rec_item *ri, const char *url)
{
    if (ri->nx == ri->capx) {
        size_t cap = ri->capx ? ri->capx * 2 : 2;
        writer_x *n = realloc(ri->x, cap * sizeof *n);
        if (!n)
            return NULL;
        ri->x = n;
        ri->capx = cap;
    }
    writer_x *x = &ri->x[ri->nx];
    memset(x, 0, sizeof *x);
    x->fd = -1;
    if (!(x->url = strdup(url)))
        return NULL;
    ri->nx++;
    return x;
}

void writer_keep(engine *E, rec_item *ri, const char *url, http_resp *r, bool save, bool doc)
{
    bool archive = E->warc && r->resp_head && r->status;
    if (!archive && !save && !doc)
        return;
    writer_x *x = ri ? x_add(ri, url) : NULL;
    if (!x) {
        if (save && ri) {
            ri->rec.fields |= REC_SAVED | REC_SAVE_ERROR;
            record_set(&ri->rec.save_error, strerror(ENOMEM));
        }
        return;
    }
    x->archive = archive;
    x->save = save;
    x->doc = doc;
    x->status = r->status;
    x->filetime = r->filetime;
    x->when_us = r->started_us;
    memcpy(x->ip, r->remote_ip, sizeof x->ip);
    if (archive) {
        x->req_head = r->req_head;
        x->req_len = r->req_head_len;
        x->resp_head = r->resp_head;
        x->resp_head_len = r->resp_head_len;
        r->req_head = r->resp_head = NULL;
    }
    if (r->body) {
        x->body = r->body;
        x->body_len = r->body_len;
        x->kept_in = r->kept_in;
        x->bytes = r->spilled ? r->bytes : r->body_len;
        x->fd = r->spilled ? r->spill_fd : -1;
        r->body = NULL;
        r->kept_in = NULL;
        r->spilled = false;
        r->body_len = 0;
    }
}

static char *dup_mem(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = 0;
    }
    return d;
}

void writer_archive_copy(engine *E, const char *url, const http_resp *r)
{
    if (!E->warc || !r->resp_head || !r->status)
        return;
    rec_item *ri = calloc(1, sizeof *ri);
    writer_x *x = ri ? x_add(ri, url) : NULL;
    bool ok = x != NULL;
    if (ok) {
        x->archive = true;
        x->status = r->status;
        x->when_us = r->started_us;
        memcpy(x->ip, r->remote_ip, sizeof x->ip);
        x->req_len = r->req_head_len;
        x->resp_head_len = r->resp_head_len;
        x->req_head = dup_mem(r->req_head ? r->req_head : "", r->req_head ? r->req_head_len : 0);
        x->resp_head = dup_mem(r->resp_head, r->resp_head_len);
        x->body_len = r->body ? r->body_len : 0;
        x->body = dup_mem(r->body ? r->body : "", x->body_len);
        x->bytes = r->spilled ? r->bytes : x->body_len;
        if (r->spilled && (x->fd = dup(r->spill_fd)) < 0)
            ok = false;
        ok = ok && x->req_head && x->resp_head && x->body;
    }
    if (!ok) {
        writer_rec_free(ri);
        fprintf(stderr, "crawl: cannot archive %s: out of memory\n", url);
        engine_note_exit(E, EXIT_IO);
        return;
    }
    writer_submit(E, ri, NULL, -1, NULL);
}

/* ---- the resume tail: records already in the file, not yet committed ---- */

typedef struct tail_ent {
    struct tail_ent *next;
    long count;
    char url[];
} tail_ent;

typedef struct tail_set {
    tail_ent **b;
    size_t nb, n;
    size_t unclaimed; /* records of the tail whose URLs were not finished again yet */
} tail_set;

static tail_ent **tail_slot(tail_set *t, const char *url)
{
    tail_ent **pp = &t->b[crawl_hash_str(url) & (t->nb - 1)];
    while (*pp && strcmp((*pp)->url, url) != 0)
        pp = &(*pp)->next;
    return pp;
}

static int tail_grow(tail_set *t)
{
    size_t nb = t->nb ? t->nb * 2 : 256;
    tail_ent **b = calloc(nb, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < t->nb; i++)
        for (tail_ent *e = t->b[i], *n; e; e = n) {
            n = e->next;
            e->next = b[crawl_hash_str(e->url) & (nb - 1)];
            b[crawl_hash_str(e->url) & (nb - 1)] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

void writer_tail_line(void *ud, const char *line, size_t len)
{
    engine *E = ud;
    json_error_t jerr;
    json_t *j = json_loadb(line, len, 0, &jerr);
    const char *url = j ? json_string_value(json_object_get(j, "url")) : NULL;
    if (!url) {
        json_decref(j);
        return; /* not one of our records: left alone */
    }
    if (!E->tail)
        E->tail = calloc(1, sizeof *E->tail);
    tail_set *t = E->tail;
    if (t && (t->n >= t->nb * 2 || !t->nb) && tail_grow(t) < 0)
        t = NULL;
    tail_ent **pp = t ? tail_slot(t, url) : NULL;
    if (pp && *pp) {
        (*pp)->count++;
        t->unclaimed++;
    } else if (pp) {
        size_t ul = strlen(url);
        tail_ent *e = malloc(sizeof *e + ul + 1);
        if (e) {
            memcpy(e->url, url, ul + 1);
            e->count = 1;
            t->unclaimed++;
            e->next = NULL;
            *pp = e;
            t->n++;
        }
    }
    json_decref(j);
}

void writer_tail_free(engine *E)
{
    tail_set *t = E->tail;
    if (!t)
        return;
    for (size_t i = 0; i < t->nb; i++)
        for (tail_ent *e = t->b[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    free(t->b);
    free(t);
    E->tail = NULL;
}

/* ---- the writer thread ---------------------------------------------------------- */

#define Q_OF(p, member) ((writer_q *)(void *)((char *)(p)-offsetof(writer_q, member)))

static void on_released(co_post *p)
{
    writer_q *q = Q_OF(p, rel_post);
    atomic_store(&q->rel_posted, false);
    for (long n = atomic_exchange(&q->released, 0); n > 0; n--)
        co_sem_release(&q->slots);
}

static void on_failed(co_post *p)
{
    writer_q *q = Q_OF(p, stop_post);
    engine_note_exit(q->E, EXIT_IO);
    engine_stop(q->E);
}

static void on_done(co_post *p)
{
    writer_q *q = Q_OF(p, done_post);
    co_event_set(&q->finished);
}

/* (thread) A write the run cannot go on without failed: stop it. */
static void fail_stop(writer_q *q)
{
    q->exit_code = EXIT_IO;
    if (!atomic_exchange(&q->stop_posted, true))
        co_loop_post(q->loop, &q->stop_post);
}

/* Is url's record already in the file (and not yet claimed)? Claims it. */
static bool tail_take(writer_q *q, const char *url)
{
    engine *E = q->E;
    if (!E->tail || !E->tail->n || !url)
        return false;
    tail_ent **pp = tail_slot(E->tail, url);
    if (!*pp || (*pp)->count <= 0)
        return false;
    (*pp)->count--;
    E->tail->unclaimed--;
    q->kept++;
    return true;
}

/* (thread) Save a 2xx body under --directory-prefix; note the path or the
 * error in rec. */
static void save_body(writer_q *q, record *rec, const writer_x *x)
{
    engine *E = q->E;
    const size_t len = 4096;
    char *rel = malloc(len), *used = malloc(len), *full = NULL;
    savepath_opts so = E->cfg->save; /* -nH, -nd, --cut-dirs, -E */
    so.content_type = rec->content_type;
    int rc = rel && used ? savepath_for_url_opts(x->url, &so, rel, len) : -ENOMEM;
    const char *data = x->body ? x->body : "";
    if (rc == 0 && E->cfg->timestamping) /* wget -N: over the old copy, dated by Last-Modified */
        rc = savepath_replace(E->dirfd, E->dirs, rel, data, x->bytes, x->fd, x->filetime, used, len);
    else if (rc == 0)
        rc = savepath_write(E->dirfd, E->dirs, rel, data, x->bytes, x->fd, used, len);
    rec->fields |= REC_SAVED;
    if (rc == 0 && asprintf(&full, "%s/%s", E->cfg->directory_prefix, used) >= 0) {
        record_set(&rec->saved_path, full);
    } else {
        if (rc == 0)
            rc = -ENOMEM;
        rec->fields |= REC_SAVE_ERROR;
        record_set(&rec->save_error, strerror(-rc));
        char *tmp; /* never a password in a log */
        fprintf(stderr, "crawl: cannot save %s: %s\n", url_printable(x->url, &tmp), strerror(-rc));
        free(tmp);
        q->exit_code = EXIT_IO;
    }
    free(full);
    free(rel);
    free(used);
}

/* (thread) Write one exchange to the WARC file. */
static void archive(writer_q *q, const writer_x *x)
{
    warc_exchange w = {.url = x->url,
                       .ip = x->ip,
                       .when_us = x->when_us,
                       .req_head = x->req_head,
                       .req_len = x->req_len,
                       .resp_head = x->resp_head,
                       .resp_head_len = x->resp_head_len,
                       .body = x->body ? x->body : "",
                       .body_len = x->body ? x->bytes : 0,
                       .body_fd = x->fd};
    int rc = warc_write(q->E->warc, &w);
    if (rc < 0 && !q->warc_failed) {
        fprintf(stderr, "crawl: cannot write WARC: %s\n", strerror(-rc));
        q->warc_failed = true;
        q->exit_code = EXIT_IO;
    }
}

/* (thread) Make what was written durable: fsync the output, then commit
 * the batch sealed after those records. */
static void checkpoint(writer_q *q, state_batch *b)
{
    engine *E = q->E;
    if (q->out_failed) { /* never commit past a record that was not written */
        state_batch_free(b);
        return;
    }
    int64_t size = 0;
    int err = jsonl_sync(E->out, &size);
    /* A record of the tail whose URL is not done yet must stay in the tail:
     * were the committed size to pass it, the next resume would neither
     * skip its URL (not done) nor recognise its record (not in the tail),
     * and write it a second time. So the size stays where the resume began
     * until every such record is claimed; what is written after it is
     * recognised as tail again, if it comes to that. */
    if (err == 0 && E->tail && E->tail->unclaimed && size > E->tail_floor)
        size = E->tail_floor;
    if (err == 0)
        err = state_commit(E->state, b, size);
    else
        state_batch_free(b);
    if (err < 0) {
        fprintf(stderr, "crawl: cannot checkpoint: %s%s%s\n", strerror(-err), err == -EIO ? ": " : "",
                err == -EIO ? state_error(E->state) : "");
        q->out_failed = true;
        fail_stop(q);
    }
}

/* (thread) -O: append the body to the document, from memory or its spill
 * file. */
static void write_doc(writer_q *q, const writer_x *x)
{
    engine *E = q->E;
    int rc = 0;
    if (x->fd < 0) {
        if (x->body_len && !write_all(E->docfd, x->body, x->body_len))
            rc = -errno;
    } else {
        char buf[65536];
        for (off_t off = 0; off < (off_t)x->bytes && rc == 0;) {
            ssize_t r = pread(x->fd, buf, sizeof buf, off);
            if (r <= 0)
                rc = r < 0 ? -errno : -EIO;
            else if (!write_all(E->docfd, buf, (size_t)r))
                rc = -errno;
            off += r > 0 ? r : 0;
        }
    }
    if (rc < 0 && !q->doc_failed) {
        fprintf(stderr, "crawl: cannot write -O %s: %s\n", E->cfg->output_document, strerror(-rc ? -rc : EIO));
        q->doc_failed = true;
        q->exit_code = EXIT_IO;
    }
}

static void handle(writer_q *q, rec_item *ri)
{
    engine *E = q->E;
    for (size_t i = 0; i < ri->nx; i++) {
        writer_x *x = &ri->x[i];
        if (x->doc)
            write_doc(q, x);
        if (x->save)
            save_body(q, &ri->rec, x);
        if (x->archive)
            archive(q, x);
    }
    if (ri->has_record && !q->out_failed && !tail_take(q, ri->rec.url)) {
        const char *line;
        size_t len;
        int err = record_format(E->fmt, &ri->rec, &line, &len);
        int skip = 0;
        if (err == 0 && E->sel) { /* what of it is written, and how */
            skip = recsel_apply(E->sel, line, len, &line, &len);
            err = skip < 0 ? skip : 0;
        }
        if (err == 0 && skip == 0)
            err = jsonl_write(E->out, line, len);
        if (err < 0) {
            fprintf(stderr, "crawl: cannot write output: %s\n", strerror(-err));
            q->out_failed = true;
            fail_stop(q); /* a full disk stops the run: no record is dropped silently */
        }
    }
    if (ri->batch) {
        state_batch *b = ri->batch;
        ri->batch = NULL;
        checkpoint(q, b);
    }
}

static void *writer_thread(void *arg)
{
    writer_q *q = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the loop's */
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop) {
            q->sleeping = true;
            pthread_cond_wait(&q->cv, &q->mu);
            q->sleeping = false;
        }
        rec_item *list = q->head;
        q->head = q->tail = NULL;
        bool stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        long freed = 0;
        for (rec_item *ri = list, *next; ri; ri = next) {
            next = ri->next;
            handle(q, ri);
            freed += ri->holds_slot;
            writer_rec_free(ri);
        }
        if (!q->out_failed && jsonl_flush(q->E->out) < 0) { /* readers see records as they come */
            fprintf(stderr, "crawl: cannot write output: %s\n", strerror(EIO));
            q->out_failed = true;
            fail_stop(q);
        }
        if (freed) {
            atomic_fetch_add(&q->released, freed);
            if (!atomic_exchange(&q->rel_posted, true))
                co_loop_post(q->loop, &q->rel_post);
        }
        pthread_mutex_lock(&q->mu);
        if (stop && !q->head)
            break;
    }
    pthread_mutex_unlock(&q->mu);
    co_loop_post(q->loop, &q->done_post);
    return NULL;
}

/* ---- the loop side ------------------------------------------------------------------- */

int writer_init(engine *E)
{
    writer_q *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->E = E;
    q->loop = co_loop_current();
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    co_event_init(&q->closed);
    co_event_init(&q->finished);
    co_sem_init(&q->slots, WRITER_SLOTS, WRITER_SLOTS);
    q->rel_post.fn = on_released;
    q->stop_post.fn = on_failed;
    q->done_post.fn = on_done;
    E->wq = q;
    return 0;
}

static void push(writer_q *q, rec_item *ri)
{
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = ri;
    else
        q->head = ri;
    q->tail = ri;
    bool wake = q->sleeping;
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
}

/* Seal the state's pending changes into a checkpoint item, queued after
 * every record submitted so far. */
static void seal(engine *E)
{
    state_batch *b = state_seal(E->state);
    if (!b)
        return; /* out of memory: the changes stay pending for the next one */
    rec_item *ri = calloc(1, sizeof *ri);
    if (!ri) {
        state_batch_free(b); /* lost: the state fails loudly at the next commit */
        return;
    }
    ri->batch = b;
    push(E->wq, ri);
    E->since_checkpoint = 0;
    E->last_checkpoint_ns = co_now_ns();
}

static int64_t checkpoint_every_ms(const engine *E)
{
    return E->cfg->checkpoint_ms > 0 ? E->cfg->checkpoint_ms : 250;
}

void writer_submit(engine *E, rec_item *ri, record *scratch, int64_t item, const char *done_url)
{
    writer_q *q = E->wq;
    if (!ri) {
        if (scratch)
            record_clear(scratch);
        return;
    }
    /* what the writer has not caught up with stays bounded; cancelled or
     * timed out, the item goes anyway (the bound is for memory, not worth
     * losing a record) */
    if (co_sem_acquire(&q->slots, CO_FOREVER) == 0)
        ri->holds_slot = true;
    if (E->state && ri->has_record) {
        if (item >= 0) {
            state_item_done(E->state, item);
            input_item_finished(E, item);
        }
        if (done_url)
            state_url_done(E->state, done_url);
    }
    bool has_record = ri->has_record;
    push(q, ri); /* ri belongs to the writer thread from here on */
    if (E->state && has_record &&
        (++E->since_checkpoint >= 4000 || co_now_ns() - E->last_checkpoint_ns > checkpoint_every_ms(E) * 1000000))
        seal(E);
}

void writer_close(engine *E)
{
    if (E->wq)
        co_event_set(&E->wq->closed);
}

int writer_main(void *arg)
{
    engine *E = arg;
    writer_q *q = E->wq;
    int rc = pthread_create(&q->thread, NULL, writer_thread, q);
    if (rc != 0) {
        fprintf(stderr, "crawl: cannot start the writer thread: %s\n", strerror(rc));
        engine_note_exit(E, EXIT_GENERIC);
        engine_stop(E);
        return -rc;
    }
    q->started = true;
    E->last_checkpoint_ns = co_now_ns();
    while (!co_event_is_set(&q->closed)) {
        int st = co_event_wait(&q->closed, E->state ? checkpoint_every_ms(E) : CO_FOREVER);
        if (st == -ETIMEDOUT && E->since_checkpoint)
            seal(E);
        else if (st < 0 && st != -ETIMEDOUT)
            break;
    }
    if (E->state)
        seal(E); /* the last checkpoint (the prefix may have moved too) */
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    bool wake = q->sleeping;
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
    co_shield_begin();
    co_event_wait(&q->finished, CO_FOREVER);
    co_shield_end();
    pthread_join(q->thread, NULL);
    q->started = false;
    engine_note_exit(E, q->exit_code);
    E->resumed_kept += q->kept;
    if (q->out_failed)
        E->io_failed = true;
    return 0;
}

void writer_free(engine *E)
{
    writer_q *q = E->wq;
    if (!q)
        return;
    /* items never handed to a thread (it did not start) */
    for (rec_item *ri = q->head, *next; ri; ri = next) {
        next = ri->next;
        writer_rec_free(ri);
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q);
    E->wq = NULL;
}

int64_t writer_saved_mtime(engine *E, const char *url, char **path)
{
    *path = NULL;
    const size_t len = 4096;
    char *rel = malloc(len); /* not on a worker's stack */
    int64_t mtime = -1;
    if (rel && savepath_for_url_opts(url, &E->cfg->save, rel, len) == 0 && savepath_mtime(E->dirfd, rel, &mtime) == 0) {
        if (asprintf(path, "%s/%s", E->cfg->directory_prefix, rel) < 0)
            *path = NULL;
    } else {
        mtime = -1;
    }
    free(rel);
    return mtime;
}
