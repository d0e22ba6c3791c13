/* net.c: tests of addresses and of connecting: TCP over IPv4 and IPv6 loopback, Unix sockets, Happy Eyeballs. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"
#include <criterion/parameterized.h>
#include "netkit.h"

/* ------------------------------------------------------------------------------------------------ addresses */

struct parse_case {
    const char *host;
    int port;
    int want;
    /* What cio_addr_format gives back (NULL when parsing fails). */
    const char *text;
};

static struct parse_case parse_cases[] = {
    {"127.0.0.1", 80, 0, "127.0.0.1:80"},
    {"0.0.0.0", 0, 0, "0.0.0.0:0"},
    {"255.255.255.255", 65535, 0, "255.255.255.255:65535"},
    {"::1", 443, 0, "[::1]:443"},
    {"[::1]", 443, 0, "[::1]:443"},
    {"::", 1, 0, "[::]:1"},
    {"::ffff:10.0.0.1", 7, 0, "[::ffff:10.0.0.1]:7"},
    {"2001:db8::a:b", 8080, 0, "[2001:db8::a:b]:8080"},
    {"fe80::1%3", 9, 0, "[fe80::1%3]:9"},
    {"[fe80::1%3]", 9, 0, "[fe80::1%3]:9"},
    {"", 80, -EINVAL, NULL},
    {"localhost", 80, -EINVAL, NULL},
    {"127.1", 80, -EINVAL, NULL},
    {"127.0.0.256", 80, -EINVAL, NULL},
    {"1.2.3.4.5", 80, -EINVAL, NULL},
    {" 127.0.0.1", 80, -EINVAL, NULL},
    {"127.0.0.1:80", 80, -EINVAL, NULL},
    {"[127.0.0.1]", 80, -EINVAL, NULL},
    {"[::1", 80, -EINVAL, NULL},
    {"::1]", 80, -EINVAL, NULL},
    {"[]", 80, -EINVAL, NULL},
    {"[::1]:80", 80, -EINVAL, NULL},
    {":::", 80, -EINVAL, NULL},
    {"fe80::1%", 80, -EINVAL, NULL},
    {"fe80::1%no-such-interface-x", 80, -EINVAL, NULL},
    {"127.0.0.1", -1, -EINVAL, NULL},
    {"127.0.0.1", 65536, -EINVAL, NULL},
    {"::1", -1, -EINVAL, NULL},
    {"::1", 65536, -EINVAL, NULL},
    {"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff", 1, -EINVAL, NULL},
};

#define N_PARSE (sizeof parse_cases / sizeof parse_cases[0])

/* Criterion hands each row to a fresh process, where pointers into the table may differ: pass indexes. */
ParameterizedTestParameters(addr, parse_and_format)
{
    static size_t idx[N_PARSE];
    for (size_t i = 0; i < N_PARSE; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, N_PARSE);
}

ParameterizedTest(size_t *i, addr, parse_and_format)
{
    const struct parse_case *c = &parse_cases[*i];
    cio_addr a;
    char buf[128];
    int rc = cio_addr_parse(&a, c->host, c->port);
    cr_assert_eq(rc, c->want, "%s %d: %s", c->host, c->port, cio_err_name(rc));
    if (rc < 0)
        return;
    cr_assert_eq(cio_addr_port(&a), c->port);
    rc = cio_addr_format(&a, buf, sizeof buf);
    cr_assert_eq(rc, (int)strlen(c->text), "%s: %d", c->host, rc);
    cr_assert_str_eq(buf, c->text);
}

Test(addr, parse_rejects_null_arguments)
{
    cio_addr a;
    cr_assert_eq(cio_addr_parse(NULL, "127.0.0.1", 1), -EINVAL);
    cr_assert_eq(cio_addr_parse(&a, NULL, 1), -EINVAL);
}

Test(addr, parse_gives_the_socket_address_the_kernel_expects)
{
    cio_addr a;
    cr_assert_eq(cio_addr_parse(&a, "10.1.2.3", 258), 0);
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.u.ss;
    cr_assert_eq(a.len, sizeof *sin);
    cr_assert_eq(sin->sin_family, AF_INET);
    cr_assert_eq(sin->sin_port, htons(258));
    cr_assert_eq(sin->sin_addr.s_addr, htonl(0x0a010203));
    cr_assert_eq(cio_addr_parse(&a, "[::1]", 1), 0);
    cr_assert_eq(a.len, sizeof(struct sockaddr_in6));
    cr_assert_eq(a.u.sa.sa_family, AF_INET6);
}

Test(addr, unix_paths_and_abstract_names)
{
    cio_addr a;
    char buf[200];
    cr_assert_eq(cio_addr_unix(&a, "/tmp/x.sock"), 0);
    cr_assert_eq(a.u.sa.sa_family, AF_UNIX);
    cr_assert_eq(a.len, offsetof(struct sockaddr_un, sun_path) + sizeof "/tmp/x.sock");
    cr_assert_eq(cio_addr_format(&a, buf, sizeof buf), (int)strlen("/tmp/x.sock"));
    cr_assert_str_eq(buf, "/tmp/x.sock");
    cr_assert_eq(cio_addr_port(&a), -EINVAL, "a Unix address has no port");

    cr_assert_eq(cio_addr_unix(&a, "@cio-abstract"), 0);
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&a.u.ss;
    cr_assert_eq(sun->sun_path[0], 0, "abstract names start with a NUL");
    cr_assert(memcmp(sun->sun_path + 1, "cio-abstract", 12) == 0);
    cr_assert_eq(a.len, offsetof(struct sockaddr_un, sun_path) + 13, "no terminator is counted");
    cr_assert_eq(cio_addr_format(&a, buf, sizeof buf), 13);
    cr_assert_str_eq(buf, "@cio-abstract");
}

Test(addr, unix_rejects_empty_null_and_long_paths)
{
    cio_addr a;
    char path[200];
    size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
    cr_assert_eq(cio_addr_unix(&a, NULL), -EINVAL);
    cr_assert_eq(cio_addr_unix(&a, ""), -EINVAL);
    cr_assert_eq(cio_addr_unix(&a, "@"), -EINVAL);
    cr_assert_eq(cio_addr_unix(NULL, "/x"), -EINVAL);
    memset(path, 'a', sizeof path);
    path[max - 1] = 0; /* the longest path: sun_path less its NUL */
    cr_assert_eq(cio_addr_unix(&a, path), 0);
    path[max - 1] = 'a';
    path[max] = 0;
    cr_assert_eq(cio_addr_unix(&a, path), -ENAMETOOLONG);
    path[0] = '@'; /* abstract: '@' plus max - 1 bytes fill sun_path exactly */
    path[max] = 0;
    cr_assert_eq(cio_addr_unix(&a, path), 0);
    path[max] = 'a';
    path[max + 1] = 0;
    cr_assert_eq(cio_addr_unix(&a, path), -ENAMETOOLONG);
}

Test(addr, format_cuts_and_reports_enospc_when_the_buffer_is_short)
{
    cio_addr a;
    char buf[16];
    cr_assert_eq(cio_addr_parse(&a, "127.0.0.1", 8080), 0); /* "127.0.0.1:8080": 14 bytes */
    cr_assert_eq(cio_addr_format(&a, buf, 15), 14);
    cr_assert_eq(cio_addr_format(&a, buf, 14), -ENOSPC);
    cr_assert_str_eq(buf, "127.0.0.1:808");
    cr_assert_eq(cio_addr_format(&a, buf, 1), -ENOSPC);
    cr_assert_str_eq(buf, "");
    cr_assert_eq(cio_addr_format(&a, NULL, 10), -EINVAL);
    cr_assert_eq(cio_addr_format(NULL, buf, sizeof buf), -EINVAL);
    cr_assert_eq(cio_addr_unix(&a, "/a/long/socket/path"), 0);
    cr_assert_eq(cio_addr_format(&a, buf, 8), -ENOSPC);
    cr_assert_str_eq(buf, "/a/long");
}

Test(addr, port_and_format_reject_foreign_or_short_addresses)
{
    cio_addr a;
    memset(&a, 0, sizeof a);
    char buf[64];
    cr_assert_eq(cio_addr_port(NULL), -EINVAL);
    cr_assert_eq(cio_addr_port(&a), -EINVAL, "family 0");
    a.u.sa.sa_family = AF_INET;
    a.len = 4;
    cr_assert_eq(cio_addr_port(&a), -EINVAL, "too short for sockaddr_in");
    cr_assert_eq(cio_addr_format(&a, buf, sizeof buf), -EINVAL);
    a.u.sa.sa_family = AF_PACKET;
    a.len = sizeof a.u.ss;
    cr_assert_eq(cio_addr_format(&a, buf, sizeof buf), -EINVAL);
}

/* ------------------------------------------------------------------------------------------------ TCP */

static int echo_over(void *arg)
{
    const char *host = arg;
    cio_addr addr;
    cio_server *srv = nk_echo_server(host, &addr);
    cio_stream *s;
    int rc = cio_connect_addr(&s, &addr, NULL);
    cr_assert_eq(rc, 0, "connect: %s", cio_err_name(rc));
    cr_assert_not_null(s);
    nk_roundtrip(s, "hello");
    nk_roundtrip(s, "and again");
    cio_addr peer, local;
    cr_assert_eq(cio_stream_peer_addr(s, &peer), 0);
    cr_assert_eq(cio_addr_port(&peer), cio_addr_port(&addr));
    cr_assert_eq(cio_stream_local_addr(s, &local), 0);
    cr_assert_eq(local.u.sa.sa_family, addr.u.sa.sa_family);
    int one = 0;
    socklen_t len = sizeof one;
    cr_assert_eq(getsockopt(cio_stream_fd(s), IPPROTO_TCP, TCP_NODELAY, &one, &len), 0);
    cr_assert_eq(one, 1, "TCP_NODELAY is on");
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(tcp, echo_over_ipv4_loopback)
{
    tst_run(echo_over, "127.0.0.1");
}

Test(tcp, echo_over_ipv6_loopback)
{
    tst_run(echo_over, "::1");
}

static int refused(void *arg)
{
    const char *host = arg;
    cio_addr addr;
    cio_stream *s = (cio_stream *)&addr;
    int fd = nk_refusing_port(host, &addr);
    cr_assert_eq(cio_connect_addr(&s, &addr, NULL), -ECONNREFUSED);
    cr_assert_null(s, "no stream on failure");
    close(fd);
    return 0;
}

Test(tcp, connect_to_a_closed_port_gives_econnrefused)
{
    tst_run(refused, "127.0.0.1");
    tst_run(refused, "::1");
}

static int times_out(void *arg)
{
    (void)arg;
    cio_addr addr;
    cio_stream *filler, *s;
    int lfd = nk_full_listener("127.0.0.1", 0, &addr, &filler);
    cio_connect_opts o = {.timeout = CIO_SEC(10)};
    int64_t t0 = cio_now();
    cr_assert_eq(cio_connect_addr(&s, &addr, &o), -ETIMEDOUT, "the listener's queue is full: no answer");
    cr_assert_eq(cio_now() - t0, CIO_SEC(10), "given up when the timeout ran out (mock clock)");
    cr_assert_null(s);
    cr_assert_eq(cio_check_cancel(), 0, "the timeout ended with the call");

    /* The caller's own scope of 0: the connect is sent, then its wait fails at once. */
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, 0), 0);
    cr_assert_eq(cio_connect_addr(&s, &addr, NULL), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&sc), -ETIMEDOUT);
    cio_stream_close(filler);
    close(lfd);
    return 0;
}

Test(tcp, connect_times_out_against_a_full_backlog)
{
    tst_run_expect(times_out, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

struct connecting {
    const cio_addr *addr;
    int started;
    int rc;
};

static int connect_body(void *arg)
{
    struct connecting *c = arg;
    cio_stream *s = NULL;
    c->started = 1;
    c->rc = cio_connect_addr(&s, c->addr, NULL);
    if (s)
        cio_stream_close(s);
    return c->rc;
}

static int cancel_connect(void *arg)
{
    (void)arg;
    cio_addr addr;
    cio_stream *filler;
    int lfd = nk_full_listener("127.0.0.1", 0, &addr, &filler);
    struct connecting c = {.addr = &addr};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, connect_body, &c, NULL), 0);
    cr_assert_eq(nk_turn_until(&c.started, 1), 0);
    cr_assert_not(cio_task_done(t), "the connect is waiting");
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cio_stream_close(filler);
    close(lfd);
    return 0;
}

Test(tcp, cancelling_a_connect_leaves_no_descriptor_open)
{
    tst_run(cancel_connect, NULL); /* tst_run counts the descriptors */
}

static int bad_connect_input(void *arg)
{
    (void)arg;
    cio_addr a, bad;
    cio_stream *s;
    cr_assert_eq(cio_addr_parse(&a, "127.0.0.1", 1), 0);
    cr_assert_eq(cio_connect_addr(NULL, &a, NULL), -EINVAL);
    cr_assert_eq(cio_connect_addr(&s, NULL, NULL), -EINVAL);
    memset(&bad, 0, sizeof bad);
    bad.len = sizeof bad.u.ss;
    cr_assert_eq(cio_connect_addr(&s, &bad, NULL), -EINVAL, "no family");
    cr_assert_eq(cio_connect_addr(&s, &a, &(cio_connect_opts){.timeout = -1}), -EINVAL);
    bad.u.sa.sa_family = AF_UNIX;
    bad.len = offsetof(struct sockaddr_un, sun_path);
    cr_assert_eq(cio_connect_addr(&s, &bad, NULL), -EINVAL, "an unnamed Unix address");
    return 0;
}

Test(tcp, connect_rejects_bad_input)
{
    tst_run(bad_connect_input, NULL);
}

/* ------------------------------------------------------------------------------------------------ Unix */

static int unix_echo(void *arg)
{
    const char *path = arg;
    cio_server *srv;
    cio_stream *s;
    int rc = cio_start_unix_server(&srv, nk_echo, NULL, path, NULL);
    cr_assert_eq(rc, 0, "start: %s", cio_err_name(rc));
    cio_addr a;
    char text[128];
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cr_assert_eq(a.u.sa.sa_family, AF_UNIX);
    cr_assert_geq(cio_addr_format(&a, text, sizeof text), 0);
    cr_assert_str_eq(text, path);
    rc = cio_open_unix_connection(&s, path, NULL);
    cr_assert_eq(rc, 0, "connect: %s", cio_err_name(rc));
    nk_roundtrip(s, "over a unix socket");
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    if (path[0] != '@')
        cr_assert_neq(access(path, F_OK), 0, "closing removes the socket file");
    return 0;
}

Test(unix_socket, echo_over_a_socket_file)
{
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/echo.sock", dir);
    tst_run(unix_echo, path);
    /* A stale socket file left behind is replaced by the next server. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cio_addr a;
    cr_assert_eq(cio_addr_unix(&a, path), 0);
    cr_assert_eq(bind(fd, &a.u.sa, a.len), 0);
    close(fd);
    tst_run(unix_echo, path);
    nk_rmdir(dir);
}

Test(unix_socket, echo_over_an_abstract_socket)
{
    char name[64];
    snprintf(name, sizeof name, "@cio-test-%d", (int)getpid());
    tst_run(unix_echo, name);
}

static int unix_refused(void *arg)
{
    const char *dir = arg;
    char path[300];
    cio_stream *s;
    snprintf(path, sizeof path, "%s/none.sock", dir);
    cr_assert_eq(cio_open_unix_connection(&s, path, NULL), -ENOENT);
    /* A socket file nobody listens on. */
    snprintf(path, sizeof path, "%s/dead.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cio_addr a;
    cr_assert_eq(cio_addr_unix(&a, path), 0);
    cr_assert_eq(bind(fd, &a.u.sa, a.len), 0);
    cr_assert_eq(cio_open_unix_connection(&s, path, NULL), -ECONNREFUSED);
    close(fd);
    cr_assert_eq(cio_open_unix_connection(&s, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_open_unix_connection(&s, "", NULL), -EINVAL);
    cr_assert_eq(cio_open_unix_connection(NULL, path, NULL), -EINVAL);
    char longp[300];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    cr_assert_eq(cio_open_unix_connection(&s, longp, NULL), -ENAMETOOLONG);
    return 0;
}

Test(unix_socket, connect_errors)
{
    char dir[256];
    nk_tmpdir(dir, sizeof dir);
    tst_run(unix_refused, dir);
    nk_rmdir(dir);
}

/* A Unix listener whose backlog is full makes connect say EAGAIN; the connect retries until there is room. */
struct unix_full {
    const char *path;
    int lfd;
    int connected;
};

static int unix_full_client(void *arg)
{
    struct unix_full *u = arg;
    cio_stream *s;
    int rc = cio_open_unix_connection(&s, u->path, NULL);
    if (rc == 0) {
        u->connected = 1;
        cio_stream_close(s);
    }
    return rc;
}

static int unix_full(void *arg)
{
    struct unix_full *u = arg;
    cio_addr a;
    cr_assert_eq(cio_addr_unix(&a, u->path), 0);
    u->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(bind(u->lfd, &a.u.sa, a.len), 0);
    cr_assert_eq(listen(u->lfd, 0), 0);
    cio_stream *fillers[4];
    int n = 0;
    /* Fill the queue: each connect succeeds at once until one would wait. */
    for (; n < 4; n++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (connect(fd, &a.u.sa, a.len) < 0) {
            cr_assert_eq(errno, EAGAIN);
            close(fd);
            break;
        }
        cr_assert_eq(cio_stream_open_fd(&fillers[n], fd, NULL), 0);
    }
    cr_assert(n >= 1 && n < 4, "the queue filled after %d", n);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, unix_full_client, u, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_yield(), 0);
    cr_assert_not(u->connected, "still waiting for room");
    int afd = accept(u->lfd, NULL, NULL); /* room for one */
    cr_assert(afd >= 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert(u->connected);
    close(afd);
    for (int i = 0; i < n; i++)
        cio_stream_close(fillers[i]);
    close(u->lfd);
    return 0;
}

Test(unix_socket, connect_waits_for_room_in_a_full_backlog)
{
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/full.sock", dir);
    struct unix_full u = {.path = path};
    tst_run(unix_full, &u);
    nk_rmdir(dir);
}

/* ------------------------------------------------------------------------------------------------ open_connection */

static int open_numeric(void *arg)
{
    const char *host = arg;
    cio_addr addr;
    cio_server *srv = nk_echo_server(host, &addr);
    cio_stream *s;
    int rc = cio_open_connection(&s, host, cio_addr_port(&addr), NULL);
    cr_assert_eq(rc, 0, "open_connection %s: %s", host, cio_err_name(rc));
    nk_roundtrip(s, "numeric");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(open_connection, connects_to_numeric_hosts)
{
    tst_run(open_numeric, "127.0.0.1");
    tst_run(open_numeric, "::1");
}

static int open_bad(void *arg)
{
    (void)arg;
    cio_stream *s;
    cr_assert_eq(cio_open_connection(NULL, "127.0.0.1", 1, NULL), -EINVAL);
    cr_assert_eq(cio_open_connection(&s, NULL, 1, NULL), -EINVAL);
    cr_assert_eq(cio_open_connection(&s, "", 1, NULL), -EINVAL);
    cr_assert_eq(cio_open_connection(&s, "127.0.0.1", -1, NULL), -EINVAL);
    cr_assert_eq(cio_open_connection(&s, "127.0.0.1", 65536, NULL), -EINVAL);
    cr_assert_eq(cio_open_connection(&s, "127.0.0.1", 1, &(cio_connect_opts){.timeout = -5}), -EINVAL);
    cr_assert_eq(cio_open_connection(&s, "127.0.0.1", 1, &(cio_connect_opts){.happy_eyeballs_delay = -5}), -EINVAL);
    cio_addr a;
    int fd = nk_refusing_port("127.0.0.1", &a);
    cr_assert_eq(cio_open_connection(&s, "127.0.0.1", cio_addr_port(&a), NULL), -ECONNREFUSED);
    close(fd);
    return 0;
}

Test(open_connection, rejects_bad_input_and_reports_refusal)
{
    tst_run(open_bad, NULL);
}

/*
 * Happy Eyeballs: a name with an IPv6 and an IPv4 address, from a hosts file of the test's own. Both listen on
 * the same port number, one on ::1 and one on 127.0.0.1, each set up by the test to behave as it needs.
 */
static char hosts_path[300];

static void hosts_file(const char *dir)
{
    snprintf(hosts_path, sizeof hosts_path, "%s/hosts", dir);
    FILE *f = fopen(hosts_path, "w");
    cr_assert_not_null(f);
    fprintf(f, "::1 both.cio.test\n127.0.0.1 both.cio.test\n");
    fclose(f);
    cr_assert_eq(setenv("CIO_HOSTS_FILE", hosts_path, 1), 0);
}

/* Bind the IPv4 echo server and an IPv6 socket to one port number (retrying if ::1 has it taken). */
static cio_server *pair_on_one_port(int *v6fd, int listen_v6)
{
    for (int tries = 0; tries < 20; tries++) {
        cio_addr a4, a6;
        cio_server *srv = nk_echo_server("127.0.0.1", &a4);
        cr_assert_eq(cio_addr_parse(&a6, "::1", cio_addr_port(&a4)), 0);
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (bind(fd, &a6.u.sa, a6.len) == 0) {
            if (listen_v6)
                cr_assert_eq(listen(fd, 0), 0);
            *v6fd = fd;
            return srv;
        }
        close(fd);
        cr_assert_eq(cio_server_close(srv, 0), 0);
    }
    cr_assert_fail("no port free on both loopbacks");
    return NULL;
}

static int eyeballs_refused_v6(void *arg)
{
    (void)arg;
    int v6;
    cio_server *srv = pair_on_one_port(&v6, 0); /* ::1 refuses */
    cio_addr a;
    cio_server_addr(srv, &a);
    cio_stream *s;
    /* A day-long delay: only the refusal on ::1 can start the IPv4 attempt. */
    cio_connect_opts o = {.happy_eyeballs_delay = CIO_SEC(86400)};
    int rc = cio_open_connection(&s, "both.cio.test", cio_addr_port(&a), &o);
    cr_assert_eq(rc, 0, "open_connection: %s", cio_err_name(rc));
    cio_addr peer;
    cr_assert_eq(cio_stream_peer_addr(s, &peer), 0);
    cr_assert_eq(peer.u.sa.sa_family, AF_INET);
    nk_roundtrip(s, "v4 after v6 refused");
    cio_stream_close(s);
    close(v6);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(open_connection, a_refused_address_starts_the_next_at_once)
{
    char dir[256];
    nk_tmpdir(dir, sizeof dir);
    hosts_file(dir);
    tst_run(eyeballs_refused_v6, NULL);
    nk_rmdir(dir);
}

static int eyeballs_slow_v6(void *arg)
{
    (void)arg;
    int v6;
    cio_server *srv = pair_on_one_port(&v6, 1);
    cio_addr a, a6;
    cio_server_addr(srv, &a);
    cr_assert_eq(cio_addr_parse(&a6, "::1", cio_addr_port(&a)), 0);
    cio_stream *filler, *s;
    cr_assert_eq(cio_connect_addr(&filler, &a6, NULL), 0); /* ::1's queue is now full: it never answers */
    cio_connect_opts o = {.happy_eyeballs_delay = CIO_MS(5)};
    int rc = cio_open_connection(&s, "both.cio.test", cio_addr_port(&a), &o);
    cr_assert_eq(rc, 0, "open_connection: %s", cio_err_name(rc));
    cio_addr peer;
    cr_assert_eq(cio_stream_peer_addr(s, &peer), 0);
    cr_assert_eq(peer.u.sa.sa_family, AF_INET, "IPv4 started after the delay and won");
    nk_roundtrip(s, "v4 while v6 hangs");
    cio_stream_close(s);

    /* Both hang: the overall timeout ends the race, and every attempt's descriptor is closed. */
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    cio_stream *filler4;
    int lfd4 = nk_full_listener("127.0.0.1", cio_addr_port(&a), &a, &filler4);
    o.timeout = CIO_MS(50);
    cr_assert_eq(cio_open_connection(&s, "both.cio.test", cio_addr_port(&a), &o), -ETIMEDOUT);
    cio_stream_close(filler4);
    close(lfd4);
    cio_stream_close(filler);
    close(v6);
    return 0;
}

Test(open_connection, the_next_address_starts_after_the_delay_and_losers_are_closed)
{
    char dir[256];
    nk_tmpdir(dir, sizeof dir);
    hosts_file(dir);
    tst_run(eyeballs_slow_v6, NULL);
    nk_rmdir(dir);
}

static int eyeballs_all_refused(void *arg)
{
    (void)arg;
    cio_addr a4, a6;
    int fd4 = nk_refusing_port("127.0.0.1", &a4), fd6 = -1;
    for (int tries = 0; tries < 20 && fd6 < 0; tries++) {
        cr_assert_eq(cio_addr_parse(&a6, "::1", cio_addr_port(&a4)), 0);
        fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (bind(fd6, &a6.u.sa, a6.len) < 0) {
            close(fd6);
            fd6 = -1;
            close(fd4);
            fd4 = nk_refusing_port("127.0.0.1", &a4);
        }
    }
    cr_assert(fd6 >= 0);
    cio_stream *s;
    cr_assert_eq(cio_open_connection(&s, "both.cio.test", cio_addr_port(&a4), NULL), -ECONNREFUSED);
    close(fd4);
    close(fd6);
    return 0;
}

Test(open_connection, fails_with_the_last_error_when_every_address_fails)
{
    char dir[256];
    nk_tmpdir(dir, sizeof dir);
    hosts_file(dir);
    tst_run(eyeballs_all_refused, NULL);
    nk_rmdir(dir);
}

struct race_cancel {
    int port;
    int64_t delay;
    int rc;
};

static int race_body(void *arg)
{
    struct race_cancel *r = arg;
    cio_stream *s = NULL;
    r->rc = cio_open_connection(&s, "both.cio.test", r->port, &(cio_connect_opts){.happy_eyeballs_delay = r->delay});
    if (s)
        cio_stream_close(s);
    return r->rc;
}

/* Let the loop turn until this process has `want` descriptors open: each connection attempt holds a socket. */
static void turn_until_fds(int want)
{
    for (long i = 0; tst_open_fds() != want; i++) {
        cr_assert_lt(i, 100000L, "%d descriptors open, waiting for %d", tst_open_fds(), want);
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    }
}

/* Both loopbacks have a listener whose queue is full, so every attempt hangs until it is cancelled. */
static int eyeballs_cancel(void *arg)
{
    int attempts = (int)(intptr_t)arg;
    cio_addr a4, a6;
    cio_stream *f4, *f6;
    int l4 = -1, l6 = -1;
    for (int tries = 0; tries < 20 && l6 < 0; tries++) {
        l4 = nk_full_listener("127.0.0.1", 0, &a4, &f4);
        cr_assert_eq(cio_addr_parse(&a6, "::1", cio_addr_port(&a4)), 0);
        l6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (bind(l6, &a6.u.sa, a6.len) < 0 || listen(l6, 0) < 0) {
            close(l6);
            l6 = -1;
            cio_stream_close(f4);
            close(l4);
        }
    }
    cr_assert(l6 >= 0);
    cr_assert_eq(cio_connect_addr(&f6, &a6, NULL), 0);
    int before = tst_open_fds();
    /* One attempt: a day-long delay never starts the second. Two: a 1 ns delay starts it at once. */
    struct race_cancel r = {.port = cio_addr_port(&a4), .delay = attempts == 1 ? CIO_SEC(86400) : CIO_NS(1)};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, race_body, &r, NULL), 0);
    turn_until_fds(before + attempts);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(tst_open_fds(), before, "every attempt's socket is closed");
    cio_stream_close(f4);
    cio_stream_close(f6);
    close(l4);
    close(l6);
    return 0;
}

Test(open_connection, cancelling_the_race_during_the_first_attempt_closes_it)
{
    char dir[256];
    nk_tmpdir(dir, sizeof dir);
    hosts_file(dir);
    tst_run(eyeballs_cancel, (void *)(intptr_t)1);
    nk_rmdir(dir);
}

Test(open_connection, cancelling_the_race_with_two_attempts_closes_both)
{
    char dir[256];
    nk_tmpdir(dir, sizeof dir);
    hosts_file(dir);
    tst_run(eyeballs_cancel, (void *)(intptr_t)2);
    nk_rmdir(dir);
}
