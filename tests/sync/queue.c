/* queue.c: tests of cio_queue: orders, bounds, hand-over, join and task_done, shutdown, cancellation, bad use. */
#include "synckit.h"

#define P(n) ((void *)(intptr_t)(n))
#define N(p) ((int)(intptr_t)(p))

static cio_queue *open_q(size_t maxsize, int order)
{
    cio_queue *q = NULL;
    cio_queue_opts o = {.maxsize = maxsize, .order = order};
    cr_assert_eq(cio_queue_open(&q, &o), 0);
    return q;
}

struct qcall {
    struct sk_call c;
    cio_queue *q;
};

static int q_get(void *obj)
{
    struct qcall *qc = obj;
    return cio_queue_get(qc->q, &qc->c.item);
}

static int q_put(void *obj)
{
    struct qcall *qc = obj;
    return cio_queue_put(qc->q, qc->c.item);
}

static int q_join(void *obj)
{
    struct qcall *qc = obj;
    return cio_queue_join(qc->q);
}

static cio_task *qstart(struct qcall *qc, cio_queue *q, int (*fn)(void *), void *item)
{
    qc->q = q;
    qc->c = (struct sk_call){.fn = fn, .obj = qc, .item = item};
    return sk_start(&qc->c);
}

static void drain_expect(cio_queue *q, const int *want, int n)
{
    void *it;
    for (int i = 0; i < n; i++) {
        cr_assert_eq(cio_queue_get(q, &it), 0);
        cr_assert_eq(N(it), want[i], "item %d: %d, want %d", i, N(it), want[i]);
    }
    cr_assert_eq(cio_queue_try_get(q, &it), -EAGAIN);
}

static int orders(void *arg)
{
    (void)arg;
    int in[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7};
    int fifo_want[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7};
    int lifo_want[] = {7, 9, 8, 5, 3, 5, 6, 2, 9, 5, 1, 4, 1, 3};
    cio_queue *f = open_q(0, CIO_QUEUE_FIFO), *l = open_q(0, CIO_QUEUE_LIFO);
    for (int i = 0; i < 14; i++) {
        cr_assert_eq(cio_queue_put(f, P(in[i])), 0);
        cr_assert_eq(cio_queue_try_put(l, P(in[i])), 0);
    }
    cr_assert_eq(cio_queue_qsize(f), 14);
    cr_assert_not(cio_queue_full(f), "an unbounded queue is never full");
    cr_assert_eq(cio_queue_maxsize(f), 0);
    drain_expect(f, fifo_want, 14);
    drain_expect(l, lifo_want, 14);
    cr_assert(cio_queue_empty(f));
    /* Wrap the FIFO ring, then grow it while wrapped. */
    void *it;
    for (int i = 0; i < 6; i++)
        cr_assert_eq(cio_queue_put(f, P(i)), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_queue_get(f, &it), 0);
    for (int i = 6; i < 40; i++)
        cr_assert_eq(cio_queue_put(f, P(i)), 0);
    for (int i = 4; i < 40; i++) {
        cr_assert_eq(cio_queue_get(f, &it), 0);
        cr_assert_eq(N(it), i);
    }
    cr_assert_eq(cio_queue_close(f), 0);
    cr_assert_eq(cio_queue_close(l), 0);
    return 0;
}

Test(queue, fifo_and_lifo_queues_return_items_in_their_order)
{
    tst_run(orders, NULL);
}

static int prio(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(0, CIO_QUEUE_PRIORITY);
    /* item = 10 * priority + arrival, so equal priorities must come out in the order put. */
    int pr[] = {5, 1, 3, 1, 5, 0, 3, 1};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(cio_queue_put_prio(q, P(10 * pr[i] + i), pr[i]), 0);
    cr_assert_eq(cio_queue_try_put_prio(q, P(-1), -1), 0);
    cr_assert_eq(cio_queue_put(q, P(2)), 0, "plain put has priority 0");
    int want[] = {-1, 5, 2, 11, 13, 17, 32, 36, 50, 54};
    drain_expect(q, want, 10);
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, a_priority_queue_returns_the_smallest_priority_first_ties_in_order)
{
    tst_run(prio, NULL);
}

static int by_value_desc(const void *a, const void *b, void *arg)
{
    cr_assert_eq(N(arg), 42);
    return (N(b) > N(a)) - (N(b) < N(a));
}

static int prio_cmp(void *arg)
{
    (void)arg;
    cio_queue *q;
    cio_queue_opts o = {.order = CIO_QUEUE_PRIORITY, .cmp = by_value_desc, .cmp_arg = P(42), .maxsize = 100};
    cr_assert_eq(cio_queue_open(&q, &o), 0);
    cr_assert_eq(cio_queue_put_prio(q, P(1), 1), -EINVAL, "priorities come from the comparator");
    for (int i = 0; i < 50; i++)
        cr_assert_eq(cio_queue_put(q, P((i * 37) % 50)), 0);
    void *it;
    for (int i = 49; i >= 0; i--) {
        cr_assert_eq(cio_queue_get(q, &it), 0);
        cr_assert_eq(N(it), i);
    }
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, a_priority_queue_orders_by_the_callers_comparator)
{
    tst_run(prio_cmp, NULL);
}

static int bounded(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(2, CIO_QUEUE_FIFO);
    struct qcall p;
    void *it;
    cr_assert_eq(cio_queue_put(q, P(1)), 0);
    cr_assert_eq(cio_queue_put(q, P(2)), 0);
    cr_assert(cio_queue_full(q));
    cr_assert_eq(cio_queue_try_put(q, P(9)), -EAGAIN);
    cio_task *t = qstart(&p, q, q_put, P(3));
    sk_turns(3);
    cr_assert_not(p.c.finished, "the putter waits while the queue is full");
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cr_assert_eq(N(it), 1);
    cr_assert_eq(cio_queue_qsize(q), 2, "the putter's item took the slot at once");
    cr_assert_eq(cio_queue_try_put(q, P(9)), -EAGAIN, "no barging");
    cr_assert_eq(cio_join(t), 0);
    int want[] = {2, 3};
    drain_expect(q, want, 2);
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, a_bounded_queue_blocks_the_putter_until_a_get)
{
    tst_run(bounded, NULL);
}

static int getters(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(0, CIO_QUEUE_LIFO);
    struct qcall g[3];
    cio_task *t[3];
    void *it;
    cr_assert_eq(cio_queue_try_get(q, &it), -EAGAIN);
    for (int i = 0; i < 3; i++)
        t[i] = qstart(&g[i], q, q_get, NULL);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cio_queue_put(q, P(10 + i)), 0);
        cr_assert_eq(cio_queue_try_get(q, &it), -EAGAIN, "the item went to a waiting getter");
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cio_join(t[i]), 0);
        cr_assert_eq(N(g[i].c.item), 10 + i, "getters are served in arrival order");
    }
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, put_hands_the_item_to_the_first_waiting_getter)
{
    tst_run(getters, NULL);
}

static int join(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(0, CIO_QUEUE_FIFO);
    struct qcall j;
    void *it;
    cr_assert_eq(cio_queue_join(q), 0, "nothing pending");
    cr_assert_eq(cio_queue_put(q, P(1)), 0);
    cr_assert_eq(cio_queue_put(q, P(2)), 0);
    cio_task *t = qstart(&j, q, q_join, NULL);
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cr_assert_eq(cio_queue_get(q, &it), 0);
    sk_turns(3);
    cr_assert_not(j.c.finished, "taken is not done");
    cr_assert_eq(cio_queue_task_done(q), 0);
    sk_turns(3);
    cr_assert_not(j.c.finished, "one item is still not done");
    cr_assert_eq(cio_queue_task_done(q), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_queue_task_done(q), CIO_ETOOMANYDONE);
    cr_assert_eq(cio_queue_join(q), 0);
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, join_returns_after_the_last_task_done_and_extra_task_done_is_an_error)
{
    tst_run(join, NULL);
}

static int shutdown_graceful(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(2, CIO_QUEUE_FIFO);
    struct qcall p;
    void *it;
    cr_assert_eq(cio_queue_put(q, P(1)), 0);
    cr_assert_eq(cio_queue_put(q, P(2)), 0);
    cio_task *tp = qstart(&p, q, q_put, P(3));
    cr_assert_eq(cio_queue_shutdown(q, false), 0);
    cr_assert(cio_queue_is_shutdown(q));
    cr_assert_eq(cio_join(tp), CIO_EQSHUTDOWN, "the waiting putter is refused, its item stays its own");
    cr_assert_eq(cio_queue_put(q, P(4)), CIO_EQSHUTDOWN);
    cr_assert_eq(cio_queue_try_put(q, P(4)), CIO_EQSHUTDOWN);
    cr_assert_eq(cio_queue_get(q, &it), 0, "getters drain what is left");
    cr_assert_eq(N(it), 1);
    cr_assert_eq(cio_queue_try_get(q, &it), 0);
    cr_assert_eq(N(it), 2);
    cr_assert_eq(cio_queue_get(q, &it), CIO_EQSHUTDOWN);
    cr_assert_eq(cio_queue_try_get(q, &it), CIO_EQSHUTDOWN);
    cr_assert_eq(cio_queue_close(q), 0);

    q = open_q(0, CIO_QUEUE_FIFO);
    struct qcall g[2];
    cio_task *tg0 = qstart(&g[0], q, q_get, NULL), *tg1 = qstart(&g[1], q, q_get, NULL);
    cr_assert_eq(cio_queue_shutdown(q, false), 0);
    cr_assert_eq(cio_join(tg0), CIO_EQSHUTDOWN, "waiting getters of an empty queue are woken");
    cr_assert_eq(cio_join(tg1), CIO_EQSHUTDOWN);
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, shutdown_refuses_puts_and_lets_getters_drain_then_fail)
{
    tst_run(shutdown_graceful, NULL);
}

static void count_drop(void *item, void *arg)
{
    *(int *)arg += N(item);
}

static int shutdown_immediate(void *arg)
{
    (void)arg;
    cio_queue *q;
    int dropped = 0;
    cio_queue_opts o = {.drop = count_drop, .drop_arg = &dropped};
    cr_assert_eq(cio_queue_open(&q, &o), 0);
    struct qcall j;
    void *it;
    cr_assert_eq(cio_queue_put(q, P(1)), 0);
    cr_assert_eq(cio_queue_put(q, P(10)), 0);
    cr_assert_eq(cio_queue_put(q, P(100)), 0);
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cio_task *tj = qstart(&j, q, q_join, NULL);
    cr_assert_eq(cio_queue_shutdown(q, true), 0);
    cr_assert_eq(dropped, 110, "the items left are dropped");
    cr_assert_eq(cio_queue_qsize(q), 0);
    cr_assert_eq(cio_queue_get(q, &it), CIO_EQSHUTDOWN);
    sk_turns(3);
    cr_assert_not(j.c.finished, "the item taken is not done yet");
    cr_assert_eq(cio_queue_task_done(q), 0);
    cr_assert_eq(cio_join(tj), 0);
    cr_assert_eq(cio_queue_shutdown(q, true), 0, "again");
    cr_assert_eq(cio_queue_close(q), 0);

    cr_assert_eq(cio_queue_open(&q, &o), 0);
    struct qcall g;
    cio_task *tg = qstart(&g, q, q_get, NULL);
    cr_assert_eq(cio_queue_put(q, P(1000)), 0);
    cr_assert_eq(cio_queue_put(q, P(5000)), 0);
    cr_assert_eq(cio_queue_close(q), -EBUSY, "the getter is woken, not yet resumed");
    cr_assert_eq(cio_join(tg), 0);
    cr_assert_eq(N(g.c.item), 1000);
    cr_assert_eq(cio_queue_close(q), 0, "close drops what is left");
    cr_assert_eq(dropped, 5110);
    return 0;
}

Test(queue, immediate_shutdown_drops_the_items_and_counts_them_done)
{
    tst_run(shutdown_immediate, NULL);
}

static int cancelled(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(1, CIO_QUEUE_FIFO);
    struct qcall a, b, d, e, p1, p2, p3;
    void *it;
    cio_task *ta = qstart(&a, q, q_get, NULL), *tb = qstart(&b, q, q_get, NULL);
    cio_task *td = qstart(&d, q, q_get, NULL), *te = qstart(&e, q, q_get, NULL);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    cr_assert_eq(cio_join(ta), -ECANCELED);
    cr_assert_eq(cio_queue_put(q, P(1)), 0, "goes to b, not to the cancelled a");
    cr_assert_eq(cio_cancel(tb, NULL), 0, "b is cancelled after the hand-over");
    cr_assert_eq(cio_join(tb), 0, "and keeps the item");
    cr_assert_eq(N(b.c.item), 1);
    cr_assert_eq(cio_queue_put(q, P(2)), 0);
    cr_assert_eq(cio_queue_put(q, P(3)), 0);
    cr_assert_eq(cio_join(td), 0);
    cr_assert_eq(cio_join(te), 0);
    cr_assert_eq(N(d.c.item), 2);
    cr_assert_eq(N(e.c.item), 3);

    /* Putters on a full queue: one cancelled, one timed out, one served. */
    cr_assert_eq(cio_queue_put(q, P(4)), 0);
    cio_task *t1 = qstart(&p1, q, q_put, P(5));
    p2.q = q;
    p2.c = (struct sk_call){.fn = q_put, .obj = &p2, .item = P(6), .timeout = CIO_MS(1)};
    cio_task *t2 = sk_start(&p2.c), *t3 = qstart(&p3, q, q_put, P(7));
    cr_assert_eq(cio_cancel(t1, NULL), 0);
    cr_assert_eq(cio_join(t1), -ECANCELED);
    cr_assert_eq(cio_join(t2), -ETIMEDOUT);
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cr_assert_eq(N(it), 4);
    cr_assert_eq(cio_join(t3), 0);
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cr_assert_eq(N(it), 7, "only the served putter's item went in");
    cr_assert(cio_queue_empty(q));
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, cancelled_and_timed_out_callers_take_and_give_nothing_woken_ones_keep_their_item)
{
    tst_run(cancelled, NULL);
}

static int bad_use(void *arg)
{
    (void)arg;
    cio_queue *q;
    void *it;
    cio_queue_opts bad_order = {.order = 7}, cmp_fifo = {.cmp = by_value_desc};
    cr_assert_eq(cio_queue_open(&q, &bad_order), -EINVAL);
    cr_assert_eq(cio_queue_open(&q, &cmp_fifo), -EINVAL);
    cr_assert_eq(cio_queue_open(NULL, NULL), -EINVAL);
    cr_assert_eq(cio_queue_open(&q, NULL), 0);
    cr_assert_eq(cio_queue_put_prio(q, P(1), 1), -EINVAL, "not a priority queue");
    cr_assert_eq(cio_queue_try_put_prio(q, P(1), 1), -EINVAL);
    cr_assert_eq(cio_queue_get(q, NULL), -EINVAL);
    cr_assert_eq(cio_queue_task_done(q), CIO_ETOOMANYDONE);
    struct qcall j;
    cr_assert_eq(cio_queue_put(q, P(1)), 0);
    cio_task *t = qstart(&j, q, q_join, NULL);
    cr_assert_eq(cio_queue_close(q), -EBUSY);
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cr_assert_eq(cio_queue_task_done(q), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_queue_close(q), 0);
    cr_assert_eq(cio_queue_close(NULL), 0);
    cr_assert_eq(cio_queue_put(NULL, P(1)), -EINVAL);
    cr_assert_eq(cio_queue_try_put(NULL, P(1)), -EINVAL);
    cr_assert_eq(cio_queue_put_prio(NULL, P(1), 0), -EINVAL);
    cr_assert_eq(cio_queue_get(NULL, &it), -EINVAL);
    cr_assert_eq(cio_queue_try_get(NULL, &it), -EINVAL);
    cr_assert_eq(cio_queue_task_done(NULL), -EINVAL);
    cr_assert_eq(cio_queue_join(NULL), -EINVAL);
    cr_assert_eq(cio_queue_shutdown(NULL, false), -EINVAL);
    cr_assert_eq(cio_queue_qsize(NULL), 0);
    cr_assert_eq(cio_queue_maxsize(NULL), 0);
    cr_assert(cio_queue_empty(NULL));
    cr_assert_not(cio_queue_full(NULL));
    cr_assert_not(cio_queue_is_shutdown(NULL));
    return 0;
}

Test(queue, bad_use_returns_clear_errors)
{
    tst_run(bad_use, NULL);
}

static int alloc_fail(void *arg)
{
    (void)arg;
    cio_queue *q = open_q(0, CIO_QUEUE_FIFO);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(cio_queue_put(q, P(i)), 0);
    tst_fail_alloc_at(1);
    cr_assert_eq(cio_queue_put(q, P(8)), -ENOMEM, "growing fails");
    tst_fail_alloc_at(0);
    cr_assert_eq(cio_queue_qsize(q), 8, "and changes nothing");
    cr_assert_eq(cio_queue_put(q, P(8)), 0);
    int want[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    drain_expect(q, want, 9);
    cr_assert_eq(cio_queue_close(q), 0);
    return 0;
}

Test(queue, a_failed_allocation_refuses_the_put_cleanly)
{
    tst_run(alloc_fail, NULL);
}

Test(queue, gets_and_puts_that_need_no_wait_work_outside_a_task)
{
    cio_queue *q;
    void *it;
    tst_install_allocator();
    cr_assert_eq(cio_queue_open(&q, &(cio_queue_opts){.maxsize = 1}), 0);
    cr_assert_eq(cio_queue_put(q, P(1)), 0);
    cr_assert_eq(cio_queue_put(q, P(2)), CIO_ENOLOOP, "a full queue needs a wait");
    cr_assert_eq(cio_queue_get(q, &it), 0);
    cr_assert_eq(cio_queue_get(q, &it), CIO_ENOLOOP);
    cr_assert_eq(cio_queue_close(q), 0);
    cr_assert_eq(tst_live_blocks(), 0);
}
