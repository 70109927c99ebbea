/* ctx: building a fresh context on a new stack. See ctx.h. */
#include "ctx.h"

#include <stdint.h>
#include <string.h>

#if CO_CTX_ASM && defined(__x86_64__)
void co_ctx_entry_x86_64(void);

void co_ctx_make(co_ctx *c, void *lo, size_t size, void (*fn)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    /* The return slot sits at an address = 8 (mod 16): after `ret` pops it,
     * rsp is 16-byte aligned in the entry trampoline, which then `call`s fn. */
    uint64_t *ret_slot = (uint64_t *)(top - 24);
    uint64_t *sp = ret_slot - 8; /* 16 bytes of FP control + 6 registers */
    memset(sp, 0, 9 * sizeof(uint64_t));
    uint32_t mxcsr;
    uint16_t fcw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    memcpy((char *)sp, &mxcsr, 4);
    memcpy((char *)sp + 4, &fcw, 2);
    sp[2] = 0;                       /* r15 */
    sp[3] = 0;                       /* r14 */
    sp[4] = (uint64_t)(uintptr_t)fn; /* r13 */
    sp[5] = (uint64_t)(uintptr_t)arg;/* r12 */
    sp[6] = 0;                       /* rbx */
    sp[7] = 0;                       /* rbp */
    *ret_slot = (uint64_t)(uintptr_t)co_ctx_entry_x86_64;
    c->sp = sp;
}

#elif CO_CTX_ASM && defined(__aarch64__)
void co_ctx_entry_aarch64(void);

void co_ctx_make(co_ctx *c, void *lo, size_t size, void (*fn)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 0xb0);
    memset(sp, 0, 0xb0);
    sp[8] = (uint64_t)(uintptr_t)arg;  /* x19 */
    sp[9] = (uint64_t)(uintptr_t)fn;   /* x20 */
    sp[19] = (uint64_t)(uintptr_t)co_ctx_entry_aarch64; /* x30 */
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    sp[20] = fpcr;
    c->sp = sp;
}

#else
/* ucontext fallback: makecontext only passes int arguments portably, so the
 * function and argument travel through two ints each. */
static void ctx_uc_entry(unsigned fhi, unsigned flo, unsigned ahi, unsigned alo)
{
    void (*fn)(void *) = (void (*)(void *))(((uintptr_t)fhi << 32) | flo);
    void *arg = (void *)(((uintptr_t)ahi << 32) | alo);
    fn(arg);
}

void co_ctx_make(co_ctx *c, void *lo, size_t size, void (*fn)(void *), void *arg)
{
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    uint64_t f = (uint64_t)(uintptr_t)fn, a = (uint64_t)(uintptr_t)arg;
    makecontext(&c->uc, (void (*)(void))ctx_uc_entry, 4, (unsigned)(f >> 32), (unsigned)f,
                (unsigned)(a >> 32), (unsigned)a);
}
#endif
