/* bodies.c: request bodies beyond memory and responses read by lines or to a file, against cio's own server (which
 * echoes the body and the framing fields it came with), scripted raw servers and Python's aiohttp.web: files of
 * 0 B, 1 B and 5 MiB (plain and TLS, sent again on a 307 and on a stale connection), a producer against a slow
 * reader (back-pressure, bounded memory), urlencoded and multipart forms, JSON, Expect: 100-continue answered,
 * refused and timed out, lines across chunk boundaries, and every bad argument with its code. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "clientkit.h"
#include "tlskit.h"

TestSuite(client_bodies, .init = wk_init);

#define MIB ((size_t)1024 * 1024)

static unsigned char pattern(size_t i, unsigned seed)
{
    return (unsigned char)((i * 31 + i / 251 + seed) & 0xff);
}

/* A file of `size` pattern bytes at "<dir>/<name>" (path into `path`). */
static int make_file(const char *dir, const char *name, size_t size, unsigned seed, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    unsigned char buf[65536];
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(done + i, seed);
        if (write(fd, buf, n) != (ssize_t)n) {
            close(fd);
            return -EIO;
        }
        done += n;
    }
    close(fd);
    return 0;
}

static bool is_pattern(const void *data, size_t len, size_t from, unsigned seed)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        if (p[i] != pattern(from + i, seed))
            return false;
    return true;
}

static void sha_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ------------------------------------------------------------------------------------------------ cio's server */

static void copy_field(cio_web_request *req, const char *name, char *out, size_t cap)
{
    const char *v = cio_web_header(req, name);
    snprintf(out, cap, "%s", v ? v : "-");
}

/* The body back as it came, with the request's framing fields as X-Req-CL, -TE, -CT and -Expect. */
static int h_echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    char cl[32], te[32], ct[256], ex[32];
    copy_field(req, "Content-Length", cl, sizeof cl);
    copy_field(req, "Transfer-Encoding", te, sizeof te);
    copy_field(req, "Content-Type", ct, sizeof ct);
    copy_field(req, "Expect", ex, sizeof ex);
    const char *data;
    size_t len;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    if ((rc = cio_web_add_header(res, "X-Req-CL", cl)) == 0 && (rc = cio_web_add_header(res, "X-Req-TE", te)) == 0 &&
        (rc = cio_web_add_header(res, "X-Req-CT", ct)) == 0 && (rc = cio_web_add_header(res, "X-Req-Expect", ex)) == 0)
        rc = cio_web_add_header(res, "X-Req-Method", cio_web_method(req));
    return rc ? rc : cio_web_respond(res, 200, "application/octet-stream", data, len);
}

static int h_redirect(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    int rc = cio_web_add_header(res, "Location", "/echo");
    return rc ? rc : cio_web_respond(res, atoi(arg), NULL, NULL, 0);
}

/* 5 MiB of pattern bytes, written in 64 KiB pieces (chunked). */
static int h_big(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    static unsigned char piece[65536];
    int rc = cio_web_prepare(res, -1);
    for (size_t off = 0; rc == 0 && off < 5 * MIB; off += sizeof piece) {
        for (size_t i = 0; i < sizeof piece; i++)
            piece[i] = pattern(off + i, 7);
        rc = cio_web_write(res, piece, sizeof piece);
    }
    return rc;
}

/* 100,000 lines "line <n>\n", written in pieces of 1,000 bytes that cut lines anywhere; compressed with `arg`. */
static int h_lines(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    int rc = 0;
    if (arg && (rc = cio_web_set_header(res, "Content-Type", "text/plain")) == 0)
        rc = cio_web_compress(res, 0);
    if (rc == 0)
        rc = cio_web_prepare(res, -1);
    char buf[2048];
    size_t n = 0;
    for (int i = 0; rc == 0 && i < 100000; i++) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "line %d\n", i);
        if (n >= 1000) {
            rc = cio_web_write(res, buf, 1000);
            memmove(buf, buf + 1000, n - 1000);
            n -= 1000;
        }
    }
    if (rc == 0 && n)
        rc = cio_web_write(res, buf, n);
    return rc;
}

struct fixture {
    cio_web_app *app;
    cio_web_server *srv, *tls_srv;
    cio_tls_ctx *server_ctx;
    int port, tls_port;
    char dir[256]; /* tlskit's: certificates, and the test's files */
    char url[256];
    cio_client_session *s;
};

static void fx_open(struct fixture *f)
{
    WK_EQ(cio_web_app_open(&f->app, &(cio_web_app_opts){.client_max_size = 64 * MIB}), 0);
    WK_EQ(cio_web_route(f->app, "*", "/echo", h_echo, NULL), 0);
    WK_EQ(cio_web_route(f->app, "*", "/r307", h_redirect, "307"), 0);
    WK_EQ(cio_web_route(f->app, "*", "/r308", h_redirect, "308"), 0);
    WK_EQ(cio_web_route(f->app, "*", "/r303", h_redirect, "303"), 0);
    WK_EQ(cio_web_get(f->app, "/big", h_big, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/lines", h_lines, NULL), 0);
    WK_EQ(cio_web_get(f->app, "/lines.gz", h_lines, "compressed"), 0);
    WK_EQ(cio_web_server_start(&f->srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    f->port = cio_web_server_port(f->srv);
    char cert[512], key[512], ca[512];
    WK_EQ(tlskit_make(f->dir, sizeof f->dir), 0);
    cio_tls_opts so = {.cert_file = tlskit_path(f->dir, "server.pem", cert, sizeof cert),
                       .key_file = tlskit_path(f->dir, "server.key", key, sizeof key)};
    WK_EQ(cio_tls_ctx_new(&f->server_ctx, CIO_TLS_SERVER, &so), 0);
    WK_EQ(cio_web_server_start(&f->tls_srv, f->app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = f->server_ctx}),
          0);
    f->tls_port = cio_web_server_port(f->tls_srv);
    cio_tls_opts co = {.ca_file = tlskit_path(f->dir, "ca.pem", ca, sizeof ca)};
    WK_EQ(cio_client_session_new(&f->s, &(cio_client_session_opts){.tls_opts = &co}), 0);
}

static void fx_close(struct fixture *f)
{
    WK_EQ(cio_client_session_close(f->s), 0);
    WK_EQ(cio_web_server_close(f->srv, CIO_SEC(5)), 0);
    WK_EQ(cio_web_server_close(f->tls_srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(f->server_ctx);
    cio_web_app_close(f->app);
    tlskit_remove(f->dir);
}

static const char *U(struct fixture *f, const char *path)
{
    return ck_url(f->url, sizeof f->url, f->port, path);
}

static const char *UT(struct fixture *f, const char *path)
{
    snprintf(f->url, sizeof f->url, "https://127.0.0.1:%d%s", f->tls_port, path);
    return f->url;
}

/* Send, read the whole body into `b`, and keep the response for its header fields (released by the caller). */
static int fetch(cio_client_session *s, const char *method, const char *url, const cio_client_request_opts *o,
                 cio_client_response **r, cio_buf *b)
{
    *b = (cio_buf){0};
    int rc = cio_client_request(s, method, url, o, r);
    if (rc == 0 && (rc = cio_client_response_read(*r, b)) < 0) {
        (void)cio_client_response_release(*r);
        *r = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------------ files */

static int file_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    const size_t sizes[] = {0, 1, 5 * MIB};
    for (int tls = 0; tls < 2; tls++) {
        for (size_t i = 0; i < 3; i++) {
            char path[512], name[32], want[32];
            snprintf(name, sizeof name, "file%zu", i);
            WK_EQ(make_file(f.dir, name, sizes[i], (unsigned)i, path, sizeof path), 0);
            cio_client_response *r;
            cio_buf b;
            cio_client_request_opts o = {.body_file = path};
            WK_EQ(fetch(f.s, "POST", tls ? UT(&f, "/echo") : U(&f, "/echo"), &o, &r, &b), 0);
            WK_EQ(cio_client_response_status(r), 200);
            snprintf(want, sizeof want, "%zu", sizes[i]);
            WK_STREQ(cio_client_response_header(r, "X-Req-CL"), want);
            WK_STREQ(cio_client_response_header(r, "X-Req-TE"), "-");
            WK_EQ(b.len, sizes[i]);
            WK_CHECK(is_pattern(b.data, b.len, 0, (unsigned)i), "%zu bytes over %s", sizes[i], tls ? "TLS" : "TCP");
            cio_buf_free(&b);
            WK_EQ(cio_client_response_release(r), 1);
        }
    }
    /* A slice: from an offset, a length. */
    char path[512];
    WK_EQ(make_file(f.dir, "slice", 100000, 3, path, sizeof path), 0);
    cio_client_request_opts o = {.body_file = path, .body_file_offset = 1000, .body_file_len = 5000};
    cio_client_response *r;
    cio_buf b;
    WK_EQ(fetch(f.s, "PUT", U(&f, "/echo"), &o, &r, &b), 0);
    WK_STREQ(cio_client_response_header(r, "X-Req-CL"), "5000");
    WK_EQ(b.len, 5000);
    WK_CHECK(is_pattern(b.data, b.len, 1000, 3));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* From an offset to the end. */
    o = (cio_client_request_opts){.body_file = path, .body_file_offset = 99990};
    WK_EQ(fetch(f.s, "PUT", U(&f, "/echo"), &o, &r, &b), 0);
    WK_EQ(b.len, 10);
    WK_CHECK(is_pattern(b.data, b.len, 99990, 3));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* A 307 and a 308 send the file again, from its start offset. */
    for (int i = 0; i < 2; i++) {
        o = (cio_client_request_opts){.body_file = path, .body_file_offset = 7};
        WK_EQ(fetch(f.s, "POST", U(&f, i ? "/r308" : "/r307"), &o, &r, &b), 0);
        WK_EQ(cio_client_response_status(r), 200);
        WK_EQ(cio_client_response_redirects(r), 1);
        WK_STREQ(cio_client_response_header(r, "X-Req-Method"), "POST");
        WK_EQ(b.len, 100000 - 7);
        WK_CHECK(is_pattern(b.data, b.len, 7, 3));
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    /* A 303 turns it into a GET without a body. */
    o = (cio_client_request_opts){.body_file = path};
    WK_EQ(fetch(f.s, "POST", U(&f, "/r303"), &o, &r, &b), 0);
    WK_STREQ(cio_client_response_header(r, "X-Req-Method"), "GET");
    WK_STREQ(cio_client_response_header(r, "X-Req-CL"), "-");
    WK_EQ(b.len, 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    fx_close(&f);
    return 0;
}

Test(client_bodies, a_file_body_of_0_1_and_5_mib_arrives_byte_for_byte_over_tcp_and_tls_and_again_after_307)
{
    tst_run(file_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ raw servers */

/* Read a request head off `s` into rs->last; its length, or the error. The head stays in the stream. */
static ssize_t raw_head(cio_stream *s, struct ck_raw *rs, cio_http_head *h, cio_http_header *hdrs, size_t n)
{
    cio_http_head_init(h, hdrs, n);
    ssize_t hl = cio_http_read_request(s, h, NULL);
    if (hl < 0)
        return hl;
    const void *v;
    size_t len;
    if (cio_stream_peek(s, 0, &v, &len) == 1) {
        size_t k = (size_t)hl < sizeof rs->last - 1 ? (size_t)hl : sizeof rs->last - 1;
        memcpy(rs->last, v, k);
        rs->last[k] = 0;
    }
    rs->requests++;
    return hl;
}

/* Answer every request with its body's length and digest ("<len> <sha256>"); the first connection is closed
   under its second request (read whole: it surely arrived), as a server that timed the connection out does. */
static int stale_echo_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    for (int served = 0;; served++) {
        cio_http_header hdrs[32];
        cio_http_head h;
        ssize_t hl = raw_head(s, rs, &h, hdrs, 32);
        if (hl < 0)
            return 0;
        cio_http_body_in b;
        cio_buf body = {0};
        int rc = cio_http_body_init_request(&b, s, &h, &(cio_http_body_opts){.skip = (size_t)hl, .max_size = 64 * MIB});
        if (rc == 0)
            rc = cio_http_body_read_all(&b, &body);
        cio_http_body_fini(&b);
        if (rc < 0)
            return 0;
        char digest[65], out[160];
        sha_hex(body.data ? body.data : "", body.len, digest);
        snprintf(out, sizeof out, "%zu %s", body.len, digest);
        cio_buf_free(&body);
        if (index == 0 && served == 1)
            return 0;
        char head[64];
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(out));
        if (ck_write(s, head) < 0 || ck_write(s, out) < 0)
            return 0;
    }
}

static int produce_hello(cio_client_body_writer *w, void *arg)
{
    (void)arg;
    int rc = cio_client_body_write(w, "hello ", 6);
    return rc ? rc : cio_client_body_write(w, "world", 5);
}

static int stale_body(void *arg)
{
    (void)arg;
    char dir[] = "/tmp/cio-bodies-XXXXXX", path[512];
    WK_CHECK(mkdtemp(dir) != NULL);
    WK_EQ(make_file(dir, "f", MIB + 3, 9, path, sizeof path), 0);
    unsigned char *want = malloc(MIB + 3);
    for (size_t i = 0; i < MIB + 3; i++)
        want[i] = pattern(i, 9);
    char digest[65], expect[160];
    sha_hex(want, MIB + 3, digest);
    snprintf(expect, sizeof expect, "%zu %s", MIB + 3, digest);
    free(want);
    struct ck_raw rs = {.fn = stale_echo_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *r;
    cio_buf b;
    WK_EQ(fetch(s, "GET", url, NULL, &r, &b), 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* The PUT goes out on the kept connection, which the server closes under it: sent again, whole, on a new one. */
    WK_EQ(fetch(s, "PUT", url, &(cio_client_request_opts){.body_file = path}, &r, &b), 0);
    WK_STREQ(b.data, expect);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(rs.conns, 2);
    WK_EQ(rs.requests, 3);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    /* A producer's body is not sent twice: the same stale connection fails the PUT. */
    rs = (struct ck_raw){.fn = stale_echo_conn};
    WK_EQ(ck_raw_start(&rs), 0);
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    ck_url(url, sizeof url, rs.port, "/");
    WK_EQ(fetch(s, "GET", url, NULL, &r, &b), 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_request(s, "PUT", url, &(cio_client_request_opts){.producer = produce_hello}, &r),
          CIO_ECLIENT_DISCONNECTED);
    WK_ISNULL(r);
    WK_EQ(rs.conns, 1);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    unlink(path);
    rmdir(dir);
    return 0;
}

Test(client_bodies, a_file_is_sent_again_whole_on_a_stale_connections_retry_and_a_producer_is_not)
{
    tst_run(stale_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ producers */

#define SLOW_TOTAL ((size_t)32 * MIB)
#define SLOW_PIECE ((size_t)512)

struct slow {
    size_t received; /* body bytes the server has read */
    size_t written;  /* body bytes the producer has written */
    size_t max_lead; /* the most the producer was ever ahead of the server */
    long base_blocks, max_blocks;
    bool good; /* every byte as the producer wrote it */
};

/* Read the body a millisecond (of the mock clock) per 8 KiB, from a small receive buffer. */
static int slow_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    struct slow *sl = rs->arg;
    int small = 32 * 1024;
    (void)setsockopt(cio_stream_fd(s), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    cio_http_header hdrs[32];
    cio_http_head h;
    ssize_t hl = raw_head(s, rs, &h, hdrs, 32);
    if (hl < 0)
        return 0;
    cio_http_body_in b;
    int rc = cio_http_body_init_request(&b, s, &h, &(cio_http_body_opts){.skip = (size_t)hl, .max_size = 64 * MIB});
    sl->good = rc == 0;
    char buf[8192];
    ssize_t n;
    while (rc == 0 && (n = cio_http_body_read(&b, buf, sizeof buf)) > 0) {
        sl->good = sl->good && is_pattern(buf, (size_t)n, sl->received, 5);
        if ((sl->received + (size_t)n) / 8192 != sl->received / 8192)
            (void)cio_sleep(CIO_MS(1)); /* per 8 KiB, however short the reads */
        sl->received += (size_t)n;
    }
    cio_http_body_fini(&b);
    char out[128];
    snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    (void)ck_write(s, out);
    return ck_wait_close(s);
}

static int produce_slow(cio_client_body_writer *w, void *arg)
{
    struct slow *sl = arg;
    unsigned char piece[SLOW_PIECE];
    sl->base_blocks = tst_live_big_blocks();
    while (sl->written < SLOW_TOTAL) {
        for (size_t i = 0; i < SLOW_PIECE; i++)
            piece[i] = pattern(sl->written + i, 5);
        int rc = cio_client_body_write(w, piece, SLOW_PIECE);
        if (rc < 0)
            return rc;
        sl->written += SLOW_PIECE;
        size_t lead = sl->written - sl->received;
        if (lead > sl->max_lead)
            sl->max_lead = lead;
        long blocks = tst_live_big_blocks();
        if (blocks > sl->max_blocks)
            sl->max_blocks = blocks;
    }
    return 0;
}

static int slow_body(void *arg)
{
    (void)arg;
    struct slow sl = {0};
    struct ck_raw rs = {.fn = slow_conn, .arg = &sl};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    cio_client_response *r;
    cio_buf b;
    cio_client_request_opts o = {.producer = produce_slow, .producer_arg = &sl};
    WK_EQ(fetch(s, "POST", ck_url(url, sizeof url, rs.port, "/up"), &o, &r, &b), 0);
    WK_STREQ(b.data, "ok");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_CHECK(strstr(rs.last, "\r\nTransfer-Encoding: chunked\r\n") != NULL, "%s", rs.last);
    WK_CHECK(strstr(rs.last, "Content-Length") == NULL, "%s", rs.last);
    WK_EQ(sl.received, SLOW_TOTAL);
    WK_CHECK(sl.good);
    /* Back-pressure: the producer waited for the server, never running more than the buffers' worth ahead (the
       client's high-water mark and the kernel's socket buffers, some 4 MiB on loopback), and cio's own memory
       stayed flat. */
    WK_CHECK(sl.max_lead < 12 * MIB, "%zu bytes ahead", sl.max_lead);
    WK_CHECK(sl.max_blocks - sl.base_blocks <= 2, "%ld big blocks more", sl.max_blocks - sl.base_blocks);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_bodies, a_producer_writing_32_mib_in_small_pieces_is_held_back_by_a_slow_server)
{
    tst_run_expect(slow_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

struct produce {
    const char *const *pieces;
    int ret; /* what the producer returns after its pieces */
    int first_err;
};

static int produce_pieces(cio_client_body_writer *w, void *arg)
{
    struct produce *p = arg;
    for (size_t i = 0; p->pieces[i]; i++) {
        int rc = cio_client_body_write(w, p->pieces[i], strlen(p->pieces[i]));
        if (rc < 0 && !p->first_err)
            p->first_err = rc;
    }
    return p->first_err ? p->first_err : p->ret;
}

/* NULL data with a length: refused, and the refusal returned. */
static int produce_null(cio_client_body_writer *w, void *arg)
{
    (void)arg;
    int rc = cio_client_body_write(w, NULL, 1);
    return cio_client_body_write(w, NULL, 0) == 0 ? rc : -EPROTO;
}

static int producer_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_response *r;
    cio_buf b;
    const char *const hello[] = {"hello", ", ", "", "world", NULL};
    /* Chunked (no length given), and with a length; over TCP and TLS. */
    for (int i = 0; i < 4; i++) {
        bool sized = i & 1;
        struct produce p = {hello, 0, 0};
        cio_client_request_opts o = {.producer = produce_pieces, .producer_arg = &p, .producer_len = sized ? 12 : 0};
        WK_EQ(fetch(f.s, "POST", i < 2 ? U(&f, "/echo") : UT(&f, "/echo"), &o, &r, &b), 0);
        WK_STREQ(b.data, "hello, world");
        WK_STREQ(cio_client_response_header(r, "X-Req-TE"), sized ? "-" : "chunked");
        WK_STREQ(cio_client_response_header(r, "X-Req-CL"), sized ? "12" : "-");
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    /* Held to its length: more is an overrun (nothing of the piece written), fewer is short. */
    struct produce p = {hello, 0, 0};
    cio_client_request_opts o = {.producer = produce_pieces, .producer_arg = &p, .producer_len = 6};
    WK_EQ(cio_client_request(f.s, "POST", U(&f, "/echo"), &o, &r), CIO_EHTTP_BODY_OVERRUN);
    WK_ISNULL(r);
    p = (struct produce){hello, 0, 0};
    o.producer_len = 13;
    WK_EQ(cio_client_request(f.s, "POST", U(&f, "/echo"), &o, &r), CIO_EHTTP_BODY_SHORT);
    /* The producer's own error is the request's. */
    p = (struct produce){hello, -EPROTO, 0};
    o.producer_len = 0;
    WK_EQ(cio_client_request(f.s, "POST", U(&f, "/echo"), &o, &r), -EPROTO);
    WK_ISNULL(r);
    WK_EQ(cio_client_body_write(NULL, "x", 1), -EINVAL);
    o = (cio_client_request_opts){.producer = produce_null};
    WK_EQ(cio_client_request(f.s, "POST", U(&f, "/echo"), &o, &r), -EINVAL);
    o = (cio_client_request_opts){.producer = produce_pieces, .producer_arg = &p};
    /* A 307 or 308 would send the stream again: it is the response. A 303 is followed as a GET. */
    for (int i = 0; i < 2; i++) {
        p = (struct produce){hello, 0, 0};
        WK_EQ(fetch(f.s, "POST", U(&f, i ? "/r308" : "/r307"), &o, &r, &b), 0);
        WK_EQ(cio_client_response_status(r), i ? 308 : 307);
        WK_EQ(cio_client_response_redirects(r), 0);
        WK_STREQ(cio_client_response_header(r, "Location"), "/echo");
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    p = (struct produce){hello, 0, 0};
    WK_EQ(fetch(f.s, "POST", U(&f, "/r303"), &o, &r, &b), 0);
    WK_EQ(cio_client_response_status(r), 200);
    WK_STREQ(cio_client_response_header(r, "X-Req-Method"), "GET");
    WK_EQ(b.len, 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* The session goes on after the failed ones. */
    WK_EQ(fetch(f.s, "GET", U(&f, "/echo"), NULL, &r, &b), 0);
    WK_EQ(cio_client_response_status(r), 200);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    fx_close(&f);
    return 0;
}

Test(client_bodies, a_producer_is_sent_chunked_or_held_to_its_length_and_never_resent)
{
    tst_run(producer_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ forms, JSON */

static int forms_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    cio_client_response *r;
    cio_buf b;
    const char *const form[] = {"a", "1 2", "b", "&=%+", "c d", "\xc3\xa9", "empty", "", "t", "-._~*", NULL};
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &(cio_client_request_opts){.form = form}, &r, &b), 0);
    WK_STREQ(b.data, "a=1+2&b=%26%3D%25%2B&c+d=%C3%A9&empty=&t=-._~%2A");
    WK_STREQ(cio_client_response_header(r, "X-Req-CT"), "application/x-www-form-urlencoded");
    WK_STREQ(cio_client_response_header(r, "X-Req-CL"), "48");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* An empty form is an empty body, still of the form's type. */
    const char *const none[] = {NULL};
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &(cio_client_request_opts){.form = none}, &r, &b), 0);
    WK_EQ(b.len, 0);
    WK_STREQ(cio_client_response_header(r, "X-Req-CT"), "application/x-www-form-urlencoded");
    WK_STREQ(cio_client_response_header(r, "X-Req-CL"), "0");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* JSON as the caller wrote it, typed; a Content-Type of the caller's wins. */
    const char json[] = "{\"k\": [1, \"\xc3\xa9\"]}";
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &(cio_client_request_opts){.json = json}, &r, &b), 0);
    WK_STREQ(b.data, json);
    WK_STREQ(cio_client_response_header(r, "X-Req-CT"), "application/json");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    const char *const ct[] = {"content-type", "application/merge-patch+json", NULL};
    WK_EQ(fetch(f.s, "PATCH", U(&f, "/echo"), &(cio_client_request_opts){.json = json, .headers = ct}, &r, &b), 0);
    WK_STREQ(cio_client_response_header(r, "X-Req-CT"), "application/merge-patch+json");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* Multipart: a value and a file; its Content-Length is what arrived, and the form reads back as sent. */
    char path[512];
    WK_EQ(make_file(f.dir, "up.bin", 200000, 4, path, sizeof path), 0);
    const cio_client_form_part parts[] = {
        {.name = "field", .value = "v\xc3\xa9 \"q\""},
        {.name = "upload", .file = path},
        {.name = "note", .value = "abc\0def", .value_len = 7, .filename = "n.txt", .content_type = "text/plain"},
    };
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &(cio_client_request_opts){.parts = parts, .nparts = 3}, &r, &b), 0);
    const char *rct = cio_client_response_header(r, "X-Req-CT");
    WK_CHECK(rct && !strncmp(rct, "multipart/form-data; boundary=cio-", 34), "%s", wk_s(rct));
    char want_cl[32];
    snprintf(want_cl, sizeof want_cl, "%zu", b.len);
    WK_STREQ(cio_client_response_header(r, "X-Req-CL"), want_cl);
    WK_CHECK(b.data && strstr(b.data, "Content-Disposition: form-data; name=\"field\"\r\n\r\nv\xc3\xa9 \"q\"\r\n"),
             "%.300s", wk_s(b.data));
    WK_CHECK(b.data && strstr(b.data, "Content-Disposition: form-data; name=\"upload\"; filename=\"up.bin\"\r\n"
                                      "Content-Type: application/octet-stream\r\n\r\n"));
    const char *file_at = b.data ? strstr(b.data, "application/octet-stream\r\n\r\n") : NULL;
    WK_CHECK(file_at && is_pattern(file_at + 28, 200000, 0, 4));
    WK_CHECK(b.len > 7 && !memcmp(b.data + b.len - 7 - 44, "abc\0def\r\n--", 11));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* No parts: the close delimiter alone. */
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &(cio_client_request_opts){.parts = parts, .nparts = 0}, &r, &b), 0);
    WK_CHECK(b.len == 42 && !strncmp(b.data, "--cio-", 6) && !strcmp(b.data + 38, "--\r\n"), "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    fx_close(&f);
    return 0;
}

Test(client_bodies, forms_urlencoded_and_multipart_and_json_are_sent_as_typed)
{
    tst_run(forms_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ 100-continue */

struct expect_srv {
    const char *answer; /* sent after the head (NULL: nothing, the body is read when it comes) */
    size_t after_head;  /* bytes that came after the head, until the client closed */
    bool done;
};

static int expect_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    struct expect_srv *e = rs->arg;
    cio_http_header hdrs[32];
    cio_http_head h;
    ssize_t hl = raw_head(s, rs, &h, hdrs, 32);
    if (hl < 0)
        return 0;
    if (e->answer) {
        /* A final answer before the body: then only count what else comes. */
        (void)cio_stream_consume(s, (size_t)hl);
        (void)ck_write(s, e->answer);
        char buf[4096];
        ssize_t n;
        while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
            e->after_head += (size_t)n;
        e->done = true;
        return 0;
    }
    cio_http_body_in b;
    cio_buf body = {0};
    int rc = cio_http_body_init_request(&b, s, &h, &(cio_http_body_opts){.skip = (size_t)hl});
    if (rc == 0)
        rc = cio_http_body_read_all(&b, &body);
    cio_http_body_fini(&b);
    char out[128];
    snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body.len);
    if (rc == 0 && ck_write(s, out) == 0)
        (void)cio_stream_write(s, body.data, body.len);
    cio_buf_free(&body);
    e->done = true;
    return ck_wait_close(s);
}

static int expect_body(void *arg)
{
    (void)arg;
    static char payload[100000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (char)pattern(i, 2);
    cio_client_response *r;
    cio_buf b;
    /* cio's server answers 100 when the handler reads: no waiting. */
    struct fixture f;
    fx_open(&f);
    int64_t t0 = cio_now();
    cio_client_request_opts o = {.body = payload, .body_len = sizeof payload, .expect_continue = true};
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &o, &r, &b), 0);
    WK_EQ(cio_now() - t0, 0);
    WK_STREQ(cio_client_response_header(r, "X-Req-Expect"), "100-continue");
    WK_EQ(b.len, sizeof payload);
    WK_CHECK(b.data && !memcmp(b.data, payload, sizeof payload));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* A producer and a file wait the same way. */
    struct produce p = {(const char *const[]){"chunk", "ed", NULL}, 0, 0};
    o = (cio_client_request_opts){.producer = produce_pieces, .producer_arg = &p, .expect_continue = true};
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &o, &r, &b), 0);
    WK_STREQ(b.data, "chunked");
    WK_STREQ(cio_client_response_header(r, "X-Req-Expect"), "100-continue");
    WK_EQ(cio_now() - t0, 0);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* No body: no Expect. */
    o = (cio_client_request_opts){.expect_continue = true};
    WK_EQ(fetch(f.s, "POST", U(&f, "/echo"), &o, &r, &b), 0);
    WK_STREQ(cio_client_response_header(r, "X-Req-Expect"), "-");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    fx_close(&f);
    /* A server that refuses first (417, 401): that is the response, the body is never sent, the connection is
       closed after it. */
    const char *const refusals[] = {
        "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope",
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        struct expect_srv e = {.answer = refusals[i]};
        struct ck_raw rs = {.fn = expect_conn, .arg = &e};
        WK_EQ(ck_raw_start(&rs), 0);
        cio_client_session *s;
        WK_EQ(cio_client_session_new(&s, NULL), 0);
        char url[64];
        o = (cio_client_request_opts){.body = payload, .body_len = sizeof payload, .expect_continue = true};
        WK_EQ(fetch(s, "PUT", ck_url(url, sizeof url, rs.port, "/"), &o, &r, &b), 0);
        WK_EQ(cio_client_response_status(r), i ? 401 : 417);
        WK_STREQ(b.data, i ? "" : "nope");
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 0);
        WK_EQ(cio_client_session_connections(s, NULL), 0);
        while (!e.done)
            (void)cio_sleep(CIO_MS(1));
        WK_EQ(e.after_head, 0);
        WK_CHECK(strstr(rs.last, "\r\nExpect: 100-continue\r\n") && strstr(rs.last, "\r\nContent-Length: 100000\r\n"),
                 "%s", rs.last);
        WK_EQ(cio_client_session_close(s), 0);
        ck_raw_stop(&rs);
    }
    /* A server that never answers 100 gets the body after the wait: 1 s by default, or as asked. */
    const int64_t waits[] = {0, CIO_SEC(5)};
    for (int i = 0; i < 2; i++) {
        struct expect_srv e = {0};
        struct ck_raw rs = {.fn = expect_conn, .arg = &e};
        WK_EQ(ck_raw_start(&rs), 0);
        cio_client_session *s;
        WK_EQ(cio_client_session_new(&s, NULL), 0);
        char url[64];
        o = (cio_client_request_opts){
            .body = payload, .body_len = sizeof payload, .expect_continue = true, .expect_timeout = waits[i]};
        t0 = cio_now();
        WK_EQ(fetch(s, "PUT", ck_url(url, sizeof url, rs.port, "/"), &o, &r, &b), 0);
        int64_t took = cio_now() - t0;
        WK_CHECK(took >= (i ? CIO_SEC(5) : CIO_SEC(1)) && took < (i ? CIO_SEC(6) : CIO_SEC(2)), "%lld ns",
                 (long long)took);
        WK_EQ(b.len, sizeof payload);
        WK_CHECK(b.data && !memcmp(b.data, payload, sizeof payload));
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
        WK_EQ(cio_client_session_close(s), 0);
        ck_raw_stop(&rs);
    }
    return 0;
}

Test(client_bodies, expect_100_continue_waits_for_the_100_skips_the_body_on_a_refusal_and_sends_it_after_the_wait)
{
    tst_run_expect(expect_body, NULL, CK_OPTS_MOCK, 0);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ lines, save */

/* Answer each request with the next scripted response. */
static int script_conn(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    const char *const *script = rs->arg;
    while (ck_read_request(s, rs) == 0) {
        const char *next = script[rs->requests - 1];
        if (!next || ck_write(s, next) < 0)
            return 0;
    }
    return 0;
}

static int lines_body(void *arg)
{
    (void)arg;
    const char *const script[] = {
        /* Lines cut across chunks: "ab\n", "cdef\n", "\n", "gh" (no "\n" at the end). */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n4\r\nab\nc\r\n2\r\nde\r\n3\r\nf\n\n\r\n2\r\ngh\r\n0\r\n\r\n",
        /* A line over the limit. */
        "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n0123456789\nabc",
        /* A line, then the rest read whole. */
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nx\nres\r\n6\r\nt\nmore\r\n0\r\n\r\n",
        /* A line, then the rest piece by piece; a body without any "\n". */
        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\none\ntwo\nt", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz",
        NULL};
    struct ck_raw rs = {.fn = script_conn, .arg = (void *)script};
    WK_EQ(ck_raw_start(&rs), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    ck_url(url, sizeof url, rs.port, "/");
    cio_client_response *r;
    const char *line;
    size_t len;
    int rc;
    WK_EQ(cio_client_get(s, url, &r), 0);
    const char *const want[] = {"ab\n", "cdef\n", "\n", "gh"};
    for (int i = 0; i < 4; i++) {
        WK_EQ(cio_client_response_read_line(r, &line, &len, 64), 1);
        WK_CHECK(len == strlen(want[i]) && !memcmp(line, want[i], len), "line %d: %.*s", i, (int)len, line);
    }
    WK_EQ(cio_client_response_read_line(r, &line, &len, 64), 0);
    WK_CHECK(cio_client_response_done(r));
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_get(s, url, &r), 0);
    WK_EQ(cio_client_response_read_line(r, &line, &len, 0), -EINVAL);
    WK_EQ(cio_client_response_read_line(r, NULL, &len, 8), -EINVAL);
    WK_EQ(cio_client_response_read_line(r, &line, &len, 10), CIO_ECLIENT_LINE_TOO_LONG);
    WK_EQ(cio_client_response_read_line(r, &line, &len, 100), CIO_ECLIENT_LINE_TOO_LONG);
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), CIO_ECLIENT_LINE_TOO_LONG);
    WK_CHECK(!cio_client_response_done(r));
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_get(s, url, &r), 0);
    WK_EQ(cio_client_response_read_line(r, &line, &len, 11), 1);
    WK_CHECK(len == 2 && !memcmp(line, "x\n", 2));
    WK_EQ(cio_client_response_read(r, &b), 0);
    WK_STREQ(b.data, "rest\nmore");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_get(s, url, &r), 0);
    WK_EQ(cio_client_response_read_line(r, &line, &len, 11), 1);
    WK_CHECK(len == 4 && !memcmp(line, "one\n", 4));
    const void *p;
    char rest[16];
    size_t got = 0;
    while ((rc = cio_client_response_next(r, &p, &len)) == 1 && got + len <= sizeof rest) {
        memcpy(rest + got, p, len);
        got += len;
    }
    WK_EQ(rc, 0);
    WK_CHECK(got == 5 && !memcmp(rest, "two\nt", 5));
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_get(s, url, &r), 0);
    WK_EQ(cio_client_response_read_line(r, &line, &len, 3), 1);
    WK_CHECK(len == 3 && !memcmp(line, "xyz", 3));
    WK_EQ(cio_client_response_read_line(r, &line, &len, 3), 0);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_close(s), 0);
    ck_raw_stop(&rs);
    /* 100,000 lines from cio's server, in pieces that cut them anywhere; and the same compressed: the lines are
       the decoded body's. */
    struct fixture f;
    fx_open(&f);
    for (int gz = 0; gz < 2; gz++) {
        WK_EQ(cio_client_get(f.s, U(&f, gz ? "/lines.gz" : "/lines"), &r), 0);
        const char *ce = cio_client_response_header(r, "Content-Encoding");
        WK_CHECK(gz ? ce != NULL : ce == NULL, "%s", wk_s(ce));
        int n = 0;
        bool good = true;
        while ((rc = cio_client_response_read_line(r, &line, &len, 64)) == 1) {
            char w[32];
            int wl = snprintf(w, sizeof w, "line %d\n", n++);
            good = good && len == (size_t)wl && !memcmp(line, w, len);
        }
        WK_EQ(rc, 0);
        WK_EQ(n, 100000);
        WK_CHECK(good);
        WK_EQ(cio_client_response_release(r), 1);
    }
    fx_close(&f);
    return 0;
}

Test(client_bodies, lines_are_read_across_chunk_boundaries_and_one_over_the_limit_is_an_error)
{
    tst_run(lines_body, NULL);
    wk_verdict();
}

/* Whether the file at `path` holds `size` pattern bytes from `from`. */
static bool file_is_pattern(const char *path, size_t size, size_t from, unsigned seed)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char buf[65536];
    size_t got = 0;
    ssize_t n;
    bool good = true;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        good = good && is_pattern(buf, (size_t)n, from + got, seed);
        got += (size_t)n;
    }
    close(fd);
    return good && got == size;
}

static int save_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char path[512];
    snprintf(path, sizeof path, "%s/saved", f.dir);
    cio_client_response *r;
    WK_EQ(cio_client_get(f.s, U(&f, "/big"), &r), 0);
    WK_EQ(cio_client_response_save(r, path), 5 * MIB);
    WK_CHECK(cio_client_response_done(r));
    WK_EQ(cio_client_response_save(r, path), 0); /* at the end: an empty file */
    WK_EQ(cio_client_response_release(r), 1);
    struct stat st;
    WK_EQ(stat(path, &st), 0);
    WK_EQ(st.st_size, 0);
    WK_EQ(cio_client_get(f.s, U(&f, "/big"), &r), 0);
    WK_EQ(cio_client_response_save(r, path), 5 * MIB);
    WK_EQ(cio_client_response_release(r), 1);
    WK_CHECK(file_is_pattern(path, 5 * MIB, 0, 7));
    /* After a line, the rest. A file body goes back as it came. */
    char src[512];
    WK_EQ(make_file(f.dir, "src", 300000, 1, src, sizeof src), 0);
    WK_EQ(cio_client_request(f.s, "POST", U(&f, "/echo"), &(cio_client_request_opts){.body_file = src}, &r), 0);
    const char *line;
    size_t len;
    WK_EQ(cio_client_response_read_line(r, &line, &len, 300000), 1);
    WK_CHECK(line[len - 1] == '\n' && is_pattern(line, len, 0, 1));
    WK_EQ(cio_client_response_save(r, path), 300000 - len);
    WK_EQ(cio_client_response_release(r), 1);
    WK_CHECK(file_is_pattern(path, 300000 - len, len, 1));
    /* Bad arguments, and a path that cannot be opened (the body stays readable). */
    WK_EQ(cio_client_get(f.s, U(&f, "/big"), &r), 0);
    WK_EQ(cio_client_response_save(r, NULL), -EINVAL);
    WK_EQ(cio_client_response_save(NULL, path), -EINVAL);
    WK_EQ(cio_client_response_save(r, "/nonexistent/dir/file"), -ENOENT);
    WK_EQ(cio_client_response_save(r, f.dir), -EISDIR);
    WK_EQ(cio_client_response_save(r, path), 5 * MIB);
    WK_EQ(cio_client_response_release(r), 1);
    unlink(path);
    fx_close(&f);
    return 0;
}

Test(client_bodies, a_body_saved_to_a_file_is_the_body_byte_for_byte)
{
    tst_run(save_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ bad input */

static int bad_body(void *arg)
{
    (void)arg;
    struct fixture f;
    fx_open(&f);
    char path[512];
    WK_EQ(make_file(f.dir, "small", 10, 0, path, sizeof path), 0);
    const char *const form[] = {"a", "b", NULL};
    const char *const odd[] = {"a", NULL};
    const cio_client_form_part part = {.name = "x", .value = "y"};
    const cio_client_form_part no_name = {.value = "y"};
    const cio_client_form_part both = {.name = "x", .value = "y", .file = path};
    const cio_client_form_part neither = {.name = "x"};
    const cio_client_form_part ctl = {.name = "x\001", .value = "y"};
    const cio_client_form_part missing = {.name = "x", .file = "/nonexistent/file"};
    const char *const ct[] = {"Content-Type", "multipart/form-data; boundary=mine", NULL};
    const char *const expect[] = {"Expect", "100-continue", NULL};
    const struct {
        cio_client_request_opts o;
        int want;
    } cases[] = {
        /* Two kinds of body. */
        {{.body = "x", .body_len = 1, .json = "{}"}, -EINVAL},
        {{.body = "x", .body_len = 1, .body_file = path}, -EINVAL},
        {{.body_file = path, .producer = produce_hello}, -EINVAL},
        {{.producer = produce_hello, .form = form}, -EINVAL},
        {{.form = form, .json = "{}"}, -EINVAL},
        {{.json = "{}", .parts = &part, .nparts = 1}, -EINVAL},
        {{.body_file = path, .nparts = 1, .parts = &part}, -EINVAL},
        /* Parameters of a kind without the kind, out of range. */
        {{.body_len = 3}, -EINVAL},
        {{.body_file_offset = 1}, -EINVAL},
        {{.producer_len = 5}, -EINVAL},
        {{.producer = produce_hello, .producer_len = -1}, -EINVAL},
        {{.nparts = 1}, -EINVAL},
        {{.body = "x", .body_len = 1, .expect_continue = true, .expect_timeout = -5}, -EINVAL},
        /* Forms and parts. */
        {{.form = odd}, -EINVAL},
        {{.parts = &no_name, .nparts = 1}, -EINVAL},
        {{.parts = &both, .nparts = 1}, -EINVAL},
        {{.parts = &neither, .nparts = 1}, -EINVAL},
        {{.parts = &ctl, .nparts = 1}, -EINVAL},
        {{.parts = &missing, .nparts = 1}, -ENOENT},
        {{.parts = &part, .nparts = 1, .headers = ct}, -EINVAL},
        /* The client's own fields. */
        {{.body = "x", .body_len = 1, .headers = expect}, -EINVAL},
        /* Files that cannot be sent. */
        {{.body_file = "/nonexistent/file"}, -ENOENT},
        {{.body_file = "/tmp"}, -EISDIR},
        {{.body_file = path, .body_file_offset = 11}, -EIO},
        {{.body_file = path, .body_file_offset = 5, .body_file_len = 6}, -EIO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cio_client_response *r = (void *)1;
        int rc = cio_client_request(f.s, "POST", U(&f, "/echo"), &cases[i].o, &r);
        WK_CHECK(rc == cases[i].want, "case %zu: %s, not %s", i, cio_err_name(rc), cio_err_name(cases[i].want));
        WK_ISNULL(r);
    }
    /* Nothing was sent: no connection was even made. */
    WK_EQ(cio_client_session_connections(f.s, NULL), 0);
    WK_STREQ(cio_err_name(CIO_ECLIENT_LINE_TOO_LONG), "CIO_ECLIENT_LINE_TOO_LONG");
    WK_STREQ(cio_strerror(CIO_ECLIENT_LINE_TOO_LONG), "client: a line of the response body is longer than the limit");
    fx_close(&f);
    return 0;
}

Test(client_bodies, every_bad_body_argument_is_refused_with_its_code_before_anything_is_sent)
{
    tst_run(bad_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ aiohttp */

static const char aiohttp_server[] =
    "import asyncio, hashlib, sys\n"
    "from aiohttp import web\n"
    "def digest(b): return f'{len(b)} {hashlib.sha256(b).hexdigest()}'\n"
    "async def raw(r):\n"
    "    body = await r.read()\n"
    "    return web.Response(text=f\"{digest(body)} te={r.headers.get('Transfer-Encoding')} \"\n"
    "                             f\"cl={r.headers.get('Content-Length')} expect={r.headers.get('Expect')}\")\n"
    "async def form(r):\n"
    "    data = await r.post()\n"
    "    out = []\n"
    "    for k, v in data.items():\n"
    "        if isinstance(v, web.FileField):\n"
    "            out.append(f'{k}|{v.filename}|{v.content_type}|{digest(v.file.read())}')\n"
    "        else:\n"
    "            out.append(f'{k}={v}')\n"
    "    return web.Response(text='\\n'.join(out))\n"
    "async def main():\n"
    "    app = web.Application(client_max_size=64 * 1024 * 1024)\n"
    "    app.add_routes([web.post('/raw', raw), web.post('/form', form)])\n"
    "    runner = web.AppRunner(app)\n"
    "    await runner.setup()\n"
    "    site = web.TCPSite(runner, '127.0.0.1', 0)\n"
    "    await site.start()\n"
    "    print(site._server.sockets[0].getsockname()[1], flush=True)\n"
    "    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)\n"
    "    await runner.cleanup()\n"
    "asyncio.run(main())\n";

/* "<len> <sha256>" of the pattern bytes of a file. */
static void file_digest(size_t size, unsigned seed, char *out, size_t cap)
{
    unsigned char *p = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        p[i] = pattern(i, seed);
    char d[65];
    sha_hex(p, size, d);
    free(p);
    snprintf(out, cap, "%zu %s", size, d);
}

static int produce_big(cio_client_body_writer *w, void *arg)
{
    (void)arg;
    unsigned char piece[1000];
    for (size_t off = 0; off < 3 * MIB; off += sizeof piece) {
        size_t n = 3 * MIB - off < sizeof piece ? 3 * MIB - off : sizeof piece;
        for (size_t i = 0; i < n; i++)
            piece[i] = pattern(off + i, 8);
        int rc = cio_client_body_write(w, piece, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int aiohttp_body(void *arg)
{
    (void)arg;
    cio_process *p;
    char *argv[] = {"/usr/bin/python3", "-c", (char *)aiohttp_server, NULL};
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE};
    int rc = cio_process_exec(&p, argv, &po);
    WK_EQ(rc, 0);
    if (rc < 0)
        return 0;
    char line[32];
    ssize_t n = cio_stream_read_line(cio_process_stdout(p), line, sizeof line);
    WK_CHECK(n > 1, "the server's port: %s", cio_err_name((int)n));
    int port = n > 1 ? atoi(line) : 0;
    char dir[] = "/tmp/cio-bodies-XXXXXX", big[512], small[512], empty[512];
    WK_CHECK(mkdtemp(dir) != NULL);
    WK_EQ(make_file(dir, "big.bin", 5 * MIB, 11, big, sizeof big), 0);
    WK_EQ(make_file(dir, "small.txt", 1, 12, small, sizeof small), 0);
    WK_EQ(make_file(dir, "empty", 0, 0, empty, sizeof empty), 0);
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64], want[512], d[160];
    ck_url(url, sizeof url, port, "/raw");
    cio_client_response *r;
    cio_buf b;
    /* Files, with their lengths. */
    const char *files[] = {empty, small, big};
    const size_t sizes[] = {0, 1, 5 * MIB};
    const unsigned seeds[] = {0, 12, 11};
    for (int i = 0; i < 3; i++) {
        WK_EQ(fetch(s, "POST", url, &(cio_client_request_opts){.body_file = files[i]}, &r, &b), 0);
        file_digest(sizes[i], seeds[i], d, sizeof d);
        snprintf(want, sizeof want, "%s te=None cl=%zu expect=None", d, sizes[i]);
        WK_STREQ(b.data, want);
        cio_buf_free(&b);
        WK_EQ(cio_client_response_release(r), 1);
    }
    /* A producer, chunked, and with Expect: aiohttp answers 100 as it reads. */
    cio_client_request_opts o = {.producer = produce_big, .expect_continue = true, .expect_timeout = CIO_SEC(30)};
    WK_EQ(fetch(s, "POST", url, &o, &r, &b), 0);
    file_digest(3 * MIB, 8, d, sizeof d);
    snprintf(want, sizeof want, "%s te=chunked cl=None expect=100-continue", d);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* request.post() of a multipart form with two file parts and a field, and of an urlencoded one. */
    ck_url(url, sizeof url, port, "/form");
    const cio_client_form_part parts[] = {
        {.name = "first", .file = big},
        {.name = "caption", .value = "caf\xc3\xa9 & co = 100%"},
        {.name = "second", .file = small, .filename = "renamed.txt", .content_type = "text/plain"},
    };
    WK_EQ(fetch(s, "POST", url, &(cio_client_request_opts){.parts = parts, .nparts = 3}, &r, &b), 0);
    char d2[160];
    file_digest(5 * MIB, 11, d, sizeof d);
    file_digest(1, 12, d2, sizeof d2);
    snprintf(
        want, sizeof want,
        "first|big.bin|application/octet-stream|%s\ncaption=caf\xc3\xa9 & co = 100%%\nsecond|renamed.txt|text/plain|%s",
        d, d2);
    WK_STREQ(b.data, want);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    const char *const form[] = {"q", "a b&c=d", "u", "\xc3\xa9+%", "empty", "", NULL};
    WK_EQ(fetch(s, "POST", url, &(cio_client_request_opts){.form = form}, &r, &b), 0);
    WK_STREQ(b.data, "q=a b&c=d\nu=\xc3\xa9+%\nempty=");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(cio_client_session_connections(s, NULL), 1);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_stream_write_eof(cio_process_stdin(p)), 0);
    int status = -1;
    WK_EQ(cio_process_wait(p, &status), 0);
    WK_EQ(status, 0);
    cio_process_close(p);
    unlink(big);
    unlink(small);
    unlink(empty);
    rmdir(dir);
    return 0;
}

Test(client_bodies, pythons_aiohttp_server_reads_files_producers_and_both_kinds_of_form_as_sent)
{
    tst_run(aiohttp_body, NULL);
    wk_verdict();
}
