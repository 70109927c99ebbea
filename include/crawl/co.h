/* co: the coroutine runtime. Stackful coroutines (tasks) scheduled on a
 * libevent event_base: the C counterpart of asyncio's loop, tasks, sleep,
 * cancellation and timeouts. gather and task groups live in co_group.h, the
 * synchronisation primitives in co_sync.h, the queue in co_queue.h and the
 * executor thread pool in co_exec.h.
 *
 * Errors are values: every call that can fail or suspend returns 0 (or a
 * non-negative result) on success and a negative errno on failure:
 *   -ECANCELED  the calling task was cancelled (sticky: every later suspension
 *               point fails the same way until the task ends, unless shielded)
 *   -ETIMEDOUT  the operation's own timeout or an enclosing deadline expired
 *   -ENOMEM     out of memory / stacks
 *
 * Threads: a loop and everything created on it belong to the thread that runs
 * co_run(). The only functions callable from other threads are
 * co_loop_post() and co_future_set()/co_future_fail() (co_sync.h).
 * The current loop is the only per-thread global the runtime keeps.
 *
 * Ownership: co_spawn() returns a task handle holding one reference; the loop
 * holds another while the task runs. Release yours with co_task_release()
 * (after co_join() if you want the result). A task is never freed under a
 * handle. Tasks still running when the main task of co_run() returns are
 * cancelled and awaited before co_run() returns: nothing leaks silently.
 */
#ifndef CRAWL_CO_H
#define CRAWL_CO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct co_loop co_loop;

/* Intrusive list node; primitives embed list heads of this type. Opaque. */
typedef struct co_dnode {
    struct co_dnode *prev, *next;
} co_dnode;
typedef struct co_task co_task;

/* A task body: returns 0 or a negative errno; that value is the task's result. */
typedef int (*co_fn)(void *arg);

/* Wait forever (for every timeout_ms parameter). */
#define CO_FOREVER ((int64_t)-1)

typedef struct co_config {
    size_t stack_size;       /* usable bytes per coroutine stack; 0 = 64 KiB */
    size_t stack_cache;      /* free guarded stacks kept committed; 0 = 1024 */
    int batch;               /* tasks resumed per loop iteration; 0 = 256 */
} co_config;

/* Like asyncio.run: create a loop on this thread, run main_fn(arg) as the main
 * task until it returns, cancel and await every other task still alive, tear
 * the loop down, and return main_fn's result (or a negative errno if the loop
 * could not be created). cfg may be NULL. There is no deadlock detection: if
 * main_fn blocks with nothing left to wake it (no timer, no I/O, no post from
 * another thread), co_run waits for ever, using no CPU; give such waits a
 * timeout or a deadline scope. */
int co_run(co_fn main_fn, void *arg, const co_config *cfg);

/* The loop running on this thread, or NULL outside co_run(). */
co_loop *co_loop_current(void);
/* The loop's libevent base, for modules that add their own events (curl, DNS). */
struct event_base *co_loop_base(co_loop *loop);
/* Monotonic clock in nanoseconds, as used for every deadline. Any thread. */
int64_t co_now_ns(void);

/* Thread-safe wake-up: run fn(node) on the loop thread soon. Callable from
 * any thread. The node is caller-owned and must stay valid until fn runs;
 * it must not be posted again before that. */
typedef struct co_post {
    struct co_post *next;
    void (*fn)(struct co_post *node);
} co_post;
void co_loop_post(co_loop *loop, co_post *node);
/* Post a chain first..last (linked through next) at once: one wake-up. */
void co_loop_post_chain(co_loop *loop, co_post *first, co_post *last);

/* Spawn a task on the current loop (like asyncio.create_task). The task starts
 * at the loop's next turn. Returns NULL when memory or stacks run out. */
co_task *co_spawn(co_fn fn, void *arg);
/* Drop a handle returned by co_spawn(). */
void co_task_release(co_task *t);
co_task *co_current(void);

/* Let every other ready task run, then continue. -ECANCELED if cancelled.
 * (Not named co_yield: that is a C++20 keyword, and this header is C++-safe.) */
int co_yield_now(void);
/* Suspend for ms milliseconds (0 = yield). 0, -ECANCELED or -ETIMEDOUT (an
 * enclosing deadline expired before the sleep did). */
int co_sleep(int64_t ms);

/* Request cancellation: t sees -ECANCELED at its current or next suspension
 * point (immediately if it is waiting). Idempotent; no effect on a finished task. */
void co_cancel(co_task *t);
bool co_task_cancelled(const co_task *t);
bool co_task_done(const co_task *t);
/* The task's result; only meaningful once co_task_done(). */
int co_task_result(const co_task *t);

/* Wait for t to finish (t may already be done). Returns 0 and stores t's
 * result in *result (may be NULL), or -ECANCELED / -ETIMEDOUT if the wait
 * itself was interrupted (t keeps running). timeout_ms: CO_FOREVER or >= 0. */
int co_join(co_task *t, int *result, int64_t timeout_ms);
/* Like asyncio.wait_for: wait for t; on expiry cancel t, wait until it has
 * ended, and return -ETIMEDOUT. If the caller is cancelled, t is cancelled and
 * awaited too, and -ECANCELED is returned. */
int co_wait_for(co_task *t, int *result, int64_t timeout_ms);

/* Shield: between begin and end, cancellation does not interrupt waits (for
 * cleanup that must block). Deadlines still apply. Calls nest. */
void co_shield_begin(void);
void co_shield_end(void);

/* Deadline scope, like asyncio.timeout(): every suspension inside the scope
 * fails with -ETIMEDOUT once the deadline has passed (level-triggered).
 * Scopes nest (the earliest deadline wins) and must be popped in LIFO order.
 * The struct lives in the caller's frame. co_deadline_pop returns -ETIMEDOUT
 * if this scope expired, else 0. */
typedef struct co_deadline {
    int64_t at_ns;              /* absolute deadline (co_now_ns clock) */
    int64_t effective_ns;       /* min of this and enclosing scopes */
    struct co_deadline *outer;
    bool expired;
} co_deadline;
void co_deadline_push(co_deadline *d, int64_t timeout_ms);
int co_deadline_pop(co_deadline *d);

/* Runtime statistics for the current loop (tests and benchmarks). */
typedef struct co_stats {
    size_t tasks_live;
    size_t stacks_in_use;
    size_t guarded_stacks;
    size_t guarded_budget; /* applies only without light guards */
    bool light_guards;     /* guard pages are page-table markers (Linux 6.13+) */
} co_stats;
void co_loop_stats(co_stats *out);

#ifdef __cplusplus
}
#endif
#endif
