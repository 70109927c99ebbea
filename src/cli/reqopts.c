/* reqopts: see reqopts.h. */
#include "reqopts.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/sbuf.h"
#include "xalloc.h"

/* The most read from an -d/--json @FILE (larger bodies: --data-binary @FILE). */
#define REQOPTS_FILE_MAX ((size_t)64 << 20)

/* Append the contents of path to b (without CR and LF when strip). */
static int read_into(sbuf *b, const char *opt, const char *path, bool strip, FILE *err)
{
    if (strcmp(path, "-") == 0) {
        fprintf(err, "crawl: --%s @-: reading a body from stdin is not supported (stdin may be the URL list); use a file\n", opt);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(err, "crawl: --%s: cannot read '%s': %s\n", opt, path, strerror(errno));
        return -1;
    }
    char buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(err, "crawl: --%s: cannot read '%s': %s\n", opt, path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        total += (size_t)r;
        if (total > REQOPTS_FILE_MAX) {
            fprintf(err, "crawl: --%s: '%s' is larger than 64 MiB (send it with --data-binary @FILE)\n", opt, path);
            close(fd);
            return -1;
        }
        for (ssize_t i = 0; i < r; i++)
            if (!strip || (buf[i] != '\r' && buf[i] != '\n'))
                sbuf_addc(b, buf[i]);
    }
    close(fd);
    return 0;
}

static void add_header(request_spec *s, const char *h)
{
    s->headers = xalloc_check(curl_slist_append(s->headers, h));
}

/* -b values with '=' are cookies to send (curl), the others files to load. */
static int cookies_build(const crawl_opts *o, reqopts *out, FILE *err)
{
    sbuf h = SBUF_INIT;
    for (size_t i = 0; i < o->cookies.n; i++) {
        const char *v = o->cookies.v[i];
        if (strchr(v, '=')) {
            if (strpbrk(v, "\r\n")) {
                fprintf(err, "crawl: --cookie: a line break in the cookies\n");
                sbuf_free(&h);
                return -1;
            }
            if (h.len)
                sbuf_adds(&h, "; ");
            sbuf_adds(&h, v);
            continue;
        }
        if (access(v, R_OK) != 0) {
            fprintf(err, "crawl: --cookie: cannot read cookie file '%s': %s\n", v, strerror(errno));
            sbuf_free(&h);
            return -1;
        }
        out->cookie_files = xrealloc(out->cookie_files, (out->ncookie_files + 1) * sizeof *out->cookie_files);
        out->cookie_files[out->ncookie_files++] = v;
    }
    if (sbuf_failed(&h))
        xalloc_check(NULL);
    out->cookie_header = h.len ? sbuf_take(&h) : NULL;
    sbuf_free(&h);
    if (o->cookie_jar && o->save_cookies) {
        fprintf(err, "crawl: give one of --cookie-jar and --save-cookies\n");
        return -1;
    }
    if (o->no_cookies && (out->ncookie_files || o->cookie_jar || o->save_cookies)) {
        fprintf(err, "crawl: --no-cookies turns the cookie engine off: it cannot load or save cookie files\n");
        return -1;
    }
    out->cookie_jar = o->cookie_jar ? o->cookie_jar : o->save_cookies;
    out->jar_session = o->cookie_jar != NULL || o->keep_session_cookies;
    return 0;
}

int reqopts_build(const crawl_opts *o, reqopts *out, FILE *err)
{
    memset(out, 0, sizeof *out);
    request_spec *s = &out->spec;
    int kinds = (o->data.n > 0) + (o->data_binary != NULL) + (o->json.n > 0);
    if (kinds > 1) {
        fprintf(err, "crawl: give one body: --data, --data-binary or --json\n");
        return -1;
    }
    if (o->request_method && !request_is_token(o->request_method)) {
        fprintf(err, "crawl: --request '%s': expected a method name such as POST\n", o->request_method);
        return -1;
    }
    if (o->head && (kinds || (o->request_method && strcasecmp(o->request_method, "HEAD") != 0))) {
        fprintf(err, "crawl: --head sends HEAD: it takes no body and no other --request\n");
        return -1;
    }
    sbuf b = SBUF_INIT;
    int rc = 0;
    if (o->data.n) {
        for (size_t i = 0; i < o->data.n && rc == 0; i++) {
            const char *v = o->data.v[i];
            if (i)
                sbuf_addc(&b, '&');
            if (v[0] == '@')
                rc = read_into(&b, "data", v + 1, true, err);
            else
                sbuf_adds(&b, v);
        }
    } else if (o->json.n) {
        for (size_t i = 0; i < o->json.n && rc == 0; i++) {
            const char *v = o->json.v[i];
            if (v[0] == '@')
                rc = read_into(&b, "json", v + 1, false, err);
            else
                sbuf_adds(&b, v);
        }
        add_header(s, "Content-Type: application/json");
        add_header(s, "Accept: application/json");
    } else if (o->data_binary && o->data_binary[0] == '@') {
        const char *path = o->data_binary + 1;
        int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (strcmp(path, "-") == 0)
                fprintf(err, "crawl: --data-binary @-: reading a body from stdin is not supported; use a file\n");
            else
                fprintf(err, "crawl: --data-binary: cannot read '%s': %s\n", path, strerror(errno));
            rc = -1;
        } else {
            close(fd);
            s->body_file = xstrdup(path);
        }
    } else if (o->data_binary) {
        sbuf_adds(&b, o->data_binary);
    }
    if (rc == 0 && kinds && !s->body_file) {
        if (sbuf_failed(&b))
            xalloc_check(NULL);
        s->body_len = b.len;
        s->body = b.len ? sbuf_take(&b) : xstrdup("");
    }
    sbuf_free(&b);
    if (rc < 0) {
        request_spec_clear(s);
        return -1;
    }
    if (o->head)
        s->method = xstrdup("HEAD");
    else if (o->request_method)
        s->method = xstrdup(o->request_method);
    out->have_spec = s->method || s->headers || request_has_body(s);

    /* credentials: -u USER[:PASSWORD], wget's --http-user/--http-password */
    if (o->user) {
        const char *colon = strchr(o->user, ':');
        out->username = colon ? strndup(o->user, (size_t)(colon - o->user)) : xstrdup(o->user);
        xalloc_check(out->username);
        out->password = xstrdup(colon ? colon + 1 : "");
    }
    if (o->http_user) {
        free(out->username);
        out->username = xstrdup(o->http_user);
    }
    if (o->http_password) {
        free(out->password);
        out->password = xstrdup(o->http_password);
    }
    if (out->password && !out->username) {
        fprintf(err, "crawl: --http-password needs a user name (--http-user or --user)\n");
        reqopts_free(out);
        return -1;
    }
    if (out->username && !out->password)
        out->password = xstrdup("");
    if (cookies_build(o, out, err) < 0) {
        reqopts_free(out);
        return -1;
    }
    const char *files[] = {o->cacert, o->cert, o->key}, *names[] = {"cacert", "cert", "key"};
    for (int i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            fprintf(err, "crawl: --%s: cannot read '%s': %s\n", names[i], files[i], strerror(errno));
            reqopts_free(out);
            return -1;
        }
    if (o->capath && access(o->capath, R_OK | X_OK) != 0) {
        fprintf(err, "crawl: --capath: cannot read directory '%s': %s\n", o->capath, strerror(errno));
        reqopts_free(out);
        return -1;
    }
    if (o->inet4_only && o->inet6_only) {
        fprintf(err, "crawl: give one of -4/--inet4-only and -6/--inet6-only\n");
        reqopts_free(out);
        return -1;
    }
    if (o->no_proxy && o->proxy) {
        fprintf(err, "crawl: give one of --proxy and --no-proxy\n");
        reqopts_free(out);
        return -1;
    }
    if (proxy_cfg_build(&out->proxies, o->proxy, o->noproxy, o->no_proxy) < 0)
        xalloc_check(NULL);
    if (o->proxy_user) {
        const char *colon = strchr(o->proxy_user, ':');
        out->proxy_user = xalloc_check(colon ? strndup(o->proxy_user, (size_t)(colon - o->proxy_user))
                                             : strdup(o->proxy_user));
        out->proxy_password = xstrdup(colon ? colon + 1 : "");
    }
    return 0;
}

void reqopts_free(reqopts *r)
{
    request_spec_clear(&r->spec);
    free(r->username);
    if (r->password) /* do not leave the password in freed memory */
        explicit_bzero(r->password, strlen(r->password));
    free(r->password);
    free(r->cookie_header);
    proxy_cfg_clear(&r->proxies);
    free(r->proxy_user);
    if (r->proxy_password)
        explicit_bzero(r->proxy_password, strlen(r->proxy_password));
    free(r->proxy_password);
    free((void *)r->cookie_files);
    memset(r, 0, sizeof *r);
}
