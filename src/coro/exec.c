/* exec: the executor thread pool. See include/crawl/co_exec.h.
 * Jobs live in the submitting task's frame: the task cannot return before the
 * job is off the queue or finished, so no allocation per job is needed. */
#include "crawl/co_exec.h"
#include "crawl/co_sync.h"
#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

enum { JOB_QUEUED, JOB_RUNNING, JOB_FINISHED };

#define EXEC_POST_BATCH 32
#define EXEC_POST_DELAY_NS 1000000 /* 1 ms */

typedef struct exec_job {
    co_dnode node; /* in the pool's queue while JOB_QUEUED */
    void *(*fn)(void *);
    void *arg;
    void *result;
    int state;      /* guarded by the pool mutex */
    bool delivered; /* loop thread only: the completion was posted and seen */
    co_task *waiter;
    co_loop *loop;
    co_post post;
} exec_job;

struct co_exec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    co_dlist jobs;
    bool stopping;
    int nthreads;
    pthread_t *threads;
    co_sem slots;
};

static void job_delivered(co_post *p)
{
    exec_job *j = co_container_of(p, exec_job, post);
    j->delivered = true;
    co__wake(j->waiter, 0);
}

/* Finished jobs whose completions are not posted yet (one loop's). */
typedef struct done_batch {
    co_loop *loop;
    co_post *first, *last;
    int n;
    int64_t since_ns;
} done_batch;

static void flush_done(done_batch *b)
{
    if (b->n)
        co_loop_post_chain(b->loop, b->first, b->last);
    b->n = 0;
    b->first = b->last = NULL;
}

static void *worker_main(void *arg)
{
    co_exec *ex = arg;
    /* CPU work must not take the core from the loop: a batch thread never
     * preempts on wake-up, so when both share a core, jobs submitted during a
     * loop turn run together once the loop waits. Best effort. */
    struct sched_param sp = {0};
    (void)sched_setscheduler(0, SCHED_BATCH, &sp);
    done_batch b = {0};
    pthread_mutex_lock(&ex->mu);
    for (;;) {
        /* Completions go out together when the queue runs dry, after
         * EXEC_POST_BATCH of them, or after EXEC_POST_DELAY_NS: one wake-up of
         * the loop for a burst of jobs instead of one per job. */
        if (b.n && (co_dlist_empty(&ex->jobs) || b.n >= EXEC_POST_BATCH ||
                    co_now_ns() - b.since_ns > EXEC_POST_DELAY_NS))
            flush_done(&b);
        while (co_dlist_empty(&ex->jobs) && !ex->stopping)
            pthread_cond_wait(&ex->cv, &ex->mu);
        co_dnode *n = co_dlist_pop_front(&ex->jobs);
        if (!n)
            break; /* stopping and drained */
        exec_job *j = co_container_of(n, exec_job, node);
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&ex->mu);
        j->result = j->fn(j->arg);
        pthread_mutex_lock(&ex->mu);
        j->state = JOB_FINISHED;
        /* Posting while holding the mutex is fine: posting takes its own lock. */
        j->post.fn = job_delivered;
        if (b.n && b.loop != j->loop)
            flush_done(&b);
        if (!b.n) {
            b.loop = j->loop;
            b.first = &j->post;
            b.since_ns = co_now_ns();
        } else {
            b.last->next = &j->post;
        }
        b.last = &j->post;
        b.n++;
    }
    flush_done(&b);
    pthread_mutex_unlock(&ex->mu);
    return NULL;
}

co_exec *co_exec_new(int nthreads, size_t max_pending)
{
    if (nthreads < 1 || !co_loop_current())
        return NULL;
    co_exec *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->threads = calloc((size_t)nthreads, sizeof *ex->threads);
    if (!ex->threads) {
        free(ex);
        return NULL;
    }
    pthread_mutex_init(&ex->mu, NULL);
    pthread_cond_init(&ex->cv, NULL);
    co_dlist_init(&ex->jobs);
    co_sem_init(&ex->slots, max_pending ? (long)max_pending : 1024, 0);
    /* Workers never take process signals: those belong to the loop thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&ex->threads[i], NULL, worker_main, ex) != 0)
            break;
        ex->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ex->nthreads == 0) {
        co_exec_free(ex);
        return NULL;
    }
    return ex;
}

int co_exec_threads(const co_exec *ex)
{
    return ex->nthreads;
}

int co_exec_run(co_exec *ex, void *(*fn)(void *), void *arg, void **result)
{
    if (result)
        *result = NULL;
    int st = co_sem_acquire(&ex->slots, CO_FOREVER);
    if (st < 0)
        return st;
    exec_job j = {
        .fn = fn, .arg = arg, .state = JOB_QUEUED, .waiter = co_current(), .loop = co_loop_current()};
    pthread_mutex_lock(&ex->mu);
    if (ex->stopping) {
        pthread_mutex_unlock(&ex->mu);
        co_sem_release(&ex->slots);
        return -EPIPE;
    }
    co_dlist_push_back(&ex->jobs, &j.node);
    pthread_cond_signal(&ex->cv);
    pthread_mutex_unlock(&ex->mu);

    int interrupted = 0;
    while (!j.delivered) {
        st = co__park(NULL, CO_FOREVER, 0);
        if (st < 0 && !j.delivered && !interrupted) {
            pthread_mutex_lock(&ex->mu);
            bool queued = j.state == JOB_QUEUED;
            if (queued)
                co_dnode_unlink(&j.node);
            pthread_mutex_unlock(&ex->mu);
            if (queued) {
                co_sem_release(&ex->slots);
                return st;
            }
            /* Running on a worker: wait for it, shielded, before returning. */
            interrupted = st;
            co_shield_begin();
        }
    }
    if (interrupted)
        co_shield_end();
    co_sem_release(&ex->slots);
    if (result)
        *result = j.result;
    return interrupted;
}

void co_exec_free(co_exec *ex)
{
    if (!ex)
        return;
    pthread_mutex_lock(&ex->mu);
    ex->stopping = true;
    pthread_cond_broadcast(&ex->cv);
    pthread_mutex_unlock(&ex->mu);
    for (int i = 0; i < ex->nthreads; i++)
        pthread_join(ex->threads[i], NULL);
    pthread_mutex_destroy(&ex->mu);
    pthread_cond_destroy(&ex->cv);
    free(ex->threads);
    free(ex);
}
