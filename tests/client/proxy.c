/* proxy.c: forward proxies: plain http in absolute form with Proxy-Authorization, https through a CONNECT tunnel
 * with TLS verified against the target, a proxy that refuses the tunnel (407), the pool keyed by proxy, malformed
 * proxy URLs, and trust_env's variables with no_proxy. The proxy is a small one of cio's own server API: it reads
 * the request line, then for CONNECT answers 200 and pipes bytes both ways, and for an absolute-form request
 * connects to the origin and pipes the request (head as it came) and what follows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"
#include "tlskit.h"

#include "client/client.h"

TestSuite(client_proxy, .init = wk_init);

/* ------------------------------------------------------------------------------------------------ the proxy */

struct tproxy {
    cio_server *srv;
    int port;
    int conns;    /* connections accepted */
    int connects; /* CONNECT requests */
    int forwards; /* absolute-form requests */
    bool refuse;  /* answer CONNECT with 407 */
    bool hangup;  /* close without answering CONNECT */
    char line[512];
    char auth[256]; /* the last Proxy-Authorization, "" without one */
};

struct pipe_job {
    cio_stream *from, *to;
};

static int copy_bytes(cio_stream *from, cio_stream *to)
{
    char buf[4096];
    ssize_t n;
    while ((n = cio_stream_read(from, buf, sizeof buf)) > 0)
        if (cio_stream_write(to, buf, (size_t)n) < 0)
            break;
    (void)cio_stream_write_eof(to);
    return 0;
}

static int pipe_task(void *arg)
{
    struct pipe_job *j = arg;
    return copy_bytes(j->from, j->to);
}

/* Pipe both ways between the client and the origin (always 127.0.0.1: the test's names are resolve overrides)
   until both sides are done. */
static int pipe_to_origin(cio_stream *client, int port)
{
    cio_stream *origin;
    if (cio_open_connection(&origin, "127.0.0.1", port, NULL) < 0)
        return ck_write(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    struct pipe_job back = {origin, client};
    cio_task *t;
    int rc = cio_spawn(&t, pipe_task, &back, NULL);
    if (rc == 0) {
        (void)copy_bytes(client, origin);
        (void)cio_join(t);
    }
    (void)cio_stream_close(origin);
    return 0;
}

static int proxy_conn(cio_stream *s, void *arg)
{
    struct tproxy *p = arg;
    p->conns++;
    cio_http_header fields[64];
    cio_http_head h;
    cio_http_head_init(&h, fields, 64);
    ssize_t hl = cio_http_read_request(s, &h, NULL);
    if (hl < 0)
        return 0;
    snprintf(p->line, sizeof p->line, "%.*s %.*s", (int)h.method.len, h.method.ptr, (int)h.target.len, h.target.ptr);
    const cio_http_header *a = cio_http_header_find(&h, "Proxy-Authorization", NULL);
    snprintf(p->auth, sizeof p->auth, "%.*s", a ? (int)a->value.len : 0, a ? a->value.ptr : "");
    cio_url u;
    if (cio_url_parse_target(&u, h.target.ptr, h.target.len) < 0)
        return 0;
    int port = u.port > 0 ? u.port : 80;
    if (cio_http_str_ieq(h.method, "CONNECT")) {
        p->connects++;
        if (cio_stream_consume(s, (size_t)hl) < 0)
            return 0;
        if (p->hangup)
            return 0;
        if (p->refuse)
            return ck_write(s, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                               "Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 6\r\n\r\ndenied");
        if (ck_write(s, "HTTP/1.1 200 Connection established\r\n\r\n") < 0)
            return 0;
        return pipe_to_origin(s, port);
    }
    p->forwards++;
    return pipe_to_origin(s, port); /* the head is still buffered: it goes first, as it came */
}

static void proxy_start(struct tproxy *p)
{
    WK_EQ(cio_start_server(&p->srv, proxy_conn, p, "127.0.0.1", 0, NULL), 0);
    cio_addr a;
    WK_EQ(cio_server_addr(p->srv, &a), 0);
    p->port = cio_addr_port(&a);
}

static void proxy_stop(struct tproxy *p)
{
    (void)cio_server_close(p->srv, CIO_SEC(5));
}

static const char *proxy_url(char *buf, size_t cap, const struct tproxy *p, const char *userinfo)
{
    snprintf(buf, cap, "http://%s%s127.0.0.1:%d", userinfo ? userinfo : "", userinfo ? "@" : "", p->port);
    return buf;
}

/* ------------------------------------------------------------------------------------------------ origins */

/* The request as the origin saw it: "METHOD target\n" and the Host and Proxy-Authorization it got. */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *host = cio_web_header(req, "Host");
    const char *pa = cio_web_header(req, "Proxy-Authorization");
    return cio_web_text(res, 200, "%s %s\nhost=%s\nproxy-auth=%s", cio_web_method(req), cio_web_target(req),
                        host ? host : "(none)", pa ? pa : "(none)");
}

/* A redirect to the https server's /dump; `arg` points to its port. */
static int h_to_tls(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    char loc[128];
    snprintf(loc, sizeof loc, "https://127.0.0.1:%d/dump", *(int *)arg);
    int rc = cio_web_add_header(res, "Location", loc);
    return rc ? rc : cio_web_text(res, 302, "moved");
}

struct fixture {
    cio_web_app *app;
    cio_web_server *srv, *tls_srv;
    cio_tls_ctx *server_ctx;
    int port, tls_port;
    char dir[256];
    char ca[512];
    struct tproxy px;
};

static void fx_open(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    WK_EQ(cio_web_app_open(&f->app, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/to-tls", h_to_tls, &f->tls_port), 0);
    WK_EQ(cio_web_server_start(&f->srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    f->port = cio_web_server_port(f->srv);
    char cert[512], key[512];
    WK_EQ(tlskit_make(f->dir, sizeof f->dir), 0);
    cio_tls_opts so = {.cert_file = tlskit_path(f->dir, "server.pem", cert, sizeof cert),
                       .key_file = tlskit_path(f->dir, "server.key", key, sizeof key)};
    WK_EQ(cio_tls_ctx_new(&f->server_ctx, CIO_TLS_SERVER, &so), 0);
    WK_EQ(cio_web_server_start(&f->tls_srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = f->server_ctx}),
          0);
    f->tls_port = cio_web_server_port(f->tls_srv);
    tlskit_path(f->dir, "ca.pem", f->ca, sizeof f->ca);
    proxy_start(&f->px);
}

static void fx_close(struct fixture *f)
{
    proxy_stop(&f->px);
    WK_EQ(cio_web_server_close(f->srv, CIO_SEC(5)), 0);
    WK_EQ(cio_web_server_close(f->tls_srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(f->server_ctx);
    cio_web_app_close(f->app);
    tlskit_remove(f->dir);
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

/* ------------------------------------------------------------------------------------------------ http */

static int http_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char purl[128], url[128], want[256];
    /* Percent-encoded credentials are decoded: "us@er:p:ss" is what Basic carries. */
    proxy_url(purl, sizeof purl, &f.px, "us%40er:p%3Ass");
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = purl}), 0);
    ck_url(url, sizeof url, f.port, "/dump?x=1");
    cio_buf b = {0};
    WK_EQ(fetch(s, url, NULL, &b), 200);
    snprintf(want, sizeof want, "GET %s", url);
    WK_STREQ(f.px.line, want); /* the absolute form */
    WK_STREQ(f.px.auth, "Basic dXNAZXI6cDpzcw==");
    snprintf(want, sizeof want, "GET %s\nhost=127.0.0.1:%d\nproxy-auth=Basic dXNAZXI6cDpzcw==", url, f.port);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    /* The second request goes over the same connection to the proxy. */
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(f.px.conns, 1);
    WK_EQ(f.px.forwards, 1);
    WK_EQ(f.px.connects, 0);
    /* A request's own Proxy-Authorization replaces the session's credentials; "" sends this one direct. */
    WK_EQ(fetch(s, url,
                &(cio_client_request_opts){.headers = (const char *const[]){"Proxy-Authorization", "Basic eDp5", NULL}},
                &b),
          200);
    WK_CHECK(strstr(wk_s(b.data), "proxy-auth=Basic eDp5") != NULL, "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(fetch(s, url, &(cio_client_request_opts){.proxy = ""}, &b), 200);
    snprintf(want, sizeof want, "GET /dump?x=1\nhost=127.0.0.1:%d\nproxy-auth=(none)", f.port);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    WK_EQ(f.px.conns, 1);
    WK_EQ(cio_client_session_close(s), 0);
    /* Without credentials no Proxy-Authorization is sent. */
    proxy_url(purl, sizeof purl, &f.px, NULL);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = purl}), 0);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_STREQ(f.px.auth, "");
    WK_EQ(f.px.forwards, 2);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_proxy, plain_http_goes_to_the_proxy_in_absolute_form_with_basic_credentials)
{
    tst_run(http_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ https */

static int https_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char purl[128], url[128], want[256];
    proxy_url(purl, sizeof purl, &f.px, "user:pass");
    cio_client_session *s;
    cio_tls_opts co = {.ca_file = f.ca};
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = purl, .tls_opts = &co}), 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/dump", f.tls_port);
    cio_buf b = {0};
    int status = -1;
    WK_EQ(fetch(s, url, &(cio_client_request_opts){.proxy_status = &status}, &b), 200);
    WK_EQ(status, 200);
    snprintf(want, sizeof want, "CONNECT 127.0.0.1:%d", f.tls_port);
    WK_STREQ(f.px.line, want);
    WK_STREQ(f.px.auth, "Basic dXNlcjpwYXNz");
    /* Through the tunnel the origin gets the origin form and never the proxy's credentials. */
    snprintf(want, sizeof want, "GET /dump\nhost=127.0.0.1:%d\nproxy-auth=(none)", f.tls_port);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    /* The tunnel is pooled like any connection. */
    WK_EQ(fetch(s, url, &(cio_client_request_opts){.proxy_status = &status}, NULL), 200);
    WK_EQ(status, 0); /* no CONNECT this time */
    WK_EQ(f.px.conns, 1);
    WK_EQ(f.px.connects, 1);
    WK_EQ(cio_client_session_close(s), 0);
    /* TLS through the tunnel verifies the target: a session that does not trust the test CA fails. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = purl}), 0);
    int rc = fetch(s, url, NULL, NULL);
    WK_CHECK(rc <= -4200 && rc > -4300, "%s", cio_err_name(rc));
    WK_EQ(f.px.connects, 2);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_proxy, https_goes_through_a_connect_tunnel_with_tls_verified_against_the_target)
{
    tst_run(https_body, NULL);
    wk_verdict();
}

static int refused_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    f.px.refuse = true;
    char purl[128], url[128];
    proxy_url(purl, sizeof purl, &f.px, NULL);
    cio_client_session *s;
    cio_tls_opts co = {.ca_file = f.ca};
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = purl, .tls_opts = &co}), 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/dump", f.tls_port);
    int status = -1;
    cio_client_response *r = (cio_client_response *)&status;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.proxy_status = &status}, &r),
          CIO_ECLIENT_PROXY);
    WK_ISNULL(r);
    WK_EQ(status, 407);
    WK_EQ(f.px.connects, 1);
    WK_EQ(cio_client_session_connections(s, NULL), 0); /* the refused connection is closed, its slot free */
    WK_STREQ(cio_strerror(CIO_ECLIENT_PROXY),
             "client: the proxy refused the tunnel (CONNECT answered other than 2xx, or not at all)");
    WK_STREQ(cio_err_name(CIO_ECLIENT_PROXY), "CIO_ECLIENT_PROXY");
    /* A proxy that hangs up without answering: the same error, no status. */
    f.px.hangup = true;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.proxy_status = &status}, &r),
          CIO_ECLIENT_PROXY);
    WK_EQ(status, 0);
    f.px.hangup = false;
    /* A proxy nobody listens on: the connect's error. */
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.proxy = "http://127.0.0.1:1"}, &r),
          -ECONNREFUSED);
    /* Plain http through the same proxy is not a tunnel: it is forwarded. */
    WK_EQ(fetch(s, ck_url(url, sizeof url, f.port, "/dump"), NULL, NULL), 200);
    WK_EQ(f.px.forwards, 1);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

/* A redirect from http to https through the proxy: forwarded first, tunnelled then. */
static int redirect_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char purl[128], url[128], want[256];
    proxy_url(purl, sizeof purl, &f.px, NULL);
    cio_client_session *s;
    cio_tls_opts co = {.ca_file = f.ca};
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = purl, .tls_opts = &co}), 0);
    cio_buf b = {0};
    int status = -1;
    WK_EQ(fetch(s, ck_url(url, sizeof url, f.port, "/to-tls"), &(cio_client_request_opts){.proxy_status = &status}, &b),
          200);
    WK_EQ(status, 200);
    WK_EQ(f.px.forwards, 1);
    WK_EQ(f.px.connects, 1);
    snprintf(want, sizeof want, "CONNECT 127.0.0.1:%d", f.tls_port);
    WK_STREQ(f.px.line, want);
    snprintf(want, sizeof want, "GET /dump\nhost=127.0.0.1:%d\nproxy-auth=(none)", f.tls_port);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_proxy, a_redirect_from_http_to_https_goes_from_forwarding_to_a_tunnel)
{
    tst_run(redirect_body, NULL);
    wk_verdict();
}

Test(client_proxy, a_proxy_that_refuses_the_tunnel_is_an_error_with_its_status)
{
    tst_run(refused_body, NULL);
    wk_verdict();
}

/* The pool keeps connections per proxy: the same URL through two proxies and direct is three connections. */
static int key_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    struct tproxy other = {0};
    proxy_start(&other);
    char p1[128], p2[128], url[128];
    proxy_url(p1, sizeof p1, &f.px, NULL);
    proxy_url(p2, sizeof p2, &other, NULL);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    ck_url(url, sizeof url, f.port, "/dump");
    for (int round = 0; round < 2; round++) {
        WK_EQ(fetch(s, url, &(cio_client_request_opts){.proxy = p1}, NULL), 200);
        WK_EQ(fetch(s, url, &(cio_client_request_opts){.proxy = p2}, NULL), 200);
        WK_EQ(fetch(s, url, NULL, NULL), 200);
    }
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 3);
    WK_EQ(idle, 3);
    WK_EQ(f.px.conns, 1);
    WK_EQ(other.conns, 1);
    WK_EQ(cio_client_session_close(s), 0);
    proxy_stop(&other);
    fx_close(&f);
    return 0;
}

Test(client_proxy, the_pool_keeps_connections_through_each_proxy_apart)
{
    tst_run(key_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ bad input */

static int bad_body(void *arg)
{
    (void)arg;
    static const char *const bad[] = {
        "https://127.0.0.1:3128", /* TLS to the proxy: not supported */
        "socks5://127.0.0.1:1080",
        "http://",
        "http://:80",
        "http://h:0",
        "http://h:99999",
        "http://h/path",
        "http://h?q=1",
        "http://h#f",
        "http://h p:1",
        "http://us%zzer@h:1",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cio_client_session *s = (cio_client_session *)bad;
        int rc = cio_client_session_new(&s, &(cio_client_session_opts){.proxy = bad[i]});
        if (!*bad[i]) { /* "": no proxy, fine */
            WK_EQ(rc, 0);
            WK_EQ(cio_client_session_close(s), 0);
            continue;
        }
        WK_CHECK(rc == CIO_ECLIENT_BAD_PROXY, "%s: %s", bad[i], cio_err_name(rc));
        WK_ISNULL(s);
    }
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", "http://127.0.0.1:1/", &(cio_client_request_opts){.proxy = "ftp://h:1"}, &r),
          CIO_ECLIENT_BAD_PROXY);
    WK_ISNULL(r);
    WK_EQ(cio_client_session_close(s), 0);
    /* Without a scheme a proxy is http://; a default port of 80. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = "proxy.test"}), 0);
    WK_STREQ(s->proxy->host, "proxy.test");
    WK_EQ(s->proxy->port, 80);
    WK_ISNULL(s->proxy->auth);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = "HTTP://u@[::1]:8080/"}), 0);
    WK_STREQ(s->proxy->host, "::1");
    WK_EQ(s->proxy->port, 8080);
    WK_STREQ(s->proxy->auth, "Basic dTo="); /* "u:", an empty password, as RFC 7617 and curl have it */
    WK_EQ(cio_client_session_close(s), 0);
    WK_STREQ(cio_err_name(CIO_ECLIENT_BAD_PROXY), "CIO_ECLIENT_BAD_PROXY");
    return 0;
}

Test(client_proxy, malformed_proxy_urls_are_refused_with_their_error)
{
    tst_run(bad_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ trust_env */

static void env_clear(void)
{
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy",    "HTTPS_PROXY",
                                       "no_proxy",   "NO_PROXY",   "REQUEST_METHOD", NULL};
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
}

static int env_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    env_clear();
    char purl[128], url[128], r1[64], r2[64], r3[64], r4[64], want[256];
    proxy_url(purl, sizeof purl, &f.px, "e:nv");
    setenv("http_proxy", purl, 1);
    setenv("HTTPS_PROXY", purl + 7, 1); /* without a scheme: http:// */
    snprintf(want, sizeof want, " foo.example , .direct.test,127.0.0.2, proxied.test:%d", f.port + 1);
    setenv("NO_PROXY", want, 1);
    snprintf(r1, sizeof r1, "direct.test:%d:127.0.0.1", f.port);
    snprintf(r2, sizeof r2, "a.direct.test:%d:127.0.0.1", f.port);
    snprintf(r3, sizeof r3, "proxied.test:%d:127.0.0.1", f.port);
    snprintf(r4, sizeof r4, "notdirect.test:%d:127.0.0.1", f.port);
    const char *const resolve[] = {r1, r2, r3, r4, NULL};
    cio_tls_opts co = {.ca_file = f.ca};
    cio_client_session *s;
    WK_EQ(
        cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true, .resolve = resolve, .tls_opts = &co}),
        0);
    /* no_proxy: the domain and its subdomains go direct... */
    snprintf(url, sizeof url, "http://direct.test:%d/dump", f.port);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    snprintf(url, sizeof url, "http://a.direct.test:%d/dump", f.port);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(f.px.conns, 0);
    /* ...a name that only ends the same way does not, nor one whose port the entry does not name. */
    snprintf(url, sizeof url, "http://notdirect.test:%d/dump", f.port);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(f.px.forwards, 1);
    WK_STREQ(f.px.auth, "Basic ZTpudg==");
    snprintf(url, sizeof url, "http://proxied.test:%d/dump", f.port);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(f.px.forwards, 2);
    snprintf(want, sizeof want, "GET %s", url);
    WK_STREQ(f.px.line, want);
    /* https takes HTTPS_PROXY, through a tunnel. */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/dump", f.tls_port);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(f.px.connects, 1);
    /* A request's own proxy ("" here) is not the environment's. */
    snprintf(url, sizeof url, "http://notdirect.test:%d/dump", f.port);
    int conns = f.px.conns;
    WK_EQ(fetch(s, url, &(cio_client_request_opts){.proxy = ""}, NULL), 200);
    WK_EQ(f.px.conns, conns);
    WK_EQ(cio_client_session_close(s), 0);
    /* Without trust_env, or with a session proxy of "", the environment is not read. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.proxy = "", .trust_env = true, .resolve = resolve}),
          0);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.resolve = resolve}), 0);
    WK_EQ(fetch(s, url, NULL, NULL), 200);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(f.px.conns, conns);
    /* A malformed variable fails the session. */
    setenv("http_proxy", "ftp://x", 1);
    cio_client_session *bad = NULL;
    WK_EQ(cio_client_session_new(&bad, &(cio_client_session_opts){.trust_env = true}), CIO_ECLIENT_BAD_PROXY);
    WK_ISNULL(bad);
    env_clear();
    fx_close(&f);
    return 0;
}

Test(client_proxy, trust_env_takes_the_proxy_variables_and_no_proxy)
{
    tst_run(env_body, NULL);
    wk_verdict();
}

/* The environment's variables, one by one: which wins, and CGI's HTTP_PROXY left alone. */
static int env_vars_body(void *arg)
{
    (void)arg;
    env_clear();
    cio_client_session *s;
    setenv("HTTP_PROXY", "http://upper.test:1", 1);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true}), 0);
    WK_STREQ(s->env_http ? s->env_http->host : NULL, "upper.test");
    WK_ISNULL(s->env_https);
    WK_ISNULL(s->no_proxy);
    WK_EQ(cio_client_session_close(s), 0);
    setenv("http_proxy", "http://lower.test:2", 1);
    setenv("https_proxy", "http://secure.test:3", 1);
    setenv("no_proxy", "a", 1);
    setenv("NO_PROXY", "b", 1);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true}), 0);
    WK_STREQ(s->env_http ? s->env_http->host : NULL, "lower.test");
    WK_STREQ(s->env_https ? s->env_https->host : NULL, "secure.test");
    WK_STREQ(s->no_proxy, "a");
    WK_EQ(cio_client_session_close(s), 0);
    unsetenv("http_proxy");
    setenv("REQUEST_METHOD", "GET", 1); /* a CGI program: HTTP_PROXY may be the request's "Proxy:" header */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true}), 0);
    WK_ISNULL(s->env_http);
    WK_STREQ(s->env_https ? s->env_https->host : NULL, "secure.test");
    WK_EQ(cio_client_session_close(s), 0);
    /* A Unix socket session takes no proxy from anywhere. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true, .unix_socket = "/tmp/x.sock"}), 0);
    WK_ISNULL(s->env_https);
    WK_EQ(cio_client_session_close(s), 0);
    env_clear();
    return 0;
}

Test(client_proxy, the_lowercase_variable_wins_and_cgi_http_proxy_is_ignored)
{
    tst_run(env_vars_body, NULL);
    wk_verdict();
}

/* no_proxy's matching rules, entry by entry. */
static int no_proxy_body(void *arg)
{
    (void)arg;
    env_clear();
    setenv("no_proxy", "example.com, .dot.test,10.1.2.3 ,[::1]:8080, 2001:db8::1,port.test:81,,", 1);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true}), 0);
    static const struct {
        const char *host;
        int port;
        bool direct;
    } cases[] = {
        {"example.com", 80, true},
        {"EXAMPLE.com", 80, true},
        {"www.example.com", 443, true},
        {"badexample.com", 80, false},
        {"example.com.evil", 80, false},
        {"dot.test", 80, true},
        {"a.b.dot.test", 80, true},
        {"xdot.test", 80, false},
        {"10.1.2.3", 80, true},
        {"10.1.2.30", 80, false},
        {"110.1.2.3", 80, false},
        {"::1", 8080, true},
        {"::1", 80, false},
        {"2001:db8::1", 1, true},
        {"2001:db8:0::1", 1, true},
        {"2001:db8::2", 1, false},
        {"port.test", 81, true},
        {"port.test", 80, false},
        {"a.port.test", 81, true},
        {"other.test", 80, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bool got = cio__client_no_proxy(s, cases[i].host, strlen(cases[i].host), cases[i].port);
        WK_CHECK(got == cases[i].direct, "%s:%d: %d", cases[i].host, cases[i].port, got);
    }
    WK_EQ(cio_client_session_close(s), 0);
    setenv("no_proxy", "*", 1);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trust_env = true}), 0);
    WK_EQ(cio__client_no_proxy(s, "anything.test", 13, 80), true);
    WK_EQ(cio_client_session_close(s), 0);
    env_clear();
    return 0;
}

Test(client_proxy, no_proxy_matches_names_with_their_subdomains_and_addresses_exactly)
{
    tst_run(no_proxy_body, NULL);
    wk_verdict();
}

/* Every allocation of a session with proxies, credentials and no_proxy may fail: -ENOMEM, nothing left behind. */
static int nomem_body(void *arg)
{
    (void)arg;
    env_clear();
    setenv("https_proxy", "http://a%20b:c@env.test:3128", 1);
    setenv("no_proxy", "x.test", 1);
    int ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        cio_client_session *s = NULL;
        tst_fail_alloc_at(n);
        int rc = cio_client_session_new(
            &s, &(cio_client_session_opts){.trust_env = true, .proxy = NULL, .user_agent = "t", .headers = NULL});
        tst_fail_alloc_at(0);
        if (rc == 0) {
            WK_STREQ(s->env_https ? s->env_https->auth : NULL, "Basic YSBiOmM=");
            WK_STREQ(s->no_proxy, "x.test");
            WK_EQ(cio_client_session_close(s), 0);
            ok = 1;
        } else {
            WK_EQ(rc, -ENOMEM);
            WK_ISNULL(s);
        }
    }
    WK_EQ(ok, 1);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        cio_client_response *r = NULL;
        tst_fail_alloc_at(n);
        int rc = cio_client_request(s, "GET", "http://127.0.0.1:1/",
                                    &(cio_client_request_opts){.proxy = "u:p@h.test:1"}, &r);
        tst_fail_alloc_at(0);
        if (rc != -ENOMEM)
            ok = 1; /* every allocation went through: the request got as far as connecting */
        WK_ISNULL(r);
    }
    WK_EQ(ok, 1);
    WK_EQ(cio_client_session_close(s), 0);
    env_clear();
    return 0;
}

Test(client_proxy, a_failed_allocation_while_parsing_proxies_is_enomem_and_leaks_nothing)
{
    tst_run(nomem_body, NULL);
    wk_verdict();
}
