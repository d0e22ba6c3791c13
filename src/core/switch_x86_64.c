/* switch_x86_64.c: builds the first frame of a new context for the x86-64 switch in switch_x86_64.S. */
#if defined(__x86_64__) && !defined(CIO_SWITCH_UCONTEXT)
#include "core/switch.h"

#include <stdint.h>
#include <string.h>

void cio__ctx_trampoline(void);

void cio__ctx_make(cio__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
    /* After the switch pops its 64 bytes and returns into the trampoline, rsp = top - 16: 16-byte aligned, so
       the trampoline's call enters `entry` with the alignment the ABI promises. */
    uint64_t *sp = (uint64_t *)(top - 16 - 64);
    /* A new task starts with the creating thread's rounding modes and exception masks. */
    uint32_t mxcsr;
    uint16_t x87cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(x87cw));
    uint64_t fpctl = mxcsr | (uint64_t)x87cw << 32;
    memcpy(&sp[0], &fpctl, 8);
    sp[1] = 0;                          /* r15 */
    sp[2] = 0;                          /* r14 */
    sp[3] = (uint64_t)(uintptr_t)arg;   /* r13 */
    sp[4] = (uint64_t)(uintptr_t)entry; /* r12 */
    sp[5] = 0;                          /* rbx */
    sp[6] = 0;                          /* rbp: a zero frame pointer ends frame-pointer walks */
    sp[7] = (uint64_t)(uintptr_t)cio__ctx_trampoline;
    sp[8] = 0; /* slot above: a null return address for the trampoline */
    ctx->sp = sp;
}
#endif
