/* queue.c: a producer task puts N items into a bounded cio_queue, a consumer task gets them; ns per item. */
#include <stdint.h>

#include "bench.h"
#include "cio/core.h"
#include "cio/sync.h"

struct handoff {
    cio_queue *q;
    long n;
};

static long n_items;
static size_t maxsize = 128;

static int producer(void *arg)
{
    struct handoff *h = arg;
    long i;
    int rc;

    for (i = 0; i < h->n; i++) {
        rc = cio_queue_put(h->q, (void *)(uintptr_t)(i + 1));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int consumer(void *arg)
{
    struct handoff *h = arg;
    void *item;
    long i;
    int rc;

    for (i = 0; i < h->n; i++) {
        rc = cio_queue_get(h->q, &item);
        if (rc < 0)
            return rc;
        if ((uintptr_t)item != (uintptr_t)(i + 1)) {
            fprintf(stderr, "bench: item %ld out of order\n", i);
            exit(1);
        }
    }
    return 0;
}

/* Spawn the consumer and the producer for `n` items and join both. */
static void round_of(cio_queue *q, long n)
{
    struct handoff h = {.q = q, .n = n};
    cio_task *p, *c;
    int rc;

    rc = cio_spawn(&c, consumer, &h, NULL);
    if (rc < 0)
        bench_fail("cio_spawn", rc);
    rc = cio_spawn(&p, producer, &h, NULL);
    if (rc < 0)
        bench_fail("cio_spawn", rc);
    rc = cio_join(p);
    if (rc < 0)
        bench_fail("producer", rc);
    rc = cio_join(c);
    if (rc < 0)
        bench_fail("consumer", rc);
}

static int bench_main(void *arg)
{
    cio_queue_opts opts = {.maxsize = maxsize};
    cio_queue *q;
    int64_t t0, t1;
    int rc;

    (void)arg;
    rc = cio_queue_open(&q, &opts);
    if (rc < 0)
        bench_fail("cio_queue_open", rc);
    round_of(q, n_items / 10 + 1);
    t0 = bench_now();
    round_of(q, n_items);
    t1 = bench_now();
    bench_metric("queue_ns", (double)(t1 - t0) / (double)n_items);
    rc = cio_queue_close(q);
    if (rc < 0)
        bench_fail("cio_queue_close", rc);
    return 0;
}

/* Usage: cio_sync_queue [N [MAXSIZE]] */
int main(int argc, char **argv)
{
    int rc;

    n_items = bench_arg_n(argc, argv, 2000000);
    if (argc > 2) {
        long m = strtol(argv[2], NULL, 10);

        if (m <= 0) {
            fprintf(stderr, "%s: bad maxsize '%s'\n", argv[0], argv[2]);
            return 2;
        }
        maxsize = (size_t)m;
    }
    rc = cio_run(bench_main, NULL);
    if (rc < 0)
        bench_fail("cio_run", rc);
    return 0;
}
