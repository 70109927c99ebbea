/* x86-64 System V context switch. See ctx.h.
 * Saved on the suspended stack, from the saved sp upwards:
 *   [sp+0]  MXCSR (4 bytes), [sp+4] x87 control word (2 bytes), padding to 16
 *   [sp+16] r15, r14, r13, r12, rbx, rbp, return address
 * MXCSR control bits and the x87 control word are callee-saved in the psABI. */
#if defined(__x86_64__) && !defined(CO_FORCE_UCONTEXT)
    .text
    .globl co_ctx_jump
    .type co_ctx_jump, @function
    .p2align 4
co_ctx_jump:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $16, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size co_ctx_jump, .-co_ctx_jump

/* First code run on a fresh stack: r12 = argument, r13 = function.
 * rsp is 16-byte aligned here, so the call leaves fn's entry at rsp%16 == 8. */
    .globl co_ctx_entry_x86_64
    .type co_ctx_entry_x86_64, @function
    .p2align 4
co_ctx_entry_x86_64:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size co_ctx_entry_x86_64, .-co_ctx_entry_x86_64
#endif
    .section .note.GNU-stack,"",@progbits
