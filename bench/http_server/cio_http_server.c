/*
 * cio_http_server.c: the http-server suite's cio side: cio.web serving a 13-byte plaintext body through the router
 * and a coroutine handler, as a web framework's "hello world" does.
 *
 *     cio_http_server [--port PORT] [--workers N] [--routes N] [--static DIR]
 *
 * GET /plaintext answers "Hello, World!" (text/plain, keep-alive). --routes N registers N more routes,
 * /r0/{x} ... /r<N-1>/{x}, each answering the same, to show that lookup does not grow with the route count.
 * --workers N serves with N worker threads (cio_web_workers_start: one loop each on SO_REUSEPORT); 1, the default,
 * serves on the main loop. --static DIR serves DIR's files under /static/ (cio_web_add_static, its defaults: the
 * open-file cache on, sendfile). Listens on 127.0.0.1 (port 0: the kernel picks one), prints "listening on
 * 127.0.0.1:PORT" once ready and stops gracefully on SIGTERM or SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

static const char hello[] = "Hello, World!";

struct config {
    int port;
    unsigned workers;
    long routes;
    const char *static_dir;
};

static int plaintext(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_respond(res, 200, "text/plain", hello, sizeof(hello) - 1);
}

static int add_routes(cio_web_app *app, long n)
{
    char pattern[48];
    int rc = cio_web_get(app, "/plaintext", plaintext, NULL);

    for (long i = 0; rc >= 0 && i < n; i++) {
        snprintf(pattern, sizeof(pattern), "/r%ld/{x}", i);
        rc = cio_web_get(app, pattern, plaintext, NULL);
    }
    return rc;
}

static void ready(int port)
{
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
}

static int serve(void *arg)
{
    const struct config *cfg = arg;
    cio_web_server_opts opts = {.host = "127.0.0.1", .port = cfg->port};
    cio_web_app *app;
    cio_web_server *srv = NULL;
    cio_web_workers *w = NULL;
    int rc, wait_rc;

    rc = cio_web_app_open(&app, NULL);
    if (rc < 0)
        return rc;
    rc = add_routes(app, cfg->routes);
    if (rc >= 0 && cfg->static_dir)
        rc = cio_web_add_static(app, "/static", cfg->static_dir, NULL);
    if (rc >= 0)
        rc = cfg->workers > 1 ? cio_web_workers_start(&w, app, &opts, cfg->workers)
                              : cio_web_server_start(&srv, app, &opts);
    if (rc < 0) {
        fprintf(stderr, "cio_http_server: %s\n", cio_strerror(rc));
        cio_web_app_close(app);
        return rc;
    }
    ready(w ? cio_web_workers_port(w) : cio_web_server_port(srv));
    /* Serve until SIGTERM or SIGINT cancels this task (cancel_on_signals), then close gracefully. */
    wait_rc = cio_sleep(CIO_SEC(86400));
    rc = w ? cio_web_workers_close(w, CIO_MS(500)) : cio_web_server_close(srv, CIO_MS(500));
    cio_web_app_close(app);
    if (rc < 0 && rc != -ETIMEDOUT)
        return rc;
    return wait_rc == -ECANCELED ? 0 : wait_rc;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--port PORT] [--workers N] [--routes N] [--static DIR]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    struct config cfg = {.port = 0, .workers = 1, .routes = 0};
    cio_loop_opts lopts = {.cancel_on_signals = true};
    int rc;

    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage(argv[0]);
        if (!strcmp(argv[i], "--port"))
            cfg.port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers"))
            cfg.workers = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--routes"))
            cfg.routes = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--static"))
            cfg.static_dir = argv[i + 1];
        else
            usage(argv[0]);
    }
    if (cfg.port < 0 || cfg.port > 65535 || cfg.workers < 1 || cfg.workers > 64 || cfg.routes < 0 ||
        cfg.routes > 1000000)
        usage(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    rc = cio_run_opts(serve, &cfg, &lopts);
    return rc == -EINTR ? 0 : cio_exit_code(rc);
}
