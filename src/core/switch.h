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
void cio__ctx_switch(cio__ctx *from, cio__ctx *to);

#endif
