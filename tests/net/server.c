/* server.c: tests of servers: listening, accepting, connection limits, descriptor shortage, graceful close. */
#include <dirent.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corekit.h"
#include "chaoskit.h"
#include "harness.h"
#include "internal.h"
#include "net/net.h"
#include "netkit.h"

/* ------------------------------------------------------------------------------------------------ listening */

static int any_host(void *arg)
{
    (void)arg;
    cio_addr a, to;
    cio_server *srv = nk_echo_server(NULL, &a);
    int port = cio_addr_port(&a);
    cr_assert_gt(port, 0, "the kernel picked a port");
    const char *hosts[] = {"127.0.0.1", "::1"};
    for (int i = 0; i < 2; i++) {
        cio_stream *s;
        cr_assert_eq(cio_addr_parse(&to, hosts[i], port), 0);
        int rc = cio_connect_addr(&s, &to, NULL);
        cr_assert_eq(rc, 0, "%s: %s", hosts[i], cio_err_name(rc));
        nk_roundtrip(s, hosts[i]);
        cio_stream_close(s);
    }
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, host_null_listens_on_ipv4_and_ipv6)
{
    tst_run(any_host, NULL);
}

static int reuse(void *arg)
{
    (void)arg;
    cio_server *a, *b;
    cio_addr addr;
    cio_server_opts o = {.reuse_port = true};
    cr_assert_eq(cio_start_server(&a, nk_echo, NULL, "127.0.0.1", 0, &o), 0);
    cr_assert_eq(cio_server_addr(a, &addr), 0);
    int port = cio_addr_port(&addr);
    cr_assert_eq(cio_start_server(&b, nk_echo, NULL, "127.0.0.1", port, NULL), -EADDRINUSE);
    cr_assert_null(b);
    cr_assert_eq(cio_start_server(&b, nk_echo, NULL, "127.0.0.1", port, &o), 0, "SO_REUSEPORT on both");
    cr_assert_eq(cio_server_close(b, 0), 0);
    cr_assert_eq(cio_server_close(a, 0), 0);
    return 0;
}

Test(server, reuse_port_lets_two_servers_share_a_port)
{
    tst_run(reuse, NULL);
}

static void start_from_callback(void *arg)
{
    cio_server *srv;
    *(int *)arg = cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, NULL);
}

static int bad_server_input(void *arg)
{
    (void)arg;
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(NULL, nk_echo, NULL, "127.0.0.1", 0, NULL), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, NULL, NULL, "127.0.0.1", 0, NULL), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", -1, NULL), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 65536, NULL), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "not-an-address", 0, NULL), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "", 0, NULL), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, &(cio_server_opts){.backlog = -1}), -EINVAL);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, &(cio_server_opts){.keep_timeout = -1}),
                 -EINVAL);
    cr_assert_eq(cio_start_unix_server(&srv, nk_echo, NULL, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_start_unix_server(&srv, nk_echo, NULL, "", NULL), -EINVAL);
    cr_assert_eq(cio_start_unix_server(NULL, nk_echo, NULL, "@x", NULL), -EINVAL);
    cr_assert_eq(cio_start_unix_server(&srv, nk_echo, NULL, "/no/such/dir/x.sock", NULL), -ENOENT);
    cr_assert_eq(cio_server_addr(NULL, &a), -EINVAL);
    cr_assert_eq(cio_server_connections(NULL), 0);
    cr_assert_eq(cio_server_close(NULL, 0), -EINVAL);
    int rc = 1;
    cr_assert_eq(cio_call_soon(NULL, start_from_callback, &rc), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(rc, CIO_ENOTASK, "a server needs a task to start its accept loop");
    srv = nk_echo_server("127.0.0.1", &a);
    cr_assert_eq(cio_server_addr(srv, NULL), -EINVAL);
    cr_assert_eq(cio_server_close(srv, 0), 0);
    return 0;
}

Test(server, rejects_bad_input)
{
    tst_run(bad_server_input, NULL);
    cio_server *srv;
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, NULL), CIO_ENOLOOP);
}

static int close_idle(void *arg)
{
    (void)arg;
    cio_addr a;
    cio_server *srv = nk_echo_server("127.0.0.1", &a);
    cr_assert_eq(cio_yield(), 0); /* the accept task now waits in accept */
    cr_assert_eq(cio_server_connections(srv), 0);
    cr_assert_eq(cio_server_close(srv, 0), 0);
    cio_stream *s;
    cr_assert_eq(cio_connect_addr(&s, &a, NULL), -ECONNREFUSED, "the listener is gone");
    return 0;
}

Test(server, closing_cancels_the_waiting_accept_and_closes_the_listener)
{
    tst_run(close_idle, NULL);
}

/* ------------------------------------------------------------------------------------------------ many */

#define MANY 1000

struct many {
    cio_addr addr;
    cio_server *srv;
    int echoed;
    cio_event all_in;
};

static int many_client(void *arg)
{
    struct many *m = arg;
    cio_stream *s;
    char msg[32], buf[32];
    int rc = cio_connect_addr(&s, &m->addr, NULL);
    if (rc < 0)
        return rc;
    int n = snprintf(msg, sizeof msg, "client %p", (void *)&msg);
    if ((rc = cio_stream_write(s, msg, (size_t)n)) == 0 &&
        (rc = (int)cio_stream_read_exactly(s, buf, (size_t)n, NULL)) == n) {
        rc = memcmp(buf, msg, (size_t)n) == 0 ? 0 : -EPROTO;
        if (rc == 0 && ++m->echoed == MANY) {
            /* Every client holds its connection open here: the server has them all at once. */
            cr_assert_eq(cio_server_connections(m->srv), MANY);
            cio_event_set(&m->all_in);
        }
        if (rc == 0)
            rc = cio_event_wait(&m->all_in);
    }
    cio_stream_close(s);
    return rc < 0 ? rc : 0;
}

static int many_connections(void *arg)
{
    struct many *m = arg;
    cio_server_opts o = {.backlog = 2 * MANY};
    cr_assert_eq(cio_start_server(&m->srv, nk_echo, NULL, "127.0.0.1", 0, &o), 0);
    cr_assert_eq(cio_server_addr(m->srv, &m->addr), 0);
    cio_event_init(&m->all_in);
    static cio_task *tasks[MANY];
    static int status[MANY];
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(cio_spawn(&tasks[i], many_client, m, &(cio_spawn_opts){.stack_size = 64 * 1024}), 0);
    cr_assert_eq(cio_gather(tasks, MANY, status, CIO_GATHER_ALL), 0);
    for (int i = 0; i < MANY; i++)
        cr_assert_eq(status[i], 0, "client %d: %s", i, cio_err_name(status[i]));
    cr_assert_eq(m->echoed, MANY);
    cr_assert_eq(cio_server_close(m->srv, CIO_INFINITE), 0, "every handler ends when its client does");
    cio_event_fini(&m->all_in);
    return 0;
}

Test(server, serves_a_thousand_concurrent_connections, .timeout = 300)
{
    long need = tst_open_fds() + 2 * MANY + 64;
    cr_assert_geq(nk_raise_nofile(need), need, "the hard RLIMIT_NOFILE is below %ld", need);
    static struct many m;
    tst_run(many_connections, &m);
}

/* ------------------------------------------------------------------------------------------------ limits */

struct gated {
    cio_event open;
    int started;
    int finished;
};

static int gated_handler(cio_stream *s, void *arg)
{
    (void)s;
    struct gated *g = arg;
    g->started++;
    int rc = cio_event_wait(&g->open);
    g->finished++;
    return rc;
}

static int max_conns(void *arg)
{
    (void)arg;
    struct gated g = {0};
    cio_event_init(&g.open);
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, gated_handler, &g, "127.0.0.1", 0, &(cio_server_opts){.max_connections = 2}),
                 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *c[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_connect_addr(&c[i], &a, NULL), 0, "the backlog takes the third");
    cr_assert_eq(nk_turn_until(&g.started, 2), 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(g.started, 2, "the third waits while two are handled");
    cr_assert_eq(cio_server_connections(srv), 2);
    cio_event_set(&g.open);
    cr_assert_eq(nk_turn_until(&g.finished, 3), 0);
    cr_assert_eq(g.started, 3, "a slot freed lets the third in");
    for (int i = 0; i < 3; i++)
        cio_stream_close(c[i]);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    cio_event_fini(&g.open);
    return 0;
}

Test(server, max_connections_holds_further_ones_in_the_backlog)
{
    tst_run(max_conns, NULL);
}

/* ------------------------------------------------------------------------------------------------ close */

struct handler_state {
    int started;
    int rc;
    int cleaned;
};

/* Reads until the peer ends the stream (or the read fails), then records how it ended. */
static int reading_handler(cio_stream *s, void *arg)
{
    struct handler_state *h = arg;
    char buf[64];
    ssize_t n;
    h->started++;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
        ;
    h->rc = (int)n;
    h->cleaned++;
    return h->rc;
}

static int grace_in_time(void *arg)
{
    (void)arg;
    struct handler_state h = {0};
    cio_server *srv;
    cio_addr a;
    cio_stream *c;
    cr_assert_eq(cio_start_server(&srv, reading_handler, &h, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(nk_turn_until(&h.started, 1), 0);
    cr_assert_eq(cio_server_connections(srv), 1);
    cr_assert_eq(cio_stream_close(c), 0); /* the handler sees the end while close waits for it */
    cr_assert_eq(cio_server_close(srv, CIO_SEC(3600)), 0);
    cr_assert_eq(h.rc, 0, "the handler ended by itself");
    cr_assert_eq(h.cleaned, 1);
    return 0;
}

Test(server, close_waits_for_handlers_that_finish_within_the_grace)
{
    tst_run(grace_in_time, NULL);
}

static int grace_expires(void *arg)
{
    (void)arg;
    struct handler_state h = {0};
    cio_server *srv;
    cio_addr a;
    cio_stream *c[2];
    cr_assert_eq(cio_start_server(&srv, reading_handler, &h, "::1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(cio_connect_addr(&c[i], &a, NULL), 0);
    cr_assert_eq(nk_turn_until(&h.started, 2), 0);
    cr_assert_eq(cio_server_close(srv, CIO_MS(1)), -ETIMEDOUT, "the handlers had to be cancelled");
    cr_assert_eq(h.rc, -ECANCELED, "the read in progress was cancelled");
    cr_assert_eq(h.cleaned, 2, "and each handler ran its cleanup before close returned");
    char b;
    cr_assert_eq(cio_stream_read(c[0], &b, 1), 0, "the server closed its end");
    for (int i = 0; i < 2; i++)
        cio_stream_close(c[i]);
    return 0;
}

Test(server, close_cancels_handlers_still_running_after_the_grace)
{
    tst_run(grace_expires, NULL); /* tst_run counts the descriptors: the cancelled reads left none */
}

static int grace_zero(void *arg)
{
    (void)arg;
    struct handler_state h = {0};
    cio_server *srv;
    cio_addr a;
    cio_stream *c;
    cr_assert_eq(cio_start_server(&srv, reading_handler, &h, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(nk_turn_until(&h.started, 1), 0);
    cr_assert_eq(cio_server_close(srv, 0), -ETIMEDOUT);
    cr_assert_eq(h.cleaned, 1);
    cio_stream_close(c);
    return 0;
}

Test(server, a_grace_of_zero_cancels_at_once)
{
    tst_run(grace_zero, NULL);
}

/* A client blocked in a read is cancelled: its stream is closed by its own cleanup, nothing leaks. */
struct blocked_reader {
    const cio_addr *addr;
    int started;
};

static int blocked_read(void *arg)
{
    struct blocked_reader *b = arg;
    cio_stream *s;
    char c;
    int rc = cio_connect_addr(&s, b->addr, NULL);
    if (rc < 0)
        return rc;
    b->started = 1;
    rc = (int)cio_stream_read(s, &c, 1);
    cio_stream_close(s);
    return rc;
}

static int cancel_read(void *arg)
{
    (void)arg;
    struct handler_state h = {0};
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, reading_handler, &h, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    struct blocked_reader b = {.addr = &a};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, blocked_read, &b, NULL), 0);
    cr_assert_eq(nk_turn_until(&b.started, 1), 0);
    cr_assert_eq(nk_turn_until(&h.started, 1), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(3600)), 0, "the handler saw the client go");
    return 0;
}

Test(server, cancelling_a_read_leaves_no_descriptor_open)
{
    tst_run(cancel_read, NULL);
}

struct self_close {
    cio_server *srv;
    int rc;
    int done;
};

static int close_from_handler(cio_stream *s, void *arg)
{
    (void)s;
    struct self_close *sc = arg;
    sc->rc = cio_server_close(sc->srv, 0);
    sc->done = 1;
    return 0;
}

static int close_deadlock(void *arg)
{
    (void)arg;
    struct self_close sc = {0};
    cio_addr a;
    cio_stream *c;
    cr_assert_eq(cio_start_server(&sc.srv, close_from_handler, &sc, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(sc.srv, &a), 0);
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(nk_turn_until(&sc.done, 1), 0);
    cr_assert_eq(sc.rc, -EDEADLK, "a handler cannot wait for itself");
    cio_stream_close(c);
    cr_assert_eq(cio_server_close(sc.srv, CIO_SEC(3600)), 0);
    return 0;
}

Test(server, close_from_one_of_its_handlers_is_refused)
{
    tst_run(close_deadlock, NULL);
}

/* ------------------------------------------------------------------------------------------------ EMFILE */

/*
 * Out of descriptors. A child process runs the server under a low RLIMIT_NOFILE; this process connects more
 * clients than the child can accept. The child reports through a pipe: its port and the number of clients to
 * open; 'E' each time its loop logs a descriptor shortage; at the end 'S' and its accept counters.
 */
static int report_fd = -1;
static int handled, handled_target;
static cio_event handled_all;

static void emfile_log(void *arg, const char *line)
{
    (void)arg;
    if (strstr(line, "accept") && strstr(line, "too many open files"))
        (void)!write(report_fd, "E", 1);
}

static int counting_echo(cio_stream *s, void *arg)
{
    int rc = nk_echo(s, arg);
    if (++handled == handled_target)
        cio_event_set(&handled_all);
    return rc;
}

static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int max = 0;
    while ((e = readdir(d)))
        if (atoi(e->d_name) > max)
            max = atoi(e->d_name);
    closedir(d);
    return max;
}

static int emfile_server(void *arg)
{
    (void)arg;
    cio_server *srv;
    cio_addr a;
    if (cio_start_server(&srv, counting_echo, NULL, "127.0.0.1", 0, NULL) < 0 || cio_server_addr(srv, &a) < 0)
        return -EIO;
    cio_event_init(&handled_all);
    /* At most 4 descriptors free, plus any holes below the highest: 8 more clients than that must wait. */
    int limit = highest_fd() + 1 + 4;
    int msg[2] = {cio_addr_port(&a), limit + 8};
    handled_target = msg[1] + 1; /* and one last client to show that serving goes on */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)limit;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || write(report_fd, msg, sizeof msg) != sizeof msg)
        return -EIO;
    int rc = cio_event_wait(&handled_all);
    struct cio__server_stats st;
    cio__server_stats(srv, &st);
    if (rc == 0)
        rc = cio_server_close(srv, CIO_INFINITE);
    if (write(report_fd, "S", 1) != 1 || write(report_fd, &st, sizeof st) != sizeof st)
        return -EIO;
    return rc;
}

static void read_full(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        cr_assert_gt(r, 0, "the child's report ended early");
        got += (size_t)r;
    }
}

Test(server, running_out_of_descriptors_backs_off_logs_once_and_recovers)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        cio_loop *loop;
        cio_loop_opts o = {.log = emfile_log};
        int rc = cio_loop_open(&loop, &o);
        if (rc == 0)
            rc = cio_loop_run(loop, emfile_server, NULL);
        if (rc == 0)
            rc = cio_loop_close(loop);
        _exit(rc == 0 ? 0 : 1);
    }
    close(p[1]);
    int msg[2];
    read_full(p[0], msg, sizeof msg);
    int port = msg[0], nclients = msg[1];
    cr_assert(nclients > 0 && nclients < 400);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int *fds = calloc((size_t)nclients, sizeof *fds);
    for (int i = 0; i < nclients; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&sin, sizeof sin), 0, "client %d: %s", i, strerror(errno));
    }
    char c;
    read_full(p[0], &c, 1);
    cr_assert_eq(c, 'E', "the child logged the shortage");
    for (int i = 0; i < nclients; i++)
        close(fds[i]); /* the child's handlers end, its descriptors free up, the waiting clients get in */
    free(fds);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    cr_assert_eq(write(fd, "ping", 4), 4);
    char buf[4];
    read_full(fd, buf, 4);
    cr_assert(memcmp(buf, "ping", 4) == 0, "the server serves again");
    close(fd);
    read_full(p[0], &c, 1);
    cr_assert_eq(c, 'S', "logged once only (got '%c')", c);
    struct cio__server_stats st;
    read_full(p[0], &st, sizeof st);
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    cr_log_info("%d clients: %llu accept calls, %llu short of descriptors", nclients,
                (unsigned long long)st.accept_calls, (unsigned long long)st.accept_nofd);
    cr_assert_eq(st.accepted, (uint64_t)nclients + 1);
    cr_assert_geq(st.accept_nofd, 1);
    /* Each shortage sleeps 10 ms or more before the next try. A spinning loop would retry millions of times in
       the moments the clients take to go; pausing, it retries a few times per connection at most. */
    cr_assert_leq(st.accept_nofd, 4 * (uint64_t)nclients + 64, "%llu retries: the accept loop spins",
                  (unsigned long long)st.accept_nofd);
}

/* ------------------------------------------------------------------------------------------------ kept connections */

static cio_server *keeper_server(struct nk_keeper *k, cio_addr *a, const cio_server_opts *o)
{
    cio_server *srv;
    cr_assert_eq(cio_start_server(&srv, nk_line_keeper, k, "127.0.0.1", 0, o), 0);
    cr_assert_eq(cio_server_addr(srv, a), 0);
    return srv;
}

static struct cio__server_stats stats_of(cio_server *srv)
{
    struct cio__server_stats st;
    cio__server_stats(srv, &st);
    return st;
}

/* Let the loop go round `n` times (each a poll: parked connections and handlers settle). */
static void turns(int n)
{
    for (int t = 0; t < n; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
}

/* Go round until the server has no connection left (a bounded number of times). */
static void until_no_connections(cio_server *srv, int most)
{
    for (int t = 0; t < most && cio_server_connections(srv) > 0; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(cio_server_connections(srv), 0, "the connection was closed");
}

/* Between requests the connection waits with no task; each request gets a task of its own. */
static int keep_parks_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, NULL);
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    for (int i = 0; i < 5; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "req %d\n", i);
        nk_roundtrip(c, msg);
        turns(10);
        if (!tst_chaos_on()) /* short reads leave the edge set: the server reads on rather than park */
            cr_assert_eq(stats_of(srv).parked, (uint64_t)i + 1, "parked after each answer");
        cr_assert_eq(cio_server_connections(srv), 1, "a parked connection is still a connection");
    }
    cr_assert_eq(k.calls, 5);
    cr_assert_eq(cio_stream_close(c), 0);
    int want = 1;
    cr_assert_eq(nk_turn_until(&k.ends, want), 0, "the end wakes the parked connection; the handler sees it");
    until_no_connections(srv, 10);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, a_kept_connection_waits_without_a_task_between_requests)
{
    tst_run(keep_parks_body, NULL);
}

/* Requests that came together are answered in one task, without parking in between. */
static int keep_pipelined_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, NULL);
    cio_stream *c;
    char back[64];
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(cio_stream_write(c, "one\ntwo\nthree\n", 14), 0);
    cr_assert_eq(cio_stream_read_exactly(c, back, 14, NULL), 14);
    cr_assert_eq(memcmp(back, "one\ntwo\nthree\n", 14), 0);
    cr_assert_eq(k.calls, 3);
    turns(10);
    cr_assert_eq(stats_of(srv).parked, 1, "parked once, after the third");
    cr_assert_eq(cio_stream_close(c), 0);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, kept_connections_answer_pipelined_requests_before_parking)
{
    tst_run(keep_pipelined_body, NULL);
}

static int close_server_task(void *arg)
{
    return cio_server_close(arg, CIO_INFINITE);
}

/* A handler's queued output keeps draining while its connection is parked, and closing the server flushes it. */
static int keep_drains_body(void *arg)
{
    (void)arg;
    enum { EXTRA = 4 << 20 };
    struct nk_keeper k = {.extra = EXTRA};
    cio_addr a;
    /* A high-water mark above the reply, so the handler queues all of it and parks at once. */
    cio_server *srv = keeper_server(&k, &a, &(cio_server_opts){.stream.high_water = 8 << 20});
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(cio_stream_write(c, "big\n", 4), 0);
    for (int t = 0; t < 100 && stats_of(srv).parked == 0; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(stats_of(srv).parked, 1, "parked with megabytes still queued");
    char *got = malloc(EXTRA + 4);
    cr_assert_not_null(got);
    cr_assert_eq(cio_stream_read_exactly(c, got, EXTRA + 4, NULL), EXTRA + 4, "all of it came while parked");
    cr_assert_eq(memcmp(got, "big\n", 4), 0);
    /* Again, and this time the server closes while the output is queued: close flushes it, then ends. */
    cr_assert_eq(cio_stream_write(c, "big\n", 4), 0);
    for (int t = 0; t < 100 && stats_of(srv).parked == 1; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(stats_of(srv).parked, 2);
    cio_task *closer;
    cr_assert_eq(cio_spawn(&closer, close_server_task, srv, NULL), 0);
    cr_assert_eq(cio_stream_read_exactly(c, got, EXTRA + 4, NULL), EXTRA + 4, "closing flushed what was queued");
    char end;
    cr_assert_eq(cio_stream_read(c, &end, 1), 0, "then closed the connection");
    cr_assert_eq(cio_join(closer), 0);
    cr_assert_eq(k.calls, 2, "a closing server does not call the handler again");
    free(got);
    cr_assert_eq(cio_stream_close(c), 0);
    return 0;
}

Test(server, a_parked_connection_drains_its_output_and_closing_flushes_it)
{
    tst_run(keep_drains_body, NULL);
}

/* Parked connections count toward max_connections: a further one waits in the backlog until one goes. */
static int keep_limit_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, &(cio_server_opts){.max_connections = 1});
    cio_stream *c1, *c2;
    cr_assert_eq(cio_connect_addr(&c1, &a, NULL), 0);
    nk_roundtrip(c1, "first\n");
    cr_assert_eq(cio_connect_addr(&c2, &a, NULL), 0, "the backlog takes it");
    cr_assert_eq(cio_stream_write(c2, "second\n", 7), 0);
    turns(20);
    cr_assert_eq(k.calls, 1, "the second is not served while the first is parked");
    cr_assert_eq(cio_server_connections(srv), 1);
    cr_assert_eq(cio_stream_close(c1), 0);
    char back[8];
    cr_assert_eq(cio_stream_read_exactly(c2, back, 7, NULL), 7, "the first gone, the second is served");
    cr_assert_eq(memcmp(back, "second\n", 7), 0);
    cr_assert_eq(cio_stream_close(c2), 0);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, parked_connections_count_toward_max_connections)
{
    tst_run(keep_limit_body, NULL);
}

/* A peer that resets a parked connection: the handler is called, learns it, and the connection goes. */
static int keep_reset_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, NULL);
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    nk_roundtrip(c, "hello\n");
    turns(10);
    cr_assert_eq(stats_of(srv).parked, 1);
    cio_stream_abort(c); /* a TCP reset */
    cr_assert_eq(nk_turn_until(&k.ends, 1), 0);
    until_no_connections(srv, 10);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, a_reset_wakes_a_parked_connection_and_it_goes)
{
    tst_run(keep_reset_body, NULL);
}

/* Closing a server with parked connections closes them (the peers see the end), each in a task of its own. */
static int keep_close_body(void *arg)
{
    (void)arg;
    enum { N = 50 };
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, NULL);
    cio_stream *c[N];
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_connect_addr(&c[i], &a, NULL), 0);
        nk_roundtrip(c[i], "hi\n");
    }
    turns(10);
    cr_assert_eq(stats_of(srv).parked, N);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0, "closed within the grace, nothing cancelled");
    for (int i = 0; i < N; i++) {
        char b;
        cr_assert_eq(cio_stream_read(c[i], &b, 1), 0);
        cr_assert_eq(cio_stream_close(c[i]), 0);
    }
    cr_assert_eq(k.calls, N);
    return 0;
}

Test(server, closing_the_server_closes_parked_connections)
{
    tst_run(keep_close_body, NULL);
}

/* Waits for the test to let it go, then answers one line and asks to be kept: a request under way at close. */
struct slow_keeper {
    cio_event go;
    int started, calls;
};

static int slow_keeper_fn(cio_stream *s, void *arg)
{
    struct slow_keeper *k = arg;
    char line[64];
    k->calls++;
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    if (n <= 0)
        return (int)n;
    k->started++;
    int rc = cio_event_wait(&k->go);
    if (rc == 0)
        rc = cio_stream_write(s, line, (size_t)n);
    return rc < 0 ? rc : CIO_CONN_KEEP;
}

/* A handler that returns CIO_CONN_KEEP while the server closes is not parked: its connection closes, and close
   returns (it used to wait forever for a connection with no task). */
static int keep_during_close_body(void *arg)
{
    (void)arg;
    struct slow_keeper k = {0};
    cio_event_init(&k.go);
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, slow_keeper_fn, &k, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(cio_stream_write(c, "mid\n", 4), 0);
    cr_assert_eq(nk_turn_until(&k.started, 1), 0);
    cio_task *closer;
    cr_assert_eq(cio_spawn(&closer, close_server_task, srv, NULL), 0);
    turns(10);
    cio_event_set(&k.go);
    char back[4], end;
    cr_assert_eq(cio_stream_read_exactly(c, back, 4, NULL), 4, "the request under way was answered");
    cr_assert_eq(cio_stream_read(c, &end, 1), 0, "then the connection closed instead of parking");
    cr_assert_eq(cio_join(closer), 0, "within the grace");
    cr_assert_eq(k.calls, 1);
    cr_assert_eq(cio_stream_close(c), 0);
    cio_event_fini(&k.go);
    return 0;
}

Test(server, a_handler_keeping_its_connection_during_close_has_it_closed)
{
    tst_run(keep_during_close_body, NULL);
}

/* Asks to be kept whatever happened, even after the end: the server must close the connection, not call the
   handler over and over. */
static int stubborn_keeper(cio_stream *s, void *arg)
{
    int *calls = arg;
    char line[64];
    (*calls)++;
    (void)cio_stream_read_line(s, line, sizeof line);
    return CIO_CONN_KEEP;
}

static int keep_after_end_body(void *arg)
{
    (void)arg;
    int calls = 0;
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, stubborn_keeper, &calls, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_eq(cio_stream_write(c, "x\n", 2), 0);
    cr_assert_eq(cio_stream_close(c), 0);
    for (int t = 0; t < 1000 && (cio_server_connections(srv) > 0 || calls == 0); t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(cio_server_connections(srv), 0, "closed once the handler had seen the end");
    cr_assert_leq(calls, 3, "%d calls: the line, the end, no more", calls);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, keeping_a_connection_that_ended_closes_it)
{
    tst_run(keep_after_end_body, NULL);
}

/* keep_timeout closes a connection parked that long without input, on the mock clock: exactly then. */
static int keep_timeout_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, &(cio_server_opts){.keep_timeout = CIO_SEC(30)});
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    nk_roundtrip(c, "one\n");
    int64_t parked = cio_now();
    char end;
    cr_assert_eq(cio_stream_read(c, &end, 1), 0, "closed by the server once idle");
    cr_assert_eq(cio_now() - parked, CIO_SEC(30), "closed when the keep timeout ran out, not before or after");
    cr_assert_eq(k.calls, 1, "the handler was not called for the timeout");
    cr_assert_eq(stats_of(srv).keep_expired, 1);
    until_no_connections(srv, 100);
    cr_assert_eq(cio_stream_close(c), 0);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, keep_timeout_closes_a_connection_parked_without_input)
{
    tst_run_expect(keep_timeout_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

/* Kept connections re-arm their timers each time they park, and closing the server while they wait on them
   leaves none to fire later on freed memory. */
static int keep_timeout_close_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv = keeper_server(&k, &a, &(cio_server_opts){.keep_timeout = CIO_SEC(3600)});
    cio_stream *c[8];
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(cio_connect_addr(&c[i], &a, NULL), 0);
        nk_roundtrip(c[i], "hi\n");
        nk_roundtrip(c[i], "again\n"); /* woken, disarmed, parked and armed again */
    }
    turns(10);
    cr_assert_eq(stats_of(srv).parked, 16);
    cr_assert_eq(stats_of(srv).keep_expired, 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(cio_stream_close(c[i]), 0);
    cr_assert_eq(cio_sleep(CIO_MS(1)), 0, "the loop's timers hold nothing of the server's");
    return 0;
}

Test(server, closing_a_server_disarms_its_keep_timers)
{
    tst_run(keep_timeout_close_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ read timeout */

/* A handler that reads lines until the end or an error, and reports how it ended. */
struct line_reader {
    int rc;
    int64_t ended_at;
};

static int read_lines(cio_stream *s, void *arg)
{
    struct line_reader *r = arg;
    char line[128];
    ssize_t n;
    while ((n = cio_stream_read_line(s, line, sizeof line)) > 0)
        ;
    r->rc = (int)n;
    r->ended_at = cio_now();
    return (int)n;
}

/* read_timeout bounds the wait for the first byte and for the rest of a line: a silent client and one that stops
   mid-line are both cut off after it, exactly (mock clock), and see the end of the stream. */
static int read_timeout_body(void *arg)
{
    (void)arg;
    struct line_reader r = {0};
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(
        cio_start_server(&srv, read_lines, &r, "127.0.0.1", 0, &(cio_server_opts){.read_timeout = CIO_SEC(10)}), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    for (int mid_line = 0; mid_line < 2; mid_line++) {
        cio_stream *c;
        cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
        int64_t t0 = cio_now();
        if (mid_line)
            cr_assert_eq(cio_stream_write(c, "GET / HT", 8), 0);
        char b;
        cr_assert_eq(cio_stream_read(c, &b, 1), 0, "the server closed the connection");
        cr_assert_eq(cio_now() - t0, CIO_SEC(10));
        cr_assert_eq(r.rc, CIO_EREADTIMEOUT, "the handler's read said why");
        cr_assert_eq(cio_stream_close(c), 0);
        until_no_connections(srv, 100);
    }
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, read_timeout_closes_a_silent_connection_and_one_stopped_mid_line)
{
    tst_run_expect(read_timeout_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

/* keep_timeout for kept connections, read_timeout for the rest: each applies where it says. */
static int keep_and_read_body(void *arg)
{
    (void)arg;
    struct nk_keeper k = {0};
    cio_addr a;
    cio_server *srv =
        keeper_server(&k, &a, &(cio_server_opts){.keep_timeout = CIO_SEC(30), .read_timeout = CIO_SEC(5)});
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    nk_roundtrip(c, "one\n");
    int64_t t0 = cio_now();
    char end;
    cr_assert_eq(cio_stream_read(c, &end, 1), 0);
    cr_assert_eq(cio_now() - t0, CIO_SEC(30), "kept between requests for keep_timeout, not read_timeout");
    cr_assert_eq(stats_of(srv).keep_expired, 1);
    cr_assert_eq(cio_stream_close(c), 0);
    until_no_connections(srv, 100);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    return 0;
}

Test(server, a_kept_connection_waits_keep_timeout_and_a_handlers_read_the_read_timeout)
{
    tst_run_expect(keep_and_read_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

/* ------------------------------------------------------------------------------------------------ per connection */

struct tracked {
    int id;
    int calls;
    char *owned; /* what the connection allocated, freed by on_close */
};

struct tracking {
    int next_id, closed;
    int ids_closed[16];
    bool bad_state;
};

/* Per call: check the storage is the same connection's, answer one line, keep the connection. */
static int tracked_keeper(cio_stream *s, void *arg)
{
    struct tracking *tr = arg;
    struct tracked *st = cio_server_conn_state(s);
    if (!st) {
        tr->bad_state = true;
        return -EINVAL;
    }
    if (st->calls++ == 0) {
        if (st->id != 0 || st->owned)
            tr->bad_state = true; /* zeroed at accept */
        st->id = ++tr->next_id;
        st->owned = cio__malloc(64);
    }
    char line[64];
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    if (n <= 0)
        return (int)n;
    if (strncmp(line, "hang", 4) == 0)
        return cio_sleep(TK_FOREVER); /* until the server's close cancels it */
    if (strncmp(line, "bye", 3) == 0)
        return 0;
    int rc = cio_stream_write(s, line, (size_t)n);
    return rc < 0 ? rc : CIO_CONN_KEEP;
}

static void tracked_close(void *state, void *arg)
{
    struct tracked *st = state;
    struct tracking *tr = arg;
    cio__free(st->owned);
    st->owned = NULL;
    tr->ids_closed[tr->closed++ % 16] = st->id;
}

static cio_stream *tracked_client(const cio_addr *a, const char *line)
{
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, a, NULL), 0);
    if (line)
        nk_roundtrip(c, line);
    return c;
}

/*
 * on_close runs once for every connection however it ends: the handler returning 0, the peer closing, the keep
 * timeout, a parked connection at the server's close, and a handler cancelled by it. The storage lives across
 * calls of a kept connection; what each allocated is freed (the harness counts blocks).
 */
static int on_close_body(void *arg)
{
    (void)arg;
    struct tracking tr = {0};
    cio_server *srv;
    cio_addr a;
    cio_server_opts o = {
        .conn_state_size = sizeof(struct tracked), .on_close = tracked_close, .keep_timeout = CIO_SEC(60)};
    cr_assert_eq(cio_start_server(&srv, tracked_keeper, &tr, "127.0.0.1", 0, &o), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    /* 1: the handler returns 0. */
    cio_stream *c1 = tracked_client(&a, "hi\n");
    nk_roundtrip(c1, "again\n");
    cr_assert_eq(cio_stream_write(c1, "bye\n", 4), 0);
    char b;
    cr_assert_eq(cio_stream_read(c1, &b, 1), 0);
    cr_assert_eq(cio_stream_close(c1), 0);
    until_no_connections(srv, 100);
    cr_assert_eq(tr.closed, 1);
    /* 2: the peer closes a parked connection. */
    cio_stream *c2 = tracked_client(&a, "hi\n");
    cr_assert_eq(cio_stream_close(c2), 0);
    until_no_connections(srv, 100);
    cr_assert_eq(tr.closed, 2);
    /* 3: the keep timeout. */
    cio_stream *c3 = tracked_client(&a, "hi\n");
    cr_assert_eq(cio_stream_read(c3, &b, 1), 0, "closed after keep_timeout");
    cr_assert_eq(cio_stream_close(c3), 0);
    until_no_connections(srv, 100);
    cr_assert_eq(tr.closed, 3);
    /* 4 and 5: parked, and hanging in its handler, when the server closes. */
    cio_stream *c4 = tracked_client(&a, "hi\n");
    cio_stream *c5 = tracked_client(&a, "hi\n");
    cr_assert_eq(cio_stream_write(c5, "hang\n", 5), 0);
    turns(10);
    cr_assert_eq(cio_server_connections(srv), 2);
    cr_assert_eq(cio_server_close(srv, 0), -ETIMEDOUT, "the hanging handler had to be cancelled");
    cr_assert_eq(tr.closed, 5, "once for every connection, however it ended");
    cr_assert_not(tr.bad_state);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < i; j++)
            cr_assert_neq(tr.ids_closed[i], tr.ids_closed[j], "each connection closed once");
    cr_assert_eq(cio_stream_close(c4), 0);
    cr_assert_eq(cio_stream_close(c5), 0);
    return 0;
}

Test(server, on_close_runs_once_per_connection_however_it_ends_and_state_lives_across_calls)
{
    tst_run_expect(on_close_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

static int no_state_body(void *arg)
{
    (void)arg;
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *c;
    cr_assert_eq(cio_connect_addr(&c, &a, NULL), 0);
    cr_assert_null(cio_server_conn_state(c), "a client's stream is no server connection");
    cr_assert_null(cio_server_conn_state(NULL));
    cr_assert_eq(cio_stream_close(c), 0);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, &(cio_server_opts){.read_timeout = -1}),
                 -EINVAL);
    return 0;
}

Test(server, conn_state_is_null_off_the_server_and_a_negative_read_timeout_is_refused)
{
    tst_run(no_state_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ given sockets */

/* A socket that already listens (as systemd hands one over) is served; others are refused and stay the caller's. */
static int given_fd(void *arg)
{
    (void)arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    cio_server *srv;
    cr_assert_eq(cio_start_server_fd(&srv, nk_echo, NULL, fd, NULL), -EINVAL, "not listening yet");
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_eq(cio_start_server_fd(&srv, nk_echo, NULL, fd, NULL), 0);
    cio_addr a;
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cr_assert_gt(cio_addr_port(&a), 0);
    cio_stream *s;
    cr_assert_eq(cio_connect_addr(&s, &a, NULL), 0);
    nk_roundtrip(s, "given");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0); /* and the descriptor with it: tst_run counts them */

    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(cio_start_server_fd(&srv, nk_echo, NULL, p[0], NULL), -ENOTSOCK);
    close(p[0]);
    close(p[1]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_eq(cio_start_server_fd(&srv, nk_echo, NULL, u, NULL), -EINVAL);
    close(u);
    cr_assert_eq(cio_start_server_fd(&srv, nk_echo, NULL, -1, NULL), -EINVAL);
    cr_assert_eq(cio_start_server_fd(NULL, nk_echo, NULL, 3, NULL), -EINVAL);
    return 0;
}

Test(server, serves_a_socket_that_already_listens)
{
    tst_run(given_fd, NULL);
}

/* Stopping ends accepting at once; connections already taken are served until the close. */
static int stop_accepting(void *arg)
{
    (void)arg;
    cio_addr a;
    cio_server *srv = nk_echo_server("127.0.0.1", &a);
    cio_stream *s, *t;
    cr_assert_eq(cio_connect_addr(&s, &a, NULL), 0);
    nk_roundtrip(s, "before");
    cr_assert_eq(cio_server_stop(srv), 0);
    cr_assert_eq(cio_server_stop(srv), 0, "again: nothing more to do");
    cr_assert_eq(cio_connect_addr(&t, &a, NULL), -ECONNREFUSED);
    nk_roundtrip(s, "after");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_INFINITE), 0);
    cr_assert_eq(cio_server_stop(NULL), -EINVAL);
    return 0;
}

Test(server, stop_ends_accepting_and_keeps_serving_what_was_taken)
{
    tst_run(stop_accepting, NULL);
}
