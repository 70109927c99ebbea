/* Helpers shared by the unit tests. */
#ifndef CRAWL_TESTUTIL_H
#define CRAWL_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

#include "crawl/co.h"

/* Run body(arg) as the main task of a fresh loop; the body returns 0 on success. */
#define RUN_MAIN(fn, arg) ck_assert_int_eq(co_run((fn), (arg), NULL), 0)

static inline double ms_since(int64_t t0) { return (double)(co_now_ns() - t0) / 1e6; }

static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
