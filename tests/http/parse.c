/* parse.c: the head parser against its table: whole, cut at every length, resumed, on every SIMD path. */
#include "harness.h"

#include <string.h>

#include <criterion/parameterized.h>

#include "cases.h"
#include "cio/http.h"
#include "guard.h"
#include "http/scan.h"

typedef int (*parse_fn)(cio_http_head *, const char *, size_t, const cio_http_parse_opts *);

/* The SIMD levels this CPU runs; each case runs on all of them and must give the same answers. */
static int levels(int *out)
{
    int n = 0;
    for (int l = CIO__SIMD_SCALAR; l <= CIO__SIMD_NEON; l++)
        if (cio__http_simd_set(l) == l)
            out[n++] = l;
    return n;
}

/*
 * One case, three ways: each prefix parsed afresh (a prefix gives -EAGAIN or, for a bad message, the same error
 * as the whole), the whole, and all prefixes fed in turn to one head, each in a new buffer (the parser resumes
 * and moves its views along). Every buffer ends flush against an unreadable page.
 */
static void run_case(const struct http_case *c, parse_fn parse, const char *level)
{
    cio_http_parse_opts o;
    size_t maxh, n = c->len;
    cio_http_header hs[64];
    cio_http_head h;
    case_opts(c, &o, &maxh);
    for (size_t k = 0; k < n; k++) {
        cio_http_head_init(&h, hs, maxh);
        int rc = parse(&h, tst_guarded(c->wire, k), k, &o);
        cr_assert(rc == -EAGAIN || (c->want < 0 && rc == c->want), "%s [%s] cut at %zu: %s", c->name, level, k,
                  cio_err_name(rc));
    }
    cio_http_head_init(&h, hs, maxh);
    int whole = parse(&h, tst_guarded(c->wire, n), n, &o);
    cr_assert_eq(whole, c->want ? c->want : (int)n, "%s [%s]: %s (%d)", c->name, level, cio_err_name(whole), whole);

    cio_http_head_init(&h, hs, maxh);
    int rc = -EAGAIN;
    for (size_t k = 0; k <= n && rc == -EAGAIN; k++)
        rc = parse(&h, tst_guarded(c->wire, k), k, &o);
    cr_assert_eq(rc, whole, "%s [%s] resumed: %s", c->name, level, cio_err_name(rc));
    if (whole > 0) { /* the views of the resumed parse point into the last buffer and match the wire */
        for (size_t i = 0; i < h.num_headers; i++)
            cr_assert(h.headers[i].name.len > 0 && h.headers[i].value.len <= n, "%s: header %zu", c->name, i);
    }
}

static void run_all_levels(const struct http_case *c, parse_fn parse)
{
    int ls[4], nl = levels(ls);
    for (int i = 0; i < nl; i++) {
        cio__http_simd_set(ls[i]);
        run_case(c, parse, cio__http_simd_name(ls[i]));
    }
}

ParameterizedTestParameters(parse, request)
{
    static size_t idx[N_REQUEST_CASES];
    for (size_t i = 0; i < N_REQUEST_CASES; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, N_REQUEST_CASES);
}

ParameterizedTest(size_t *i, parse, request)
{
    run_all_levels(&request_cases[*i], cio_http_parse_request);
}

ParameterizedTestParameters(parse, response)
{
    static size_t idx[N_RESPONSE_CASES];
    for (size_t i = 0; i < N_RESPONSE_CASES; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, N_RESPONSE_CASES);
}

ParameterizedTest(size_t *i, parse, response)
{
    run_all_levels(&response_cases[*i], cio_http_parse_response);
}

Test(parse, table_has_enough_cases)
{
    cr_assert_geq(N_REQUEST_CASES + N_RESPONSE_CASES, 150);
}

static bool str_is(cio_http_str s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static int parse_req(cio_http_head *h, cio_http_header *hs, size_t max, const char *wire)
{
    cio_http_head_init(h, hs, max);
    return cio_http_parse_request(h, tst_guarded(wire, strlen(wire)), strlen(wire), NULL);
}

static int parse_resp(cio_http_head *h, cio_http_header *hs, size_t max, const char *wire)
{
    cio_http_head_init(h, hs, max);
    return cio_http_parse_response(h, tst_guarded(wire, strlen(wire)), strlen(wire), NULL);
}

Test(parse, request_fields_are_views_into_the_buffer)
{
    cio_http_header hs[8];
    cio_http_head h;
    const char *w = "\r\nPOST /a?b HTTP/1.0\r\nHost:  x.org \r\nX-Empty:\r\nContent-Length: 3\r\n\r\nabc";
    int rc = parse_req(&h, hs, 8, w);
    cr_assert_eq(rc, (int)strlen(w) - 3);
    cr_assert(str_is(h.method, "POST") && str_is(h.target, "/a?b") && h.minor_version == 0);
    cr_assert_eq(h.num_headers, 3);
    cr_assert(str_is(hs[0].name, "Host") && str_is(hs[0].value, "x.org"));
    cr_assert(str_is(hs[1].name, "X-Empty") && hs[1].value.len == 0);
    cr_assert(h.flags & CIO_HTTP_HAS_CONTENT_LENGTH);
    cr_assert_eq(h.content_length, 3);
}

Test(parse, response_fields)
{
    cio_http_header hs[8];
    cio_http_head h;
    cr_assert_gt(parse_resp(&h, hs, 8, "HTTP/1.1 404 Not Found\r\nA: b\r\n\r\n"), 0);
    cr_assert(h.status == 404 && str_is(h.reason, "Not Found") && h.minor_version == 1 && h.num_headers == 1);
    cr_assert_gt(parse_resp(&h, hs, 8, "HTTP/1.1 200\r\n\r\n"), 0);
    cr_assert(h.status == 200 && h.reason.len == 0);
    cio_http_parse_opts o = {.flags = CIO_HTTP_LENIENT_LF};
    cio_http_head_init(&h, hs, 8);
    cr_assert_eq(cio_http_parse_response(&h, "HTTP/1.1 204 No\nA: b\n\n", 22, &o), 22);
    cr_assert(str_is(h.reason, "No") && str_is(hs[0].value, "b"));
}

Test(parse, a_finished_head_restarts_on_the_next_call)
{
    cio_http_header hs[4];
    cio_http_head h;
    const char *two = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nA: b\r\n\r\n";
    int n1 = parse_req(&h, hs, 4, two);
    cr_assert_eq(n1, 19);
    int n2 = cio_http_parse_request(&h, two + n1, strlen(two) - (size_t)n1, NULL);
    cr_assert_eq(n2, (int)strlen(two) - n1);
    cr_assert(str_is(h.target, "/2") && h.num_headers == 1);
}

Test(parse, byte_at_a_time_in_one_growing_buffer)
{
    const char *w = NULL;
    for (size_t i = 0; i < N_REQUEST_CASES; i++)
        if (strcmp(request_cases[i].name, "browser") == 0)
            w = request_cases[i].wire;
    cr_assert(w);
    size_t n = strlen(w);
    char buf[1024];
    cio_http_header hs[16];
    cio_http_head h;
    cio_http_head_init(&h, hs, 16);
    int rc = -EAGAIN;
    size_t k;
    for (k = 1; k <= n && rc == -EAGAIN; k++) {
        buf[k - 1] = w[k - 1];
        rc = cio_http_parse_request(&h, buf, k, NULL);
    }
    cr_assert_eq(rc, (int)n);
    cr_assert_eq(h.num_headers, 8);
    cr_assert(str_is(hs[5].name, "Cookie") && hs[5].value.ptr == buf + (strstr(w, "session") - w));
}

Test(parse, shrinking_input_is_refused)
{
    cio_http_header hs[4];
    cio_http_head h;
    cio_http_head_init(&h, hs, 4);
    cr_assert_eq(cio_http_parse_request(&h, "GET / HTTP/1.1\r\nA: b\r\n", 22, NULL), -EAGAIN);
    cr_assert_eq(cio_http_parse_request(&h, "GET / HTTP/1.1\r\n", 16, NULL), CIO_EINVAL);
}

Test(parse, no_header_array_means_no_headers_allowed)
{
    cio_http_head h;
    cio_http_head_init(&h, NULL, 10);
    cr_assert_eq(cio_http_parse_request(&h, "GET / HTTP/1.1\r\n\r\n", 18, NULL), 18);
    cio_http_head_init(&h, NULL, 10);
    cr_assert_eq(cio_http_parse_request(&h, "GET / HTTP/1.1\r\nA: b\r\n\r\n", 24, NULL), CIO_EHTTP_TOO_MANY_HEADERS);
}

Test(parse, trailers)
{
    cio_http_header hs[4];
    cio_http_head h;
    cio_http_head_init(&h, hs, 4);
    cr_assert_eq(cio_http_parse_trailers(&h, "\r\n", 2, NULL), 2);
    cr_assert_eq(h.num_headers, 0);
    cio_http_head_init(&h, hs, 4);
    const char *t = "Expires: never\r\nContent-Length: x\r\n\r\n";
    cr_assert_eq(cio_http_parse_trailers(&h, t, strlen(t), NULL), (int)strlen(t));
    cr_assert(h.num_headers == 2 && h.flags == 0);
    cio_http_head_init(&h, hs, 4);
    cr_assert_eq(cio_http_parse_trailers(&h, "A : b\r\n\r\n", 9, NULL), CIO_EHTTP_SPACE_BEFORE_COLON);
}

Test(parse, scans_agree_on_every_byte_and_length)
{
    char buf[80];
    int ls[4], nl = levels(ls);
    for (int b = 0; b < 256; b++) {
        for (size_t len = 1; len <= 70; len++) {
            memset(buf, 'a', sizeof(buf));
            for (size_t pos = 0; pos < len; pos += 7) {
                buf[pos] = (char)b;
                const char *p = fence_copy(buf, len);
                const char *want_ctl = cio__http_find_ctl_scalar(p, p + len);
                const char *want_tgt = cio__http_find_nontarget_scalar(p, p + len);
                for (int i = 0; i < nl; i++) {
                    cio__http_simd_set(ls[i]);
                    cr_assert_eq(cio__http_find_ctl(p, p + len), want_ctl, "ctl %s byte %d len %zu",
                                 cio__http_simd_name(ls[i]), b, len);
                    cr_assert_eq(cio__http_find_nontarget(p, p + len), want_tgt, "target %s byte %d len %zu",
                                 cio__http_simd_name(ls[i]), b, len);
                }
                buf[pos] = 'a';
            }
        }
    }
}

Test(parse, every_error_has_a_name_and_a_status)
{
    static const int errs[] = {
#define HTTP_ERR(name, value, text) CIO_##name,
        CIO_ERRORS_HTTP(HTTP_ERR)
#undef HTTP_ERR
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        cr_assert_neq(strcmp(cio_err_name(errs[i]), "CIO_EUNKNOWN"), 0);
        cr_assert_geq(cio_http_error_status(errs[i]), 400);
    }
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_LINE_TOO_LONG), 414);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_TOO_MANY_HEADERS), 431);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_HEAD_TOO_LARGE), 431);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_BODY_TOO_LARGE), 413);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_VERSION), 505);
    cr_assert_eq(cio_http_error_status(CIO_EHTTP_BARE_LF), 400);
    cr_assert_eq(cio_http_error_status(-EAGAIN), 0);
}
