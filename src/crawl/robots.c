/* robots: see robots.h. */
#include "robots.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct rule {
    bool allow;
    bool anchored; /* the pattern ended in '$' (removed from pattern) */
    char *pattern; /* escaped, runs of '*' collapsed to one */
    size_t plen;   /* bytes in pattern */
    size_t len;    /* the rule's length as written (escaped): its precedence */
    int group;
} rule;

typedef struct group {
    char **agents; /* product tokens, as written */
    size_t nagents;
    bool star;
    double crawl_delay; /* < 0: none */
} group;

struct robots {
    group *groups;
    size_t ngroups;
    rule *rules;
    size_t nrules;
    size_t pattern_bytes; /* all patterns together: the cost of one check is at most this times the path */
    char **sitemaps;
    size_t nsitemaps;
};

/* Room for element n of an array that holds n: capacity 8, 16, 32, ...
 * NULL when out of memory (p is then still valid and owned by the caller). */
static void *grow(void *p, size_t n, size_t size)
{
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
        return p;
    return realloc(p, (n ? n * 2 : 8) * size);
}

/* grow() the array whose pointer is at pp (any element type), noting a
 * failure in *oom; true when element n fits. */
static bool grow_at(void *pp, size_t n, size_t size, bool *oom)
{
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = grow(p, n, size);
    if (!q) {
        *oom = true;
        return false;
    }
    memcpy(pp, &q, sizeof q);
    return true;
}
#define GROW(arr, n, oomflag) grow_at(&(arr), (n), sizeof *(arr), &(oomflag))

/* Percent-encode bytes >= 0x80 and upper-case existing %xx escapes. */
static char *escape_pattern(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(3 * n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
            o[k++] = '%';
            o[k++] = (char)toupper((unsigned char)s[i + 1]);
            o[k++] = (char)toupper((unsigned char)s[i + 2]);
            i += 2;
        } else if (c >= 0x80) {
            o[k++] = '%';
            o[k++] = hex[c >> 4];
            o[k++] = hex[c & 15];
        } else {
            o[k++] = (char)c;
        }
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

/* The leading product token: letters, '_' and '-'. */
/* Longest pattern kept: a longer one is cut there (which only widens it). */
#define ROBOTS_MAX_PATTERN 8192

/* Split off a final '$', collapse runs of '*' (a pattern of 500,000 '*' is
 * one '*'), and cap the length; the precedence keeps the written length. */
static void compile_rule(rule *ru)
{
    ru->anchored = false;
    if (!ru->pattern) {
        ru->plen = 0;
        return;
    }
    size_t n = ru->len;
    if (n && ru->pattern[n - 1] == '$') {
        ru->anchored = true;
        n--;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < ROBOTS_MAX_PATTERN; i++) {
        if (ru->pattern[i] == '*' && k && ru->pattern[k - 1] == '*')
            continue;
        ru->pattern[k++] = ru->pattern[i];
    }
    if (k == ROBOTS_MAX_PATTERN && n > k)
        ru->anchored = false; /* cut: now a prefix of what was written */
    ru->pattern[k] = 0;
    ru->plen = k;
}

static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
        i++;
    return i;
}

robots *robots_parse(const char *body, size_t len)
{
    robots *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (len > ROBOTS_MAX_BYTES)
        len = ROBOTS_MAX_BYTES;
    const char *p = body, *end = body + len;
    /* UTF-8 byte order mark */
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3;
    int cur = -1;          /* current group */
    bool in_agents = false;/* the last directive was user-agent */
    bool oom = false;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        const char *ls = p, *le = eol;
        p = eol; /* a line ends at LF, CR or CRLF */
        if (p < end && *p == '\r') {
            p++;
            if (p < end && *p == '\n')
                p++;
        } else if (p < end && *p == '\n') {
            p++;
        }
        /* strip comment and blanks */
        const char *hash = memchr(ls, '#', (size_t)(le - ls));
        if (hash)
            le = hash;
        while (ls < le && isspace((unsigned char)*ls))
            ls++;
        while (le > ls && isspace((unsigned char)le[-1]))
            le--;
        if (ls == le)
            continue;
        const char *colon = memchr(ls, ':', (size_t)(le - ls));
        if (!colon)
            continue;
        const char *ke = colon;
        while (ke > ls && isspace((unsigned char)ke[-1]))
            ke--;
        const char *vs = colon + 1;
        while (vs < le && isspace((unsigned char)*vs))
            vs++;
        size_t klen = (size_t)(ke - ls), vlen = (size_t)(le - vs);
#define KEY(s) (klen == sizeof(s) - 1 && strncasecmp(ls, s, klen) == 0)
        if (KEY("user-agent")) {
            if (!in_agents) {
                if (!GROW(r->groups, r->ngroups, oom))
                    break;
                cur = (int)r->ngroups++;
                memset(&r->groups[cur], 0, sizeof(group));
                r->groups[cur].crawl_delay = -1;
            }
            in_agents = true;
            group *g = &r->groups[cur];
            if (vlen >= 1 && vs[0] == '*' && (vlen == 1 || isspace((unsigned char)vs[1]))) {
                g->star = true;
            } else {
                size_t tl = token_len(vs, vlen);
                if (tl) {
                    if (!GROW(g->agents, g->nagents, oom) || !(g->agents[g->nagents] = strndup(vs, tl))) {
                        oom = true;
                        break;
                    }
                    g->nagents++;
                }
            }
            continue;
        }
        /* Only rules end a run of user-agent lines: sitemap, crawl-delay and
         * unknown lines between them keep the agents in one group. */
        if (KEY("allow") || KEY("disallow")) {
            in_agents = false;
            if (cur < 0 || vlen == 0)
                continue; /* rules outside a group, and empty rules, are ignored */
            if (!GROW(r->rules, r->nrules, oom))
                break;
            rule *ru = &r->rules[r->nrules++];
            ru->allow = KEY("allow");
            ru->pattern = escape_pattern(vs, vlen, &ru->len);
            ru->group = cur;
            if (!ru->pattern) {
                oom = true;
                break;
            }
            compile_rule(ru);
            r->pattern_bytes += ru->plen;
        } else if (KEY("crawl-delay")) {
            if (cur >= 0) {
                char buf[32];
                size_t n = vlen < sizeof buf - 1 ? vlen : sizeof buf - 1;
                memcpy(buf, vs, n);
                buf[n] = 0;
                char *e;
                double d = strtod(buf, &e);
                if (e != buf && d >= 0)
                    r->groups[cur].crawl_delay = d;
            }
        } else if (KEY("sitemap")) {
            if (vlen) {
                if (!GROW(r->sitemaps, r->nsitemaps, oom) || !(r->sitemaps[r->nsitemaps] = strndup(vs, vlen))) {
                    oom = true;
                    break;
                }
                r->nsitemaps++;
            }
        }
#undef KEY
    }
    if (oom) { /* out of memory: no half-parsed rules */
        robots_free(r);
        return NULL;
    }
    return r;
}

void robots_free(robots *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ngroups; i++) {
        for (size_t j = 0; j < r->groups[i].nagents; j++)
            free(r->groups[i].agents[j]);
        free(r->groups[i].agents);
    }
    free(r->groups);
    for (size_t i = 0; i < r->nrules; i++)
        free(r->rules[i].pattern);
    free(r->rules);
    for (size_t i = 0; i < r->nsitemaps; i++)
        free(r->sitemaps[i]);
    free(r->sitemaps);
    free(r);
}

/* Which groups apply to agent: 1 = specific, 2 = via "*", 0 = none. */
static void select_groups(const robots *r, const char *agent, bool *use)
{
    size_t al = token_len(agent, strlen(agent));
    bool specific = false;
    for (size_t i = 0; i < r->ngroups; i++) {
        use[i] = false;
        for (size_t j = 0; j < r->groups[i].nagents; j++)
            if (al && strlen(r->groups[i].agents[j]) == al && strncasecmp(r->groups[i].agents[j], agent, al) == 0)
                use[i] = specific = true;
    }
    if (!specific)
        for (size_t i = 0; i < r->ngroups; i++)
            use[i] = r->groups[i].star;
}

/* Does pattern match a prefix of path (or, anchored, all of it)? The
 * two-pointer wildcard match: on a mismatch, go back to just after the last
 * '*' and let it absorb one more byte. With runs of '*' collapsed, a check
 * costs at most plen x patlen steps, and usually about plen + patlen. */
static bool pattern_match(const char *path, size_t plen, const char *pat, size_t patlen, bool anchored)
{
    size_t i = 0, j = 0, star = (size_t)-1, mark = 0;
    for (;;) {
        if (j == patlen) {
            if (!anchored || i == plen)
                return true;
        } else if (pat[j] == '*') {
            star = j++;
            mark = i;
            continue;
        } else if (i < plen && pat[j] == path[i]) {
            i++;
            j++;
            continue;
        }
        if (star == (size_t)-1 || mark >= plen)
            return false;
        j = star + 1;
        i = ++mark;
    }
}

char *robots_path_of(const char *url)
{
    const char *p = url;
    const char *scheme_end = strstr(url, "://");
    if (scheme_end) {
        p = scheme_end + 3;
        p += strcspn(p, "/?#"); /* skip the authority */
    }
    size_t n = strcspn(p, "#");
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t k = 0;
    if (n == 0 || p[0] != '/')
        out[k++] = '/';
    memcpy(out + k, p, n);
    out[k + n] = 0;
    return out;
}

bool robots_allowed(const robots *r, const char *agent, const char *url)
{
    if (!r || r->nrules == 0)
        return true;
    bool stack[32];
    bool *use = r->ngroups <= 32 ? stack : malloc(r->ngroups * sizeof *use);
    select_groups(r, agent, use);
    char *path = robots_path_of(url);
    size_t plen = path ? strlen(path) : 0;
    long best_allow = -1, best_disallow = -1;
    for (size_t i = 0; path && i < r->nrules; i++) {
        const rule *ru = &r->rules[i];
        if (!use[ru->group])
            continue;
        if (!ru->pattern || !pattern_match(path, plen, ru->pattern, ru->plen, ru->anchored))
            continue;
        long *best = ru->allow ? &best_allow : &best_disallow;
        if ((long)ru->len > *best)
            *best = (long)ru->len;
    }
    free(path);
    if (use != stack)
        free(use);
    return best_disallow < 0 || best_allow >= best_disallow;
}

size_t robots_cost(const robots *r) { return r ? r->pattern_bytes : 0; }

double robots_crawl_delay(const robots *r, const char *agent)
{
    if (!r || r->ngroups == 0)
        return -1;
    bool stack[32];
    bool *use = r->ngroups <= 32 ? stack : malloc(r->ngroups * sizeof *use);
    select_groups(r, agent, use);
    double d = -1;
    for (size_t i = 0; i < r->ngroups; i++)
        if (use[i] && r->groups[i].crawl_delay >= 0 && r->groups[i].crawl_delay > d)
            d = r->groups[i].crawl_delay;
    if (use != stack)
        free(use);
    return d;
}

size_t robots_sitemap_count(const robots *r) { return r ? r->nsitemaps : 0; }
const char *robots_sitemap(const robots *r, size_t i) { return r && i < r->nsitemaps ? r->sitemaps[i] : NULL; }
