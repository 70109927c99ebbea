/* co_sync: futures, locks, semaphores and events for coroutines (asyncio's
 * Future, Lock, Semaphore/BoundedSemaphore and Event).
 *
 * Every wait takes timeout_ms (CO_FOREVER, or >= 0) and returns 0 on success
 * or -ECANCELED / -ETIMEDOUT; a cancelled or timed-out wait never leaves the
 * primitive in a changed state (a lock is not left held, a permit not lost).
 * Waiters are woken in FIFO order; hand-over is direct (fair).
 *
 * Threads: everything runs on the loop thread, except co_future_set() and
 * co_future_fail(), which are safe from any thread. Ownership: the structs are
 * caller-allocated (embed them); destroy only with no waiter.
 */
#ifndef CRAWL_CO_SYNC_H
#define CRAWL_CO_SYNC_H

#include "crawl/co.h"

/* C++ has no <stdatomic.h> before C++23; std::atomic<int> has atomic_int's
 * layout (C++23 defines atomic_int as exactly that). */
#ifdef __cplusplus
#include <atomic>
typedef std::atomic<int> co_atomic_int;
#else
#include <stdatomic.h>
typedef atomic_int co_atomic_int;
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The wait-list head type (an intrusive list; treat it as opaque). */
typedef co_dnode co_waitlist;

/* ---- Future: completes once; any number of awaiters. ------------------ */
typedef struct co_future {
    co_waitlist waiters;
    co_loop *loop;
    co_atomic_int state; /* 0 pending, 1 completing, 2 done */
    int status;         /* 0, or the negative errno it failed with */
    void *value;
    co_post post;       /* used when completed from another thread */
} co_future;

/* Bind a future to the current loop. */
void co_future_init(co_future *f);
/* Complete with a value / an error (err < 0). Safe from any thread. A second
 * completion returns -EALREADY and changes nothing. From another thread, the
 * future must stay alive until its awaiters have woken. */
int co_future_set(co_future *f, void *value);
int co_future_fail(co_future *f, int err);
bool co_future_done(const co_future *f);
/* Wait for completion. Returns the failure status, or 0 with *value set. */
int co_future_await(co_future *f, void **value, int64_t timeout_ms);

/* ---- Lock: FIFO-fair mutual exclusion between tasks. ------------------ */
typedef struct co_lock {
    co_waitlist waiters;
    co_task *owner;
} co_lock;

void co_lock_init(co_lock *l);
int co_lock_acquire(co_lock *l, int64_t timeout_ms);
bool co_lock_try(co_lock *l);
/* -EPERM if the caller does not hold it. Hands it to the first waiter. */
int co_lock_release(co_lock *l);

/* ---- Semaphore ----------------------------------------------------------- */
typedef struct co_sem {
    co_waitlist waiters;
    long value;
    long bound; /* > 0: BoundedSemaphore; releasing past it is -EOVERFLOW */
} co_sem;

/* bound = 0 for a plain counting semaphore, else the maximum value. */
void co_sem_init(co_sem *s, long value, long bound);
int co_sem_acquire(co_sem *s, int64_t timeout_ms);
bool co_sem_try(co_sem *s);
int co_sem_release(co_sem *s);
long co_sem_value(const co_sem *s);

/* ---- Event ------------------------------------------------------------- */
typedef struct co_event {
    co_waitlist waiters;
    bool is_set;
} co_event;

void co_event_init(co_event *e);
/* Set the flag and wake every waiter. */
void co_event_set(co_event *e);
void co_event_clear(co_event *e);
bool co_event_is_set(const co_event *e);
/* Returns at once while the flag is set. */
int co_event_wait(co_event *e, int64_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
