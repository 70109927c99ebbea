/* request: what is sent besides the URL, as a value: the method, the
 * request's own headers and its body (bytes in memory, or a file streamed
 * when it is sent). The run's request comes from the command line (-X, -d,
 * --data-binary, --json, -I); an input line that is a JSON object,
 * {"url": ..., "method": ..., "headers": {...}, "body": ...}, carries its
 * own (request_from_json).
 *
 * Redirects: request_after_redirect() says what the next hop sends (as curl
 * and browsers do: 301/302 turn POST into GET, 303 turns anything but HEAD
 * into GET, 307/308 keep method and body).
 *
 * Threads: pure functions and plain data; a spec is read-only once built and
 * may then be shared by any number of fetches. Ownership: a request_spec owns
 * every pointer in it (request_spec_free).
 */
#ifndef CRAWL_NET_REQUEST_H
#define CRAWL_NET_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

struct curl_slist;

typedef struct request_spec {
    char *method;               /* NULL: GET, or POST when there is a body */
    struct curl_slist *headers; /* "Name: value" lines ("Name:" removes one); the user's -H of a name win */
    char *body;                 /* sent as is, body_len bytes; NULL: none (or body_file) */
    size_t body_len;
    char *body_file; /* streamed from this file when sent (every attempt); NULL: none */
} request_spec;

/* Free what s owns (not s itself) and zero it. */
void request_spec_clear(request_spec *s);

/* The method sent: "GET", "POST", "HEAD" or the spec's own. */
const char *request_method(const request_spec *s);
static inline bool request_has_body(const request_spec *s) { return s && (s->body || s->body_file); }

/* Does this input line hold a request object (its first character is '{')? */
bool request_is_json_line(const char *line);

/* Parse a request object line. On success returns 0 with *url (malloc'd)
 * and *out (malloc'd, free with request_spec_clear + free). On a bad object
 * returns -EINVAL with a message in why (never longer than wlen). A body
 * that is a JSON value other than a string is sent as JSON (with
 * Content-Type: application/json unless the headers name one). */
int request_from_json(const char *line, char **url, request_spec **out, char *why, size_t wlen);

/* Is name a valid HTTP token (a method or a header name)? */
bool request_is_token(const char *name);

/* After a redirect with this status, is the request sent again as a GET
 * without its body (true), or as it was (false)? */
bool request_redirect_to_get(const char *method, long status);

#endif
