/* robots: robots.txt parsing and matching per RFC 9309.
 *
 * Groups start at user-agent lines; consecutive user-agent lines share a
 * group; groups for the same agent are merged. An agent uses the groups whose
 * product token equals its own (case-insensitive); if there are none, the "*"
 * groups; if there are none either, everything is allowed. The most specific
 * rule wins (the longest pattern in octets); on a tie allow wins. Patterns may
 * use "*" (any sequence) and a final "$" (end of path). Non-ASCII bytes in
 * patterns are percent-encoded and %xx escapes upper-cased before matching,
 * so a pattern compares with the URL's encoded path. Empty allow/disallow
 * values are no rules. Only the first 500 KiB of a file are parsed.
 *
 * Crawl-delay (per group) and Sitemap lines (global) are kept too.
 *
 * Ownership: a robots value owns everything in it (robots_free). Pure data;
 * any thread may use one robots value at a time.
 */
#ifndef CRAWL_CRAWL_ROBOTS_H
#define CRAWL_CRAWL_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>

#define ROBOTS_MAX_BYTES (500 * 1024)

typedef struct robots robots;

/* Parse a robots.txt body (need not be NUL-terminated). NULL on ENOMEM. */
robots *robots_parse(const char *body, size_t len);
void robots_free(robots *r);
/* agent: a product token ("crawl") or a User-Agent string ("crawl/1.0 (...)"),
 * whose leading token is used. url: absolute URL or a path. */
bool robots_allowed(const robots *r, const char *agent, const char *url);
/* An upper bound on one robots_allowed() check, in bytes compared per byte of
 * path: callers move checks against a large file off the event loop. */
size_t robots_cost(const robots *r);
/* Crawl-delay in seconds for agent (negative if none). */
double robots_crawl_delay(const robots *r, const char *agent);
/* Sitemap URLs, in file order. */
size_t robots_sitemap_count(const robots *r);
const char *robots_sitemap(const robots *r, size_t i);

/* The path, params and query of a URL as robots matching sees them
 * ("/" if empty; fragment dropped). Caller frees. */
char *robots_path_of(const char *url);

#endif
