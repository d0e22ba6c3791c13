/* spawn.c: cio_spawn + cio_join of a trivial body, one at a time, with a warm pool; ns per spawn+join. */
#include "bench.h"
#include "cio/core.h"

static long n_spawns;

static int trivial(void *arg)
{
    (void)arg;
    return 0;
}

static void spawn_join(long n)
{
    cio_task *t;
    long i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = cio_spawn(&t, trivial, NULL, NULL);
        if (rc < 0)
            bench_fail("cio_spawn", rc);
        rc = cio_join(t);
        if (rc < 0)
            bench_fail("cio_join", rc);
    }
}

static int bench_main(void *arg)
{
    int64_t t0, t1;

    (void)arg;
    spawn_join(n_spawns / 10 + 1);
    t0 = bench_now();
    spawn_join(n_spawns);
    t1 = bench_now();
    bench_metric("spawn_join_ns", (double)(t1 - t0) / (double)n_spawns);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_spawns = bench_arg_n(argc, argv, 1000000);
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
