/* backend.h: the one small interface between the loop and a system poller (epoll now; io_uring and poll later). */
#ifndef CIO_BACKEND_H
#define CIO_BACKEND_H

#include <stdint.h>

/* Readiness bits, the backend's own so the loop never includes a poller's header. */
#define CIO__IO_READ  0x1u
#define CIO__IO_WRITE 0x2u
#define CIO__IO_ERROR 0x4u
/* The peer has closed its side (EOF or hang-up): a lasting condition, reported by one edge only. */
#define CIO__IO_HUP 0x10u
/* Interest flag: report readiness edges only (each change once), for descriptors read until EAGAIN. */
#define CIO__IO_EDGE 0x8u

/*
 * Interest in one file descriptor. The owner embeds it and gets `ready` called from the loop's poll with the
 * bits that became ready. `events` is the current interest; changing it goes through watch() again.
 */
struct cio__io_watch {
    int fd;
    uint32_t events;
    /* Whether the poller knows this fd (so the next watch() modifies rather than adds). */
    uint32_t registered;
    void (*ready)(struct cio__io_watch *w, uint32_t revents);
};

struct cio__backend;

struct cio__backend_ops {
    const char *name;
    int (*open)(struct cio__backend *b);
    void (*close)(struct cio__backend *b);
    /* Wait at most timeout_ns (-1: no limit, 0: don't block), then call `ready` on every watch that fired.
       Returns the number of events or a negative error code. */
    int (*poll)(struct cio__backend *b, int64_t timeout_ns);
    /* Start or change interest in w->fd for w->events (0 suspends interest). */
    int (*watch)(struct cio__backend *b, struct cio__io_watch *w);
    /* Forget the fd; call before closing it. */
    int (*unwatch)(struct cio__backend *b, struct cio__io_watch *w);
};

struct cio__backend {
    const struct cio__backend_ops *ops;
    int fd;
    /* Watches registered: the loop may block forever only if something could still wake it. */
    int nwatch;
};

extern const struct cio__backend_ops cio__backend_epoll;

/* The backend named by `name` (NULL or "" for the default, or the CIO_BACKEND environment variable). */
const struct cio__backend_ops *cio__backend_find(const char *name);

#endif
