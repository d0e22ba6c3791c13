/* pool.c: the session's pool: limits in all and per host, FIFO hand-over to waiting requests, idle expiry,
 * eviction of another host's idle connection under the total limit, many concurrent fetches, and a session closed
 * under waiting and reading requests. */
#include <errno.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_pool, .init = wk_init);

/* Every connection answers each request with "ok" (mode 2 of timeouts.c), or stalls after the head (arg 1). */
static int ok_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    int stall = rs->arg ? *(int *)rs->arg : 0;
    while (ck_read_request(s, rs) == 0) {
        if (stall) {
            (void)ck_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf.");
            return ck_wait_close(s);
        }
        if (ck_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") < 0)
            return 0;
    }
    return 0;
}

static int fetch_ok(cio_client_session *s, const char *url)
{
    cio_client_response *r;
    int rc = cio_client_get(s, url, &r);
    if (rc < 0)
        return rc;
    cio_buf b = {0};
    rc = cio_client_response_read(r, &b);
    if (rc == 0 && !wk_streq(b.data, "ok"))
        rc = -EPROTO;
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    return rc;
}

/* ---- FIFO: with one slot held, waiters get it in the order they came. */

struct waiter_job {
    cio_client_session *s;
    const char *url;
    int id;
    int *order, *n;
};

static int waiter_task(void *arg)
{
    struct waiter_job *j = arg;
    cio_client_response *r;
    int rc = cio_client_get(j->s, j->url, &r);
    if (rc < 0)
        return rc;
    j->order[(*j->n)++] = j->id;
    cio_buf b = {0};
    rc = cio_client_response_read(r, &b);
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    return rc;
}

static int fifo_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.limit = 1}), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *held;
    WK_EQ(cio_client_get(s, url, &held), 0);
    int order[4], n = 0;
    struct waiter_job jobs[4];
    cio_task *tasks[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct waiter_job){s, url, i, order, &n};
        WK_EQ(cio_spawn(&tasks[i], waiter_task, &jobs[i], NULL), 0);
        WK_EQ(cio_yield(), 0); /* each in line before the next */
    }
    WK_EQ(n, 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(held, &b), 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(held), 1);
    for (int i = 0; i < 4; i++)
        WK_EQ(cio_join(tasks[i]), 0);
    WK_EQ(n, 4);
    for (int i = 0; i < 4; i++)
        WK_EQ(order[i], i);
    WK_EQ(rs.conns, 1);
    WK_EQ(rs.requests, 5);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_pool, requests_waiting_for_a_slot_get_it_in_fifo_order)
{
    tst_run(fifo_body, NULL);
    wk_verdict();
}

/* ---- 100 concurrent fetches over one session, gather (the seed's hello world), under a limit of 10. */

struct fetch_job {
    cio_client_session *s;
    const char *url;
};

static int fetch_task(void *arg)
{
    struct fetch_job *j = arg;
    return fetch_ok(j->s, j->url);
}

static int gather_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.limit = 10}), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    struct fetch_job job = {s, url};
    cio_task *tasks[100];
    int status[100];
    for (int i = 0; i < 100; i++)
        WK_EQ(cio_spawn(&tasks[i], fetch_task, &job, NULL), 0);
    WK_EQ(cio_gather(tasks, 100, status, CIO_GATHER_ALL), 0);
    for (int i = 0; i < 100; i++)
        WK_EQ(status[i], 0);
    WK_CHECK(rs.conns <= 10, "%d connections for a limit of 10", rs.conns);
    WK_EQ(rs.requests, 100);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), (size_t)rs.conns);
    WK_EQ(idle, (size_t)rs.conns);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_pool, a_hundred_concurrent_fetches_share_the_limited_pool)
{
    tst_run(gather_body, NULL);
    wk_verdict();
}

/* ---- Per host: two names for the same server (resolve overrides) are two keys. */

static int per_host_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    char ra[64], rb[64], ua[64], ub[64];
    snprintf(ra, sizeof ra, "a.test:%d:127.0.0.1", rs.port);
    snprintf(rb, sizeof rb, "B.TEST:%d:127.0.0.1", rs.port);
    snprintf(ua, sizeof ua, "http://a.test:%d/", rs.port);
    snprintf(ub, sizeof ub, "http://b.test:%d/", rs.port);
    const char *const resolve[] = {ra, rb, NULL};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.resolve = resolve, .limit_per_host = 1}), 0);
    cio_client_response *a, *b;
    WK_EQ(cio_client_get(s, ua, &a), 0);
    WK_EQ(cio_client_get(s, ub, &b), 0); /* another key: not held up by a's slot */
    WK_CHECK(strstr(rs.last, "Host: b.test:"), "%s", rs.last);
    WK_EQ(cio_client_session_connections(s, NULL), 2);
    cio_buf buf = {0};
    WK_EQ(cio_client_response_read(a, &buf), 0);
    cio_buf_free(&buf);
    WK_EQ(cio_client_response_read(b, &buf), 0);
    cio_buf_free(&buf);
    WK_EQ(cio_client_response_release(a), 1);
    WK_EQ(cio_client_response_release(b), 1);
    WK_EQ(cio_client_session_close(s), 0);
    /* Under a total limit of 1, a request to b closes a's idle connection instead of waiting for it forever. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.resolve = resolve, .limit = 1}), 0);
    WK_EQ(fetch_ok(s, ua), 0);
    WK_EQ(fetch_ok(s, ub), 0);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(idle, 1);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(rs.conns, 4);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_pool, hosts_are_keys_of_their_own_and_the_total_limit_evicts_idle_ones)
{
    tst_run(per_host_body, NULL);
    wk_verdict();
}

/* ---- Idle connections expire (mock clock). */

static int expiry_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = ok_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.keepalive_timeout = CIO_SEC(10)}), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    WK_EQ(fetch_ok(s, url), 0);
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(cio_sleep(CIO_SEC(5)), 0);
    WK_EQ(fetch_ok(s, url), 0); /* still alive: reused, and its idle time starts again */
    WK_EQ(rs.conns, 1);
    WK_EQ(cio_sleep(CIO_SEC(9)), 0);
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(cio_sleep(CIO_SEC(2)), 0);
    WK_EQ(cio_client_session_connections(s, &idle), 0);
    WK_EQ(idle, 0);
    WK_EQ(fetch_ok(s, url), 0);
    WK_EQ(rs.conns, 2);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_pool, idle_connections_close_after_the_keepalive_timeout)
{
    tst_run_expect(expiry_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* ---- Closing the session under a waiting request and a reading one. */

struct read_job {
    cio_client_response *r;
};

static int reader_task(void *arg)
{
    struct read_job *j = arg;
    cio_buf b = {0};
    int rc = cio_client_response_read(j->r, &b);
    cio_buf_free(&b);
    return rc;
}

static int close_under_body(void *arg)
{
    (void)arg;
    int stall = 1;
    struct ck_raw rs = {.fn = ok_conn, .arg = &stall};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.limit = 1}), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *r;
    WK_EQ(cio_client_get(s, url, &r), 0);
    struct read_job rj = {r};
    int order[1], n = 0;
    struct waiter_job wj = {s, url, 0, order, &n};
    cio_task *reader, *waiter;
    WK_EQ(cio_spawn(&reader, reader_task, &rj, NULL), 0);
    WK_EQ(cio_spawn(&waiter, waiter_task, &wj, NULL), 0);
    for (int i = 0; i < 3; i++)
        WK_EQ(cio_yield(), 0); /* the reader waits for body bytes, the waiter for the slot */
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_join(reader), CIO_ECLIENT_CLOSED);
    WK_EQ(cio_join(waiter), CIO_ECLIENT_CLOSED);
    WK_EQ(cio_client_response_release(r), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_pool, closing_the_session_ends_waiting_and_reading_requests)
{
    tst_run(close_under_body, NULL);
    wk_verdict();
}
