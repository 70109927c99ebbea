/* queue: see include/crawl/co_queue.h.
 * A ring buffer plus three wait lists. Items move by direct hand-over where a
 * task waits on the other side: put to a waiting getter, and a get that frees
 * a slot pulls the first waiting putter's item into the ring. */
#include "crawl/co_queue.h"
#include "sched.h"

#include <errno.h>
#include <stdlib.h>

#define WL(l) (&(l))

int co_queue_init(co_queue *q, size_t maxsize)
{
    q->maxsize = maxsize;
    q->cap = maxsize ? maxsize : 16;
    q->buf = malloc(q->cap * sizeof *q->buf);
    if (!q->buf)
        return -ENOMEM;
    q->head = q->len = 0;
    q->unfinished = 0;
    q->closed = false;
    co_dlist_init(WL(q->getters));
    co_dlist_init(WL(q->putters));
    co_dlist_init(WL(q->joiners));
    return 0;
}

void co_queue_destroy(co_queue *q)
{
    free(q->buf);
    q->buf = NULL;
}

static bool full(const co_queue *q) { return q->maxsize && q->len >= q->maxsize; }

static int ring_push(co_queue *q, void *item)
{
    if (q->len == q->cap) { /* only when unbounded */
        size_t ncap = q->cap * 2;
        void **nb = malloc(ncap * sizeof *nb);
        if (!nb)
            return -ENOMEM;
        for (size_t i = 0; i < q->len; i++)
            nb[i] = q->buf[(q->head + i) % q->cap];
        free(q->buf);
        q->buf = nb;
        q->cap = ncap;
        q->head = 0;
    }
    q->buf[(q->head + q->len) % q->cap] = item;
    q->len++;
    return 0;
}

static void *ring_pop(co_queue *q)
{
    void *item = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return item;
}

/* Enqueue or hand over; the caller checked closed/full. */
static int deliver(co_queue *q, void *item)
{
    if (!co_dlist_empty(WL(q->getters))) {
        co_task *g = co_container_of(WL(q->getters)->next, co_task, qnode);
        g->wait_data = item;
        co__wake(g, 0);
    } else {
        int rc = ring_push(q, item);
        if (rc < 0)
            return rc;
    }
    q->unfinished++;
    return 0;
}

int co_queue_try_put(co_queue *q, void *item)
{
    if (q->closed)
        return -EPIPE;
    if (full(q) || !co_dlist_empty(WL(q->putters)))
        return -EAGAIN;
    return deliver(q, item);
}

int co_queue_put(co_queue *q, void *item, int64_t timeout_ms)
{
    if (co__cancel_pending())
        return -ECANCELED;
    int rc = co_queue_try_put(q, item);
    if (rc != -EAGAIN)
        return rc;
    co_task *self = co_current();
    self->wait_data = item;
    /* A getter moves our item into the ring and wakes us with 0; close()
     * wakes us with -EPIPE without taking it. */
    return co__park(WL(q->putters), timeout_ms, 0);
}

/* After a slot frees up, admit the first waiting putter's item. */
static void admit_putter(co_queue *q)
{
    if (co_dlist_empty(WL(q->putters)) || full(q))
        return;
    co_task *p = co_container_of(WL(q->putters)->next, co_task, qnode);
    if (ring_push(q, p->wait_data) == 0) {
        q->unfinished++;
        co__wake(p, 0);
    }
}

int co_queue_try_get(co_queue *q, void **item)
{
    if (q->len == 0) {
        /* A bounded queue of maxsize 0 does not exist, so no putter can be
         * waiting on an empty queue. */
        return q->closed ? -EPIPE : -EAGAIN;
    }
    *item = ring_pop(q);
    admit_putter(q);
    return 0;
}

int co_queue_get(co_queue *q, void **item, int64_t timeout_ms)
{
    if (co__cancel_pending())
        return -ECANCELED;
    int rc = co_queue_try_get(q, item);
    if (rc != -EAGAIN)
        return rc;
    co_task *self = co_current();
    self->wait_data = NULL;
    rc = co__park(WL(q->getters), timeout_ms, 0);
    if (rc == 0)
        *item = self->wait_data;
    return rc;
}

size_t co_queue_len(const co_queue *q) { return q->len; }

int co_queue_task_done(co_queue *q)
{
    if (q->unfinished == 0)
        return -EOVERFLOW;
    if (--q->unfinished == 0)
        co__wake_all(WL(q->joiners), 0);
    return 0;
}

int co_queue_join(co_queue *q, int64_t timeout_ms)
{
    if (co__cancel_pending())
        return -ECANCELED;
    while (q->unfinished > 0) {
        int rc = co__park(WL(q->joiners), timeout_ms, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void co_queue_close(co_queue *q)
{
    q->closed = true;
    co__wake_all(WL(q->putters), -EPIPE);
    if (q->len == 0)
        co__wake_all(WL(q->getters), -EPIPE);
}
