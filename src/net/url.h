/* url: resolving and normalizing http(s) URLs for a crawler.
 *
 * url_resolve() resolves a reference found in a page against the document's
 * URL the way browsers do for http and https (the WHATWG URL Standard): tabs
 * and newlines removed, leading and trailing C0 controls and spaces trimmed,
 * backslashes taken as slashes, "http:foo" relative to an http base, extra
 * slashes after the scheme ignored, and the standard's percent-encode sets
 * applied. Parsing and reference resolution are libcurl's URL API; hosts are
 * IDNA-converted by it (libidn2) and IPv4 numbers normalized.
 *
 * url_normalize() then makes equivalent spellings equal (RFC 3986 section 6)
 * for de-duplication: lower-case scheme and host, default port dropped, dot
 * segments removed, percent-escapes upper-cased and unreserved ones decoded,
 * empty path as "/", fragment removed.
 *
 * Only http and https results are returned. Pure functions; any thread.
 * Results are malloc'd; the caller frees them.
 */
#ifndef CRAWL_NET_URL_H
#define CRAWL_NET_URL_H

/* base may be NULL (ref must then be absolute). NULL if invalid / not http(s). */
char *url_resolve(const char *base, const char *ref);
/* NULL if url is not a valid absolute http(s) URL. */
char *url_normalize(const char *url);
/* url_normalize(url_resolve(base, ref)), with a fast path for the common
 * case (a plain ASCII path or relative reference against a base that is
 * already in normalized form, as every URL a crawl queues is). */
char *url_resolve_normalized(const char *base, const char *ref);
/* For printing: text (a URL, or a message that holds URLs) with the password
 * of every "scheme://user:password@" written as "***" ("user:***@"). NULL
 * when there is nothing to hide (print text as it is) or out of memory
 * (*oom set): never print text then. */
char *url_redact(const char *text, int *oom);
/* What to print for text: text itself, its redacted copy (*tmp, which the
 * caller frees), or a placeholder when out of memory. */
const char *url_printable(const char *text, char **tmp);

#endif
