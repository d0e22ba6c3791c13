/* switch_aarch64.c: builds the first frame of a new context for the aarch64 switch in switch_aarch64.S. */
#if defined(__aarch64__) && !defined(CIO_SWITCH_UCONTEXT)
#include "core/switch.h"

#include <stdint.h>
#include <string.h>

void cio__ctx_trampoline(void);

void cio__ctx_make(cio__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
    /* AAPCS64 wants sp 16-byte aligned at every public interface; the switch's 176-byte frame keeps it so. */
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 176);
    uint64_t fpcr;
    /* The new coroutine starts with the creating thread's rounding and flush-to-zero modes. */
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    memset(sp, 0, 176);                                /* x21-x28 and d8-d15 start at zero */
    sp[0] = (uint64_t)(uintptr_t)entry;                /* x19 */
    sp[1] = (uint64_t)(uintptr_t)arg;                  /* x20 */
    sp[10] = 0;                                        /* x29: a zero frame pointer ends frame-pointer walks */
    sp[11] = (uint64_t)(uintptr_t)cio__ctx_trampoline; /* x30: the switch's ret lands in the trampoline */
    sp[20] = fpcr;
    ctx->sp = sp;
}
#endif
