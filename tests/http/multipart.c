/* multipart.c: multipart/form-data: the parser against its table and against bodies curl, requests and aiohttp
 * build, cut at every offset; boundaries, Content-Disposition, upload names and the writing helpers. */
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/parameterized.h>

#include "cio/http.h"
#include "multipart_cases.h"

#define S(lit) ((cio_http_str){(lit), sizeof(lit) - 1})

/* ------------------------------------------------------------------------------------------------- helpers */

/* One reusable region of 4 MiB followed by an unreadable page: every buffer the parser sees ends against it. */
#define FENCE_SPAN ((size_t)4 << 20)

static const char *fenced(const char *src, size_t n)
{
    static char *end;
    if (!end) {
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        char *base = mmap(NULL, FENCE_SPAN + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert(base != MAP_FAILED && mprotect(base + FENCE_SPAN, pg, PROT_NONE) == 0);
        end = base + FENCE_SPAN;
    }
    cr_assert_leq(n, FENCE_SPAN);
    return memcpy(end - n, src, n);
}

/* A growing byte string. */
struct bytes {
    char *p;
    size_t len, cap;
};

static void bytes_put(struct bytes *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void bytes_puts(struct bytes *b, const char *s)
{
    bytes_put(b, s, strlen(s));
}

/* What one parse gave: a transcript ("{Name: value;...}" for a part, its data, "|" at its end, "$" at the body's
   end, "!CIO_E..." for an error), and each part's fields of interest and data. */
#define MAX_PARTS 16
struct got_part {
    char disposition[512];
    char content_type[256];
    struct bytes data;
};
struct result {
    int rc; /* 0 at the close delimiter, else the error */
    struct bytes log;
    size_t nparts;
    struct got_part parts[MAX_PARTS];
};

static void result_free(struct result *r)
{
    free(r->log.p);
    for (size_t i = 0; i < MAX_PARTS; i++)
        free(r->parts[i].data.p);
    memset(r, 0, sizeof(*r));
}

static void copy_value(char *dst, size_t cap, cio_http_str v)
{
    cr_assert_lt(v.len, cap);
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = '\0';
}

/* How a parse is fed: `first` bytes arrive at once, then `step` more at each -EAGAIN (a stream's reads). */
struct schedule {
    size_t first, step;
};

/* A part's fields, into the transcript and the part's record. */
static void record_part(struct result *r, const cio_http_multipart_event *ev, const char *b)
{
    cr_assert_eq(ev->part, r->nparts);
    cr_assert_lt(r->nparts, MAX_PARTS);
    struct got_part *gp = &r->parts[r->nparts++];
    bytes_puts(&r->log, "{");
    for (size_t i = 0; i < ev->head.num_headers; i++) {
        const cio_http_header *h = &ev->head.headers[i];
        cr_assert(h->name.ptr >= b && h->value.ptr + h->value.len <= b + ev->consumed);
        bytes_put(&r->log, h->name.ptr, h->name.len);
        bytes_puts(&r->log, ": ");
        bytes_put(&r->log, h->value.ptr, h->value.len);
        bytes_puts(&r->log, ";");
        if (cio_http_str_ieq(h->name, "Content-Disposition"))
            copy_value(gp->disposition, sizeof(gp->disposition), h->value);
        if (cio_http_str_ieq(h->name, "Content-Type"))
            copy_value(gp->content_type, sizeof(gp->content_type), h->value);
    }
    bytes_puts(&r->log, "}");
}

/* What the parser keeps during part data is a proper prefix of "\r\n--boundary", or of "\n--boundary". */
static void check_kept(const char *k, size_t kept, const char *delim, size_t dl)
{
    bool prefix = kept < dl && (memcmp(k, delim, kept) == 0 || memcmp(k, delim + 1, kept) == 0);
    cr_assert(prefix, "kept %zu bytes that cannot begin a delimiter", kept);
}

/*
 * Parse `body` as a reader on a stream would: the bytes not consumed yet and those arrived since are handed over
 * in one buffer ending against the fence; end of input is signalled only after the parser asked for more and
 * none came. Each call is checked: views inside the buffer, `consumed` and `want` consistent, and what is kept
 * during part data never more than a prefix of "\r\n--boundary" (held back only as long as needed).
 */
static void parse_body(struct result *r, const char *body, size_t n, cio_http_str boundary,
                       const cio_http_multipart_opts *o, size_t max_headers, struct schedule sch)
{
    cio_http_multipart m;
    cio_http_multipart_event ev;
    cio_http_header hs[64];
    char delim[128];
    cr_assert_leq(max_headers, 64);
    memset(r, 0, sizeof(*r));
    cr_assert_eq(cio_http_multipart_init(&m, boundary, o), 0);
    cio_http_head_init(&ev.head, hs, max_headers);
    size_t dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%.*s", (int)boundary.len, boundary.ptr);
    size_t have = sch.first < n ? sch.first : n, pos = 0, calls = 0;
    bool eof = false, in_data = false;
    for (;;) {
        cr_assert_lt(++calls, 10 * n + 100, "the parser makes progress");
        size_t len = have - pos;
        const char *b = fenced(body + pos, len);
        int rc = cio_http_multipart_next(&m, &ev, b, len, eof);
        if (rc != -EAGAIN && rc < 0) {
            bytes_puts(&r->log, "!");
            bytes_puts(&r->log, cio_err_name(rc));
            r->rc = rc;
            cr_assert_eq(cio_http_multipart_next(&m, &ev, b, len, eof), rc, "a spent parser repeats its error");
            return;
        }
        cr_assert_leq(ev.consumed, len);
        if (rc == -EAGAIN) {
            cr_assert(!eof);
            cr_assert_eq(ev.want, len - ev.consumed + 1);
            pos += ev.consumed;
            if (in_data)
                check_kept(body + pos, have - pos, delim, dl);
            if (have < n)
                have = have + sch.step < n ? have + sch.step : n;
            else
                eof = true;
            continue;
        }
        cr_assert_eq(ev.want, 0);
        switch (rc) {
        case CIO_HTTP_MP_PART:
            record_part(r, &ev, b);
            in_data = true;
            break;
        case CIO_HTTP_MP_DATA:
            cr_assert(ev.data.len > 0 && ev.data.ptr >= b && ev.data.ptr + ev.data.len <= b + ev.consumed);
            cr_assert_eq(ev.part, r->nparts - 1);
            for (const char *p = ev.data.ptr, *e = p + ev.data.len; p < e;) { /* a NUL as "\\0" for the rows */
                const char *z = memchr(p, '\0', (size_t)(e - p));
                bytes_put(&r->log, p, (size_t)((z ? z : e) - p));
                if (z)
                    bytes_puts(&r->log, "\\0");
                p = z ? z + 1 : e;
            }
            bytes_put(&r->parts[r->nparts - 1].data, ev.data.ptr, ev.data.len);
            break;
        case CIO_HTTP_MP_PART_END:
            cr_assert_eq(ev.part, r->nparts - 1);
            bytes_puts(&r->log, "|");
            in_data = false;
            break;
        case CIO_HTTP_MP_END:
            cr_assert_eq(ev.part, r->nparts);
            bytes_puts(&r->log, "$");
            pos += ev.consumed;
            /* The epilogue: every later call takes all it is given and says END again. */
            cr_assert_eq(cio_http_multipart_next(&m, &ev, body + pos, n - pos, true), CIO_HTTP_MP_END);
            cr_assert_eq(ev.consumed, n - pos);
            r->rc = 0;
            return;
        default:
            cr_assert_fail("unexpected event %d", rc);
        }
        pos += ev.consumed;
    }
}

/* The offsets of each "--" + boundary in `body`, for cutting densely around them; at most `max`. */
static size_t framing_offsets(const char *body, size_t n, cio_http_str boundary, size_t *at, size_t max)
{
    char dash[80];
    size_t dl = (size_t)snprintf(dash, sizeof(dash), "--%.*s", (int)boundary.len, boundary.ptr), k = 0;
    for (const char *p = body; k < max && (p = memmem(p, n - (size_t)(p - body), dash, dl)) != NULL; p += dl)
        at[k++] = (size_t)(p - body);
    return k;
}

/*
 * Parse `body` whole, then cut in two at every offset, then a byte at a time: each must give the whole parse's
 * result. With `stride` > 1 (large bodies), the cuts in two are every stride-th offset and every offset near the
 * framing, where a cut can matter; within data, every offset is the same case as its neighbours.
 */
static void parse_every_way(struct result *whole, const char *body, size_t n, cio_http_str boundary,
                            const cio_http_multipart_opts *o, size_t max_headers, size_t stride, const char *what)
{
    struct result r;
    size_t at[64], nat = framing_offsets(body, n, boundary, at, 64), next = 0;
    parse_body(whole, body, n, boundary, o, max_headers, (struct schedule){n, n});
    for (size_t k = 0; k <= n; k++) {
        while (next < nat && at[next] + 200 < k)
            next++;
        bool near = next < nat && k + 8 >= at[next]; /* from 8 bytes before a boundary to 200 after */
        if (stride > 1 && k % stride != 0 && k != n && !near)
            continue;
        parse_body(&r, body, n, boundary, o, max_headers, (struct schedule){k, n});
        cr_assert_eq(r.rc, whole->rc, "%s cut at %zu: %s", what, k, cio_err_name(r.rc));
        cr_assert(r.log.len == whole->log.len && memcmp(r.log.p, whole->log.p, r.log.len) == 0,
                  "%s cut at %zu: another transcript", what, k);
        result_free(&r);
    }
    parse_body(&r, body, n, boundary, o, max_headers, (struct schedule){1, 1});
    cr_assert_eq(r.rc, whole->rc, "%s byte by byte: %s", what, cio_err_name(r.rc));
    cr_assert(r.log.len == whole->log.len && memcmp(r.log.p, whole->log.p, r.log.len) == 0,
              "%s byte by byte: another transcript", what);
    result_free(&r);
}

/* --------------------------------------------------------------------------------------------- the table */

static void case_opts(const struct mp_case *c, cio_http_multipart_opts *o, size_t *maxh)
{
    *o = (cio_http_multipart_opts){0};
    if (c->opt & MP_OPT_LF)
        o->flags = CIO_HTTP_LENIENT_LF;
    if (c->opt & MP_OPT_SMALL)
        o->max_parts = 2, o->max_head = 64, o->max_part_size = 8;
    *maxh = c->opt & MP_OPT_FEWHDR ? 2 : 8;
}

ParameterizedTestParameters(multipart, table)
{
    static size_t idx[N_MP_CASES];
    for (size_t i = 0; i < N_MP_CASES; i++)
        idx[i] = i;
    return cr_make_param_array(size_t, idx, N_MP_CASES);
}

/* Each row whole, cut in two at every offset, and a byte at a time, with its one right transcript. */
ParameterizedTest(size_t *i, multipart, table)
{
    const struct mp_case *c = &mp_cases[*i];
    cio_http_multipart_opts o;
    size_t maxh;
    struct result r;
    case_opts(c, &o, &maxh);
    parse_every_way(&r, c->wire, c->len, (cio_http_str){c->boundary, strlen(c->boundary)}, &o, maxh, 1, c->name);
    cr_assert(r.log.len == strlen(c->want) && memcmp(r.log.p, c->want, r.log.len) == 0, "%s: got\n%s\nwant\n%s",
              c->name, r.log.p, c->want);
    result_free(&r);
}

Test(multipart, table_has_every_error)
{
    static const char *const names[] = {"CIO_EHTTP_MP_BAD_DELIMITER",  "CIO_EHTTP_MP_TRUNCATED",
                                        "CIO_EHTTP_MP_TOO_MANY_PARTS", "CIO_EHTTP_MP_HEADERS_TOO_LARGE",
                                        "CIO_EHTTP_MP_PART_TOO_LARGE", "CIO_EHTTP_BARE_LF",
                                        "CIO_EHTTP_BARE_CR",           "CIO_EHTTP_OBS_FOLD"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        bool seen = false;
        for (size_t i = 0; i < N_MP_CASES && !seen; i++)
            seen = strstr(mp_cases[i].want, names[k]) != NULL;
        cr_assert(seen, "no row ends in %s", names[k]);
    }
}

Test(multipart, init_refuses_a_bad_boundary_and_the_parser_stays_spent)
{
    cio_http_multipart m;
    cio_http_multipart_event ev;
    cio_http_head_init(&ev.head, NULL, 0);
    cr_assert_eq(cio_http_multipart_init(&m, S(""), NULL), CIO_EHTTP_MP_BAD_BOUNDARY);
    cr_assert_eq(cio_http_multipart_next(&m, &ev, "--\r\n", 4, false), CIO_EHTTP_MP_BAD_BOUNDARY);
    cr_assert_eq(cio_http_multipart_init(&m, S("ab "), NULL), CIO_EHTTP_MP_BAD_BOUNDARY);
    cr_assert_eq(cio_http_multipart_init(&m, S("a\"b"), NULL), CIO_EHTTP_MP_BAD_BOUNDARY);
    cr_assert_eq(cio_http_multipart_init(&m, S(B70 "x"), NULL), CIO_EHTTP_MP_BAD_BOUNDARY);
    cr_assert_eq(cio_http_multipart_init(&m, S(B70), NULL), 0);
}

Test(multipart, a_large_part_is_given_in_views_without_copies)
{
    /* 1 MiB of data in one buffer comes back as one view of that buffer. */
    size_t n = (size_t)1 << 20;
    struct bytes body = {0};
    bytes_puts(&body, "--XyZ\r\n" CD "\r\n");
    size_t at = body.len;
    for (size_t i = 0; i < n; i++)
        bytes_put(&body, &(char){(char)('a' + i % 26)}, 1);
    bytes_puts(&body, "\r\n--XyZ--\r\n");
    cio_http_multipart m;
    cio_http_multipart_event ev;
    cio_http_header hs[4];
    cio_http_head_init(&ev.head, hs, 4);
    cr_assert_eq(cio_http_multipart_init(&m, S("XyZ"), NULL), 0);
    cr_assert_eq(cio_http_multipart_next(&m, &ev, body.p, body.len, false), CIO_HTTP_MP_PART);
    cr_assert_eq(ev.consumed, at);
    cr_assert_eq(cio_http_multipart_next(&m, &ev, body.p + at, body.len - at, false), CIO_HTTP_MP_DATA);
    cr_assert(ev.data.ptr == body.p + at && ev.data.len == n && ev.consumed == n);
    free(body.p);
}

/* ---------------------------------------------------------------------------------------------- boundaries */

struct boundary_case {
    const char *content_type;
    const char *boundary; /* NULL when `want` is an error */
    const char *subtype;
    int want;
};

/* clang-format off */
static const struct boundary_case boundary_cases[] = {
    {"multipart/form-data; boundary=abc", "abc", "form-data", 0},
    {"multipart/form-data; boundary=\"abc\"", "abc", "form-data", 0},
    {"Multipart/Form-Data;Boundary=abc", "abc", "Form-Data", 0},
    {"multipart/form-data ; boundary = abc ; charset=utf-8", "abc", "form-data", 0},
    {"multipart/mixed; charset=\"a;b\"; boundary=x", "x", "mixed", 0},
    {"multipart/form-data; boundary=\"a b:c/d?e=f\"", "a b:c/d?e=f", "form-data", 0},
    {"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
     "form-data", 0},
    {"multipart/form-data; boundary=\"" B70 "\"", B70, "form-data", 0},
    {"multipart/form-data; boundary=abc;", "abc", "form-data", 0},
    {"text/plain; boundary=abc", NULL, NULL, CIO_EHTTP_MP_NOT_MULTIPART},
    {"multipart", NULL, NULL, CIO_EHTTP_MP_NOT_MULTIPART},
    {"multipart/", NULL, NULL, CIO_EHTTP_MP_NOT_MULTIPART},
    {"multipartx/form-data; boundary=a", NULL, NULL, CIO_EHTTP_MP_NOT_MULTIPART},
    {"", NULL, NULL, CIO_EHTTP_MP_NOT_MULTIPART},
    {"multipart/form-data", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; charset=utf-8", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=\"\"", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=\"abc \"", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=\"a\\\\b\"", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=a*b", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=\"" B70 "x\"", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=a; boundary=a", NULL, NULL, CIO_EHTTP_MP_BAD_BOUNDARY},
    {"multipart/form-data; boundary=a/b", NULL, NULL, CIO_EHTTP_BAD_LIST},
    {"multipart/form-data; boundary=", NULL, NULL, CIO_EHTTP_BAD_LIST},
    {"multipart/form-data; boundary=\"abc", NULL, NULL, CIO_EHTTP_BAD_LIST},
    {"multipart/form-data boundary=abc", NULL, NULL, CIO_EHTTP_BAD_LIST},
    {"multipart/form-data; =abc", NULL, NULL, CIO_EHTTP_BAD_LIST},
};
/* clang-format on */

Test(multipart, boundary_comes_from_the_content_type)
{
    for (size_t i = 0; i < sizeof(boundary_cases) / sizeof(boundary_cases[0]); i++) {
        const struct boundary_case *c = &boundary_cases[i];
        size_t n = strlen(c->content_type);
        cio_http_str b = {0}, sub = {0};
        int rc = cio_http_multipart_boundary(&b, &sub, (cio_http_str){fenced(c->content_type, n), n});
        cr_assert_eq(rc, c->want, "%s: %s", c->content_type, cio_err_name(rc));
        if (rc == 0) {
            cr_assert(b.len == strlen(c->boundary) && memcmp(b.ptr, c->boundary, b.len) == 0, "%s", c->content_type);
            cr_assert(sub.len == strlen(c->subtype) && memcmp(sub.ptr, c->subtype, sub.len) == 0, "%s",
                      c->content_type);
        }
    }
}

/* ------------------------------------------------------------------------------------- Content-Disposition */

struct disp_case {
    const char *value;
    int want;             /* cio_http_disposition_parse */
    const char *type;     /* when it parsed */
    const char *name;     /* the decoded name, NULL for -ENOENT */
    const char *filename; /* the decoded file name, NULL for -ENOENT */
    int want_filename;    /* the decoding's error, when not 0 */
};

/* clang-format off */
static const struct disp_case disp_cases[] = {
    {"form-data; name=\"field\"", 0, "form-data", "field", NULL, 0},
    {"form-data; name=field", 0, "form-data", "field", NULL, 0},
    {"form-data; name=\"file\"; filename=\"a.txt\"", 0, "form-data", "file", "a.txt", 0},
    {"FORM-DATA ; NAME = \"x\" ; FileName = \"y\"", 0, "FORM-DATA", "x", "y", 0},
    {"form-data; name=\"f\"; filename=\"\"", 0, "form-data", "f", "", 0},
    {"attachment; filename=\"report.pdf\"", 0, "attachment", NULL, "report.pdf", 0},
    {"inline", 0, "inline", NULL, NULL, 0},
    {"form-data; name=\"a\";", 0, "form-data", "a", NULL, 0},
    /* RFC 8187, preferred over filename */
    {"form-data; name=\"f\"; filename=\"euro.txt\"; filename*=UTF-8''%e2%82%ac.txt", 0, "form-data", "f",
     "\xe2\x82\xac.txt", 0},
    {"form-data; filename*=utf-8''%E2%82%AC%20rates.txt; filename=\"x\"", 0, "form-data", NULL,
     "\xe2\x82\xac rates.txt", 0},
    {"attachment; filename*=UTF-8'en'a%2Fb", 0, "attachment", NULL, "a/b", 0},
    {"attachment; filename*=iso-8859-1''%A3%20rates", 0, "attachment", NULL, "\xc2\xa3 rates", 0},
    {"attachment; filename*=koi8-r''%c1; filename=\"plain.txt\"", 0, "attachment", NULL, "plain.txt", 0},
    {"attachment; filename*=koi8-r''%c1", 0, "attachment", NULL, NULL, CIO_EHTTP_MP_BAD_EXT_VALUE},
    {"attachment; filename*=UTF-8''%ff", 0, "attachment", NULL, NULL, CIO_EHTTP_MP_BAD_EXT_VALUE},
    {"attachment; filename*=UTF-8''%e2%82", 0, "attachment", NULL, NULL, CIO_EHTTP_MP_BAD_EXT_VALUE},
    {"attachment; filename*=UTF-8''%c0%af", 0, "attachment", NULL, NULL, CIO_EHTTP_MP_BAD_EXT_VALUE},
    {"attachment; filename*=UTF-8''%ed%a0%80", 0, "attachment", NULL, NULL, CIO_EHTTP_MP_BAD_EXT_VALUE},
    {"form-data; name*=UTF-8''caf%c3%a9; name=\"cafe\"", 0, "form-data", "caf\xc3\xa9", NULL, 0},
    /* escapes: quoted-pairs, and what browsers write for '"', CR and LF */
    {"form-data; name=\"a\\\"b\"; filename=\"c\\\\d\"", 0, "form-data", "a\"b", "c\\d", 0},
    {"form-data; name=\"a%22b%0D%0Ac\"; filename=\"%22q%22 %0a%0d 100%.txt\"", 0, "form-data", "a\"b\r\nc",
     "\"q\" \n\r 100%.txt", 0},
    {"form-data; name=a%22b", 0, "form-data", "a%22b", NULL, 0},
    {"form-data; filename=\"%E2%82%AC.txt\"", 0, "form-data", NULL, "%E2%82%AC.txt", 0},
    {"form-data; name=\"\xe2\x82\xac\"; filename=\"\xe2\x82\xac.bin\"", 0, "form-data", "\xe2\x82\xac",
     "\xe2\x82\xac.bin", 0},
    {"form-data; name=\"a\"; foo=\"bar;baz\"; x=y", 0, "form-data", "a", NULL, 0},
    /* errors */
    {"", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"; name=a", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name=", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name=\"a", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name=\"a\" b", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data name=a", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name=\"a\"; name=\"b\"", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; filename=\"a\"; FILENAME=\"b\"", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name=\"a\x01\"", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; name=a b", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
    {"form-data; filename*=\"UTF-8''a\"", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8'a", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=''a", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8''a%2", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8''a%zz", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8''a'b", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8'e_n'a", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8''a*b", CIO_EHTTP_MP_BAD_EXT_VALUE, NULL, NULL, NULL, 0},
    {"form-data; filename*=UTF-8''a; filename*=UTF-8''b", CIO_EHTTP_MP_BAD_DISPOSITION, NULL, NULL, NULL, 0},
};
/* clang-format on */

static void check_decoded(const char *what, ssize_t rc, const char *dst, const char *want, int want_err)
{
    if (want_err) {
        cr_assert_eq(rc, want_err, "%s: %s", what, cio_err_name((int)rc));
    } else if (!want) {
        cr_assert_eq(rc, -ENOENT, "%s: %s", what, cio_err_name((int)rc));
    } else {
        cr_assert_eq(rc, (ssize_t)strlen(want), "%s: %zd", what, rc);
        cr_assert_str_eq(dst, want, "%s", what);
    }
}

Test(multipart, content_disposition_gives_type_name_and_filename)
{
    for (size_t i = 0; i < sizeof(disp_cases) / sizeof(disp_cases[0]); i++) {
        const struct disp_case *c = &disp_cases[i];
        size_t n = strlen(c->value);
        cio_http_disposition d;
        int rc = cio_http_disposition_parse(&d, (cio_http_str){fenced(c->value, n), n});
        cr_assert_eq(rc, c->want, "%s: %s", c->value, cio_err_name(rc));
        if (rc != 0)
            continue;
        cr_assert(d.type.len == strlen(c->type) && memcmp(d.type.ptr, c->type, d.type.len) == 0, "%s", c->value);
        char buf[128];
        check_decoded(c->value, cio_http_disposition_name(&d, buf, sizeof(buf)), buf, c->name, 0);
        check_decoded(c->value, cio_http_disposition_filename(&d, buf, sizeof(buf)), buf, c->filename,
                      c->want_filename);
    }
}

Test(multipart, decoding_needs_room_for_the_nul)
{
    cio_http_disposition d;
    char buf[8];
    cr_assert_eq(cio_http_disposition_parse(&d, S("form-data; name=\"abc\"; filename*=UTF-8''%e2%82%ac")), 0);
    cr_assert_eq(cio_http_disposition_name(&d, buf, 3), -ENOBUFS);
    cr_assert_eq(cio_http_disposition_name(&d, buf, 4), 3);
    cr_assert_str_eq(buf, "abc");
    cr_assert_eq(cio_http_disposition_filename(&d, buf, 3), -ENOBUFS);
    cr_assert_eq(cio_http_disposition_filename(&d, buf, 4), 3);
    cr_assert_str_eq(buf, "\xe2\x82\xac");
    cr_assert_eq(cio_http_disposition_name(&d, buf, 0), -ENOBUFS);
}

/* -------------------------------------------------------------------------------------------- upload names */

struct name_case {
    const char *in;
    size_t len; /* inputs may hold NUL bytes */
    size_t cap;
    const char *want;
};

#define LONG50  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx"
#define LONG250 LONG50 LONG50 LONG50 LONG50 LONG50

/* clang-format off */
static const struct name_case name_cases[] = {
    {W("report.pdf"), 64, "report.pdf"},
    {W("/etc/passwd"), 64, "passwd"},
    {W("../../etc/passwd"), 64, "passwd"},
    {W("C:\\Users\\me\\photo.jpg"), 64, "photo.jpg"},
    {W("a/b\\c/d.txt"), 64, "d.txt"},
    {W("dir/"), 64, "upload"},
    {W(".."), 64, "upload"},
    {W("."), 64, "upload"},
    {W("..."), 64, "upload"},
    {W("../.."), 64, "upload"},
    {W(""), 64, "upload"},
    {W(".bashrc"), 64, "bashrc"},
    {W("..hidden.txt"), 64, "hidden.txt"},
    {W("\x01..\x02x"), 64, "x"},
    {W("a\0b\r\nc\x7f.txt"), 64, "abc.txt"},
    {W("\x1b[31mred"), 64, "[31mred"},
    {W("\xe2\x82\xac rates.txt"), 64, "\xe2\x82\xac rates.txt"},
    {W("file.tar.gz"), 64, "file.tar.gz"},
    {W("trailing."), 64, "trailing."},
    /* length: cut at a character boundary, keeping a short extension */
    {W("abcdefghij.txt"), 9, "abcd.txt"},
    {W("abcdefghij"), 5, "abcd"},
    {W("ab\xe2\x82\xac\xe2\x82\xac.txt"), 10, "ab\xe2\x82\xac.txt"},
    {W("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"), 8, "\xe2\x82\xac\xe2\x82\xac"},
    {W("\xe2\x82\xac.txt"), 5, "\xe2\x82\xac."},
    {W("abc.averyveryverylongextension"), 10, "abc.avery"},
    {W(LONG250 "abcdefghij.txt"), 1024, LONG250 "a.txt"},
    {W(LONG250 "abcdef"), 1024, LONG250 "abcde"},
};
/* clang-format on */

Test(multipart, upload_names_are_made_safe)
{
    for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        const struct name_case *c = &name_cases[i];
        char buf[1024];
        cr_assert_leq(c->cap, sizeof(buf));
        ssize_t rc = cio_http_filename_sanitize(buf, c->cap, (cio_http_str){fenced(c->in, c->len), c->len}, NULL);
        cr_assert_eq(rc, (ssize_t)strlen(c->want), "case %zu: %zd", i, rc);
        cr_assert_str_eq(buf, c->want, "case %zu", i);
        cr_assert_leq(strlen(buf), CIO_HTTP_FILENAME_MAX);
    }
}

Test(multipart, upload_name_fallback_must_fit)
{
    char buf[8];
    cr_assert_eq(cio_http_filename_sanitize(buf, sizeof(buf), S(".."), "data.bin"), -ENOBUFS);
    cr_assert_eq(cio_http_filename_sanitize(buf, sizeof(buf), S(".."), "data"), 4);
    cr_assert_str_eq(buf, "data");
    cr_assert_eq(cio_http_filename_sanitize(buf, 0, S("a"), NULL), -ENOBUFS);
    cr_assert_eq(cio_http_filename_sanitize(buf, 3, S("\xe2\x82\xac"), NULL), -ENOBUFS, "not one character fits");
    cr_assert_eq(cio_http_filename_sanitize(buf, 3, S("\xe2\x82\xac"), "f"), 1);
    cr_assert_str_eq(buf, "f");
    cr_assert_eq(cio_http_filename_sanitize(buf, 1, S("a"), ""), 0);
    cr_assert_str_eq(buf, "");
}

/* ------------------------------------------------------------------------------------------------- writing */

Test(multipart, new_boundaries_are_random_hex_and_valid)
{
    char a[CIO_HTTP_MP_NEW_BOUNDARY + 1], b[CIO_HTTP_MP_NEW_BOUNDARY + 1];
    cr_assert_eq(cio_http_multipart_boundary_new(a, sizeof(a)), CIO_HTTP_MP_NEW_BOUNDARY);
    cr_assert_eq(cio_http_multipart_boundary_new(b, sizeof(b)), CIO_HTTP_MP_NEW_BOUNDARY);
    cr_assert_eq(strlen(a), CIO_HTTP_MP_NEW_BOUNDARY);
    cr_assert_eq(strncmp(a, "cio-", 4), 0);
    cr_assert_eq(strspn(a + 4, "0123456789abcdef"), 32);
    cr_assert_str_neq(a, b, "two boundaries of 128 random bits differ");
    cio_http_multipart m;
    cr_assert_eq(cio_http_multipart_init(&m, (cio_http_str){a, strlen(a)}, NULL), 0);
    cr_assert_eq(cio_http_multipart_boundary_new(a, CIO_HTTP_MP_NEW_BOUNDARY), -ENOBUFS);
}

Test(multipart, delimiters_are_written_snprintf_style)
{
    char buf[32];
    cr_assert_eq(cio_http_multipart_delimiter(buf, sizeof(buf), S("XyZ"), CIO_HTTP_MP_FIRST), 7);
    cr_assert_str_eq(buf, "--XyZ\r\n");
    cr_assert_eq(cio_http_multipart_delimiter(buf, sizeof(buf), S("XyZ"), 0), 9);
    cr_assert_str_eq(buf, "\r\n--XyZ\r\n");
    cr_assert_eq(cio_http_multipart_delimiter(buf, sizeof(buf), S("XyZ"), CIO_HTTP_MP_CLOSE), 11);
    cr_assert_str_eq(buf, "\r\n--XyZ--\r\n");
    cr_assert_eq(cio_http_multipart_delimiter(buf, sizeof(buf), S("XyZ"), CIO_HTTP_MP_FIRST | CIO_HTTP_MP_CLOSE), 9);
    cr_assert_str_eq(buf, "--XyZ--\r\n");
    cr_assert_eq(cio_http_multipart_delimiter(buf, 5, S("XyZ"), 0), 9);
    cr_assert_str_eq(buf, "\r\n--");
    cr_assert_eq(cio_http_multipart_delimiter(NULL, 0, S("XyZ"), 0), 9);
    cr_assert_eq(cio_http_multipart_delimiter(buf, sizeof(buf), S("a b "), 0), CIO_EHTTP_MP_BAD_BOUNDARY);
}

Test(multipart, part_heads_escape_as_browsers_do)
{
    char buf[256];
    const char *want =
        "Content-Disposition: form-data; name=\"a%22b%0D%0Ac\"; filename=\"\xe2\x82\xac %22q%22.txt\"\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n";
    ssize_t n = cio_http_multipart_part_head(buf, sizeof(buf), S("a\"b\r\nc"), S("\xe2\x82\xac \"q\".txt"),
                                             "text/plain; charset=utf-8");
    cr_assert_eq(n, (ssize_t)strlen(want));
    cr_assert_str_eq(buf, want);
    static const char field[] = "Content-Disposition: form-data; name=\"field\"\r\n\r\n";
    n = cio_http_multipart_part_head(buf, sizeof(buf), S("field"), (cio_http_str){NULL, 0}, NULL);
    cr_assert_str_eq(buf, field);
    cr_assert_eq(n, (ssize_t)sizeof(field) - 1);
    static const char empty[] = "Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n";
    n = cio_http_multipart_part_head(buf, sizeof(buf), S("f"), S(""), NULL);
    cr_assert_str_eq(buf, empty);
    cr_assert_eq(n, (ssize_t)sizeof(empty) - 1);
    cr_assert_eq(cio_http_multipart_part_head(buf, 10, S("field"), (cio_http_str){NULL, 0}, NULL),
                 (ssize_t)sizeof(field) - 1);
    cr_assert_str_eq(buf, "Content-D");
    cr_assert_eq(cio_http_multipart_part_head(buf, sizeof(buf), S("a\0b"), (cio_http_str){NULL, 0}, NULL), -EINVAL);
    cr_assert_eq(cio_http_multipart_part_head(buf, sizeof(buf), S("a"), S("\x01"), NULL), -EINVAL);
    cr_assert_eq(cio_http_multipart_part_head(buf, sizeof(buf), S("a"), S("b"), "text/plain\r\nX: y"), -EINVAL);
}

/* What a test asks a peer to send, and what the parse must give back for it. */
struct want_part {
    const char *name;
    const char *filename;     /* decoded; NULL: no filename parameter */
    const char *content_type; /* NULL: no Content-Type field */
    const char *data;
    size_t len;
};

static void check_parts(const struct result *r, const struct want_part *w, size_t n, const char *what)
{
    cr_assert_eq(r->rc, 0, "%s: %s", what, cio_err_name(r->rc));
    cr_assert_eq(r->nparts, n, "%s: %zu parts", what, r->nparts);
    for (size_t i = 0; i < n; i++) {
        const struct got_part *g = &r->parts[i];
        cio_http_disposition d;
        char buf[512];
        cr_assert_eq(cio_http_disposition_parse(&d, (cio_http_str){g->disposition, strlen(g->disposition)}), 0,
                     "%s part %zu: %s", what, i, g->disposition);
        cr_assert(cio_http_str_ieq(d.type, "form-data"), "%s part %zu", what, i);
        cr_assert_eq(cio_http_disposition_name(&d, buf, sizeof(buf)), (ssize_t)strlen(w[i].name), "%s part %zu", what,
                     i);
        cr_assert_str_eq(buf, w[i].name, "%s part %zu", what, i);
        ssize_t fl = cio_http_disposition_filename(&d, buf, sizeof(buf));
        if (w[i].filename) {
            cr_assert_eq(fl, (ssize_t)strlen(w[i].filename), "%s part %zu: %s", what, i, cio_err_name((int)fl));
            cr_assert_str_eq(buf, w[i].filename, "%s part %zu", what, i);
        } else {
            cr_assert_eq(fl, -ENOENT, "%s part %zu has a filename", what, i);
        }
        cr_assert_str_eq(g->content_type, w[i].content_type ? w[i].content_type : "", "%s part %zu", what, i);
        cr_assert_eq(g->data.len, w[i].len, "%s part %zu: %zu bytes", what, i, g->data.len);
        cr_assert(w[i].len == 0 || memcmp(g->data.p, w[i].data, w[i].len) == 0, "%s part %zu: other data", what, i);
    }
}

Test(multipart, a_body_written_with_the_helpers_parses_back)
{
    char boundary[CIO_HTTP_MP_NEW_BOUNDARY + 1], buf[512];
    cr_assert_eq(cio_http_multipart_boundary_new(boundary, sizeof(boundary)), CIO_HTTP_MP_NEW_BOUNDARY);
    cio_http_str b = {boundary, strlen(boundary)};
    static const char bin[] = "\r\n--cio-\r\n--\0\xff\r";
    const struct want_part w[] = {
        {"we\"ird\r\nname", NULL, NULL, "value", 5},
        {"file", "\xe2\x82\xac \"quoted\"\nname.bin", "application/octet-stream", bin, sizeof(bin) - 1},
        {"empty", "", "application/octet-stream", "", 0},
    };
    struct bytes body = {0};
    for (size_t i = 0; i < 3; i++) {
        ssize_t n = cio_http_multipart_delimiter(buf, sizeof(buf), b, i == 0 ? CIO_HTTP_MP_FIRST : 0);
        bytes_put(&body, buf, (size_t)n);
        cio_http_str fname =
            w[i].filename ? (cio_http_str){w[i].filename, strlen(w[i].filename)} : (cio_http_str){NULL, 0};
        n = cio_http_multipart_part_head(buf, sizeof(buf), (cio_http_str){w[i].name, strlen(w[i].name)}, fname,
                                         w[i].content_type);
        cr_assert(n > 0 && (size_t)n < sizeof(buf));
        bytes_put(&body, buf, (size_t)n);
        bytes_put(&body, w[i].data, w[i].len);
    }
    bytes_put(&body, buf, (size_t)cio_http_multipart_delimiter(buf, sizeof(buf), b, CIO_HTTP_MP_CLOSE));
    struct result r;
    parse_every_way(&r, body.p, body.len, b, NULL, 8, 1, "written");
    check_parts(&r, w, 3, "written");
    result_free(&r);
    free(body.p);
}

/* ------------------------------------------------------------------------------------------------ peers */

/* A scratch directory with a file of binary content that holds, among its bytes, line ends and dashes, and
   prefixes of the delimiter "\r\n--" + `boundary` up to one byte short (a sender must avoid the whole of it). */
struct scratch {
    char dir[64];
    char bin[128], empty[128];
    struct bytes content;
};

static void scratch_open(struct scratch *s, size_t size, const char *boundary)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/cio-mp-XXXXXX");
    cr_assert(mkdtemp(s->dir));
    snprintf(s->bin, sizeof(s->bin), "%s/blob.bin", s->dir);
    snprintf(s->empty, sizeof(s->empty), "%s/empty.txt", s->dir);
    uint32_t x = 2463534242u;
    char delim[80];
    size_t dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary ? boundary : "");
    while (s->content.len < size) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        if (x % 97 == 0) {
            size_t k = 1 + x / 97 % (dl - 1); /* a proper prefix of the delimiter */
            bytes_put(&s->content, delim, k);
        } else if (x % 89 == 0) {
            bytes_puts(&s->content, "\r\n--\r\n\n--");
        } else {
            bytes_put(&s->content, &(char){(char)(x >> 24)}, 1);
        }
    }
    s->content.len = size;
    FILE *f = fopen(s->bin, "wb");
    cr_assert(f && fwrite(s->content.p, 1, size, f) == size && fclose(f) == 0);
    f = fopen(s->empty, "wb");
    cr_assert(f && fclose(f) == 0);
}

static void scratch_close(struct scratch *s)
{
    unlink(s->bin);
    unlink(s->empty);
    rmdir(s->dir);
    free(s->content.p);
}

/* Run argv to its end, with its standard output collected into `out`; returns its exit status. */
static int run_collect(char *const argv[], struct bytes *out)
{
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd[0], buf, sizeof(buf))) > 0)
        bytes_put(out, buf, (size_t)n);
    close(fd[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void need_python_module(const char *module)
{
    char code[128];
    snprintf(code, sizeof(code), "import %s", module);
    struct bytes out = {0};
    int st = run_collect((char *[]){"/usr/bin/python3", "-c", code, NULL}, &out);
    free(out.p);
    if (st != 0)
        tst_skip("python3-%s is not installed (scripts/deps.sh)", module);
}

/* A Python peer's output: the Content-Type value, a newline, then the body. Parse it every way and check it. */
static void parse_peer_output(const struct bytes *out, const struct want_part *w, size_t n, size_t stride,
                              const char *what)
{
    const char *nl = memchr(out->p, '\n', out->len);
    cr_assert(nl, "%s printed no Content-Type", what);
    cio_http_str b;
    cr_assert_eq(cio_http_multipart_boundary(&b, NULL, (cio_http_str){out->p, (size_t)(nl - out->p)}), 0, "%s", what);
    const char *body = nl + 1;
    size_t len = out->len - (size_t)(body - out->p);
    struct result r;
    parse_every_way(&r, body, len, b, NULL, 8, stride, what);
    check_parts(&r, w, n, what);
    result_free(&r);
}

static const char py_requests[] =
    "import sys, requests\n"
    "blob = open(sys.argv[1], 'rb').read()\n"
    "files = [('file', ('\\u20ac \"q\".bin', blob, 'application/octet-stream')),\n"
    "         ('emptyfile', ('empty.txt', b'', 'text/plain'))]\n"
    "data = [('field', 'value'), ('empty', ''), ('caf\\u00e9', 'cr\\u00e8me br\\u00fbl\\u00e9e')]\n"
    "r = requests.Request('POST', 'http://127.0.0.1/', files=files, data=data).prepare()\n"
    "sys.stdout.buffer.write(r.headers['Content-Type'].encode() + b'\\n' + r.body)\n";

Test(multipart, requests_bodies_parse_at_every_cut, .timeout = 300)
{
    need_python_module("requests");
    struct scratch s;
    scratch_open(&s, 3000, NULL);
    struct bytes out = {0};
    int st = run_collect((char *[]){"/usr/bin/python3", "-c", (char *)py_requests, s.bin, NULL}, &out);
    cr_assert_eq(st, 0, "python exited with %d", st);
    const struct want_part w[] = {
        {"field", NULL, NULL, "value", 5},
        {"empty", NULL, NULL, "", 0},
        {"caf\xc3\xa9", NULL, NULL,
         "cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
         "e",
         15},
        {"file", "\xe2\x82\xac \"q\".bin", "application/octet-stream", s.content.p, s.content.len},
        {"emptyfile", "empty.txt", "text/plain", "", 0},
    };
    parse_peer_output(&out, w, 5, 1, "requests");
    free(out.p);
    scratch_close(&s);
}

/* aiohttp's writers: FormData as a client sends it (quoted fields: file names percent-encoded whole, which
   arrive as written), FormData without quoting (backslash escapes, raw UTF-8), and a MultipartWriter with a
   boundary of our choosing, whose file holds every proper prefix of its delimiter. */
static const char py_aiohttp[] =
    "import sys, asyncio, aiohttp\n"
    "blob = open(sys.argv[1], 'rb').read()\n"
    "class Sink:\n"
    "    def __init__(self): self.b = b''\n"
    "    async def write(self, d): self.b += d\n"
    "async def main(kind):\n"
    "    if kind == 'writer':\n"
    "        mp = aiohttp.MultipartWriter('form-data', boundary='cioTestBoundary')\n"
    "        p = mp.append(blob, {'Content-Type': 'application/octet-stream'})\n"
    "        p.set_content_disposition('form-data', name='blob', filename='blob.bin')\n"
    "        p = mp.append('')\n"
    "        p.set_content_disposition('form-data', name='empty')\n"
    "        payload = mp\n"
    "    else:\n"
    "        fd = aiohttp.FormData(quote_fields=(kind == 'quoted'))\n"
    "        fd.add_field('field', 'v\\u00e4lue')\n"
    "        fd.add_field('file', blob, filename='\\u20ac report.bin', content_type='application/octet-stream')\n"
    "        fd.add_field('q\"uote', b'', filename='a\"b.txt', content_type='text/plain')\n"
    "        payload = fd()\n"
    "    s = Sink()\n"
    "    await payload.write(s)\n"
    "    sys.stdout.buffer.write(payload.content_type.encode() + b'\\n' + s.b)\n"
    "asyncio.run(main(sys.argv[2]))\n";

static void aiohttp_body(const struct scratch *s, const char *kind, struct bytes *out)
{
    int st =
        run_collect((char *[]){"/usr/bin/python3", "-c", (char *)py_aiohttp, (char *)s->bin, (char *)kind, NULL}, out);
    cr_assert_eq(st, 0, "python exited with %d", st);
}

Test(multipart, aiohttp_formdata_bodies_parse_at_every_cut, .timeout = 300)
{
    need_python_module("aiohttp");
    struct scratch s;
    scratch_open(&s, 3000, NULL);
    struct bytes out = {0};
    aiohttp_body(&s, "quoted", &out);
    const struct want_part quoted[] = {
        {"field", NULL, "text/plain; charset=utf-8", "v\xc3\xa4lue", 6},
        {"file", "%E2%82%AC%20report.bin", "application/octet-stream", s.content.p, s.content.len},
        {"q\"uote", "a\"b.txt", "text/plain", "", 0},
    };
    parse_peer_output(&out, quoted, 3, 1, "aiohttp FormData");
    out.len = 0;
    aiohttp_body(&s, "raw", &out);
    const struct want_part raw[] = {
        {"field", NULL, "text/plain; charset=utf-8", "v\xc3\xa4lue", 6},
        {"file", "\xe2\x82\xac report.bin", "application/octet-stream", s.content.p, s.content.len},
        {"q\"uote", "a\"b.txt", "text/plain", "", 0},
    };
    parse_peer_output(&out, raw, 3, 1, "aiohttp FormData(quote_fields=False)");
    free(out.p);
    scratch_close(&s);
}

Test(multipart, aiohttp_writer_body_with_delimiter_prefixes_in_its_data, .timeout = 300)
{
    need_python_module("aiohttp");
    struct scratch s;
    scratch_open(&s, 256 << 10, "cioTestBoundary");
    struct bytes out = {0};
    aiohttp_body(&s, "writer", &out);
    cr_assert(memmem(out.p, out.len, "\r\n--cioTestBoundar", 18), "the data holds long prefixes of the delimiter");
    const struct want_part w[] = {
        {"blob", "blob.bin", "application/octet-stream", s.content.p, s.content.len},
        {"empty", NULL, "text/plain; charset=utf-8", "", 0},
    };
    parse_peer_output(&out, w, 2, 4093, "aiohttp MultipartWriter");
    free(out.p);
    scratch_close(&s);
}

/*
 * curl -F needs a server: a listener on 127.0.0.1 in this process takes one request, answers 200 and closes.
 * Every wait is bounded: curl by --max-time, the listener's socket by a receive timeout, so neither can hang.
 */
static void curl_body(char *const *form, struct bytes *ctype, struct bytes *body)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(ls, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    struct timeval tv = {.tv_sec = 60};
    cr_assert_eq(setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(ls, 1), 0);
    cr_assert_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/upload", ntohs(a.sin_port));
    char *argv[64] = {"/usr/bin/curl", "--silent", "--show-error", "--max-time", "60", "-H",
                      "Expect:",       "-o",       "/dev/null"};
    size_t ac = 9;
    for (; *form; form++) {
        argv[ac++] = "-F";
        argv[ac++] = *form;
    }
    argv[ac++] = url;
    argv[ac] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(c, 0, "curl connected");
    cr_assert_eq(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct bytes in = {0};
    cio_http_header hs[32];
    cio_http_head h;
    cio_http_head_init(&h, hs, 32);
    int hl = -EAGAIN;
    uint64_t cl = 0;
    char buf[65536];
    for (;;) {
        if (hl > 0 && in.len >= (size_t)hl + cl)
            break;
        ssize_t n = read(c, buf, sizeof(buf));
        cr_assert_gt(n, 0, "curl sent the whole request");
        bytes_put(&in, buf, (size_t)n);
        if (hl == -EAGAIN) {
            hl = cio_http_parse_request(&h, in.p, in.len, NULL);
            cr_assert(hl > 0 || hl == -EAGAIN, "%s", cio_err_name(hl));
            if (hl > 0) {
                cr_assert_eq(cio_http_request_body(&h, &cl), CIO_HTTP_BODY_LENGTH);
                const cio_http_header *ct = cio_http_header_find(&h, "Content-Type", NULL);
                cr_assert(ct);
                bytes_put(ctype, ct->value.ptr, ct->value.len);
            }
        }
    }
    bytes_put(body, in.p + hl, (size_t)cl);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    cr_assert_eq(write(c, ok, sizeof(ok) - 1), (ssize_t)sizeof(ok) - 1);
    close(c);
    close(ls);
    free(in.p);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "curl failed: %d", st);
}

Test(multipart, curl_bodies_parse_at_every_cut, .timeout = 300)
{
    if (access("/usr/bin/curl", X_OK) != 0)
        tst_skip("curl is not installed (scripts/deps.sh)");
    struct scratch s;
    scratch_open(&s, 3000, NULL);
    char fpart[256], epart[256];
    snprintf(fpart, sizeof(fpart), "file=@%s;filename=\"\xe2\x82\xac \\\"q\\\".bin\";type=application/octet-stream",
             s.bin);
    snprintf(epart, sizeof(epart), "emptyfile=@%s", s.empty);
    char *form[] = {"field=value", "empty=", "caf\xc3\xa9=cr\xc3\xa8me", fpart, epart, NULL};
    struct bytes ctype = {0}, body = {0};
    curl_body(form, &ctype, &body);
    cio_http_str b;
    cr_assert_eq(cio_http_multipart_boundary(&b, NULL, (cio_http_str){ctype.p, ctype.len}), 0);
    const struct want_part w[] = {
        {"field", NULL, NULL, "value", 5},
        {"empty", NULL, NULL, "", 0},
        {"caf\xc3\xa9", NULL, NULL, "cr\xc3\xa8me", 6},
        {"file", "\xe2\x82\xac \"q\".bin", "application/octet-stream", s.content.p, s.content.len},
        {"emptyfile", "empty.txt", "text/plain", "", 0},
    };
    struct result r;
    parse_every_way(&r, body.p, body.len, b, NULL, 8, 1, "curl");
    check_parts(&r, w, 5, "curl");
    result_free(&r);
    free(ctype.p);
    free(body.p);
    scratch_close(&s);
}

Test(multipart, curl_large_file_parses_in_views_and_byte_by_byte, .timeout = 300)
{
    if (access("/usr/bin/curl", X_OK) != 0)
        tst_skip("curl is not installed (scripts/deps.sh)");
    struct scratch s;
    scratch_open(&s, 1 << 20, NULL);
    char fpart[256];
    snprintf(fpart, sizeof(fpart), "upload=@%s;type=application/octet-stream", s.bin);
    char *form[] = {"before=1", fpart, "after=2", NULL};
    struct bytes ctype = {0}, body = {0};
    curl_body(form, &ctype, &body);
    cio_http_str b;
    cr_assert_eq(cio_http_multipart_boundary(&b, NULL, (cio_http_str){ctype.p, ctype.len}), 0);
    const struct want_part w[] = {
        {"before", NULL, NULL, "1", 1},
        {"upload", "blob.bin", "application/octet-stream", s.content.p, s.content.len},
        {"after", NULL, NULL, "2", 1},
    };
    struct result r;
    parse_every_way(&r, body.p, body.len, b, NULL, 8, 65521, "curl 1 MiB");
    check_parts(&r, w, 3, "curl 1 MiB");
    result_free(&r);
    free(ctype.p);
    free(body.p);
    scratch_close(&s);
}
