/* hash: FNV-1a, the string hash behind crawl's small tables (DNS cache,
 * hosts, frontier origins, connection counters, cached directories) and the
 * hash suffix of shortened file names. The seen set, which hashes every
 * discovered URL, uses XXH3 (libxxhash) instead. Header-only, pure, any
 * thread. */
#ifndef CRAWL_HASH_H
#define CRAWL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CRAWL_FNV_OFFSET 0xcbf29ce484222325ULL
#define CRAWL_FNV_PRIME 0x100000001b3ULL

static inline uint64_t crawl_hash(const void *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = CRAWL_FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * CRAWL_FNV_PRIME;
    return h;
}

static inline uint64_t crawl_hash_str(const char *s)
{
    uint64_t h = CRAWL_FNV_OFFSET;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * CRAWL_FNV_PRIME;
    return h;
}

/* ASCII case-insensitive (host names). */
static inline uint64_t crawl_hash_lower(const char *s)
{
    uint64_t h = CRAWL_FNV_OFFSET;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * CRAWL_FNV_PRIME;
    }
    return h;
}

#endif
