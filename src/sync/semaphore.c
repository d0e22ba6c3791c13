/* semaphore.c: asyncio.Semaphore and BoundedSemaphore: permits handed to waiters in arrival order. */
#include <limits.h>

#include "sync/primitives.h"

struct sem_impl {
    uint32_t magic;
    /* Tasks inside cio_semaphore_acquire, woken or not. */
    uint32_t busy;
    /* Free permits. While tasks wait it is 0: a release hands its permit to the first of them instead. */
    int value;
    /* For a bounded semaphore, the initial value, which release may not exceed; -1 when unbounded. */
    int bound;
    struct cio__waitq waiters;
};

CIO__FITS(struct sem_impl, cio_semaphore);
CIO__HEADED(struct sem_impl);

static struct sem_impl *sem_live(const cio_semaphore *s)
{
    struct sem_impl *v = (struct sem_impl *)s;
    return v && v->magic == CIO__SEM_MAGIC ? v : NULL;
}

static int sem_init(cio_semaphore *s, unsigned value, bool bounded)
{
    if (!s || value > INT_MAX)
        return -EINVAL;
    struct sem_impl *v = (struct sem_impl *)s;
    *v = (struct sem_impl){.magic = CIO__SEM_MAGIC, .value = (int)value, .bound = bounded ? (int)value : -1};
    cio__waitq_init(&v->waiters);
    return 0;
}

int cio_semaphore_init(cio_semaphore *s, unsigned value)
{
    return sem_init(s, value, false);
}

int cio_bounded_semaphore_init(cio_semaphore *s, unsigned value)
{
    return sem_init(s, value, true);
}

int cio_semaphore_fini(cio_semaphore *s)
{
    return cio__sync_fini(s, CIO__SEM_MAGIC);
}

int cio_semaphore_acquire(cio_semaphore *s)
{
    if (!s)
        return -EINVAL;
    struct sem_impl *v = sem_live(s);
    if (!v)
        return CIO_EBADHANDLE;
    if (v->value > 0) {
        v->value--;
        return 0;
    }
    struct cio__wq_entry w;
    v->busy++;
    int rc = cio__waitq_wait(&v->waiters, &w);
    v->busy--;
    return rc;
}

int cio_semaphore_try_acquire(cio_semaphore *s)
{
    if (!s)
        return -EINVAL;
    struct sem_impl *v = sem_live(s);
    if (!v)
        return CIO_EBADHANDLE;
    if (v->value == 0)
        return -EAGAIN;
    v->value--;
    return 0;
}

int cio_semaphore_release(cio_semaphore *s)
{
    if (!s)
        return -EINVAL;
    struct sem_impl *v = sem_live(s);
    if (!v)
        return CIO_EBADHANDLE;
    /* A waiter implies value 0, and a bounded semaphore with a waiter has every permit out: handing one over
       can never exceed the bound. */
    if (cio__waitq_wake_one(&v->waiters, 0, NULL))
        return 0;
    if (v->bound >= 0 && v->value >= v->bound)
        return CIO_EOVERRELEASE;
    if (v->value == INT_MAX)
        return -EOVERFLOW;
    v->value++;
    return 0;
}

int cio_semaphore_value(const cio_semaphore *s)
{
    struct sem_impl *v = sem_live(s);
    return v ? v->value : CIO_EBADHANDLE;
}

bool cio_semaphore_locked(const cio_semaphore *s)
{
    struct sem_impl *v = sem_live(s);
    return v && v->value == 0;
}
