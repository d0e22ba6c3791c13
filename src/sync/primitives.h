/* primitives.h: what the files of src/sync share: handle magic numbers and the lock's insides (for conditions). */
#ifndef CIO_SYNC_PRIMITIVES_H
#define CIO_SYNC_PRIMITIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cio/sync.h"
#include "core/waitq.h"
#include "internal.h"

/* Stamped on init, spoiled on fini, so a use after fini (or of storage never initialised) fails cleanly. */
#define CIO__LOCK_MAGIC    0x6c6f636bu /* "lock" */
#define CIO__EVENT_MAGIC   0x65766e74u /* "evnt" */
#define CIO__COND_MAGIC    0x636f6e64u /* "cond" */
#define CIO__SEM_MAGIC     0x73656d61u /* "sema" */
#define CIO__BARRIER_MAGIC 0x62617272u /* "barr" */
#define CIO__QUEUE_MAGIC   0x71756575u /* "queu" */
#define CIO__SYNC_DEAD     0xdeadbeefu

/* Check at compile time that an implementation struct fits the caller's opaque storage. */
#define CIO__FITS(impl, blob)                                              \
    _Static_assert(sizeof(impl) <= sizeof(blob), "grow " #blob ".opaque"); \
    _Static_assert(_Alignof(impl) <= _Alignof(blob), "align " #blob ".opaque")

/* Every primitive's implementation starts with these two fields. */
struct cio__sync_head {
    uint32_t magic;
    /* Tasks inside a waiting call on it, woken or not: fini refuses while any is. */
    uint32_t busy;
};

/* Check that an implementation starts with the shared head. */
#define CIO__HEADED(impl)                                                                           \
    _Static_assert(offsetof(impl, magic) == offsetof(struct cio__sync_head, magic), "magic first"); \
    _Static_assert(offsetof(impl, busy) == offsetof(struct cio__sync_head, busy), "busy second")

/* The one fini of every primitive: -EINVAL for NULL, CIO_EBADHANDLE unless live with `magic`, -EBUSY while
   tasks are inside it; else the handle is spoiled. */
static inline int cio__sync_fini(void *impl, uint32_t magic)
{
    struct cio__sync_head *h = impl;
    if (!h)
        return -EINVAL;
    if (h->magic != magic)
        return CIO_EBADHANDLE;
    if (h->busy)
        return -EBUSY;
    h->magic = CIO__SYNC_DEAD;
    return 0;
}

struct cio__lock_impl {
    uint32_t magic;
    /* Tasks inside cio_lock_acquire, woken or not: fini refuses while any is. */
    uint32_t busy;
    bool locked;
    /* The holder; NULL when taken outside a task (try_acquire from a callback). */
    cio_task *owner;
    struct cio__waitq waiters;
};

/* The lock behind `l` if it is live, else NULL. */
struct cio__lock_impl *cio__lock_live(cio_lock *l);

/* Whether the running task (NULL outside tasks) holds the live lock `k`. */
static inline bool cio__lock_held_by_current(const struct cio__lock_impl *k)
{
    return k->locked && k->owner == cio_current();
}

/* The number of tasks queued on `q` (O(n): only for counts that are rarely needed). */
static inline size_t cio__waitq_len(const struct cio__waitq *q)
{
    size_t n = 0;
    for (const struct cio__list *p = q->waiters.next; p != &q->waiters; p = p->next)
        n++;
    return n;
}

#endif
