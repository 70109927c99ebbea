/* warc: WARC 1.1 (ISO 28500) output. A warcinfo record opens each file, then
 * a request and a response record per HTTP exchange (or, with dedup, a
 * revisit record when the payload is identical to one already archived).
 * Every record is its own gzip member; WARC-Record-ID, WARC-Date,
 * WARC-Target-URI, WARC-IP-Address, WARC-Block-Digest and (for responses)
 * WARC-Payload-Digest are written (SHA-1, base32), Content-Length is exact.
 * Files are NAME-00000.warc.gz, NAME-00001.warc.gz, ... rotated once one
 * reaches max_size bytes; an existing file is never overwritten (a resumed
 * crawl continues with the next number).
 *
 * The response block is the response as received: status line and headers
 * as sent by the server, then the body before any content decoding (crawl
 * asks for identity encoding while archiving). libcurl always removes chunked
 * transfer encoding, so a "Transfer-Encoding: chunked" header is written as
 * "X-Crawl-Transfer-Encoding: chunked" to keep the record self-consistent.
 *
 * Loop thread only. The writer owns its file.
 */
#ifndef CRAWL_OUT_WARC_H
#define CRAWL_OUT_WARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct warc_writer warc_writer;

typedef struct warc_exchange {
    const char *url;
    const char *ip;          /* may be NULL */
    int64_t when_us;         /* request time, microseconds since the epoch */
    const char *req_head;    /* the request as sent (headers, CRLF CRLF) */
    size_t req_len;
    const char *resp_head;   /* status line and headers as received */
    size_t resp_head_len;
    const char *body; /* the body as received (when body_fd < 0) */
    size_t body_len;
    int body_fd; /* >= 0: the body is read from this file, offset 0 on (a spilled body) */
} warc_exchange;

/* 0 or -errno. max_size 0 = never rotate. */
int warc_open(const char *name, int64_t max_size, bool dedup, const char *software, warc_writer **out);
int warc_write(warc_writer *w, const warc_exchange *x);
/* Flush and close; returns the first error seen. */
int warc_close(warc_writer *w);
/* Base32 (RFC 4648) of a SHA-1 digest, for tests: "sha1:..." into out[40]. */
void warc_sha1_label(const void *data, size_t len, char out[40]);

#endif
