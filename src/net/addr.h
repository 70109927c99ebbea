/* addr: the address policy (SSRF guard).
 *
 * addr_is_restricted() says whether an address is one a crawler must not be
 * led to by a redirect or a discovered link: loopback, private (RFC 1918),
 * CGNAT, link-local, unique-local, multicast, unspecified, reserved,
 * benchmarking and documentation ranges, broadcast; IPv4-mapped IPv6
 * addresses are unwrapped first. Pure functions, no state, any thread.
 */
#ifndef CRAWL_NET_ADDR_H
#define CRAWL_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* One IPv4 or IPv6 address (28 bytes, not sockaddr_storage's 128: these
 * live in every fetch's frame on a coroutine stack). */
typedef union net_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} net_addr;

/* NULL if the address is public; else a short reason ("loopback", ...). */
const char *addr_restricted_reason(const struct sockaddr *sa);
static inline bool addr_is_restricted(const struct sockaddr *sa) { return addr_restricted_reason(sa) != NULL; }
/* Numeric form without port, into buf (at least 64 bytes). */
const char *addr_to_string(const struct sockaddr *sa, char *buf, size_t len);
/* Parse a numeric IPv4/IPv6 literal (brackets allowed). true on success. */
bool addr_parse_literal(const char *s, net_addr *out);
bool addr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
