/* body.c: HTTP messages on streams: heads read in place and body readers for every framing, at every split point
 * of their input, over socket pairs and TLS; the writers' framing read back; injection refused. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#include <criterion/parameterized.h>

#include "cio/http.h"
#include "netkit.h"
#include "tlskit.h"

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(head, .init = ignore_sigpipe);
TestSuite(body, .init = ignore_sigpipe);
TestSuite(head_out, .init = ignore_sigpipe);
TestSuite(body_out, .init = ignore_sigpipe);

#define W(s) s, sizeof(s) - 1

/* ------------------------------------------------------------------------------------------------ helpers */

/* Two streams over a Unix socket pair. */
static void pair(cio_stream *s[2], const cio_stream_opts *opts)
{
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    cr_assert_eq(cio_stream_open_fd(&s[0], fds[0], opts), 0);
    cr_assert_eq(cio_stream_open_fd(&s[1], fds[1], opts), 0);
}

/* A task that writes `len` bytes in two parts cut at `split` (the loop turning between), then ends the stream if
   `end`. */
struct feeder {
    cio_stream *s;
    const char *wire;
    size_t len, split;
    bool end;
};

static int feed(void *arg)
{
    struct feeder *f = arg;
    int rc = f->split ? cio_stream_write(f->s, f->wire, f->split) : 0;
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = cio_sleep(CIO_NS(1));
    if (rc == 0 && f->len > f->split)
        rc = cio_stream_write(f->s, f->wire + f->split, f->len - f->split);
    if (rc == 0 && f->end)
        rc = cio_stream_write_eof(f->s);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ heads */

static const char two_requests[] = "\r\nPOST /up?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                                   "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

static int heads_at_every_split(void *arg)
{
    (void)arg;
    size_t len = strlen(two_requests);
    for (size_t split = 0; split <= len; split++) {
        cio_stream *s[2];
        pair(s, NULL);
        struct feeder f = {s[0], two_requests, len, split, true};
        cio_task *t;
        cr_assert_eq(cio_spawn(&t, feed, &f, NULL), 0);
        cio_http_header hs[8];
        cio_http_head h;
        cio_http_head_init(&h, hs, 8);
        ssize_t n = cio_http_read_request(s[1], &h, NULL);
        cr_assert_eq(n, 55, "split %zu: %zd", split, n);
        cr_assert(cio_http_str_ieq(h.method, "POST") && h.target.len == 7, "split %zu", split);
        cr_assert_eq(h.num_headers, 2);
        cio_http_body_in b;
        cr_assert_eq(cio_http_body_init_request(&b, s[1], &h, &(cio_http_body_opts){.skip = (size_t)n}), 0);
        cio_buf body;
        cr_assert_eq(cio_http_body_read_all(&b, &body), 0);
        cr_assert(body.len == 5 && memcmp(body.data, "hello", 5) == 0, "split %zu", split);
        cio_buf_free(&body);
        cio_http_body_fini(&b);
        cio_http_head_init(&h, hs, 8);
        n = cio_http_read_request(s[1], &h, NULL);
        cr_assert_eq(n, 31, "split %zu: the pipelined request is next: %s", split, cio_err_name((int)n));
        cr_assert(cio_http_str_ieq(h.target, "/next"));
        cr_assert_eq(cio_stream_consume(s[1], (size_t)n), 0);
        cio_http_head_init(&h, hs, 8);
        cr_assert_eq(cio_http_read_request(s[1], &h, NULL), CIO_EPEERCLOSED, "a clean end between requests");
        cr_assert_eq(cio_join(t), 0);
        cr_assert_eq(cio_stream_close(s[0]), 0);
        cr_assert_eq(cio_stream_close(s[1]), 0);
    }
    return 0;
}

Test(head, a_request_head_split_at_every_byte_reads_whole_and_leaves_the_next_in_place)
{
    tst_run(heads_at_every_split, NULL);
}

struct head_error {
    const char *name;
    const char *wire;
    size_t len;
    size_t limit;    /* the stream's limit (the first write is that long), 0 for the default (half the wire) */
    size_t max_head; /* the parser's head limit, 0 for its default */
    int want;
};

/* clang-format off */
static const struct head_error head_errors[] = {
    {"truncated", W("GET / HTTP/1.1\r\nHost: a\r\n"), 0, 0, CIO_EHTTP_HEAD_TRUNCATED},
    {"nothing", W(""), 0, 0, CIO_EPEERCLOSED},
    {"bad", W("GET / HTTP/1.1\r\nHo@st: a\r\n\r\n"), 0, 0, CIO_EHTTP_BAD_HEADER_NAME},
    {"over the head limit", W("GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
     0, 48, CIO_EHTTP_HEAD_TOO_LARGE},
    {"over the stream limit", W("GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
     48, 0, CIO_EHTTP_HEAD_TOO_LARGE},
    {"smuggling", W("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, 0,
     CIO_EHTTP_CL_AND_TE},
};
/* clang-format on */

static int head_error_body(void *arg)
{
    const struct head_error *e = arg;
    cio_stream *s[2];
    pair(s, &(cio_stream_opts){.limit = e->limit});
    /* Over the stream's limit: its first write fills it, so the reader asks for more than it may hold. */
    struct feeder f = {s[0], e->wire, e->len, e->limit ? e->limit : e->len / 2, true};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, feed, &f, NULL), 0);
    cio_http_header hs[8];
    cio_http_head h;
    cio_http_head_init(&h, hs, 8);
    ssize_t n = cio_http_read_request(s[1], &h, &(cio_http_parse_opts){.max_head = e->max_head});
    cr_assert_eq(n, e->want, "%s: %s", e->name, cio_err_name((int)n));
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(head, a_head_cut_short_bad_or_too_large_gives_its_own_error)
{
    for (size_t i = 0; i < sizeof head_errors / sizeof head_errors[0]; i++)
        tst_run(head_error_body, (void *)&head_errors[i]);
}

/* A head that trickles in is bounded by the stream's read timeout (the server's header timeout). */
static int trickle(void *arg)
{
    cio_stream *w = arg;
    int rc = cio_stream_write(w, "GET / HT", 8);
    return rc < 0 ? rc : cio_sleep(CIO_SEC(60));
}

static int head_timeout_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_set_read_timeout(s[1], CIO_SEC(10)), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, trickle, s[0], NULL), 0);
    cio_http_header hs[4];
    cio_http_head h;
    cio_http_head_init(&h, hs, 4);
    int64_t t0 = cio_now();
    cr_assert_eq(cio_http_read_request(s[1], &h, NULL), CIO_EREADTIMEOUT);
    cr_assert_eq(cio_now() - t0, CIO_SEC(10));
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(head, a_head_that_trickles_in_meets_the_read_timeout)
{
    tst_run_expect(head_timeout_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

/* ------------------------------------------------------------------------------------------------ bodies */

struct body_case {
    const char *name;
    int framing;
    uint64_t length;
    const char *wire; /* the body's bytes on the wire, then what follows (the next message, "NEXT") */
    size_t len;
    bool end;         /* the writer ends the stream after the wire bytes */
    int want;         /* 0, or the error the reading ends with */
    const char *data; /* the body, when it reads whole */
    const char *rest; /* what the stream holds after the body */
};

/* clang-format off */
static const struct body_case body_cases[] = {
    {"length", CIO_HTTP_BODY_LENGTH, 11, W("hello\nworldNEXT"), false, 0, "hello\nworld", "NEXT"},
    {"length empty", CIO_HTTP_BODY_LENGTH, 0, W("NEXT"), false, 0, "", "NEXT"},
    {"none", CIO_HTTP_BODY_NONE, 0, W("NEXT"), false, 0, "", "NEXT"},
    {"chunked", CIO_HTTP_BODY_CHUNKED, 0, W("6\r\nhello\n\r\n5;x=y\r\nworld\r\n0\r\n\r\nNEXT"), false, 0, "hello\nworld", "NEXT"},
    {"chunked trailers", CIO_HTTP_BODY_CHUNKED, 0, W("3\r\nabc\r\n0\r\nX-Sum: 9\r\n\r\nNEXT"), false, 0, "abc", "NEXT"},
    {"chunked many", CIO_HTTP_BODY_CHUNKED, 0, W("1\r\na\r\n1\r\nb\r\n1\r\n\n\r\n1\r\nc\r\n0\r\n\r\nNEXT"), false, 0, "ab\nc", "NEXT"},
    {"until close", CIO_HTTP_BODY_UNTIL_CLOSE, 0, W("all of\nit"), true, 0, "all of\nit", ""},
    {"length truncated", CIO_HTTP_BODY_LENGTH, 20, W("only this"), true, CIO_EHTTP_BODY_TRUNCATED, NULL, NULL},
    {"chunked truncated data", CIO_HTTP_BODY_CHUNKED, 0, W("a\r\nhello"), true, CIO_EHTTP_BODY_TRUNCATED, NULL, NULL},
    {"chunked truncated line", CIO_HTTP_BODY_CHUNKED, 0, W("5\r\nhello\r\n0\r\n"), true, CIO_EHTTP_BODY_TRUNCATED, NULL, NULL},
    {"chunked bad size", CIO_HTTP_BODY_CHUNKED, 0, W("5\r\nhello\r\nzz\r\n"), false, CIO_EHTTP_BAD_CHUNK_SIZE, NULL, NULL},
    {"chunked bad end", CIO_HTTP_BODY_CHUNKED, 0, W("5\r\nhello!\r\n0\r\n\r\n"), false, CIO_EHTTP_BAD_CHUNK_END, NULL, NULL},
};
/* clang-format on */
#define N_BODY (sizeof body_cases / sizeof body_cases[0])

enum { WAY_NEXT, WAY_READ1, WAY_READ3, WAY_READ_ALL, WAY_LINES, WAY_DISCARD, WAY_SAVE, N_WAYS };

/* Read the body one way; returns 0 or the error, the bytes in `out`. */
static int read_body(cio_http_body_in *b, int way, char *out, size_t *outlen)
{
    const void *p;
    size_t n;
    int rc;
    ssize_t r;
    *outlen = 0;
    switch (way) {
    case WAY_NEXT:
        while ((rc = cio_http_body_next(b, &p, &n)) == 1) {
            cr_assert_gt(n, 0);
            memcpy(out + *outlen, p, n), *outlen += n;
        }
        return rc;
    case WAY_READ1:
    case WAY_READ3:
        while ((r = cio_http_body_read(b, out + *outlen, way == WAY_READ1 ? 1 : 3)) > 0)
            *outlen += (size_t)r;
        return (int)r;
    case WAY_READ_ALL: {
        cio_buf all;
        rc = cio_http_body_read_all(b, &all);
        if (rc == 0) {
            cr_assert_eq(all.data[all.len], 0, "NUL-terminated");
            memcpy(out, all.data, all.len), *outlen = all.len;
        } else {
            cr_assert_null(all.data);
        }
        cio_buf_free(&all);
        return rc;
    }
    case WAY_LINES:
        while ((rc = cio_http_body_next_line(b, (const char **)&p, &n)) == 1) {
            const char *nl = memchr(p, '\n', n);
            cr_assert(!nl || nl == (const char *)p + n - 1, "one line, ending at its newline");
            memcpy(out + *outlen, p, n), *outlen += n;
        }
        return rc;
    case WAY_DISCARD:
        rc = cio_http_body_discard(b);
        return rc;
    default: { /* WAY_SAVE */
        char path[] = "/tmp/cio-body-XXXXXX";
        int fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        close(fd);
        cio_file *f;
        cr_assert_eq(cio_file_open(&f, path, O_RDWR | O_TRUNC, 0600), 0);
        r = cio_http_body_save(b, f);
        cr_assert_eq(cio_file_close(f), 0);
        if (r >= 0) {
            FILE *fp = fopen(path, "rb");
            *outlen = fread(out, 1, 256, fp);
            fclose(fp);
            cr_assert_eq((size_t)r, *outlen);
        }
        unlink(path);
        return r < 0 ? (int)r : 0;
    }
    }
}

/* Parameters are copied into each test's process (another address space): an index, not a pointer. */
struct body_run {
    size_t idx;
    int way;
};

static int body_every_split(void *arg)
{
    const struct body_run *run = arg;
    const struct body_case *c = &body_cases[run->idx];
    for (size_t split = 0; split <= c->len; split++) {
        cio_stream *s[2];
        pair(s, NULL);
        struct feeder f = {s[0], c->wire, c->len, split, c->end};
        cio_task *t;
        cr_assert_eq(cio_spawn(&t, feed, &f, NULL), 0);
        cio_http_body_in b;
        cr_assert_eq(cio_http_body_init(&b, s[1], c->framing, c->length, NULL), 0);
        char out[256];
        size_t outlen;
        int rc = read_body(&b, run->way, out, &outlen);
        cr_assert_eq(rc, c->want, "%s, way %d, split %zu: %s", c->name, run->way, split, cio_err_name(rc));
        if (c->want == 0) {
            cr_assert(cio_http_body_done(&b));
            if (run->way != WAY_DISCARD) {
                cr_assert_eq(outlen, strlen(c->data), "%s, way %d, split %zu", c->name, run->way, split);
                cr_assert_eq(memcmp(out, c->data, outlen), 0, "%s, way %d, split %zu", c->name, run->way, split);
                cr_assert_eq(cio_http_body_count(&b), outlen);
            }
            cr_assert_eq(cio_http_body_next(&b, (const void **)&out, &outlen), 0, "the end stays the end");
        } else {
            const void *p;
            size_t n;
            cr_assert_eq(cio_http_body_next(&b, &p, &n), c->want, "the error sticks");
        }
        cio_http_body_fini(&b);
        cr_assert_eq(cio_join(t), 0);
        if (c->want == 0) {
            char rest[16];
            size_t want = strlen(c->rest);
            if (!c->end)
                cr_assert_eq(cio_stream_write_eof(s[0]), 0);
            ssize_t got = cio_stream_read_exactly(s[1], rest, want, NULL);
            cr_assert_eq(got, (ssize_t)want, "%s: what follows the body", c->name);
            cr_assert_eq(memcmp(rest, c->rest, want), 0, "%s, split %zu: the next message is intact", c->name, split);
        }
        cr_assert_eq(cio_stream_close(s[0]), 0);
        cr_assert_eq(cio_stream_close(s[1]), 0);
    }
    return 0;
}

ParameterizedTestParameters(body, every_framing_every_way_every_split)
{
    static struct body_run runs[N_BODY * N_WAYS];
    for (size_t i = 0; i < N_BODY; i++)
        for (int w = 0; w < N_WAYS; w++)
            runs[i * N_WAYS + (size_t)w] = (struct body_run){i, w};
    return cr_make_param_array(struct body_run, runs, N_BODY * N_WAYS);
}

ParameterizedTest(struct body_run *run, body, every_framing_every_way_every_split, .timeout = 120)
{
    tst_run(body_every_split, run);
}

static int body_limits(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_LENGTH, 11, &(cio_http_body_opts){.max_size = 10}),
                 CIO_EHTTP_BODY_TOO_LARGE, "a declared length above the limit fails at once");
    cr_assert_eq(cio_http_body_init(&b, s[1], 99, 0, NULL), -EINVAL);
    cr_assert_eq(cio_stream_write(s[0], "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n", 31), 0);
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_CHUNKED, 0, &(cio_http_body_opts){.max_size = 10}), 0);
    const void *p;
    size_t n;
    cr_assert_eq(cio_http_body_next(&b, &p, &n), 1);
    cr_assert_eq(n, 8);
    cr_assert_eq(cio_http_body_next(&b, &p, &n), CIO_EHTTP_BODY_LIMIT, "the second chunk passes 10 bytes");
    cr_assert_eq(cio_http_body_discard(&b), CIO_EHTTP_BODY_LIMIT);
    cio_http_body_fini(&b);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(body, a_body_over_its_limit_is_an_error_never_a_truncation)
{
    tst_run(body_limits, NULL);
}

static int lines_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    char line[100];
    memset(line, 'x', sizeof line);
    cr_assert_eq(cio_stream_write(s[0], line, sizeof line), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_UNTIL_CLOSE, 0, &(cio_http_body_opts){.max_line = 64}), 0);
    const char *l;
    size_t n;
    cr_assert_eq(cio_http_body_next_line(&b, &l, &n), -EMSGSIZE);
    cio_http_body_fini(&b);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(body, a_line_longer_than_max_line_is_emsgsize)
{
    tst_run(lines_body, NULL);
}

static int trailers_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_write(s[0], W("3\r\nabc\r\n0\r\nX-Sum: 9\r\nX-More: yes\r\n\r\nNEXT")), 0);
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_CHUNKED, 0, &(cio_http_body_opts){.keep_trailers = true}),
                 0);
    cio_http_header hs[4];
    cio_http_head t;
    cio_http_head_init(&t, hs, 4);
    cr_assert_eq(cio_http_body_trailers(&b, &t), -EINVAL, "not at the end yet");
    cr_assert_eq(cio_http_body_discard(&b), 0);
    cr_assert_eq(cio_http_body_trailers(&b, &t), 2);
    cr_assert(cio_http_str_ieq(hs[0].name, "x-sum") && cio_http_str_ieq(hs[1].value, "yes"));
    cio_http_body_fini(&b);
    char next[4];
    cr_assert_eq(cio_stream_read_exactly(s[1], next, 4, NULL), 4);
    cr_assert_eq(memcmp(next, "NEXT", 4), 0, "the trailers were consumed at fini");
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(body, kept_trailers_are_parsed_after_the_end)
{
    tst_run(trailers_body, NULL);
}

/* Expect: 100-continue: the reader answers "100 Continue" before it first waits for the body. */
static int continue_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s, NULL);
    cr_assert_eq(cio_stream_write(s[0], W("POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")), 0);
    cio_http_header hs[4];
    cio_http_head h;
    cio_http_head_init(&h, hs, 4);
    ssize_t n = cio_http_read_request(s[1], &h, NULL);
    cr_assert_gt(n, 0);
    cr_assert(cio_http_expects_continue(&h));
    cio_http_body_in b;
    cr_assert_eq(
        cio_http_body_init_request(&b, s[1], &h, &(cio_http_body_opts){.skip = (size_t)n, .send_continue = true}), 0);
    char interim[64];
    cr_assert_eq(cio_stream_write(s[0], "ok", 2), 0);
    char body[2];
    cr_assert_eq(cio_http_body_read(&b, body, 2), 2);
    cr_assert_eq(cio_stream_read_exactly(s[0], interim, 25, NULL), 25);
    cr_assert_eq(memcmp(interim, "HTTP/1.1 100 Continue\r\n\r\n", 25), 0);
    cio_http_body_fini(&b);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(body, send_continue_answers_expect_100_continue_before_the_first_read)
{
    tst_run(continue_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ over TLS */

static char kit[256];

static void kit_up(void)
{
    ignore_sigpipe();
    cr_assert_eq(tlskit_make(kit, sizeof kit), 0);
}

static void kit_down(void)
{
    tlskit_remove(kit);
}

static const char pipelined[] = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"
                                "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";

/* The server side writes the bytes in 1-byte TLS records, so the reader's every view is a record's. */
static int dribble_tls(cio_stream *s, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof pipelined - 1; i++) {
        int rc = cio_stream_write(s, pipelined + i, 1);
        if (rc == 0)
            rc = cio_stream_drain(s);
        if (rc < 0)
            return rc;
    }
    char c;
    return (int)cio_stream_read(s, &c, 1);
}

static int tls_body(void *arg)
{
    (void)arg;
    char cert[320], key[320], ca[320];
    cio_tls_ctx *sc, *cc;
    cr_assert_eq(cio_tls_ctx_new(&sc, CIO_TLS_SERVER,
                                 &(cio_tls_opts){.cert_file = tlskit_path(kit, "server.pem", cert, sizeof cert),
                                                 .key_file = tlskit_path(kit, "server.key", key, sizeof key)}),
                 0);
    cr_assert_eq(
        cio_tls_ctx_new(&cc, CIO_TLS_CLIENT, &(cio_tls_opts){.ca_file = tlskit_path(kit, "ca.pem", ca, sizeof ca)}), 0);
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, dribble_tls, NULL, "127.0.0.1", 0, &(cio_server_opts){.tls = sc}), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *s;
    cr_assert_eq(cio_connect_addr(&s, &a, &(cio_connect_opts){.tls = cc, .server_name = "localhost"}), 0);
    cio_http_header hs[4];
    cio_http_head h;
    cio_http_head_init(&h, hs, 4);
    ssize_t n = cio_http_read_request(s, &h, NULL);
    cr_assert_eq(n, 48, "%s", cio_err_name((int)n));
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init_request(&b, s, &h, &(cio_http_body_opts){.skip = (size_t)n}), 0);
    cio_buf all;
    cr_assert_eq(cio_http_body_read_all(&b, &all), 0);
    cr_assert(all.len == 9 && memcmp(all.data, "wikipedia", 9) == 0);
    cio_buf_free(&all);
    cio_http_body_fini(&b);
    cio_http_head_init(&h, hs, 4);
    n = cio_http_read_request(s, &h, NULL);
    cr_assert_eq(n, 28);
    cr_assert(cio_http_str_ieq(h.target, "/b"));
    cr_assert_eq(cio_stream_consume(s, (size_t)n), 0);
    cr_assert_eq(cio_stream_write(s, "!", 1), 0);
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(body, heads_and_chunked_bodies_read_in_place_over_tls_records_of_one_byte, .init = kit_up, .fini = kit_down)
{
    tst_run(tls_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ writing heads */

Test(head_out, a_response_head_with_fields_is_built_in_a_caller_buffer)
{
    char buf[256];
    cio_http_head_out w;
    cio_http_head_out_init(&w, buf, sizeof buf);
    cr_assert_eq(cio_http_head_out_status(&w, 404, NULL, 1), 0);
    cr_assert_eq(cio_http_head_out_header(&w, "Content-Type", "text/plain; charset=utf-8"), 0);
    cr_assert_eq(cio_http_head_out_header_u64(&w, "Content-Length", 9), 0);
    cr_assert_eq(cio_http_head_out_header(&w, "X-Empty", ""), 0);
    const char want[] = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\n"
                        "X-Empty: \r\n\r\n";
    cr_assert_eq(cio_http_head_out_end(&w), (ssize_t)strlen(want));
    cr_assert_str_eq(buf, want);
    cio_http_head_out_fini(&w);
}

Test(head_out, a_request_head_grows_its_own_buffer_and_parses_back)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    cio_http_head_out w;
    cio_http_head_out_init(&w, NULL, 0);
    cr_assert_eq(cio_http_head_out_request(&w, "PATCH", "/items/7?x=%20", 1), 0);
    char name[16], value[600];
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "X-Field-%d", i);
        cr_assert_eq(cio_http_head_out_header(&w, name, value), 0);
    }
    ssize_t n = cio_http_head_out_end(&w);
    cr_assert_gt(n, 20 * 600);
    cio_http_header hs[32];
    cio_http_head h;
    cio_http_head_init(&h, hs, 32);
    cr_assert_eq(cio_http_parse_request(&h, w.buf, (size_t)n, NULL), n);
    cr_assert(cio_http_str_ieq(h.method, "PATCH") && h.num_headers == 20 && hs[19].value.len == 599);
    cio_http_head_out_fini(&w);
    cr_assert_eq(tst_live_blocks(), blocks);
}

struct injection {
    const char *name;
    int (*add)(cio_http_head_out *w);
};

static int inj_value_crlf(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "X-A", "ok\r\nSet-Cookie: evil=1");
}
static int inj_value_lf(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "X-A", "a\nb");
}
static int inj_value_nul(cio_http_head_out *w)
{
    return cio_http_head_out_header_n(w, "X-A", 3, "a\0b", 3);
}
static int inj_value_ctl(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "X-A", "a\x7f");
}
static int inj_value_edge_space(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "X-A", " padded");
}
static int inj_name_colon(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "X-A: b\r\nX-B", "c");
}
static int inj_name_space(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "X A", "c");
}
static int inj_name_empty(cio_http_head_out *w)
{
    return cio_http_head_out_header(w, "", "c");
}

static const struct injection injections[] = {
    {"CRLF in a value", inj_value_crlf},     {"LF in a value", inj_value_lf},
    {"NUL in a value", inj_value_nul},       {"DEL in a value", inj_value_ctl},
    {"leading space", inj_value_edge_space}, {"colon and CRLF in a name", inj_name_colon},
    {"space in a name", inj_name_space},     {"empty name", inj_name_empty},
};

Test(head_out, header_injection_is_refused_and_the_refusal_sticks)
{
    for (size_t i = 0; i < sizeof injections / sizeof injections[0]; i++) {
        char buf[256];
        cio_http_head_out w;
        cio_http_head_out_init(&w, buf, sizeof buf);
        cr_assert_eq(cio_http_head_out_status(&w, 200, NULL, 1), 0);
        cr_assert_eq(injections[i].add(&w), CIO_EHTTP_BAD_FIELD, "%s", injections[i].name);
        cr_assert_eq(cio_http_head_out_header(&w, "X-Fine", "yes"), CIO_EHTTP_BAD_FIELD, "%s sticks",
                     injections[i].name);
        cr_assert_eq(cio_http_head_out_end(&w), CIO_EHTTP_BAD_FIELD);
        cr_assert_null(strstr(buf, "evil"), "nothing of it was written");
    }
}

Test(head_out, start_lines_are_checked)
{
    struct {
        const char *method, *target;
        int status;
        const char *reason;
    } bad[] = {
        {"GE T", "/", 0, NULL}, {"GET", "/a b", 0, NULL}, {"GET", "/\r\nX: y", 0, NULL},   {"GET", "", 0, NULL},
        {NULL, NULL, 99, NULL}, {NULL, NULL, 1000, NULL}, {NULL, NULL, 200, "OK\r\nX: y"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[128];
        cio_http_head_out w;
        cio_http_head_out_init(&w, buf, sizeof buf);
        int rc = bad[i].method ? cio_http_head_out_request(&w, bad[i].method, bad[i].target, 1)
                               : cio_http_head_out_status(&w, bad[i].status, bad[i].reason, 1);
        cr_assert_eq(rc, CIO_EHTTP_BAD_FIELD, "row %zu", i);
    }
    char small[24];
    cio_http_head_out w;
    cio_http_head_out_init(&w, small, sizeof small);
    cr_assert_eq(cio_http_head_out_status(&w, 200, "OK", 1), 0);
    cr_assert_eq(cio_http_head_out_header(&w, "Content-Type", "x"), -ENOSPC, "the caller's buffer is too small");
    cio_http_head_out_init(&w, small, sizeof small);
    cr_assert_eq(cio_http_head_out_status(&w, 200, "OK", 1), 0);
    cr_assert_eq(cio_http_head_out_status(&w, 200, "OK", 1), -EINVAL, "one start line");
    cr_assert_str_eq(cio_http_reason(418), "");
    cr_assert_str_eq(cio_http_reason(503), "Service Unavailable");
}

/* ------------------------------------------------------------------------------------------------ writing bodies */

/* Write a body in the given framing, read it back with the reader: the same bytes, the same framing. */
static int out_and_back(void *arg)
{
    (void)arg;
    int framings[] = {CIO_HTTP_BODY_LENGTH, CIO_HTTP_BODY_CHUNKED};
    for (int i = 0; i < 2; i++) {
        cio_stream *s[2];
        pair(s, NULL);
        cio_http_body_out w;
        cr_assert_eq(cio_http_body_out_init(&w, s[0], framings[i], 12), 0);
        cr_assert_eq(cio_http_body_out_write(&w, "hello ", 6), 0);
        cr_assert_eq(cio_http_body_out_write(&w, "", 0), 0);
        char path[] = "/tmp/cio-out-XXXXXX";
        int fd = mkstemp(path);
        cr_assert_eq(write(fd, "xxworld", 7), 7);
        cr_assert_eq(cio_http_body_out_sendfile(&w, fd, 2, 5), 5);
        cr_assert_eq(cio_http_body_out_write(&w, "!", 1), 0);
        if (framings[i] == CIO_HTTP_BODY_LENGTH) {
            cr_assert_eq(cio_http_body_out_write(&w, "?", 1), CIO_EHTTP_BODY_OVERRUN);
            cr_assert_eq(cio_http_body_out_end(&w, NULL), 0);
        } else {
            cio_http_head_out t;
            char tb[64];
            cio_http_head_out_init(&t, tb, sizeof tb);
            cr_assert_eq(cio_http_head_out_header(&t, "X-Done", "1"), 0);
            cr_assert_eq(cio_http_body_out_end(&w, &t), 0);
        }
        cr_assert_eq(cio_http_body_out_end(&w, NULL), -EINVAL, "once");
        cr_assert_eq(cio_http_body_out_write(&w, "late", 4), -EINVAL);
        close(fd);
        unlink(path);
        cio_http_body_in b;
        cr_assert_eq(cio_http_body_init(&b, s[1], framings[i], 12, &(cio_http_body_opts){.keep_trailers = true}), 0);
        cio_buf all;
        cr_assert_eq(cio_http_body_read_all(&b, &all), 0);
        cr_assert(all.len == 12 && memcmp(all.data, "hello world!", 12) == 0, "framing %d", framings[i]);
        cio_buf_free(&all);
        if (framings[i] == CIO_HTTP_BODY_CHUNKED) {
            cio_http_header hs[2];
            cio_http_head th;
            cio_http_head_init(&th, hs, 2);
            cr_assert_eq(cio_http_body_trailers(&b, &th), 1);
        }
        cio_http_body_fini(&b);
        cr_assert_eq(cio_stream_close(s[0]), 0);
        cr_assert_eq(cio_stream_close(s[1]), 0);
    }
    cio_stream *s[2];
    pair(s, NULL);
    cio_http_body_out w;
    cr_assert_eq(cio_http_body_out_init(&w, s[0], CIO_HTTP_BODY_LENGTH, 10), 0);
    cr_assert_eq(cio_http_body_out_write(&w, "short", 5), 0);
    cr_assert_eq(cio_http_body_out_end(&w, NULL), CIO_EHTTP_BODY_SHORT);
    cr_assert_eq(cio_http_body_out_init(&w, s[0], CIO_HTTP_BODY_NONE, 0), 0);
    cr_assert_eq(cio_http_body_out_write(&w, "x", 1), -EINVAL);
    cr_assert_eq(cio_http_body_out_init(&w, s[0], 42, 0), -EINVAL);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(body_out, length_and_chunked_bodies_read_back_whole_and_their_rules_hold)
{
    tst_run(out_and_back, NULL);
}
