/* combine.c: waiting on many tasks at once: gather, wait, as_completed, and wait_for. */
#include "core/runtime.h"

#include <string.h>

/* Few tasks need no allocation: their waiters live on the caller's stack. */
#define INLINE_WAITERS 16

/* State shared by one multi-task wait and the waiters it hangs on each task. */
struct multi {
    struct cio_task *self;
    struct cio__waiter *w;
    size_t n;
    size_t remaining;
    /* The owner is parked in this wait (so a notification may wake it). */
    bool parked;
    /* Wake the owner on every completion (wait, as_completed), or only on the last or a failure (gather). */
    int (*ready)(struct multi *m, struct cio_task *done);
    int mode;
    int first_err;
    /* as_completed: the indices of finished tasks not yet handed out, in finishing order. */
    size_t *order;
    size_t order_head, order_tail;
    struct cio__timer timer;
    bool timed_out;
    struct cio__waiter inline_w[INLINE_WAITERS];
};

static int validate(cio_task *const *tasks, size_t n, struct cio_task *self, bool joinable)
{
    if (n > 0 && !tasks)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        struct cio_task *t = tasks[i];
        if (!t)
            return -EINVAL;
        if (t->magic != CIO__TASK_MAGIC)
            return CIO_EBADHANDLE;
        if (t->loop != self->loop)
            return CIO_ENOTOWNER;
        if (t == self)
            return -EDEADLK;
        if (joinable && t->handle != CIO__H_OWNED)
            return CIO_EBADHANDLE;
    }
    /* Repeats, found in one pass by marking each task, then unmarking. */
    size_t i;
    for (i = 0; i < n && !tasks[i]->mark; i++)
        tasks[i]->mark = true;
    bool repeat = i < n;
    while (i-- > 0)
        tasks[i]->mark = false;
    return repeat ? -EINVAL : 0;
}

static void notify(struct cio__waiter *w)
{
    struct multi *m = w->data;
    m->remaining--;
    if (m->order)
        m->order[m->order_tail++] = (size_t)(w - m->w);
    if (m->ready(m, w->task) && m->parked) {
        m->parked = false;
        cio__unpark(m->self, 0);
    }
}

static void timer_fire(struct cio__timer *tm)
{
    struct multi *m = cio__container_of(tm, struct multi, timer);
    m->timed_out = true;
    if (m->parked) {
        m->parked = false;
        cio__unpark(m->self, 0);
    }
}

static void unpark_cancelled(struct cio_task *t)
{
    struct multi *m = t->wait_obj;
    m->parked = false;
}

static int multi_init(struct multi *m, struct cio_task *self, cio_task *const *tasks, size_t n)
{
    memset(m, 0, offsetof(struct multi, inline_w));
    m->self = self;
    m->n = n;
    m->w = n <= INLINE_WAITERS ? m->inline_w : cio__calloc(n, sizeof *m->w);
    if (!m->w)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        m->w[i] = (struct cio__waiter){.notify = notify, .data = m, .task = tasks[i]};
        cio__list_init(&m->w[i].link);
    }
    return 0;
}

/* Hang a waiter on each task not yet done; returns how many were done already. */
static size_t multi_arm(struct multi *m)
{
    size_t done = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->w[i].task->state == CIO__T_DONE) {
            done++;
            if (m->order)
                m->order[m->order_tail++] = i;
        } else {
            cio__list_insert_tail(&m->w[i].task->done_waiters, &m->w[i].link);
            m->remaining++;
        }
    }
    return done;
}

static void multi_fini(struct multi *m)
{
    for (size_t i = 0; i < m->n; i++)
        cio__list_remove(&m->w[i].link);
    cio__timer_disarm(m->self->loop, &m->timer);
    if (m->w != m->inline_w)
        cio__free(m->w);
    cio__free(m->order);
}

/* Park until a notification says the condition holds; 0, or the owner's cancellation unless `nocancel`. */
static int multi_park(struct multi *m, bool nocancel)
{
    m->parked = true;
    int rc = nocancel ? cio__park_nocancel(m->self, m) : cio__park(m->self, unpark_cancelled, m);
    m->parked = false;
    return rc;
}

/* ------------------------------------------------------------------------------------------------ gather */

static int gather_ready(struct multi *m, struct cio_task *done)
{
    if (done->status < 0 && m->first_err == 0 && m->mode == CIO_GATHER_FIRST_ERROR) {
        m->first_err = done->status;
        return 1;
    }
    return m->remaining == 0;
}

static void cancel_pending(cio_task *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tasks[i]->state != CIO__T_DONE)
            cio_cancel(tasks[i], NULL);
}

int cio_gather(cio_task *const *tasks, size_t n, int *statuses, int mode)
{
    struct cio_task *self = cio__current();
    if (!self)
        return cio__tls_loop ? CIO_ENOTASK : CIO_ENOLOOP;
    if (mode != CIO_GATHER_ALL && mode != CIO_GATHER_FIRST_ERROR)
        return -EINVAL;
    int rc = validate(tasks, n, self, true);
    if (rc < 0)
        return rc;
    struct multi m;
    rc = multi_init(&m, self, tasks, n);
    if (rc < 0)
        return rc;
    m.ready = gather_ready;
    m.mode = mode;
    for (size_t i = 0; i < n; i++)
        tasks[i]->handle = CIO__H_JOINING;
    multi_arm(&m);
    if (mode == CIO_GATHER_FIRST_ERROR)
        for (size_t i = 0; i < n && !m.first_err; i++)
            if (tasks[i]->state == CIO__T_DONE && tasks[i]->status < 0)
                m.first_err = tasks[i]->status;
    int cancelled = 0;
    if (m.remaining > 0 && !m.first_err) {
        cancelled = cio__scope_check(self);
        if (!cancelled)
            cancelled = multi_park(&m, false);
    }
    /* The first error, or the caller's own cancellation, cancels the rest; their cleanup runs to its end. */
    if (m.remaining > 0) {
        cancel_pending(tasks, n);
        m.ready = gather_ready;
        m.mode = CIO_GATHER_ALL;
        while (m.remaining > 0)
            multi_park(&m, true);
    }
    multi_fini(&m);
    for (size_t i = 0; i < n; i++) {
        if (statuses)
            statuses[i] = tasks[i]->status;
        cio__task_release(tasks[i]);
    }
    if (cancelled)
        return cancelled;
    return mode == CIO_GATHER_FIRST_ERROR ? m.first_err : 0;
}

/* ------------------------------------------------------------------------------------------------ wait */

static int wait_ready(struct multi *m, struct cio_task *done)
{
    switch (m->mode) {
    case CIO_FIRST_COMPLETED:
        return 1;
    case CIO_FIRST_EXCEPTION:
        return done->status < 0 || m->remaining == 0;
    default:
        return m->remaining == 0;
    }
}

static int arm_timeout(struct multi *m, int64_t timeout)
{
    if (timeout == CIO_INFINITE)
        return 0;
    int64_t now = cio_now();
    m->timer.fire = timer_fire;
    return cio__timer_arm(m->self->loop, &m->timer, timeout > INT64_MAX - now ? INT64_MAX : now + timeout);
}

int cio_wait(cio_task *const *tasks, size_t n, int when, int64_t timeout)
{
    struct cio_task *self = cio__current();
    if (!self)
        return cio__tls_loop ? CIO_ENOTASK : CIO_ENOLOOP;
    if ((when != CIO_FIRST_COMPLETED && when != CIO_FIRST_EXCEPTION && when != CIO_ALL_COMPLETED) ||
        (timeout < 0 && timeout != CIO_INFINITE))
        return -EINVAL;
    int rc = validate(tasks, n, self, false);
    if (rc < 0)
        return rc;
    struct multi m;
    rc = multi_init(&m, self, tasks, n);
    if (rc < 0)
        return rc;
    m.ready = wait_ready;
    m.mode = when;
    size_t done = multi_arm(&m);
    bool satisfied = m.remaining == 0 || (when == CIO_FIRST_COMPLETED && done > 0);
    for (size_t i = 0; i < n && when == CIO_FIRST_EXCEPTION && !satisfied; i++)
        satisfied = tasks[i]->state == CIO__T_DONE && tasks[i]->status < 0;
    if (!satisfied && n > 0) {
        rc = cio__scope_check(self);
        if (rc == 0)
            rc = arm_timeout(&m, timeout);
        if (rc == 0)
            rc = multi_park(&m, false);
    }
    multi_fini(&m);
    if (rc < 0)
        return rc;
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += tasks[i]->state == CIO__T_DONE;
    return count;
}

/* ------------------------------------------------------------------------------------------------ as_completed */

struct cio_as_completed {
    struct multi m;
    cio_task **tasks;
    size_t handed;
};

static int any_ready(struct multi *m, struct cio_task *done)
{
    (void)m;
    (void)done;
    return 1;
}

int cio_as_completed_open(cio_as_completed **out, cio_task *const *tasks, size_t n, int64_t timeout)
{
    if (!out || (timeout < 0 && timeout != CIO_INFINITE))
        return -EINVAL;
    struct cio_task *self = cio__current();
    if (!self)
        return cio__tls_loop ? CIO_ENOTASK : CIO_ENOLOOP;
    int rc = validate(tasks, n, self, false);
    if (rc < 0)
        return rc;
    cio_as_completed *it = cio__calloc(1, sizeof *it);
    if (!it)
        return -ENOMEM;
    it->tasks = cio__malloc((n ? n : 1) * sizeof *it->tasks);
    if (!it->tasks || (rc = multi_init(&it->m, self, tasks, n)) < 0) {
        cio__free(it->tasks);
        cio__free(it);
        return rc < 0 ? rc : -ENOMEM;
    }
    it->m.order = cio__malloc((n ? n : 1) * sizeof *it->m.order);
    if (!it->m.order || (rc = arm_timeout(&it->m, timeout)) < 0) {
        multi_fini(&it->m);
        cio__free(it->tasks);
        cio__free(it);
        return rc < 0 ? rc : -ENOMEM;
    }
    if (n)
        memcpy(it->tasks, tasks, n * sizeof *tasks);
    it->m.ready = any_ready;
    multi_arm(&it->m);
    *out = it;
    return 0;
}

int cio_as_completed_next(cio_as_completed *it, cio_task **task)
{
    if (!it || !task)
        return -EINVAL;
    struct multi *m = &it->m;
    if (m->self != cio__current())
        return CIO_ENOTOWNER;
    if (it->handed == m->n)
        return 0;
    while (m->order_head == m->order_tail) {
        if (m->timed_out)
            return -ETIMEDOUT;
        int rc = cio__scope_check(m->self);
        if (rc == 0)
            rc = multi_park(m, false);
        if (rc < 0)
            return rc;
    }
    *task = it->tasks[m->order[m->order_head++]];
    it->handed++;
    return 1;
}

void cio_as_completed_close(cio_as_completed *it)
{
    if (!it)
        return;
    multi_fini(&it->m);
    cio__free(it->tasks);
    cio__free(it);
}

/* ------------------------------------------------------------------------------------------------ wait_for */

int cio_wait_for(cio_task *t, int64_t timeout)
{
    if (timeout == CIO_INFINITE)
        return cio_join(t);
    if (timeout < 0)
        return -EINVAL;
    if (!t)
        return -EINVAL;
    if (t->magic != CIO__TASK_MAGIC || t->handle != CIO__H_OWNED)
        return CIO_EBADHANDLE;
    cio_scope s;
    int rc = cio_timeout_begin(&s, timeout);
    if (rc < 0) {
        /* No deadline could be set (no memory): the handle is still released, as promised. */
        cio_cancel(t, NULL);
        cio_join(t);
        return rc;
    }
    int status = cio_join(t);
    rc = cio_scope_end(&s);
    return rc == -ETIMEDOUT ? -ETIMEDOUT : status;
}
