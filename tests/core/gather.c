/* gather.c: tests of cio_gather in both modes, its cancellation and its argument checks. */
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

static int gather_all(void *arg)
{
    (void)arg;
    struct step s[4] = {{3, 1}, {0, -EPROTO}, {1, 0}, {2, 4}};
    cio_task *t[4];
    int st[4] = {-1, -1, -1, -1};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_spawn(&t[i], stepper, &s[i], NULL), 0);
    cr_assert_eq(cio_gather(t, 4, st, CIO_GATHER_ALL), 0, "ALL returns 0 even when a task failed");
    for (int i = 0; i < 4; i++)
        cr_assert_eq(st[i], s[i].ret, "status %d", i);
    return 0;
}

Test(gather, all_waits_for_every_task_and_reports_every_status)
{
    tst_run(gather_all, NULL);
}

static int gather_all_no_statuses(void *arg)
{
    (void)arg;
    struct step s[2] = {{1, 0}, {0, 0}};
    cio_task *t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_spawn(&t[i], stepper, &s[i], NULL), 0);
    cr_assert_eq(cio_gather(t, 2, NULL, CIO_GATHER_ALL), 0);
    cr_assert_eq(cio_gather(NULL, 0, NULL, CIO_GATHER_ALL), 0, "nothing to wait for");
    return 0;
}

Test(gather, statuses_may_be_null_and_n_may_be_zero)
{
    tst_run(gather_all_no_statuses, NULL);
}

static int first_error(void *arg)
{
    (void)arg;
    struct tk_sleep s2 = {0}, s3 = {.ret = 5};
    struct step ok = {0, 0}, bad = {2, -EPROTO};
    cio_task *t[4];
    int st[4] = {-1, -1, -1, -1};
    cr_assert_eq(cio_spawn(&t[0], stepper, &ok, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], stepper, &bad, NULL), 0);
    cr_assert_eq(cio_spawn(&t[2], tk_sleeper, &s2, NULL), 0);
    cr_assert_eq(cio_spawn(&t[3], tk_sleeper, &s3, NULL), 0);
    cr_assert_eq(cio_gather(t, 4, st, CIO_GATHER_FIRST_ERROR), -EPROTO);
    cr_assert_eq(st[0], 0);
    cr_assert_eq(st[1], -EPROTO);
    cr_assert_eq(st[2], -ECANCELED, "the others are cancelled");
    cr_assert_eq(st[3], 5, "a cancelled task's own status is reported");
    cr_assert_eq(s2.cleaned, 1, "gather waits for their cleanup");
    cr_assert_eq(s3.cleaned, 1);
    cr_assert_eq(s3.rc, -ECANCELED);
    cr_assert_eq(cio_yield(), 0, "the caller is not cancelled");
    return 0;
}

Test(gather, first_error_cancels_the_others_and_returns_the_error)
{
    tst_run(first_error, NULL);
}

static int first_error_none(void *arg)
{
    (void)arg;
    struct step s[3] = {{2, 1}, {0, 0}, {1, 2}};
    cio_task *t[3];
    int st[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], stepper, &s[i], NULL), 0);
    cr_assert_eq(cio_gather(t, 3, st, CIO_GATHER_FIRST_ERROR), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(st[i], s[i].ret);
    return 0;
}

Test(gather, first_error_without_a_failure_returns_zero)
{
    tst_run(first_error_none, NULL);
}

struct gatherer {
    int mode;
    struct tk_sleep s[3];
    int st[3];
    int started;
    int rc;
    int later;
};

static int gathering(void *arg)
{
    struct gatherer *g = arg;
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], tk_sleeper, &g->s[i], NULL), 0);
    for (int i = 0; i < 3; i++)
        g->st[i] = -1;
    g->started = 1;
    g->rc = cio_gather(t, 3, g->st, g->mode);
    g->later = cio_yield();
    return 0;
}

static int cancel_gatherer(void *arg)
{
    struct gatherer *g = arg;
    cio_task *t;
    g->s[1].ret = 8;
    cr_assert_eq(cio_spawn(&t, gathering, g, NULL), 0);
    cr_assert_eq(tk_yield_until(&g->s[2].started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(g->rc, -ECANCELED, "gather returns the caller's cancellation");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(g->s[i].rc, -ECANCELED, "child %d is cancelled", i);
        cr_assert_eq(g->s[i].cleaned, 1, "child %d finished its cleanup", i);
    }
    cr_assert_eq(g->st[0], -ECANCELED, "statuses are filled");
    cr_assert_eq(g->st[1], 8);
    cr_assert_eq(g->st[2], -ECANCELED);
    cr_assert_eq(g->later, -ECANCELED, "the gatherer stays cancelled");
    return 0;
}

Test(gather, cancelling_the_gatherer_in_all_mode_cancels_and_joins_every_child)
{
    struct gatherer g = {.mode = CIO_GATHER_ALL};
    tst_run(cancel_gatherer, &g);
}

Test(gather, cancelling_the_gatherer_in_first_error_mode_cancels_and_joins_every_child)
{
    struct gatherer g = {.mode = CIO_GATHER_FIRST_ERROR};
    tst_run(cancel_gatherer, &g);
}

static int gather_self(void *arg)
{
    (void)arg;
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], tk_return, NULL, NULL), 0);
    t[1] = cio_current();
    cr_assert_eq(cio_gather(t, 2, NULL, CIO_GATHER_ALL), -EDEADLK);
    cr_assert_eq(cio_join(t[0]), 0, "no handle is released on an argument error");
    return 0;
}

Test(gather, gathering_the_caller_fails_with_edeadlk)
{
    tst_run(gather_self, NULL);
}

static int gather_bad(void *arg)
{
    (void)arg;
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], tk_return, (void *)(intptr_t)6, NULL), 0);
    t[1] = t[0];
    cr_assert_eq(cio_gather(t, 2, NULL, CIO_GATHER_ALL), -EINVAL, "a repeated task");
    cr_assert_eq(cio_gather(t, 1, NULL, 42), -EINVAL, "a bad mode");
    cr_assert_eq(cio_gather(NULL, 1, NULL, CIO_GATHER_ALL), -EINVAL);
    t[1] = NULL;
    cr_assert_eq(cio_gather(t, 2, NULL, CIO_GATHER_ALL), -EINVAL, "a NULL task");
    cr_assert_eq(cio_join(t[0]), 6, "no handle is released on an argument error");
    return 0;
}

Test(gather, bad_arguments_fail_with_einval_and_release_nothing)
{
    tst_run(gather_bad, NULL);
}

struct gated {
    cio_future *gate;
    cio_future *finished;
};

static int gated_body(void *arg)
{
    struct gated *g = arg;
    int rc = cio_future_await(g->gate, NULL);
    cr_assert_eq(cio_future_set_result(g->finished, NULL), 0);
    return rc;
}

static int gather_detached(void *arg)
{
    (void)arg;
    struct gated g = {.gate = tk_future(), .finished = tk_future()};
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], gated_body, &g, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], tk_return, NULL, NULL), 0);
    cr_assert_eq(cio_detach(t[0]), 0);
    cr_assert_eq(cio_gather(t, 2, NULL, CIO_GATHER_ALL), CIO_EBADHANDLE);
    cr_assert_eq(cio_join(t[1]), 0, "no handle is released on an argument error");
    cr_assert_eq(cio_future_set_result(g.gate, NULL), 0);
    cr_assert_eq(cio_future_await(g.finished, NULL), 0);
    cr_assert_eq(cio_future_close(g.gate), 0);
    cr_assert_eq(cio_future_close(g.finished), 0);
    return 0;
}

Test(gather, a_detached_handle_fails_with_ebadhandle)
{
    tst_run(gather_detached, NULL);
}
