/* Unit tests: future, lock, semaphore, event, queue, executor. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "crawl/co.h"
#include "crawl/co_exec.h"
#include "crawl/co_group.h"
#include "crawl/co_queue.h"
#include "crawl/co_sync.h"
#include "testutil.h"

/* ---- semaphore ------------------------------------------------------------- */

typedef struct sem_ctx {
    co_sem sem;
    int inside, max_inside, finished;
} sem_ctx;

static int sem_worker(void *arg)
{
    sem_ctx *c = arg;
    int st = co_sem_acquire(&c->sem, CO_FOREVER);
    if (st < 0)
        return st;
    c->inside++;
    if (c->inside > c->max_inside)
        c->max_inside = c->inside;
    co_sleep(10);
    c->inside--;
    c->finished++;
    co_sem_release(&c->sem);
    return 0;
}

static int main_sem(void *arg)
{
    (void)arg;
    sem_ctx c = {.inside = 0};
    co_sem_init(&c.sem, 2, 0);
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < 10; i++)
        co_group_spawn(&g, sem_worker, &c, NULL);
    ck_assert_int_eq(co_group_wait(&g, CO_FOREVER), 0);
    co_group_destroy(&g);
    ck_assert_int_eq(c.max_inside, 2);
    ck_assert_int_eq(c.finished, 10);
    ck_assert_int_eq(co_sem_value(&c.sem), 2);

    /* Bounded: over-release is reported. */
    co_sem b;
    co_sem_init(&b, 1, 1);
    ck_assert_int_eq(co_sem_release(&b), -EOVERFLOW);
    ck_assert(co_sem_try(&b));
    ck_assert(!co_sem_try(&b));
    ck_assert_int_eq(co_sem_acquire(&b, 10), -ETIMEDOUT);
    ck_assert_int_eq(co_sem_release(&b), 0);
    ck_assert_int_eq(co_sem_value(&b), 1);
    return 0;
}

START_TEST(test_semaphore) { RUN_MAIN(main_sem, NULL); }
END_TEST

/* A cancelled semaphore waiter does not consume a permit. */
static int sem_waiter(void *arg) { return co_sem_acquire(arg, CO_FOREVER); }

static int main_sem_cancel(void *arg)
{
    (void)arg;
    co_sem s;
    co_sem_init(&s, 0, 0);
    co_task *a = co_spawn(sem_waiter, &s);
    co_task *b = co_spawn(sem_waiter, &s);
    co_yield_now();
    co_cancel(a);
    co_sem_release(&s);
    int ra, rb;
    co_join(a, &ra, CO_FOREVER);
    co_join(b, &rb, CO_FOREVER);
    ck_assert_int_eq(ra, -ECANCELED);
    ck_assert_int_eq(rb, 0); /* the permit went to b */
    ck_assert_int_eq(co_sem_value(&s), 0);
    co_task_release(a);
    co_task_release(b);
    return 0;
}

START_TEST(test_semaphore_cancel) { RUN_MAIN(main_sem_cancel, NULL); }
END_TEST

/* ---- lock --------------------------------------------------------------------- */

typedef struct lock_ctx {
    co_lock lock;
    int counter;
    int order[8];
    int norder;
} lock_ctx;

static int rmw(void *arg)
{
    lock_ctx *c = arg;
    for (int i = 0; i < 20; i++) {
        if (co_lock_acquire(&c->lock, CO_FOREVER) < 0)
            return -1;
        int v = c->counter; /* read */
        co_yield_now();     /* await in the middle */
        c->counter = v + 1; /* write */
        co_lock_release(&c->lock);
    }
    return 0;
}

static int main_lock(void *arg)
{
    (void)arg;
    lock_ctx c = {.counter = 0};
    co_lock_init(&c.lock);
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < 5; i++)
        co_group_spawn(&g, rmw, &c, NULL);
    ck_assert_int_eq(co_group_wait(&g, CO_FOREVER), 0);
    co_group_destroy(&g);
    ck_assert_int_eq(c.counter, 100);
    ck_assert_int_eq(co_lock_release(&c.lock), -EPERM);
    return 0;
}

START_TEST(test_lock_rmw) { RUN_MAIN(main_lock, NULL); }
END_TEST

static int lock_waiter(void *arg)
{
    lock_ctx *c = arg;
    int st = co_lock_acquire(&c->lock, CO_FOREVER);
    if (st < 0)
        return st;
    c->order[c->norder++] = (int)(intptr_t)co_current() & 0xff;
    co_lock_release(&c->lock);
    return 0;
}

static int lock_timed(void *arg)
{
    lock_ctx *c = arg;
    return co_lock_acquire(&c->lock, 20);
}

static int main_lock_cancel(void *arg)
{
    (void)arg;
    lock_ctx c = {.counter = 0};
    co_lock_init(&c.lock);
    ck_assert_int_eq(co_lock_acquire(&c.lock, CO_FOREVER), 0);
    co_task *a = co_spawn(lock_waiter, &c);
    co_task *b = co_spawn(lock_waiter, &c);
    co_yield_now();
    co_cancel(a); /* a is waiting: it must not end up holding the lock */
    int ra;
    co_join(a, &ra, CO_FOREVER);
    ck_assert_int_eq(ra, -ECANCELED);
    /* Timeout on the lock too. */
    co_task *self = co_current();
    (void)self;
    co_lock_release(&c.lock);
    int rb;
    co_join(b, &rb, CO_FOREVER);
    ck_assert_int_eq(rb, 0);
    ck_assert_int_eq(c.norder, 1);
    ck_assert_ptr_null(c.lock.owner);
    ck_assert(co_lock_try(&c.lock));
    co_task_release(a);
    co_task_release(b);
    /* A lock wait with its own timeout gives up without taking the lock. */
    co_task *tw = co_spawn(lock_timed, &c);
    int rt;
    co_join(tw, &rt, CO_FOREVER);
    ck_assert_int_eq(rt, -ETIMEDOUT);
    ck_assert_ptr_eq(c.lock.owner, co_current());
    co_task_release(tw);
    co_task *d = co_spawn(lock_waiter, &c);
    ck_assert_int_eq(co_join(d, &rb, 20), -ETIMEDOUT);
    co_lock_release(&c.lock);
    co_join(d, &rb, CO_FOREVER);
    ck_assert_int_eq(rb, 0);
    co_task_release(d);
    return 0;
}

START_TEST(test_lock_cancel) { RUN_MAIN(main_lock_cancel, NULL); }
END_TEST

/* ---- event ---------------------------------------------------------------------- */

static int ev_waiter(void *arg) { return co_event_wait(arg, CO_FOREVER); }

static int main_event(void *arg)
{
    (void)arg;
    co_event e;
    co_event_init(&e);
    co_task *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = co_spawn(ev_waiter, &e);
    co_sleep(5);
    for (int i = 0; i < 5; i++)
        ck_assert(!co_task_done(t[i]));
    co_event_set(&e);
    int res[5];
    ck_assert_int_eq(co_gather(t, 5, res, CO_GATHER_ALL, 2000), 0);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(res[i], 0);
        co_task_release(t[i]);
    }
    ck_assert_int_eq(co_event_wait(&e, 0), 0); /* set: returns at once */
    co_event_clear(&e);
    ck_assert_int_eq(co_event_wait(&e, 10), -ETIMEDOUT);
    return 0;
}

START_TEST(test_event) { RUN_MAIN(main_event, NULL); }
END_TEST

/* ---- future ----------------------------------------------------------------------- */

static int fut_waiter(void *arg)
{
    void *v = NULL;
    int st = co_future_await(arg, &v, CO_FOREVER);
    return st < 0 ? st : (int)(intptr_t)v;
}

static void *complete_from_thread(void *arg)
{
    usleep(20000);
    co_future_set(arg, (void *)77);
    return NULL;
}

static int main_future(void *arg)
{
    (void)arg;
    co_future f;
    co_future_init(&f);
    co_task *a = co_spawn(fut_waiter, &f), *b = co_spawn(fut_waiter, &f);
    co_yield_now();
    ck_assert_int_eq(co_future_set(&f, (void *)5), 0);
    ck_assert_int_eq(co_future_set(&f, (void *)6), -EALREADY);
    ck_assert_int_eq(co_future_fail(&f, -EIO), -EALREADY);
    int ra, rb;
    co_join(a, &ra, CO_FOREVER);
    co_join(b, &rb, CO_FOREVER);
    ck_assert_int_eq(ra, 5);
    ck_assert_int_eq(rb, 5);
    co_task_release(a);
    co_task_release(b);

    co_future f2;
    co_future_init(&f2);
    co_future_fail(&f2, -ECONNRESET);
    ck_assert_int_eq(co_future_await(&f2, NULL, 0), -ECONNRESET);

    /* Completed from another thread. */
    co_future f3;
    co_future_init(&f3);
    pthread_t th;
    pthread_create(&th, NULL, complete_from_thread, &f3);
    void *v = NULL;
    ck_assert_int_eq(co_future_await(&f3, &v, 5000), 0);
    ck_assert_int_eq((int)(intptr_t)v, 77);
    pthread_join(th, NULL);

    co_future f4;
    co_future_init(&f4);
    ck_assert_int_eq(co_future_await(&f4, NULL, 10), -ETIMEDOUT);
    return 0;
}

START_TEST(test_future) { RUN_MAIN(main_future, NULL); }
END_TEST

/* ---- queue -------------------------------------------------------------------------- */

typedef struct q_ctx {
    co_queue q;
    int produced, consumed, sum;
    int max_len;
} q_ctx;

static int producer(void *arg)
{
    q_ctx *c = arg;
    for (intptr_t i = 1; i <= 20; i++) {
        int st = co_queue_put(&c->q, (void *)i, CO_FOREVER);
        if (st < 0)
            return st;
        c->produced++;
        if ((int)co_queue_len(&c->q) > c->max_len)
            c->max_len = (int)co_queue_len(&c->q);
    }
    return 0;
}

static int consumer(void *arg)
{
    q_ctx *c = arg;
    for (;;) {
        void *item;
        int st = co_queue_get(&c->q, &item, CO_FOREVER);
        if (st == -EPIPE)
            return 0;
        if (st < 0)
            return st;
        co_sleep(1);
        c->sum += (int)(intptr_t)item;
        c->consumed++;
        co_queue_task_done(&c->q);
    }
}

static int main_queue(void *arg)
{
    (void)arg;
    q_ctx c = {.produced = 0};
    ck_assert_int_eq(co_queue_init(&c.q, 2), 0);
    co_task *p = co_spawn(producer, &c);
    co_sleep(20);
    /* No consumer yet: the producer is blocked with the queue full. */
    ck_assert_int_eq(c.produced, 2);
    ck_assert(!co_task_done(p));
    ck_assert_int_eq(co_queue_try_put(&c.q, (void *)99), -EAGAIN);
    co_task *cons[2] = {co_spawn(consumer, &c), co_spawn(consumer, &c)};
    co_join(p, NULL, CO_FOREVER);
    ck_assert_int_eq(co_queue_join(&c.q, CO_FOREVER), 0);
    /* join returned only after every task_done. */
    ck_assert_int_eq(c.consumed, 20);
    ck_assert_int_eq(c.sum, 210);
    ck_assert_int_le(c.max_len, 2);
    co_queue_close(&c.q);
    ck_assert_int_eq(co_queue_put(&c.q, (void *)1, CO_FOREVER), -EPIPE);
    int r[2];
    co_gather(cons, 2, r, CO_GATHER_ALL, CO_FOREVER);
    ck_assert_int_eq(r[0], 0);
    ck_assert_int_eq(r[1], 0);
    ck_assert_int_eq(co_queue_task_done(&c.q), -EOVERFLOW);
    co_task_release(p);
    co_task_release(cons[0]);
    co_task_release(cons[1]);
    co_queue_destroy(&c.q);

    /* close: getters drain what is left, then see end of queue. */
    co_queue q;
    co_queue_init(&q, 0);
    for (intptr_t i = 0; i < 3; i++)
        co_queue_put(&q, (void *)i, CO_FOREVER);
    co_queue_close(&q);
    void *item;
    for (intptr_t i = 0; i < 3; i++) {
        ck_assert_int_eq(co_queue_get(&q, &item, CO_FOREVER), 0);
        ck_assert_ptr_eq(item, (void *)i);
    }
    ck_assert_int_eq(co_queue_get(&q, &item, CO_FOREVER), -EPIPE);
    co_queue_destroy(&q);
    return 0;
}

START_TEST(test_queue) { RUN_MAIN(main_queue, NULL); }
END_TEST

static int q_get(void *arg)
{
    void *item;
    return co_queue_get(arg, &item, CO_FOREVER);
}

static int q_put(void *arg) { return co_queue_put(arg, (void *)5, CO_FOREVER); }

static int main_queue_cancel(void *arg)
{
    (void)arg;
    co_queue q;
    co_queue_init(&q, 1);
    co_task *g = co_spawn(q_get, &q);
    co_yield_now();
    co_cancel(g);
    int r;
    co_join(g, &r, CO_FOREVER);
    ck_assert_int_eq(r, -ECANCELED);
    co_task_release(g);
    /* The cancelled getter took nothing. */
    ck_assert_int_eq(co_queue_try_put(&q, (void *)1), 0);
    /* A cancelled putter did not enqueue its item. */
    co_task *p = co_spawn(q_put, &q);
    co_yield_now();
    co_cancel(p);
    co_join(p, &r, CO_FOREVER);
    ck_assert_int_eq(r, -ECANCELED);
    co_task_release(p);
    ck_assert_uint_eq(co_queue_len(&q), 1);
    void *item;
    ck_assert_int_eq(co_queue_try_get(&q, &item), 0);
    ck_assert_ptr_eq(item, (void *)1);
    ck_assert_int_eq(co_queue_get(&q, &item, 10), -ETIMEDOUT);
    co_queue_destroy(&q);
    return 0;
}

START_TEST(test_queue_cancel) { RUN_MAIN(main_queue_cancel, NULL); }
END_TEST

/* ---- executor ----------------------------------------------------------------------- */

typedef struct job_arg {
    int in;
    pthread_t loop_thread;
    atomic_int *off_loop;
} job_arg;

static void *square(void *arg)
{
    job_arg *a = arg;
    if (!pthread_equal(pthread_self(), a->loop_thread))
        atomic_fetch_add(a->off_loop, 1);
    volatile long spin = 0;
    for (int i = 0; i < 1000 * (a->in % 7); i++)
        spin = spin + i;
    return (void *)(intptr_t)(a->in * a->in);
}

typedef struct exec_ctx {
    co_exec *ex;
    int wrong;
    atomic_int off_loop;
} exec_ctx;

typedef struct exec_task_arg {
    exec_ctx *c;
    int n;
} exec_task_arg;

static int exec_task(void *arg)
{
    exec_task_arg *t = arg;
    job_arg a = {.in = t->n, .loop_thread = pthread_self(), .off_loop = &t->c->off_loop};
    void *res;
    int st = co_exec_run(t->c->ex, square, &a, &res);
    if (st < 0)
        return st;
    if ((intptr_t)res != (intptr_t)t->n * t->n)
        t->c->wrong++;
    return 0;
}

static int main_exec(void *arg)
{
    (void)arg;
    exec_ctx c = {.ex = co_exec_new(3, 64), .wrong = 0};
    atomic_init(&c.off_loop, 0);
    ck_assert_ptr_nonnull(c.ex);
    static exec_task_arg args[1000];
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < 1000; i++) {
        args[i].c = &c;
        args[i].n = i;
        co_group_spawn(&g, exec_task, &args[i], NULL);
    }
    ck_assert_int_eq(co_group_wait(&g, CO_FOREVER), 0);
    co_group_destroy(&g);
    ck_assert_int_eq(c.wrong, 0);
    ck_assert_int_eq(atomic_load(&c.off_loop), 1000);
    co_exec_free(c.ex);
    return 0;
}

START_TEST(test_executor_results) { RUN_MAIN(main_exec, NULL); }
END_TEST

typedef struct slow_arg {
    atomic_int started, finished;
    int payload[16];
} slow_arg;

static void *slow_job(void *arg)
{
    slow_arg *s = arg;
    atomic_fetch_add(&s->started, 1);
    usleep(100000);
    for (int i = 0; i < 16; i++)
        s->payload[i] = i; /* touches caller memory late: must still be valid */
    atomic_fetch_add(&s->finished, 1);
    return NULL;
}

static int slow_runner(void *arg)
{
    co_exec *ex = ((void **)arg)[0];
    slow_arg *s = ((void **)arg)[1];
    return co_exec_run(ex, slow_job, s, NULL);
}

static int main_exec_cancel(void *arg)
{
    (void)arg;
    co_exec *ex = co_exec_new(1, 8);
    slow_arg *s1 = calloc(1, sizeof *s1), *s2 = calloc(1, sizeof *s2);
    void *a1[2] = {ex, s1}, *a2[2] = {ex, s2};
    co_task *t1 = co_spawn(slow_runner, a1);
    co_task *t2 = co_spawn(slow_runner, a2);
    while (atomic_load(&s1->started) == 0)
        co_sleep(1);
    co_cancel(t1); /* running: waits for the worker before returning */
    co_cancel(t2); /* queued: withdrawn at once */
    int r1, r2;
    co_join(t2, &r2, CO_FOREVER);
    co_join(t1, &r1, CO_FOREVER);
    ck_assert_int_eq(r1, -ECANCELED);
    ck_assert_int_eq(r2, -ECANCELED);
    ck_assert_int_eq(atomic_load(&s1->finished), 1); /* t1 ended only after its job did */
    ck_assert_int_eq(atomic_load(&s2->started), 0);  /* never ran */
    free(s1);
    free(s2);
    co_task_release(t1);
    co_task_release(t2);
    co_exec_free(ex);
    return 0;
}

START_TEST(test_executor_cancel) { RUN_MAIN(main_exec_cancel, NULL); }
END_TEST

static Suite *sync_suite(void)
{
    Suite *s = suite_create("sync");
    TCase *tc = tcase_create("sync");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_semaphore);
    tcase_add_test(tc, test_semaphore_cancel);
    tcase_add_test(tc, test_lock_rmw);
    tcase_add_test(tc, test_lock_cancel);
    tcase_add_test(tc, test_event);
    tcase_add_test(tc, test_future);
    tcase_add_test(tc, test_queue);
    tcase_add_test(tc, test_queue_cancel);
    tcase_add_test(tc, test_executor_results);
    tcase_add_test(tc, test_executor_cancel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(sync_suite()); }
