/* semaphore.c: tests of cio_semaphore, bounded and not: counting, FIFO hand-over, cancellation, bad use. */
#include <limits.h>

#include "synckit.h"

static int acq(void *obj)
{
    return cio_semaphore_acquire(obj);
}

static int rel(void *obj)
{
    return cio_semaphore_release(obj);
}

static int counting(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cr_assert_eq(cio_semaphore_init(&s, 2), 0);
    cr_assert_eq(cio_semaphore_value(&s), 2);
    cr_assert_not(cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_try_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_value(&s), 0);
    cr_assert(cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_try_acquire(&s), -EAGAIN);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0, "an unbounded semaphore may grow past its start");
    cr_assert_eq(cio_semaphore_value(&s), 3);
    cr_assert_eq(cio_semaphore_fini(&s), 0);
    return 0;
}

Test(semaphore, acquire_and_release_count_permits)
{
    tst_run(counting, NULL);
}

static int fifo(void *arg)
{
    (void)arg;
    cio_semaphore s;
    struct sk_call c[6];
    cio_task *t[6];
    int order[6], n = 0;
    cr_assert_eq(cio_semaphore_init(&s, 0), 0);
    for (int i = 0; i < 6; i++) {
        c[i] = (struct sk_call){.fn = acq, .obj = &s, .id = i, .order = order, .norder = &n};
        t[i] = sk_start(&c[i]);
    }
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(cio_semaphore_release(&s), 0);
        cr_assert_eq(cio_semaphore_value(&s), 0, "the permit went to a waiter");
        cr_assert_eq(cio_semaphore_try_acquire(&s), -EAGAIN, "no barging");
        sk_turns(2);
        cr_assert_eq(n, i + 1, "exactly one waiter per release");
    }
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(cio_join(t[i]), 0);
        cr_assert_eq(order[i], i, "waiters are served in arrival order");
    }
    cr_assert_eq(cio_semaphore_fini(&s), 0);
    return 0;
}

Test(semaphore, release_wakes_waiters_in_arrival_order_one_each)
{
    tst_run(fifo, NULL);
}

static int cancel(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cr_assert_eq(cio_bounded_semaphore_init(&s, 1), 0);
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    struct sk_call a = {.fn = acq, .after = rel, .obj = &s}, b = a, d = a, e = a;
    d.timeout = CIO_MS(1);
    cio_task *ta = sk_start(&a), *td = sk_start(&d), *tb = sk_start(&b), *te = sk_start(&e);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    cr_assert_eq(cio_join(ta), -ECANCELED);
    cr_assert_eq(cio_join(td), -ETIMEDOUT);
    cr_assert_eq(cio_semaphore_release(&s), 0, "goes to b");
    cr_assert_eq(cio_cancel(tb, NULL), 0, "b is cancelled after the hand-over");
    cr_assert_eq(cio_join(tb), 0, "b keeps the permit");
    cr_assert_eq(b.after_rc, 0, "and gives it back, to e");
    cr_assert_eq(cio_join(te), 0);
    cr_assert_eq(e.after_rc, 0);
    cr_assert_eq(cio_semaphore_value(&s), 1, "every permit is back");
    cr_assert_eq(cio_semaphore_fini(&s), 0);
    return 0;
}

Test(semaphore, cancelled_and_timed_out_waiters_take_nothing_woken_ones_keep_the_permit)
{
    tst_run(cancel, NULL);
}

static int bounded(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cr_assert_eq(cio_bounded_semaphore_init(&s, 2), 0);
    cr_assert_eq(cio_semaphore_release(&s), CIO_EOVERRELEASE);
    cr_assert_eq(cio_semaphore_value(&s), 2, "nothing changed");
    cr_assert_eq(cio_semaphore_acquire(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_release(&s), CIO_EOVERRELEASE);
    cr_assert_eq(cio_semaphore_value(&s), 2);
    cr_assert_eq(cio_semaphore_fini(&s), 0);
    return 0;
}

Test(semaphore, a_bounded_semaphore_refuses_to_be_released_too_often)
{
    tst_run(bounded, NULL);
}

static int bad_use(void *arg)
{
    (void)arg;
    cio_semaphore s;
    cr_assert_eq(cio_semaphore_init(&s, 0), 0);
    struct sk_call c = {.fn = acq, .obj = &s};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_semaphore_fini(&s), -EBUSY);
    cr_assert_eq(cio_semaphore_release(&s), 0);
    cr_assert_eq(cio_semaphore_fini(&s), -EBUSY, "woken, not yet resumed");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_semaphore_fini(&s), 0);
    cr_assert_eq(cio_semaphore_acquire(&s), CIO_EBADHANDLE);
    cr_assert_eq(cio_semaphore_try_acquire(&s), CIO_EBADHANDLE);
    cr_assert_eq(cio_semaphore_release(&s), CIO_EBADHANDLE);
    cr_assert_eq(cio_semaphore_value(&s), CIO_EBADHANDLE);
    cr_assert_eq(cio_semaphore_fini(&s), CIO_EBADHANDLE);
    cr_assert_not(cio_semaphore_locked(&s));
    cr_assert_eq(cio_semaphore_init(&s, (unsigned)INT_MAX + 1u), -EINVAL);
    cr_assert_eq(cio_semaphore_init(NULL, 1), -EINVAL);
    cr_assert_eq(cio_bounded_semaphore_init(NULL, 1), -EINVAL);
    cr_assert_eq(cio_semaphore_acquire(NULL), -EINVAL);
    cr_assert_eq(cio_semaphore_try_acquire(NULL), -EINVAL);
    cr_assert_eq(cio_semaphore_release(NULL), -EINVAL);
    cr_assert_eq(cio_semaphore_fini(NULL), -EINVAL);
    cr_assert_eq(cio_semaphore_init(&s, INT_MAX), 0);
    cr_assert_eq(cio_semaphore_release(&s), -EOVERFLOW);
    cr_assert_eq(cio_semaphore_fini(&s), 0);
    return 0;
}

Test(semaphore, bad_use_returns_clear_errors)
{
    tst_run(bad_use, NULL);
}
