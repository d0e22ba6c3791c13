/* httpbin.c: auth, cookies and raise_for_status against a server the client did not grow up with: httpbin under
 * gunicorn in a child process, on an ephemeral loopback port read from gunicorn's log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_httpbin, .init = wk_init);

/* Start gunicorn serving httpbin on 127.0.0.1:0 and read its port from the "Listening at:" line of its log. Once
   that line is out the socket is listening: connections wait in its backlog until the worker has booted. */
static int httpbin_start(cio_process **p, int *port)
{
    char *argv[] = {"/usr/bin/python3", "-m", "gunicorn", "--bind", "127.0.0.1:0", "httpbin:app", NULL};
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_PIPE};
    int rc = cio_process_exec(p, argv, &po);
    if (rc < 0)
        return rc;
    static const char mark[] = "Listening at: http://127.0.0.1:";
    char line[512];
    for (;;) {
        ssize_t n = cio_stream_read_line(cio_process_stderr(*p), line, sizeof line);
        if (n <= 0)
            return n < 0 ? (int)n : -ESRCH; /* gunicorn ended without listening */
        const char *at = strstr(line, mark);
        if (at) {
            *port = atoi(at + sizeof mark - 1);
            return *port > 0 ? 0 : -EPROTO;
        }
    }
}

static int httpbin_stop(cio_process *p)
{
    int status = -1;
    int rc = cio_process_terminate(p);
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    return rc;
}

/* "auth=<Authorization or (none)>", from cio's own server: the other origin a redirect points at. */
static int h_dump(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *auth = cio_web_header(req, "Authorization");
    return cio_web_text(res, 200, "auth=%s", auth ? auth : "(none)");
}

/* GET `url`: the status (or the error), the body in `b`. */
static int get(cio_client_session *s, const char *url, const cio_client_request_opts *o, cio_buf *b)
{
    cio_client_response *r;
    *b = (cio_buf){0};
    int rc = cio_client_request(s, "GET", url, o, &r);
    if (rc < 0)
        return rc;
    int status = cio_client_response_status(r);
    rc = cio_client_response_read(r, b);
    (void)cio_client_response_release(r);
    return rc < 0 ? rc : status;
}

/* Whether `text` contains `want`, whitespace in either ignored (httpbin's JSON may come pretty-printed or not). */
static bool contains(const char *text, const char *want)
{
    if (!text)
        return false;
    char a[8192], w[256];
    size_t n = 0, k = 0;
    for (const char *q = text; *q && n < sizeof a - 1; q++)
        if (*q != ' ' && *q != '\n')
            a[n++] = *q;
    for (const char *q = want; *q && k < sizeof w - 1; q++)
        if (*q != ' ' && *q != '\n')
            w[k++] = *q;
    a[n] = w[k] = 0;
    return strstr(a, w) != NULL;
}

#define EXPECT(s, url, o, want_status, want_text)                                                                 \
    do {                                                                                                          \
        cio_buf b_;                                                                                               \
        int st_ = get((s), (url), (o), &b_);                                                                      \
        WK_CHECK(st_ == (want_status) && contains(b_.data, (want_text)), "%s %d: %s", (url), st_, wk_s(b_.data)); \
        cio_buf_free(&b_);                                                                                        \
    } while (0)

static int httpbin_body(void *arg)
{
    (void)arg;
    cio_process *p = NULL;
    int port = 0;
    int rc = httpbin_start(&p, &port);
    WK_EQ(rc, 0);
    if (rc < 0) {
        if (p)
            cio_process_close(p);
        return 0;
    }
    cio_web_app *app;
    cio_web_server *srv;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/dump", h_dump, NULL), 0);
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    int other = cio_web_server_port(srv);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.cookie_jar = true}), 0);
    char url[256];
    /* Basic auth: refused without, or with the wrong password; accepted from the request or the URL. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/basic-auth/u/p", port);
    cio_buf b;
    WK_EQ(get(s, url, NULL, &b), 401);
    cio_buf_free(&b);
    WK_EQ(get(s, url, &(cio_client_request_opts){.auth_user = "u", .auth_password = "wrong"}, &b), 401);
    cio_buf_free(&b);
    EXPECT(s, url, (&(cio_client_request_opts){.auth_user = "u", .auth_password = "p"}), 200,
           "\"authenticated\": true");
    snprintf(url, sizeof url, "http://u:p@127.0.0.1:%d/basic-auth/u/p", port);
    EXPECT(s, url, NULL, 200, "\"user\": \"u\"");
    /* A redirect to the same origin keeps the credentials; one to another origin does not get them. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect-to?url=/headers", port);
    EXPECT(s, url, (&(cio_client_request_opts){.auth_user = "u", .auth_password = "p"}), 200,
           "\"Authorization\": \"Basic dTpw\"");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect-to?url=http://127.0.0.1:%d/dump", port, other);
    EXPECT(s, url, (&(cio_client_request_opts){.auth_user = "u", .auth_password = "p"}), 200, "auth=(none)");
    snprintf(url, sizeof url, "http://u:p@127.0.0.1:%d/redirect-to?url=http://127.0.0.1:%d/dump", port, other);
    EXPECT(s, url, NULL, 200, "auth=(none)");
    /* Cookies: /cookies/set answers with a 302 carrying Set-Cookie, whose cookie the next hop already sends. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cookies/set?a=1&b=two", port);
    EXPECT(s, url, NULL, 200, "\"a\": \"1\"");
    WK_EQ(cio_client_cookie_count(s), 2);
    cio_client_cookie c;
    WK_EQ(cio_client_cookie_at(s, 0, &c), 0);
    WK_STREQ(c.name, "a");
    WK_STREQ(c.domain, "127.0.0.1");
    WK_STREQ(c.path, "/");
    WK_CHECK(c.host_only);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cookies", port);
    EXPECT(s, url, NULL, 200, "\"b\": \"two\"");
    EXPECT(s, url, (&(cio_client_request_opts){.no_cookies = true}), 200, "\"cookies\": {}");
    /* /cookies/delete expires them (Max-Age=0 and an Expires in 1970): gone from the jar and from the field. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cookies/delete?a", port);
    EXPECT(s, url, NULL, 200, "\"b\": \"two\"");
    WK_EQ(cio_client_cookie_count(s), 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cookies/delete?b", port);
    EXPECT(s, url, NULL, 200, "\"cookies\": {}");
    WK_EQ(cio_client_cookie_count(s), 0);
    /* raise_for_status: 418 is the error, with its status. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/status/418", port);
    int status = 0;
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.raise_for_status = 1, .status = &status}, &r),
          CIO_ECLIENT_STATUS);
    WK_ISNULL(r);
    WK_EQ(status, 418);
    EXPECT(s, url, NULL, 418, "teapot");
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    WK_EQ(httpbin_stop(p), 0);
    return 0;
}

Test(client_httpbin, auth_cookies_and_statuses_against_httpbin_under_gunicorn, .timeout = 60)
{
    tst_run(httpbin_body, NULL);
    wk_verdict();
}
