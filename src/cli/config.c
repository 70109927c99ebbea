/* config: see config.h. */
#include "config.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct loader {
    conf *c;
    FILE *f;
    FILE *err;
    int line;          /* line the reader returned last */
    int errors;
    bool overlong;     /* the current line did not fit inih's buffer */
    conf_job *cur;     /* NULL in [defaults] */
    bool in_section;
    bool bad_section;
} loader;

static void enter_section(loader *L, const char *section);

/* inih's reader: one line per call, counted, overlong lines detected (inih's
 * buffer is INI_MAX_LINE bytes and would otherwise cut them silently). */
static char *reader(char *buf, int num, void *stream)
{
    loader *L = stream;
    if (!fgets(buf, num, L->f))
        return NULL;
    L->line++;
    size_t n = strlen(buf);
    if (n == (size_t)num - 1 && buf[n - 1] != '\n' && !feof(L->f)) {
        int ch;
        while ((ch = fgetc(L->f)) != EOF && ch != '\n')
            ;
        fprintf(L->err, "%s:%d: line longer than %d characters (use ${VAR} for long values)\n", L->c->path,
                L->line, num - 2);
        L->errors++;
        buf[0] = '\n'; /* hand inih an empty line instead */
        buf[1] = 0;
        return buf;
    }
    const char *p = buf;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (e) {
            char name[256];
            size_t nl = (size_t)(e - p - 1);
            if (nl >= sizeof name)
                nl = sizeof name - 1;
            memcpy(name, p + 1, nl);
            name[nl] = 0;
            enter_section(L, name);
        }
    }
    return buf;
}

/* Expand ${NAME}; NULL (with a message) if a variable is unset or malformed. */
static char *expand(loader *L, const char *v)
{
    size_t cap = strlen(v) + 1, n = 0;
    char *out = xmalloc(cap);
    if (!out)
        return NULL;
    for (const char *p = v; *p;) {
        const char *add = p;
        size_t alen = 1;
        char name[256];
        if (p[0] == '$' && p[1] == '$') {
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            const char *e = strchr(p + 2, '}');
            size_t nl = e ? (size_t)(e - p - 2) : 0;
            if (!e || nl == 0 || nl >= sizeof name) {
                fprintf(L->err, "%s:%d: malformed ${...} in value\n", L->c->path, L->line);
                free(out);
                return NULL;
            }
            memcpy(name, p + 2, nl);
            name[nl] = 0;
            add = getenv(name);
            if (!add) {
                fprintf(L->err, "%s:%d: environment variable %s is not set\n", L->c->path, L->line, name);
                free(out);
                return NULL;
            }
            alen = strlen(add);
            p = e + 1;
        } else {
            p++;
        }
        if (n + alen + 1 > cap) {
            cap = (n + alen + 1) * 2;
            char *nb = xrealloc(out, cap);
            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
        }
        memcpy(out + n, add, alen);
        n += alen;
    }
    out[n] = 0;
    return out;
}

/* Entering "[NAME]": called from the reader, so jobs are registered (with
 * their line) even when they have no keys. */
static void enter_section(loader *L, const char *section)
{
    conf *c = L->c;
    L->in_section = true;
    L->bad_section = false;
    L->cur = NULL;
    if (strcmp(section, "defaults") == 0)
        return;
    if (strncmp(section, "job ", 4) == 0) {
        const char *jn = section + 4;
        while (*jn == ' ')
            jn++;
        if (*jn) {
            for (size_t i = 0; i < c->njobs; i++)
                if (strcmp(c->jobs[i].name, jn) == 0) {
                    fprintf(L->err, "%s:%d: job '%s' is defined twice (first at line %d)\n", c->path, L->line, jn,
                            c->jobs[i].line);
                    L->errors++;
                    L->bad_section = true;
                    return;
                }
            conf_job *nj = xrealloc(c->jobs, (c->njobs + 1) * sizeof *nj);
            if (!nj)
                abort();
            c->jobs = nj;
            L->cur = &c->jobs[c->njobs++];
            memset(L->cur, 0, sizeof *L->cur);
            L->cur->name = xstrdup(jn);
            L->cur->line = L->line;
            return;
        }
    }
    fprintf(L->err, "%s:%d: unknown section [%s] (expected [defaults] or [job NAME])\n", c->path, L->line, section);
    L->errors++;
    L->bad_section = true;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    loader *L = user;
    conf *c = L->c;
    (void)section;
    if (!name)
        return 1;
    if (L->bad_section)
        return 1; /* already reported */
    if (!L->in_section) {
        fprintf(L->err, "%s:%d: '%s' is outside any section\n", c->path, L->line, name);
        L->errors++;
        return 1;
    }
    char *v = expand(L, value);
    if (!v) {
        L->errors++;
        return 1;
    }
    char msg[1024];
    opt_list *target = L->cur ? &L->cur->set : &c->defaults;
    if (opts_lookup_key(name, v, c->path, L->line, target, msg, sizeof msg) < 0) {
        fprintf(L->err, "%s\n", msg);
        L->errors++;
    }
    free(v);
    return 1;
}

int conf_load(const char *path, conf *c, FILE *err)
{
    memset(c, 0, sizeof *c);
    c->path = xstrdup(path);
    loader L = {.c = c, .err = err};
    L.f = fopen(path, "re");
    if (!L.f) {
        fprintf(err, "crawl: cannot read configuration file '%s': %s\n", path, strerror(errno));
        return 1;
    }
    int rc = ini_parse_stream(reader, &L, on_entry, &L);
    fclose(L.f);
    if (rc > 0) {
        fprintf(err, "%s:%d: syntax error (expected 'key = value', '[defaults]' or '[job NAME]')\n", path, rc);
        L.errors++;
    } else if (rc < 0) {
        fprintf(err, "crawl: cannot parse '%s'\n", path);
        L.errors++;
    }
    return L.errors;
}

void conf_free(conf *c)
{
    opt_list_free(&c->defaults);
    for (size_t i = 0; i < c->njobs; i++) {
        free(c->jobs[i].name);
        opt_list_free(&c->jobs[i].set);
    }
    free(c->jobs);
    free(c->path);
    memset(c, 0, sizeof *c);
}
