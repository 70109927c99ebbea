/* request: see request.h. */
#include "request.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/sbuf.h"

/* The longest request object line taken (a body larger than this belongs
 * in a file). */
#define REQUEST_JSON_MAX ((size_t)1 << 20)

void request_spec_clear(request_spec *s)
{
    if (!s)
        return;
    free(s->method);
    curl_slist_free_all(s->headers);
    free(s->body);
    free(s->body_file);
    memset(s, 0, sizeof *s);
}

const char *request_method(const request_spec *s)
{
    if (s && s->method)
        return s->method;
    return request_has_body(s) ? "POST" : "GET";
}

bool request_is_json_line(const char *line) { return line && line[0] == '{'; }

bool request_is_token(const char *name)
{
    /* RFC 9110 tchar */
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c)))
            return false;
    }
    return true;
}

bool request_redirect_to_get(const char *method, long status)
{
    bool head = method && strcasecmp(method, "HEAD") == 0;
    if (status == 303)
        return !head;
    if (status == 301 || status == 302)
        return method && strcasecmp(method, "POST") == 0;
    return false;
}

static int bad(char *why, size_t wlen, const char *msg, const char *detail)
{
    snprintf(why, wlen, "not a valid request object: %s%s%.60s", msg, detail ? " " : "", detail ? detail : "");
    return -EINVAL;
}

/* A header value may not break the request: no CR, LF or NUL. */
static bool header_value_ok(const char *v)
{
    return strpbrk(v, "\r\n") == NULL;
}

int request_from_json(const char *line, char **url, request_spec **out, char *why, size_t wlen)
{
    *url = NULL;
    *out = NULL;
    if (strlen(line) > REQUEST_JSON_MAX)
        return bad(why, wlen, "longer than 1 MiB", NULL);
    json_error_t jerr;
    json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(why, wlen, "not a valid request object: %.100s", jerr.text);
        return -EINVAL;
    }
    int rc = 0;
    request_spec *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(root);
        snprintf(why, wlen, "out of memory");
        return -ENOMEM;
    }
    bool have_ct = false;
    const char *key;
    json_t *v;
    if (!json_is_object(root)) {
        rc = bad(why, wlen, "not a JSON object", NULL);
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "url") == 0) {
            if (!json_is_string(v) || !*json_string_value(v)) {
                rc = bad(why, wlen, "\"url\" must be a non-empty string", NULL);
                goto out;
            }
        } else if (strcmp(key, "method") == 0) {
            if (!json_is_string(v) || !request_is_token(json_string_value(v))) {
                rc = bad(why, wlen, "\"method\" must be a method name such as \"POST\"", NULL);
                goto out;
            }
        } else if (strcmp(key, "headers") == 0) {
            if (!json_is_object(v)) {
                rc = bad(why, wlen, "\"headers\" must be an object of strings", NULL);
                goto out;
            }
        } else if (strcmp(key, "body") != 0) {
            rc = bad(why, wlen, "unknown key", key);
            goto out;
        }
    }
    json_t *ju = json_object_get(root, "url");
    if (!ju) {
        rc = bad(why, wlen, "no \"url\"", NULL);
        goto out;
    }
    json_t *jm = json_object_get(root, "method");
    if (jm && !(s->method = strdup(json_string_value(jm))))
        rc = -ENOMEM;
    json_t *jh = json_object_get(root, "headers");
    const char *name;
    json_object_foreach(jh, name, v)
    {
        if (rc)
            break;
        if (!request_is_token(name)) {
            rc = bad(why, wlen, "not a header name:", name);
            break;
        }
        if (!json_is_string(v) && !json_is_null(v)) {
            rc = bad(why, wlen, "header values must be strings (or null to remove one):", name);
            break;
        }
        const char *val = json_is_string(v) ? json_string_value(v) : NULL;
        if (val && !header_value_ok(val)) {
            rc = bad(why, wlen, "a header value holds a line break:", name);
            break;
        }
        if (strcasecmp(name, "content-type") == 0)
            have_ct = true;
        sbuf h = SBUF_INIT;
        sbuf_adds(&h, name);
        if (!val)
            sbuf_adds(&h, ":"); /* "Name:" removes it */
        else
            sbuf_adds(&h, *val ? ": " : ";"); /* "Name;" sends it empty (curl) */
        if (val && *val)
            sbuf_adds(&h, val);
        struct curl_slist *n = sbuf_failed(&h) ? NULL : curl_slist_append(s->headers, sbuf_str(&h));
        sbuf_free(&h);
        if (!n)
            rc = -ENOMEM;
        else
            s->headers = n;
    }
    json_t *jb = json_object_get(root, "body");
    if (!rc && jb && !json_is_null(jb)) {
        if (json_is_string(jb)) {
            size_t n = json_string_length(jb);
            s->body = malloc(n + 1);
            if (s->body) {
                memcpy(s->body, json_string_value(jb), n + 1);
                s->body_len = n;
            }
        } else {
            s->body = json_dumps(jb, JSON_COMPACT | JSON_ENCODE_ANY);
            s->body_len = s->body ? strlen(s->body) : 0;
            if (s->body && !have_ct) {
                struct curl_slist *n = curl_slist_append(s->headers, "Content-Type: application/json");
                if (n)
                    s->headers = n;
                else
                    rc = -ENOMEM;
            }
        }
        if (!s->body)
            rc = -ENOMEM;
    }
    if (!rc && !(*url = strdup(json_string_value(ju))))
        rc = -ENOMEM;
out:
    if (rc == -ENOMEM)
        snprintf(why, wlen, "out of memory");
    json_decref(root);
    if (rc) {
        request_spec_clear(s);
        free(s);
        free(*url);
        *url = NULL;
        return rc;
    }
    *out = s;
    return 0;
}
