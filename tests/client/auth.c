/* auth.c: Basic authentication from the session, the request and the URL, kept to its origin across redirects,
 * and raise_for_status: the error, the status handed back, the connection pooled or closed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_auth, .init = wk_init);

/* "auth=<Authorization or (none)> host=<Host>" */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *auth = cio_web_header(req, "Authorization");
    const char *host = cio_web_header(req, "Host");
    return cio_web_text(res, 200, "auth=%s host=%s", auth ? auth : "(none)", host ? host : "");
}

/* /r/{code}?to=URL */
static int h_redirect(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_redirect(res, atoi(cio_web_match(req, "code")), cio_web_query(req, "to"));
}

/* /status/{code}: that status with a short body. */
static int h_status(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_text(res, atoi(cio_web_match(req, "code")), "status body");
}

struct fixture {
    cio_web_app *app;
    cio_web_server *srv;
    int port;
};

static void fx_open(struct fixture *f)
{
    WK_EQ(cio_web_app_open(&f->app, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/r/{code}", h_redirect, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/status/{code}", h_status, NULL), 0);
    WK_EQ(cio_web_server_start(&f->srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    f->port = cio_web_server_port(f->srv);
}

static void fx_close(struct fixture *f)
{
    WK_EQ(cio_web_server_close(f->srv, CIO_SEC(5)), 0);
    cio_web_app_close(f->app);
}

/* GET `url` and give back the body (the caller frees it) or the error. */
static int fetch(cio_client_session *s, const char *url, const cio_client_request_opts *o, cio_buf *b)
{
    cio_client_response *r;
    *b = (cio_buf){0};
    int rc = cio_client_request(s, "GET", url, o, &r);
    if (rc < 0)
        return rc;
    rc = cio_client_response_read(r, b);
    (void)cio_client_response_release(r);
    return rc;
}

/* Whether the body of GET `url` contains `want`. */
#define EXPECT_BODY(s, url, o, want)                                                               \
    do {                                                                                           \
        cio_buf b_;                                                                                \
        int rc_ = fetch((s), (url), (o), &b_);                                                     \
        WK_CHECK(rc_ == 0 && strstr(b_.data, (want)), "%s: %s", cio_err_name(rc_), wk_s(b_.data)); \
        cio_buf_free(&b_);                                                                         \
    } while (0)

static int sources_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char url[160];
    ck_url(url, sizeof url, f.port, "/dump");
    cio_client_session *s;
    /* The session's (RFC 7617's example), a request's in its place (no password: ""), the URL's (percent-decoded,
       UTF-8 as it comes). */
    WK_EQ(
        cio_client_session_new(&s, &(cio_client_session_opts){.auth_user = "Aladdin", .auth_password = "open sesame"}),
        0);
    EXPECT_BODY(s, url, NULL, "auth=Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== ");
    EXPECT_BODY(s, url, &(cio_client_request_opts){.auth_user = "u"}, "auth=Basic dTo= ");
    char cred[160];
    snprintf(cred, sizeof cred, "http://a%%40b:p%%3Aw@127.0.0.1:%d/dump", f.port);
    EXPECT_BODY(s, cred, NULL, "auth=Basic YUBiOnA6dw== ");
    snprintf(cred, sizeof cred, "http://user:p%%C3%%A4ss@127.0.0.1:%d/dump", f.port);
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", cred, NULL, &r), 0);
    WK_STREQ(cio_client_response_url(r), url); /* the credentials are not part of the URL kept */
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_CHECK(strstr(b.data, "auth=Basic dXNlcjpww6Rzcw== "), "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* Refused: a user with ':' (given, or decoded from the URL), a password alone, two sources at once, an auth
       with an Authorization field, a bad percent-encoding. Nothing is sent for any of them. */
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.auth_user = "a:b"}, &r), -EINVAL);
    WK_ISNULL(r);
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.auth_password = "p"}, &r), -EINVAL);
    snprintf(cred, sizeof cred, "http://x:y@127.0.0.1:%d/dump", f.port);
    WK_EQ(cio_client_request(s, "GET", cred, &(cio_client_request_opts){.auth_user = "u"}, &r), -EINVAL);
    const char *const bearer[] = {"Authorization", "Bearer t", NULL};
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.headers = bearer}, &r), -EINVAL);
    snprintf(cred, sizeof cred, "http://a%%3Ab:p@127.0.0.1:%d/dump", f.port);
    WK_EQ(cio_client_request(s, "GET", cred, NULL, &r), -EINVAL);
    snprintf(cred, sizeof cred, "http://a%%zz:p@127.0.0.1:%d/dump", f.port);
    WK_EQ(cio_client_request(s, "GET", cred, NULL, &r), CIO_EHTTP_BAD_URL);
    WK_EQ(cio_client_session_close(s), 0);
    /* Without a session auth: an Authorization field of the caller's goes as it is; an empty user in the URL is
       no credentials. */
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    EXPECT_BODY(s, url, &(cio_client_request_opts){.headers = bearer}, "auth=Bearer t ");
    snprintf(cred, sizeof cred, "http://@127.0.0.1:%d/dump", f.port);
    EXPECT_BODY(s, cred, NULL, "auth=(none) ");
    WK_EQ(cio_client_session_close(s), 0);
    /* A session with a base URL sends its auth to that origin only (aiohttp's rule). */
    char base[96], other[64], other_url[128];
    ck_url(base, sizeof base, f.port, "/");
    snprintf(other, sizeof other, "other.test:%d:127.0.0.1", f.port);
    const char *const resolve[] = {other, NULL};
    snprintf(other_url, sizeof other_url, "http://other.test:%d/dump", f.port);
    WK_EQ(cio_client_session_new(
              &s,
              &(cio_client_session_opts){.base_url = base, .resolve = resolve, .auth_user = "x", .auth_password = "y"}),
          0);
    EXPECT_BODY(s, "dump", NULL, "auth=Basic eDp5 ");
    EXPECT_BODY(s, other_url, NULL, "auth=(none) ");
    WK_EQ(cio_client_session_close(s), 0);
    /* The session's own refusals. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.auth_user = "a:b"}), -EINVAL);
    WK_ISNULL(s);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.auth_password = "p"}), -EINVAL);
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.auth_user = "u", .headers = bearer}), -EINVAL);
    fx_close(&f);
    return 0;
}

Test(client_auth, basic_credentials_from_the_session_the_request_or_the_url)
{
    tst_run(sources_body, NULL);
    wk_verdict();
}

static int redirect_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char other[64];
    snprintf(other, sizeof other, "other.test:%d:127.0.0.1", f.port);
    const char *const resolve[] = {other, NULL};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(
              &s, &(cio_client_session_opts){.resolve = resolve, .auth_user = "x", .auth_password = "y"}),
          0);
    char url[512], same[128], away[128], back[256], withcred[128];
    snprintf(same, sizeof same, "http://127.0.0.1:%d/dump", f.port);
    snprintf(away, sizeof away, "http://other.test:%d/dump", f.port);
    /* Each source of credentials, followed to the same origin and to another. */
    for (int src = 0; src < 3; src++) {
        cio_client_request_opts o = {0};
        const char *host = "127.0.0.1";
        const char *want = "auth=Basic eDp5 ";
        if (src == 1) {
            o.auth_user = "u";
            want = "auth=Basic dTo= ";
        }
        if (src == 2) {
            host = "a%40b:p%3Aw@127.0.0.1";
            want = "auth=Basic YUBiOnA6dw== ";
        }
        snprintf(url, sizeof url, "http://%s:%d/r/307?to=%s", host, f.port, same);
        EXPECT_BODY(s, url, &o, want);
        snprintf(url, sizeof url, "http://%s:%d/r/302?to=%s", host, f.port, away);
        EXPECT_BODY(s, url, &o, "auth=(none) host=other.test");
    }
    /* Away and back again: once it left its origin, it stays behind (as the caller's own Authorization does). */
    char enc[192];
    WK_CHECK(cio_url_encode(enc, sizeof enc, same, strlen(same), 0) > 0);
    snprintf(back, sizeof back, "http://other.test:%d/r/302?to=%s", f.port, enc);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/302?to=%s", f.port, back);
    EXPECT_BODY(s, url, NULL, "auth=(none) host=127.0.0.1");
    /* A Location with credentials of its own: those, there (and not in the response's URL). */
    snprintf(withcred, sizeof withcred, "http://u:@other.test:%d/dump", f.port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/302?to=%s", f.port, withcred);
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, NULL, &r), 0);
    WK_STREQ(cio_client_response_url(r), away);
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_CHECK(strstr(b.data, "auth=Basic dTo= host=other.test"), "%s", wk_s(b.data));
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    /* A Location whose user has a ':' is no Location to follow. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/302?to=http://a%%253Ab:c@other.test:%d/dump", f.port, f.port);
    WK_EQ(cio_client_request(s, "GET", url, NULL, &r), CIO_ECLIENT_BAD_LOCATION);
    WK_EQ(cio_client_session_close(s), 0);
    fx_close(&f);
    return 0;
}

Test(client_auth, credentials_never_follow_a_redirect_to_another_origin)
{
    tst_run(redirect_body, NULL);
    wk_verdict();
}

/* Raw: the first request gets a 404 without a body, the next a 500 with one; every other request a 200. */
static int raw_statuses(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    while (ck_read_request(s, rs) == 0) {
        const char *resp = rs->requests == 1   ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                           : rs->requests == 2 ? "HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\noops!"
                                               : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if (ck_write(s, resp) < 0)
            break;
    }
    return 0;
}

static int raise_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char url[128];
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.raise_for_status = true}), 0);
    int status = -1;
    cio_client_response *r;
    /* 418: the error, the status handed back, the response gone, its half-read connection closed. */
    ck_url(url, sizeof url, f.port, "/status/418");
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.status = &status}, &r), CIO_ECLIENT_STATUS);
    WK_ISNULL(r);
    WK_EQ(status, 418);
    WK_EQ(cio_client_session_connections(s, NULL), 0);
    WK_STREQ(cio_strerror(CIO_ECLIENT_STATUS), "client: the response's status is 400 or above (raise_for_status)");
    /* After a redirect: the final status is the one that counts. */
    char to[96];
    ck_url(to, sizeof to, f.port, "/status/500");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r/302?to=%s", f.port, to);
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.status = &status}, &r), CIO_ECLIENT_STATUS);
    WK_EQ(status, 500);
    /* Turned off for one request: the 404 is a response. Below 400, not an error; the status is written too. */
    ck_url(url, sizeof url, f.port, "/status/404");
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.raise_for_status = -1, .status = &status}, &r),
          0);
    WK_EQ(cio_client_response_status(r), 404);
    WK_EQ(status, 404);
    WK_EQ(cio_client_response_release(r), 0); /* unread */
    ck_url(url, sizeof url, f.port, "/status/399");
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.status = &status}, &r), 0);
    WK_EQ(status, 399);
    WK_EQ(cio_client_response_release(r), 0);
    /* No response at all: the status is 0. */
    WK_EQ(cio_client_request(s, "GET", "http://127.0.0.1:1/", &(cio_client_request_opts){.status = &status}, &r),
          -ECONNREFUSED);
    WK_EQ(status, 0);
    WK_EQ(cio_client_session_close(s), 0);
    /* Off in the session, on for one request. A response with no body left to read keeps its connection. */
    struct ck_raw rs = {.fn = raw_statuses};
    WK_EQ(ck_raw_start(&rs), 0);
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    ck_url(url, sizeof url, rs.port, "/");
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.raise_for_status = 1, .status = &status}, &r),
          CIO_ECLIENT_STATUS);
    WK_EQ(status, 404);
    size_t idle = 0;
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(idle, 1);
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.raise_for_status = 1, .status = &status}, &r),
          CIO_ECLIENT_STATUS);
    WK_EQ(status, 500);
    WK_EQ(cio_client_session_connections(s, &idle), 0); /* a body was left: closed */
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.raise_for_status = 1}, &r), 0);
    WK_EQ(cio_client_response_status(r), 200);
    (void)cio_client_response_release(r);
    WK_EQ(rs.conns, 2);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    fx_close(&f);
    return 0;
}

Test(client_auth, raise_for_status_fails_the_request_and_hands_back_the_status)
{
    tst_run(raise_body, NULL);
    wk_verdict();
}
