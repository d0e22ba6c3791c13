/* parse.c: the strict, resumable, zero-copy HTTP/1.1 head parser (request line, status line, header fields). */
#include "cio/http.h"

#include <limits.h>
#include <string.h>

#include "http/scan.h"

#define DEFAULT_MAX_LINE ((size_t)8 << 10)
#define DEFAULT_MAX_HEAD ((size_t)64 << 10)
#define NEED             1 /* internal: the parse ran out of bytes at the cap it was given */

enum kind { KIND_REQUEST, KIND_RESPONSE, KIND_TRAILERS };

/* Where the parse stands, kept between calls in cio_http_head.priv. */
enum stage { STAGE_START = 0, STAGE_FIELDS, STAGE_DONE };

/*
 * After running out of bytes inside a line, the byte class that keeps the line incomplete: on the next call, if
 * the new bytes are all of that class, the answer is still "need more", found without parsing the line again.
 * That keeps a head that arrives a byte at a time linear. RESUME_NONE (the version, the line end) reparses the
 * line, which is then at most a few bytes from its start.
 */
enum resume { RESUME_NONE = 0, RESUME_TOKEN, RESUME_TARGET, RESUME_VALUE };

/* Internal bits in priv[3] above the stage and the resume class. */
#define ST_CHUNKED_SEEN 0x10000u /* "chunked" appeared in Transfer-Encoding already */
#define ST_SLOW         0x20000u /* the one-pass path gave up on this head: only the resumable one runs */

struct ctx {
    cio_http_head *h;
    const char *buf;
    const char *end;      /* buf + min(len, max_head): the parse never reads at or past it */
    const char *line_cap; /* start line only: one past the longest allowed line with its CRLF, or NULL */
    size_t len, max_head, max_line;
    uint64_t max_cl;
    bool lenient_lf;
    enum kind kind;
    enum resume resume; /* set with each NEED: the class of bytes the parse was reading */
    int simd;           /* the scan level, read once per call */
    unsigned bits;      /* ST_* */
};

/*
 * Field by field: compilers turn a whole-struct assignment into "rep stos", which costs more than the rest of a
 * small head's parse and keeps the parser's loads of priv waiting for it.
 */
void cio_http_head_init(cio_http_head *h, cio_http_header *headers, size_t max_headers)
{
    h->method = (cio_http_str){NULL, 0};
    h->target = (cio_http_str){NULL, 0};
    h->status = 0;
    h->reason = (cio_http_str){NULL, 0};
    h->minor_version = 0;
    h->headers = headers;
    h->num_headers = 0;
    h->max_headers = headers ? max_headers : 0;
    h->content_length = 0;
    h->flags = 0;
    for (int i = 0; i < 4; i++)
        h->priv[i] = 0;
}

/*
 * The parse needs a byte at `at`, which is the end of what it may read: need more bytes, or a limit was hit. A
 * line cap counts first only when it is below the head cap, so that one input always gives one answer.
 */
static int need(struct ctx *c, const char *at, enum resume r)
{
    c->resume = r;
    if (c->line_cap && at == c->line_cap && (size_t)(at - c->buf) < c->max_head)
        return CIO_EHTTP_LINE_TOO_LONG;
    if ((size_t)(at - c->buf) >= c->max_head)
        return CIO_EHTTP_HEAD_TOO_LARGE;
    return NEED;
}

/*
 * The line end at `*pp`: CRLF (or a bare LF where allowed). Anything else there is `other`.
 * Returns 0 with `*pp` past it, NEED, or an error.
 */
static int line_end_slow(struct ctx *c, const char **pp, const char *e, int other)
{
    const char *p = *pp;
    if (p >= e)
        return need(c, e, RESUME_NONE);
    if (*p == '\r') {
        if (p + 1 >= e)
            return need(c, e, RESUME_NONE);
        if (p[1] != '\n')
            return CIO_EHTTP_BARE_CR;
        *pp = p + 2;
        return 0;
    }
    if (*p == '\n') {
        if (!c->lenient_lf)
            return CIO_EHTTP_BARE_LF;
        *pp = p + 1;
        return 0;
    }
    return other;
}

/* line_end_slow's common case, inlined: CRLF with both bytes in reach. */
static inline int line_end(struct ctx *c, const char **pp, const char *e, int other)
{
    const char *p = *pp;
    if (e - p >= 2 && p[0] == '\r' && p[1] == '\n') {
        *pp = p + 2;
        return 0;
    }
    return line_end_slow(c, pp, e, other);
}

/* "HTTP/1.x" at `*pp`. */
static int parse_version(struct ctx *c, const char **pp, const char *e)
{
    static const char lit[] = "HTTP/";
    const char *p = *pp;
    if (e - p >= 8) { /* the common case in one comparison: "HTTP/1.1" or "HTTP/1.0" */
        uint64_t v, v11, mask = ~((uint64_t)0xff << 56);
        memcpy(&v, p, 8);
        memcpy(&v11, "HTTP/1.1", 8);
        if (((v ^ v11) & mask) == 0 && (p[7] == '1' || p[7] == '0')) {
            c->h->minor_version = p[7] - '0';
            *pp = p + 8;
            return 0;
        }
    }
    for (int i = 0; i < 8; i++) {
        if (p + i >= e)
            return need(c, e, RESUME_NONE);
        unsigned char ch = (unsigned char)p[i];
        bool ok = i < 5 ? ch == (unsigned char)lit[i] : i == 6 ? ch == '.' : (ch >= '0' && ch <= '9');
        if (!ok)
            return CIO_EHTTP_BAD_VERSION;
    }
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
        return CIO_EHTTP_VERSION;
    c->h->minor_version = p[7] - '0';
    *pp = p + 8;
    return 0;
}

/* The cap for the start line beginning at `p`: min(end, p + max_line + CRLF). */
static const char *start_cap(struct ctx *c, const char *p)
{
    size_t cap = (size_t)(p - c->buf) + c->max_line + 2;
    c->line_cap = cap <= (size_t)(c->end - c->buf) ? c->buf + cap : NULL;
    return c->line_cap ? c->line_cap : c->end;
}

/* method SP request-target SP HTTP-version CRLF, from `*pp`. */
static int parse_request_line(struct ctx *c, const char **pp)
{
    const char *p = *pp, *e = start_cap(c, p), *m = p;
    int rc;
    while (p < e && cio__is_tchar((unsigned char)*p))
        p++;
    if (p >= e)
        return need(c, e, RESUME_TOKEN);
    if (*p != ' ' || p == m)
        return (*p == '\r' || *p == '\n') && p > m ? CIO_EHTTP_BAD_REQUEST_LINE : CIO_EHTTP_BAD_METHOD;
    const char *t = ++p;
    p = cio__find_nontarget_inline(p, e, c->simd);
    if (p >= e)
        return need(c, e, RESUME_TARGET);
    if (*p != ' ' || p == t)
        return (*p == ' ' || *p == '\r' || *p == '\n') ? CIO_EHTTP_BAD_REQUEST_LINE : CIO_EHTTP_BAD_TARGET;
    /*
     * Not origin-form: check it is one of the three other forms (RFC 9112 section 3.2), and that the authority
     * form comes with CONNECT and only there, which llhttp does not check. Rare, so the URL parser's cost does
     * not matter.
     */
    bool connect = t - 1 - m == 7 && memcmp(m, "CONNECT", 7) == 0;
    if (*t != '/' || connect) {
        cio_url u;
        if (cio_url_parse_target(&u, t, (size_t)(p - t)) < 0 || (u.form == CIO_URL_AUTHORITY) != connect)
            return CIO_EHTTP_BAD_TARGET;
    }
    const char *v = ++p;
    if ((rc = parse_version(c, &p, e)) != 0)
        return rc;
    if ((rc = line_end(c, &p, e, CIO_EHTTP_BAD_VERSION)) != 0)
        return rc;
    c->h->method = (cio_http_str){m, (size_t)(t - 1 - m)};
    c->h->target = (cio_http_str){t, (size_t)(v - 1 - t)};
    *pp = p;
    return 0;
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] CRLF, from `*pp`. The SP before an empty reason may be missing. */
static int parse_status_line(struct ctx *c, const char **pp)
{
    const char *p = *pp, *e = start_cap(c, p);
    int rc;
    if ((rc = parse_version(c, &p, e)) != 0)
        return rc;
    if (p >= e)
        return need(c, e, RESUME_NONE);
    if (*p++ != ' ')
        return CIO_EHTTP_BAD_VERSION;
    int status = 0;
    for (int i = 0; i < 3; i++, p++) {
        if (p >= e)
            return need(c, e, RESUME_NONE);
        if (*p < '0' || *p > '9')
            return CIO_EHTTP_BAD_STATUS;
        status = status * 10 + (*p - '0');
    }
    if (status < 100)
        return CIO_EHTTP_BAD_STATUS;
    if (p >= e)
        return need(c, e, RESUME_NONE);
    const char *r = p;
    bool sp = *p == ' ';
    if (sp) {
        r = ++p;
        p = cio__find_ctl_inline(p, e, c->simd);
        if (p >= e)
            return need(c, e, RESUME_VALUE);
    }
    const char *re = p;
    if ((rc = line_end(c, &p, e, sp ? CIO_EHTTP_BAD_REASON : CIO_EHTTP_BAD_STATUS)) != 0)
        return rc;
    c->h->status = status;
    c->h->reason = (cio_http_str){r, (size_t)(re - r)};
    *pp = p;
    return 0;
}

static bool name_is(const char *p, size_t n, const char *lower, size_t ln)
{
    if (n != ln)
        return false;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] | 0x20) != (unsigned char)lower[i])
            return false;
    return true;
}
#define NAME_IS(p, n, lit) name_is((p), (n), lit, sizeof(lit) - 1)

/* A plain decimal Content-Length; equal duplicates are allowed (RFC 9110 section 8.6), differing ones are not. */
static int on_content_length(struct ctx *c, cio_http_str v)
{
    uint64_t n = 0;
    bool big = false;
    if (v.len == 0)
        return CIO_EHTTP_BAD_CONTENT_LENGTH;
    for (size_t i = 0; i < v.len; i++) {
        unsigned d = (unsigned)(unsigned char)v.ptr[i] - '0';
        if (d > 9)
            return CIO_EHTTP_BAD_CONTENT_LENGTH;
        if (n > (UINT64_MAX - d) / 10)
            big = true;
        else
            n = n * 10 + d;
    }
    if (big || n > c->max_cl)
        return CIO_EHTTP_BODY_TOO_LARGE;
    cio_http_head *h = c->h;
    if ((h->flags & CIO_HTTP_HAS_CONTENT_LENGTH) && h->content_length != n)
        return CIO_EHTTP_CONTENT_LENGTH_CONFLICT;
    h->content_length = n;
    h->flags |= CIO_HTTP_HAS_CONTENT_LENGTH;
    return 0;
}

/* Transfer-Encoding: a list of codings, of which chunked may come once and, in a request, must come last. */
static int on_transfer_encoding(struct ctx *c, cio_http_str v)
{
    cio_http_head *h = c->h;
    cio_http_str rest = v, el;
    int rc;
    h->flags |= CIO_HTTP_HAS_TRANSFER_ENCODING;
    while ((rc = cio_http_list_next(&rest, &el)) > 0) {
        size_t n = 0;
        while (n < el.len && cio__is_tchar((unsigned char)el.ptr[n]))
            n++;
        if (n == 0 || (n < el.len && el.ptr[n] != ';' && el.ptr[n] != ' ' && el.ptr[n] != '\t'))
            return CIO_EHTTP_BAD_TRANSFER_ENCODING;
        if (NAME_IS(el.ptr, n, "chunked")) {
            if (c->bits & ST_CHUNKED_SEEN)
                return CIO_EHTTP_BAD_TRANSFER_ENCODING;
            c->bits |= ST_CHUNKED_SEEN;
            h->flags |= CIO_HTTP_CHUNKED;
        } else {
            h->flags = (h->flags & ~CIO_HTTP_CHUNKED) | CIO_HTTP_TE_OTHER;
        }
    }
    return rc < 0 ? CIO_EHTTP_BAD_TRANSFER_ENCODING : 0;
}

static void on_connection(cio_http_head *h, cio_http_str v)
{
    cio_http_str rest = v, el;
    while (cio_http_list_next(&rest, &el) > 0) {
        if (NAME_IS(el.ptr, el.len, "close"))
            h->flags |= CIO_HTTP_CONN_CLOSE;
        else if (NAME_IS(el.ptr, el.len, "keep-alive"))
            h->flags |= CIO_HTTP_CONN_KEEP_ALIVE;
        else if (NAME_IS(el.ptr, el.len, "upgrade"))
            h->flags |= CIO_HTTP_CONN_UPGRADE;
    }
}

/* The lengths of the names on_field looks at, as bits: other fields need not call it. */
#define FRAMING_LENGTHS (1u << 6 | 1u << 7 | 1u << 10 | 1u << 14 | 1u << 17)

/* The few fields that frame the message, recognised by length first so that other names cost one switch. */
static int on_field(struct ctx *c, const cio_http_header *f)
{
    const char *n = f->name.ptr;
    switch (f->name.len) {
    case 14:
        return NAME_IS(n, 14, "content-length") ? on_content_length(c, f->value) : 0;
    case 17:
        return NAME_IS(n, 17, "transfer-encoding") ? on_transfer_encoding(c, f->value) : 0;
    case 10:
        if (NAME_IS(n, 10, "connection"))
            on_connection(c->h, f->value);
        return 0;
    case 7:
        if (NAME_IS(n, 7, "upgrade"))
            c->h->flags |= CIO_HTTP_HAS_UPGRADE;
        return 0;
    case 6:
        if (NAME_IS(n, 6, "expect"))
            c->h->flags |=
                cio_http_str_ieq(f->value, "100-continue") ? CIO_HTTP_EXPECT_CONTINUE : CIO_HTTP_EXPECT_OTHER;
        return 0;
    default:
        return 0;
    }
}

/*
 * One field line, or the empty line that ends the head, from `*pp`.
 * Returns 0 with `*pp` past the field, 2 with `*pp` past the empty line, NEED, or an error.
 */
static int parse_field(struct ctx *c, const char **pp)
{
    const char *p = *pp, *e = c->end;
    cio_http_head *h = c->h;
    int rc;
    if (p >= e)
        return need(c, e, RESUME_NONE);
    if (*p == '\r' || *p == '\n') {
        if ((rc = line_end(c, &p, e, 0)) != 0)
            return rc;
        *pp = p;
        return 2;
    }
    if (*p == ' ' || *p == '\t')
        return CIO_EHTTP_OBS_FOLD;
    if (h->num_headers >= h->max_headers)
        return CIO_EHTTP_TOO_MANY_HEADERS;
    const char *n = p;
    p = cio__skip_alnum_inline(p, e, c->simd);
    while (p < e && cio__is_tchar((unsigned char)*p))
        p++;
    if (p >= e)
        return need(c, e, RESUME_TOKEN);
    if (*p != ':' || p == n)
        return (*p == ' ' || *p == '\t') && p > n ? CIO_EHTTP_SPACE_BEFORE_COLON : CIO_EHTTP_BAD_HEADER_NAME;
    const char *ne = p++;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    const char *v = p;
    p = cio__find_ctl_inline(p, e, c->simd);
    if (p >= e)
        return need(c, e, RESUME_VALUE);
    const char *ve = p;
    if ((rc = line_end(c, &p, e, CIO_EHTTP_BAD_HEADER_VALUE)) != 0)
        return rc;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    cio_http_header *f = &h->headers[h->num_headers];
    f->name = (cio_http_str){n, (size_t)(ne - n)};
    f->value = (cio_http_str){v, (size_t)(ve - v)};
    if (c->kind != KIND_TRAILERS && (rc = on_field(c, f)) != 0)
        return rc;
    h->num_headers++;
    *pp = p;
    return 0;
}

/* Checks that need the whole head: framing that two parsers could read two ways (RFC 9112 section 6.3). */
static int check_framing(struct ctx *c)
{
    unsigned f = c->h->flags;
    if ((f & CIO_HTTP_HAS_TRANSFER_ENCODING) && (f & CIO_HTTP_HAS_CONTENT_LENGTH))
        return CIO_EHTTP_CL_AND_TE;
    if (c->kind == KIND_REQUEST && (f & CIO_HTTP_HAS_TRANSFER_ENCODING) && !(f & CIO_HTTP_CHUNKED))
        return CIO_EHTTP_TE_NOT_CHUNKED;
    return 0;
}

/*
 * The one-pass path: a whole, well-formed head in the first call, which is how most heads arrive. It keeps no
 * resumption state and checks nothing twice; at anything else (a byte the grammar refuses, a line without CRLF, a
 * limit, the end of the bytes, a form the resumable parser handles apart) it returns 0 and that parser starts the
 * head over, so every answer other than a complete head comes from one place. It accepts a subset of what the
 * resumable parser accepts and fills `h` in the same way.
 */
static inline bool crlf_at(const char *p)
{
    return p[0] == '\r' && p[1] == '\n';
}

/* The header fields and the empty line from `p`: the head's length, or 0. */
static int fast_fields(struct ctx *c, const char *p)
{
    cio_http_head *h = c->h;
    const char *e = c->end;
    cio_http_header *f = h->headers, *fend = f + h->max_headers;
    int simd = c->simd;
    for (;;) {
        if (e - p < 2)
            return 0;
        if (*p == '\r') {
            if (p[1] != '\n')
                return 0;
            p += 2;
            break;
        }
        if (f == fend)
            return 0;
        const char *n = p, *ne, *v, *ve;
#ifdef CIO__HAVE_LINE_MASKS
        struct cio__line_masks lm;
        if (simd != CIO__SIMD_SCALAR && e - p >= 16 && (lm = cio__line_masks_sse2(p)).colon) {
            /*
             * The name ends at the first ":" of the block and the line at its first control character, both from
             * one load: the next line's start does not wait for the name. Names with other token characters ("_",
             * ".") take the table.
             */
            unsigned k = (unsigned)__builtin_ctz(lm.colon);
            ne = n + k;
            if (k == 0)
                return 0;
            if (lm.nonword & ((1u << k) - 1)) {
                for (const char *q = n + __builtin_ctz(lm.nonword); q < ne; q++)
                    if (!cio__is_tchar((unsigned char)*q))
                        return 0;
            }
            ve = lm.ctl ? n + __builtin_ctz(lm.ctl) : cio__find_ctl_tail(n + 16, e, simd);
            v = ne + 1;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
        } else
#endif
        {
            p = cio__skip_alnum_inline(p, e, simd);
            while (p < e && cio__is_tchar((unsigned char)*p))
                p++;
            if (p >= e || *p != ':' || p == n)
                return 0;
            ne = p++;
            while (p < e && (*p == ' ' || *p == '\t'))
                p++;
            v = p;
            ve = cio__find_ctl_inline(p, e, simd);
        }
        if (e - ve < 2 || !crlf_at(ve))
            return 0;
        p = ve + 2;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        f->name = (cio_http_str){n, (size_t)(ne - n)};
        f->value = (cio_http_str){v, (size_t)(ve - v)};
        if (f->name.len < 32 && (FRAMING_LENGTHS >> f->name.len & 1) && on_field(c, f) != 0)
            return 0;
        f++;
    }
    h->num_headers = (size_t)(f - h->headers);
    if (check_framing(c) != 0)
        return 0;
    return (int)(p - c->buf);
}

/* "HTTP/1.0" or "HTTP/1.1" at `p`, which has 8 bytes in reach: the minor version, or -1. */
static inline int fast_version(const char *p)
{
    uint64_t v, v11, mask = ~((uint64_t)0xff << 56);
    memcpy(&v, p, 8);
    memcpy(&v11, "HTTP/1.1", 8);
    if (((v ^ v11) & mask) != 0 || (p[7] != '1' && p[7] != '0'))
        return -1;
    return p[7] - '0';
}

static int fast_request(struct ctx *c)
{
    const char *p = c->buf, *e = c->end, *m = p;
    while (p < e && cio__is_tchar((unsigned char)*p))
        p++;
    /* the method, SP, at least "/", SP, the version and CRLF */
    if (p == m || e - p < 12 || *p != ' ' || p[1] != '/')
        return 0;
    if (p - m == 7 && memcmp(m, "CONNECT", 7) == 0)
        return 0;
    const char *t = ++p;
    p = cio__find_nontarget_inline(p, e, c->simd);
    if (e - p < 11 || *p != ' ')
        return 0;
    int minor = fast_version(p + 1);
    if (minor < 0 || !crlf_at(p + 9) || (size_t)(p + 9 - c->buf) > c->max_line)
        return 0;
    cio_http_head *h = c->h;
    h->method = (cio_http_str){m, (size_t)(t - 1 - m)};
    h->target = (cio_http_str){t, (size_t)(p - t)};
    h->minor_version = minor;
    return fast_fields(c, p + 11);
}

static int fast_response(struct ctx *c)
{
    const char *p = c->buf, *e = c->end;
    /* "HTTP/1.x 200 " and CRLF */
    if (e - p < 15)
        return 0;
    int minor = fast_version(p);
    unsigned d0 = (unsigned)(unsigned char)p[9] - '0', d1 = (unsigned)(unsigned char)p[10] - '0',
             d2 = (unsigned)(unsigned char)p[11] - '0';
    if (minor < 0 || p[8] != ' ' || d0 - 1 > 8 || d1 > 9 || d2 > 9 || p[12] != ' ')
        return 0;
    const char *r = p + 13;
    p = cio__find_ctl_inline(r, e, c->simd);
    if (e - p < 2 || !crlf_at(p) || (size_t)(p - c->buf) > c->max_line)
        return 0;
    cio_http_head *h = c->h;
    h->minor_version = minor;
    h->status = (int)(d0 * 100 + d1 * 10 + d2);
    h->reason = (cio_http_str){r, (size_t)(p - r)};
    return fast_fields(c, p + 2);
}

static void rebase_str(cio_http_str *s, uintptr_t old, const char *buf)
{
    if (s->ptr)
        s->ptr = buf + ((uintptr_t)s->ptr - old);
}

/*
 * The caller's buffer moved since the last call: move the views. Integers, not pointer arithmetic across two
 * objects, which C leaves undefined; the old buffer may be gone, and is never read.
 */
static void rebase(cio_http_head *h, uintptr_t old, const char *buf)
{
    rebase_str(&h->method, old, buf);
    rebase_str(&h->target, old, buf);
    rebase_str(&h->reason, old, buf);
    for (size_t i = 0; i < h->num_headers; i++) {
        rebase_str(&h->headers[i].name, old, buf);
        rebase_str(&h->headers[i].value, old, buf);
    }
}

/* Whether the bytes in [from, e) are all of class `r`, so that the line in progress still cannot end. */
static bool still_incomplete(enum resume r, const char *from, const char *e)
{
    const char *p = from;
    switch (r) {
    case RESUME_TOKEN:
        while (p < e && cio__is_tchar((unsigned char)*p))
            p++;
        return p >= e;
    case RESUME_TARGET:
        return cio__http_find_nontarget(p, e) >= e;
    case RESUME_VALUE:
        return cio__http_find_ctl(p, e) >= e;
    default:
        return false;
    }
}

static int parse_head(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts, enum kind kind)
{
    struct ctx c = {.h = h, .buf = buf, .len = len, .kind = kind, .simd = cio__http_simd()};
    c.max_line = opts && opts->max_line ? opts->max_line : DEFAULT_MAX_LINE;
    c.max_head = opts && opts->max_head ? opts->max_head : DEFAULT_MAX_HEAD;
    if (c.max_head > INT_MAX)
        c.max_head = INT_MAX;
    if (c.max_line > c.max_head)
        c.max_line = c.max_head;
    c.max_cl = opts && opts->max_content_length ? opts->max_content_length : (uint64_t)INT64_MAX;
    c.lenient_lf = kind != KIND_REQUEST && opts && (opts->flags & CIO_HTTP_LENIENT_LF);
    c.end = buf + (len < c.max_head ? len : c.max_head);

    size_t pos = (size_t)h->priv[0], scan = (size_t)h->priv[1];
    uintptr_t base = (uintptr_t)h->priv[2];
    unsigned st = (unsigned)h->priv[3];
    enum stage stage = (enum stage)(st & 0xff);
    enum resume resume = (enum resume)((st >> 8) & 0xff);
    c.bits = st & ~0xffffu;
    if (stage == STAGE_DONE) { /* a finished head: start the next message */
        cio_http_header *hs = h->headers;
        size_t max = h->max_headers;
        cio_http_head_init(h, hs, max);
        pos = scan = 0;
        stage = STAGE_START;
        resume = RESUME_NONE;
        c.bits = 0;
    } else if (base && base != (uintptr_t)buf) {
        rebase(h, base, buf);
    }
    if (len < pos) /* the caller gave fewer bytes than before: start again rather than trust stale views */
        return CIO_EINVAL;
    if (stage == STAGE_START && pos == 0 && !(c.bits & ST_SLOW) && kind != KIND_TRAILERS) {
        int n = kind == KIND_REQUEST ? fast_request(&c) : fast_response(&c);
        if (n > 0) {
            h->priv[0] = (uint64_t)n;
            h->priv[1] = 0;
            h->priv[2] = (uintptr_t)buf;
            h->priv[3] = STAGE_DONE;
            return n;
        }
        cio_http_header *hs = h->headers; /* start over, on the resumable path from now on */
        size_t max = h->max_headers;
        cio_http_head_init(h, hs, max);
        c.bits = ST_SLOW;
    }

    const char *p = buf + pos;
    int rc = NEED;
    if (resume != RESUME_NONE && scan > pos && scan <= len) {
        const char *e = c.end;
        if (stage == STAGE_START)
            e = start_cap(&c, p);
        if (still_incomplete(resume, buf + scan, e)) {
            rc = need(&c, e, resume);
            goto out;
        }
    }
    if (stage == STAGE_START) {
        if (kind == KIND_REQUEST) { /* skip empty lines before the request line (RFC 9112 section 2.2) */
            while (p < c.end && (*p == '\r' || *p == '\n')) {
                const char *q = p;
                if ((rc = line_end(&c, &q, c.end, 0)) != 0)
                    goto out;
                p = q;
                pos = (size_t)(p - buf);
            }
            rc = parse_request_line(&c, &p);
        } else if (kind == KIND_RESPONSE) {
            rc = parse_status_line(&c, &p);
        } else {
            rc = 0;
        }
        if (rc != 0)
            goto out;
        c.line_cap = NULL;
        stage = STAGE_FIELDS;
        pos = (size_t)(p - buf);
    }
    for (;;) {
        rc = parse_field(&c, &p);
        if (rc != 0)
            break;
        pos = (size_t)(p - buf);
    }
    if (rc == 2) {
        rc = kind == KIND_TRAILERS ? 0 : check_framing(&c);
        if (rc == 0) {
            stage = STAGE_DONE;
            rc = (int)(p - buf);
        }
    }
out:
    if (rc == NEED) {
        rc = -EAGAIN;
        scan = (size_t)(c.end - buf);
    } else {
        c.resume = RESUME_NONE;
    }
    h->priv[0] = pos;
    h->priv[1] = scan;
    h->priv[2] = (uintptr_t)buf;
    h->priv[3] = (uint64_t)((unsigned)stage | (unsigned)c.resume << 8 | c.bits);
    return rc;
}

int cio_http_parse_request(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts)
{
    return parse_head(h, buf, len, opts, KIND_REQUEST);
}

int cio_http_parse_response(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts)
{
    return parse_head(h, buf, len, opts, KIND_RESPONSE);
}

int cio_http_parse_trailers(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts)
{
    return parse_head(h, buf, len, opts, KIND_TRAILERS);
}
