/* hardening.c: what a review of the client found, each as the sequence that showed it: a connection handed to a
 * waiting request with bytes nobody asked for, the caller's cookies and proxy credentials following a redirect to
 * another origin, a producer sent twice on a 302, a waiter left behind while an idle connection could serve it,
 * a top-level cookie Domain, timeouts too large to add, and what release says of a connection it closed. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_hardening, .init = wk_init);

static int ok_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    while (ck_read_request(s, rs) == 0)
        if (ck_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") < 0)
            return 0;
    return 0;
}

struct job {
    cio_client_session *s;
    char url[96];
    char got[32];
    int rc;
};

static int get_job(void *arg)
{
    struct job *j = arg;
    cio_client_response *r;
    j->rc = cio_client_get(j->s, j->url, &r);
    if (j->rc < 0)
        return 0;
    cio_buf b = {0};
    j->rc = cio_client_response_read(r, &b);
    snprintf(j->got, sizeof j->got, "%s", b.data ? b.data : "");
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    return 0;
}

/* Each answer is "ok" with a forged second response glued on. */
static int glued_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    while (ck_read_request(s, rs) == 0)
        if (ck_write(s,
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL") <
            0)
            return 0;
    return 0;
}

/* With limit 1, B waits while A holds the one connection; A's release hands it to B. The bytes after A's body
   were never asked for: B must get its own answer on a fresh connection, never "EVIL". */
static int handover_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = glued_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.limit = 1}), 0);
    struct job j = {.s = s};
    ck_url(j.url, sizeof j.url, rs.port, "/");
    cio_client_response *held;
    WK_EQ(cio_client_get(s, j.url, &held), 0);
    cio_task *t;
    WK_EQ(cio_spawn(&t, get_job, &j, NULL), 0);
    WK_EQ(cio_yield(), 0); /* B is in line */
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(held, &b), 0);
    WK_STREQ(b.data, "ok");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(held), 0); /* closed, not handed over */
    WK_EQ(cio_join(t), 0);
    WK_EQ(j.rc, 0);
    WK_STREQ(j.got, "ok");
    WK_EQ(rs.requests, 2);
    WK_EQ(rs.conns, 2);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_hardening, a_connection_handed_to_a_waiter_is_checked_like_an_idle_one)
{
    tst_run(handover_body, NULL);
    wk_verdict();
}

static char location[128];

static int redirect_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    while (ck_read_request(s, rs) == 0) {
        char ans[256];
        snprintf(ans, sizeof ans, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n", location);
        if (ck_write(s, ans) < 0)
            return 0;
    }
    return 0;
}

/* A 302 to another origin: the caller's Authorization, Cookie and Proxy-Authorization stay behind (the last is
   for proxies only, and there is none); other fields go on. On the same origin the cookies go too. */
static int cross_origin_body(void *arg)
{
    (void)arg;
    struct ck_raw ra = {.fn = redirect_conn}, rb = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&ra), 0);
    WK_EQ(ck_raw_start(&rb), 0);
    snprintf(location, sizeof location, "http://localhost:%d/elsewhere", rb.port);
    const char *sh[] = {"Cookie", "session=secret", NULL};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.headers = sh}), 0);
    char url[64];
    ck_url(url, sizeof url, ra.port, "/");
    const char *h[] = {
        "Authorization", "Bearer tok", "Proxy-Authorization", "Basic cHJveHk6cHc=", "X-Api-Key", "k", NULL};
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.headers = h}, &r), 0);
    WK_EQ(cio_client_response_status(r), 200);
    (void)cio_client_response_release(r);
    WK_CHECK(strstr(ra.last, "Cookie: session=secret\r\n") != NULL, "%s", ra.last);
    WK_CHECK(strstr(ra.last, "Authorization: Bearer tok\r\n") != NULL, "%s", ra.last);
    WK_CHECK(!strstr(ra.last, "Proxy-Authorization"), "no proxy: %s", ra.last);
    WK_CHECK(!strstr(rb.last, "Cookie"), "%s", rb.last);
    WK_CHECK(!strstr(rb.last, "Authorization"), "%s", rb.last);
    WK_CHECK(strstr(rb.last, "X-Api-Key: k\r\n") != NULL, "%s", rb.last);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&ra);
    ck_raw_stop(&rb);
    return 0;
}

Test(client_hardening, the_callers_cookies_and_proxy_credentials_stay_behind_on_another_origin)
{
    tst_run(cross_origin_body, NULL);
    wk_verdict();
}

static int producer_calls;

static int hello_producer(cio_client_body_writer *w, void *arg)
{
    (void)arg;
    producer_calls++;
    return cio_client_body_write(w, "hello", 5);
}

static int once_302_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    while (ck_read_request(s, rs) == 0) {
        const char *a = rs->requests == 1 ? "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"
                                          : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if (ck_write(s, a) < 0)
            return 0;
    }
    return 0;
}

/* A PUT with a producer answered 302: the redirect is followed as a GET without a body, and the producer runs
   once. */
static int producer_302_body(void *arg)
{
    (void)arg;
    producer_calls = 0;
    struct ck_raw rs = {.fn = once_302_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "PUT", url, &(cio_client_request_opts){.producer = hello_producer}, &r), 0);
    WK_EQ(cio_client_response_status(r), 200);
    (void)cio_client_response_release(r);
    WK_EQ(producer_calls, 1);
    WK_CHECK(!strncmp(rs.last, "GET /next HTTP/1.1\r\n", 20), "%s", rs.last);
    WK_CHECK(!strstr(rs.last, "Transfer-Encoding"), "%s", rs.last);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_hardening, a_producer_is_not_sent_twice_on_a_302)
{
    tst_run(producer_302_body, NULL);
    wk_verdict();
}

/* limit 2, limit_per_host 1: B's waiter is first in line but its host is at its limit; C's waiter is behind it.
   A's connection, released, must make room for C instead of sitting idle while C times out. */
static int waiter_scan_body(void *arg)
{
    (void)arg;
    struct ck_raw ra = {.fn = ok_conn}, rb = {.fn = ok_conn}, rc = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&ra), 0);
    WK_EQ(ck_raw_start(&rb), 0);
    WK_EQ(ck_raw_start(&rc), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.limit = 2, .limit_per_host = 1}), 0);
    char ua[64], ub[64];
    ck_url(ua, sizeof ua, ra.port, "/");
    ck_url(ub, sizeof ub, rb.port, "/");
    cio_client_response *a, *b;
    WK_EQ(cio_client_get(s, ub, &b), 0);
    WK_EQ(cio_client_get(s, ua, &a), 0);
    struct job jb = {.s = s}, jc = {.s = s};
    ck_url(jb.url, sizeof jb.url, rb.port, "/");
    ck_url(jc.url, sizeof jc.url, rc.port, "/");
    cio_task *tb, *tc;
    WK_EQ(cio_spawn(&tb, get_job, &jb, NULL), 0);
    WK_EQ(cio_yield(), 0);
    WK_EQ(cio_spawn(&tc, get_job, &jc, NULL), 0);
    WK_EQ(cio_yield(), 0);
    cio_buf buf = {0};
    WK_EQ(cio_client_response_read(a, &buf), 0);
    cio_buf_free(&buf);
    WK_EQ(cio_client_response_release(a), 0); /* closed, its slot given to C */
    WK_EQ(cio_join(tc), 0);
    WK_EQ(jc.rc, 0);
    WK_STREQ(jc.got, "ok");
    WK_EQ(cio_client_response_read(b, &buf), 0);
    cio_buf_free(&buf);
    WK_EQ(cio_client_response_release(b), 1); /* handed to B's waiter */
    WK_EQ(cio_join(tb), 0);
    WK_EQ(jb.rc, 0);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&ra);
    ck_raw_stop(&rb);
    ck_raw_stop(&rc);
    return 0;
}

Test(client_hardening, a_waiter_behind_a_blocked_one_gets_the_slot_an_idle_connection_would_hold)
{
    tst_run_expect(waiter_scan_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* A top-level Domain is a public suffix: refused unless it is the host itself. */
static int suffix_body(void *arg)
{
    (void)arg;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.cookie_jar = true}), 0);
    WK_EQ(cio_client_cookie_set(s, "http://evil.com/", "sid=attacker; Domain=com; Path=/"),
          CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_set(s, "http://evil.com/", "sid=attacker; Domain=.com"), CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_set(s, "http://localhost/", "a=1; Domain=localhost"), 0); /* the host itself */
    WK_EQ(cio_client_cookie_set(s, "http://evilexample.com/", "y=1; Domain=example.com"), CIO_ECLIENT_COOKIE_REJECTED);
    WK_EQ(cio_client_cookie_count(s), 1);
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

/* Expect is the client's: a session default would promise a body the client never holds back. */
static int expect_default_body(void *arg)
{
    (void)arg;
    cio_client_session *s = NULL;
    const char *h[] = {"expect", "100-continue", NULL};
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.headers = h}), -EINVAL);
    WK_ISNULL(s);
    return 0;
}

Test(client_hardening, expect_is_refused_as_a_session_default)
{
    tst_run(expect_default_body, NULL);
    wk_verdict();
}

Test(client_hardening, a_top_level_cookie_domain_is_refused)
{
    tst_run(suffix_body, NULL);
    wk_verdict();
}

/* Timeouts near INT64_MAX are "as good as none", never an overflow (UBSan) or an expiry in the past. */
static int huge_body(void *arg)
{
    (void)arg;
    struct ck_raw ra = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&ra), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(
              &s, &(cio_client_session_opts){.timeout.total = INT64_MAX, .keepalive_timeout = INT64_MAX}),
          0);
    struct job j = {.s = s};
    ck_url(j.url, sizeof j.url, ra.port, "/");
    WK_EQ(get_job(&j), 0);
    WK_EQ(j.rc, 0);
    WK_STREQ(j.got, "ok");
    size_t idle = 0;
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(idle, 1);
    WK_EQ(cio_sleep(CIO_SEC(3600)), 0); /* on the mock clock: the expiry timer is not due, nor spinning */
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&ra);
    return 0;
}

Test(client_hardening, timeouts_near_int64_max_do_not_overflow)
{
    tst_run_expect(huge_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* A server that accepts and never says a word: an https request waits in its TLS handshake. */
static int mute_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)rs;
    (void)index;
    return ck_wait_close(s);
}

struct closer {
    cio_client_session *s;
};

static int close_later(void *arg)
{
    struct closer *c = arg;
    int rc = cio_sleep(CIO_MS(100));
    if (rc == 0)
        rc = cio_client_session_close(c->s);
    return rc;
}

/* Closing the session ends a request still in its TLS handshake at once (on the mock clock: 100 ms, not the
   30 s connect timeout), with CIO_ECLIENT_CLOSED. */
static int close_connecting_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = mute_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s,
                                 &(cio_client_session_opts){.tls_opts = &(cio_tls_opts){.insecure_skip_verify = true}}),
          0);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", rs.port);
    struct closer c = {s};
    cio_task *t;
    WK_EQ(cio_spawn(&t, close_later, &c, NULL), 0);
    int64_t t0 = cio_now();
    cio_client_response *r = NULL;
    WK_EQ(cio_client_get(s, url, &r), CIO_ECLIENT_CLOSED);
    WK_EQ(cio_now() - t0, CIO_MS(100));
    WK_ISNULL(r);
    WK_EQ(cio_join(t), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_hardening, closing_the_session_ends_a_request_still_connecting)
{
    tst_run_expect(close_connecting_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}
