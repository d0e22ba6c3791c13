/* request.c: requests and responses against cio's own server on loopback: heads sent as asked, bodies read whole
 * (bounded) or streamed, connections pooled only after a body read to its end, HEAD, 204, 304, content decoding,
 * and every bad argument refused with its error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"
#include "netkit.h"

#include <unistd.h>

TestSuite(client_request, .init = wk_init);

static char big[20000];

/* The request as the server saw it: "METHOD target\n", each field "name: value\n", "\n", the body. */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    /* The head first: reading the body of a request that has none ends the head's views. */
    char out[8192];
    size_t n = (size_t)snprintf(out, sizeof out, "%s %s\n", cio_web_method(req), cio_web_target(req));
    const cio_http_head *h = cio_web_head(req);
    for (size_t i = 0; i < h->num_headers && n < sizeof out; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%.*s: %.*s\n", (int)h->headers[i].name.len,
                              h->headers[i].name.ptr, (int)h->headers[i].value.len, h->headers[i].value.ptr);
    const char *data;
    size_t len;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    if (n < sizeof out)
        n += (size_t)snprintf(out + n, sizeof out - n, "\n%.*s", (int)len, data);
    if (n > sizeof out)
        n = sizeof out;
    return cio_web_respond(res, 200, "text/plain", out, n);
}

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_add_header(res, "X-Multi", "one");
    if (rc == 0)
        rc = cio_web_add_header(res, "x-multi", "two");
    return rc ? rc : cio_web_text(res, 200, "Hello");
}

static int h_big(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_respond(res, 200, "text/plain", big, sizeof big);
}

static int h_stream(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_prepare(res, -1);
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = cio_web_write(res, (const char *[]){"one ", "two ", "three"}[i], i == 2 ? 5 : 4);
    return rc;
}

static int h_status(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    int st = atoi(arg);
    if (st == 304 || st == 204)
        return cio_web_respond(res, st, NULL, NULL, 0);
    return cio_web_text(res, st, "status %d", st);
}

static int h_close(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_prepare(res, 3); /* HTTP/1.1 with a length; the server keeps it... */
    if (rc == 0)
        rc = cio_web_write(res, "bye", 3);
    return rc;
}

/* The remote port of the request, to tell connections apart. */
static int h_port(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_addr a;
    cio_web_remote(req, &a);
    return cio_web_text(res, 200, "%d", cio_addr_port(&a));
}

struct fixture {
    cio_web_app *app;
    cio_web_server *srv;
    int port;
    char url[256];
};

static void fx_open(struct fixture *f)
{
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = "the quick brown fox jumps over the lazy dog\n"[i % 44];
    WK_EQ(cio_web_app_open(&f->app, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/dump/{tail:.*}", h_dump, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/hello", h_hello, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/big", h_big, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/stream", h_stream, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/close", h_close, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/port", h_port, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/s204", h_status, "204"), 0);
    WK_EQ(cio_web_get(f->app, "/s304", h_status, "304"), 0);
    WK_EQ(cio_web_get(f->app, "/s404", h_status, "404"), 0);
    WK_EQ(cio_web_use(f->app, cio_web_compression, NULL), 0);
    WK_EQ(cio_web_server_start(&f->srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    f->port = cio_web_server_port(f->srv);
}

static void fx_close(struct fixture *f)
{
    WK_EQ(cio_web_server_close(f->srv, CIO_SEC(5)), 0);
    cio_web_app_close(f->app);
}

static const char *U(struct fixture *f, const char *path)
{
    return ck_url(f->url, sizeof f->url, f->port, path);
}

/* GET, then the same body read whole: status, reason, version, headers (repeated too), URL. */
static int get_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    cio_client_response *r = NULL;
    WK_EQ(cio_client_get(s, U(&f, "/hello"), &r), 0);
    WK_EQ(cio_client_response_status(r), 200);
    WK_STREQ(cio_client_response_reason(r), "OK");
    WK_EQ(cio_client_response_version(r), 1);
    WK_STREQ(cio_client_response_url(r), U(&f, "/hello"));
    WK_STREQ(cio_client_response_header(r, "content-type"), "text/plain; charset=utf-8");
    WK_EQ(cio_client_response_content_length(r), 5);
    WK_STREQ(cio_client_response_header_nth(r, "X-MULTI", 0), "one");
    WK_STREQ(cio_client_response_header_nth(r, "x-multi", 1), "two");
    WK_ISNULL(cio_client_response_header_nth(r, "x-multi", 2));
    WK_ISNULL(cio_client_response_header(r, "X-None"));
    size_t count = cio_client_response_header_count(r);
    WK_CHECK(count >= 4, "%zu fields", count);
    int multi = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        WK_EQ(cio_client_response_header_at(r, i, &name, &value), 0);
        multi += !strcasecmp(name, "x-multi");
    }
    WK_EQ(multi, 2);
    const char *name, *value;
    WK_EQ(cio_client_response_header_at(r, count, &name, &value), -ENOENT);
    WK_EQ(cio_client_response_header_at(r, 0, NULL, &value), -EINVAL);
    WK_EQ(cio_client_response_redirects(r), 0);
    WK_EQ(cio_client_response_history(r, 0, NULL, NULL), -ENOENT);
    WK_CHECK(!cio_client_response_done(r));
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, "Hello");
    cio_buf_free(&b);
    WK_CHECK(cio_client_response_done(r));
    /* After the end: an empty read, and the end again. */
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_EQ(b.len, 0);
    cio_buf_free(&b);
    const void *p;
    size_t n;
    WK_EQ(cio_client_response_next(r, &p, &n), 0);
    WK_EQ(cio_client_response_release(r), 1);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(idle, 1);
    /* A 404 is a response like any other. */
    WK_EQ(cio_client_get(s, U(&f, "/s404"), &r), 0);
    WK_EQ(cio_client_response_status(r), 404);
    WK_STREQ(cio_client_response_reason(r), "Not Found");
    WK_EQ(cio_client_response_release(r), 0 + 0 * 1); /* unread body: closed */
    WK_EQ(cio_client_session_connections(s, &idle), 0);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, get_reads_status_headers_and_body)
{
    tst_run(get_body, NULL);
    wk_verdict();
}

/* What goes out: defaults, overrides, parameters, bodies. */
static int head_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/dump/", f.port);
    const char *const defaults[] = {"X-Default", "session", "X-Replaced", "session", NULL};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.base_url = base, .headers = defaults}), 0);
    cio_client_response *r;
    const char *const headers[] = {"x-replaced", "request", "X-Req", "1", NULL};
    const char *const params[] = {"a b", "c&d=e", "k", "", "ü", "~-._", NULL};
    cio_client_request_opts o = {.headers = headers, .params = params};
    WK_EQ(cio_client_request(s, "GET", "sub?x=1#frag", &o, &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    const char *t = b.data ? b.data : "";
    WK_CHECK(strstr(t, "GET /dump/sub?x=1&a%20b=c%26d%3De&k=&%C3%BC=~-._\n"), "%s", t);
    char host[64];
    snprintf(host, sizeof host, "\nHost: 127.0.0.1:%d\n", f.port);
    WK_CHECK(strstr(t, host), "%s", t);
    WK_CHECK(strstr(t, "\nX-Default: session\n"), "%s", t);
    WK_CHECK(strstr(t, "\nx-replaced: request\n") && !strstr(t, "X-Replaced: session"), "%s", t);
    WK_CHECK(strstr(t, "\nUser-Agent: cio/"), "%s", t);
    WK_CHECK(strstr(t, "\nAccept: */*\n"), "%s", t);
    WK_CHECK(strstr(t, "\nAccept-Encoding: gzip, deflate, br, zstd\n"), "%s", t);
    WK_CHECK(!strstr(t, "Content-Length"), "a GET without a body says nothing of one: %s", t);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* A body from memory; an absolute URL beside the base; a User-Agent of the request's. */
    const char *const ua[] = {"User-Agent", "mine/2", "Content-Type", "text/x-test", NULL};
    o = (cio_client_request_opts){.headers = ua, .body = "payload", .body_len = 7};
    WK_EQ(cio_client_request(s, "PUT", U(&f, "/dump"), &o, &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    t = b.data ? b.data : "";
    WK_CHECK(!strncmp(t, "PUT /dump\n", 10), "%s", t);
    WK_CHECK(strstr(t, "\nContent-Length: 7\n") && strstr(t, "\n\npayload"), "%s", t);
    WK_CHECK(strstr(t, "\nUser-Agent: mine/2\n") && !strstr(t, "cio/"), "%s", t);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* A POST without a body says so. */
    WK_EQ(cio_client_request(s, "POST", "/dump", NULL, &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_CHECK(b.data && strstr(b.data, "POST /dump\n") && strstr(b.data, "\nContent-Length: 0\n"), "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* Every request so far went over the one connection. */
    WK_EQ(cio_client_session_connections(s, NULL), 1);
    WK_EQ(cio_client_session_close(s), 0);
    /* A session without a User-Agent, and without decoding: neither header goes. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.user_agent = "", .no_decompress = true}), 0);
    WK_EQ(cio_client_get(s, U(&f, "/dump"), &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_CHECK(b.data && !strstr(b.data, "User-Agent") && !strstr(b.data, "Accept-Encoding"), "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, sends_the_head_asked_for_with_defaults_parameters_and_bodies)
{
    tst_run(head_body, NULL);
    wk_verdict();
}

/* Bodies: a size limit that errs instead of cutting, streamed chunks, release before the end. */
static int bodies_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.no_decompress = true}), 0);
    cio_client_response *r;
    cio_buf b = {0};
    /* Over the session's limit or the request's: an error, never a truncation. */
    cio_client_request_opts small = {.max_size = 1000};
    WK_EQ(cio_client_request(s, "GET", U(&f, "/big"), &small, &r), 0);
    WK_EQ(cio_client_response_read(r, &b), CIO_EHTTP_BODY_LIMIT);
    WK_ISNULL(b.data);
    WK_EQ(b.len, 0);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_connections(s, NULL), 0);
    small.max_size = sizeof big;
    WK_EQ(cio_client_request(s, "GET", U(&f, "/big"), &small, &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_EQ(b.len, sizeof big);
    WK_CHECK(b.data && !memcmp(b.data, big, sizeof big));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* Chunk by chunk. */
    WK_EQ(cio_client_get(s, U(&f, "/stream"), &r), 0);
    WK_EQ(cio_client_response_content_length(r), -1);
    char got[64] = "";
    size_t glen = 0;
    const void *p;
    size_t n;
    int rc;
    while ((rc = cio_client_response_next(r, &p, &n)) == 1 && glen + n < sizeof got) {
        memcpy(got + glen, p, n);
        glen += n;
    }
    WK_EQ(rc, 0);
    got[glen] = 0;
    WK_STREQ(got, "one two three");
    WK_CHECK(cio_client_response_done(r));
    WK_EQ(cio_client_response_release(r), 1);
    /* Released half read: the connection closes, and the next request gets a new one. */
    WK_EQ(cio_client_get(s, U(&f, "/big"), &r), 0);
    WK_EQ(cio_client_response_next(r, &p, &n), 1);
    WK_EQ(cio_client_response_release(r), 0);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 0);
    WK_EQ(cio_client_get(s, U(&f, "/hello"), &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, "Hello");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, bodies_are_bounded_streamed_and_pooled_only_when_read_to_the_end)
{
    tst_run(bodies_body, NULL);
    wk_verdict();
}

/* Responses without a body: HEAD, 204, 304; each done at once and its connection kept. */
static int nobody_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "HEAD", U(&f, "/big"), &(cio_client_request_opts){.decompress = -1}, &r), 0);
    WK_EQ(cio_client_response_status(r), 200);
    WK_EQ(cio_client_response_content_length(r), -1); /* a HEAD's length describes no body of its own */
    WK_STREQ(cio_client_response_header(r, "Content-Length"), "20000");
    WK_CHECK(cio_client_response_done(r));
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_EQ(b.len, 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    const char *paths[] = {"/s204", "/s304"};
    for (int i = 0; i < 2; i++) {
        WK_EQ(cio_client_get(s, U(&f, paths[i]), &r), 0);
        WK_EQ(cio_client_response_status(r), i ? 304 : 204);
        WK_CHECK(cio_client_response_done(r));
        WK_EQ(cio_client_response_release(r), 1);
    }
    WK_EQ(cio_client_session_connections(s, NULL), 1);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, head_204_and_304_have_no_body_and_keep_the_connection)
{
    tst_run(nobody_body, NULL);
    wk_verdict();
}

/* Content codings: decoded by default, left alone when asked. */
static int coding_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    const char *codings[] = {"gzip", "deflate", "br", "zstd"};
    for (int i = 0; i < 4; i++) {
        const char *const h[] = {"Accept-Encoding", codings[i], NULL};
        cio_client_response *r;
        WK_EQ(cio_client_request(s, "GET", U(&f, "/big"), &(cio_client_request_opts){.headers = h}, &r), 0);
        WK_STREQ(cio_client_response_header(r, "Content-Encoding"), codings[i]);
        cio_buf b = {0};
        WK_EQ(cio_client_response_read(r, &b), 0);
        WK_CHECK(b.len == sizeof big && !memcmp(b.data, big, sizeof big), "%s: %zu bytes", codings[i], b.len);
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    /* Off for one request: the coded bytes as they came. */
    const char *const gz[] = {"Accept-Encoding", "gzip", NULL};
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", U(&f, "/big"), &(cio_client_request_opts){.headers = gz, .decompress = -1}, &r),
          0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_CHECK(b.len > 10 && b.len < sizeof big / 4 && (unsigned char)b.data[0] == 0x1f &&
                 (unsigned char)b.data[1] == 0x8b,
             "%zu bytes", b.len);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    /* Off for the session, on for one request. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.no_decompress = true}), 0);
    WK_EQ(cio_client_request(s, "GET", U(&f, "/big"), &(cio_client_request_opts){.decompress = 1}, &r), 0);
    WK_STREQ(cio_client_response_header(r, "Content-Encoding"), "br");
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_EQ(b.len, sizeof big);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, content_codings_are_decoded_by_default_and_left_alone_when_asked)
{
    tst_run(coding_body, NULL);
    wk_verdict();
}

/* The pool: one connection for requests in sequence; Connection: close from either side ends it. */
static int reuse_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char first[16] = "", buf[16];
    for (int i = 0; i < 3; i++) {
        cio_client_response *r;
        WK_EQ(cio_client_get(s, U(&f, "/port"), &r), 0);
        cio_buf b = {0};
        WK_EQ(cio_client_response_read(r, &b), 0);
        snprintf(i ? buf : first, sizeof buf, "%s", wk_s(b.data));
        if (i)
            WK_STREQ(buf, first);
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    const char *const close[] = {"Connection", "close", NULL};
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", U(&f, "/port"), &(cio_client_request_opts){.headers = close}, &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, first);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_connections(s, NULL), 0);
    WK_EQ(cio_client_get(s, U(&f, "/port"), &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_CHECK(strcmp(b.data, first) != 0, "a new connection after the close");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, connections_are_reused_until_either_side_says_close)
{
    tst_run(reuse_body, NULL);
    wk_verdict();
}

static int bad_args_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    cio_client_response *r = (cio_client_response *)1;
    const char *u = U(&f, "/hello");
    WK_EQ(cio_client_request(NULL, "GET", u, NULL, &r), -EINVAL);
    WK_CHECK(r == NULL);
    WK_EQ(cio_client_request(s, NULL, u, NULL, &r), -EINVAL);
    WK_EQ(cio_client_request(s, "GET", NULL, NULL, &r), -EINVAL);
    WK_EQ(cio_client_request(s, "GET", u, NULL, NULL), -EINVAL);
    WK_EQ(cio_client_get(s, u, NULL), -EINVAL);
    WK_EQ(cio_client_request(s, "GE T", u, NULL, &r), -EINVAL);
    WK_EQ(cio_client_request(s, "", u, NULL, &r), -EINVAL);
    WK_EQ(cio_client_request(s, "AVERYLONGMETHODNAMEOFMORETHAN31CHARS", u, NULL, &r), -EINVAL);
    struct {
        cio_client_request_opts o;
        int want;
    } cases[] = {
        {{.headers = (const char *const[]){"Host", "x", NULL}}, -EINVAL},
        {{.headers = (const char *const[]){"Content-Length", "1", NULL}}, -EINVAL},
        {{.headers = (const char *const[]){"transfer-encoding", "chunked", NULL}}, -EINVAL},
        {{.headers = (const char *const[]){"X-A", NULL}}, CIO_EHTTP_BAD_FIELD},
        {{.headers = (const char *const[]){"X-A", "v\r\nX-Injected: 1", NULL}}, CIO_EHTTP_BAD_FIELD},
        {{.headers = (const char *const[]){"X:A", "v", NULL}}, CIO_EHTTP_BAD_FIELD},
        {{.body_len = 3}, -EINVAL},
        {{.timeout.total = -9}, -EINVAL},
        {{.timeout.sock_read = -9}, -EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = cio_client_request(s, "GET", u, &cases[i].o, &r);
        if (rc != cases[i].want)
            wk_fail(__LINE__, "case", "%zu: %s, want %s", i, cio_err_name(rc), cio_err_name(cases[i].want));
        WK_CHECK(r == NULL);
    }
    WK_EQ(cio_client_get(s, "not a url", &r), CIO_EHTTP_BAD_URL);
    WK_EQ(cio_client_get(s, "/relative/without/base", &r), CIO_EHTTP_BAD_URL);
    WK_EQ(cio_client_get(s, "ftp://127.0.0.1/", &r), CIO_ECLIENT_BAD_SCHEME);
    WK_EQ(cio_client_get(s, "http://127.0.0.1:99999/", &r), CIO_EHTTP_BAD_PORT);
    WK_EQ(cio_client_get(s, "http://127.0.0.1/a b", &r), CIO_EHTTP_BAD_URL);
    cio_addr a;
    int fd = nk_refusing_port("127.0.0.1", &a);
    char refused[64];
    WK_EQ(cio_client_get(s, ck_url(refused, sizeof refused, cio_addr_port(&a), "/"), &r), -ECONNREFUSED);
    close(fd);
    WK_EQ(cio_client_session_connections(s, NULL), 0);
    /* Accessors on NULL. */
    WK_EQ(cio_client_response_status(NULL), -EINVAL);
    WK_ISNULL(cio_client_response_reason(NULL));
    WK_EQ(cio_client_response_version(NULL), -EINVAL);
    WK_ISNULL(cio_client_response_url(NULL));
    WK_EQ(cio_client_response_content_length(NULL), -1);
    WK_ISNULL(cio_client_response_header(NULL, "a"));
    WK_EQ(cio_client_response_header_count(NULL), 0);
    WK_EQ(cio_client_response_redirects(NULL), 0);
    WK_EQ(cio_client_response_history(NULL, 0, NULL, NULL), -EINVAL);
    cio_buf b;
    const void *p;
    size_t n;
    WK_EQ(cio_client_response_read(NULL, &b), -EINVAL);
    WK_EQ(cio_client_response_next(NULL, &p, &n), -EINVAL);
    WK_CHECK(!cio_client_response_done(NULL));
    WK_EQ(cio_client_response_release(NULL), 0);
    WK_EQ(cio_client_response_release((cio_client_response *)&b), -EINVAL);
    WK_EQ(cio_client_get(s, u, &r), 0);
    WK_ISNULL(cio_client_response_header(r, NULL));
    WK_EQ(cio_client_response_read(r, NULL), -EINVAL);
    WK_EQ(cio_client_response_next(r, NULL, &n), -EINVAL);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_client_session_close((cio_client_session *)&b), -EINVAL);
    fx_close(&f);
    return 0;
}

Test(client_request, refuses_bad_arguments_each_with_its_error)
{
    tst_run(bad_args_body, NULL);
    wk_verdict();
}

/* Closing the session with a response open: the response fails with a clear error, and nothing leaks. */
static int close_open_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    cio_client_response *r, *r2;
    WK_EQ(cio_client_get(s, U(&f, "/big"), &r), 0);
    WK_EQ(cio_client_get(s, U(&f, "/hello"), &r2), 0);
    WK_EQ(cio_client_session_close(s), 0);
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), CIO_ECLIENT_CLOSED);
    const void *p;
    size_t n;
    WK_EQ(cio_client_response_next(r2, &p, &n), CIO_ECLIENT_CLOSED);
    WK_EQ(cio_client_response_status(r), 200); /* the head is still there */
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_response_release(r2), 0);
    fx_close(&f);
    return 0;
}

Test(client_request, closing_the_session_fails_its_open_responses_clearly)
{
    tst_run(close_open_body, NULL);
    wk_verdict();
}
