/* coding.c: content codings: bodies that Python's zlib, gzip, brotli and zstandard made, decoded by the body
 * reader at every split point, stacked, truncated at every byte, corrupted, with garbage after them, and as
 * bombs; the writer's encoders read back by Python and by the reader; Content-Encoding lists and Accept-Encoding
 * negotiation. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#include <criterion/parameterized.h>

#include "cio/http.h"

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(coding, .init = ignore_sigpipe);

#define S(lit) ((cio_http_str){lit, sizeof(lit) - 1})

/* ------------------------------------------------------------------------------------------------ helpers */

/* The payload every case encodes: text that compresses, with a pattern that would show a misplaced byte. */
static char *payload(size_t n)
{
    char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)("abcdefghij klmnopqrstuvwxyz\n"[(i * 7 + i / 97) % 28]);
    p[n] = 0;
    return p;
}

/* Python, run as a child: `script` reads the payload spec from argv and writes bytes to stdout. */
static int python(const char *script, const char *arg, cio_buf *out)
{
    cio_process *p;
    char *argv[] = {"/usr/bin/python3", "-c", (char *)script, (char *)arg, NULL};
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0)
        return rc;
    rc = cio_process_communicate(p, NULL, 0, out, NULL);
    int status = -1;
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    return rc < 0 ? rc : status;
}

/* Python again, with `in` on its stdin. */
static int python_in(const char *script, const void *in, size_t len, cio_buf *out)
{
    cio_process *p;
    char *argv[] = {"/usr/bin/python3", "-c", (char *)script, NULL};
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0)
        return rc;
    rc = cio_process_communicate(p, in, len, out, NULL);
    int status = -1;
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    return rc < 0 ? rc : status;
}

/* The payload of argv[1] bytes (the same function as payload()), then encoded as argv[2] says. */
#define PY_PAYLOAD                                                                                                 \
    "import sys, zlib, gzip, brotli, zstandard\n"                                                                  \
    "n, how = sys.argv[1].split(':')\n"                                                                            \
    "n = int(n)\n"                                                                                                 \
    "t = b'abcdefghij klmnopqrstuvwxyz\\n'\n"                                                                      \
    "p = bytes(t[(i * 7 + i // 97) % 28] for i in range(n)) if n < 10**7 else b'\\0' * n\n"                        \
    "def raw(d):\n"                                                                                                \
    "    c = zlib.compressobj(6, zlib.DEFLATED, -15)\n"                                                            \
    "    return c.compress(d) + c.flush()\n"                                                                       \
    "enc = {'gzip': lambda d: gzip.compress(d, mtime=0), 'zlib': zlib.compress, 'raw': raw,\n"                     \
    "       'br': brotli.compress, 'zstd': lambda d: zstandard.ZstdCompressor(write_checksum=True).compress(d),\n" \
    "       'identity': lambda d: d}\n"                                                                            \
    "for step in how.split('+'):\n"                                                                                \
    "    if step == 'members':\n"                                                                                  \
    "        h = len(p) // 2\n"                                                                                    \
    "        p = gzip.compress(p[:h], mtime=0) + gzip.compress(p[h:], mtime=0)\n"                                  \
    "    else:\n"                                                                                                  \
    "        p = enc[step](p)\n"                                                                                   \
    "sys.stdout.buffer.write(p)\n"

/* Two streams over a Unix socket pair. */
static void pair(cio_stream *s[2])
{
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    cr_assert_eq(cio_stream_open_fd(&s[0], fds[0], NULL), 0);
    cr_assert_eq(cio_stream_open_fd(&s[1], fds[1], NULL), 0);
}

struct feeder {
    cio_stream *s;
    const char *wire;
    size_t len, split;
};

/* Write the wire in two parts cut at `split`, the loop turning between, then end the stream. */
static int feed(void *arg)
{
    struct feeder *f = arg;
    int rc = f->split ? cio_stream_write(f->s, f->wire, f->split) : 0;
    for (int i = 0; rc == 0 && i < 3; i++)
        rc = cio_sleep(CIO_NS(1));
    if (rc == 0 && f->len > f->split)
        rc = cio_stream_write(f->s, f->wire + f->split, f->len - f->split);
    if (rc == 0)
        rc = cio_stream_write_eof(f->s);
    return rc;
}

/*
 * Read `coded` (`len` bytes) as a body with Content-Encoding `ce`, framed by length or, with `chunked`, as one
 * chunk per half, cut at `split`. Returns read_all's result with the decoded bytes in `out`, or init's error.
 */
static int decode_wire(const char *coded, size_t len, const char *ce, bool chunked, size_t split, uint64_t max,
                       cio_buf *out)
{
    char *wire = malloc(len + 64);
    size_t wlen = len;
    if (chunked) {
        /* Two chunks (one for a single byte, none for nothing), then the last chunk. */
        size_t h = len / 2, n = 0;
        if (h) {
            n += (size_t)sprintf(wire + n, "%zx\r\n", h);
            memcpy(wire + n, coded, h);
            n += h;
            n += (size_t)sprintf(wire + n, "\r\n");
        }
        if (len - h) {
            n += (size_t)sprintf(wire + n, "%zx\r\n", len - h);
            memcpy(wire + n, coded + h, len - h);
            n += len - h;
            n += (size_t)sprintf(wire + n, "\r\n");
        }
        wlen = n + (size_t)sprintf(wire + n, "0\r\n\r\n");
    } else {
        memcpy(wire, coded, len);
    }
    if (split > wlen)
        split = wlen;
    cio_stream *s[2];
    pair(s);
    struct feeder f = {s[0], wire, wlen, split};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, feed, &f, NULL), 0);
    cio_http_body_in b;
    cio_http_body_opts o = {.decode = true, .content_encoding = {ce, strlen(ce)}, .max_size = max};
    int rc = cio_http_body_init(&b, s[1], chunked ? CIO_HTTP_BODY_CHUNKED : CIO_HTTP_BODY_LENGTH, len, &o);
    *out = (cio_buf){0};
    if (rc == 0) {
        rc = cio_http_body_read_all(&b, out);
        cio_http_body_fini(&b);
    }
    cio_stream_close(s[1]); /* the feeder's writes fail once the reader is gone */
    (void)cio_join(t);
    cio_stream_close(s[0]);
    free(wire);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ decoding */

struct coded_case {
    const char *name;
    const char *python; /* how Python encodes: steps joined by "+" */
    const char *ce;     /* the Content-Encoding that says so */
};

static const struct coded_case cases[] = {
    {"gzip", "gzip", "gzip"},
    {"x-gzip", "gzip", "x-gzip"},
    {"deflate with its zlib wrapper", "zlib", "deflate"},
    {"raw deflate", "raw", "deflate"},
    {"br", "br", "br"},
    {"zstd", "zstd", "zstd"},
    {"gzip then br", "gzip+br", "gzip, br"},
    {"br then zstd then gzip", "br+zstd+gzip", "br,zstd , gzip"},
    {"identity around gzip", "gzip", "identity, gzip, identity"},
    {"two gzip members", "members", "gzip"},
    {"identity", "identity", "identity"},
};

#define NCASES (sizeof cases / sizeof *cases)

ParameterizedTestParameters(coding, python_bodies)
{
    static size_t idx[NCASES];
    for (size_t i = 0; i < NCASES; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, NCASES);
}

struct result {
    size_t which;
    int failures;
    char first[256];
};

static void note(struct result *r, const char *fmt, size_t a, int b)
{
    if (!r->failures++)
        snprintf(r->first, sizeof r->first, fmt, a, b);
}

static int python_body(void *arg)
{
    struct result *r = arg;
    const struct coded_case *c = &cases[r->which];
    /* Small: every split point, both framings. */
    char spec[64];
    cio_buf coded = {0}, out;
    snprintf(spec, sizeof spec, "1000:%s", c->python);
    if (python(PY_PAYLOAD, spec, &coded) != 0)
        return note(r, "python failed %zu %d", 0, 0), 0;
    char *want = payload(1000);
    for (size_t split = 0; split <= coded.len + 20; split++) {
        for (int chunked = 0; chunked < 2; chunked++) {
            int rc = decode_wire(coded.data, coded.len, c->ce, chunked, split, 0, &out);
            if (rc != 0 || out.len != 1000 || memcmp(out.data, want, 1000))
                note(r, "split %zu: %d", split, rc);
            cio_buf_free(&out);
        }
    }
    /* Cut short at every byte: an error, never the part taken for the whole. */
    for (size_t cut = 0; cut < coded.len && strcmp(c->ce, "identity"); cut++) {
        int rc = decode_wire(coded.data, cut, c->ce, false, cut / 2, 0, &out);
        /* Cut between two gzip members, the first is a whole gzip stream: that is all there is to read. */
        char *first = payload(500);
        bool first_member = rc == 0 && !strcmp(c->python, "members") && out.len == 500 && !memcmp(out.data, first, 500);
        free(first);
        if (rc != CIO_EHTTP_CODING_TRUNCATED && rc != CIO_EHTTP_CODING_CORRUPT && !first_member)
            note(r, "cut at %zu: %d", cut, rc);
        cio_buf_free(&out);
    }
    /* Bytes after the coded stream. */
    if (strcmp(c->ce, "identity")) {
        char *more = malloc(coded.len + 3);
        memcpy(more, coded.data, coded.len);
        memcpy(more + coded.len, "xyz", 3);
        int rc = decode_wire(more, coded.len + 3, c->ce, true, 7, 0, &out);
        if (rc != CIO_EHTTP_CODING_CORRUPT)
            note(r, "trailing garbage: %zu %d", 0, rc);
        cio_buf_free(&out);
        free(more);
    }
    cio_buf_free(&coded);
    free(want);
    /* Large: several MiB through both framings, with a limit just above and just below. */
    snprintf(spec, sizeof spec, "3000000:%s", c->python);
    if (python(PY_PAYLOAD, spec, &coded) != 0)
        return note(r, "python failed %zu %d", 1, 0), 0;
    want = payload(3000000);
    int rc = decode_wire(coded.data, coded.len, c->ce, true, coded.len / 3, 3000000, &out);
    if (rc != 0 || out.len != 3000000 || memcmp(out.data, want, out.len))
        note(r, "large: %zu %d", out.len, rc);
    cio_buf_free(&out);
    rc = decode_wire(coded.data, coded.len, c->ce, false, 1, 2999999, &out);
    /* identity has no decoder: its Content-Length is the body's, refused at once. */
    if (rc != (strcmp(c->ce, "identity") ? CIO_EHTTP_BODY_LIMIT : CIO_EHTTP_BODY_TOO_LARGE))
        note(r, "large over the limit: %zu %d", out.len, rc);
    cio_buf_free(&out);
    cio_buf_free(&coded);
    free(want);
    return 0;
}

ParameterizedTest(size_t *i, coding, python_bodies, .timeout = 300)
{
    struct result r = {.which = *i};
    tst_run(python_body, &r);
    cr_assert_eq(r.failures, 0, "%s: %d failure(s), the first: %s", cases[*i].name, r.failures, r.first);
}

/* A decompression bomb: 200 MB of zeros in a few hundred KiB, read with a 1 MiB limit, stops at the limit with
   memory bounded by the decoder's buffers. */
static int bomb_body(void *arg)
{
    const char *how = arg;
    char spec[64];
    snprintf(spec, sizeof spec, "200000000:%s", how);
    cio_buf coded = {0}, out;
    cr_assert_eq(python(PY_PAYLOAD, spec, &coded), 0);
    cr_assert_lt(coded.len, 1 << 20, "%zu", coded.len);
    int rc = decode_wire(coded.data, coded.len, how, false, 0, 1 << 20, &out);
    cr_assert_eq(rc, CIO_EHTTP_BODY_LIMIT, "%s: %s", how, cio_err_name(rc));
    cr_assert_eq(out.len, 0);
    cio_buf_free(&coded);
    return 0;
}

Test(coding, a_gzip_bomb_is_the_limit_error)
{
    tst_run(bomb_body, "gzip");
}

Test(coding, a_br_bomb_is_the_limit_error)
{
    tst_run(bomb_body, "br");
}

Test(coding, a_zstd_bomb_is_the_limit_error)
{
    tst_run(bomb_body, "zstd");
}

/* Flipped bytes in gzip and zlib (both check a CRC or an Adler sum), and garbage in every coding: errors. */
static int corrupt_body(void *arg)
{
    (void)arg;
    cio_buf coded = {0}, out;
    static const char *const checked[][2] = {{"gzip", "gzip"}, {"zlib", "deflate"}, {"zstd", "zstd"}};
    char *want = payload(5000);
    for (size_t k = 0; k < 3; k++) {
        char spec[64];
        snprintf(spec, sizeof spec, "5000:%s", checked[k][0]);
        cr_assert_eq(python(PY_PAYLOAD, spec, &coded), 0);
        for (size_t i = 0; i < coded.len; i++) {
            if (k == 0 && i >= 4 && i < 10)
                continue; /* gzip's MTIME, XFL and OS bytes are not checked by anyone */
            coded.data[i] ^= 0x20;
            int rc = decode_wire(coded.data, coded.len, checked[k][1], false, 0, 0, &out);
            /* An error, or (a flip in bits nobody reads, such as the last byte's padding) the very payload:
               never other data taken for whole. */
            bool same = rc == 0 && out.len == 5000 && !memcmp(out.data, want, 5000);
            cr_assert(rc == CIO_EHTTP_CODING_CORRUPT || rc == CIO_EHTTP_CODING_TRUNCATED || same, "%s byte %zu: %s",
                      checked[k][1], i, cio_err_name(rc));
            cio_buf_free(&out);
            coded.data[i] ^= 0x20;
        }
        cio_buf_free(&coded);
    }
    static const char garbage[] = "this is not compressed at all, not in any coding";
    static const char *const all[] = {"gzip", "deflate", "br", "zstd"};
    for (size_t k = 0; k < 4; k++) {
        int rc = decode_wire(garbage, sizeof garbage - 1, all[k], true, 3, 0, &out);
        cr_assert(rc == CIO_EHTTP_CODING_CORRUPT || rc == CIO_EHTTP_CODING_TRUNCATED, "%s: %s", all[k],
                  cio_err_name(rc));
        cio_buf_free(&out);
    }
    free(want);
    return 0;
}

Test(coding, corrupt_and_garbage_bodies_are_errors, .timeout = 300)
{
    tst_run(corrupt_body, NULL);
}

static int init_errors_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s);
    cio_http_body_in b;
    cio_http_body_opts o = {.decode = true, .content_encoding = S("compress")};
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_LENGTH, 10, &o), CIO_EHTTP_CODING_UNSUPPORTED);
    o.content_encoding = S("gzip, gzip, gzip, gzip, gzip");
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_LENGTH, 10, &o), CIO_EHTTP_CODING_UNSUPPORTED);
    o.content_encoding = S("gzip, \"br");
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_LENGTH, 10, &o), CIO_EHTTP_BAD_LIST);
    /* A head whose Content-Encoding says two things in two fields is refused, not guessed at. */
    static const char req[] = "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n"
                              "Content-Encoding: br\r\n\r\n";
    cio_http_header hs[8];
    cio_http_head h;
    cio_http_head_init(&h, hs, 8);
    cr_assert_gt(cio_http_parse_request(&h, req, sizeof req - 1, NULL), 0);
    cr_assert_eq(cio_http_body_init_request(&b, s[1], &h, &(cio_http_body_opts){.decode = true}),
                 CIO_EHTTP_CODING_UNSUPPORTED);
    /* Without decode the coded bytes are the body. */
    cr_assert_eq(cio_http_body_init_request(&b, s[1], &h, NULL), 0);
    cio_http_body_fini(&b);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_CODING_UNSUPPORTED), 415);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_CODING_CORRUPT), 400);
    cio_stream_close(s[0]);
    cio_stream_close(s[1]);
    return 0;
}

Test(coding, unknown_codings_are_refused_at_init)
{
    tst_run(init_errors_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ encoding */

struct writer_arg {
    cio_stream *s;
    int coding, level;
    const char *data;
    size_t len;
    int rc;
};

static int write_coded(void *arg)
{
    struct writer_arg *w = arg;
    cio_http_body_out o;
    int rc = cio_http_body_out_init(&o, w->s, CIO_HTTP_BODY_CHUNKED, 0);
    if (rc == 0)
        rc = cio_http_body_out_set_coding(&o, w->coding, w->level);
    /* In uneven pieces, as a producer writes. */
    for (size_t off = 0, step = 1; rc == 0 && off < w->len; off += step, step = step * 3 + 1) {
        size_t n = step < w->len - off ? step : w->len - off;
        rc = cio_http_body_out_write(&o, w->data + off, n);
    }
    if (rc == 0)
        rc = cio_http_body_out_end(&o, NULL);
    cio_http_body_out_fini(&o);
    if (rc == 0)
        rc = cio_stream_write_eof(w->s);
    w->rc = rc;
    return rc;
}

static const char PY_DECODE[] =
    "import sys, zlib, brotli, zstandard\n"
    "d = sys.stdin.buffer.read()\n"
    "out, body = b'', d\n"
    "while True:\n"
    "    line, body = body.split(b'\\r\\n', 1)\n"
    "    n = int(line, 16)\n"
    "    if n == 0: break\n"
    "    out += body[:n]; body = body[n + 2:]\n"
    "m = out[:1]\n"
    "if out[:2] == b'\\x1f\\x8b': r = zlib.decompress(out, 16 + 15)\n"
    "elif out[:4] == b'\\x28\\xb5\\x2f\\xfd': r = zstandard.ZstdDecompressor().decompress(out, "
    "max_output_size=1 << 30)\n"
    "else:\n"
    "    try: r = zlib.decompress(out)\n"
    "    except zlib.error: r = brotli.decompress(out)\n"
    "sys.stdout.buffer.write(r)\n";

static int encode_body(void *arg)
{
    int coding = *(int *)arg;
    size_t len = 2000000;
    char *data = payload(len);
    for (int level = 0; level < 2; level++) {
        /* Written by the writer, read back by Python. */
        cio_stream *s[2];
        pair(s);
        struct writer_arg w = {s[0], coding, level ? 1 : 0, data, len, 0};
        cio_task *t;
        cr_assert_eq(cio_spawn(&t, write_coded, &w, NULL), 0);
        cio_buf wire = {0}, out = {0};
        cio_http_body_in raw;
        cr_assert_eq(cio_http_body_init(&raw, s[1], CIO_HTTP_BODY_UNTIL_CLOSE, 0, NULL), 0);
        int rrc = cio_http_body_read_all(&raw, &wire);
        cr_assert_eq(rrc, 0, "%s", cio_err_name(rrc));
        cio_http_body_fini(&raw);
        cr_assert_eq(cio_join(t), 0);
        cr_assert_eq(w.rc, 0, "%s", cio_err_name(w.rc));
        cr_assert_lt(wire.len, len / 2, "%s compresses: %zu bytes", cio_http_coding_name(coding), wire.len);
        cr_assert_eq(python_in(PY_DECODE, wire.data, wire.len, &out), 0);
        cr_assert(out.len == len && !memcmp(out.data, data, len), "%s: Python read %zu bytes",
                  cio_http_coding_name(coding), out.len);
        cio_buf_free(&out);
        /* And by the reader. */
        const char *ce = cio_http_coding_name(coding);
        cio_stream *q[2];
        pair(q);
        struct feeder f = {q[0], wire.data, wire.len, wire.len / 2};
        cr_assert_eq(cio_spawn(&t, feed, &f, NULL), 0);
        cio_http_body_in b;
        cio_http_body_opts o = {.decode = true, .content_encoding = {ce, strlen(ce)}};
        cr_assert_eq(cio_http_body_init(&b, q[1], CIO_HTTP_BODY_CHUNKED, 0, &o), 0);
        cr_assert_eq(cio_http_body_read_all(&b, &out), 0);
        cr_assert(out.len == len && !memcmp(out.data, data, len));
        cr_assert(cio_http_body_done(&b));
        cio_http_body_fini(&b);
        cr_assert_eq(cio_join(t), 0);
        cio_buf_free(&out);
        cio_buf_free(&wire);
        for (int i = 0; i < 2; i++) {
            cio_stream_close(s[i]);
            cio_stream_close(q[i]);
        }
    }
    free(data);
    return 0;
}

ParameterizedTestParameters(coding, encoders)
{
    static int codings[] = {CIO_HTTP_CODING_GZIP, CIO_HTTP_CODING_DEFLATE, CIO_HTTP_CODING_BR, CIO_HTTP_CODING_ZSTD};
    return cr_make_param_array(int, codings, 4);
}

ParameterizedTest(int *coding, coding, encoders, .timeout = 300)
{
    tst_run(encode_body, coding);
}

static int writer_errors_body(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s);
    cio_http_body_out o;
    cr_assert_eq(cio_http_body_out_init(&o, s[0], CIO_HTTP_BODY_LENGTH, 10), 0);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_GZIP, 0), -EINVAL, "a length cannot be known");
    cr_assert_eq(cio_http_body_out_init(&o, s[0], CIO_HTTP_BODY_CHUNKED, 0), 0);
    cr_assert_eq(cio_http_body_out_set_coding(&o, 99, 0), -EINVAL);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_GZIP, 10), -EINVAL);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_BR, 12), -EINVAL);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_IDENTITY, 0), 0);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_ZSTD, 0), 0);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_GZIP, 0), -EINVAL, "one coding per writer");
    cr_assert_eq(cio_http_body_out_write(&o, "abc", 3), 0);
    cio_http_body_out_fini(&o); /* an abandoned writer frees its encoder */
    cio_http_body_out_fini(&o);
    cr_assert_eq(cio_http_body_out_init(&o, s[0], CIO_HTTP_BODY_CHUNKED, 0), 0);
    cr_assert_eq(cio_http_body_out_write(&o, "abc", 3), 0);
    cr_assert_eq(cio_http_body_out_set_coding(&o, CIO_HTTP_CODING_GZIP, 0), -EINVAL, "after a write");
    cio_stream_close(s[0]);
    cio_stream_close(s[1]);
    return 0;
}

Test(coding, writer_errors)
{
    tst_run(writer_errors_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ values */

Test(coding, content_encoding_lists)
{
    int c[4];
    cr_assert_eq(cio_http_codings_parse(S("gzip"), c, 4), 1);
    cr_assert_eq(c[0], CIO_HTTP_CODING_GZIP);
    cr_assert_eq(cio_http_codings_parse(S(" GZIP , br,identity,ZStd ,deflate"), c, 4), 4);
    cr_assert(c[0] == CIO_HTTP_CODING_GZIP && c[1] == CIO_HTTP_CODING_BR && c[2] == CIO_HTTP_CODING_ZSTD &&
              c[3] == CIO_HTTP_CODING_DEFLATE);
    cr_assert_eq(cio_http_codings_parse(S(""), c, 4), 0);
    cr_assert_eq(cio_http_codings_parse(S("identity"), c, 4), 0);
    cr_assert_eq(cio_http_codings_parse(S("x-gzip"), c, 4), 1);
    cr_assert_eq(cio_http_codings_parse(S("compress"), c, 4), CIO_EHTTP_CODING_UNSUPPORTED);
    cr_assert_eq(cio_http_codings_parse(S("gzip;q=1"), c, 4), CIO_EHTTP_CODING_UNSUPPORTED);
    cr_assert_eq(cio_http_codings_parse(S("gzip, br"), c, 1), CIO_EHTTP_CODING_UNSUPPORTED);
    cr_assert_eq(cio_http_codings_parse(S("gzip"), NULL, 4), -EINVAL);
    cr_assert_str_eq(cio_http_coding_name(CIO_HTTP_CODING_BR), "br");
    cr_assert_null(cio_http_coding_name(17));
    cr_assert_eq(cio_http_coding_from_name(S("Deflate")), CIO_HTTP_CODING_DEFLATE);
    cr_assert_eq(cio_http_coding_from_name(S("lzma")), CIO_EHTTP_CODING_UNSUPPORTED);
}

struct accept_case {
    const char *accept; /* NULL: no field */
    unsigned offered;
    int want;
};

#define ALL                                                                                     \
    (CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_GZIP) | CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_DEFLATE) | \
     CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_BR) | CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_ZSTD))
#define GZ CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_GZIP)

static const struct accept_case accepts[] = {
    {NULL, ALL, CIO_HTTP_CODING_IDENTITY},
    {"", ALL, CIO_HTTP_CODING_IDENTITY},
    {"gzip, deflate, br", ALL, CIO_HTTP_CODING_BR}, /* what browsers send: the server's preference */
    {"gzip, deflate, br, zstd", ALL, CIO_HTTP_CODING_BR},
    {"gzip, deflate, br", GZ, CIO_HTTP_CODING_GZIP},
    {"gzip;q=0.5, br;q=0.8", ALL, CIO_HTTP_CODING_BR},
    {"gzip;q=1.0, br;q=0.8", ALL, CIO_HTTP_CODING_GZIP},
    {"br;q=0, gzip", ALL, CIO_HTTP_CODING_GZIP},
    {"*", ALL, CIO_HTTP_CODING_BR},
    {"*;q=0.1, gzip;q=0.2", ALL, CIO_HTTP_CODING_GZIP},
    {"*, br;q=0", ALL, CIO_HTTP_CODING_ZSTD},
    {"identity", ALL, CIO_HTTP_CODING_IDENTITY},
    {"gzip;q=0.5, identity", ALL, CIO_HTTP_CODING_IDENTITY},
    {"gzip;q=0", ALL, CIO_HTTP_CODING_IDENTITY},
    {"identity;q=0", GZ, -ENOENT},
    {"*;q=0", ALL, -ENOENT},
    {"*;q=0, identity", ALL, CIO_HTTP_CODING_IDENTITY},
    {"*;q=0, gzip", ALL, CIO_HTTP_CODING_GZIP},
    {"identity;q=0, gzip", GZ, CIO_HTTP_CODING_GZIP},
    {"GZIP", GZ, CIO_HTTP_CODING_GZIP},
    {"x-gzip", GZ, CIO_HTTP_CODING_GZIP},
    {"gzip;q=2, br", ALL, CIO_HTTP_CODING_BR}, /* a malformed weight: that element is ignored */
    {"compress, gzip", GZ, CIO_HTTP_CODING_GZIP},
    {"br", 0, CIO_HTTP_CODING_IDENTITY},
};

Test(coding, accept_encoding_negotiation)
{
    for (size_t i = 0; i < sizeof accepts / sizeof *accepts; i++) {
        const struct accept_case *a = &accepts[i];
        cio_http_str v = {a->accept ? a->accept : "", a->accept ? strlen(a->accept) : 0};
        int got = cio_http_accept_coding(v, a->accept != NULL, a->offered);
        cr_assert_eq(got, a->want, "\"%s\": %d, not %d", a->accept ? a->accept : "(none)", got, a->want);
    }
}
