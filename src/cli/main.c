/* main: the crawl command. Parses the option table, maps it onto the engine
 * configuration and runs the engine as the main task of a coroutine loop. */
#include <ares.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "crawl/co.h"
#include "crawl/fetcher.h"

#ifndef CRAWL_VERSION
#define CRAWL_VERSION "0.0.0"
#endif

static void print_version(void)
{
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    printf("crawl %s\n", CRAWL_VERSION);
    printf("libcurl %s (%s)\n", cv->version, cv->ssl_version ? cv->ssl_version : "no TLS");
    printf("libevent %s\n", event_get_version());
    printf("c-ares %s\n", ares_version(NULL));
    printf("jansson %s\n", jansson_version_str());
}

static char *join_list(const str_list *l)
{
    if (!l->n)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < l->n; i++)
        len += strlen(l->v[i]) + 1;
    char *s = calloc(1, len);
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, l->v[i]);
    }
    return s;
}

int main(int argc, char **argv)
{
    crawl_opts o;
    opts_defaults(&o);
    if (opts_parse(&o, argc, argv, stderr) < 0) {
        opts_free(&o);
        return EXIT_USAGE;
    }
    if (o.help) {
        opts_print_help(stdout);
        opts_free(&o);
        return 0;
    }
    if (o.version) {
        print_version();
        opts_free(&o);
        return 0;
    }
    if (o.urls.n == 0 && o.input_files.n == 0) {
        fprintf(stderr, "crawl: no URLs given (pass URLs or -i FILE; see crawl --help)\n");
        opts_free(&o);
        return EXIT_USAGE;
    }

    /* Request headers */
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < o.headers.n; i++) {
        if (!strchr(o.headers.v[i], ':')) {
            fprintf(stderr, "crawl: --header '%s': expected 'Name: value'\n", o.headers.v[i]);
            opts_free(&o);
            return EXIT_USAGE;
        }
        headers = curl_slist_append(headers, o.headers.v[i]);
    }
    char ua[64];
    snprintf(ua, sizeof ua, "crawl/%s", CRAWL_VERSION);
    char *dns_servers = join_list(&o.dns_servers);

    fetcher_cfg cfg = {
        .http = {
            .connect_timeout_ms = o.connect_timeout_ms,
            .timeout_ms = o.timeout_ms,
            .speed_limit = o.speed_limit,
            .speed_time_s = (long)((o.speed_time_ms + 999) / 1000),
            .max_total_conns = o.concurrency,
            .max_per_host_conns = o.max_per_host,
            .max_body = (size_t)o.max_body,
            .user_agent = o.user_agent ? o.user_agent : ua,
            .headers = headers,
            .proxy = o.proxy,
            .insecure = o.insecure,
            .http_version = o.http_version,
            .allow_private = o.allow_private,
        },
        .urls = (const char *const *)o.urls.v,
        .nurls = o.urls.n,
        .inputs = (const char *const *)o.input_files.v,
        .ninputs = o.input_files.n,
        .output = o.output,
        .directory_prefix = o.directory_prefix,
        .concurrency = o.concurrency,
        .max_per_host = o.max_per_host,
        .rate = o.rate,
        .host_rate = o.host_rate,
        .retries = o.retries,
        .retry_delay_ms = o.retry_delay_ms,
        .max_retry_delay_ms = o.max_retry_delay_ms,
        .location = o.location,
        .max_redirs = o.max_redirs,
        .dns_servers = dns_servers,
        .dns_timeout_ms = o.dns_timeout_ms,
        .resolve = (const char *const *)o.resolve.v,
        .nresolve = o.resolve.n,
        .progress = !o.quiet && (o.progress == PROGRESS_BAR || (o.progress == PROGRESS_AUTO && isatty(STDERR_FILENO))),
        .summary = !o.quiet,
        .verbose = o.verbose,
        .grace_ms = o.grace_ms,
    };

    /* Broken pipes are reported as write errors, never as a signal; the
     * engine handles SIGINT/SIGTERM on its loop (correct as PID 1 too). */
    signal(SIGPIPE, SIG_IGN);
    if (http_global_init() < 0) {
        fprintf(stderr, "crawl: cannot initialise libcurl\n");
        return EXIT_GENERIC;
    }
    int rc = co_run(fetcher_main, &cfg, NULL);
    if (rc < 0) {
        fprintf(stderr, "crawl: cannot start the event loop: %s\n", strerror(-rc));
        rc = EXIT_GENERIC;
    }
    http_global_cleanup();
    curl_slist_free_all(headers);
    free(dns_servers);
    opts_free(&o);
    return rc;
}
