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
#include <sys/socket.h>

/* NULL if the address is public; else a short reason ("loopback", ...). */
const char *addr_restricted_reason(const struct sockaddr *sa);
static inline bool addr_is_restricted(const struct sockaddr *sa) { return addr_restricted_reason(sa) != NULL; }
/* Numeric form without port, into buf (at least 64 bytes). */
const char *addr_to_string(const struct sockaddr *sa, char *buf, size_t len);
/* Parse a numeric IPv4/IPv6 literal (brackets allowed). true on success. */
bool addr_parse_literal(const char *s, struct sockaddr_storage *out);
bool addr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif
