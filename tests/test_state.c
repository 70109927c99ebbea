/* Unit tests: the durable state (src/out/state.c): what a checkpoint commits
 * comes back on --resume, what was not committed does not, and the guards
 * (an existing state without resume, a second crawl on the same directory). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out/state.h"
#include "testutil.h"

static char root[64], dir[128];

static void make_dir(void)
{
    snprintf(root, sizeof root, "/tmp/crawl-state-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/st", root); /* state_open creates it */
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_new_and_guards)
{
    make_dir();
    crawl_state *s = NULL, *s2 = NULL;
    ck_assert_int_eq(state_open(dir, false, &s), 0);
    ck_assert(state_is_new(s));
    ck_assert_int_eq(state_output_size(s), 0);
    ck_assert_uint_eq(state_pending(s), 0);
    /* One crawl per directory at a time. */
    ck_assert_int_eq(state_open(dir, true, &s2), -EBUSY);
    ck_assert_int_eq(state_checkpoint(s, 0), 0);
    state_close(s);
    /* An existing state is not overwritten by accident. */
    ck_assert_int_eq(state_open(dir, false, &s2), -EEXIST);
    ck_assert_int_eq(state_open(dir, true, &s2), 0);
    ck_assert(!state_is_new(s2));
    state_close(s2);
    remove_dir();
}
END_TEST

START_TEST(test_items_and_prefix_round_trip)
{
    make_dir();
    crawl_state *s = NULL;
    ck_assert_int_eq(state_open(dir, false, &s), 0);
    state_item_done(s, 0);
    state_item_done(s, 2);
    state_item_done(s, 1000000);
    ck_assert_uint_eq(state_pending(s), 3);
    state_set_prefix(s, 1, 0, 37);
    ck_assert_int_eq(state_checkpoint(s, 4096), 0);
    ck_assert_uint_eq(state_pending(s), 0);
    state_item_done(s, 5); /* never committed: lost, fetched again on resume */
    state_close(s);

    ck_assert_int_eq(state_open(dir, true, &s), 0);
    ck_assert_int_eq(state_output_size(s), 4096);
    ck_assert(state_item_was_done(s, 0));
    ck_assert(!state_item_was_done(s, 1));
    ck_assert(state_item_was_done(s, 2));
    ck_assert(state_item_was_done(s, 1000000));
    ck_assert(!state_item_was_done(s, 5));
    int64_t item = -1, src = -1, off = -1;
    ck_assert(state_get_prefix(s, &item, &src, &off));
    ck_assert_int_eq(item, 1);
    ck_assert_int_eq(src, 0);
    ck_assert_int_eq(off, 37);
    /* A later checkpoint moves the output size on. */
    state_item_done(s, 1);
    ck_assert_int_eq(state_checkpoint(s, 8192), 0);
    state_close(s);
    ck_assert_int_eq(state_open(dir, true, &s), 0);
    ck_assert_int_eq(state_output_size(s), 8192);
    ck_assert(state_item_was_done(s, 1));
    state_close(s);
    remove_dir();
}
END_TEST

typedef struct seen_urls {
    int n;
    char urls[8][64], parents[8][64];
    int depth[8];
    bool done[8];
} seen_urls;

static void on_url(void *ud, const char *url, int depth, const char *parent, bool done)
{
    seen_urls *u = ud;
    ck_assert_int_lt(u->n, 8);
    snprintf(u->urls[u->n], 64, "%s", url);
    snprintf(u->parents[u->n], 64, "%s", parent ? parent : "(null)");
    u->depth[u->n] = depth;
    u->done[u->n] = done;
    u->n++;
}

static int find(const seen_urls *u, const char *url)
{
    for (int i = 0; i < u->n; i++)
        if (strcmp(u->urls[i], url) == 0)
            return i;
    ck_abort_msg("%s not in the state", url);
    return -1;
}

typedef struct seen_hosts {
    int n;
    char origin[4][64];
    int kind[4];
    char robots[4][64];
    size_t len[4];
    int64_t delay[4];
} seen_hosts;

static void on_host(void *ud, const char *origin, int kind, const char *robots, size_t len, int64_t delay_ns)
{
    seen_hosts *h = ud;
    ck_assert_int_lt(h->n, 4);
    ck_assert_uint_lt(len, 64);
    snprintf(h->origin[h->n], 64, "%s", origin);
    h->kind[h->n] = kind;
    if (robots)
        memcpy(h->robots[h->n], robots, len);
    h->len[h->n] = robots ? len : 0;
    h->delay[h->n] = delay_ns;
    h->n++;
}

START_TEST(test_urls_and_hosts_round_trip)
{
    make_dir();
    crawl_state *s = NULL;
    ck_assert_int_eq(state_open(dir, false, &s), 0);
    state_url_queued(s, "http://a/", 0, NULL);
    state_url_queued(s, "http://a/x", 1, "http://a/");
    state_url_queued(s, "http://a/y", 1, "http://a/");
    state_url_done(s, "http://a/");
    static const char rules[] = "User-agent: *\nDisallow: /y\n";
    state_host(s, "http://a", 1, rules, sizeof rules - 1, 250000000);
    state_host(s, "http://b", 2, NULL, 0, 0);
    ck_assert_int_eq(state_checkpoint(s, 10), 0);
    state_url_done(s, "http://a/x");                    /* not committed */
    state_url_queued(s, "http://a/z", 2, "http://a/x"); /* not committed */
    state_close(s);

    ck_assert_int_eq(state_open(dir, true, &s), 0);
    seen_urls u = {0};
    ck_assert_int_eq(state_each_url(s, on_url, &u), 0);
    ck_assert_int_eq(u.n, 3);
    int i = find(&u, "http://a/");
    ck_assert(u.done[i]);
    ck_assert_int_eq(u.depth[i], 0);
    ck_assert_str_eq(u.parents[i], "(null)");
    i = find(&u, "http://a/x");
    ck_assert(!u.done[i]);
    ck_assert_int_eq(u.depth[i], 1);
    ck_assert_str_eq(u.parents[i], "http://a/");
    i = find(&u, "http://a/y");
    ck_assert(!u.done[i]);

    seen_hosts h = {0};
    ck_assert_int_eq(state_each_host(s, on_host, &h), 0);
    ck_assert_int_eq(h.n, 2);
    int a = strcmp(h.origin[0], "http://a") == 0 ? 0 : 1, b = 1 - a;
    ck_assert_str_eq(h.origin[a], "http://a");
    ck_assert_int_eq(h.kind[a], 1);
    ck_assert_uint_eq(h.len[a], sizeof rules - 1);
    ck_assert_int_eq(memcmp(h.robots[a], rules, sizeof rules - 1), 0);
    ck_assert_int_eq(h.delay[a], 250000000);
    ck_assert_str_eq(h.origin[b], "http://b");
    ck_assert_int_eq(h.kind[b], 2);
    ck_assert_int_eq(h.delay[b], 0);
    ck_assert_str_eq(state_error(s), ""); /* no error */
    state_close(s);
    remove_dir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_new_and_guards);
    tcase_add_test(tc, test_items_and_prefix_round_trip);
    tcase_add_test(tc, test_urls_and_hosts_round_trip);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
