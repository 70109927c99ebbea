/* state: see state.h. */
#include "state.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct pend_host {
    char *origin;
    int kind;
    char *robots;
    size_t len;
    int64_t delay_ns;
} pend_host;

typedef struct pend_url {
    char *url, *parent;
    int depth;
    bool done;
} pend_url;

struct crawl_state {
    int lock_fd;
    sqlite3 *db;
    sqlite3_stmt *ins_item, *ins_url, *upd_done, *get_item, *ins_host;
    pend_host *hosts;
    size_t nhosts, caphosts;
    bool is_new;
    int64_t output_size;
    int64_t *items;
    size_t nitems, capitems;
    pend_url *urls;
    size_t nurls, capurls;
    int err; /* commit side (the writer thread once it runs): the first error sticks */
    char errmsg[256];
    int pend_err;      /* pending side (the loop): a change lost to out of memory */
    int64_t prefix[3]; /* item, src, off */
    bool have_prefix, prefix_dirty;
    /* items done in earlier runs, for the producer to skip: a sorted array */
    int64_t *done_before;
    size_t ndone_before;
};

static int fail(crawl_state *s, const char *what)
{
    snprintf(s->errmsg, sizeof s->errmsg, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : "out of memory");
    if (!s->err)
        s->err = -EIO;
    return s->err;
}

static int exec(crawl_state *s, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &e) != SQLITE_OK) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s", e ? e : "sqlite error");
        sqlite3_free(e);
        return s->err = -EIO;
    }
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int state_open(const char *dir, bool resume, crawl_state **out)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -errno;
    char path[4096];
    snprintf(path, sizeof path, "%s/state.db", dir);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !resume)
        return -EEXIST;
    /* One crawl per state directory at a time. */
    char lpath[4096];
    snprintf(lpath, sizeof lpath, "%s/lock", dir);
    int lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0)
        return -errno;
    if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        close(lfd);
        return -EBUSY;
    }
    crawl_state *s = calloc(1, sizeof *s);
    if (!s) {
        close(lfd);
        return -ENOMEM;
    }
    s->lock_fd = lfd;
    s->is_new = !exists;
    if (sqlite3_open(path, &s->db) != SQLITE_OK) {
        state_close(s);
        return -EIO;
    }
    if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER);"
                "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY);"
                "CREATE TABLE IF NOT EXISTS urls(url TEXT PRIMARY KEY, depth INTEGER, parent TEXT, done INTEGER);"
                "CREATE TABLE IF NOT EXISTS hosts(origin TEXT PRIMARY KEY, kind INTEGER, robots BLOB, delay_ns INTEGER);") < 0 ||
        sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO hosts(origin, kind, robots, delay_ns) VALUES(?,?,?,?)", -1,
                           &s->ins_host, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO items(id) VALUES(?)", -1, &s->ins_item, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO urls(url, depth, parent, done) VALUES(?,?,?,0)", -1,
                           &s->ins_url, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE urls SET done=1 WHERE url=?", -1, &s->upd_done, NULL) != SQLITE_OK) {
        state_close(s);
        return -EIO;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='output_size'", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            s->output_size = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM meta WHERE key IN ('prefix_item','prefix_src','prefix_off')",
                           -1, &q, NULL) == SQLITE_OK) {
        int found = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(q, 0);
            int idx = strcmp(k, "prefix_item") == 0 ? 0 : strcmp(k, "prefix_src") == 0 ? 1 : 2;
            s->prefix[idx] = sqlite3_column_int64(q, 1);
            found++;
        }
        s->have_prefix = found == 3;
        sqlite3_finalize(q);
    }
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM items ORDER BY id", -1, &q, NULL) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            if (s->ndone_before % 4096 == 0) {
                int64_t *n = realloc(s->done_before, (s->ndone_before + 4096) * sizeof *n);
                if (!n)
                    break;
                s->done_before = n;
            }
            s->done_before[s->ndone_before++] = sqlite3_column_int64(q, 0);
        }
        sqlite3_finalize(q);
    }
    *out = s;
    return 0;
}

static void free_pending(pend_url *urls, size_t nurls, pend_host *hosts, size_t nhosts)
{
    for (size_t i = 0; i < nurls; i++) {
        free(urls[i].url);
        free(urls[i].parent);
    }
    for (size_t i = 0; i < nhosts; i++) {
        free(hosts[i].origin);
        free(hosts[i].robots);
    }
    free(urls);
    free(hosts);
}

void state_close(crawl_state *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->ins_item);
    sqlite3_finalize(s->ins_url);
    sqlite3_finalize(s->upd_done);
    sqlite3_finalize(s->ins_host);
    if (s->db)
        sqlite3_close(s->db);
    if (s->lock_fd > 0)
        close(s->lock_fd); /* releases the lock */
    free_pending(s->urls, s->nurls, s->hosts, s->nhosts); /* changes never committed */
    free(s->items);
    free(s->done_before);
    free(s);
}

int64_t state_output_size(crawl_state *s) { return s->output_size; }
bool state_is_new(crawl_state *s) { return s->is_new; }
const char *state_error(crawl_state *s) { return s->errmsg; }
size_t state_pending(crawl_state *s) { return s->nitems + s->nurls + s->nhosts; }

/* Room for one more pending change in *arr (n used, *cap allocated). Out of
 * memory sets the state's error, so the next checkpoint fails loudly instead
 * of committing as if the change had been kept. */
static bool reserve(crawl_state *s, void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return true;
    void *old;
    memcpy(&old, arr, sizeof old); /* arr points at a T* (no aliasing through void**) */
    size_t c = *cap ? *cap * 2 : 256;
    void *grown = realloc(old, c * elem);
    if (!grown) {
        s->pend_err = -ENOMEM;
        return false;
    }
    memcpy(arr, &grown, sizeof grown);
    *cap = c;
    return true;
}

void state_host(crawl_state *s, const char *origin, int kind, const char *robots, size_t len, int64_t delay_ns)
{
    if (!reserve(s, &s->hosts, s->nhosts, &s->caphosts, sizeof *s->hosts))
        return;
    char *copy = NULL;
    if (robots && len) {
        copy = malloc(len);
        if (copy)
            memcpy(copy, robots, len);
    }
    s->hosts[s->nhosts++] = (pend_host){strdup(origin), kind, copy, copy ? len : 0, delay_ns};
}

int state_each_host(crawl_state *s, void (*fn)(void *, const char *, int, const char *, size_t, int64_t), void *ud)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT origin, kind, robots, delay_ns FROM hosts", -1, &q, NULL) != SQLITE_OK)
        return fail(s, "reading the state");
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(q, 0), sqlite3_column_int(q, 1), sqlite3_column_blob(q, 2),
           (size_t)sqlite3_column_bytes(q, 2), sqlite3_column_int64(q, 3));
    sqlite3_finalize(q);
    return 0;
}

void state_item_done(crawl_state *s, int64_t item)
{
    if (!reserve(s, &s->items, s->nitems, &s->capitems, sizeof *s->items))
        return;
    s->items[s->nitems++] = item;
}

bool state_item_was_done(crawl_state *s, int64_t item)
{
    return s->ndone_before && bsearch(&item, s->done_before, s->ndone_before, sizeof item, cmp64) != NULL;
}

static void push_url(crawl_state *s, const char *url, int depth, const char *parent, bool done)
{
    if (!reserve(s, &s->urls, s->nurls, &s->capurls, sizeof *s->urls))
        return;
    s->urls[s->nurls++] = (pend_url){strdup(url), parent ? strdup(parent) : NULL, depth, done};
}

void state_url_queued(crawl_state *s, const char *url, int depth, const char *parent)
{
    push_url(s, url, depth, parent, false);
}

void state_url_done(crawl_state *s, const char *url) { push_url(s, url, 0, NULL, true); }

void state_set_prefix(crawl_state *s, int64_t item, int64_t src, int64_t off)
{
    if (s->have_prefix && s->prefix[0] == item)
        return;
    s->prefix[0] = item;
    s->prefix[1] = src;
    s->prefix[2] = off;
    s->have_prefix = s->prefix_dirty = true;
}

bool state_get_prefix(crawl_state *s, int64_t *item, int64_t *src, int64_t *off)
{
    if (!s->have_prefix)
        return false;
    *item = s->prefix[0];
    *src = s->prefix[1];
    *off = s->prefix[2];
    return true;
}

int state_each_url(crawl_state *s, void (*fn)(void *, const char *, int, const char *, bool), void *ud)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT url, depth, parent, done FROM urls", -1, &q, NULL) != SQLITE_OK)
        return fail(s, "reading the state");
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(q, 0), sqlite3_column_int(q, 1),
           (const char *)sqlite3_column_text(q, 2), sqlite3_column_int(q, 3) != 0);
    sqlite3_finalize(q);
    return 0;
}

/* Pending changes taken off the state by state_seal, for state_commit. */
struct state_batch {
    int64_t *items;
    size_t nitems;
    pend_url *urls;
    size_t nurls;
    pend_host *hosts;
    size_t nhosts;
    int64_t prefix[3];
    bool prefix_dirty;
    int err; /* a change was lost before the seal: the batch must not commit */
};

void state_batch_free(state_batch *b)
{
    if (!b)
        return;
    free_pending(b->urls, b->nurls, b->hosts, b->nhosts);
    free(b->items);
    free(b);
}

state_batch *state_seal(crawl_state *s)
{
    state_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL; /* the changes stay pending for the next seal */
    b->items = s->items;
    b->nitems = s->nitems;
    b->urls = s->urls;
    b->nurls = s->nurls;
    b->hosts = s->hosts;
    b->nhosts = s->nhosts;
    memcpy(b->prefix, s->prefix, sizeof b->prefix);
    b->prefix_dirty = s->prefix_dirty;
    b->err = s->pend_err;
    s->items = NULL;
    s->urls = NULL;
    s->hosts = NULL;
    s->nitems = s->capitems = s->nurls = s->capurls = s->nhosts = s->caphosts = 0;
    s->prefix_dirty = false;
    return b;
}

static int commit_rows(crawl_state *s, const state_batch *b)
{
    for (size_t i = 0; i < b->nitems; i++) {
        sqlite3_bind_int64(s->ins_item, 1, b->items[i]);
        int rc = sqlite3_step(s->ins_item);
        sqlite3_reset(s->ins_item);
        if (rc != SQLITE_DONE)
            return -1;
    }
    for (size_t i = 0; i < b->nurls; i++) {
        const pend_url *u = &b->urls[i];
        sqlite3_stmt *st = u->done ? s->upd_done : s->ins_url;
        sqlite3_bind_text(st, 1, u->url, -1, SQLITE_STATIC);
        if (!u->done) {
            sqlite3_bind_int(st, 2, u->depth);
            if (u->parent)
                sqlite3_bind_text(st, 3, u->parent, -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(st, 3);
        }
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE)
            return -1;
    }
    for (size_t i = 0; i < b->nhosts; i++) {
        const pend_host *h = &b->hosts[i];
        sqlite3_bind_text(s->ins_host, 1, h->origin, -1, SQLITE_STATIC);
        sqlite3_bind_int(s->ins_host, 2, h->kind);
        if (h->robots)
            sqlite3_bind_blob(s->ins_host, 3, h->robots, (int)h->len, SQLITE_STATIC);
        else
            sqlite3_bind_null(s->ins_host, 3);
        sqlite3_bind_int64(s->ins_host, 4, h->delay_ns);
        int rc = sqlite3_step(s->ins_host);
        sqlite3_reset(s->ins_host);
        sqlite3_clear_bindings(s->ins_host);
        if (rc != SQLITE_DONE)
            return -1;
    }
    return 0;
}

int state_commit(crawl_state *s, state_batch *b, int64_t output_size)
{
    if (!s->err && b && b->err) {
        snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
        s->err = b->err;
    }
    if (s->err || !b) {
        state_batch_free(b);
        return s->err ? s->err : -ENOMEM;
    }
    if (exec(s, "BEGIN") < 0) {
        state_batch_free(b);
        return s->err;
    }
    if (commit_rows(s, b) < 0) {
        int rc = fail(s, "writing the state");
        exec(s, "ROLLBACK");
        state_batch_free(b);
        return rc;
    }
    char sql[256];
    int rc = 0;
    if (b->prefix_dirty) {
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO meta(key, value) VALUES('prefix_item', %lld), ('prefix_src', %lld), "
                 "('prefix_off', %lld)",
                 (long long)b->prefix[0], (long long)b->prefix[1], (long long)b->prefix[2]);
        rc = exec(s, sql);
    }
    if (rc == 0) {
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES('output_size', %lld)",
                 (long long)output_size);
        rc = exec(s, sql);
    }
    if (rc == 0)
        rc = exec(s, "COMMIT");
    state_batch_free(b);
    if (rc < 0) {
        int err = s->err;
        exec(s, "ROLLBACK");
        s->err = err;
        return err;
    }
    s->output_size = output_size;
    return 0;
}

int state_checkpoint(crawl_state *s, int64_t output_size)
{
    state_batch *b = state_seal(s);
    if (!b && !s->err) {
        snprintf(s->errmsg, sizeof s->errmsg, "out of memory");
        s->err = -ENOMEM;
    }
    return state_commit(s, b, output_size);
}
