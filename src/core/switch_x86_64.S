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
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    (%rsi), %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
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
