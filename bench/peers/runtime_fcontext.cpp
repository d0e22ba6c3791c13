// runtime_fcontext.cpp: the raw switch peer: Boost.Context fcontext ping-pong between main and one context.
//
// Usage: runtime_fcontext [N]; N round trips (two switches each). Prints "metric=switch_ns value=X".
#include <boost/context/detail/fcontext.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace bctx = boost::context::detail;

alignas(64) static unsigned char co_stack[64 * 1024];

// The context's side of the ping-pong: hand control straight back, forever.
static void co_entry(bctx::transfer_t t)
{
    for (;;)
        t = bctx::jump_fcontext(t.fctx, nullptr);
}

static long long now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], nullptr, 10) : 10000000;
    if (n <= 0) {
        fprintf(stderr, "runtime_fcontext: bad count\n");
        return 2;
    }
    bctx::fcontext_t co = bctx::make_fcontext(co_stack + sizeof(co_stack), sizeof(co_stack), co_entry);
    for (long i = 0; i < n / 10 + 1; i++)
        co = bctx::jump_fcontext(co, nullptr).fctx;
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        co = bctx::jump_fcontext(co, nullptr).fctx;
    long long t1 = now_ns();
    printf("metric=switch_ns value=%.3f\n", (double)(t1 - t0) / (2.0 * (double)n));
    return 0;
}
