/* timers.c: timer churn, cio_call_later(10 s) + cio_handle_cancel + cio_handle_close; ns per pair. */
#include "bench.h"
#include "cio/core.h"

static long n_timers;

static void never(void *arg)
{
    (void)arg;
    fprintf(stderr, "bench: a cancelled timer fired\n");
    exit(1);
}

static void churn(long n)
{
    cio_handle *h;
    long i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = cio_call_later(&h, CIO_SEC(10), never, NULL);
        if (rc < 0)
            bench_fail("cio_call_later", rc);
        rc = cio_handle_cancel(h);
        if (rc < 0)
            bench_fail("cio_handle_cancel", rc);
        cio_handle_close(h);
    }
}

static int bench_main(void *arg)
{
    int64_t t0, t1;

    (void)arg;
    churn(n_timers / 10 + 1);
    t0 = bench_now();
    churn(n_timers);
    t1 = bench_now();
    bench_metric("timer_ns", (double)(t1 - t0) / (double)n_timers);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_timers = bench_arg_n(argc, argv, 1000000);
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
