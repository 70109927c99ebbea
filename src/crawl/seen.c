/* seen: see seen.h. */
#include "seen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* 64-bit hash: XXH3 (libxxhash), well mixed in every bit, so the low bits
 * index the table directly. */
uint64_t seen_hash(const char *url, size_t len)
{
    uint64_t h = XXH3_64bits(url, len);
    return h ? h : 1;
}

int seen_init(seen_set *s, size_t expected)
{
    size_t cap = 1024;
    while (cap * 3 / 4 < expected)
        cap *= 2;
    s->slots = calloc(cap, sizeof *s->slots);
    if (!s->slots)
        return -ENOMEM;
    s->cap = cap;
    s->count = 0;
    return 0;
}

void seen_free(seen_set *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = 0;
}

static bool insert_hash(uint64_t *slots, size_t cap, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    while (slots[i]) {
        if (slots[i] == h)
            return false;
        i = (i + 1) & (cap - 1);
    }
    slots[i] = h;
    return true;
}

bool seen_add(seen_set *s, const char *url, size_t len, int *err)
{
    if (err)
        *err = 0;
    if ((s->count + 1) * 4 > s->cap * 3) {
        size_t ncap = s->cap * 2;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) {
            if (err)
                *err = -ENOMEM;
            return false;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                insert_hash(ns, ncap, s->slots[i]);
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    bool added = insert_hash(s->slots, s->cap, seen_hash(url, len));
    if (added)
        s->count++;
    return added;
}

bool seen_has(const seen_set *s, const char *url, size_t len)
{
    uint64_t h = seen_hash(url, len);
    size_t i = (size_t)h & (s->cap - 1);
    while (s->slots[i]) {
        if (s->slots[i] == h)
            return true;
        i = (i + 1) & (s->cap - 1);
    }
    return false;
}

size_t seen_bytes(const seen_set *s) { return s->cap * sizeof *s->slots; }
