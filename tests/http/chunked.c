/* chunked.c: the chunked decoder against its table, whole, split at every byte, and a byte at a time. */
#include "harness.h"

#include <string.h>

#include <criterion/parameterized.h>

#include "cio/http.h"
#include "guard.h"

#define W(s) s, sizeof(s) - 1

struct chunk_case {
    const char *name;
    const char *wire;
    size_t len;
    int want;         /* 0: complete, else the error */
    const char *data; /* the decoded body when complete */
    size_t rest;      /* bytes left after the body */
    unsigned flags;   /* cio_http_chunked_opts.flags */
};

/* clang-format off */
static const struct chunk_case cases[] = {
    {"simple", W("5\r\nhello\r\n0\r\n\r\n"), 0, "hello", 0, 0},
    {"two chunks", W("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), 0, "hello world", 0, 0},
    {"hex upper", W("A\r\n0123456789\r\n0\r\n\r\n"), 0, "0123456789", 0, 0},
    {"hex lower", W("a\r\n0123456789\r\n0\r\n\r\n"), 0, "0123456789", 0, 0},
    {"leading zeros", W("0005\r\nhello\r\n000\r\n\r\n"), 0, "hello", 0, 0},
    {"empty body", W("0\r\n\r\n"), 0, "", 0, 0},
    {"leftover", W("1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), 0, "a", 16, 0},
    {"ext", W("5;name=value\r\nhello\r\n0\r\n\r\n"), 0, "hello", 0, 0},
    {"ext no value", W("5;name\r\nhello\r\n0;last\r\n\r\n"), 0, "hello", 0, 0},
    {"ext quoted", W("5;n=\"a b;\\\"c\"\r\nhello\r\n0\r\n\r\n"), 0, "hello", 0, 0},
    {"ext several", W("5;a=1;b;c=\"x\"\r\nhello\r\n0\r\n\r\n"), 0, "hello", 0, 0},
    {"ext bws", W("5; a = 1 ;b\r\nhello\r\n0\r\n\r\n"), 0, "hello", 0, 0},
    {"trailers", W("5\r\nhello\r\n0\r\nExpires: never\r\nX: y\r\n\r\n"), 0, "hello", 0, 0},
    {"trailers kept", W("5\r\nhello\r\n0\r\nX: y\r\n\r\n"), 0, "hello", 8, CIO_HTTP_CHUNKED_KEEP_TRAILERS},
    {"no trailers kept", W("5\r\nhello\r\n0\r\n\r\nZ"), 0, "hello", 3, CIO_HTTP_CHUNKED_KEEP_TRAILERS},
    {"lenient lf", W("5\nhello\n0\n\n"), 0, "hello", 0, CIO_HTTP_LENIENT_LF},
    {"16 digits", W("0000000000000005\r\nhello\r\n0\r\n\r\n"), 0, "hello", 0, 0},
    {"17 digits", W("00000000000000005\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_CHUNK_SIZE_TOO_LARGE, NULL, 0, 0},
    {"huge size", W("fffffffffffffffff\r\n"), CIO_EHTTP_CHUNK_SIZE_TOO_LARGE, NULL, 0, 0},
    {"no size", W("\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_SIZE, NULL, 0, 0},
    {"bad size", W("g\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_SIZE, NULL, 0, 0},
    {"negative size", W("-5\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_SIZE, NULL, 0, 0},
    {"space after size", W("5 \r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_SIZE, NULL, 0, 0},
    {"0x prefix", W("0x5\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_SIZE, NULL, 0, 0},
    {"bare lf size", W("5\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BARE_LF, NULL, 0, 0},
    {"bare cr size", W("5\rhello\r\n0\r\n\r\n"), CIO_EHTTP_BARE_CR, NULL, 0, 0},
    {"data too long", W("5\r\nhello!\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_END, NULL, 0, 0},
    {"data lf only", W("5\r\nhello\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_END, NULL, 0, 0},
    {"data cr x", W("5\r\nhello\rx0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_END, NULL, 0, 0},
    {"ext ctl", W("5;a\x01\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_EXT, NULL, 0, 0},
    {"ext empty name", W("5;=1\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_EXT, NULL, 0, 0},
    {"ext empty value", W("5;a=\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_EXT, NULL, 0, 0},
    {"ext bad quote", W("5;a=\"x\x01\"\r\nhello\r\n0\r\n\r\n"), CIO_EHTTP_BAD_CHUNK_EXT, NULL, 0, 0},
    {"ext unterminated", W("5;a=\"x\r\nhello\"\r\n"), CIO_EHTTP_BAD_CHUNK_EXT, NULL, 0, 0},
    {"ext too long", W("1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"),
     CIO_EHTTP_CHUNK_EXT_TOO_LONG, NULL, 0, 0x200},
    {"trailer fold", W("0\r\nA: b\r\n c\r\n\r\n"), CIO_EHTTP_OBS_FOLD, NULL, 0, 0},
    {"trailer space colon", W("0\r\nA : b\r\n\r\n"), CIO_EHTTP_SPACE_BEFORE_COLON, NULL, 0, 0},
    {"trailer bad name", W("0\r\nA@: b\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, NULL, 0, 0},
    {"trailer bad value", W("0\r\nA: b\x01\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, NULL, 0, 0},
    {"trailer bare lf", W("0\r\nA: b\n\r\n"), CIO_EHTTP_BARE_LF, NULL, 0, 0},
    {"trailer bare cr", W("0\r\nA: b\rc\r\n\r\n"), CIO_EHTTP_BARE_CR, NULL, 0, 0},
    {"final bare cr", W("0\r\n\rx"), CIO_EHTTP_BARE_CR, NULL, 0, 0},
    {"trailer too large", W("0\r\nA: 012345678901234567890123456789012345678901234567890123456789\r\n\r\n"),
     CIO_EHTTP_TRAILER_TOO_LARGE, NULL, 0, 0x100},
};
/* clang-format on */
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Decode `c` in pieces cut at `cut1` and `cut2`; return the status, the decoded data in `out`, the rest in `rest`. */
static ssize_t decode_split(const struct chunk_case *c, size_t cut1, size_t cut2, char *out, size_t *outlen,
                            size_t *rest)
{
    cio_http_chunked d;
    cio_http_chunked_opts o = {
        .flags = c->flags & 0xff, .max_trailers = (c->flags & 0x100) ? 32 : 0, .max_ext = (c->flags & 0x200) ? 64 : 0};
    size_t cuts[3] = {cut1, cut2, c->len}, from = 0, later = 0;
    ssize_t rc = -EAGAIN;
    cio_http_chunked_init(&d, &o);
    *outlen = 0;
    for (int i = 0; i < 3 && rc == -EAGAIN; i++) {
        size_t n = cuts[i] - from;
        char *buf = fence_copy(c->wire + from, n);
        size_t len = n;
        rc = cio_http_chunked_decode(&d, buf, &len);
        cr_assert_leq(len, n);
        memcpy(out + *outlen, buf, len);
        *outlen += len;
        if (rc >= 0)
            cr_assert_eq(memcmp(buf + len, c->wire + from + (n - (size_t)rc), (size_t)rc), 0, "%s: rest", c->name);
        from = cuts[i];
        later = c->len - cuts[i];
    }
    *rest = rc >= 0 ? (size_t)rc + later : 0;
    return rc;
}

ParameterizedTestParameters(chunked, table)
{
    static size_t idx[N_CASES];
    for (size_t i = 0; i < N_CASES; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, N_CASES);
}

/* Whole, and cut in three pieces at every pair of points: the same data, rest and error every time. */
ParameterizedTest(size_t *i, chunked, table)
{
    const struct chunk_case *c = &cases[*i];
    char out[512];
    size_t outlen, rest;
    for (size_t a = 0; a <= c->len; a++) {
        for (size_t b = a; b <= c->len; b++) {
            ssize_t rc = decode_split(c, a, b, out, &outlen, &rest);
            if (c->want) {
                cr_assert_eq(rc, c->want, "%s cut %zu/%zu: %s", c->name, a, b, cio_err_name((int)rc));
                continue;
            }
            cr_assert_geq(rc, 0, "%s cut %zu/%zu: %s", c->name, a, b, cio_err_name((int)rc));
            cr_assert(outlen == strlen(c->data) && memcmp(out, c->data, outlen) == 0, "%s: data", c->name);
            cr_assert_eq(rest, c->rest, "%s cut %zu/%zu: rest %zu", c->name, a, b, rest);
        }
    }
}

Test(chunked, truncated_body_needs_more)
{
    const char *w = "5\r\nhello\r\n0\r\n\r\n";
    for (size_t k = 0; k < strlen(w); k++) {
        cio_http_chunked d;
        char buf[32];
        size_t len = k;
        memcpy(buf, w, k);
        cio_http_chunked_init(&d, NULL);
        cr_assert_eq(cio_http_chunked_decode(&d, buf, &len), -EAGAIN, "cut at %zu", k);
    }
}

Test(chunked, large_chunk_across_many_reads)
{
    cio_http_chunked d;
    char buf[64];
    size_t total = 0, len;
    cio_http_chunked_init(&d, NULL);
    memcpy(buf, "1000\r\n", 6);
    len = 6;
    cr_assert_eq(cio_http_chunked_decode(&d, buf, &len), -EAGAIN);
    cr_assert_eq(len, 0);
    for (int i = 0; i < 128; i++) {
        memset(buf, 'x', 32);
        len = 32;
        cr_assert_eq(cio_http_chunked_decode(&d, buf, &len), -EAGAIN);
        total += len;
    }
    cr_assert_eq(total, 4096);
    memcpy(buf, "\r\n0\r\n\r\n", 7);
    len = 7;
    cr_assert_eq(cio_http_chunked_decode(&d, buf, &len), 0);
    cr_assert_eq(len, 0);
}

Test(chunked, kept_trailers_parse_with_parse_trailers)
{
    char buf[] = "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n";
    size_t len = sizeof(buf) - 1;
    cio_http_chunked d;
    cio_http_chunked_opts o = {.flags = CIO_HTTP_CHUNKED_KEEP_TRAILERS};
    cio_http_chunked_init(&d, &o);
    ssize_t rest = cio_http_chunked_decode(&d, buf, &len);
    cr_assert(len == 3 && memcmp(buf, "abc", 3) == 0 && rest == 12);
    cio_http_header hs[2];
    cio_http_head h;
    cio_http_head_init(&h, hs, 2);
    cr_assert_eq(cio_http_parse_trailers(&h, buf + len, (size_t)rest, NULL), 12);
    cr_assert(h.num_headers == 1 && cio_http_str_ieq(hs[0].name, "x-sum"));
}

Test(chunked, a_spent_decoder_refuses_more)
{
    char buf[] = "x\r\n";
    size_t len = 3;
    cio_http_chunked d;
    cio_http_chunked_init(&d, NULL);
    cr_assert_eq(cio_http_chunked_decode(&d, buf, &len), CIO_EHTTP_BAD_CHUNK_SIZE);
    len = 3;
    cr_assert_eq(cio_http_chunked_decode(&d, buf, &len), CIO_EINVAL);
}

/*
 * cio_http_chunked_next over the same table, cut in two at every point as a stream's buffer would present it: the
 * bytes not consumed are presented again with the next ones. Same data, same rest, same errors, and nothing
 * written to the (read-only, guarded) input.
 */
static ssize_t next_split(const struct chunk_case *c, size_t cut, char *out, size_t *outlen, size_t *rest)
{
    cio_http_chunked d;
    cio_http_chunked_opts o = {
        .flags = c->flags & 0xff, .max_trailers = (c->flags & 0x100) ? 32 : 0, .max_ext = (c->flags & 0x200) ? 64 : 0};
    cio_http_chunked_init(&d, &o);
    size_t from = 0, avail = cut;
    *outlen = 0;
    for (int turns = 0; turns < 10000; turns++) {
        const char *buf = fence_copy(c->wire + from, avail - from);
        const char *data;
        size_t dlen;
        ssize_t used = cio_http_chunked_next(&d, buf, avail - from, &data, &dlen);
        if (used < 0)
            return used;
        cr_assert_leq((size_t)used, avail - from);
        if (dlen) {
            cr_assert(data >= buf && data + dlen <= buf + used, "%s: the view is inside what was consumed", c->name);
            memcpy(out + *outlen, data, dlen);
            *outlen += dlen;
        }
        from += (size_t)used;
        if (cio_http_chunked_done(&d)) {
            *rest = c->len - from;
            return 0;
        }
        if (used == 0 && dlen == 0) {
            if (avail == c->len)
                return -EAGAIN; /* everything was presented: the body is incomplete */
            avail = c->len;
        }
    }
    cr_assert_fail("%s: no progress", c->name);
    return 0;
}

ParameterizedTestParameters(chunked, next_table)
{
    static size_t idx[N_CASES];
    for (size_t i = 0; i < N_CASES; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, N_CASES);
}

ParameterizedTest(size_t *i, chunked, next_table)
{
    const struct chunk_case *c = &cases[*i];
    char out[512];
    size_t outlen, rest;
    for (size_t cut = 0; cut <= c->len; cut++) {
        ssize_t rc = next_split(c, cut, out, &outlen, &rest);
        if (c->want) {
            cr_assert_eq(rc, c->want, "%s cut %zu: %s", c->name, cut, cio_err_name((int)rc));
            continue;
        }
        cr_assert_eq(rc, 0, "%s cut %zu: %s", c->name, cut, cio_err_name((int)rc));
        cr_assert(outlen == strlen(c->data) && memcmp(out, c->data, outlen) == 0, "%s: data", c->name);
        cr_assert_eq(rest, c->rest, "%s cut %zu: rest %zu", c->name, cut, rest);
    }
}

Test(chunked, next_on_a_spent_decoder_is_einval_and_done_says_when_the_body_ended)
{
    cio_http_chunked d;
    const char *data;
    size_t dlen;
    cio_http_chunked_init(&d, NULL);
    cr_assert_not(cio_http_chunked_done(&d));
    cr_assert_eq(cio_http_chunked_next(&d, "x\r\n", 3, &data, &dlen), CIO_EHTTP_BAD_CHUNK_SIZE);
    cr_assert_eq(cio_http_chunked_next(&d, "0\r\n\r\n", 5, &data, &dlen), CIO_EINVAL);
    cio_http_chunked_init(&d, NULL);
    cr_assert_eq(cio_http_chunked_next(&d, "0\r\n\r\nGET", 8, &data, &dlen), 5);
    cr_assert_eq(dlen, 0);
    cr_assert(cio_http_chunked_done(&d));
    cr_assert_eq(cio_http_chunked_next(&d, "GET", 3, &data, &dlen), 0, "nothing after the end is taken");
}
