/* workers.c: one loop per core: worker threads serving one frozen app on SO_REUSEPORT sockets, each with its hooks
 * and state on its own loop, reached from a client loop in this thread; stopped gracefully. Built for
 * ThreadSanitizer too. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "cio/web.h"

#define WORKERS 2
#define CLIENTS 64

static atomic_int started, cleaned;

static int on_startup(cio_web_server *srv, void *arg)
{
    (void)arg;
    int *state = malloc(sizeof *state); /* per worker: a counter nobody else touches */
    *state = 0;
    atomic_fetch_add(&started, 1);
    return cio_web_server_set_state(srv, state);
}

static int on_cleanup(cio_web_server *srv, void *arg)
{
    (void)arg;
    free(cio_web_server_state(srv));
    atomic_fetch_add(&cleaned, 1);
    return 0;
}

static int h_who(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    int *count = cio_web_state(req);
    ++*count;
    return cio_web_text(res, 200, "%d", cio_web_server_worker(cio_web_request_server(req)));
}

struct client {
    int port;
    int worker; /* who answered, or -1 */
};

static int client(void *arg)
{
    struct client *c = arg;
    c->worker = -1;
    cio_stream *s;
    if (cio_open_connection(&s, "127.0.0.1", c->port, NULL) < 0)
        return 0;
    static const char req[] = "GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char buf[512];
    size_t got = 0;
    if (cio_stream_write(s, req, sizeof req - 1) == 0) {
        ssize_t n;
        while (got < sizeof buf - 1 && (n = cio_stream_read(s, buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)n;
    }
    buf[got] = 0;
    const char *body = strstr(buf, "\r\n\r\n");
    if (!strncmp(buf, "HTTP/1.1 200 ", 13) && body)
        c->worker = atoi(body + 4);
    cio_stream_close(s);
    return 0;
}

static struct client clients[CLIENTS];

static int clients_body(void *arg)
{
    int port = *(int *)arg;
    cio_task *t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].port = port;
        if (cio_spawn(&t[i], client, &clients[i], NULL) < 0)
            return -ENOMEM;
    }
    for (int i = 0; i < CLIENTS; i++)
        cio_join(t[i]);
    return 0;
}

Test(workers, serve_one_app_from_a_loop_per_core)
{
    signal(SIGPIPE, SIG_IGN);
    tst_install_allocator();
    atomic_store(&started, 0);
    atomic_store(&cleaned, 0);
    cio_web_app *app;
    cr_assert_eq(cio_web_app_open(&app, NULL), 0);
    cr_assert_eq(cio_web_on_startup(app, on_startup, NULL), 0);
    cr_assert_eq(cio_web_on_cleanup(app, on_cleanup, NULL), 0);
    cr_assert_eq(cio_web_get(app, "/who", h_who, NULL), 0);
    cio_web_workers *w;
    cio_web_server_opts o = {.host = "127.0.0.1"};
    cr_assert_eq(cio_web_workers_start(&w, app, &o, WORKERS), 0);
    cr_assert_eq(cio_web_workers_count(w), WORKERS);
    cr_assert_eq(atomic_load(&started), WORKERS);
    int port = cio_web_workers_port(w);
    cr_assert_gt(port, 0);
    cr_assert_eq(cio_web_get(app, "/late", h_who, NULL), CIO_EWEB_FROZEN);
    cr_assert_eq(cio_run(clients_body, &port), 0);
    int per[WORKERS] = {0};
    for (int i = 0; i < CLIENTS; i++) {
        cr_assert(clients[i].worker >= 0 && clients[i].worker < WORKERS, "client %d: %d", i, clients[i].worker);
        per[clients[i].worker]++;
    }
    cr_assert_eq(per[0] + per[1], CLIENTS);
    cr_assert_eq(cio_web_workers_close(w, CIO_SEC(10)), 0);
    cr_assert_eq(atomic_load(&cleaned), WORKERS);
    cio_web_app_close(app);
    cr_assert_eq(tst_live_blocks(), 0, "nothing of cio's left allocated");
}

Test(workers, bad_arguments_and_a_taken_port_are_errors)
{
    tst_install_allocator();
    cio_web_app *app;
    cr_assert_eq(cio_web_app_open(&app, NULL), 0);
    cio_web_workers *w;
    cr_assert_eq(cio_web_workers_start(NULL, app, NULL, 1), -EINVAL);
    cr_assert_eq(cio_web_workers_start(&w, NULL, NULL, 1), -EINVAL);
    cr_assert_eq(cio_web_workers_start(&w, app, &(cio_web_server_opts){.unix_path = "/tmp/x"}, 2), -EINVAL);
    cr_assert_eq(cio_web_workers_start(&w, app, &(cio_web_server_opts){.host = "nonsense"}, 2), -EINVAL);
    cr_assert_eq(cio_web_workers_port(NULL), -EINVAL);
    cr_assert_eq(cio_web_workers_count(NULL), 0);
    cr_assert_eq(cio_web_workers_close(NULL, 0), 0);
    /* Without SO_REUSEPORT on the first, a second set cannot share its port. */
    cio_web_workers *a, *b;
    cr_assert_eq(cio_web_workers_start(&a, app, &(cio_web_server_opts){.host = "127.0.0.1"}, 1), 0);
    int port = cio_web_workers_port(a);
    cr_assert_eq(cio_web_workers_start(&b, app, &(cio_web_server_opts){.host = "127.0.0.1", .port = port}, 2),
                 -EADDRINUSE);
    cr_assert_eq(cio_web_workers_close(a, 0), 0);
    cio_web_app_close(app);
    cr_assert_eq(tst_live_blocks(), 0);
}
