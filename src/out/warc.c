/* warc: see warc.h. */
#include "warc.h"
#include "util/sbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

typedef struct dedup_entry {
    struct dedup_entry *next;
    char digest[40];
    char *uri;
    char date[32];
} dedup_entry;

struct warc_writer {
    char *name;
    char *software;
    int64_t max_size;
    int index;
    FILE *f;
    int64_t size;
    int err;
    bool dedup;
    dedup_entry **buckets;
    size_t nbuckets;
    unsigned char zbuf[65536]; /* deflate output: here, not on a coroutine's stack */
};

/* ---- helpers ---------------------------------------------------------------- */

static void sha1(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[20])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 20;
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    if (alen)
        EVP_DigestUpdate(c, a, alen);
    if (blen)
        EVP_DigestUpdate(c, b, blen);
    EVP_DigestFinal_ex(c, out, &n);
    EVP_MD_CTX_free(c);
}

/* A block part that is either memory or the start of a file. */
typedef struct part {
    const void *mem;
    size_t len;
    int fd; /* >= 0: read len bytes of this file from offset 0 */
} part;

/* Feed a part to fn in pieces; 0 or -errno. */
static int part_each(const part *p, int (*fn)(void *ud, const void *d, size_t n), void *ud)
{
    if (p->fd < 0)
        return p->len ? fn(ud, p->mem, p->len) : 0;
    static __thread char buf[65536];
    off_t off = 0;
    for (size_t left = p->len; left;) {
        ssize_t r = pread(p->fd, buf, left < sizeof buf ? left : sizeof buf, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        int rc = fn(ud, buf, (size_t)r);
        if (rc < 0)
            return rc;
        off += r;
        left -= (size_t)r;
    }
    return 0;
}

static int sha1_update(void *ud, const void *d, size_t n)
{
    return EVP_DigestUpdate(ud, d, n) == 1 ? 0 : -ENOMEM;
}

/* SHA-1 of a then the part b. */
static int sha1_part(const void *a, size_t alen, const part *b, unsigned char out[20])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 20;
    if (!c)
        return -ENOMEM;
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    if (alen)
        EVP_DigestUpdate(c, a, alen);
    int rc = part_each(b, sha1_update, c);
    EVP_DigestFinal_ex(c, out, &n);
    EVP_MD_CTX_free(c);
    return rc;
}

static void base32(const unsigned char *in, size_t n, char *out)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t bits = 0, k = 0;
    unsigned buf = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[k++] = alpha[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        out[k++] = alpha[(buf << (5 - bits)) & 31];
    out[k] = 0;
}

static void label(const unsigned char d[20], char out[40])
{
    memcpy(out, "sha1:", 5);
    base32(d, 20, out + 5);
}

void warc_sha1_label(const void *data, size_t len, char out[40])
{
    unsigned char d[20];
    sha1(data, len, NULL, 0, d);
    label(d, out);
}

static void uuid_urn(char out[48])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
    snprintf(out, 48, "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

static void warc_date(int64_t us, char out[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06dZ", (int)(us % 1000000));
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- records ----------------------------------------------------------------- */

/* One record: WARC header + block (two parts) + CRLF CRLF, as one gzip member. */
typedef struct deflater {
    warc_writer *w;
    z_stream z;
} deflater;

static int deflate_some(deflater *d, const void *data, size_t n, int flush)
{
    warc_writer *w = d->w;
    d->z.next_in = (Bytef *)data;
    d->z.avail_in = (uInt)n;
    int zr;
    do {
        d->z.next_out = w->zbuf;
        d->z.avail_out = (uInt)sizeof w->zbuf;
        zr = deflate(&d->z, flush);
        size_t out = sizeof w->zbuf - d->z.avail_out;
        if (out && fwrite(w->zbuf, 1, out, w->f) != out)
            return -(errno ? errno : EIO);
        w->size += (int64_t)out;
    } while (d->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return 0;
}

static int deflate_part(void *ud, const void *data, size_t n) { return deflate_some(ud, data, n, Z_NO_FLUSH); }

static int put_record_parts(warc_writer *w, const char *head, size_t hlen, const part *b1, const part *b2)
{
    if (w->err)
        return w->err;
    deflater d = {.w = w};
    if (deflateInit2(&d.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return w->err = -ENOMEM;
    int rc = deflate_some(&d, head, hlen, Z_NO_FLUSH);
    if (rc == 0)
        rc = part_each(b1, deflate_part, &d);
    if (rc == 0 && b2)
        rc = part_each(b2, deflate_part, &d);
    if (rc == 0)
        rc = deflate_some(&d, "\r\n\r\n", 4, Z_FINISH);
    deflateEnd(&d.z);
    if (rc == 0 && fflush(w->f) != 0)
        rc = -(errno ? errno : EIO);
    if (rc)
        w->err = rc;
    return rc;
}

static int put_record(warc_writer *w, const char *head, size_t hlen, const void *b1, size_t l1, const void *b2,
                      size_t l2)
{
    part p1 = {b1, l1, -1}, p2 = {b2, l2, -1};
    return put_record_parts(w, head, hlen, &p1, &p2);
}

static int put_warcinfo(warc_writer *w)
{
    char id[48], date[32], fname[300];
    uuid_urn(id);
    warc_date(now_us(), date);
    snprintf(fname, sizeof fname, "%.250s-%05d.warc.gz", w->name, w->index);
    const char *base = strrchr(fname, '/');
    char body[512];
    int bl = snprintf(body, sizeof body,
                      "software: %s\r\nformat: WARC File Format 1.1\r\n"
                      "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
                      w->software);
    char digest[40];
    warc_sha1_label(body, (size_t)bl, digest);
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\n"
                      "WARC-Filename: %s\r\nWARC-Block-Digest: %s\r\nContent-Type: application/warc-fields\r\n"
                      "Content-Length: %d\r\n\r\n",
                      id, date, base ? base + 1 : fname, digest, bl);
    return put_record(w, head, (size_t)hl, body, (size_t)bl, NULL, 0);
}

static int open_next(warc_writer *w)
{
    if (w->f && fclose(w->f) != 0 && !w->err)
        w->err = -(errno ? errno : EIO);
    w->f = NULL;
    char path[700];
    snprintf(path, sizeof path, "%s-%05d.warc.gz", w->name, w->index);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    w->f = fdopen(fd, "wb");
    if (!w->f) {
        close(fd);
        return -ENOMEM;
    }
    w->size = 0;
    return put_warcinfo(w);
}

int warc_open(const char *name, int64_t max_size, bool dedup, const char *software, warc_writer **out)
{
    warc_writer *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->name = strdup(name);
    w->software = strdup(software ? software : "crawl");
    w->max_size = max_size;
    w->dedup = dedup;
    w->nbuckets = 4096;
    w->buckets = calloc(w->nbuckets, sizeof *w->buckets);
    /* Never overwrite: start after the files a previous (resumed) run wrote. */
    for (;; w->index++) {
        char path[700];
        snprintf(path, sizeof path, "%s-%05d.warc.gz", name, w->index);
        if (access(path, F_OK) != 0)
            break;
    }
    int rc = w->name && w->software && w->buckets ? open_next(w) : -ENOMEM;
    if (rc < 0) {
        warc_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Response headers with a chunked transfer coding renamed (see warc.h). */
static char *fix_head(const char *h, size_t n, size_t *outlen)
{
    char *o = malloc(n + 16 + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        const char *eol = memchr(h + i, '\n', n - i);
        size_t ll = eol ? (size_t)(eol - (h + i)) + 1 : n - i;
        if (ll > 18 && strncasecmp(h + i, "transfer-encoding:", 18) == 0) {
            memcpy(o + k, "X-Crawl-", 8);
            k += 8;
        }
        memcpy(o + k, h + i, ll);
        k += ll;
        i += ll;
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

int warc_write(warc_writer *w, const warc_exchange *x)
{
    if (w->err)
        return w->err;
    if (w->max_size > 0 && w->size >= w->max_size) {
        w->index++;
        int rc = open_next(w);
        if (rc < 0)
            return w->err = rc;
    }
    char date[32], req_id[48], resp_id[48];
    warc_date(x->when_us, date);
    uuid_urn(req_id);
    uuid_urn(resp_id);
    char ipline[128] = "";
    if (x->ip && *x->ip)
        snprintf(ipline, sizeof ipline, "WARC-IP-Address: %s\r\n", x->ip);

    size_t hl;
    char *head = fix_head(x->resp_head, x->resp_head_len, &hl);
    if (!head)
        return w->err = -ENOMEM;
    unsigned char d[20];
    char block_digest[40], payload_digest[40];
    part body = {x->body, x->body_len, x->body_fd};
    if (sha1_part(NULL, 0, &body, d) < 0) {
        free(head);
        return w->err = -EIO;
    }
    label(d, payload_digest);

    /* revisit: identical payload already archived */
    dedup_entry *prior = NULL;
    size_t b = 0;
    if (w->dedup) {
        for (size_t i = 5; payload_digest[i]; i++)
            b = b * 31 + (unsigned char)payload_digest[i];
        b %= w->nbuckets;
        for (dedup_entry *e = w->buckets[b]; e; e = e->next)
            if (strcmp(e->digest, payload_digest) == 0)
                prior = e;
    }
    /* Record headers are built in a growable buffer: the URIs in them (this
     * one, and a revisit's prior one) can be as long as a server makes them. */
    sbuf rh = SBUF_INIT;
    int rc = 0;
    if (prior) {
        sha1(head, hl, NULL, 0, d);
        label(d, block_digest);
        sbuf_printf(&rh,
                    "WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\nWARC-Target-URI: %s\r\n"
                    "%sWARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n"
                    "WARC-Refers-To-Target-URI: %s\r\nWARC-Refers-To-Date: %s\r\n"
                    "WARC-Block-Digest: %s\r\nWARC-Payload-Digest: %s\r\n"
                    "Content-Type: application/http; msgtype=response\r\nContent-Length: %zu\r\n\r\n",
                    resp_id, date, x->url, ipline, prior->uri, prior->date, block_digest, payload_digest, hl);
        rc = sbuf_failed(&rh) ? -ENOMEM : put_record(w, rh.p, rh.len, head, hl, NULL, 0);
    } else {
        if (sha1_part(head, hl, &body, d) < 0) {
            sbuf_free(&rh);
            free(head);
            return w->err = -EIO;
        }
        label(d, block_digest);
        sbuf_printf(&rh,
                    "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\nWARC-Target-URI: %s\r\n"
                    "%sWARC-Block-Digest: %s\r\nWARC-Payload-Digest: %s\r\n"
                    "Content-Type: application/http; msgtype=response\r\nContent-Length: %zu\r\n\r\n",
                    resp_id, date, x->url, ipline, block_digest, payload_digest, hl + x->body_len);
        part hp = {head, hl, -1};
        rc = sbuf_failed(&rh) ? -ENOMEM : put_record_parts(w, rh.p, rh.len, &hp, &body);
        if (rc == 0 && w->dedup) {
            dedup_entry *e = calloc(1, sizeof *e);
            if (e) {
                memcpy(e->digest, payload_digest, sizeof e->digest);
                e->uri = strdup(x->url);
                memcpy(e->date, date, sizeof e->date);
                e->next = w->buckets[b];
                w->buckets[b] = e;
            }
        }
    }
    /* the request, concurrent to the response */
    if (rc == 0 && x->req_head && x->req_len) {
        sha1(x->req_head, x->req_len, NULL, 0, d);
        label(d, block_digest);
        sbuf_reset(&rh);
        sbuf_printf(&rh,
                    "WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: %s\r\nWARC-Date: %s\r\nWARC-Target-URI: %s\r\n"
                    "%sWARC-Concurrent-To: %s\r\nWARC-Block-Digest: %s\r\n"
                    "Content-Type: application/http; msgtype=request\r\nContent-Length: %zu\r\n\r\n",
                    req_id, date, x->url, ipline, resp_id, block_digest, x->req_len);
        rc = sbuf_failed(&rh) ? -ENOMEM : put_record(w, rh.p, rh.len, x->req_head, x->req_len, NULL, 0);
    }
    sbuf_free(&rh);
    free(head);
    return rc;
}

int warc_close(warc_writer *w)
{
    if (!w)
        return 0;
    int err = w->err;
    if (w->f && fclose(w->f) != 0 && !err)
        err = -(errno ? errno : EIO);
    for (size_t i = 0; w->buckets && i < w->nbuckets; i++)
        for (dedup_entry *e = w->buckets[i], *n; e; e = n) {
            n = e->next;
            free(e->uri);
            free(e);
        }
    free(w->buckets);
    free(w->name);
    free(w->software);
    free(w);
    return err;
}
