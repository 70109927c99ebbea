/* Unit tests: the seen set (src/crawl/seen.c): membership by exact bytes,
 * growth past many doublings with nothing lost, the fill bound and the
 * memory figure seen.h gives. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crawl/seen.h"
#include "testutil.h"

static bool add(seen_set *s, const char *url)
{
    int err = 0;
    bool fresh = seen_add(s, url, strlen(url), &err);
    ck_assert_int_eq(err, 0);
    return fresh;
}

START_TEST(test_membership)
{
    seen_set s;
    ck_assert_int_eq(seen_init(&s, 0), 0);
    ck_assert(!seen_has(&s, "http://a/", 9));
    ck_assert(add(&s, "http://a/"));
    ck_assert(!add(&s, "http://a/")); /* second time: already seen */
    ck_assert(seen_has(&s, "http://a/", 9));
    ck_assert_uint_eq(s.count, 1);
    /* The bytes decide, not a prefix or a case-folded form. */
    ck_assert(!seen_has(&s, "http://a/", 8));
    ck_assert(!seen_has(&s, "HTTP://a/", 9));
    ck_assert(add(&s, "http://a/x"));
    ck_assert(add(&s, "http://a"));
    ck_assert_uint_eq(s.count, 3);
    /* Length, not NUL, ends the key. */
    int err = 0;
    ck_assert(seen_add(&s, "http://b/\0tail", 14, &err));
    ck_assert(!seen_has(&s, "http://b/", 9));
    ck_assert(seen_has(&s, "http://b/\0tail", 14));
    /* The hash is a pure function of the bytes. */
    ck_assert_uint_eq(seen_hash("http://a/", 9), seen_hash("http://a/xyz", 9));
    ck_assert_uint_ne(seen_hash("http://a/", 9), seen_hash("http://a/", 8));
    seen_free(&s);
}
END_TEST

START_TEST(test_growth_keeps_everything)
{
    seen_set s;
    ck_assert_int_eq(seen_init(&s, 4), 0);
    size_t cap0 = s.cap;
    ck_assert_uint_ge(cap0, 4);
    ck_assert_uint_eq(cap0 & (cap0 - 1), 0); /* a power of two */
    char url[64];
    const size_t n = 200000;
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(url, sizeof url, "http://h%zu.example/p/%zu", i % 97, i);
        int err = 0;
        if (!seen_add(&s, url, (size_t)len, &err))
            ck_abort_msg("%s counted as seen", url);
        if (s.count * 4 > s.cap * 3) /* at most 3/4 full after every insert */
            ck_abort_msg("%zu in %zu slots", s.count, s.cap);
    }
    ck_assert_uint_eq(s.count, n);
    ck_assert_uint_gt(s.cap, cap0);
    ck_assert_uint_eq(s.cap & (s.cap - 1), 0);
    ck_assert_uint_eq(seen_bytes(&s), s.cap * 8);
    /* Between 10.7 (32/3) and 21.3 (64/3) bytes per URL, as seen.h says. */
    ck_assert_uint_ge(seen_bytes(&s) * 3, n * 32);
    ck_assert_uint_le(seen_bytes(&s) * 3, n * 64);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(url, sizeof url, "http://h%zu.example/p/%zu", i % 97, i);
        int err = 0;
        if (!seen_has(&s, url, (size_t)len) || seen_add(&s, url, (size_t)len, &err))
            ck_abort_msg("%s lost in a doubling", url);
    }
    ck_assert_uint_eq(s.count, n);
    /* URLs never added are not seen (a false positive needs a 64-bit collision). */
    for (size_t i = 0; i < 10000; i++) {
        int len = snprintf(url, sizeof url, "http://other%zu.example/", i);
        if (seen_has(&s, url, (size_t)len))
            ck_abort_msg("%s seen, never added", url);
    }
    seen_free(&s);
}
END_TEST

START_TEST(test_expected_size_preallocates)
{
    seen_set s;
    ck_assert_int_eq(seen_init(&s, 1000), 0);
    size_t cap = s.cap;
    ck_assert_uint_ge(cap * 3, 1000 * 4); /* room for 1000 within the 3/4 bound */
    char url[32];
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(url, sizeof url, "http://x/%d", i);
        int err = 0;
        ck_assert(seen_add(&s, url, (size_t)len, &err));
    }
    ck_assert_uint_eq(s.cap, cap); /* no doubling was needed */
    seen_free(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seen");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_membership);
    tcase_add_test(tc, test_growth_keeps_everything);
    tcase_add_test(tc, test_expected_size_preallocates);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
