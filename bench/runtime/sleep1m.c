/* sleep1m.c: N tasks (default 1,000,000) sleeping 100 ms at once, joined; total time and peak RSS. */
#include "bench.h"
#include "cio/core.h"

static long n_tasks;

static int sleeper(void *arg)
{
    (void)arg;
    return cio_sleep(CIO_MS(100));
}

static int bench_main(void *arg)
{
    cio_task **tasks;
    int64_t t0, t1;
    long i;
    int rc;

    (void)arg;
    tasks = malloc((size_t)n_tasks * sizeof(*tasks));
    if (!tasks)
        bench_fail("malloc", -ENOMEM);
    t0 = bench_now();
    for (i = 0; i < n_tasks; i++) {
        rc = cio_spawn(&tasks[i], sleeper, NULL, NULL);
        if (rc < 0) {
            fprintf(stderr, "bench: spawned %ld of %ld tasks\n", i, n_tasks);
            bench_fail("cio_spawn", rc);
        }
    }
    for (i = 0; i < n_tasks; i++) {
        rc = cio_join(tasks[i]);
        if (rc < 0)
            bench_fail("cio_join", rc);
    }
    t1 = bench_now();
    free(tasks);
    bench_metric("sleep1m_ms", (double)(t1 - t0) / 1e6);
    bench_metric("sleep1m_hwm_mib", (double)bench_status_kib("VmHWM") / 1024.0);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_tasks = bench_arg_n(argc, argv, 1000000);
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
