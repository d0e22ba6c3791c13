/* switch_x86_64.S: the first code a new x86-64 context runs (the switch itself is inline, in switch.h). */

/*
 * cio__ctx_make leaves the entry function and its argument just above the switch's frame, so that when the
 * first switch "resumes" here, they are at 0(%rsp) and 8(%rsp), and rsp is 16-byte aligned: the call below
 * enters the function with the alignment the ABI promises. The return address is marked undefined, so
 * debuggers and unwinders stop here.
 */
    .text
    .globl  cio__ctx_trampoline
    .hidden cio__ctx_trampoline
    .type   cio__ctx_trampoline, @function
    .p2align 4
cio__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq    8(%rsp), %rdi
    movq    0(%rsp), %rax
    callq   *%rax
    ud2
    .cfi_endproc
    .size   cio__ctx_trampoline, .-cio__ctx_trampoline

    .section .note.GNU-stack, "", @progbits
