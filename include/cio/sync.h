/* cio/sync.h: synchronisation between tasks of one loop: lock, event, condition, semaphores, barrier, queues. */
#ifndef CIO_SYNC_H
#define CIO_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "cio/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * asyncio.Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier, Queue, LifoQueue and PriorityQueue, for
 * the tasks of one loop (they are not thread-safe, like asyncio's; other threads use cio_call_soon_threadsafe).
 *
 * Rules shared by every primitive:
 * - Waiting. A call that waits is a suspension point, called from a task only (else CIO_ENOTASK / CIO_ENOLOOP).
 *   It returns -ECANCELED or -ETIMEDOUT if the task is cancelled or a deadline of its scopes passes, before or
 *   during the wait; the primitive is then exactly as if the call had never been made. When the call can finish
 *   at once (a free lock, a set event, a non-empty queue) it does so without suspending and without looking at
 *   cancellation, as asyncio does.
 * - Fairness. Waiters are served in the order they began to wait (FIFO). A lock or a semaphore permit, a queue
 *   item or a free queue slot is handed directly to the first waiter when it becomes available: a task that
 *   arrives later cannot take it first ("barging"), even if it runs before the woken waiter does.
 * - Wake-ups are never lost. Once a waiter has been woken, its wait has succeeded and it owns what it was handed
 *   (the lock, the permit, the item, its barrier index), even if it is cancelled before it gets to run: the
 *   cancellation is then seen by its next wait, not by this one. So no permit and no item is ever lost or given
 *   out twice; the caller must release (or process) what a successful call gave it.
 * - Storage. Lock, event, condition, semaphore and barrier live in the caller's storage (a struct of opaque
 *   words: on a task's stack or in the caller's structs), with `_init` / `_fini`. Queues are opened and closed.
 *   A function called on a primitive that was never initialised or is finalised returns CIO_EBADHANDLE (functions
 *   returning bool return false); NULL gives -EINVAL.
 * - `_fini` returns -EBUSY while a task is inside a waiting call on the primitive (including a task woken but
 *   not yet resumed); the primitive then stays usable.
 */

/* ------------------------------------------------------------------------------------------------ lock */

/* asyncio.Lock: a mutual exclusion lock, not reentrant, owned by the task that acquired it. */
typedef struct cio_lock {
    void *opaque[8];
} cio_lock;

/* Initialise an unlocked lock. Errors: -EINVAL NULL. */
int cio_lock_init(cio_lock *l);

/* Finalise. Errors: -EBUSY tasks wait for the lock. Finalising a held lock is allowed (its holder's release then
   gets CIO_EBADHANDLE). */
int cio_lock_fini(cio_lock *l);

/*
 * Acquire the lock, waiting while another task holds it. Waiters get the lock in arrival order: release hands it
 * straight to the first of them.
 * Returns 0: the calling task holds the lock and must release it.
 * Errors: -ECANCELED, -ETIMEDOUT (the lock was not taken); -EDEADLK the calling task already holds it;
 *         CIO_ENOTASK, CIO_ENOLOOP; CIO_EBADHANDLE.
 */
int cio_lock_acquire(cio_lock *l);

/* Take the lock if it is free, without waiting (also from a callback: the lock then has no owning task).
   Errors: -EAGAIN held; CIO_EBADHANDLE. */
int cio_lock_try_acquire(cio_lock *l);

/*
 * Release the lock; the first waiter, if any, holds it from now on.
 * Errors: -EPERM the lock is not held; CIO_ENOTOWNER another task holds it (stricter than asyncio, which lets any
 *         task release); CIO_EBADHANDLE.
 */
int cio_lock_release(cio_lock *l);

/* Whether the lock is held (by any task). */
bool cio_lock_locked(const cio_lock *l);

/* ------------------------------------------------------------------------------------------------ event */

/* asyncio.Event: a flag that tasks wait to see set. */
typedef struct cio_event {
    void *opaque[4];
} cio_event;

/* Initialise a clear event. Errors: -EINVAL NULL. */
int cio_event_init(cio_event *e);
/* Finalise. Errors: -EBUSY tasks wait on it. */
int cio_event_fini(cio_event *e);

/* Set the flag and wake every waiter (each wait returns 0, even if the flag is cleared before it runs).
   Returns 0; CIO_EBADHANDLE. */
int cio_event_set(cio_event *e);
/* Clear the flag. Returns 0; CIO_EBADHANDLE. */
int cio_event_clear(cio_event *e);
bool cio_event_is_set(const cio_event *e);

/* Wait until the flag is set (0 at once if it is). Errors: -ECANCELED, -ETIMEDOUT; CIO_ENOTASK; CIO_EBADHANDLE. */
int cio_event_wait(cio_event *e);

/* ------------------------------------------------------------------------------------------------ condition */

/* asyncio.Condition: tasks wait, holding a lock, until another task notifies them. */
typedef struct cio_condition {
    void *opaque[14];
} cio_condition;

/*
 * Initialise a condition on `lock` (borrowed: it must outlive the condition; it may be shared by several
 * conditions), or, when `lock` is NULL, on a lock of its own, reached with cio_condition_lock.
 * Errors: -EINVAL c NULL; CIO_EBADHANDLE `lock` is not an initialised lock.
 */
int cio_condition_init(cio_condition *c, cio_lock *lock);
/* Finalise (and the condition's own lock, if it has one). Errors: -EBUSY tasks are inside cio_condition_wait. */
int cio_condition_fini(cio_condition *c);

/* The condition's lock, to acquire and release with cio_lock_*; NULL for a bad handle. */
cio_lock *cio_condition_lock(cio_condition *c);

/*
 * Release the lock, wait to be notified, and acquire the lock again before returning, in every case (the
 * re-acquisition cannot be cut short by cancellation, as in asyncio). If the task is already cancelled, returns
 * its error at once without releasing the lock.
 * Returns 0 when notified (a waiter notified and then cancelled before it ran still returns 0).
 * Errors: -ECANCELED, -ETIMEDOUT (the lock is held again); -EPERM the calling task does not hold the lock;
 *         CIO_ENOTASK; CIO_EBADHANDLE.
 */
int cio_condition_wait(cio_condition *c);

/*
 * Wait until `pred(arg)` returns true: checks it first, then after each wake-up, with the lock held.
 * Returns 0 once it holds. Errors: those of cio_condition_wait; -EINVAL pred NULL.
 */
int cio_condition_wait_for(cio_condition *c, bool (*pred)(void *arg), void *arg);

/*
 * Wake the first `n` waiters (fewer if fewer wait), or all. The caller must hold the lock. The woken re-acquire
 * the lock in order once the caller releases it.
 * Returns the number woken. Errors: -EPERM the calling task does not hold the lock; CIO_EBADHANDLE.
 */
int cio_condition_notify(cio_condition *c, int n);
int cio_condition_notify_all(cio_condition *c);

/* ------------------------------------------------------------------------------------------------ semaphores */

/* asyncio.Semaphore and asyncio.BoundedSemaphore: a counter of permits. */
typedef struct cio_semaphore {
    void *opaque[6];
} cio_semaphore;

/* Initialise with `value` permits. A bounded semaphore refuses to be released above its initial value.
   Errors: -EINVAL s NULL or value > INT_MAX. */
int cio_semaphore_init(cio_semaphore *s, unsigned value);
int cio_bounded_semaphore_init(cio_semaphore *s, unsigned value);
/* Finalise. Errors: -EBUSY tasks wait on it. */
int cio_semaphore_fini(cio_semaphore *s);

/*
 * Take a permit, waiting while there is none. Waiters get permits in arrival order (release hands its permit
 * to the first waiter directly). Returns 0: the caller holds a permit and must release it.
 * Errors: -ECANCELED, -ETIMEDOUT (no permit taken); CIO_ENOTASK; CIO_EBADHANDLE.
 */
int cio_semaphore_acquire(cio_semaphore *s);
/* Take a permit without waiting. Errors: -EAGAIN none free (or tasks wait for one); CIO_EBADHANDLE. */
int cio_semaphore_try_acquire(cio_semaphore *s);

/* Give a permit back (to the first waiter, if any). Any task may release.
   Errors: CIO_EOVERRELEASE a bounded semaphore would exceed its initial value (nothing changes); CIO_EBADHANDLE;
   -EOVERFLOW the count would exceed INT_MAX. */
int cio_semaphore_release(cio_semaphore *s);

/* The free permits (>= 0), or CIO_EBADHANDLE. */
int cio_semaphore_value(const cio_semaphore *s);
/* Whether acquire would wait (asyncio's locked()). */
bool cio_semaphore_locked(const cio_semaphore *s);

/* ------------------------------------------------------------------------------------------------ barrier */

/* asyncio.Barrier: `parties` tasks wait for each other, then all go on together; the barrier is reusable. */
typedef struct cio_barrier {
    void *opaque[6];
} cio_barrier;

/* Errors: -EINVAL b NULL, parties 0 or above INT_MAX. */
int cio_barrier_init(cio_barrier *b, unsigned parties);
/* Finalise. Errors: -EBUSY tasks wait on it. */
int cio_barrier_fini(cio_barrier *b);

/*
 * Wait until `parties` tasks are waiting, then release them all and begin the next phase at once.
 * Returns the caller's arrival index in its phase, 0 .. parties-1, unique within the phase: the last to arrive
 * gets parties-1 (asyncio's "index"). A waiter cancelled before the phase fills leaves it (it no longer counts
 * as arrived, and later indices close the gap); one released and then cancelled keeps its index.
 * Errors: CIO_EBROKEN the barrier was aborted, or reset while the caller waited; -ECANCELED, -ETIMEDOUT;
 *         CIO_ENOTASK; CIO_EBADHANDLE.
 */
int cio_barrier_wait(cio_barrier *b);

/* Put the barrier in the broken state: current and future waits fail with CIO_EBROKEN until a reset.
   Returns 0; CIO_EBADHANDLE. */
int cio_barrier_abort(cio_barrier *b);
/* Back to the empty, unbroken state; current waiters fail with CIO_EBROKEN. Returns 0; CIO_EBADHANDLE. */
int cio_barrier_reset(cio_barrier *b);

/* The number of parties; the number of tasks waiting now (both -1 for a bad handle); whether it is broken. */
int cio_barrier_parties(const cio_barrier *b);
int cio_barrier_n_waiting(const cio_barrier *b);
bool cio_barrier_broken(const cio_barrier *b);

/* ------------------------------------------------------------------------------------------------ queues */

typedef struct cio_queue cio_queue;

enum cio_queue_order {
    CIO_QUEUE_FIFO = 0,     /* asyncio.Queue */
    CIO_QUEUE_LIFO = 1,     /* asyncio.LifoQueue */
    CIO_QUEUE_PRIORITY = 2, /* asyncio.PriorityQueue: the smallest first; equal ones in the order put */
};

typedef struct cio_queue_opts {
    /* The most items the queue holds; 0 (the default) means unbounded. */
    size_t maxsize;
    /* A cio_queue_order; FIFO by default. */
    int order;
    /* PRIORITY only: `a` comes out before `b` when cmp(a, b, cmp_arg) < 0. NULL: order by the `prio` given to
       cio_queue_put_prio (plain put uses 0). */
    int (*cmp)(const void *a, const void *b, void *cmp_arg);
    void *cmp_arg;
    /* Called for each item the queue discards (shutdown(immediate) and close), so that items it owned are not
       leaked; NULL to discard nothing but the pointers. */
    void (*drop)(void *item, void *drop_arg);
    void *drop_arg;
} cio_queue_opts;

/* Open a queue (opts NULL: unbounded FIFO). Errors: -EINVAL out NULL, bad order, cmp without PRIORITY; -ENOMEM. */
int cio_queue_open(cio_queue **out, const cio_queue_opts *opts);

/* Release the queue; items still in it go to the drop callback. NULL is ignored (returns 0).
   Errors: -EBUSY a task is inside put, get or join (the queue stays open). */
int cio_queue_close(cio_queue *q);

/*
 * Put an item (asyncio put): waits while a bounded queue is full. The item is handed straight to the first
 * waiting getter if there is one; a putter woken by a get has had its item accepted.
 * Returns 0: the item belongs to the queue (and counts for join until its task_done).
 * Errors: CIO_EQSHUTDOWN the queue is shut down (also when shut down while the caller waited: the item stays
 *         the caller's); -ECANCELED, -ETIMEDOUT (the item was not put); -ENOMEM growing the queue; -EINVAL;
 *         CIO_ENOTASK (only if it has to wait).
 */
int cio_queue_put(cio_queue *q, void *item);
/* Put with a priority (PRIORITY queues without cmp only; smaller comes out first), else -EINVAL. */
int cio_queue_put_prio(cio_queue *q, void *item, int prio);
/* Put without waiting. Errors: -EAGAIN full; CIO_EQSHUTDOWN; -ENOMEM; -EINVAL. */
int cio_queue_try_put(cio_queue *q, void *item);
int cio_queue_try_put_prio(cio_queue *q, void *item, int prio);

/*
 * Take the next item (FIFO, LIFO or priority order), waiting while the queue is empty.
 * Returns 0 and stores it in `*item`: it is the caller's now (call cio_queue_task_done once processed if
 * anyone joins the queue).
 * Errors: CIO_EQSHUTDOWN the queue is shut down and empty (a graceful shutdown lets getters drain it first);
 *         -ECANCELED, -ETIMEDOUT (nothing taken); -EINVAL; CIO_ENOTASK (only if it has to wait).
 */
int cio_queue_get(cio_queue *q, void **item);
/* Take without waiting. Errors: -EAGAIN empty; CIO_EQSHUTDOWN shut down and empty; -EINVAL. */
int cio_queue_try_get(cio_queue *q, void **item);

/* Items in the queue; its maxsize (0: unbounded); whether it is empty; whether it is full (never if unbounded). */
size_t cio_queue_qsize(const cio_queue *q);
size_t cio_queue_maxsize(const cio_queue *q);
bool cio_queue_empty(const cio_queue *q);
bool cio_queue_full(const cio_queue *q);

/*
 * Mark one item taken by get as processed. When every item ever put has been marked, join returns.
 * Errors: CIO_ETOOMANYDONE more calls than items put (nothing changes); -EINVAL.
 */
int cio_queue_task_done(cio_queue *q);

/* Wait until every item put has been marked done (0 at once if none is pending).
   Errors: -ECANCELED, -ETIMEDOUT; CIO_ENOTASK; -EINVAL. */
int cio_queue_join(cio_queue *q);

/*
 * Shut the queue down (asyncio 3.13): put fails with CIO_EQSHUTDOWN from now on and waiting putters wake with
 * it (keeping their items). Getters take what is left, then get CIO_EQSHUTDOWN, as do getters waiting on an
 * empty queue. With `immediate`, the items left are discarded at once (drop callback; each counts as done for
 * join) and every waiting getter wakes with CIO_EQSHUTDOWN. Shutting down again is allowed (immediate then
 * discards what is left). Returns 0; -EINVAL.
 */
int cio_queue_shutdown(cio_queue *q, bool immediate);
bool cio_queue_is_shutdown(const cio_queue *q);

#ifdef __cplusplus
}
#endif

#endif
