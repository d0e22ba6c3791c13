/* stream.c: buffered byte streams over a transport: opening and closing them, the transport's edges, parked
 * streams and the read timeout. Reading is stream_read.c, writing stream_write.c; what the bytes travel through
 * (a socket, TLS) is the transport's (transport.h). */
#include "io/stream.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_LIMIT ((size_t)64 * 1024)
#define DEFAULT_HIGH  ((size_t)64 * 1024)
/* The most a close waits to send what is buffered. */
#define CLOSE_FLUSH_NS CIO_SEC(5)

static bool valid(const cio_stream *s)
{
    return cio__stream_valid(s);
}

static void park_disarm(cio_stream *s)
{
    if (s->park && s->park->timer.slot)
        cio__timer_disarm(cio__tls_loop, &s->park->timer);
}

void cio__stream_free(cio_stream *s)
{
    s->magic = CIO__STREAM_DEAD;
    park_disarm(s);
    cio__free(s->park);
    if (s->rpool)
        cio__iobuf_put(s->rbuf);
    else
        cio__free(s->rbuf);
    if (s->wpool)
        cio__iobuf_put(s->wbuf);
    else
        cio__free(s->wbuf);
    cio__free(s);
}

/* Close the transport stack and its descriptor (`abort`: a reset); tasks waiting in it wake with -EBADF. */
static void close_transport(cio_stream *s, bool abort)
{
    if (s->t) {
        s->t->ops->close(s->t, abort);
        s->t = NULL;
    }
}

/* The socket saw an edge: send what is buffered, since output must leave even while no task is writing (a server
   that answered and now waits for the next request), and wake a parked connection. */
void cio__stream_sock_ready(struct cio__sock *sock, uint32_t revents)
{
    cio_stream *s = cio__container_of(sock, cio_stream, sock);
    if ((revents & (CIO__IO_WRITE | CIO__IO_ERROR)) && cio__wbuffered(s) > 0 && !s->writing)
        (void)cio__stream_flush_now(s);
    if (s->on_input && (revents & (CIO__IO_READ | CIO__IO_ERROR | CIO__IO_HUP))) {
        void (*fn)(void *, int) = s->on_input;
        s->on_input = NULL;
        park_disarm(s);
        fn(s->owner, 0); /* last: it may free the stream */
    }
}

/* ------------------------------------------------------------------------------------------------ idle streams */

int cio_stream_set_read_timeout(cio_stream *s, int64_t timeout)
{
    if (!valid(s) || timeout < 0)
        return -EINVAL;
    s->sock.read_timeout = timeout;
    return 0;
}

int64_t cio_stream_read_timeout(const cio_stream *s)
{
    return valid(s) ? s->sock.read_timeout : -EINVAL;
}

int cio__stream_input_ready(cio_stream *s)
{
    if (s->closed || s->closing || cio__stream_no_fd(s) || !s->sock.watched)
        return -EBADF;
    if (cio__rbuffered(s) > 0 || (s->t->ops->pending && s->t->ops->pending(s->t)))
        return CIO__INPUT_BUFFERED;
    if (s->eof || s->rerr)
        return CIO__INPUT_END;
    /* The ready bit is cleared by a read that came up short (the socket emptied) or said EAGAIN; still set, the
       last read filled its buffer, and more is almost surely there. Asking the kernel (MSG_PEEK) would settle it
       but costs a system call per full read, which showed as 10% on 100 KiB echo. */
    return cio__sock_input_edge(&s->sock) ? CIO__INPUT_EDGE : CIO__INPUT_NONE;
}

bool cio__stream_probe_input(cio_stream *s)
{
    return cio__rbuffered(s) > 0 || cio__sock_probe_input(&s->sock);
}

void cio__stream_idle(cio_stream *s)
{
    cio__stream_rbuf_release(s);
    cio__stream_wbuf_release(s);
}

/* A parked stream's wait for input ran out. */
static void park_expired(struct cio__timer *tm)
{
    cio_stream *s = ((struct cio__park_timer *)tm)->stream;
    void (*fn)(void *, int) = s->on_input;
    s->on_input = NULL;
    if (fn)
        fn(s->owner, CIO_EREADTIMEOUT); /* last: it may free the stream */
}

/* The first parking with a timeout makes the timer; later ones re-arm it. */
static int park_arm(cio_stream *s, int64_t timeout)
{
    if (!s->park) {
        if (!(s->park = cio__malloc(sizeof *s->park)))
            return -ENOMEM;
        *s->park = (struct cio__park_timer){.timer = {.fire = park_expired}, .stream = s};
    }
    int64_t now = cio_now();
    return cio__timer_arm(cio__tls_loop, &s->park->timer, timeout > INT64_MAX - now ? INT64_MAX : now + timeout);
}

int cio__stream_on_input_timed(cio_stream *s, void (*fn)(void *owner, int why), int64_t timeout)
{
    park_disarm(s);
    if (fn && timeout > 0) {
        int rc = park_arm(s, timeout);
        if (rc < 0)
            return rc;
    }
    s->on_input = fn;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ open, close */

int cio__stream_open(cio_stream **out, int fd, const cio_stream_opts *opts, enum cio__sock_kind kind)
{
    cio_stream *s;
    if (out)
        *out = NULL;
    if (fd < 0)
        return -EBADF;
    size_t limit = opts && opts->limit ? opts->limit : DEFAULT_LIMIT;
    size_t high = opts && opts->high_water ? opts->high_water : DEFAULT_HIGH;
    size_t low = opts && opts->low_water ? opts->low_water : high / 4;
    if (!out || cio__stream_opts_check(opts) < 0) {
        close(fd);
        return -EINVAL;
    }
    if (!(s = cio__calloc(1, sizeof *s))) {
        close(fd);
        return -ENOMEM;
    }
    int rc = cio__sock_init(&s->sock, fd, kind); /* it owns fd now, and closed it if it failed */
    if (rc < 0) {
        cio__free(s);
        return rc;
    }
    s->magic = CIO__STREAM_MAGIC;
    s->limit = limit;
    s->high = high;
    s->low = low;
    s->rpool = limit <= CIO__IOBUF_SIZE;
    s->wpool = high <= CIO__IOBUF_SIZE;
    s->t = &s->sock.base;
    if (cio__transport_wrap)
        s->t = cio__transport_wrap(s->t);
    *out = s;
    return 0;
}

int cio__stream_opts_check(const cio_stream_opts *opts)
{
    size_t high = opts && opts->high_water ? opts->high_water : DEFAULT_HIGH;
    size_t low = opts && opts->low_water ? opts->low_water : high / 4;
    return low > high ? -EINVAL : 0;
}

int cio_stream_open_fd(cio_stream **out, int fd, const cio_stream_opts *opts)
{
    return cio__stream_open(out, fd, opts, CIO__SOCK_AUTO);
}

/* Close's flush: what the transport takes now and what it owes before closing (TLS: close_notify, and the peer's),
   then waits bounded by 5 s and by the caller's own scopes, so a cancelled task or an expired deadline sends only
   what fits at once (Trio's graceful-if-possible close). */
static int close_flush(cio_stream *s)
{
    int finish_flags = s->eof || s->rerr || s->reading ? CIO__T_NOREAD : 0;
    int (*finish)(struct cio__transport *, int) = s->t->ops->finish;
    int rc = cio__stream_flush_now(s);
    if (rc == 0 && finish)
        rc = finish(s->t, finish_flags | CIO__T_NOWAIT);
    if (rc != -EAGAIN)
        return rc;
    cio_scope sc;
    int begin = cio_timeout_begin(&sc, CLOSE_FLUSH_NS);
    if (begin < 0)
        return begin; /* not in a task: nothing can wait */
    s->writing = true;
    rc = cio__stream_flush_until(s, 0);
    if (rc == 0 && finish)
        rc = finish(s->t, finish_flags); /* a peer slow to answer our close_notify costs nothing that was sent */
    s->writing = false;
    (void)cio_scope_end(&sc);
    return rc;
}

int cio_stream_close(cio_stream *s)
{
    if (!s)
        return 0;
    if (!valid(s))
        return -EINVAL;
    if (s->closed || s->closing)
        return -EBADF;
    s->closing = true;
    s->on_input = NULL;
    park_disarm(s);
    int rc = s->werr;
    if (!rc && !cio__stream_no_fd(s)) {
        /* With another task suspended writing, the bytes it had queued are dropped: say so rather than 0. */
        if (s->writing)
            rc = !s->wshut && cio__wbuffered(s) > 0 ? -EBUSY : 0;
        else
            rc = close_flush(s);
        /* A peer that has ended the stream may be gone before our close_notify: nothing was lost. */
        if (s->eof && cio__wbuffered(s) == 0 && (rc == -EPIPE || rc == -ECONNRESET))
            rc = 0;
    }
    close_transport(s, false);
    if (s->reading || s->writing)
        s->closed = true; /* a suspended call frees it on its way out */
    else
        cio__stream_free(s);
    return rc;
}

void cio_stream_abort(cio_stream *s)
{
    if (!valid(s) || s->closed)
        return;
    s->on_input = NULL;
    park_disarm(s);
    s->wstart = s->wend = 0;
    close_transport(s, true);
    if (s->reading || s->writing)
        s->closed = true;
    else
        cio__stream_free(s);
}

/* ------------------------------------------------------------------------------------------------ TLS */

int cio_stream_start_tls(cio_stream *s, cio_tls_ctx *ctx, const char *server_name)
{
    if (!valid(s) || !ctx)
        return -EINVAL;
    if (s->closed)
        return -EBADF;
    if (cio__tls_of(s->t) || s->sock.kind != CIO__SOCK_SOCKET || cio__stream_no_fd(s) || s->wshut || s->eof)
        return -EINVAL;
    if (s->reading || s->writing)
        return -EBUSY;
    s->reading = s->writing = true;
    int rc = s->werr ? s->werr : s->rerr;
    if (rc == 0)
        rc = cio__stream_flush_until(s, 0); /* what was written before the upgrade goes out in the clear */
    struct cio__transport *t = NULL;
    if (rc == 0)
        rc = cio__tls_open(&t, s->t, &s->sock, ctx, server_name, s->rbuf ? s->rbuf + s->rstart : NULL,
                           cio__rbuffered(s));
    if (rc == 0) {
        /* What the stream read but nobody consumed is the session's now: its first bytes. */
        s->rstart = s->rend = 0;
        cio__stream_rbuf_release(s);
        s->t = t;
        rc = cio__tls_handshake(t);
        /* A failed or interrupted handshake leaves nothing the stream could speak: every call reports it. */
        if (rc < 0) {
            s->rerr = s->werr = rc;
            s->wstart = s->wend = 0;
        }
    }
    s->reading = false;
    return (int)cio__stream_op_end(s, &s->writing, rc);
}

/* ------------------------------------------------------------------------------------------------ queries */

int cio_stream_fd(const cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    return s->sock.fd >= 0 ? s->sock.fd : -EBADF;
}

static int sock_name(const cio_stream *s, cio_addr *out, bool peer)
{
    if (!valid(s) || !out)
        return -EINVAL;
    if (s->sock.fd < 0)
        return -EBADF;
    if (s->sock.kind != CIO__SOCK_SOCKET)
        return -ENOTSUP;
    memset(out, 0, sizeof *out);
    out->len = sizeof out->u.ss;
    int rc = peer ? getpeername(s->sock.fd, &out->u.sa, &out->len) : getsockname(s->sock.fd, &out->u.sa, &out->len);
    return rc < 0 ? -errno : 0;
}

int cio_stream_peer_addr(const cio_stream *s, cio_addr *out)
{
    return sock_name(s, out, true);
}

int cio_stream_local_addr(const cio_stream *s, cio_addr *out)
{
    return sock_name(s, out, false);
}
