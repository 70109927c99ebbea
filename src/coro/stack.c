/* stack: see stack.h. */
#include "stack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CO_HAVE_VALGRIND 1
#endif
#endif
#ifndef CO_HAVE_VALGRIND
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13: a guard page that is a page-table marker, not a VMA */
#endif

#define ARENA_STACKS 64
#define GUARD_CHUNK 32 /* guarded stacks per mapping */
#define WATERMARK_OFFSET (8 * 1024) /* from the top of the stack */

/* One mapping carved into GUARD_CHUNK slots of [guard page | stack]. A slot's
 * guard page is protected when the slot is first handed out; slots are never
 * unmapped alone, only with the whole pool. */
struct co_gchunk {
    char *base;
    size_t len;
    size_t used; /* slots handed out so far */
    struct co_gchunk *next;
    co_stack stacks[GUARD_CHUNK];
};

struct co_arena {
    void *base;
    size_t len;
    co_stack stacks[ARENA_STACKS];
    struct co_arena *next;
};

long co_stack_max_map_count(void)
{
    long v = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1 || v <= 0)
            v = 65530;
        fclose(f);
    }
    return v;
}

int co_stack_pool_init(co_stack_pool *p, size_t size, size_t max_cached)
{
    long pg = sysconf(_SC_PAGESIZE);
    p->page = pg > 0 ? (size_t)pg : 4096;
    if (size < 16 * 1024)
        size = 16 * 1024;
    p->size = (size + p->page - 1) / p->page * p->page;
    p->max_cached = max_cached;
    p->cached = 0;
    p->guarded_live = 0;
    /* Two VMAs per guarded stack; keep them within 40% of the budget. */
    p->guarded_budget = (size_t)(co_stack_max_map_count() * 4 / 10 / 2);
    p->light_guards = true; /* until the kernel says otherwise */
    p->free_guarded = NULL;
    p->free_arena = NULL;
    p->arenas = NULL;
    p->gchunks = NULL;
    p->in_use = 0;
    return 0;
}

/* Give pages below the watermark line back to the kernel if they were used. */
static void watermark_recycle(co_stack_pool *p, co_stack *s)
{
    if (p->size <= 2 * WATERMARK_OFFSET)
        return;
    size_t len = s->size - WATERMARK_OFFSET;
    len -= len % p->page;
    uint64_t *mark = (uint64_t *)((char *)s->lo + len) - 1;
    if (*mark != 0)
        madvise(s->lo, len, MADV_DONTNEED);
}

static co_stack *guarded_new(co_stack_pool *p)
{
    struct co_gchunk *g = p->gchunks;
    size_t slot = p->page + p->size;
    if (!g || g->used == GUARD_CHUNK) {
        g = malloc(sizeof *g);
        if (!g)
            return NULL;
        g->len = slot * GUARD_CHUNK;
        g->base = mmap(NULL, g->len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (g->base == MAP_FAILED) {
            free(g);
            return NULL;
        }
        g->used = 0;
        g->next = p->gchunks;
        p->gchunks = g;
    }
    char *m = g->base + g->used * slot;
    if (p->light_guards && madvise(m, p->page, MADV_GUARD_INSTALL) != 0)
        p->light_guards = false; /* an older kernel: fall back to mprotect from now on */
    if (!p->light_guards && mprotect(m, p->page, PROT_NONE) != 0)
        return NULL; /* out of mappings: the slot stays free, the caller uses an arena */
    co_stack *s = &g->stacks[g->used++];
    s->lo = m + p->page;
    s->size = p->size;
    s->guarded = true;
    s->from_arena = false;
    s->next_free = NULL;
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + s->size);
    p->guarded_live++;
    return s;
}

static int arena_grow(co_stack_pool *p)
{
    struct co_arena *a = malloc(sizeof *a);
    if (!a)
        return -ENOMEM;
    a->len = p->size * ARENA_STACKS;
    a->base = mmap(NULL, a->len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (a->base == MAP_FAILED) {
        free(a);
        return -ENOMEM;
    }
    for (size_t i = 0; i < ARENA_STACKS; i++) {
        co_stack *s = &a->stacks[i];
        s->lo = (char *)a->base + i * p->size;
        s->size = p->size;
        s->guarded = false;
        s->from_arena = true;
        s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + s->size);
        s->next_free = p->free_arena;
        p->free_arena = s;
    }
    a->next = p->arenas;
    p->arenas = a;
    return 0;
}

co_stack *co_stack_get(co_stack_pool *p)
{
    co_stack *s = NULL;
    if (p->free_guarded) {
        s = p->free_guarded;
        p->free_guarded = s->next_free;
        p->cached--;
    } else if (p->free_arena) {
        s = p->free_arena;
        p->free_arena = s->next_free;
    } else if ((p->light_guards || p->guarded_live < p->guarded_budget) && (s = guarded_new(p)) != NULL) {
        /* fresh guarded stack */
    } else if (arena_grow(p) == 0) {
        s = p->free_arena;
        p->free_arena = s->next_free;
    }
    if (s)
        p->in_use++;
    return s;
}

void co_stack_put(co_stack_pool *p, co_stack *s)
{
    p->in_use--;
    if (s->from_arena) {
        watermark_recycle(p, s);
        s->next_free = p->free_arena;
        p->free_arena = s;
        return;
    }
    /* Beyond max_cached free guarded stacks, a freed stack's memory goes back
     * to the kernel; its mapping and guard page stay for the next task. */
    if (p->cached < p->max_cached)
        watermark_recycle(p, s);
    else
        madvise(s->lo, s->size, MADV_DONTNEED);
    s->next_free = p->free_guarded;
    p->free_guarded = s;
    p->cached++;
}

bool co_stack_fault_in_guard(const co_stack *s, const void *addr)
{
    const char *a = addr, *lo = s->lo;
    if (s->guarded)
        return a >= lo - 4096 * 16 && a < lo + 64; /* guard page, or a frame that jumped it */
    return a >= lo - 4096 && a < lo + 4096;
}

void co_stack_pool_destroy(co_stack_pool *p)
{
    while (p->gchunks) {
        struct co_gchunk *g = p->gchunks;
        p->gchunks = g->next;
        for (size_t i = 0; i < g->used; i++)
            VALGRIND_STACK_DEREGISTER(g->stacks[i].valgrind_id);
        munmap(g->base, g->len);
        free(g);
    }
    p->free_guarded = NULL;
    p->cached = 0;
    p->guarded_live = 0;
    while (p->arenas) {
        struct co_arena *a = p->arenas;
        p->arenas = a->next;
        for (size_t i = 0; i < ARENA_STACKS; i++)
            VALGRIND_STACK_DEREGISTER(a->stacks[i].valgrind_id);
        munmap(a->base, a->len);
        free(a);
    }
    p->free_arena = NULL;
}
