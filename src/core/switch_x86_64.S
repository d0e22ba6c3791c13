/* switch_x86_64.S: the coroutine switch for x86-64 System V: callee-saved registers and FP control state. */

/*
 * Frame saved on the suspended stack, from the saved stack pointer up:
 *   0: MXCSR (4 bytes), x87 control word (2 bytes), padding
 *   8: r15  16: r14  24: r13  32: r12  40: rbx  48: rbp  56: return address
 * A fresh context starts with r12 = entry, r13 = its argument and the return address at the trampoline.
 */
    .text

    .globl  cio__ctx_switch
    .hidden cio__ctx_switch
    .type   cio__ctx_switch, @function
    .p2align 4
cio__ctx_switch:
    .cfi_startproc
    leaq    -56(%rsp), %rsp
    .cfi_adjust_cfa_offset 56
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %r15, 8(%rsp)
    movq    %r14, 16(%rsp)
    movq    %r13, 24(%rsp)
    movq    %r12, 32(%rsp)
    movq    %rbx, 40(%rsp)
    movq    %rbp, 48(%rsp)
    movq    %rsp, (%rdi)
    movq    (%rsi), %rsp
    /* Return with an indirect jump, not `ret`: the return-stack predictor would guess the caller of this
       switch, which is on the other stack, and miss every time; the indirect predictor learns the pattern. */
    movq    56(%rsp), %rax
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    movq    8(%rsp), %r15
    movq    16(%rsp), %r14
    movq    24(%rsp), %r13
    movq    32(%rsp), %r12
    movq    40(%rsp), %rbx
    movq    48(%rsp), %rbp
    leaq    64(%rsp), %rsp
    .cfi_adjust_cfa_offset -56
    jmp     *%rax
    .cfi_endproc
    .size   cio__ctx_switch, .-cio__ctx_switch

/* First code run on a new stack. The return address is undefined, so unwinders and debuggers stop here. */
    .globl  cio__ctx_trampoline
    .hidden cio__ctx_trampoline
    .type   cio__ctx_trampoline, @function
    .p2align 4
cio__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq    %r13, %rdi
    callq   *%r12
    ud2
    .cfi_endproc
    .size   cio__ctx_trampoline, .-cio__ctx_trampoline

    .section .note.GNU-stack, "", @progbits
