/* Helpers shared by the unit tests. */
#ifndef CRAWL_TESTUTIL_H
#define CRAWL_TESTUTIL_H

#include <check.h>
#include <jansson.h>
#include <stdio.h>
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

/* A file of conformance vectors from ../shared/testdata (or $CRAWL_TESTDATA),
 * parsed with jansson's flags; NULL, with a note naming `what` on stderr,
 * when it is not there (the caller skips its test). */
static inline json_t *testdata_load(const char *file, size_t flags, const char *what)
{
    const char *dir = getenv("CRAWL_TESTDATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : CRAWL_DEFAULT_TESTDATA, file);
    json_t *j = json_load_file(path, flags, NULL);
    if (!j)
        fprintf(stderr, "%s conformance: %s not found, skipped\n", what, path);
    return j;
}

#endif
