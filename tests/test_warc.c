/* Unit tests: the WARC writer (src/out/warc.c). Records are written to a
 * temporary directory and read back here, member by member: every record is
 * its own gzip member and parses as WARC/1.1 headers, CRLF CRLF, exactly
 * Content-Length bytes of block, CRLF CRLF; digests match the block and the
 * payload; dedup writes revisits; files rotate and are never overwritten.
 * (tests/warc/validate.mjs checks crawl's WARC files with warcio.js too.) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "out/warc.h"
#include "testutil.h"

enum { MAX_RECS = 16 };

typedef struct wrec {
    char *raw; /* the whole inflated member */
    size_t raw_len;
    size_t head_len; /* through the CRLF CRLF after the headers */
    const char *block;
    size_t block_len; /* Content-Length */
} wrec;

typedef struct wfile {
    wrec r[MAX_RECS];
    int n;
    size_t gz_len, raw_total;
} wfile;

/* A header's value in a record, copied into out; false if absent. */
static bool field(const wrec *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = r->raw; p < r->raw + r->head_len;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol || eol == p)
            break;
        if ((size_t)(eol - p) > nl + 1 && strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return true;
        }
        p = eol + 2;
    }
    return false;
}

/* Check one record's framing and digest; fills the block fields. */
static void parse_record(wrec *r)
{
    ck_assert_msg(r->raw_len > 10 && memcmp(r->raw, "WARC/1.1\r\n", 10) == 0, "no WARC/1.1 line");
    char *end = memmem(r->raw, r->raw_len, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(end);
    r->head_len = (size_t)(end - r->raw) + 4;
    char v[128];
    ck_assert(field(r, "Content-Length", v, sizeof v));
    r->block_len = strtoull(v, NULL, 10);
    r->block = r->raw + r->head_len;
    /* The member holds exactly this record: header, block, CRLF CRLF. */
    ck_assert_uint_eq(r->raw_len, r->head_len + r->block_len + 4);
    ck_assert_int_eq(memcmp(r->block + r->block_len, "\r\n\r\n", 4), 0);
    ck_assert(field(r, "WARC-Record-ID", v, sizeof v));
    ck_assert_msg(strncmp(v, "<urn:uuid:", 10) == 0, "record id %s", v);
    ck_assert(field(r, "WARC-Date", v, sizeof v));
    ck_assert_uint_eq(strlen(v), 27); /* 2026-12-03T17:00:00.000000Z */
    ck_assert(field(r, "WARC-Block-Digest", v, sizeof v));
    char want[40];
    warc_sha1_label(r->block, r->block_len, want);
    ck_assert_str_eq(v, want);
}

/* Inflate a .warc.gz member by member and parse each as one record. */
static void read_warc(const char *path, wfile *wf)
{
    memset(wf, 0, sizeof *wf);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    static unsigned char gz[1 << 20];
    size_t n = fread(gz, 1, sizeof gz, f);
    fclose(f);
    ck_assert_uint_gt(n, 2);
    ck_assert(gz[0] == 0x1f && gz[1] == 0x8b);
    wf->gz_len = n;
    size_t off = 0;
    while (off < n) {
        ck_assert_int_lt(wf->n, MAX_RECS);
        wrec *r = &wf->r[wf->n++];
        size_t cap = 1 << 16;
        r->raw = malloc(cap);
        z_stream z = {0};
        ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
        z.next_in = gz + off;
        z.avail_in = (uInt)(n - off);
        int st;
        do {
            if (r->raw_len == cap)
                r->raw = realloc(r->raw, cap *= 2);
            z.next_out = (unsigned char *)r->raw + r->raw_len;
            z.avail_out = (uInt)(cap - r->raw_len);
            st = inflate(&z, Z_NO_FLUSH);
            ck_assert_msg(st == Z_OK || st == Z_STREAM_END, "inflate: %d", st);
            r->raw_len = cap - z.avail_out;
        } while (st != Z_STREAM_END);
        off = n - z.avail_in;
        inflateEnd(&z);
        r->raw = realloc(r->raw, r->raw_len + 1);
        r->raw[r->raw_len] = 0;
        wf->raw_total += r->raw_len;
        parse_record(r);
    }
}

static void free_warc(wfile *wf)
{
    for (int i = 0; i < wf->n; i++)
        free(wf->r[i].raw);
}

static void assert_field(const wrec *r, const char *name, const char *want)
{
    char v[512];
    ck_assert_msg(field(r, name, v, sizeof v), "%s missing", name);
    ck_assert_str_eq(v, want);
}

static char tmpdir[64];
static char name[128];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/crawl-warc-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(name, sizeof name, "%s/out", tmpdir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Read NAME-0000i.warc.gz. */
static void read_nth(int i, wfile *wf)
{
    char path[200];
    snprintf(path, sizeof path, "%s-%05d.warc.gz", name, i);
    read_warc(path, wf);
}

static const char REQ[] = "GET /page HTTP/1.1\r\nHost: h.example\r\nUser-Agent: crawl\r\n\r\n";

static warc_exchange exchange(const char *url, const char *resp_head, const char *body, size_t body_len)
{
    return (warc_exchange){.body_fd = -1,
                           .url = url,
                           .ip = "127.0.0.1",
                           .when_us = 1764781200123456LL,
                           .req_head = REQ,
                           .req_len = sizeof REQ - 1,
                           .resp_head = resp_head,
                           .resp_head_len = strlen(resp_head),
                           .body = body,
                           .body_len = body_len};
}

START_TEST(test_sha1_label)
{
    char out[40];
    warc_sha1_label("", 0, out);
    ck_assert_str_eq(out, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    warc_sha1_label("abc", 3, out);
    ck_assert_str_eq(out, "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
}
END_TEST

START_TEST(test_records_framing_and_digests)
{
    setup();
    warc_writer *w = NULL;
    ck_assert_int_eq(warc_open(name, 0, false, "crawl/test", &w), 0);
    static char body[20000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = "abcdefgh"[i % 8]; /* compresses well */
    const char *rh = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
    warc_exchange x = exchange("http://h.example/page", rh, body, sizeof body);
    ck_assert_int_eq(warc_write(w, &x), 0);
    ck_assert_int_eq(warc_close(w), 0);

    wfile wf;
    read_nth(0, &wf);
    ck_assert_int_eq(wf.n, 3);                      /* warcinfo, response, request: one gzip member each */
    ck_assert_uint_lt(wf.gz_len, wf.raw_total / 4); /* gzip, and it compresses */

    assert_field(&wf.r[0], "WARC-Type", "warcinfo");
    assert_field(&wf.r[0], "Content-Type", "application/warc-fields");
    assert_field(&wf.r[0], "WARC-Filename", "out-00000.warc.gz");
    ck_assert_ptr_nonnull(memmem(wf.r[0].block, wf.r[0].block_len, "crawl/test", 10));

    const wrec *resp = &wf.r[1];
    assert_field(resp, "WARC-Type", "response");
    assert_field(resp, "WARC-Target-URI", "http://h.example/page");
    assert_field(resp, "WARC-IP-Address", "127.0.0.1");
    assert_field(resp, "WARC-Date", "2025-12-03T17:00:00.123456Z");
    assert_field(resp, "Content-Type", "application/http; msgtype=response");
    /* The block: the head as received (chunked renamed, see warc.h), then the body. */
    const char *fixed = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Crawl-Transfer-Encoding: chunked\r\n\r\n";
    size_t fl = strlen(fixed);
    ck_assert_uint_eq(resp->block_len, fl + sizeof body);
    ck_assert_int_eq(memcmp(resp->block, fixed, fl), 0);
    ck_assert_int_eq(memcmp(resp->block + fl, body, sizeof body), 0);
    char want[40];
    warc_sha1_label(body, sizeof body, want);
    assert_field(resp, "WARC-Payload-Digest", want);

    const wrec *req = &wf.r[2];
    assert_field(req, "WARC-Type", "request");
    assert_field(req, "WARC-Target-URI", "http://h.example/page");
    assert_field(req, "Content-Type", "application/http; msgtype=request");
    ck_assert_uint_eq(req->block_len, sizeof REQ - 1);
    ck_assert_int_eq(memcmp(req->block, REQ, sizeof REQ - 1), 0);
    char rid[128];
    ck_assert(field(resp, "WARC-Record-ID", rid, sizeof rid));
    assert_field(req, "WARC-Concurrent-To", rid);
    free_warc(&wf);
    teardown();
}
END_TEST

START_TEST(test_dedup_revisit)
{
    setup();
    warc_writer *w = NULL;
    ck_assert_int_eq(warc_open(name, 0, true, NULL, &w), 0);
    const char *rh = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    warc_exchange a = exchange("http://h.example/a", rh, "hello", 5);
    warc_exchange b = exchange("http://h.example/b", rh, "hello", 5);
    warc_exchange c = exchange("http://h.example/c", rh, "other", 5);
    ck_assert_int_eq(warc_write(w, &a), 0);
    ck_assert_int_eq(warc_write(w, &b), 0);
    ck_assert_int_eq(warc_write(w, &c), 0);
    ck_assert_int_eq(warc_close(w), 0);
    wfile wf;
    read_nth(0, &wf);
    ck_assert_int_eq(wf.n, 7);
    assert_field(&wf.r[1], "WARC-Type", "response");
    const wrec *rv = &wf.r[3];
    assert_field(rv, "WARC-Type", "revisit");
    assert_field(rv, "WARC-Target-URI", "http://h.example/b");
    assert_field(rv, "WARC-Refers-To-Target-URI", "http://h.example/a");
    assert_field(rv, "WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest");
    char want[40];
    warc_sha1_label("hello", 5, want);
    assert_field(rv, "WARC-Payload-Digest", want);
    /* A revisit keeps the head only. */
    ck_assert_uint_eq(rv->block_len, strlen(rh));
    ck_assert_int_eq(memcmp(rv->block, rh, strlen(rh)), 0);
    assert_field(&wf.r[4], "WARC-Type", "request");
    assert_field(&wf.r[5], "WARC-Type", "response"); /* a different payload */
    assert_field(&wf.r[5], "WARC-Target-URI", "http://h.example/c");
    free_warc(&wf);
    teardown();
}
END_TEST

START_TEST(test_rotation_never_overwrites)
{
    setup();
    warc_writer *w = NULL;
    ck_assert_int_eq(warc_open(name, 1, false, NULL, &w), 0); /* rotate before every write */
    const char *rh = "HTTP/1.1 200 OK\r\n\r\n";
    warc_exchange x = exchange("http://h.example/1", rh, "one", 3);
    ck_assert_int_eq(warc_write(w, &x), 0);
    x.url = "http://h.example/2";
    ck_assert_int_eq(warc_write(w, &x), 0);
    ck_assert_int_eq(warc_close(w), 0);
    wfile wf;
    for (int i = 0; i < 3; i++) {
        read_nth(i, &wf);
        assert_field(&wf.r[0], "WARC-Type", "warcinfo"); /* every file opens with one */
        ck_assert_int_eq(wf.n, i == 0 ? 1 : 3);
        if (i > 0)
            assert_field(&wf.r[1], "WARC-Target-URI", i == 1 ? "http://h.example/1" : "http://h.example/2");
        free_warc(&wf);
    }
    /* A second writer (a resumed crawl) continues with the next number. */
    ck_assert_int_eq(warc_open(name, 0, false, NULL, &w), 0);
    ck_assert_int_eq(warc_close(w), 0);
    read_nth(3, &wf);
    assert_field(&wf.r[0], "WARC-Filename", "out-00003.warc.gz");
    free_warc(&wf);
    /* Nowhere to write: the error comes back, nothing crashes. */
    ck_assert_int_eq(warc_open("/nonexistent-dir/out", 0, false, NULL, &w), -ENOENT);
    teardown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("warc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sha1_label);
    tcase_add_test(tc, test_records_framing_and_digests);
    tcase_add_test(tc, test_dedup_revisit);
    tcase_add_test(tc, test_rotation_never_overwrites);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
