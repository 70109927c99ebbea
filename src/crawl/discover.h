/* discover: what a recursive crawl fetches. Scope (hosts, sites,
 * domains, accept/reject patterns), traps and limits decide whether a link
 * is queued; links are extracted and resolved on the executor, never on
 * the loop; robots.txt is fetched once per
 * origin before anything else there; sitemaps (from --sitemap or
 * robots.txt) are read in their own tasks.
 *
 * Threads: the loop thread (extraction and sitemap parsing run on the
 * executor). Ownership: discover_queue_link takes the URL.
 */
#ifndef CRAWL_CRAWL_DISCOVER_H
#define CRAWL_CRAWL_DISCOVER_H

#include "engine.h"

/* The host of a normalized URL (no userinfo, no port), copied into buf. */
const char *discover_host_of(const char *url, char *buf, size_t len);
/* Was this host named by a seed? Such hosts count as named by the user:
 * the address policy lets them resolve anywhere. */
bool discover_is_seed_host(const engine *E, const char *host);
bool discover_in_scope(engine *E, const char *url);
/* -A/-R: is url's file one to keep (save)? true without -A/-R. */
bool discover_keep_file(const engine *E, const char *url);
/* --no-parent: a seed's directory (its URL up to the last '/'). */
void discover_add_seed_dir(engine *E, const char *url);
/* Queue a normalized URL if it is new, in scope and within the limits.
 * Takes ownership of url. */
void discover_queue_link(engine *E, char *url, const char *parent, int depth);
bool discover_is_html(const http_resp *r);
/* Extract the page's links and queue them. Returns how many links the page
 * had, or -1 if the run stopped meanwhile. */
int discover_follow_links(engine *E, const char *page_url, const http_resp *resp, int depth);
/* GET url with its body, following up to five redirects (robots.txt and
 * sitemaps), archiving every exchange. Returns the last URL asked for
 * (malloc'd); *r holds the last response when *fetched. */
/* keep_max: bytes of the body kept in memory, the rest ignored (0: 1 MiB in
 * memory and the whole body in a spill file). */
char *discover_fetch(engine *E, const char *start, http_resp *r, bool *fetched, bool honour_stop, size_t keep_max);
/* Read a sitemap (once per URL) in its own task. */
void discover_start_sitemap(engine *E, const char *url, int level);
/* robots.txt for an origin, fetched once, before any other request there. */
void discover_robots(engine *E, fr_host *h);

#endif
