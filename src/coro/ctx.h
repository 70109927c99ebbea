/* ctx: the machine context switch under every coroutine.
 *
 * A co_ctx is a suspended execution: on x86-64 (System V) and aarch64 (AAPCS64)
 * it is just the saved stack pointer, with the callee-saved registers (and the
 * x87 control word + MXCSR, or d8-d15) pushed on the suspended stack by our own
 * assembly (ctx_x86_64.S, ctx_aarch64.S). Every other architecture falls back
 * to ucontext at compile time (slow: glibc's swapcontext makes a syscall).
 *
 * Thread rules: a context may be resumed only on the thread that owns its stack
 * memory's loop; the module itself keeps no state at all.
 */
#ifndef CRAWL_CORO_CTX_H
#define CRAWL_CORO_CTX_H

#include <stddef.h>

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(CO_FORCE_UCONTEXT)
#define CO_CTX_ASM 1
typedef struct co_ctx {
    void *sp;
} co_ctx;
/* Implemented in assembly. Saves the current context's registers on its stack,
 * stores its stack pointer into *save_sp, then resumes load_sp. */
void co_ctx_jump(void **save_sp, void *load_sp);
static inline void co_ctx_switch(co_ctx *from, co_ctx *to) { co_ctx_jump(&from->sp, to->sp); }
#else
#define CO_CTX_ASM 0
#include <ucontext.h>
typedef struct co_ctx {
    ucontext_t uc;
} co_ctx;
static inline void co_ctx_switch(co_ctx *from, co_ctx *to) { swapcontext(&from->uc, &to->uc); }
#endif

/* Prepare *c so that switching to it runs fn(arg) on the stack [lo, lo+size).
 * fn must never return: it ends by switching to another context. The stack
 * pointer at fn's entry is aligned as the ABI demands (16 bytes before the call). */
void co_ctx_make(co_ctx *c, void *lo, size_t size, void (*fn)(void *), void *arg);

#endif
