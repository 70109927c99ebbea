/* stack: coroutine stacks, mmap'd, pooled and reused.
 *
 * Guard pages: on Linux 6.13 and later a guard page is a page-table marker
 * (madvise MADV_GUARD_INSTALL): no VMA, so every stack is guarded, and a
 * quarter of the cost of an mprotect (10,000 guards: 6.5 ms against 21-28 ms).
 * On older kernels (the madvise fails once) the pool falls back to mprotect
 * and the following applies. Guard pages vs. the kernel's mapping budget: a
 * stack with a PROT_NONE guard page costs two VMAs, and the kernel allows
 * vm.max_map_count (65530 by default) per process. The pool reads that limit
 * at init and hands out guarded stacks while they use at most 40% of it
 * (about 13,000 stacks on a default kernel). Past that it carves unguarded
 * stacks out of large arenas (one VMA per 64 stacks) whose lowest 32 bytes
 * are a canary that must stay zero; the scheduler checks it every time a
 * coroutine suspends or ends and aborts with a clear "stack overflow"
 * message if it was overwritten. The canary is zero so that it costs no
 * memory: an untouched page reads as zero without being committed (a
 * value-canary would commit a page per stack). 100,000 coroutines therefore
 * work on a default kernel, and the first ~13,000 still get exact guard-page
 * detection.
 *
 * Guarded stacks are carved 32 at a time out of one mapping (the guard page
 * installed per slot when first used) and are never unmapped alone: a run
 * that starts and ends 10,000 tasks costs 10,000 guard installs and 313
 * mmaps instead of 10,000 mmaps, mprotects and munmaps.
 *
 * Recycling: a stack that returns to the pool is given back to the kernel
 * (MADV_DONTNEED) below its top 8 KiB only when a watermark word there was
 * overwritten, so one deep call does not keep a stack committed forever; past
 * max_cached free guarded stacks, all of a returning stack is given back.
 *
 * Ownership and threads: a pool belongs to one loop and is used only on that
 * loop's thread. Stacks are owned by the pool; a task borrows one.
 */
#ifndef CRAWL_CORO_STACK_H
#define CRAWL_CORO_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct co_stack {
    void *lo;            /* lowest usable byte */
    size_t size;         /* usable bytes */
    bool guarded;        /* a PROT_NONE page sits right below lo */
    bool from_arena;     /* part of an arena mapping; never unmapped alone */
    unsigned valgrind_id;
    struct co_stack *next_free;
} co_stack;

typedef struct co_stack_pool {
    size_t size;            /* usable bytes per stack, page multiple */
    size_t page;
    size_t max_cached;      /* free guarded stacks kept committed */
    size_t cached;          /* guarded stacks in the free list */
    size_t guarded_live;    /* guarded stacks that exist (used or free) */
    size_t guarded_budget;  /* max guarded stacks at once (mprotect guards) */
    bool light_guards;      /* guard pages by MADV_GUARD_INSTALL: no VMA, no budget */
    co_stack *free_guarded;
    co_stack *free_arena;
    struct co_arena *arenas;
    struct co_gchunk *gchunks;
    size_t in_use;
} co_stack_pool;


int co_stack_pool_init(co_stack_pool *p, size_t size, size_t max_cached);
void co_stack_pool_destroy(co_stack_pool *p);
/* Returns NULL when memory (or mappings) run out. */
co_stack *co_stack_get(co_stack_pool *p);
void co_stack_put(co_stack_pool *p, co_stack *s);
/* false if an unguarded stack's canary was overwritten. */
static inline bool co_stack_intact(const co_stack *s)
{
    const volatile uint64_t *w = (const volatile uint64_t *)s->lo;
    return s->guarded || (w[0] | w[1] | w[2] | w[3]) == 0;
}
/* Does addr fall in this stack's guard page (or its lowest page, unguarded)? */
bool co_stack_fault_in_guard(const co_stack *s, const void *addr);

/* Read /proc/sys/vm/max_map_count (65530 when it cannot be read). */
long co_stack_max_map_count(void);

#endif
