/* co_queue: a FIFO queue between tasks (asyncio.Queue), bounded or not.
 *
 * put suspends while the queue is full, get while it is empty; the _try
 * variants never suspend (-EAGAIN). task_done/join count unfinished items
 * exactly like asyncio. close() replaces the "None sentinel" idiom: after it,
 * put fails with -EPIPE, and get returns the items still queued, then -EPIPE
 * (end of queue) to every getter.
 *
 * Cancellation-safe: a cancelled or timed-out put did not enqueue its item
 * (the caller still owns it); a cancelled get did not take one.
 *
 * Threads: loop thread only. Ownership: items are opaque pointers; the queue
 * never frees them. co_queue_destroy() frees only the queue's own buffer.
 */
#ifndef CRAWL_CO_QUEUE_H
#define CRAWL_CO_QUEUE_H

#include "crawl/co_sync.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct co_queue {
    void **buf;
    size_t cap;        /* slots allocated */
    size_t head, len;
    size_t maxsize;    /* 0 = unbounded */
    size_t unfinished; /* put minus task_done */
    bool closed;
    co_waitlist getters, putters, joiners;
} co_queue;

/* maxsize 0 = unbounded. -ENOMEM. */
int co_queue_init(co_queue *q, size_t maxsize);
void co_queue_destroy(co_queue *q);
int co_queue_put(co_queue *q, void *item, int64_t timeout_ms);
int co_queue_try_put(co_queue *q, void *item);
int co_queue_get(co_queue *q, void **item, int64_t timeout_ms);
int co_queue_try_get(co_queue *q, void **item);
size_t co_queue_len(const co_queue *q);
/* -EOVERFLOW if called more times than items were put. */
int co_queue_task_done(co_queue *q);
/* Wait until every item put has been marked done. */
int co_queue_join(co_queue *q, int64_t timeout_ms);
void co_queue_close(co_queue *q);

#ifdef __cplusplus
}
#endif
#endif
