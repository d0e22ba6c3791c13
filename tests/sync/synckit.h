/* synckit.h: helpers shared by the sync tests: a task that makes one waiting call, a seeded PRNG, chaos. */
#ifndef CIO_TEST_SYNCKIT_H
#define CIO_TEST_SYNCKIT_H

#include <stdlib.h>

#include "corekit.h"
#include "harness.h"

/*
 * One waiting call made by a task of its own (sk_call_body): `started` is set just before `fn(obj)`, so once
 * the spawner sees it the task is parked in `fn` (or returned at once). With `timeout` > 0 the call runs in a
 * timeout scope of that length. When `fn` succeeds (>= 0), `id` is appended to `order` (if set) and `after(obj)`
 * runs (a release, say) with its status in `after_rc`. `rc` is what `fn` returned; the body returns it too.
 */
struct sk_call {
    int (*fn)(void *obj);
    void *obj;
    int64_t timeout;
    int id;
    int (*after)(void *obj);
    int *order;
    int *norder;
    int started, finished;
    int rc, after_rc;
    /* For calls with an out-pointer (queue get): where the item lands. */
    void *item;
};

static inline int sk_call_body(void *arg)
{
    struct sk_call *c = arg;
    cio_scope s;
    if (c->timeout > 0)
        cr_assert_eq(cio_timeout_begin(&s, c->timeout), 0);
    c->started = 1;
    c->rc = c->fn(c->obj);
    if (c->timeout > 0) {
        int end = cio_scope_end(&s);
        cr_assert(end == 0 || end == -ETIMEDOUT);
    }
    if (c->rc >= 0) {
        if (c->order)
            c->order[(*c->norder)++] = c->id;
        if (c->after)
            c->after_rc = c->after(c->obj);
    }
    c->finished = 1;
    return c->rc;
}

/* Spawn a task running `c`, then yield until it has started (it is then parked in its call, or done). */
static inline cio_task *sk_start(struct sk_call *c)
{
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, sk_call_body, c, NULL), 0);
    cr_assert_eq(tk_yield_until(&c->started), 0);
    return t;
}

/* Yield `n` times (loop turns, never time): lets every ready task run. */
static inline void sk_turns(int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(cio_yield(), 0);
}

/* xorshift64*: a small PRNG with a fixed seed, so a failing stress run repeats exactly. */
struct sk_rng {
    uint64_t s;
};

static inline uint32_t sk_rand(struct sk_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 2685821657736338717ull) >> 32);
}

/*
 * The chaos task: `rounds` times, yield a few turns and cancel one of `victims` picked at random. The victims'
 * handles must stay valid (not joined) until it has finished: join it first.
 */
struct sk_chaos {
    cio_task **victims;
    size_t n;
    int rounds;
    struct sk_rng rng;
    int cancels;
};

static inline int sk_chaos_body(void *arg)
{
    struct sk_chaos *c = arg;
    for (int r = 0; r < c->rounds; r++) {
        int turns = (int)(sk_rand(&c->rng) % 4);
        for (int i = 0; i < turns; i++)
            cr_assert_eq(cio_yield(), 0);
        size_t i = sk_rand(&c->rng) % c->n;
        if (cio_cancel(c->victims[i], "chaos") == 0)
            c->cancels++;
    }
    return 0;
}

/* Under Valgrind everything runs many times slower: stress tests scale their sizes down. */
static inline int sk_scale(int n)
{
    return getenv("CIO_UNDER_VALGRIND") ? (n + 3) / 4 : n;
}

#endif
