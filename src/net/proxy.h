/* proxy: which proxy a request goes through, the way curl and wget decide
 * it: -x/--proxy for every URL, else the environment (http_proxy for http
 * URLs, https_proxy or HTTPS_PROXY for https ones, all_proxy or ALL_PROXY
 * for both; the upper-case HTTP_PROXY is ignored, as curl does, since a CGI
 * environment lets a client set it), except for the hosts of --noproxy or
 * no_proxy/NO_PROXY.
 *
 * no_proxy syntax (curl's): a comma-separated list; "*" matches every host;
 * an entry matches that host name and every name under it ("example.com"
 * and ".example.com" both match www.example.com, not badexample.com); an IP
 * address matches itself, and ADDR/BITS a CIDR range (IPv4 or IPv6).
 *
 * Threads: pure functions and read-only data; any thread. Ownership: a
 * proxy_cfg owns its strings (proxy_cfg_clear).
 */
#ifndef CRAWL_NET_PROXY_H
#define CRAWL_NET_PROXY_H

#include <stdbool.h>

typedef struct proxy_cfg {
    char *http;    /* proxy URL for http:// URLs, or NULL: direct */
    char *https;   /* ... for https:// URLs */
    char *noproxy; /* hosts reached directly (no_proxy syntax), or NULL */
} proxy_cfg;

/* Fill cfg from -x (NULL: none), --noproxy (NULL: none) and, unless
 * ignore_env, the environment (getenv). 0 or -ENOMEM. */
int proxy_cfg_build(proxy_cfg *cfg, const char *explicit_proxy, const char *noproxy, bool ignore_env);
void proxy_cfg_clear(proxy_cfg *cfg);

/* Does host (a name, or an IP address with or without brackets) match the
 * no_proxy list? */
bool proxy_noproxy_match(const char *list, const char *host);

/* The proxy for a URL of this scheme and host, or NULL: direct. */
const char *proxy_for(const proxy_cfg *cfg, bool https, const char *host);

#endif
