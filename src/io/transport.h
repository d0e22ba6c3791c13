/* transport.h: what a stream reads and writes through: a socket or pipe, TLS over one, or a test's wrapper. */
#ifndef CIO_IO_TRANSPORT_H
#define CIO_IO_TRANSPORT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cio/io.h"
#include "core/fd.h"

/*
 * A transport is a table of calls that may suspend the calling task, in the manner of redis's ConnectionType and
 * curl's connection filters: the stream above keeps the buffers, limits and back-pressure and never asks what
 * it talks to. Calls, not readiness callbacks, so that an io_uring transport fits by submitting an operation and
 * waiting for its completion behind the same table. Transports stack: TLS runs over the socket transport through
 * that transport's own calls (with CIO__T_NOWAIT), so the rules of edge-triggered readiness live in sock.c only.
 *
 * Every call returns a count or 0 as said, or a negative error: -EBADF once the descriptor is closed, the
 * caller's cancellation, CIO_EREADTIMEOUT when the read timeout cut a wait for input short, or the system's
 * and TLS's own errors. With CIO__T_NOWAIT a call that would wait returns -EAGAIN instead; the stream's
 * background flush and the TLS session below it never wait.
 */
enum {
    /* Return -EAGAIN instead of waiting. */
    CIO__T_NOWAIT = 1,
    /* finish: another task is in a read, so the transport must not read (TLS: the peer's close_notify). */
    CIO__T_NOREAD = 2,
};

struct cio__transport;

struct cio__transport_ops {
    const char *name;
    /* Read into `dst`: the count (> 0), 0 at the end of the stream, or an error. */
    ssize_t (*read)(struct cio__transport *t, void *dst, size_t len, int flags);
    /* Write from `iov`: the count written (> 0 when len > 0: a waiting call waits for room first), or an error. */
    ssize_t (*writev)(struct cio__transport *t, const struct iovec *iov, int cnt, int flags);
    /* Wait until a read may make progress without waiting (input, the end, an error): the stream gives back an
       empty read buffer for the wait and reads after it. Returns 0 or an error. */
    int (*wait_input)(struct cio__transport *t);
    /* Wait until a write may make progress (what a transport above needs when its read must write). */
    int (*wait_output)(struct cio__transport *t);
    /* End this side's output (half-close): shutdown(SHUT_WR), closing a pipe, TLS's close_notify. 0 or an error. */
    int (*shutdown)(struct cio__transport *t, int flags);
    /* What must happen before the descriptor closes (TLS: close_notify, then the peer's, or its end): 0 when
       nothing is owed or it is done, or an error. May be NULL: nothing is ever owed. */
    int (*finish)(struct cio__transport *t, int flags);
    /* Whether input is buffered inside the transport (TLS records read but not yet returned). May be NULL. */
    bool (*pending)(const struct cio__transport *t);
    /* Send `count` bytes of `file_fd` from `*offset` (advanced): the count (0 at the file's end), or an error.
       NULL when the transport cannot (TLS): the stream copies through memory instead. */
    ssize_t (*sendfile)(struct cio__transport *t, int file_fd, off_t *offset, size_t count, int flags);
    /* Free the transport and what is below it, closing the descriptor (the socket's memory is its stream's);
       with `abort`, a TCP reset. Tasks waiting in a call wake with -EBADF. */
    void (*close)(struct cio__transport *t, bool abort);
    /* A write cut short (-EAGAIN) must be repeated with the same bytes (OpenSSL's rule): the stream then sends
       only from its own buffer, never straight from the caller's memory. */
    bool copy_writes;
};

/* A transport that runs over another keeps its `lower` in its own struct: the socket at the bottom, one per
   connection, carries no pointer it would never use. */
struct cio__transport {
    const struct cio__transport_ops *ops;
};

/* ------------------------------------------------------------------------------------------------ sockets */

/* What a descriptor is; it decides how shutdown half-closes and how abort closes. */
enum cio__sock_kind {
    /* Ask fstat: a socket if S_ISSOCK, else a pipe (or anything else that is read and written whole). */
    CIO__SOCK_AUTO = 0,
    /* Shutdown is shutdown(SHUT_WR); writes use send(MSG_NOSIGNAL); abort sets SO_LINGER 0 (a TCP reset). */
    CIO__SOCK_SOCKET,
    /* Shutdown closes the descriptor; writes use write(2), so a closed reader raises SIGPIPE unless the
       program ignores it (then they fail with -EPIPE). */
    CIO__SOCK_PIPE,
};

/*
 * The bottom of every stack: a descriptor, non-blocking, registered with the loop's poller for both directions,
 * edge-triggered. A call first tries the system call, unless no edge has come since the descriptor was last
 * found empty (then it waits without asking the kernel to say EAGAIN).
 */
struct cio__sock {
    struct cio__transport base;
    int fd;
    uint8_t kind;
    /* Registered with the poller (a regular file cannot be, and never blocks). */
    bool watched;
    /* shutdown has run (a second is a no-op). */
    bool shut;
    struct cio__fd io;
    /* Bounds every wait for input (0: none): CIO_EREADTIMEOUT when no input came for that long. */
    int64_t read_timeout;
};

/* What the socket tells the stream that embeds it after each readiness edge, once waiting tasks are woken (the
   background flush, parked connections): every socket transport is a stream's, so this is a call, not a pointer
   kept in each connection (stream.c). */
void cio__stream_sock_ready(struct cio__sock *s, uint32_t revents);

/* Make `s` (the caller's memory: a stream embeds its socket) the socket transport on `fd`, made non-blocking;
   fstat decides CIO__SOCK_AUTO. It owns `fd` from then on, even on failure, which closes it; its close op
   closes the descriptor and leaves the memory to the caller. Errors: -EBADF not a descriptor; -EINVAL;
   -ENOMEM; CIO_ENOLOOP. */
int cio__sock_init(struct cio__sock *s, int fd, enum cio__sock_kind kind);

/* Ask the kernel (one recv with MSG_PEEK) whether a read would find bytes, the end or an error now: true if so;
   false clears the input edge, so that the poller's next edge is the first news of input. */
bool cio__sock_probe_input(struct cio__sock *s);

/* Whether an input edge came since the descriptor was last found empty (bytes, the end or an error almost
   surely wait; see cio__stream_input_ready). */
static inline bool cio__sock_input_edge(const struct cio__sock *s)
{
    return !s->watched || (s->io.ready & (CIO__IO_READ | CIO__IO_ERROR | CIO__IO_HUP));
}

/* Whether a write could make progress without a system call saying EAGAIN first. */
static inline bool cio__sock_may_write(const struct cio__sock *s)
{
    return !s->watched || (s->io.ready & (CIO__IO_WRITE | CIO__IO_ERROR));
}

/*
 * The socket's read and write that never wait: the count, 0 at the end (read), -EAGAIN, or an error. They are
 * sock.c's calls with CIO__T_NOWAIT, inline because a stream whose transport is its own socket calls them
 * directly on its hot path; sock.c's calls add the waits. A closed socket is no longer watched, so its system
 * call says EBADF.
 */
static inline ssize_t cio__sock_read_now(struct cio__sock *s, void *dst, size_t len)
{
    for (;;) {
        /* No edge since the descriptor was last found empty: say EAGAIN without asking the kernel (one read
           syscall in five was that, in the echo benchmark). */
        if (!cio__sock_input_edge(s))
            return -EAGAIN;
        /* recv on sockets: a shorter path through the kernel than read's file layer. */
        ssize_t n = s->kind == CIO__SOCK_SOCKET ? recv(s->fd, dst, len, 0) : read(s->fd, dst, len);
        if (n > 0) {
            /* A short read emptied the kernel's buffer: more data comes with a new edge. The end may have been
               reported already, so a hang-up seen once keeps reads going to the kernel (HUP is never cleared). */
            if ((size_t)n < len && s->kind == CIO__SOCK_SOCKET)
                s->io.ready &= ~CIO__IO_READ;
            return n;
        }
        if (n == 0)
            return 0;
        int err = -errno;
        if (err == -EINTR)
            continue;
        if (err == -EAGAIN)
            s->io.ready &= ~(CIO__IO_READ | CIO__IO_ERROR);
        return err;
    }
}

/* One writev (send or sendmsg on sockets, so a gone peer gives -EPIPE rather than SIGPIPE). */
static inline ssize_t cio__sock_writev_now(struct cio__sock *s, const struct iovec *iov, int cnt)
{
    if (!cio__sock_may_write(s))
        return -EAGAIN;
    ssize_t n;
    do {
        if (s->kind == CIO__SOCK_SOCKET && cnt == 1) {
            /* send spares the kernel sendmsg's copy of the message header: 4-5% of a 1 KiB echo round trip. */
            n = send(s->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        } else if (s->kind == CIO__SOCK_SOCKET) {
            struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
            n = sendmsg(s->fd, &m, MSG_NOSIGNAL);
        } else {
            n = writev(s->fd, iov, cnt);
        }
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    int err = -errno;
    if (err == -EAGAIN)
        s->io.ready &= ~(CIO__IO_WRITE | CIO__IO_ERROR); /* the next edge sets it again */
    return err;
}

/* ------------------------------------------------------------------------------------------------ TLS */

/*
 * Put a TLS session over `lower`, client of `server_name` or server per the context's role; `sock` is the socket at
 * the bottom of the stack (for the peer's address, and the unread bytes dropped at close). `unread` (`len` bytes,
 * copied) are the first the session reads: what the stream had buffered before the handshake.
 * Errors: -EINVAL, -ENOMEM, CIO_ETLS.
 */
int cio__tls_open(struct cio__transport **out, struct cio__transport *lower, struct cio__sock *sock, cio_tls_ctx *ctx,
                  const char *server_name, const void *unread, size_t len);

/* Run the handshake, waiting as needed. 0 or an error (a CIO_ETLS* code with cio_tls_last_error set). */
int cio__tls_handshake(struct cio__transport *t);

/* `t` as a TLS transport (TLS is always the top of a stack), or NULL. */
struct cio__tls *cio__tls_of(struct cio__transport *t);

/* ------------------------------------------------------------------------------------------------ tests */

/*
 * A hook for tests: when set, every stream's socket transport is handed to it at open, and the stream uses the
 * transport it returns (a wrapper that injects short reads, EAGAIN and errors). Set it before any loop opens.
 */
extern struct cio__transport *(*cio__transport_wrap)(struct cio__transport *t);

#endif
