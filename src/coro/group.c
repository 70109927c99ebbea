/* group: gather and task groups. See include/crawl/co_group.h. */
#include "crawl/co_group.h"
#include "sched.h"

#include <errno.h>
#include <stdlib.h>

/* ---- gather ---------------------------------------------------------------- */

typedef struct gather_state {
    co_task *waiter;
    size_t pending;
    int flags;
    int first_error;
} gather_state;

static void gather_watch(co_watch *w, co_task *t)
{
    gather_state *g = w->data;
    g->pending--;
    bool fail = t->result < 0 && g->first_error == 0;
    if (fail)
        g->first_error = t->result;
    if (g->pending == 0 || (fail && !(g->flags & CO_GATHER_ALL)))
        co__wake(g->waiter, 0);
}

int co_gather(co_task *const *tasks, size_t n, int *results, int flags, int64_t timeout_ms)
{
    gather_state g = {.waiter = co_current(), .pending = 0, .flags = flags, .first_error = 0};
    co_watch *w = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!co_task_done(tasks[i]))
            g.pending++;
        else if (tasks[i]->result < 0 && g.first_error == 0)
            g.first_error = tasks[i]->result;
    }
    int st = 0;
    bool stop_early = g.first_error != 0 && !(flags & CO_GATHER_ALL);
    if (g.pending > 0 && !stop_early) {
        w = calloc(n, sizeof *w);
        if (!w)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if (co_task_done(tasks[i]))
                continue;
            w[i].fn = gather_watch;
            w[i].data = &g;
            co__watch_add(tasks[i], &w[i]);
        }
        st = co__park(NULL, timeout_ms, 0);
        for (size_t i = 0; i < n; i++)
            if (w[i].fn)
                co__watch_remove(&w[i]);
        free(w);
        /* A wake and a cancel can race: trust what the tasks say. */
        if (st < 0 && (g.pending == 0 || (g.first_error && !(flags & CO_GATHER_ALL))))
            st = 0;
    }
    if (results)
        for (size_t i = 0; i < n; i++)
            results[i] = co_task_done(tasks[i]) ? tasks[i]->result : -EINPROGRESS;
    if (st < 0)
        return st;
    return (flags & CO_GATHER_ALL) ? 0 : g.first_error;
}

/* ---- task groups ------------------------------------------------------------- */

struct co_group_child {
    co_watch watch;
    co_task *task;
    co_group *group;
};

void co_group_init(co_group *g)
{
    g->children = NULL;
    g->n = g->cap = 0;
    g->running = 0;
    g->first_error = 0;
    g->failed = false;
    g->waiter = NULL;
}

void co_group_cancel(co_group *g)
{
    for (size_t i = 0; i < g->n; i++)
        co_cancel(g->children[i]->task);
}

static void child_done(co_watch *w, co_task *t)
{
    co_group_child *c = w->data;
    co_group *g = c->group;
    g->running--;
    if (t->result < 0 && t->result != -ECANCELED && !g->failed) {
        g->failed = true;
        g->first_error = t->result;
        co_group_cancel(g);
    }
    if (g->running == 0 && g->waiter)
        co__wake(g->waiter, 0);
}

int co_group_spawn(co_group *g, co_fn fn, void *arg, co_task **out)
{
    if (g->failed)
        return -ECANCELED;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        co_group_child **nc = realloc(g->children, cap * sizeof *nc);
        if (!nc)
            return -ENOMEM;
        g->children = nc;
        g->cap = cap;
    }
    co_group_child *c = malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->task = co_spawn(fn, arg);
    if (!c->task) {
        free(c);
        return -ENOMEM;
    }
    c->group = g;
    c->watch.fn = child_done;
    c->watch.data = c;
    co__watch_add(c->task, &c->watch);
    g->children[g->n++] = c;
    g->running++;
    if (out)
        *out = c->task;
    return 0;
}

int co_group_wait(co_group *g, int64_t timeout_ms)
{
    int interrupted = 0;
    int64_t deadline = timeout_ms >= 0 ? co_now_ns() + timeout_ms * 1000000 : -1;
    g->waiter = co_current();
    while (g->running > 0) {
        int64_t left = CO_FOREVER;
        if (deadline >= 0 && !interrupted) {
            left = (deadline - co_now_ns()) / 1000000;
            if (left < 0)
                left = 0;
        }
        int st = co__park(NULL, interrupted ? CO_FOREVER : left, 0);
        if (st < 0 && !interrupted && g->running > 0) {
            /* We were cancelled or timed out: cancel the children and still
             * wait for all of them, shielded, as structured concurrency demands. */
            interrupted = st;
            co_group_cancel(g);
            co_shield_begin();
        }
    }
    if (interrupted)
        co_shield_end();
    g->waiter = NULL;
    return interrupted ? interrupted : g->first_error;
}

size_t co_group_size(const co_group *g) { return g->n; }
co_task *co_group_task(const co_group *g, size_t i) { return i < g->n ? g->children[i]->task : NULL; }

void co_group_destroy(co_group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        co__watch_remove(&g->children[i]->watch);
        co_task_release(g->children[i]->task);
        free(g->children[i]);
    }
    free(g->children);
    co_group_init(g);
}
