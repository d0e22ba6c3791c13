/* to_thread.c: one task calls cio_to_thread(trivial fn) N times in sequence on a one-worker pool; ns per call. */
#include <sched.h>

#include "bench.h"
#include "cio/core.h"

static long n_calls;

static int trivial(void *arg)
{
    (void)arg;
    return 1;
}

static void round_trips(long n)
{
    long i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = cio_to_thread(trivial, NULL);
        if (rc != 1)
            bench_fail("cio_to_thread", rc < 0 ? rc : -EPROTO);
    }
}

/*
 * Pin the calling (loop) thread alone to CPU $CIO_BENCH_LOOP_CPU, if set. Called once the worker exists, so
 * the worker keeps the process's wider mask and may run on the other core.
 */
static void pin_loop_thread(void)
{
    const char *cpu = getenv("CIO_BENCH_LOOP_CPU");
    cpu_set_t set;

    if (!cpu || !*cpu)
        return;
    CPU_ZERO(&set);
    CPU_SET(atoi(cpu), &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0) {
        perror("sched_setaffinity");
        exit(1);
    }
}

static int bench_main(void *arg)
{
    int64_t t0, t1;

    (void)arg;
    round_trips(n_calls / 10 + 1);
    pin_loop_thread();
    round_trips(n_calls / 10 + 1);
    t0 = bench_now();
    round_trips(n_calls);
    t1 = bench_now();
    bench_metric("to_thread_ns", (double)(t1 - t0) / (double)n_calls);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_calls = bench_arg_n(argc, argv, 50000);
    rc = cio_pool_set_size(1);
    if (rc < 0)
        bench_fail("cio_pool_set_size", rc);
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
