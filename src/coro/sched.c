/* sched: the loop, tasks, switching, sleep, cancellation and deadlines.
 * See include/crawl/co.h for the contract and sched.h for the wait protocol.
 *
 * Scheduling: ready tasks sit in a FIFO. A libevent event (ready_ev) is made
 * active whenever the FIFO gains a task; its callback resumes up to `batch`
 * tasks, and a task that suspends switches straight to the next ready task
 * (one context switch per yield) until the batch is used up, then control
 * returns to libevent so I/O and timers are never starved.
 */
#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif
#ifdef CO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

struct co_loop {
    struct event_base *base;
    co_stack_pool stacks;
    co_ctx main_ctx;
    void *main_asan_fake;
    const void *main_stack_bottom;
    size_t main_stack_size;
    co_task *current;
    co_task *dead;          /* finished task whose stack awaits release */
    co_dlist ready;
    struct event *ready_ev;
    bool ready_scheduled;
    int batch;
    int batch_left;
    co_dlist all;
    size_t live;
    bool exiting;
    co_watch main_watch;
    /* cross-thread posts */
    int post_fd;
    struct event *post_ev;
    pthread_mutex_t post_mu;
    co_post *post_head, *post_tail;
};

static _Thread_local co_loop *tl_loop;

co_loop *co_loop_current(void) { return tl_loop; }
struct event_base *co_loop_base(co_loop *loop) { return loop->base; }
co_task *co_current(void) { return tl_loop ? tl_loop->current : NULL; }

int64_t co_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- stack overflow reporting ---------------------------------------- */

static void die_msg(const char *msg)
{
    ssize_t r = write(STDERR_FILENO, msg, strlen(msg));
    (void)r;
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    co_loop *L = tl_loop;
    if (L && L->current && L->current->stack && co_stack_fault_in_guard(L->current->stack, si->si_addr))
        die_msg("crawl: fatal: coroutine stack overflow (the task used more than its stack size; "
                "raise the coroutine stack size)\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_overflow_handler(void)
{
    /* Kept for the thread's lifetime (the kernel holds a pointer to it). */
    static _Thread_local void *altstack;
    if (altstack)
        return;
    /* The handler must run on its own stack: the faulting one is exhausted. */
    stack_t ss;
    size_t sz = 64 * 1024;
    ss.ss_sp = malloc(sz);
    if (!ss.ss_sp)
        return;
    ss.ss_size = sz;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0) {
        free(ss.ss_sp);
        return;
    }
    altstack = ss.ss_sp;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

static void check_canary(co_task *t)
{
    if (t->stack && !co_stack_intact(t->stack)) {
        die_msg("crawl: fatal: coroutine stack overflow detected (stack canary overwritten; "
                "raise the coroutine stack size)\n");
        abort();
    }
}

/* ---- switching --------------------------------------------------------- */

static void task_free(co_task *t)
{
    free(t);
}

static void task_unref(co_task *t)
{
    if (--t->refs == 0)
        task_free(t);
}

/* Called first thing whenever a context resumes. */
static inline void after_switch(co_loop *L, void *fake)
{
#ifdef CO_ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(fake, &bottom, &size);
    if (!L->main_stack_bottom && L->current) {
        L->main_stack_bottom = bottom;
        L->main_stack_size = size;
    }
#else
    (void)fake;
#endif
    if (L->dead) {
        co_task *d = L->dead;
        L->dead = NULL;
        co_stack_put(&L->stacks, d->stack);
        d->stack = NULL;
        task_unref(d);
    }
}

/* Switch from ctx `from` (task or main) to task `to` or, if NULL, main. */
static inline void switch_to(co_loop *L, co_ctx *from, void **from_fake, co_task *to, bool dying)
{
    L->current = to;
#ifdef CO_ASAN
    if (to)
        __sanitizer_start_switch_fiber(dying ? NULL : from_fake, to->stack->lo, to->stack->size);
    else
        __sanitizer_start_switch_fiber(dying ? NULL : from_fake, L->main_stack_bottom, L->main_stack_size);
#else
    (void)from_fake;
    (void)dying;
#endif
    co_ctx_switch(from, to ? &to->ctx : &L->main_ctx);
    after_switch(L, from_fake ? *from_fake : NULL);
}

static void schedule_ready(co_loop *L)
{
    if (!L->ready_scheduled) {
        L->ready_scheduled = true;
        event_active(L->ready_ev, EV_READ, 0);
    }
}

static inline void make_ready(co_loop *L, co_task *t)
{
    t->state = CO_READY;
    co_dlist_push_back(&L->ready, &t->qnode);
    schedule_ready(L);
}

/* The current task gives up the CPU: run the next ready task or go back to
 * the loop. Returns when someone made this task ready again. */
static void suspend(co_loop *L, co_task *self, bool dying)
{
    check_canary(self);
    co_task *next = NULL;
    if (L->batch_left > 0) {
        co_dnode *n = co_dlist_pop_front(&L->ready);
        if (n) {
            L->batch_left--;
            next = co_container_of(n, co_task, qnode);
        }
    }
    if (next == self) { /* yielded with nobody else ready */
        self->state = CO_RUNNING;
        L->current = self;
        return;
    }
    if (next)
        next->state = CO_RUNNING;
    switch_to(L, &self->ctx, &self->asan_fake, next, dying);
    self->state = CO_RUNNING;
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    co_loop *L = arg;
    L->ready_scheduled = false;
    L->batch_left = L->batch;
    co_dnode *n = co_dlist_pop_front(&L->ready);
    if (n) {
        L->batch_left--;
        co_task *t = co_container_of(n, co_task, qnode);
        t->state = CO_RUNNING;
        switch_to(L, &L->main_ctx, &L->main_asan_fake, t, false);
    }
    L->current = NULL;
    if (!co_dlist_empty(&L->ready))
        schedule_ready(L);
}

/* ---- tasks ------------------------------------------------------------- */

static void task_finish(co_loop *L, co_task *t)
{
    t->state = CO_DONE;
    co_dnode_unlink(&t->all);
    L->live--;
    co_dnode *n;
    while ((n = co_dlist_pop_front(&t->watchers)) != NULL) {
        co_watch *w = co_container_of(n, co_watch, node);
        w->fn(w, t);
    }
    if (L->exiting && L->live == 0)
        event_base_loopbreak(L->base);
}

static void task_entry(void *arg)
{
    co_task *t = arg;
    co_loop *L = t->loop;
    after_switch(L, NULL);
    t->result = t->cancelled ? -ECANCELED : t->fn(t->arg);
    task_finish(L, t);
    L->dead = t;
    suspend(L, t, true);
    abort(); /* unreachable: a dead task is never resumed */
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

co_task *co_spawn(co_fn fn, void *arg)
{
    co_loop *L = tl_loop;
    if (!L)
        return NULL;
    co_task *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->stack = co_stack_get(&L->stacks);
    if (!t->stack) {
        free(t);
        return NULL;
    }
    t->loop = L;
    t->fn = fn;
    t->arg = arg;
    t->result = 0;
    t->refs = 2;
    t->cancelled = L->exiting;
    t->timer_armed = false;
    t->timer_is_op = false;
    t->shield = 0;
    t->wlist = NULL;
    t->wake_status = 0;
    t->wait_data = NULL;
    t->deadline = NULL;
    t->asan_fake = NULL;
    co_dlist_init(&t->watchers);
    evtimer_assign(&t->timer, L->base, on_timer, t);
    co_ctx_make(&t->ctx, t->stack->lo, t->stack->size, task_entry, t);
    co_dlist_push_back(&L->all, &t->all);
    L->live++;
    make_ready(L, t);
    return t;
}

void co_task_release(co_task *t)
{
    if (t)
        task_unref(t);
}

bool co_task_cancelled(const co_task *t) { return t->cancelled; }
bool co_task_done(const co_task *t) { return t->state == CO_DONE; }
int co_task_result(const co_task *t) { return t->result; }

bool co__cancel_pending(void)
{
    co_task *t = co_current();
    return t && t->cancelled && t->shield == 0;
}

void co__watch_add(co_task *t, co_watch *w) { co_dlist_push_back(&t->watchers, &w->node); }

void co__watch_remove(co_watch *w)
{
    if (co_dnode_linked(&w->node))
        co_dnode_unlink(&w->node);
}

/* ---- parking ----------------------------------------------------------- */

static void disarm(co_task *t)
{
    if (t->timer_armed) {
        evtimer_del(&t->timer);
        t->timer_armed = false;
    }
}

void co__wake(co_task *t, int status)
{
    if (t->state != CO_PARKED)
        return;
    if (t->wlist) {
        co_dnode_unlink(&t->qnode);
        t->wlist = NULL;
    }
    disarm(t);
    t->wake_status = status;
    make_ready(t->loop, t);
}

co_task *co__wake_one(co_dlist *wl, int status)
{
    if (co_dlist_empty(wl))
        return NULL;
    co_task *t = co_container_of(wl->next, co_task, qnode);
    co__wake(t, status);
    return t;
}

void co__wake_all(co_dlist *wl, int status)
{
    while (co__wake_one(wl, status))
        ;
}

static void mark_expired(co_task *t, int64_t now)
{
    for (co_deadline *d = t->deadline; d; d = d->outer)
        if (d->at_ns <= now)
            d->expired = true;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    co_task *t = arg;
    t->timer_armed = false;
    int status = -ETIMEDOUT;
    if (t->timer_is_op)
        status = -ETIME; /* internal: the op's own timeout */
    else
        mark_expired(t, co_now_ns());
    co__wake(t, status);
}

int co__park(co_dlist *wl, int64_t timeout_ms, int flags)
{
    co_loop *L = tl_loop;
    co_task *t = L->current;
    if (t->cancelled && t->shield == 0)
        return -ECANCELED;
    int64_t now = 0;
    int64_t op_at = INT64_MAX, scope_at = INT64_MAX;
    if (timeout_ms >= 0 || (t->deadline && t->shield == 0))
        now = co_now_ns();
    if (t->deadline && t->shield == 0) {
        scope_at = t->deadline->effective_ns;
        if (scope_at <= now) {
            mark_expired(t, now);
            return -ETIMEDOUT;
        }
    }
    if (timeout_ms >= 0)
        op_at = now + timeout_ms * 1000000;
    if (op_at != INT64_MAX || scope_at != INT64_MAX) {
        int64_t at = op_at <= scope_at ? op_at : scope_at;
        t->timer_is_op = op_at <= scope_at;
        int64_t rel = at - now;
        struct timeval tv = {(time_t)(rel / 1000000000), (suseconds_t)(rel % 1000000000 / 1000)};
        evtimer_add(&t->timer, &tv);
        t->timer_armed = true;
    }
    if (wl) {
        co_dlist_push_back(wl, &t->qnode);
        t->wlist = wl;
    }
    t->state = CO_PARKED;
    suspend(L, t, false);
    int st = t->wake_status;
    if (st == -ETIME)
        st = (flags & CO_PARK_SLEEP) ? 0 : -ETIMEDOUT;
    return st;
}

int co_yield_now(void)
{
    co_loop *L = tl_loop;
    co_task *t = L->current;
    if (t->cancelled && t->shield == 0)
        return -ECANCELED;
    make_ready(L, t);
    suspend(L, t, false);
    return 0;
}

int co_sleep(int64_t ms)
{
    if (ms <= 0)
        return co_yield_now();
    return co__park(NULL, ms, CO_PARK_SLEEP);
}

void co_cancel(co_task *t)
{
    if (t->state == CO_DONE || t->cancelled)
        return;
    t->cancelled = true;
    if (t->state == CO_PARKED && t->shield == 0)
        co__wake(t, -ECANCELED);
}

void co_shield_begin(void) { co_current()->shield++; }

void co_shield_end(void)
{
    co_task *t = co_current();
    if (t->shield > 0)
        t->shield--;
}

void co_deadline_push(co_deadline *d, int64_t timeout_ms)
{
    co_task *t = co_current();
    d->at_ns = timeout_ms < 0 ? INT64_MAX : co_now_ns() + timeout_ms * 1000000;
    d->outer = t->deadline;
    d->effective_ns = d->outer && d->outer->effective_ns < d->at_ns ? d->outer->effective_ns : d->at_ns;
    d->expired = false;
    t->deadline = d;
}

int co_deadline_pop(co_deadline *d)
{
    co_task *t = co_current();
    if (t->deadline == d)
        t->deadline = d->outer;
    return d->expired ? -ETIMEDOUT : 0;
}

/* ---- join ---------------------------------------------------------------- */

static void join_watch_fn(co_watch *w, co_task *done)
{
    (void)done;
    co__wake((co_task *)w->data, 0);
}

int co_join(co_task *t, int *result, int64_t timeout_ms)
{
    if (t->state != CO_DONE) {
        co_task *self = co_current();
        co_watch *w = &self->join_watch;
        w->fn = join_watch_fn;
        w->data = self;
        co__watch_add(t, w);
        int st = co__park(NULL, timeout_ms, 0);
        co__watch_remove(w);
        if (t->state != CO_DONE)
            return st < 0 ? st : -EINTR;
    }
    if (result)
        *result = t->result;
    return 0;
}

int co_wait_for(co_task *t, int *result, int64_t timeout_ms)
{
    int st = co_join(t, result, timeout_ms);
    if (st == 0)
        return 0;
    co_cancel(t);
    co_shield_begin();
    co_join(t, result, CO_FOREVER);
    co_shield_end();
    return st;
}

/* ---- cross-thread posts -------------------------------------------------- */

void co_loop_post(co_loop *L, co_post *node) { co_loop_post_chain(L, node, node); }

void co_loop_post_chain(co_loop *L, co_post *first, co_post *last)
{
    last->next = NULL;
    pthread_mutex_lock(&L->post_mu);
    bool was_empty = L->post_head == NULL;
    if (L->post_tail)
        L->post_tail->next = first;
    else
        L->post_head = first;
    L->post_tail = last;
    pthread_mutex_unlock(&L->post_mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t r = write(L->post_fd, &one, sizeof one);
        (void)r; /* EAGAIN means the counter is already non-zero: a wake is pending */
    }
}

static void on_post(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    co_loop *L = arg;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&L->post_mu);
    co_post *p = L->post_head;
    L->post_head = L->post_tail = NULL;
    pthread_mutex_unlock(&L->post_mu);
    while (p) {
        co_post *next = p->next; /* fn may free or repost p */
        p->fn(p);
        p = next;
    }
}

/* ---- the loop -------------------------------------------------------------- */

void co_loop_stats(co_stats *out)
{
    co_loop *L = tl_loop;
    memset(out, 0, sizeof *out);
    if (!L)
        return;
    out->tasks_live = L->live;
    out->stacks_in_use = L->stacks.in_use;
    out->guarded_stacks = L->stacks.guarded_live;
    out->guarded_budget = L->stacks.guarded_budget;
    out->light_guards = L->stacks.light_guards;
}

static void loop_free(co_loop *L)
{
    if (L->ready_ev)
        event_free(L->ready_ev);
    if (L->post_ev)
        event_free(L->post_ev);
    if (L->post_fd >= 0)
        close(L->post_fd);
    if (L->base)
        event_base_free(L->base);
    pthread_mutex_destroy(&L->post_mu);
    co_stack_pool_destroy(&L->stacks);
    free(L);
}

static void main_done(co_watch *w, co_task *t)
{
    (void)t;
    co_loop *L = w->data;
    event_base_loopbreak(L->base);
}

int co_run(co_fn main_fn, void *arg, const co_config *cfg)
{
    if (tl_loop)
        return -EBUSY; /* one loop per thread */
    co_loop *L = calloc(1, sizeof *L);
    if (!L)
        return -ENOMEM;
    pthread_mutex_init(&L->post_mu, NULL);
    L->post_fd = -1;
    size_t ssize = cfg && cfg->stack_size ? cfg->stack_size : 64 * 1024;
    size_t cache = cfg && cfg->stack_cache ? cfg->stack_cache : 1024;
    L->batch = cfg && cfg->batch > 0 ? cfg->batch : 256;
    co_stack_pool_init(&L->stacks, ssize, cache);
    co_dlist_init(&L->ready);
    co_dlist_init(&L->all);

    struct event_config *ec = event_config_new();
    if (ec) {
        /* One thread owns the base; other threads reach it only via post_fd. */
        event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
        event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        L->base = event_base_new_with_config(ec);
        event_config_free(ec);
    }
    L->post_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!L->base || L->post_fd < 0) {
        loop_free(L);
        return -ENOMEM;
    }
    L->ready_ev = event_new(L->base, -1, 0, on_ready, L);
    L->post_ev = event_new(L->base, L->post_fd, EV_READ | EV_PERSIST, on_post, L);
    if (!L->ready_ev || !L->post_ev || event_add(L->post_ev, NULL) != 0) {
        loop_free(L);
        return -ENOMEM;
    }
    install_overflow_handler();
    tl_loop = L;

    int rc;
    co_task *main_task = co_spawn(main_fn, arg);
    if (!main_task) {
        rc = -ENOMEM;
    } else {
        L->main_watch.fn = main_done;
        L->main_watch.data = L;
        co__watch_add(main_task, &L->main_watch);
        while (main_task->state != CO_DONE)
            if (event_base_loop(L->base, 0) < 0)
                break;
        co__watch_remove(&L->main_watch);
        rc = main_task->state == CO_DONE ? main_task->result : -EIO;
        co_task_release(main_task);
    }
    /* Cancel whatever is still alive and wait for it to end. */
    L->exiting = true;
    while (L->live > 0) {
        for (co_dnode *n = L->all.next; n != &L->all; n = n->next)
            co_cancel(co_container_of(n, co_task, all));
        if (event_base_loop(L->base, EVLOOP_ONCE) < 0)
            break;
    }
    /* A task that ended last may still hold its stack. */
    if (L->dead) {
        co_task *d = L->dead;
        L->dead = NULL;
        co_stack_put(&L->stacks, d->stack);
        task_unref(d);
    }
    tl_loop = NULL;
    loop_free(L);
    return rc;
}
