/* condition.c: asyncio.Condition: wait for a notification while holding a lock, re-acquiring it after. */
#include "sync/primitives.h"

struct cond_impl {
    uint32_t magic;
    /* Tasks inside cio_condition_wait, from the release of the lock to its re-acquisition. */
    uint32_t busy;
    cio_lock *lock;
    struct cio__waitq waiters;
    /* The lock used when init is given none. */
    cio_lock own;
};

CIO__FITS(struct cond_impl, cio_condition);

static struct cond_impl *cond_live(cio_condition *c)
{
    struct cond_impl *v = (struct cond_impl *)c;
    return v && v->magic == CIO__COND_MAGIC ? v : NULL;
}

int cio_condition_init(cio_condition *c, cio_lock *lock)
{
    if (!c)
        return -EINVAL;
    if (lock && !cio__lock_live(lock))
        return CIO_EBADHANDLE;
    struct cond_impl *v = (struct cond_impl *)c;
    *v = (struct cond_impl){.magic = CIO__COND_MAGIC, .lock = lock};
    if (!lock) {
        cio_lock_init(&v->own);
        v->lock = &v->own;
    }
    cio__waitq_init(&v->waiters);
    return 0;
}

int cio_condition_fini(cio_condition *c)
{
    if (!c)
        return -EINVAL;
    struct cond_impl *v = cond_live(c);
    if (!v)
        return CIO_EBADHANDLE;
    if (v->busy)
        return -EBUSY;
    if (v->lock == &v->own) {
        int rc = cio_lock_fini(&v->own);
        if (rc < 0)
            return rc;
    }
    v->magic = CIO__SYNC_DEAD;
    return 0;
}

cio_lock *cio_condition_lock(cio_condition *c)
{
    struct cond_impl *v = cond_live(c);
    return v ? v->lock : NULL;
}

/* The condition's lock if the running task holds it; else NULL and `*err` says why. */
static struct cio__lock_impl *held_lock(struct cond_impl *v, int *err)
{
    struct cio__lock_impl *k = cio__lock_live(v->lock);
    if (!k) {
        *err = CIO_EBADHANDLE;
        return NULL;
    }
    if (!cio__lock_held_by_current(k)) {
        *err = -EPERM;
        return NULL;
    }
    return k;
}

int cio_condition_wait(cio_condition *c)
{
    if (!c)
        return -EINVAL;
    struct cond_impl *v = cond_live(c);
    if (!v)
        return CIO_EBADHANDLE;
    if (!cio_current())
        return CIO_ENOTASK;
    int rc;
    if (!held_lock(v, &rc))
        return rc;
    /* Already cancelled: fail before letting go of the lock, so the caller's view does not change. */
    rc = cio_check_cancel();
    if (rc < 0)
        return rc;
    cio_lock *lock = v->lock;
    struct cio__wq_entry w;
    v->busy++;
    cio_lock_release(lock);
    rc = cio__waitq_wait(&v->waiters, &w);
    /* Re-acquire in a shield: the caller's code after the wait assumes the lock in every case (asyncio loops
       on the acquire, swallowing cancellations, for the same reason). A shield, not a wait of our own that
       ignores cancellation, keeps this on the public API. */
    cio_scope shield;
    int rc2 = cio_shield_begin(&shield, CIO_INFINITE);
    CIO_ASSERT(rc2 == 0);
    rc2 = cio_lock_acquire(lock);
    cio_scope_end(&shield);
    v->busy--;
    return rc < 0 ? rc : rc2;
}

int cio_condition_wait_for(cio_condition *c, bool (*pred)(void *arg), void *arg)
{
    if (!c || !pred)
        return -EINVAL;
    struct cond_impl *v = cond_live(c);
    if (!v)
        return CIO_EBADHANDLE;
    int rc;
    if (!held_lock(v, &rc))
        return rc;
    while (!pred(arg)) {
        rc = cio_condition_wait(c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cio_condition_notify(cio_condition *c, int n)
{
    if (!c || n < 0)
        return -EINVAL;
    struct cond_impl *v = cond_live(c);
    if (!v)
        return CIO_EBADHANDLE;
    int rc;
    if (!held_lock(v, &rc))
        return rc;
    int woken = 0;
    while (woken < n && cio__waitq_wake_one(&v->waiters, 0, NULL))
        woken++;
    return woken;
}

int cio_condition_notify_all(cio_condition *c)
{
    return cio_condition_notify(c, INT32_MAX);
}
