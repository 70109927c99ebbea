/* links_bench: link-extraction throughput on one core, our tokenizer vs
 * libxml2's HTML parser in SAX mode, over every .html file under a directory
 * (default: Debian's python3.11-doc, /usr/share/doc/python3.11/html).
 * Prints MB/s for each, the ratio, and links_mb_s= / libxml2_mb_s= lines. */
#define _GNU_SOURCE
#include <dirent.h>
#include <libxml/HTMLparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "crawl/links.h"

typedef struct doc {
    char *data;
    size_t len;
} doc;

static doc *docs;
static size_t ndocs, total;

static void load(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            load(path);
        } else if (strlen(e->d_name) > 5 && strcmp(e->d_name + strlen(e->d_name) - 5, ".html") == 0) {
            FILE *f = fopen(path, "rb");
            if (!f)
                continue;
            char *buf = malloc((size_t)st.st_size + 1);
            size_t n = fread(buf, 1, (size_t)st.st_size, f);
            fclose(f);
            buf[n] = 0;
            doc *grown = realloc(docs, (ndocs + 1) * sizeof *docs);
            if (!grown) {
                fprintf(stderr, "links_bench: out of memory\n");
                exit(1);
            }
            docs = grown;
            docs[ndocs++] = (doc){buf, n};
            total += n;
        }
    }
    closedir(d);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t nlinks;
static void count(void *ud, const link_ref *l)
{
    (void)ud;
    (void)l;
    nlinks++;
}

static size_t nelems;
static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    (void)ctx;
    (void)name;
    (void)atts;
    nelems++;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/doc/python3.11/html";
    load(dir);
    if (!ndocs) {
        fprintf(stderr, "links_bench: no .html files under %s (apt-get install python3.11-doc)\n", dir);
        return 1;
    }
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        nlinks = 0;
        double t0 = now();
        for (size_t i = 0; i < ndocs; i++) {
            links_info info;
            links_extract(docs[i].data, docs[i].len, 0, count, NULL, &info);
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    double ours = (double)total / best / 1e6;

    xmlInitParser();
    htmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.startElement = sax_start;
    double bestx = 1e9;
    for (int rep = 0; rep < 2; rep++) {
        nelems = 0;
        double t0 = now();
        for (size_t i = 0; i < ndocs; i++) {
            htmlParserCtxtPtr c = htmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
            htmlCtxtUseOptions(c, HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
            htmlParseChunk(c, docs[i].data, (int)docs[i].len, 1);
            htmlFreeParserCtxt(c);
        }
        double t = now() - t0;
        if (t < bestx)
            bestx = t;
    }
    double lx = (double)total / bestx / 1e6;
    printf("corpus: %zu files, %.1f MB under %s\n", ndocs, (double)total / 1e6, dir);
    printf("%-28s %10s %12s\n", "extractor (one core)", "MB/s", "links/elems");
    printf("%-28s %10.0f %12zu\n", "crawl links tokenizer", ours, nlinks);
    printf("%-28s %10.0f %12zu\n", "libxml2 HTML SAX", lx, nelems);
    printf("ratio: %.1fx libxml2\n", ours / lx);
    printf("links_mb_s=%.0f\nlibxml2_mb_s=%.0f\n", ours, lx);
    return 0;
}
