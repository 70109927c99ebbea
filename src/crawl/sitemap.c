/* sitemap: see sitemap.h. */
#include "sitemap.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* The byte stream libxml2 pulls: raw bytes from memory or a file, inflated
 * when they start with a gzip header, counted against the size limit. */
typedef struct stream {
    const sitemap_src *src;
    size_t raw_off;
    bool gz, gz_checked, gz_end;
    z_stream zs;
    unsigned char in[65536];
    size_t out_total, max;
    int err; /* sticky: -EFBIG, -EIO, -EINVAL */
} stream;

static ssize_t raw_read(stream *s, void *buf, size_t n)
{
    const sitemap_src *src = s->src;
    size_t left = src->len > s->raw_off ? src->len - s->raw_off : 0;
    if (n > left)
        n = left;
    if (!n)
        return 0;
    if (src->fd < 0) {
        memcpy(buf, src->data + s->raw_off, n);
    } else {
        ssize_t r;
        do
            r = pread(src->fd, buf, n, (off_t)s->raw_off);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
            return -1;
        n = (size_t)r;
    }
    s->raw_off += n;
    return (ssize_t)n;
}

static int xml_read(void *ctx, char *buf, int len)
{
    stream *s = ctx;
    if (s->err || len <= 0)
        return s->err ? -1 : 0;
    if (!s->gz_checked) {
        s->gz_checked = true;
        const unsigned char *p = s->src->fd < 0 ? (const unsigned char *)s->src->data : NULL;
        unsigned char head[2] = {0, 0};
        if (!p && s->src->len >= 2 && pread(s->src->fd, head, 2, 0) == 2)
            p = head;
        if (p && s->src->len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
            s->gz = true;
            if (inflateInit2(&s->zs, 15 + 32) != Z_OK) {
                s->err = -ENOMEM;
                return -1;
            }
        }
    }
    size_t room = s->max + 1 - s->out_total; /* one byte past the limit tells "too big" */
    size_t want = (size_t)len < room ? (size_t)len : room;
    ssize_t got = 0;
    if (!s->gz) {
        got = raw_read(s, buf, want);
    } else if (!s->gz_end) {
        s->zs.next_out = (Bytef *)buf;
        s->zs.avail_out = (uInt)want;
        while (s->zs.avail_out == want) {
            if (s->zs.avail_in == 0) {
                ssize_t r = raw_read(s, s->in, sizeof s->in);
                if (r < 0) {
                    s->err = -EIO;
                    return -1;
                }
                if (r == 0) {
                    s->err = -EINVAL; /* truncated gzip */
                    return -1;
                }
                s->zs.next_in = s->in;
                s->zs.avail_in = (uInt)r;
            }
            int z = inflate(&s->zs, Z_NO_FLUSH);
            if (z == Z_STREAM_END) {
                s->gz_end = true;
                break;
            }
            if (z != Z_OK && z != Z_BUF_ERROR) {
                s->err = -EINVAL;
                return -1;
            }
        }
        got = (ssize_t)(want - s->zs.avail_out);
    }
    if (got < 0) {
        s->err = -EIO;
        return -1;
    }
    s->out_total += (size_t)got;
    if (s->out_total > s->max) {
        s->err = -EFBIG;
        return -1;
    }
    return (int)got;
}

static int xml_close(void *ctx)
{
    (void)ctx;
    return 0;
}

/* libxml2's reader reports errors through its own handler even with
 * XML_PARSE_NOERROR: a hostile sitemap must not write to our stderr. */
static void quiet(void *arg, const char *msg, xmlParserSeverities sev, xmlTextReaderLocatorPtr loc)
{
    (void)arg;
    (void)msg;
    (void)sev;
    (void)loc;
}

static int add_loc(sitemap_result *r, const char *t)
{
    while (isspace((unsigned char)*t))
        t++;
    size_t l = strlen(t);
    while (l && isspace((unsigned char)t[l - 1]))
        l--;
    if (!l)
        return 0;
    if (r->n == 0 || (r->n >= 16 && (r->n & (r->n - 1)) == 0)) { /* capacity 16, 32, 64, ... */
        char **nl = realloc(r->locs, (r->n ? r->n * 2 : 16) * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        r->locs = nl;
    }
    if (!(r->locs[r->n] = strndup(t, l)))
        return -ENOMEM;
    r->n++;
    return 0;
}

static bool is(const xmlChar *name, const char *want)
{
    return name && strcmp((const char *)name, want) == 0;
}

int sitemap_read(const sitemap_src *src, size_t max, sitemap_result *r)
{
    memset(r, 0, sizeof *r);
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->src = src;
    s->max = max;
    xmlTextReaderPtr rd = xmlReaderForIO(xml_read, xml_close, s, NULL, NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                             XML_PARSE_NOCDATA);
    if (!rd) {
        free(s);
        return -ENOMEM;
    }
    xmlTextReaderSetErrorHandler(rd, quiet, NULL);
    int rc = 0, ret;
    bool in_entry = false;
    const char *entry = NULL;
    while ((ret = xmlTextReaderRead(rd)) == 1) {
        int type = xmlTextReaderNodeType(rd), depth = xmlTextReaderDepth(rd);
        const xmlChar *name = xmlTextReaderConstLocalName(rd);
        if (type != XML_READER_TYPE_ELEMENT) {
            if (type == XML_READER_TYPE_END_ELEMENT && depth == 1)
                in_entry = false;
            continue;
        }
        if (depth == 0) {
            if (is(name, "sitemapindex")) {
                r->index = true;
                entry = "sitemap";
            } else if (is(name, "urlset")) {
                entry = "url";
            } else {
                rc = -EINVAL;
                break;
            }
        } else if (depth == 1) {
            in_entry = is(name, entry);
        } else if (depth == 2 && in_entry && is(name, "loc")) {
            in_entry = false; /* the first <loc> of an entry counts */
            xmlChar *t = xmlTextReaderReadString(rd);
            if (t) {
                rc = add_loc(r, (const char *)t);
                xmlFree(t);
            }
            if (rc < 0)
                break;
            if (r->n >= SITEMAP_MAX_URLS) {
                r->truncated = true;
                break;
            }
        }
    }
    if (rc == 0 && ret < 0 && !r->truncated)
        rc = s->err ? s->err : -EINVAL;
    if (rc == 0 && !entry)
        rc = -EINVAL;
    xmlFreeTextReader(rd);
    if (s->gz)
        inflateEnd(&s->zs);
    free(s);
    if (rc < 0)
        sitemap_result_free(r);
    return rc;
}

int sitemap_parse(const char *data, size_t len, size_t max, sitemap_result *out)
{
    sitemap_src src = {data, len, -1};
    return sitemap_read(&src, max, out);
}

void sitemap_result_free(sitemap_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->locs[i]);
    free(r->locs);
    memset(r, 0, sizeof *r);
}
