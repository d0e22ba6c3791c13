/* conn.c: the server's connections: read a request head in place, route it, run the middleware chain and the
 * handler in the connection's task, answer, and either serve the next pipelined request, park the connection
 * without a task (CIO_CONN_KEEP) or close it; and the servers that run an app. */
#include "web/web.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cio/sync.h"
#include "core/runtime.h"

#define SERVER_MAGIC     0x77656273u /* "webs" */
#define OUT_STACK        16384       /* the connection's output buffer, on its task's stack */
#define STACK_HEADERS    100
#define DEFAULT_MAX_CONN 10000

/* ------------------------------------------------------------------------------------------------ output */

/* A heap buffer when a head outgrows the stack one; the out struct remembers which it is by `cap`. */
char *cio__web_out_reserve(struct web_conn *c, size_t n)
{
    struct web_out *o = &c->out;
    if (o->len + n <= o->cap)
        return o->p + o->len;
    if (o->len && o->cap >= n && c->s) {
        if (cio__web_out_flush(c, c->s) < 0)
            return NULL;
        return o->p;
    }
    size_t cap = o->len + n;
    char *p = cio__malloc(cap);
    if (!p)
        return NULL;
    memcpy(p, o->p, o->len);
    if (o->heap)
        cio__free(o->p);
    o->p = p;
    o->cap = cap;
    o->heap = true;
    return o->p + o->len;
}

int cio__web_out_flush(struct web_conn *c, cio_stream *s)
{
    struct web_out *o = &c->out;
    if (!o->len)
        return 0;
    int rc = cio_stream_write(s, o->p, o->len);
    o->len = 0;
    return rc;
}

/* ------------------------------------------------------------------------------------------------ paths */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The path a handler sees: percent-decoded except "%2F" and "%25" (which would change the segments, or be read
 * as a second encoding), then "." and ".." segments resolved as RFC 3986 section 5.2.4 does, never above "/".
 * Returns the length in `out` (at least n + 1 bytes). Errors: CIO_EHTTP_BAD_PERCENT, and a NUL byte is refused.
 */
static ssize_t normalize_path(char *out, const char *p, size_t n)
{
    char *d = out; /* decode first, in place in `out` */
    size_t dn = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%') {
            d[dn++] = p[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(p[i + 1]) : -1, lo = hi >= 0 ? hexval(p[i + 2]) : -1;
        if (lo < 0)
            return CIO_EHTTP_BAD_PERCENT;
        int c = hi * 16 + lo;
        if (c == 0)
            return CIO_EHTTP_BAD_PERCENT;
        if (c == '/' || c == '%') {
            memcpy(d + dn, p + i, 3);
            dn += 3;
        } else {
            d[dn++] = (char)c;
        }
        i += 2;
    }
    size_t o = 0, i = 0;
    while (i < dn) {
        size_t j = i + 1;
        while (j < dn && d[j] != '/')
            j++;
        const char *seg = d + i + 1;
        size_t slen = j - i - 1;
        bool last = j == dn;
        if (slen == 1 && seg[0] == '.') {
            if (last)
                out[o++] = '/';
        } else if (slen == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            if (last)
                out[o++] = '/';
        } else {
            out[o++] = '/';
            memmove(out + o, seg, slen); /* o <= i + 1 always: output never overtakes input */
            o += slen;
        }
        i = j;
    }
    if (!o)
        out[o++] = '/';
    out[o] = 0;
    return (ssize_t)o;
}

/* Point the head's views into `to`, a copy of the `len` bytes at `from` they pointed into. */
static void rebase_str(cio_http_str *v, const char *from, size_t len, const char *to)
{
    if (v->ptr >= from && v->ptr < from + len)
        v->ptr = to + (v->ptr - from);
}

static void rebase(cio_http_head *h, const char *from, size_t len, const char *to)
{
    rebase_str(&h->method, from, len, to);
    rebase_str(&h->target, from, len, to);
    for (size_t i = 0; i < h->num_headers; i++) {
        rebase_str(&h->headers[i].name, from, len, to);
        rebase_str(&h->headers[i].value, from, len, to);
    }
}

/* ------------------------------------------------------------------------------------------------ chain */

int cio_web_next(cio_web_request *req, cio_web_response *res)
{
    if (!req || !res)
        return -EINVAL;
    while (req->chain_app < req->m.napps) {
        const struct cio_web_app *app = req->m.apps[req->chain_app];
        if (req->chain_mw < app->nmws) {
            const struct web_mw *mw = &app->mws[req->chain_mw++];
            return mw->fn(req, res, mw->arg);
        }
        req->chain_app++;
        req->chain_mw = 0;
    }
    if (req->route)
        return req->route->fn(req, res, req->route->arg);
    /* No route: the chain ends in the answer the router found (404, 405, OPTIONS). */
    return 0;
}

/* ------------------------------------------------------------------------------------------------ requests */

static void log_failure(const struct cio_web_request *req, int rc)
{
    cio__log(cio_loop_current(), "web: %s %s: handler failed: %s", req->method, req->target, cio_strerror(rc));
}

int cio__web_answer_error(struct cio_web_request *req, struct cio_web_response *res, int rc)
{
    /* A body that stalled past the body timeout is the client's: 408, as for a head. */
    int st = rc == CIO_EREADTIMEOUT ? 408 : cio_http_error_status(rc);
    if (!st) {
        if (rc != -ECANCELED)
            log_failure(req, rc);
        st = 500;
    }
    cio__web_response_fini(res);
    cio__web_response_init(res, req);
    if (st >= 500 || st == 413 || st == 408)
        req->keep_alive = false;
    return cio_web_error(res, st);
}

/* What the router says when no handler runs: 404, 405 with Allow, or the answer to OPTIONS. */
static int route_answer(struct cio_web_request *req, struct cio_web_response *res, bool found)
{
    if (!found)
        return cio_web_error(res, 404);
    char allow[256];
    cio__web_allow(req->m.routes, allow, sizeof allow);
    int rc = cio_web_set_header(res, "Allow", allow);
    if (rc < 0)
        return rc;
    if (!strcmp(req->method, "OPTIONS"))
        return cio_web_respond(res, 200, NULL, NULL, 0);
    return cio_web_error(res, 405);
}

/* An answer to a request the server refuses before any handler: written at once, and the connection closed. */
static int refuse(struct web_conn *c, cio_stream *s, int minor, int status)
{
    char buf[256];
    size_t dlen;
    const char *date = cio__web_date_field(&dlen);
    const char *reason = cio_http_reason(status);
    char body[64];
    int blen = snprintf(body, sizeof body, "%d: %s\n", status, reason);
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.%d %d %s\r\n%.*s%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s",
                     minor, status, reason, (int)dlen, date, c->srv->server_field, blen, body);
    if (cio__web_out_flush(c, s) < 0)
        return 0;
    (void)cio_stream_write(s, buf, (size_t)n);
    return 0;
}

/* Read the next head: what is buffered first (no timer for the common case of a whole head already in), else
   under the header timeout. */
static ssize_t read_head(struct cio_web_server *srv, cio_stream *s, cio_http_head *h, bool *got_bytes)
{
    const void *v;
    size_t n;
    int rc = cio_stream_peek(s, 0, &v, &n);
    if (rc < 0)
        return rc;
    *got_bytes = n > 0;
    if (n) {
        ssize_t hl = cio_http_parse_request(h, v, n, &srv->popts);
        if (hl != -EAGAIN)
            return hl;
    }
    cio_scope sc;
    if ((rc = cio_timeout_begin(&sc, srv->opts.header_timeout)) < 0)
        return rc;
    ssize_t hl = cio_http_read_request(s, h, &srv->popts);
    int src = cio_scope_end(&sc);
    if (hl < 0 && src == -ETIMEDOUT)
        hl = -ETIMEDOUT;
    /* A connection that sent nothing is closed without an answer; one cut off within a head gets its 408. */
    if (hl < 0 && cio_stream_peek(s, 0, &v, &n) >= 0)
        *got_bytes = n > 0;
    return hl;
}

/* Run the chain under the handler's deadline, if there is one. */
static int run_chain(struct cio_web_request *req, struct cio_web_response *res)
{
    struct cio_web_server *srv = req->srv;
    if (!srv->opts.handler_timeout)
        return cio_web_next(req, res);
    cio_scope sc;
    int rc = cio_timeout_begin(&sc, srv->opts.handler_timeout);
    if (rc < 0)
        return rc;
    rc = cio_web_next(req, res);
    if (cio_scope_end(&sc) == -ETIMEDOUT) {
        if (!res->started) {
            cio__web_response_fini(res);
            cio__web_response_init(res, req);
            (void)cio_web_error(res, srv->opts.handler_timeout_status);
            return 0;
        }
        return -ETIMEDOUT;
    }
    return rc;
}

/* After the handler: the rest of the body is read and dropped so that the next request can be read, unless it
   is too long or the client waits for a 100 it never got (then the connection closes after the answer). */
static bool finish_body(struct cio_web_request *req)
{
    if (req->framing == CIO_HTTP_BODY_NONE) {
        if (req->head_len)
            (void)cio_stream_consume(req->s, req->head_len);
        req->head_len = 0;
        return true;
    }
    if (!req->body_open) {
        if (cio_http_expects_continue(req->head))
            return false;
        if (!cio_web_body(req))
            return false;
    }
    /* The client still waits for a 100 it may no longer get (a final response went out): it may never send the
       body, so the connection cannot be read on. */
    if (cio_http_body_continue_pending(&req->body)) {
        cio_http_body_fini(&req->body);
        req->body_open = false;
        return false;
    }
    bool ok = cio_http_body_done(&req->body) || cio_http_body_discard(&req->body) == 0;
    cio_http_body_fini(&req->body);
    req->body_open = false;
    return ok;
}

static void request_fini(struct cio_web_request *req)
{
    if (req->body_open)
        cio_http_body_fini(&req->body);
    cio__web_arena_fini(&req->arena);
}

/*
 * Serve one request. Returns 1 when the connection may serve another, 0 when it must close.
 */
static int serve_one(struct cio_web_server *srv, struct web_conn *c, cio_stream *s)
{
    cio_http_header stack_headers[STACK_HEADERS];
    cio_http_head head;
    struct cio_web_request req;
    struct cio_web_response res;
    size_t maxh = srv->opts.max_headers;
    memset(&req, 0, offsetof(struct cio_web_request, arena));
    cio__web_arena_init(&req.arena);
    cio_http_header *hdrs = stack_headers;
    if (maxh > STACK_HEADERS && !(hdrs = cio__web_alloc(&req.arena, maxh * sizeof(*hdrs)))) {
        request_fini(&req);
        return 0;
    }
    cio_http_head_init(&head, hdrs, maxh);
    bool got_bytes = false;
    ssize_t hl = read_head(srv, s, &head, &got_bytes);
    if (hl < 0) {
        request_fini(&req);
        if (hl == -ETIMEDOUT && got_bytes)
            return refuse(c, s, 1, 408);
        int status = cio_http_error_status((int)hl);
        if (status && hl != CIO_EHTTP_HEAD_TRUNCATED)
            return refuse(c, s, 1, status);
        return 0;
    }
    req.conn = c;
    req.srv = srv;
    req.s = s;
    req.head = &head;
    req.head_len = (size_t)hl;
    c->requests++;
    int rc = 0;
    cio_url url;
    int status = 0;
    if ((rc = cio_http_request_body(&head, &req.length)) < 0) {
        status = cio_http_error_status(rc);
    } else {
        req.framing = rc;
        if (head.flags & CIO_HTTP_EXPECT_OTHER)
            status = 417;
        else if (cio_url_parse_target(&url, head.target.ptr, head.target.len) < 0)
            status = 400;
    }
    if (status) {
        request_fini(&req);
        return refuse(c, s, head.minor_version, status);
    }
    /* The body's first read consumes the head (and so does a protocol switch); its views must outlive that. */
    if (req.framing != CIO_HTTP_BODY_NONE || cio_http_upgrade(&head)) {
        const void *v;
        size_t n;
        char *copy;
        if (cio_stream_peek(s, 0, &v, &n) < 0 || !(copy = cio__web_strndup(&req.arena, v, (size_t)hl))) {
            request_fini(&req);
            return 0;
        }
        rebase(&head, v, (size_t)hl, copy);
        cio_url_parse_target(&url, head.target.ptr, head.target.len);
    }
    req.method_len = head.method.len;
    req.method = cio__web_strndup(&req.arena, head.method.ptr, head.method.len);
    req.target = cio__web_strndup(&req.arena, head.target.ptr, head.target.len);
    req.query = url.query.ptr ? cio__web_strndup(&req.arena, url.query.ptr, url.query.len) : "";
    char *path = cio__web_alloc(&req.arena, url.path.len + 2);
    if (!req.method || !req.target || !req.query || !path) {
        request_fini(&req);
        return 0;
    }
    req.head_method = req.method_len == 4 && !memcmp(req.method, "HEAD", 4);
    req.keep_alive = cio_http_keep_alive(&head) && !srv->closing &&
                     !(srv->opts.max_requests && c->requests >= srv->opts.max_requests);
    cio__web_response_init(&res, &req);
    bool asterisk = url.form == CIO_URL_ASTERISK;
    ssize_t plen = url.path.len ? normalize_path(path, url.path.ptr, url.path.len) : (path[0] = '/', path[1] = 0, 1);
    if (url.form == CIO_URL_AUTHORITY) {
        rc = cio_web_error(&res, 501); /* CONNECT: no proxy here; the client may not know what to do next */
        req.keep_alive = false;
    } else if (asterisk) {
        rc = cio_web_respond(&res, 200, NULL, NULL, 0);
        req.path = "*";
    } else if (plen < 0) {
        rc = cio_web_error(&res, 400);
    } else {
        req.path = path;
        req.path_len = (size_t)plen;
        bool found = cio__web_lookup(srv->app, path, (size_t)plen, &req.m);
        if (found)
            req.route = cio__web_route_for(req.m.routes, req.method, req.method_len);
        if (!found) {
            /* The app's own middleware still runs (an access log sees the 404). */
            req.m.apps[0] = srv->app;
            req.m.napps = 1;
        }
        if ((rc = cio__web_match_values(&req)) == 0) {
            if (!req.route && (rc = route_answer(&req, &res, found)) < 0)
                log_failure(&req, rc);
            rc = run_chain(&req, &res);
        }
    }
    int result = 1;
    if (rc < 0 && !res.started)
        (void)cio__web_answer_error(&req, &res, rc);
    if (rc == -ECANCELED && cio_task_cancelled(cio_current())) {
        result = 0; /* the server is closing: no more waits */
    } else if (!res.started) {
        if (req.keep_alive && req.framing != CIO_HTTP_BODY_NONE && !req.body_open && cio_http_expects_continue(&head))
            req.keep_alive = false;
        if (cio__web_response_emit(&res) < 0)
            result = 0;
    } else if (rc < 0) {
        result = 0; /* a streamed response cut short: only closing tells the client */
    } else if (cio_web_write_eof(&res) < 0) {
        result = 0;
    }
    if (result && !req.keep_alive)
        result = 0;
    if (result && !finish_body(&req))
        result = 0;
    cio__web_response_fini(&res);
    request_fini(&req);
    return result;
}

static int conn_fn(cio_stream *s, void *arg)
{
    struct cio_web_server *srv = arg;
    struct web_conn *c = cio_server_conn_state(s);
    char stack_out[OUT_STACK];
    c->srv = srv;
    c->s = s;
    c->out = (struct web_out){stack_out, 0, sizeof stack_out, false};
    int rc = 0;
    for (;;) {
        if (!serve_one(srv, c, s))
            break;
        const void *v;
        size_t n;
        if (cio_stream_peek(s, 0, &v, &n) < 0)
            break;
        if (n == 0) {
            /* Nothing pipelined behind it: the batch's answers go out in one write, and the connection waits
               without a task. */
            if (cio__web_out_flush(c, s) == 0)
                rc = CIO_CONN_KEEP;
            break;
        }
    }
    if (rc != CIO_CONN_KEEP)
        (void)cio__web_out_flush(c, s);
    if (c->out.heap)
        cio__free(c->out.p);
    c->out = (struct web_out){0};
    c->s = NULL;
    return rc;
}

/* ------------------------------------------------------------------------------------------------ servers */

int cio_web_server_start(cio_web_server **out, cio_web_app *app, const cio_web_server_opts *opts)
{
    if (!out || !app || app->parent)
        return -EINVAL;
    *out = NULL;
    struct cio_web_server *srv = cio__calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->magic = SERVER_MAGIC;
    srv->app = app;
    if (opts)
        srv->opts = *opts;
    cio_web_server_opts *o = &srv->opts;
    if (!o->max_connections)
        o->max_connections = DEFAULT_MAX_CONN;
    if (!o->max_line)
        o->max_line = 8 * 1024;
    if (!o->max_head)
        o->max_head = 16 * 1024;
    if (!o->max_headers)
        o->max_headers = 100;
    if (!o->header_timeout)
        o->header_timeout = CIO_SEC(10);
    if (!o->body_timeout)
        o->body_timeout = CIO_SEC(60);
    if (!o->keepalive_timeout)
        o->keepalive_timeout = CIO_SEC(75);
    if (!o->handler_timeout_status)
        o->handler_timeout_status = 503;
    const char *name = o->server_name ? o->server_name : "cio";
    if (*name) {
        int n = snprintf(srv->server_field, sizeof srv->server_field, "Server: %s\r\n", name);
        bool ok = n > 0 && (size_t)n < sizeof srv->server_field;
        for (const char *p = name; ok && *p; p++)
            ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (!ok) {
            cio__free(srv);
            return CIO_EHTTP_BAD_FIELD;
        }
        srv->server_field_len = (size_t)n;
    }
    srv->popts = (cio_http_parse_opts){.max_line = o->max_line, .max_head = o->max_head};
    o->server_name = NULL; /* not kept: the field above is */
    cio_server_opts so = {
        .reuse_port = o->reuse_port,
        .max_connections = o->max_connections,
        .backlog = o->backlog,
        .tls = o->tls,
        .keep_timeout = o->keepalive_timeout,
        .read_timeout = o->body_timeout,
        .conn_state_size = sizeof(struct web_conn),
    };
    if (o->max_head > 64 * 1024)
        so.stream.limit = o->max_head;
    int rc = cio__web_app_freeze(app);
    if (rc < 0) {
        cio__free(srv);
        return rc;
    }
    srv->worker = cio__web_worker_index;
    /* Startup hooks before the first connection is taken, as aiohttp's runner does. */
    rc = cio__web_run_hooks(app, HOOK_STARTUP, srv, true);
    if (rc == 0)
        rc = o->listen_fd > 0 ? cio_start_server_fd(&srv->srv, conn_fn, srv, o->listen_fd, &so)
             : o->unix_path   ? cio_start_unix_server(&srv->srv, conn_fn, srv, o->unix_path, &so)
                              : cio_start_server(&srv->srv, conn_fn, srv, o->host, o->port, &so);
    if (rc < 0) {
        (void)cio__web_run_hooks(app, HOOK_CLEANUP, srv, false);
        cio__free(srv);
        return rc;
    }
    o->host = o->unix_path = NULL;
    *out = srv;
    return 0;
}

size_t cio_web_server_connections(const cio_web_server *srv)
{
    return srv && srv->magic == SERVER_MAGIC ? cio_server_connections(srv->srv) : 0;
}

int cio_web_server_set_state(cio_web_server *srv, void *state)
{
    if (!srv || srv->magic != SERVER_MAGIC)
        return -EINVAL;
    srv->state = state;
    return 0;
}

void *cio_web_server_state(const cio_web_server *srv)
{
    return srv && srv->magic == SERVER_MAGIC ? srv->state : NULL;
}

int cio_web_server_worker(const cio_web_server *srv)
{
    return srv && srv->magic == SERVER_MAGIC ? srv->worker : -EINVAL;
}

void *cio_web_state(const cio_web_request *req)
{
    return req ? req->srv->state : NULL;
}

cio_web_server *cio_web_request_server(const cio_web_request *req)
{
    return req ? req->srv : NULL;
}

int cio_web_server_addr(const cio_web_server *srv, cio_addr *out)
{
    if (!srv || srv->magic != SERVER_MAGIC || !out)
        return -EINVAL;
    return cio_server_addr(srv->srv, out);
}

int cio_web_server_port(const cio_web_server *srv)
{
    cio_addr a;
    int rc = cio_web_server_addr(srv, &a);
    if (rc < 0)
        return rc;
    return cio_addr_port(&a);
}

int cio_web_server_close(cio_web_server *srv, int64_t grace)
{
    if (!srv || srv->magic != SERVER_MAGIC || grace < 0)
        return -EINVAL;
    srv->closing = true;
    /* Stop accepting, tell the app (its shutdown hooks), let what is in progress finish, then clean up. */
    int rc = cio_server_stop(srv->srv);
    int hrc = cio__web_run_hooks(srv->app, HOOK_SHUTDOWN, srv, false);
    int crc = cio_server_close(srv->srv, grace);
    int clrc = cio__web_run_hooks(srv->app, HOOK_CLEANUP, srv, false);
    srv->magic = 0;
    cio__web_files_free(srv->files);
    cio__free(srv);
    return rc < 0 ? rc : crc < 0 ? crc : hrc < 0 ? hrc : clrc;
}

static void on_signal(int signo, void *arg)
{
    (void)signo;
    (void)cio_event_set(arg);
}

int cio_web_run(cio_web_app *app, const cio_web_server_opts *opts, int64_t grace)
{
    if (grace < 0)
        return -EINVAL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = opts && opts->workers ? opts->workers : ncpu > 0 ? (unsigned)ncpu : 1;
    cio_web_server *srv = NULL;
    cio_web_workers *pool = NULL;
    cio_event stop;
    cio_event_init(&stop);
    /* The signals are watched first, so that the workers' threads start with them blocked. */
    int rc = cio_signal_handler_add(SIGINT, on_signal, &stop);
    if (rc == 0)
        rc = cio_signal_handler_add(SIGTERM, on_signal, &stop);
    if (rc == 0)
        rc = n == 1 ? cio_web_server_start(&srv, app, opts) : cio_web_workers_start(&pool, app, opts, n);
    if (rc == 0 && opts && opts->ready)
        opts->ready(srv ? cio_web_server_port(srv) : cio_web_workers_port(pool), opts->ready_arg);
    if (rc == 0)
        rc = cio_event_wait(&stop);
    (void)cio_signal_handler_remove(SIGINT);
    (void)cio_signal_handler_remove(SIGTERM);
    int crc = 0;
    if (srv)
        crc = cio_web_server_close(srv, grace ? grace : CIO_SEC(10));
    if (pool)
        crc = cio_web_workers_close(pool, grace ? grace : CIO_SEC(10));
    cio_event_fini(&stop);
    return rc < 0 ? rc : crc == -ETIMEDOUT ? 0 : crc;
}
