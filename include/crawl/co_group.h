/* co_group: waiting on several tasks. gather (asyncio.gather) and task groups
 * (asyncio.TaskGroup / trio nurseries: structured concurrency).
 *
 * Threads: loop thread only. Ownership: gather borrows the handles it is
 * given; a group owns the handles of the tasks spawned into it until
 * co_group_destroy().
 */
#ifndef CRAWL_CO_GROUP_H
#define CRAWL_CO_GROUP_H

#include "crawl/co.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gather flags */
#define CO_GATHER_ALL 1 /* wait for every task, collect every status (return_exceptions=True) */

/* Wait for n tasks. results[i] (may be NULL) receives each task's result, or
 * -EINPROGRESS for a task that had not finished when gather returned.
 * Default: returns at the first task that fails (result < 0) with that result,
 * leaving the others running (still awaitable); 0 when all succeeded.
 * CO_GATHER_ALL: waits for every task and returns 0.
 * Either way -ECANCELED / -ETIMEDOUT if the gathering task itself was
 * cancelled or timed out (the tasks keep running). */
int co_gather(co_task *const *tasks, size_t n, int *results, int flags, int64_t timeout_ms);

typedef struct co_group_child co_group_child;

typedef struct co_group {
    co_group_child **children;
    size_t n, cap;
    size_t running;
    int first_error;    /* first failure other than -ECANCELED, or 0 */
    bool failed;
    co_task *waiter;
} co_group;

void co_group_init(co_group *g);
/* Spawn fn(arg) into the group. -ECANCELED once the group has failed (no new
 * tasks after a failure), -ENOMEM. *out (may be NULL) gets a borrowed handle. */
int co_group_spawn(co_group *g, co_fn fn, void *arg, co_task **out);
/* Wait until every task in the group has ended. The first task that fails
 * (result < 0 and not -ECANCELED) cancels all the others. Returns that first
 * error, or 0. If the waiting task is cancelled or timeout_ms expires, every
 * child is cancelled and awaited, then -ECANCELED / -ETIMEDOUT is returned. */
int co_group_wait(co_group *g, int64_t timeout_ms);
/* Cancel every task in the group (they are still awaited by co_group_wait). */
void co_group_cancel(co_group *g);
size_t co_group_size(const co_group *g);
co_task *co_group_task(const co_group *g, size_t i);
/* Release every handle. The group must have no running task (wait first). */
void co_group_destroy(co_group *g);

#ifdef __cplusplus
}
#endif
#endif
