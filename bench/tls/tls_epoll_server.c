/* tls_epoll_server.c: the trivial OpenSSL epoll echo server against which the TLS client's ceiling is checked. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/*
 * As little as a TLS server can do per message: one SSL_read into one fixed buffer, one SSL_write back, a
 * full socket waited out with poll (the client always reads), as bench/echo/epoll_echo_server.c does over
 * plain TCP. Its TLS settings are those every server of the suite has: OpenSSL's defaults, no session tickets
 * nor cache; read-ahead (a 64 KiB record buffer) spares the second read per record.
 */

#define BUF_SIZE   (64 * 1024)
#define MAX_EVENTS 256

static char buf[BUF_SIZE];
static SSL **conns; /* by descriptor; NULL: not a connection */
static SSL_CTX *ctx;
static int epfd;

static void die(const char *what)
{
    fprintf(stderr, "tls_epoll_server: %s: %s\n", what, strerror(errno));
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* Wait until the socket is ready for what TLS asks after SSL_get_error returned `err`; 0, or -1 for an error. */
static int wait_for(int fd, int err)
{
    struct pollfd p = {.fd = fd};

    if (err == SSL_ERROR_WANT_WRITE)
        p.events = POLLOUT;
    else if (err == SSL_ERROR_WANT_READ)
        p.events = POLLIN;
    else
        return -1;
    return poll(&p, 1, -1) < 0 && errno != EINTR ? -1 : 0;
}

static void drop(int fd)
{
    SSL *ssl = conns[fd];

    if (SSL_is_init_finished(ssl))
        (void)SSL_shutdown(ssl); /* send our close_notify; the client's has come or it is gone */
    SSL_free(ssl);
    conns[fd] = NULL;
    close(fd); /* epoll forgets a closed descriptor */
}

/* Write all of buf[0, n). */
static int write_all(SSL *ssl, int fd, size_t n)
{
    size_t off = 0;

    while (off < n) {
        int w = SSL_write(ssl, buf + off, (int)(n - off));
        if (w > 0)
            off += (size_t)w;
        else if (wait_for(fd, SSL_get_error(ssl, w)) < 0)
            return -1;
    }
    return 0;
}

/* One readiness event on a connection: finish the handshake, or echo what has come. */
static void serve(int fd)
{
    SSL *ssl = conns[fd];
    int r;

    if (!SSL_is_init_finished(ssl)) {
        r = SSL_accept(ssl);
        if (r != 1) {
            r = SSL_get_error(ssl, r);
            if (r != SSL_ERROR_WANT_READ && (r != SSL_ERROR_WANT_WRITE || wait_for(fd, r) < 0))
                drop(fd);
            return;
        }
        if (!SSL_has_pending(ssl))
            return; /* the client speaks next; what it sent with its Finished was read ahead */
    }
    do {
        r = SSL_read(ssl, buf, sizeof(buf));
        if (r <= 0) {
            if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
                drop(fd); /* close_notify, end of stream or an error */
            return;
        }
        if (write_all(ssl, fd, (size_t)r) < 0) {
            drop(fd);
            return;
        }
    } while (SSL_has_pending(ssl)); /* records read ahead: epoll will not report them */
}

static void accept_all(int lfd)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int one = 1, c;

    while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        SSL *ssl = SSL_new(ctx);
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ev.data.fd = c;
        if (!ssl || !SSL_set_fd(ssl, c) || epoll_ctl(epfd, EPOLL_CTL_ADD, c, &ev) < 0) {
            SSL_free(ssl);
            close(c);
            continue;
        }
        SSL_set_accept_state(ssl);
        conns[c] = ssl;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct epoll_event ev, evs[MAX_EVENTS];
    struct rlimit rl;
    int one = 1, lfd;

    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT CERT KEY\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || !(conns = calloc(rl.rlim_cur, sizeof(*conns))))
        die("descriptor table");
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        die("certificate or key");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, BUF_SIZE);

    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0)
        die("bind/listen");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll");
    printf("listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == lfd)
                accept_all(lfd);
            else if (conns[evs[i].data.fd])
                serve(evs[i].data.fd);
        }
    }
}
