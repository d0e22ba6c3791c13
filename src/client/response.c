/* response.c: client responses: the head kept in memory of their own, the body read through the message layer's
 * reader under the request's total timeout, and the release that pools the connection or closes it. */
#include "client/client.h"

#include <errno.h>
#include <string.h>

static bool valid(const struct cio_client_response *r)
{
    return r && r->magic == CLIENT_RESPONSE_MAGIC;
}

/*
 * The code a caller sees for a failure inside the client: a stream's read timeout is the client's sock_read, a
 * cut-short wait inside the total timeout's scope is the total timeout, and a closed session says so (its
 * shutdown is what ended the wait).
 */
int cio__client_map_error(const struct cio_client_response *r, int rc, int scope_rc)
{
    if (rc >= 0)
        return rc;
    if (r && r->err)
        return r->err;
    if (scope_rc == -ETIMEDOUT)
        return CIO_ECLIENT_TIMEOUT;
    if (rc == CIO_EREADTIMEOUT)
        return CIO_ECLIENT_READ_TIMEOUT;
    return rc;
}

int cio_client_response_status(const cio_client_response *r)
{
    return valid(r) ? r->head.status : -EINVAL;
}

const char *cio_client_response_reason(const cio_client_response *r)
{
    return valid(r) ? r->head.reason.ptr : NULL;
}

int cio_client_response_version(const cio_client_response *r)
{
    return valid(r) ? r->head.minor_version : -EINVAL;
}

const char *cio_client_response_url(const cio_client_response *r)
{
    return valid(r) ? r->url : NULL;
}

int64_t cio_client_response_content_length(const cio_client_response *r)
{
    if (!valid(r))
        return -1;
    uint64_t len;
    return cio_http_response_body(&r->head, r->method, &len) == CIO_HTTP_BODY_LENGTH ? (int64_t)len : -1;
}

const char *cio_client_response_header_nth(const cio_client_response *r, const char *name, size_t n)
{
    if (!valid(r) || !name)
        return NULL;
    for (const cio_http_header *f = NULL; (f = cio_http_header_find(&r->head, name, f));)
        if (n-- == 0)
            return f->value.ptr;
    return NULL;
}

const char *cio_client_response_header(const cio_client_response *r, const char *name)
{
    return cio_client_response_header_nth(r, name, 0);
}

size_t cio_client_response_header_count(const cio_client_response *r)
{
    return valid(r) ? r->head.num_headers : 0;
}

int cio_client_response_header_at(const cio_client_response *r, size_t i, const char **name, const char **value)
{
    if (!valid(r) || !name || !value)
        return -EINVAL;
    if (i >= r->head.num_headers)
        return -ENOENT;
    *name = r->head.headers[i].name.ptr;
    *value = r->head.headers[i].value.ptr;
    return 0;
}

size_t cio_client_response_redirects(const cio_client_response *r)
{
    return valid(r) ? r->nhistory : 0;
}

int cio_client_response_history(const cio_client_response *r, size_t i, int *status, const char **url)
{
    if (!valid(r))
        return -EINVAL;
    if (i >= r->nhistory)
        return -ENOENT;
    if (status)
        *status = r->history[i].status;
    if (url)
        *url = r->history[i].url;
    return 0;
}

/* The body is read under the request's total timeout: a deadline scope around each call. */
static int deadline_begin(const struct cio_client_response *r, cio_scope *sc)
{
    return r->deadline == INT64_MAX ? 0 : cio_deadline_begin(sc, r->deadline);
}

static int deadline_end(const struct cio_client_response *r, cio_scope *sc, int rc)
{
    int src = r->deadline == INT64_MAX ? 0 : cio_scope_end(sc);
    return cio__client_map_error(r, rc, src);
}

int cio_client_response_next(cio_client_response *r, const void **data, size_t *len)
{
    if (!valid(r) || !data || !len)
        return -EINVAL;
    if (r->err || r->body_err)
        return r->err ? r->err : r->body_err;
    if (!r->body_open)
        return 0;
    cio_scope sc;
    int rc = deadline_begin(r, &sc);
    if (rc < 0)
        return rc;
    return deadline_end(r, &sc, cio_http_body_next(&r->body, data, len));
}

int cio_client_response_read(cio_client_response *r, cio_buf *out)
{
    if (!valid(r) || !out)
        return -EINVAL;
    *out = (cio_buf){0};
    if (r->err || r->body_err)
        return r->err ? r->err : r->body_err;
    if (!r->body_open) {
        if (!(out->data = cio__malloc(1)))
            return -ENOMEM;
        out->data[0] = 0;
        return 0;
    }
    cio_scope sc;
    int rc = deadline_begin(r, &sc);
    if (rc < 0)
        return rc;
    rc = deadline_end(r, &sc, cio_http_body_read_all(&r->body, out));
    if (rc < 0)
        cio_buf_free(out);
    return rc;
}

bool cio_client_response_done(const cio_client_response *r)
{
    return valid(r) && !r->err && !r->body_err && (!r->body_open || cio_http_body_done(&r->body));
}

void cio__client_response_free(struct cio_client_response *r)
{
    struct cio_client_session *s = r->session;
    if (r->body_open)
        cio_http_body_fini(&r->body);
    if (r->conn)
        cio__client_conn_close(s, r->conn);
    for (size_t i = 0; i < r->nhistory; i++)
        cio__free(r->history[i].url);
    cio__free(r->history);
    cio__free(r->url);
    cio__free(r->raw);
    cio__free(r->fields);
    cio__list_remove(&r->node);
    r->magic = 0;
    cio__free(r);
    cio__client_session_unref(s);
}

int cio_client_response_release(cio_client_response *r)
{
    if (!r)
        return 0;
    if (!valid(r))
        return -EINVAL;
    int kept = 0;
    bool done = cio_client_response_done(r);
    if (r->body_open) {
        cio_http_body_fini(&r->body); /* consumes what the last view covered: the stream holds what follows */
        r->body_open = false;
    }
    if (r->conn && done && r->keep && !r->session->closed) {
        r->conn->served++;
        cio__client_put(r->session, r->conn);
        r->conn = NULL;
        kept = 1;
    }
    cio__client_response_free(r);
    return kept;
}
