/* switch_ucontext.c: the portable fallback switch, on getcontext/makecontext/swapcontext. */
#ifdef CIO_SWITCH_UCONTEXT
#include "core/switch.h"

#include <signal.h>
#include <stdint.h>

#include "internal.h"

/* makecontext passes int arguments only: the pointers travel split in two halves. */
static void uc_entry(unsigned ehi, unsigned elo, unsigned ahi, unsigned alo)
{
    void (*entry)(void *) = (void (*)(void *))(((uintptr_t)ehi << 32) | elo);
    void *arg = (void *)(((uintptr_t)ahi << 32) | alo);
    entry(arg);
    CIO_ASSERT(!"a coroutine entry returned");
}

void cio__ctx_make(cio__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t e = (uintptr_t)entry, a = (uintptr_t)arg;
    CIO_ASSERT(getcontext(&ctx->uc) == 0);
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, (void (*)(void))uc_entry, 4, (unsigned)(e >> 32), (unsigned)e, (unsigned)(a >> 32),
                (unsigned)a);
}

void cio__ctx_switch(cio__ctx *from, cio__ctx *to)
{
    /* swapcontext restores the signal mask saved with `to`, but the mask belongs to the thread, not to a task:
       signals a loop blocked for its signalfd since then would come unblocked and kill the process. */
    pthread_sigmask(SIG_SETMASK, NULL, &to->uc.uc_sigmask);
    CIO_ASSERT(swapcontext(&from->uc, &to->uc) == 0);
}
#endif
