/* switch_aarch64.S: the coroutine switch for AAPCS64 (Linux): callee-saved registers and FPCR. */

/*
 * Frame saved on the suspended stack, from the saved stack pointer up (176 bytes, so sp stays 16-aligned):
 *     0: x19  x20     16: x21  x22     32: x23  x24     48: x25  x26     64: x27  x28
 *    80: x29  x30     96: d8   d9     112: d10  d11    128: d12  d13    144: d14  d15
 *   160: FPCR, padding
 * Only the low 64 bits of v8-v15 are callee-saved under AAPCS64, so d8-d15 are enough.
 * A fresh context starts with x19 = entry, x20 = its argument and x30 at the trampoline.
 */

#define CIO_FRAME 176

/*
 * BTI landing pads are written as HINT encodings: cores without BTI run them as NOPs, and the
 * assembler accepts them whatever -march says.
 */
#define CIO_BTI_C hint #34

    .text

    .globl  cio__ctx_switch
    .hidden cio__ctx_switch
    .type   cio__ctx_switch, %function
    .p2align 4
cio__ctx_switch:
    .cfi_startproc
    CIO_BTI_C                           /* reached by direct calls, but a pad keeps calls through a pointer legal */
    sub     sp, sp, #CIO_FRAME
    .cfi_def_cfa_offset CIO_FRAME
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8,  d9,  [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr                    /* rounding mode and flush-to-zero belong to the coroutine */
    str     x9, [sp, #160]
    mov     x9, sp                      /* sp cannot be stored directly */
    str     x9, [x0]
    ldr     x9, [x1]
    mov     sp, x9
    ldr     x9, [sp, #160]
    msr     fpcr, x9
    ldp     d14, d15, [sp, #144]
    ldp     d12, d13, [sp, #128]
    ldp     d10, d11, [sp, #112]
    ldp     d8,  d9,  [sp, #96]
    ldp     x29, x30, [sp, #80]
    ldp     x27, x28, [sp, #64]
    ldp     x25, x26, [sp, #48]
    ldp     x23, x24, [sp, #32]
    ldp     x21, x22, [sp, #16]
    ldp     x19, x20, [sp, #0]
    add     sp, sp, #CIO_FRAME
    .cfi_def_cfa_offset 0
    ret
    .cfi_endproc
    .size   cio__ctx_switch, .-cio__ctx_switch

/*
 * First code run on a new stack, entered by the switch's ret (which needs no landing pad). The return
 * address is undefined, so unwinders and debuggers stop here.
 */
    .globl  cio__ctx_trampoline
    .hidden cio__ctx_trampoline
    .type   cio__ctx_trampoline, %function
    .p2align 4
cio__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    CIO_BTI_C                           /* harmless, and keeps the symbol a valid target if it is ever called */
    mov     x0, x20
    blr     x19
    brk     #0x3e8                      /* entry must never return: trap rather than run off the stack */
    .cfi_endproc
    .size   cio__ctx_trampoline, .-cio__ctx_trampoline

    .section .note.GNU-stack, "", %progbits

/*
 * When the build asks for BTI, say this object is BTI-compatible, or the linker drops the marking for the
 * whole binary. Pointer authentication is not claimed: the switch stores x30 unsigned.
 */
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
    .section .note.gnu.property, "a"
    .p2align 3
    .word   4                           /* name size: "GNU\0" */
    .word   16                          /* descriptor size */
    .word   5                           /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .word   0xc0000000                  /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
    .word   4
    .word   1                           /* GNU_PROPERTY_AARCH64_FEATURE_1_BTI */
    .word   0                           /* pad to 8 bytes */
#endif
