/* raw.c: the client against a raw server scripted byte by byte, for what good servers never send: short bodies,
 * malformed status lines, 1xx before the answer, bodies until the close, decompression bombs, and kept connections
 * closed under the next request (retried for an idempotent one, never resent otherwise). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_raw, .init = wk_init);

/* Each connection answers every request it reads with `arg` (a response as bytes), then closes if asked. */
struct script {
    const char *answer;
    bool close_after;
};

static int answer_each(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    const struct script *sc = rs->arg;
    while (ck_read_request(s, rs) == 0) {
        if (ck_write(s, sc->answer) < 0 || sc->close_after)
            break;
    }
    return 0;
}

/* One GET against a server answering `answer`; the request's result, and the body read's in `*body_rc`. */
static int one_get(const char *answer, bool close_after, int *body_rc, cio_buf *body, cio_client_request_opts *o)
{
    struct script sc = {answer, close_after};
    struct ck_raw rs = {.fn = answer_each, .arg = &sc};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    cio_client_response *r = NULL;
    int rc = cio_client_request(s, "GET", ck_url(url, sizeof url, rs.port, "/"), o, &r);
    if (rc == 0) {
        cio_buf tmp = {0};
        *body_rc = cio_client_response_read(r, body ? body : &tmp);
        cio_buf_free(&tmp);
        WK_EQ(cio_client_response_release(r), 0); /* each of these ends its connection */
    }
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return rc;
}

struct framing_case {
    const char *name, *answer;
    int want_request, want_body;
    const char *want_text;
};

static const struct framing_case framings[] = {
    {"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, CIO_EHTTP_BODY_TRUNCATED, NULL},
    {"chunked cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n", 0, CIO_EHTTP_BODY_TRUNCATED,
     NULL},
    {"until close", "HTTP/1.0 200 OK\r\n\r\nall of it until the close", 0, 0, "all of it until the close"},
    {"close after length", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbody", 0, 0, "body"},
    {"bad status", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", CIO_EHTTP_BAD_STATUS, 0, NULL},
    {"bad version", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", CIO_EHTTP_VERSION, 0, NULL},
    {"not http", "SSH-2.0-OpenSSH_9.2\r\n", CIO_EHTTP_BAD_VERSION, 0, NULL},
    {"bad header", "HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n", CIO_EHTTP_SPACE_BEFORE_COLON, 0,
     NULL},
    {"cut head", "HTTP/1.1 200 OK\r\nContent-Len", CIO_EHTTP_HEAD_TRUNCATED, 0, NULL},
    {"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     CIO_EHTTP_CONTENT_LENGTH_CONFLICT, 0, NULL},
    {"nothing", "", CIO_ECLIENT_DISCONNECTED, 0, NULL},
    {"unsolicited 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
     CIO_ECLIENT_UNSOLICITED_101, 0, NULL},
    {"1xx first",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfinal",
     0, 0, "final"},
    {"1xx then close", "HTTP/1.1 100 Continue\r\n\r\n", CIO_ECLIENT_DISCONNECTED, 0, NULL},
    {"unknown coding", "HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\nContent-Length: 1\r\n\r\nx",
     CIO_EHTTP_CODING_UNSUPPORTED, 0, NULL},
    {"corrupt gzip",
     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\nContent-Length: 6\r\n\r\nnotgz!", 0,
     CIO_EHTTP_CODING_CORRUPT, NULL},
};

static int framing_body(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof framings / sizeof *framings; i++) {
        const struct framing_case *c = &framings[i];
        int body_rc = 0;
        cio_buf body = {0};
        int rc = one_get(c->answer, true, &body_rc, &body, NULL);
        if (rc != c->want_request)
            wk_fail(__LINE__, c->name, "request: %s, want %s", cio_err_name(rc), cio_err_name(c->want_request));
        if (rc == 0 && body_rc != c->want_body)
            wk_fail(__LINE__, c->name, "body: %s, want %s", cio_err_name(body_rc), cio_err_name(c->want_body));
        if (c->want_text && !wk_streq(body.data, c->want_text))
            wk_fail(__LINE__, c->name, "body \"%s\"", wk_s(body.data));
        cio_buf_free(&body);
    }
    return 0;
}

Test(client_raw, what_good_servers_never_send_fails_with_its_own_error)
{
    tst_run(framing_body, NULL);
    wk_verdict();
}

/* A decompression bomb: 64 MiB of zeros in a few dozen KiB of gzip, against a 1 MiB limit. */
static int bomb_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    if (ck_read_request(s, rs) < 0)
        return 0;
    if (ck_write(s, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n") < 0)
        return 0;
    cio_http_body_out w;
    static char zeros[65536];
    if (cio_http_body_out_init(&w, s, CIO_HTTP_BODY_CHUNKED, 0) < 0 ||
        cio_http_body_out_set_coding(&w, CIO_HTTP_CODING_GZIP, 9) < 0)
        return 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < 1024; i++)
        rc = cio_http_body_out_write(&w, zeros, sizeof zeros);
    if (rc == 0)
        (void)cio_http_body_out_end(&w, NULL);
    cio_http_body_out_fini(&w);
    return 0;
}

static int bomb_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = bomb_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.max_size = 1 << 20}), 0);
    char url[64];
    cio_client_response *r;
    WK_EQ(cio_client_get(s, ck_url(url, sizeof url, rs.port, "/"), &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), CIO_EHTTP_BODY_LIMIT);
    WK_ISNULL(b.data);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_raw, a_decompression_bomb_stops_at_the_body_limit)
{
    tst_run(bomb_body, NULL);
    wk_verdict();
}

/*
 * A kept connection the server closes under the next request: it answers the first request on its first
 * connection, reads the second and closes without a word (so the request surely reached it); every later
 * connection answers normally.
 */
static int stale_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (int served = 0; ck_read_request(s, rs) == 0; served++) {
        if (index == 0 && served == 1)
            return 0;
        if (ck_write(s, ok) < 0)
            return 0;
    }
    return 0;
}

struct stale_case {
    const char *method;
    bool idempotent;
    int want;
    int want_conns, want_requests;
};

static int stale_run(void *arg)
{
    const struct stale_case *c = arg;
    struct ck_raw rs = {.fn = stale_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *r;
    WK_EQ(cio_client_get(s, url, &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    int rc = cio_client_request(s, c->method, url, &(cio_client_request_opts){.idempotent = c->idempotent}, &r);
    WK_EQ(rc, c->want);
    if (rc == 0) {
        WK_EQ(cio_client_response_read(r, &b), 0);
        WK_STREQ(b.data, "ok");
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    WK_EQ(rs.conns, c->want_conns);
    WK_EQ(rs.requests, c->want_requests);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_raw, a_get_on_a_connection_closed_under_it_is_retried_once_on_a_fresh_one)
{
    struct stale_case c = {"GET", false, 0, 2, 3};
    tst_run(stale_run, &c);
    wk_verdict();
}

Test(client_raw, a_post_that_reached_the_server_is_not_resent)
{
    struct stale_case c = {"POST", false, CIO_ECLIENT_DISCONNECTED, 1, 2};
    tst_run(stale_run, &c);
    wk_verdict();
}

Test(client_raw, a_post_marked_idempotent_is_retried)
{
    struct stale_case c = {"POST", true, 0, 2, 3};
    tst_run(stale_run, &c);
    wk_verdict();
}

/* A server that closes each connection after its answer without saying so: the pooled connection is found closed
   before reuse (or fails under the request and is retried); either way the GET succeeds on a new one. */
static int silent_close_body(void *arg)
{
    (void)arg;
    struct script sc = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true};
    struct ck_raw rs = {.fn = answer_each, .arg = &sc};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    for (int i = 0; i < 3; i++) {
        cio_client_response *r;
        WK_EQ(cio_client_get(s, url, &r), 0);
        cio_buf b = {0};
        WK_EQ(cio_client_response_read(r, &b), 0);
        WK_STREQ(b.data, "ok");
        cio_buf_free(&b);
        (void)cio_client_response_release(r);
        /* Let the server's close arrive before the next request, so the liveness check is what finds it. */
        for (int k = 0; k < 3; k++)
            WK_EQ(cio_sleep(1), 0);
    }
    WK_EQ(rs.conns, 3);
    WK_EQ(rs.requests, 3);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_raw, a_pooled_connection_the_server_closed_is_not_reused)
{
    tst_run(silent_close_body, NULL);
    wk_verdict();
}

/* Bytes after a response that nobody asked for: the connection is not given to the next request. */
static int unsolicited_body(void *arg)
{
    (void)arg;
    struct script sc = {
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", false};
    struct ck_raw rs = {.fn = answer_each, .arg = &sc};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    for (int i = 0; i < 2; i++) {
        cio_client_response *r;
        WK_EQ(cio_client_get(s, url, &r), 0);
        cio_buf b = {0};
        WK_EQ(cio_client_response_read(r, &b), 0);
        WK_STREQ(b.data, "ok");
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    WK_EQ(rs.conns, 2);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_raw, a_connection_with_unasked_bytes_is_not_reused)
{
    tst_run(unsolicited_body, NULL);
    wk_verdict();
}
