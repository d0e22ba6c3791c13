/* barrier.c: asyncio.Barrier: a reusable rendezvous of a fixed number of tasks. */
#include <limits.h>

#include "sync/primitives.h"

struct barrier_impl {
    uint32_t magic;
    /* Tasks inside cio_barrier_wait, woken or not. */
    uint32_t busy;
    int parties;
    /*
     * Tasks that arrived in this phase and may still wait: an upper bound, since a waiter taken off the queue
     * by a cancellation cannot tell us. It is made exact (by counting the queue) only when it says the phase
     * might be full, once per phase or so: exact bookkeeping would need a hook in the core's cancellation.
     */
    int arrived;
    bool broken;
    struct cio__waitq waiters;
};

CIO__FITS(struct barrier_impl, cio_barrier);
CIO__HEADED(struct barrier_impl);

static struct barrier_impl *barrier_live(const cio_barrier *b)
{
    struct barrier_impl *v = (struct barrier_impl *)b;
    return v && v->magic == CIO__BARRIER_MAGIC ? v : NULL;
}

int cio_barrier_init(cio_barrier *b, unsigned parties)
{
    if (!b || parties == 0 || parties > INT_MAX)
        return -EINVAL;
    struct barrier_impl *v = (struct barrier_impl *)b;
    *v = (struct barrier_impl){.magic = CIO__BARRIER_MAGIC, .parties = (int)parties};
    cio__waitq_init(&v->waiters);
    return 0;
}

int cio_barrier_fini(cio_barrier *b)
{
    return cio__sync_fini(b, CIO__BARRIER_MAGIC);
}

/* The phase is full: release every waiter with its index, in arrival order, and start the next phase. */
static int release_phase(struct barrier_impl *v)
{
    intptr_t i = 0;
    struct cio__wq_entry *e;
    while ((e = cio__waitq_first(&v->waiters)) != NULL)
        cio__waitq_wake_entry(e, 0, (void *)i++);
    CIO_ASSERT(i == v->parties - 1);
    v->arrived = 0;
    return (int)i;
}

int cio_barrier_wait(cio_barrier *b)
{
    if (!b)
        return -EINVAL;
    struct barrier_impl *v = barrier_live(b);
    if (!v)
        return CIO_EBADHANDLE;
    if (v->broken)
        return CIO_EBROKEN;
    if (v->arrived + 1 >= v->parties)
        v->arrived = (int)cio__waitq_len(&v->waiters);
    if (v->arrived + 1 == v->parties)
        return release_phase(v);
    struct cio__wq_entry w;
    v->arrived++;
    v->busy++;
    int rc = cio__waitq_wait(&v->waiters, &w);
    v->busy--;
    if (rc < 0)
        return rc;
    return w.result < 0 ? w.result : (int)(intptr_t)w.data;
}

int cio_barrier_abort(cio_barrier *b)
{
    if (!b)
        return -EINVAL;
    struct barrier_impl *v = barrier_live(b);
    if (!v)
        return CIO_EBADHANDLE;
    v->broken = true;
    cio__waitq_wake_all(&v->waiters, CIO_EBROKEN);
    v->arrived = 0;
    return 0;
}

int cio_barrier_reset(cio_barrier *b)
{
    if (!b)
        return -EINVAL;
    struct barrier_impl *v = barrier_live(b);
    if (!v)
        return CIO_EBADHANDLE;
    cio__waitq_wake_all(&v->waiters, CIO_EBROKEN);
    v->broken = false;
    v->arrived = 0;
    return 0;
}

int cio_barrier_parties(const cio_barrier *b)
{
    struct barrier_impl *v = barrier_live(b);
    return v ? v->parties : -1;
}

int cio_barrier_n_waiting(const cio_barrier *b)
{
    struct barrier_impl *v = barrier_live(b);
    return v ? (int)cio__waitq_len(&v->waiters) : -1;
}

bool cio_barrier_broken(const cio_barrier *b)
{
    struct barrier_impl *v = barrier_live(b);
    return v && v->broken;
}
