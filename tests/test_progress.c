/* Unit tests: the progress line (src/out/progress.c): the rate is an
 * average over the window, not a per-tick count; done/total, percent and
 * ETA when the total is known; human units. */
#define _GNU_SOURCE
#include <string.h>

#include "out/progress.h"
#include "testutil.h"

#define S 1000000000LL

START_TEST(test_rate_is_averaged)
{
    progress p;
    progress_init(&p, 0);
    sbuf line = SBUF_INIT;
    /* 11 requests a second, done in bursts that a per-tick count shows as
     * 0, 32, 0, 462: the line shows the average */
    uint64_t done = 0;
    for (int64_t t = 250000000; t <= 20 * S; t += 250000000) {
        if (t % S == 0)
            done += 11;
        progress_in in = {.done = done, .total = -1};
        ck_assert(progress_line(&p, t, &in, &line));
        if (t >= 2 * S)
            ck_assert_msg(progress_rate(&p, t, done) > 11 * 0.7 && progress_rate(&p, t, done) < 11 * 1.3,
                          "t=%lld rate %.1f", (long long)t, progress_rate(&p, t, done));
    }
    /* the window forgets: after a stall the rate falls within 10 s */
    progress_in in = {.done = done, .total = -1};
    for (int64_t t = 20 * S; t <= 31 * S; t += 250000000)
        progress_line(&p, t, &in, &line);
    ck_assert(progress_rate(&p, 31 * S, done) < 0.5);
    sbuf_free(&line);
}
END_TEST

START_TEST(test_line_with_and_without_total)
{
    progress p;
    progress_init(&p, 0);
    sbuf line = SBUF_INIT;
    progress_in in = {.done = 250, .errors = 1, .in_flight = 8, .bytes = 2500000, .total = 1000};
    ck_assert(progress_line(&p, 5 * S, &in, &line));
    ck_assert_str_eq(sbuf_str(&line), "250/1000 25.0% | 50 req/s | 500.0 kB/s | 8 in flight | 1 error | 0:05 | ETA 0:15");
    in.total = -1;
    in.errors = 2;
    ck_assert(progress_line(&p, 5 * S, &in, &line));
    ck_assert_str_eq(sbuf_str(&line), "250 done | 50 req/s | 500.0 kB/s | 8 in flight | 2 errors | 0:05");
    sbuf_free(&line);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("line");
    tcase_add_test(tc, test_rate_is_averaged);
    tcase_add_test(tc, test_line_with_and_without_total);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
