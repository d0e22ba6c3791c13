/* yield.c: two tasks each calling cio_yield() N times; ns per yield through the scheduler. */
#include "bench.h"
#include "cio/core.h"

static long n_yields;

static int yielder(void *arg)
{
    long n = *(long *)arg;
    long i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Spawn two yielders of `n` yields each and join both. */
static void round_of(long n)
{
    cio_task *a, *b;
    int rc;

    rc = cio_spawn(&a, yielder, &n, NULL);
    if (rc < 0)
        bench_fail("cio_spawn", rc);
    rc = cio_spawn(&b, yielder, &n, NULL);
    if (rc < 0)
        bench_fail("cio_spawn", rc);
    rc = cio_join(a);
    if (rc < 0)
        bench_fail("cio_join", rc);
    rc = cio_join(b);
    if (rc < 0)
        bench_fail("cio_join", rc);
}

static int bench_main(void *arg)
{
    int64_t t0, t1;

    (void)arg;
    round_of(n_yields / 10 + 1);
    t0 = bench_now();
    round_of(n_yields);
    t1 = bench_now();
    bench_metric("yield_ns", (double)(t1 - t0) / (2.0 * (double)n_yields));
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_yields = bench_arg_n(argc, argv, 5000000);
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
