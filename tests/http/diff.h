/* diff.h: run one message through cio, llhttp (strict) and picohttpparser and compare; and a seeded message
 * generator. Shared by tests/http/differential.c and fuzz/differential.c; needs the cio_http_peers library. */
#ifndef CIO_TEST_HTTP_DIFF_H
#define CIO_TEST_HTTP_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <llhttp.h>

#include "cio/http.h"

#define DIFF_MAX_HEADERS 64
#define DIFF_MAX_WIRE    4096

/* picohttpparser ships in libh2o-evloop without a header; these are its documented prototypes. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg, size_t *msg_len,
                       struct phr_header *headers, size_t *num_headers, size_t last_len);

struct diff_result {
    bool ok;
    char why[256];
};

/* What llhttp reported through its callbacks: spans into the input, as the other two give. */
struct ll_seen {
    cio_http_str url, status_text;
    cio_http_str names[DIFF_MAX_HEADERS], values[DIFF_MAX_HEADERS];
    size_t n;
    bool complete, begun;
};

/* Stop at the second message of a pipelined input: only the first head is compared. */
static inline int diff_on_begin(llhttp_t *p)
{
    struct ll_seen *s = p->data;
    if (s->begun)
        return -1;
    s->begun = true;
    return 0;
}

static inline int diff_on_url(llhttp_t *p, const char *at, size_t len)
{
    struct ll_seen *s = p->data;
    s->url = (cio_http_str){s->url.ptr ? s->url.ptr : at, s->url.len + len};
    return 0;
}

static inline int diff_on_field(llhttp_t *p, const char *at, size_t len)
{
    struct ll_seen *s = p->data;
    if (s->n < DIFF_MAX_HEADERS) {
        s->names[s->n] = (cio_http_str){at, len};
        s->values[s->n] = (cio_http_str){at + len, 0};
        s->n++;
    }
    return 0;
}

static inline int diff_on_value(llhttp_t *p, const char *at, size_t len)
{
    struct ll_seen *s = p->data;
    if (s->n > 0 && s->n <= DIFF_MAX_HEADERS)
        s->values[s->n - 1] = (cio_http_str){at, len};
    return 0;
}

static inline int diff_on_headers_complete(llhttp_t *p)
{
    struct ll_seen *s = p->data;
    s->complete = true;
    return 0;
}

/* llhttp's verdict on the head: 1 complete, 0 needs more, -1 an error before the head was complete. */
static inline int diff_llhttp(const char *wire, size_t len, bool response, struct ll_seen *s, llhttp_t *p)
{
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = diff_on_begin;
    st.on_url = diff_on_url;
    st.on_header_field = diff_on_field;
    st.on_header_value = diff_on_value;
    st.on_headers_complete = diff_on_headers_complete;
    memset(s, 0, sizeof(*s));
    llhttp_init(p, response ? HTTP_RESPONSE : HTTP_REQUEST, &st);
    p->data = s;
    llhttp_execute(p, wire, len);
    return s->complete ? 1 : llhttp_get_errno(p) == HPE_OK ? 0 : -1;
}

static inline bool diff_eq(cio_http_str a, cio_http_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool diff_has(const char *wire, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(wire + i, needle, n) == 0)
            return true;
    return false;
}

/* Whether cio refuses the input once its line and head are ended: "\r\n\r\n" appended. */
static inline bool diff_rejects_completed(const char *wire, size_t len, bool response)
{
    static char buf[DIFF_MAX_WIRE + 8];
    cio_http_header hs[DIFF_MAX_HEADERS];
    cio_http_head h;
    if (len > DIFF_MAX_WIRE)
        return false;
    memcpy(buf, wire, len);
    memcpy(buf + len, "\r\n\r\n", 4);
    cio_http_head_init(&h, hs, DIFF_MAX_HEADERS);
    int rc =
        response ? cio_http_parse_response(&h, buf, len + 4, NULL) : cio_http_parse_request(&h, buf, len + 4, NULL);
    return rc < 0 && rc != -EAGAIN;
}

/* cio_url_parse_target's verdict on the request target in `wire` (between the first two spaces). */
static inline int diff_target_error(const char *wire, size_t len)
{
    const char *sp = memchr(wire, ' ', len);
    bool connect = len > 8 && memcmp(wire, "CONNECT ", 8) == 0;
    if (!sp)
        return 0;
    const char *t = sp + 1, *e = memchr(t, ' ', len - (size_t)(t - wire));
    cio_url u;
    if (!e)
        return 0;
    int rc = cio_url_parse_target(&u, t, (size_t)(e - t));
    return rc < 0 ? rc : (u.form == CIO_URL_AUTHORITY) != connect ? CIO_EHTTP_BAD_URL : 0;
}

/* Whether a Content-Length field in `wire` has an empty value. */
static inline bool diff_empty_cl(const char *wire, size_t len)
{
    for (size_t i = 0; i + 15 <= len; i++) {
        if (strncasecmp(wire + i, "content-length:", 15) != 0)
            continue;
        size_t j = i + 15;
        while (j < len && (wire[j] == ' ' || wire[j] == '\t'))
            j++;
        if (j == len || wire[j] == '\r' || wire[j] == '\n')
            return true;
    }
    return false;
}

/* Whether a Content-Length field in `wire` is digits followed by whitespace. */
static inline bool diff_cl_trailing_ows(const char *wire, size_t len)
{
    for (size_t i = 0; i + 15 <= len; i++) {
        if (strncasecmp(wire + i, "content-length:", 15) != 0)
            continue;
        size_t j = i + 15;
        while (j < len && (wire[j] == ' ' || wire[j] == '\t'))
            j++;
        size_t d = j;
        while (j < len && wire[j] >= '0' && wire[j] <= '9')
            j++;
        if (j > d && j < len && (wire[j] == ' ' || wire[j] == '\t'))
            return true;
    }
    return false;
}

/* The methods llhttp knows (it rejects other tokens); cio takes any token, as RFC 9110 section 9.1 says. */
static inline bool diff_llhttp_method(cio_http_str m)
{
    static const char *const known[] = {
        "DELETE",      "GET",   "HEAD",   "POST",       "PUT",       "CONNECT", "OPTIONS",  "TRACE",  "COPY",
        "LOCK",        "MKCOL", "MOVE",   "PROPFIND",   "PROPPATCH", "SEARCH",  "UNLOCK",   "BIND",   "REBIND",
        "UNBIND",      "ACL",   "REPORT", "MKACTIVITY", "CHECKOUT",  "MERGE",   "M-SEARCH", "NOTIFY", "SUBSCRIBE",
        "UNSUBSCRIBE", "PATCH", "PURGE",  "MKCALENDAR", "LINK",      "UNLINK",  "SOURCE",   "QUERY"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (m.len == strlen(known[i]) && memcmp(m.ptr, known[i], m.len) == 0)
            return true;
    return false;
}

/*
 * Where cio and llhttp may disagree on purpose: the rule, or NULL. Where cio is the stricter, llhttp may also be
 * still waiting for more bytes (ll == 0) when cio has already refused the byte. Each is a documented deviation
 * (docs/http-parser.md); anything else is a bug in one of the two.
 */
/* Whether the request target is in absolute form with a digit, '+', '-' or '.' in its scheme (after the first
   letter, where RFC 3986 allows them). */
static inline bool diff_scheme_punct(const char *wire, size_t len)
{
    const char *end = wire + len, *sp = memchr(wire, ' ', len);
    if (!sp)
        return false;
    const char *scheme = sp + 1, *q = scheme;
    while (q < end && *q != ':' && *q != '/' && *q != ' ' && *q != '\r')
        q++;
    if (q + 2 >= end || q[0] != ':' || q[1] != '/' || q[2] != '/')
        return false;
    for (const char *c = scheme + 1; c < q; c++)
        if (*c == '+' || *c == '-' || *c == '.' || (*c >= '0' && *c <= '9'))
            return true;
    return false;
}

static inline const char *diff_excuse(const char *wire, size_t len, bool response, int rc, const cio_http_head *h,
                                      int ll, llhttp_t *p)
{
    size_t eol = 0, spaces = 0;
    while (eol < len && (wire[eol] == '\r' || wire[eol] == '\n'))
        eol++;
    size_t lead = eol;                /* empty lines before the start line */
    wire += eol, len -= eol, eol = 0; /* the start line's own checks begin after them */
    while (eol < len && wire[eol] != '\r' && wire[eol] != '\n')
        spaces += wire[eol++] == ' ';
    if ((rc > 0 || rc == -EAGAIN) && ll < 0 && !response && llhttp_get_errno(p) == HPE_INVALID_URL &&
        diff_scheme_punct(wire, len))
        return "RFC 3986 3.1: a scheme may hold digits, '+', '-' and '.' (llhttp 8.1 takes letters only)";
    if (rc == CIO_EHTTP_BAD_REQUEST_LINE && ll >= 0 && !response && spaces == 1 && eol < len)
        return "RFC 9112 3: a request line has a version (llhttp 8.1 takes \"GET /\" as HTTP/0.9)";
    if (rc == CIO_EHTTP_BAD_VERSION && ll == 0 && !response)
        return "RFC 9112 2.3: the version is HTTP/1.x (llhttp 8.1 also reads RTSP/ and ICE/ versions)";
    if ((rc > 0 || rc == -EAGAIN) && ll < 0 && llhttp_get_errno(p) == HPE_INVALID_CONTENT_LENGTH &&
        diff_cl_trailing_ows(wire, len))
        return "RFC 9110 5.5: whitespace after a field value is not part of it (llhttp refuses it after a length)";
    if (rc > 0 && ll < 0 && llhttp_get_errno(p) == HPE_INVALID_TRANSFER_ENCODING && (h->flags & CIO_HTTP_CHUNKED))
        return "RFC 9110 5.6.1: empty list elements are ignored (llhttp refuses \"chunked, \")";
    if (rc == CIO_EHTTP_VERSION && ll >= 0)
        return "RFC 9112 2.3: only HTTP/1.0 and HTTP/1.1 (llhttp 8 takes 0.9 and 2.0 too)";
    if (rc == CIO_EHTTP_BAD_STATUS && ll >= 0 && response)
        return "RFC 9110 15: status codes start at 100 (llhttp takes any 3 digits)";
    if (rc == CIO_EHTTP_BAD_HEADER_NAME && ll >= 0 && (diff_has(wire, len, "\n:") || diff_has(wire, len, "\r:")))
        return "RFC 9110 5.1: a field name is a token, never empty (llhttp 8.1 takes \": value\")";
    if (rc == CIO_EHTTP_BAD_TARGET && ll >= 0 && !response && diff_target_error(wire, len) < 0)
        return "RFC 9112 3.2: a target not in origin form must parse as absolute, authority (with CONNECT only) or "
               "asterisk form (llhttp 8.1 checks characters and little structure)";
    if (rc == CIO_EHTTP_BAD_CONTENT_LENGTH && ll >= 0 && diff_empty_cl(wire, len))
        return "RFC 9110 8.6: Content-Length is 1*DIGIT (llhttp 8.1 takes an empty value)";
    if (rc == CIO_EHTTP_OBS_FOLD && ll >= 0)
        return "RFC 9112 5.2: obs-fold is rejected (llhttp 8.1 unfolds it even in strict mode)";
    if (rc == CIO_EHTTP_BARE_LF && ll >= 0)
        return "RFC 9112 2.2: a bare LF ends no line (llhttp 8.1 takes one after the last field)";
    if (rc == CIO_EHTTP_BAD_REASON && ll >= 0)
        return "RFC 9112 4: no control characters in a reason phrase (llhttp takes any byte but CR and LF)";
    if (rc == CIO_EHTTP_BAD_TRANSFER_ENCODING && ll >= 0)
        return "RFC 9112 7: chunked at most once, codings are tokens (llhttp does not check)";
    if (rc == CIO_EHTTP_TE_NOT_CHUNKED && ll >= 0)
        return "RFC 9112 6.3: an empty Transfer-Encoding does not end in chunked (llhttp lets it through)";
    if (rc == CIO_EHTTP_CL_AND_TE && ll >= 0)
        return "RFC 9112 6.1: Content-Length with any Transfer-Encoding is refused (llhttp lets an empty one through)";
    if (rc == CIO_EHTTP_BODY_TOO_LARGE && ll >= 0)
        return "Content-Length above 2^63-1 (llhttp allows up to 2^64-1)";
    if ((rc == CIO_EHTTP_BAD_VERSION || rc == CIO_EHTTP_BAD_REQUEST_LINE) && ll >= 0 && !response &&
        diff_has(wire, memchr(wire, '\n', len) ? (size_t)((const char *)memchr(wire, '\n', len) - wire) : len, "  "))
        return "RFC 9112 3: one SP between the parts of a request line (llhttp 8.1 takes several before the version)";
    if ((rc == CIO_EHTTP_BARE_LF || rc == CIO_EHTTP_BARE_CR || rc == CIO_EHTTP_BAD_METHOD ||
         rc == CIO_EHTTP_BAD_VERSION) &&
        ll >= 0 && lead > 0)
        return "RFC 9112 2.2: cio skips only CRLF before a request line, llhttp skips bare CR and LF, and before a "
               "status line";
    if (rc == -EAGAIN && ll < 0) { /* llhttp refused a prefix that cio still reads: the same rules as below */
        llhttp_errno_t e = llhttp_get_errno(p);
        if (diff_rejects_completed(wire, len, response))
            return "cio judges a line when it ends; llhttp byte by byte, so it refuses a bad prefix earlier";
        size_t m = 0, m0;
        while (m < len && (wire[m] == '\r' || wire[m] == '\n'))
            m++;
        m0 = m;
        while (m < len && cio_http_is_tchar((unsigned char)wire[m]))
            m++;
        if (e == HPE_INVALID_METHOD && !response && m > m0 && (m == len || wire[m] == ' '))
            return "RFC 9110 9.1: any token is a method (llhttp knows a fixed list)";
        if (e == HPE_INVALID_TRANSFER_ENCODING && diff_has(wire, len, "chunked,"))
            return "RFC 9110 5.6.1: empty list elements are ignored (llhttp refuses \"chunked, \")";
        if (e == HPE_UNEXPECTED_CONTENT_LENGTH && strstr(llhttp_get_error_reason(p), "Duplicate"))
            return "RFC 9110 8.6: equal Content-Length duplicates are allowed (llhttp rejects any duplicate)";
    }
    if (rc > 0 && ll < 0 && diff_has(wire, (size_t)rc, "content-length") && (h->flags & CIO_HTTP_HAS_CONTENT_LENGTH))
        return "RFC 9110 8.6: equal Content-Length duplicates are allowed (llhttp rejects any duplicate)";
    if (rc > 0 && ll < 0 && !response && !diff_llhttp_method(h->method))
        return "RFC 9110 9.1: any token is a method (llhttp knows a fixed list)";
    return NULL;
}

static inline void diff_opts(unsigned opt, cio_http_parse_opts *o)
{
    *o = (cio_http_parse_opts){0};
    if (opt & 0x1) {
        o->max_line = 40;
        o->max_head = 200;
    }
    if (opt & 0x2)
        o->flags |= CIO_HTTP_LENIENT_LF;
    if (opt & 0x4)
        o->max_content_length = 1000;
}

/* Compare the three parsers on one input (a whole message or any bytes at all). */
static inline void diff_compare(struct diff_result *r, const char *wire, size_t len, bool response, unsigned opt)
{
    cio_http_header hs[DIFF_MAX_HEADERS];
    cio_http_head h;
    cio_http_parse_opts o;
    struct ll_seen s;
    llhttp_t p;
    diff_opts(opt, &o);
    cio_http_head_init(&h, hs, DIFF_MAX_HEADERS);
    int rc = response ? cio_http_parse_response(&h, wire, len, &o) : cio_http_parse_request(&h, wire, len, &o);
    int ll = diff_llhttp(wire, len, response, &s, &p);
    int verdict = rc > 0 ? 1 : rc == -EAGAIN ? 0 : -1;
    r->ok = true;
    r->why[0] = 0;
    if (verdict != ll) {
        if ((opt & 0x2) && rc > 0 && ll < 0)
            return; /* CIO_HTTP_LENIENT_LF, which llhttp's strict mode has no counterpart for */
        if (rc == CIO_EHTTP_TOO_MANY_HEADERS || rc == CIO_EHTTP_HEAD_TOO_LARGE || rc == CIO_EHTTP_LINE_TOO_LONG ||
            diff_excuse(wire, len, response, rc, &h, ll, &p))
            return;
        r->ok = false;
        snprintf(r->why, sizeof(r->why), "cio %s (%d), llhttp %s: %s", cio_err_name(rc), rc,
                 ll > 0    ? "complete"
                 : ll == 0 ? "needs more"
                           : llhttp_errno_name(llhttp_get_errno(&p)),
                 ll < 0 ? llhttp_get_error_reason(&p) : "");
        return;
    }
    if (rc <= 0)
        return;
    /* Both took it: the same fields. */
    if (!response && (!diff_eq(h.target, s.url) || h.minor_version != llhttp_get_http_minor(&p) ||
                      strlen(llhttp_method_name(llhttp_get_method(&p))) != h.method.len ||
                      memcmp(llhttp_method_name(llhttp_get_method(&p)), h.method.ptr, h.method.len) != 0)) {
        r->ok = false;
        snprintf(r->why, sizeof(r->why), "request line differs from llhttp's");
        return;
    }
    if (response && (h.status != llhttp_get_status_code(&p) || h.minor_version != llhttp_get_http_minor(&p))) {
        r->ok = false;
        snprintf(r->why, sizeof(r->why), "status line differs from llhttp's");
        return;
    }
    if (h.num_headers != s.n) {
        r->ok = false;
        snprintf(r->why, sizeof(r->why), "%zu headers, llhttp %zu", h.num_headers, s.n);
        return;
    }
    for (size_t i = 0; i < h.num_headers; i++) {
        /* RFC 9110 5.5: trailing whitespace is not part of a field value; llhttp keeps it, cio removes it. */
        while (s.values[i].len &&
               (s.values[i].ptr[s.values[i].len - 1] == ' ' || s.values[i].ptr[s.values[i].len - 1] == '\t'))
            s.values[i].len--;
        if (!diff_eq(hs[i].name, s.names[i]) || !diff_eq(hs[i].value, s.values[i])) {
            r->ok = false;
            snprintf(r->why, sizeof(r->why), "header %zu: cio [%.*s: %.*s], llhttp [%.*s: %.*s]", i,
                     (int)hs[i].name.len, hs[i].name.ptr, (int)hs[i].value.len, hs[i].value.ptr, (int)s.names[i].len,
                     s.names[i].ptr, (int)s.values[i].len, s.values[i].ptr);
            return;
        }
    }
    /* picohttpparser, where it applies: it skips one empty line before a request only, like cio's rule. */
    if (wire[0] == '\r' || wire[0] == '\n')
        return;
    struct phr_header ph[DIFF_MAX_HEADERS];
    size_t nph = DIFF_MAX_HEADERS, ml = 0, pl = 0;
    const char *m = NULL, *path = NULL;
    int minor = -1, status = 0;
    int prc = response ? phr_parse_response(wire, len, &minor, &status, &m, &ml, ph, &nph, 0)
                       : phr_parse_request(wire, len, &m, &ml, &path, &pl, &minor, ph, &nph, 0);
    bool same = prc == rc && minor == h.minor_version && nph == h.num_headers;
    if (same && !response)
        same = diff_eq(h.method, (cio_http_str){m, ml}) && diff_eq(h.target, (cio_http_str){path, pl});
    if (same && response)
        same = status == h.status;
    if (!same && prc == -1 && response && h.reason.len == 0)
        return; /* picohttpparser wants the SP before an empty reason phrase; RFC 9112 4 says so, cio and llhttp
                 * accept its absence as browsers do */
    for (size_t i = 0; same && i < nph; i++) {
        while (ph[i].value_len && (ph[i].value[ph[i].value_len - 1] == ' ' || ph[i].value[ph[i].value_len - 1] == '\t'))
            ph[i].value_len--; /* as for llhttp: picohttpparser keeps trailing whitespace */
        same = diff_eq(hs[i].name, (cio_http_str){ph[i].name, ph[i].name_len}) &&
               diff_eq(hs[i].value, (cio_http_str){ph[i].value, ph[i].value_len});
    }
    if (!same) {
        r->ok = false;
        snprintf(r->why, sizeof(r->why), "picohttpparser: rc %d (cio %d), %zu headers (cio %zu)", prc, rc, nph,
                 h.num_headers);
    }
}

/* xorshift64*: small, seeded, the same sequence on every machine. */
static inline uint64_t diff_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1du;
}

#define DIFF_PICK(s, arr) (arr)[diff_rand(s) % (sizeof(arr) / sizeof((arr)[0]))]

/*
 * A message: mostly well-formed, built from realistic parts, then with one mutation in four (a byte replaced by
 * one that parsers often get wrong, a byte deleted, or a line end changed). `*deviation` is set when the message
 * uses a rule on which cio differs from llhttp on purpose, so that the caller can count it apart.
 * Returns the length written to `buf`.
 */
static inline size_t diff_generate(uint64_t *seed, char *buf, size_t cap, bool response, bool *deviation)
{
    static const char *const methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"};
    static const char *const targets[] = {
        "/",      "/index.html", "/a/b/c?x=1&y=2", "/search?q=caf%C3%A9", "http://example.com/", "/~user/file.txt",
        "/a;b,c", "/%20"};
    static const char *const versions[] = {"HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"};
    static const char *const statuses[] = {"200 OK",   "404 Not Found",   "301 Moved Permanently",
                                           "500 Oops", "204 No Content",  "304 Not Modified",
                                           "200 ",     "418 I'm a teapot"};
    static const char *const names[] = {"Host",          "User-Agent",      "Accept",        "Accept-Encoding",
                                        "Cookie",        "X-Request-Id",    "Cache-Control", "Referer",
                                        "If-None-Match", "X-Forwarded-For", "Content-Type",  "Date",
                                        "Server",        "Set-Cookie",      "ETag",          "Vary"};
    static const char *const values[] = {"example.com",
                                         "curl/7.88.1",
                                         "*/*",
                                         "gzip, deflate, br",
                                         "a=b; c=d",
                                         "0a1b2c3d",
                                         "no-cache",
                                         "https://example.com/",
                                         "\"abc\"",
                                         "10.0.0.1, 10.0.0.2",
                                         "text/html; charset=utf-8",
                                         "Tue, 25 Nov 2026 10:00:00 GMT",
                                         "nginx",
                                         "",
                                         "  padded\t ",
                                         "caf\xc3\xa9"};
    static const char *const framing[] = {
        "Content-Length: 5",      "Content-Length: 0",    "Transfer-Encoding: chunked",       "Connection: close",
        "Connection: keep-alive", "Expect: 100-continue", "Transfer-Encoding: gzip, chunked", "Upgrade: websocket"};
    static const char nasty[] = {'\r', '\n', ' ', '\t', ':', '\0', 0x7f,   (char)0x80,
                                 '"',  ',',  '@', 0x01, '/', '{',  '\x0b', 'A'};
    size_t n = 0;
    *deviation = false;
#define PUT(str) n += (size_t)snprintf(buf + n, cap - n, "%s", (str))
    if (response) {
        PUT(DIFF_PICK(seed, versions));
        PUT(" ");
        PUT(DIFF_PICK(seed, statuses));
    } else {
        PUT(DIFF_PICK(seed, methods));
        PUT(" ");
        PUT(DIFF_PICK(seed, targets));
        PUT(" ");
        PUT(DIFF_PICK(seed, versions));
    }
    PUT("\r\n");
    int nh = (int)(diff_rand(seed) % 9);
    for (int i = 0; i < nh && n < cap - 200; i++) {
        PUT(DIFF_PICK(seed, names));
        PUT(diff_rand(seed) % 4 ? ": " : ":");
        PUT(DIFF_PICK(seed, values));
        PUT("\r\n");
    }
    int nf = (int)(diff_rand(seed) % 3);
    bool has_cl = false;
    for (int i = 0; i < nf; i++) {
        const char *f = DIFF_PICK(seed, framing);
        if (strncmp(f, "Content-Length", 14) == 0) {
            if (has_cl)
                *deviation = true; /* a duplicate Content-Length, equal or not: see diff_excuse */
            has_cl = true;
        }
        PUT(f);
        PUT("\r\n");
    }
    PUT("\r\n");
#undef PUT
    if (diff_rand(seed) % 4 == 0 && n > 2) { /* one mutation in the head, never in its final CRLF */
        size_t at = (size_t)(diff_rand(seed) % (n - 2));
        switch (diff_rand(seed) % 3) {
        case 0:
            buf[at] = DIFF_PICK(seed, nasty);
            break;
        case 1:
            memmove(buf + at, buf + at + 1, n - at - 1);
            n--;
            break;
        default:
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = DIFF_PICK(seed, nasty);
            n++;
            break;
        }
    }
    return n;
}

#endif
