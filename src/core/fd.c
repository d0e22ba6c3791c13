/* fd.c: readiness waits on file descriptors, edge-triggered, one waiter per direction. */
#include "core/fd.h"

#include "core/runtime.h"

/* Wake a task parked on a descriptor, first disarming the timer of a wait that had a timeout. */
static void wake(struct cio_task *t, int rc)
{
    if (t->timer.slot)
        cio__timer_disarm(t->loop, &t->timer);
    cio__unpark(t, rc);
}

void cio__fd_ready(struct cio__io_watch *w, uint32_t revents)
{
    cio__fd_note(cio__container_of(w, struct cio__fd, watch), revents);
}

void cio__fd_wake(struct cio__fd *f, uint32_t revents)
{
    if (f->reader && (revents & (CIO__IO_READ | CIO__IO_ERROR))) {
        struct cio_task *t = f->reader;
        f->reader = NULL;
        wake(t, 0);
    }
    if (f->writer && (revents & (CIO__IO_WRITE | CIO__IO_ERROR))) {
        struct cio_task *t = f->writer;
        f->writer = NULL;
        wake(t, 0);
    }
}

int cio__fd_open(struct cio__fd *f, int fd)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    *f = (struct cio__fd){
        .watch = {.fd = fd, .events = CIO__IO_READ | CIO__IO_WRITE | CIO__IO_EDGE, .ready = cio__fd_ready}};
    /* Until the poller says otherwise, assume both directions may be ready: the first call tries anyway. */
    f->ready = CIO__IO_READ | CIO__IO_WRITE;
    int rc = l->backend.ops->watch(&l->backend, &f->watch);
    f->open = rc == 0;
    return rc;
}

void cio__fd_close(struct cio__fd *f)
{
    if (!f->open)
        return;
    cio_loop *l = cio__tls_loop;
    l->backend.ops->unwatch(&l->backend, &f->watch);
    if (f->reader) {
        struct cio_task *t = f->reader;
        f->reader = NULL;
        wake(t, -EBADF);
    }
    if (f->writer) {
        struct cio_task *t = f->writer;
        f->writer = NULL;
        wake(t, -EBADF);
    }
    f->open = false;
}

static void unlink_reader(struct cio_task *t)
{
    struct cio__fd *f = t->wait_obj;
    f->reader = NULL;
    if (t->timer.slot)
        cio__timer_disarm(t->loop, &t->timer);
}

static void unlink_writer(struct cio_task *t)
{
    struct cio__fd *f = t->wait_obj;
    f->writer = NULL;
    if (t->timer.slot)
        cio__timer_disarm(t->loop, &t->timer);
}

/* A timed wait ran out: the task leaves the descriptor and gets the wait's error. */
static void timed_out(struct cio__timer *tm)
{
    struct cio_task *t = cio__container_of(tm, struct cio_task, timer);
    struct cio__fd *f = t->wait_obj;
    int err = -ETIMEDOUT;
    if (f->reader == t) {
        f->reader = NULL;
        err = CIO_EREADTIMEOUT;
    } else if (f->writer == t) {
        f->writer = NULL;
    }
    cio__unpark(t, err);
}

int cio__fd_wait(struct cio__fd *f, uint32_t dir)
{
    return cio__fd_wait_for(f, dir, 0);
}

int cio__fd_wait_for(struct cio__fd *f, uint32_t dir, int64_t timeout)
{
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    if (!f->open)
        return -EBADF;
    bool read = dir == CIO__IO_READ;
    struct cio_task **slot = read ? &f->reader : &f->writer;
    if (*slot)
        return -EBUSY; /* the bits stay: they are the waiting task's */
    /* The caller just saw EAGAIN, so an error edge seen before has been reported (or was transient, like an ICMP
       error on UDP): it is cleared with the direction, or the next wait would return at once, forever. */
    f->ready &= ~(dir | CIO__IO_ERROR);
    if (timeout > 0) {
        /* The task's own sleep timer: a task waits for one thing at a time, so it is free, and a timed wait
           allocates nothing. */
        t->timer.fire = timed_out;
        int64_t now = cio_now();
        if ((rc = cio__timer_arm(t->loop, &t->timer, timeout > INT64_MAX - now ? INT64_MAX : now + timeout)) < 0)
            return rc;
    }
    *slot = t;
    return cio__park(t, read ? unlink_reader : unlink_writer, f);
}
