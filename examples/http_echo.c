/*
 * http_echo.c: an HTTP echo server: every method on every path is answered 200 with the request body as received
 * (decoded from chunked) and the request's Content-Type.
 *
 *     http_echo [--host HOST] [--port PORT] [--workers N] [--cert FILE --key FILE [--chain FILE]]
 *
 * Defaults: 127.0.0.1, port 8080 (0: one the kernel picks), one worker (0: one per core). With --cert and --key it
 * serves HTTPS. It prints the address it listens on, then serves until SIGINT or SIGTERM and shuts down
 * gracefully.
 *
 * Try: curl --data-binary 'hello' localhost:8080/anything
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

static int echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_http_body_in *body = cio_web_body(req);
    if (!body)
        return -ENOMEM;
    const char *ct = cio_web_header(req, "Content-Type");
    if (ct && cio_web_set_header(res, "Content-Type", ct) < 0)
        ct = NULL;
    /* A body with a known length is echoed with that length, any other streamed as it comes, chunked. */
    int64_t length = cio_web_content_length(req);
    if (length < 0 && !(cio_web_head(req)->flags & CIO_HTTP_CHUNKED))
        length = 0; /* no body at all */
    int rc = cio_web_prepare(res, length);
    const void *p;
    size_t n;
    while (rc == 0 && (rc = cio_http_body_next(body, &p, &n)) == 1)
        rc = cio_web_write(res, p, n);
    return rc;
}

struct config {
    const char *host, *cert, *key, *chain;
    int port;
    unsigned workers;
};

static int serve(void *arg)
{
    const struct config *cfg = arg;
    cio_web_app *app;
    int rc = cio_web_app_open(&app, &(cio_web_app_opts){.client_max_size = (uint64_t)1 << 40});
    if (rc < 0)
        return rc;
    cio_tls_ctx *tls = NULL;
    if ((rc = cio_web_route(app, "*", "/{path:.*}", echo, NULL)) < 0)
        goto out;
    if (cfg->cert && (rc = cio_tls_ctx_new(
                          &tls, CIO_TLS_SERVER,
                          &(cio_tls_opts){.cert_file = cfg->cert, .key_file = cfg->key, .chain_file = cfg->chain})) < 0)
        goto out;
    /* The signals first, so that the workers' threads start with them blocked. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    cio_web_server_opts o = {.host = cfg->host, .port = cfg->port, .tls = tls};
    cio_web_workers *workers;
    if ((rc = cio_web_workers_start(&workers, app, &o, cfg->workers)) < 0)
        goto out;
    printf("listening on %s://%s%s%s:%d with %u worker%s\n", tls ? "https" : "http", strchr(cfg->host, ':') ? "[" : "",
           cfg->host, strchr(cfg->host, ':') ? "]" : "", cio_web_workers_port(workers), cio_web_workers_count(workers),
           cio_web_workers_count(workers) == 1 ? "" : "s");
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    rc = cio_web_workers_close(workers, CIO_SEC(10));
    if (rc == -ETIMEDOUT)
        rc = 0; /* requests that outlived the grace were cancelled: a normal end */
out:
    cio_tls_ctx_free(tls);
    cio_web_app_close(app);
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg = {.host = "127.0.0.1", .port = 8080, .workers = 1};
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--host") && v)
            cfg.host = v;
        else if (!strcmp(argv[i], "--port") && v)
            cfg.port = atoi(v);
        else if (!strcmp(argv[i], "--workers") && v)
            cfg.workers = (unsigned)atoi(v);
        else if (!strcmp(argv[i], "--cert") && v)
            cfg.cert = v;
        else if (!strcmp(argv[i], "--key") && v)
            cfg.key = v;
        else if (!strcmp(argv[i], "--chain") && v)
            cfg.chain = v;
        else {
            fprintf(stderr,
                    "usage: %s [--host HOST] [--port PORT] [--workers N] [--cert FILE --key FILE [--chain FILE]]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!cfg.cert != !cfg.key) {
        fprintf(stderr, "http_echo: --cert and --key go together\n");
        return 2;
    }
    int rc = cio_run(serve, &cfg);
    if (rc < 0)
        fprintf(stderr, "http_echo: %s\n", cio_strerror(rc));
    return cio_exit_code(rc);
}
