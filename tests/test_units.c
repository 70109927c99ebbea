/* Unit tests: DNS cache and coalescing, token bucket, retry schedule, save
 * path mapping (traversal attempts), address policy, option value parsers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/options.h"
#include "crawl/co.h"
#include "crawl/co_group.h"
#include "crawl/retry.h"
#include "net/addr.h"
#include "net/dns.h"
#include "net/http.h"
#include "out/errkind.h"
#include "net/proxy.h"
#include "out/record.h"
#include "out/savepath.h"
#include "testutil.h"

/* ---- DNS ------------------------------------------------------------------------------ */

typedef struct dns_ctx {
    dns_resolver *d;
    int ok;
} dns_ctx;

static int resolve_localhost(void *arg)
{
    dns_ctx *c = arg;
    dns_addrs a;
    int st = dns_resolve(c->d, "LocalHost", &a, 5000);
    if (st == 0 && a.n >= 1)
        c->ok++;
    return st;
}

static int main_dns(void *arg)
{
    (void)arg;
    dns_ctx c = {.ok = 0};
    ck_assert_int_eq(dns_new(NULL, &c.d), 0);
    /* Literals never reach c-ares. */
    dns_addrs a;
    ck_assert_int_eq(dns_resolve(c.d, "127.0.0.1", &a, 1000), 0);
    ck_assert_int_eq(a.n, 1);
    ck_assert_int_eq(dns_resolve(c.d, "[::1]", &a, 1000), 0);
    ck_assert_int_eq(a.addr[0].sa.sa_family, AF_INET6);
    uint64_t q, h;
    dns_counters(c.d, &q, &h);
    ck_assert_uint_eq(q, 0);
    /* Ten concurrent lookups of one name: one query, nine coalesced. */
    co_group g;
    co_group_init(&g);
    for (int i = 0; i < 10; i++)
        co_group_spawn(&g, resolve_localhost, &c, NULL);
    ck_assert_int_eq(co_group_wait(&g, CO_FOREVER), 0);
    co_group_destroy(&g);
    ck_assert_int_eq(c.ok, 10);
    dns_counters(c.d, &q, &h);
    ck_assert_uint_eq(q, 1);
    ck_assert_uint_eq(h, 9);
    /* Cached (TTL floor is 5 s). */
    ck_assert_int_eq(dns_resolve(c.d, "localhost", &a, 1000), 0);
    dns_counters(c.d, &q, &h);
    ck_assert_uint_eq(q, 1);
    /* Static pins win and are case-insensitive. */
    ck_assert_int_eq(dns_add_static(c.d, "Pinned.Test", "127.0.0.9"), 0);
    ck_assert_int_eq(dns_resolve(c.d, "pinned.test", &a, 1000), 0);
    char ip[64];
    ck_assert_str_eq(addr_to_string((struct sockaddr *)&a.addr[0], ip, sizeof ip), "127.0.0.9");
    ck_assert_int_eq(dns_add_static(c.d, "x.test", "not-an-ip"), -EINVAL);
    /* A name under .invalid never exists (RFC 2606); answered from the
     * resolver or, offline, as a failure: either way an error, not a hang. */
    int st = dns_resolve(c.d, "", &a, 1000);
    ck_assert_int_eq(st, -ENOENT);
    dns_free(c.d);
    return 0;
}

START_TEST(test_dns_cache_and_coalescing) { RUN_MAIN(main_dns, NULL); }
END_TEST

/* ---- token bucket and retry schedule ----------------------------------------------------------- */

START_TEST(test_token_bucket)
{
    tbucket tb;
    int64_t t = 1000000000;
    tb_init(&tb, 10, 1, t); /* 10/s, burst 1 */
    ck_assert_int_eq(tb_reserve(&tb, t), 0);
    ck_assert_int_eq(tb_reserve(&tb, t), 100000000);  /* next token in 100 ms */
    ck_assert_int_eq(tb_reserve(&tb, t), 200000000);  /* reservations queue up */
    t += 1000000000;                                   /* a second later: full again (burst 1) */
    ck_assert_int_eq(tb_reserve(&tb, t), 0);
    tb_init(&tb, 0, 1, t); /* unlimited */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(tb_reserve(&tb, t), 0);
}
END_TEST

START_TEST(test_retry_schedule)
{
    uint64_t rng = 42;
    for (int i = 0; i < 200; i++) {
        int64_t d1 = retry_delay_ms(1, 1000, 60000, -1, &rng);
        int64_t d3 = retry_delay_ms(3, 1000, 60000, -1, &rng);
        int64_t d20 = retry_delay_ms(20, 1000, 60000, -1, &rng);
        ck_assert(d1 >= 500 && d1 <= 1000);
        ck_assert(d3 >= 2000 && d3 <= 4000);
        ck_assert(d20 >= 30000 && d20 <= 60000);
        /* Retry-After raises the delay, but the cap holds. */
        ck_assert_int_ge(retry_delay_ms(1, 1000, 60000, 7, &rng), 7000);
        ck_assert_int_eq(retry_delay_ms(1, 1000, 60000, 3600, &rng), 60000);
    }
    ck_assert(retry_wanted(HTTP_OK, 503));
    ck_assert(retry_wanted(HTTP_OK, 429));
    ck_assert(!retry_wanted(HTTP_OK, 404));
    ck_assert(!retry_wanted(HTTP_OK, 200));
    ck_assert(retry_wanted(HTTP_E_CONNECT, 0));
    ck_assert(retry_wanted(HTTP_E_TIMEOUT, 0));
    ck_assert(!retry_wanted(HTTP_E_DNS, 0));
    ck_assert(!retry_wanted(HTTP_E_TLS, 0));
    ck_assert(!retry_wanted(HTTP_E_POLICY, 0));
}
END_TEST

/* ---- save paths ------------------------------------------------------------------------------- */

START_TEST(test_savepath_mapping)
{
    char p[4096];
    ck_assert_int_eq(savepath_for_url("http://Example.COM/a/b.html", p, sizeof p), 0);
    ck_assert_str_eq(p, "example.com/a/b.html");
    ck_assert_int_eq(savepath_for_url("http://example.com/", p, sizeof p), 0);
    ck_assert_str_eq(p, "example.com/index.html");
    ck_assert_int_eq(savepath_for_url("http://example.com", p, sizeof p), 0);
    ck_assert_str_eq(p, "example.com/index.html");
    ck_assert_int_eq(savepath_for_url("http://example.com:8080/d/", p, sizeof p), 0);
    ck_assert_str_eq(p, "example.com%3A8080/d/index.html");
    ck_assert_int_eq(savepath_for_url("http://example.com/s?q=1&r=a%20b&t=\"x\"", p, sizeof p), 0);
    ck_assert_str_eq(p, "example.com/s?q=1&r=a%20b&t=%22x%22");
    /* Traversal attempts stay inside. */
    const char *evil[] = {"http://h/../../etc/passwd", "http://h/a/%2e%2e/%2e%2e/x", "http://h/..%2f..%2fx",
                          "http://h/a/./b/../../../c", "http://h//abs//path"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        ck_assert_int_eq(savepath_for_url(evil[i], p, sizeof p), 0);
        ck_assert_msg(p[0] != '/', "%s -> %s", evil[i], p);
        for (char *s = p; (s = strstr(s, "..")); s++) {
            bool seg_start = s == p || s[-1] == '/';
            bool seg_end = s[2] == 0 || s[2] == '/';
            ck_assert_msg(!(seg_start && seg_end), "%s -> %s has a .. segment", evil[i], p);
        }
    }
    /* Over-long names are shortened with a hash. */
    char url[1200] = "http://h/";
    memset(url + 9, 'z', 1000);
    url[1009] = 0;
    ck_assert_int_eq(savepath_for_url(url, p, sizeof p), 0);
    ck_assert_uint_le(strlen(strrchr(p, '/') + 1), 200);
}
END_TEST

/* Saving with and without the directory cache behaves the same. */
static void check_savepath_write(savepath_dirs *dirs)
{
    char dir[] = "/tmp/crawl-unit-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    char used[4096];
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/a", "1", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a");
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/a", "2", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a.1");
    /* "a" is a file, so a URL below it gets the directory "a.d", every time. */
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/a/b", "3", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a.d/b");
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/a/c", "3", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a.d/c");
    ck_assert_int_eq(savepath_write(dfd, dirs, "top", "t", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "top");
    ck_assert_int_eq(savepath_write(dfd, dirs, "../x", "4", 1, -1, used, sizeof used), -EINVAL);
    ck_assert_int_eq(savepath_write(dfd, dirs, "/abs", "4", 1, -1, used, sizeof used), -EINVAL);
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/../x", "4", 1, -1, used, sizeof used), -EINVAL);
    /* A symlink planted in the tree is not followed. */
    char path[4200];
    snprintf(path, sizeof path, "%s/h/ln", dir);
    ck_assert_int_eq(symlink("/tmp", path), 0);
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/ln/f", "5", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/ln.d/f");
    /* A directory removed between two saves is made again. */
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/x/f1", "6", 1, -1, used, sizeof used), 0);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/h/x'", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(savepath_write(dfd, dirs, "h/x/f2", "7", 1, -1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/x/f2");
    snprintf(path, sizeof path, "%s/h/x/f2", dir);
    ck_assert_int_eq(access(path, F_OK), 0);
    close(dfd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_savepath_write_no_overwrite)
{
    check_savepath_write(NULL);
    savepath_dirs *dirs;
    ck_assert_int_eq(savepath_dirs_new(&dirs), 0);
    check_savepath_write(dirs);
    savepath_dirs_free(dirs);
}
END_TEST

/* ---- address policy ----------------------------------------------------------------------------- */

static const char *reason(const char *ip)
{
    net_addr ss;
    ck_assert(addr_parse_literal(ip, &ss));
    return addr_restricted_reason((struct sockaddr *)&ss);
}

START_TEST(test_address_policy)
{
    ck_assert_str_eq(reason("127.0.0.2"), "loopback");
    ck_assert_str_eq(reason("10.1.2.3"), "private");
    ck_assert_str_eq(reason("172.31.0.1"), "private");
    ck_assert_str_eq(reason("192.168.1.1"), "private");
    ck_assert_str_eq(reason("169.254.169.254"), "link-local");
    ck_assert_str_eq(reason("0.0.0.0"), "unspecified");
    ck_assert_str_eq(reason("224.0.0.1"), "multicast");
    ck_assert_str_eq(reason("255.255.255.255"), "reserved");
    ck_assert_str_eq(reason("::1"), "loopback");
    ck_assert_str_eq(reason("::"), "unspecified");
    ck_assert_str_eq(reason("fe80::1"), "link-local");
    ck_assert_str_eq(reason("fd00::1"), "unique-local");
    ck_assert_str_eq(reason("ff02::1"), "multicast");
    ck_assert_str_eq(reason("::ffff:127.0.0.1"), "loopback");
    ck_assert_str_eq(reason("::ffff:10.0.0.1"), "private");
    ck_assert_ptr_null(reason("93.184.216.34"));
    ck_assert_ptr_null(reason("172.32.0.1"));
    ck_assert_ptr_null(reason("2606:2800:220:1:248:1893:25c8:1946"));
}
END_TEST

/* ---- option values ---------------------------------------------------------------------------------- */

/* Serialize r with f and parse the line back. */
static json_t *format_parse(record_fmt *f, const record *r)
{
    const char *line;
    size_t len;
    ck_assert_int_eq(record_format(f, r, &line, &len), 0);
    ck_assert_uint_gt(len, 1);
    ck_assert_int_eq(line[len - 1], '\n');
    ck_assert_ptr_null(memchr(line, '\n', len - 1)); /* one record, one line */
    json_error_t err;
    json_t *j = json_loadb(line, len - 1, 0, &err);
    ck_assert_msg(j != NULL, "not JSON: %s", err.text);
    return j;
}

/* The keys of o, comma-separated, in output order. */
static void keys_of(json_t *o, char *out, size_t cap)
{
    out[0] = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        (void)v;
        strncat(out, k, cap - strlen(out) - 2);
        strcat(out, ",");
    }
}

/* ---- error kinds: one table -------------------------------------------------- */

START_TEST(test_errkind_table)
{
    /* Every kind the HTTP layer names is in the table, spelled the same. */
    for (http_err e = HTTP_E_DNS; e <= HTTP_E_INTERNAL; e++) {
        const char *n = http_err_name(e);
        ck_assert_msg(errkind_lookup(n) != NULL, "http_err %d names '%s', not in errkind.h", (int)e, n);
        ck_assert_str_eq(errkind_lookup(n), n);
    }
    ck_assert_ptr_null(errkind_lookup(""));
    ck_assert_ptr_null(errkind_lookup(NULL));
    ck_assert_ptr_null(errkind_lookup("DNS"));
    ck_assert_str_eq(errkind_name(ERRKIND_dns), "dns");
    ck_assert_str_eq(errkind_name(ERRKIND_sitemap), "sitemap");
    ck_assert_ptr_null(errkind_name(ERRKIND_COUNT));
    /* Names are unique, and each has a description. */
    for (int a = 0; a < ERRKIND_COUNT; a++) {
        ck_assert_uint_gt(strlen(errkind_desc((errkind)a)), 10);
        ck_assert_ptr_eq(errkind_lookup(errkind_name((errkind)a)), errkind_name((errkind)a));
        for (int b = 0; b < a; b++)
            ck_assert_str_ne(errkind_name((errkind)a), errkind_name((errkind)b));
    }
    /* record.c writes the table's spelling; a kind outside it shows as internal. */
    record_fmt *f;
    ck_assert_int_eq(record_fmt_new(&f), 0);
    record r = {.fields = REC_BODY};
    record_set(&r.url, "http://a.test/");
    char kind[] = "robots";
    r.err_kind = kind;
    json_t *j = format_parse(f, &r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "kind")), "robots");
    json_decref(j);
    r.err_kind = "no_such_kind";
    j = format_parse(f, &r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "kind")), "internal");
    json_decref(j);
    record_clear(&r);
    record_fmt_free(f);
}
END_TEST

START_TEST(test_noproxy)
{
    static const struct {
        const char *list, *host;
        bool match;
    } cases[] = {
        {"*", "anything.test", true},
        {"example.com", "example.com", true},
        {"example.com", "www.example.com", true},
        {".example.com", "www.example.com", true},
        {"example.com", "badexample.com", false},
        {"example.com", "example.com.evil.test", false},
        {"EXAMPLE.com", "Www.Example.COM.", true},
        {"a.test, b.test", "b.test", true},
        {"127.0.0.1", "127.0.0.1", true},
        {"127.0.0.1", "127.0.0.2", false},
        {"127.0.0.0/8", "127.9.9.9", true},
        {"10.0.0.0/8", "11.0.0.1", false},
        {"10.0.0.0/33", "10.0.0.1", false},
        {"::1", "[::1]", true},
        {"fd00::/8", "fd12::1", true},
        {"fd00::/8", "fe80::1", false},
        {"127.0.0.0/8", "localhost", false},
        {"", "a.test", false},
        {"*.test", "a.test", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(proxy_noproxy_match(cases[i].list, cases[i].host) == cases[i].match, "%s vs %s", cases[i].list,
                      cases[i].host);
    proxy_cfg c = {.http = (char *)"http://p:1", .https = NULL, .noproxy = (char *)"direct.test"};
    ck_assert_str_eq(proxy_for(&c, false, "a.test"), "http://p:1");
    ck_assert_ptr_null(proxy_for(&c, false, "x.direct.test"));
    ck_assert_ptr_null(proxy_for(&c, true, "a.test"));
}
END_TEST

START_TEST(test_record_validators)
{
    record_fmt *f;
    ck_assert_int_eq(record_fmt_new(&f), 0);
    char keys[512];
    /* -N: a 304 that kept the saved file */
    record r = {.fields = REC_BODY | REC_NOT_MODIFIED | REC_SAVED, .status = 304};
    record_set(&r.url, "http://a.test/x");
    record_set(&r.etag, "\"v1\"");
    record_set(&r.last_modified, "Tue, 14 Nov 2023 22:13:20 GMT");
    record_set(&r.saved_path, "p/a.test/x");
    json_t *j = format_parse(f, &r);
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,location,content_type,bytes,content_length,etag,last_modified,not_modified,"
                           "saved_path,");
    ck_assert_str_eq(json_string_value(json_object_get(j, "etag")), "\"v1\"");
    ck_assert(json_is_true(json_object_get(j, "not_modified")));
    json_decref(j);
    record_clear(&r);
    /* -nc: nothing sent */
    record s = {.fields = REC_SKIPPED | REC_SAVED, .skipped = "exists"};
    record_set(&s.url, "http://a.test/y");
    j = format_parse(f, &s);
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,skipped,saved_path,");
    ck_assert_str_eq(json_string_value(json_object_get(j, "skipped")), "exists");
    json_decref(j);
    record_clear(&s);
    record_fmt_free(f);
}
END_TEST

START_TEST(test_record_format)
{
    record_fmt *f;
    ck_assert_int_eq(record_fmt_new(&f), 0);
    char keys[512];

    /* a fetch with an error, a redirect and timings */
    record r = {.fields = REC_BODY | REC_EXCHANGE, .status = 503, .bytes = 12, .truncated = true,
                .elapsed_ms = 12.345, .connect_ms = 1.04, .attempts = 3, .http_version = "1.1"};
    record_set(&r.url, "http://a.test/x");
    record_set(&r.final_url, "http://a.test/y");
    r.err_kind = "http";
    record_set(&r.err_msg, "say \"no\"\n");
    record_set(&r.content_type, "text/html");
    record_set(&r.remote_ip, "127.0.0.1");
    ck_assert_int_eq(record_add_hop(&r, "http://a.test/x", 301), 0);
    json_t *j = format_parse(f, &r);
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,location,content_type,bytes,content_length,etag,last_modified,truncated,"
                           "elapsed_ms,timings,redirects,"
                           "attempts,remote_ip,http_version,");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 503);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "kind")), "http");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "message")), "say \"no\"\n");
    ck_assert(json_is_true(json_object_get(j, "truncated")));
    ck_assert_double_eq_tol(json_real_value(json_object_get(j, "elapsed_ms")), 12.3, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(j, "timings"), "connect_ms")), 1.0, 1e-9);
    json_t *hops = json_object_get(j, "redirects");
    ck_assert_uint_eq(json_array_size(hops), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hops, 0), "url")), "http://a.test/x");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(hops, 0), "status")), 301);
    json_decref(j);
    record_clear(&r);

    /* the same shape again: nothing of the first record may show through */
    record r2 = {.fields = REC_BODY | REC_EXCHANGE};
    record_set(&r2.url, "http://b.test/");
    j = format_parse(f, &r2);
    ck_assert_str_eq(json_string_value(json_object_get(j, "url")), "http://b.test/");
    ck_assert(json_is_null(json_object_get(j, "final_url")));
    ck_assert(json_is_null(json_object_get(j, "status")));
    ck_assert(json_is_null(json_object_get(j, "error")));
    ck_assert(json_is_null(json_object_get(j, "content_type")));
    ck_assert(json_is_false(json_object_get(j, "truncated")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "redirects")), 0);
    ck_assert(json_is_null(json_object_get(j, "remote_ip")));
    ck_assert(json_is_null(json_object_get(j, "http_version")));
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,location,content_type,bytes,content_length,etag,last_modified,truncated,"
                           "elapsed_ms,timings,redirects,"
                           "attempts,remote_ip,http_version,");
    json_decref(j);
    /* and an error comes back after a record without one */
    r2.err_kind = "dns";
    r2.status = 0;
    j = format_parse(f, &r2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "kind")), "dns");
    ck_assert(json_is_null(json_object_get(json_object_get(j, "error"), "message")));
    json_decref(j);
    record_clear(&r2);

    /* an invalid input line: only the input group; bytes >= 0x80 that are
     * not UTF-8 are percent-encoded */
    record r3 = {.fields = REC_INPUT};
    record_set(&r3.url, "ftp://x\xff\xfe");
    record_set(&r3.input, "ftp://x\xff\xfe");
    r3.err_kind = "invalid_url";
    record_set(&r3.err_msg, "not http(s)");
    j = format_parse(f, &r3);
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,input,");
    ck_assert_str_eq(json_string_value(json_object_get(j, "url")), "ftp://x%FF%FE");
    json_decref(j);
    /* valid UTF-8 is kept as it is */
    record_set(&r3.url, "http://\xc3\xa9.test/");
    j = format_parse(f, &r3);
    ck_assert_str_eq(json_string_value(json_object_get(j, "url")), "http://\xc3\xa9.test/");
    json_decref(j);
    record_clear(&r3);

    /* a crawled page whose saving failed; a line longer than the buffer */
    record r4 = {.fields = REC_BODY | REC_EXCHANGE | REC_PAGE | REC_LINKS | REC_SAVED | REC_SAVE_ERROR, .depth = 2,
                 .links_found = 7};
    char *long_url = malloc(5001);
    memset(long_url, 'a', 5000);
    long_url[5000] = 0;
    memcpy(long_url, "http://", 7);
    record_set(&r4.url, long_url);
    record_set(&r4.parent, "http://a.test/");
    record_set(&r4.save_error, "No space left on device");
    j = format_parse(f, &r4);
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,location,content_type,bytes,content_length,etag,last_modified,truncated,"
                           "elapsed_ms,timings,redirects,"
                           "attempts,remote_ip,http_version,depth,parent,links_found,saved_path,save_error,");
    ck_assert_str_eq(json_string_value(json_object_get(j, "url")), long_url);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "depth")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "links_found")), 7);
    ck_assert(json_is_null(json_object_get(j, "saved_path")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "save_error")), "No space left on device");
    json_decref(j);
    free(long_url);
    record_clear(&r4);

    /* a sitemap record */
    record r5 = {.fields = REC_BODY | REC_SITEMAP | REC_PAGE | REC_LINKS, .status = 200, .links_found = 3};
    record_set(&r5.url, "http://a.test/sitemap.xml");
    j = format_parse(f, &r5);
    keys_of(j, keys, sizeof keys);
    ck_assert_str_eq(keys, "url,final_url,status,error,location,content_type,bytes,content_length,etag,last_modified,"
                           "sitemap,depth,parent,links_found,");
    ck_assert(json_is_true(json_object_get(j, "sitemap")));
    json_decref(j);
    record_clear(&r5);
    record_fmt_free(f);
}
END_TEST

START_TEST(test_option_values)
{
    int64_t v;
    double r;
    ck_assert_int_eq(parse_duration_ms("500ms", &v), 0);
    ck_assert_int_eq(v, 500);
    ck_assert_int_eq(parse_duration_ms("10s", &v), 0);
    ck_assert_int_eq(v, 10000);
    ck_assert_int_eq(parse_duration_ms("1.5", &v), 0);
    ck_assert_int_eq(v, 1500);
    ck_assert_int_eq(parse_duration_ms("5m", &v), 0);
    ck_assert_int_eq(v, 300000);
    ck_assert_int_eq(parse_duration_ms("soon", &v), -EINVAL);
    ck_assert_int_eq(parse_duration_ms("-1s", &v), -EINVAL);
    ck_assert_int_eq(parse_size("10K", &v), 0);
    ck_assert_int_eq(v, 10240);
    ck_assert_int_eq(parse_size("1M", &v), 0);
    ck_assert_int_eq(v, 1048576);
    ck_assert_int_eq(parse_size("2GB", &v), 0);
    ck_assert_int_eq(v, 2147483648LL);
    ck_assert_int_eq(parse_size("12Q", &v), -EINVAL);
    ck_assert_int_eq(parse_rate("20/s", &r), 0);
    ck_assert(r == 20);
    ck_assert_int_eq(parse_rate("600/m", &r), 0);
    ck_assert(r == 10);
    ck_assert_int_eq(parse_rate("fast", &r), -EINVAL);

    crawl_opts o;
    opts_defaults(&o);
    char *argv[] = {"crawl", "-j50", "-qL", "--timeout=2s", "-H", "A: b", "-H", "C: d", "--", "-notopt", NULL};
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_int_eq(opts_parse(&o, 10, argv, devnull), 0);
    ck_assert_int_eq(o.concurrency, 50);
    ck_assert(o.quiet && o.location);
    ck_assert_int_eq(o.timeout_ms, 2000);
    ck_assert_uint_eq(o.headers.n, 2);
    ck_assert_uint_eq(o.urls.n, 1);
    ck_assert_str_eq(o.urls.v[0], "-notopt");
    opts_free(&o);
    opts_defaults(&o);
    char *bad[] = {"crawl", "--concurrency", "0", NULL};
    ck_assert_int_eq(opts_parse(&o, 3, bad, devnull), -1);
    opts_free(&o);
    fclose(devnull);
}
END_TEST

static Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("units");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dns_cache_and_coalescing);
    tcase_add_test(tc, test_token_bucket);
    tcase_add_test(tc, test_retry_schedule);
    tcase_add_test(tc, test_savepath_mapping);
    tcase_add_test(tc, test_savepath_write_no_overwrite);
    tcase_add_test(tc, test_address_policy);
    tcase_add_test(tc, test_option_values);
    tcase_add_test(tc, test_record_format);
    tcase_add_test(tc, test_record_validators);
    tcase_add_test(tc, test_noproxy);
    tcase_add_test(tc, test_errkind_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(units_suite()); }
