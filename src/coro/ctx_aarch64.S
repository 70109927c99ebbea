/* aarch64 AAPCS64 context switch. See ctx.h.
 * Saved on the suspended stack (0xb0 bytes, sp stays 16-byte aligned):
 *   d8-d15 at [sp+0x00..0x38], x19-x28 at [sp+0x40..0x88], x29 at 0x90,
 *   x30 (resume address) at 0x98, FPCR at 0xa0. */
#if defined(__aarch64__) && !defined(CO_FORCE_UCONTEXT)
    .text
    .globl co_ctx_jump
    .type co_ctx_jump, %function
    .p2align 4
co_ctx_jump:
    .cfi_startproc
    hint #34
    sub sp, sp, #0xb0
    stp d8, d9, [sp, #0x00]
    stp d10, d11, [sp, #0x10]
    stp d12, d13, [sp, #0x20]
    stp d14, d15, [sp, #0x30]
    stp x19, x20, [sp, #0x40]
    stp x21, x22, [sp, #0x50]
    stp x23, x24, [sp, #0x60]
    stp x25, x26, [sp, #0x70]
    stp x27, x28, [sp, #0x80]
    stp x29, x30, [sp, #0x90]
    mrs x9, fpcr
    str x9, [sp, #0xa0]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldr x9, [sp, #0xa0]
    msr fpcr, x9
    ldp d8, d9, [sp, #0x00]
    ldp d10, d11, [sp, #0x10]
    ldp d12, d13, [sp, #0x20]
    ldp d14, d15, [sp, #0x30]
    ldp x19, x20, [sp, #0x40]
    ldp x21, x22, [sp, #0x50]
    ldp x23, x24, [sp, #0x60]
    ldp x25, x26, [sp, #0x70]
    ldp x27, x28, [sp, #0x80]
    ldp x29, x30, [sp, #0x90]
    add sp, sp, #0xb0
    ret
    .cfi_endproc
    .size co_ctx_jump, .-co_ctx_jump

/* First code on a fresh stack: x19 = argument, x20 = function. */
    .globl co_ctx_entry_aarch64
    .type co_ctx_entry_aarch64, %function
    .p2align 4
co_ctx_entry_aarch64:
    .cfi_startproc
    .cfi_undefined x30
    hint #34
    mov x0, x19
    blr x20
    brk #0
    .cfi_endproc
    .size co_ctx_entry_aarch64, .-co_ctx_entry_aarch64
#endif
    .section .note.GNU-stack,"",%progbits
