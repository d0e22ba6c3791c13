/* task.c: tests of tasks: spawn, join, detach, names and ids, yield and sleep, cancellation, stacks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"

static int join_statuses(void *arg)
{
    (void)arg;
    cio_task *a, *b, *c;
    cr_assert_eq(cio_spawn(&a, tk_return, (void *)(intptr_t)5, NULL), 0);
    cr_assert_eq(cio_spawn(&b, tk_return, (void *)(intptr_t)-EPROTO, NULL), 0);
    cr_assert_eq(cio_spawn(&c, tk_return, (void *)(intptr_t)0, NULL), 0);
    cr_assert_eq(cio_join(b), -EPROTO);
    cr_assert_eq(cio_join(a), 5);
    cr_assert_eq(cio_join(c), 0);
    return 0;
}

Test(task, join_returns_the_body_status)
{
    tst_run(join_statuses, NULL);
}

static int set_one(void *arg)
{
    *(int *)arg = 1;
    return 0;
}

static int starts_later(void *arg)
{
    (void)arg;
    int ran = 0;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, set_one, &ran, NULL), 0);
    cr_assert_eq(ran, 0, "the spawner continues; the task starts later");
    cr_assert_not(cio_task_done(t));
    cr_assert_eq(tk_yield_until_done(t), 0);
    cr_assert_eq(ran, 1);
    cr_assert(cio_task_done(t));
    cr_assert_eq(cio_join(t), 0);
    return 0;
}

Test(task, a_spawned_task_starts_when_the_spawner_waits)
{
    tst_run(starts_later, NULL);
}

struct self_info {
    cio_task *current;
    uint64_t id;
    char name[64];
    int cancelled;
    const char *reason;
};

static int record_self(void *arg)
{
    struct self_info *s = arg;
    s->current = cio_current();
    s->id = cio_task_id(NULL);
    snprintf(s->name, sizeof(s->name), "%s", cio_task_name(NULL));
    s->cancelled = cio_task_cancelled(NULL);
    return 0;
}

static int names(void *arg)
{
    (void)arg;
    char buf[40] = "worker";
    cio_spawn_opts o = {.name = buf};
    cio_task *named, *anon, *lng;
    struct self_info si = {0}, sa = {0};
    cr_assert_eq(cio_spawn(&named, record_self, &si, &o), 0);
    strcpy(buf, "changed");
    cr_assert_str_eq(cio_task_name(named), "worker", "the name is copied");
    cr_assert_eq(cio_spawn(&anon, record_self, &sa, NULL), 0);
    char want[32];
    snprintf(want, sizeof(want), "Task-%llu", (unsigned long long)cio_task_id(anon));
    cr_assert_str_eq(cio_task_name(anon), want);
    cio_spawn_opts lo = {.name = "0123456789abcdef0123456789abcdefXYZ"};
    cr_assert_eq(cio_spawn(&lng, tk_return, NULL, &lo), 0);
    cr_assert_str_eq(cio_task_name(lng), "0123456789abcdef0123456789abcde", "31 bytes are kept");
    cr_assert_eq(cio_join(named), 0);
    cr_assert_eq(cio_join(anon), 0);
    cr_assert_eq(cio_join(lng), 0);
    cr_assert_str_eq(si.name, "worker", "cio_task_name(NULL) names the current task");
    cr_assert_str_eq(sa.name, want);
    return 0;
}

Test(task, names_are_copied_defaulted_and_truncated)
{
    tst_run(names, NULL);
}

static int ids(void *arg)
{
    (void)arg;
    enum { N = 8 };
    cio_task *t[N];
    struct self_info s[N];
    uint64_t id[N];
    memset(s, 0, sizeof(s));
    uint64_t mine = cio_task_id(NULL);
    cr_assert_geq(mine, 1);
    cr_assert_eq(cio_task_id(cio_current()), mine);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_spawn(&t[i], record_self, &s[i], NULL), 0);
        id[i] = cio_task_id(t[i]);
        cr_assert_geq(id[i], 1);
        cr_assert_neq(id[i], mine);
        for (int j = 0; j < i; j++)
            cr_assert_neq(id[i], id[j], "ids are unique");
    }
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_join(t[i]), 0);
        cr_assert_eq(s[i].id, id[i], "cio_task_id(NULL) is the current task's id");
        cr_assert_eq(s[i].current, t[i], "cio_current() is the running task's handle");
    }
    return 0;
}

Test(task, ids_are_unique_and_current_is_the_running_task)
{
    tst_run(ids, NULL);
}

struct trace {
    char buf[64];
    int n;
};

struct letter {
    struct trace *tr;
    char c;
};

static int write_and_yield(void *arg)
{
    struct letter *l = arg;
    for (int i = 0; i < 3; i++) {
        l->tr->buf[l->tr->n++] = l->c;
        cr_assert_eq(cio_yield(), 0);
    }
    return 0;
}

static int interleave(void *arg)
{
    (void)arg;
    struct trace tr = {0};
    struct letter a = {&tr, 'A'}, b = {&tr, 'B'}, c = {&tr, 'C'};
    cio_task *ta, *tb, *tc;
    cr_assert_eq(cio_spawn(&ta, write_and_yield, &a, NULL), 0);
    cr_assert_eq(cio_spawn(&tb, write_and_yield, &b, NULL), 0);
    cr_assert_eq(cio_spawn(&tc, write_and_yield, &c, NULL), 0);
    cr_assert_eq(cio_join(ta), 0);
    cr_assert_eq(cio_join(tb), 0);
    cr_assert_eq(cio_join(tc), 0);
    cr_assert_str_eq(tr.buf, "ABCABCABC", "yield lets the other ready tasks run in turn");
    return 0;
}

Test(task, yield_interleaves_ready_tasks_in_spawn_order)
{
    tst_run(interleave, NULL);
}

static int sleeps(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_sleep(0), 0);
    cr_assert_eq(cio_sleep(CIO_US(10)), 0);
    cr_assert_eq(cio_sleep(-1), -EINVAL);
    int64_t d = cio_now() + CIO_US(100);
    cr_assert_eq(cio_sleep_until(d), 0);
    cr_assert_geq(cio_now(), d);
    cr_assert_eq(cio_sleep_until(cio_now() - CIO_SEC(1)), 0, "a past deadline returns at once");
    return 0;
}

Test(task, sleep_and_sleep_until_return_zero)
{
    tst_run(sleeps, NULL);
}

struct wake {
    struct trace *tr;
    int64_t deadline;
    char c;
};

static int sleep_then_mark(void *arg)
{
    struct wake *w = arg;
    int rc = cio_sleep_until(w->deadline);
    w->tr->buf[w->tr->n++] = w->c;
    return rc;
}

static int wake_order(void *arg)
{
    (void)arg;
    struct trace tr = {0};
    int64_t now = cio_now();
    struct wake w[3] = {{&tr, now + CIO_US(300), 'c'}, {&tr, now + CIO_US(100), 'a'}, {&tr, now + CIO_US(200), 'b'}};
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], sleep_then_mark, &w[i], NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_join(t[i]), 0);
    cr_assert_str_eq(tr.buf, "abc", "sleepers wake in deadline order");
    return 0;
}

Test(task, sleepers_wake_in_deadline_order)
{
    tst_run(wake_order, NULL);
}

struct from_cb {
    int sleep_rc;
    int join_rc;
    int yield_rc;
    int spawn_rc;
    cio_task *target;
    cio_future *done;
};

static void waits_in_callback(void *arg)
{
    struct from_cb *c = arg;
    c->sleep_rc = cio_sleep(1);
    c->yield_rc = cio_yield();
    c->join_rc = cio_join(c->target);
    cr_assert_eq(cio_future_set_result(c->done, NULL), 0);
}

static int waits_outside_tasks(void *arg)
{
    (void)arg;
    struct from_cb c = {.done = tk_future()};
    cr_assert_eq(cio_spawn(&c.target, tk_yielder, (void *)(intptr_t)1, NULL), 0);
    cr_assert_eq(cio_call_soon(NULL, waits_in_callback, &c), 0);
    cr_assert_eq(cio_future_await(c.done, NULL), 0);
    cr_assert_eq(c.sleep_rc, CIO_ENOTASK);
    cr_assert_eq(c.yield_rc, CIO_ENOTASK);
    cr_assert_eq(c.join_rc, CIO_ENOTASK);
    cr_assert_eq(cio_join(c.target), 0, "the handle stays valid");
    cr_assert_eq(cio_future_close(c.done), 0);
    return 0;
}

Test(task, waiting_from_a_callback_fails_with_enotask)
{
    tst_run(waits_outside_tasks, NULL);
}

Test(task, waiting_without_a_loop_fails_with_enoloop)
{
    int rc = cio_sleep(1);
    cr_assert_eq(rc, CIO_ENOLOOP, "%s", cio_err_name(rc));
    rc = cio_yield();
    cr_assert_eq(rc, CIO_ENOLOOP, "%s", cio_err_name(rc));
    cr_assert_null(cio_current());
}

struct detached {
    cio_future *gate;
    cio_future *finished;
    int ran;
};

static int detached_body(void *arg)
{
    struct detached *d = arg;
    int rc = cio_future_await(d->gate, NULL);
    d->ran = 1;
    cr_assert_eq(cio_future_set_result(d->finished, NULL), 0);
    return rc;
}

static int detach(void *arg)
{
    (void)arg;
    struct detached d = {.gate = tk_future(), .finished = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, detached_body, &d, NULL), 0);
    cr_assert_eq(cio_detach(t), 0);
    cr_assert_eq(cio_detach(t), CIO_EBADHANDLE, "detach twice");
    cr_assert_eq(cio_join(t), CIO_EBADHANDLE, "join after detach");
    cr_assert_eq(cio_detach(NULL), -EINVAL);
    cr_assert_eq(cio_future_set_result(d.gate, NULL), 0);
    cr_assert_eq(cio_future_await(d.finished, NULL), 0);
    cr_assert_eq(d.ran, 1);
    cr_assert_eq(cio_future_close(d.gate), 0);
    cr_assert_eq(cio_future_close(d.finished), 0);
    return 0;
}

Test(task, a_detached_task_runs_on_by_itself_and_cannot_be_joined)
{
    tst_run(detach, NULL);
}

static int cancel_sleeping(void *arg)
{
    (void)arg;
    struct tk_sleep s = {0};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_sleeper, &s, NULL), 0);
    cr_assert_eq(tk_yield_until(&s.started), 0);
    cr_assert_not(cio_task_cancelled(t));
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert(cio_task_cancelled(t));
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(s.rc, -ECANCELED);
    cr_assert_eq(s.cleaned, 1);
    return 0;
}

Test(task, cancel_wakes_a_sleeping_task_with_ecanceled)
{
    tst_run(cancel_sleeping, NULL);
}

struct early {
    int ran;
    int first;
    int second;
    int third;
    int cleaned;
    int check;
};

static int cancelled_early_body(void *arg)
{
    struct early *e = arg;
    e->ran = 1;
    e->check = cio_check_cancel();
    e->first = cio_sleep(TK_FOREVER);
    e->second = cio_yield();
    e->third = cio_sleep(0);
    e->cleaned = 1;
    return 17;
}

static int cancel_before_start(void *arg)
{
    (void)arg;
    struct early e = {0};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, cancelled_early_body, &e, NULL), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(e.ran, 0);
    cr_assert_eq(cio_join(t), 17, "the body's own status is kept");
    cr_assert_eq(e.ran, 1, "a task cancelled before it started still runs its body");
    cr_assert_eq(e.check, -ECANCELED);
    cr_assert_eq(e.first, -ECANCELED);
    cr_assert_eq(e.second, -ECANCELED, "cancellation is level-triggered");
    cr_assert_eq(e.third, -ECANCELED);
    cr_assert_eq(e.cleaned, 1);
    return 0;
}

Test(task, cancel_before_the_first_run_fails_every_wait_but_runs_the_body)
{
    tst_run(cancel_before_start, NULL);
}

static int record_reason(void *arg)
{
    struct self_info *s = arg;
    cio_sleep(TK_FOREVER);
    s->cancelled = cio_task_cancelled(NULL);
    const char *r = cio_task_cancel_reason(NULL);
    snprintf(s->name, sizeof(s->name), "%s", r ? r : "(null)");
    return 0;
}

static int reasons(void *arg)
{
    (void)arg;
    struct self_info s = {0}, s2 = {0};
    cio_task *t, *t2;
    char why[32] = "shutting down";
    cr_assert_eq(cio_spawn(&t, record_reason, &s, NULL), 0);
    cr_assert_eq(cio_spawn(&t2, record_reason, &s2, NULL), 0);
    cr_assert_null(cio_task_cancel_reason(t));
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_cancel(t, why), 0);
    strcpy(why, "overwritten");
    cr_assert_str_eq(cio_task_cancel_reason(t), "shutting down", "the reason is copied");
    cr_assert_eq(cio_cancel(t2, NULL), 0);
    cr_assert_null(cio_task_cancel_reason(t2));
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_join(t2), 0);
    cr_assert_eq(s.cancelled, 1);
    cr_assert_str_eq(s.name, "shutting down");
    cr_assert_eq(s2.cancelled, 1);
    cr_assert_str_eq(s2.name, "(null)");
    return 0;
}

Test(task, cancel_reason_is_copied_and_readable_from_the_task)
{
    tst_run(reasons, NULL);
}

static int cancel_finished(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_return, (void *)(intptr_t)3, NULL), 0);
    cr_assert_eq(tk_yield_until_done(t), 0);
    cr_assert_eq(cio_cancel(t, "late"), -EALREADY);
    cr_assert_eq(cio_join(t), 3);
    cr_assert_eq(cio_cancel(NULL, NULL), -EINVAL);
    return 0;
}

Test(task, cancel_of_a_finished_task_fails_with_ealready)
{
    tst_run(cancel_finished, NULL);
}

struct second_joiner {
    cio_task *target;
    cio_future *gate;
    int rc;
};

static int join_other(void *arg)
{
    struct second_joiner *j = arg;
    j->rc = cio_join(j->target);
    cr_assert_eq(cio_future_set_result(j->gate, NULL), 0);
    return 0;
}

static int join_twice(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()};
    struct second_joiner j = {.gate = a.f};
    cio_task *t, *second;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    j.target = t;
    cr_assert_eq(cio_spawn(&second, join_other, &j, NULL), 0);
    cr_assert_eq(cio_join(t), 0, "the first join gets the status");
    cr_assert_eq(j.rc, CIO_EBADHANDLE, "a second join of the same task fails");
    cr_assert_eq(cio_join(second), 0);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(task, join_twice_fails_with_ebadhandle)
{
    tst_run(join_twice, NULL);
}

static int join_me(void *arg)
{
    *(int *)arg = cio_join(cio_current());
    return 0;
}

static int join_self(void *arg)
{
    (void)arg;
    int rc = 0;
    cio_task *t;
    cr_assert_eq(cio_join(cio_current()), -EDEADLK, "main joining itself");
    cr_assert_eq(cio_spawn(&t, join_me, &rc, NULL), 0);
    cr_assert_eq(tk_yield_until_done(t), 0, "not joined yet while it tries to join itself");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(rc, -EDEADLK, "a task joining itself: %s", cio_err_name(rc));
    cr_assert_eq(cio_join(NULL), -EINVAL);
    return 0;
}

Test(task, join_self_fails_with_edeadlk)
{
    tst_run(join_self, NULL);
}

static int bad_spawns(void *arg)
{
    (void)arg;
    cio_task *t = NULL;
    static const size_t bad[] = {1, 4096, CIO_STACK_MIN - 1, CIO_STACK_MAX + 1, (size_t)-1};
    cr_assert_eq(cio_spawn(&t, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_spawn(NULL, tk_return, NULL, NULL), -EINVAL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cio_spawn_opts o = {.stack_size = bad[i]};
        cr_assert_eq(cio_spawn(&t, tk_return, NULL, &o), -EINVAL, "stack size %zu", bad[i]);
    }
    return 0;
}

Test(task, spawn_with_a_null_body_or_a_bad_stack_size_fails_with_einval)
{
    tst_run(bad_spawns, NULL);
}

static int good_stacks(void *arg)
{
    (void)arg;
    static const size_t good[] = {0, CIO_STACK_MIN, CIO_STACK_MIN + 1, CIO_STACK_DEFAULT, 1024 * 1024};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cio_spawn_opts o = {.stack_size = good[i]};
        cio_task *t;
        cr_assert_eq(cio_spawn(&t, tk_yielder, (void *)(intptr_t)2, &o), 0, "stack size %zu", good[i]);
        cr_assert_eq(cio_join(t), 0);
    }
    return 0;
}

Test(task, spawn_accepts_zero_and_every_size_within_the_limits)
{
    tst_run(good_stacks, NULL);
}

Test(task, spawn_without_a_loop_fails_with_enoloop)
{
    cio_task *t = NULL;
    cr_assert_eq(cio_spawn(&t, tk_return, NULL, NULL), CIO_ENOLOOP);
}

#define MANY 100000

static int many_body(void *arg)
{
    int rc = cio_yield();
    return rc < 0 ? rc : (int)((intptr_t)arg % 100);
}

static int many(void *arg)
{
    (void)arg;
    cio_task **t = malloc(MANY * sizeof(*t));
    cr_assert_not_null(t);
    long want = 0, got = 0;
    for (int i = 0; i < MANY; i++) {
        int rc = cio_spawn(&t[i], many_body, (void *)(intptr_t)i, NULL);
        cr_assert_eq(rc, 0, "spawn %d: %s", i, cio_err_name(rc));
        want += i % 100;
    }
    for (int i = 0; i < MANY; i++) {
        int rc = cio_join(t[i]);
        cr_assert_geq(rc, 0, "join %d: %s", i, cio_err_name(rc));
        got += rc;
    }
    free(t);
    cr_assert_eq(got, want);
    return 0;
}

Test(task, a_hundred_thousand_tasks_are_spawned_and_joined, .timeout = 300)
{
    tst_run(many, NULL);
}

/* Each level keeps a 1 KiB frame alive across the recursive call, so the compiler cannot fold it into a loop. */
static long recurse(int depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[sizeof(frame) - 1] = (char)(depth >> 8);
    if (depth == 0)
        return frame[0];
    return recurse(depth - 1) + frame[0] + frame[sizeof(frame) - 1];
}

static int deep(void *arg)
{
    *(long *)arg = recurse(4096);
    return 0;
}

static int deep_main(void *arg)
{
    (void)arg;
    long r = -1;
    cio_spawn_opts o = {.stack_size = 8u << 20};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, deep, &r, &o), 0);
    cr_assert_eq(cio_join(t), 0);
    long want = 0;
    for (int d = 1; d <= 4096; d++)
        want += (char)d + (char)(d >> 8);
    cr_assert_eq(r, want, "every frame survived");
    return 0;
}

Test(task, deep_recursion_fits_in_a_large_stack)
{
    tst_run(deep_main, NULL);
}

static int status_after_cancel_body(void *arg)
{
    (void)arg;
    int rc = cio_sleep(TK_FOREVER);
    return rc == -ECANCELED ? 99 : rc;
}

static int status_after_cancel(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, status_after_cancel_body, NULL, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 99, "join reports what the body returned, never a substitute");
    return 0;
}

Test(task, a_body_returning_a_status_after_cancel_keeps_it)
{
    tst_run(status_after_cancel, NULL);
}

struct joiner {
    cio_task *child;
    struct tk_sleep *cs;
    int started;
    int join_rc;
    int cleaned_at_join;
    int later_rc;
};

/* A child whose cleanup needs a loop turn, inside a shield. */
static int slow_cleanup_child(void *arg)
{
    struct tk_sleep *s = arg;
    s->started = 1;
    s->rc = cio_sleep(TK_FOREVER);
    cio_scope sh;
    cr_assert_eq(cio_shield_begin(&sh, CIO_INFINITE), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_sleep(CIO_US(1)), 0);
    cr_assert_eq(cio_scope_end(&sh), 0);
    s->cleaned = 1;
    return s->rc;
}

static int joiner_body(void *arg)
{
    struct joiner *j = arg;
    cr_assert_eq(cio_spawn(&j->child, slow_cleanup_child, j->cs, NULL), 0);
    j->started = 1;
    j->join_rc = cio_join(j->child);
    j->cleaned_at_join = j->cs->cleaned;
    j->later_rc = cio_yield();
    return 0;
}

static int cancelled_joiner(void *arg)
{
    (void)arg;
    struct tk_sleep cs = {0};
    struct joiner j = {.cs = &cs};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, joiner_body, &j, NULL), 0);
    cr_assert_eq(tk_yield_until(&cs.started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cs.rc, -ECANCELED, "the child is cancelled with its joiner");
    cr_assert_eq(j.join_rc, -ECANCELED, "join returns the child's own status");
    cr_assert_eq(j.cleaned_at_join, 1, "join waited for the child's cleanup");
    cr_assert_eq(j.later_rc, -ECANCELED, "the joiner's cancellation stays in force");
    return 0;
}

Test(task, a_cancelled_joiner_cancels_the_child_and_waits_for_its_cleanup)
{
    tst_run(cancelled_joiner, NULL);
}

static int done_flags(void *arg)
{
    (void)arg;
    struct tk_await a = {.f = tk_future()};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    cr_assert_not(cio_task_done(t));
    cr_assert_eq(cio_future_set_result(a.f, &a), 0);
    cr_assert_eq(tk_yield_until_done(t), 0);
    cr_assert(cio_task_done(t));
    cr_assert_not(cio_task_cancelled(t));
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(a.result, &a);
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(task, task_done_turns_true_when_the_body_returns)
{
    tst_run(done_flags, NULL);
}

static int nested_child(void *arg)
{
    int depth = (int)(intptr_t)arg;
    if (depth == 0)
        return 1;
    cio_task *t;
    int rc = cio_spawn(&t, nested_child, (void *)(intptr_t)(depth - 1), NULL);
    if (rc < 0)
        return rc;
    rc = cio_join(t);
    return rc < 0 ? rc : rc + 1;
}

static int nested(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, nested_child, (void *)(intptr_t)50, NULL), 0);
    cr_assert_eq(cio_join(t), 51);
    return 0;
}

Test(task, tasks_spawn_and_join_their_own_children)
{
    tst_run(nested, NULL);
}

/* Recurse without bound (the limit is never reached); the guard page ends it. */
static volatile long runaway_limit = 1L << 40;

static long runaway(long depth, volatile char *prev)
{
    volatile char frame[512];
    if (depth >= runaway_limit)
        return 0;
    frame[0] = (char)depth;
    frame[1] = prev ? prev[0] : 0;
    return runaway(depth + 1, frame) + frame[1];
}

struct overflow_arg {
    int info_fd;
};

static int overflow_body(void *arg)
{
    struct overflow_arg *o = arg;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cio_task_id(NULL));
    if (write(o->info_fd, buf, (size_t)n) != n)
        return -EIO;
    close(o->info_fd);
    return (int)runaway(0, NULL);
}

static int overflow_main(void *arg)
{
    cio_spawn_opts so = {.name = "overflower", .stack_size = CIO_STACK_MIN};
    cio_task *t;
    int rc = cio_spawn(&t, overflow_body, arg, &so);
    if (rc < 0)
        return rc;
    return cio_join(t);
}

static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1) {
            char sink[4096];
            while (read(fd, sink, sizeof(sink)) > 0) {
            }
            break;
        }
    }
    buf[len] = 0;
    return len;
}

Test(task, a_stack_overflow_is_reported_naming_the_task)
{
    if (getenv("CIO_UNDER_VALGRIND"))
        tst_skip("a stack overflow under Valgrind is Valgrind's to report (the memcheck run leaves this test out)");
    int errp[2], infop[2];
    cr_assert_eq(pipe(errp), 0);
    cr_assert_eq(pipe(infop), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(errp[0]);
        close(infop[0]);
        dup2(errp[1], STDERR_FILENO);
        close(errp[1]);
        /* The default action behind cio's handler, whatever the build installed (AddressSanitizer's handler
           would report and exit instead): after its report, the fault kills the process with SIGSEGV. */
        signal(SIGSEGV, SIG_DFL);
        struct overflow_arg o = {.info_fd = infop[1]};
        int rc = cio_run(overflow_main, &o);
        _exit(rc == 0 ? 0 : 3);
    }
    close(errp[1]);
    close(infop[1]);
    static char err[1 << 16];
    char info[64];
    read_all(infop[0], info, sizeof(info));
    read_all(errp[0], err, sizeof(err));
    close(infop[0]);
    close(errp[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "the fault ends the process: status %#x", st);
    cr_assert_neq(info[0], 0, "the task ran");
    cr_assert_not_null(strstr(err, "overflower"), "stderr names the task:\n%s", err);
    cr_assert_not_null(strstr(err, info), "stderr gives the task's id %s:\n%s", info, err);
}

static int detach_finished(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_return, (void *)(intptr_t)-EPROTO, NULL), 0);
    cr_assert_eq(tk_yield_until_done(t), 0);
    cr_assert_eq(cio_detach(t), 0, "a finished task is released by detach");
    return 0;
}

Test(task, detaching_a_finished_task_releases_it)
{
    tst_run(detach_finished, NULL);
}

static int deep_default(void *arg)
{
    (void)arg;
    long r = -1;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, deep, &r, NULL), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_gt(r, 0);
    return 0;
}

Test(task, a_zero_stack_size_takes_the_loop_default)
{
    cio_loop_opts o = {.stack_size = 8u << 20};
    tst_run_expect(deep_default, NULL, &o, 0);
}
