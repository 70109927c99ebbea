/* reqopts: the request options of the command line and config files (-X,
 * -d, --data-binary, --json, -I, -u, --http-user, --http-password) checked
 * and the cookie options (-b, --cookie-jar, --save-cookies,
 * --keep-session-cookies, --no-cookies) and the proxy options (-x with the
 * environment, --noproxy, --proxy-user, --no-proxy) checked and turned into
 * the run's request_spec, credentials, cookie and proxy settings.
 *
 * Small @FILE bodies (-d, --json) are read here, at startup, before any
 * fetch; --data-binary @FILE is only checked to be readable, and is
 * streamed from the file when it is sent.
 *
 * Threads: the command-line layer (main thread, before the loop). Ownership:
 * the caller owns what reqopts_build fills (reqopts_free).
 */
#ifndef CRAWL_CLI_REQOPTS_H
#define CRAWL_CLI_REQOPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "net/proxy.h"
#include "net/request.h"
#include "cli/options.h"

typedef struct reqopts {
    request_spec spec;
    bool have_spec; /* anything but a plain GET */
    char *username; /* NULL: no -u */
    char *password;
    /* cookies */
    char *cookie_header;       /* the -b 'N=V' values, joined with "; " */
    const char **cookie_files; /* the -b FILE values (borrowed from the options) */
    size_t ncookie_files;
    const char *cookie_jar; /* borrowed */
    bool jar_session;       /* the jar gets session cookies too */
    /* proxies */
    proxy_cfg proxies;
    char *proxy_user, *proxy_password;
} reqopts;

/* 0, or -1 after printing "crawl: ..." to err (a usage or file error). */
int reqopts_build(const crawl_opts *o, reqopts *out, FILE *err);
void reqopts_free(reqopts *r);

#endif
