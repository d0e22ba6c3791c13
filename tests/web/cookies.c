/* cookies.c: request cookies and Content-Type read by handlers, Set-Cookie written by them, checked with Python's
 * requests (its cookie jar parses what the server sent) and with curl's cookie engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webkit.h"

TestSuite(cookies, .init = wk_init);

static int h_echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *a = cio_web_cookie(req, "a"), *b = cio_web_cookie(req, "b"), *none = cio_web_cookie(req, "c");
    WK_ISNULL(none);
    WK_ISNULL(cio_web_cookie(NULL, "a"));
    WK_ISNULL(cio_web_cookie(req, NULL));
    cio_http_media_type mt;
    char cs[32] = "-";
    int rc = cio_web_content_type(req, &mt);
    if (rc == 0 && cio_http_media_type_charset(&mt, cs, sizeof cs) < 0)
        strcpy(cs, "none");
    return cio_web_text(res, 200, "a=%s b=%s ct=%d %.*s/%.*s charset=%s\n", wk_s(a), wk_s(b), rc,
                        rc == 0 ? (int)mt.type.len : 0, rc == 0 ? mt.type.ptr : "", rc == 0 ? (int)mt.subtype.len : 0,
                        rc == 0 ? mt.subtype.ptr : "", cs);
}

static int h_set(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    cio_http_set_cookie c = CIO_HTTP_SET_COOKIE_INIT;
    c.name = (cio_http_str){"session", 7};
    c.value = (cio_http_str){"s3cr3t", 6};
    c.path = (cio_http_str){"/", 1};
    c.max_age = 3600;
    c.http_only = true;
    c.same_site = CIO_HTTP_SAME_SITE_LAX;
    WK_EQ(cio_web_set_cookie(res, &c), 0);
    cio_http_set_cookie bad = c;
    bad.value = (cio_http_str){"x\r\nSet-Cookie: evil=1", 21};
    WK_EQ(cio_web_set_cookie(res, &bad), CIO_EHTTP_BAD_COOKIE);
    bad = c;
    bad.value = (cio_http_str){"x; Domain=evil.example", 22};
    WK_EQ(cio_web_set_cookie(res, &bad), CIO_EHTTP_BAD_COOKIE);
    WK_EQ(cio_web_set_cookie(NULL, &c), -EINVAL);
    WK_EQ(cio_web_set_cookie(res, NULL), -EINVAL);
    WK_EQ(cio_web_del_cookie(res, "old", NULL, NULL), 0);
    WK_EQ(cio_web_del_cookie(res, "bad name", NULL, NULL), CIO_EHTTP_BAD_COOKIE);
    WK_EQ(cio_web_del_cookie(res, NULL, NULL, NULL), -EINVAL);
    return cio_web_text(res, 200, "set\n");
}

static int h_old(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    WK_EQ(cio_web_add_header(res, "Set-Cookie", "old=x; Path=/"), 0);
    return cio_web_text(res, 200, "old\n");
}

static int body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_route(app, "*", "/echo", h_echo, NULL), 0);
    WK_EQ(cio_web_get(app, "/set", h_set, NULL), 0);
    WK_EQ(cio_web_get(app, "/old", h_old, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);

    /* the test client: two Cookie fields, a quoted value, a malformed pair skipped, a charset quoted */
    const char *const h1[] = {"Cookie",       "x=1; a=\"one\"; junk",          "Cookie", "b=two",
                              "Content-Type", "text/plain; charset=\"UTF-8\"", NULL};
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "POST", "/echo", h1, "hi", 2, &r), 0);
    WK_STREQ(r.body.data, "a=one b=two ct=0 text/plain charset=utf-8\n");
    cio_web_test_response_fini(&r);
    const char *const h2[] = {"Content-Type", "text/", NULL};
    WK_EQ(cio_web_test_request(t, "POST", "/echo", h2, "hi", 2, &r), 0);
    char want[96];
    snprintf(want, sizeof want, "a=(null) b=(null) ct=%d / charset=-\n", CIO_EHTTP_BAD_MEDIA_TYPE);
    WK_STREQ(r.body.data, want);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/echo", NULL, NULL, 0, &r), 0);
    snprintf(want, sizeof want, "a=(null) b=(null) ct=%d / charset=-\n", -ENOENT);
    WK_STREQ(r.body.data, want);
    cio_web_test_response_fini(&r);

    /* the Set-Cookie fields as sent: only the two good ones */
    WK_EQ(cio_web_test_request(t, "GET", "/set", NULL, NULL, 0, &r), 0);
    int n = 0;
    for (size_t i = 0; i < r.head.num_headers; i++)
        if (cio_http_str_ieq(r.head.headers[i].name, "Set-Cookie"))
            n++;
    WK_EQ(n, 2);
    WK_STREQ(cio_web_test_header(&r, "Set-Cookie"), "session=s3cr3t; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
    cio_web_test_response_fini(&r);

    /* Python's requests: its jar takes the cookie and sends it back; the deleted one is gone */
    char script[1024];
    snprintf(script, sizeof script,
             "import requests\n"
             "s = requests.Session()\n"
             "s.get('http://127.0.0.1:%d/old', timeout=30)\n"
             "assert 'old' in s.cookies\n"
             "r = s.get('http://127.0.0.1:%d/set', timeout=30)\n"
             "c = [k for k in s.cookies if k.name == 'session'][0]\n"
             "print(c.value, c.path, c.has_nonstandard_attr('HttpOnly'), 'old' in s.cookies)\n"
             "print(s.post('http://127.0.0.1:%d/echo', data=b'x', headers={'Content-Type': 'application/json'},"
             " cookies={'a': 'py'}, timeout=30).text, end='')\n",
             cio_web_test_port(t), cio_web_test_port(t), cio_web_test_port(t));
    char *py[] = {"/usr/bin/python3", "-c", script, NULL};
    cio_buf out = {0};
    WK_EQ(wk_run(py, NULL, 0, &out), 0);
    WK_STREQ(out.data, "s3cr3t / True False\na=py b=(null) ct=0 application/json charset=none\n");
    cio_buf_free(&out);

    /* curl's cookie engine: -c writes the jar in Netscape format */
    char url[96], jar[] = "/tmp/cio-cookies-XXXXXX";
    int fd = mkstemp(jar);
    WK_CHECK(fd >= 0, "mkstemp");
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/set", cio_web_test_port(t));
    char *curl[] = {"curl", "--silent", "--show-error", "--max-time", "30", "-c", jar, url, NULL};
    WK_EQ(wk_run(curl, NULL, 0, &out), 0);
    cio_buf_free(&out);
    char *cat[] = {"cat", jar, NULL};
    WK_EQ(wk_run(cat, NULL, 0, &out), 0);
    WK_CHECK(out.data && strstr(out.data, "#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t") &&
                 strstr(out.data, "\tsession\ts3cr3t"),
             "%s", wk_s(out.data));
    cio_buf_free(&out);
    unlink(jar);

    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(cookies, read_and_written_as_requests_and_curl_see_them)
{
    tst_run(body, NULL);
    wk_verdict();
}
