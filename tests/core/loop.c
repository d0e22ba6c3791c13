/* loop.c: tests of the loop: open, run, shutdown, close, cio_run, the clock and plain callbacks. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "corekit.h"
#include "harness.h"

/* Open a loop by hand with the counting allocator and the in-memory log. */
static cio_loop *open_loop(int debug)
{
    tst_install_allocator();
    cio_loop_opts o = {.debug = debug, .log = tst_log_sink};
    cio_loop *loop = NULL;
    int rc = cio_loop_open(&loop, &o);
    cr_assert_eq(rc, 0, "loop open: %s", cio_err_name(rc));
    cr_assert_not_null(loop);
    return loop;
}

Test(loop, open_then_close_leaves_nothing_behind)
{
    tst_install_allocator();
    int fds = tst_open_fds();
    long blocks = tst_live_blocks();
    cio_loop *loop;
    cr_assert_eq(cio_loop_open(&loop, NULL), 0);
    cr_assert_eq(cio_loop_current(), loop);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_null(cio_loop_current());
    cr_assert_eq(tst_open_fds(), fds);
    cr_assert_eq(tst_live_blocks(), blocks);
}

Test(loop, a_second_loop_in_the_same_thread_fails_with_ebusy)
{
    cio_loop *loop = open_loop(0), *other = NULL;
    cr_assert_eq(cio_loop_open(&other, NULL), -EBUSY);
    cr_assert_eq(cio_loop_current(), loop);
    cr_assert_eq(cio_loop_close(loop), 0);
}

static void *open_in_thread(void *arg)
{
    cio_loop *loop = NULL;
    int rc = cio_loop_open(&loop, NULL);
    *(int *)arg = rc;
    if (rc == 0) {
        if (cio_loop_current() != loop)
            *(int *)arg = -1;
        cio_loop_close(loop);
    }
    return NULL;
}

Test(loop, another_thread_may_open_its_own_loop)
{
    cio_loop *loop = open_loop(0);
    pthread_t th;
    int rc = -1;
    cr_assert_eq(pthread_create(&th, NULL, open_in_thread, &rc), 0);
    pthread_join(th, NULL);
    cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    cr_assert_eq(cio_loop_current(), loop);
    cr_assert_eq(cio_loop_close(loop), 0);
}

Test(loop, a_loop_can_be_opened_again_after_close)
{
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_loop_close(loop), 0);
    loop = open_loop(0);
    cr_assert_eq(cio_loop_close(loop), 0);
}

static int return_arg(void *arg)
{
    return *(int *)arg;
}

Test(loop, run_returns_the_main_body_status)
{
    int v = 42;
    tst_run_expect(return_arg, &v, NULL, 42);
}

Test(loop, run_returns_a_negative_main_status)
{
    int v = -EPROTO;
    tst_run_expect(return_arg, &v, NULL, -EPROTO);
}

Test(loop, run_may_be_called_again_on_the_same_loop)
{
    cio_loop *loop = open_loop(0);
    int a = 1, b = 2;
    cr_assert_eq(cio_loop_run(loop, return_arg, &a), 1);
    cr_assert_eq(cio_loop_run(loop, return_arg, &b), 2);
    cr_assert_eq(cio_loop_close(loop), 0);
}

Test(loop, run_with_null_arguments_fails_with_einval)
{
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_loop_run(loop, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_loop_run(NULL, tk_return, NULL), -EINVAL);
    cr_assert_eq(cio_loop_close(loop), 0);
}

static int run_inside(void *arg)
{
    (void)arg;
    cio_loop *loop = cio_loop_current();
    cr_assert_not_null(loop);
    cr_assert_eq(cio_loop_run(loop, tk_return, NULL), CIO_ELOOPRUNNING);
    cr_assert_eq(cio_loop_close(loop), CIO_ELOOPRUNNING);
    cio_loop *other = NULL;
    cr_assert_eq(cio_loop_open(&other, NULL), -EBUSY);
    return 0;
}

Test(loop, run_or_close_from_inside_the_loop_fails_with_elooprunning)
{
    tst_run(run_inside, NULL);
}

static int spawn_lingerer(void *arg)
{
    cio_spawn_opts o = {.name = "lingerer"};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_sleeper, arg, &o), 0);
    cr_assert_eq(cio_detach(t), 0);
    return tk_yield_until(&((struct tk_sleep *)arg)->started);
}

Test(loop, close_with_a_live_task_fails_with_ebusy_and_names_it)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    cio_loop *loop = open_loop(0);
    struct tk_sleep s = {0};
    cr_assert_eq(cio_loop_run(loop, spawn_lingerer, &s), 0);
    cr_assert_eq(cio_loop_close(loop), -EBUSY);
    cr_assert(tst_log_contains("lingerer"), "log:\n%s", tst_log_text());
    cr_assert_eq(cio_loop_current(), loop, "the loop stays open");
    cr_assert_eq(s.cleaned, 0);
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(s.cleaned, 1, "shutdown runs the task's cleanup");
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_eq(tst_live_blocks(), blocks);
}

struct lonely {
    int rc;
    int after;
};

static int await_nobody(void *arg)
{
    struct lonely *l = arg;
    cio_future *f = tk_future();
    l->rc = cio_future_await(f, NULL);
    l->after = 1;
    cr_assert_eq(cio_future_close(f), 0);
    return l->rc;
}

Test(loop, main_waiting_on_a_future_nobody_completes_gives_edeadlk)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    cio_loop *loop = open_loop(0);
    struct lonely l = {0};
    cr_assert_eq(cio_loop_run(loop, await_nobody, &l), -EDEADLK);
    cr_assert_eq(l.after, 0, "main is left waiting");
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(l.after, 1);
    cr_assert_eq(l.rc, -ECANCELED);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_eq(tst_live_blocks(), blocks);
}

static int child_of_cio_run(void *arg)
{
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_sleeper, arg, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    cr_assert_eq(tk_yield_until(&((struct tk_sleep *)arg)->started), 0);
    return 7;
}

Test(loop, cio_run_returns_main_status_and_cancels_what_main_left_running)
{
    tst_install_allocator();
    int fds = tst_open_fds();
    long blocks = tst_live_blocks();
    struct tk_sleep s = {0};
    cr_assert_eq(cio_run(child_of_cio_run, &s), 7);
    cr_assert_eq(s.cleaned, 1);
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_null(cio_loop_current());
    cr_assert_eq(tst_open_fds(), fds);
    cr_assert_eq(tst_live_blocks(), blocks);
}

Test(loop, cio_run_inside_a_loop_fails)
{
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_run(tk_return, NULL), -EBUSY, "a thread holds one loop");
    cr_assert_eq(cio_loop_close(loop), 0);
}

Test(loop, now_outside_a_loop_reads_a_monotonic_clock)
{
    int64_t a = cio_now();
    int64_t b = cio_now();
    cr_assert_gt(a, 0);
    cr_assert_geq(b, a);
}

static int now_steps(void *arg)
{
    (void)arg;
    int64_t prev = cio_now();
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(i % 2 ? cio_yield() : cio_sleep(CIO_US(1)), 0);
        int64_t t = cio_now();
        cr_assert_geq(t, prev);
        prev = t;
    }
    int64_t deadline = cio_now() + CIO_US(200);
    cr_assert_eq(cio_sleep_until(deadline), 0);
    cr_assert_geq(cio_now(), deadline, "a timer fires only once its deadline has passed");
    return 0;
}

Test(loop, now_inside_the_loop_never_goes_back)
{
    tst_run(now_steps, NULL);
}

struct order {
    int seen[16];
    int n;
    cio_future *done;
    int last;
};

struct order_cb {
    struct order *o;
    int id;
};

static void record_cb(void *arg)
{
    struct order_cb *c = arg;
    c->o->seen[c->o->n++] = c->id;
    cr_assert_null(cio_current(), "a callback runs outside tasks");
    if (c->id == c->o->last)
        cr_assert_eq(cio_future_set_result(c->o->done, NULL), 0);
}

static int soon_fifo(void *arg)
{
    (void)arg;
    struct order o = {.done = tk_future(), .last = 4};
    struct order_cb cbs[5];
    for (int i = 0; i < 5; i++) {
        cbs[i] = (struct order_cb){&o, i};
        cr_assert_eq(cio_call_soon(NULL, record_cb, &cbs[i]), 0);
    }
    cr_assert_eq(o.n, 0, "callbacks run later, not inside call_soon");
    cr_assert_eq(cio_future_await(o.done, NULL), 0);
    cr_assert_eq(o.n, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(o.seen[i], i, "call_soon runs callbacks in FIFO order");
    cr_assert_eq(cio_future_close(o.done), 0);
    return 0;
}

Test(loop, call_soon_runs_callbacks_in_fifo_order)
{
    tst_run(soon_fifo, NULL);
}

static int timers_order(void *arg)
{
    (void)arg;
    struct order o = {.done = tk_future(), .last = 4};
    struct order_cb cbs[5];
    int64_t now = cio_now();
    /* Distinct deadlines, registered out of order; id = rank of the deadline, the last one completes `done`. */
    static const int64_t later_us[3] = {300, 100, 200};
    static const int ranks[3] = {4, 0, 2};
    for (int i = 0; i < 3; i++) {
        cbs[i] = (struct order_cb){&o, ranks[i]};
        cr_assert_eq(cio_call_at(NULL, now + CIO_US(later_us[i]), record_cb, &cbs[i]), 0);
    }
    cbs[3] = (struct order_cb){&o, 3};
    cbs[4] = (struct order_cb){&o, 1};
    cr_assert_eq(cio_call_at(NULL, now + CIO_US(250), record_cb, &cbs[3]), 0);
    cr_assert_eq(cio_call_at(NULL, now + CIO_US(150), record_cb, &cbs[4]), 0);
    cr_assert_eq(cio_future_await(o.done, NULL), 0);
    cr_assert_eq(o.n, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(o.seen[i], i, "timers fire in deadline order (position %d saw %d)", i, o.seen[i]);
    cr_assert_eq(cio_future_close(o.done), 0);
    return 0;
}

Test(loop, call_at_fires_in_deadline_order)
{
    tst_run(timers_order, NULL);
}

static int later_order(void *arg)
{
    (void)arg;
    struct order o = {.done = tk_future(), .last = 2};
    struct order_cb cbs[3] = {{&o, 2}, {&o, 0}, {&o, 1}};
    static const int64_t delay_us[3] = {300, 100, 200};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_call_later(NULL, CIO_US(delay_us[i]), record_cb, &cbs[i]), 0);
    cr_assert_eq(cio_future_await(o.done, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(o.seen[i], i, "call_later fires in deadline order");
    cr_assert_eq(cio_future_close(o.done), 0);
    return 0;
}

Test(loop, call_later_fires_in_deadline_order)
{
    tst_run(later_order, NULL);
}

static void set_flag(void *arg)
{
    *(int *)arg = 1;
}

static void complete(void *arg)
{
    cr_assert_eq(cio_future_set_result(arg, NULL), 0);
}

static int cancelled_never_fires(void *arg)
{
    (void)arg;
    int fired = 0, closed_fired = 0;
    cio_handle *h, *h2;
    cio_future *f = tk_future();
    cr_assert_eq(cio_call_later(&h, CIO_US(50), set_flag, &fired), 0);
    cr_assert_eq(cio_call_later(&h2, CIO_US(50), set_flag, &closed_fired), 0);
    cr_assert_eq(cio_handle_cancel(h), 0);
    cr_assert_eq(cio_handle_cancel(h), -EALREADY);
    cio_handle_close(h2);
    cr_assert_eq(cio_call_later(NULL, CIO_US(500), complete, f), 0);
    cr_assert_eq(cio_future_await(f, NULL), 0);
    cr_assert_eq(fired, 0, "a cancelled callback never runs");
    cr_assert_eq(closed_fired, 0, "closing a handle cancels its pending callback");
    cr_assert_not(cio_handle_done(h));
    cio_handle_close(h);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(loop, a_cancelled_call_later_handle_never_fires)
{
    tst_run(cancelled_never_fires, NULL);
}

static int handle_done_body(void *arg)
{
    (void)arg;
    cio_handle *h;
    cio_future *f = tk_future();
    cr_assert_eq(cio_call_soon(&h, complete, f), 0);
    cr_assert_not(cio_handle_done(h));
    cr_assert_eq(cio_future_await(f, NULL), 0);
    cr_assert(cio_handle_done(h));
    cr_assert_eq(cio_handle_cancel(h), -EALREADY);
    cio_handle_close(h);
    cio_handle_close(NULL);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(loop, handle_done_turns_true_once_the_callback_ran)
{
    tst_run(handle_done_body, NULL);
}

static int bad_callbacks(void *arg)
{
    (void)arg;
    cio_handle *h = NULL;
    cr_assert_eq(cio_call_soon(&h, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_call_later(&h, CIO_MS(1), NULL, NULL), -EINVAL);
    cr_assert_eq(cio_call_later(&h, -1, set_flag, NULL), -EINVAL);
    cr_assert_eq(cio_call_at(&h, cio_now(), NULL, NULL), -EINVAL);
    return 0;
}

Test(loop, callbacks_with_bad_arguments_fail_with_einval)
{
    tst_run(bad_callbacks, NULL);
}

Test(loop, callbacks_without_a_loop_fail_with_enoloop)
{
    int flag = 0;
    cr_assert_eq(cio_call_soon(NULL, set_flag, &flag), CIO_ENOLOOP);
    cr_assert_eq(cio_call_later(NULL, 1, set_flag, &flag), CIO_ENOLOOP);
    cr_assert_eq(cio_call_at(NULL, 1, set_flag, &flag), CIO_ENOLOOP);
    cr_assert_eq(flag, 0);
}

static int leave_a_callback(void *arg)
{
    return cio_call_later(NULL, TK_FOREVER, set_flag, arg);
}

Test(loop, close_with_a_pending_callback_fails_with_ebusy_until_shutdown)
{
    int fired = 0;
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_loop_run(loop, leave_a_callback, &fired), 0);
    cr_assert_eq(cio_loop_close(loop), -EBUSY);
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(fired, 0, "shutdown cancels pending callbacks");
    cr_assert_eq(cio_loop_close(loop), 0);
}

Test(loop, shutdown_of_an_idle_loop_returns_zero)
{
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(cio_loop_close(loop), 0);
}

static int current_is_main(void *arg)
{
    (void)arg;
    cr_assert_not_null(cio_current(), "main runs as a task");
    cr_assert_not_null(cio_loop_current());
    return 0;
}

Test(loop, main_runs_as_a_task_and_current_is_null_outside)
{
    cr_assert_null(cio_current());
    cr_assert_null(cio_loop_current());
    tst_run(current_is_main, NULL);
    cr_assert_null(cio_current());
}

Test(loop, debug_mode_follows_the_options_and_the_environment)
{
    cio_loop *loop = open_loop(1);
    cr_assert(cio_loop_debug(loop));
    cr_assert(cio_loop_debug(NULL));
    cr_assert_eq(cio_loop_close(loop), 0);
    setenv("CIO_DEBUG", "1", 1);
    loop = open_loop(-1);
    cr_assert_not(cio_loop_debug(loop), "-1 is off whatever the environment says");
    cr_assert_eq(cio_loop_close(loop), 0);
    loop = open_loop(0);
    cr_assert(cio_loop_debug(loop));
    cr_assert_eq(cio_loop_close(loop), 0);
    unsetenv("CIO_DEBUG");
    loop = open_loop(0);
    cr_assert_not(cio_loop_debug(loop));
    cr_assert_eq(cio_loop_close(loop), 0);
}

struct across_runs {
    cio_future *gate;
    cio_future *done;
    int resumed;
};

static int across_child(void *arg)
{
    struct across_runs *a = arg;
    int rc = cio_future_await(a->gate, NULL);
    a->resumed = 1;
    cr_assert_eq(cio_future_set_result(a->done, NULL), 0);
    return rc;
}

static int first_run(void *arg)
{
    struct across_runs *a = arg;
    cio_task *t;
    a->gate = tk_future();
    a->done = tk_future();
    cr_assert_eq(cio_spawn(&t, across_child, a, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    return cio_yield();
}

static int second_run(void *arg)
{
    struct across_runs *a = arg;
    cr_assert_eq(a->resumed, 0);
    cr_assert_eq(cio_future_set_result(a->gate, NULL), 0);
    cr_assert_eq(cio_future_await(a->done, NULL), 0);
    cr_assert_eq(cio_future_close(a->gate), 0);
    cr_assert_eq(cio_future_close(a->done), 0);
    return 0;
}

Test(loop, tasks_left_waiting_by_one_run_continue_in_the_next)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    struct across_runs a = {0};
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_loop_run(loop, first_run, &a), 0);
    cr_assert_eq(cio_loop_run(loop, second_run, &a), 0);
    cr_assert_eq(a.resumed, 1);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_eq(tst_live_blocks(), blocks);
}

struct stubborn {
    cio_future *never;
    int started;
    int rc;
    int shielded_rc;
};

static int stubborn_body(void *arg)
{
    struct stubborn *s = arg;
    cio_scope sh;
    s->started = 1;
    s->rc = cio_sleep(TK_FOREVER);
    cr_assert_eq(cio_shield_begin(&sh, CIO_INFINITE), 0);
    s->shielded_rc = cio_future_await(s->never, NULL);
    cr_assert_eq(cio_scope_end(&sh), 0);
    cr_assert_eq(cio_future_close(s->never), 0);
    return s->rc;
}

static int leave_stubborn(void *arg)
{
    struct stubborn *s = arg;
    cio_task *t;
    s->never = tk_future();
    cr_assert_eq(cio_spawn(&t, stubborn_body, s, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    return tk_yield_until(&s->started);
}

Test(loop, shutdown_fails_with_edeadlk_when_a_cancelled_task_waits_forever_in_a_shield)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    struct stubborn s = {0};
    cio_loop *loop = open_loop(0);
    cr_assert_eq(cio_loop_run(loop, leave_stubborn, &s), 0);
    cr_assert_eq(cio_loop_shutdown(loop), -EDEADLK);
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_eq(cio_loop_close(loop), -EBUSY, "the task is still alive");
    cr_assert_eq(cio_future_set_result(s.never, NULL), 0);
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(s.shielded_rc, 0);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_eq(tst_live_blocks(), blocks);
}

struct spawned_by_cb {
    cio_future *done;
    int spawn_rc;
};

static int complete_done(void *arg)
{
    struct spawned_by_cb *s = arg;
    return cio_future_set_result(s->done, s);
}

static void spawn_from_callback(void *arg)
{
    struct spawned_by_cb *s = arg;
    cio_task *t;
    s->spawn_rc = cio_spawn(&t, complete_done, s, NULL);
    if (s->spawn_rc == 0)
        cr_assert_eq(cio_detach(t), 0);
    else
        cr_assert_eq(cio_future_set_error(s->done, s->spawn_rc), 0);
}

static int callback_spawns(void *arg)
{
    (void)arg;
    struct spawned_by_cb s = {.done = tk_future()};
    void *r = NULL;
    cr_assert_eq(cio_call_soon(NULL, spawn_from_callback, &s), 0);
    cr_assert_eq(cio_future_await(s.done, &r), 0, "spawn from a callback: %s", cio_err_name(s.spawn_rc));
    cr_assert_eq(r, &s);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_future_close(s.done), 0);
    return 0;
}

Test(loop, a_callback_may_spawn_a_task)
{
    tst_run(callback_spawns, NULL);
}
