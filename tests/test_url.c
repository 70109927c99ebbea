/* Unit tests: URL resolution and normalization, against our own cases and the
 * http(s) cases of the web-platform-tests URL suite kept in ../shared/testdata
 * (read from there when present; never copied into the repository). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/url.h"
#include "testutil.h"

static void expect_resolve(const char *base, const char *ref, const char *want)
{
    char *got = url_resolve(base, ref);
    if (want)
        ck_assert_msg(got && strcmp(got, want) == 0, "resolve(%s, %s) = %s, want %s", base, ref, got ? got : "NULL",
                      want);
    else
        ck_assert_msg(!got, "resolve(%s, %s) = %s, want failure", base ? base : "NULL", ref, got ? got : "NULL");
    free(got);
}

static void expect_norm(const char *in, const char *want)
{
    char *got = url_normalize(in);
    ck_assert_msg(got && strcmp(got, want) == 0, "normalize(%s) = %s, want %s", in, got ? got : "NULL", want);
    free(got);
}

START_TEST(test_resolve)
{
    const char *b = "http://example.com/a/b/c.html?q=1#top";
    expect_resolve(b, "d.html", "http://example.com/a/b/d.html");
    expect_resolve(b, "../d", "http://example.com/a/d");
    expect_resolve(b, "/x", "http://example.com/x");
    expect_resolve(b, "//other.org/p", "http://other.org/p");
    expect_resolve(b, "?z", "http://example.com/a/b/c.html?z");
    expect_resolve(b, "#f", "http://example.com/a/b/c.html?q=1#f");
    expect_resolve(b, "", "http://example.com/a/b/c.html?q=1");
    expect_resolve(b, " \t/sp ace\n", "http://example.com/sp%20ace");
    expect_resolve(b, "\\\\h\\p", "http://h/p");
    expect_resolve(b, "HTTPS://Ex%41mple.COM:443/", "https://example.com/");
    expect_resolve(b, "http://0x7f.1/", "http://127.0.0.1/");
    expect_resolve(b, "http://bücher.example/", "http://xn--bcher-kva.example/");
    expect_resolve(b, "mailto:x@y", NULL);
    expect_resolve(b, "javascript:void(0)", NULL);
    expect_resolve(b, "ftp://h/", NULL);
    expect_resolve(b, "http://a b/", NULL);
    expect_resolve(b, "http://h:99999/", NULL);
    expect_resolve(NULL, "relative", NULL);
}
END_TEST

START_TEST(test_normalize)
{
    expect_norm("HTTP://Example.COM:80/%7euser/./a/../b/%2f?%41=%3d#frag", "http://example.com/~user/b/%2F?A=%3D");
    expect_norm("https://h:443", "https://h/");
    expect_norm("http://h/a%2Db", "http://h/a-b");
    expect_norm("http://h:8080/", "http://h:8080/");
}
END_TEST

/* Findings of fuzz_url: the fast path of url_resolve_normalized and the
 * general path agree, and normalizing twice changes nothing. */
START_TEST(test_fuzz_findings)
{
    static const char *const cases[][3] = {
        {"http://emple.t//ob", "E/thr.test/p", "http://emple.t//E/thr.test/p"}, /* empty segment kept (WHATWG) */
        {"http://a/%C5.b", ".//o/../.test1", "http://a//.test1"},
        {"http://t/%7", "o?", "http://t/o"},                        /* empty query dropped */
        {"http://est/a/best/a/b/", "../?", "http://est/a/best/a/"}, /* "../?" keeps the slash */
        {"http://ota//=", "?oTA//=", "http://ota//=?oTA//="},       /* a "//" path is not a host */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *fast = url_resolve_normalized(cases[i][0], cases[i][1]);
        char *abs = url_resolve(cases[i][0], cases[i][1]);
        char *slow = abs ? url_normalize(abs) : NULL;
        ck_assert_msg(fast && strcmp(fast, cases[i][2]) == 0, "fast %s + %s = %s", cases[i][0], cases[i][1], fast);
        ck_assert_msg(slow && strcmp(slow, cases[i][2]) == 0, "slow %s + %s = %s", cases[i][0], cases[i][1], slow);
        free(fast);
        free(abs);
        free(slow);
    }
    /* decoding %36 after a lone '%' would make "%64", which a second pass decodes */
    char *n1 = url_normalize("HTTP://ExTEST:80/%%364190/%70/x"), *n2 = url_normalize(n1);
    ck_assert_str_eq(n1, n2);
    ck_assert_str_eq(n1, "http://extest/%%364190/p/x");
    free(n1);
    free(n2);
}
END_TEST

START_TEST(test_wpt_conformance)
{
    json_t *cases = testdata_load("url_cases.json", JSON_ALLOW_NUL, "URL");
    if (!cases)
        return;
    size_t i, pass = 0, total = json_array_size(cases);
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        json_t *in = json_object_get(c, "input"), *b = json_object_get(c, "base"), *h = json_object_get(c, "href");
        /* C strings cannot carry NUL: such cases count as failures. */
        if (strlen(json_string_value(in)) != json_string_length(in))
            continue;
        char *got = url_resolve(json_is_string(b) ? json_string_value(b) : NULL, json_string_value(in));
        bool ok = h ? (got && strcmp(got, json_string_value(h)) == 0) : got == NULL;
        pass += ok;
        if (!ok && getenv("CRAWL_TEST_VERBOSE"))
            printf("  differs: base %s input %s: want %s got %s\n", json_is_string(b) ? json_string_value(b) : "-",
                   json_string_value(in), h ? json_string_value(h) : "(failure)", got ? got : "(failure)");
        free(got);
    }
    printf("WPT URL cases (http/https): %zu of %zu pass (%.1f%%)\n", pass, total, 100.0 * (double)pass / (double)total);
    ck_assert_uint_eq(total, 445);
    ck_assert_msg(pass * 100 >= total * 95, "only %zu of %zu", pass, total);
    json_decref(cases);
}
END_TEST

/* The fast path must agree with the general one. */
START_TEST(test_resolve_normalized_fast_path)
{
    const char *bases[] = {"http://h.example/a/b/c.html?q=1", "http://h.example", "https://h.example:8443/d/"};
    const char *refs[] = {"x.html", "/y/z", "x/y?k=v#f", "/", "a:b", "./x", "../x", "x%41", "//o.example/p",
                          "?q", "#f", "sp ace", "Caps/Path", "x?y=a'b", "mailto:x", "../../../../x", "a/./b/../c",
                          "..", ".", "a/..", "a/../", "../a/b/", "/../x", "x/..?q=1", "./", "../x/../y/./z?.."};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        char *nb = url_normalize(bases[b]);
        for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
            char *fast = url_resolve_normalized(nb, refs[r]);
            char *abs = url_resolve(nb, refs[r]);
            char *slow = abs ? url_normalize(abs) : NULL;
            ck_assert_msg((!fast && !slow) || (fast && slow && strcmp(fast, slow) == 0), "%s + %s: fast %s, slow %s",
                          nb, refs[r], fast ? fast : "NULL", slow ? slow : "NULL");
            free(fast);
            free(abs);
            free(slow);
        }
        free(nb);
    }
}
END_TEST

START_TEST(test_redact)
{
    static const char *cases[][2] = {
        {"http://a:b@h/", "http://a:***@h/"},
        {"http://u:p%40x@h:8080/p?q=http://v:w@x/", "http://u:***@h:8080/p?q=http://v:***@x/"},
        {"redirect loop at https://u:pw@h/x and http://k:z@y/", "redirect loop at https://u:***@h/x and http://k:***@y/"},
        {"http://a:b:c@d@h/", "http://a:***@h/"}, /* the last '@' ends the userinfo */
        {"http://user@h/", NULL},                 /* no password */
        {"http://user:@h/", NULL},                /* an empty one */
        {"http://h/a:b@c", NULL},                 /* '@' in the path */
        {"no url here", NULL},
        {"://a:b@", "://a:***@"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int oom = 1;
        char *r = url_redact(cases[i][0], &oom);
        ck_assert_int_eq(oom, 0);
        if (!cases[i][1])
            ck_assert_msg(r == NULL, "%s -> %s", cases[i][0], r);
        else
            ck_assert_msg(r && strcmp(r, cases[i][1]) == 0, "%s -> %s", cases[i][0], r ? r : "NULL");
        char *tmp;
        const char *shown = url_printable(cases[i][0], &tmp);
        ck_assert_str_eq(shown, cases[i][1] ? cases[i][1] : cases[i][0]);
        free(tmp);
        free(r);
    }
}
END_TEST

static Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("url");
    tcase_add_test(tc, test_resolve);
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_resolve_normalized_fast_path);
    tcase_add_test(tc, test_wpt_conformance);
    tcase_add_test(tc, test_fuzz_findings);
    tcase_add_test(tc, test_redact);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(url_suite()); }
