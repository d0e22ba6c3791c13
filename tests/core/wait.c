/* wait.c: tests of cio_wait: its three conditions, its timeout, and that it neither joins nor cancels. */
#include "corekit.h"
#include "harness.h"

/* A child that yields `yields` times, then returns `ret`. */
struct step {
    int yields;
    int ret;
};

static int stepper(void *arg)
{
    struct step *s = arg;
    for (int i = 0; i < s->yields; i++) {
        int rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    return s->ret;
}

static int first_completed(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()}, c = {.f = tk_future()};
    struct step b = {2, 9};
    cio_task *t[3];
    cr_assert_eq(cio_spawn(&t[0], tk_awaiter, &a, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], stepper, &b, NULL), 0);
    cr_assert_eq(cio_spawn(&t[2], tk_awaiter, &c, NULL), 0);
    cr_assert_eq(cio_wait(t, 3, CIO_FIRST_COMPLETED, CIO_INFINITE), 1);
    cr_assert_not(cio_task_done(t[0]));
    cr_assert(cio_task_done(t[1]));
    cr_assert_not(cio_task_done(t[2]));
    cr_assert_not(cio_task_cancelled(t[0]), "wait cancels nothing");
    cr_assert_eq(cio_future_set_result(a.f, NULL), 0);
    cr_assert_eq(cio_future_set_result(c.f, NULL), 0);
    cr_assert_eq(cio_join(t[1]), 9, "wait joins nothing");
    cr_assert_eq(cio_join(t[0]), 0);
    cr_assert_eq(cio_join(t[2]), 0);
    cr_assert_eq(cio_future_close(a.f), 0);
    cr_assert_eq(cio_future_close(c.f), 0);
    return 0;
}

Test(wait, first_completed_returns_when_one_task_is_done)
{
    tst_run(first_completed, NULL);
}

static int first_exception(void *arg)
{
    (void)arg;
    struct tk_await c = {.f = tk_future()};
    struct step a = {0, 0}, b = {3, -EPROTO};
    cio_task *t[3];
    cr_assert_eq(cio_spawn(&t[0], stepper, &a, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], stepper, &b, NULL), 0);
    cr_assert_eq(cio_spawn(&t[2], tk_awaiter, &c, NULL), 0);
    cr_assert_eq(cio_wait(t, 3, CIO_FIRST_EXCEPTION, CIO_INFINITE), 2, "a success does not end the wait");
    cr_assert(cio_task_done(t[0]));
    cr_assert(cio_task_done(t[1]));
    cr_assert_not(cio_task_done(t[2]));
    cr_assert_not(cio_task_cancelled(t[2]));
    cr_assert_eq(cio_future_set_result(c.f, NULL), 0);
    cr_assert_eq(cio_join(t[0]), 0);
    cr_assert_eq(cio_join(t[1]), -EPROTO);
    cr_assert_eq(cio_join(t[2]), 0);
    cr_assert_eq(cio_future_close(c.f), 0);
    return 0;
}

Test(wait, first_exception_returns_at_the_first_failure)
{
    tst_run(first_exception, NULL);
}

static int first_exception_none(void *arg)
{
    (void)arg;
    struct step s[3] = {{2, 0}, {0, 1}, {4, 2}};
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], stepper, &s[i], NULL), 0);
    cr_assert_eq(cio_wait(t, 3, CIO_FIRST_EXCEPTION, CIO_INFINITE), 3, "without a failure it waits for all");
    for (int i = 0; i < 3; i++) {
        cr_assert(cio_task_done(t[i]));
        cr_assert_eq(cio_join(t[i]), s[i].ret);
    }
    return 0;
}

Test(wait, first_exception_without_a_failure_waits_for_all)
{
    tst_run(first_exception_none, NULL);
}

static int all_completed(void *arg)
{
    (void)arg;
    struct step s[3] = {{3, 0}, {0, -EIO}, {1, 2}};
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], stepper, &s[i], NULL), 0);
    cr_assert_eq(cio_wait(t, 3, CIO_ALL_COMPLETED, CIO_INFINITE), 3);
    for (int i = 0; i < 3; i++) {
        cr_assert(cio_task_done(t[i]));
        cr_assert_eq(cio_join(t[i]), s[i].ret);
    }
    return 0;
}

Test(wait, all_completed_waits_for_every_task)
{
    tst_run(all_completed, NULL);
}

static int wait_timeout(void *arg)
{
    (void)arg;
    struct tk_await b = {.f = tk_future()};
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], tk_return, (void *)(intptr_t)4, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], tk_awaiter, &b, NULL), 0);
    cr_assert_eq(cio_wait(t, 2, CIO_ALL_COMPLETED, CIO_MS(1)), 1, "a timeout is not an error: fewer are done");
    cr_assert(cio_task_done(t[0]));
    cr_assert_not(cio_task_done(t[1]));
    cr_assert_not(cio_task_cancelled(t[1]), "the timeout cancels nothing");
    cr_assert_eq(cio_wait(t, 2, CIO_FIRST_COMPLETED, CIO_MS(1)), 1, "already done counts at once");
    cr_assert_eq(cio_yield(), 0, "the caller is not cancelled by the timeout");
    cr_assert_eq(cio_future_set_result(b.f, NULL), 0);
    cr_assert_eq(cio_join(t[0]), 4);
    cr_assert_eq(cio_join(t[1]), 0);
    cr_assert_eq(cio_future_close(b.f), 0);
    return 0;
}

Test(wait, a_timeout_returns_fewer_done)
{
    tst_run(wait_timeout, NULL);
}

static int wait_zero_timeout(void *arg)
{
    (void)arg;
    struct tk_await b = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &b, NULL), 0);
    cr_assert_eq(tk_yield_until(&b.started), 0);
    cr_assert_eq(cio_wait(&t, 1, CIO_FIRST_COMPLETED, 0), 0);
    cr_assert_eq(cio_future_set_result(b.f, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_future_close(b.f), 0);
    return 0;
}

Test(wait, a_zero_timeout_polls)
{
    tst_run(wait_zero_timeout, NULL);
}

struct waiter {
    cio_task *target;
    int started;
    int rc;
};

static int waiting(void *arg)
{
    struct waiter *w = arg;
    w->started = 1;
    w->rc = cio_wait(&w->target, 1, CIO_ALL_COMPLETED, CIO_INFINITE);
    return 0;
}

static int wait_cancelled(void *arg)
{
    (void)arg;
    struct tk_await b = {.f = tk_future()};
    struct waiter w = {0};
    cio_task *wt;
    cr_assert_eq(cio_spawn(&w.target, tk_awaiter, &b, NULL), 0);
    cr_assert_eq(cio_spawn(&wt, waiting, &w, NULL), 0);
    cr_assert_eq(tk_yield_until(&w.started), 0);
    cr_assert_eq(cio_cancel(wt, NULL), 0);
    cr_assert_eq(cio_join(wt), 0);
    cr_assert_eq(w.rc, -ECANCELED, "wait returns the caller's cancellation");
    cr_assert_not(cio_task_cancelled(w.target), "the waited task is not cancelled");
    cr_assert_not(cio_task_done(w.target));
    cr_assert_eq(cio_future_set_result(b.f, NULL), 0);
    cr_assert_eq(cio_join(w.target), 0);
    cr_assert_eq(cio_future_close(b.f), 0);
    return 0;
}

Test(wait, a_cancelled_caller_gets_ecanceled_and_the_tasks_run_on)
{
    tst_run(wait_cancelled, NULL);
}

static int wait_bad(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_return, NULL, NULL), 0);
    cr_assert_eq(cio_wait(&t, 1, 7, CIO_INFINITE), -EINVAL, "a bad condition");
    cr_assert_eq(cio_wait(NULL, 1, CIO_ALL_COMPLETED, CIO_INFINITE), -EINVAL);
    cr_assert_eq(cio_join(t), 0);
    return 0;
}

Test(wait, bad_arguments_fail_with_einval)
{
    tst_run(wait_bad, NULL);
}
