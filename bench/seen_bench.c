/* seen_bench: bytes per URL of the crawl's seen set at 10 million URLs, and
 * the insert rate. Prints seen_bytes_per_url= and seen_ns_per_insert=. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crawl/seen.h"

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000000;
    seen_set s;
    if (seen_init(&s, 1024) < 0)
        return 1;
    char url[128];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(url, sizeof url, "http://host%zu.example/path/%zu/page-%zu.html", i % 1000, i / 7, i);
        added += seen_add(&s, url, (size_t)len, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
    printf("%zu URLs, %zu distinct by hash, table %zu bytes\n", n, added, seen_bytes(&s));
    printf("seen_bytes_per_url=%.1f\nseen_ns_per_insert=%.0f (including formatting the URL)\n",
           (double)seen_bytes(&s) / (double)n, ns);
    seen_free(&s);
    return 0;
}
