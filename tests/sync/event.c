/* event.c: tests of cio_event: set wakes every waiter, clear, cancellation, deadlines and bad use. */
#include "synckit.h"

static int ev_wait(void *obj)
{
    return cio_event_wait(obj);
}

static int wakes_all(void *arg)
{
    (void)arg;
    cio_event e;
    struct sk_call c[6];
    cio_task *t[6];
    int order[6], n = 0;
    cr_assert_eq(cio_event_init(&e), 0);
    cr_assert_not(cio_event_is_set(&e));
    for (int i = 0; i < 6; i++) {
        c[i] = (struct sk_call){.fn = ev_wait, .obj = &e, .id = i, .order = order, .norder = &n};
        t[i] = sk_start(&c[i]);
    }
    sk_turns(3);
    cr_assert_eq(n, 0, "nobody passes a clear event");
    cr_assert_eq(cio_event_set(&e), 0);
    cr_assert(cio_event_is_set(&e));
    for (int i = 0; i < 6; i++)
        cr_assert_eq(cio_join(t[i]), 0);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(order[i], i, "woken in the order they waited");
    cr_assert_eq(cio_event_wait(&e), 0, "a set event returns at once");
    cr_assert_eq(cio_event_fini(&e), 0);
    return 0;
}

Test(event, set_wakes_every_waiter)
{
    tst_run(wakes_all, NULL);
}

static int clear(void *arg)
{
    (void)arg;
    cio_event e;
    cr_assert_eq(cio_event_init(&e), 0);
    struct sk_call c = {.fn = ev_wait, .obj = &e};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_event_set(&e), 0);
    cr_assert_eq(cio_event_clear(&e), 0, "cleared before the waiter runs");
    cr_assert_not(cio_event_is_set(&e));
    cr_assert_eq(cio_join(t), 0, "the waiter saw the set");
    struct sk_call d = {.fn = ev_wait, .obj = &e};
    t = sk_start(&d);
    sk_turns(3);
    cr_assert_not(d.finished, "a cleared event blocks again");
    cr_assert_eq(cio_event_set(&e), 0);
    cr_assert_eq(cio_event_set(&e), 0, "setting twice is harmless");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_event_fini(&e), 0);
    return 0;
}

Test(event, clear_blocks_later_waits_but_not_waiters_already_woken)
{
    tst_run(clear, NULL);
}

static int cancel_and_deadline(void *arg)
{
    (void)arg;
    cio_event e;
    cr_assert_eq(cio_event_init(&e), 0);
    struct sk_call a = {.fn = ev_wait, .obj = &e}, b = a, d = {.fn = ev_wait, .obj = &e, .timeout = CIO_MS(1)};
    cio_task *ta = sk_start(&a), *tb = sk_start(&b), *td = sk_start(&d);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    cr_assert_eq(cio_join(ta), -ECANCELED);
    cr_assert_eq(cio_join(td), -ETIMEDOUT);
    cr_assert_not(b.finished);
    cr_assert_eq(cio_event_set(&e), 0);
    cr_assert_eq(cio_cancel(tb, NULL), 0, "cancelled after the wake-up");
    cr_assert_eq(cio_join(tb), 0, "keeps its wake-up");
    cr_assert_eq(cio_event_fini(&e), 0);
    return 0;
}

Test(event, cancelled_and_timed_out_waiters_leave_woken_ones_succeed)
{
    tst_run(cancel_and_deadline, NULL);
}

static int bad_use(void *arg)
{
    (void)arg;
    cio_event e;
    cr_assert_eq(cio_event_init(&e), 0);
    struct sk_call c = {.fn = ev_wait, .obj = &e};
    cio_task *t = sk_start(&c);
    cr_assert_eq(cio_event_fini(&e), -EBUSY);
    cr_assert_eq(cio_event_set(&e), 0);
    cr_assert_eq(cio_event_fini(&e), -EBUSY, "woken, not yet resumed");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_event_fini(&e), 0);
    cr_assert_eq(cio_event_set(&e), CIO_EBADHANDLE);
    cr_assert_eq(cio_event_clear(&e), CIO_EBADHANDLE);
    cr_assert_eq(cio_event_wait(&e), CIO_EBADHANDLE);
    cr_assert_eq(cio_event_fini(&e), CIO_EBADHANDLE);
    cr_assert_not(cio_event_is_set(&e));
    cr_assert_eq(cio_event_init(NULL), -EINVAL);
    cr_assert_eq(cio_event_set(NULL), -EINVAL);
    cr_assert_eq(cio_event_clear(NULL), -EINVAL);
    cr_assert_eq(cio_event_wait(NULL), -EINVAL);
    cr_assert_eq(cio_event_fini(NULL), -EINVAL);
    return 0;
}

Test(event, bad_use_returns_clear_errors)
{
    tst_run(bad_use, NULL);
}

Test(event, waiting_outside_a_loop_is_enoloop)
{
    cio_event e;
    cr_assert_eq(cio_event_init(&e), 0);
    cr_assert_eq(cio_event_wait(&e), CIO_ENOLOOP);
    cr_assert_eq(cio_event_set(&e), 0);
    cr_assert_eq(cio_event_wait(&e), 0);
    cr_assert_eq(cio_event_fini(&e), 0);
}
