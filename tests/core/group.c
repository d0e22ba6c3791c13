/* group.c: tests of task groups: success, a failing child, a cancelled owner, spawn rules, closing order. */
#include "corekit.h"
#include "harness.h"

static int count_after_yields(void *arg)
{
    int *count = arg;
    for (int i = 0; i < 3; i++) {
        int rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    (*count)++;
    return 0;
}

static int all_succeed(void *arg)
{
    (void)arg;
    int count = 0;
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_group_spawn(g, NULL, count_after_yields, &count, NULL), 0);
    cr_assert_eq(cio_group_close(g), 0);
    cr_assert_eq(count, 4, "close waits for every child");
    return 0;
}

Test(group, close_waits_for_every_child_and_returns_zero_when_all_succeed)
{
    tst_run(all_succeed, NULL);
}

static int fail_after_yield(void *arg)
{
    int rc = cio_yield();
    return rc < 0 ? rc : (int)(intptr_t)arg;
}

static int child_fails(void *arg)
{
    (void)arg;
    struct tk_sleep s = {0}, s2 = {.ret = -EIO};
    cio_group *g;
    cio_task *failing = NULL, *sleeping = NULL;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_group_spawn(g, &sleeping, tk_sleeper, &s, NULL), 0);
    cr_assert_eq(cio_group_spawn(g, &failing, fail_after_yield, (void *)(intptr_t)-EPROTO, NULL), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, tk_sleeper, &s2, NULL), 0);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ECANCELED, "the owner's wait inside the group is cancelled");
    cr_assert_eq(cio_yield(), -ECANCELED, "and every later one");
    cr_assert(cio_task_done(failing));
    cr_assert_eq(cio_group_close(g), -EPROTO, "close returns the first error");
    cr_assert_eq(s.rc, -ECANCELED, "siblings are cancelled");
    cr_assert_eq(s.cleaned, 1);
    cr_assert_eq(s2.cleaned, 1);
    cr_assert_eq(cio_yield(), 0, "waits after the group are unaffected");
    cr_assert_eq(cio_sleep(CIO_US(1)), 0);
    cr_assert_not(cio_task_cancelled(NULL));
    return 0;
}

Test(group, a_failing_child_cancels_its_siblings_and_the_owner_wait)
{
    tst_run(child_fails, NULL);
}

struct owner {
    struct tk_sleep s[2];
    int wait_rc;
    int close_rc;
    int later;
};

static int owner_body(void *arg)
{
    struct owner *o = arg;
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_group_spawn(g, NULL, tk_sleeper, &o->s[i], NULL), 0);
    o->wait_rc = cio_sleep(TK_FOREVER);
    o->close_rc = cio_group_close(g);
    o->later = cio_yield();
    return 0;
}

static int owner_cancelled(void *arg)
{
    (void)arg;
    struct owner o = {0};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, owner_body, &o, NULL), 0);
    cr_assert_eq(tk_yield_until(&o.s[1].started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(o.wait_rc, -ECANCELED);
    cr_assert_eq(o.close_rc, -ECANCELED, "close returns the owner's cancellation");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(o.s[i].rc, -ECANCELED, "child %d is cancelled", i);
        cr_assert_eq(o.s[i].cleaned, 1, "child %d finished before close returned", i);
    }
    cr_assert_eq(o.later, -ECANCELED, "the owner's own cancellation outlives the group");
    return 0;
}

Test(group, a_cancelled_owner_cancels_the_children_and_close_returns_ecanceled)
{
    tst_run(owner_cancelled, NULL);
}

static int spawn_after_failure(void *arg)
{
    (void)arg;
    int ran = 0;
    cio_group *g;
    cio_task *late = NULL;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, tk_return, (void *)(intptr_t)-EPROTO, NULL), 0);
    cr_assert_eq(cio_sleep(TK_FOREVER), -ECANCELED);
    cr_assert_eq(cio_group_spawn(g, &late, count_after_yields, &ran, NULL), -ECANCELED);
    cr_assert_eq(cio_group_close(g), -EPROTO);
    cr_assert_eq(ran, 0, "nothing was spawned");
    return 0;
}

Test(group, spawning_into_a_group_cancelled_by_a_failure_fails_with_ecanceled)
{
    tst_run(spawn_after_failure, NULL);
}

static int spawn_after_cancel(void *arg)
{
    (void)arg;
    int ran = 0;
    struct tk_sleep s = {0};
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, tk_sleeper, &s, NULL), 0);
    cr_assert_eq(cio_group_cancel(g), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, count_after_yields, &ran, NULL), -ECANCELED);
    cr_assert_eq(cio_yield(), -ECANCELED, "the owner's waits inside the group are cancelled");
    int rc = cio_group_close(g);
    cr_assert_eq(rc, 0, "a group cancelled by its owner is no failure, and the owner was not cancelled: %s",
                 cio_err_name(rc));
    cr_assert_eq(ran, 0);
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_group_cancel(NULL), -EINVAL);
    return 0;
}

Test(group, spawning_into_a_cancelled_group_fails_with_ecanceled)
{
    tst_run(spawn_after_cancel, NULL);
}

static int out_of_order(void *arg)
{
    (void)arg;
    cio_group *outer, *inner;
    cr_assert_eq(cio_group_open(&outer), 0);
    cr_assert_eq(cio_group_open(&inner), 0);
    cr_assert_eq(cio_group_spawn(outer, NULL, tk_yielder, (void *)(intptr_t)2, NULL), 0);
    cr_assert_eq(cio_group_spawn(inner, NULL, tk_yielder, (void *)(intptr_t)1, NULL), 0);
    cr_assert_eq(cio_group_close(outer), CIO_ESCOPEORDER);
    cr_assert_eq(cio_group_close(inner), 0);
    cr_assert_eq(cio_group_close(outer), 0, "nothing was released by the refused close");
    return 0;
}

Test(group, closing_groups_out_of_order_fails_with_escopeorder)
{
    tst_run(out_of_order, NULL);
}

static int group_and_scope(void *arg)
{
    (void)arg;
    cio_group *g;
    cio_scope s;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_timeout_begin(&s, TK_FOREVER), 0);
    cr_assert_eq(cio_group_close(g), CIO_ESCOPEORDER, "a scope opened after the group is still open");
    cr_assert_eq(cio_scope_end(&s), 0);
    cr_assert_eq(cio_group_close(g), 0);
    cr_assert_eq(cio_timeout_begin(&s, TK_FOREVER), 0);
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_scope_end(&s), CIO_ESCOPEORDER, "a group opened inside the scope is still open");
    cr_assert_eq(cio_group_close(g), 0);
    cr_assert_eq(cio_scope_end(&s), 0);
    return 0;
}

Test(group, groups_and_scopes_nest_and_close_in_reverse_order)
{
    tst_run(group_and_scope, NULL);
}

static int child_handles(void *arg)
{
    (void)arg;
    cio_group *g;
    cio_task *t = NULL;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_group_spawn(g, &t, tk_yielder, (void *)(intptr_t)1, NULL), 0);
    cr_assert_not_null(t);
    cr_assert_eq(cio_join(t), CIO_EBADHANDLE, "the group joins its children");
    cr_assert_eq(cio_detach(t), CIO_EBADHANDLE);
    cr_assert_eq(tk_yield_until_done(t), 0);
    cr_assert(cio_task_done(t), "the handle stays valid until close");
    cr_assert_eq(cio_group_close(g), 0);
    return 0;
}

Test(group, a_child_handle_cannot_be_joined_or_detached)
{
    tst_run(child_handles, NULL);
}

struct intruder {
    cio_group *g;
    int spawn_rc;
    int close_rc;
};

static int intrude(void *arg)
{
    struct intruder *in = arg;
    in->spawn_rc = cio_group_spawn(in->g, NULL, tk_return, NULL, NULL);
    in->close_rc = cio_group_close(in->g);
    return 0;
}

static int not_owner(void *arg)
{
    (void)arg;
    struct intruder in = {0};
    cio_task *t;
    cr_assert_eq(cio_group_open(&in.g), 0);
    cr_assert_eq(cio_spawn(&t, intrude, &in, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(in.spawn_rc, CIO_ENOTOWNER);
    cr_assert_eq(in.close_rc, CIO_ENOTOWNER);
    cr_assert_eq(cio_group_close(in.g), 0);
    return 0;
}

Test(group, another_task_cannot_spawn_into_or_close_the_group)
{
    tst_run(not_owner, NULL);
}

static int first_error_wins(void *arg)
{
    (void)arg;
    struct tk_sleep s = {.ret = -EIO};
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, tk_sleeper, &s, NULL), 0);
    cr_assert_eq(cio_group_spawn(g, NULL, fail_after_yield, (void *)(intptr_t)-EPROTO, NULL), 0);
    cr_assert_eq(cio_group_close(g), -EPROTO, "a later failure of a cancelled child does not replace it");
    cr_assert_eq(s.rc, -ECANCELED);
    return 0;
}

Test(group, the_first_error_wins)
{
    tst_run(first_error_wins, NULL);
}

static void open_in_callback(void *arg)
{
    cio_group *g;
    *(int *)arg = cio_group_open(&g);
}

static int outside_task(void *arg)
{
    (void)arg;
    int rc = 1;
    cr_assert_eq(cio_call_soon(NULL, open_in_callback, &rc), 0);
    while (rc == 1)
        cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(rc, CIO_ENOTASK);
    cr_assert_eq(cio_group_open(NULL), -EINVAL);
    return 0;
}

Test(group, open_outside_a_task_fails_with_enotask)
{
    tst_run(outside_task, NULL);
}

static int nested_groups(void *arg)
{
    (void)arg;
    int count = 0;
    struct tk_sleep s = {0};
    cio_group *outer, *inner;
    cr_assert_eq(cio_group_open(&outer), 0);
    cr_assert_eq(cio_group_spawn(outer, NULL, count_after_yields, &count, NULL), 0);
    cr_assert_eq(cio_group_open(&inner), 0);
    cr_assert_eq(cio_group_spawn(inner, NULL, tk_sleeper, &s, NULL), 0);
    cr_assert_eq(cio_group_spawn(inner, NULL, fail_after_yield, (void *)(intptr_t)-EPROTO, NULL), 0);
    cr_assert_eq(cio_group_close(inner), -EPROTO);
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_eq(cio_yield(), 0, "the outer group is not cancelled by the inner one");
    cr_assert_eq(cio_group_close(outer), 0);
    cr_assert_eq(count, 1, "the outer child ran to its end");
    return 0;
}

Test(group, a_failure_in_an_inner_group_stays_inside_it)
{
    tst_run(nested_groups, NULL);
}

struct closer {
    struct tk_sleep s[2];
    int closing;
    int close_rc;
};

static int close_body(void *arg)
{
    struct closer *c = arg;
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_group_spawn(g, NULL, tk_sleeper, &c->s[i], NULL), 0);
    c->closing = 1;
    c->close_rc = cio_group_close(g);
    return 0;
}

static int cancel_during_close(void *arg)
{
    (void)arg;
    struct closer c = {0};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, close_body, &c, NULL), 0);
    cr_assert_eq(tk_yield_until(&c.s[1].started), 0);
    cr_assert_eq(c.closing, 1);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(c.close_rc, -ECANCELED, "close gave %s", cio_err_name(c.close_rc));
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(c.s[i].rc, -ECANCELED, "child %d is cancelled instead of the owner's close", i);
        cr_assert_eq(c.s[i].cleaned, 1);
    }
    return 0;
}

Test(group, cancelling_the_owner_during_close_cancels_the_children)
{
    tst_run(cancel_during_close, NULL);
}
