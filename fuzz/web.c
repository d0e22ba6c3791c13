/* web.c: fuzz the server's whole request path from bytes: each input is what one client sends on a connection
 * (any number of requests, then the end of its stream) to a server whose app has every kind of route and
 * handler: literal, variable, typed, regular-expression and tail routes, middleware, bodies read whole, in pieces
 * and as forms, streamed responses. The server must answer or close, never crash, leak or hang. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int h_text(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *v = cio_web_match(req, "v");
    const char *q = cio_web_query(req, "q");
    const char *h = cio_web_header(req, "x-h");
    return cio_web_text(res, 200, "%s|%s|%s|%s", v ? v : "", q ? q : "", h ? h : "", cio_web_path(req));
}

static int h_body(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *d;
    size_t n;
    int rc = cio_web_read_body(req, &d, &n);
    return rc < 0 ? rc : cio_web_respond(res, 200, "application/octet-stream", d, n);
}

static int h_stream(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_http_body_in *b = cio_web_body(req);
    if (!b)
        return -ENOMEM;
    int rc = cio_web_prepare(res, -1);
    const void *p;
    size_t n;
    while (rc == 0 && (rc = cio_http_body_next(b, &p, &n)) == 1)
        rc = cio_web_write(res, p, n);
    return rc;
}

static int h_form(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_http_form *f;
    int rc = cio_http_form_open(&f, cio_web_body(req), cio_web_head(req), NULL, 0);
    if (rc < 0)
        return rc;
    const cio_http_head *ph;
    int parts = 0;
    while ((rc = cio_http_form_next_part(f, &ph)) == 1) {
        char name[64];
        (void)cio_http_form_part_name(f, name, sizeof name);
        parts++;
    }
    cio_http_form_close(f);
    return rc < 0 ? rc : cio_web_text(res, 200, "%d", parts);
}

static int h_fail(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)res;
    (void)arg;
    return -EIO;
}

static int mw(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    int rc = cio_web_next(req, res);
    (void)cio_web_add_header(res, "X-Mw", "1");
    return rc;
}

static cio_loop *loop;
static cio_web_app *app;
static cio_web_server *srv;
static int port;

static void drop_line(void *arg, const char *line, size_t len)
{
    (void)arg;
    (void)line;
    (void)len;
}

static int start(void *arg)
{
    (void)arg;
    static cio_web_access_log_opts log = {.format = CIO_WEB_LOG_COMBINED, .write = drop_line};
    if (cio_web_app_open(&app, &(cio_web_app_opts){.client_max_size = 4096}) < 0)
        abort();
    cio_web_app *sub;
    if (cio_web_app_open(&sub, NULL) < 0)
        abort();
    int rc = cio_web_use(app, mw, NULL) | cio_web_use(app, cio_web_cors, NULL) |
             cio_web_use(app, cio_web_access_log, &log) | cio_web_get(app, "/", h_text, NULL) |
             cio_web_get(app, "/a/{v}", h_text, NULL) | cio_web_get(app, "/i/{v:int}", h_text, NULL) |
             cio_web_get(app, "/r/{v:[a-z]+}.txt", h_text, NULL) | cio_web_get(app, "/t/{v:.*}", h_text, NULL) |
             cio_web_route(app, "*", "/body", h_body, NULL) | cio_web_post(app, "/stream", h_stream, NULL) |
             cio_web_post(app, "/form", h_form, NULL) | cio_web_get(app, "/fail", h_fail, NULL) |
             cio_web_use(sub, cio_web_error_pages, NULL) | cio_web_get(sub, "/{v}", h_text, NULL) |
             cio_web_add_subapp(app, "/sub", sub);
    if (rc < 0)
        abort();
    cio_web_server_opts o = {.host = "127.0.0.1",
                             .header_timeout = CIO_SEC(2),
                             .body_timeout = CIO_SEC(2),
                             .max_head = 4096,
                             .max_headers = 32,
                             .handler_timeout = CIO_SEC(2)};
    if (cio_web_server_start(&srv, app, &o) < 0)
        abort();
    port = cio_web_server_port(srv);
    return 0;
}

struct input {
    const uint8_t *data;
    size_t size;
};

static int client(void *arg)
{
    const struct input *in = arg;
    cio_stream *s;
    if (cio_open_connection(&s, "127.0.0.1", port, NULL) < 0)
        abort();
    (void)cio_stream_set_read_timeout(s, CIO_SEC(10));
    int rc = cio_stream_write(s, in->data, in->size);
    if (rc == 0)
        rc = cio_stream_write_eof(s);
    char buf[16384];
    ssize_t n;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
        ;
    /* The server answers and closes: a read timeout here is a connection it left hanging. */
    if (n == CIO_EREADTIMEOUT)
        abort();
    cio_stream_close(s);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    if (!loop) {
        signal(SIGPIPE, SIG_IGN);
        if (cio_loop_open(&loop, NULL) < 0 || cio_loop_run(loop, start, NULL) < 0)
            abort();
    }
    struct input in = {data, size};
    if (cio_loop_run(loop, client, &in) < 0)
        abort();
    return 0;
}
