/* sync_libuv.c: the sync suite's libuv peer: sequential uv_queue_work round trips of a trivial work_cb. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

/*
 * Usage: sync_libuv [N]. One request at a time: each after_work_cb submits the next. The pool has one thread
 * (UV_THREADPOOL_SIZE=1); with CIO_BENCH_LOOP_CPU set, the loop thread alone is pinned to that CPU after the
 * warm-up. Prints "metric=to_thread_ns value=X", like bench/sync/to_thread.c.
 */

struct bench {
    uv_work_t req;
    long left;
    long ran;
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void work_cb(uv_work_t *req)
{
    struct bench *b = req->data;

    b->ran++;
}

static void after_work_cb(uv_work_t *req, int status);

static void submit(struct bench *b)
{
    int rc = uv_queue_work(uv_default_loop(), &b->req, work_cb, after_work_cb);

    if (rc < 0) {
        fprintf(stderr, "sync_libuv: uv_queue_work: %s\n", uv_strerror(rc));
        exit(1);
    }
}

static void after_work_cb(uv_work_t *req, int status)
{
    struct bench *b = req->data;

    if (status < 0) {
        fprintf(stderr, "sync_libuv: work failed: %s\n", uv_strerror(status));
        exit(1);
    }
    if (--b->left > 0)
        submit(b);
}

/* Run `n` round trips to completion. */
static void round_trips(long n)
{
    struct bench b = {.left = n};

    b.req.data = &b;
    submit(&b);
    uv_run(uv_default_loop(), UV_RUN_DEFAULT);
    if (b.ran != n) {
        fprintf(stderr, "sync_libuv: %ld of %ld ran\n", b.ran, n);
        exit(1);
    }
}

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

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 50000;
    int64_t t0, t1;

    if (n <= 0) {
        fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[1]);
        return 2;
    }
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    round_trips(n / 10 + 1);
    pin_loop_thread();
    round_trips(n / 10 + 1);
    t0 = now_ns();
    round_trips(n);
    t1 = now_ns();
    printf("metric=to_thread_ns value=%.3f\n", (double)(t1 - t0) / (double)n);
    return 0;
}
