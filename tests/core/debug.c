/* debug.c: tests of debug mode: reports of forgotten tasks, slow steps and failures of detached tasks. */
#include "corekit.h"
#include "harness.h"

static cio_loop *open_debug_loop(int debug, int64_t slow)
{
    tst_install_allocator();
    cio_loop_opts o = {.debug = debug, .slow_threshold = slow, .log = tst_log_sink};
    cio_loop *loop = NULL;
    int rc = cio_loop_open(&loop, &o);
    cr_assert_eq(rc, 0, "loop open: %s", cio_err_name(rc));
    return loop;
}

static int forget_a_task(void *arg)
{
    (void)arg;
    cio_spawn_opts o = {.name = "forgotten"};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_return, NULL, &o), 0);
    return tk_yield_until_done(t);
}

Test(debug, a_task_never_joined_is_reported_at_close_with_its_spawn_site)
{
    cio_loop *loop = open_debug_loop(1, 0);
    cr_assert(cio_loop_debug(loop));
    cr_assert_eq(cio_loop_run(loop, forget_a_task, NULL), 0);
    cr_assert_eq(cio_loop_close(loop), -EBUSY, "a finished task was neither joined nor detached");
    cr_assert(tst_log_contains("forgotten"), "log:\n%s", tst_log_text());
    cr_assert(tst_log_contains("debug.c"), "the spawn site is named; log:\n%s", tst_log_text());
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(cio_loop_close(loop), 0);
}

Test(debug, a_task_never_joined_is_reported_at_shutdown_with_its_spawn_site)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    cio_loop *loop = open_debug_loop(1, 0);
    cr_assert_eq(cio_loop_run(loop, forget_a_task, NULL), 0);
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert(tst_log_contains("forgotten"), "log:\n%s", tst_log_text());
    cr_assert(tst_log_contains("debug.c"), "the spawn site is named; log:\n%s", tst_log_text());
    cr_assert_eq(cio_loop_close(loop), 0, "shutdown released the finished task");
    cr_assert_eq(tst_live_blocks(), blocks);
}

static int forget_a_live_task(void *arg)
{
    cio_spawn_opts o = {.name = "abandoned"};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_sleeper, arg, &o), 0);
    return tk_yield_until(&((struct tk_sleep *)arg)->started);
}

Test(debug, a_live_task_never_joined_is_reported_and_cancelled_at_shutdown)
{
    struct tk_sleep s = {0};
    cio_loop *loop = open_debug_loop(1, 0);
    cr_assert_eq(cio_loop_run(loop, forget_a_live_task, &s), 0);
    cr_assert_eq(cio_loop_close(loop), -EBUSY);
    cr_assert(tst_log_contains("abandoned"), "log:\n%s", tst_log_text());
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_eq(s.cleaned, 1);
    cr_assert(tst_log_contains("debug.c"), "the spawn site is named; log:\n%s", tst_log_text());
    cr_assert_eq(cio_loop_close(loop), 0);
}

static int spin_a_while(void *arg)
{
    (void)arg;
    tk_spin_ns(CIO_US(200));
    return 0;
}

static int slow_child(void *arg)
{
    (void)arg;
    cio_spawn_opts o = {.name = "slowpoke"};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, spin_a_while, NULL, &o), 0);
    return cio_join(t);
}

Test(debug, a_slow_step_is_reported_naming_the_task)
{
    cio_loop_opts o = {.debug = 1, .slow_threshold = CIO_NS(1), .log = tst_log_sink};
    tst_run_expect(slow_child, NULL, &o, 0);
    cr_assert(tst_log_contains("slowpoke"), "log:\n%s", tst_log_text());
}

Test(debug, slow_steps_are_not_reported_without_debug_mode)
{
    cio_loop_opts o = {.debug = -1, .slow_threshold = CIO_NS(1), .log = tst_log_sink};
    tst_run_expect(slow_child, NULL, &o, 0);
    cr_assert_not(tst_log_contains("slowpoke"), "log:\n%s", tst_log_text());
}

static void spin_cb(void *arg)
{
    tk_spin_ns(CIO_US(200));
    cr_assert_eq(cio_future_set_result(arg, NULL), 0);
}

static int slow_callback(void *arg)
{
    (void)arg;
    cio_future *f = tk_future();
    cr_assert_eq(cio_call_soon(NULL, spin_cb, f), 0);
    cr_assert_eq(cio_future_await(f, NULL), 0);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(debug, a_slow_callback_is_reported)
{
    cio_loop_opts o = {.debug = 1, .slow_threshold = CIO_NS(1), .log = tst_log_sink};
    tst_log_clear();
    tst_run_expect(slow_callback, NULL, &o, 0);
    cr_assert_neq(tst_log_text()[0], 0, "nothing was reported");
}

struct signal_done {
    cio_future *done;
    int ret;
};

static int set_then_return(void *arg)
{
    struct signal_done *s = arg;
    int rc = cio_sleep(0);
    cr_assert_eq(cio_future_set_result(s->done, NULL), 0);
    return s->ret ? s->ret : rc;
}

static int detached_failure(void *arg)
{
    (void)arg;
    struct signal_done s = {.done = tk_future(), .ret = -EPROTO};
    cio_spawn_opts o = {.name = "failer"};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, set_then_return, &s, &o), 0);
    cr_assert_eq(cio_detach(t), 0);
    cr_assert_eq(cio_future_await(s.done, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_future_close(s.done), 0);
    return 0;
}

Test(debug, a_detached_task_that_fails_is_reported)
{
    cio_loop_opts o = {.debug = 1, .log = tst_log_sink};
    tst_run_expect(detached_failure, NULL, &o, 0);
    cr_assert(tst_log_contains("failer"), "log:\n%s", tst_log_text());
}

static int detached_cancelled(void *arg)
{
    (void)arg;
    struct signal_done s = {.done = tk_future()};
    cio_spawn_opts o = {.name = "quietly-cancelled"};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, set_then_return, &s, &o), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    cr_assert_eq(cio_future_await(s.done, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_future_close(s.done), 0);
    return 0;
}

Test(debug, a_detached_task_ending_with_ecanceled_is_not_reported)
{
    cio_loop_opts o = {.debug = 1, .log = tst_log_sink};
    tst_run_expect(detached_cancelled, NULL, &o, 0);
    cr_assert_not(tst_log_contains("quietly-cancelled"), "log:\n%s", tst_log_text());
}
