/* client.c: fuzz the client session's whole response path from bytes: each input is what a server answers. Its
 * first byte picks how the client asks and reads (see the FL_ flags); the rest is one answer, or two split at
 * "\n@@\n": the first for the first request the server reads, the second for every later one (after which the
 * server closes). The server is a raw one on a Unix socket that every connection of the session goes to (so
 * that redirects to any host come back to it, never to a name lookup), on a loop with the mock clock (so that
 * each timeout the bytes provoke passes at once). Two requests per session: the second may reuse the first's
 * connection. The client must return an error or a response, never crash, leak or hang. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    FL_HEAD = 1 << 0,      /* the first request is a HEAD */
    FL_RAW = 1 << 1,       /* no decoding */
    FL_LINES = 1 << 2,     /* bodies read line by line (then the rest at once), else piece by piece */
    FL_UPGRADE = 1 << 3,   /* the first request asks to upgrade (and a 101's stream is taken and read) */
    FL_RAISE = 1 << 4,     /* raise_for_status */
    FL_POST = 1 << 5,      /* the second request is a POST with a body */
    FL_EXPECT = 1 << 6,    /* and Expect: 100-continue */
    FL_REDIRECTS = 1 << 7, /* redirects followed (else none) */
};

static const char sep[] = "\n@@\n";

static cio_loop *loop;
static cio_server *srv;
static cio_tls_ctx *tls;
static char path[64];

/* The current input's two answers; requests served and server connections still running. */
static const uint8_t *part[2];
static size_t part_len[2];
static int served, active;

static int serve(cio_stream *s, void *arg)
{
    (void)arg;
    active++;
    for (;;) {
        const void *v;
        size_t n;
        if (cio_stream_peek_until(s, "\r\n\r\n", 4, &v, &n) != 1 || cio_stream_consume(s, n) < 0)
            break;
        /* A request body (the POST's, a 307's resend) is read as answers are: not at all; it is small. */
        int k = served++ == 0 ? 0 : 1;
        if (part_len[k] && cio_stream_write(s, part[k], part_len[k]) < 0)
            break;
        if (k == 1)
            break;
    }
    (void)cio_stream_write_eof(s);
    char buf[4096];
    while (cio_stream_read(s, buf, sizeof buf) > 0)
        ;
    active--;
    return 0;
}

static int start(void *arg)
{
    (void)arg;
    snprintf(path, sizeof path, "@cio-fuzz-client-%d", (int)getpid());
    if (cio_start_unix_server(&srv, serve, NULL, path, NULL) < 0)
        abort();
    /* https Locations handshake with the raw server: a context made once (the system store is not loaded for
       every input), never verifying (the bytes are not a certificate anyway). */
    if (cio_tls_ctx_new(&tls, CIO_TLS_CLIENT, &(cio_tls_opts){.insecure_skip_verify = true}) < 0)
        abort();
    return 0;
}

/* Read the body the way the flags say, as far as it goes. */
static void read_body(cio_client_response *r, unsigned fl, bool second)
{
    if (fl & FL_LINES) {
        const char *line;
        size_t len;
        for (int i = 0; i < 8 && cio_client_response_read_line(r, &line, &len, 64) == 1; i++)
            ;
        cio_buf b;
        if (cio_client_response_read(r, &b) == 0)
            cio_buf_free(&b);
        return;
    }
    if (second) {
        cio_buf b;
        if (cio_client_response_read(r, &b) == 0)
            cio_buf_free(&b);
        return;
    }
    const void *p;
    size_t n;
    while (cio_client_response_next(r, &p, &n) == 1)
        ;
}

/* A 101's stream, taken over: whatever came behind the head, until the end or a (mock) second of silence. */
static void read_upgraded(cio_client_response *r)
{
    cio_stream *st;
    if (cio_client_response_detach(r, &st) < 0)
        return;
    (void)cio_stream_set_read_timeout(st, CIO_SEC(1));
    char buf[1024];
    while (cio_stream_read(st, buf, sizeof buf) > 0)
        ;
    cio_stream_close(st);
}

static int client(void *arg)
{
    unsigned fl = *(const unsigned *)arg;
    cio_client_session *s;
    cio_client_session_opts so = {
        .unix_socket = path,
        .tls = tls,
        .max_size = 4096,
        .max_headers = 32,
        .max_redirects = fl & FL_REDIRECTS ? 3 : -1,
        .cookie_jar = true,
        .no_decompress = fl & FL_RAW,
        .raise_for_status = fl & FL_RAISE,
        .timeout = {.total = CIO_SEC(30), .connect = CIO_SEC(5), .sock_read = CIO_SEC(1)},
    };
    if (cio_client_session_new(&s, &so) < 0)
        abort();
    const char *up[] = {"Upgrade", "x-fuzz", "Connection", "upgrade", NULL};
    cio_client_request_opts o1 = {.headers = fl & FL_UPGRADE ? up : NULL, .expect_timeout = CIO_MS(100)};
    cio_client_response *r;
    if (cio_client_request(s, fl & FL_HEAD ? "HEAD" : "GET", "http://fuzz.test/first", &o1, &r) == 0) {
        if (cio_client_response_status(r) == 101)
            read_upgraded(r);
        else
            read_body(r, fl, false);
        (void)cio_client_response_release(r);
    }
    static const char body[] = "a=1&b=2";
    cio_client_request_opts o2 = {
        .params = (const char *[]){"q", "v w", NULL}, .expect_continue = fl & FL_EXPECT, .expect_timeout = CIO_MS(100)};
    if (fl & FL_POST) {
        o2.body = body;
        o2.body_len = sizeof body - 1;
    }
    if (cio_client_request(s, fl & FL_POST ? "POST" : "GET", "http://fuzz.test/second", &o2, &r) == 0) {
        read_body(r, fl, true);
        (void)cio_client_response_release(r);
    }
    if (cio_client_session_close(s) < 0)
        abort();
    /* The server's side of every connection ends too (the session's close aborted them): nothing of this
       input runs on into the next. A few mock seconds at most, else a connection was left hanging. */
    for (int i = 0; active > 0; i++) {
        if (i == 1000)
            abort();
        (void)cio_sleep(CIO_MS(10));
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    if (!loop) {
        signal(SIGPIPE, SIG_IGN);
        if (cio_loop_open(&loop, &(cio_loop_opts){.mock_clock = true}) < 0 || cio_loop_run(loop, start, NULL) < 0)
            abort();
    }
    unsigned fl = size ? data[0] : 0;
    const uint8_t *rest = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;
    const uint8_t *cut = memmem(rest, len, sep, sizeof sep - 1);
    part[0] = rest;
    part_len[0] = cut ? (size_t)(cut - rest) : len;
    part[1] = cut ? cut + sizeof sep - 1 : rest;
    part_len[1] = cut ? len - part_len[0] - (sizeof sep - 1) : len;
    served = 0;
    if (cio_loop_run(loop, client, &fl) < 0)
        abort();
    return 0;
}
