/* group.c: tests of task groups: success, a failing child, a cancelled owner, spawn rules, closing order. */
#include <pthread.h>
#include <stdint.h>

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
    cr_assert_eq(in.spawn_rc, 0, "any task of the loop may spawn into an open group");
    cr_assert_eq(in.close_rc, CIO_ENOTOWNER);
    cr_assert_eq(cio_group_close(in.g), 0);
    return 0;
}

Test(group, another_task_may_spawn_into_the_group_but_not_close_it)
{
    tst_run(not_owner, NULL);
}

/* A "hydra": every child spawns siblings into the group while the owner already waits in close, to depth 100
   along one line and breadth 1,000 at the first level; close waits for every one of them. */
struct hydra {
    cio_group *g;
    int spawned, ran, depth_max, fail_at;
};

struct hydra_arg {
    struct hydra *h;
    int depth;
};

static struct hydra_arg hydra_args[1200];

static int hydra_child(void *arg)
{
    struct hydra_arg *a = arg;
    struct hydra *h = a->h;
    h->ran++;
    if (a->depth > h->depth_max)
        h->depth_max = a->depth;
    int rc = cio_yield(); /* the owner is in close by now */
    if (rc < 0)
        return rc;
    if (h->fail_at && a->depth == h->fail_at)
        return -EPROTO;
    if (a->depth == 1 && a == &hydra_args[1]) {
        /* the first child: a line of descendants 100 deep */
        hydra_args[h->spawned] = (struct hydra_arg){h, 2};
        rc = cio_group_spawn(h->g, NULL, hydra_child, &hydra_args[h->spawned], NULL);
        h->spawned++;
        return rc;
    }
    if (a->depth >= 2 && a->depth < 100) {
        hydra_args[h->spawned] = (struct hydra_arg){h, a->depth + 1};
        rc = cio_group_spawn(h->g, NULL, hydra_child, &hydra_args[h->spawned], NULL);
        h->spawned++;
        return rc == -ECANCELED ? 0 : rc;
    }
    return 0;
}

/* The owner spawns one child that spawns 999 siblings during close, and the first of them a line 100 deep. */
static int hydra_root(void *arg)
{
    struct hydra *h = arg;
    int rc = cio_yield();
    if (rc < 0)
        return rc;
    for (int i = 1; i < 1000; i++) {
        hydra_args[h->spawned] = (struct hydra_arg){h, 1};
        if ((rc = cio_group_spawn(h->g, NULL, hydra_child, &hydra_args[h->spawned], NULL)) < 0)
            return rc == -ECANCELED ? 0 : rc;
        h->spawned++;
    }
    return 0;
}

static int hydra_body(void *arg)
{
    int fail_at = (int)(intptr_t)arg;
    struct hydra h = {.spawned = 1, .fail_at = fail_at};
    cr_assert_eq(cio_group_open(&h.g), 0);
    cr_assert_eq(cio_group_spawn(h.g, NULL, hydra_root, &h, NULL), 0);
    int rc = cio_group_close(h.g);
    if (!fail_at) {
        cr_assert_eq(rc, 0);
        /* 1 root + 999 children + 99 descendants (depths 2 to 100) */
        cr_assert_eq(h.spawned, 1 + 999 + 99);
        cr_assert_eq(h.ran, 999 + 99);
        cr_assert_eq(h.depth_max, 100);
    } else {
        /* a descendant at depth 50 fails: the whole group is cancelled once, and close returns its error */
        cr_assert_eq(rc, -EPROTO);
        cr_assert_lt(h.depth_max, 51 + 1);
    }
    return 0;
}

Test(group, children_spawn_siblings_while_the_owner_waits_in_close)
{
    tst_run(hydra_body, (void *)(intptr_t)0);
}

Test(group, a_descendants_failure_cancels_the_whole_hydra_once)
{
    tst_run(hydra_body, (void *)(intptr_t)50);
}

/* A task of another loop (another thread) cannot spawn into the group. */
struct other_loop {
    cio_group *g;
    int rc;
};

static int other_loop_task(void *arg)
{
    struct other_loop *o = arg;
    o->rc = cio_group_spawn(o->g, NULL, tk_return, NULL, NULL);
    return 0;
}

static void *other_loop_thread(void *arg)
{
    (void)cio_run(other_loop_task, arg);
    return NULL;
}

static int other_loop_body(void *arg)
{
    (void)arg;
    struct other_loop o = {.rc = 1};
    cr_assert_eq(cio_group_open(&o.g), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, other_loop_thread, &o), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(o.rc, CIO_ENOTOWNER);
    cr_assert_eq(cio_group_close(o.g), 0);
    return 0;
}

Test(group, a_task_of_another_loop_cannot_spawn_into_the_group)
{
    tst_run(other_loop_body, NULL);
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
