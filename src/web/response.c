/* response.c: what a handler fills in: status, checked header fields, a body from memory or streamed, and the
 * serialisation of the head into the connection's output. */
#include "web/web.h"

#include "http/coding.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void cio__web_response_init(struct cio_web_response *res, struct cio_web_request *req)
{
    memset(res, 0, sizeof(*res));
    res->req = req;
    res->status = 200;
    res->length = -1;
}

void cio__web_response_fini(struct cio_web_response *res)
{
    cio__free(res->body);
    res->body = NULL;
    cio_http_body_out_fini(&res->out);
}

/* ------------------------------------------------------------------------------------------------ compression */

int cio_web_compress(cio_web_response *res, int level)
{
    if (!res || level < 0 || level > 9)
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    res->compress = true;
    res->compress_level = level;
    return 0;
}

int cio_web_compression(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    int rc = cio_web_compress(res, 0);
    return rc < 0 ? rc : cio_web_next(req, res);
}

/* Types worth compressing: text, and the structured formats that are text; never images, archives or media,
   which are compressed already. */
static bool compressible(const char *type)
{
    if (!type)
        return false;
    size_t n = strcspn(type, "; \t");
    static const char *const exact[] = {"application/json",
                                        "application/javascript",
                                        "application/xml",
                                        "application/xhtml+xml",
                                        "image/svg+xml",
                                        "application/wasm",
                                        "application/x-www-form-urlencoded",
                                        "application/manifest+json"};
    if (n >= 5 && !strncasecmp(type, "text/", 5))
        return true;
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strlen(exact[i]) == n && !strncasecmp(type, exact[i], n))
            return true;
    return (n > 5 && !strncasecmp(type + n - 5, "+json", 5)) || (n > 4 && !strncasecmp(type + n - 4, "+xml", 4));
}

#define COMPRESS_MIN 256 /* below this, a coding's overhead eats what it saves */
#define CODINGS_OFFERED                                                                         \
    (CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_GZIP) | CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_DEFLATE) | \
     CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_BR) | CIO_HTTP_CODING_BIT(CIO_HTTP_CODING_ZSTD))

/* Whether a Vary field of the response already names Accept-Encoding (a static route's precompressed files add
   it): a second field saying the same is noise that some caches count. */
static bool varies_on_coding(const struct cio_web_response *res)
{
    for (size_t i = 0; i < res->nfields; i++)
        if (!strcasecmp(res->fields[i].name, "Vary") && strcasestr(res->fields[i].value, "Accept-Encoding"))
            return true;
    return false;
}

/* The coding for this response (IDENTITY for none), with Vary and Content-Encoding set when it matters.
   `length` is the body's size if known, else -1. */
static int choose_coding(struct cio_web_response *res, int64_t length)
{
    if (!res->compress || res->status < 200 || res->status == 204 || res->status == 304 || res->status == 206 ||
        cio_web_response_header(res, "Content-Encoding") || !compressible(cio_web_response_header(res, "Content-Type")))
        return CIO_HTTP_CODING_IDENTITY;
    /* Caches must keep one copy per Accept-Encoding, whatever this one chose. */
    if (!varies_on_coding(res) && cio_web_add_header(res, "Vary", "Accept-Encoding") < 0)
        return CIO_HTTP_CODING_IDENTITY;
    if (length >= 0 && length < COMPRESS_MIN)
        return CIO_HTTP_CODING_IDENTITY;
    const cio_http_header *ae = cio_http_header_find(res->req->head, "Accept-Encoding", NULL);
    int c = cio_http_accept_coding(ae ? ae->value : (cio_http_str){0}, ae != NULL, CODINGS_OFFERED);
    if (c <= CIO_HTTP_CODING_IDENTITY)
        return CIO_HTTP_CODING_IDENTITY; /* none acceptable: identity anyway, as RFC 9110 allows */
    if (cio_web_set_header(res, "Content-Encoding", cio_http_coding_name(c)) < 0)
        return CIO_HTTP_CODING_IDENTITY;
    return c;
}

struct grow {
    char *p;
    size_t len, cap;
};

static int grow_put(void *arg, const uint8_t *q, size_t n)
{
    struct grow *g = arg;
    if (g->len + n > g->cap) {
        size_t cap = (g->len + n) * 2;
        char *p = cio__realloc(g->p, cap);
        if (!p)
            return -ENOMEM;
        g->p = p;
        g->cap = cap;
    }
    memcpy(g->p + g->len, q, n);
    g->len += n;
    return 0;
}

/* Compress a buffered body in place (it is then sent with its compressed length). */
static int compress_body(struct cio_web_response *res)
{
    int c = choose_coding(res, (int64_t)res->body_len);
    if (c == CIO_HTTP_CODING_IDENTITY)
        return 0;
    struct cio__enc *e;
    int rc = cio__enc_new(&e, c, res->compress_level);
    if (rc < 0)
        return rc;
    struct grow g = {0};
    rc = cio__enc_write(e, (const uint8_t *)res->body, res->body_len, true, grow_put, &g);
    cio__enc_free(e);
    if (rc < 0) {
        cio__free(g.p);
        return rc;
    }
    cio__free(res->body);
    res->body = g.p;
    res->body_len = g.len;
    return 0;
}

bool cio_web_started(const cio_web_response *res)
{
    return res && res->started;
}

int cio_web_status(cio_web_response *res, int status, const char *reason)
{
    if (!res || status < 100 || status > 999)
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    if (reason)
        for (const char *p = reason; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t')
                return CIO_EHTTP_BAD_FIELD;
    if (reason && !(reason = cio__web_strndup(&res->req->arena, reason, strlen(reason))))
        return -ENOMEM;
    res->status = status;
    res->reason = reason;
    return 0;
}

int cio_web_status_of(const cio_web_response *res)
{
    return res ? res->status : -EINVAL;
}

/* ------------------------------------------------------------------------------------------------ fields */

static bool field_name_ok(const char *n)
{
    if (!*n)
        return false;
    for (; *n; n++)
        if (!cio_http_is_tchar((unsigned char)*n))
            return false;
    return true;
}

static bool field_value_ok(const char *v, size_t n)
{
    if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static bool server_owned(const char *name)
{
    return !strcasecmp(name, "Content-Length") || !strcasecmp(name, "Transfer-Encoding") ||
           !strcasecmp(name, "Connection");
}

static int check_field(const cio_web_response *res, const char *name, const char *value)
{
    if (!res || !name || !value)
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    if (!field_name_ok(name) || !field_value_ok(value, strlen(value)))
        return CIO_EHTTP_BAD_FIELD;
    if (server_owned(name))
        return -EINVAL;
    return 0;
}

static void remove_fields(struct cio_web_response *res, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; i < res->nfields; i++)
        if (strcasecmp(res->fields[i].name, name) != 0)
            res->fields[j++] = res->fields[i];
    res->nfields = j;
}

int cio_web_add_header(cio_web_response *res, const char *name, const char *value)
{
    int rc = check_field(res, name, value);
    if (rc < 0)
        return rc;
    struct web_arena *a = &res->req->arena;
    if (res->nfields == res->capfields) {
        size_t cap = res->capfields ? res->capfields * 2 : 8;
        struct web_field *f = cio__web_alloc(a, cap * sizeof(*f));
        if (!f)
            return -ENOMEM;
        if (res->nfields)
            memcpy(f, res->fields, res->nfields * sizeof(*f));
        res->fields = f;
        res->capfields = cap;
    }
    size_t nlen = strlen(name), vlen = strlen(value);
    const char *n = cio__web_strndup(a, name, nlen), *v = cio__web_strndup(a, value, vlen);
    if (!n || !v)
        return -ENOMEM;
    res->fields[res->nfields++] = (struct web_field){n, v, nlen, vlen};
    return 0;
}

int cio_web_set_cookie(cio_web_response *res, const cio_http_set_cookie *c)
{
    if (!res || !c)
        return -EINVAL;
    char buf[4096];
    ssize_t n = cio_http_set_cookie_format(buf, sizeof buf, c);
    if (n < 0)
        return (int)n;
    return cio_web_add_header(res, "Set-Cookie", buf);
}

int cio_web_del_cookie(cio_web_response *res, const char *name, const char *domain, const char *path)
{
    if (!res || !name)
        return -EINVAL;
    cio_http_set_cookie c = CIO_HTTP_SET_COOKIE_INIT;
    c.name = (cio_http_str){name, strlen(name)};
    c.expires = 0;
    c.max_age = 0;
    if (domain)
        c.domain = (cio_http_str){domain, strlen(domain)};
    c.path = (cio_http_str){path ? path : "/", strlen(path ? path : "/")};
    return cio_web_set_cookie(res, &c);
}

int cio_web_set_header(cio_web_response *res, const char *name, const char *value)
{
    int rc = check_field(res, name, value);
    if (rc < 0)
        return rc;
    remove_fields(res, name);
    return cio_web_add_header(res, name, value);
}

int cio_web_remove_header(cio_web_response *res, const char *name)
{
    if (!res || !name)
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    remove_fields(res, name);
    return 0;
}

const char *cio_web_response_header(const cio_web_response *res, const char *name)
{
    if (!res || !name)
        return NULL;
    for (size_t i = 0; i < res->nfields; i++)
        if (!strcasecmp(res->fields[i].name, name))
            return res->fields[i].value;
    return NULL;
}

/* ------------------------------------------------------------------------------------------------ bodies */

int cio_web_respond(cio_web_response *res, int status, const char *content_type, const void *data, size_t len)
{
    if (!res || (!data && len))
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    int rc = cio_web_status(res, status, NULL);
    if (rc < 0)
        return rc;
    if (content_type && (rc = cio_web_set_header(res, "Content-Type", content_type)) < 0)
        return rc;
    char *copy = NULL;
    if (len) {
        if (!(copy = cio__malloc(len)))
            return -ENOMEM;
        memcpy(copy, data, len);
    }
    cio__free(res->body);
    res->body = copy;
    res->body_len = len;
    return 0;
}

int cio_web_vtext(cio_web_response *res, int status, const char *fmt, va_list ap)
{
    if (!res || !fmt)
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    char small[512];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(again);
        return -EINVAL;
    }
    int rc;
    if ((size_t)n < sizeof small) {
        rc = cio_web_respond(res, status, "text/plain; charset=utf-8", small, (size_t)n);
    } else {
        char *big = cio__malloc((size_t)n + 1);
        if (!big) {
            va_end(again);
            return -ENOMEM;
        }
        vsnprintf(big, (size_t)n + 1, fmt, again);
        rc = cio_web_respond(res, status, "text/plain; charset=utf-8", big, (size_t)n);
        cio__free(big);
    }
    va_end(again);
    return rc;
}

int cio_web_text(cio_web_response *res, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cio_web_vtext(res, status, fmt, ap);
    va_end(ap);
    return rc;
}

int cio_web_json(cio_web_response *res, int status, const char *json)
{
    if (!json)
        return -EINVAL;
    return cio_web_respond(res, status, "application/json", json, strlen(json));
}

int cio_web_error(cio_web_response *res, int status)
{
    if (!res || status < 400 || status > 599)
        return -EINVAL;
    const char *reason = cio_http_reason(status);
    return cio_web_text(res, status, "%d: %s\n", status, *reason ? reason : "Error");
}

int cio_web_redirect(cio_web_response *res, int status, const char *location)
{
    if (!res || !location || !*location)
        return -EINVAL;
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return -EINVAL;
    int rc = cio_web_set_header(res, "Location", location);
    if (rc < 0)
        return rc;
    return cio_web_text(res, status, "%d: %s\n", status, cio_http_reason(status));
}

/* ------------------------------------------------------------------------------------------------ heads */

static _Thread_local struct {
    time_t sec;
    char field[48];
    size_t len;
} date_cache = {.sec = -1};

const char *cio__web_date_field(size_t *len)
{
    time_t now = time(NULL);
    if (now != date_cache.sec) {
        /* not strftime: its %a and %b follow the program's locale */
        memcpy(date_cache.field, "Date: ", 6);
        cio_http_date_format(date_cache.field + 6, now);
        memcpy(date_cache.field + 6 + CIO_HTTP_DATE_LEN, "\r\n", 2);
        date_cache.len = 6 + CIO_HTTP_DATE_LEN + 2;
        date_cache.sec = now;
    }
    *len = date_cache.len;
    return date_cache.field;
}

/* Whether a response with `status` to this request carries no body (RFC 9110 6.4.1). */
static bool bodiless(const struct cio_web_response *res)
{
    return res->status < 200 || res->status == 204 || res->status == 304;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/*
 * Serialise the head into the connection's output: the status line, Date and Server (unless the handler set its
 * own), the handler's fields, the framing and the connection's fate. `framing` is how the body follows.
 */
static int emit_head(struct cio_web_response *res, int framing, uint64_t length)
{
    struct cio_web_request *req = res->req;
    req->answered = true;
    struct cio_web_server *srv = req->srv;
    const char *reason = res->reason ? res->reason : cio_http_reason(res->status);
    size_t rlen = strlen(reason), dlen;
    const char *date = cio__web_date_field(&dlen);
    size_t need = 32 + rlen + dlen + srv->server_field_len + 96;
    bool own_date = false, own_server = false;
    for (size_t i = 0; i < res->nfields; i++) {
        need += res->fields[i].nlen + res->fields[i].vlen + 4;
        own_date |= !strcasecmp(res->fields[i].name, "Date");
        own_server |= !strcasecmp(res->fields[i].name, "Server");
    }
    char *o = cio__web_out_reserve(req->conn, need);
    if (!o)
        return -ENOMEM;
    char *start = o;
    int st = res->status;
    o = put(o, req->head->minor_version ? "HTTP/1.1 " : "HTTP/1.0 ", 9);
    *o++ = (char)('0' + st / 100);
    *o++ = (char)('0' + st / 10 % 10);
    *o++ = (char)('0' + st % 10);
    *o++ = ' ';
    o = put(o, reason, rlen);
    o = put(o, "\r\n", 2);
    if (!own_date)
        o = put(o, date, dlen);
    if (!own_server)
        o = put(o, srv->server_field, srv->server_field_len);
    for (size_t i = 0; i < res->nfields; i++) {
        const struct web_field *f = &res->fields[i];
        o = put(o, f->name, f->nlen);
        o = put(o, ": ", 2);
        o = put(o, f->value, f->vlen);
        o = put(o, "\r\n", 2);
    }
    if (framing == CIO_HTTP_BODY_LENGTH && !(st < 200 || st == 204)) {
        o = put(o, "Content-Length: ", 16);
        char digits[20];
        size_t nd = 0;
        do
            digits[nd++] = (char)('0' + length % 10);
        while ((length /= 10) != 0);
        while (nd)
            *o++ = digits[--nd];
        o = put(o, "\r\n", 2);
    } else if (framing == CIO_HTTP_BODY_CHUNKED) {
        o = put(o, "Transfer-Encoding: chunked\r\n", 28);
    }
    if (st == 101) {
        o = put(o, "Connection: upgrade\r\n", 21); /* the stream is the handler's from here on */
        req->keep_alive = false;
    } else if (!req->keep_alive)
        o = put(o, "Connection: close\r\n", 19);
    else if (req->head->minor_version == 0)
        o = put(o, "Connection: keep-alive\r\n", 24);
    o = put(o, "\r\n", 2);
    req->conn->out.len += (size_t)(o - start);
    return 0;
}

int cio__web_response_emit(struct cio_web_response *res)
{
    struct cio_web_request *req = res->req;
    bool nobody = bodiless(res);
    int rc = res->compress && !nobody ? compress_body(res) : 0;
    if (rc < 0)
        return rc;
    rc = emit_head(res, nobody ? CIO_HTTP_BODY_NONE : CIO_HTTP_BODY_LENGTH, nobody ? 0 : res->body_len);
    if (rc < 0)
        return rc;
    res->started = res->ended = true;
    if (nobody || req->head_method || !res->body_len)
        return 0;
    struct web_conn *c = req->conn;
    if (res->body_len <= c->out.cap - c->out.len || res->body_len <= 1024) {
        char *o = cio__web_out_reserve(c, res->body_len);
        if (!o)
            return -ENOMEM;
        memcpy(o, res->body, res->body_len);
        c->out.len += res->body_len;
        return 0;
    }
    /* A large body goes out as it is, after the head (the stream copies what the socket does not take). */
    if ((rc = cio__web_out_flush(c, req->s)) < 0)
        return rc;
    return cio_stream_write(req->s, res->body, res->body_len);
}

/* ------------------------------------------------------------------------------------------------ streaming */

int cio_web_prepare(cio_web_response *res, int64_t length)
{
    if (!res || length < -1)
        return -EINVAL;
    if (res->started)
        return CIO_EWEB_STARTED;
    struct cio_web_request *req = res->req;
    int framing = CIO_HTTP_BODY_LENGTH;
    /* A compressed body's length is not known before it is made: it goes chunked. */
    int coding = !bodiless(res) && res->compress ? choose_coding(res, length) : CIO_HTTP_CODING_IDENTITY;
    if (coding != CIO_HTTP_CODING_IDENTITY)
        length = -1;
    if (bodiless(res)) {
        framing = CIO_HTTP_BODY_NONE;
    } else if (length < 0) {
        framing = req->head->minor_version ? CIO_HTTP_BODY_CHUNKED : CIO_HTTP_BODY_UNTIL_CLOSE;
        if (framing == CIO_HTTP_BODY_UNTIL_CLOSE)
            req->keep_alive = false;
    }
    /* A client waiting for 100 Continue gets it before the final head, if the handler is to read the body. */
    int rc = req->body_open ? cio_http_body_continue(&req->body) : 0;
    if (rc < 0)
        return rc;
    if ((rc = emit_head(res, framing, length < 0 ? 0 : (uint64_t)length)) < 0)
        return rc;
    res->started = true;
    res->length = length;
    if ((rc = cio__web_out_flush(req->conn, req->s)) < 0)
        return rc;
    if (res->status == 101 && req->head_len) {
        /* The stream is the new protocol's from here: what follows the head is the client's first bytes of it. */
        if ((rc = cio_stream_consume(req->s, req->head_len)) < 0)
            return rc;
        req->head_len = 0;
    }
    if (req->head_method || framing == CIO_HTTP_BODY_NONE)
        res->no_body = true;
    rc = cio_http_body_out_init(&res->out, req->s, res->no_body ? CIO_HTTP_BODY_NONE : framing,
                                length < 0 ? 0 : (uint64_t)length);
    if (rc == 0 && !res->no_body && coding != CIO_HTTP_CODING_IDENTITY)
        rc = cio_http_body_out_set_coding(&res->out, coding, res->compress_level);
    return rc;
}

int cio_web_write(cio_web_response *res, const void *data, size_t len)
{
    if (!res || (!data && len))
        return -EINVAL;
    if (!res->started) {
        int rc = cio_web_prepare(res, -1);
        if (rc < 0)
            return rc;
    }
    if (res->ended)
        return -EINVAL;
    if (res->no_body || !len)
        return 0;
    return cio_http_body_out_write(&res->out, data, len);
}

int cio_web_drain(cio_web_response *res)
{
    if (!res)
        return -EINVAL;
    if (!res->started || res->no_body)
        return 0;
    return cio_http_body_out_drain(&res->out);
}

int cio_web_write_eof(cio_web_response *res)
{
    if (!res)
        return -EINVAL;
    if (!res->started) {
        int rc = cio_web_prepare(res, -1);
        if (rc < 0)
            return rc;
    }
    if (res->ended)
        return 0;
    res->ended = true;
    if (res->no_body)
        return 0;
    return cio_http_body_out_end(&res->out, NULL);
}

ssize_t cio_web_sendfile(cio_web_response *res, int fd, off_t offset, size_t count)
{
    if (!res || fd < 0 || offset < 0)
        return -EINVAL;
    if (!res->started) {
        int rc = cio_web_prepare(res, (int64_t)count);
        if (rc < 0)
            return rc;
    }
    if (res->ended)
        return -EINVAL;
    if (res->no_body)
        return (ssize_t)count;
    return cio_http_body_out_sendfile(&res->out, fd, offset, count);
}
