/* condition.c: tests of cio_condition: wait, wait_for, notify(n), notify_all, cancellation and bad use. */
#include "synckit.h"

/* A waiter: take the lock, wait (or wait_for `pred`), note whether it held the lock after, release. */
struct cw {
    cio_condition *c;
    bool (*pred)(void *arg);
    void *pred_arg;
    int64_t timeout;
    int id, *order, *norder;
    int started, finished, rc, held_after, rel_rc;
};

static int cw_body(void *arg)
{
    struct cw *w = arg;
    cio_lock *l = cio_condition_lock(w->c);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cio_scope s;
    if (w->timeout)
        cr_assert_eq(cio_timeout_begin(&s, w->timeout), 0);
    w->started = 1;
    w->rc = w->pred ? cio_condition_wait_for(w->c, w->pred, w->pred_arg) : cio_condition_wait(w->c);
    if (w->timeout)
        cio_scope_end(&s);
    w->held_after = cio_lock_locked(l);
    if (w->rc == 0 && w->order)
        w->order[(*w->norder)++] = w->id;
    w->rel_rc = cio_lock_release(l);
    w->finished = 1;
    return w->rc;
}

static cio_task *cw_start(struct cw *w)
{
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, cw_body, w, NULL), 0);
    cr_assert_eq(tk_yield_until(&w->started), 0);
    return t;
}

static void check_joined(cio_task *t, struct cw *w, int want)
{
    cr_assert_eq(cio_join(t), want);
    cr_assert(w->held_after, "the wait returned with the lock held");
    cr_assert_eq(w->rel_rc, 0);
}

static int wait_notify(void *arg)
{
    (void)arg;
    cio_condition c;
    cr_assert_eq(cio_condition_init(&c, NULL), 0);
    cio_lock *l = cio_condition_lock(&c);
    cr_assert_not_null(l);
    struct cw w = {.c = &c};
    cio_task *t = cw_start(&w);
    cr_assert_not(cio_lock_locked(l), "wait released the lock");
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    sk_turns(3);
    cr_assert_not(w.finished, "the woken waiter needs the lock back first");
    cr_assert_eq(cio_lock_release(l), 0);
    check_joined(t, &w, 0);
    cr_assert_eq(cio_condition_fini(&c), 0);
    return 0;
}

Test(condition, wait_releases_the_lock_and_returns_holding_it_after_notify)
{
    tst_run(wait_notify, NULL);
}

static int notify_n(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_condition c;
    struct cw w[6];
    cio_task *t[6];
    int order[6], n = 0;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_condition_init(&c, &l), 0);
    cr_assert_eq(cio_condition_lock(&c), &l);
    for (int i = 0; i < 6; i++) {
        w[i] = (struct cw){.c = &c, .id = i, .order = order, .norder = &n};
        t[i] = cw_start(&w[i]);
    }
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert_eq(cio_condition_notify(&c, 2), 2);
    cr_assert_eq(cio_condition_notify(&c, 0), 0);
    cr_assert_eq(cio_lock_release(&l), 0);
    sk_turns(10);
    cr_assert_eq(n, 2, "notify(2) wakes exactly two");
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    cr_assert_eq(cio_lock_release(&l), 0);
    sk_turns(10);
    cr_assert_eq(n, 3);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert_eq(cio_condition_notify_all(&c), 3);
    cr_assert_eq(cio_condition_notify_all(&c), 0);
    cr_assert_eq(cio_lock_release(&l), 0);
    for (int i = 0; i < 6; i++)
        check_joined(t[i], &w[i], 0);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(order[i], i, "woken in the order they waited");
    cr_assert_eq(cio_condition_notify(&c, 100), -EPERM, "without the lock");
    cr_assert_eq(cio_condition_fini(&c), 0);
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(condition, notify_n_wakes_exactly_n_in_order_and_notify_all_the_rest)
{
    tst_run(notify_n, NULL);
}

static bool at_least_3(void *arg)
{
    return *(int *)arg >= 3;
}

static int wait_for(void *arg)
{
    (void)arg;
    cio_condition c;
    int value = 0;
    cr_assert_eq(cio_condition_init(&c, NULL), 0);
    cio_lock *l = cio_condition_lock(&c);
    struct cw w = {.c = &c, .pred = at_least_3, .pred_arg = &value};
    cio_task *t = cw_start(&w);
    for (int i = 0; i < 3; i++) {
        cr_assert_not(w.finished);
        cr_assert_eq(cio_lock_acquire(l), 0);
        value++;
        cr_assert_eq(cio_condition_notify_all(&c), 1);
        cr_assert_eq(cio_lock_release(l), 0);
        sk_turns(3);
    }
    check_joined(t, &w, 0);
    cr_assert_eq(value, 3);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_wait_for(&c, at_least_3, &value), 0, "a true predicate returns at once");
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_condition_fini(&c), 0);
    return 0;
}

Test(condition, wait_for_returns_once_the_predicate_holds)
{
    tst_run(wait_for, NULL);
}

static int cancelled(void *arg)
{
    (void)arg;
    cio_condition c;
    cr_assert_eq(cio_condition_init(&c, NULL), 0);
    cio_lock *l = cio_condition_lock(&c);
    struct cw a = {.c = &c}, b = a, d = {.c = &c, .timeout = CIO_MS(1)};
    cio_task *ta = cw_start(&a), *tb = cw_start(&b), *td = cw_start(&d);
    check_joined(td, &d, -ETIMEDOUT);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    sk_turns(5);
    cr_assert_not(a.finished, "a cancelled waiter still waits for the lock");
    cr_assert_eq(cio_condition_notify(&c, 1), 1, "the cancelled waiter left: b is woken");
    cr_assert_eq(cio_cancel(tb, NULL), 0, "b is cancelled after its wake-up");
    cr_assert_eq(cio_lock_release(l), 0);
    check_joined(ta, &a, -ECANCELED);
    check_joined(tb, &b, 0);
    cr_assert_eq(cio_condition_fini(&c), 0);
    return 0;
}

Test(condition, cancelled_waiters_leave_and_get_the_lock_back_woken_ones_keep_the_wake_up)
{
    tst_run(cancelled, NULL);
}

static int already_cancelled(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_scope s;
    cr_assert_eq(cio_condition_init(&c, NULL), 0);
    cio_lock *l = cio_condition_lock(&c);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_timeout_begin(&s, CIO_INFINITE), 0);
    cr_assert_eq(cio_scope_cancel(&s), 0);
    cr_assert_eq(cio_condition_wait(&c), -ECANCELED);
    cr_assert(cio_lock_locked(l), "the lock was kept");
    cr_assert_eq(cio_scope_end(&s), -ECANCELED);
    cr_assert_eq(cio_lock_release(l), 0);
    cr_assert_eq(cio_condition_fini(&c), 0);
    return 0;
}

Test(condition, wait_in_a_cancelled_task_fails_at_once_keeping_the_lock)
{
    tst_run(already_cancelled, NULL);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static int bad_use(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_lock dead;
    cr_assert_eq(cio_lock_init(&dead), 0);
    cr_assert_eq(cio_lock_fini(&dead), 0);
    cr_assert_eq(cio_condition_init(&c, &dead), CIO_EBADHANDLE);
    cr_assert_eq(cio_condition_init(NULL, NULL), -EINVAL);
    cr_assert_eq(cio_condition_init(&c, NULL), 0);
    cio_lock *l = cio_condition_lock(&c);
    cr_assert_eq(cio_condition_wait(&c), -EPERM, "without the lock");
    cr_assert_eq(cio_condition_wait_for(&c, never, NULL), -EPERM);
    cr_assert_eq(cio_condition_notify(&c, 1), -EPERM);
    cr_assert_eq(cio_condition_notify_all(&c), -EPERM);
    struct cw w = {.c = &c};
    cio_task *t = cw_start(&w);
    cr_assert_eq(cio_lock_acquire(l), 0);
    cr_assert_eq(cio_condition_fini(&c), -EBUSY, "a task waits");
    cr_assert_eq(cio_condition_notify(&c, -1), -EINVAL);
    cr_assert_eq(cio_condition_wait_for(&c, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_condition_notify(&c, 1), 1);
    cr_assert_eq(cio_condition_fini(&c), -EBUSY, "woken, not yet holding the lock again");
    cr_assert_eq(cio_lock_release(l), 0);
    check_joined(t, &w, 0);
    cr_assert_eq(cio_condition_fini(&c), 0);
    cr_assert_null(cio_condition_lock(&c));
    cr_assert_eq(cio_condition_wait(&c), CIO_EBADHANDLE);
    cr_assert_eq(cio_condition_wait_for(&c, never, NULL), CIO_EBADHANDLE);
    cr_assert_eq(cio_condition_notify(&c, 1), CIO_EBADHANDLE);
    cr_assert_eq(cio_condition_notify_all(&c), CIO_EBADHANDLE);
    cr_assert_eq(cio_condition_fini(&c), CIO_EBADHANDLE);
    cr_assert_eq(cio_condition_wait(NULL), -EINVAL);
    cr_assert_eq(cio_condition_notify(NULL, 1), -EINVAL);
    cr_assert_eq(cio_condition_fini(NULL), -EINVAL);
    cr_assert_null(cio_condition_lock(NULL));
    return 0;
}

Test(condition, bad_use_returns_clear_errors)
{
    tst_run(bad_use, NULL);
}

/* A task that waits on a condition whose lock another task holds. */
static int wait_unheld(void *arg)
{
    return cio_condition_wait(arg);
}

static int other_holder(void *arg)
{
    (void)arg;
    cio_condition c;
    cio_task *t;
    cr_assert_eq(cio_condition_init(&c, NULL), 0);
    cr_assert_eq(cio_lock_acquire(cio_condition_lock(&c)), 0);
    cr_assert_eq(cio_spawn(&t, wait_unheld, &c, NULL), 0);
    cr_assert_eq(cio_join(t), -EPERM, "the lock is held, but by another task");
    cr_assert_eq(cio_lock_release(cio_condition_lock(&c)), 0);
    cr_assert_eq(cio_condition_fini(&c), 0);
    return 0;
}

Test(condition, waiting_while_another_task_holds_the_lock_is_eperm)
{
    tst_run(other_holder, NULL);
}
