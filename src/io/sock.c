/* sock.c: the socket and pipe transport under streams, and the one place that knows edge-triggered readiness. */
#include "io/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/runtime.h"
#include "internal.h"

struct cio__transport *(*cio__transport_wrap)(struct cio__transport *t);

static struct cio__sock *sock(struct cio__transport *t)
{
    return (struct cio__sock *)t;
}

bool cio__sock_probe_input(struct cio__sock *s)
{
    char b;
    if (s->fd < 0 || !s->watched)
        return true;
    ssize_t n;
    do {
        n = recv(s->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EAGAIN) {
        s->io.ready &= ~(CIO__IO_READ | CIO__IO_ERROR);
        return false;
    }
    return true;
}

/* Wait for `dir` after EAGAIN (or with no edge since). A descriptor closed during the wait fails, even if the
   wake-up came first: its number may already belong to something else. */
static int wait_dir(struct cio__sock *s, uint32_t dir)
{
    if (!s->watched)
        return s->fd < 0 ? -EBADF : -EAGAIN;
    int rc = cio__fd_wait_for(&s->io, dir, dir == CIO__IO_READ ? s->read_timeout : 0);
    if (s->fd < 0)
        return -EBADF;
    return rc;
}

static ssize_t sock_read(struct cio__transport *t, void *dst, size_t len, int flags)
{
    struct cio__sock *s = sock(t);
    for (;;) {
        ssize_t n = cio__sock_read_now(s, dst, len);
        if (n != -EAGAIN || (flags & CIO__T_NOWAIT))
            return n;
        int err = wait_dir(s, CIO__IO_READ);
        if (err < 0)
            return err;
    }
}

static int sock_wait_input(struct cio__transport *t)
{
    struct cio__sock *s = sock(t);
    if (s->fd < 0)
        return -EBADF;
    return cio__sock_input_edge(s) ? 0 : wait_dir(s, CIO__IO_READ);
}

static int sock_wait_output(struct cio__transport *t)
{
    struct cio__sock *s = sock(t);
    if (s->fd < 0)
        return -EBADF;
    return cio__sock_may_write(s) ? 0 : wait_dir(s, CIO__IO_WRITE);
}

static ssize_t sock_writev(struct cio__transport *t, const struct iovec *iov, int cnt, int flags)
{
    struct cio__sock *s = sock(t);
    for (;;) {
        ssize_t n = cio__sock_writev_now(s, iov, cnt);
        if (n != -EAGAIN || (flags & CIO__T_NOWAIT))
            return n;
        int err = wait_dir(s, CIO__IO_WRITE);
        if (err < 0)
            return err;
    }
}

static ssize_t sock_sendfile(struct cio__transport *t, int file_fd, off_t *offset, size_t count, int flags)
{
    struct cio__sock *s = sock(t);
    for (;;) {
        if (s->fd < 0)
            return -EBADF;
        if (cio__sock_may_write(s)) {
            /* One call at most 1 GiB: sendfile's own ceiling is just under 2 GiB. */
            ssize_t n = sendfile(s->fd, file_fd, offset, count < ((size_t)1 << 30) ? count : (size_t)1 << 30);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            s->io.ready &= ~(CIO__IO_WRITE | CIO__IO_ERROR);
        }
        if (flags & CIO__T_NOWAIT)
            return -EAGAIN;
        int err = wait_dir(s, CIO__IO_WRITE);
        if (err < 0)
            return err;
    }
}

/* Forget the descriptor and close it; tasks waiting on it wake with -EBADF. */
static void release_fd(struct cio__sock *s)
{
    if (s->watched)
        cio__fd_close(&s->io);
    s->watched = false;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static int sock_shutdown(struct cio__transport *t, int flags)
{
    (void)flags;
    struct cio__sock *s = sock(t);
    if (s->shut)
        return 0;
    if (s->fd < 0)
        return -EBADF;
    s->shut = true;
    if (s->kind == CIO__SOCK_SOCKET)
        return shutdown(s->fd, SHUT_WR) < 0 ? -errno : 0;
    release_fd(s); /* a pipe's writer ends the stream by closing */
    return 0;
}

static void sock_close(struct cio__transport *t, bool abort)
{
    struct cio__sock *s = sock(t);
    if (abort && s->kind == CIO__SOCK_SOCKET && s->fd >= 0) {
        /* Linger 0: close sends a reset and drops unsent data. Harmless on a Unix socket. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    release_fd(s);
}

static const struct cio__transport_ops sock_ops = {
    .name = "socket",
    .read = sock_read,
    .writev = sock_writev,
    .wait_input = sock_wait_input,
    .wait_output = sock_wait_output,
    .shutdown = sock_shutdown,
    .sendfile = sock_sendfile,
    .close = sock_close,
};

/* The poller saw the descriptor: wake the waiting tasks, then tell the stream (output may go, input came). */
static void sock_ready(struct cio__io_watch *w, uint32_t revents)
{
    struct cio__sock *s = cio__container_of(w, struct cio__sock, io.watch);
    cio__fd_note(&s->io, revents);
    cio__stream_sock_ready(s, revents); /* last: it may free the stream */
}

int cio__sock_init(struct cio__sock *s, int fd, enum cio__sock_kind kind)
{
    int rc = -EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -EBADF; /* not a descriptor: nothing to close */
    if (kind > CIO__SOCK_PIPE)
        goto fail;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        rc = -errno;
        goto fail;
    }
    if (kind == CIO__SOCK_AUTO) {
        struct stat st;
        kind = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? CIO__SOCK_SOCKET : CIO__SOCK_PIPE;
    }
    *s = (struct cio__sock){.base = {.ops = &sock_ops}, .fd = fd, .kind = (uint8_t)kind};
    rc = cio__fd_open(&s->io, fd);
    if (rc == 0) {
        s->watched = true;
        s->io.watch.ready = sock_ready;
    } else if (rc != -EPERM) { /* EPERM: a regular file, always ready, so never waited for */
        goto fail;
    }
    return 0;
fail:
    close(fd);
    return rc;
}
