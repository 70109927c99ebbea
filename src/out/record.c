/* record: see record.h. */
#include "record.h"
#include "errkind.h"
#include "net/url.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    K_URL,
    K_FINAL_URL,
    K_STATUS,
    K_ERROR,
    K_INPUT,
    K_INPUT_LINE,
    K_INPUT_FILE,
    K_LOCATION,
    K_CONTENT_TYPE,
    K_BYTES,
    K_CONTENT_LENGTH,
    K_ETAG,
    K_LAST_MODIFIED,
    K_NOT_MODIFIED,
    K_SKIPPED,
    K_TRUNCATED,
    K_ELAPSED,
    K_TIMINGS,
    K_REDIRECTS,
    K_ATTEMPTS,
    K_REMOTE_IP,
    K_HTTP_VERSION,
    K_SITEMAP,
    K_DEPTH,
    K_PARENT,
    K_LINKS,
    K_SAVED,
    K_SAVE_ERROR,
    K_N
};

static const struct {
    const char *name;
    unsigned group; /* 0 = always present */
} keys[K_N] = {
    {"url", 0},
    {"final_url", 0},
    {"status", 0},
    {"error", 0},
    {"input", REC_INPUT},
    {"input_line", REC_INPUT_LINE},
    {"input_file", REC_INPUT_FILE},
    {"location", REC_BODY},
    {"content_type", REC_BODY},
    {"bytes", REC_BODY},
    {"content_length", REC_BODY},
    {"etag", REC_BODY},
    {"last_modified", REC_BODY},
    {"not_modified", REC_NOT_MODIFIED},
    {"skipped", REC_SKIPPED},
    {"truncated", REC_EXCHANGE},
    {"elapsed_ms", REC_EXCHANGE},
    {"timings", REC_EXCHANGE},
    {"redirects", REC_EXCHANGE},
    {"attempts", REC_EXCHANGE},
    {"remote_ip", REC_EXCHANGE},
    {"http_version", REC_EXCHANGE},
    {"sitemap", REC_SITEMAP},
    {"depth", REC_PAGE},
    {"parent", REC_PAGE},
    {"links_found", REC_LINKS},
    {"saved_path", REC_SAVED},
    {"save_error", REC_SAVE_ERROR},
};

const char *record_key(size_t i) { return i < K_N ? keys[i].name : NULL; }

static const char *const timing_names[5] = {"dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"};

/* The tree kept for one shape. val[k] is the node now under key k (owned by
 * obj; NULL when the shape has no such key). */
typedef struct shape {
    json_t *obj;
    json_t *val[K_N];
    json_t *err;         /* {kind, message}, kept while "error" shows null */
    json_t *err_val[2];  /* its values */
    json_t *timing[5];
} shape;

struct record_fmt {
    shape *shapes[REC_NSHAPES];
    char *buf;
    size_t cap;
};

/* ---- records ---------------------------------------------------------------------- */

int record_set(char **dst, const char *s)
{
    char *c = NULL;
    if (s && !(c = strdup(s)))
        return -ENOMEM;
    free(*dst);
    *dst = c;
    return 0;
}

int record_add_hop(record *r, const char *url, long status)
{
    if (r->nhops == r->hops_cap) {
        size_t cap = r->hops_cap ? 2 * r->hops_cap : 4;
        rec_hop *h = realloc(r->hops, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        r->hops = h;
        r->hops_cap = cap;
    }
    char *u = strdup(url);
    if (!u)
        return -ENOMEM;
    r->hops[r->nhops++] = (rec_hop){u, status};
    return 0;
}

void record_clear(record *r)
{
    free(r->url);
    free(r->final_url);
    free(r->err_msg);
    free(r->input);
    free(r->content_type);
    free(r->etag);
    free(r->last_modified);
    free(r->location);
    free(r->input_file);
    for (size_t i = 0; i < r->nhops; i++)
        free(r->hops[i].url);
    free(r->hops);
    free(r->remote_ip);
    free(r->parent);
    free(r->saved_path);
    free(r->save_error);
    memset(r, 0, sizeof *r);
}

/* ---- serialization ---------------------------------------------------------------- */

/* s with every byte >= 0x80 percent-encoded (for strings that are not UTF-8). */
static char *ascii_copy(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *b = malloc(3 * n + 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            b[k++] = (char)c;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            b[k++] = '%';
            b[k++] = hex[c >> 4];
            b[k++] = hex[c & 15];
        }
    }
    b[k] = 0;
    return b;
}

/* Put n (a new reference; NULL: out of memory) under key in obj and
 * remember it as the key's current value *slot. */
static int put_node(json_t *obj, const char *key, json_t **slot, json_t *n)
{
    if (!n || json_object_set_new(obj, key, n) < 0)
        return -ENOMEM;
    *slot = n;
    return 0;
}

static int put_null(json_t *obj, const char *key, json_t **slot)
{
    return json_is_null(*slot) ? 0 : put_node(obj, key, slot, json_null());
}

/* Show string v (NULL = null) under key in obj, whose current value is *slot. */
static int put_str(json_t *obj, const char *key, json_t **slot, const char *v)
{
    if (!v)
        return put_null(obj, key, slot);
    if (json_is_string(*slot) && json_string_set(*slot, v) == 0)
        return 0;
    json_t *n = json_string(v);
    if (!n) { /* not UTF-8 (or out of memory) */
        char *a = ascii_copy(v);
        n = a ? json_string(a) : NULL;
        free(a);
    }
    return put_node(obj, key, slot, n);
}

/* put_str for text that may hold a URL: passwords in URLs never reach a
 * record ("user:***@"). */
static int put_text(json_t *obj, const char *key, json_t **slot, const char *v)
{
    int oom;
    char *r = url_redact(v, &oom);
    if (oom)
        return -ENOMEM;
    int rc = put_str(obj, key, slot, r ? r : v);
    free(r);
    return rc;
}

/* Show integer v under key, or null when is_null. */
static int put_int(json_t *obj, const char *key, json_t **slot, json_int_t v, bool is_null)
{
    if (is_null)
        return put_null(obj, key, slot);
    if (json_is_integer(*slot))
        return json_integer_set(*slot, v) == 0 ? 0 : -ENOMEM;
    return put_node(obj, key, slot, json_integer(v));
}

static int put_bool(json_t *obj, const char *key, json_t **slot, bool v)
{
    if (json_is_boolean(*slot) && json_is_true(*slot) == v)
        return 0;
    return put_node(obj, key, slot, json_boolean(v));
}

/* Times are shown to a tenth of a millisecond. */
static double tenth(double v) { return (double)(long long)(v * 10 + 0.5) / 10; }

static void shape_free(shape *s)
{
    if (!s)
        return;
    json_decref(s->obj);
    json_decref(s->err);
    free(s);
}

static shape *shape_new(unsigned fields)
{
    shape *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->obj = json_object();
    s->err = json_object();
    bool ok = s->obj && s->err;
    for (int i = 0; i < 2 && ok; i++) {
        s->err_val[i] = json_null();
        ok = json_object_set(s->err, i ? "message" : "kind", json_null()) == 0;
    }
    for (int k = 0; k < K_N && ok; k++) {
        if (keys[k].group && !(fields & keys[k].group))
            continue;
        json_t *v = json_null();
        if (k == K_TIMINGS) {
            v = json_object();
            for (int t = 0; t < 5 && v; t++) {
                s->timing[t] = json_real(0);
                if (!s->timing[t] || json_object_set_new(v, timing_names[t], s->timing[t]) < 0) {
                    json_decref(v);
                    v = NULL;
                }
            }
        } else if (k == K_REDIRECTS) {
            v = json_array();
        } else if (k == K_ELAPSED) {
            v = json_real(0);
        }
        ok = v && json_object_set_new(s->obj, keys[k].name, v) == 0;
        if (ok)
            s->val[k] = v;
    }
    if (!ok) {
        shape_free(s);
        return NULL;
    }
    return s;
}

static int fill(shape *s, const record *r)
{
    json_t *o = s->obj;
    json_t **v = s->val;
    int rc = 0;
    rc |= put_text(o, "url", &v[K_URL], r->url);
    rc |= put_text(o, "final_url", &v[K_FINAL_URL], r->final_url);
    rc |= put_int(o, "status", &v[K_STATUS], r->status, r->status == 0);
    if (r->err_kind) { /* the shape's own {kind, message} object, shown again */
        if (v[K_ERROR] != s->err)
            rc |= put_node(o, "error", &v[K_ERROR], json_incref(s->err));
        /* Spelled by the errkind table; a kind missing from it is a bug, shown as internal. */
        const char *kind = errkind_lookup(r->err_kind);
        rc |= put_str(s->err, "kind", &s->err_val[0], kind ? kind : errkind_name(ERRKIND_internal));
        rc |= put_text(s->err, "message", &s->err_val[1], r->err_msg);
    } else {
        rc |= put_null(o, "error", &v[K_ERROR]);
    }
    if (v[K_INPUT])
        rc |= put_text(o, "input", &v[K_INPUT], r->input);
    if (v[K_INPUT_LINE])
        rc |= put_int(o, "input_line", &v[K_INPUT_LINE], r->input_line, false);
    if (v[K_INPUT_FILE])
        rc |= put_text(o, "input_file", &v[K_INPUT_FILE], r->input_file);
    if (v[K_CONTENT_TYPE]) {
        rc |= put_text(o, "location", &v[K_LOCATION], r->location);
        rc |= put_str(o, "content_type", &v[K_CONTENT_TYPE], r->content_type);
        rc |= put_int(o, "bytes", &v[K_BYTES], r->bytes, false);
        rc |= put_int(o, "content_length", &v[K_CONTENT_LENGTH], r->content_length, r->content_length < 0);
        rc |= put_str(o, "etag", &v[K_ETAG], r->etag);
        rc |= put_str(o, "last_modified", &v[K_LAST_MODIFIED], r->last_modified);
    }
    if (v[K_NOT_MODIFIED])
        rc |= put_bool(o, "not_modified", &v[K_NOT_MODIFIED], true);
    if (v[K_SKIPPED])
        rc |= put_str(o, "skipped", &v[K_SKIPPED], r->skipped);
    if (v[K_TRUNCATED]) {
        rc |= put_bool(o, "truncated", &v[K_TRUNCATED], r->truncated);
        json_real_set(v[K_ELAPSED], tenth(r->elapsed_ms));
        const double t[5] = {r->dns_ms, r->connect_ms, r->tls_ms, r->first_byte_ms, r->total_ms};
        for (int i = 0; i < 5; i++)
            json_real_set(s->timing[i], tenth(t[i]));
        json_t *hops = v[K_REDIRECTS];
        json_array_clear(hops);
        for (size_t i = 0; i < r->nhops && rc == 0; i++) {
            json_t *h = json_object();
            json_t *u = h ? json_null() : NULL;
            json_t *st = NULL;
            if (!h || put_text(h, "url", &u, r->hops[i].url) < 0 || put_int(h, "status", &st, r->hops[i].status, false) < 0 ||
                json_array_append_new(hops, h) < 0)
                rc = -ENOMEM;
        }
        rc |= put_int(o, "attempts", &v[K_ATTEMPTS], r->attempts, false);
        rc |= put_str(o, "remote_ip", &v[K_REMOTE_IP], r->remote_ip && *r->remote_ip ? r->remote_ip : NULL);
        rc |= put_str(o, "http_version", &v[K_HTTP_VERSION], r->http_version);
    }
    if (v[K_SITEMAP])
        rc |= put_bool(o, "sitemap", &v[K_SITEMAP], true);
    if (v[K_DEPTH]) {
        rc |= put_int(o, "depth", &v[K_DEPTH], r->depth, false);
        rc |= put_text(o, "parent", &v[K_PARENT], r->parent);
    }
    if (v[K_LINKS])
        rc |= put_int(o, "links_found", &v[K_LINKS], r->links_found, false);
    if (v[K_SAVED])
        rc |= put_str(o, "saved_path", &v[K_SAVED], r->saved_path);
    if (v[K_SAVE_ERROR])
        rc |= put_str(o, "save_error", &v[K_SAVE_ERROR], r->save_error);
    return rc ? -ENOMEM : 0;
}

int record_fmt_new(record_fmt **out)
{
    record_fmt *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->cap = 1024;
    f->buf = malloc(f->cap);
    if (!f->buf) {
        free(f);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

void record_fmt_free(record_fmt *f)
{
    if (!f)
        return;
    for (int i = 0; i < REC_NSHAPES; i++)
        shape_free(f->shapes[i]);
    free(f->buf);
    free(f);
}

int record_format(record_fmt *f, const record *r, const char **line, size_t *len)
{
    unsigned fields = r->fields & (REC_NSHAPES - 1);
    shape *s = f->shapes[fields];
    if (!s && !(s = f->shapes[fields] = shape_new(fields)))
        return -ENOMEM;
    if (fill(s, r) < 0) {
        /* a half-updated tree is still a valid tree: it is rebuilt next time */
        shape_free(s);
        f->shapes[fields] = NULL;
        return -ENOMEM;
    }
    const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(10);
    for (;;) {
        size_t n = json_dumpb(s->obj, f->buf, f->cap - 1, flags);
        if (n == 0)
            return -ENOMEM;
        if (n < f->cap) {
            f->buf[n] = '\n';
            *line = f->buf;
            *len = n + 1;
            return 0;
        }
        char *b = realloc(f->buf, n + 256);
        if (!b)
            return -ENOMEM;
        f->buf = b;
        f->cap = n + 256;
    }
}
