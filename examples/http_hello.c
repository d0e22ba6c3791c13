/*
 * http_hello.c: aiohttp's "hello world" server: a greeting, a {name} route and a JSON route.
 *
 *     http_hello [--port PORT] [--host HOST] [--static DIR]   serve until Ctrl-C (default 127.0.0.1:8080)
 *
 * Try: curl localhost:8080/  curl localhost:8080/hello/world  curl localhost:8080/api/users/42
 * With --static DIR, DIR's files are under /static/ (with listings): curl localhost:8080/static/
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

static int hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *name = cio_web_match(req, "name");
    return cio_web_text(res, 200, "Hello, %s\n", name ? name : "world");
}

static int user(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    char json[128];
    snprintf(json, sizeof json, "{\"id\": %s, \"name\": \"user %s\"}\n", cio_web_match(req, "id"),
             cio_web_match(req, "id"));
    return cio_web_json(res, 200, json);
}

struct config {
    const char *host;
    int port;
    const char *static_dir;
};

static void ready(int port, void *arg)
{
    const struct config *cfg = arg;
    printf("listening on http://%s:%d (Ctrl-C to stop)\n", cfg->host, port);
    fflush(stdout);
}

static int serve(void *arg)
{
    const struct config *cfg = arg;
    cio_web_app *app;
    int rc = cio_web_app_open(&app, NULL);
    if (rc < 0)
        return rc;
    if ((rc = cio_web_get(app, "/", hello, NULL)) < 0 || (rc = cio_web_get(app, "/hello/{name}", hello, NULL)) < 0 ||
        (rc = cio_web_get(app, "/api/users/{id:int}", user, NULL)) < 0 ||
        (cfg->static_dir &&
         (rc = cio_web_add_static(app, "/static", cfg->static_dir,
                                  &(cio_web_static_opts){.show_index = true, .precompressed = true})) < 0)) {
        cio_web_app_close(app);
        return rc;
    }
    rc = cio_web_run(
        app, &(cio_web_server_opts){.host = cfg->host, .port = cfg->port, .ready = ready, .ready_arg = (void *)cfg},
        CIO_SEC(5));
    cio_web_app_close(app);
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg = {"127.0.0.1", 8080, NULL};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            cfg.port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host"))
            cfg.host = argv[i + 1];
        else if (!strcmp(argv[i], "--static"))
            cfg.static_dir = argv[i + 1];
    }
    int rc = cio_run(serve, &cfg);
    if (rc < 0)
        fprintf(stderr, "http_hello: %s\n", cio_strerror(rc));
    return cio_exit_code(rc);
}
