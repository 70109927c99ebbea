/* dns: name resolution with c-ares on the coroutine loop.
 *
 * Never a thread per lookup: c-ares sockets and its timer are libevent events
 * on the loop. Results are cached per host name, honouring the answer's TTL
 * clamped to [min_ttl, max_ttl]; failures are cached for min_ttl (negative
 * caching). Concurrent lookups of one name are coalesced into one query.
 * IP literals never reach c-ares. dns_add_static() pins a name (like curl's
 * --resolve).
 *
 * Threads: loop thread only. Ownership: the resolver owns its cache; results
 * are copied out into the caller's dns_addrs.
 */
#ifndef CRAWL_NET_DNS_H
#define CRAWL_NET_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "crawl/co.h"
#include "net/addr.h"

#define DNS_MAX_ADDRS 8

typedef struct dns_addrs {
    int n;
    net_addr addr[DNS_MAX_ADDRS];
} dns_addrs;

typedef struct dns_opts {
    const char *servers;  /* "ip[:port],..." or NULL for /etc/resolv.conf */
    int timeout_ms;       /* per try; 0 = 5000 */
    int tries;            /* 0 = 2 */
    int min_ttl_s;        /* 0 = 5 */
    int max_ttl_s;        /* 0 = 3600 */
    int family;           /* AF_UNSPEC (0): A and AAAA; AF_INET or AF_INET6: only that (-4, -6) */
} dns_opts;

typedef struct dns_resolver dns_resolver;

/* On the current loop. Returns 0 and *out, or a negative errno. */
int dns_new(const dns_opts *opts, dns_resolver **out);
void dns_free(dns_resolver *d);
/* Pin host to a numeric address (may be called several times per host, up to
 * DNS_MAX_ADDRS). -EINVAL if addr is not numeric. */
int dns_add_static(dns_resolver *d, const char *host, const char *addr);
/* Resolve (awaitable). 0 with out->n >= 1, or -ENOENT (no such host / no
 * address), -ETIMEDOUT, -ECONNREFUSED (servers refused), -ECANCELED, -EIO. */
int dns_resolve(dns_resolver *d, const char *host, dns_addrs *out, int64_t timeout_ms);
/* Lookups that went to the network, and cache hits (for tests). */
void dns_counters(const dns_resolver *d, uint64_t *queries, uint64_t *hits);
const char *dns_strerror(int err);

#endif
