/* server.c: listening sockets, the accept loop, a task per connection, and graceful close. */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cio/sync.h"
#include "core/fd.h"
#include "core/runtime.h"
#include "io/stream.h"

#define SERVER_MAGIC    0x73727672u /* "srvr" */
#define DEFAULT_BACKLOG 511
/* Out of descriptors: accept sleeps this long, doubling up to the maximum, until one is free again. */
#define NOFD_PAUSE_FIRST CIO_MS(10)
#define NOFD_PAUSE_MAX   CIO_SEC(1)
/* asyncio's ssl_handshake_timeout. */
#define TLS_HANDSHAKE_DEFAULT CIO_SEC(60)
/* Concurrent TLS handshakes, by default: 128 of them hold about 5 MiB of OpenSSL's buffers. */
#define TLS_HANDSHAKES_DEFAULT 128

/* One connection; lives from accept until it is closed. */
struct conn {
    struct cio_server *srv;
    cio_stream *stream;
    /* The handler task (detached), valid while the conn is in srv->conns, which it leaves as its last act; NULL
       while the connection is parked (its handler returned CIO_CONN_KEEP, or a TLS client has not spoken yet)
       and no task runs for it. */
    cio_task *task;
    struct cio__list link;
    /* The TLS handshake is done and the handler has run: a task started for a parked connection skips them. */
    bool started;
    /* Parked past its timeout: the next task only closes it. */
    bool expired;
    /* Parked when the server began closing: its task only closes it, and cutting that short cancels no work. */
    bool idle_at_close;
    /* The per-connection storage (cio_server_opts.conn_state_size), allocated with the conn. */
    max_align_t state[];
};

struct cio_server {
    uint32_t magic;
    int fd;
    struct cio__fd lfd;
    cio_conn_fn fn;
    void *arg;
    cio_server_opts opts;
    cio_addr addr;
    /* The accept loop (joined by cio_server_close). */
    cio_task *acceptor;
    /* Turns for TLS handshakes (max_tls_handshakes). */
    cio_semaphore handshakes;
    /* Live connections, and their number. */
    struct cio__list conns;
    size_t count;
    /* cio_server_close has begun: handlers are not called again, parked connections are closed. */
    bool closing;
    /* Set each time a handler ends: wakes an accept loop at max_connections and a closing server. */
    cio_event changed;
    /* The descriptor shortage was reported already (once per server: a loaded server would repeat it). */
    bool nofd_logged;
    /* A socket file this server created, removed on close if it is still the same file. */
    bool unlink_path;
    dev_t path_dev;
    ino_t path_ino;
    struct cio__server_stats stats;
};

static int64_t handshake_timeout(const struct cio_server *srv)
{
    return srv->opts.tls_handshake_timeout ? srv->opts.tls_handshake_timeout : TLS_HANDSHAKE_DEFAULT;
}

/* The server's side of the handshake, bounded by the handshake timeout, with a turn of max_tls_handshakes. */
static int tls_accept(struct cio_server *srv, cio_stream *s)
{
    cio_scope sc;
    int rc = cio_timeout_begin(&sc, handshake_timeout(srv));
    if (rc < 0)
        return rc;
    if ((rc = cio_semaphore_acquire(&srv->handshakes)) == 0) {
        rc = cio_stream_start_tls(s, srv->opts.tls, NULL);
        cio_semaphore_release(&srv->handshakes);
    }
    int end = cio_scope_end(&sc);
    CIO_ASSERT(end != CIO_ESCOPEORDER);
    if (rc < 0) {
        srv->stats.tls_failed++;
        if (cio__tls_loop->debug) {
            cio_addr peer;
            char who[64] = "?";
            if (cio_stream_peer_addr(s, &peer) == 0)
                (void)cio_addr_format(&peer, who, sizeof who);
            cio__log(cio__tls_loop, "cio: server: TLS handshake with %s failed: %s (%s)", who, cio_strerror(rc),
                     cio_tls_last_error());
        }
    }
    return rc;
}

static void conn_wake(void *arg, int why);

/* The connection is gone: tell its owner (on_close), forget it, and tell an accept loop at max_connections or a
   closing server. Every connection that was counted ends here, once. */
static void conn_end(struct conn *c)
{
    struct cio_server *srv = c->srv;
    if (srv->opts.on_close)
        srv->opts.on_close(srv->opts.conn_state_size ? c->state : NULL, srv->arg);
    cio__list_remove(&c->link);
    srv->count--;
    cio_event_set(&srv->changed);
    cio__free(c);
}

/* How long a parked connection waits for its next input: keep_timeout, else the stream's read timeout. */
static int64_t park_timeout(struct conn *c)
{
    return c->srv->opts.keep_timeout > 0 ? c->srv->opts.keep_timeout : c->stream->sock.read_timeout;
}

static int conn_main(void *arg)
{
    struct conn *c = arg;
    struct cio_server *srv = c->srv;
    /* A connection accepted before the server began closing is served once, as it always was; a parked one that a
       closing server wakes is only closed. */
    bool first = !c->started;
    bool ok = !c->expired && (c->started || !srv->opts.tls || tls_accept(srv, c->stream) == 0);
    c->started = true;
    while (ok && (first || !srv->closing)) {
        first = false;
        int rc = srv->fn(c->stream, srv->arg);
        if (rc != CIO_CONN_KEEP || srv->closing || cio_check_cancel() < 0)
            break;
        int input = cio__stream_input_ready(c->stream);
        if (input < 0 || input == CIO__INPUT_END)
            break; /* closing, or the end (or a read error) was reached with nothing left: no next request */
        if (input == CIO__INPUT_BUFFERED && cio_yield() < 0)
            break; /* bytes the handler left: call it again after the loop's other work, so that one which never
                      consumes them cannot hold the loop */
        if (input == CIO__INPUT_NONE) {
            /* Park: this task ends, the stream waits alone, and conn_wake starts another for the next input. */
            if (cio__stream_on_input(c->stream, conn_wake, park_timeout(c)) < 0)
                break; /* no memory for the timer: close rather than keep it forever */
            c->task = NULL;
            srv->stats.parked++;
            cio__stream_idle(c->stream);
            return 0;
        }
        /* Input is there already: call the handler again in this task (after an edge, at once: its read makes
           progress or clears the edge). */
    }
    /* A cancelled handler's close flushes nothing (its waits fail at once) and still closes the descriptor. */
    (void)cio_stream_close(c->stream);
    conn_end(c);
    return 0;
}

static int conn_spawn(struct conn *c)
{
    int rc = cio_spawn(&c->task, conn_main, c, NULL);
    if (rc == 0)
        cio_detach(c->task);
    return rc;
}

/*
 * A parked connection's stream has input (or ended, or failed), its wait ran out (`why` CIO_EREADTIMEOUT: the
 * task only closes it), or the server is closing: give it a task again. If no task can be had, the connection is
 * dropped, as one that could not be accepted would be.
 */
static void conn_wake(void *arg, int why)
{
    struct conn *c = arg;
    if (why == CIO_EREADTIMEOUT) {
        c->expired = true;
        if (c->started)
            c->srv->stats.keep_expired++;
        else
            c->srv->stats.tls_failed++; /* a TLS client that never spoke */
    }
    if (conn_spawn(c) < 0) {
        c->task = NULL;
        cio_stream_abort(c->stream);
        conn_end(c);
    }
}

static void handle(struct cio_server *srv, int fd)
{
    if (srv->addr.u.sa.sa_family != AF_UNIX) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct conn *c = cio__malloc(sizeof *c + srv->opts.conn_state_size);
    if (!c) {
        close(fd);
        return;
    }
    *c = (struct conn){.srv = srv};
    memset(c->state, 0, srv->opts.conn_state_size);
    if (cio__stream_open(&c->stream, fd, &srv->opts.stream, CIO__SOCK_SOCKET) < 0) {
        cio__free(c);
        return;
    }
    c->stream->owner = c;
    (void)cio_stream_set_read_timeout(c->stream, srv->opts.read_timeout);
    cio__list_insert_tail(&srv->conns, &c->link);
    srv->count++;
    srv->stats.accepted++;
    /* A TLS connection waits for its first bytes (the ClientHello) parked, with no task and no TLS state, so that
       a client that connects and says nothing costs a few hundred bytes. */
    int64_t hello = srv->opts.tls ? handshake_timeout(srv) : 0;
    if (hello && !cio__stream_probe_input(c->stream) && cio__stream_on_input(c->stream, conn_wake, hello) == 0)
        return;
    if (conn_spawn(c) < 0) {
        c->task = NULL;
        cio_stream_abort(c->stream);
        conn_end(c);
    }
}

/* Sleep after running out of descriptors; the connection waits in the backlog meanwhile. */
static int nofd_pause(struct cio_server *srv, int err, int64_t *pause)
{
    if (!srv->nofd_logged) {
        srv->nofd_logged = true;
        cio__log(cio__tls_loop, "cio: server: accept: %s; pausing accepts until descriptors are free",
                 cio_strerror(err));
    }
    int rc = cio_sleep(*pause);
    *pause = *pause * 2 > NOFD_PAUSE_MAX ? NOFD_PAUSE_MAX : *pause * 2;
    return rc;
}

static int accept_main(void *arg)
{
    struct cio_server *srv = arg;
    int64_t pause = NOFD_PAUSE_FIRST;
    for (;;) {
        while (srv->opts.max_connections && srv->count >= srv->opts.max_connections) {
            cio_event_clear(&srv->changed);
            int rc = cio_event_wait(&srv->changed);
            if (rc < 0)
                return rc;
        }
        srv->stats.accept_calls++;
        int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            pause = NOFD_PAUSE_FIRST;
            handle(srv, fd);
            continue;
        }
        int rc, err = -errno;
        switch (err) {
        case -EAGAIN:
            rc = cio__fd_wait(&srv->lfd, CIO__IO_READ);
            break;
        case -EMFILE:
        case -ENFILE:
        case -ENOBUFS:
        case -ENOMEM:
            srv->stats.accept_nofd++;
            rc = nofd_pause(srv, err, &pause);
            break;
        case -EBADF:
        case -EINVAL:
        case -ENOTSOCK:
        case -EOPNOTSUPP:
        case -EFAULT:
            /* The listener itself is broken: nothing to retry. */
            cio__log(cio__tls_loop, "cio: server: accept: %s; no longer accepting", cio_strerror(err));
            return err;
        default:
            /* ECONNABORTED, EINTR, EPERM (a firewall), and the pending network errors Linux passes on
               (ENETDOWN, EPROTO, EHOSTUNREACH, ...): they concern one connection, not the listener. */
            rc = cio_check_cancel();
            break;
        }
        if (rc < 0)
            return rc;
    }
}

/* What every listening socket gets once it listens: its address, the loop's watch and the accept task. On failure
   the socket is left to the caller. */
static int server_finish(struct cio_server *srv)
{
    int rc;
    srv->addr.len = sizeof srv->addr.u.ss;
    if (getsockname(srv->fd, &srv->addr.u.sa, &srv->addr.len) < 0)
        return -errno;
    if ((rc = cio__fd_open(&srv->lfd, srv->fd)) < 0)
        return rc;
    cio_event_init(&srv->changed);
    cio_semaphore_init(&srv->handshakes,
                       srv->opts.max_tls_handshakes ? srv->opts.max_tls_handshakes : TLS_HANDSHAKES_DEFAULT);
    if ((rc = cio_spawn(&srv->acceptor, accept_main, srv, &(cio_spawn_opts){.name = "cio-accept"})) < 0) {
        cio_semaphore_fini(&srv->handshakes);
        cio_event_fini(&srv->changed);
        cio__fd_close(&srv->lfd);
        return rc;
    }
    srv->magic = SERVER_MAGIC;
    if (srv->opts.tls)
        cio__tls_ctx_ref(srv->opts.tls); /* the caller may free theirs while we serve */
    return 0;
}

/* Socket, options, bind, listen, and the accept task. `path` is set for a Unix socket file. */
static int server_open(cio_server **out, cio_conn_fn fn, void *arg, const cio_addr *addr, bool dual_stack,
                       const char *path, const cio_server_opts *opts)
{
    struct cio_server *srv = cio__calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->opts = opts ? *opts : (cio_server_opts){0};
    srv->fn = fn;
    srv->arg = arg;
    cio__list_init(&srv->conns);
    int family = addr->u.sa.sa_family, one = 1, zero = 0, rc;
    srv->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->fd < 0) {
        rc = -errno;
        goto fail_free;
    }
    if (family != AF_UNIX) {
        /* Bind over connections of an earlier server still in TIME_WAIT. */
        if (setsockopt(srv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            (srv->opts.reuse_port && setsockopt(srv->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
            (dual_stack && setsockopt(srv->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)) {
            rc = -errno;
            goto fail_close;
        }
    }
    if (path && path[0] != '@') {
        /* A socket file left by a server that died is in the way; asyncio removes it too. Only sockets. */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            (void)unlink(path);
    }
    if (bind(srv->fd, &addr->u.sa, addr->len) < 0 ||
        listen(srv->fd, srv->opts.backlog ? srv->opts.backlog : DEFAULT_BACKLOG) < 0) {
        rc = -errno;
        goto fail_close;
    }
    struct stat st;
    if (path && path[0] != '@' && stat(path, &st) == 0) {
        srv->unlink_path = true;
        srv->path_dev = st.st_dev;
        srv->path_ino = st.st_ino;
    }
    if ((rc = server_finish(srv)) < 0)
        goto fail_unlink;
    *out = srv;
    return 0;

fail_unlink:
    if (srv->unlink_path)
        (void)unlink(path);
fail_close:
    close(srv->fd);
fail_free:
    cio__free(srv);
    return rc;
}

static int check_call(cio_server **out, cio_conn_fn fn, const cio_server_opts *opts)
{
    if (!out || !fn ||
        (opts && (opts->backlog < 0 || cio__stream_opts_check(&opts->stream) < 0 || opts->tls_handshake_timeout < 0 ||
                  opts->keep_timeout < 0 || opts->read_timeout < 0 ||
                  (opts->tls && cio__tls_ctx_role(opts->tls) != CIO_TLS_SERVER))))
        return -EINVAL;
    *out = NULL;
    if (!cio__tls_loop)
        return CIO_ENOLOOP;
    if (!cio__current())
        return CIO_ENOTASK;
    return 0;
}

int cio_start_server(cio_server **out, cio_conn_fn fn, void *arg, const char *host, int port,
                     const cio_server_opts *opts)
{
    int rc = check_call(out, fn, opts);
    if (rc < 0)
        return rc;
    if (port < 0 || port > 65535)
        return -EINVAL;
    cio_addr a;
    if (host)
        return (rc = cio_addr_parse(&a, host, port)) < 0 ? rc : server_open(out, fn, arg, &a, false, NULL, opts);
    /* Every address: one IPv6 socket that takes IPv4 too (v4-mapped), or IPv4 alone where IPv6 is missing. */
    rc = cio_addr_parse(&a, "::", port);
    CIO_ASSERT(rc == 0);
    rc = server_open(out, fn, arg, &a, true, NULL, opts);
    if (rc == -EAFNOSUPPORT || rc == -EADDRNOTAVAIL) {
        rc = cio_addr_parse(&a, "0.0.0.0", port);
        CIO_ASSERT(rc == 0);
        rc = server_open(out, fn, arg, &a, false, NULL, opts);
    }
    return rc;
}

int cio_start_unix_server(cio_server **out, cio_conn_fn fn, void *arg, const char *path, const cio_server_opts *opts)
{
    int rc = check_call(out, fn, opts);
    if (rc < 0)
        return rc;
    cio_addr a;
    if ((rc = cio_addr_unix(&a, path)) < 0)
        return rc;
    return server_open(out, fn, arg, &a, false, path, opts);
}

int cio_server_addr(const cio_server *srv, cio_addr *out)
{
    if (!srv || !out || srv->magic != SERVER_MAGIC)
        return -EINVAL;
    *out = srv->addr;
    return 0;
}

void *cio_server_conn_state(const cio_stream *s)
{
    struct conn *c = cio__stream_valid(s) ? s->owner : NULL;
    return c && c->srv->opts.conn_state_size ? c->state : NULL;
}

size_t cio_server_connections(const cio_server *srv)
{
    return srv && srv->magic == SERVER_MAGIC ? srv->count : 0;
}

void cio__server_stats(const cio_server *srv, struct cio__server_stats *out)
{
    *out = srv->stats;
}

/* Wait until no handler runs. Returns 0 or the error that cut the wait short (the deadline, a cancel). */
static int wait_handlers(struct cio_server *srv)
{
    while (srv->count > 0) {
        cio_event_clear(&srv->changed);
        int rc = cio_event_wait(&srv->changed);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void stop_listening(struct cio_server *srv)
{
    cio__fd_close(&srv->lfd);
    close(srv->fd);
    srv->fd = -1;
    if (srv->unlink_path) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&srv->addr.u.ss;
        struct stat st;
        /* Only the file this server made: another server may have replaced it since. */
        if (stat(sun->sun_path, &st) == 0 && st.st_dev == srv->path_dev && st.st_ino == srv->path_ino)
            (void)unlink(sun->sun_path);
    }
}

int cio_start_server_fd(cio_server **out, cio_conn_fn fn, void *arg, int fd, const cio_server_opts *opts)
{
    int rc = check_call(out, fn, opts);
    if (rc < 0)
        return rc;
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (fd < 0)
        return -EINVAL;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return errno == ENOTSOCK ? -ENOTSOCK : -EINVAL;
    if (type != SOCK_STREAM)
        return -EINVAL;
    len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
        return -EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    struct cio_server *srv = cio__calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->opts = opts ? *opts : (cio_server_opts){0};
    srv->fn = fn;
    srv->arg = arg;
    cio__list_init(&srv->conns);
    srv->fd = fd;
    if ((rc = server_finish(srv)) < 0) {
        cio__free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

int cio_server_stop(cio_server *srv)
{
    if (!srv || srv->magic != SERVER_MAGIC)
        return -EINVAL;
    if (!cio__current())
        return CIO_ENOTASK;
    if (srv->fd < 0)
        return 0;
    cio_cancel(srv->acceptor, NULL);
    (void)cio_join(srv->acceptor);
    srv->acceptor = NULL;
    stop_listening(srv);
    return 0;
}

int cio_server_close(cio_server *srv, int64_t grace)
{
    if (!srv || srv->magic != SERVER_MAGIC)
        return -EINVAL;
    struct cio_task *self = cio__current();
    if (!self)
        return CIO_ENOTASK;
    for (struct cio__list *p = srv->conns.next; p != &srv->conns; p = p->next)
        if (cio__container_of(p, struct conn, link)->task == (cio_task *)self)
            return -EDEADLK; /* a handler would wait for itself */
    /* Stop accepting first: the accept task ends at its next wait, then the listener goes. */
    srv->closing = true;
    (void)cio_server_stop(srv);
    srv->magic = CIO__DEAD_MAGIC;
    /* Parked connections get a task again, which sees the server closing and closes them (flushing their output). */
    for (struct cio__list *p = srv->conns.next, *next; p != &srv->conns; p = next) {
        struct conn *c = cio__container_of(p, struct conn, link);
        next = p->next; /* conn_wake may drop this one */
        if (!c->task) {
            (void)cio__stream_on_input(c->stream, NULL, 0);
            c->expired = !c->started; /* a TLS client that has not spoken yet is not served */
            c->idle_at_close = true;
            conn_wake(c, 0);
        }
    }

    cio_scope s;
    int rc = cio_timeout_begin(&s, grace < 0 && grace != CIO_INFINITE ? 0 : grace);
    CIO_ASSERT(rc == 0);
    rc = wait_handlers(srv);
    (void)cio_scope_end(&s);
    if (rc < 0) {
        bool busy = false; /* whether a handler was at work, not just an idle connection being closed */
        for (struct cio__list *p = srv->conns.next; p != &srv->conns; p = p->next) {
            struct conn *c = cio__container_of(p, struct conn, link);
            if (c->task) {
                busy |= !c->idle_at_close;
                cio_cancel(c->task, "server closing");
            }
        }
        if (!busy && rc == -ETIMEDOUT)
            rc = 0;
        /* Their cleanup may wait (a close flushing); a shield lets us see it through even if we are cancelled. */
        cio_scope shield;
        cio_shield_begin(&shield, CIO_INFINITE);
        int left = wait_handlers(srv);
        CIO_ASSERT(left == 0);
        cio_scope_end(&shield);
    }
    cio_semaphore_fini(&srv->handshakes);
    cio_event_fini(&srv->changed);
    cio_tls_ctx_free(srv->opts.tls);
    cio__free(srv);
    return rc;
}
