/* writer: see writer.h. */
#include "writer.h"
#include "net/url.h"

#include <jansson.h>

#include "crawl/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

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

/* Write one exchange to the WARC file, if archiving and a response came. */
void writer_archive(engine *E, const char *url, const http_resp *r)
{
    if (!E->warc || !r->resp_head || !r->status)
        return;
    warc_exchange x = {.url = url,
                       .ip = r->remote_ip,
                       .when_us = r->started_us,
                       .req_head = r->req_head,
                       .req_len = r->req_head_len,
                       .resp_head = r->resp_head,
                       .resp_head_len = r->resp_head_len,
                       .body = r->body ? r->body : "",
                       .body_len = r->body ? (r->spilled ? r->bytes : r->body_len) : 0,
                       .body_fd = r->spilled ? r->spill_fd : -1};
    int rc = warc_write(E->warc, &x);
    if (rc < 0 && E->exit_code != EXIT_IO) {
        fprintf(stderr, "crawl: cannot write WARC: %s\n", strerror(-rc));
        engine_note_exit(E, EXIT_IO);
    }
}

void writer_rec_free(rec_item *ri)
{
    if (!ri)
        return;
    record_clear(&ri->rec);
    free(ri->done_url);
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
    return ri;
}

/* Hand ri to the writer. ri NULL (out of memory): the record is lost, and
 * scratch, filled in its place, is cleared. */
void writer_submit(engine *E, rec_item *ri, record *scratch, int64_t item, const char *done_url)
{
    if (!ri) {
        if (scratch)
            record_clear(scratch);
        return;
    }
    ri->item = item;
    ri->done_url = done_url ? strdup(done_url) : NULL;
    if (co_queue_try_put(&E->records, ri) < 0) /* only after the writer is gone: cannot happen */
        writer_rec_free(ri);
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
    } else if (pp) {
        size_t ul = strlen(url);
        tail_ent *e = malloc(sizeof *e + ul + 1);
        if (e) {
            memcpy(e->url, url, ul + 1);
            e->count = 1;
            e->next = NULL;
            *pp = e;
            t->n++;
        }
    }
    json_decref(j);
}

/* Is url's record already in the file (and not yet claimed)? Claims it. */
static bool tail_take(engine *E, const char *url)
{
    if (!E->tail || !E->tail->n || !url)
        return false;
    tail_ent **pp = tail_slot(E->tail, url);
    if (!*pp || (*pp)->count <= 0)
        return false;
    (*pp)->count--;
    E->resumed_kept++;
    return true;
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

/* Make what was written durable: fsync the output, then commit the state. */
static void checkpoint(engine *E)
{
    if (!E->state)
        return;
    int64_t size = 0;
    int err = jsonl_sync(E->out, &size);
    if (err == 0)
        err = state_checkpoint(E->state, size);
    E->since_checkpoint = 0;
    E->last_checkpoint_ns = co_now_ns();
    if (err < 0 && E->exit_code != EXIT_IO) {
        fprintf(stderr, "crawl: cannot checkpoint: %s%s%s\n", strerror(-err), err == -EIO ? ": " : "",
                err == -EIO ? state_error(E->state) : "");
        engine_note_exit(E, EXIT_IO);
        engine_stop(E);
    }
}

int writer_main(void *arg)
{
    engine *E = arg;
    for (;;) {
        void *p;
        int64_t every = E->cfg->checkpoint_ms > 0 ? E->cfg->checkpoint_ms : 250;
        int64_t wait = E->state ? every : CO_FOREVER;
        int st = co_queue_get(&E->records, &p, wait);
        if (st == -ETIMEDOUT) {
            if (E->since_checkpoint)
                checkpoint(E);
            continue;
        }
        if (st < 0)
            break; /* closed and drained */
        rec_item *ri = p;
        const char *line;
        size_t len;
        int err = 0;
        /* resumed: a record written after the last commit is still in the
         * file (output is append-only); it is not written a second time */
        if (!tail_take(E, ri->rec.url)) {
            err = record_format(E->fmt, &ri->rec, &line, &len);
            if (err == 0)
                err = jsonl_write(E->out, line, len);
        }
        if (err < 0 && E->exit_code != EXIT_IO) {
            fprintf(stderr, "crawl: cannot write output: %s\n", strerror(-err));
            engine_note_exit(E, EXIT_IO);
            engine_stop(E); /* a full disk stops the run: no record is dropped silently */
        }
        if (E->state && err == 0) {
            if (ri->item >= 0) {
                state_item_done(E->state, ri->item);
                input_item_finished(E, ri->item);
            }
            if (ri->done_url)
                state_url_done(E->state, ri->done_url);
            if (++E->since_checkpoint >= 4000 || co_now_ns() - E->last_checkpoint_ns > every * 1000000)
                checkpoint(E);
        }
        writer_rec_free(ri);
    }
    if (E->since_checkpoint)
        checkpoint(E);
    return 0;
}

/* Save a 2xx body under --directory-prefix. Kept out of engine_process() so its
 * path buffers live on the heap, not on every worker's stack. */
void writer_save_body(engine *E, record *rec, const char *url, const http_resp *resp)
{
    const size_t len = 4096;
    char *rel = malloc(len), *used = malloc(len), *full = NULL;
    int rc = rel && used ? savepath_for_url(url, rel, len) : -ENOMEM;
    size_t n = resp->spilled ? resp->bytes : resp->body_len;
    int src = resp->spilled ? resp->spill_fd : -1;
    if (rc == 0 && E->cfg->timestamping) /* wget -N: over the old copy, dated by Last-Modified */
        rc = savepath_replace(E->dirfd, E->dirs, rel, resp->body, n, src, resp->filetime, used, len);
    else if (rc == 0)
        rc = savepath_write(E->dirfd, E->dirs, rel, resp->body, n, src, used, len);
    rec->fields |= REC_SAVED;
    if (rc == 0 && asprintf(&full, "%s/%s", E->cfg->directory_prefix, used) >= 0) {
        record_set(&rec->saved_path, full);
    } else {
        if (rc == 0)
            rc = -ENOMEM;
        rec->fields |= REC_SAVE_ERROR;
        record_set(&rec->save_error, strerror(-rc));
        char *tmp; /* never a password in a log */
        fprintf(stderr, "crawl: cannot save %s: %s\n", url_printable(url, &tmp), strerror(-rc));
        free(tmp);
        engine_note_exit(E, EXIT_IO);
    }
    free(full);
    free(rel);
    free(used);
}

int64_t writer_saved_mtime(engine *E, const char *url, char **path)
{
    *path = NULL;
    const size_t len = 4096;
    char *rel = malloc(len); /* not on a worker's stack */
    int64_t mtime = -1;
    if (rel && savepath_for_url(url, rel, len) == 0 && savepath_mtime(E->dirfd, rel, &mtime) == 0) {
        if (asprintf(path, "%s/%s", E->cfg->directory_prefix, rel) < 0)
            *path = NULL;
    } else {
        mtime = -1;
    }
    free(rel);
    return mtime;
}
