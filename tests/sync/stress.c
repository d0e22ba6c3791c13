/*
 * stress.c: hundreds of tasks on each primitive, with a chaos task cancelling them at random (seeded) and small
 * deadlines on their waits; afterwards every item must have been taken exactly once and every permit returned.
 * Nothing depends on timing: a deadline that fires or not changes the path taken, never the checks.
 */
#include "synckit.h"

/* Run `fn` in a timeout scope of a random small length one time in `every`, else plainly. */
static int maybe_timed(struct sk_rng *r, int every, int (*fn)(void *), void *obj)
{
    if (sk_rand(r) % every)
        return fn(obj);
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_US(1 + sk_rand(r) % 100)), 0);
    int rc = fn(obj);
    int end = cio_scope_end(&s);
    cr_assert(end == 0 || end == -ETIMEDOUT);
    return rc;
}

static void yield_some(struct sk_rng *r, int max)
{
    int n = (int)(sk_rand(r) % (unsigned)(max + 1));
    for (int i = 0; i < n; i++)
        if (cio_yield() < 0)
            return;
}

/* Spawn `n` tasks of `body` with args `args + i * size`, and the chaos task over the first `victims` of them. */
static void spawn_all(cio_task **t, int n, cio_fn body, void *args, size_t size)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(cio_spawn(&t[i], body, (char *)args + (size_t)i * size, NULL), 0);
}

static void run_chaos(cio_task **victims, size_t n, int rounds, uint64_t seed)
{
    struct sk_chaos ch = {.victims = victims, .n = n, .rounds = rounds, .rng = {seed}};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, sk_chaos_body, &ch, NULL), 0);
    cr_assert_eq(cio_join(t), 0); /* how many it cancelled depends on scheduling, so it is not checked */
}

static void join_all(cio_task **t, int n)
{
    for (int i = 0; i < n; i++) {
        int rc = cio_join(t[i]);
        cr_assert(rc >= 0 || rc == -ECANCELED || rc == -ETIMEDOUT, "task %d: %s", i, cio_err_name(rc));
    }
}

/* ------------------------------------------------------------------------------------------------ lock, semaphore */

struct excl {
    cio_lock lock;
    cio_semaphore sem;
    bool use_sem;
    int permits;
    int inside;
    long entries;
};

struct excl_worker {
    struct excl *x;
    struct sk_rng rng;
    int iters;
};

static int excl_acquire(void *obj)
{
    struct excl *x = obj;
    return x->use_sem ? cio_semaphore_acquire(&x->sem) : cio_lock_acquire(&x->lock);
}

static int excl_body(void *arg)
{
    struct excl_worker *w = arg;
    struct excl *x = w->x;
    for (int i = 0; i < w->iters; i++) {
        int rc = maybe_timed(&w->rng, 3, excl_acquire, x);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc == -ECANCELED)
            return rc;
        cr_assert_eq(rc, 0);
        x->inside++;
        x->entries++;
        cr_assert_leq(x->inside, x->permits, "more holders than permits");
        yield_some(&w->rng, 2);
        x->inside--;
        rc = x->use_sem ? cio_semaphore_release(&x->sem) : cio_lock_release(&x->lock);
        cr_assert_eq(rc, 0, "release: %s", cio_err_name(rc));
    }
    return 0;
}

static int excl_stress(void *arg)
{
    struct excl *x = arg;
    int n = sk_scale(300);
    struct excl_worker *w = calloc((size_t)n, sizeof *w);
    cio_task **t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++)
        w[i] = (struct excl_worker){.x = x, .rng = {0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)}, .iters = 20};
    spawn_all(t, n, excl_body, w, sizeof *w);
    run_chaos(t, (size_t)n, n / 2, 12345);
    join_all(t, n);
    cr_assert_eq(x->inside, 0);
    cr_assert_gt(x->entries, 0);
    free(w);
    free(t);
    return 0;
}

static int lock_stress(void *arg)
{
    (void)arg;
    struct excl x = {.permits = 1};
    cr_assert_eq(cio_lock_init(&x.lock), 0);
    excl_stress(&x);
    cr_assert_not(cio_lock_locked(&x.lock), "the lock was given back");
    cr_assert_eq(cio_lock_fini(&x.lock), 0);
    return 0;
}

Test(stress, lock_under_cancellation_and_deadlines, .timeout = 300)
{
    tst_run(lock_stress, NULL);
}

static int sem_stress(void *arg)
{
    (void)arg;
    struct excl x = {.permits = 5, .use_sem = true};
    cr_assert_eq(cio_bounded_semaphore_init(&x.sem, 5), 0);
    excl_stress(&x);
    cr_assert_eq(cio_semaphore_value(&x.sem), 5, "every permit came back");
    cr_assert_eq(cio_semaphore_release(&x.sem), CIO_EOVERRELEASE, "and no more than that");
    cr_assert_eq(cio_semaphore_fini(&x.sem), 0);
    return 0;
}

Test(stress, bounded_semaphore_under_cancellation_and_deadlines, .timeout = 300)
{
    tst_run(sem_stress, NULL);
}

/* ------------------------------------------------------------------------------------------------ event */

struct ev_waiter {
    cio_event *e;
    struct sk_rng rng;
    bool timed;
};

static int ev_wait(void *obj)
{
    return cio_event_wait(obj);
}

static int ev_body(void *arg)
{
    struct ev_waiter *w = arg;
    return w->timed ? maybe_timed(&w->rng, 1, ev_wait, w->e) : cio_event_wait(w->e);
}

static int event_stress(void *arg)
{
    (void)arg;
    int n = sk_scale(200);
    cio_event e;
    struct ev_waiter *w = calloc((size_t)n, sizeof *w);
    cio_task **t = calloc((size_t)n, sizeof *t);
    cr_assert_eq(cio_event_init(&e), 0);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < n; i++)
            w[i] = (struct ev_waiter){.e = &e, .rng = {(uint64_t)(round * 1000 + i + 1)}, .timed = i % 3 == 0};
        spawn_all(t, n, ev_body, w, sizeof *w);
        run_chaos(t, (size_t)n, n / 3, 777 + (uint64_t)round);
        cr_assert_eq(cio_event_set(&e), 0);
        for (int i = 0; i < n; i++) {
            bool cancelled = cio_task_cancelled(t[i]);
            int rc = cio_join(t[i]);
            if (!cancelled && !w[i].timed)
                cr_assert_eq(rc, 0, "waiter %d: %s", i, cio_err_name(rc));
            else
                cr_assert(rc == 0 || rc == -ECANCELED || rc == -ETIMEDOUT);
        }
        cr_assert_eq(cio_event_clear(&e), 0);
    }
    cr_assert_eq(cio_event_fini(&e), 0);
    free(w);
    free(t);
    return 0;
}

Test(stress, event_under_cancellation_and_deadlines, .timeout = 300)
{
    tst_run(event_stress, NULL);
}

/* ------------------------------------------------------------------------------------------------ condition */

struct cbuf {
    cio_condition c;
    int *stack;
    int n;
    bool done;
    unsigned char *put, *got;
};

struct cworker {
    struct cbuf *b;
    struct sk_rng rng;
    int first, count; /* producers: ids first .. first+count-1 */
};

static bool ready(void *arg)
{
    struct cbuf *b = arg;
    return b->n > 0 || b->done;
}

static int lock_cb(void *obj)
{
    return cio_lock_acquire(cio_condition_lock(obj));
}

static int wait_ready(void *obj)
{
    struct cbuf *b = obj;
    return cio_condition_wait_for(&b->c, ready, b);
}

static int cproducer(void *arg)
{
    struct cworker *w = arg;
    struct cbuf *b = w->b;
    for (int k = 0; k < w->count;) {
        int rc = maybe_timed(&w->rng, 4, lock_cb, &b->c);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0)
            return rc;
        int id = w->first + k++;
        b->stack[b->n++] = id;
        b->put[id] = 1;
        rc = cio_condition_notify(&b->c, 1);
        cr_assert(rc == 0 || rc == 1, "notify: %d", rc);
        cr_assert_eq(cio_lock_release(cio_condition_lock(&b->c)), 0);
        yield_some(&w->rng, 1);
    }
    return 0;
}

static int cconsumer(void *arg)
{
    struct cworker *w = arg;
    struct cbuf *b = w->b;
    cio_lock *l = cio_condition_lock(&b->c);
    for (;;) {
        int rc = maybe_timed(&w->rng, 4, lock_cb, &b->c);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0)
            return rc;
        rc = maybe_timed(&w->rng, 3, wait_ready, b);
        cr_assert(cio_lock_locked(l), "wait returns holding the lock");
        if (rc == 0 && b->n > 0) {
            int id = b->stack[--b->n];
            b->got[id]++;
        }
        bool stop = (rc == 0 && b->done && b->n == 0) || rc == -ECANCELED;
        cr_assert_eq(cio_lock_release(l), 0);
        if (stop)
            return rc;
        yield_some(&w->rng, 1);
    }
}

static int condition_stress(void *arg)
{
    (void)arg;
    int np = sk_scale(100), nc = sk_scale(150), per = 10, total = np * per;
    struct cbuf b = {
        .stack = calloc((size_t)total, sizeof(int)), .put = calloc((size_t)total, 1), .got = calloc((size_t)total, 1)};
    struct cworker *w = calloc((size_t)(np + nc), sizeof *w);
    cio_task **t = calloc((size_t)(np + nc), sizeof *t);
    cr_assert_eq(cio_condition_init(&b.c, NULL), 0);
    for (int i = 0; i < np + nc; i++)
        w[i] = (struct cworker){.b = &b, .rng = {(uint64_t)(i + 1) * 7919}, .first = i * per, .count = per};
    spawn_all(t, np, cproducer, w, sizeof *w);
    spawn_all(t + np, nc, cconsumer, w + np, sizeof *w);
    run_chaos(t, (size_t)(np + nc), (np + nc) / 3, 4242);
    join_all(t, np);
    cio_lock *l = cio_condition_lock(&b.c);
    cr_assert_eq(cio_lock_acquire(l), 0);
    b.done = true;
    cr_assert_geq(cio_condition_notify_all(&b.c), 0);
    cr_assert_eq(cio_lock_release(l), 0);
    join_all(t + np, nc);
    while (b.n > 0)
        b.got[b.stack[--b.n]]++; /* left by consumers that were all cancelled */
    int consumed = 0;
    for (int id = 0; id < total; id++) {
        cr_assert_eq(b.got[id], b.put[id], "item %d: put %d, taken %d times", id, b.put[id], b.got[id]);
        consumed += b.got[id];
    }
    cr_assert_gt(consumed, 0);
    cr_assert_not(cio_lock_locked(l));
    cr_assert_eq(cio_condition_fini(&b.c), 0);
    free(b.stack);
    free(b.put);
    free(b.got);
    free(w);
    free(t);
    return 0;
}

Test(stress, condition_under_cancellation_and_deadlines, .timeout = 300)
{
    tst_run(condition_stress, NULL);
}

/* ------------------------------------------------------------------------------------------------ barrier */

#define PHASES 12

struct bparty {
    cio_barrier *b;
    struct sk_rng rng;
    int passed;
    int idx[PHASES];
};

static int bwait(void *obj)
{
    return cio_barrier_wait(obj);
}

static int bparty_body(void *arg)
{
    struct bparty *p = arg;
    while (p->passed < PHASES) {
        int rc = maybe_timed(&p->rng, 8, bwait, p->b);
        if (rc == CIO_EBROKEN)
            return 0;
        if (rc < 0) {
            /* A party gone for good leaves the others waiting forever: break the barrier for them. */
            cr_assert_eq(cio_barrier_abort(p->b), 0);
            return rc;
        }
        p->idx[p->passed++] = rc;
        yield_some(&p->rng, 2);
    }
    return 0;
}

static int barrier_stress(void *arg)
{
    (void)arg;
    int n = sk_scale(64);
    cio_barrier b;
    struct bparty *p = calloc((size_t)n, sizeof *p);
    cio_task **t = calloc((size_t)n, sizeof *t);
    cr_assert_eq(cio_barrier_init(&b, (unsigned)n), 0);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < n; i++)
            p[i] = (struct bparty){.b = &b, .rng = {(uint64_t)(round * 131 + i + 1) * 104729}};
        spawn_all(t, n, bparty_body, p, sizeof *p);
        run_chaos(t, (size_t)n, round, 99 + (uint64_t)round);
        join_all(t, n);
        cr_assert_eq(cio_barrier_n_waiting(&b), 0);
        for (int ph = 0; ph < PHASES; ph++) {
            /* A phase either completed for every party, with indices 0..n-1 each once, or for none. */
            int in = 0;
            unsigned char *seen = calloc((size_t)n, 1);
            for (int i = 0; i < n; i++) {
                if (p[i].passed <= ph)
                    continue;
                in++;
                cr_assert(p[i].idx[ph] >= 0 && p[i].idx[ph] < n);
                cr_assert_not(seen[p[i].idx[ph]]++, "phase %d: index %d twice", ph, p[i].idx[ph]);
            }
            free(seen);
            cr_assert(in == 0 || in == n, "phase %d passed by %d of %d", ph, in, n);
        }
        cr_assert_eq(cio_barrier_reset(&b), 0);
    }
    /* How many phases completed depends on which deadlines fired first: not checked. */
    cr_assert_eq(cio_barrier_fini(&b), 0);
    free(p);
    free(t);
    return 0;
}

Test(stress, barrier_under_cancellation_and_deadlines, .timeout = 300)
{
    tst_run(barrier_stress, NULL);
}

/* ------------------------------------------------------------------------------------------------ queues */

struct qs {
    cio_queue *q;
    unsigned char *put, *got;
    int per;
};

struct qworker {
    struct qs *s;
    struct sk_rng rng;
    int first;
    void *item;
};

static int qput(void *obj)
{
    struct qworker *w = obj;
    return cio_queue_put(w->s->q, w->item);
}

static int qget(void *obj)
{
    struct qworker *w = obj;
    return cio_queue_get(w->s->q, &w->item);
}

static int qproducer(void *arg)
{
    struct qworker *w = arg;
    for (int k = 0; k < w->s->per;) {
        int id = w->first + k;
        w->item = (void *)(intptr_t)id;
        int rc = maybe_timed(&w->rng, 3, qput, w);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0)
            return rc;
        cr_assert_eq(w->s->put[id]++, 0);
        k++;
        yield_some(&w->rng, 1);
    }
    return 0;
}

static int qconsumer(void *arg)
{
    struct qworker *w = arg;
    for (;;) {
        int rc = maybe_timed(&w->rng, 3, qget, w);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc == -ECANCELED || rc == CIO_EQSHUTDOWN)
            return 0;
        cr_assert_eq(rc, 0, "get: %s", cio_err_name(rc));
        w->s->got[(intptr_t)w->item]++;
        cr_assert_eq(cio_queue_task_done(w->s->q), 0);
        yield_some(&w->rng, 2);
    }
}

static int queue_stress(void *arg)
{
    const cio_queue_opts *o = arg;
    int np = sk_scale(150), nc = sk_scale(150), reserve = 8, per = 12, total = np * per;
    struct qs s = {.put = calloc((size_t)total, 1), .got = calloc((size_t)total, 1), .per = per};
    struct qworker *w = calloc((size_t)(np + nc), sizeof *w);
    cio_task **t = calloc((size_t)(np + nc), sizeof *t);
    cr_assert_eq(cio_queue_open(&s.q, o), 0);
    for (int i = 0; i < np + nc; i++)
        w[i] = (struct qworker){.s = &s, .rng = {(uint64_t)(i + 1) * 6364136223846793005ull}, .first = i * per};
    spawn_all(t, np, qproducer, w, sizeof *w);
    spawn_all(t + np, nc, qconsumer, w + np, sizeof *w);
    /* The last `reserve` consumers are spared, so the producers can always finish. */
    run_chaos(t, (size_t)(np + nc - reserve), (np + nc) / 3, 2024);
    join_all(t, np);
    cr_assert_eq(cio_queue_shutdown(s.q, false), 0);
    join_all(t + np, nc);
    void *it;
    while (cio_queue_try_get(s.q, &it) == 0) {
        s.got[(intptr_t)it]++;
        cr_assert_eq(cio_queue_task_done(s.q), 0);
    }
    cr_assert_eq(cio_queue_try_get(s.q, &it), CIO_EQSHUTDOWN);
    cr_assert_eq(cio_queue_join(s.q), 0, "every item put was marked done");
    cr_assert_eq(cio_queue_task_done(s.q), CIO_ETOOMANYDONE);
    int n = 0;
    for (int id = 0; id < total; id++) {
        cr_assert_eq(s.got[id], s.put[id], "item %d: put %d, taken %d times", id, s.put[id], s.got[id]);
        n += s.got[id];
    }
    cr_assert_gt(n, 0);
    cr_assert_eq(cio_queue_close(s.q), 0);
    free(s.put);
    free(s.got);
    free(w);
    free(t);
    return 0;
}

Test(stress, bounded_fifo_queue_under_cancellation_and_deadlines, .timeout = 300)
{
    cio_queue_opts o = {.maxsize = 8, .order = CIO_QUEUE_FIFO};
    tst_run(queue_stress, &o);
}

Test(stress, bounded_lifo_queue_under_cancellation_and_deadlines, .timeout = 300)
{
    cio_queue_opts o = {.maxsize = 3, .order = CIO_QUEUE_LIFO};
    tst_run(queue_stress, &o);
}

Test(stress, priority_queue_under_cancellation_and_deadlines, .timeout = 300)
{
    cio_queue_opts o = {.maxsize = 16, .order = CIO_QUEUE_PRIORITY};
    tst_run(queue_stress, &o);
}

Test(stress, unbounded_fifo_queue_under_cancellation_and_deadlines, .timeout = 300)
{
    tst_run(queue_stress, NULL);
}
