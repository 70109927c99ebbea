/* Unit tests for the streaming sitemap reader (src/crawl/sitemap.c): plain
 * and gzip, indexes, the 50,000-URL and 50 MB limits, a gzip bomb, bad XML,
 * and a document read from a file. */
#include <errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "crawl/sitemap.h"
#include "testutil.h"

static char *gz(const char *in, size_t n, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    char *out = malloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static const char *URLSET = "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                            "<url><loc> http://a.test/1 </loc><lastmod>2020</lastmod></url>"
                            "<url><loc>http://a.test/2</loc></url><url><priority>1</priority></url></urlset>";

START_TEST(test_plain_gzip_and_file)
{
    sitemap_result r;
    ck_assert_int_eq(sitemap_parse(URLSET, strlen(URLSET), SITEMAP_MAX_BYTES, &r), 0);
    ck_assert(!r.index);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.locs[0], "http://a.test/1");
    ck_assert_str_eq(r.locs[1], "http://a.test/2");
    sitemap_result_free(&r);

    size_t zl;
    char *z = gz(URLSET, strlen(URLSET), &zl);
    ck_assert_int_eq(sitemap_parse(z, zl, SITEMAP_MAX_BYTES, &r), 0);
    ck_assert_uint_eq(r.n, 2);
    sitemap_result_free(&r);
    ck_assert_int_eq(sitemap_parse(z, zl / 2, SITEMAP_MAX_BYTES, &r), -EINVAL); /* cut short */

    FILE *f = tmpfile();
    fwrite(z, 1, zl, f);
    fflush(f);
    sitemap_src src = {NULL, zl, fileno(f)};
    ck_assert_int_eq(sitemap_read(&src, SITEMAP_MAX_BYTES, &r), 0);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.locs[1], "http://a.test/2");
    sitemap_result_free(&r);
    fclose(f);
    free(z);

    const char *idx = "<sitemapindex><sitemap><loc>http://a.test/s1.xml</loc></sitemap></sitemapindex>";
    ck_assert_int_eq(sitemap_parse(idx, strlen(idx), SITEMAP_MAX_BYTES, &r), 0);
    ck_assert(r.index);
    ck_assert_uint_eq(r.n, 1);
    sitemap_result_free(&r);
    ck_assert_int_eq(sitemap_parse("<html></html>", 13, SITEMAP_MAX_BYTES, &r), -EINVAL);
    ck_assert_int_eq(sitemap_parse("<urlset><url><loc>x", 19, SITEMAP_MAX_BYTES, &r), -EINVAL);
}
END_TEST

START_TEST(test_limits)
{
    /* 60,000 entries: the first 50,000 are kept and the result says so */
    size_t cap = 60000 * 48 + 64, n = 0;
    char *doc = malloc(cap);
    n += (size_t)sprintf(doc, "<urlset>");
    for (int i = 0; i < 60000; i++)
        n += (size_t)sprintf(doc + n, "<url><loc>http://a.test/%d</loc></url>", i);
    n += (size_t)sprintf(doc + n, "</urlset>");
    sitemap_result r;
    ck_assert_int_eq(sitemap_parse(doc, n, SITEMAP_MAX_BYTES, &r), 0);
    ck_assert_uint_eq(r.n, SITEMAP_MAX_URLS);
    ck_assert(r.truncated);
    sitemap_result_free(&r);
    /* past max_bytes: -EFBIG, plain or decompressed */
    ck_assert_int_eq(sitemap_parse(doc, n, 1000, &r), -EFBIG);
    free(doc);
    size_t big = 64u << 20, zl; /* a gzip bomb: 64 MiB of empty elements inside a urlset (the limit is 50 MB) */
    char *plain = malloc(big);
    for (size_t i = 0; i + 4 <= big; i += 4)
        memcpy(plain + i, "<x/>", 4);
    memcpy(plain, "<urlset>", 8);
    char *z = gz(plain, big, &zl);
    free(plain);
    ck_assert_int_eq(sitemap_parse(z, zl, SITEMAP_MAX_BYTES, &r), -EFBIG);
    free(z);
}
END_TEST

static Suite *sitemap_suite(void)
{
    Suite *s = suite_create("sitemap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_plain_gzip_and_file);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    xmlInitParser();
    return run_suite(sitemap_suite());
}
