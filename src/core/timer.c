/* timer.c: the deadline heap behind sleeps, timeouts and call_later. */
#include "core/runtime.h"

/*
 * A binary heap, not a timing wheel: a wheel wins only with tens of thousands of timers due per tick, and it
 * rounds every deadline to a tick size someone must tune. Each timer remembers its slot, so cancelling one is
 * O(log n) with no tombstones left behind (timer churn stays flat in memory).
 */

static inline bool before(const struct cio__timer *a, const struct cio__timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static inline void place(struct cio__heap *h, uint32_t i, struct cio__timer *t)
{
    h->v[i] = t;
    t->slot = i + 1;
}

static void sift_up(struct cio__heap *h, uint32_t i)
{
    struct cio__timer *t = h->v[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(t, h->v[p]))
            break;
        place(h, i, h->v[p]);
        i = p;
    }
    place(h, i, t);
}

static void sift_down(struct cio__heap *h, uint32_t i)
{
    struct cio__timer *t = h->v[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
            c++;
        if (!before(h->v[c], t))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, t);
}

static void heap_remove(struct cio__heap *h, uint32_t i)
{
    h->v[i]->slot = 0;
    struct cio__timer *last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    if (i > 0 && before(last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

int cio__timer_arm(cio_loop *l, struct cio__timer *t, int64_t when)
{
    struct cio__heap *h = &l->timers;
    if (t->slot)
        heap_remove(h, t->slot - 1);
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        struct cio__timer **v = cio__realloc(h->v, (size_t)cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    t->when = when;
    t->seq = ++l->timer_seq;
    h->v[h->n] = t;
    sift_up(h, h->n++);
    return 0;
}

void cio__timer_disarm(cio_loop *l, struct cio__timer *t)
{
    if (t->slot)
        heap_remove(&l->timers, t->slot - 1);
}

int64_t cio__timers_next(const cio_loop *l)
{
    return l->timers.n ? l->timers.v[0]->when : INT64_MAX;
}

size_t cio__timers_run(cio_loop *l)
{
    struct cio__heap *h = &l->timers;
    size_t fired = 0;
    while (h->n && h->v[0]->when <= l->now) {
        struct cio__timer *t = h->v[0];
        heap_remove(h, 0);
        t->fire(t);
        fired++;
    }
    return fired;
}
