/* Unit tests: context switch, tasks, sleep, cancellation, deadlines, gather,
 * task groups, 100,000 live coroutines, stack overflow reporting. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xmmintrin.h>

#include "crawl/co.h"
#include "crawl/co_group.h"
#include "crawl/co_sync.h"
#include "coro/stack.h"
#include "testutil.h"

/* ---- stack alignment: aligned SSE stores and printf of doubles ------------ */

static int sse_task(void *arg)
{
    char *out = arg;
    __m128 v = _mm_set_ps(1.0f, 2.0f, 3.0f, 4.0f);
    __attribute__((aligned(16))) float buf[4];
    _mm_store_ps(buf, v); /* faults if the frame is misaligned */
    ck_assert(((uintptr_t)buf & 15) == 0);
    snprintf(out, 64, "%.3f %.2e", (double)buf[0] * 1.5, 12345.678);
    return 0;
}

static int main_sse(void *arg)
{
    (void)arg;
    char out[64] = "";
    co_task *t = co_spawn(sse_task, out);
    int r = -1;
    ck_assert_int_eq(co_join(t, &r, CO_FOREVER), 0);
    co_task_release(t);
    ck_assert_int_eq(r, 0);
    ck_assert_str_eq(out, "6.000 1.23e+04");
    return 0;
}

START_TEST(test_alignment) { RUN_MAIN(main_sse, NULL); }
END_TEST

/* ---- tasks return results; yield interleaves ------------------------------- */

static int trace[16];
static int ntrace;

static int yielder(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 3; i++) {
        trace[ntrace++] = id;
        co_yield_now();
    }
    return id * 10;
}

static int main_yield(void *arg)
{
    (void)arg;
    ntrace = 0;
    co_task *a = co_spawn(yielder, (void *)1);
    co_task *b = co_spawn(yielder, (void *)2);
    int ra = 0, rb = 0;
    co_join(a, &ra, CO_FOREVER);
    co_join(b, &rb, CO_FOREVER);
    ck_assert_int_eq(ra, 10);
    ck_assert_int_eq(rb, 20);
    int expect[] = {1, 2, 1, 2, 1, 2};
    ck_assert_int_eq(ntrace, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(trace[i], expect[i]);
    co_task_release(a);
    co_task_release(b);
    return 0;
}

START_TEST(test_yield_and_results) { RUN_MAIN(main_yield, NULL); }
END_TEST

/* ---- gather: 200, 100, 300 ms concurrently take ~300 ms -------------------- */

static int sleeper(void *arg)
{
    int ms = (int)(intptr_t)arg;
    int st = co_sleep(ms);
    return st < 0 ? st : ms;
}

static int main_gather(void *arg)
{
    (void)arg;
    int64_t t0 = co_now_ns();
    co_task *t[3] = {co_spawn(sleeper, (void *)200), co_spawn(sleeper, (void *)100),
                     co_spawn(sleeper, (void *)300)};
    int res[3];
    ck_assert_int_eq(co_gather(t, 3, res, 0, CO_FOREVER), 0);
    double ms = ms_since(t0);
    ck_assert_int_eq(res[0], 200);
    ck_assert_int_eq(res[1], 100);
    ck_assert_int_eq(res[2], 300);
    ck_assert_msg(ms >= 295 && ms < 1500, "gather took %.1f ms", ms); /* ~300, not 600 */
    for (int i = 0; i < 3; i++)
        co_task_release(t[i]);
    return 0;
}

START_TEST(test_gather_concurrent) { RUN_MAIN(main_gather, NULL); }
END_TEST

static int failer(void *arg)
{
    co_sleep((int)(intptr_t)arg);
    return -EIO;
}

static int main_gather_fail(void *arg)
{
    (void)arg;
    co_task *t[3] = {co_spawn(sleeper, (void *)300), co_spawn(failer, (void *)50),
                     co_spawn(sleeper, (void *)100)};
    int res[3];
    int64_t t0 = co_now_ns();
    /* Default: the first failure comes back at once, the rest keep running. */
    ck_assert_int_eq(co_gather(t, 3, res, 0, CO_FOREVER), -EIO);
    ck_assert_msg(ms_since(t0) < 250, "first failure should return early");
    ck_assert_int_eq(res[1], -EIO);
    ck_assert_int_eq(res[0], -EINPROGRESS);
    ck_assert(!co_task_done(t[0]));
    /* return_exceptions=True: every status. */
    ck_assert_int_eq(co_gather(t, 3, res, CO_GATHER_ALL, CO_FOREVER), 0);
    ck_assert_int_eq(res[0], 300);
    ck_assert_int_eq(res[1], -EIO);
    ck_assert_int_eq(res[2], 100);
    for (int i = 0; i < 3; i++)
        co_task_release(t[i]);
    return 0;
}

START_TEST(test_gather_failure) { RUN_MAIN(main_gather_fail, NULL); }
END_TEST

/* ---- task groups --------------------------------------------------------------- */

static int cleanups;

static int long_sleeper(void *arg)
{
    (void)arg;
    int st = co_sleep(10000);
    if (st == -ECANCELED)
        cleanups++;
    return st;
}

static int main_group_fail(void *arg)
{
    (void)arg;
    cleanups = 0;
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(co_group_spawn(&g, long_sleeper, NULL, NULL), 0);
    co_task *bad;
    ck_assert_int_eq(co_group_spawn(&g, failer, (void *)30, &bad), 0);
    int64_t t0 = co_now_ns();
    ck_assert_int_eq(co_group_wait(&g, CO_FOREVER), -EIO);
    ck_assert_msg(ms_since(t0) < 2000, "group should end soon after the failure");
    ck_assert_int_eq(cleanups, 4);
    ck_assert_int_eq(co_task_result(bad), -EIO);
    for (size_t i = 0; i < co_group_size(&g); i++) {
        co_task *t = co_group_task(&g, i);
        ck_assert(co_task_done(t));
        ck_assert_int_eq(co_task_result(t), t == bad ? -EIO : -ECANCELED);
    }
    /* No new tasks after a failure. */
    ck_assert_int_eq(co_group_spawn(&g, sleeper, (void *)1, NULL), -ECANCELED);
    co_group_destroy(&g);

    /* A group in which everything succeeds reports 0. */
    co_group_init(&g);
    for (int i = 0; i < 5; i++)
        co_group_spawn(&g, sleeper, (void *)(intptr_t)(10 * i), NULL);
    ck_assert_int_eq(co_group_wait(&g, CO_FOREVER), 0);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(co_task_result(co_group_task(&g, i)), (int)(10 * i));
    co_group_destroy(&g);
    return 0;
}

START_TEST(test_group_failure_cancels_siblings) { RUN_MAIN(main_group_fail, NULL); }
END_TEST

static int group_owner(void *arg)
{
    (void)arg;
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < 3; i++)
        co_group_spawn(&g, long_sleeper, NULL, NULL);
    int st = co_group_wait(&g, CO_FOREVER);
    for (size_t i = 0; i < co_group_size(&g); i++)
        ck_assert(co_task_done(co_group_task(&g, i)));
    co_group_destroy(&g);
    return st;
}

static int main_group_cancel(void *arg)
{
    (void)arg;
    cleanups = 0;
    co_task *owner = co_spawn(group_owner, NULL);
    co_sleep(20);
    co_cancel(owner);
    int r = 0;
    co_join(owner, &r, CO_FOREVER);
    ck_assert_int_eq(r, -ECANCELED);
    ck_assert_int_eq(cleanups, 3);
    co_task_release(owner);

    /* Timeout on a group wait cancels and awaits the children. */
    cleanups = 0;
    co_group g;
    co_group_init(&g);
    co_group_spawn(&g, long_sleeper, NULL, NULL);
    co_group_spawn(&g, long_sleeper, NULL, NULL);
    ck_assert_int_eq(co_group_wait(&g, 30), -ETIMEDOUT);
    ck_assert_int_eq(cleanups, 2);
    co_group_destroy(&g);
    return 0;
}

START_TEST(test_group_parent_cancel_and_timeout) { RUN_MAIN(main_group_cancel, NULL); }
END_TEST

/* ---- cancellation, shields, timeouts, deadlines ------------------------------- */

static int shielded_cleanup(void *arg)
{
    int *log = arg;
    int st = co_sleep(10000);
    log[0] = st;
    co_shield_begin();
    log[1] = co_sleep(20); /* cleanup that must block */
    co_shield_end();
    log[2] = co_sleep(1); /* sticky: still cancelled */
    return st;
}

static int main_cancel(void *arg)
{
    (void)arg;
    int log[3] = {1, 1, 1};
    co_task *t = co_spawn(shielded_cleanup, log);
    co_sleep(10);
    co_cancel(t);
    int r;
    co_join(t, &r, CO_FOREVER);
    ck_assert_int_eq(r, -ECANCELED);
    ck_assert_int_eq(log[0], -ECANCELED);
    ck_assert_int_eq(log[1], 0);
    ck_assert_int_eq(log[2], -ECANCELED);
    co_task_release(t);

    /* A task cancelled before it starts never runs its body. */
    log[0] = 7;
    t = co_spawn(shielded_cleanup, log);
    co_cancel(t);
    co_join(t, &r, CO_FOREVER);
    ck_assert_int_eq(r, -ECANCELED);
    ck_assert_int_eq(log[0], 7);
    co_task_release(t);
    return 0;
}

START_TEST(test_cancel_sleep_and_shield) { RUN_MAIN(main_cancel, NULL); }
END_TEST

static int main_timeouts(void *arg)
{
    (void)arg;
    /* wait_for cancels the task on expiry. */
    cleanups = 0;
    co_task *t = co_spawn(long_sleeper, NULL);
    int64_t t0 = co_now_ns();
    int r = 0;
    ck_assert_int_eq(co_wait_for(t, &r, 50), -ETIMEDOUT);
    ck_assert_msg(ms_since(t0) < 1000, "wait_for overran");
    ck_assert(co_task_done(t));
    ck_assert_int_eq(cleanups, 1);
    co_task_release(t);

    /* wait_for of a task that finishes in time. */
    t = co_spawn(sleeper, (void *)10);
    ck_assert_int_eq(co_wait_for(t, &r, 5000), 0);
    ck_assert_int_eq(r, 10);
    co_task_release(t);

    /* A join that times out leaves the task running. */
    t = co_spawn(sleeper, (void *)100);
    ck_assert_int_eq(co_join(t, &r, 10), -ETIMEDOUT);
    ck_assert(!co_task_done(t));
    ck_assert_int_eq(co_join(t, &r, CO_FOREVER), 0);
    co_task_release(t);

    /* Deadline scopes: level-triggered, nested, earliest wins. */
    co_deadline outer, inner;
    co_deadline_push(&outer, 40);
    co_deadline_push(&inner, 5000);
    t0 = co_now_ns();
    ck_assert_int_eq(co_sleep(1000), -ETIMEDOUT);
    ck_assert_msg(ms_since(t0) < 500, "deadline overran");
    ck_assert_int_eq(co_yield_now(), 0);       /* yield never blocks */
    ck_assert_int_eq(co_sleep(1), -ETIMEDOUT); /* still expired */
    ck_assert_int_eq(co_deadline_pop(&inner), 0);
    ck_assert_int_eq(co_deadline_pop(&outer), -ETIMEDOUT);
    ck_assert_int_eq(co_sleep(1), 0); /* out of the scope */
    return 0;
}

START_TEST(test_timeouts_and_deadlines) { RUN_MAIN(main_timeouts, NULL); }
END_TEST

/* ---- a deadlocked main task: co_run waits, idle, and does not return ---------- */

static int main_stuck(void *arg)
{
    (void)arg;
    co_event never;
    co_event_init(&never);
    return co_event_wait(&never, CO_FOREVER); /* nothing will ever set it */
}

/* co.h promises no deadlock detection: co_run neither returns (with -EDEADLK
 * or anything else) nor spins when nothing can wake the main task. */
START_TEST(test_run_deadlock_waits_idle)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(co_run(main_stuck, NULL, NULL) == 0 ? 0 : 1); /* any return is a failure */
    int status = 0;
    struct timespec ts = {0, 20 * 1000 * 1000};
    /* Still running after 300 ms. */
    for (int i = 0; i < 15; i++) {
        ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);
        nanosleep(&ts, NULL);
    }
    struct rusage ru;
    kill(pid, SIGKILL);
    ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    ck_assert_msg(cpu < 100, "a deadlocked loop used %.1f ms of CPU in 300 ms", cpu);
}
END_TEST

/* ---- an idle loop uses no CPU --------------------------------------------------- */

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int main_idle(void *arg)
{
    (void)arg;
    double c0 = cpu_ms();
    int64_t t0 = co_now_ns();
    ck_assert_int_eq(co_sleep(500), 0);
    ck_assert_msg(ms_since(t0) >= 495, "slept too short");
    double used = cpu_ms() - c0;
    ck_assert_msg(used < 100, "idle loop used %.1f ms of CPU in 500 ms", used); /* polling would use ~500 */
    return 0;
}

START_TEST(test_idle_loop_no_cpu) { RUN_MAIN(main_idle, NULL); }
END_TEST

/* ---- co_run cancels and awaits leftovers ------------------------------------- */

static int leftover(void *arg)
{
    int *flag = arg;
    int st = co_sleep(60000);
    *flag = st;
    return st;
}

static int main_leftovers(void *arg)
{
    int *flags = arg;
    for (int i = 0; i < 3; i++) {
        co_task *t = co_spawn(leftover, &flags[i]);
        co_task_release(t); /* detached */
    }
    co_yield_now();
    return 42;
}

START_TEST(test_run_cancels_leftovers)
{
    int flags[3] = {1, 1, 1};
    int64_t t0 = co_now_ns();
    ck_assert_int_eq(co_run(main_leftovers, flags, NULL), 42);
    ck_assert_msg(ms_since(t0) < 5000, "leftovers were not cancelled");
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(flags[i], -ECANCELED);
    ck_assert_ptr_null(co_loop_current());
}
END_TEST

/* ---- 100,000 live coroutines --------------------------------------------------- */

#define MANY 100000
static int many_done;

static int many_task(void *arg)
{
    int st = co_sleep(200 + (int)((intptr_t)arg % 100));
    if (st == 0)
        many_done++;
    return st;
}

static int main_many(void *arg)
{
    (void)arg;
    many_done = 0;
    for (intptr_t i = 0; i < MANY; i++) {
        co_task *t = co_spawn(many_task, (void *)i);
        ck_assert_ptr_nonnull(t);
        co_task_release(t);
    }
    co_yield_now();
    co_stats st;
    co_loop_stats(&st);
    ck_assert_uint_eq(st.tasks_live, MANY + 1);
    if (st.light_guards) /* guard markers cost no mapping: every stack is guarded */
        ck_assert_uint_eq(st.guarded_stacks, st.stacks_in_use);
    else /* mprotect guards stay within their share of vm.max_map_count */
        ck_assert_uint_le(st.guarded_stacks, st.guarded_budget);
    while (many_done < MANY)
        co_sleep(20);
    return 0;
}

/* Is the page at addr mapped without any access ("---p" in /proc/self/maps)? */
static bool page_is_prot_none(const void *addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    bool none = false;
    uintptr_t a = (uintptr_t)addr;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && a >= lo && a < hi) {
            none = strncmp(perms, "---", 3) == 0;
            break;
        }
    }
    fclose(f);
    return none;
}

/* Kernels without MADV_GUARD_INSTALL: guard pages by mprotect, within the
 * mapping budget, then unguarded arena stacks. Forced here, since this
 * machine's kernel has guard markers. */
START_TEST(test_stack_pool_mprotect_fallback)
{
    co_stack_pool p;
    co_stack_pool_init(&p, 64 * 1024, 4);
    p.light_guards = false;
    p.guarded_budget = 40; /* more than one 32-slot chunk */
    co_stack *s[50];
    for (int i = 0; i < 50; i++) {
        s[i] = co_stack_get(&p);
        ck_assert_ptr_nonnull(s[i]);
        ck_assert_int_eq(s[i]->guarded, i < 40);
        ck_assert_int_eq(s[i]->from_arena, i >= 40);
        memset(s[i]->lo, 0xab, 64); /* usable: no fault */
        ck_assert(!page_is_prot_none(s[i]->lo));
        if (s[i]->guarded) /* the page below is a real PROT_NONE guard */
            ck_assert(page_is_prot_none((char *)s[i]->lo - 1));
    }
    ck_assert_uint_eq(p.guarded_live, 40);
    ck_assert_uint_eq(p.in_use, 50);
    for (int i = 0; i < 50; i++)
        co_stack_put(&p, s[i]);
    ck_assert_uint_eq(p.cached, 40); /* past max_cached too: memory returned, stack kept */
    /* a returned guarded stack is handed out again before any new one */
    co_stack *again = co_stack_get(&p);
    ck_assert(again->guarded);
    ck_assert_uint_eq(p.guarded_live, 40);
    co_stack_put(&p, again);
    co_stack_pool_destroy(&p);
    ck_assert_uint_eq(p.guarded_live, 0);
}
END_TEST

START_TEST(test_hundred_thousand)
{
    RUN_MAIN(main_many, NULL);
    ck_assert_int_eq(many_done, MANY);
}
END_TEST

/* ---- stack overflow dies with a clear message ---------------------------------- */

static volatile int recurse_limit = 1 << 30;

static int recurse(int depth, volatile char *prev)
{
    volatile char buf[512];
    buf[0] = (char)depth;
    buf[511] = prev ? prev[0] : 0;
    if (depth >= recurse_limit)
        return buf[0];
    return recurse(depth + 1, buf) + buf[511];
}

static int overflow_task(void *arg)
{
    (void)arg;
    return recurse(0, NULL);
}

static int main_overflow(void *arg)
{
    (void)arg;
    co_task *t = co_spawn(overflow_task, NULL);
    co_join(t, NULL, CO_FOREVER);
    return 0;
}

START_TEST(test_stack_overflow_message)
{
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        co_config cfg = {.stack_size = 32 * 1024};
        co_run(main_overflow, NULL, &cfg);
        _exit(0); /* reaching here means the overflow went unnoticed */
    }
    close(pipefd[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while ((n = read(pipefd[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFSIGNALED(status), "child should die from the overflow");
    ck_assert_msg(strstr(buf, "coroutine stack overflow") != NULL, "stderr was: %s", buf);
}
END_TEST

static Suite *coro_suite(void)
{
    Suite *s = suite_create("coro");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_yield_and_results);
    tcase_add_test(tc, test_gather_concurrent);
    tcase_add_test(tc, test_gather_failure);
    tcase_add_test(tc, test_group_failure_cancels_siblings);
    tcase_add_test(tc, test_group_parent_cancel_and_timeout);
    tcase_add_test(tc, test_cancel_sleep_and_shield);
    tcase_add_test(tc, test_timeouts_and_deadlines);
    tcase_add_test(tc, test_run_cancels_leftovers);
    tcase_add_test(tc, test_idle_loop_no_cpu);
    tcase_add_test(tc, test_run_deadlock_waits_idle);
    tcase_add_test(tc, test_stack_pool_mprotect_fallback);
    tcase_add_test(tc, test_hundred_thousand);
    tcase_add_test(tc, test_stack_overflow_message);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(coro_suite()); }
