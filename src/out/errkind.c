/* errkind: see errkind.h. */
#include "errkind.h"

#include <string.h>

#define CRAWL_ERRKIND_NAME(name, desc) #name,
#define CRAWL_ERRKIND_DESC(name, desc) desc,
static const char *const names[] = {CRAWL_ERRKINDS(CRAWL_ERRKIND_NAME)};
static const char *const descs[] = {CRAWL_ERRKINDS(CRAWL_ERRKIND_DESC)};

const char *errkind_name(errkind k) { return (unsigned)k < ERRKIND_COUNT ? names[k] : NULL; }

const char *errkind_desc(errkind k) { return (unsigned)k < ERRKIND_COUNT ? descs[k] : NULL; }

const char *errkind_lookup(const char *kind)
{
    for (int k = 0; kind && k < ERRKIND_COUNT; k++)
        if (strcmp(names[k], kind) == 0)
            return names[k];
    return NULL;
}

void errkind_print_help(FILE *out)
{
    fputs("\nError kinds (error.kind in records):\n", out);
    for (int k = 0; k < ERRKIND_COUNT; k++)
        fprintf(out, "  %-12s %s\n", names[k], descs[k]);
}
