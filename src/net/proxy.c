/* proxy: see proxy.h. */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *env_first(const char *a, const char *b)
{
    const char *v = a ? getenv(a) : NULL;
    if (v && *v)
        return v;
    v = b ? getenv(b) : NULL;
    return v && *v ? v : NULL;
}

static int dup_into(char **dst, const char *v)
{
    *dst = NULL;
    if (!v)
        return 0;
    *dst = strdup(v);
    return *dst ? 0 : -ENOMEM;
}

int proxy_cfg_build(proxy_cfg *cfg, const char *explicit_proxy, const char *noproxy, bool ignore_env)
{
    memset(cfg, 0, sizeof *cfg);
    const char *http = NULL, *https = NULL, *np = noproxy;
    if (explicit_proxy && *explicit_proxy) {
        http = https = explicit_proxy;
    } else if (!ignore_env) {
        const char *all = env_first("all_proxy", "ALL_PROXY");
        http = env_first("http_proxy", NULL); /* not HTTP_PROXY: see the header */
        https = env_first("https_proxy", "HTTPS_PROXY");
        if (!http)
            http = all;
        if (!https)
            https = all;
    }
    if (!np && !ignore_env)
        np = env_first("no_proxy", "NO_PROXY");
    if (dup_into(&cfg->http, http) < 0 || dup_into(&cfg->https, https) < 0 || dup_into(&cfg->noproxy, np) < 0) {
        proxy_cfg_clear(cfg);
        return -ENOMEM;
    }
    return 0;
}

void proxy_cfg_clear(proxy_cfg *cfg)
{
    free(cfg->http);
    free(cfg->https);
    free(cfg->noproxy);
    memset(cfg, 0, sizeof *cfg);
}

/* An IP address (v4 or v6, brackets allowed) as bytes; 4, 16 or 0 (not one). */
static int parse_ip(const char *s, size_t n, unsigned char out[16])
{
    char buf[64];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (inet_pton(AF_INET, buf, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, buf, out) == 1)
        return 16;
    return 0;
}

/* Does the entry e (length n) match host? */
static bool entry_matches(const char *e, size_t n, const char *host)
{
    if (n == 1 && e[0] == '*')
        return true;
    unsigned char hip[16], eip[16];
    int hl = parse_ip(host, strlen(host), hip);
    const char *slash = memchr(e, '/', n);
    if (hl) {
        int el = parse_ip(e, slash ? (size_t)(slash - e) : n, eip);
        if (el != hl)
            return false;
        long bits = el * 8;
        if (slash) {
            char *end;
            char num[8];
            size_t bl = n - (size_t)(slash - e) - 1;
            if (bl == 0 || bl >= sizeof num)
                return false;
            memcpy(num, slash + 1, bl);
            num[bl] = 0;
            bits = strtol(num, &end, 10);
            if (*end || bits < 0 || bits > el * 8)
                return false;
        }
        for (long i = 0; i < bits; i++) {
            unsigned char m = (unsigned char)(0x80 >> (i % 8));
            if ((hip[i / 8] & m) != (eip[i / 8] & m))
                return false;
        }
        return true;
    }
    if (slash)
        return false;
    if (n && e[0] == '.') {
        e++;
        n--;
    }
    size_t hn = strlen(host);
    while (hn && host[hn - 1] == '.') /* "example.com." is example.com */
        hn--;
    if (n == 0 || hn < n || strncasecmp(host + hn - n, e, n) != 0)
        return false;
    return hn == n || host[hn - n - 1] == '.';
}

bool proxy_noproxy_match(const char *list, const char *host)
{
    if (!list || !host || !*host)
        return false;
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n && entry_matches(p, n, host))
            return true;
        p += n;
    }
    return false;
}

const char *proxy_for(const proxy_cfg *cfg, bool https, const char *host)
{
    const char *px = https ? cfg->https : cfg->http;
    if (!px || !*px || proxy_noproxy_match(cfg->noproxy, host))
        return NULL;
    return px;
}
