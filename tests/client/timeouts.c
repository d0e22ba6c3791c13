/* timeouts.c: each of the client's timeouts on its own, against stalled peers that never answer, on the mock clock
 * (so a minute passes in no time and in the same order every run): its own code, cio_is_timeout, nothing leaked
 * into the next request; and the caller's own scopes. */
#include <errno.h>
#include <string.h>

#include "clientkit.h"
#include "netkit.h"

#include <unistd.h>

TestSuite(client_timeouts, .init = wk_init);

/* Per connection: read a request, then by `mode`: 0 never answer; 1 send a head and half the body, then stall;
   2 answer at once. The connection after a stalled one (index > 0) always answers (mode 2). */
static int stall_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    int mode = index > 0 ? 2 : *(int *)rs->arg;
    while (ck_read_request(s, rs) == 0) {
        if (mode == 0)
            return ck_wait_close(s);
        if (mode == 1) {
            (void)ck_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf.");
            return ck_wait_close(s);
        }
        if (ck_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") < 0)
            return 0;
    }
    return 0;
}

struct tcase {
    int mode;               /* the first connection's behaviour */
    cio_client_timeouts t;  /* the session's */
    int want_request;       /* cio_client_request's result */
    int want_body;          /* the body read's, when the request succeeded */
    int64_t caller_timeout; /* a timeout scope of the caller's around it all, or 0 */
};

static int tcase_body(void *arg)
{
    struct tcase *c = arg;
    struct ck_raw rs = {.fn = stall_conn, .arg = &c->mode};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.timeout = c->t}), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    int64_t start = cio_now();
    cio_scope sc;
    if (c->caller_timeout)
        WK_EQ(cio_timeout_begin(&sc, c->caller_timeout), 0);
    cio_client_response *r = NULL;
    int rc = cio_client_get(s, url, &r);
    int body_rc = 0;
    if (rc == 0) {
        cio_buf b = {0};
        body_rc = cio_client_response_read(r, &b);
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 0);
    }
    if (c->caller_timeout)
        WK_EQ(cio_scope_end(&sc), -ETIMEDOUT);
    WK_CHECK(rc == c->want_request, "request: %s, want %s", cio_err_name(rc), cio_err_name(c->want_request));
    WK_CHECK(body_rc == c->want_body, "body: %s, want %s", cio_err_name(body_rc), cio_err_name(c->want_body));
    int err = rc ? rc : body_rc;
    WK_CHECK(cio_is_timeout(err), "%s", cio_err_name(err));
    WK_CHECK(cio_now() - start < CIO_SEC(120), "the mock clock went %lld s",
             (long long)((cio_now() - start) / 1000000000));
    /* The next request on the same session has all its time: the timeout did not leak into it. */
    WK_EQ(cio_client_get(s, url, &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, "ok");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

static void run_case(struct tcase c)
{
    tst_run_expect(tcase_body, &c, CK_OPTS_MOCK, 0);
    wk_verdict();
}

Test(client_timeouts, sock_read_bounds_the_wait_for_the_head)
{
    run_case((struct tcase){.mode = 0, .t = {.sock_read = CIO_SEC(2)}, .want_request = CIO_ECLIENT_READ_TIMEOUT});
}

Test(client_timeouts, sock_read_is_on_by_default)
{
    run_case((struct tcase){.mode = 0, .want_request = CIO_ECLIENT_READ_TIMEOUT});
}

Test(client_timeouts, sock_read_bounds_every_wait_for_the_body)
{
    run_case((struct tcase){.mode = 1, .t = {.sock_read = CIO_SEC(2)}, .want_body = CIO_ECLIENT_READ_TIMEOUT});
}

Test(client_timeouts, total_bounds_the_request)
{
    run_case((struct tcase){
        .mode = 0, .t = {.total = CIO_SEC(3), .sock_read = CIO_INFINITE}, .want_request = CIO_ECLIENT_TIMEOUT});
}

Test(client_timeouts, total_bounds_the_body_too)
{
    run_case((struct tcase){
        .mode = 1, .t = {.total = CIO_SEC(3), .sock_read = CIO_INFINITE}, .want_body = CIO_ECLIENT_TIMEOUT});
}

Test(client_timeouts, the_callers_own_scope_gives_its_own_code)
{
    run_case((struct tcase){.mode = 0,
                            .t = {.total = CIO_INFINITE, .sock_read = CIO_INFINITE},
                            .want_request = -ETIMEDOUT,
                            .caller_timeout = CIO_SEC(4)});
}

/* The connect timeouts, against a listener that never completes a handshake (its SYNs are dropped). */
struct ccase {
    cio_client_timeouts t;
    int want;
};

static int connect_body(void *arg)
{
    struct ccase *c = arg;
    cio_addr a;
    cio_stream *filler;
    int lfd = nk_full_listener("127.0.0.1", 0, &a, &filler);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.timeout = c->t}), 0);
    char url[64];
    cio_client_response *r = NULL;
    int rc = cio_client_get(s, ck_url(url, sizeof url, cio_addr_port(&a), "/"), &r);
    WK_CHECK(rc == c->want, "%s, want %s", cio_err_name(rc), cio_err_name(c->want));
    WK_CHECK(r == NULL);
    WK_EQ(cio_client_session_connections(s, NULL), 0);
    WK_EQ(cio_client_session_close(s), 0);
    cio_stream_close(filler);
    close(lfd);
    return 0;
}

Test(client_timeouts, connect_bounds_getting_a_connection)
{
    struct ccase c = {{.connect = CIO_SEC(5)}, CIO_ECLIENT_CONNECT_TIMEOUT};
    tst_run_expect(connect_body, &c, CK_OPTS_MOCK, 0);
    wk_verdict();
}

Test(client_timeouts, sock_connect_bounds_one_attempt)
{
    struct ccase c = {{.sock_connect = CIO_SEC(2)}, CIO_ECLIENT_SOCK_CONNECT_TIMEOUT};
    tst_run_expect(connect_body, &c, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* The connect timeout covers the wait for a pool slot: with the only slot held, the next request times out. */
static int pool_wait_body(void *arg)
{
    (void)arg;
    int mode = 2;
    struct ck_raw rs = {.fn = stall_conn, .arg = &mode};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.limit = 1, .timeout.connect = CIO_SEC(3)}), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *held, *r = NULL;
    WK_EQ(cio_client_get(s, url, &held), 0);
    WK_EQ(cio_client_get(s, url, &r), CIO_ECLIENT_CONNECT_TIMEOUT);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(held, &b), 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(held), 1);
    /* The slot is free again: no trace of the wait that gave up. */
    WK_EQ(cio_client_get(s, url, &r), 0);
    WK_EQ(cio_client_response_read(r, &b), 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(rs.conns, 1);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_timeouts, connect_covers_the_wait_for_a_pool_slot)
{
    tst_run_expect(pool_wait_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}
