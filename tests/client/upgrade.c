/* upgrade.c: the 101 hand-over (what the WebSocket client stands on): a request that asks to upgrade takes a 101 as
 * its response and cio_client_response_detach hands the connection's stream over, with the bytes of the new
 * protocol that came behind the head still in it; without asking, a 101 stays an error; and the bad calls. */
#include <errno.h>
#include <string.h>

#include "clientkit.h"
#include "tlskit.h"

TestSuite(client_upgrade, .init = wk_init);

/* ---- against cio's own server: an upper-casing echo after the 101 */

static int h_shout(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    if (!cio_http_upgrade(cio_web_head(req)))
        return cio_web_text(res, 200, "plain");
    int rc = cio_web_status(res, 101, NULL);
    if (rc == 0)
        rc = cio_web_set_header(res, "Upgrade", "shout");
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

/* Read from `s` until `want` bytes came (or the end): what came, NUL-terminated in `out`. */
static size_t read_n(cio_stream *s, char *out, size_t want)
{
    size_t got = 0;
    ssize_t n;
    while (got < want && (n = cio_stream_read(s, out + got, want - got)) > 0)
        got += (size_t)n;
    out[got] = 0;
    return got;
}

static int web_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/up", h_shout, NULL), 0);
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    char url[64];
    ck_url(url, sizeof url, cio_web_server_port(srv), "/up");
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);

    /* The flag, with the caller's Upgrade and Connection headers. */
    const char *hdrs[] = {"Upgrade", "shout", "Connection", "Upgrade", NULL};
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.headers = hdrs, .upgrade = true}, &r), 0);
    WK_EQ(cio_client_response_status(r), 101);
    WK_STREQ(cio_client_response_header(r, "Upgrade"), "shout");
    WK_CHECK(cio_client_response_done(r), "a 101 has no body");
    WK_EQ(cio_client_session_connections(s, NULL), 1);
    cio_stream *st;
    WK_EQ(cio_client_response_detach(r, &st), 0);
    WK_CHECK(st != NULL, "no stream");
    /* The session no longer counts it; the response keeps its head. */
    WK_EQ(cio_client_session_connections(s, NULL), 0);
    cio_stream *again = (cio_stream *)&again;
    WK_EQ(cio_client_response_detach(r, &again), -EALREADY);
    WK_ISNULL(again);
    WK_STREQ(cio_client_response_header(r, "Upgrade"), "shout");
    WK_EQ(cio_client_response_release(r), 0); /* leaves the stream alone */
    WK_EQ(cio_client_session_close(s), 0);    /* so does the session's close */
    WK_EQ(cio_stream_write(st, "hello world", 11), 0);
    char out[64];
    WK_EQ(read_n(st, out, 11), 11);
    WK_STREQ(out, "HELLO WORLD");
    WK_EQ(cio_stream_write_eof(st), 0);
    WK_EQ(cio_stream_read(st, out, sizeof out), 0);
    cio_stream_close(st);

    /* Headers alone ask too (no flag); a server that declines answers as usual and the connection is pooled. */
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.headers = hdrs}, &r), 0);
    WK_EQ(cio_client_response_status(r), 101);
    WK_EQ(cio_client_response_detach(r, &st), 0);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_stream_write(st, "abc", 3), 0);
    WK_EQ(read_n(st, out, 3), 3);
    WK_STREQ(out, "ABC");
    cio_stream_close(st);
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.upgrade = true}, &r), 0);
    WK_EQ(cio_client_response_status(r), 200); /* no Upgrade header: the handler declined */
    WK_EQ(cio_client_response_detach(r, &st), CIO_ECLIENT_NOT_UPGRADED);
    WK_ISNULL(st);
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, "plain");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);

    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(client_upgrade, a_101_to_an_upgrade_request_hands_the_stream_over)
{
    tst_run(web_body, NULL);
    wk_verdict();
}

/* ---- over TLS (what wss:// needs): the stream handed over is the TLS one */

static int tls_body(void *arg)
{
    (void)arg;
    char tdir[256], cert[512], key[512], ca[512];
    WK_EQ(tlskit_make(tdir, sizeof tdir), 0);
    cio_tls_ctx *sctx;
    WK_EQ(cio_tls_ctx_new(&sctx, CIO_TLS_SERVER,
                          &(cio_tls_opts){.cert_file = tlskit_path(tdir, "server.pem", cert, sizeof cert),
                                          .key_file = tlskit_path(tdir, "server.key", key, sizeof key)}),
          0);
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/up", h_shout, NULL), 0);
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = sctx}), 0);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/up", cio_web_server_port(srv));
    cio_tls_opts co = {.ca_file = tlskit_path(tdir, "ca.pem", ca, sizeof ca)};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.tls_opts = &co}), 0);
    const char *hdrs[] = {"Upgrade", "shout", "Connection", "Upgrade", NULL};
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.headers = hdrs}, &r), 0);
    WK_EQ(cio_client_response_status(r), 101);
    cio_stream *st;
    WK_EQ(cio_client_response_detach(r, &st), 0);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_close(s), 0);
    WK_CHECK(cio_stream_is_tls(st), "not the TLS stream");
    WK_EQ(cio_stream_write(st, "secret", 6), 0);
    char out[16];
    WK_EQ(read_n(st, out, 6), 6);
    WK_STREQ(out, "SECRET");
    cio_stream_close(st);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    cio_tls_ctx_free(sctx);
    tlskit_remove(tdir);
    return 0;
}

Test(client_upgrade, over_tls_the_tls_stream_is_handed_over)
{
    tst_run(tls_body, NULL);
    wk_verdict();
}

/* ---- a raw server: the 101 and the new protocol's first bytes in one write */

static int raw_101(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    if (ck_read_request(s, rs) < 0)
        return 0;
    if (ck_write(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-proto\r\nConnection: upgrade\r\n\r\n"
                    "FIRST BYTES|") < 0)
        return 0;
    char buf[64];
    ssize_t n;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
        if (cio_stream_write(s, buf, (size_t)n) < 0)
            break;
    return 0;
}

static int raw_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = raw_101};
    WK_EQ(ck_raw_start(&rs), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    const char *hdrs[] = {"Upgrade", "x-proto", "Connection", "upgrade", NULL};
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.headers = hdrs}, &r), 0);
    WK_EQ(cio_client_response_status(r), 101);
    cio_stream *st;
    WK_EQ(cio_client_response_detach(r, &st), 0);
    WK_EQ(cio_stream_read_timeout(st), 0); /* the client's sock_read is not left on it */
    WK_EQ(cio_client_response_release(r), 0);
    char out[64];
    WK_EQ(read_n(st, out, 12), 12); /* what came with the head, first */
    WK_STREQ(out, "FIRST BYTES|");
    WK_EQ(cio_stream_write(st, "echo", 4), 0);
    WK_EQ(read_n(st, out, 4), 4);
    WK_STREQ(out, "echo");
    cio_stream_close(st);

    /* Not asking, the same answer is the error it always was; the connection is closed. */
    WK_EQ(cio_client_get(s, url, &r), CIO_ECLIENT_UNSOLICITED_101);
    WK_ISNULL(r);
    WK_EQ(cio_client_session_connections(s, NULL), 0);

    /* A 101 not detached is closed at release. */
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.upgrade = true}, &r), 0);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_connections(s, NULL), 0);

    /* A session closed under a 101 not yet detached: its shutdown ended the connection. */
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.upgrade = true}, &r), 0);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_client_response_detach(r, &st), CIO_ECLIENT_CLOSED);
    WK_ISNULL(st);
    WK_EQ(cio_client_response_release(r), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_upgrade, the_bytes_behind_the_101_stay_in_the_stream)
{
    tst_run(raw_body, NULL);
    wk_verdict();
}

static int bad_body(void *arg)
{
    (void)arg;
    cio_stream *st = (cio_stream *)&st;
    WK_EQ(cio_client_response_detach(NULL, &st), -EINVAL);
    WK_ISNULL(st);
    struct ck_raw rs = {.fn = raw_101};
    WK_EQ(ck_raw_start(&rs), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.upgrade = true}, &r), 0);
    WK_EQ(cio_client_response_detach(r, NULL), -EINVAL);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_upgrade, bad_calls_say_so)
{
    tst_run(bad_body, NULL);
    wk_verdict();
}
