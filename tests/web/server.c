/* server.c: the web server through its test client and raw connections on loopback: routing, requests,
 * responses, middleware, keep-alive and pipelining, limits and what clients should never send. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netkit.h"
#include "webkit.h"

#include <criterion/parameterized.h>

TestSuite(web, .init = wk_init);

#define W(s) s, sizeof(s) - 1

/* ------------------------------------------------------------------------------------------------ handlers */

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_text(res, 200, "Hello, world");
}

static int h_name(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_text(res, 200, "Hello, %s", cio_web_match(req, "name"));
}

/* The route's label and its match values, "label:var=value,...", for the routing table. */
static int h_label(cio_web_request *req, cio_web_response *res, void *arg)
{
    static const char *const vars[] = {"id", "code", "path", "name", "a", "b"};
    char out[512];
    size_t n = (size_t)snprintf(out, sizeof out, "%s", (const char *)arg);
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = cio_web_match(req, vars[i]);
        if (v)
            n += (size_t)snprintf(out + n, sizeof out - n, ":%s=%s", vars[i], v);
    }
    return cio_web_respond(res, 200, "text/plain", out, n);
}

static int h_echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *data;
    size_t len;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    const char *ct = cio_web_header(req, "Content-Type");
    return cio_web_respond(res, 200, ct ? ct : "application/octet-stream", data, len);
}

/* Echo the body read through the reader chunk by chunk, with the count of chunks in a header. */
static int h_echo_chunks(cio_web_request *req, cio_web_response *res, void *arg)
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

static int h_query(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *a = cio_web_query(req, "a"), *b = cio_web_query(req, "b"), *c = cio_web_query(req, "c");
    return cio_web_text(res, 200, "a=%s b=%s c=%s qs=%s path=%s", a ? a : "(none)", b ? b : "(none)", c ? c : "(none)",
                        cio_web_query_string(req), cio_web_path(req));
}

static int h_headers(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *x = cio_web_header(req, "x-test");
    int count = 0;
    for (const cio_http_header *f = NULL; (f = cio_http_header_find(cio_web_head(req), "X-Multi", f));)
        count++;
    cio_addr a;
    int port = cio_web_remote(req, &a) == 0 ? cio_addr_port(&a) : -1;
    int lport = cio_web_local(req, &a) == 0 ? cio_addr_port(&a) : -1;
    return cio_web_text(res, 200, "x=%s multi=%d version=%d keep=%d cl=%lld remote=%d local=%d method=%s target=%s",
                        x ? x : "(none)", count, cio_web_version(req), cio_web_keep_alive(req),
                        (long long)cio_web_content_length(req), port > 0, lport > 0, cio_web_method(req),
                        cio_web_target(req));
}

static int h_stream(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_set_header(res, "Content-Type", "text/plain");
    if (rc == 0)
        rc = cio_web_prepare(res, -1);
    static const char *const parts[] = {"one ", "two ", "three"};
    for (size_t i = 0; rc == 0 && i < 3; i++)
        rc = cio_web_write(res, parts[i], strlen(parts[i]));
    if (rc == 0)
        rc = cio_web_drain(res);
    /* The head is out: these are refused. */
    WK_EQ(cio_web_set_header(res, "X-Late", "1"), CIO_EWEB_STARTED);
    WK_EQ(cio_web_status(res, 201, NULL), CIO_EWEB_STARTED);
    WK_EQ(cio_web_prepare(res, -1), CIO_EWEB_STARTED);
    WK_CHECK(cio_web_started(res));
    return rc;
}

static int h_stream_len(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_prepare(res, 10);
    if (rc == 0)
        rc = cio_web_write(res, "abcde", 5);
    if (rc == 0)
        rc = cio_web_write(res, "fghij", 5);
    if (rc == 0)
        WK_EQ(cio_web_write(res, "k", 1), CIO_EHTTP_BODY_OVERRUN);
    return rc;
}

static int h_fail(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    (void)cio_web_text(res, 200, "secret detail that must not leak");
    return -EIO;
}

static int h_status_err(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)res;
    (void)arg;
    return CIO_EHTTP_BODY_LIMIT;
}

static int h_redirect(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    WK_EQ(cio_web_redirect(res, 200, "/x"), -EINVAL);
    WK_EQ(cio_web_redirect(res, 302, "/x\r\nSet-Cookie: a=b"), CIO_EHTTP_BAD_FIELD);
    return cio_web_redirect(res, 302, "/hello/redirected");
}

static int h_json(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_json(res, 201, "{\"ok\": true}");
}

/* Every way to inject a field is refused, and what the server owns cannot be set. */
static int h_inject(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    WK_EQ(cio_web_set_header(res, "X-A", "v\r\nSet-Cookie: evil=1"), CIO_EHTTP_BAD_FIELD);
    WK_EQ(cio_web_set_header(res, "X-A", "v\nx"), CIO_EHTTP_BAD_FIELD);
    WK_EQ(cio_web_add_header(res, "X A", "v"), CIO_EHTTP_BAD_FIELD);
    WK_EQ(cio_web_add_header(res, "X:A", "v"), CIO_EHTTP_BAD_FIELD);
    WK_EQ(cio_web_add_header(res, "", "v"), CIO_EHTTP_BAD_FIELD);
    WK_EQ(cio_web_set_header(res, "Content-Length", "5"), -EINVAL);
    WK_EQ(cio_web_set_header(res, "transfer-encoding", "chunked"), -EINVAL);
    WK_EQ(cio_web_set_header(res, "Connection", "keep-alive"), -EINVAL);
    WK_EQ(cio_web_status(res, 99, NULL), -EINVAL);
    WK_EQ(cio_web_status(res, 1000, NULL), -EINVAL);
    WK_EQ(cio_web_status(res, 200, "OK\r\nX: y"), CIO_EHTTP_BAD_FIELD);
    WK_EQ(cio_web_set_header(res, "X-A", "1"), 0);
    WK_EQ(cio_web_add_header(res, "X-A", "2"), 0);
    WK_EQ(cio_web_set_header(res, "X-B", "gone"), 0);
    WK_EQ(cio_web_remove_header(res, "x-b"), 0);
    WK_ISNULL(cio_web_response_header(res, "X-B"));
    WK_STREQ(cio_web_response_header(res, "x-a"), "1");
    /* A body from memory sets the status with its standard reason; a reason of one's own comes after. */
    int rc = cio_web_respond(res, 200, "text/plain", W("ok"));
    WK_EQ(cio_web_status(res, 299, "Fine"), 0);
    WK_EQ(cio_web_status_of(res), 299);
    return rc;
}

static const char storage_key = 0;
static char trail_buf[128]; /* one request at a time */

/* Middleware: records its order in a header and the request storage. */
static int mw_order(cio_web_request *req, cio_web_response *res, void *arg)
{
    const char *name = arg;
    char *trail = cio_web_get_value(req, &storage_key);
    if (!trail)
        trail_buf[0] = 0;
    size_t n = strlen(trail_buf);
    snprintf(trail_buf + n, sizeof trail_buf - n, "%s>", name);
    WK_EQ(cio_web_set(req, &storage_key, trail_buf), 0);
    int rc = cio_web_next(req, res);
    (void)cio_web_add_header(res, "X-After", name);
    return rc;
}

static int h_trail(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    char *trail = cio_web_get_value(req, &storage_key);
    int rc = cio_web_text(res, 200, "%s", trail ? trail : "");
    WK_EQ(cio_web_set(req, &storage_key, NULL), 0);
    WK_ISNULL(cio_web_get_value(req, &storage_key));
    return rc;
}

/* Authentication: answers 401 itself unless the request has the token. */
static int mw_auth(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *auth = cio_web_header(req, "Authorization");
    if (!auth || strcmp(auth, "Bearer good")) {
        (void)cio_web_set_header(res, "WWW-Authenticate", "Bearer");
        return cio_web_error(res, 401);
    }
    return cio_web_next(req, res);
}

/* Turns the rest's errors into a 418 page of its own, and marks every response it saw. */
static int mw_errors(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    int rc = cio_web_next(req, res);
    if (rc == -EIO)
        rc = cio_web_text(res, 418, "rewritten");
    (void)cio_web_set_header(res, "X-Seen", "1");
    return rc;
}

/* ------------------------------------------------------------------------------------------------ fixture */

struct fixture {
    cio_web_app *app;
    cio_web_test *t;
};

static int route_all(cio_web_app *app)
{
    int rc = 0;
    rc |= cio_web_get(app, "/", h_hello, NULL);
    rc |= cio_web_get(app, "/hello/{name}", h_name, NULL);
    rc |= cio_web_get(app, "/items/{id:int}", h_label, "int");
    rc |= cio_web_get(app, "/items/new", h_label, "literal");
    rc |= cio_web_get(app, "/items/{name}", h_label, "var");
    rc |= cio_web_get(app, "/re/{code:[a-z]{3}}", h_label, "regex");
    rc |= cio_web_get(app, "/files/{path:.*}", h_label, "tail");
    rc |= cio_web_get(app, "/pre-{a}-mid-{b}", h_label, "affix"); /* refused: two variables in a segment */
    rc = 0;
    rc |= cio_web_get(app, "/v{a}.json", h_label, "affix");
    rc |= cio_web_post(app, "/echo", h_echo, NULL);
    rc |= cio_web_put(app, "/echo", h_echo, NULL);
    rc |= cio_web_route(app, "*", "/any", h_headers, NULL);
    rc |= cio_web_post(app, "/chunks", h_echo_chunks, NULL);
    rc |= cio_web_get(app, "/query", h_query, NULL);
    rc |= cio_web_get(app, "/headers", h_headers, NULL);
    rc |= cio_web_get(app, "/stream", h_stream, NULL);
    rc |= cio_web_get(app, "/streamlen", h_stream_len, NULL);
    rc |= cio_web_get(app, "/fail", h_fail, NULL);
    rc |= cio_web_get(app, "/limit", h_status_err, NULL);
    rc |= cio_web_get(app, "/go", h_redirect, NULL);
    rc |= cio_web_get(app, "/json", h_json, NULL);
    rc |= cio_web_get(app, "/inject", h_inject, NULL);
    rc |= cio_web_delete(app, "/items/{id:int}", h_label, "delete");
    return rc;
}

static int fixture_open(struct fixture *f, const cio_web_app_opts *ao, const cio_web_server_opts *so)
{
    memset(f, 0, sizeof(*f));
    int rc = cio_web_app_open(&f->app, ao);
    WK_EQ(rc, 0);
    if (rc < 0)
        return rc;
    WK_EQ(route_all(f->app), 0);
    rc = cio_web_test_open(&f->t, f->app, so);
    WK_EQ(rc, 0);
    return rc;
}

static void fixture_close(struct fixture *f)
{
    WK_EQ(cio_web_test_close(f->t, CIO_SEC(5)), 0);
    cio_web_app_close(f->app);
}

/* GET `target` and check the status and body (NULL: any body). */
static void expect_get(struct fixture *f, const char *target, int status, const char *body)
{
    cio_web_test_response r;
    int rc = cio_web_test_request(f->t, "GET", target, NULL, NULL, 0, &r);
    WK_CHECK(rc == 0, "GET %s: %s", target, cio_strerror(rc));
    WK_CHECK(r.status == status, "GET %s: status %d, not %d", target, r.status, status);
    if (body)
        WK_CHECK(r.body.data && !strcmp(r.body.data, body), "GET %s: body \"%s\", not \"%s\"", target,
                 r.body.data ? r.body.data : "(none)", body);
    cio_web_test_response_fini(&r);
}

/* ------------------------------------------------------------------------------------------------ routing */

static int routing_body(void *arg)
{
    (void)arg;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    expect_get(&f, "/", 200, "Hello, world");
    expect_get(&f, "/hello/ann", 200, "Hello, ann");
    expect_get(&f, "/hello/a%20b", 200, "Hello, a b");
    expect_get(&f, "/hello/%E2%82%AC", 200, "Hello, \xE2\x82\xAC");
    expect_get(&f, "/items/42", 200, "int:id=42");
    expect_get(&f, "/items/new", 200, "literal");
    expect_get(&f, "/items/x42", 200, "var:name=x42");
    expect_get(&f, "/re/abc", 200, "regex:code=abc");
    expect_get(&f, "/re/abcd", 404, "404: Not Found\n");
    expect_get(&f, "/re/ab1", 404, NULL);
    expect_get(&f, "/files/", 200, "tail:path=");
    expect_get(&f, "/files/a/b/c.txt", 200, "tail:path=a/b/c.txt");
    /* An encoded slash stays inside one segment, decoded only in the match value. */
    expect_get(&f, "/hello/a%2Fb", 200, "Hello, a/b");
    expect_get(&f, "/v12.json", 200, "affix:a=12");
    /* Dot segments are resolved, never above the root. */
    expect_get(&f, "/x/../hello/dot", 200, "Hello, dot");
    expect_get(&f, "/../../hello/root", 200, "Hello, root");
    expect_get(&f, "/hello/./me", 200, "Hello, me");
    expect_get(&f, "/%2e%2e/hello/enc", 200, "Hello, enc");
    expect_get(&f, "/nowhere", 404, "404: Not Found\n");
    expect_get(&f, "/hello", 404, NULL);
    expect_get(&f, "/hello/a/b", 404, NULL);
    expect_get(&f, "/hello/%zz", 400, NULL);
    expect_get(&f, "/hello/%00", 400, NULL);
    expect_get(&f, "/any", 200, NULL);

    /* 405 with Allow, for a path that other methods serve. */
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(f.t, "GET", "/echo", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 405);
    WK_STREQ(cio_web_test_header(&r, "Allow"), "POST, PUT, OPTIONS");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "DELETE", "/items/7", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(r.body.data, "delete:id=7");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "PATCH", "/items/7", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 405);
    WK_STREQ(cio_web_test_header(&r, "Allow"), "GET, HEAD, DELETE, OPTIONS");
    cio_web_test_response_fini(&r);
    /* OPTIONS is answered with Allow. */
    WK_EQ(cio_web_test_request(f.t, "OPTIONS", "/hello/x", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Allow"), "GET, HEAD, OPTIONS");
    WK_STREQ(cio_web_test_header(&r, "Content-Length"), "0");
    cio_web_test_response_fini(&r);
    /* HEAD from GET: the same head, the length of the body not sent. */
    WK_EQ(cio_web_test_request(f.t, "HEAD", "/hello/ann", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Content-Length"), "10");
    WK_EQ(r.body.len, 0);
    WK_CHECK(r.kept);
    cio_web_test_response_fini(&r);
    /* The connection survived all of that (keep-alive through errors that are the client's). */
    WK_EQ(cio_web_test_connections(f.t), 1);
    fixture_close(&f);
    return 0;
}

Test(web, routes_match_by_segment_with_literals_first_and_errors_as_short_pages)
{
    tst_run(routing_body, NULL);
    wk_verdict();
}

static int h_nop(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)res;
    (void)arg;
    return 0;
}

static int bad_routes_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_app_open(NULL, NULL), -EINVAL);
    WK_EQ(cio_web_get(app, "/a/{x}", h_nop, NULL), 0);
    WK_EQ(cio_web_get(app, "/a/{x}", h_nop, NULL), CIO_EWEB_ROUTE_EXISTS);
    WK_EQ(cio_web_post(app, "/a/{x}", h_nop, NULL), 0);
    WK_EQ(cio_web_get(app, "a", h_nop, NULL), -EINVAL);
    WK_EQ(cio_web_get(app, "", h_nop, NULL), -EINVAL);
    WK_EQ(cio_web_get(app, NULL, h_nop, NULL), -EINVAL);
    WK_EQ(cio_web_get(app, "/a", NULL, NULL), -EINVAL);
    WK_EQ(cio_web_route(app, "G T", "/a", h_nop, NULL), -EINVAL);
    WK_EQ(cio_web_route(app, "", "/a", h_nop, NULL), -EINVAL);
    WK_EQ(cio_web_get(app, "/b/{", h_nop, NULL), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_get(app, "/b/{}", h_nop, NULL), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_get(app, "/b/{x:[}", h_nop, NULL), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_get(app, "/b/{x}{y}", h_nop, NULL), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_get(app, "/b/{x:.*}/more", h_nop, NULL), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_use(app, NULL, NULL), -EINVAL);
    cio_web_app *sub;
    WK_EQ(cio_web_app_open(&sub, NULL), 0);
    WK_EQ(cio_web_add_subapp(app, "/s/", sub), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_add_subapp(app, "/s/{x}", sub), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_add_subapp(app, "s", sub), -EINVAL);
    WK_EQ(cio_web_add_subapp(app, "/s", sub), 0);
    WK_EQ(cio_web_add_subapp(app, "/t", sub), CIO_EWEB_ROUTE_EXISTS);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    /* Frozen while served. */
    WK_EQ(cio_web_get(app, "/late", h_nop, NULL), CIO_EWEB_FROZEN);
    WK_EQ(cio_web_get(sub, "/late", h_nop, NULL), CIO_EWEB_FROZEN);
    WK_EQ(cio_web_use(app, mw_errors, NULL), CIO_EWEB_FROZEN);
    /* A handler that answers nothing answers 200 with an empty body. */
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/a/1", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Content-Length"), "0");
    cio_web_test_response_fini(&r);
    /* A sub-application cannot be served on its own. */
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, sub, NULL), -EINVAL);
    WK_EQ(cio_web_server_close(NULL, 0), -EINVAL);
    WK_EQ(cio_web_server_port(NULL), -EINVAL);
    WK_EQ(cio_web_test_close(t, 0), 0);
    cio_web_app_close(app);
    cio_web_app_close(NULL);
    return 0;
}

Test(web, bad_routes_and_late_changes_are_refused_with_their_errors)
{
    tst_run(bad_routes_body, NULL);
    wk_verdict();
}

/* 10,000 routes: each one is found, by the tree, in the same test client run. */
static int many_routes_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    char pat[64];
    for (int i = 0; i < 10000; i++) {
        snprintf(pat, sizeof pat, "/r%d/{name}", i);
        WK_EQ(cio_web_get(app, pat, h_name, NULL), 0);
    }
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    for (int i = 0; i < 10000; i += 997) {
        cio_web_test_response r;
        snprintf(pat, sizeof pat, "/r%d/n%d", i, i);
        WK_EQ(cio_web_test_request(t, "GET", pat, NULL, NULL, 0, &r), 0);
        char want[64];
        snprintf(want, sizeof want, "Hello, n%d", i);
        WK_STREQ(r.body.data, want);
        cio_web_test_response_fini(&r);
    }
    WK_EQ(cio_web_test_close(t, 0), 0);
    cio_web_app_close(app);
    return 0;
}

Test(web, ten_thousand_routes_are_all_found)
{
    tst_run(many_routes_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ requests */

static int request_body(void *arg)
{
    (void)arg;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    expect_get(&f, "/query?a=1&b=x+y%21&c", 200, "a=1 b=x y! c= qs=a=1&b=x+y%21&c path=/query");
    expect_get(&f, "/query", 200, "a=(none) b=(none) c=(none) qs= path=/query");
    expect_get(&f, "/query?b=%zz&a=%41", 200, "a=A b=(none) c=(none) qs=b=%zz&a=%41 path=/query");
    const char *const hdrs[] = {"X-TEST", "yes", "X-Multi", "1", "x-multi", "2", NULL};
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(f.t, "GET", "/headers?z", hdrs, NULL, 0, &r), 0);
    WK_STREQ(r.body.data, "x=yes multi=2 version=1 keep=1 cl=-1 remote=1 local=1 method=GET target=/headers?z");
    cio_web_test_response_fini(&r);
    /* Every method reaches a "*" route, with its body counted. */
    WK_EQ(cio_web_test_request(f.t, "BREW", "/any", NULL, W("abc"), &r), 0);
    WK_STREQ(r.body.data, "x=(none) multi=0 version=1 keep=1 cl=3 remote=1 local=1 method=BREW target=/any");
    cio_web_test_response_fini(&r);
    /* Absolute-form targets are served by their path; OPTIONS * by the server. */
    WK_EQ(cio_web_test_raw(f.t, W("GET http://127.0.0.1/hello/abs?q=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), NULL, &r),
          0);
    WK_EQ(r.status, 200);
    WK_STREQ(r.body.data, "Hello, abs");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_raw(f.t, W("OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), "OPTIONS", &r), 0);
    WK_EQ(r.status, 200);
    cio_web_test_response_fini(&r);
    /* Bodies: with a length, empty, and chunked. */
    const char *const ct[] = {"Content-Type", "text/x-test", NULL};
    WK_EQ(cio_web_test_request(f.t, "POST", "/echo", ct, W("hello body"), &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(r.body.data, "hello body");
    WK_STREQ(cio_web_test_header(&r, "Content-Type"), "text/x-test");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "POST", "/echo", NULL, "", 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_EQ(r.body.len, 0);
    cio_web_test_response_fini(&r);
    /* A request without a body keeps its head's views after its (empty) body is read: the handler reads the body,
       then Content-Type, from the head whose stream buffer the empty read left idle; twice on one connection. */
    for (int i = 0; i < 2; i++) {
        WK_EQ(
            cio_web_test_raw(f.t, W("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-none\r\n\r\n"), "POST", &r),
            0);
        WK_EQ(r.status, 200);
        WK_EQ(r.body.len, 0);
        WK_STREQ(cio_web_test_header(&r, "Content-Type"), "text/x-none");
        WK_CHECK(r.kept);
        cio_web_test_response_fini(&r);
    }
    WK_EQ(cio_web_test_raw(f.t,
                           W("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n"),
                           "POST", &r),
          0);
    WK_EQ(r.status, 200);
    WK_STREQ(r.body.data, "hello world");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_raw(f.t, W("POST /chunks HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"), "POST",
                           &r),
          0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Transfer-Encoding"), "chunked");
    WK_STREQ(r.body.data, "hello world");
    cio_web_test_response_fini(&r);
    /* A body the handler does not read is discarded: the next request on the connection is served. */
    WK_EQ(cio_web_test_request(f.t, "POST", "/any", NULL, W("unread body"), &r), 0);
    WK_EQ(r.status, 200);
    cio_web_test_response_fini(&r);
    expect_get(&f, "/", 200, "Hello, world");
    WK_EQ(cio_web_test_connections(f.t), 1);
    fixture_close(&f);
    return 0;
}

Test(web, requests_give_their_path_query_headers_and_bodies)
{
    tst_run(request_body, NULL);
    wk_verdict();
}

/* A body over client_max_size is 413 and the connection closes; so is a Content-Length above it. */
static int limit_body(void *arg)
{
    (void)arg;
    struct fixture f;
    cio_web_app_opts ao = {.client_max_size = 100};
    if (fixture_open(&f, &ao, NULL) < 0)
        return 0;
    static char big[101];
    memset(big, 'x', sizeof big);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(f.t, "POST", "/echo", NULL, big, 100, &r), 0);
    WK_EQ(r.status, 200);
    WK_EQ(r.body.len, 100);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "POST", "/echo", NULL, big, 101, &r), 0);
    WK_EQ(r.status, 413);
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    char chunked[512];
    int n =
        snprintf(chunked, sizeof chunked,
                 "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n%.101s\r\n0\r\n\r\n", big);
    WK_EQ(cio_web_test_raw(f.t, chunked, (size_t)n, "POST", &r), 0);
    WK_EQ(r.status, 413);
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    /* A handler's error that maps to a status answers with it. */
    expect_get(&f, "/limit", 413, "413: Content Too Large\n");
    fixture_close(&f);
    return 0;
}

Test(web, a_body_over_client_max_size_is_413_and_closes)
{
    tst_run(limit_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ responses */

static int response_body(void *arg)
{
    (void)arg;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(f.t, "GET", "/stream", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Transfer-Encoding"), "chunked");
    WK_STREQ(cio_web_test_header(&r, "Content-Type"), "text/plain");
    WK_STREQ(r.body.data, "one two three");
    WK_CHECK(r.kept);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "GET", "/streamlen", NULL, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Length"), "10");
    WK_STREQ(r.body.data, "abcdefghij");
    cio_web_test_response_fini(&r);
    /* HTTP/1.0: a streamed body without a length runs to the close. */
    WK_EQ(cio_web_test_raw(f.t, W("GET /stream HTTP/1.0\r\n\r\n"), NULL, &r), 0);
    WK_EQ(r.status, 200);
    WK_EQ(r.minor_version, 0);
    WK_ISNULL(cio_web_test_header(&r, "Transfer-Encoding"));
    WK_STREQ(r.body.data, "one two three");
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    /* A handler's failure is a bare 500: what it had written is not shown, the error is logged. */
    WK_EQ(cio_web_test_request(f.t, "GET", "/fail", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 500);
    WK_STREQ(r.body.data, "500: Internal Server Error\n");
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    WK_CHECK(tst_log_contains("GET /fail: handler failed"));
    WK_EQ(cio_web_test_request(f.t, "GET", "/go", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 302);
    WK_STREQ(cio_web_test_header(&r, "Location"), "/hello/redirected");
    WK_ISNULL(cio_web_test_header(&r, "Set-Cookie"));
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "GET", "/json", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 201);
    WK_STREQ(cio_web_test_header(&r, "Content-Type"), "application/json");
    WK_STREQ(r.body.data, "{\"ok\": true}");
    /* Every response has a Date (an IMF-fixdate) and the Server. */
    const char *date = cio_web_test_header(&r, "Date");
    WK_CHECK(date && strlen(date) == 29 && !strcmp(date + 25, " GMT"), "%s", date ? date : "(none)");
    WK_STREQ(cio_web_test_header(&r, "Server"), "cio");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(f.t, "GET", "/inject", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 299);
    WK_CHECK(r.head.reason.len == 4 && !memcmp(r.head.reason.ptr, "Fine", 4));
    WK_ISNULL(cio_web_test_header(&r, "Set-Cookie"));
    WK_ISNULL(cio_web_test_header(&r, "X-B"));
    int xa = 0;
    for (const cio_http_header *h = NULL; (h = cio_http_header_find(&r.head, "X-A", h));)
        xa++;
    WK_EQ(xa, 2);
    cio_web_test_response_fini(&r);
    fixture_close(&f);
    return 0;
}

Test(web, responses_buffered_streamed_and_refusing_injection)
{
    cio_loop_opts o = {.log = tst_log_sink};
    tst_run_expect(response_body, NULL, &o, 0);
    wk_verdict();
}

static int server_name_body(void *arg)
{
    (void)arg;
    struct fixture f;
    cio_web_server_opts so = {.server_name = ""};
    if (fixture_open(&f, NULL, &so) < 0)
        return 0;
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(f.t, "GET", "/", NULL, NULL, 0, &r), 0);
    WK_ISNULL(cio_web_test_header(&r, "Server"));
    cio_web_test_response_fini(&r);
    cio_web_server *srv;
    so.server_name = "bad\r\nX: y";
    WK_EQ(cio_web_server_start(&srv, f.app, &so), CIO_EHTTP_BAD_FIELD);
    fixture_close(&f);
    return 0;
}

Test(web, the_server_header_is_configurable_and_checked)
{
    tst_run(server_name_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ middleware */

static int middleware_body(void *arg)
{
    (void)arg;
    cio_web_app *app, *sub;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_app_open(&sub, NULL), 0);
    WK_EQ(cio_web_use(app, mw_order, "outer"), 0);
    WK_EQ(cio_web_use(app, mw_order, "inner"), 0);
    WK_EQ(cio_web_use(app, mw_errors, NULL), 0);
    WK_EQ(cio_web_get(app, "/trail", h_trail, NULL), 0);
    WK_EQ(cio_web_get(app, "/fail", h_fail, NULL), 0);
    WK_EQ(cio_web_use(sub, mw_order, "sub"), 0);
    WK_EQ(cio_web_use(sub, mw_auth, NULL), 0);
    WK_EQ(cio_web_get(sub, "/trail", h_trail, NULL), 0);
    WK_EQ(cio_web_get(sub, "/{name}", h_name, NULL), 0);
    WK_EQ(cio_web_add_subapp(app, "/api", sub), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/trail", NULL, NULL, 0, &r), 0);
    WK_STREQ(r.body.data, "outer>inner>");
    /* After: innermost first; added headers are kept in order. */
    const cio_http_header *h = cio_http_header_find(&r.head, "X-After", NULL);
    WK_STREQ(h ? h->value.ptr : NULL, "inner");
    h = h ? cio_http_header_find(&r.head, "X-After", h) : NULL;
    WK_STREQ(h ? h->value.ptr : NULL, "outer");
    WK_STREQ(cio_web_test_header(&r, "X-Seen"), "1");
    cio_web_test_response_fini(&r);
    /* Middleware sees the handler's error and may rewrite it. */
    WK_EQ(cio_web_test_request(t, "GET", "/fail", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 418);
    WK_STREQ(r.body.data, "rewritten");
    cio_web_test_response_fini(&r);
    /* The parent's chain runs first, then the sub-application's; its auth answers early. */
    const char *const good[] = {"Authorization", "Bearer good", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/api/trail", good, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(r.body.data, "outer>inner>sub>");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/api/trail", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 401);
    WK_STREQ(cio_web_test_header(&r, "WWW-Authenticate"), "Bearer");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/api/bob", good, NULL, 0, &r), 0);
    WK_STREQ(r.body.data, "Hello, bob");
    cio_web_test_response_fini(&r);
    /* A 404 still goes through the app's middleware. */
    WK_EQ(cio_web_test_request(t, "GET", "/nowhere", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 404);
    WK_STREQ(cio_web_test_header(&r, "X-Seen"), "1");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, 0), 0);
    cio_web_app_close(app);
    return 0;
}

Test(web, middleware_runs_in_order_around_handlers_and_sub_applications)
{
    tst_run(middleware_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ connections */

/* HTTP/1.0 closes unless it asks for keep-alive; Connection: close closes; max_requests closes after the last. */
static int keepalive_body(void *arg)
{
    (void)arg;
    struct fixture f;
    cio_web_server_opts so = {.max_requests = 3};
    if (fixture_open(&f, NULL, &so) < 0)
        return 0;
    cio_web_test_response r;
    WK_EQ(cio_web_test_raw(f.t, W("GET / HTTP/1.0\r\n\r\n"), NULL, &r), 0);
    WK_EQ(r.minor_version, 0);
    WK_CHECK(!r.kept);
    WK_STREQ(r.body.data, "Hello, world");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_raw(f.t, W("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), NULL, &r), 0);
    WK_CHECK(r.kept);
    WK_STREQ(cio_web_test_header(&r, "Connection"), "keep-alive");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_raw(f.t, W("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), NULL, &r), 0);
    WK_CHECK(!r.kept);
    WK_STREQ(cio_web_test_header(&r, "Connection"), "close");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_connections(f.t), 2);
    for (int i = 0; i < 3; i++) {
        WK_EQ(cio_web_test_request(f.t, "GET", "/", NULL, NULL, 0, &r), 0);
        WK_CHECK(r.kept == (i < 2), "request %d", i);
        cio_web_test_response_fini(&r);
    }
    WK_EQ(cio_web_test_connections(f.t), 3);
    fixture_close(&f);
    return 0;
}

Test(web, keep_alive_follows_rfc_9112_and_max_requests)
{
    tst_run(keepalive_body, NULL);
    wk_verdict();
}

/* Requests written in one piece are answered in order, and the answers coalesce. */
static int pipeline_body(void *arg)
{
    (void)arg;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    cio_stream *s = wk_connect(f.t);
    static const char reqs[] = "GET /hello/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                               "HEAD /hello/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /hello/5 HTTP/1.1\r\nHost: x\r\n\r\n";
    WK_EQ(cio_stream_write(s, reqs, sizeof reqs - 1), 0);
    static const char *const methods[] = {"GET", "POST", "HEAD", "GET", "GET"};
    static const int statuses[] = {200, 200, 200, 404, 200};
    static const char *const bodies[] = {"Hello, 1", "body", "", "404: Not Found\n", "Hello, 5"};
    for (int i = 0; i < 5; i++) {
        cio_buf b = {0};
        WK_EQ(wk_read_response(s, methods[i], &b, NULL), statuses[i]);
        WK_STREQ(b.data ? b.data : "", bodies[i]);
        cio_buf_free(&b);
    }
    cio_stream_close(s);
    fixture_close(&f);
    return 0;
}

Test(web, pipelined_requests_are_answered_in_order)
{
    tst_run(pipeline_body, NULL);
    wk_verdict();
}

/* Two pipelined requests (one with a chunked body) split at every byte: the same two answers each time. */
static const char split_wire[] = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                                 "GET /hello/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

static int split_body(void *arg)
{
    (void)arg;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    for (size_t cut = 1; cut < sizeof split_wire - 1; cut++) {
        cio_stream *s = wk_connect(f.t);
        if (!s)
            break;
        WK_EQ(cio_stream_write(s, split_wire, cut), 0);
        for (int i = 0; i < 3; i++)
            cio_sleep(0);
        WK_EQ(cio_stream_write(s, split_wire + cut, sizeof split_wire - 1 - cut), 0);
        cio_buf b = {0};
        WK_CHECK(wk_read_response(s, "POST", &b, NULL) == 200, "cut %zu", cut);
        WK_CHECK(b.data && !strcmp(b.data, "abcde"), "cut %zu", cut);
        cio_buf_free(&b);
        WK_CHECK(wk_read_response(s, "GET", &b, NULL) == 200, "cut %zu", cut);
        WK_CHECK(b.data && !strcmp(b.data, "Hello, two"), "cut %zu", cut);
        cio_buf_free(&b);
        WK_CHECK(wk_closed(s), "cut %zu", cut);
        cio_stream_close(s);
    }
    fixture_close(&f);
    return 0;
}

Test(web, pipelined_requests_split_at_every_byte)
{
    tst_run(split_body, NULL);
    wk_verdict();
}

/* Expect: 100-continue: the 100 goes out only when the handler reads the body; a handler that does not read it
   answers without one and the connection closes (the client still holds the body). Unknown expectations: 417. */
static int continue_body(void *arg)
{
    (void)arg;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    cio_stream *s = wk_connect(f.t);
    WK_EQ(cio_stream_write(s, W("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")),
          0);
    char line[64];
    ssize_t n = cio_stream_read_until(s, "\r\n\r\n", 4, line, sizeof line - 1);
    WK_CHECK(n > 0);
    line[n > 0 ? n : 0] = 0;
    WK_STREQ(line, "HTTP/1.1 100 Continue\r\n\r\n");
    WK_EQ(cio_stream_write(s, W("hello")), 0);
    cio_buf b = {0};
    WK_EQ(wk_read_response(s, "POST", &b, NULL), 200);
    WK_STREQ(b.data, "hello");
    cio_buf_free(&b);
    /* A handler that starts its response before it reads: the 100 still comes first. */
    WK_EQ(
        cio_stream_write(s, W("POST /chunks HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")),
        0);
    n = cio_stream_read_until(s, "\r\n\r\n", 4, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    WK_STREQ(line, "HTTP/1.1 100 Continue\r\n\r\n");
    WK_EQ(cio_stream_write(s, W("world")), 0);
    WK_EQ(wk_read_response(s, "POST", &b, NULL), 200);
    WK_STREQ(b.data, "world");
    cio_buf_free(&b);
    /* A handler that never reads: no 100, an answer, and the close. */
    WK_EQ(cio_stream_write(s, W("POST /any HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")),
          0);
    int informational = 0;
    WK_EQ(wk_read_response(s, "POST", NULL, &informational), 200);
    WK_EQ(informational, 0);
    WK_CHECK(wk_closed(s));
    cio_stream_close(s);
    cio_web_test_response r;
    WK_EQ(cio_web_test_raw(f.t, W("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx"),
                           "POST", &r),
          0);
    WK_EQ(r.status, 417);
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    fixture_close(&f);
    return 0;
}

Test(web, expect_100_continue_only_when_the_body_is_read)
{
    tst_run(continue_body, NULL);
    wk_verdict();
}

/* request.post(): every field, in order, as "name=value;"; and one by name. */
static int h_fields(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    char out[1024];
    size_t n = 0;
    const char *name, *value;
    size_t len;
    int rc;
    for (size_t i = 0; (rc = cio_web_form_at(req, i, &name, &value, &len)) == 1; i++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s=%.*s;", name, (int)len, value);
    if (rc != -ENOENT)
        return rc;
    rc = cio_web_form(req, "b", &value, NULL);
    n += (size_t)snprintf(out + n, sizeof out - n, "b:%s", rc == 0 ? value : cio_strerror(rc));
    WK_EQ(cio_web_form(req, "nope", &value, NULL), -ENOENT);
    return cio_web_respond(res, 200, "text/plain", out, n);
}

static int form_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, &(cio_web_app_opts){.client_max_size = 300}), 0);
    WK_EQ(cio_web_post(app, "/fields", h_fields, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_web_test_response r;
    const char *const url[] = {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8", NULL};
    WK_EQ(cio_web_test_request(t, "POST", "/fields", url, W("a=1&b=x+y%21&&c&%E2%82%AC=%E2%82%AC"), &r), 0);
    WK_STREQ(r.body.data, "a=1;b=x y!;c=;\xE2\x82\xAC=\xE2\x82\xAC;b:x y!");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "POST", "/fields", url, W("a=%zz"), &r), 0);
    WK_EQ(r.status, 400);
    cio_web_test_response_fini(&r);
    const char *const mp[] = {"Content-Type", "multipart/form-data; boundary=XyZ", NULL};
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\none\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b.txt\"\r\n"
                               "Content-Type: text/plain\r\n\r\nfile\r\nbody\r\n--XyZ--\r\n";
    WK_EQ(cio_web_test_request(t, "POST", "/fields", mp, body, sizeof body - 1, &r), 0);
    WK_STREQ(r.body.data, "a=one;b=file\r\nbody;b:file\r\nbody");
    cio_web_test_response_fini(&r);
    /* Truncated multipart: the parser's error, a 400. */
    WK_EQ(cio_web_test_request(t, "POST", "/fields", mp, body, 40, &r), 0);
    WK_EQ(r.status, 400);
    cio_web_test_response_fini(&r);
    /* Another type has no fields. */
    const char *const text[] = {"Content-Type", "text/plain", NULL};
    WK_EQ(cio_web_test_request(t, "POST", "/fields", text, W("b=1"), &r), 0);
    WK_STREQ(r.body.data, "b:no such file or directory");
    cio_web_test_response_fini(&r);
    /* Over client_max_size: 413. */
    static char big[400];
    memset(big, 'a', sizeof big);
    WK_EQ(cio_web_test_request(t, "POST", "/fields", url, big, sizeof big, &r), 0);
    WK_EQ(r.status, 413);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(web, form_fields_from_urlencoded_and_multipart_bodies)
{
    tst_run(form_body, NULL);
    wk_verdict();
}

/* A protocol switch: the handler answers 101 and speaks on the stream (here: an upper-casing echo) until the
   client ends; the server then closes, never reading another request. */
static int h_upgrade(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    if (!cio_http_upgrade(cio_web_head(req)))
        return cio_web_error(res, 426);
    const char *proto = cio_web_header(req, "Upgrade");
    int rc = cio_web_status(res, 101, NULL);
    if (rc == 0)
        rc = cio_web_set_header(res, "Upgrade", proto ? proto : "x");
    if (rc == 0)
        rc = cio_web_prepare(res, 0);
    cio_stream *s = cio_web_stream(req);
    char buf[256];
    ssize_t n;
    while (rc == 0 && (n = cio_stream_read(s, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
        rc = cio_stream_write(s, buf, (size_t)n);
    }
    return rc;
}

static int upgrade_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/up", h_upgrade, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_stream *s = wk_connect(t);
    /* The client's first bytes of the new protocol come right behind the request. */
    WK_EQ(cio_stream_write(s, W("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nhello ")),
          0);
    char head[512];
    ssize_t n = cio_stream_read_until(s, "\r\n\r\n", 4, head, sizeof head - 1);
    head[n > 0 ? n : 0] = 0;
    WK_CHECK(!strncmp(head, "HTTP/1.1 101 Switching Protocols\r\n", 34), "%s", head);
    WK_CHECK(strstr(head, "\r\nUpgrade: shout\r\n") && strstr(head, "\r\nConnection: upgrade\r\n"), "%s", head);
    WK_CHECK(!strstr(head, "Content-Length") && !strstr(head, "Transfer-Encoding"), "%s", head);
    WK_EQ(cio_stream_write(s, W("world")), 0);
    WK_EQ(cio_stream_write_eof(s), 0);
    char out[64];
    size_t got = 0;
    while (got < sizeof out - 1 && (n = cio_stream_read(s, out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = 0;
    WK_STREQ(out, "HELLO WORLD");
    WK_EQ(n, 0); /* and closed */
    cio_stream_close(s);
    /* Without the Upgrade, the handler says so. */
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/up", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 426);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(web, an_upgrade_hands_the_stream_to_the_handler_and_then_closes)
{
    tst_run(upgrade_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ hostile */

struct hostile {
    const char *name;
    const char *wire;
    int status; /* 0: closed without an answer */
};

static const struct hostile hostiles[] = {
    {"CL and TE", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400},
    {"TE and CL", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
     400},
    {"two lengths", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
    {"length list", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd", 400},
    {"signed length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400},
    {"hex length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\nabc", 400},
    {"TE not chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
    {"TE chunked twice", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
    {"TE with space", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
    {"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
    {"bare LF", "GET / HTTP/1.1\nHost: x\n\n", 400},
    {"bare CR", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400},
    {"NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400},
    {"bad method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"bad version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400},
    {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
    {"HTTP/0.9", "GET /\r\n\r\n", 400},
    {"TLS hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},
    {"garbage", "\xff\xfe\xfd\r\n\r\n", 400},
    {"space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
    {"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
     400},
    {"chunk size overflow",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n", 400},
    {"chunk without CRLF", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
     400},
    {"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501},
    {"truncated head", "GET / HTTP/1.1\r\nHost: x\r\n", 0},
    /* The handler's read fails, and the answer goes to a client that may still read. */
    {"truncated body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 400},
};

ParameterizedTestParameters(web, hostile_requests)
{
    static size_t idx[sizeof hostiles / sizeof *hostiles];
    for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, sizeof idx / sizeof *idx);
}

static int hostile_body(void *arg)
{
    const struct hostile *h = &hostiles[*(size_t *)arg];
    size_t len = strlen(h->wire);
    if (!strcmp(h->name, "NUL in value"))
        len = sizeof "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n" - 1;
    struct fixture f;
    if (fixture_open(&f, NULL, NULL) < 0)
        return 0;
    cio_stream *s = wk_connect(f.t);
    WK_EQ(cio_stream_write(s, h->wire, len), 0);
    if (!h->status || !strncmp(h->name, "truncated", 9))
        (void)cio_stream_write_eof(s); /* the client goes away mid-message */
    cio_buf b = {0};
    int got = wk_read_response(s, "POST", &b, NULL);
    if (h->status) {
        WK_CHECK(got == h->status, "%s: %d (%s), not %d", h->name, got, got < 0 ? cio_strerror(got) : "", h->status);
        /* A short page, then the close: nothing of the request was served. */
        WK_CHECK(b.data && strchr(b.data, ':'), "%s", h->name);
    } else {
        WK_CHECK(got < 0, "%s: answered %d", h->name, got);
    }
    WK_CHECK(wk_closed(s), "%s", h->name);
    cio_buf_free(&b);
    cio_stream_close(s);
    /* And the server goes on serving others. */
    expect_get(&f, "/hello/next", 200, "Hello, next");
    fixture_close(&f);
    return 0;
}

ParameterizedTest(size_t *i, web, hostile_requests)
{
    tst_run(hostile_body, i);
    wk_verdict();
}

/* Limits: the request line (414), the head and the header count (431). */
static int limits_body(void *arg)
{
    (void)arg;
    struct fixture f;
    cio_web_server_opts so = {.max_line = 200, .max_head = 1024, .max_headers = 10};
    if (fixture_open(&f, NULL, &so) < 0)
        return 0;
    char wire[4096];
    cio_web_test_response r;
    int n = snprintf(wire, sizeof wire, "GET /hello/%0180d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    WK_EQ(cio_web_test_raw(f.t, wire, (size_t)n, NULL, &r), 0);
    WK_EQ(r.status, 200);
    cio_web_test_response_fini(&r);
    n = snprintf(wire, sizeof wire, "GET /hello/%0181d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    WK_EQ(cio_web_test_raw(f.t, wire, (size_t)n, NULL, &r), 0);
    WK_EQ(r.status, 414);
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    n = snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %01000d\r\n\r\n", 0);
    WK_EQ(cio_web_test_raw(f.t, wire, (size_t)n, NULL, &r), 0);
    WK_EQ(r.status, 431);
    WK_CHECK(!r.kept);
    cio_web_test_response_fini(&r);
    n = snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 10; i++)
        n += snprintf(wire + n, sizeof wire - (size_t)n, "X-%d: v\r\n", i);
    n += snprintf(wire + n, sizeof wire - (size_t)n, "\r\n");
    WK_EQ(cio_web_test_raw(f.t, wire, (size_t)n, NULL, &r), 0);
    WK_EQ(r.status, 200);
    cio_web_test_response_fini(&r);
    n = snprintf(wire, sizeof wire, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 11; i++)
        n += snprintf(wire + n, sizeof wire - (size_t)n, "X-%d: v\r\n", i);
    n += snprintf(wire + n, sizeof wire - (size_t)n, "\r\n");
    WK_EQ(cio_web_test_raw(f.t, wire, (size_t)n, NULL, &r), 0);
    WK_EQ(r.status, 431);
    cio_web_test_response_fini(&r);
    fixture_close(&f);
    return 0;
}

Test(web, oversized_lines_and_heads_are_414_and_431)
{
    tst_run(limits_body, NULL);
    wk_verdict();
}

/* A head that trickles in past the header timeout is cut off with 408; a connection that sends nothing is just
   closed; a body that stalls is cut off too. On the mock clock: time moves only when every task waits, so however
   slowly the machine runs (Valgrind), the server has read each line before the next is due. */
static int slow_body(void *arg)
{
    (void)arg;
    struct fixture f;
    cio_web_server_opts so = {.header_timeout = CIO_MS(50), .body_timeout = CIO_MS(50)};
    if (fixture_open(&f, NULL, &so) < 0)
        return 0;
    cio_stream *s = wk_connect(f.t);
    WK_EQ(cio_stream_write(s, W("GET / HTTP/1.1\r\nHost: x\r\n")), 0);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++) {
        cio_sleep(CIO_MS(10));
        rc = cio_stream_write(s, W("X-Slow: 1\r\n")); /* each byte in time, the whole head not */
    }
    cio_buf b = {0};
    WK_EQ(wk_read_response(s, NULL, &b, NULL), 408);
    WK_CHECK(wk_closed(s));
    cio_buf_free(&b);
    cio_stream_close(s);
    /* A connection that never says anything is closed without an answer. */
    s = wk_connect(f.t);
    char none[64];
    WK_EQ(cio_stream_read(s, none, sizeof none), 0);
    cio_stream_close(s);
    s = wk_connect(f.t);
    WK_EQ(cio_stream_write(s, W("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")), 0);
    WK_EQ(wk_read_response(s, "POST", &b, NULL), 408);
    WK_CHECK(wk_closed(s));
    cio_buf_free(&b);
    cio_stream_close(s);
    expect_get(&f, "/hello/still", 200, "Hello, still");
    fixture_close(&f);
    return 0;
}

Test(web, slow_heads_and_stalled_bodies_are_cut_off)
{
    tst_run_expect(slow_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
    wk_verdict();
}

static int h_forever(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)res;
    (void)arg;
    return cio_sleep(CIO_SEC(3600));
}

/* The handler's deadline: cancelled past it, answered 503 (or the status configured). */
static int deadline_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/forever", h_forever, NULL), 0);
    WK_EQ(cio_web_get(app, "/", h_hello, NULL), 0);
    cio_web_server_opts so = {.handler_timeout = CIO_MS(20), .handler_timeout_status = 504};
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, &so), 0);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/forever", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 504);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, 0), 0);
    cio_web_app_close(app);
    return 0;
}

Test(web, a_handler_past_its_deadline_is_cancelled_and_answered)
{
    tst_run(deadline_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ shutdown */

static cio_event release;
static int waiting;

static int h_wait(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    waiting++;
    int rc = cio_event_wait(&release);
    if (rc < 0)
        return rc;
    return cio_web_text(res, 200, "released");
}

struct inflight {
    int port;
    int status;
    bool closed;
};

static int inflight_client(void *arg)
{
    struct inflight *c = arg;
    cio_stream *s;
    c->status = -1;
    if (cio_open_connection(&s, "127.0.0.1", c->port, NULL) < 0)
        return 0;
    if (cio_stream_write(s, W("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")) == 0) {
        cio_buf b = {0};
        c->status = wk_read_response(s, NULL, &b, NULL);
        if (c->status == 200 && (!b.data || strcmp(b.data, "released")))
            c->status = -2;
        cio_buf_free(&b);
        c->closed = wk_closed(s);
    }
    cio_stream_close(s);
    return 0;
}

#define INFLIGHT 1000

static void release_handlers(void *arg)
{
    (void)arg;
    cio_event_set(&release);
}

static int shutdown_body(void *arg)
{
    (void)arg;
    cio_event_init(&release);
    waiting = 0;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/wait", h_wait, NULL), 0);
    WK_EQ(cio_web_get(app, "/", h_hello, NULL), 0);
    cio_web_test *t;
    /* Room in the backlog for the whole burst: a connection the kernel drops from a full queue is retried by
       the client a second later, and the count below would wait for it. */
    WK_EQ(cio_web_test_open(&t, app, &(cio_web_server_opts){.backlog = INFLIGHT + 64}), 0);
    /* An idle kept connection, closed at once by the shutdown. */
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/", NULL, NULL, 0, &r), 0);
    cio_web_test_response_fini(&r);
    cio_stream *idle = wk_connect(t);
    WK_EQ(cio_stream_write(idle, W("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 0);
    WK_EQ(wk_read_response(idle, NULL, NULL, NULL), 200);
    static struct inflight clients[INFLIGHT];
    cio_task *tasks[INFLIGHT];
    for (int i = 0; i < INFLIGHT; i++) {
        clients[i] = (struct inflight){.port = cio_web_test_port(t)};
        WK_EQ(cio_spawn(&tasks[i], inflight_client, &clients[i], NULL), 0);
    }
    /* Every request reaches its handler before the shutdown starts; the handlers are released a moment into the
       grace period (or before it: either way every request must be answered). */
    WK_EQ(nk_turn_until(&waiting, INFLIGHT), 0);
    WK_EQ(cio_call_later(NULL, CIO_MS(20), release_handlers, NULL), 0);
    WK_EQ(cio_web_test_close(t, CIO_SEC(30)), 0);
    WK_CHECK(wk_closed(idle));
    cio_stream_close(idle);
    int ok = 0, closed = 0;
    for (int i = 0; i < INFLIGHT; i++) {
        cio_join(tasks[i]);
        ok += clients[i].status == 200;
        closed += clients[i].closed;
    }
    WK_EQ(ok, INFLIGHT);
    WK_EQ(closed, INFLIGHT);
    cio_web_app_close(app);
    cio_event_fini(&release);
    return 0;
}

Test(web, graceful_shutdown_finishes_a_thousand_requests_in_flight, .timeout = 300)
{
    nk_raise_nofile(4 * INFLIGHT + 256);
    tst_run(shutdown_body, NULL);
    wk_verdict();
}
