/* fd.h: waiting for a file descriptor to become readable or writable, for the I/O layer. */
#ifndef CIO_CORE_FD_H
#define CIO_CORE_FD_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"

/*
 * A descriptor registered with the loop's poller once, for both directions, edge-triggered. I/O tries the
 * system call first; on EAGAIN the caller clears the direction's ready bit and waits, and the next edge sets it
 * again and wakes the waiting task. One task may wait per direction (a reader and a writer).
 *
 *     while ((n = read(f->fd, buf, len)) < 0) {
 *         int err = -errno;
 *         if (err != -EAGAIN || (err = cio__fd_wait(f, CIO__IO_READ)) < 0)
 *             return err;
 *     }
 */
struct cio__fd {
    struct cio__io_watch watch;
    /* Readiness seen since the last EAGAIN, per direction (CIO__IO_READ / CIO__IO_WRITE / CIO__IO_ERROR). */
    uint32_t ready;
    /* Registered with this thread's loop, until cio__fd_close (the loop is the thread's: no pointer is kept, a
       connection's every byte counts). */
    bool open;
    struct cio_task *reader, *writer;
};

/* Register `fd` (non-blocking) with the current loop. Errors: CIO_ENOLOOP; the poller's (-ENOMEM, -EPERM for
   regular files, which are always ready). */
int cio__fd_open(struct cio__fd *f, int fd);

/* The poller's callback that cio__fd_open installs: note the edge, wake the waiting tasks. A user of the
   descriptor may install its own that calls this first (or cio__fd_note, the same inline). */
void cio__fd_ready(struct cio__io_watch *w, uint32_t revents);
void cio__fd_wake(struct cio__fd *f, uint32_t revents);
static inline void cio__fd_note(struct cio__fd *f, uint32_t revents)
{
    f->ready |= revents;
    if ((f->reader && (revents & (CIO__IO_READ | CIO__IO_ERROR))) ||
        (f->writer && (revents & (CIO__IO_WRITE | CIO__IO_ERROR))))
        cio__fd_wake(f, revents);
}

/* Forget the descriptor (does not close it). A task still waiting on it wakes with -EBADF. */
void cio__fd_close(struct cio__fd *f);

/*
 * Wait until `f` is ready for `dir` (CIO__IO_READ or CIO__IO_WRITE), clearing that ready bit first: call it
 * after the system call said EAGAIN. Returns 0 when an edge arrived (or an error condition: retry the call to
 * learn it), -EBUSY another task already waits in that direction, -EBADF closed meanwhile, or the caller's
 * cancellation.
 */
int cio__fd_wait(struct cio__fd *f, uint32_t dir);

/* cio__fd_wait bounded by `timeout` ns (> 0; 0 means none): when no edge came by then, the wait fails with
   CIO_EREADTIMEOUT for a read, -ETIMEDOUT for a write. */
int cio__fd_wait_for(struct cio__fd *f, uint32_t dir, int64_t timeout);

#endif
