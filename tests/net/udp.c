/* udp.c: tests of UDP endpoints over loopback: connected and not, both families, truncation, bad input. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"
#include "netkit.h"

static cio_udp *bound(const char *host)
{
    cio_addr a;
    cio_udp *u;
    cr_assert_eq(cio_addr_parse(&a, host, 0), 0);
    int rc = cio_udp_open(&u, &a, NULL);
    cr_assert_eq(rc, 0, "udp open %s: %s", host, cio_err_name(rc));
    return u;
}

static int unconnected(void *arg)
{
    const char *host = arg;
    cio_udp *a = bound(host), *b = bound(host);
    cio_addr aa, ba, from;
    char buf[64];
    cr_assert_eq(cio_udp_local_addr(a, &aa), 0);
    cr_assert_eq(cio_udp_local_addr(b, &ba), 0);
    cr_assert_gt(cio_addr_port(&aa), 0);
    cr_assert_eq(cio_udp_sendto(a, "ping", 4, &ba), 4);
    cr_assert_eq(cio_udp_recvfrom(b, buf, sizeof buf, &from), 4);
    cr_assert(memcmp(buf, "ping", 4) == 0);
    cr_assert_eq(cio_addr_port(&from), cio_addr_port(&aa), "the sender's address comes with it");
    cr_assert_eq(cio_udp_sendto(b, "pong", 4, &from), 4);
    cr_assert_eq(cio_udp_recvfrom(a, buf, sizeof buf, NULL), 4);
    cr_assert(memcmp(buf, "pong", 4) == 0);
    cio_udp_close(a);
    cio_udp_close(b);
    return 0;
}

Test(udp, echo_unconnected_over_ipv4_and_ipv6)
{
    tst_run(unconnected, "127.0.0.1");
    tst_run(unconnected, "::1");
}

/* The receiver waits (EAGAIN, then the descriptor's readiness) until a sender task has sent. */
struct pair {
    cio_udp *tx;
    int sent;
};

static int late_sender(void *arg)
{
    struct pair *p = arg;
    int rc = cio_yield();
    if (rc < 0)
        return rc;
    p->sent = 1;
    return (int)cio_udp_send(p->tx, "late", 4);
}

static int connected(void *arg)
{
    (void)arg;
    cio_udp *srv = bound("127.0.0.1"), *cli;
    cio_addr sa, ca, from;
    char buf[64];
    cr_assert_eq(cio_udp_local_addr(srv, &sa), 0);
    cr_assert_eq(cio_udp_open(&cli, NULL, &sa), 0, "an ephemeral port of the remote's family");
    cr_assert_eq(cio_udp_local_addr(cli, &ca), 0);
    cr_assert_eq(ca.u.sa.sa_family, AF_INET);
    cr_assert_eq(cio_udp_send(cli, "hello", 5), 5);
    cr_assert_eq(cio_udp_recvfrom(srv, buf, sizeof buf, &from), 5);
    cr_assert_eq(cio_addr_port(&from), cio_addr_port(&ca));
    cr_assert_eq(cio_udp_sendto(srv, "back", 4, &from), 4);
    cr_assert_eq(cio_udp_recvfrom(cli, buf, sizeof buf, NULL), 4);
    cr_assert(memcmp(buf, "back", 4) == 0);

    struct pair p = {.tx = cli};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, late_sender, &p, NULL), 0);
    cr_assert_eq(cio_udp_recvfrom(srv, buf, sizeof buf, NULL), 4, "waits for the datagram");
    cr_assert(p.sent);
    cr_assert_eq(cio_join(t), 4);

    /* A datagram longer than the buffer: cut to fit, its full size reported. */
    cr_assert_eq(cio_udp_send(cli, "0123456789", 10), 10);
    memset(buf, 0, sizeof buf);
    cr_assert_eq(cio_udp_recvfrom(srv, buf, 4, NULL), 10);
    cr_assert(memcmp(buf, "0123", 4) == 0 && buf[4] == 0);
    cr_assert_eq(cio_udp_send(cli, "", 0), 0, "an empty datagram is a datagram");
    cr_assert_eq(cio_udp_recvfrom(srv, buf, sizeof buf, NULL), 0);
    cio_udp_close(cli);
    cio_udp_close(srv);
    return 0;
}

Test(udp, echo_connected_waits_for_data_and_cuts_long_datagrams)
{
    tst_run(connected, NULL);
}

static int default_local(void *arg)
{
    (void)arg;
    cio_udp *u;
    cio_addr a;
    cr_assert_eq(cio_udp_open(&u, NULL, NULL), 0);
    cr_assert_eq(cio_udp_local_addr(u, &a), 0);
    cr_assert_eq(a.u.sa.sa_family, AF_INET, "IPv4 by default");
    cr_assert_gt(cio_addr_port(&a), 0, "bound at once");
    cio_udp_close(u);
    return 0;
}

Test(udp, open_without_addresses_binds_an_ephemeral_ipv4_port)
{
    tst_run(default_local, NULL);
}

struct recv_wait {
    cio_udp *u;
    int started;
};

static int receiver(void *arg)
{
    struct recv_wait *r = arg;
    char buf[8];
    r->started = 1;
    return (int)cio_udp_recvfrom(r->u, buf, sizeof buf, NULL);
}

static int cancel_recv(void *arg)
{
    (void)arg;
    struct recv_wait r = {.u = bound("127.0.0.1")};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, receiver, &r, NULL), 0);
    cr_assert_eq(nk_turn_until(&r.started, 1), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cio_scope s;
    char buf[4];
    cr_assert_eq(cio_timeout_begin(&s, 0), 0);
    cr_assert_eq(cio_udp_recvfrom(r.u, buf, sizeof buf, NULL), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    cio_udp_close(r.u);
    return 0;
}

Test(udp, a_waiting_receive_is_cancelled_cleanly)
{
    tst_run(cancel_recv, NULL);
}

static int bad_input(void *arg)
{
    (void)arg;
    cio_udp *u = bound("127.0.0.1"), *v;
    cio_addr a, b, un;
    char buf[4];
    cr_assert_eq(cio_udp_local_addr(u, &a), 0);
    cr_assert_eq(cio_addr_parse(&b, "::1", 9), 0);
    cr_assert_eq(cio_addr_unix(&un, "/tmp/x"), 0);
    cr_assert_eq(cio_udp_open(NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_udp_open(&v, &a, &b), -EINVAL, "families differ");
    cr_assert_eq(cio_udp_open(&v, &un, NULL), -EINVAL, "not an IP address");
    cr_assert_eq(cio_udp_open(&v, &a, NULL), -EADDRINUSE);
    cr_assert_eq(cio_udp_send(u, NULL, 1), -EINVAL);
    cr_assert_eq(cio_udp_send(NULL, buf, 1), -EINVAL);
    cr_assert_eq(cio_udp_sendto(u, NULL, 1, &a), -EINVAL);
    cr_assert_eq(cio_udp_sendto(u, buf, 1, NULL), -EINVAL);
    cr_assert_eq(cio_udp_sendto(u, buf, 1, &un), -EINVAL);
    cr_assert_eq(cio_udp_recvfrom(u, NULL, 4, NULL), -EINVAL);
    cr_assert_eq(cio_udp_recvfrom(NULL, buf, 4, NULL), -EINVAL);
    cr_assert_eq(cio_udp_local_addr(u, NULL), -EINVAL);
    cr_assert_eq(cio_udp_local_addr(NULL, &a), -EINVAL);
    cr_assert_eq(cio_udp_send(u, buf, 1), -EDESTADDRREQ, "not connected");
    cio_udp_close(NULL);
    cio_udp_close(u);
    return 0;
}

Test(udp, rejects_bad_input)
{
    tst_run(bad_input, NULL);
    cio_udp *u;
    cr_assert_eq(cio_udp_open(&u, NULL, NULL), CIO_ENOLOOP);
}
