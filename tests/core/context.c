/* context.c: tests of task-local context: set and get, inheritance by tasks and callbacks, when values go. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const cio_loop_opts mock = {.mock_clock = true};

/* Values are counters: destroying one counts it, so each test can require exactly one destroy per value. */
static void count_destroy(void *value)
{
    (*(int *)value)++;
}

static int set_get_replace_unset(void *arg)
{
    (void)arg;
    int a = 0, b = 0;
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0);
    cr_assert_null(cio_context_get(k), "a key never set gives NULL");
    cr_assert_eq(cio_context_set(k, &a), 0);
    cr_assert_eq(cio_context_get(k), &a);
    cr_assert_eq(cio_context_set(k, &a), 0, "setting the value it already has");
    cr_assert_eq(a, 0, "changes nothing: the value is not destroyed");
    cr_assert_eq(cio_context_get(k), &a);
    cr_assert_eq(cio_context_set(k, &b), 0);
    cr_assert_eq(a, 1, "the value replaced is destroyed");
    cr_assert_eq(cio_context_get(k), &b);
    cr_assert_eq(cio_context_set(k, NULL), 0, "NULL unsets");
    cr_assert_eq(b, 1, "the value unset is destroyed");
    cr_assert_null(cio_context_get(k));
    cr_assert_eq(cio_context_set(k, NULL), 0, "unsetting a key not set does nothing");
    cio_context_key_free(k);
    cr_assert_eq(a, 1);
    cr_assert_eq(b, 1);
    return 0;
}

Test(context, set_get_replace_and_unset_in_a_task_destroy_each_value_once)
{
    tst_run(set_get_replace_unset, NULL);
}

static int many_keys(void *arg)
{
    (void)arg;
    enum { N = 20 };
    static int v[N]; /* the odd ones go after the body returns, with its task */
    memset(v, 0, sizeof v);
    cio_context_key *k[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_context_key_new(&k[i], count_destroy), 0);
        cr_assert_eq(cio_context_set(k[i], &v[i]), 0, "the map grows past its first size");
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_context_get(k[i]), &v[i]);
    for (int i = 0; i < N; i += 2)
        cr_assert_eq(cio_context_set(k[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_context_get(k[i]), i % 2 ? &v[i] : NULL, "key %d after unsetting the even ones", i);
        cr_assert_eq(v[i], i % 2 ? 0 : 1);
    }
    for (int i = 0; i < N; i++)
        cio_context_key_free(k[i]);
    for (int i = 0; i < N; i++)
        cr_assert_eq(v[i], i % 2 ? 0 : 1, "freeing a key destroys nothing while its value is held");
    return 0;
}

Test(context, twenty_keys_in_one_context_and_unsetting_some)
{
    tst_run(many_keys, NULL);
}

/* ------------------------------------------------------------------------------------------------ inheritance */

struct family {
    cio_context_key *k, *k2;
    int parent_v, parent_v2, child_v, grand_v;
    int child_saw_ok, grand_saw_ok;
};

static int grandchild(void *arg)
{
    struct family *f = arg;
    f->grand_saw_ok = cio_context_get(f->k) == &f->child_v && cio_context_get(f->k2) == &f->parent_v2;
    int rc = cio_context_set(f->k2, &f->grand_v);
    if (rc < 0)
        return rc;
    rc = cio_yield();
    return rc < 0 ? rc : cio_context_get(f->k2) == &f->grand_v ? 0 : -EPROTO;
}

static int child(void *arg)
{
    struct family *f = arg;
    int ok = cio_context_get(f->k) == &f->parent_v && cio_context_get(f->k2) == &f->parent_v2;
    int rc = cio_context_set(f->k, &f->child_v);
    if (rc < 0)
        return rc;
    cio_task *t;
    rc = cio_spawn(&t, grandchild, f, NULL);
    if (rc < 0)
        return rc;
    rc = cio_join(t);
    if (rc < 0)
        return rc;
    ok = ok && cio_context_get(f->k) == &f->child_v && cio_context_get(f->k2) == &f->parent_v2;
    f->child_saw_ok = ok;
    return 0;
}

static int inherit(void *arg)
{
    (void)arg;
    static struct family f; /* its values go after the body returns, with its task */
    memset(&f, 0, sizeof f);
    cr_assert_eq(cio_context_key_new(&f.k, count_destroy), 0);
    cr_assert_eq(cio_context_key_new(&f.k2, count_destroy), 0);
    cr_assert_eq(cio_context_set(f.k, &f.parent_v), 0);
    cr_assert_eq(cio_context_set(f.k2, &f.parent_v2), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, child, &f, NULL), 0);
    int later = 0;
    cr_assert_eq(cio_context_set(f.k2, &later), 0, "a change before the child first runs");
    cr_assert_eq(f.parent_v2, 0, "the child still holds the old value");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(f.parent_v2, 1, "the old value went with the child's context");
    cr_assert(f.child_saw_ok, "the parent's change after the spawn did not reach the child");
    /* Again, the parent leaving its value alone: the child sees what it had at spawn. */
    cr_assert_eq(cio_context_set(f.k2, &f.parent_v2), 0);
    cr_assert_eq(later, 1);
    f.parent_v2 = 0;
    cr_assert_eq(cio_spawn(&t, child, &f, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert(f.child_saw_ok, "the child sees the parent's values at spawn, then its own");
    cr_assert(f.grand_saw_ok, "a grandchild sees its parent's change and its grandparent's value");
    cr_assert_eq(cio_context_get(f.k), &f.parent_v, "the child's changes stay its own");
    cr_assert_eq(cio_context_get(f.k2), &f.parent_v2, "the grandchild's changes stay its own");
    cr_assert_eq(f.child_v, 2, "the child's value went once with each child");
    cr_assert_eq(f.grand_v, 2, "the grandchild's value went once with each grandchild");
    cr_assert_eq(f.parent_v, 0);
    cr_assert_eq(f.parent_v2, 0);
    cio_context_key_free(f.k);
    cio_context_key_free(f.k2);
    cr_assert_eq(f.parent_v, 0, "freeing a key leaves the values held for it");
    cr_assert_eq(cio_context_set(f.k, NULL), CIO_EBADHANDLE, "a freed key, while its memory stays");
    return 0;
}

Test(context, children_and_grandchildren_start_with_a_copy_and_keep_their_changes)
{
    tst_run(inherit, NULL);
}

struct member {
    cio_context_key *k;
    int *shared;
    int own;
    int saw;
};

static int group_child(void *arg)
{
    struct member *m = arg;
    m->saw = cio_context_get(m->k) == m->shared;
    int rc = cio_context_set(m->k, &m->own);
    if (rc < 0)
        return rc;
    rc = cio_yield();
    if (rc < 0)
        return rc;
    return cio_context_get(m->k) == &m->own ? 0 : -EPROTO;
}

static int group_children(void *arg)
{
    (void)arg;
    int shared = 0;
    struct member m[4] = {{0}};
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0);
    cr_assert_eq(cio_context_set(k, &shared), 0);
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    for (int i = 0; i < 4; i++) {
        m[i].k = k;
        m[i].shared = &shared;
        cr_assert_eq(cio_group_spawn(g, NULL, group_child, &m[i], NULL), 0);
    }
    cr_assert_eq(cio_group_close(g), 0, "every child saw its own value after setting it");
    for (int i = 0; i < 4; i++) {
        cr_assert(m[i].saw, "child %d saw the owner's value", i);
        cr_assert_eq(m[i].own, 1, "child %d's value went when it ended", i);
    }
    cr_assert_eq(cio_context_get(k), &shared);
    cr_assert_eq(shared, 0);
    cr_assert_eq(cio_context_set(k, NULL), 0);
    cr_assert_eq(shared, 1, "the owner's value went once, when the last context holding it let it go");
    cio_context_key_free(k);
    return 0;
}

Test(context, a_task_groups_children_inherit_the_owners_context)
{
    tst_run(group_children, NULL);
}

/* ------------------------------------------------------------------------------------------------ callbacks */

struct cb_state {
    cio_context_key *k;
    void *want;
    int ran, saw, cb_own;
    int spawned_saw;
    cio_task *spawned;
};

static int spawned_by_callback(void *arg)
{
    struct cb_state *s = arg;
    s->spawned_saw = cio_context_get(s->k) == &s->cb_own;
    return 0;
}

static void context_cb(void *arg)
{
    struct cb_state *s = arg;
    s->ran++;
    s->saw = cio_context_get(s->k) == s->want;
    /* A callback's own change stays its own; a task it spawns copies it. */
    if (cio_context_set(s->k, &s->cb_own) == 0 && !s->spawned)
        cio_spawn(&s->spawned, spawned_by_callback, s, NULL);
}

static int callbacks(void *arg)
{
    (void)arg;
    int v1 = 0, v2 = 0;
    static int v3; /* goes after the body returns, with its task */
    v3 = 0;
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0);
    cr_assert_eq(cio_context_set(k, &v1), 0);
    struct cb_state soon = {.k = k, .want = &v1}, later = {.k = k, .want = &v1}, at = {.k = k, .want = &v2};
    cr_assert_eq(cio_call_soon(NULL, context_cb, &soon), 0);
    cr_assert_eq(cio_call_later(NULL, CIO_SEC(5), context_cb, &later), 0);
    cr_assert_eq(cio_context_set(k, &v2), 0, "a change after scheduling is not seen by the callbacks");
    cr_assert_eq(v1, 0, "the callbacks still hold the old value");
    cr_assert_eq(cio_call_at(NULL, cio_now() + CIO_SEC(10), context_cb, &at), 0);
    cr_assert_eq(cio_context_set(k, &v3), 0);
    cr_assert_eq(cio_sleep(CIO_SEC(1)), 0);
    cr_assert_eq(soon.ran, 1);
    cr_assert(soon.saw, "call_soon's callback ran with the scheduler's context");
    cr_assert_eq(soon.cb_own, 1, "the callback's own value went once it and the task it spawned were done");
    cr_assert_eq(v1, 0, "the call_later callback still holds the value");
    cr_assert_eq(cio_sleep(CIO_SEC(20)), 0);
    cr_assert(later.saw, "call_later's callback ran with the context at scheduling time");
    cr_assert(at.saw, "call_at's callback too");
    cr_assert_eq(v1, 1, "destroyed once, when the last callback holding it had run");
    cr_assert_eq(v2, 1);
    cr_assert_eq(later.cb_own, 1);
    cr_assert_eq(at.cb_own, 1);
    cr_assert_eq(cio_context_get(k), &v3, "the callbacks' changes never reached the task");
    cr_assert_not_null(soon.spawned);
    cr_assert_eq(cio_join(soon.spawned), 0);
    cr_assert(soon.spawned_saw, "a task spawned by a callback copies the callback's context");
    cr_assert_eq(cio_join(later.spawned), 0);
    cr_assert_eq(cio_join(at.spawned), 0);
    cr_assert_eq(v3, 0);
    cio_context_key_free(k);
    return 0;
}

Test(context, callbacks_run_with_the_context_they_were_scheduled_with)
{
    tst_run_expect(callbacks, NULL, &mock, 0);
}

static void never_runs(void *arg)
{
    (void)arg;
    cr_assert_fail("a cancelled callback ran");
}

static int cancelled_callbacks(void *arg)
{
    (void)arg;
    static int v; /* goes after the body returns, with its task */
    v = 0;
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0);
    cr_assert_eq(cio_context_set(k, &v), 0);
    cio_handle *h1, *h2;
    cr_assert_eq(cio_call_later(&h1, CIO_SEC(5), never_runs, NULL), 0);
    cr_assert_eq(cio_call_soon(&h2, never_runs, NULL), 0);
    cio_context_key_free(k); /* the values outlive the key */
    cr_assert_eq(cio_context_set(k, NULL), CIO_EBADHANDLE);
    cr_assert_eq(cio_handle_cancel(h1), 0);
    cio_handle_close(h2);
    cr_assert_eq(v, 0, "the task still holds the value");
    cio_handle_close(h1);
    return 0; /* the task's end lets the value go: the harness checks the key's memory went too */
}

Test(context, cancelled_callbacks_let_their_context_go_and_a_freed_key_lasts_as_long_as_its_values)
{
    tst_run_expect(cancelled_callbacks, NULL, &mock, 0);
}

/* ------------------------------------------------------------------------------------------------ lifetimes */

struct ender {
    cio_context_key *k;
    int v;
};

static int set_and_end(void *arg)
{
    struct ender *e = arg;
    return cio_context_set(e->k, &e->v);
}

static int set_then_yield(void *arg)
{
    struct ender *e = arg;
    int rc = cio_context_set(e->k, &e->v);
    if (rc < 0)
        return rc;
    rc = cio_yield();
    if (rc < 0)
        return rc;
    return cio_context_get(e->k) == &e->v ? 0 : -EPROTO;
}

static int ending_tasks(void *arg)
{
    (void)arg;
    struct ender e = {0};
    cr_assert_eq(cio_context_key_new(&e.k, count_destroy), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, set_and_end, &e, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert(cio_task_done(t));
    cr_assert_eq(e.v, 1, "a finished task's values go when it ends, before it is joined");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(e.v, 1);
    cr_assert_eq(cio_spawn(&t, set_and_end, &e, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(e.v, 2, "a detached task's too");
    /* The key freed while a task holds a value: the value goes with the task, the key after it. */
    cr_assert_eq(cio_spawn(&t, set_then_yield, &e, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cio_context_key_free(e.k);
    cr_assert_eq(e.v, 2);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(e.v, 3);
    return 0;
}

Test(context, a_tasks_values_are_destroyed_once_when_it_ends)
{
    tst_run(ending_tasks, NULL);
}

struct heap_val {
    int *destroyed;
};

static void heap_destroy(void *value)
{
    struct heap_val *v = value;
    (*v->destroyed)++;
    free(v);
}

struct many {
    cio_context_key *k;
    int destroyed;
    int wrong;
};

static int set_own_heap_value(void *arg)
{
    struct many *m = arg;
    struct heap_val *v = malloc(sizeof *v);
    if (!v)
        return -ENOMEM;
    v->destroyed = &m->destroyed;
    int rc = cio_context_set(m->k, v);
    if (rc < 0) {
        free(v);
        return rc;
    }
    rc = cio_yield();
    if (cio_context_get(m->k) != v)
        m->wrong++;
    return rc;
}

static int ten_thousand(void *arg)
{
    (void)arg;
    struct many m = {0};
    cr_assert_eq(cio_context_key_new(&m.k, heap_destroy), 0);
    cio_group *g;
    cr_assert_eq(cio_group_open(&g), 0);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(cio_group_spawn(g, NULL, set_own_heap_value, &m, NULL), 0);
    cr_assert_eq(cio_group_close(g), 0);
    cr_assert_eq(m.wrong, 0, "each task kept its own value across a yield");
    cr_assert_eq(m.destroyed, 10000, "every value destroyed once");
    cio_context_key_free(m.k);
    return 0;
}

Test(context, ten_thousand_tasks_each_with_a_value_of_its_own)
{
    tst_run(ten_thousand, NULL);
}

static int just_get(void *arg)
{
    return cio_context_get(arg) ? 0 : -ENOENT;
}

static int spawn_allocates_nothing(void *arg)
{
    (void)arg;
    static int v; /* goes after the body returns, with its task */
    v = 0;
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, just_get, k, NULL), 0); /* warms the stack pool */
    cr_assert_eq(cio_join(t), -ENOENT, "an empty context stays empty");
    cr_assert_eq(cio_context_set(k, &v), 0);
    tst_alloc_count_reset();
    cr_assert_eq(cio_spawn(&t, just_get, k, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(tst_alloc_count(), 0, "a child that only reads shares its parent's context");
    cio_context_key_free(k);
    return 0;
}

Test(context, spawning_shares_the_parents_context_without_allocating)
{
    tst_run(spawn_allocates_nothing, NULL);
}

static int out_of_memory(void *arg)
{
    (void)arg;
    int a = 0, b = 0;
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0);
    tst_fail_alloc_at(1);
    cr_assert_eq(cio_context_set(k, &a), -ENOMEM, "the value's box");
    tst_fail_alloc_at(2);
    cr_assert_eq(cio_context_set(k, &a), -ENOMEM, "the map");
    tst_fail_alloc_at(0);
    cr_assert_null(cio_context_get(k));
    cr_assert_eq(a, 0, "a value not taken is not destroyed");
    cr_assert_eq(cio_context_set(k, &a), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, just_get, k, NULL), 0); /* shares the map: the next set must copy it */
    tst_fail_alloc_at(2);
    cr_assert_eq(cio_context_set(k, &b), -ENOMEM, "the copy of a shared map");
    tst_fail_alloc_at(0);
    cr_assert_eq(cio_context_get(k), &a, "nothing changed");
    cr_assert_eq(b, 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_context_set(k, NULL), 0);
    cr_assert_eq(a, 1);
    cio_context_key_free(k);
    tst_fail_alloc_at(1);
    cr_assert_eq(cio_context_key_new(&k, NULL), -ENOMEM);
    tst_fail_alloc_at(0);
    return 0;
}

Test(context, out_of_memory_changes_nothing)
{
    tst_run(out_of_memory, NULL);
}

/* ------------------------------------------------------------------------------------------------ outside tasks */

struct outside {
    cio_context_key *k;
    int set_rc, got_null, ran;
};

static void outside_cb(void *arg)
{
    struct outside *o = arg;
    o->ran++;
    o->got_null = cio_context_get(o->k) == NULL;
    o->set_rc = cio_context_set(o->k, &o->ran);
}

static void outside_future_cb(cio_future *f, void *arg)
{
    (void)f;
    outside_cb(arg);
}

static int posted_callbacks(void *arg)
{
    (void)arg;
    int v = 0;
    struct outside posted = {0}, done = {0};
    cr_assert_eq(cio_context_key_new(&posted.k, count_destroy), 0);
    done.k = posted.k;
    cr_assert_eq(cio_context_set(posted.k, &v), 0);
    cr_assert_eq(cio_call_soon_threadsafe(cio_loop_current(), outside_cb, &posted), 0);
    cio_future *f;
    cr_assert_eq(cio_future_open(&f), 0);
    cr_assert_eq(cio_future_add_done_callback(f, outside_future_cb, &done), 0);
    cr_assert_eq(cio_future_set_result(f, NULL), 0);
    cr_assert_eq(cio_sleep(CIO_SEC(1)), 0, "the loop polls, and runs both");
    cr_assert_eq(posted.ran, 1);
    cr_assert_eq(done.ran, 1);
    cr_assert(posted.got_null, "a posted callback runs outside any context");
    cr_assert_eq(posted.set_rc, CIO_ENOTASK);
    cr_assert(done.got_null, "so does a future's done callback");
    cr_assert_eq(done.set_rc, CIO_ENOTASK);
    cr_assert_eq(cio_future_close(f), 0);
    cr_assert_eq(cio_context_set(posted.k, NULL), 0);
    cr_assert_eq(v, 1);
    cio_context_key_free(posted.k);
    return 0;
}

Test(context, posted_and_future_callbacks_run_outside_any_context)
{
    tst_run_expect(posted_callbacks, NULL, &mock, 0);
}

static int main_starts_empty(void *arg)
{
    return cio_context_get(arg) ? -EPROTO : 0;
}

struct submit {
    cio_loop *loop;
    cio_context_key *k;
};

/* On a pool thread: run a task on the loop from outside, as plain code would, and hand back its status. */
static int submit_from_thread(void *arg)
{
    struct submit *s = arg;
    cio_cfuture *cf;
    int rc = cio_run_coroutine_threadsafe(&cf, s->loop, main_starts_empty, s->k);
    if (rc < 0)
        return rc;
    rc = cio_cfuture_result(cf, CIO_INFINITE);
    cio_cfuture_close(cf);
    return rc;
}

static int threadsafe_task(void *arg)
{
    (void)arg;
    int v = 0;
    struct submit s = {.loop = cio_loop_current()};
    cr_assert_eq(cio_context_key_new(&s.k, count_destroy), 0);
    cr_assert_eq(cio_context_set(s.k, &v), 0);
    cr_assert_eq(cio_to_thread(submit_from_thread, &s), 0, "a task run from another thread starts empty");
    cr_assert_eq(cio_context_set(s.k, NULL), 0);
    cr_assert_eq(v, 1);
    cio_context_key_free(s.k);
    return 0;
}

Test(context, a_task_of_run_coroutine_threadsafe_starts_with_an_empty_context)
{
    tst_run(threadsafe_task, NULL);
}

Test(context, outside_a_task_get_gives_null_and_set_fails)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    int v = 0;
    cio_context_key *k;
    cr_assert_eq(cio_context_key_new(&k, count_destroy), 0, "keys are made anywhere, loop or not");
    cr_assert_null(cio_context_get(k));
    cr_assert_eq(cio_context_set(k, &v), CIO_ENOLOOP);
    cio_loop *l;
    cr_assert_eq(cio_loop_open(&l, NULL), 0);
    cr_assert_null(cio_context_get(k));
    cr_assert_eq(cio_context_set(k, &v), CIO_ENOTASK, "a loop, but no task runs");
    cr_assert_eq(cio_loop_run(l, main_starts_empty, k), 0, "the main task starts with an empty context");
    cr_assert_eq(cio_loop_close(l), 0);
    cio_context_key_free(k);
    cr_assert_eq(v, 0);
    cr_assert_eq(tst_live_blocks(), blocks, "the key's memory went");
}

static int bad_input(void *arg)
{
    (void)arg;
    int v = 0;
    cr_assert_eq(cio_context_key_new(NULL, count_destroy), -EINVAL);
    cr_assert_eq(cio_context_set(NULL, &v), -EINVAL);
    cr_assert_null(cio_context_get(NULL));
    cio_context_key_free(NULL);
    cio_context_key *k, *never;
    cr_assert_eq(cio_context_key_new(&k, NULL), 0, "destroy may be NULL");
    cr_assert_eq(cio_context_key_new(&never, NULL), 0);
    cr_assert_eq(cio_context_set(k, &v), 0);
    cr_assert_null(cio_context_get(never), "a key never set, in a context holding another");
    cr_assert_eq(cio_context_set(k, NULL), 0);
    cio_context_key_free(k);
    cio_context_key_free(never);
    return 0;
}

Test(context, bad_input_is_refused_with_einval)
{
    tst_run(bad_input, NULL);
}
