/* recsel: see recsel.h. */
#include "recsel.h"
#include "record.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"

typedef struct range {
    long lo, hi;
} range;

typedef struct ranges {
    range *v;
    size_t n;
} ranges;

/* A --write-out piece: literal text, or a variable. */
enum { W_TEXT,
       W_FIELD,
       W_CODE,
       W_SECONDS,
       W_COUNT,
       W_JSON };

typedef struct wpiece {
    int kind;
    char *text; /* W_TEXT: the text; else the record path */
} wpiece;

struct recsel {
    recsel_format format;
    char **fields; /* paths; NULL with nfields 0: every key (JSON) */
    size_t nfields;
    wpiece *w;
    size_t nw;
    bool write_out;
    ranges match, filter;
    char *header;
    sbuf out;
};

static const char *const default_columns =
    "url,final_url,status,error.kind,error.message,content_type,bytes,elapsed_ms,attempts,remote_ip";

static int add(sbuf *b, const char *t, size_t n) { return sbuf_add(b, t, n) ? 0 : -ENOMEM; }

/* ---- status lists ---- */

static int parse_ranges(const char *opt, const char *list, ranges *r, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *e = p + strcspn(p, ",");
        char item[32];
        size_t n = (size_t)(e - p);
        if (n == 0 || n >= sizeof item)
            goto bad;
        memcpy(item, p, n);
        item[n] = 0;
        range x;
        char *end;
        if (n == 3 && isdigit((unsigned char)item[0]) && (item[1] == 'x' || item[1] == 'X') &&
            (item[2] == 'x' || item[2] == 'X')) {
            x.lo = (item[0] - '0') * 100;
            x.hi = x.lo + 99;
        } else {
            x.lo = strtol(item, &end, 10);
            if (end == item || x.lo < 0 || x.lo > 999)
                goto bad;
            x.hi = x.lo;
            if (*end == '-') {
                const char *h = end + 1;
                x.hi = strtol(h, &end, 10);
                if (end == h || x.hi < x.lo || x.hi > 999)
                    goto bad;
            }
            if (*end)
                goto bad;
        }
        range *v = realloc(r->v, (r->n + 1) * sizeof *v);
        if (!v)
            return -ENOMEM;
        r->v = v;
        r->v[r->n++] = x;
        p = *e ? e + 1 : e;
        continue;
    bad:
        snprintf(err, errlen, "%s '%s': expected status codes and ranges such as 200,301-399,5xx (0: no response)",
                 opt, list);
        return -EINVAL;
    }
    return 0;
}

static bool in_ranges(const ranges *r, long status)
{
    for (size_t i = 0; i < r->n; i++)
        if (status >= r->v[i].lo && status <= r->v[i].hi)
            return true;
    return false;
}

/* ---- fields ---- */

/* Is path a record key (its first segment one of the record's keys)? */
static bool known_path(const char *path)
{
    size_t n = strcspn(path, ".");
    for (size_t i = 0;; i++) {
        const char *k = record_key(i);
        if (!k)
            return false;
        if (strlen(k) == n && strncmp(k, path, n) == 0)
            return true;
    }
}

static int known_list(char *buf, size_t len)
{
    size_t used = 0;
    for (size_t i = 0; record_key(i); i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", record_key(i));
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    return 0;
}

static int parse_fields(recsel *s, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (*p) {
        const char *e = p + strcspn(p, ",");
        size_t n = (size_t)(e - p);
        char *f = n ? strndup(p, n) : NULL;
        if (n && !f)
            return -ENOMEM;
        if (!f || !known_path(f)) {
            char known[512];
            known_list(known, sizeof known);
            snprintf(err, errlen, "--fields: unknown field '%.*s' (fields: %s)", (int)n, p, known);
            free(f);
            return -EINVAL;
        }
        char **v = realloc(s->fields, (s->nfields + 1) * sizeof *v);
        if (!v) {
            free(f);
            return -ENOMEM;
        }
        s->fields = v;
        s->fields[s->nfields++] = f;
        p = *e ? e + 1 : e;
    }
    return 0;
}

/* The value at a dotted path of a record, or NULL. */
static json_t *at(json_t *rec, const char *path)
{
    json_t *v = rec;
    const char *p = path;
    while (v && *p) {
        size_t n = strcspn(p, ".");
        char key[64];
        if (n >= sizeof key || !json_is_object(v))
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        v = json_object_get(v, key);
        p += n;
        if (*p == '.')
            p++;
    }
    return v;
}

/* ---- --write-out ---- */

static const struct {
    const char *name;
    int kind;
    const char *path;
} wvars[] = {
    {"http_code", W_CODE, "status"},
    {"response_code", W_CODE, "status"},
    {"url_effective", W_FIELD, "final_url"},
    {"url", W_FIELD, "url"},
    {"content_type", W_FIELD, "content_type"},
    {"size_download", W_FIELD, "bytes"},
    {"remote_ip", W_FIELD, "remote_ip"},
    {"http_version", W_FIELD, "http_version"},
    {"errormsg", W_FIELD, "error.message"},
    {"num_redirects", W_COUNT, "redirects"},
    {"time_total", W_SECONDS, "elapsed_ms"},
    {"time_namelookup", W_SECONDS, "timings.dns_ms"},
    {"time_connect", W_SECONDS, "timings.connect_ms"},
    {"time_appconnect", W_SECONDS, "timings.tls_ms"},
    {"time_starttransfer", W_SECONDS, "timings.first_byte_ms"},
    {"json", W_JSON, NULL},
};

static int add_piece(recsel *s, int kind, const char *text, size_t n)
{
    wpiece *v = realloc(s->w, (s->nw + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    s->w = v;
    char *t = strndup(text ? text : "", text ? n : 0);
    if (!t)
        return -ENOMEM;
    s->w[s->nw++] = (wpiece){kind, t};
    return 0;
}

static int parse_write_out(recsel *s, const char *f, char *err, size_t errlen)
{
    sbuf lit = SBUF_INIT;
    int rc = 0;
    for (const char *p = f; *p && rc == 0;) {
        if (p[0] == '%' && p[1] == '{') {
            const char *e = strchr(p + 2, '}');
            if (!e) {
                snprintf(err, errlen, "--write-out: '%%{' without a closing '}'");
                rc = -EINVAL;
                break;
            }
            if (lit.len)
                rc = add_piece(s, W_TEXT, sbuf_str(&lit), lit.len);
            sbuf_reset(&lit);
            size_t n = (size_t)(e - p - 2);
            int kind = -1;
            const char *path = NULL;
            for (size_t i = 0; i < sizeof wvars / sizeof wvars[0]; i++)
                if (strlen(wvars[i].name) == n && strncmp(wvars[i].name, p + 2, n) == 0) {
                    kind = wvars[i].kind;
                    path = wvars[i].path;
                    break;
                }
            char name[128];
            if (kind < 0 && n < sizeof name) { /* any record field by its name */
                memcpy(name, p + 2, n);
                name[n] = 0;
                if (known_path(name)) {
                    kind = W_FIELD;
                    path = name;
                }
            }
            if (kind < 0) {
                snprintf(err, errlen,
                         "--write-out: unknown variable '%%{%.*s}' (curl's http_code, url_effective, url, "
                         "content_type, size_download, time_total, time_namelookup, time_connect, time_appconnect, "
                         "time_starttransfer, num_redirects, remote_ip, http_version, errormsg, json; or a record "
                         "field such as error.kind)",
                         (int)n, p + 2);
                rc = -EINVAL;
                break;
            }
            if (rc == 0)
                rc = add_piece(s, kind, path, path ? strlen(path) : 0);
            p = e + 1;
        } else if (p[0] == '%' && p[1] == '%') {
            rc = add(&lit, "%", 1);
            p += 2;
        } else if (p[0] == '\\' && (p[1] == 'n' || p[1] == 't' || p[1] == 'r' || p[1] == '\\')) {
            char c = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t'
                                      : p[1] == 'r'   ? '\r'
                                                      : '\\';
            rc = add(&lit, &c, 1);
            p += 2;
        } else {
            rc = add(&lit, p, 1);
            p++;
        }
    }
    if (rc == 0 && lit.len)
        rc = add_piece(s, W_TEXT, sbuf_str(&lit), lit.len);
    sbuf_free(&lit);
    return rc;
}

/* ---- values ---- */

enum { ESC_NONE,
       ESC_CSV,
       ESC_TSV };

static int put_text(sbuf *b, const char *t, size_t n, int esc)
{
    if (esc == ESC_NONE)
        return add(b, t, n);
    if (esc == ESC_CSV) {
        bool quote = n && (strpbrk(t, ",\"\r\n") != NULL || t[0] == ' ' || t[n - 1] == ' ');
        if (!quote)
            return add(b, t, n);
        int rc = add(b, "\"", 1);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = t[i] == '"' ? add(b, "\"\"", 2) : add(b, t + i, 1);
        return rc ? rc : add(b, "\"", 1);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        switch (t[i]) {
        case '\t': rc = add(b, "\\t", 2); break;
        case '\n': rc = add(b, "\\n", 2); break;
        case '\r': rc = add(b, "\\r", 2); break;
        case '\\': rc = add(b, "\\\\", 2); break;
        default: rc = add(b, t + i, 1);
        }
    }
    return rc;
}

/* A value as text: strings raw, numbers and booleans as JSON writes them,
 * null empty, objects and arrays as compact JSON. */
static int put_value(sbuf *b, json_t *v, int esc)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return put_text(b, json_string_value(v), json_string_length(v), esc);
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
    if (!d)
        return -ENOMEM;
    int rc = put_text(b, d, strlen(d), esc);
    free(d);
    return rc;
}

static int put_seconds(sbuf *b, json_t *v)
{
    if (!json_is_number(v))
        return 0;
    char t[64];
    int n = snprintf(t, sizeof t, "%.6f", json_number_value(v) / 1000.0);
    return add(b, t, (size_t)n);
}

/* ---- the module ---- */

int recsel_new(const recsel_opts *o, recsel **out, char *err, size_t errlen)
{
    *out = NULL;
    if (o->format == RECSEL_JSONL && !o->fields && !o->write_out && !o->match_status && !o->filter_status)
        return 0;
    recsel *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->out = (sbuf)SBUF_INIT;
    s->format = o->format;
    int rc = 0;
    if (o->write_out && o->format != RECSEL_JSONL) {
        snprintf(err, errlen, "--write-out and --format %s: choose one", o->format == RECSEL_CSV ? "csv" : "tsv");
        rc = -EINVAL;
    }
    if (rc == 0 && o->fields && o->write_out) {
        snprintf(err, errlen, "--write-out and --fields: choose one (--write-out names its fields)");
        rc = -EINVAL;
    }
    if (rc == 0 && (o->fields || o->format != RECSEL_JSONL))
        rc = parse_fields(s, o->fields ? o->fields : default_columns, err, errlen);
    if (rc == 0 && o->write_out) {
        s->write_out = true;
        rc = parse_write_out(s, o->write_out, err, errlen);
    }
    if (rc == 0 && o->match_status)
        rc = parse_ranges("--match-status", o->match_status, &s->match, err, errlen);
    if (rc == 0 && o->filter_status)
        rc = parse_ranges("--filter-status", o->filter_status, &s->filter, err, errlen);
    if (rc == 0 && s->format != RECSEL_JSONL) {
        sbuf h = SBUF_INIT;
        for (size_t i = 0; i < s->nfields && rc == 0; i++) {
            if (i)
                rc = add(&h, s->format == RECSEL_CSV ? "," : "\t", 1);
            if (rc == 0)
                rc = put_text(&h, s->fields[i], strlen(s->fields[i]), s->format == RECSEL_CSV ? ESC_CSV : ESC_TSV);
        }
        if (rc == 0)
            rc = s->format == RECSEL_CSV ? add(&h, "\r\n", 2) : add(&h, "\n", 1);
        s->header = rc == 0 ? sbuf_take(&h) : NULL;
        if (rc == 0 && !s->header)
            rc = -ENOMEM;
        sbuf_free(&h);
    }
    if (rc < 0) {
        if (rc == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        recsel_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void recsel_free(recsel *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfields; i++)
        free(s->fields[i]);
    free(s->fields);
    for (size_t i = 0; i < s->nw; i++)
        free(s->w[i].text);
    free(s->w);
    free(s->match.v);
    free(s->filter.v);
    free(s->header);
    sbuf_free(&s->out);
    free(s);
}

const char *recsel_header(const recsel *s) { return s ? s->header : NULL; }

bool recsel_keeps_json_url(const recsel *s)
{
    if (!s)
        return true;
    if (s->format != RECSEL_JSONL || s->write_out)
        return false;
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i], "url") == 0)
            return true;
    return s->nfields == 0;
}

static int emit_fields_json(recsel *s, json_t *rec)
{
    json_t *o = json_object();
    if (!o)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < s->nfields && rc == 0; i++) {
        json_t *v = at(rec, s->fields[i]);
        rc = json_object_set(o, s->fields[i], v ? v : json_null()) < 0 ? -ENOMEM : 0;
    }
    char *d = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    if (!d)
        return -ENOMEM;
    rc = add(&s->out, d, strlen(d));
    free(d);
    return rc ? rc : add(&s->out, "\n", 1);
}

int recsel_apply(recsel *s, const char *line, size_t len, const char **out, size_t *olen)
{
    json_error_t jerr;
    json_t *rec = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(rec)) {
        json_decref(rec);
        return -EINVAL;
    }
    json_t *st = json_object_get(rec, "status");
    long status = json_is_integer(st) ? (long)json_integer_value(st) : 0;
    if ((s->match.n && !in_ranges(&s->match, status)) || (s->filter.n && in_ranges(&s->filter, status))) {
        json_decref(rec);
        return 1;
    }
    sbuf_reset(&s->out);
    int rc = 0;
    if (s->write_out) {
        for (size_t i = 0; i < s->nw && rc == 0; i++) {
            wpiece *w = &s->w[i];
            switch (w->kind) {
            case W_TEXT: rc = add(&s->out, w->text, strlen(w->text)); break;
            case W_FIELD: rc = put_value(&s->out, at(rec, w->text), ESC_NONE); break;
            case W_SECONDS: rc = put_seconds(&s->out, at(rec, w->text)); break;
            case W_CODE: { /* as curl: 000 when no response came */
                char t[32];
                int n = snprintf(t, sizeof t, "%03ld", status);
                rc = add(&s->out, t, (size_t)n);
                break;
            }
            case W_COUNT: {
                char t[32];
                int n = snprintf(t, sizeof t, "%zu", json_array_size(at(rec, w->text)));
                rc = add(&s->out, t, (size_t)n);
                break;
            }
            case W_JSON: rc = add(&s->out, line, len && line[len - 1] == '\n' ? len - 1 : len); break;
            }
        }
    } else if (s->format == RECSEL_JSONL && s->nfields) {
        rc = emit_fields_json(s, rec);
    } else if (s->format == RECSEL_JSONL) {
        rc = add(&s->out, line, len);
    } else {
        int esc = s->format == RECSEL_CSV ? ESC_CSV : ESC_TSV;
        for (size_t i = 0; i < s->nfields && rc == 0; i++) {
            if (i)
                rc = add(&s->out, esc == ESC_CSV ? "," : "\t", 1);
            if (rc == 0)
                rc = put_value(&s->out, at(rec, s->fields[i]), esc);
        }
        if (rc == 0)
            rc = esc == ESC_CSV ? add(&s->out, "\r\n", 2) : add(&s->out, "\n", 1);
    }
    json_decref(rec);
    if (rc < 0)
        return -ENOMEM;
    *out = sbuf_str(&s->out);
    *olen = s->out.len;
    return 0;
}
