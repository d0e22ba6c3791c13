/* conn.c: where connections go and what they are made with: a Unix socket for every request, a TLS context per
 * request kept apart in the pool, the tracing hooks in order across a redirect and a reused connection, and the
 * debug-mode report of a session never closed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"
#include "netkit.h"
#include "tlskit.h"

TestSuite(client_conn, .init = wk_init);

/* The request as the server saw it: "METHOD target host=<Host>". */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *host = cio_web_header(req, "Host");
    return cio_web_text(res, 200, "%s %s host=%s", cio_web_method(req), cio_web_target(req), host ? host : "(none)");
}

static int h_redirect(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_add_header(res, "Location", "/dump");
    return rc ? rc : cio_web_text(res, 302, "moved");
}

static cio_web_app *app_open(void)
{
    cio_web_app *app = NULL;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_route(app, "*", "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_get(app, "/r", h_redirect, NULL), 0);
    return app;
}

/* GET `url` with `o`: the status, the body in `out` (may be NULL), or the error. */
static int fetch(cio_client_session *s, const char *url, const cio_client_request_opts *o, cio_buf *out)
{
    cio_client_response *r;
    int rc = cio_client_request(s, "GET", url, o, &r);
    if (rc < 0)
        return rc;
    cio_buf b = {0};
    rc = cio_client_response_read(r, &b);
    int status = cio_client_response_status(r);
    (void)cio_client_response_release(r);
    if (out && rc == 0)
        *out = b;
    else
        cio_buf_free(&b);
    return rc < 0 ? rc : status;
}

/* ------------------------------------------------------------------------------------------------ Unix sockets */

static int unix_body(void *arg)
{
    (void)arg;
    cio_web_app *app = app_open();
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/web.sock", dir);
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.unix_path = path}), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = path}), 0);
    cio_buf b = {0};
    /* The URL gives Host and the path; the host is never looked up. */
    WK_EQ(fetch(s, "http://daemon.invalid/dump?q=1", NULL, &b), 200);
    WK_STREQ(b.data, "GET /dump?q=1 host=daemon.invalid");
    cio_buf_free(&b);
    WK_EQ(fetch(s, "http://daemon.invalid:8080/dump", NULL, &b), 200);
    WK_STREQ(b.data, "GET /dump host=daemon.invalid:8080");
    cio_buf_free(&b);
    /* Pooled as any connection: the same host reuses it. */
    WK_EQ(fetch(s, "http://daemon.invalid/dump", NULL, NULL), 200);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 2);
    WK_EQ(idle, 2);
    /* No proxy on a Unix socket session. */
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", "http://daemon.invalid/dump", &(cio_client_request_opts){.proxy = "http://p:1"},
                             &r),
          -EINVAL);
    WK_EQ(fetch(s, "http://daemon.invalid/dump", &(cio_client_request_opts){.proxy = ""}, NULL), 200);
    WK_EQ(cio_client_session_close(s), 0);
    /* Nobody listening: the connect's error. */
    char gone[320];
    snprintf(gone, sizeof gone, "%s/none.sock", dir);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = gone}), 0);
    WK_EQ(fetch(s, "http://daemon.invalid/dump", NULL, NULL), -ENOENT);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    nk_rmdir(dir);
    /* Bad paths and conflicting options. */
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    s = (cio_client_session *)longpath;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = ""}), -EINVAL);
    WK_ISNULL(s);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = longpath}), -ENAMETOOLONG);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = "/tmp/x", .proxy = "http://p:1"}),
          -EINVAL);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = "/tmp/x", .proxy = ""}), 0);
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

Test(client_conn, a_unix_socket_session_sends_every_request_there_with_the_urls_host)
{
    tst_run(unix_body, NULL);
    wk_verdict();
}

/* https over a Unix socket: the URL's host is the name TLS verifies. */
static int unix_tls_body(void *arg)
{
    (void)arg;
    cio_web_app *app = app_open();
    char dir[256], path[300], tdir[256], cert[512], key[512], ca[512];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/tls.sock", dir);
    WK_EQ(tlskit_make(tdir, sizeof tdir), 0);
    cio_tls_ctx *sctx;
    WK_EQ(cio_tls_ctx_new(&sctx, CIO_TLS_SERVER,
                          &(cio_tls_opts){.cert_file = tlskit_path(tdir, "server.pem", cert, sizeof cert),
                                          .key_file = tlskit_path(tdir, "server.key", key, sizeof key)}),
          0);
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.unix_path = path, .tls = sctx}), 0);
    cio_client_session *s;
    cio_tls_opts co = {.ca_file = tlskit_path(tdir, "ca.pem", ca, sizeof ca)};
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.unix_socket = path, .tls_opts = &co}), 0);
    cio_buf b = {0};
    WK_EQ(fetch(s, "https://localhost/dump", NULL, &b), 200);
    WK_STREQ(b.data, "GET /dump host=localhost");
    cio_buf_free(&b);
    int rc = fetch(s, "https://wrong.test/dump", NULL, NULL); /* not a name of the certificate */
    WK_CHECK(rc <= -4200 && rc > -4300, "%s", cio_err_name(rc));
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sctx);
    cio_web_app_close(app);
    tlskit_remove(tdir);
    nk_rmdir(dir);
    return 0;
}

Test(client_conn, https_over_a_unix_socket_verifies_the_urls_host)
{
    tst_run(unix_tls_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ TLS contexts */

static cio_web_server *tls_server(cio_web_app *app, const char *dir, const char *leaf, cio_tls_ctx **ctx, int *port)
{
    char cert[512], key[512], name[64];
    snprintf(name, sizeof name, "%s.pem", leaf);
    tlskit_path(dir, name, cert, sizeof cert);
    snprintf(name, sizeof name, "%s.key", leaf);
    tlskit_path(dir, name, key, sizeof key);
    WK_EQ(cio_tls_ctx_new(ctx, CIO_TLS_SERVER, &(cio_tls_opts){.cert_file = cert, .key_file = key}), 0);
    cio_web_server *srv = NULL;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = *ctx}), 0);
    *port = cio_web_server_port(srv);
    return srv;
}

/* Server A's certificate is from the test CA, B's from the other CA: the session trusts the first, a request's own
   context the second. */
static int two_ctx_body(void *arg)
{
    (void)arg;
    cio_web_app *app = app_open();
    char dir[256], ca[512], other[512], ua[128], ub[128];
    WK_EQ(tlskit_make(dir, sizeof dir), 0);
    cio_tls_ctx *sa, *sb, *mine;
    int pa, pb;
    cio_web_server *a = tls_server(app, dir, "server", &sa, &pa);
    cio_web_server *b = tls_server(app, dir, "untrusted", &sb, &pb);
    WK_EQ(cio_tls_ctx_new(&mine, CIO_TLS_CLIENT,
                          &(cio_tls_opts){.ca_file = tlskit_path(dir, "other-ca.pem", other, sizeof other)}),
          0);
    cio_client_session *s;
    cio_tls_opts co = {.ca_file = tlskit_path(dir, "ca.pem", ca, sizeof ca)};
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.tls_opts = &co}), 0);
    snprintf(ua, sizeof ua, "https://127.0.0.1:%d/dump", pa);
    snprintf(ub, sizeof ub, "https://127.0.0.1:%d/dump", pb);
    cio_client_request_opts with_mine = {.tls = mine};
    WK_EQ(fetch(s, ua, NULL, NULL), 200);
    int rc = fetch(s, ub, NULL, NULL);
    WK_CHECK(rc <= -4200 && rc > -4300, "the session's context must refuse B: %s", cio_err_name(rc));
    WK_EQ(fetch(s, ub, &with_mine, NULL), 200);
    /* A pooled connection to A made with the session's context does not serve a request with another context:
       that one connects anew, and its context refuses A. */
    rc = fetch(s, ua, &with_mine, NULL);
    WK_CHECK(rc <= -4200 && rc > -4300, "A's pooled connection must not be reused: %s", cio_err_name(rc));
    /* Each kept apart: both reused by requests of their own context. */
    WK_EQ(fetch(s, ua, NULL, NULL), 200);
    WK_EQ(fetch(s, ub, &with_mine, NULL), 200);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 2);
    WK_EQ(idle, 2);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_web_server_close(a, CIO_SEC(5)), 0);
    WK_EQ(cio_web_server_close(b, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sa);
    cio_tls_ctx_free(sb);
    cio_tls_ctx_free(mine);
    cio_web_app_close(app);
    tlskit_remove(dir);
    return 0;
}

Test(client_conn, a_request_tls_context_is_used_for_its_connections_and_kept_apart_in_the_pool)
{
    tst_run(two_ctx_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ tracing */

struct trace_log {
    char ev[32][300];
    int n;
};

__attribute__((format(printf, 2, 3))) static void note(struct trace_log *t, const char *fmt, ...)
{
    if (t->n == 32)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->ev[t->n++], sizeof t->ev[0], fmt, ap);
    va_end(ap);
}

static void tr_start(void *arg, const char *method, const char *url)
{
    note(arg, "start %s %s", method, url);
}

static void tr_end(void *arg, const char *method, const char *url, int result)
{
    note(arg, "end %s %s %d", method, url, result);
}

static void tr_redirect(void *arg, int status, const char *from, const char *to)
{
    note(arg, "redirect %d %s %s", status, from, to);
}

static void tr_create(void *arg, const char *host, int port, const cio_addr *peer)
{
    char a[64];
    cio_addr_format(peer, a, sizeof a);
    note(arg, "create %s:%d %s", host, port, a);
}

static void tr_reuse(void *arg, const char *host, int port)
{
    note(arg, "reuse %s:%d", host, port);
}

static void tr_dns(void *arg, const char *host, int64_t elapsed)
{
    note(arg, "dns %s %s", host, elapsed >= 0 ? "ok" : "negative");
}

static const cio_client_trace all_hooks = {
    .request_start = tr_start,
    .request_end = tr_end,
    .redirect = tr_redirect,
    .connection_create = tr_create,
    .connection_reuse = tr_reuse,
    .dns_resolved = tr_dns,
};

static int trace_body(void *arg)
{
    (void)arg;
    cio_web_app *app = app_open();
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    int port = cio_web_server_port(srv);
    struct trace_log log = {0};
    cio_client_trace hooks = all_hooks; /* copied by the session: this one may go */
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trace = &hooks, .trace_arg = &log}), 0);
    memset(&hooks, 0, sizeof hooks);
    char url[128], dump[128], want[8][300];
    ck_url(url, sizeof url, port, "/r");
    ck_url(dump, sizeof dump, port, "/dump");
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(fetch(s, dump, NULL, NULL), 200);
    snprintf(want[0], sizeof want[0], "start GET %s", url);
    snprintf(want[1], sizeof want[1], "create 127.0.0.1:%d 127.0.0.1:%d", port, port);
    snprintf(want[2], sizeof want[2], "redirect 302 %s %s", url, dump);
    snprintf(want[3], sizeof want[3], "reuse 127.0.0.1:%d", port);
    snprintf(want[4], sizeof want[4], "end GET %s 200", dump);
    snprintf(want[5], sizeof want[5], "start GET %s", dump);
    snprintf(want[6], sizeof want[6], "reuse 127.0.0.1:%d", port);
    snprintf(want[7], sizeof want[7], "end GET %s 200", dump);
    WK_EQ(log.n, 8); /* no DNS event: the host is an address */
    for (int i = 0; i < 8 && i < log.n; i++)
        WK_STREQ(log.ev[i], want[i]);
    /* A failed request ends with its error; a name is looked up and reported. */
    log.n = 0;
    WK_EQ(fetch(s, "http://127.0.0.1:1/", NULL, NULL), -ECONNREFUSED);
    WK_EQ(log.n, 2);
    WK_STREQ(log.ev[0], "start GET http://127.0.0.1:1/");
    snprintf(want[0], sizeof want[0], "end GET http://127.0.0.1:1/ %d", -ECONNREFUSED);
    WK_STREQ(log.ev[1], want[0]);
    log.n = 0;
    snprintf(url, sizeof url, "http://localhost:%d/dump", port);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(log.n, 4);
    WK_STREQ(log.ev[1], "dns localhost ok");
    snprintf(want[0], sizeof want[0], "create localhost:%d 127.0.0.1:%d", port, port);
    WK_STREQ(log.ev[2], want[0]);
    /* A request refused before it starts (a bad URL) reports nothing. */
    log.n = 0;
    WK_EQ(fetch(s, "not a url", NULL, NULL), CIO_EHTTP_BAD_URL);
    WK_EQ(log.n, 0);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(client_conn, trace_hooks_run_in_order_across_a_redirect_and_a_reused_connection)
{
    tst_run(trace_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ debug report */

static cio_client_session *leaked;

static int leak_main(void *arg)
{
    (void)arg;
    return cio_client_session_new(&leaked, NULL);
}

static int closed_main(void *arg)
{
    (void)arg;
    cio_client_session *s;
    int rc = cio_client_session_new(&s, NULL);
    return rc < 0 ? rc : cio_client_session_close(s);
}

/* A session left with a pooled connection: its expiry timer keeps the loop from closing, and the report still
   names the session. */
static int pooled_main(void *arg)
{
    (void)arg;
    cio_web_app *app = app_open();
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    char url[128];
    WK_EQ(cio_client_session_new(&leaked, NULL), 0);
    WK_EQ(fetch(leaked, ck_url(url, sizeof url, cio_web_server_port(srv), "/dump"), NULL, NULL), 200);
    WK_EQ(cio_client_session_connections(leaked, NULL), 1);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

static int close_leaked_main(void *arg)
{
    (void)arg;
    return cio_client_session_close(leaked);
}

Test(client_conn, debug_mode_reports_a_session_whose_pooled_connection_keeps_the_loop_open)
{
    tst_install_allocator();
    tst_log_clear();
    cio_loop *l;
    cr_assert_eq(cio_loop_open(&l, &(cio_loop_opts){.debug = 1, .log = tst_log_sink}), 0);
    cr_assert_eq(cio_loop_run(l, pooled_main, NULL), 0);
    cr_assert_eq(cio_loop_close(l), -EBUSY);
    cr_assert(strstr(tst_log_text(), "(1 connection(s) open)"), "log: %s", tst_log_text());
    tst_log_clear();
    cr_assert_eq(cio_loop_run(l, close_leaked_main, NULL), 0);
    cr_assert_eq(cio_loop_close(l), 0);
    cr_assert(!tst_log_contains("client session"), "log: %s", tst_log_text());
    wk_verdict();
}

Test(client_conn, debug_mode_reports_a_session_never_closed_when_its_loop_closes)
{
    tst_install_allocator();
    tst_log_clear();
    cio_loop *l;
    cr_assert_eq(cio_loop_open(&l, &(cio_loop_opts){.debug = 1, .log = tst_log_sink}), 0);
    cr_assert_eq(cio_loop_run(l, leak_main, NULL), 0);
    cr_assert_eq(cio_loop_run(l, closed_main, NULL), 0);
    cr_assert_eq(cio_loop_close(l), 0);
    const char *text = tst_log_text();
    const char *first = strstr(text, "was never closed");
    cr_assert(first && strstr(text, "client session"), "log: %s", text);
    cr_assert_null(strstr(first + 1, "was never closed"), "only the session left open is named: %s", text);
    tst_log_clear();
    /* Closing it afterwards, with its loop gone, still frees it. */
    cr_assert_eq(cio_client_session_close(leaked), 0);
    /* Without debug mode nothing is said. */
    cr_assert_eq(cio_loop_open(&l, &(cio_loop_opts){.debug = -1, .log = tst_log_sink}), 0);
    cr_assert_eq(cio_loop_run(l, leak_main, NULL), 0);
    cr_assert_eq(cio_loop_close(l), 0);
    cr_assert(!tst_log_contains("client session"), "log: %s", tst_log_text());
    cr_assert_eq(cio_client_session_close(leaked), 0);
    cr_assert_eq(tst_live_blocks(), 0);
}
