/* Unit tests: the frontier interface (src/crawl/front.h). One contract, run
 * against every backend (front_list over lsched, front_polite over the
 * recursive frontier; the distributed backend is to run the same suite):
 * every offered URL is leased exactly once; a host's leases out at once
 * never exceed max-per-host, measured by the workers that hold them; a
 * host's backoff delays its next lease while other hosts go on; stop ends
 * every waiting worker; an invalid input line is leased as such. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crawl/co_group.h"
#include "crawl/engine.h"
#include "crawl/front.h"
#include "testutil.h"

enum { HOSTS = 5,
       PER_HOST = 40,
       CAP = 2,
       WORKERS = 8 };

/* A backend under test, set up fresh for each case. */
typedef struct be {
    const char *name;
    front f;
    lsched ls;
    frontier fr;
    bool list;
} be;

static void be_init(be *b, bool list, int64_t delay_ns)
{
    memset(b, 0, sizeof *b);
    b->list = list;
    if (list) {
        lsched_opts o = {.permits = WORKERS, .max_per_host = CAP, .gap_ns = delay_ns, .lookahead = 4096};
        ck_assert_int_eq(lsched_init(&b->ls, &o), 0);
        b->f = (front){&front_list_ops, &b->ls};
    } else {
        ck_assert_int_eq(frontier_init(&b->fr, 0, CAP, delay_ns), 0);
        b->f = (front){&front_polite_ops, &b->fr};
    }
}

static void drop(ls_node *n, void *ud)
{
    (void)ud;
    front_item_free((fetch_item *)n);
}

static void be_free(be *b)
{
    if (b->list)
        lsched_free(&b->ls, drop, NULL);
    else
        frontier_free(&b->fr);
}

static void offer(be *b, const char *host, int i, int64_t item)
{
    char url[128];
    snprintf(url, sizeof url, "http://%s/p%d", host, i);
    front_offer o = {.url = url, .line = url, .host = host, .port = 80, .item = item, .depth = 1};
    ck_assert_int_eq(front_offer_one(&b->f, &o), 0);
}

/* What the workers saw, measured where the leases are held. */
typedef struct seen {
    be *b;
    int leased[HOSTS][PER_HOST];
    int out[HOSTS], peak[HOSTS];
    int invalid;
    int64_t first_ns[HOSTS], last_done_ns[HOSTS];
    int64_t backoff_ns; /* host 0's first lease backs it off this long */
    int64_t after_backoff_ns;
} seen;

static int host_index(const char *url) { return url[strlen("http://h")] - '0'; }

static int worker(void *arg)
{
    seen *s = arg;
    for (;;) {
        front_lease l;
        int st = front_next(&s->b->f, &l);
        if (st == -EPIPE)
            return 0;
        ck_assert_int_eq(st, 0);
        if (!l.fi->url) {
            s->invalid++;
            front_done(&s->b->f, &l, 0);
            continue;
        }
        int h = host_index(l.fi->url), p = atoi(strrchr(l.fi->url, 'p') + 1);
        if (++s->out[h] > s->peak[h])
            s->peak[h] = s->out[h];
        s->leased[h][p]++;
        int64_t now = co_now_ns();
        if (!s->first_ns[h])
            s->first_ns[h] = now;
        if (h == 0 && s->backoff_ns && s->after_backoff_ns == 0 && s->last_done_ns[0])
            s->after_backoff_ns = now - s->last_done_ns[0];
        co_sleep(2);
        s->out[h]--;
        int64_t backoff = h == 0 && s->backoff_ns && !s->last_done_ns[0] ? s->backoff_ns : 0;
        s->last_done_ns[h] = co_now_ns();
        front_done(&s->b->f, &l, backoff);
    }
}

static void run_workers(seen *s)
{
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < WORKERS; i++)
        ck_assert_int_eq(co_group_spawn(&g, worker, s, NULL), 0);
    ck_assert_int_eq(co_group_wait(&g, 10000), 0);
    co_group_destroy(&g);
}

/* Every URL leased once; the cap held on every host. */
static int main_exactly_once_and_cap(void *arg)
{
    be b;
    be_init(&b, *(bool *)arg, 0);
    int64_t item = 0;
    for (int p = 0; p < PER_HOST; p++)
        for (int h = 0; h < HOSTS; h++) {
            char host[8];
            snprintf(host, sizeof host, "h%d", h);
            offer(&b, host, p, item++);
        }
    front_close(&b.f);
    seen s = {.b = &b};
    run_workers(&s);
    for (int h = 0; h < HOSTS; h++) {
        for (int p = 0; p < PER_HOST; p++)
            ck_assert_msg(s.leased[h][p] == 1, "%s: h%d/p%d leased %d times", b.f.ops->name, h, p, s.leased[h][p]);
        ck_assert_int_le(s.peak[h], CAP);
        ck_assert_int_ge(s.peak[h], 1);
    }
    be_free(&b);
    return 0;
}

/* A host backed off waits; the others do not. */
static int main_backoff(void *arg)
{
    be b;
    be_init(&b, *(bool *)arg, 0);
    int64_t item = 0;
    for (int p = 0; p < 3; p++)
        for (int h = 0; h < 2; h++) {
            char host[8];
            snprintf(host, sizeof host, "h%d", h);
            offer(&b, host, p, item++);
        }
    front_close(&b.f);
    seen s = {.b = &b, .backoff_ns = 300 * 1000000LL};
    int64_t t0 = co_now_ns();
    run_workers(&s);
    ck_assert_int_ge(s.after_backoff_ns, 290 * 1000000LL);
    ck_assert_int_lt(s.last_done_ns[1] - t0, 200 * 1000000LL); /* h1 never waited for h0 */
    be_free(&b);
    return 0;
}

static int stopper(void *arg)
{
    co_sleep(50);
    front_stop(&((be *)arg)->f);
    return 0;
}

/* stop ends the waiting workers (nothing offered, nothing closed). */
static int main_stop(void *arg)
{
    be b;
    be_init(&b, *(bool *)arg, 0);
    if (!b.list)
        frontier_hold(&b.fr); /* seeds still coming: the crawl is not complete */
    seen s = {.b = &b};
    co_task *t = co_spawn(stopper, &b);
    run_workers(&s);
    co_join(t, NULL, CO_FOREVER);
    co_task_release(t);
    be_free(&b);
    return 0;
}

/* An input line that is not a URL is leased (for its record), in order. */
static int main_invalid_line(void *arg)
{
    (void)arg;
    be b;
    be_init(&b, true, 0);
    front_offer o = {.url = NULL, .line = "not a url", .why = "no scheme", .item = 0};
    ck_assert_int_eq(front_offer_one(&b.f, &o), 0);
    offer(&b, "h1", 0, 1);
    front_close(&b.f);
    front_lease l;
    ck_assert_int_eq(front_next(&b.f, &l), 0);
    ck_assert_ptr_null(l.fi->url);
    ck_assert_str_eq(l.fi->line, "not a url");
    ck_assert_str_eq(l.fi->why, "no scheme");
    front_done(&b.f, &l, 0);
    ck_assert_int_eq(front_next(&b.f, &l), 0);
    ck_assert_str_eq(l.fi->url, "http://h1/p0");
    front_done(&b.f, &l, 0);
    ck_assert_int_eq(front_next(&b.f, &l), -EPIPE);
    be_free(&b);
    return 0;
}

static bool LIST = true, POLITE = false;

START_TEST(test_list_exactly_once_and_cap) { RUN_MAIN(main_exactly_once_and_cap, &LIST); }
END_TEST
START_TEST(test_polite_exactly_once_and_cap) { RUN_MAIN(main_exactly_once_and_cap, &POLITE); }
END_TEST
START_TEST(test_list_backoff) { RUN_MAIN(main_backoff, &LIST); }
END_TEST
START_TEST(test_polite_backoff) { RUN_MAIN(main_backoff, &POLITE); }
END_TEST
START_TEST(test_list_stop) { RUN_MAIN(main_stop, &LIST); }
END_TEST
START_TEST(test_polite_stop) { RUN_MAIN(main_stop, &POLITE); }
END_TEST
START_TEST(test_list_invalid_line) { RUN_MAIN(main_invalid_line, NULL); }
END_TEST

int main(void)
{
    Suite *s = suite_create("front");
    TCase *tc = tcase_create("contract");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_list_exactly_once_and_cap);
    tcase_add_test(tc, test_polite_exactly_once_and_cap);
    tcase_add_test(tc, test_list_backoff);
    tcase_add_test(tc, test_polite_backoff);
    tcase_add_test(tc, test_list_stop);
    tcase_add_test(tc, test_polite_stop);
    tcase_add_test(tc, test_list_invalid_line);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
