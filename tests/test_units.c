/* Unit tests: DNS cache and coalescing, token bucket, retry schedule, save
 * path mapping (traversal attempts), address policy, option value parsers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/options.h"
#include "crawl/co.h"
#include "crawl/co_group.h"
#include "crawl/retry.h"
#include "net/addr.h"
#include "net/dns.h"
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
    ck_assert_int_le(strlen(strrchr(p, '/') + 1), 200);
}
END_TEST

START_TEST(test_savepath_write_no_overwrite)
{
    char dir[] = "/tmp/crawl-unit-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    char used[4096];
    ck_assert_int_eq(savepath_write(dfd, "h/a", "1", 1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a");
    ck_assert_int_eq(savepath_write(dfd, "h/a", "2", 1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a.1");
    /* "a" is a file, so a URL below it gets the directory "a.d". */
    ck_assert_int_eq(savepath_write(dfd, "h/a/b", "3", 1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/a.d/b");
    ck_assert_int_eq(savepath_write(dfd, "../x", "4", 1, used, sizeof used), -EINVAL);
    ck_assert_int_eq(savepath_write(dfd, "/abs", "4", 1, used, sizeof used), -EINVAL);
    /* A symlink planted in the tree is not followed. */
    char link[4200];
    snprintf(link, sizeof link, "%s/h/ln", dir);
    ck_assert_int_eq(symlink("/tmp", link), 0);
    ck_assert_int_eq(savepath_write(dfd, "h/ln/f", "5", 1, used, sizeof used), 0);
    ck_assert_str_eq(used, "h/ln.d/f");
    close(dfd);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
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
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(units_suite()); }
