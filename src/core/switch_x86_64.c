/* switch_x86_64.c: builds the first frame of a new context for the x86-64 switch in switch_x86_64.S. */
#if defined(__x86_64__) && !defined(CIO_SWITCH_UCONTEXT)
#include "core/switch.h"

#include <stdint.h>
#include <string.h>

void cio__ctx_trampoline(void);

void cio__ctx_make(cio__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
    /* Where rsp lands once the switch pops its frame: 16-byte aligned, with entry and arg at 0 and 8. */
    uint64_t *land = (uint64_t *)(top - 16);
    land[0] = (uint64_t)(uintptr_t)entry;
    land[1] = (uint64_t)(uintptr_t)arg;
    char *frame = (char *)land - CIO__RED_ZONE - CIO__SWITCH_FRAME;
    /* A new task starts with the creating thread's rounding modes and exception masks. */
    uint32_t mxcsr;
    uint16_t x87cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(x87cw));
    uint64_t resume = (uint64_t)(uintptr_t)cio__ctx_trampoline, rbp = 0;
    memcpy(frame + 0, &resume, 8);
    memcpy(frame + 8, &rbp, 8); /* a zero frame pointer ends frame-pointer walks */
    memcpy(frame + 16, &mxcsr, 4);
    memcpy(frame + 20, &x87cw, 2);
    ctx->sp = frame;
}
#endif
