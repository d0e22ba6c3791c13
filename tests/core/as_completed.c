/* as_completed.c: tests of cio_as_completed: completion order, timeout, and tasks left to join. */
#include "corekit.h"
#include "harness.h"

struct driver {
    cio_task **tasks;
    struct tk_await *aw;
    const int *order;
    int n;
};

/* Complete the futures in `order`, each only once the previous task has finished. */
static int drive(void *arg)
{
    struct driver *d = arg;
    for (int k = 0; k < d->n; k++) {
        int i = d->order[k];
        cr_assert_eq(cio_future_set_result(d->aw[i].f, NULL), 0);
        int rc = cio_wait(&d->tasks[i], 1, CIO_ALL_COMPLETED, CIO_INFINITE);
        cr_assert_eq(rc, 1, "%s", cio_err_name(rc));
    }
    return 0;
}

static int completion_order(void *arg)
{
    (void)arg;
    enum { N = 4 };
    static const int order[N] = {2, 0, 3, 1};
    struct tk_await aw[N];
    cio_task *t[N], *drv;
    for (int i = 0; i < N; i++) {
        aw[i] = (struct tk_await){.f = tk_future()};
        cr_assert_eq(cio_spawn(&t[i], tk_awaiter, &aw[i], NULL), 0);
    }
    cio_as_completed *it;
    cr_assert_eq(cio_as_completed_open(&it, t, N, CIO_INFINITE), 0);
    struct driver d = {t, aw, order, N};
    cr_assert_eq(cio_spawn(&drv, drive, &d, NULL), 0);
    for (int k = 0; k < N; k++) {
        cio_task *got = NULL;
        cr_assert_eq(cio_as_completed_next(it, &got), 1);
        cr_assert_eq(got, t[order[k]], "position %d", k);
        cr_assert(cio_task_done(got));
        cr_assert_eq(cio_join(got), 0, "the caller still joins what it got");
    }
    cio_task *none = NULL;
    cr_assert_eq(cio_as_completed_next(it, &none), 0, "then the end");
    cio_as_completed_close(it);
    cr_assert_eq(cio_join(drv), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_future_close(aw[i].f), 0);
    return 0;
}

Test(as_completed, yields_tasks_in_completion_order)
{
    tst_run(completion_order, NULL);
}

static int yields_order(void *arg)
{
    (void)arg;
    static const int yields[3] = {5, 1, 3};
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], tk_yielder, (void *)(intptr_t)yields[i], NULL), 0);
    cio_as_completed *it;
    cr_assert_eq(cio_as_completed_open(&it, t, 3, CIO_INFINITE), 0);
    static const int want[3] = {1, 2, 0};
    for (int k = 0; k < 3; k++) {
        cio_task *got;
        cr_assert_eq(cio_as_completed_next(it, &got), 1);
        cr_assert_eq(got, t[want[k]], "position %d", k);
        cr_assert_eq(cio_join(got), 0);
    }
    cio_task *none;
    cr_assert_eq(cio_as_completed_next(it, &none), 0);
    cio_as_completed_close(it);
    return 0;
}

Test(as_completed, tasks_that_need_fewer_turns_come_first)
{
    tst_run(yields_order, NULL);
}

static int already_done(void *arg)
{
    (void)arg;
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], tk_return, (void *)(intptr_t)1, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], tk_return, (void *)(intptr_t)2, NULL), 0);
    cr_assert_eq(tk_yield_until_done(t[1]), 0);
    cr_assert(cio_task_done(t[0]));
    cio_as_completed *it;
    cr_assert_eq(cio_as_completed_open(&it, t, 2, CIO_INFINITE), 0);
    int seen = 0;
    cio_task *got;
    while (cio_as_completed_next(it, &got) == 1) {
        int rc = cio_join(got);
        cr_assert(rc == 1 || rc == 2);
        seen |= rc;
    }
    cr_assert_eq(seen, 3, "finished tasks are returned too");
    cio_as_completed_close(it);
    return 0;
}

Test(as_completed, tasks_finished_before_open_are_returned)
{
    tst_run(already_done, NULL);
}

static int with_timeout(void *arg)
{
    (void)arg;
    struct tk_await b = {.f = tk_future()};
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], tk_return, (void *)(intptr_t)3, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], tk_awaiter, &b, NULL), 0);
    cio_as_completed *it;
    cr_assert_eq(cio_as_completed_open(&it, t, 2, CIO_MS(1)), 0);
    cio_task *got = NULL;
    cr_assert_eq(cio_as_completed_next(it, &got), 1);
    cr_assert_eq(got, t[0]);
    cr_assert_eq(cio_as_completed_next(it, &got), -ETIMEDOUT);
    cr_assert_not(cio_task_done(t[1]));
    cr_assert_not(cio_task_cancelled(t[1]), "the timeout cancels nothing");
    cr_assert_eq(cio_yield(), 0, "the caller is not cancelled by the timeout");
    cio_as_completed_close(it);
    cr_assert_eq(cio_future_set_result(b.f, NULL), 0);
    cr_assert_eq(cio_join(t[0]), 3);
    cr_assert_eq(cio_join(t[1]), 0);
    cr_assert_eq(cio_future_close(b.f), 0);
    return 0;
}

Test(as_completed, a_timeout_ends_the_iteration_with_etimedout)
{
    tst_run(with_timeout, NULL);
}

static int empty(void *arg)
{
    (void)arg;
    cio_as_completed *it;
    cio_task *got;
    cr_assert_eq(cio_as_completed_open(&it, NULL, 0, CIO_INFINITE), 0);
    cr_assert_eq(cio_as_completed_next(it, &got), 0);
    cio_as_completed_close(it);
    return 0;
}

Test(as_completed, no_tasks_ends_at_once)
{
    tst_run(empty, NULL);
}

static int array_copied(void *arg)
{
    (void)arg;
    cio_task *t[2], *copy[2];
    cr_assert_eq(cio_spawn(&t[0], tk_yielder, (void *)(intptr_t)2, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], tk_yielder, (void *)(intptr_t)1, NULL), 0);
    copy[0] = t[0];
    copy[1] = t[1];
    cio_as_completed *it;
    cr_assert_eq(cio_as_completed_open(&it, copy, 2, CIO_INFINITE), 0);
    copy[0] = copy[1] = NULL;
    cio_task *got;
    cr_assert_eq(cio_as_completed_next(it, &got), 1);
    cr_assert_eq(got, t[1]);
    cr_assert_eq(cio_join(got), 0);
    cr_assert_eq(cio_as_completed_next(it, &got), 1);
    cr_assert_eq(got, t[0]);
    cr_assert_eq(cio_join(got), 0);
    cio_as_completed_close(it);
    return 0;
}

Test(as_completed, the_task_array_is_copied)
{
    tst_run(array_copied, NULL);
}

struct iter_caller {
    cio_task *target;
    int started;
    int rc;
};

static int iterate(void *arg)
{
    struct iter_caller *c = arg;
    cio_as_completed *it;
    cio_task *got;
    cr_assert_eq(cio_as_completed_open(&it, &c->target, 1, CIO_INFINITE), 0);
    c->started = 1;
    c->rc = cio_as_completed_next(it, &got);
    cio_as_completed_close(it);
    return 0;
}

static int cancelled_caller(void *arg)
{
    (void)arg;
    struct tk_await b = {.f = tk_future()};
    struct iter_caller c = {0};
    cio_task *ct;
    cr_assert_eq(cio_spawn(&c.target, tk_awaiter, &b, NULL), 0);
    cr_assert_eq(cio_spawn(&ct, iterate, &c, NULL), 0);
    cr_assert_eq(tk_yield_until(&c.started), 0);
    cr_assert_eq(cio_cancel(ct, NULL), 0);
    cr_assert_eq(cio_join(ct), 0);
    cr_assert_eq(c.rc, -ECANCELED, "next returns the caller's cancellation");
    cr_assert_not(cio_task_cancelled(c.target), "the tasks are not cancelled");
    cr_assert_eq(cio_future_set_result(b.f, NULL), 0);
    cr_assert_eq(cio_join(c.target), 0);
    cr_assert_eq(cio_future_close(b.f), 0);
    return 0;
}

Test(as_completed, a_cancelled_caller_gets_ecanceled)
{
    tst_run(cancelled_caller, NULL);
}
