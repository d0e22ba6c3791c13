/* switch.h: the context switch between coroutine stacks (assembly, or ucontext as a fallback). */
#ifndef CIO_CORE_SWITCH_H
#define CIO_CORE_SWITCH_H

#include <stddef.h>

#ifdef CIO_SWITCH_UCONTEXT
#include <ucontext.h>
typedef struct cio__ctx {
    ucontext_t uc;
} cio__ctx;
#else
/* The saved stack pointer: everything else the switch keeps lives on the stack it points into. */
typedef struct cio__ctx {
    void *sp;
} cio__ctx;
#endif

/*
 * Prepare `ctx` so that the first switch to it calls entry(arg) on the stack [stack_lo, stack_lo + size).
 * `entry` must never return: it ends by switching away for good.
 */
void cio__ctx_make(cio__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg);

/* Save the running context into `from` and resume `to`; returns when something switches back to `from`. */
#if defined(__x86_64__) && !defined(CIO_SWITCH_UCONTEXT)
/*
 * On x86-64 the switch is inline assembly, not a function. A called switch must return into the other stack:
 * with `ret`, the return-stack predictor guesses this stack's caller and misses whenever the two sides
 * switched from different places (10.6 ns per switch in a ping-pong); with an indirect `jmp`, the predictor's
 * stack keeps the unreturned call and every later return in the resumed task misses (yield 22 ns instead of
 * 9). Inline, there is no call at all: the resumed side lands on its own label and its returns stay predicted.
 *
 * The asm saves the resume address, rbp and the FP control state (MXCSR, x87 control word) below the red
 * zone; every other register is declared clobbered, so the compiler keeps nothing live in them across it,
 * exactly as across a call. The first switch into a new context "resumes" at cio__ctx_trampoline.
 */
#define CIO__SWITCH_FRAME 24
#define CIO__RED_ZONE     128
static inline __attribute__((always_inline)) void cio__ctx_switch(cio__ctx *from, cio__ctx *to)
{
    __asm__ volatile("leaq   -152(%%rsp), %%rsp\n\t" /* red zone + frame */
                     "leaq   1f(%%rip), %%rax\n\t"
                     "movq   %%rax, 0(%%rsp)\n\t"
                     "movq   %%rbp, 8(%%rsp)\n\t"
                     "stmxcsr 16(%%rsp)\n\t"
                     "fnstcw 20(%%rsp)\n\t"
                     "movq   %%rsp, (%%rdi)\n\t"
                     "movq   (%%rsi), %%rsp\n\t"
                     "ldmxcsr 16(%%rsp)\n\t"
                     "fldcw  20(%%rsp)\n\t"
                     "movq   8(%%rsp), %%rbp\n\t"
                     "movq   0(%%rsp), %%rax\n\t"
                     "leaq   152(%%rsp), %%rsp\n\t"
                     "jmpq   *%%rax\n\t"
                     "1:\n\t"
                     : "+D"(from), "+S"(to)
                     :
                     : "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory", "cc",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                       "xmm12", "xmm13", "xmm14", "xmm15");
}
#else
void cio__ctx_switch(cio__ctx *from, cio__ctx *to);
#endif

#endif
