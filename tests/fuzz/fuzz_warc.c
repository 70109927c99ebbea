/* libFuzzer target: the WARC writer (src/out/warc.c) with hostile URLs,
 * headers and payloads (from memory and from a spill file), with dedup so
 * revisit records with long prior URIs are written too. Asserts the framing
 * a WARC reader relies on: every gzip member holds one record, "WARC/1.1",
 * a Content-Length equal to the block's size, and CRLF CRLF after it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "out/warc.h"

/* Inflate one gzip member from f's bytes at *pos; returns its text. */
static unsigned char *member(const unsigned char *in, size_t inlen, size_t *pos, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        abort();
    size_t cap = 4096, n = 0;
    unsigned char *out = malloc(cap);
    zs.next_in = (Bytef *)in + *pos;
    zs.avail_in = (uInt)(inlen - *pos);
    int z;
    do {
        if (n == cap)
            out = realloc(out, cap *= 2);
        zs.next_out = out + n;
        zs.avail_out = (uInt)(cap - n);
        z = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
        if (z != Z_OK && z != Z_STREAM_END && !(z == Z_BUF_ERROR && n == cap))
            abort(); /* a member must be a complete gzip stream */
    } while (z != Z_STREAM_END);
    *pos = inlen - zs.avail_in;
    inflateEnd(&zs);
    *outlen = n;
    return out;
}

static void check_record(const unsigned char *r, size_t n)
{
    if (n < 12 || memcmp(r, "WARC/1.1\r\n", 10) != 0)
        abort();
    const unsigned char *end = memmem(r, n, "\r\n\r\n", 4);
    if (!end)
        abort();
    const unsigned char *cl = memmem(r, (size_t)(end - r), "\r\nContent-Length: ", 18);
    if (!cl)
        abort();
    size_t len = strtoull((const char *)cl + 18, NULL, 10);
    size_t block = (size_t)(end + 4 - r);
    if (block + len + 4 != n || memcmp(r + block + len, "\r\n\r\n", 4) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool from_file = data[0] & 1;
    data++, size--;
    const uint8_t *nl1 = memchr(data, '\n', size);
    if (!nl1)
        return 0;
    const uint8_t *nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - data));
    if (!nl2)
        return 0;
    char *url = strndup((const char *)data, (size_t)(nl1 - data));
    const char *head = (const char *)nl1 + 1;
    size_t hlen = (size_t)(nl2 - nl1);
    const char *body = (const char *)nl2 + 1;
    size_t blen = size - (size_t)(nl2 + 1 - data);
    char dir[] = "/tmp/crawl-fuzz-warc-XXXXXX";
    if (!url || !mkdtemp(dir)) {
        free(url);
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "%s/w", dir);
    warc_writer *w;
    if (warc_open(name, 0, true, "fuzz", &w) != 0)
        abort();
    FILE *bf = NULL;
    int bfd = -1;
    if (from_file) {
        bf = tmpfile();
        fwrite(body, 1, blen, bf);
        fflush(bf);
        bfd = fileno(bf);
    }
    char *longurl = malloc(strlen(url) * 4 + 8);
    sprintf(longurl, "%s%s%s%s", url, url, url, url);
    for (int i = 0; i < 2; i++) { /* the second is a revisit of the first */
        warc_exchange x = {.url = i ? url : longurl, .ip = "127.0.0.1", .when_us = 1, .req_head = "GET / HTTP/1.1\r\n\r\n", .req_len = 18, .resp_head = head, .resp_head_len = hlen, .body = body, .body_len = blen, .body_fd = bfd};
        if (warc_write(w, &x) != 0)
            abort();
    }
    if (warc_close(w) != 0)
        abort();
    char path[96];
    snprintf(path, sizeof path, "%s-00000.warc.gz", name);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t flen = (size_t)ftell(f);
    rewind(f);
    unsigned char *all = malloc(flen);
    if (fread(all, 1, flen, f) != flen)
        abort();
    fclose(f);
    size_t pos = 0;
    int records = 0;
    while (pos < flen) {
        size_t rl;
        unsigned char *rec = member(all, flen, &pos, &rl);
        check_record(rec, rl);
        free(rec);
        records++;
    }
    if (records != 5) /* warcinfo, response + request, revisit + request */
        abort();
    free(all);
    unlink(path);
    rmdir(dir);
    if (bf)
        fclose(bf);
    free(longurl);
    free(url);
    return 0;
}
