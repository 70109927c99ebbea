/* sched: internals shared by the runtime modules (not public API).
 *
 * Waiting protocol used by every primitive:
 *   status = co__park(&prim->waiters, timeout_ms, flags);
 * suspends the current task, linked into the primitive's wait list, until
 * co__wake(task, status) (the primitive hands it a status, usually 0),
 * cancellation (-ECANCELED), the op's own timeout or an enclosing deadline
 * (-ETIMEDOUT). On return the task is no longer in any wait list. A task woken
 * by a primitive keeps that status even if it is cancelled before it runs, so
 * ownership handed over in a wake (a lock, a permit, a queue item) is never lost.
 *
 * Everything here runs on the loop thread only.
 */
#ifndef CRAWL_CORO_SCHED_H
#define CRAWL_CORO_SCHED_H

#include "crawl/co.h"
#include "ctx.h"
#include "list.h"
#include "stack.h"

#include <event2/event_struct.h>

enum co_task_state { CO_READY, CO_RUNNING, CO_PARKED, CO_DONE };

/* Notified (on the loop thread) when a task ends. */
typedef struct co_watch {
    co_dnode node;
    void (*fn)(struct co_watch *w, co_task *t);
    void *data;
} co_watch;

struct co_task {
    co_ctx ctx;
    co_loop *loop;
    co_stack *stack;
    co_fn fn;
    void *arg;
    int result;
    int refs;
    unsigned char state;
    bool cancelled;
    bool timer_armed;
    bool timer_is_op;   /* armed for the op's own timeout, not a deadline scope */
    int shield;
    co_dnode qnode;     /* in the ready queue or in a wait list */
    co_dlist *wlist;    /* the wait list it is parked in, or NULL */
    int wake_status;
    void *wait_data;    /* per-wait payload for the primitive (queue items) */
    co_deadline *deadline;
    co_dlist watchers;
    co_watch join_watch; /* used while this task waits in co_join */
    co_dnode all;       /* in loop->all */
    struct event timer;
    void *asan_fake;
};

#define CO_PARK_SLEEP 1 /* the op's own timeout is success, not -ETIMEDOUT */

int co__park(co_dlist *wait_list, int64_t timeout_ms, int flags);
void co__wake(co_task *t, int status);
/* Pop and wake the first task of a wait list; returns it or NULL. */
co_task *co__wake_one(co_dlist *wait_list, int status);
void co__wake_all(co_dlist *wait_list, int status);
void co__watch_add(co_task *t, co_watch *w);
void co__watch_remove(co_watch *w);
/* Is the current task cancelled and not shielded? */
bool co__cancel_pending(void);

#endif
