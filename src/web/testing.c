/* testing.c: a server on an ephemeral loopback port and a small client for it, for tests written in straight-line
 * code (aiohttp's TestServer and TestClient), built on the message layer's head writer and readers. */
#include "web/web.h"

#include <errno.h>
#include <string.h>

#define TEST_MAGIC    0x77656274u /* "webt" */
#define TEST_MAX_BODY ((uint64_t)64 << 20)

struct cio_web_test {
    uint32_t magic;
    cio_web_server *srv;
    int port;
    cio_stream *s;   /* the kept connection, or NULL */
    unsigned opened; /* connections opened */
};

int cio_web_test_open(cio_web_test **out, cio_web_app *app, const cio_web_server_opts *opts)
{
    if (!out || !app)
        return -EINVAL;
    *out = NULL;
    struct cio_web_test *t = cio__calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    cio_web_server_opts o = opts ? *opts : (cio_web_server_opts){0};
    o.host = "127.0.0.1";
    o.port = 0;
    o.unix_path = NULL;
    int rc = cio_web_server_start(&t->srv, app, &o);
    if (rc < 0) {
        cio__free(t);
        return rc;
    }
    t->port = cio_web_server_port(t->srv);
    t->magic = TEST_MAGIC;
    *out = t;
    return 0;
}

int cio_web_test_port(const cio_web_test *t)
{
    return t && t->magic == TEST_MAGIC ? t->port : -EINVAL;
}

cio_web_server *cio_web_test_server(cio_web_test *t)
{
    return t && t->magic == TEST_MAGIC ? t->srv : NULL;
}

unsigned cio_web_test_connections(const cio_web_test *t)
{
    return t && t->magic == TEST_MAGIC ? t->opened : 0;
}

static void drop_conn(struct cio_web_test *t)
{
    if (t->s)
        (void)cio_stream_close(t->s);
    t->s = NULL;
}

void cio_web_test_response_fini(cio_web_test_response *res)
{
    if (!res)
        return;
    cio_buf_free(&res->body);
    cio__free(res->raw);
    memset(res, 0, sizeof(*res));
}

const char *cio_web_test_header(const cio_web_test_response *res, const char *name)
{
    if (!res || !name)
        return NULL;
    const cio_http_header *f = cio_http_header_find(&res->head, name, NULL);
    return f ? f->value.ptr : NULL;
}

/* Copy the head's `hl` bytes out of the stream and parse the copy into `res`, each name and value then ended by a
   NUL written over the ':' or the CR (or whitespace) after it. */
static int keep_head(cio_stream *s, size_t hl, cio_web_test_response *res)
{
    const void *v;
    size_t n;
    int rc = cio_stream_peek(s, 0, &v, &n);
    if (rc < 0)
        return rc;
    if (!(res->raw = cio__malloc(hl + 1)))
        return -ENOMEM;
    memcpy(res->raw, v, hl);
    res->raw[hl] = 0;
    cio_http_head_init(&res->head, res->fields, CIO_WEB_TEST_MAX_HEADERS);
    if ((rc = cio_http_parse_response(&res->head, res->raw, hl, NULL)) < 0)
        return rc;
    for (size_t i = 0; i < res->head.num_headers; i++) {
        cio_http_header *f = &res->fields[i];
        ((char *)f->name.ptr)[f->name.len] = 0;
        ((char *)f->value.ptr)[f->value.len] = 0;
    }
    res->status = res->head.status;
    res->minor_version = res->head.minor_version;
    return 0;
}

/* Read the response to a request of `method` on the current connection. */
static int read_response(struct cio_web_test *t, const char *method, cio_web_test_response *res)
{
    cio_http_header hdrs[CIO_WEB_TEST_MAX_HEADERS];
    cio_http_head h;
    ssize_t hl;
    for (;;) {
        cio_http_head_init(&h, hdrs, CIO_WEB_TEST_MAX_HEADERS);
        if ((hl = cio_http_read_response(t->s, &h, NULL)) < 0)
            return (int)hl;
        if (h.status >= 200 || h.status == 101)
            break;
        int rc = cio_stream_consume(t->s, (size_t)hl); /* 100 Continue and friends */
        if (rc < 0)
            return rc;
    }
    uint64_t length;
    int framing = cio_http_response_body(&h, method, &length);
    bool kept = cio_http_keep_alive(&h) && framing != CIO_HTTP_BODY_UNTIL_CLOSE && framing != CIO_HTTP_BODY_TUNNEL &&
                h.status != 101;
    int rc = keep_head(t->s, (size_t)hl, res);
    if (rc < 0)
        return rc;
    if (h.status == 101) {
        res->kept = false;
        return cio_stream_consume(t->s, (size_t)hl);
    }
    cio_http_body_in b;
    cio_http_body_opts bo = {.max_size = TEST_MAX_BODY, .skip = (size_t)hl};
    if ((rc = cio_http_body_init_response(&b, t->s, &h, method, &bo)) < 0)
        return rc;
    rc = cio_http_body_read_all(&b, &res->body);
    cio_http_body_fini(&b);
    res->kept = kept;
    return rc;
}

/* Send `bytes`, then read the answer; on a kept connection the server may have closed meanwhile (its keep-alive
   timeout): then once more on a new one, as clients retry an idempotent request. */
static int exchange(struct cio_web_test *t, const void *bytes, size_t len, const char *method,
                    cio_web_test_response *res)
{
    memset(res, 0, sizeof(*res));
    for (int attempt = 0;; attempt++) {
        bool reused = t->s != NULL;
        int rc = 0;
        if (!t->s) {
            if ((rc = cio_open_connection(&t->s, "127.0.0.1", t->port, NULL)) < 0) {
                t->s = NULL;
                return rc;
            }
            t->opened++;
        }
        if ((rc = cio_stream_write(t->s, bytes, len)) == 0)
            rc = read_response(t, method, res);
        if (rc == 0 && res->kept)
            return 0;
        drop_conn(t);
        if (rc == 0)
            return 0;
        cio_web_test_response_fini(res);
        if (!(reused && attempt == 0 && (rc == CIO_EPEERCLOSED || rc == -ECONNRESET || rc == -EPIPE)))
            return rc;
    }
}

int cio_web_test_request(cio_web_test *t, const char *method, const char *target, const char *const *headers,
                         const void *body, size_t len, cio_web_test_response *res)
{
    if (!t || t->magic != TEST_MAGIC || !method || !target || !res || (len && !body))
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    cio_http_head_out w;
    cio_http_head_out_init(&w, NULL, 0);
    (void)cio_http_head_out_request(&w, method, target, 1);
    (void)cio_http_head_out_header(&w, "Host", "127.0.0.1");
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        (void)cio_http_head_out_header(&w, headers[i], headers[i + 1]);
    if (body)
        (void)cio_http_head_out_header_u64(&w, "Content-Length", len);
    ssize_t hl = cio_http_head_out_end(&w);
    if (hl < 0) {
        cio_http_head_out_fini(&w);
        return (int)hl;
    }
    int rc = 0;
    char *msg = w.buf;
    size_t mlen = (size_t)hl;
    if (len) {
        if (!(msg = cio__malloc((size_t)hl + len))) {
            cio_http_head_out_fini(&w);
            return -ENOMEM;
        }
        memcpy(msg, w.buf, (size_t)hl);
        memcpy(msg + hl, body, len);
        mlen += len;
    }
    rc = exchange(t, msg, mlen, method, res);
    if (msg != w.buf)
        cio__free(msg);
    cio_http_head_out_fini(&w);
    return rc;
}

int cio_web_test_raw(cio_web_test *t, const void *bytes, size_t len, const char *method, cio_web_test_response *res)
{
    if (!t || t->magic != TEST_MAGIC || (!bytes && len) || !res)
        return -EINVAL;
    return exchange(t, bytes, len, method ? method : "GET", res);
}

int cio_web_test_close(cio_web_test *t, int64_t grace)
{
    if (!t)
        return 0;
    if (t->magic != TEST_MAGIC)
        return -EINVAL;
    drop_conn(t);
    int rc = cio_web_server_close(t->srv, grace);
    t->magic = 0;
    cio__free(t);
    return rc;
}
