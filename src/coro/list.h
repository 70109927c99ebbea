/* list: intrusive circular doubly linked list, O(1) insert and unlink.
 * Header-only; no allocation. Not thread-safe: callers hold whatever lock
 * protects the list (in the runtime, lists are touched only on the loop thread). */
#ifndef CRAWL_CORO_LIST_H
#define CRAWL_CORO_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "crawl/co.h" /* defines co_dnode */

typedef co_dnode co_dlist; /* a list head is a sentinel node */

#define co_container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

static inline void co_dlist_init(co_dlist *l) { l->prev = l->next = l; }
static inline bool co_dlist_empty(const co_dlist *l) { return l->next == l; }
static inline void co_dnode_clear(co_dnode *n) { n->prev = n->next = NULL; }
static inline bool co_dnode_linked(const co_dnode *n) { return n->next != NULL; }

static inline void co_dlist_push_back(co_dlist *l, co_dnode *n)
{
    n->prev = l->prev;
    n->next = l;
    l->prev->next = n;
    l->prev = n;
}

static inline void co_dnode_unlink(co_dnode *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

static inline co_dnode *co_dlist_pop_front(co_dlist *l)
{
    if (co_dlist_empty(l))
        return NULL;
    co_dnode *n = l->next;
    co_dnode_unlink(n);
    return n;
}

#endif
