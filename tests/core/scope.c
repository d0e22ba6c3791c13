/* scope.c: tests of timeout, deadline and shield scopes, wait_for, and cio_check_cancel. */
#include <string.h>

#include "corekit.h"
#include "harness.h"

static int timeout_expires(void *arg)
{
    (void)arg;
    cio_future *f = tk_future();
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_MS(1)), 0);
    cr_assert_eq(cio_future_await(f, NULL), -ETIMEDOUT, "an expired deadline gives -ETIMEDOUT, not -ECANCELED");
    cr_assert(cio_scope_expired(&s));
    cr_assert_eq(cio_check_cancel(), -ETIMEDOUT);
    cr_assert_eq(cio_yield(), -ETIMEDOUT, "every later wait inside fails too");
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    cr_assert_eq(cio_check_cancel(), 0);
    cr_assert_eq(cio_yield(), 0, "waits after the scope are unaffected");
    cr_assert_not(cio_task_cancelled(NULL), "a timeout is not a cancellation of the task");
    cr_assert_not(cio_future_done(f), "the future is untouched");
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(scope, an_expired_timeout_gives_etimedout_distinct_from_ecanceled)
{
    tst_run(timeout_expires, NULL);
}

static int timeout_unexpired(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, TK_FOREVER), 0);
    cr_assert_eq(cio_sleep(CIO_US(1)), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_not(cio_scope_expired(&s));
    cr_assert_eq(cio_scope_end(&s), 0);
    return 0;
}

Test(scope, a_timeout_that_does_not_expire_ends_with_zero)
{
    tst_run(timeout_unexpired, NULL);
}

static int deadline_passed_unnoticed(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_NS(1)), 0);
    tk_spin_ns(CIO_US(20));
    cr_assert_eq(cio_scope_end(&s), 0, "no wait was cut short");
    return 0;
}

Test(scope, a_deadline_that_passed_without_cutting_a_wait_is_not_an_error)
{
    tst_run(deadline_passed_unnoticed, NULL);
}

static int deadline_in_past(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_deadline_begin(&s, cio_now() - CIO_SEC(1)), 0);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    cr_assert_eq(cio_deadline_begin(&s, cio_now() + CIO_MS(1)), 0);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    return 0;
}

Test(scope, a_deadline_scope_cuts_waits_at_an_absolute_time)
{
    tst_run(deadline_in_past, NULL);
}

static int scope_cancelled(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, TK_FOREVER), 0);
    cr_assert_eq(cio_scope_cancel(&s), 0);
    cr_assert(cio_scope_expired(&s));
    cr_assert_eq(cio_check_cancel(), -ECANCELED);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ECANCELED);
    cr_assert_eq(cio_scope_end(&s), -ECANCELED);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_not(cio_task_cancelled(NULL));
    return 0;
}

Test(scope, cancelling_a_scope_gives_ecanceled_inside_it_only)
{
    tst_run(scope_cancelled, NULL);
}

static int inner_expires(void *arg)
{
    (void)arg;
    cio_scope outer, inner;
    cio_future *f = tk_future();
    cr_assert_eq(cio_timeout_begin(&outer, TK_FOREVER), 0);
    cr_assert_eq(cio_timeout_begin(&inner, CIO_MS(1)), 0);
    cr_assert_eq(cio_future_await(f, NULL), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&inner), -ETIMEDOUT);
    cr_assert_eq(cio_yield(), 0, "the outer scope continues");
    cr_assert_eq(cio_sleep(CIO_US(1)), 0);
    cr_assert_not(cio_scope_expired(&outer));
    cr_assert_eq(cio_scope_end(&outer), 0);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(scope, an_inner_timeout_expiring_leaves_the_outer_one_running)
{
    tst_run(inner_expires, NULL);
}

static int outer_expires(void *arg)
{
    (void)arg;
    cio_scope outer, inner;
    cio_future *f = tk_future();
    cr_assert_eq(cio_timeout_begin(&outer, CIO_MS(1)), 0);
    cr_assert_eq(cio_timeout_begin(&inner, TK_FOREVER), 0);
    cr_assert_eq(cio_future_await(f, NULL), -ETIMEDOUT, "the outer deadline reaches into the inner scope");
    cr_assert_not(cio_scope_expired(&inner));
    cr_assert_eq(cio_scope_end(&inner), 0, "the inner deadline cut nothing short");
    cr_assert_eq(cio_yield(), -ETIMEDOUT, "still inside the expired outer scope");
    cr_assert_eq(cio_scope_end(&outer), -ETIMEDOUT);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(scope, an_outer_timeout_expiring_inside_an_inner_one_cuts_the_wait)
{
    tst_run(outer_expires, NULL);
}

struct inner_task {
    cio_future *never;
    int started;
    int wait_rc;
    int shield_yield;
    int shield_sleep;
    int shield_end;
    int cleaned;
};

static int inner_with_cleanup(void *arg)
{
    struct inner_task *it = arg;
    it->started = 1;
    it->wait_rc = cio_future_await(it->never, NULL);
    cio_scope sh;
    cr_assert_eq(cio_shield_begin(&sh, CIO_INFINITE), 0);
    it->shield_yield = cio_yield();
    it->shield_sleep = cio_sleep(CIO_US(10));
    it->shield_end = cio_scope_end(&sh);
    it->cleaned = 1;
    return it->wait_rc;
}

static int wait_for_times_out(void *arg)
{
    (void)arg;
    struct inner_task it = {.never = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, inner_with_cleanup, &it, NULL), 0);
    cr_assert_eq(cio_wait_for(t, CIO_MS(1)), -ETIMEDOUT);
    cr_assert_eq(it.wait_rc, -ECANCELED, "the inner task is cancelled");
    cr_assert_eq(it.cleaned, 1, "its cleanup finished before wait_for returned");
    cr_assert_eq(it.shield_yield, 0);
    cr_assert_eq(it.shield_sleep, 0, "its cleanup waited inside a shield");
    cr_assert_eq(it.shield_end, 0);
    cr_assert_eq(cio_yield(), 0, "the caller is not cancelled");
    cr_assert_eq(cio_future_close(it.never), 0);
    return 0;
}

Test(scope, wait_for_that_times_out_cancels_the_task_and_waits_for_its_cleanup)
{
    tst_run(wait_for_times_out, NULL);
}

static int wait_for_in_time(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_yielder, (void *)(intptr_t)3, NULL), 0);
    cr_assert_eq(cio_wait_for(t, TK_FOREVER), 0);
    cr_assert_eq(cio_spawn(&t, tk_return, (void *)(intptr_t)42, NULL), 0);
    cr_assert_eq(cio_wait_for(t, CIO_INFINITE), 42, "the body's status");
    return 0;
}

Test(scope, wait_for_in_time_returns_the_body_status)
{
    tst_run(wait_for_in_time, NULL);
}

struct shielded {
    int started;
    int wait_rc;
    int in_shield[3];
    int check_in_shield;
    int end_rc;
    int after;
};

static int shielded_cleanup(void *arg)
{
    struct shielded *s = arg;
    cio_scope sh;
    s->started = 1;
    s->wait_rc = cio_sleep(TK_FOREVER);
    cr_assert_eq(cio_shield_begin(&sh, CIO_INFINITE), 0);
    s->check_in_shield = cio_check_cancel();
    s->in_shield[0] = cio_yield();
    s->in_shield[1] = cio_sleep(CIO_US(1));
    s->in_shield[2] = cio_yield();
    s->end_rc = cio_scope_end(&sh);
    s->after = cio_yield();
    return 3;
}

static int shield_after_cancel(void *arg)
{
    (void)arg;
    struct shielded s = {0};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, shielded_cleanup, &s, NULL), 0);
    cr_assert_eq(tk_yield_until(&s.started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 3);
    cr_assert_eq(s.wait_rc, -ECANCELED);
    cr_assert_eq(s.check_in_shield, 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(s.in_shield[i], 0, "wait %d inside the shield", i);
    cr_assert_eq(s.end_rc, 0);
    cr_assert_eq(s.after, -ECANCELED, "outside the shield the cancellation is back");
    return 0;
}

Test(scope, a_shield_lets_cleanup_wait_after_cancel)
{
    tst_run(shield_after_cancel, NULL);
}

struct shield_timeout {
    cio_future *never;
    int started;
    int rc;
    int end_rc;
};

static int shield_with_timeout_body(void *arg)
{
    struct shield_timeout *s = arg;
    cio_scope sh;
    s->started = 1;
    int rc = cio_sleep(TK_FOREVER);
    cr_assert_eq(cio_shield_begin(&sh, CIO_MS(1)), 0);
    s->rc = cio_future_await(s->never, NULL);
    s->end_rc = cio_scope_end(&sh);
    return rc;
}

static int shield_own_timeout(void *arg)
{
    (void)arg;
    struct shield_timeout s = {.never = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, shield_with_timeout_body, &s, NULL), 0);
    cr_assert_eq(tk_yield_until(&s.started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(s.rc, -ETIMEDOUT, "the shield's own deadline still applies");
    cr_assert_eq(s.end_rc, -ETIMEDOUT);
    cr_assert_eq(cio_future_close(s.never), 0);
    return 0;
}

Test(scope, a_shield_with_its_own_timeout_bounds_the_cleanup)
{
    tst_run(shield_own_timeout, NULL);
}

static int shield_hides_outer_timeout(void *arg)
{
    (void)arg;
    cio_scope outer, sh;
    cr_assert_eq(cio_timeout_begin(&outer, CIO_MS(1)), 0);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ETIMEDOUT);
    cr_assert_eq(cio_shield_begin(&sh, CIO_INFINITE), 0);
    cr_assert_eq(cio_yield(), 0, "a shield hides an outer timeout");
    cr_assert_eq(cio_sleep(CIO_US(1)), 0);
    cr_assert_eq(cio_scope_end(&sh), 0);
    cr_assert_eq(cio_yield(), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&outer), -ETIMEDOUT);
    return 0;
}

Test(scope, a_shield_hides_an_expired_outer_timeout)
{
    tst_run(shield_hides_outer_timeout, NULL);
}

static int out_of_order(void *arg)
{
    (void)arg;
    cio_scope a, b;
    cr_assert_eq(cio_timeout_begin(&a, TK_FOREVER), 0);
    cr_assert_eq(cio_shield_begin(&b, CIO_INFINITE), 0);
    cr_assert_eq(cio_scope_end(&a), CIO_ESCOPEORDER);
    cr_assert_eq(cio_yield(), 0, "nothing changed");
    cr_assert_eq(cio_scope_end(&b), 0);
    cr_assert_eq(cio_scope_end(&a), 0);
    return 0;
}

Test(scope, ending_scopes_out_of_order_fails_with_escopeorder)
{
    tst_run(out_of_order, NULL);
}

static int check_cancel_body(void *arg)
{
    int *seen = arg;
    seen[0] = cio_check_cancel();
    seen[1] = cio_sleep(TK_FOREVER);
    seen[2] = cio_check_cancel();
    return 0;
}

static int check_cancel(void *arg)
{
    (void)arg;
    int seen[3] = {1, 1, 1};
    cio_task *t;
    cr_assert_eq(cio_check_cancel(), 0);
    cr_assert_eq(cio_spawn(&t, check_cancel_body, seen, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(seen[0], 0);
    cr_assert_eq(seen[1], -ECANCELED);
    cr_assert_eq(seen[2], -ECANCELED);
    return 0;
}

Test(scope, check_cancel_tells_whether_waits_would_fail)
{
    tst_run(check_cancel, NULL);
}

static int cancel_myself(void *arg)
{
    int *seen = arg;
    seen[0] = cio_cancel(cio_current(), "me");
    seen[1] = cio_check_cancel();
    seen[2] = cio_yield();
    return 0;
}

static int self_cancel(void *arg)
{
    (void)arg;
    int seen[3] = {1, 1, 1};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, cancel_myself, seen, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(seen[0], 0, "a task may cancel itself");
    cr_assert_eq(seen[1], -ECANCELED);
    cr_assert_eq(seen[2], -ECANCELED);
    return 0;
}

Test(scope, a_task_may_cancel_itself)
{
    tst_run(self_cancel, NULL);
}

static void begin_in_callback(void *arg)
{
    cio_scope s;
    *(int *)arg = cio_timeout_begin(&s, CIO_MS(1));
}

static int bad_scopes(void *arg)
{
    (void)arg;
    cio_scope s;
    int rc = 1;
    cr_assert_eq(cio_timeout_begin(NULL, CIO_MS(1)), -EINVAL);
    cr_assert_eq(cio_timeout_begin(&s, -5), -EINVAL);
    cr_assert_eq(cio_shield_begin(NULL, CIO_INFINITE), -EINVAL);
    memset(&s, 0, sizeof(s));
    cr_assert_eq(cio_scope_end(&s), CIO_EBADHANDLE, "a scope never begun");
    cr_assert_eq(cio_scope_cancel(&s), CIO_EBADHANDLE);
    cr_assert_eq(cio_call_soon(NULL, begin_in_callback, &rc), 0);
    while (rc == 1)
        cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(rc, CIO_ENOTASK);
    return 0;
}

Test(scope, bad_arguments_and_callers_are_refused)
{
    tst_run(bad_scopes, NULL);
}

static int timeout_in_group_child(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_MS(1)), 0);
    int rc = cio_sleep(TK_FOREVER);
    int end = cio_scope_end(&s);
    return rc == -ETIMEDOUT && end == -ETIMEDOUT ? 0 : -EPROTO;
}

static int timeout_inside_group(void *arg)
{
    (void)arg;
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, timeout_in_group_child, NULL, NULL), 0);
    cr_assert_eq(cio_group_close(g), 0, "a child's own timeout is handled in the child");
    return 0;
}

Test(scope, a_timeout_inside_a_group_child_stays_in_the_child)
{
    tst_run(timeout_inside_group, NULL);
}

static int check_without_waiting(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_deadline_begin(&s, cio_now() - CIO_SEC(1)), 0);
    int rc = cio_check_cancel();
    cr_assert_eq(rc, -ETIMEDOUT, "a wait would fail now, but check_cancel gives %s", cio_err_name(rc));
    rc = cio_scope_end(&s);
    cr_assert_eq(rc, -ETIMEDOUT, "check_cancel reported the deadline, so the scope ends with it: %s", cio_err_name(rc));
    cr_assert_eq(cio_check_cancel(), 0);
    return 0;
}

Test(scope, check_cancel_sees_a_passed_deadline_without_waiting)
{
    tst_run(check_without_waiting, NULL);
}

static int innermost_wins(void *arg)
{
    (void)arg;
    cio_scope outer, inner;
    cr_assert_eq(cio_timeout_begin(&outer, TK_FOREVER), 0);
    cr_assert_eq(cio_scope_cancel(&outer), 0);
    cr_assert_eq(cio_deadline_begin(&inner, cio_now() - CIO_SEC(1)), 0);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ETIMEDOUT, "the innermost expired scope gives the error");
    cr_assert_eq(cio_scope_end(&inner), -ETIMEDOUT);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ECANCELED);
    cr_assert_eq(cio_scope_end(&outer), -ECANCELED);
    cr_assert_eq(cio_yield(), 0);
    return 0;
}

Test(scope, the_innermost_expired_scope_gives_the_error)
{
    tst_run(innermost_wins, NULL);
}

static int expired_without_waiting(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_deadline_begin(&s, cio_now() - CIO_SEC(1)), 0);
    cr_assert(cio_scope_expired(&s), "the deadline has passed");
    cr_assert_eq(cio_scope_end(&s), 0);
    return 0;
}

Test(scope, scope_expired_is_true_once_the_deadline_has_passed)
{
    tst_run(expired_without_waiting, NULL);
}

static int polled_only(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_deadline_begin(&s, cio_now() - CIO_SEC(1)), 0);
    cr_assert_eq(cio_check_cancel(), -ETIMEDOUT);
    int rc = cio_scope_end(&s);
    cr_assert_eq(rc, -ETIMEDOUT, "a poll that reported the deadline counts as noticed: %s", cio_err_name(rc));
    return 0;
}

Test(scope, scope_end_reports_a_deadline_that_a_poll_noticed)
{
    tst_run(polled_only, NULL);
}
