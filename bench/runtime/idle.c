/* idle.c: RSS of N idle tasks (default 100,000) waiting on a future (or a long sleep), in KiB per task. */
#include "bench.h"
#include "cio/core.h"

static long n_tasks;
static int use_sleep;
static long started;
static cio_future *gate;

static int idler(void *arg)
{
    (void)arg;
    started++;
    if (use_sleep)
        return cio_sleep(CIO_SEC(3600));
    return cio_future_await(gate, NULL);
}

static int bench_main(void *arg)
{
    cio_task **tasks;
    long rss0, rss1, i;
    int rc;

    (void)arg;
    tasks = calloc((size_t)n_tasks, sizeof(*tasks));
    if (!tasks)
        bench_fail("calloc", -ENOMEM);
    memset(tasks, 0xff, (size_t)n_tasks * sizeof(*tasks)); /* count the handle array in the baseline */
    rc = cio_future_open(&gate);
    if (rc < 0)
        bench_fail("cio_future_open", rc);

    rss0 = bench_status_kib("VmRSS");
    for (i = 0; i < n_tasks; i++) {
        rc = cio_spawn(&tasks[i], idler, NULL, NULL);
        if (rc < 0)
            bench_fail("cio_spawn", rc);
    }
    /* Let every task run up to its wait. */
    while (started < n_tasks) {
        rc = cio_yield();
        if (rc < 0)
            bench_fail("cio_yield", rc);
    }
    rss1 = bench_status_kib("VmRSS");
    bench_metric("idle_kib", (double)(rss1 - rss0) / (double)n_tasks);

    for (i = 0; i < n_tasks; i++) {
        rc = cio_cancel(tasks[i], NULL);
        if (rc < 0)
            bench_fail("cio_cancel", rc);
    }
    for (i = 0; i < n_tasks; i++) {
        rc = cio_join(tasks[i]);
        if (rc < 0 && rc != -ECANCELED)
            bench_fail("cio_join", rc);
    }
    rc = cio_future_close(gate);
    if (rc < 0)
        bench_fail("cio_future_close", rc);
    free(tasks);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_tasks = bench_arg_n(argc, argv, 100000);
    use_sleep = argc > 2 && strcmp(argv[2], "sleep") == 0;
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
