/* jar.c: the session's cookie jar: RFC 6265's storage model through cio_client_cookie_set (domains, host-only,
 * default paths, expiry on the mock clock, replacement, limits) and the Cookie field over the wire against cio's
 * own server, plain and TLS (matching, order, Secure, redirects' cookies, the caller's own Cookie, no_cookies). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clientkit.h"
#include "tlskit.h"

TestSuite(client_jar, .init = wk_init);

/* The `i`th cookie as "name=value domain path host_only|domain secure? httponly?". */
static const char *describe(cio_client_session *s, size_t i, char *buf, size_t cap)
{
    cio_client_cookie c;
    if (cio_client_cookie_at(s, i, &c) < 0)
        return "(none)";
    snprintf(buf, cap, "%s=%s %s %s %s%s%s", c.name, c.value, c.domain, c.path, c.host_only ? "host" : "domain",
             c.secure ? " secure" : "", c.http_only ? " httponly" : "");
    return buf;
}

static int storage_body(void *arg)
{
    (void)arg;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.cookie_jar = true}), 0);
    char d[256];
    /* Host-only with the default path (the URL's directory); a Domain attribute (its dot dropped, lower case). */
    WK_EQ(cio_client_cookie_set(s, "http://Example.COM/a/b?q", "a=1"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://www.example.com/", "b=2; Domain=.Example.COM; Secure; HttpOnly"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com", "c=3; Path=/p; SameSite=Strict"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/x", "d=4; Path=relative"), 0); /* not a path: the default */
    WK_EQ(cio_client_cookie_count(s), 4);
    WK_STREQ(describe(s, 0, d, sizeof d), "a=1 example.com /a host");
    WK_STREQ(describe(s, 1, d, sizeof d), "b=2 example.com / domain secure httponly");
    WK_STREQ(describe(s, 2, d, sizeof d), "c=3 example.com /p host");
    WK_STREQ(describe(s, 3, d, sizeof d), "d=4 example.com / host");
    cio_client_cookie c;
    WK_EQ(cio_client_cookie_at(s, 2, &c), 0);
    WK_EQ(c.same_site, CIO_HTTP_SAME_SITE_STRICT);
    WK_EQ(c.expires, -1);
    WK_EQ(cio_client_cookie_at(s, 4, &c), -ENOENT);
    /* Domains the host does not domain-match: another one, a longer one, one not at a dot; an address's Domain is
       only itself, and then the cookie is host-only. */
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "e=5; Domain=other.com"), CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "e=5; Domain=www.example.com"), CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "e=5; Domain=ample.com"), CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_set(s, "http://127.0.0.1/", "e=5; Domain=0.0.1"), CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_set(s, "http://127.0.0.1/", "e=5; Domain=127.0.0.1"), 0);
    WK_STREQ(describe(s, 4, d, sizeof d), "e=5 127.0.0.1 / host");
    WK_EQ(cio_client_cookie_set(s, "http://[::1]:8080/", "f=6"), 0);
    WK_STREQ(describe(s, 5, d, sizeof d), "f=6 ::1 / host");
    /* Replacement: same name, domain and path; the place (creation time) stays. Another path is another cookie. */
    WK_EQ(cio_client_cookie_set(s, "http://example.com/a/", "a=9; Path=/a"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "a=other"), 0);
    WK_EQ(cio_client_cookie_count(s), 7);
    WK_STREQ(describe(s, 0, d, sizeof d), "a=9 example.com /a host");
    WK_STREQ(describe(s, 6, d, sizeof d), "a=other example.com / host");
    /* Expiry: Max-Age wins over Expires, whichever comes first; an expired one deletes its namesake. */
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "g=7; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
          0);
    WK_EQ(cio_client_cookie_at(s, 7, &c), 0);
    int64_t now = (int64_t)time(NULL);
    WK_CHECK(c.expires >= now + 98 && c.expires <= now + 101, "%lld", (long long)c.expires);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "h=8; Expires=Wed, 01 Jan 2200 00:00:00 GMT"), 0);
    WK_EQ(cio_client_cookie_at(s, 8, &c), 0);
    WK_EQ(c.expires, 7258118400LL);
    WK_EQ(cio_client_cookie_count(s), 9);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "g=; Expires=Wed, 01 Jan 2200 00:00:00 GMT; Max-Age=0"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "h=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "never=x; Max-Age=-5"), 0); /* nothing to delete */
    WK_EQ(cio_client_cookie_count(s), 7);
    /* Bad input, each with its code. */
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "novalue"), CIO_EHTTP_BAD_COOKIE);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "=v"), CIO_EHTTP_BAD_COOKIE);
    WK_EQ(cio_client_cookie_set(s, "not a url", "a=1"), CIO_EHTTP_BAD_URL);
    WK_EQ(cio_client_cookie_set(s, "ftp://example.com/", "a=1"), CIO_ECLIENT_BAD_SCHEME);
    static char huge[4200];
    memset(huge, 'v', sizeof huge - 1);
    memcpy(huge, "big=", 4);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", huge), CIO_ECLIENT_COOKIE_REJECTED);
    huge[4096] = 0; /* exactly 4096 bytes: kept */
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", huge), 0);
    WK_EQ(cio_client_cookie_set(NULL, "http://example.com/", "a=1"), -EINVAL);
    WK_EQ(cio_client_cookie_set(s, NULL, "a=1"), -EINVAL);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", NULL), -EINVAL);
    WK_EQ(cio_client_cookie_at(s, 0, NULL), -EINVAL);
    WK_EQ(cio_client_cookie_at(NULL, 0, &c), -EINVAL);
    WK_EQ(cio_client_cookie_count(NULL), 0);
    cio_client_cookie_clear(NULL);
    cio_client_cookie_clear(s);
    WK_EQ(cio_client_cookie_count(s), 0);
    WK_EQ(cio_client_session_close(s), 0);
    /* A session without a jar refuses the jar's functions. */
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "a=1"), -EINVAL);
    WK_EQ(cio_client_cookie_count(s), 0);
    WK_EQ(cio_client_cookie_at(s, 0, &c), -EINVAL);
    cio_client_cookie_clear(s);
    WK_EQ(cio_client_session_close(s), 0);
    /* Relative URLs go against the base URL. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.cookie_jar = true, .base_url = "http://b.test/x/"}),
          0);
    WK_EQ(cio_client_cookie_set(s, "y/z", "r=1"), 0);
    WK_STREQ(describe(s, 0, d, sizeof d), "r=1 b.test /x/y host");
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

Test(client_jar, the_storage_model_of_rfc_6265)
{
    tst_run(storage_body, NULL);
    wk_verdict();
}

static int expiry_body(void *arg)
{
    (void)arg;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.cookie_jar = true}), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "short=1; Max-Age=10"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "long=1; Max-Age=100"), 0);
    WK_EQ(cio_client_cookie_set(s, "http://example.com/", "session=1"), 0);
    WK_EQ(cio_sleep(CIO_SEC(9)), 0);
    WK_EQ(cio_client_cookie_count(s), 3);
    WK_EQ(cio_sleep(CIO_SEC(2)), 0);
    WK_EQ(cio_client_cookie_count(s), 2);
    cio_client_cookie c;
    WK_EQ(cio_client_cookie_at(s, 0, &c), 0);
    WK_STREQ(c.name, "long");
    WK_EQ(cio_sleep(CIO_SEC(100)), 0);
    WK_EQ(cio_client_cookie_count(s), 1);
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

Test(client_jar, cookies_expire_on_the_loops_clock)
{
    tst_run_expect(expiry_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

static int limits_body(void *arg)
{
    (void)arg;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.cookie_jar = true}), 0);
    char v[32], url[64];
    /* 60 to one domain: the 10 least recently used go; one that was used again stays. */
    for (int i = 0; i < 60; i++) {
        snprintf(v, sizeof v, "n%d=%d", i, i);
        WK_EQ(cio_client_cookie_set(s, "http://one.test/", v), 0);
        if (i == 30)
            WK_EQ(cio_client_cookie_set(s, "http://one.test/", "n0=again"), 0);
    }
    WK_EQ(cio_client_cookie_count(s), 50);
    cio_client_cookie c;
    WK_EQ(cio_client_cookie_at(s, 0, &c), 0);
    WK_STREQ(c.name, "n0");
    WK_STREQ(c.value, "again");
    WK_EQ(cio_client_cookie_at(s, 1, &c), 0);
    WK_STREQ(c.name, "n11");
    /* 3050 over 61 domains: 3000 stay, the oldest gone. */
    cio_client_cookie_clear(s);
    for (int d = 0; d < 61; d++) {
        snprintf(url, sizeof url, "http://d%d.test/", d);
        for (int i = 0; i < 50; i++) {
            snprintf(v, sizeof v, "c%d=%d", i, d);
            WK_EQ(cio_client_cookie_set(s, url, v), 0);
        }
    }
    WK_EQ(cio_client_cookie_count(s), 3000);
    WK_EQ(cio_client_cookie_at(s, 0, &c), 0);
    WK_STREQ(c.domain, "d1.test");
    WK_EQ(cio_client_cookie_at(s, 2999, &c), 0);
    WK_STREQ(c.domain, "d60.test");
    WK_STREQ(c.name, "c49");
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

Test(client_jar, at_most_3000_cookies_and_50_per_domain)
{
    tst_run(limits_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ on the wire */

/* "cookie=<Cookie or (none)>" */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *c = cio_web_header(req, "Cookie");
    return cio_web_text(res, 200, "cookie=%s", c ? c : "(none)");
}

/* /set?c=<Set-Cookie value>&c=...[&to=URL]: each as a Set-Cookie field, then a 302 to `to` or a 200. */
static int h_set(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_http_str rest = {cio_web_target(req), strlen(cio_web_target(req))}, name, value;
    const char *q = memchr(rest.ptr, '?', rest.len);
    rest = q ? (cio_http_str){q + 1, strlen(q + 1)} : (cio_http_str){"", 0};
    while (cio_url_query_next(&rest, &name, &value) == 1) {
        if (!cio_http_str_ieq(name, "c"))
            continue;
        char buf[512];
        ssize_t n = cio_url_decode(buf, sizeof buf, value.ptr, value.len, CIO_URL_PLUS_SPACE);
        if (n < 0)
            return (int)n;
        buf[n] = 0;
        int rc = cio_web_add_header(res, "Set-Cookie", buf);
        if (rc < 0)
            return rc;
    }
    const char *to = cio_web_query(req, "to");
    return to ? cio_web_redirect(res, 302, to) : cio_web_text(res, 200, "set");
}

struct fixture {
    cio_web_app *app;
    cio_web_server *srv, *tls_srv;
    cio_tls_ctx *server_ctx;
    int port, tls_port;
    char dir[256];
    cio_client_session *s;
};

static void fx_open(struct fixture *f, const char *const *headers)
{
    WK_EQ(cio_web_app_open(&f->app, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/set", h_set, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/sub/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/sub/deeper/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/subway", h_dump, NULL), 0);
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
    WK_EQ(cio_client_session_new(
              &f->s,
              &(cio_client_session_opts){.tls_opts = &co, .resolve = resolve, .cookie_jar = true, .headers = headers}),
          0);
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

/* GET `url`; the body's text after "cookie=", into `out`. */
static const char *sent(struct fixture *f, const char *url, const cio_client_request_opts *o, char *out, size_t cap)
{
    cio_client_response *r;
    cio_buf b = {0};
    snprintf(out, cap, "(failed)");
    int rc = cio_client_request(f->s, "GET", url, o, &r);
    if (rc == 0) {
        if (cio_client_response_read(r, &b) == 0 && !strncmp(b.data, "cookie=", 7))
            snprintf(out, cap, "%s", b.data + 7);
        cio_buf_free(&b);
        (void)cio_client_response_release(r);
    } else {
        snprintf(out, cap, "(%s)", cio_err_name(rc));
    }
    return out;
}

static int wire_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f, NULL);
    char url[512], got[512];
    /* A redirect's Set-Cookie is stored before the next hop goes out, and that hop carries it. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/set?c=a%%3D1&c=b%%3D2%%3B%%20Path%%3D/sub&to=/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "a=1");
    WK_EQ(cio_client_cookie_count(f.s), 2);
    /* Path matching and order: longer paths first, then the older. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/set?c=c%%3D3", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "(failed)"); /* "set", not a dump; stores c */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sub/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "b=2; a=1; c=3");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sub/deeper/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "b=2; a=1; c=3");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/subway", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "a=1; c=3");
    /* Host-only cookies of 127.0.0.1 go nowhere else; a Domain the host does not match is dropped. */
    snprintf(url, sizeof url, "http://other.test:%d/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "(none)");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/set?c=x%%3D1%%3B%%20Domain%%3Dother.test&to=/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "a=1; c=3");
    /* Cookies for other.test, set from other.test with its Domain: sent to it (and to its subdomains). */
    snprintf(url, sizeof url, "http://other.test:%d/set?c=o%%3D1%%3B%%20Domain%%3DOther.Test&to=/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "o=1");
    WK_EQ(cio_client_cookie_set(f.s, "http://sub.other.test/", "z=1; Domain=other.test"), 0);
    snprintf(url, sizeof url, "http://other.test:%d/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "o=1; z=1");
    /* Secure: over https only. Set from http (RFC 6265 stores it), sent on https. */
    WK_EQ(cio_client_cookie_set(f.s, "http://127.0.0.1/", "s=1; Secure"), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "a=1; c=3");
    snprintf(url, sizeof url, "https://127.0.0.1:%d/dump", f.tls_port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "a=1; c=3; s=1");
    /* A deletion from the server. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/set?c=a%%3D%%3B%%20Max-Age%%3D0&to=/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "c=3");
    /* The caller's own Cookie field comes first, in the one field; alone when the jar has nothing. */
    const char *const own[] = {"Cookie", "mine=1", NULL};
    WK_STREQ(sent(&f, url, &(cio_client_request_opts){.headers = own}, got, sizeof got), "mine=1; c=3");
    snprintf(url, sizeof url, "http://other.test:%d/dump", f.port);
    cio_client_cookie_clear(f.s);
    WK_STREQ(sent(&f, url, &(cio_client_request_opts){.headers = own}, got, sizeof got), "mine=1");
    /* no_cookies: nothing sent, nothing stored, redirects included. */
    WK_EQ(cio_client_cookie_set(f.s, "http://127.0.0.1/", "kept=1"), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/set?c=new%%3D1&to=/dump", f.port);
    WK_STREQ(sent(&f, url, &(cio_client_request_opts){.no_cookies = true}, got, sizeof got), "(none)");
    WK_EQ(cio_client_cookie_count(f.s), 1);
    fx_close(&f);
    /* A session's default Cookie field, with the jar's after it. */
    const char *const defaults[] = {"Cookie", "dflt=1", NULL};
    fx_open(&f, defaults);
    WK_EQ(cio_client_cookie_set(f.s, "http://127.0.0.1/", "j=1"), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/dump", f.port);
    WK_STREQ(sent(&f, url, NULL, got, sizeof got), "dflt=1; j=1");
    WK_STREQ(sent(&f, url, &(cio_client_request_opts){.headers = own}, got, sizeof got), "mine=1; j=1");
    fx_close(&f);
    return 0;
}

Test(client_jar, the_cookie_field_over_the_wire)
{
    tst_run(wire_body, NULL);
    wk_verdict();
}

/* Every allocation of a cookie's storage, a request's credentials and its Cookie field fails in turn: each call
   fails cleanly (-ENOMEM, or the request's error), the jar stays whole, and nothing leaks. */
static int oom_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f, NULL);
    WK_EQ(cio_client_cookie_set(f.s, "http://127.0.0.1/", "first=1"), 0);
    int rc = -ENOMEM;
    for (long n = 1; rc == -ENOMEM && n < 100; n++) {
        tst_fail_alloc_at(n);
        rc = cio_client_cookie_set(f.s, "http://www.example.com/a/b", "x=1; Domain=example.com; Path=/a");
        tst_fail_alloc_at(0);
        WK_CHECK(rc == 0 || rc == -ENOMEM, "%ld: %s", n, cio_err_name(rc));
        WK_EQ(cio_client_cookie_count(f.s), rc == 0 ? 2 : 1);
    }
    WK_EQ(rc, 0);
    char url[256];
    snprintf(url, sizeof url, "http://u:p@127.0.0.1:%d/set?c=a%%3D1&to=/dump", f.port);
    const char *const own[] = {"Cookie", "mine=1", NULL};
    rc = -1;
    bool done = false;
    for (long n = 1; !done && n < 400; n++) {
        cio_client_response *r = NULL;
        tst_fail_alloc_at(n);
        rc = cio_client_request(f.s, "GET", url, &(cio_client_request_opts){.headers = own}, &r);
        tst_fail_alloc_at(0);
        WK_CHECK(rc <= 0, "%d", rc);
        /* The server shares the allocator: a failure there is a 500, a response like any other. */
        if (rc == 0 && cio_client_response_status(r) == 200) {
            done = true;
            cio_buf b;
            WK_EQ(cio_client_response_read(r, &b), 0);
            WK_CHECK(b.data && !strncmp(b.data, "cookie=mine=1; first=1", 22), "%s", wk_s(b.data));
            cio_buf_free(&b);
        }
        (void)cio_client_response_release(r);
    }
    WK_CHECK(done);
    fx_close(&f);
    return 0;
}

Test(client_jar, allocation_failures_leave_the_jar_whole)
{
    tst_run(oom_body, NULL);
    wk_verdict();
}
