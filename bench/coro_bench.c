/* coro_bench: coroutines vs threads, measured in one run on this machine.
 *   switch      yield ping-pong between two tasks (ns per switch)
 *   thread      two pthreads ping-ponging through a futex (ns per switch)
 *   spawn_join  spawn + run + join + release of a trivial task (pooled stacks)
 *   memory      RSS (+ page tables) per parked coroutine at 100,000 coroutines,
 *               and per parked pthread at 1,000 threads (+ kernel stacks)
 * Prints a table, then one machine-readable key=value line per figure. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crawl/co.h"
#include "crawl/co_sync.h"

static long switches = 5000000;

/* ---- coroutine switch ---------------------------------------------------- */

static int pinger(void *arg)
{
    (void)arg;
    for (long i = 0; i < switches / 2; i++)
        co_yield_now();
    return 0;
}

static double switch_ns;

static int main_switch(void *arg)
{
    (void)arg;
    double best = 1e18;
    for (int rep = 0; rep < 5; rep++) {
        co_task *a = co_spawn(pinger, NULL), *b = co_spawn(pinger, NULL);
        co_yield_now(); /* let both start */
        int64_t t0 = co_now_ns();
        co_join(a, NULL, CO_FOREVER);
        co_join(b, NULL, CO_FOREVER);
        double ns = (double)(co_now_ns() - t0) / (double)switches;
        if (ns < best)
            best = ns;
        co_task_release(a);
        co_task_release(b);
    }
    switch_ns = best;
    return 0;
}

/* ---- thread switch ---------------------------------------------------------- */

static atomic_int turn;
static long thread_rounds = 100000;

static void futex_wait(atomic_int *addr, int val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *ponger(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (long i = 0; i < thread_rounds; i++) {
        while (atomic_load(&turn) != me)
            futex_wait(&turn, !me);
        atomic_store(&turn, !me);
        futex_wake(&turn);
    }
    return NULL;
}

static double thread_switch_ns(void)
{
    double best = 1e18;
    for (int rep = 0; rep < 3; rep++) {
        atomic_store(&turn, 0);
        pthread_t a, b;
        int64_t t0 = co_now_ns();
        pthread_create(&a, NULL, ponger, (void *)0);
        pthread_create(&b, NULL, ponger, (void *)1);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        double ns = (double)(co_now_ns() - t0) / (double)(2 * thread_rounds);
        if (ns < best)
            best = ns;
    }
    return best;
}

/* ---- spawn + join ------------------------------------------------------------- */

static int trivial(void *arg)
{
    (void)arg;
    return 1;
}

static double spawn_ns;

static int main_spawn(void *arg)
{
    (void)arg;
    const long n = 1000000;
    double best = 1e18;
    for (int rep = 0; rep < 3; rep++) {
        int64_t t0 = co_now_ns();
        for (long i = 0; i < n; i++) {
            co_task *t = co_spawn(trivial, NULL);
            co_join(t, NULL, CO_FOREVER);
            co_task_release(t);
        }
        double ns = (double)(co_now_ns() - t0) / (double)n;
        if (ns < best)
            best = ns;
    }
    spawn_ns = best;
    return 0;
}

/* ---- memory ------------------------------------------------------------------------ */

static long status_kib(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    long v = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0) {
            v = atol(line + kl);
            break;
        }
    fclose(f);
    return v;
}

static long mem_kib(void)
{
    return status_kib("/proc/self/status", "VmRSS:") + status_kib("/proc/self/status", "VmPTE:");
}

#define NCORO 100000
static double coro_kib;

static int parked(void *arg) { return co_event_wait(arg, CO_FOREVER); }

static int main_mem(void *arg)
{
    (void)arg;
    co_event ev;
    co_event_init(&ev);
    co_task **t = malloc(NCORO * sizeof *t); /* allocated before the baseline */
    memset(t, 0, NCORO * sizeof *t);
    co_yield_now();
    long before = mem_kib();
    for (int i = 0; i < NCORO; i++)
        t[i] = co_spawn(parked, &ev);
    co_yield_now(); /* every task runs to its first suspension */
    co_yield_now();
    long after = mem_kib();
    coro_kib = (double)(after - before) / NCORO;
    co_event_set(&ev);
    for (int i = 0; i < NCORO; i++) {
        co_join(t[i], NULL, CO_FOREVER);
        co_task_release(t[i]);
    }
    free(t);
    return 0;
}

#define NTHREAD 1000
static pthread_mutex_t park_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cv = PTHREAD_COND_INITIALIZER;
static int park_release;
static atomic_int park_count;

static void *park_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&park_mu);
    atomic_fetch_add(&park_count, 1);
    while (!park_release)
        pthread_cond_wait(&park_cv, &park_mu);
    pthread_mutex_unlock(&park_mu);
    return NULL;
}

static double thread_kib(void)
{
    pthread_t *th = calloc(NTHREAD, sizeof *th);
    long before = mem_kib();
    long kbefore = status_kib("/proc/meminfo", "KernelStack:");
    for (int i = 0; i < NTHREAD; i++)
        pthread_create(&th[i], NULL, park_thread, NULL);
    while (atomic_load(&park_count) < NTHREAD)
        usleep(1000);
    long after = mem_kib();
    long kafter = status_kib("/proc/meminfo", "KernelStack:");
    pthread_mutex_lock(&park_mu);
    park_release = 1;
    pthread_cond_broadcast(&park_cv);
    pthread_mutex_unlock(&park_mu);
    for (int i = 0; i < NTHREAD; i++)
        pthread_join(th[i], NULL);
    free(th);
    return (double)((after - before) + (kafter - kbefore)) / NTHREAD;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        switches = 500000;
        thread_rounds = 20000;
    }
    co_run(main_mem, NULL, NULL);
    double thr_kib = thread_kib();
    co_run(main_switch, NULL, NULL);
    double thr_ns = thread_switch_ns();
    co_run(main_spawn, NULL, NULL);

    printf("%-34s %12s %12s %10s\n", "figure", "coroutine", "thread", "ratio");
    printf("%-34s %12.1f %12.1f %9.0fx\n", "switch (ns)", switch_ns, thr_ns, thr_ns / switch_ns);
    printf("%-34s %12.1f %12s %10s\n", "spawn+run+join (ns)", spawn_ns, "-", "-");
    printf("%-34s %12.2f %12.2f %9.1fx\n", "memory per parked unit (KiB)", coro_kib, thr_kib, thr_kib / coro_kib);
    printf("switch_ns=%.1f\n", switch_ns);
    printf("thread_switch_ns=%.1f\n", thr_ns);
    printf("spawn_join_ns=%.1f\n", spawn_ns);
    printf("coroutine_rss_kib=%.2f\n", coro_kib);
    printf("thread_rss_kib=%.2f\n", thr_kib);
    return 0;
}
