/* cancel.c: a request task cancelled while the server holds the head, while it stalls in the middle of the body,
 * while the request's body is going out to a server that stopped reading, and in the pool's queue (on the mock
 * clock): the cancel is what the task sees, its connection is closed rather than pooled, the next
 * request on the session gets its own answer (never the cancelled one's bytes) and the session closes cleanly. */
#include <errno.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_cancel, .init = wk_init);

/* The server: every request gets a body of its own ("body-<n>", n from 1 in the order read), except the first,
   whose head is held (the server reads on until the client closes), and the second, which gets its head and part
   of its body, then nothing more. */
struct fixture {
    struct ck_raw rs;
    int n;
    cio_event held; /* the first request is in and will not be answered */
    char url[64];
    cio_client_session *s;
};

static int distinct_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    struct fixture *f = rs->arg;
    while (ck_read_request(s, rs) == 0) {
        int n = ++f->n;
        if (n == 1) {
            (void)cio_event_set(&f->held);
            return ck_wait_close(s);
        }
        char answer[128];
        if (n == 2) {
            snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart-%d-", n);
            (void)ck_write(s, answer);
            return ck_wait_close(s);
        }
        snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nbody-%d", n);
        if (ck_write(s, answer) < 0)
            return 0;
    }
    return 0;
}

/* A request in a task of its own: what its request, its body read and its release returned. */
struct job {
    struct fixture *f;
    cio_event got_head;
    int request_rc, read_rc, release_rc;
    bool requested, read;
};

static int job_task(void *arg)
{
    struct job *j = arg;
    cio_client_response *r;
    j->request_rc = cio_client_get(j->f->s, j->f->url, &r);
    j->requested = true;
    if (j->request_rc < 0)
        return j->request_rc;
    (void)cio_event_set(&j->got_head);
    cio_buf b = {0};
    j->read_rc = cio_client_response_read(r, &b);
    j->read = true;
    cio_buf_free(&b);
    j->release_rc = cio_client_response_release(r);
    return j->read_rc;
}

/* A request on the session that must get "body-<n>" whole. */
static int expect_body(struct fixture *f, int n, int want_pooled)
{
    cio_client_response *r;
    WK_EQ(cio_client_get(f->s, f->url, &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    char want[16];
    snprintf(want, sizeof want, "body-%d", n);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), want_pooled);
    return 0;
}

static int cancel_body(void *arg)
{
    (void)arg;
    struct fixture f = {.rs = {.fn = distinct_conn}};
    f.rs.arg = &f;
    WK_EQ(cio_event_init(&f.held), 0);
    WK_EQ(ck_raw_start(&f.rs), 0);
    ck_url(f.url, sizeof f.url, f.rs.port, "/");
    WK_EQ(cio_client_session_new(&f.s, NULL), 0);

    /* Mid-request: the server has the request and holds the head. */
    struct job a = {.f = &f};
    WK_EQ(cio_event_init(&a.got_head), 0);
    cio_task *t;
    WK_EQ(cio_spawn(&t, job_task, &a, NULL), 0);
    WK_EQ(cio_event_wait(&f.held), 0);
    WK_EQ(cio_client_session_connections(f.s, NULL), 1);
    WK_EQ(cio_cancel(t, "mid-request"), 0);
    WK_EQ(cio_join(t), -ECANCELED);
    WK_CHECK(a.requested && a.request_rc == -ECANCELED, "request: %s", cio_err_name(a.request_rc));
    size_t idle;
    WK_EQ(cio_client_session_connections(f.s, &idle), 0); /* closed, not pooled */
    WK_EQ(idle, 0);

    /* Mid-body: the head and a part of the body came, then the server stalls. */
    struct job b = {.f = &f};
    WK_EQ(cio_event_init(&b.got_head), 0);
    WK_EQ(cio_spawn(&t, job_task, &b, NULL), 0);
    WK_EQ(cio_event_wait(&b.got_head), 0);
    WK_EQ(b.request_rc, 0);
    WK_EQ(cio_cancel(t, "mid-body"), 0);
    WK_EQ(cio_join(t), -ECANCELED);
    WK_CHECK(b.read && b.read_rc == -ECANCELED, "read: %s", cio_err_name(b.read_rc));
    WK_EQ(b.release_rc, 0); /* a half-read body: the connection was closed */
    WK_EQ(cio_client_session_connections(f.s, &idle), 0);
    WK_EQ(idle, 0);

    /* The next requests get their own answers: a fresh connection, then that one reused. */
    WK_EQ(expect_body(&f, 3, 1), 0);
    WK_EQ(expect_body(&f, 4, 1), 0);
    WK_EQ(f.rs.conns, 3);
    WK_EQ(cio_client_session_connections(f.s, &idle), 1);
    WK_EQ(idle, 1);

    WK_EQ(cio_client_session_close(f.s), 0);
    ck_raw_stop(&f.rs);
    cio_event_fini(&a.got_head);
    cio_event_fini(&b.got_head);
    cio_event_fini(&f.held);
    return 0;
}

Test(client_cancel, a_cancelled_request_closes_its_connection_and_leaves_the_session_sound)
{
    tst_run_expect(cancel_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* ---- a cancel while waiting for a pool slot: the waiter leaves the line, the slot's holder is unaffected */

static int slot_body(void *arg)
{
    (void)arg;
    struct fixture f = {.rs = {.fn = distinct_conn}, .n = 2}; /* every request answered at once */
    f.rs.arg = &f;
    WK_EQ(cio_event_init(&f.held), 0);
    WK_EQ(ck_raw_start(&f.rs), 0);
    ck_url(f.url, sizeof f.url, f.rs.port, "/");
    WK_EQ(cio_client_session_new(&f.s, &(cio_client_session_opts){.limit = 1}), 0);
    cio_client_response *held;
    WK_EQ(cio_client_get(f.s, f.url, &held), 0); /* body-3, not read yet: the only slot is taken */
    struct job w = {.f = &f};
    WK_EQ(cio_event_init(&w.got_head), 0);
    cio_task *t;
    WK_EQ(cio_spawn(&t, job_task, &w, NULL), 0);
    WK_EQ(cio_yield(), 0); /* it waits in line */
    WK_EQ(cio_yield(), 0);
    WK_CHECK(!w.requested, "the waiter got a connection");
    WK_EQ(cio_cancel(t, NULL), 0);
    WK_EQ(cio_join(t), -ECANCELED);
    WK_EQ(w.request_rc, -ECANCELED);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(held, &b), 0);
    WK_STREQ(b.data, "body-3");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(held), 1);
    WK_EQ(expect_body(&f, 4, 1), 0); /* the slot is free for the next request, on the same connection */
    WK_EQ(f.rs.conns, 1);
    WK_EQ(cio_client_session_close(f.s), 0);
    ck_raw_stop(&f.rs);
    cio_event_fini(&w.got_head);
    cio_event_fini(&f.held);
    return 0;
}

Test(client_cancel, a_cancel_in_the_pool_queue_leaves_the_line)
{
    tst_run_expect(slot_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* ---- a cancel in the middle of the upload: the server took the head and stopped reading */

struct upload {
    struct ck_raw rs;
    cio_event head_in, release;
    int n;
};

static int upload_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    struct upload *u = rs->arg;
    if (index == 0) {
        const void *v;
        size_t n;
        if (cio_stream_peek_until(s, "\r\n\r\n", 4, &v, &n) == 1)
            (void)cio_event_set(&u->head_in);
        (void)cio_event_wait(&u->release); /* reads nothing more: the client's writes fill the socket */
        return 0;
    }
    while (ck_read_request(s, rs) == 0) {
        char answer[96];
        snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nbody-%d", ++u->n);
        if (ck_write(s, answer) < 0)
            return 0;
    }
    return 0;
}

struct post_job {
    cio_client_session *s;
    const char *url;
    int rc;
};

static int post_task(void *arg)
{
    struct post_job *j = arg;
    static char big[32 << 20]; /* more than the loopback socket buffers hold */
    cio_client_response *r;
    j->rc =
        cio_client_request(j->s, "POST", j->url, &(cio_client_request_opts){.body = big, .body_len = sizeof big}, &r);
    if (j->rc == 0)
        (void)cio_client_response_release(r);
    return j->rc;
}

static int upload_body(void *arg)
{
    (void)arg;
    struct upload u = {.rs = {.fn = upload_conn}};
    u.rs.arg = &u;
    WK_EQ(cio_event_init(&u.head_in), 0);
    WK_EQ(cio_event_init(&u.release), 0);
    WK_EQ(ck_raw_start(&u.rs), 0);
    char url[64];
    ck_url(url, sizeof url, u.rs.port, "/");
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    struct post_job j = {.s = s, .url = url};
    cio_task *t;
    WK_EQ(cio_spawn(&t, post_task, &j, NULL), 0);
    WK_EQ(cio_event_wait(&u.head_in), 0);
    WK_EQ(cio_cancel(t, "mid-upload"), 0);
    WK_EQ(cio_join(t), -ECANCELED);
    WK_EQ(j.rc, -ECANCELED);
    WK_EQ(cio_client_session_connections(s, NULL), 0); /* half a body went out: closed */
    (void)cio_event_set(&u.release);
    cio_client_response *r;
    WK_EQ(cio_client_get(s, url, &r), 0);
    cio_buf b = {0};
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, "body-1");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&u.rs);
    cio_event_fini(&u.head_in);
    cio_event_fini(&u.release);
    return 0;
}

Test(client_cancel, a_cancel_in_the_middle_of_the_upload_closes_the_connection)
{
    tst_run_expect(upload_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}
