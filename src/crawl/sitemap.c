/* sitemap: see sitemap.h. */
#include "sitemap.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int gunzip(const char *in, size_t len, size_t max, char **out, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) /* gzip or zlib header */
        return -ENOMEM;
    size_t cap = len * 4 + 4096, n = 0;
    if (cap > max)
        cap = max;
    char *buf = malloc(cap + 1);
    int rc = 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                rc = -EFBIG;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
        }
        zs.next_out = (Bytef *)buf + n;
        zs.avail_out = (uInt)(cap - n);
        int z = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
        if (z == Z_STREAM_END)
            break;
        if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = -EINVAL;
            break;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = -EINVAL; /* truncated */
            break;
        }
    }
    inflateEnd(&zs);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *outlen = n;
    return 0;
}

static bool named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static int add_loc(sitemap_result *r, const xmlNode *entry)
{
    for (const xmlNode *c = entry->children; c; c = c->next) {
        if (!named(c, "loc"))
            continue;
        xmlChar *t = xmlNodeGetContent(c);
        if (!t)
            continue;
        const char *s = (const char *)t;
        while (isspace((unsigned char)*s))
            s++;
        size_t l = strlen(s);
        while (l && isspace((unsigned char)s[l - 1]))
            l--;
        if (l) {
            char **nl = realloc(r->locs, (r->n + 1) * sizeof *nl);
            if (!nl) {
                xmlFree(t);
                return -ENOMEM;
            }
            r->locs = nl;
            r->locs[r->n++] = strndup(s, l);
        }
        xmlFree(t);
        return 0;
    }
    return 0;
}

int sitemap_parse(const char *data, size_t len, size_t max, sitemap_result *r)
{
    memset(r, 0, sizeof *r);
    char *plain = NULL;
    if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b) {
        size_t n;
        int rc = gunzip(data, len, max, &plain, &n);
        if (rc < 0)
            return rc;
        data = plain;
        len = n;
    } else if (len > max) {
        return -EFBIG;
    }
    xmlDocPtr doc = xmlReadMemory(data, (int)len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    free(plain);
    if (!doc)
        return -EINVAL;
    xmlNode *root = xmlDocGetRootElement(doc);
    int rc = 0;
    if (root && named(root, "sitemapindex")) {
        r->index = true;
        for (xmlNode *c = root->children; c && rc == 0; c = c->next)
            if (named(c, "sitemap"))
                rc = add_loc(r, c);
    } else if (root && named(root, "urlset")) {
        for (xmlNode *c = root->children; c && rc == 0; c = c->next)
            if (named(c, "url"))
                rc = add_loc(r, c);
    } else {
        rc = -EINVAL;
    }
    xmlFreeDoc(doc);
    if (rc < 0)
        sitemap_result_free(r);
    return rc;
}

void sitemap_result_free(sitemap_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->locs[i]);
    free(r->locs);
    memset(r, 0, sizeof *r);
}
