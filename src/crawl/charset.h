/* charset: a document's character encoding for link extraction.
 *
 * The encoding is the Content-Type charset, else a byte order mark, else a
 * <meta charset> or <meta http-equiv=content-type> in the first 1024 bytes,
 * else UTF-8. A document in another encoding is converted to UTF-8 (iconv)
 * before its links are extracted, and, as browsers do, the query of each
 * link is encoded back into the document's encoding before it is
 * percent-encoded (paths are always UTF-8). Unknown encodings are read as
 * UTF-8. Pure functions; any thread.
 */
#ifndef CRAWL_CRAWL_CHARSET_H
#define CRAWL_CRAWL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

/* Fills out (>= 40 bytes) with a lower-case encoding name. */
void charset_detect(const char *content_type, const char *body, size_t len, char *out, size_t outlen);
bool charset_is_utf8(const char *cs);
/* body converted to UTF-8 (malloc'd, NUL-terminated), or NULL when no
 * conversion is needed or possible. */
char *charset_to_utf8(const char *cs, const char *body, size_t len, size_t *outlen);
/* A copy of a UTF-8 link whose query is re-encoded in cs (malloc'd), or NULL
 * when nothing needs to change. */
char *charset_link_query(const char *cs, const char *link);

#endif
