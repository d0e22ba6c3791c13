/* stream_read.c: tests of reading in place (peek, consume, unread), of the read timeout, of the liveness check of
 * idle streams, and of errors injected at every transport call. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chaoskit.h"
#include "corekit.h"
#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define TST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TST_ASAN 1
#endif
#endif
#ifdef TST_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(peek, .init = ignore_sigpipe);
TestSuite(idle, .init = ignore_sigpipe);
TestSuite(read_timeout, .init = ignore_sigpipe);
TestSuite(faults, .init = ignore_sigpipe);

static const cio_loop_opts mock = {.mock_clock = true};

/* Two streams over a Unix socket pair: s[0] writes, s[1] reads (both may do either). */
static void pair(cio_stream *s[2], const cio_stream_opts *opts)
{
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    cr_assert_eq(cio_stream_open_fd(&s[0], fds[0], opts), 0);
    cr_assert_eq(cio_stream_open_fd(&s[1], fds[1], opts), 0);
}

static void unpair(cio_stream *s[2])
{
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
}

/* A task that writes `text` in two parts, `split` bytes first, with the loop turning between them. */
struct split_writer {
    cio_stream *s;
    const char *text;
    size_t len, split;
};

static int write_split(void *arg)
{
    struct split_writer *w = arg;
    int rc = cio_stream_write(w->s, w->text, w->split);
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = cio_sleep(CIO_NS(1)); /* the reader sees the first part alone */
    return rc < 0 ? rc : cio_stream_write(w->s, w->text + w->split, w->len - w->split);
}

/* ------------------------------------------------------------------------------------------------ peek */

static const char head_and_more[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nBODYGET /b HTTP/1.1\r\n\r\n";
#define HEAD_LEN 28 /* the first head, through its blank line */

/* A head cut at every byte: peek_until finds it whole, consume takes exactly it, the body and the next request
   stay where they are. */
static int head_at_every_split(void *arg)
{
    (void)arg;
    size_t len = strlen(head_and_more);
    cr_assert_eq(memcmp(head_and_more + HEAD_LEN, "BODY", 4), 0);
    for (size_t split = 1; split < len; split++) {
        cio_stream *s[2];
        pair(s, NULL);
        struct split_writer w = {s[0], head_and_more, len, split};
        cio_task *t;
        cr_assert_eq(cio_spawn(&t, write_split, &w, NULL), 0);
        const void *v;
        size_t n;
        cr_assert_eq(cio_stream_peek_until(s[1], "\r\n\r\n", 4, &v, &n), 1, "split %zu", split);
        cr_assert_eq(n, HEAD_LEN, "split %zu", split);
        cr_assert_eq(memcmp(v, head_and_more, HEAD_LEN), 0);
        cr_assert_eq(cio_stream_consume(s[1], n), 0);
        char body[4];
        cr_assert_eq(cio_stream_read_exactly(s[1], body, 4, NULL), 4);
        cr_assert_eq(memcmp(body, "BODY", 4), 0, "split %zu", split);
        cr_assert_eq(cio_stream_peek_until(s[1], "\r\n\r\n", 4, &v, &n), 1);
        cr_assert_eq(n, len - HEAD_LEN - 4);
        cr_assert_eq(memcmp(v, "GET /b", 6), 0, "the pipelined request is in place");
        cr_assert_eq(cio_stream_consume(s[1], n), 0);
        cr_assert_eq(cio_join(t), 0);
        unpair(s);
    }
    return 0;
}

Test(peek, a_head_split_at_every_byte_is_found_whole_and_what_follows_stays)
{
    tst_run(head_at_every_split, NULL);
}

static int peek_min(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, &(cio_stream_opts){.limit = 1024});
    struct split_writer w = {s[0], "0123456789", 10, 3};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, write_split, &w, NULL), 0);
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek(s[1], 0, &v, &n), 1, "min 0 does not wait");
    cr_assert_eq(n, 0);
    cr_assert_null(v, "no bytes, no view");
    cr_assert_eq(cio_stream_peek(s[1], 8, &v, &n), 1, "waits for 8 bytes across both writes");
    cr_assert_geq(n, 8);
    cr_assert_eq(memcmp(v, "01234567", 8), 0);
    cr_assert_eq(cio_stream_peek(s[1], 10, &v, &n), 1);
    cr_assert_eq(n, 10, "peeking consumes nothing");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_stream_peek(s[1], 1025, &v, &n), -EMSGSIZE, "more than the limit can ever hold");
    cr_assert_eq(cio_stream_consume(s[1], 11), -EINVAL, "more than is buffered");
    cr_assert_eq(cio_stream_consume(s[1], 0), 0);
    cr_assert_eq(cio_stream_consume(s[1], 4), 0);
    char rest[6];
    cr_assert_eq(cio_stream_read_exactly(s[1], rest, 6, NULL), 6);
    cr_assert_eq(memcmp(rest, "456789", 6), 0);
    /* At the end, peek gives what is left and 0. */
    cr_assert_eq(cio_stream_write(s[0], "xyz", 3), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_stream_peek(s[1], 10, &v, &n), 0, "the stream ended with 3 of 10");
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(v, "xyz", 3), 0);
    cr_assert_eq(cio_stream_consume(s[1], 3), 0);
    cr_assert_eq(cio_stream_peek(s[1], 1, &v, &n), 0);
    cr_assert_eq(n, 0);
    unpair(s);
    return 0;
}

Test(peek, peek_waits_for_min_bytes_consumes_nothing_and_reports_the_end)
{
    tst_run(peek_min, NULL);
}

static int peek_until_limit(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, &(cio_stream_opts){.limit = 64});
    char junk[100];
    memset(junk, 'j', sizeof junk);
    cr_assert_eq(cio_stream_write(s[0], junk, sizeof junk), 0);
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek_until(s[1], "\n", 1, &v, &n), -EMSGSIZE, "64 bytes without a separator");
    cr_assert_eq(cio_stream_peek(s[1], 64, &v, &n), 1, "the bytes stay buffered");
    cr_assert_geq(n, 64);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_stream_consume(s[1], 64), 0);
    cr_assert_eq(cio_stream_peek_until(s[1], "\n", 1, &v, &n), 0, "the end, with no separator");
    cr_assert_eq(n, 36);
    unpair(s);
    return 0;
}

Test(peek, peek_until_over_the_limit_fails_with_emsgsize_and_keeps_the_bytes)
{
    tst_run(peek_until_limit, NULL);
}

static int unread_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, &(cio_stream_opts){.limit = 32});
    cr_assert_eq(cio_stream_write(s[0], "abcdefgh", 8), 0);
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek(s[1], 8, &v, &n), 1);
    cr_assert_eq(cio_stream_consume(s[1], 3), 0);
    cr_assert_eq(cio_stream_unread(s[1], v, 3), 0, "the bytes just consumed go back in place");
    char buf[16];
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 8, NULL), 8);
    cr_assert_eq(memcmp(buf, "abcdefgh", 8), 0);
    cr_assert_eq(cio_stream_write(s[0], "tail", 4), 0);
    cr_assert_eq(cio_stream_peek(s[1], 4, &v, &n), 1);
    cr_assert_eq(cio_stream_unread(s[1], "HEAD:", 5), 0, "other bytes are copied in front");
    cr_assert_eq(cio_stream_peek(s[1], 9, &v, &n), 1);
    cr_assert_eq(memcmp(v, "HEAD:tail", 9), 0);
    cr_assert_eq(cio_stream_unread(s[1], v, 9), 0, "a view of the stream's own buffer, copied before it moves");
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 16, NULL), 16);
    cr_assert_eq(memcmp(buf, "HEAD:tailHEAD:ta", 16), 0);
    char big[40] = {0};
    cr_assert_eq(cio_stream_unread(s[1], big, sizeof big), -EMSGSIZE, "more than the buffer may hold");
    cr_assert_eq(cio_stream_unread(s[1], NULL, 1), -EINVAL);
    cr_assert_eq(cio_stream_unread(s[1], NULL, 0), 0);
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 2, NULL), 2, "what was there is untouched");
    cr_assert_eq(memcmp(buf, "il", 2), 0);
    /* After the end, unread bytes are read first, then the end again. */
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), 0);
    cr_assert_eq(cio_stream_unread(s[1], "again", 5), 0);
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), 5);
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), 0);
    unpair(s);
    return 0;
}

Test(peek, unread_puts_bytes_back_in_front_in_place_or_copied)
{
    tst_run(unread_body, NULL);
}

/* A view lives until the next call that consumes: once the loop's buffer goes back, it is poisoned (ASan). */
static int view_lifetime(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_write(s[0], "view", 4), 0);
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek(s[1], 4, &v, &n), 1);
    cr_assert_eq(tst_live_big_blocks(), 1, "the reader holds the loop's buffer while its view lasts");
#ifdef TST_ASAN
    cr_assert_not(__asan_address_is_poisoned(v));
#endif
    cr_assert_eq(cio_stream_consume(s[1], 4), 0);
#ifdef TST_ASAN
    cr_assert(__asan_address_is_poisoned(v), "the buffer went back to the loop: a late use of the view faults");
#endif
    unpair(s);
    return 0;
}

Test(peek, a_view_dies_when_its_bytes_are_consumed_and_the_buffer_goes_back)
{
    tst_run(view_lifetime, NULL);
}

static int peek_bad_input(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek(NULL, 1, &v, &n), -EINVAL);
    cr_assert_eq(cio_stream_peek(s[1], 1, NULL, &n), -EINVAL);
    cr_assert_eq(cio_stream_peek(s[1], 1, &v, NULL), -EINVAL);
    cr_assert_eq(cio_stream_peek_until(s[1], NULL, 1, &v, &n), -EINVAL);
    cr_assert_eq(cio_stream_peek_until(s[1], "\n", 0, &v, &n), -EINVAL);
    cr_assert_eq(cio_stream_consume(NULL, 0), -EINVAL);
    cr_assert_eq(cio_stream_unread(NULL, "x", 1), -EINVAL);
    cr_assert_eq(cio_stream_set_read_timeout(s[1], -1), -EINVAL);
    cr_assert_eq(cio_stream_set_read_timeout(NULL, 1), -EINVAL);
    cr_assert_eq(cio_stream_read_timeout(NULL), -EINVAL);
    cr_assert_eq(cio_stream_check_idle(NULL), -EINVAL);
    unpair(s);
    return 0;
}

Test(peek, bad_arguments_give_einval)
{
    tst_run(peek_bad_input, NULL);
}

/* A second task's peek while one reads gets -EBUSY, like any second reader. */
static int waiting_peeker(void *arg)
{
    const void *v;
    size_t n;
    return cio_stream_peek(arg, 1, &v, &n);
}

static int peek_busy(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, waiting_peeker, s[1], NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek(s[1], 1, &v, &n), -EBUSY);
    cr_assert_eq(cio_stream_consume(s[1], 0), -EBUSY);
    cr_assert_eq(cio_stream_unread(s[1], "x", 1), -EBUSY);
    cr_assert_eq(cio_stream_check_idle(s[1]), -EBUSY);
    cr_assert_eq(cio_stream_write(s[0], "!", 1), 0);
    cr_assert_eq(cio_join(t), 1);
    unpair(s);
    return 0;
}

Test(peek, a_second_reader_peeking_consuming_or_unreading_gets_ebusy)
{
    tst_run(peek_busy, NULL);
}

/* ------------------------------------------------------------------------------------------------ idle */

static int idle_checks(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_check_idle(s[1]), 0, "nothing came: usable");
    cr_assert_eq(cio_stream_check_idle(s[1]), 0, "and again");
    cr_assert_eq(cio_stream_write(s[0], "stray", 5), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0); /* the loop polls and sees the edge, as a pool's idle time gives it */
    cr_assert_eq(cio_stream_check_idle(s[1]), CIO_EUNSOLICITED, "bytes nobody asked for");
    cr_assert_eq(cio_stream_check_idle(s[1]), CIO_EUNSOLICITED, "still there");
    char buf[8];
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 5, NULL), 5, "and kept for the next read");
    cr_assert_eq(memcmp(buf, "stray", 5), 0);
    cr_assert_eq(cio_stream_check_idle(s[1]), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(cio_stream_check_idle(s[1]), CIO_EPEERCLOSED);
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), 0, "the end is the end for a read too");
    unpair(s);
    return 0;
}

Test(idle, check_idle_sees_stray_bytes_and_the_peers_end_without_losing_anything)
{
    tst_run(idle_checks, NULL);
}

static int idle_reset(void *arg)
{
    (void)arg;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(l, 1), 0);
    cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    int p = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    close(l);
    cio_stream *s;
    cr_assert_eq(cio_stream_open_fd(&s, c, NULL), 0);
    cr_assert_eq(cio_stream_check_idle(s), 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(setsockopt(p, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    close(p); /* a reset */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0); /* the loop polls and sees the edge */
    cr_assert_eq(cio_stream_check_idle(s), -ECONNRESET);
    cr_assert_eq(cio_stream_check_idle(s), -ECONNRESET, "the error sticks");
    cr_assert_eq(cio_stream_close(s), 0);
    return 0;
}

Test(idle, check_idle_reports_a_reset_peer)
{
    tst_run(idle_reset, NULL);
}

/* ------------------------------------------------------------------------------------------------ read timeout */

static int trickle(void *arg)
{
    cio_stream *w = arg;
    for (int i = 0; i < 3; i++) {
        int rc = cio_sleep(CIO_SEC(6));
        if (rc < 0 || (rc = cio_stream_write(w, "t", 1)) < 0)
            return rc;
    }
    return 0;
}

static int timeout_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_read_timeout(s[1]), 0, "none by default");
    cr_assert_eq(cio_stream_set_read_timeout(s[1], CIO_SEC(10)), 0);
    cr_assert_eq(cio_stream_read_timeout(s[1]), CIO_SEC(10));
    int64_t t0 = cio_now();
    char buf[8];
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), CIO_EREADTIMEOUT);
    cr_assert_eq(cio_now() - t0, CIO_SEC(10), "after exactly the timeout (mock clock)");
    cr_assert_eq(cio_check_cancel(), 0, "the task is not cancelled: only that wait failed");
    /* Each wait gets the whole timeout: three bytes 6 s apart take 18 s and arrive. */
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, trickle, s[0], NULL), 0);
    t0 = cio_now();
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 3, NULL), 3, "the stream is usable after a timeout");
    cr_assert_eq(cio_now() - t0, CIO_SEC(18));
    cr_assert_eq(cio_join(t), 0);
    /* A line read, a peek and next_chunk are bounded too. */
    const void *v;
    size_t n;
    char line[32];
    cr_assert_eq(cio_stream_write(s[0], "no newline", 10), 0);
    cr_assert_eq(cio_stream_read_line(s[1], line, sizeof line), CIO_EREADTIMEOUT);
    cr_assert_eq(cio_stream_peek(s[1], 11, &v, &n), CIO_EREADTIMEOUT);
    cr_assert_eq(cio_stream_consume(s[1], 10), 0);
    cr_assert_eq(cio_stream_next_chunk(s[1], &v, &n), CIO_EREADTIMEOUT);
    cr_assert(cio_is_timeout(CIO_EREADTIMEOUT));
    cr_assert_eq(cio_stream_set_read_timeout(s[1], 0), 0);
    cr_assert_eq(cio_stream_write(s[0], "x", 1), 0);
    cr_assert_eq(cio_stream_read(s[1], buf, 1), 1);
    unpair(s);
    return 0;
}

Test(read_timeout, bounds_every_wait_for_input_with_its_own_error_and_the_stream_stays_usable)
{
    tst_run_expect(timeout_body, NULL, &mock, 0);
}

/* A deadline that passes first still gives -ETIMEDOUT, and a read timeout first gives its own code. */
static int which_first(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_set_read_timeout(s[1], CIO_SEC(10)), 0);
    char c;
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_SEC(5)), 0);
    cr_assert_eq(cio_stream_read(s[1], &c, 1), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&sc), -ETIMEDOUT);
    cr_assert_eq(cio_timeout_begin(&sc, CIO_SEC(15)), 0);
    cr_assert_eq(cio_stream_read(s[1], &c, 1), CIO_EREADTIMEOUT);
    cr_assert_eq(cio_scope_end(&sc), 0, "the scope's deadline did not cut anything short");
    unpair(s);
    return 0;
}

Test(read_timeout, a_scope_deadline_and_the_read_timeout_each_report_their_own)
{
    tst_run_expect(which_first, NULL, &mock, 0);
}

/* ------------------------------------------------------------------------------------------------ faults */

/*
 * Every transport call fails in turn (the chaos transport's nth call): each stream call returns that error or
 * succeeds, the streams close, and nothing leaks. The run with no failure left proves every call was reached.
 */
struct fault_run {
    int reached, failed;
};

static int faulty_exchange(void *arg)
{
    struct fault_run *r = arg;
    cio_stream *s[2];
    pair(s, NULL);
    int rc = cio_stream_write(s[0], "line one\nline two\n", 18);
    char buf[32];
    if (rc == 0)
        rc = cio_stream_drain(s[0]);
    ssize_t n = rc == 0 ? cio_stream_read_line(s[1], buf, sizeof buf) : rc;
    const void *v;
    size_t len;
    int p = n > 0 ? cio_stream_peek_until(s[1], "\n", 1, &v, &len) : (int)n;
    if (p == 1)
        p = cio_stream_consume(s[1], len);
    if (p == 0)
        p = cio_stream_write_eof(s[0]);
    if (p == 0)
        p = (int)cio_stream_read(s[1], buf, sizeof buf);
    cr_assert(p == 0 || p == -EIO, "the injected error or success: %s", cio_err_name(p));
    r->reached = p == 0 && n == 9;
    int c0 = cio_stream_close(s[0]), c1 = cio_stream_close(s[1]);
    cr_assert(c0 == 0 || c0 == -EIO, "%s", cio_err_name(c0));
    cr_assert(c1 == 0 || c1 == -EIO, "%s", cio_err_name(c1));
    r->failed += p == -EIO || c0 == -EIO || c1 == -EIO;
    return 0;
}

Test(faults, an_error_at_each_transport_call_is_returned_cleanly)
{
    tst_chaos_install();
    struct fault_run r = {0};
    long n;
    for (n = 1; n < 1000; n++) {
        tst_chaos_fail_at(n, -EIO);
        r.reached = 0;
        tst_run(faulty_exchange, &r);
        if (tst_chaos_calls() < n)
            break; /* this run made fewer calls than n: every call has failed once */
    }
    tst_chaos_fail_at(0, 0);
    cr_assert_lt(n, 1000L, "the exchange ends");
    cr_assert(r.reached, "with no failure left, the exchange completes");
    /* Every run but the last had a call fail; most surface it (a failed wait for input may be retried). */
    cr_assert_geq(r.failed, (n - 1) / 2, "%d of %ld runs reported the injected error", r.failed, n - 1);
}
