/* fd.c: readiness waits on file descriptors, edge-triggered, one waiter per direction. */
#include "core/fd.h"

#include "core/runtime.h"

static void fd_ready(struct cio__io_watch *w, uint32_t revents)
{
    struct cio__fd *f = cio__container_of(w, struct cio__fd, watch);
    f->ready |= revents;
    if (f->reader && (revents & (CIO__IO_READ | CIO__IO_ERROR))) {
        struct cio_task *t = f->reader;
        f->reader = NULL;
        cio__unpark(t, 0);
    }
    if (f->writer && (revents & (CIO__IO_WRITE | CIO__IO_ERROR))) {
        struct cio_task *t = f->writer;
        f->writer = NULL;
        cio__unpark(t, 0);
    }
}

int cio__fd_open(struct cio__fd *f, int fd)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    *f = (struct cio__fd){.watch = {.fd = fd, .events = CIO__IO_READ | CIO__IO_WRITE | CIO__IO_EDGE, .ready = fd_ready},
                          .loop = l};
    /* Until the poller says otherwise, assume both directions may be ready: the first call tries anyway. */
    f->ready = CIO__IO_READ | CIO__IO_WRITE;
    return l->backend.ops->watch(&l->backend, &f->watch);
}

void cio__fd_close(struct cio__fd *f)
{
    if (!f->loop)
        return;
    f->loop->backend.ops->unwatch(&f->loop->backend, &f->watch);
    if (f->reader) {
        struct cio_task *t = f->reader;
        f->reader = NULL;
        cio__unpark(t, -EBADF);
    }
    if (f->writer) {
        struct cio_task *t = f->writer;
        f->writer = NULL;
        cio__unpark(t, -EBADF);
    }
    f->loop = NULL;
}

static void unlink_reader(struct cio_task *t)
{
    struct cio__fd *f = t->wait_obj;
    f->reader = NULL;
}

static void unlink_writer(struct cio_task *t)
{
    struct cio__fd *f = t->wait_obj;
    f->writer = NULL;
}

int cio__fd_wait(struct cio__fd *f, uint32_t dir)
{
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    if (!f->loop)
        return -EBADF;
    bool read = dir == CIO__IO_READ;
    struct cio_task **slot = read ? &f->reader : &f->writer;
    if (*slot)
        return -EBUSY; /* the bits stay: they are the waiting task's */
    /* The caller just saw EAGAIN, so an error edge seen before has been reported (or was transient, like an ICMP
       error on UDP): it is cleared with the direction, or the next wait would return at once, forever. */
    f->ready &= ~(dir | CIO__IO_ERROR);
    *slot = t;
    return cio__park(t, read ? unlink_reader : unlink_writer, f);
}
