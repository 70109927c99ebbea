/* http: one HTTP exchange at a time per call, many at once per loop, on
 * libcurl's multi_socket API driven by the coroutine loop's libevent base.
 *
 * http_fetch() reads as straight-line code: it resolves the host with our
 * c-ares resolver, applies the address policy, pins the checked addresses in
 * curl (CURLOPT_RESOLVE, re-checked at connect time by an open-socket hook),
 * adds the transfer and suspends the calling task until curl reports it done.
 * Redirects are not followed here: the caller follows them hop by hop so every
 * hop passes the policy again.
 *
 * curl callbacks (socket, timer, write, open/close socket) only record data
 * and complete futures; they never switch stacks. Tasks resume from the
 * scheduler's own event after curl_multi_socket_action() has returned.
 *
 * Threads: loop thread only. Ownership: the client owns the multi handle, the
 * easy-handle pool and the share handle; a response's heap strings belong to
 * the caller after http_fetch() (free with http_resp_free()).
 */
#ifndef CRAWL_NET_HTTP_H
#define CRAWL_NET_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "proxy.h"

struct curl_slist;

/* Stable error kinds written to records. */
typedef enum http_err {
    HTTP_OK = 0,
    HTTP_E_DNS,
    HTTP_E_CONNECT,
    HTTP_E_TLS,
    HTTP_E_TIMEOUT,
    HTTP_E_TOO_LARGE,
    HTTP_E_POLICY,
    HTTP_E_RECV,      /* connection reset or closed mid-response */
    HTTP_E_PROTOCOL,  /* malformed response, bad encoding */
    HTTP_E_INVALID_URL,
    HTTP_E_CANCELLED,
    HTTP_E_INTERNAL,
} http_err;

const char *http_err_name(http_err e);

typedef struct http_opts {
    int64_t connect_timeout_ms; /* 0 = none */
    int64_t timeout_ms;         /* whole exchange; 0 = none */
    long speed_limit;           /* abort below this many bytes/s ... */
    long speed_time_s;          /* ... for this long (0 = off) */
    long max_total_conns;       /* 0 = unlimited */
    long max_per_host_conns;    /* 0 = unlimited */
    size_t max_body;            /* decoded bytes; 0 = unlimited */
    const char *user_agent;
    struct curl_slist *headers; /* borrowed */
    proxy_cfg proxies;          /* -x, the environment, --noproxy (strings borrowed) */
    const char *proxy_user;     /* --proxy-user: credentials for the proxy, or NULL */
    const char *proxy_password;
    bool insecure;
    const char *cacert;         /* --cacert: CA certificates to verify with (PEM file), or NULL */
    const char *capath;         /* --capath: a directory of them, or NULL */
    const char *client_cert;    /* --cert: client certificate (PEM), or NULL */
    const char *client_key;     /* --key: its private key, or NULL (in the --cert file) */
    int ip_family;              /* 0: any; 4 or 6: only IPv4 or only IPv6 addresses (-4, -6) */
    int64_t limit_rate;         /* bytes/s one transfer receives at most; 0 = no limit */
    int64_t limit_rate_total;   /* bytes/s all transfers together receive at most (an equal share each) */
    int http_version;           /* 0 = default (HTTP/2 over TLS), 11, 2 */
    bool allow_private;         /* let redirects/links reach restricted addresses */
    dns_resolver *dns;          /* borrowed */
    int64_t dns_timeout_ms;
    bool capture;               /* keep the exchange as sent and received (WARC): identity encoding */
    const char *username;       /* -u: Basic credentials for the requests that may carry credentials */
    const char *password;
    /* cookies: one store for every transfer of the client (libcurl's share) */
    bool no_cookies;                 /* no cookie engine at all */
    const char *const *cookie_files; /* loaded into the store at the start (Netscape or Set-Cookie lines) */
    size_t ncookie_files;
    const char *cookie_header; /* "N=V; ...": sent as is where credentials may go */
    const char *cookie_jar;    /* http_cookies_save writes the store here */
    bool jar_session_cookies;  /* ... session cookies too */
} http_opts;

typedef struct http_req {
    const char *url;
    /* Optional, when the caller already parsed the URL (saves a parse):
     * host as curl's URL API returns it, and the effective port. */
    const char *host;
    long port;
    bool explicit_host; /* named by the user: any address allowed */
    bool keep_body;     /* keep the body (resp.body, and past keep_max resp.spill_fd) */
    /* With keep_body: at most this many bytes are kept in memory (0 means
     * HTTP_KEEP_MAX). What comes after them goes, with spill, to an unlinked
     * temporary file that then holds the whole body (resp.spill_fd); without
     * spill the transfer stops there and resp.truncated is set (a soft cap:
     * no error, e.g. robots.txt past 500 KiB, a page parsed for links). */
    size_t keep_max;
    bool spill;
    /* The body is kept past HTTP_SPILL_AT in memory only for a page to parse:
     * when the response's Content-Type is neither HTML nor XHTML, keep_max
     * drops to HTTP_SPILL_AT (with spill) or the body is not kept at all. */
    bool markup_only;
    bool no_reuse;       /* no later request will want this connection: close it when done */
    bool no_credentials; /* leave out the user's Authorization, Cookie and Proxy-Authorization headers,
                            and -u's credentials */
    /* What to send besides the URL (all borrowed, alive until http_fetch returns): */
    const char *method;               /* NULL: GET, or POST with a body; "HEAD": no body is read */
    const struct curl_slist *headers; /* this request's own headers; the user's -H of a name win */
    const char *body;                 /* sent as is (body_len bytes), or NULL */
    size_t body_len;
    const char *body_file;     /* or streamed from this file, opened for every attempt */
    int64_t if_modified_since; /* > 0: send If-Modified-Since (seconds since the epoch) */
} http_req;

/* Beyond this many open connections, new ones are closed after their
 * transfer instead of being kept for reuse (see http_fetch). */
#define HTTP_KEEP_CONNS 4096
/* Default for http_req.keep_max: the most of one body held in memory (a
 * page parsed for links). */
#define HTTP_KEEP_MAX ((size_t)10 << 20)
/* All bodies held in memory at once (in flight, or handed over and not yet
 * freed) stay within this; past it a body spills or stops as at its own
 * ceiling. With the ceilings above, this is most of crawl's memory budget. */
#define HTTP_KEEP_BUDGET ((size_t)256 << 20)
/* A body kept only to be written out (saved, archived) spills to a file past
 * this many bytes. */
#define HTTP_SPILL_AT ((size_t)1 << 20)
/* Response headers past this size end the transfer with HTTP_E_TOO_LARGE. */
#define HTTP_MAX_HEADER_BYTES ((size_t)256 << 10)
/* What all transfers' receive buffers may take together (see easy_new). */
#define HTTP_RECV_BUDGET (16L << 20)

typedef struct http_resp {
    long status;             /* 0 when no response */
    http_err err;
    char errmsg[256];
    char *body;              /* keep_body: the decoded body's first body_len bytes, NUL-terminated */
    size_t body_len;         /* bytes in body (at most keep_max) */
    size_t bytes;            /* decoded body bytes received (up to the limit) */
    bool truncated;
    bool spilled;    /* spill_fd holds the whole body (all `bytes`), offset 0 on */
    atomic_size_t *kept_in; /* the client's count of body bytes in memory (http_resp_free lowers it; any thread) */
    int spill_fd;    /* valid only when spilled; closed by http_resp_free */
    char *content_type;
    char *location;          /* absolute redirect target, if any */
    char *etag;              /* the ETag header's value, as sent, or NULL */
    char *last_modified;     /* the Last-Modified header's value, as sent, or NULL */
    int64_t content_length;  /* as declared by Content-Length, -1 when absent */
    int64_t filetime;        /* Last-Modified in seconds since the epoch, -1 when absent or unparsable */
    bool not_modified;       /* 304, or a 200 no newer than if_modified_since (its body is not read) */
    int64_t retry_after_s;   /* -1 when absent */
    double dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms;
    char remote_ip[64];
    const char *http_version;/* "1.0", "1.1", "2", "3" or NULL */
    /* with opts.capture: the exchange as sent and received */
    char *req_head;          /* request line and headers as sent */
    size_t req_head_len;
    char *resp_head;         /* status line and headers as received */
    size_t resp_head_len;
    int64_t started_us;      /* wall clock at the start, microseconds since the epoch */
} http_resp;

typedef struct http_client http_client;

int http_client_new(const http_opts *opts, http_client **out);
/* No fetch may be in flight. */
void http_client_free(http_client *c);
/* Awaitable. Always fills *resp (resp->err says how it went). Returns 0, or
 * -ECANCELED / -ETIMEDOUT when the calling task was cancelled or its deadline
 * expired (resp->err = HTTP_E_CANCELLED / HTTP_E_TIMEOUT). */
int http_fetch(http_client *c, const http_req *req, http_resp *resp);
void http_resp_free(http_resp *r);
/* The caller has no request left beyond those in flight (retries and
 * redirects aside): every transfer in flight, and every later one, closes its
 * connection when done instead of leaving it cached, unless the connection may
 * be shared (HTTP/2). Idempotent. */
void http_client_wind_down(http_client *c);

/* Write the cookie store to opts.cookie_jar (Netscape format) atomically: a
 * temporary file in the same directory, synced, renamed over it. Call at the
 * end of a run, with nothing in flight (it writes on the calling thread).
 * 0 or a negative errno. */
int http_cookies_save(http_client *c);

/* Process-wide libcurl setup; call once before any loop starts. */
int http_global_init(void);
void http_global_cleanup(void);

#endif
