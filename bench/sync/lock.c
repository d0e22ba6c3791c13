/* lock.c: uncontended cio_lock_acquire + cio_lock_release in one task; ns per pair. */
#include "bench.h"
#include "cio/core.h"
#include "cio/sync.h"

static long n_pairs;

static void lock_unlock(cio_lock *l, long n)
{
    long i;
    int rc;

    for (i = 0; i < n; i++) {
        rc = cio_lock_acquire(l);
        if (rc < 0)
            bench_fail("cio_lock_acquire", rc);
        rc = cio_lock_release(l);
        if (rc < 0)
            bench_fail("cio_lock_release", rc);
    }
}

static int bench_main(void *arg)
{
    cio_lock l;
    int64_t t0, t1;
    int rc;

    (void)arg;
    rc = cio_lock_init(&l);
    if (rc < 0)
        bench_fail("cio_lock_init", rc);
    lock_unlock(&l, n_pairs / 10 + 1);
    t0 = bench_now();
    lock_unlock(&l, n_pairs);
    t1 = bench_now();
    bench_metric("lock_ns", (double)(t1 - t0) / (double)n_pairs);
    rc = cio_lock_fini(&l);
    if (rc < 0)
        bench_fail("cio_lock_fini", rc);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    n_pairs = bench_arg_n(argc, argv, 20000000);
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
