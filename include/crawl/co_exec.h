/* co_exec: a fixed pool of worker threads for CPU work or blocking calls
 * (asyncio's run_in_executor / to_thread).
 *
 * A task calls co_exec_run(); the job runs on a worker thread while the task
 * is suspended; the worker wakes the loop through its thread-safe post queue
 * and exactly that task resumes. Submission is bounded: at most max_pending
 * jobs are queued or running; further submitters wait (backpressure).
 *
 * Workers run as SCHED_BATCH threads (they never preempt the loop when they
 * wake) and post the completions of a burst of jobs together (when the
 * queue runs dry, after 32 jobs or after 1 ms): on a shared core, a burst
 * costs two thread switches instead of two per job.
 *
 * Cancellation: a job still queued is withdrawn at once. A job already
 * running cannot be interrupted, so the cancelled task waits (shielded) until
 * the worker is done with it: the job's argument is never freed under a
 * running worker. Either way co_exec_run returns -ECANCELED (or -ETIMEDOUT).
 *
 * Threads: create, run and free on the loop thread; fn runs on a worker and
 * must not touch the loop. Ownership: the pool owns its threads; arg and the
 * result belong to the caller.
 */
#ifndef CRAWL_CO_EXEC_H
#define CRAWL_CO_EXEC_H

#include "crawl/co.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct co_exec co_exec;

/* Start nthreads workers (>= 1) on the current loop. NULL on failure. */
co_exec *co_exec_new(int nthreads, size_t max_pending);
/* Run fn(arg) on a worker and wait. *result (may be NULL) gets fn's return
 * value whenever fn ran, even if the wait was interrupted (so it can be
 * freed), else NULL. Returns 0, -ECANCELED, -ETIMEDOUT, or -EPIPE once
 * co_exec_free() has begun stopping the pool. */
int co_exec_run(co_exec *ex, void *(*fn)(void *arg), void *arg, void **result);
/* Stop accepting jobs, finish queued ones, join the workers and free the pool.
 * No task may be waiting in co_exec_run (join them first). */
void co_exec_free(co_exec *ex);
int co_exec_threads(const co_exec *ex);

#ifdef __cplusplus
}
#endif
#endif
