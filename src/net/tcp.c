/* tcp.c: connecting stream sockets (TCP and Unix) to one address. */
#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/fd.h"
#include "core/runtime.h"
#include "io/stream.h"

/* A Unix listener with a full backlog makes connect fail with EAGAIN, and no poll event says when room
   appears (the socket is writable all along), so such a connect is retried after a sleep, doubling. */
#define UNIX_RETRY_FIRST CIO_MS(1)
#define UNIX_RETRY_MAX   CIO_MS(100)

/* Wait for a TCP connect in progress and fetch its outcome; `f` is registered for `fd`. */
static int wait_connected(struct cio__fd *f, int fd)
{
    for (;;) {
        int rc = cio__fd_wait(f, CIO__IO_WRITE);
        if (rc < 0)
            return rc;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            return -errno;
        if (err)
            return -err;
        /* No pending error: connected, unless the wake-up was for something else (then wait again). */
        struct sockaddr_storage peer;
        len = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
            return 0;
        if (errno != ENOTCONN)
            return -errno;
    }
}

static int connect_unix(int fd, const cio_addr *addr)
{
    int64_t pause = UNIX_RETRY_FIRST;
    while (connect(fd, &addr->u.sa, addr->len) < 0) {
        int err = -errno;
        if (err == -EINTR)
            continue;
        if (err != -EAGAIN)
            return err;
        if ((err = cio_sleep(pause)) < 0)
            return err;
        pause = pause * 2 > UNIX_RETRY_MAX ? UNIX_RETRY_MAX : pause * 2;
    }
    return 0;
}

int cio__connect_fd(const cio_addr *addr)
{
    int family = addr->u.sa.sa_family;
    if (family == AF_UNIX && addr->len <= offsetof(struct sockaddr_un, sun_path) + 1)
        return -EINVAL; /* unnamed, or an empty path */
    int rc = 0, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (family != AF_UNIX) {
        int one = 1;
        /* Small writes go out at once: streams buffer themselves, so Nagle only adds latency. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (family == AF_UNIX) {
        rc = connect_unix(fd, addr);
    } else if (connect(fd, &addr->u.sa, addr->len) < 0) {
        rc = -errno;
        if (rc == -EINPROGRESS || rc == -EINTR) {
            struct cio__fd f;
            rc = cio__fd_open(&f, fd);
            if (rc == 0) {
                rc = wait_connected(&f, fd);
                /* The stream registers the descriptor again; epoll forgets it here so that it can. */
                cio__fd_close(&f);
            }
        }
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int cio_connect_addr(cio_stream **out, const cio_addr *addr, const cio_connect_opts *opts)
{
    if (!out || cio__addr_check(addr) < 0)
        return -EINVAL;
    *out = NULL;
    const cio_connect_opts o = opts ? *opts : (cio_connect_opts){0};
    if (o.timeout < 0 || (o.tls && cio__tls_ctx_role(o.tls) != CIO_TLS_CLIENT))
        return -EINVAL;
    cio_scope scope;
    if (o.timeout > 0) {
        int rc = cio_timeout_begin(&scope, o.timeout);
        if (rc < 0)
            return rc;
    }
    int rc = cio__connect_fd(addr);
    if (rc >= 0)
        rc = cio__connect_finish(out, rc, &o, o.server_name);
    if (o.timeout > 0) {
        int end = cio_scope_end(&scope);
        CIO_ASSERT(end != CIO_ESCOPEORDER);
    }
    return rc;
}

int cio__connect_finish(cio_stream **out, int fd, const cio_connect_opts *o, const char *server_name)
{
    cio_stream *s;
    int rc = cio__stream_open(&s, fd, &o->stream, CIO__SOCK_SOCKET);
    if (rc < 0)
        return rc;
    if (o->tls && (rc = cio_stream_start_tls(s, o->tls, server_name)) < 0) {
        cio_stream_abort(s);
        return rc;
    }
    *out = s;
    return 0;
}

int cio_open_unix_connection(cio_stream **out, const char *path, const cio_connect_opts *opts)
{
    cio_addr a;
    if (!out)
        return -EINVAL;
    *out = NULL;
    int rc = cio_addr_unix(&a, path);
    if (rc < 0)
        return rc;
    return cio_connect_addr(out, &a, opts);
}
