/* switch.c: cio's raw context switch (src/core/switch.h), ping-pong between main and one context, ns per switch. */
#include <stddef.h>

#include "bench.h"
#include "core/switch.h"

#define STACK_SIZE (64 * 1024)

static cio__ctx main_ctx;
static cio__ctx co_ctx;
static _Alignas(64) unsigned char co_stack[STACK_SIZE];

/* The context's side of the ping-pong: hand control straight back, forever. */
static void co_entry(void *arg)
{
    (void)arg;
    for (;;)
        cio__ctx_switch(&co_ctx, &main_ctx);
}

int main(int argc, char **argv)
{
    long n = bench_arg_n(argc, argv, 10000000);
    int64_t t0, t1;
    long i;

    cio__ctx_make(&co_ctx, co_stack, sizeof(co_stack), co_entry, NULL);
    for (i = 0; i < n / 10 + 1; i++)
        cio__ctx_switch(&main_ctx, &co_ctx);
    t0 = bench_now();
    for (i = 0; i < n; i++)
        cio__ctx_switch(&main_ctx, &co_ctx);
    t1 = bench_now();
    /* Each round trip is two switches: main -> context and back. */
    bench_metric("switch_ns", (double)(t1 - t0) / (2.0 * (double)n));
    return 0;
}
