/* seen: the set of URLs a crawl has already queued, for de-duplication.
 *
 * It stores a 64-bit hash per URL (of its normalized form) in an
 * open-addressing table kept at most 3/4 full and doubled when it fills:
 * 8 bytes per slot, so between 10.7 and 21.3 bytes per URL depending on where
 * the table is in its growth (21.3 right after a doubling, when it is 3/8
 * full; 10.7 just before the next; about 13.4 at 10 million URLs). A hash collision (two different URLs with one 64-bit hash)
 * makes the second URL count as seen, so it is skipped: the chance of any
 * collision among n URLs is about n^2 / 2^65, i.e. 3 in a million at ten
 * million URLs. Hash 0 is reserved as "empty" (a URL hashing to 0 is stored
 * as 1).
 *
 * Loop thread only. The set owns its table.
 */
#ifndef CRAWL_CRAWL_SEEN_H
#define CRAWL_CRAWL_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct seen_set {
    uint64_t *slots;
    size_t cap;   /* power of two */
    size_t count;
} seen_set;

int seen_init(seen_set *s, size_t expected);
void seen_free(seen_set *s);
uint64_t seen_hash(const char *url, size_t len);
/* Insert; true if it was new, false if already present (or -ENOMEM: false
 * and *err set). */
bool seen_add(seen_set *s, const char *url, size_t len, int *err);
bool seen_has(const seen_set *s, const char *url, size_t len);
size_t seen_bytes(const seen_set *s);

#endif
