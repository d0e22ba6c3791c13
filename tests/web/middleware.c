/* middleware.c: the ready-made middleware: access log lines (common and combined, escaped), CORS simple and
 * preflight requests, error pages inside the chain. */
#include <errno.h>
#include <string.h>

#include "webkit.h"

TestSuite(mw, .init = wk_init);

static char lines[8][1024];
static int nlines;

static void keep_line(void *arg, const char *line, size_t len)
{
    (void)arg;
    if (nlines < 8) {
        memcpy(lines[nlines], line, len < 1023 ? len : 1023);
        lines[nlines][len < 1023 ? len : 1023] = 0;
        nlines++;
    }
}

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_text(res, 200, "hello");
}

static int h_fail(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)res;
    (void)arg;
    return -EIO;
}

static int h_stream(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_prepare(res, -1);
    for (int i = 0; rc == 0 && i < 10; i++)
        rc = cio_web_write(res, "0123456789", 10);
    return rc;
}

/* Outside the error pages: sees the final status and may change the page. */
static int mw_mark(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    int rc = cio_web_next(req, res);
    if (rc == 0)
        (void)cio_web_set_header(res, "X-Final", cio_web_status_of(res) == 500 ? "500" : "other");
    return rc;
}

static int log_body(void *arg)
{
    (void)arg;
    nlines = 0;
    cio_web_app *app;
    static cio_web_access_log_opts common = {.format = CIO_WEB_LOG_COMMON, .write = keep_line};
    static cio_web_access_log_opts combined = {.format = CIO_WEB_LOG_COMBINED, .write = keep_line};
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_use(app, cio_web_access_log, &common), 0);
    WK_EQ(cio_web_use(app, cio_web_access_log, &combined), 0);
    WK_EQ(cio_web_use(app, mw_mark, NULL), 0);
    WK_EQ(cio_web_use(app, cio_web_error_pages, NULL), 0);
    WK_EQ(cio_web_get(app, "/", h_hello, NULL), 0);
    WK_EQ(cio_web_get(app, "/fail", h_fail, NULL), 0);
    WK_EQ(cio_web_get(app, "/stream", h_stream, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_web_test_response r;
    const char *const hdrs[] = {"Referer", "http://x/\"quoted\"", "User-Agent", "evil\xff agent", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/?a=1", hdrs, NULL, 0, &r), 0);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/fail", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 500);
    WK_STREQ(r.body.data, "500: Internal Server Error\n");
    WK_STREQ(cio_web_test_header(&r, "X-Final"), "500");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/stream", NULL, NULL, 0, &r), 0);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "HEAD", "/", NULL, NULL, 0, &r), 0);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

/* The part of a line after the time: "] ..." */
static const char *after_time(const char *line)
{
    const char *p = strstr(line, "] ");
    return p ? p + 2 : "";
}

Test(mw, access_log_lines_in_common_and_combined_format)
{
    cio_loop_opts o = {.log = tst_log_sink};
    tst_run_expect(log_body, NULL, &o, 0);
    wk_verdict();
    cr_assert_eq(nlines, 8);
    /* The inner (combined) logger writes first: it returns first. */
    cr_assert(!strncmp(lines[0], "127.0.0.1 - - [", 15), "%s", lines[0]);
    cr_assert_str_eq(after_time(lines[0]),
                     "\"GET /?a=1 HTTP/1.1\" 200 5 \"http://x/\\\"quoted\\\"\" \"evil\\xff agent\"");
    cr_assert_str_eq(after_time(lines[1]), "\"GET /?a=1 HTTP/1.1\" 200 5");
    cr_assert_str_eq(after_time(lines[3]), "\"GET /fail HTTP/1.1\" 500 27");
    cr_assert_str_eq(after_time(lines[5]), "\"GET /stream HTTP/1.1\" 200 100");
    cr_assert_str_eq(after_time(lines[7]), "\"HEAD / HTTP/1.1\" 200 0");
    /* The time: [dd/Mon/yyyy:hh:mm:ss +0000] */
    const char *tm = strchr(lines[1], '[');
    cr_assert(tm && strlen(tm) > 28 && tm[3] == '/' && tm[7] == '/' && tm[12] == ':' && !strncmp(tm + 21, " +0000]", 7),
              "%s", lines[1]);
    cr_assert(tst_log_contains("GET /fail: handler failed"), "the error is logged, not shown");
}

static int cors_body(void *arg)
{
    (void)arg;
    cio_web_app *app, *open_app;
    static const char *const origins[] = {"https://app.example", NULL};
    static cio_web_cors_opts strict = {
        .origins = origins,
        .allow_credentials = true,
        .allow_methods = "GET, PUT",
        .max_age = 600,
        .expose_headers = "X-Total",
    };
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_use(app, cio_web_cors, &strict), 0);
    WK_EQ(cio_web_get(app, "/", h_hello, NULL), 0);
    WK_EQ(cio_web_app_open(&open_app, NULL), 0);
    WK_EQ(cio_web_use(open_app, cio_web_cors, NULL), 0);
    WK_EQ(cio_web_get(open_app, "/", h_hello, NULL), 0);
    cio_web_test *t, *u;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    WK_EQ(cio_web_test_open(&u, open_app, NULL), 0);
    cio_web_test_response r;
    /* A simple request from the allowed origin. */
    const char *const good[] = {"Origin", "https://app.example", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/", good, NULL, 0, &r), 0);
    WK_STREQ(r.body.data, "hello");
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Allow-Credentials"), "true");
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Expose-Headers"), "X-Total");
    WK_STREQ(cio_web_test_header(&r, "Vary"), "Origin");
    cio_web_test_response_fini(&r);
    /* From another origin: served, without CORS headers. */
    const char *const bad[] = {"Origin", "https://evil.example", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/", bad, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_ISNULL(cio_web_test_header(&r, "Access-Control-Allow-Origin"));
    cio_web_test_response_fini(&r);
    /* A preflight: answered by the middleware. */
    const char *const pre[] = {"Origin",
                               "https://app.example",
                               "Access-Control-Request-Method",
                               "PUT",
                               "Access-Control-Request-Headers",
                               "content-type, x-token",
                               NULL};
    WK_EQ(cio_web_test_request(t, "OPTIONS", "/", pre, NULL, 0, &r), 0);
    WK_EQ(r.status, 204);
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Allow-Methods"), "GET, PUT");
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Allow-Headers"), "content-type, x-token");
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Max-Age"), "600");
    WK_EQ(r.body.len, 0);
    cio_web_test_response_fini(&r);
    /* Without an Origin: not a CORS request at all. */
    WK_EQ(cio_web_test_request(t, "GET", "/", NULL, NULL, 0, &r), 0);
    WK_ISNULL(cio_web_test_header(&r, "Access-Control-Allow-Origin"));
    cio_web_test_response_fini(&r);
    /* Any origin, no credentials: "*". */
    WK_EQ(cio_web_test_request(u, "GET", "/", bad, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Allow-Origin"), "*");
    WK_ISNULL(cio_web_test_header(&r, "Vary"));
    cio_web_test_response_fini(&r);
    const char *const pre2[] = {"Origin", "https://x.example", "Access-Control-Request-Method", "DELETE", NULL};
    WK_EQ(cio_web_test_request(u, "OPTIONS", "/", pre2, NULL, 0, &r), 0);
    WK_EQ(r.status, 204);
    WK_STREQ(cio_web_test_header(&r, "Access-Control-Allow-Methods"), "DELETE");
    WK_ISNULL(cio_web_test_header(&r, "Access-Control-Allow-Headers"));
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    WK_EQ(cio_web_test_close(u, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    cio_web_app_close(open_app);
    return 0;
}

Test(mw, cors_simple_and_preflight_requests)
{
    tst_run(cors_body, NULL);
    wk_verdict();
}
