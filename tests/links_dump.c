/* links_dump: print what the link extractor reports for each file named on
 * the command line, one "tag<TAB>value" line per link ("\n" and "\\" in a
 * value escaped), then "base<TAB>..." when the file has a <base href>.
 * Files are separated by a line holding only "\f". Used by the differential
 * test against html5lib (tests/integration/test_links_diff.py). */
#include <stdio.h>
#include <stdlib.h>

#include "crawl/links.h"

static void put(void *ud, const link_ref *l)
{
    (void)ud;
    fputs(l->tag, stdout);
    putchar('\t');
    for (size_t i = 0; i < l->len; i++) {
        char c = l->value[i];
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\\')
            fputs("\\\\", stdout);
        else
            putchar(c);
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t cap = 1 << 16, len = 0, n;
        char *buf = malloc(cap);
        while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
            len += n;
            if (len == cap) {
                char *nb = realloc(buf, cap *= 2);
                if (!nb)
                    free(buf);
                buf = nb;
            }
        }
        fclose(f);
        if (!buf) {
            fprintf(stderr, "%s: out of memory\n", argv[i]);
            return 1;
        }
        links_info info;
        links_extract(buf, len, 0, put, NULL, &info);
        if (info.base[0])
            printf("base\t%s\n", info.base);
        fputs("\f\n", stdout);
        free(buf);
    }
    return 0;
}
