/* future.c: tests of futures: completion, many awaiters, cancelled waiters, done callbacks, close. */
#include "corekit.h"
#include "harness.h"

static int result_wakes(void *arg)
{
    (void)arg;
    int value = 7;
    struct tk_await a = {.f = tk_future()};
    cio_task *t;
    cr_assert_not(cio_future_done(a.f));
    cr_assert_eq(cio_future_status(a.f), -EAGAIN);
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    cr_assert_not(cio_task_done(t), "the awaiter waits");
    cr_assert_eq(cio_future_set_result(a.f, &value), 0);
    cr_assert(cio_future_done(a.f));
    cr_assert_eq(cio_future_status(a.f), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(a.result, &value);
    void *r = NULL;
    cr_assert_eq(cio_future_await(a.f, &r), 0, "awaiting a completed future returns at once");
    cr_assert_eq(r, &value);
    cr_assert_eq(cio_future_await(a.f, NULL), 0);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(future, set_result_wakes_the_awaiter_with_the_result)
{
    tst_run(result_wakes, NULL);
}

static int error_wakes(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    cr_assert_eq(cio_future_set_error(a.f, -EPROTO), 0);
    cr_assert_eq(cio_join(t), -EPROTO);
    cr_assert_eq(cio_future_status(a.f), -EPROTO);
    cr_assert_eq(cio_future_await(a.f, NULL), -EPROTO);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(future, set_error_wakes_the_awaiter_with_the_error)
{
    tst_run(error_wakes, NULL);
}

static int cancel_wakes(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    cr_assert_eq(cio_future_cancel(a.f), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert(cio_future_done(a.f));
    cr_assert_eq(cio_future_status(a.f), -ECANCELED);
    cr_assert_eq(cio_yield(), 0, "cancelling a future does not cancel its awaiters");
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(future, cancel_wakes_the_awaiter_with_ecanceled)
{
    tst_run(cancel_wakes, NULL);
}

static int completed_before_await(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(cio_future_set_result(a.f, &a), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(a.result, &a);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(future, a_future_completed_before_the_await_returns_at_once)
{
    tst_run(completed_before_await, NULL);
}

static int double_set(void *arg)
{
    (void)arg;
    int x, y;
    cio_future *f = tk_future();
    cr_assert_eq(cio_future_set_result(f, &x), 0);
    cr_assert_eq(cio_future_set_result(f, &y), -EALREADY);
    cr_assert_eq(cio_future_set_error(f, -EIO), -EALREADY);
    cr_assert_eq(cio_future_cancel(f), -EALREADY);
    void *r;
    cr_assert_eq(cio_future_await(f, &r), 0);
    cr_assert_eq(r, &x, "the first completion stays");
    cr_assert_eq(cio_future_close(f), 0);
    f = tk_future();
    cr_assert_eq(cio_future_cancel(f), 0);
    cr_assert_eq(cio_future_cancel(f), -EALREADY);
    cr_assert_eq(cio_future_set_error(f, -EIO), -EALREADY);
    cr_assert_eq(cio_future_status(f), -ECANCELED);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(future, completing_twice_fails_with_ealready)
{
    tst_run(double_set, NULL);
}

static int bad_args(void *arg)
{
    (void)arg;
    cio_future *f = tk_future();
    cr_assert_eq(cio_future_set_error(f, 0), -EINVAL);
    cr_assert_eq(cio_future_set_error(f, 5), -EINVAL);
    cr_assert_not(cio_future_done(f), "a rejected completion leaves the future pending");
    cr_assert_eq(cio_future_open(NULL), -EINVAL);
    cr_assert_eq(cio_future_close(NULL), -EINVAL);
    cr_assert_eq(cio_future_add_done_callback(f, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(future, bad_arguments_fail_with_einval)
{
    tst_run(bad_args, NULL);
}

Test(future, open_without_a_loop_fails_with_enoloop)
{
    cio_future *f = NULL;
    cr_assert_eq(cio_future_open(&f), CIO_ENOLOOP);
}

struct many {
    cio_future *f;
    int order[16];
    int n;
    void *results[16];
    int started;
};

struct many_arg {
    struct many *m;
    int i;
};

static int many_awaiter(void *arg)
{
    struct many_arg *a = arg;
    a->m->started++;
    int rc = cio_future_await(a->m->f, &a->m->results[a->i]);
    a->m->order[a->m->n++] = a->i;
    return rc;
}

static int many_awaiters(void *arg)
{
    (void)arg;
    enum { N = 10 };
    int value;
    struct many m = {.f = tk_future()};
    struct many_arg args[N];
    cio_task *t[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct many_arg){&m, i};
        cr_assert_eq(cio_spawn(&t[i], many_awaiter, &args[i], NULL), 0);
    }
    while (m.started < N)
        cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(m.n, 0);
    cr_assert_eq(cio_future_set_result(m.f, &value), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_join(t[i]), 0);
    cr_assert_eq(m.n, N);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(m.order[i], i, "awaiters wake in the order they began to wait");
        cr_assert_eq(m.results[i], &value);
    }
    cr_assert_eq(cio_future_close(m.f), 0);
    return 0;
}

Test(future, many_tasks_await_one_future_and_wake_in_order)
{
    tst_run(many_awaiters, NULL);
}

static int waiter_cancelled(void *arg)
{
    (void)arg;
    int value;
    struct tk_await a = {.f = tk_future()}, b = {0};
    b.f = a.f;
    cio_task *ta, *tb;
    cr_assert_eq(cio_spawn(&ta, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(cio_spawn(&tb, tk_awaiter, &b, NULL), 0);
    cr_assert_eq(tk_yield_until(&b.started), 0);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    cr_assert_eq(cio_join(ta), -ECANCELED);
    cr_assert_not(cio_future_done(a.f), "a cancelled waiter leaves the future pending");
    cr_assert_eq(cio_future_status(a.f), -EAGAIN);
    cr_assert_not(cio_task_done(tb), "the other waiter still waits");
    cr_assert_eq(cio_future_set_result(a.f, &value), 0);
    cr_assert_eq(cio_join(tb), 0);
    cr_assert_eq(b.result, &value);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(future, a_cancelled_waiter_leaves_the_future_pending)
{
    tst_run(waiter_cancelled, NULL);
}

struct cbs {
    cio_future *f;
    cio_future *done;
    int order[8];
    int n;
    int last;
    int in_task;
};

struct cb_arg {
    struct cbs *c;
    int id;
};

static void done_cb(cio_future *f, void *arg)
{
    struct cb_arg *a = arg;
    cr_assert_eq(f, a->c->f, "the callback receives its future");
    cr_assert(cio_future_done(f));
    if (cio_current() != NULL)
        a->c->in_task = 1;
    a->c->order[a->c->n++] = a->id;
    if (a->id == a->c->last)
        cr_assert_eq(cio_future_set_result(a->c->done, NULL), 0);
}

static int callbacks_order(void *arg)
{
    (void)arg;
    struct cbs c = {.f = tk_future(), .done = tk_future(), .last = 2};
    struct cb_arg args[4] = {{&c, 0}, {&c, 1}, {&c, 2}, {&c, 3}};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_future_add_done_callback(c.f, done_cb, &args[i]), 0);
    cr_assert_eq(cio_future_set_result(c.f, NULL), 0);
    cr_assert_eq(c.n, 0, "done callbacks run soon after, not inside set_result");
    cr_assert_eq(cio_future_await(c.done, NULL), 0);
    cr_assert_eq(c.n, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(c.order[i], i, "done callbacks run in the order added");
    cr_assert_eq(c.in_task, 0, "done callbacks run from the loop, not in a task");
    cr_assert_eq(cio_future_close(c.done), 0);
    c.done = tk_future();
    c.last = 3;
    cr_assert_eq(cio_future_add_done_callback(c.f, done_cb, &args[3]), 0);
    cr_assert_eq(cio_future_await(c.done, NULL), 0);
    cr_assert_eq(c.order[3], 3, "a callback added to a completed future runs soon");
    cr_assert_eq(cio_future_close(c.done), 0);
    cr_assert_eq(cio_future_close(c.f), 0);
    return 0;
}

Test(future, done_callbacks_run_in_the_order_added)
{
    tst_run(callbacks_order, NULL);
}

static void never_cb(cio_future *f, void *arg)
{
    (void)f;
    *(int *)arg = 1;
}

static void mark_done(void *arg)
{
    cr_assert_eq(cio_future_set_result(arg, NULL), 0);
}

static int dropped_callbacks(void *arg)
{
    (void)arg;
    int ran = 0;
    cio_future *f = tk_future(), *g = tk_future();
    cr_assert_eq(cio_future_add_done_callback(f, never_cb, &ran), 0);
    cr_assert_eq(cio_future_close(f), 0);
    cr_assert_eq(cio_call_soon(NULL, mark_done, g), 0);
    cr_assert_eq(cio_future_await(g, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(ran, 0, "callbacks of a closed future are dropped");
    cr_assert_eq(cio_future_close(g), 0);
    return 0;
}

Test(future, closing_drops_callbacks_not_yet_run)
{
    tst_run(dropped_callbacks, NULL);
}

static int close_busy(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    cr_assert_eq(cio_future_close(a.f), -EBUSY);
    cr_assert_not(cio_task_done(t));
    cr_assert_eq(cio_future_set_error(a.f, -EIO), 0, "the future stays open");
    cr_assert_eq(cio_join(t), -EIO);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(future, close_with_waiters_fails_with_ebusy)
{
    tst_run(close_busy, NULL);
}

static void complete_from_callback(void *arg)
{
    cr_assert_eq(cio_future_set_result(arg, arg), 0);
}

static int from_callback(void *arg)
{
    (void)arg;
    cio_future *f = tk_future();
    void *r = NULL;
    cr_assert_eq(cio_call_later(NULL, CIO_US(10), complete_from_callback, f), 0);
    cr_assert_eq(cio_future_await(f, &r), 0);
    cr_assert_eq(r, f);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(future, a_callback_may_complete_a_future)
{
    tst_run(from_callback, NULL);
}
