/* redirects.c: redirects followed against cio's own server, plain and over TLS: methods and bodies per status,
 * relative Locations, history, limits and loops, Authorization kept from other origins, https to http refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"
#include "tlskit.h"

TestSuite(client_redirects, .init = wk_init);

/* /r/{code}?to=URL: a redirect with that status to that Location. */
static int h_redirect(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *to = cio_web_query(req, "to");
    int code = atoi(cio_web_match(req, "code"));
    if (!to)
        return cio_web_respond(res, code, NULL, NULL, 0); /* a 3xx without a Location */
    return cio_web_redirect(res, code, to);
}

/* /chain/{n}: n redirects, then "/dump". */
static int h_chain(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    int n = atoi(cio_web_match(req, "n"));
    char to[64];
    if (n == 0)
        snprintf(to, sizeof to, "/dump");
    else
        snprintf(to, sizeof to, "%d", n - 1); /* relative: /chain/<n-1> */
    return cio_web_redirect(res, 302, to);
}

static int h_loop(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_redirect(res, 302, !strcmp(cio_web_match(req, "x"), "a") ? "/loop/b" : "/loop/a");
}

/* "METHOD target\nauth=...\nbody=..." */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *auth = cio_web_header(req, "Authorization"); /* before the body: reading it ends the head's views */
    const char *data;
    size_t len;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    return cio_web_text(res, 200, "%s %s\nauth=%s\nbody=%.*s", cio_web_method(req), cio_web_target(req),
                        auth ? auth : "(none)", (int)len, data);
}

struct fixture {
    cio_web_app *app;
    cio_web_server *srv, *tls_srv;
    cio_tls_ctx *server_ctx;
    int port, tls_port;
    char dir[256];
    cio_client_session *s;
};

static void fx_open(struct fixture *f)
{
    WK_EQ(cio_web_app_open(&f->app, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/r/{code}", h_redirect, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/chain/{n}", h_chain, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/loop/{x}", h_loop, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/sub/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_server_start(&f->srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    f->port = cio_web_server_port(f->srv);
    char cert[512], key[512], ca[512];
    WK_EQ(tlskit_make(f->dir, sizeof f->dir), 0);
    cio_tls_opts so = {.cert_file = tlskit_path(f->dir, "server.pem", cert, sizeof cert),
                       .key_file = tlskit_path(f->dir, "server.key", key, sizeof key)};
    WK_EQ(cio_tls_ctx_new(&f->server_ctx, CIO_TLS_SERVER, &so), 0);
    WK_EQ(cio_web_server_start(&f->tls_srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = f->server_ctx}),
          0);
    f->tls_port = cio_web_server_port(f->tls_srv);
    char other[64];
    snprintf(other, sizeof other, "other.test:%d:127.0.0.1", f->port);
    const char *const resolve[] = {other, NULL};
    cio_tls_opts co = {.ca_file = tlskit_path(f->dir, "ca.pem", ca, sizeof ca)};
    WK_EQ(cio_client_session_new(&f->s, &(cio_client_session_opts){.tls_opts = &co, .resolve = resolve}), 0);
}

static void fx_close(struct fixture *f)
{
    WK_EQ(cio_client_session_close(f->s), 0);
    WK_EQ(cio_web_server_close(f->srv, CIO_SEC(5)), 0);
    WK_EQ(cio_web_server_close(f->tls_srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(f->server_ctx);
    cio_web_app_close(f->app);
    tlskit_remove(f->dir);
}

/* A request through /r/<code>?to=<to> (or `url` itself when `to` is NULL); its result, and the body in `out`. */
static int go(struct fixture *f, const char *method, const char *url, const char *to, cio_client_request_opts *o,
              cio_client_response **out, cio_buf *body)
{
    cio_client_request_opts opts = o ? *o : (cio_client_request_opts){0};
    const char *const params[] = {"to", to, NULL};
    if (to)
        opts.params = params;
    (void)f;
    int rc = cio_client_request(f->s, method, url, &opts, out);
    if (rc == 0 && body)
        WK_EQ(cio_client_response_read(*out, body), 0);
    return rc;
}

static int methods_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    struct {
        int code;
        const char *method, *want_method;
        bool keeps_body;
    } cases[] = {
        {301, "POST", "GET", false}, {302, "POST", "GET", false}, {303, "POST", "GET", false},
        {303, "PUT", "GET", false},  {307, "POST", "POST", true}, {308, "PUT", "PUT", true},
        {301, "PUT", "PUT", true},   {302, "GET", "GET", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[128], want[256];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/r/%d", f.port, cases[i].code);
        cio_client_request_opts o = {0};
        if (strcmp(cases[i].method, "GET"))
            o.body = "data", o.body_len = 4;
        cio_client_response *r = NULL;
        cio_buf b = {0};
        WK_EQ(go(&f, cases[i].method, url, "/dump", &o, &r, &b), 0);
        snprintf(want, sizeof want, "%s /dump\nauth=(none)\nbody=%s", cases[i].want_method,
                 cases[i].keeps_body ? "data" : "");
        if (!wk_streq(b.data, want))
            wk_fail(__LINE__, "case", "%d %s: \"%s\"", cases[i].code, cases[i].method, wk_s(b.data));
        WK_EQ(cio_client_response_redirects(r), 1);
        int st = 0;
        const char *from = NULL;
        WK_EQ(cio_client_response_history(r, 0, &st, &from), 0);
        WK_EQ(st, cases[i].code);
        WK_CHECK(from && !strncmp(from, url, strlen(url)), "%s", wk_s(from));
        snprintf(want, sizeof want, "http://127.0.0.1:%d/dump", f.port);
        WK_STREQ(cio_client_response_url(r), want);
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    /* HEAD stays HEAD, even after a 303. */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/303", f.port);
    cio_client_response *r;
    WK_EQ(go(&f, "HEAD", url, "/dump", NULL, &r, NULL), 0);
    WK_EQ(cio_client_response_status(r), 200);
    WK_EQ(cio_client_response_release(r), 1);
    /* All of it over one kept connection: each redirect's body was read to its end. */
    WK_EQ(cio_client_session_connections(f.s, NULL), 1);
    fx_close(&f);
    return 0;
}

Test(client_redirects, each_status_keeps_or_changes_the_method_and_body_as_rfc_9110_says)
{
    tst_run(methods_body, NULL);
    wk_verdict();
}

static int relative_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char url[128], abs[128], want[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/302", f.port);
    snprintf(abs, sizeof abs, "http://127.0.0.1:%d/sub/dump?q=1", f.port);
    char schemeless[128];
    snprintf(schemeless, sizeof schemeless, "//127.0.0.1:%d/dump", f.port);
    struct {
        const char *to, *want_target;
    } cases[] = {
        {"dump", "/r/dump"}, /* a route that fails: a 500, which is a response like any other */
        {"../dump", "/dump"},   {"/sub/./x/../dump?a=b#frag", "/sub/dump?a=b"},
        {abs, "/sub/dump?q=1"}, {schemeless, "/dump"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cio_client_response *r;
        cio_buf b = {0};
        WK_EQ(go(&f, "GET", url, cases[i].to, NULL, &r, &b), 0);
        snprintf(want, sizeof want, "http://127.0.0.1:%d%s", f.port, cases[i].want_target);
        WK_STREQ(cio_client_response_url(r), want);
        if (i == 0)
            WK_EQ(cio_client_response_status(r), 500);
        cio_buf_free(&b);
        (void)cio_client_response_release(r);
    }
    /* A chain of five, followed; with a limit of three, an error; with none followed, the first 302 itself. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/chain/4", f.port);
    cio_client_response *r;
    cio_buf b = {0};
    WK_EQ(go(&f, "GET", url, NULL, NULL, &r, &b), 0);
    WK_EQ(cio_client_response_redirects(r), 5);
    for (size_t i = 0; i < 5; i++) {
        const char *from;
        WK_EQ(cio_client_response_history(r, i, NULL, &from), 0);
        snprintf(want, sizeof want, "http://127.0.0.1:%d/chain/%zu", f.port, 4 - i);
        WK_STREQ(from, want);
    }
    WK_EQ(cio_client_response_history(r, 5, NULL, NULL), -ENOENT);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(go(&f, "GET", url, NULL, &(cio_client_request_opts){.max_redirects = 3}, &r, NULL),
          CIO_ECLIENT_TOO_MANY_REDIRECTS);
    WK_EQ(go(&f, "GET", url, NULL, &(cio_client_request_opts){.max_redirects = -1}, &r, NULL), 0);
    WK_EQ(cio_client_response_status(r), 302);
    WK_STREQ(cio_client_response_header(r, "Location"), "3");
    WK_EQ(cio_client_response_redirects(r), 0);
    (void)cio_client_response_release(r);
    /* A loop; a 3xx without Location (returned as it is); Locations that are no URL we follow. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/loop/a", f.port);
    WK_EQ(go(&f, "GET", url, NULL, NULL, &r, NULL), CIO_ECLIENT_REDIRECT_LOOP);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/302", f.port);
    WK_EQ(go(&f, "GET", url, NULL, NULL, &r, NULL), 0);
    WK_EQ(cio_client_response_status(r), 302);
    (void)cio_client_response_release(r);
    WK_EQ(go(&f, "GET", url, "ftp://127.0.0.1/file", NULL, &r, NULL), CIO_ECLIENT_BAD_SCHEME);
    WK_EQ(go(&f, "GET", url, "http://[::1/", NULL, &r, NULL), CIO_ECLIENT_BAD_LOCATION);
    WK_EQ(go(&f, "GET", url, "http:relative", NULL, &r, NULL), CIO_ECLIENT_BAD_LOCATION);
    fx_close(&f);
    return 0;
}

Test(client_redirects, relative_locations_history_limits_and_loops)
{
    tst_run(relative_body, NULL);
    wk_verdict();
}

static int origin_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    const char *const auth[] = {"Authorization", "Bearer secret", NULL};
    cio_client_request_opts o = {.headers = auth};
    char url[128], to[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/307", f.port);
    cio_client_response *r;
    cio_buf b = {0};
    WK_EQ(go(&f, "GET", url, "/dump", &o, &r, &b), 0);
    WK_CHECK(b.data && strstr(b.data, "auth=Bearer secret"), "same origin keeps it: %s", wk_s(b.data));
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    snprintf(to, sizeof to, "http://other.test:%d/dump", f.port);
    WK_EQ(go(&f, "GET", url, to, &o, &r, &b), 0);
    WK_CHECK(b.data && strstr(b.data, "auth=(none)"), "another origin does not get it: %s", wk_s(b.data));
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    /* TLS, then a redirect from https to http: refused unless allowed. */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/r/302", f.tls_port);
    snprintf(to, sizeof to, "https://127.0.0.1:%d/dump", f.tls_port);
    WK_EQ(go(&f, "GET", url, to, NULL, &r, &b), 0);
    WK_CHECK(b.data && !strncmp(b.data, "GET /dump", 9), "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    snprintf(to, sizeof to, "http://127.0.0.1:%d/dump", f.port);
    WK_EQ(go(&f, "GET", url, to, NULL, &r, NULL), CIO_ECLIENT_REDIRECT_DOWNGRADE);
    WK_EQ(go(&f, "GET", url, to, &(cio_client_request_opts){.allow_downgrade = true}, &r, &b), 0);
    WK_STREQ(cio_client_response_url(r), to);
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    fx_close(&f);
    return 0;
}

Test(client_redirects, authorization_stays_with_its_origin_and_https_is_not_downgraded)
{
    tst_run(origin_body, NULL);
    wk_verdict();
}
