/* Unit tests: the frontier (src/crawl/frontier.c): origins, the memory bound,
 * per-origin FIFO and round-robin, the per-origin limit, delays and backoff,
 * hold/release, completion and close. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "crawl/frontier.h"
#include "testutil.h"

START_TEST(test_origin_of)
{
    const char *cases[][2] = {
        {"http://a.example:8080/x?y#z", "http://a.example:8080"},
        {"https://h.example", "https://h.example"},
        {"http://h?q=1", "http://h"},
        {"http://h#frag", "http://h"},
        {"https://user:pw@h.example/p", "https://h.example"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *o = frontier_origin_of(cases[i][0]);
        ck_assert_ptr_nonnull(o);
        ck_assert_str_eq(o, cases[i][1]);
        free(o);
    }
    ck_assert_ptr_null(frontier_origin_of("no-scheme/path"));
}
END_TEST

/* Take the next item, check its URL and origin, and free it. */
static fr_host *take(frontier *f, const char *url)
{
    fr_item *it = NULL;
    fr_host *h = NULL;
    ck_assert_int_eq(frontier_next(f, &it, &h), 0);
    ck_assert_str_eq(it->url, url);
    fr_item_free(it);
    return h;
}

static int push(frontier *f, fr_host *h, const char *url) { return frontier_push(f, h, strdup(url), NULL, 1); }

static int main_bound(void *arg)
{
    (void)arg;
    frontier f;
    ck_assert_int_eq(frontier_init(&f, 3, 1, 0), 0);
    fr_host *a = frontier_host(&f, "http://a");
    ck_assert_ptr_eq(frontier_host(&f, "http://a"), a); /* one record per origin */
    fr_host *b = frontier_host(&f, "http://b");
    ck_assert_ptr_ne(a, b);
    ck_assert_uint_eq(f.nhosts, 2);
    ck_assert_int_eq(push(&f, a, "http://a/1"), 0);
    ck_assert_int_eq(push(&f, a, "http://a/2"), 0);
    ck_assert_int_eq(frontier_push(&f, b, strdup("http://b/1"), strdup("http://a/1"), 2), 0);
    ck_assert_int_eq(push(&f, b, "http://b/2"), -ENOSPC); /* refused, counted, freed */
    ck_assert_uint_eq(f.refused, 1);
    ck_assert_uint_eq(f.queued, 3);
    ck_assert_uint_eq(a->pushed, 2);
    ck_assert_uint_eq(b->pushed, 1);
    fr_item *it;
    fr_host *h;
    ck_assert_int_eq(frontier_next(&f, &it, &h), 0);
    ck_assert_ptr_eq(h, a);
    ck_assert_str_eq(it->url, "http://a/1");
    ck_assert_ptr_null(it->parent);
    fr_item_free(it);
    ck_assert_int_eq(frontier_next(&f, &it, &h), 0);
    ck_assert_ptr_eq(h, b);
    ck_assert_str_eq(it->parent, "http://a/1");
    ck_assert_int_eq(it->depth, 2);
    fr_item_free(it);
    ck_assert_uint_eq(f.queued, 1);
    ck_assert_uint_eq(f.in_flight, 2);
    /* Room again: a push is taken once an item has been handed out. */
    ck_assert_int_eq(push(&f, b, "http://b/3"), 0);
    frontier_free(&f); /* frees what is still queued */
    return 0;
}

START_TEST(test_bound_and_ownership) { RUN_MAIN(main_bound, NULL); }
END_TEST

static int main_round_robin(void *arg)
{
    (void)arg;
    frontier f;
    ck_assert_int_eq(frontier_init(&f, 0, 1, 0), 0);
    fr_host *a = frontier_host(&f, "http://a"), *b = frontier_host(&f, "http://b");
    fr_host *c = frontier_host(&f, "http://c");
    push(&f, a, "http://a/1");
    push(&f, a, "http://a/2");
    push(&f, a, "http://a/3");
    push(&f, b, "http://b/1");
    push(&f, c, "http://c/1");
    push(&f, c, "http://c/2");
    /* One per origin in flight: a, b, c each give one, in ring order. */
    ck_assert_ptr_eq(take(&f, "http://a/1"), a);
    ck_assert_ptr_eq(take(&f, "http://b/1"), b);
    ck_assert_ptr_eq(take(&f, "http://c/1"), c);
    ck_assert_int_eq(a->in_flight, 1);
    frontier_done(&f, c, 0);
    frontier_done(&f, a, 0);
    /* Both free now; the ring resumes after c, so a comes before c. */
    ck_assert_ptr_eq(take(&f, "http://a/2"), a);
    ck_assert_ptr_eq(take(&f, "http://c/2"), c);
    frontier_done(&f, a, 0);
    frontier_done(&f, b, 0);
    frontier_done(&f, c, 0);
    ck_assert_ptr_eq(take(&f, "http://a/3"), a);
    frontier_done(&f, a, 0);
    /* Nothing queued, nothing in flight: the crawl is complete. */
    fr_item *it = NULL;
    fr_host *h = NULL;
    ck_assert_int_eq(frontier_next(&f, &it, &h), -EPIPE);
    ck_assert(f.closed);
    ck_assert_int_eq(frontier_next(&f, &it, &h), -EPIPE);
    frontier_free(&f);
    return 0;
}

START_TEST(test_round_robin_and_limit) { RUN_MAIN(main_round_robin, NULL); }
END_TEST

typedef struct later {
    frontier *f;
    fr_host *h;
    int64_t after_ms;
    int what; /* 0 done, 1 push + notify + release, 2 close */
} later;

static int later_task(void *arg)
{
    later *l = arg;
    co_sleep(l->after_ms);
    if (l->what == 0) {
        frontier_done(l->f, l->h, 0);
    } else if (l->what == 1) {
        push(l->f, l->h, "http://a/late");
        frontier_notify(l->f);
        frontier_release(l->f);
    } else {
        frontier_close(l->f);
    }
    return 0;
}

static int main_waits(void *arg)
{
    (void)arg;
    frontier f;
    ck_assert_int_eq(frontier_init(&f, 0, 1, 0), 0);
    fr_host *a = frontier_host(&f, "http://a");
    push(&f, a, "http://a/1");
    push(&f, a, "http://a/2");
    take(&f, "http://a/1");
    /* a is at its limit: next waits until the fetch in flight is done. */
    later l = {&f, a, 40, 0};
    co_task *t = co_spawn(later_task, &l);
    int64_t t0 = co_now_ns();
    take(&f, "http://a/2");
    ck_assert_msg(ms_since(t0) >= 35, "next did not wait for the fetch in flight");
    co_join(t, NULL, CO_FOREVER);
    co_task_release(t);
    frontier_done(&f, a, 0);

    /* Held (seeds still being read): empty is not complete. */
    frontier_hold(&f);
    later l2 = {&f, a, 30, 1};
    t = co_spawn(later_task, &l2);
    take(&f, "http://a/late");
    co_join(t, NULL, CO_FOREVER);
    co_task_release(t);
    frontier_done(&f, a, 0);

    /* Close wakes a waiter, even with items queued. */
    push(&f, a, "http://a/3");
    push(&f, a, "http://a/4");
    take(&f, "http://a/3");
    later l3 = {&f, a, 20, 2};
    t = co_spawn(later_task, &l3);
    fr_item *it = NULL;
    fr_host *h = NULL;
    ck_assert_int_eq(frontier_next(&f, &it, &h), -EPIPE);
    ck_assert_ptr_null(it);
    co_join(t, NULL, CO_FOREVER);
    co_task_release(t);
    frontier_free(&f); /* a/4 is still queued */
    return 0;
}

START_TEST(test_waits_hold_close) { RUN_MAIN(main_waits, NULL); }
END_TEST

static int main_delay(void *arg)
{
    (void)arg;
    frontier f;
    ck_assert_int_eq(frontier_init(&f, 0, 4, 60 * 1000000LL), 0); /* 60 ms between starts */
    fr_host *a = frontier_host(&f, "http://a"), *b = frontier_host(&f, "http://b");
    ck_assert_int_eq(a->delay_ns, 60 * 1000000LL);
    push(&f, a, "http://a/1");
    push(&f, a, "http://a/2");
    push(&f, b, "http://b/1");
    int64_t t0 = co_now_ns();
    take(&f, "http://a/1");
    take(&f, "http://b/1"); /* another origin is not delayed */
    ck_assert_msg(ms_since(t0) < 50, "the second origin waited");
    take(&f, "http://a/2"); /* same origin: 60 ms after the first start */
    ck_assert_msg(ms_since(t0) >= 55, "delay not kept: %.1f ms", ms_since(t0));
    frontier_done(&f, a, 0);
    frontier_done(&f, a, 0);
    frontier_done(&f, b, 0);

    /* Backoff (429/503) pushes the origin's next start further out. */
    b->delay_ns = 0;
    push(&f, b, "http://b/2");
    push(&f, b, "http://b/3");
    take(&f, "http://b/2");
    frontier_done(&f, b, 100 * 1000000LL);
    t0 = co_now_ns();
    take(&f, "http://b/3");
    ck_assert_msg(ms_since(t0) >= 95, "backoff not kept: %.1f ms", ms_since(t0));
    frontier_done(&f, b, 0);
    frontier_free(&f);
    return 0;
}

START_TEST(test_delay_and_backoff) { RUN_MAIN(main_delay, NULL); }
END_TEST

static int waiter(void *arg)
{
    fr_item *it = NULL;
    fr_host *h = NULL;
    return frontier_next(arg, &it, &h);
}

static int main_cancel(void *arg)
{
    (void)arg;
    frontier f;
    ck_assert_int_eq(frontier_init(&f, 0, 1, 0), 0);
    frontier_hold(&f); /* empty but not complete: next waits */
    co_task *t = co_spawn(waiter, &f);
    co_sleep(10);
    ck_assert(!co_task_done(t));
    co_cancel(t);
    int r = 0;
    ck_assert_int_eq(co_join(t, &r, CO_FOREVER), 0);
    ck_assert_int_eq(r, -ECANCELED);
    co_task_release(t);
    frontier_free(&f);
    return 0;
}

START_TEST(test_cancelled_wait) { RUN_MAIN(main_cancel, NULL); }
END_TEST

int main(void)
{
    Suite *s = suite_create("frontier");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_origin_of);
    tcase_add_test(tc, test_bound_and_ownership);
    tcase_add_test(tc, test_round_robin_and_limit);
    tcase_add_test(tc, test_waits_hold_close);
    tcase_add_test(tc, test_delay_and_backoff);
    tcase_add_test(tc, test_cancelled_wait);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
