/* front: the frontier interface and its two local backends. See front.h. */
#include "front.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "engine.h"
#include "input.h"

void front_item_free(fetch_item *fi)
{
    if (fi)
        input_item_free(fi);
}

/* ---- front_list: a URL list, in input order where the caps allow ---- */

static int list_offer(void *self, const front_offer *o)
{
    fetch_item *fi = calloc(1, sizeof *fi);
    if (!fi) {
        if (o->spec) {
            request_spec_clear(o->spec);
            free(o->spec);
        }
        return -ENOMEM;
    }
    fi->spec = o->spec; /* taken, whatever happens */
    fi->item = o->item;
    fi->lineno = o->lineno;
    fi->src = o->src;
    fi->port = o->port;
    fi->line = strdup(o->line ? o->line : o->url ? o->url
                                                 : "");
    fi->url = o->url ? strdup(o->url) : NULL;
    fi->host = o->url && o->host ? strdup(o->host) : NULL;
    if (!fi->line || (o->url && !fi->url) || (o->url && o->host && !fi->host)) {
        front_item_free(fi);
        return -ENOMEM;
    }
    if (o->why)
        snprintf(fi->why, sizeof fi->why, "%s", o->why);
    fi->node.order = o->item;
    int st = lsched_put(self, fi->url && fi->host ? fi->host : "", &fi->node);
    if (st < 0)
        front_item_free(fi);
    return st;
}

static int list_next(void *self, front_lease *l)
{
    ls_node *n;
    ls_host *h;
    int st = lsched_get(self, &n, &h);
    if (st < 0)
        return st;
    fetch_item *fi = (fetch_item *)n;
    fi->lh = h;
    *l = (front_lease){.fi = fi, .be_item = fi, .be_host = h};
    return 0;
}

static void list_done(void *self, front_lease *l, int64_t backoff_ns)
{
    lsched_done(self, l->be_host, backoff_ns);
    front_item_free(l->fi);
    l->fi = NULL;
}

static void list_backoff(void *self, front_lease *l, int64_t ns) { lsched_backoff(self, l->be_host, ns); }
static void list_pause(void *self) { lsched_pause(self); }
static int list_resume(void *self) { return lsched_resume(self); }
static void list_close(void *self) { lsched_close(self); }
static void list_stop(void *self) { lsched_stop(self); }

const front_ops front_list_ops = {.name = "list",
                                  .offer = list_offer,
                                  .next = list_next,
                                  .done = list_done,
                                  .backoff = list_backoff,
                                  .pause = list_pause,
                                  .resume = list_resume,
                                  .close = list_close,
                                  .stop = list_stop};

/* ---- front_polite: a recursive crawl, per origin, round-robin ---- */

static int polite_offer(void *self, const front_offer *o)
{
    frontier *f = self;
    if (!o->url)
        return -EINVAL;
    char *origin = frontier_origin_of(o->url);
    fr_host *h = origin ? frontier_host(f, origin) : NULL;
    free(origin);
    char *url = h ? strdup(o->url) : NULL;
    char *parent = url && o->parent ? strdup(o->parent) : NULL;
    if (!url || (o->parent && !parent)) {
        free(url);
        return -ENOMEM;
    }
    int st = frontier_push(f, h, url, parent, o->depth); /* takes url and parent */
    if (st == 0)
        frontier_notify(f);
    return st;
}

/* Host and port of a normalized URL without a URL parser (queued URLs are
 * already canonical): fills fi->url, fi->host, fi->port. */
static void split_url(const char *url, fetch_item *fi)
{
    char hb[300];
    const char *h = discover_host_of(url, hb, sizeof hb);
    if (!h) {
        fi->url = input_url(url, fi->why, sizeof fi->why, &fi->host, &fi->port);
        return;
    }
    fi->url = strdup(url);
    fi->host = strdup(h);
    if (!fi->url || !fi->host) {
        free(fi->url);
        free(fi->host);
        fi->url = fi->host = NULL;
        snprintf(fi->why, sizeof fi->why, "out of memory");
        return;
    }
    fi->port = strncmp(url, "https:", 6) == 0 ? 443 : 80;
    const char *a = strstr(url, "://") + 3;
    size_t alen = strcspn(a, "/?#");
    const char *rb = memchr(a, ']', alen);
    const char *colon = memchr(rb ? rb : a, ':', alen - (size_t)((rb ? rb : a) - a));
    if (colon)
        fi->port = strtol(colon + 1, NULL, 10);
}

static int polite_next(void *self, front_lease *l)
{
    fr_item *it;
    fr_host *h;
    int st = frontier_next(self, &it, &h);
    if (st < 0)
        return st;
    fetch_item *fi = calloc(1, sizeof *fi);
    if (fi) {
        fi->item = -1;
        fi->line = strdup(it->url);
        split_url(it->url, fi);
    }
    if (!fi || !fi->line) {
        front_item_free(fi);
        fr_item_free(it);
        frontier_done(self, h, 0);
        return -ENOMEM;
    }
    *l = (front_lease){
        .fi = fi, .page = true, .depth = it->depth, .parent = it->parent, .origin = h, .be_item = it, .be_host = h};
    return 0;
}

static void polite_done(void *self, front_lease *l, int64_t backoff_ns)
{
    front_item_free(l->fi);
    fr_item_free(l->be_item);
    frontier_done(self, l->be_host, backoff_ns);
    l->fi = NULL;
}

static void polite_backoff(void *self, front_lease *l, int64_t ns)
{
    (void)self;
    fr_host *h = l->be_host;
    int64_t t = co_now_ns() + ns;
    if (t > h->next_ns)
        h->next_ns = t;
}

/* A crawl's retry keeps its worker: the origin's cap holds either way. */
static void polite_pause(void *self) { (void)self; }
static int polite_resume(void *self)
{
    (void)self;
    return 0;
}
/* Seeds are read under frontier_hold: the crawl is complete once nothing is
 * queued or leased, so closing needs nothing more. */
static void polite_close(void *self) { frontier_notify(self); }
static void polite_stop(void *self) { frontier_close(self); }

const front_ops front_polite_ops = {.name = "polite",
                                    .offer = polite_offer,
                                    .next = polite_next,
                                    .done = polite_done,
                                    .backoff = polite_backoff,
                                    .pause = polite_pause,
                                    .resume = polite_resume,
                                    .close = polite_close,
                                    .stop = polite_stop};
