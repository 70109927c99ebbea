/* errkind: the error kinds a record's error.kind can hold, in one table.
 *
 * CRAWL_ERRKINDS is an X-macro, X(name, description), in the order the docs
 * list them. It feeds the enum below, the spelling record.c writes, and the
 * "Error kinds" section of `crawl --help`; a test checks that README.md and
 * man/crawl.1 list exactly these kinds. A new kind is added here first.
 *
 * Pure data: any thread.
 */
#ifndef CRAWL_OUT_ERRKIND_H
#define CRAWL_OUT_ERRKIND_H

#include <stdio.h>

#define CRAWL_ERRKINDS(X)                                                        \
    X(dns, "the host name did not resolve")                                      \
    X(connect, "no TCP connection to the server")                                \
    X(tls, "TLS handshake or certificate verification failed")                   \
    X(timeout, "a time limit ran out (--timeout, --connect-timeout, --speed-*)") \
    X(recv, "the connection was reset or closed mid-response")                   \
    X(protocol, "malformed response or content encoding")                        \
    X(too_large, "the body exceeded --max-body (kept truncated)")                \
    X(policy, "refused by the address policy (private or restricted addresses)") \
    X(http, "the server answered with an HTTP error status (4xx/5xx)")           \
    X(redirect, "a redirect loop, or more redirects than --max-redirs")          \
    X(invalid_url, "the input is not a valid http(s) URL or request object")     \
    X(interrupted, "stopped by SIGINT/SIGTERM before the fetch completed")       \
    X(internal, "an error inside crawl (out of memory, a transfer not started)") \
    X(robots, "-r: disallowed by robots.txt, or robots.txt unreachable")         \
    X(sitemap, "recursive crawls: a sitemap that is not valid XML or is too large")

/* clang-format takes the line after the X-macro for a continuation. */
// clang-format off
typedef enum errkind {
#define CRAWL_ERRKIND_ENUM(name, desc) ERRKIND_##name,
    CRAWL_ERRKINDS(CRAWL_ERRKIND_ENUM)
#undef CRAWL_ERRKIND_ENUM
    ERRKIND_COUNT
} errkind;
// clang-format on

/* The kind's name ("dns", ...) and one-line description; NULL out of range. */
const char *errkind_name(errkind k);
const char *errkind_desc(errkind k);
/* The table's own (static) spelling of kind, or NULL if kind is not in it. */
const char *errkind_lookup(const char *kind);
/* The "Error kinds" section of --help, one "  name  description" line each. */
void errkind_print_help(FILE *out);

#endif
