/* lock.c: asyncio.Lock: a FIFO mutex that hands itself to the first waiter on release. */
#include "sync/primitives.h"

CIO__FITS(struct cio__lock_impl, cio_lock);
CIO__HEADED(struct cio__lock_impl);

struct cio__lock_impl *cio__lock_live(cio_lock *l)
{
    struct cio__lock_impl *k = (struct cio__lock_impl *)l;
    return k && k->magic == CIO__LOCK_MAGIC ? k : NULL;
}

int cio_lock_init(cio_lock *l)
{
    if (!l)
        return -EINVAL;
    struct cio__lock_impl *k = (struct cio__lock_impl *)l;
    *k = (struct cio__lock_impl){.magic = CIO__LOCK_MAGIC};
    cio__waitq_init(&k->waiters);
    return 0;
}

int cio_lock_fini(cio_lock *l)
{
    return cio__sync_fini(l, CIO__LOCK_MAGIC);
}

int cio_lock_acquire(cio_lock *l)
{
    if (!l)
        return -EINVAL;
    struct cio__lock_impl *k = cio__lock_live(l);
    if (!k)
        return CIO_EBADHANDLE;
    cio_task *cur = cio_current();
    if (!k->locked) {
        k->locked = true;
        k->owner = cur;
        return 0;
    }
    if (cur && k->owner == cur)
        return -EDEADLK;
    /* Release makes us the owner before waking us, so a successful wait needs nothing more here; a cancelled
       one left the queue and took nothing. */
    struct cio__wq_entry e;
    k->busy++;
    int rc = cio__waitq_wait(&k->waiters, &e);
    k->busy--;
    return rc;
}

int cio_lock_try_acquire(cio_lock *l)
{
    if (!l)
        return -EINVAL;
    struct cio__lock_impl *k = cio__lock_live(l);
    if (!k)
        return CIO_EBADHANDLE;
    if (k->locked)
        return -EAGAIN;
    k->locked = true;
    k->owner = cio_current();
    return 0;
}

int cio_lock_release(cio_lock *l)
{
    if (!l)
        return -EINVAL;
    struct cio__lock_impl *k = cio__lock_live(l);
    if (!k)
        return CIO_EBADHANDLE;
    if (!k->locked)
        return -EPERM;
    if (k->owner != cio_current())
        return CIO_ENOTOWNER;
    /* Hand the lock over rather than free it and let the waiter retry: a task running before the waiter
       could otherwise take it first, and a waiter could starve. */
    struct cio__wq_entry *e = cio__waitq_first(&k->waiters);
    if (e) {
        k->owner = e->task;
        cio__waitq_wake_entry(e, 0, NULL);
    } else {
        k->locked = false;
        k->owner = NULL;
    }
    return 0;
}

bool cio_lock_locked(const cio_lock *l)
{
    const struct cio__lock_impl *k = (const struct cio__lock_impl *)l;
    return k && k->magic == CIO__LOCK_MAGIC && k->locked;
}
