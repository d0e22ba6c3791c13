/* lifecycle.c: the app's startup, shutdown and cleanup hooks, per-server state, and where a server listens: IPv6,
 * Unix sockets, a socket handed in, systemd's variables. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netkit.h"
#include "webkit.h"

TestSuite(lifecycle, .init = wk_init);

static char trail[256];

static void note(const char *what)
{
    size_t n = strlen(trail);
    snprintf(trail + n, sizeof trail - n, "%s;", what);
}

static int hook(cio_web_server *srv, void *arg)
{
    note(arg);
    if (!strcmp(arg, "startup")) {
        /* What a startup hook opens, handlers reach through the server's state. */
        WK_EQ(cio_web_server_set_state(srv, "shared pool"), 0);
        /* Hooks may wait. */
        WK_EQ(cio_sleep(CIO_MS(1)), 0);
    }
    if (!strcmp(arg, "fail"))
        return -EPERM;
    return 0;
}

static int h_state(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    note("request");
    WK_CHECK(cio_web_request_server(req) != NULL);
    return cio_web_text(res, 200, "%s/%d", (const char *)cio_web_state(req),
                        cio_web_server_worker(cio_web_request_server(req)));
}

static int hooks_body(void *arg)
{
    (void)arg;
    trail[0] = 0;
    cio_web_app *app, *sub;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_app_open(&sub, NULL), 0);
    WK_EQ(cio_web_on_startup(app, hook, "startup"), 0);
    WK_EQ(cio_web_on_shutdown(app, hook, "shutdown"), 0);
    WK_EQ(cio_web_on_cleanup(app, hook, "cleanup"), 0);
    WK_EQ(cio_web_on_startup(sub, hook, "sub-startup"), 0);
    WK_EQ(cio_web_on_cleanup(sub, hook, "sub-cleanup"), 0);
    WK_EQ(cio_web_on_startup(NULL, hook, NULL), -EINVAL);
    WK_EQ(cio_web_on_startup(app, NULL, NULL), -EINVAL);
    WK_EQ(cio_web_get(app, "/", h_state, NULL), 0);
    WK_EQ(cio_web_add_subapp(app, "/sub", sub), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    WK_STREQ(trail, "startup;sub-startup;");
    WK_EQ(cio_web_on_cleanup(app, hook, "late"), CIO_EWEB_FROZEN);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/", NULL, NULL, 0, &r), 0);
    WK_STREQ(r.body.data, "shared pool/0");
    cio_web_test_response_fini(&r);
    WK_STREQ(cio_web_server_state(cio_web_test_server(t)), "shared pool");
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    WK_STREQ(trail, "startup;sub-startup;request;shutdown;cleanup;sub-cleanup;");
    cio_web_app_close(app);
    WK_EQ(cio_web_server_set_state(NULL, NULL), -EINVAL);
    WK_ISNULL(cio_web_server_state(NULL));
    return 0;
}

Test(lifecycle, hooks_run_in_order_around_serving)
{
    tst_run(hooks_body, NULL);
    wk_verdict();
}

/* A startup hook that fails stops the start: nothing listens, cleanup runs, the error is the start's. */
static int failing_body(void *arg)
{
    (void)arg;
    trail[0] = 0;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_on_startup(app, hook, "fail"), 0);
    WK_EQ(cio_web_on_startup(app, hook, "never"), 0);
    WK_EQ(cio_web_on_cleanup(app, hook, "cleanup"), 0);
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1"}), -EPERM);
    WK_STREQ(trail, "fail;cleanup;");
    cio_web_app_close(app);
    return 0;
}

Test(lifecycle, a_failing_startup_hook_stops_the_start)
{
    tst_run(failing_body, NULL);
    wk_verdict();
}

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_text(res, 200, "hello");
}

/* One request on a connection to `a`, answered "hello". */
static void request_at(const cio_addr *a)
{
    cio_stream *s;
    int rc = cio_connect_addr(&s, a, NULL);
    WK_EQ(rc, 0);
    if (rc < 0)
        return;
    WK_EQ(cio_stream_write(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), 0);
    cio_buf b = {0};
    WK_EQ(wk_read_response(s, NULL, &b, NULL), 200);
    WK_STREQ(b.data, "hello");
    cio_buf_free(&b);
    cio_stream_close(s);
}

static int listen_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/", h_hello, NULL), 0);
    cio_web_server *srv;
    cio_addr a;
    /* IPv6. */
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "::1"}), 0);
    WK_EQ(cio_web_server_addr(srv, &a), 0);
    WK_EQ(a.u.sa.sa_family, AF_INET6);
    request_at(&a);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    /* Every address (NULL host): reached on IPv4 and IPv6. */
    WK_EQ(cio_web_server_start(&srv, app, NULL), 0);
    int port = cio_web_server_port(srv);
    WK_EQ(cio_addr_parse(&a, "127.0.0.1", port), 0);
    request_at(&a);
    WK_EQ(cio_addr_parse(&a, "::1", port), 0);
    request_at(&a);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    /* A Unix socket. */
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/web.sock", dir);
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.unix_path = path}), 0);
    WK_EQ(cio_addr_unix(&a, path), 0);
    request_at(&a);
    WK_EQ(cio_web_server_port(srv) <= 0, 1);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    WK_EQ(access(path, F_OK), -1); /* the socket file goes with the server */
    nk_rmdir(dir);
    /* A socket that already listens, handed in. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    WK_EQ(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    WK_EQ(listen(fd, 16), 0);
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.listen_fd = fd}), 0);
    WK_EQ(cio_web_server_addr(srv, &a), 0);
    request_at(&a);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0); /* closes fd: tst_run counts descriptors */
    /* Taken ports and bad hosts. */
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "not an address"}), -EINVAL);
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1", .backlog = -1}), -EINVAL);
    cio_web_app_close(app);
    return 0;
}

Test(lifecycle, listens_on_ipv6_unix_sockets_and_sockets_handed_in)
{
    tst_run(listen_body, NULL);
    wk_verdict();
}

Test(lifecycle, systemd_listen_fds_are_read_once_and_only_for_this_process)
{
    int fd = -1;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    cr_assert_eq(cio_web_listen_fds(&fd), 0);
    cr_assert_eq(fd, -1);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_FDNAMES", "http:https", 1);
    cr_assert_eq(cio_web_listen_fds(&fd), 2);
    cr_assert_eq(fd, 3);
    cr_assert_null(getenv("LISTEN_PID"));
    cr_assert_null(getenv("LISTEN_FDS"));
    cr_assert_null(getenv("LISTEN_FDNAMES"));
    cr_assert_eq(cio_web_listen_fds(&fd), 0, "read once");
    setenv("LISTEN_PID", "1", 1);
    setenv("LISTEN_FDS", "1", 1);
    fd = -1;
    cr_assert_eq(cio_web_listen_fds(&fd), 0, "another process's");
    cr_assert_eq(fd, -1);
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1x", 1);
    cr_assert_eq(cio_web_listen_fds(&fd), -EINVAL);
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "-1", 1);
    cr_assert_eq(cio_web_listen_fds(&fd), -EINVAL);
    cr_assert_eq(cio_web_listen_fds(NULL), -EINVAL);
}
