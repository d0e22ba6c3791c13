/* waitq.h: FIFO queues of parked tasks, the building block of locks, events, semaphores and queues. */
#ifndef CIO_CORE_WAITQ_H
#define CIO_CORE_WAITQ_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/*
 * A wait queue holds tasks parked in FIFO order. Waking takes the first waiter off the queue and makes it ready
 * with a result; from that moment its wait has succeeded, even if it is cancelled before it runs (the cancel is
 * seen by its next wait). So a wake-up is never lost and never given twice: a primitive that hands a permit or
 * an item to a waiter along with the wake-up can count on the waiter having it.
 *
 * A waiter cancelled while still queued is taken off the queue and its wait returns the cancellation error.
 */
struct cio__waitq {
    struct cio__list waiters;
};

struct cio__wq_entry {
    struct cio__list link;
    struct cio_task *task;
    /* What the waker handed over with the wake-up (an item, a permit count, ...). */
    void *data;
    /* The result the waker gave; valid when the wait returned 0. */
    int result;
};

void cio__waitq_init(struct cio__waitq *q);
static inline bool cio__waitq_empty(const struct cio__waitq *q)
{
    return cio__list_empty(&q->waiters);
}

/*
 * Park the running task on `q` until it is woken (returns 0, e->result and e->data hold what the waker gave) or
 * its wait is cancelled (returns -ECANCELED / -ETIMEDOUT, and `e` is off the queue). Called from a task only;
 * cancellation already pending returns at once without queueing.
 * Errors: CIO_ENOLOOP, CIO_ENOTASK.
 */
int cio__waitq_wait(struct cio__waitq *q, struct cio__wq_entry *e);

/* The first waiter, without waking it (its entry stays queued), or NULL. Inline: primitives ask on every
   operation whether anyone waits. */
static inline struct cio__wq_entry *cio__waitq_first(struct cio__waitq *q)
{
    if (cio__list_empty(&q->waiters))
        return NULL;
    return cio__container_of(q->waiters.next, struct cio__wq_entry, link);
}

/* Wake the first waiter with `result` and `data`; false if there was none. */
bool cio__waitq_wake_one(struct cio__waitq *q, int result, void *data);

/* Wake every waiter with `result`; returns how many. */
size_t cio__waitq_wake_all(struct cio__waitq *q, int result);

/* Wake this particular queued entry (for primitives that choose whom to wake, e.g. by priority). */
void cio__waitq_wake_entry(struct cio__wq_entry *e, int result, void *data);

#endif
