/* barrier.c: tests of cio_barrier: indices, phases, abort, reset, cancellation and bad use. */
#include "synckit.h"

static int bwait(void *obj)
{
    return cio_barrier_wait(obj);
}

static int one_phase(void *arg)
{
    (void)arg;
    cio_barrier b;
    struct sk_call c[3];
    cio_task *t[3];
    cr_assert_eq(cio_barrier_init(&b, 3), 0);
    cr_assert_eq(cio_barrier_parties(&b), 3);
    for (int i = 0; i < 2; i++) {
        c[i] = (struct sk_call){.fn = bwait, .obj = &b};
        t[i] = sk_start(&c[i]);
        cr_assert_eq(cio_barrier_n_waiting(&b), i + 1);
    }
    sk_turns(3);
    cr_assert_not(c[0].finished || c[1].finished, "two of three parties wait");
    c[2] = (struct sk_call){.fn = bwait, .obj = &b};
    t[2] = sk_start(&c[2]);
    cr_assert(c[2].finished, "the last party passes at once");
    cr_assert_eq(cio_barrier_n_waiting(&b), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_join(t[i]), i, "the arrival index");
    cr_assert_not(cio_barrier_broken(&b));
    cr_assert_eq(cio_barrier_fini(&b), 0);
    return 0;
}

Test(barrier, the_last_party_releases_all_and_each_gets_its_arrival_index)
{
    tst_run(one_phase, NULL);
}

struct phaser {
    cio_barrier *b;
    int phases;
    int idx[8];
};

static int phaser_body(void *arg)
{
    struct phaser *p = arg;
    for (int i = 0; i < p->phases; i++) {
        int rc = cio_barrier_wait(p->b);
        if (rc < 0)
            return rc;
        p->idx[i] = rc;
        if (i % 2)
            cr_assert_eq(cio_yield(), 0, "parties leave each phase at different times");
    }
    return 0;
}

static int phases(void *arg)
{
    (void)arg;
    cio_barrier b;
    struct phaser p[4];
    cio_task *t[4];
    cr_assert_eq(cio_barrier_init(&b, 4), 0);
    for (int i = 0; i < 4; i++) {
        p[i] = (struct phaser){.b = &b, .phases = 8};
        cr_assert_eq(cio_spawn(&t[i], phaser_body, &p[i], NULL), 0);
    }
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_join(t[i]), 0);
    for (int ph = 0; ph < 8; ph++) {
        int seen = 0;
        for (int i = 0; i < 4; i++)
            seen |= 1 << p[i].idx[ph];
        cr_assert_eq(seen, 0xf, "phase %d: the indices are 0..3, each once", ph);
    }
    cr_assert_eq(cio_barrier_fini(&b), 0);
    return 0;
}

Test(barrier, the_barrier_is_reusable_phase_after_phase)
{
    tst_run(phases, NULL);
}

static int single(void *arg)
{
    (void)arg;
    cio_barrier b;
    cr_assert_eq(cio_barrier_init(&b, 1), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_barrier_wait(&b), 0);
    cr_assert_eq(cio_barrier_fini(&b), 0);
    return 0;
}

Test(barrier, a_barrier_of_one_never_waits)
{
    tst_run(single, NULL);
}

static int abort_reset(void *arg)
{
    (void)arg;
    cio_barrier b;
    cr_assert_eq(cio_barrier_init(&b, 3), 0);
    struct sk_call a = {.fn = bwait, .obj = &b}, c = a;
    cio_task *ta = sk_start(&a), *tc = sk_start(&c);
    cr_assert_eq(cio_barrier_abort(&b), 0);
    cr_assert(cio_barrier_broken(&b));
    cr_assert_eq(cio_join(ta), CIO_EBROKEN);
    cr_assert_eq(cio_join(tc), CIO_EBROKEN);
    cr_assert_eq(cio_barrier_wait(&b), CIO_EBROKEN, "stays broken");
    cr_assert_eq(cio_barrier_reset(&b), 0);
    cr_assert_not(cio_barrier_broken(&b));
    a = (struct sk_call){.fn = bwait, .obj = &b};
    ta = sk_start(&a);
    cr_assert_eq(cio_barrier_reset(&b), 0, "a reset breaks the current phase");
    cr_assert_eq(cio_join(ta), CIO_EBROKEN);
    cr_assert_not(cio_barrier_broken(&b), "but leaves the barrier usable");
    struct sk_call p[3];
    cio_task *tp[3];
    for (int i = 0; i < 3; i++) {
        p[i] = (struct sk_call){.fn = bwait, .obj = &b};
        tp[i] = sk_start(&p[i]);
    }
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_join(tp[i]), i);
    cr_assert_eq(cio_barrier_fini(&b), 0);
    return 0;
}

Test(barrier, abort_breaks_the_barrier_until_reset_and_reset_breaks_the_phase)
{
    tst_run(abort_reset, NULL);
}

static int cancelled(void *arg)
{
    (void)arg;
    cio_barrier b;
    cr_assert_eq(cio_barrier_init(&b, 4), 0);
    struct sk_call a = {.fn = bwait, .obj = &b}, c = a, d = {.fn = bwait, .obj = &b, .timeout = CIO_MS(1)}, e = a;
    cio_task *ta = sk_start(&a), *tc = sk_start(&c), *td = sk_start(&d);
    cr_assert_eq(cio_barrier_n_waiting(&b), 3);
    cr_assert_eq(cio_cancel(ta, NULL), 0);
    cr_assert_eq(cio_join(ta), -ECANCELED);
    cr_assert_eq(cio_join(td), -ETIMEDOUT);
    cr_assert_eq(cio_barrier_n_waiting(&b), 1, "the cancelled and timed out left");
    cio_task *te = sk_start(&e);
    struct sk_call f = {.fn = bwait, .obj = &b}, g = f;
    cio_task *tf = sk_start(&f);
    cr_assert_not(e.finished || f.finished, "three parties are not four");
    cio_task *tg = sk_start(&g);
    cr_assert_eq(cio_cancel(tc, NULL), 0, "cancelled after the release");
    cr_assert_eq(cio_join(tc), 0, "keeps its index");
    cr_assert_eq(cio_join(te), 1);
    cr_assert_eq(cio_join(tf), 2);
    cr_assert_eq(cio_join(tg), 3);
    cr_assert_eq(cio_barrier_fini(&b), 0);
    return 0;
}

Test(barrier, a_cancelled_waiter_leaves_its_phase_a_released_one_keeps_its_index)
{
    tst_run(cancelled, NULL);
}

static int bad_use(void *arg)
{
    (void)arg;
    cio_barrier b;
    cr_assert_eq(cio_barrier_init(&b, 0), -EINVAL);
    cr_assert_eq(cio_barrier_init(NULL, 2), -EINVAL);
    cr_assert_eq(cio_barrier_init(&b, 2), 0);
    struct sk_call a = {.fn = bwait, .obj = &b};
    cio_task *t = sk_start(&a);
    cr_assert_eq(cio_barrier_fini(&b), -EBUSY);
    cr_assert_eq(cio_barrier_wait(&b), 1);
    cr_assert_eq(cio_barrier_fini(&b), -EBUSY, "released, not yet resumed");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_barrier_fini(&b), 0);
    cr_assert_eq(cio_barrier_wait(&b), CIO_EBADHANDLE);
    cr_assert_eq(cio_barrier_abort(&b), CIO_EBADHANDLE);
    cr_assert_eq(cio_barrier_reset(&b), CIO_EBADHANDLE);
    cr_assert_eq(cio_barrier_fini(&b), CIO_EBADHANDLE);
    cr_assert_eq(cio_barrier_parties(&b), -1);
    cr_assert_eq(cio_barrier_n_waiting(&b), -1);
    cr_assert_not(cio_barrier_broken(&b));
    cr_assert_eq(cio_barrier_wait(NULL), -EINVAL);
    cr_assert_eq(cio_barrier_abort(NULL), -EINVAL);
    cr_assert_eq(cio_barrier_reset(NULL), -EINVAL);
    cr_assert_eq(cio_barrier_fini(NULL), -EINVAL);
    return 0;
}

Test(barrier, bad_use_returns_clear_errors)
{
    tst_run(bad_use, NULL);
}
