/* regress.c: regression tests for bugs found in the runtime core: each failed before its fix. */
#include <stdint.h>
#include <string.h>

#include "corekit.h"
#include "harness.h"

static cio_loop *open_loop(void)
{
    tst_install_allocator();
    cio_loop_opts o = {.log = tst_log_sink};
    cio_loop *loop = NULL;
    int rc = cio_loop_open(&loop, &o);
    cr_assert_eq(rc, 0, "loop open: %s", cio_err_name(rc));
    return loop;
}

/* ---- 1. Completing a future and closing it at once frees it under the woken awaiter (future.c:270-287). */

static int future_close_after_complete(void *arg)
{
    (void)arg;
    struct tk_await aw = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &aw, NULL), 0);
    cr_assert_eq(cio_yield(), 0); /* the awaiter is parked on the future */
    cr_assert_eq(aw.started, 1);
    cr_assert_eq(cio_future_set_result(aw.f, (void *)(intptr_t)7), 0);
    /* Nobody is waiting on the list any more, so close succeeds... */
    int rc = cio_future_close(aw.f);
    if (rc == 0) {
        /* ...and the awaiter, which has not run yet, then reads the freed future. */
        rc = cio_join(t);
        cr_assert_eq(rc, 0);
        cr_assert_eq(aw.result, (void *)(intptr_t)7);
        return 0;
    }
    /* Acceptable alternative: close refuses while a woken awaiter still has to read the future. */
    cr_assert_eq(rc, -EBUSY);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_future_close(aw.f), 0);
    return 0;
}

Test(regress, future_close_right_after_set_result_does_not_free_under_the_awaiter)
{
    tst_run(future_close_after_complete, NULL);
}

/* ---- 2. cio_loop_run does not return when main finishes while other tasks keep yielding (loop.c:193-209). */

static int yield_count;

static int busy_yielder(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        if (cio_yield() < 0)
            return -ECANCELED;
        yield_count++;
    }
    return 0;
}

static int main_leaves_yielder(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, busy_yielder, NULL, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    cr_assert_eq(cio_yield(), 0);
    return 0;
}

Test(regress, loop_run_returns_once_main_finishes_even_if_other_tasks_keep_yielding)
{
    cio_loop *loop = open_loop();
    yield_count = 0;
    cr_assert_eq(cio_loop_run(loop, main_leaves_yielder, NULL), 0);
    /* asyncio's run_until_complete stops right after main: the other task ran a step or two, not 10000. */
    cr_expect_lt(yield_count, 100, "the loop ran %d more yields of another task after main finished", yield_count);
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(cio_loop_close(loop), 0);
}

/* ---- 3. Detaching (or joining) the main task releases it twice: its slot enters the pool twice (loop.c:458). */

static int main_detaches_itself(void *arg)
{
    (void)arg;
    cio_detach(cio_current()); /* either refused (CIO_EBADHANDLE) or accepted: both must stay safe */
    return 5;
}

Test(regress, main_task_detaching_itself_is_not_released_twice)
{
    cio_loop *loop = open_loop();
    cio_loop_run(loop, main_detaches_itself, NULL);
    /* Two new tasks must get two distinct slots. */
    cio_task *a = NULL, *b = NULL;
    cr_assert_eq(cio_spawn(&a, tk_return, NULL, NULL), 0);
    cr_assert_eq(cio_spawn(&b, tk_return, NULL, NULL), 0);
    /* Structs sit at the top of their slot (staggered by up to a few KiB): two live tasks are a stack apart. */
    intptr_t gap = (char *)a > (char *)b ? (char *)a - (char *)b : (char *)b - (char *)a;
    cr_assert_geq(gap, (intptr_t)CIO_STACK_MIN, "the main task's slot was handed out twice (tasks %p and %p)",
                  (void *)a, (void *)b);
    cr_assert_eq(cio_detach(a), 0);
    cr_assert_eq(cio_detach(b), 0);
    cio_loop_shutdown(loop);
    cr_assert_eq(cio_loop_close(loop), 0);
}

/* ---- 4. A task that returns with a group still open aborts the process (task.c:92). */

static int leaves_group_open(void *arg)
{
    (void)arg;
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    return 3; /* forgot cio_group_close: a user bug, which must not abort() */
}

static int join_group_leaker(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, leaves_group_open, NULL, NULL), 0);
    return cio_join(t);
}

Test(regress, task_returning_with_an_open_group_does_not_abort)
{
    cio_loop *loop = open_loop();
    cr_assert_eq(cio_loop_run(loop, join_group_leaker, NULL), 3);
    cio_loop_shutdown(loop);
    cio_loop_close(loop);
}
