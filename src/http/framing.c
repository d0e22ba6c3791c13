/* framing.c: what a parsed head means for the connection: body length, persistence, upgrade, 100-continue. */
#include "cio/http.h"

#include <string.h>

int cio_http_request_body(const cio_http_head *h, uint64_t *length)
{
    uint64_t n = 0;
    int kind = CIO_HTTP_BODY_NONE;
    /* The parser has rejected a request whose Transfer-Encoding does not end in chunked, and one with both. */
    if (h->flags & CIO_HTTP_HAS_TRANSFER_ENCODING) {
        kind = CIO_HTTP_BODY_CHUNKED;
    } else if (h->flags & CIO_HTTP_HAS_CONTENT_LENGTH) {
        kind = CIO_HTTP_BODY_LENGTH;
        n = h->content_length;
    }
    if (length)
        *length = n;
    return kind;
}

int cio_http_response_body(const cio_http_head *h, const char *method, uint64_t *length)
{
    uint64_t n = 0;
    int kind;
    if (method && strcmp(method, "HEAD") == 0)
        kind = CIO_HTTP_BODY_NONE;
    else if (h->status < 200 || h->status == 204 || h->status == 304)
        kind = CIO_HTTP_BODY_NONE;
    else if (method && strcmp(method, "CONNECT") == 0 && h->status < 300)
        kind = CIO_HTTP_BODY_TUNNEL;
    else if (h->flags & CIO_HTTP_HAS_TRANSFER_ENCODING)
        kind = (h->flags & CIO_HTTP_CHUNKED) ? CIO_HTTP_BODY_CHUNKED : CIO_HTTP_BODY_UNTIL_CLOSE;
    else if (h->flags & CIO_HTTP_HAS_CONTENT_LENGTH)
        kind = CIO_HTTP_BODY_LENGTH, n = h->content_length;
    else
        kind = CIO_HTTP_BODY_UNTIL_CLOSE;
    if (length)
        *length = n;
    return kind;
}

bool cio_http_keep_alive(const cio_http_head *h)
{
    if (h->flags & CIO_HTTP_CONN_CLOSE)
        return false;
    return h->minor_version >= 1 || (h->flags & CIO_HTTP_CONN_KEEP_ALIVE);
}

bool cio_http_upgrade(const cio_http_head *h)
{
    if (h->method.ptr == NULL) /* a response */
        return h->status == 101;
    return (h->flags & (CIO_HTTP_CONN_UPGRADE | CIO_HTTP_HAS_UPGRADE)) ==
           (CIO_HTTP_CONN_UPGRADE | CIO_HTTP_HAS_UPGRADE);
}

bool cio_http_expects_continue(const cio_http_head *h)
{
    /* RFC 9110 section 10.1.1: an HTTP/1.0 client cannot wait for 100, so the server ignores the expectation. */
    return h->minor_version >= 1 && (h->flags & CIO_HTTP_EXPECT_CONTINUE);
}

const cio_http_header *cio_http_header_find(const cio_http_head *h, const char *name, const cio_http_header *after)
{
    size_t i = after ? (size_t)(after - h->headers) + 1 : 0;
    for (; i < h->num_headers; i++)
        if (cio_http_str_ieq(h->headers[i].name, name))
            return &h->headers[i];
    return NULL;
}

int cio_http_error_status(int err)
{
    switch (err) {
    case CIO_EHTTP_BODY_TOO_LARGE:
    case CIO_EHTTP_BODY_LIMIT:
    case CIO_EHTTP_MP_TOO_MANY_PARTS:
    case CIO_EHTTP_MP_PART_TOO_LARGE:
        return 413;
    case CIO_EHTTP_LINE_TOO_LONG:
        return 414;
    case CIO_EHTTP_HEAD_TOO_LARGE:
    case CIO_EHTTP_TOO_MANY_HEADERS:
        return 431;
    case CIO_EHTTP_VERSION:
        return 505;
    case CIO_EHTTP_CODING_UNSUPPORTED:
        return 415;
    case CIO_EHTTP_RANGE_NOT_SATISFIABLE:
        return 416;
    default:
        return err <= -4300 && err > -4400 ? 400 : 0;
    }
}
