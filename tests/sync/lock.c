/* lock.c: tests of cio_lock: mutual exclusion, FIFO hand-over, cancellation, deadlines and bad use. */
#include "synckit.h"

static int acq(void *obj)
{
    return cio_lock_acquire(obj);
}

static int rel(void *obj)
{
    return cio_lock_release(obj);
}

static int acquire_release(void *arg)
{
    (void)arg;
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_try_acquire(&l), -EAGAIN);
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_try_acquire(&l), 0);
    cr_assert(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, acquire_try_acquire_and_release_toggle_the_lock)
{
    tst_run(acquire_release, NULL);
}

static int fifo(void *arg)
{
    (void)arg;
    cio_lock l;
    int order[5], n = 0;
    struct sk_call c[5];
    cio_task *t[5];
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    for (int i = 0; i < 5; i++) {
        c[i] = (struct sk_call){.fn = acq, .after = rel, .obj = &l, .id = i, .order = order, .norder = &n};
        t[i] = sk_start(&c[i]);
    }
    sk_turns(3);
    cr_assert_eq(n, 0, "nobody gets a held lock");
    cr_assert_eq(cio_lock_release(&l), 0);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(cio_join(t[i]), 0);
        cr_assert_eq(c[i].after_rc, 0);
    }
    for (int i = 0; i < 5; i++)
        cr_assert_eq(order[i], i, "waiters get the lock in arrival order");
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, waiters_get_the_lock_in_arrival_order)
{
    tst_run(fifo, NULL);
}

static int no_barging(void *arg)
{
    (void)arg;
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    struct sk_call c = {.fn = acq, .after = rel, .obj = &l};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert(cio_lock_locked(&l), "the lock went to the waiter");
    cr_assert_eq(cio_lock_try_acquire(&l), -EAGAIN, "a task running first cannot take it");
    cr_assert_eq(cio_lock_release(&l), CIO_ENOTOWNER, "it is the waiter's");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, release_hands_the_lock_to_the_first_waiter_without_barging)
{
    tst_run(no_barging, NULL);
}

static int cancelled_waiter(void *arg)
{
    (void)arg;
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    struct sk_call a = {.fn = acq, .after = rel, .obj = &l}, b = a;
    cio_task *ta = sk_start(&a), *tb = sk_start(&b);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    cr_assert_eq(cio_join(ta), -ECANCELED);
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_join(tb), 0, "the next waiter gets the lock");
    cr_assert_eq(b.after_rc, 0);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, a_cancelled_waiter_leaves_the_queue_and_the_next_gets_the_lock)
{
    tst_run(cancelled_waiter, NULL);
}

static int woken_then_cancelled(void *arg)
{
    (void)arg;
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    struct sk_call c = {.fn = acq, .after = rel, .obj = &l};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0, "cancelled after the hand-over, before it runs");
    cr_assert_eq(cio_join(t), 0, "the waiter keeps the lock it was handed");
    cr_assert_eq(c.after_rc, 0, "and releases it");
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, a_waiter_cancelled_after_the_hand_over_keeps_the_lock)
{
    tst_run(woken_then_cancelled, NULL);
}

static int deadline(void *arg)
{
    (void)arg;
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    struct sk_call c = {.fn = acq, .after = rel, .obj = &l, .timeout = CIO_MS(1)};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_join(t), -ETIMEDOUT);
    cr_assert(cio_lock_locked(&l), "still the main task's");
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, a_deadline_cuts_an_acquire_short_with_etimedout)
{
    tst_run(deadline, NULL);
}

static int already_cancelled(void *arg)
{
    (void)arg;
    cio_lock l;
    cio_scope s;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_timeout_begin(&s, CIO_INFINITE), 0);
    cr_assert_eq(cio_scope_cancel(&s), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0, "a free lock is taken without waiting");
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_scope_end(&s), 0);
    cr_assert_eq(cio_lock_acquire(&l), 0);
    struct sk_call c = {.fn = acq, .after = rel, .obj = &l};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_lock_release(&l), 0, "handed to the waiter");
    cr_assert_eq(cio_timeout_begin(&s, CIO_INFINITE), 0);
    cr_assert_eq(cio_scope_cancel(&s), 0);
    cr_assert_eq(cio_lock_acquire(&l), -ECANCELED, "a held lock needs a wait, which fails at once");
    cr_assert_eq(cio_scope_end(&s), -ECANCELED);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_fini(&l), 0);
    return 0;
}

Test(lock, a_cancelled_task_fails_to_wait_but_takes_a_free_lock)
{
    tst_run(already_cancelled, NULL);
}

static int bad_use(void *arg)
{
    (void)arg;
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_release(&l), -EPERM, "not held");
    cr_assert_eq(cio_lock_acquire(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), -EDEADLK, "not reentrant");
    struct sk_call c = {.fn = rel, .obj = &l};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_join(t), CIO_ENOTOWNER, "another task holds it");
    cr_assert(cio_lock_locked(&l));
    struct sk_call w = {.fn = acq, .after = rel, .obj = &l};
    t = sk_start(&w);
    cr_assert_eq(cio_lock_fini(&l), -EBUSY, "a task waits");
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_lock_fini(&l), -EBUSY, "woken, not yet resumed");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_lock_fini(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), CIO_EBADHANDLE);
    cr_assert_eq(cio_lock_try_acquire(&l), CIO_EBADHANDLE);
    cr_assert_eq(cio_lock_release(&l), CIO_EBADHANDLE);
    cr_assert_eq(cio_lock_fini(&l), CIO_EBADHANDLE);
    cr_assert_not(cio_lock_locked(&l));
    cr_assert_eq(cio_lock_init(NULL), -EINVAL);
    cr_assert_eq(cio_lock_acquire(NULL), -EINVAL);
    cr_assert_eq(cio_lock_try_acquire(NULL), -EINVAL);
    cr_assert_eq(cio_lock_release(NULL), -EINVAL);
    cr_assert_eq(cio_lock_fini(NULL), -EINVAL);
    cr_assert_not(cio_lock_locked(NULL));
    return 0;
}

Test(lock, bad_use_returns_clear_errors)
{
    tst_run(bad_use, NULL);
}

Test(lock, storage_never_initialised_is_a_bad_handle)
{
    cio_lock l = {{0}};
    cr_assert_eq(cio_lock_try_acquire(&l), CIO_EBADHANDLE);
    cr_assert_eq(cio_lock_release(&l), CIO_EBADHANDLE);
}

Test(lock, try_acquire_and_release_work_outside_a_loop)
{
    cio_lock l;
    cr_assert_eq(cio_lock_init(&l), 0);
    cr_assert_eq(cio_lock_try_acquire(&l), 0);
    cr_assert_eq(cio_lock_acquire(&l), CIO_ENOLOOP, "waiting needs a loop");
    cr_assert_eq(cio_lock_release(&l), 0);
    cr_assert_eq(cio_lock_fini(&l), 0);
}
