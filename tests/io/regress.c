/* regress.c: regression tests for the I/O layer: readiness, close and error paths, bad input. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(regress, .init = ignore_sigpipe);

/* ------------------------------------------------------------------------------------------------ UDP */

/* A free UDP port on 127.0.0.1: bound, read back, released. */
static int free_udp_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

struct udp_err {
    cio_udp *u;
    int stage;
    ssize_t first, second;
    char buf[16];
};

static int udp_receiver(void *arg)
{
    struct udp_err *e = arg;
    e->stage = 1;
    e->first = cio_udp_recvfrom(e->u, e->buf, sizeof e->buf, NULL);
    e->stage = 2;
    e->second = cio_udp_recvfrom(e->u, e->buf, sizeof e->buf, NULL);
    e->stage = 3;
    return 0;
}

/*
 * A connected UDP socket whose peer port is closed gets an ICMP error: EPOLLERR while a receiver waits. The
 * receive reports -ECONNREFUSED once; the next receive must wait for the next datagram, not spin on an error
 * bit that no system call will ever clear (the loop would never run the sender below: the test hangs).
 */
static int udp_error_body(void *arg)
{
    (void)arg;
    int port = free_udp_port();
    cio_addr remote, local;
    cr_assert_eq(cio_addr_parse(&remote, "127.0.0.1", port), 0);
    struct udp_err e = {0};
    cr_assert_eq(cio_udp_open(&e.u, NULL, &remote), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, udp_receiver, &e, NULL), 0);
    while (e.stage < 1)
        cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_yield(), 0);               /* the receiver is parked now */
    cr_assert_eq(cio_udp_send(e.u, "x", 1), 1); /* port unreachable comes back */
    while (e.stage < 2)
        cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(e.first, -ECONNREFUSED, "first receive: %zd", e.first);
    cr_assert_eq(cio_yield(), 0);
    /* The peer appears and sends. */
    cr_assert_eq(cio_udp_local_addr(e.u, &local), 0);
    struct sockaddr_in pa = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port)};
    int peer = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(peer, 0);
    cr_assert_eq(bind(peer, (struct sockaddr *)&pa, sizeof pa), 0);
    cr_assert_eq(sendto(peer, "hello", 5, 0, &local.u.sa, local.len), 5);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(e.second, 5);
    cr_assert(memcmp(e.buf, "hello", 5) == 0);
    close(peer);
    cio_udp_close(e.u);
    return 0;
}

Test(regress, udp_receive_after_icmp_error_waits_instead_of_spinning, .timeout = 20)
{
    tst_run(udp_error_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ addresses */

/* An abstract Unix address whose length is the whole storage (as a caller may fill it) is longer than any
   sockaddr_un and is refused, without the formatter writing past its own buffer; the longest real one formats. */
Test(regress, addr_format_long_abstract_unix_address)
{
    cio_addr a;
    memset(&a, 0, sizeof a);
    a.u.sa.sa_family = AF_UNIX;
    memset((char *)&a.u.ss + offsetof(struct sockaddr_un, sun_path) + 1, 'a',
           sizeof a.u.ss - offsetof(struct sockaddr_un, sun_path) - 1);
    a.len = sizeof a.u.ss;
    char buf[512];
    int rc = cio_addr_format(&a, buf, sizeof buf);
    cr_assert_eq(rc, -EINVAL, "a length past sockaddr_un: %d", rc);
    a.len = sizeof(struct sockaddr_un);
    size_t name = sizeof(struct sockaddr_un) - offsetof(struct sockaddr_un, sun_path) - 1;
    rc = cio_addr_format(&a, buf, sizeof buf);
    cr_assert_eq(rc, (int)(name + 1), "'@' and the %zu bytes of the name: %d", name, rc);
    cr_assert_eq(buf[0], '@');
    cr_assert_eq(strspn(buf + 1, "a"), name);
    cr_assert_eq(buf[rc], 0);
}

/* ------------------------------------------------------------------------------------------------ streams */

/* Fill a socket's send buffer (and the peer's receive buffer) without blocking; returns the bytes sent. */
static size_t stuff(int fd)
{
    static char junk[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            cr_assert_eq(errno, EAGAIN);
            return total;
        }
        total += (size_t)n;
    }
}

static size_t read_to_eof(int fd)
{
    char buf[65536];
    size_t total = 0;
    int fl = fcntl(fd, F_GETFL);
    cr_assert_eq(fcntl(fd, F_SETFL, fl & ~O_NONBLOCK), 0);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        cr_assert_geq(n, 0);
        if (n == 0)
            return total;
        total += (size_t)n;
    }
}

static int drainer(void *arg)
{
    return cio_stream_drain(arg);
}

/*
 * A write returned 0 with its bytes queued; a drain waits for them; another task closes the stream. Close
 * must not report success while dropping bytes that a successful write accepted.
 */
static int close_during_drain_body(void *arg)
{
    (void)arg;
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    size_t raw = stuff(fds[0]);
    cio_stream *s;
    cio_stream_opts o = {.high_water = 65536, .low_water = 1};
    cr_assert_eq(cio_stream_open_fd(&s, fds[0], &o), 0);
    char msg[1000];
    memset(msg, 'm', sizeof msg);
    cr_assert_eq(cio_stream_write(s, msg, sizeof msg), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, drainer, s, NULL), 0);
    cr_assert_eq(cio_yield(), 0); /* the drain is waiting */
    int rc = cio_stream_close(s);
    int dr = cio_join(t);
    size_t got = read_to_eof(fds[1]);
    close(fds[1]);
    cr_assert_eq(rc, -EBUSY, "close dropped the bytes a suspended drain was waiting for: %s", cio_err_name(rc));
    cr_assert_eq(dr, -EBADF, "the drain suspended on the closed stream: %s", cio_err_name(dr));
    cr_assert_eq(got, raw, "the kernel's bytes arrived, the %zu queued ones were dropped", sizeof msg);
    return 0;
}

Test(regress, close_while_draining_reports_the_bytes_it_dropped)
{
    tst_run(close_during_drain_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ servers */

static int never_called(cio_stream *s, void *arg)
{
    (void)s;
    (void)arg;
    return 0;
}

/* Stream options that no stream accepts (low water above high water) are refused when the server starts,
   rather than making every connection close at once. */
static int server_bad_stream_opts_body(void *arg)
{
    (void)arg;
    cio_server *srv = NULL;
    cio_server_opts o = {.stream = {.high_water = 100, .low_water = 200}};
    int rc = cio_start_server(&srv, never_called, NULL, "127.0.0.1", 0, &o);
    if (rc == 0)
        cr_assert_eq(cio_server_close(srv, 0), 0);
    cr_assert_eq(rc, -EINVAL, "start_server: %d", rc);
    return 0;
}

Test(regress, server_refuses_stream_options_no_stream_accepts)
{
    tst_run(server_bad_stream_opts_body, NULL);
}
