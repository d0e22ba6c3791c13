/* alloc.c: tests that every allocation of the core may fail cleanly, and of cio_set_allocator. */
#include <stdlib.h>

#include "corekit.h"
#include "harness.h"

static void complete_cb(void *arg)
{
    cr_assert_eq(cio_future_set_result(arg, arg), 0);
}

/* Spawn awaiters of one future, complete it from a callback, join them; 0 or -ENOMEM, with everything released. */
static int spawn_join_future(void *arg)
{
    (void)arg;
    enum { N = 3 };
    cio_future *f;
    struct tk_await aw[N];
    cio_task *t[N];
    int n = 0, rc = cio_future_open(&f);
    if (rc < 0)
        return rc;
    for (; n < N; n++) {
        aw[n] = (struct tk_await){.f = f};
        rc = cio_spawn(&t[n], tk_awaiter, &aw[n], NULL);
        if (rc < 0)
            break;
    }
    int yrc = cio_yield();
    cr_assert_eq(yrc, 0, "yield: %s", cio_err_name(yrc));
    int crc = cio_call_soon(NULL, complete_cb, f);
    if (crc < 0) {
        cr_assert_eq(crc, -ENOMEM);
        cr_assert_eq(cio_future_set_result(f, f), 0);
        rc = crc;
    }
    for (int i = 0; i < n; i++) {
        int jrc = cio_join(t[i]);
        cr_assert(jrc == 0 || jrc == -ENOMEM, "join: %s", cio_err_name(jrc));
        if (jrc == 0)
            cr_assert_eq(aw[i].result, f);
    }
    int frc = cio_future_close(f);
    cr_assert_eq(frc, 0, "future close: %s", cio_err_name(frc));
    return rc;
}

static int child_body(void *arg)
{
    int rc = cio_sleep(CIO_US(1));
    return rc < 0 ? rc : (int)(intptr_t)arg;
}

/* A group of three, then a gather of three under a timeout scope; 0 or -ENOMEM. */
static int group_and_gather(void *arg)
{
    (void)arg;
    cio_group *g;
    int rc = cio_group_open(&g);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = cio_group_spawn(g, NULL, child_body, NULL, NULL);
    int grc = cio_group_close(g);
    cr_assert(grc == 0 || grc == -ENOMEM, "group close: %s", cio_err_name(grc));
    if (rc < 0)
        return rc;
    if (grc < 0)
        return grc;
    cio_scope s;
    rc = cio_timeout_begin(&s, TK_FOREVER);
    if (rc < 0)
        return rc;
    cio_task *t[3];
    int st[3], n = 0;
    for (; n < 3; n++) {
        rc = cio_spawn(&t[n], child_body, (void *)(intptr_t)n, NULL);
        if (rc < 0)
            break;
    }
    int gr = cio_gather(t, (size_t)n, st, CIO_GATHER_ALL);
    cr_assert(gr == 0 || gr == -ENOMEM, "gather: %s", cio_err_name(gr));
    for (int i = 0; gr == 0 && i < n; i++)
        cr_assert(st[i] == i || st[i] == -ENOMEM, "status %d: %s", i, cio_err_name(st[i]));
    int erc = cio_scope_end(&s);
    cr_assert_eq(erc, 0, "scope end: %s", cio_err_name(erc));
    return rc < 0 ? rc : gr;
}

/* Run `body` on a fresh loop failing allocation n, for n = 1, 2, ... until a run needs fewer than n. */
static void fail_each_allocation(cio_fn body)
{
    tst_install_allocator();
    int fds = tst_open_fds();
    long blocks = tst_live_blocks(), n;
    int failures = 0;
    for (n = 1; n < 100000; n++) {
        cio_loop_opts o = {.log = tst_log_sink};
        cio_loop *loop = NULL;
        tst_log_clear();
        tst_fail_alloc_at(n);
        int rc = cio_loop_open(&loop, &o);
        if (rc == 0) {
            rc = cio_loop_run(loop, body, NULL);
            int crc = cio_loop_close(loop);
            cr_assert_eq(crc, 0, "n=%ld: close: %s\n%s", n, cio_err_name(crc), tst_log_text());
        }
        long used = tst_alloc_count();
        tst_fail_alloc_at(0);
        cr_assert(rc == 0 || rc == -ENOMEM, "n=%ld: %s", n, cio_err_name(rc));
        cr_assert_eq(tst_open_fds(), fds, "n=%ld: leaked file descriptors", n);
        cr_assert_eq(tst_live_blocks(), blocks, "n=%ld: leaked %ld blocks", n, tst_live_blocks() - blocks);
        failures += rc == -ENOMEM;
        if (used < n) {
            cr_assert_eq(rc, 0, "n=%ld: a run with no failed allocation must succeed", n);
            break;
        }
    }
    cr_assert_lt(n, 100000, "the scenario never ran to the end");
    cr_assert_gt(n, 1, "the scenario allocated nothing");
    cr_assert_gt(failures, 0, "no run failed: allocation failures were never injected");
    cr_log_info("%ld allocations failed in turn, %d runs gave -ENOMEM", n - 1, failures);
}

Test(alloc, spawn_join_and_future_fail_cleanly_at_each_allocation, .timeout = 300)
{
    fail_each_allocation(spawn_join_future);
}

Test(alloc, group_and_gather_fail_cleanly_at_each_allocation, .timeout = 300)
{
    fail_each_allocation(group_and_gather);
}

static int with_cio_run(void *arg)
{
    return spawn_join_future(arg);
}

Test(alloc, cio_run_fails_cleanly_at_each_allocation, .timeout = 300)
{
    tst_install_allocator();
    long blocks = tst_live_blocks(), n;
    for (n = 1; n < 100000; n++) {
        tst_fail_alloc_at(n);
        int rc = cio_run(with_cio_run, NULL);
        long used = tst_alloc_count();
        tst_fail_alloc_at(0);
        cr_assert(rc == 0 || rc == -ENOMEM, "n=%ld: %s", n, cio_err_name(rc));
        cr_assert_null(cio_loop_current(), "n=%ld: the loop was closed", n);
        cr_assert_eq(tst_live_blocks(), blocks, "n=%ld: leaked %ld blocks", n, tst_live_blocks() - blocks);
        if (used < n)
            break;
    }
    cr_assert_lt(n, 100000);
}

static void *plain_malloc(size_t n)
{
    return malloc(n);
}

static void *plain_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

static void plain_free(void *p)
{
    free(p);
}

Test(alloc, set_allocator_refuses_null_functions)
{
    cr_assert_eq(cio_set_allocator(NULL, plain_realloc, plain_free), -EINVAL);
    cr_assert_eq(cio_set_allocator(plain_malloc, NULL, plain_free), -EINVAL);
    cr_assert_eq(cio_set_allocator(plain_malloc, plain_realloc, NULL), -EINVAL);
}

Test(alloc, set_allocator_while_a_loop_is_open_fails_with_ebusy)
{
    tst_install_allocator();
    cio_loop *loop;
    cr_assert_eq(cio_loop_open(&loop, NULL), 0);
    cr_assert_eq(cio_set_allocator(plain_malloc, plain_realloc, plain_free), -EBUSY);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_eq(tst_live_blocks(), 0, "the counting allocator stayed in place");
}

static int counted(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_return, NULL, NULL), 0);
    cr_assert_gt(tst_live_blocks(), 0, "cio allocates through the installed allocator");
    return cio_join(t);
}

Test(alloc, cio_allocates_through_the_installed_allocator)
{
    tst_run(counted, NULL);
}
