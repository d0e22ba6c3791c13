/* compression.c: responses compressed when the client accepts it and it is worth it, read by curl --compressed
 * (gzip, deflate, br, zstd), buffered and streamed; left alone when small, already compressed, or not asked for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webkit.h"

TestSuite(compression, .init = wk_init);

static char text[20000];

static int h_text(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    const char *type = arg;
    size_t n = strstr(type, "small") ? 100 : sizeof text;
    return cio_web_respond(res, 200, strchr(type, '|') + 1, text, n);
}

static int h_stream(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_set_header(res, "Content-Type", "application/json");
    if (rc == 0)
        rc = cio_web_prepare(res, (int64_t)sizeof text); /* a length given, dropped for the coding */
    for (size_t off = 0; rc == 0 && off < sizeof text; off += 1000)
        rc = cio_web_write(res, text + off, 1000);
    return rc;
}

/* curl --compressed -i: the head as sent, then the body as curl decoded it. */
static int curl(const char *url, const char *accept, cio_buf *out)
{
    char header[128];
    snprintf(header, sizeof header, "Accept-Encoding: %s", accept);
    char *argv[] = {"curl", "--silent", "--show-error", "--max-time", "60", "--compressed",
                    "-i",   "-H",       header,         (char *)url,  NULL};
    if (!*accept)
        argv[7] = "-H", argv[8] = "Accept-Encoding:"; /* none sent */
    return wk_run(argv, NULL, 0, out);
}

struct want {
    const char *path, *accept;
    const char *encoding; /* NULL: none */
    bool vary;
    size_t body;
};

static const struct want wants[] = {
    {"/text", "gzip", "gzip", true, sizeof text},
    {"/text", "deflate", "deflate", true, sizeof text},
    {"/text", "br", "br", true, sizeof text},
    {"/text", "zstd", "zstd", true, sizeof text},
    {"/text", "gzip, deflate, br, zstd", "br", true, sizeof text},
    {"/text", "gzip;q=0.5, zstd", "zstd", true, sizeof text},
    {"/text", "", NULL, true, sizeof text},
    {"/text", "identity", NULL, true, sizeof text},
    {"/small", "gzip", NULL, true, 100},
    {"/png", "gzip", NULL, false, sizeof text},
    {"/stream", "gzip", "gzip", true, sizeof text},
    {"/stream", "br", "br", true, sizeof text},
};

static int body(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "{\"key\": \"value\", \"n\": 12345}\n"[i % 30];
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_use(app, cio_web_compression, NULL), 0);
    WK_EQ(cio_web_get(app, "/text", h_text, "big|text/plain; charset=utf-8"), 0);
    WK_EQ(cio_web_get(app, "/small", h_text, "small|text/html"), 0);
    WK_EQ(cio_web_get(app, "/png", h_text, "big|image/png"), 0);
    WK_EQ(cio_web_get(app, "/stream", h_stream, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    for (size_t i = 0; i < sizeof wants / sizeof *wants; i++) {
        const struct want *w = &wants[i];
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", cio_web_test_port(t), w->path);
        cio_buf out = {0};
        WK_CHECK(curl(url, w->accept, &out) == 0, "%s %s", w->path, w->accept);
        const char *end = out.data ? strstr(out.data, "\r\n\r\n") : NULL;
        char head[2048] = "";
        if (end)
            snprintf(head, sizeof head, "%.*s", (int)(end - out.data), out.data);
        char ce[64];
        snprintf(ce, sizeof ce, "\r\nContent-Encoding: %s", w->encoding ? w->encoding : "");
        WK_CHECK(w->encoding ? strstr(head, ce) != NULL : strstr(head, "Content-Encoding") == NULL, "%s [%s]: %s",
                 w->path, w->accept, head);
        WK_CHECK(!!strstr(head, "\r\nVary: Accept-Encoding") == w->vary, "%s [%s]: %s", w->path, w->accept, head);
        size_t got = end ? out.len - (size_t)(end + 4 - out.data) : 0;
        WK_CHECK(end && got == w->body && !memcmp(end + 4, text, w->body), "%s [%s]: %zu bytes", w->path, w->accept,
                 got);
        cio_buf_free(&out);
    }
    /* HEAD: the compressed length, no body. */
    const char *const gz[] = {"Accept-Encoding", "gzip", NULL};
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "HEAD", "/text", gz, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Encoding"), "gzip");
    const char *cl = cio_web_test_header(&r, "Content-Length");
    WK_CHECK(cl && atoi(cl) > 0 && atoi(cl) < (int)sizeof text / 4, "%s", wk_s(cl));
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(compression, as_curl_sees_it)
{
    tst_run(body, NULL);
    wk_verdict();
}

static int h_late(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    WK_EQ(cio_web_compress(res, 10), -EINVAL);
    WK_EQ(cio_web_compress(NULL, 0), -EINVAL);
    int rc = cio_web_prepare(res, 0);
    WK_EQ(cio_web_compress(res, 0), CIO_EWEB_STARTED);
    return rc;
}

static int errors_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/", h_late, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(compression, bad_levels_and_late_calls_are_refused)
{
    tst_run(errors_body, NULL);
    wk_verdict();
}
