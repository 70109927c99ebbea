/* sync: futures, locks, semaphores, events. See include/crawl/co_sync.h. */
#include "crawl/co_sync.h"
#include "sched.h"

#include <errno.h>
#include <pthread.h>

#define WL(x) (&(x)->waiters)

/* ---- Future ------------------------------------------------------------ */

enum { FUT_PENDING, FUT_COMPLETING, FUT_DONE };

void co_future_init(co_future *f)
{
    co_dlist_init(WL(f));
    f->loop = co_loop_current();
    atomic_init(&f->state, FUT_PENDING);
    f->status = 0;
    f->value = NULL;
}

static void fut_deliver(co_post *p)
{
    co_future *f = co_container_of(p, co_future, post);
    atomic_store_explicit(&f->state, FUT_DONE, memory_order_release);
    co__wake_all(WL(f), 0);
}

static int fut_complete(co_future *f, void *value, int status)
{
    int expect = FUT_PENDING;
    if (!atomic_compare_exchange_strong(&f->state, &expect, FUT_COMPLETING))
        return -EALREADY;
    f->value = value;
    f->status = status;
    if (co_loop_current() == f->loop) {
        fut_deliver(&f->post);
    } else {
        f->post.fn = fut_deliver;
        co_loop_post(f->loop, &f->post);
    }
    return 0;
}

int co_future_set(co_future *f, void *value) { return fut_complete(f, value, 0); }

int co_future_fail(co_future *f, int err)
{
    return fut_complete(f, NULL, err < 0 ? err : -EINVAL);
}

bool co_future_done(const co_future *f)
{
    return atomic_load_explicit(&((co_future *)f)->state, memory_order_acquire) == FUT_DONE;
}

int co_future_await(co_future *f, void **value, int64_t timeout_ms)
{
    while (!co_future_done(f)) {
        int st = co__park(WL(f), timeout_ms, 0);
        if (st < 0)
            return st;
    }
    if (value)
        *value = f->value;
    return f->status;
}

/* ---- Lock ------------------------------------------------------------------ */

void co_lock_init(co_lock *l)
{
    co_dlist_init(WL(l));
    l->owner = NULL;
}

bool co_lock_try(co_lock *l)
{
    if (l->owner)
        return false;
    l->owner = co_current();
    return true;
}

int co_lock_acquire(co_lock *l, int64_t timeout_ms)
{
    if (co__cancel_pending())
        return -ECANCELED;
    if (!l->owner && co_dlist_empty(WL(l))) {
        l->owner = co_current();
        return 0;
    }
    /* release() hands ownership to us before waking us (status 0). */
    return co__park(WL(l), timeout_ms, 0);
}

int co_lock_release(co_lock *l)
{
    if (l->owner != co_current())
        return -EPERM;
    co_task *next = co_dlist_empty(WL(l)) ? NULL : co_container_of(WL(l)->next, co_task, qnode);
    l->owner = next;
    if (next)
        co__wake(next, 0);
    return 0;
}

/* ---- Semaphore ----------------------------------------------------------- */

void co_sem_init(co_sem *s, long value, long bound)
{
    co_dlist_init(WL(s));
    s->value = value;
    s->bound = bound;
}

bool co_sem_try(co_sem *s)
{
    if (s->value > 0 && co_dlist_empty(WL(s))) {
        s->value--;
        return true;
    }
    return false;
}

int co_sem_acquire(co_sem *s, int64_t timeout_ms)
{
    if (co__cancel_pending())
        return -ECANCELED;
    if (co_sem_try(s))
        return 0;
    /* release() passes its permit straight to us (status 0). */
    return co__park(WL(s), timeout_ms, 0);
}

int co_sem_release(co_sem *s)
{
    if (co__wake_one(WL(s), 0))
        return 0; /* the permit went directly to a waiter */
    if (s->bound > 0 && s->value >= s->bound)
        return -EOVERFLOW;
    s->value++;
    return 0;
}

long co_sem_value(const co_sem *s) { return s->value; }

/* ---- Event ------------------------------------------------------------------ */

void co_event_init(co_event *e)
{
    co_dlist_init(WL(e));
    e->is_set = false;
}

void co_event_set(co_event *e)
{
    e->is_set = true;
    co__wake_all(WL(e), 0);
}

void co_event_clear(co_event *e) { e->is_set = false; }
bool co_event_is_set(const co_event *e) { return e->is_set; }

int co_event_wait(co_event *e, int64_t timeout_ms)
{
    if (co__cancel_pending())
        return -ECANCELED;
    if (e->is_set)
        return 0;
    return co__park(WL(e), timeout_ms, 0);
}
