/* response.c: client responses: the head kept in memory of their own, the body read through the message layer's
 * reader under the request's total timeout, and the release that pools the connection or closes it. */
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
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

/* The next piece: what a line read left of the last one, else the reader's next. */
static int next_piece(struct cio_client_response *r, const void **data, size_t *len)
{
    if (r->pend_len) {
        *data = r->pend;
        *len = r->pend_len;
        r->pend_len = 0;
        return 1;
    }
    if (!r->body_open)
        return 0;
    cio_scope sc;
    int rc = deadline_begin(r, &sc);
    if (rc < 0)
        return rc;
    return deadline_end(r, &sc, cio_http_body_next(&r->body, data, len));
}

/* Drop the line handed out last. */
static void line_done(struct cio_client_response *r)
{
    if (r->line_out) {
        r->line_len = 0;
        r->line_out = false;
    }
}

int cio_client_response_next(cio_client_response *r, const void **data, size_t *len)
{
    if (!valid(r) || !data || !len)
        return -EINVAL;
    if (r->err || r->body_err)
        return r->err ? r->err : r->body_err;
    line_done(r);
    if (r->line_len) {
        /* A line a cut-short wait left partial: the first piece. */
        *data = r->line;
        *len = r->line_len;
        r->line_out = true;
        return 1;
    }
    return next_piece(r, data, len);
}

/* Append `n` bytes to the line that spans pieces, growing its buffer (at most `max` bytes in all). */
static int line_add(struct cio_client_response *r, const char *p, size_t n)
{
    if (r->line_len + n > r->line_cap) {
        size_t cap = r->line_cap ? r->line_cap : 256;
        while (cap < r->line_len + n)
            cap *= 2;
        char *nl = cio__realloc(r->line, cap);
        if (!nl)
            return -ENOMEM;
        r->line = nl;
        r->line_cap = cap;
    }
    memcpy(r->line + r->line_len, p, n);
    r->line_len += n;
    return 0;
}

int cio_client_response_read_line(cio_client_response *r, const char **line, size_t *len, size_t max)
{
    if (!valid(r) || !line || !len || max == 0)
        return -EINVAL;
    if (r->err || r->body_err)
        return r->err ? r->err : r->body_err;
    line_done(r);
    for (;;) {
        if (r->pend_len) {
            const char *nl = memchr(r->pend, '\n', r->pend_len);
            size_t take = nl ? (size_t)(nl - r->pend) + 1 : r->pend_len;
            if (r->line_len + take > max) {
                r->pend_len = 0;
                return r->body_err = CIO_ECLIENT_LINE_TOO_LONG;
            }
            if (nl && r->line_len == 0) {
                /* Whole within the piece: a view of it. */
                *line = r->pend;
                *len = take;
                r->pend += take;
                r->pend_len -= take;
                return 1;
            }
            int rc = line_add(r, r->pend, take);
            if (rc < 0)
                return rc;
            r->pend += take;
            r->pend_len -= take;
            if (nl) {
                *line = r->line;
                *len = r->line_len;
                r->line_out = true;
                return 1;
            }
        }
        const void *p;
        size_t n;
        int rc = next_piece(r, &p, &n);
        if (rc < 0)
            return rc; /* a wait cut short keeps the partial line for the next call */
        if (rc == 0) {
            if (!r->line_len)
                return 0;
            *line = r->line; /* the last line, without "\n" */
            *len = r->line_len;
            r->line_out = true;
            return 1;
        }
        r->pend = p;
        r->pend_len = n;
    }
}

ssize_t cio_client_response_save(cio_client_response *r, const char *path)
{
    if (!valid(r) || !path)
        return -EINVAL;
    if (r->err || r->body_err)
        return r->err ? r->err : r->body_err;
    cio_file *f;
    int rc = cio_file_open(&f, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (rc < 0)
        return rc;
    ssize_t total = 0;
    const void *p;
    size_t n;
    while ((rc = cio_client_response_next(r, &p, &n)) == 1) {
        ssize_t w = cio_file_write(f, p, n);
        if (w < 0 || (size_t)w < n) {
            rc = w < 0 ? (int)w : -EIO;
            break;
        }
        total += w;
    }
    int crc = cio_file_close(f);
    if (rc == 0 && crc < 0)
        rc = crc;
    return rc < 0 ? rc : total;
}

/* _read after line reads left bytes over: piece by piece into one buffer. */
static int read_rest(struct cio_client_response *r, cio_buf *out)
{
    size_t cap = 256;
    if (!(out->data = cio__malloc(cap)))
        return -ENOMEM;
    const void *p;
    size_t n;
    int rc;
    while ((rc = cio_client_response_next(r, &p, &n)) == 1) {
        if (out->len + n + 1 > cap) {
            while (cap < out->len + n + 1)
                cap *= 2;
            char *nb = cio__realloc(out->data, cap);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            out->data = nb;
        }
        memcpy(out->data + out->len, p, n);
        out->len += n;
    }
    if (rc < 0) {
        cio_buf_free(out);
        return rc;
    }
    out->data[out->len] = 0;
    return 0;
}

int cio_client_response_read(cio_client_response *r, cio_buf *out)
{
    if (!valid(r) || !out)
        return -EINVAL;
    *out = (cio_buf){0};
    if (r->err || r->body_err)
        return r->err ? r->err : r->body_err;
    line_done(r);
    if (r->pend_len || r->line_len)
        return read_rest(r, out);
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

int cio_client_response_detach(cio_client_response *r, cio_stream **out)
{
    if (out)
        *out = NULL;
    if (!valid(r) || !out)
        return -EINVAL;
    if (r->detached)
        return -EALREADY;
    if (r->err)
        return r->err;
    if (!r->upgraded || !r->conn || !r->conn->s)
        return CIO_ECLIENT_NOT_UPGRADED;
    struct client_conn *c = r->conn;
    cio_stream *st = c->s;
    (void)cio_stream_set_read_timeout(st, 0);
    c->s = NULL; /* the slot goes, the stream stays open: the caller's */
    r->conn = NULL;
    cio__client_conn_close(r->session, c);
    r->detached = true;
    *out = st;
    return 0;
}

bool cio_client_response_done(const cio_client_response *r)
{
    return valid(r) && !r->err && !r->body_err && !r->pend_len && (!r->line_len || r->line_out) &&
           (!r->body_open || cio_http_body_done(&r->body));
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
    cio__free(r->line);
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
        kept = cio__client_put(r->session, r->conn) ? 1 : 0;
        r->conn = NULL;
    }
    cio__client_response_free(r);
    return kept;
}
