/* request.c: what a handler reads of a request: its path (decoded and resolved), query, match_info, headers,
 * body and per-request storage; with the request's arena for the copies it hands out. */
#include "web/web.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------ arena */

struct web_block {
    struct web_block *next;
    max_align_t data[];
};

void cio__web_arena_init(struct web_arena *a)
{
    a->cur = a->first;
    a->end = a->first + sizeof a->first;
    a->blocks = NULL;
}

void cio__web_arena_fini(struct web_arena *a)
{
    while (a->blocks) {
        struct web_block *b = a->blocks;
        a->blocks = b->next;
        cio__free(b);
    }
    cio__web_arena_init(a);
}

void *cio__web_alloc(struct web_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    uintptr_t at = ((uintptr_t)a->cur + 15) & ~(uintptr_t)15;
    if (at + n <= (uintptr_t)a->end) {
        a->cur = (char *)(at + n);
        return (void *)at;
    }
    size_t size = n > 4096 ? n : 4096;
    struct web_block *b = cio__malloc(sizeof(*b) + size);
    if (!b)
        return NULL;
    b->next = a->blocks;
    a->blocks = b;
    a->cur = (char *)b->data + n;
    a->end = (char *)b->data + size;
    return b->data;
}

char *cio__web_strndup(struct web_arena *a, const char *s, size_t n)
{
    char *d = cio__web_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* ------------------------------------------------------------------------------------------------ accessors */

const char *cio_web_method(const cio_web_request *req)
{
    return req ? req->method : NULL;
}

const char *cio_web_target(const cio_web_request *req)
{
    return req ? req->target : NULL;
}

const char *cio_web_path(const cio_web_request *req)
{
    return req ? req->path : NULL;
}

const char *cio_web_query_string(const cio_web_request *req)
{
    return req ? req->query : NULL;
}

const cio_http_head *cio_web_head(const cio_web_request *req)
{
    return req ? req->head : NULL;
}

int cio_web_version(const cio_web_request *req)
{
    return req ? req->head->minor_version : -EINVAL;
}

bool cio_web_keep_alive(const cio_web_request *req)
{
    return req && req->keep_alive;
}

int64_t cio_web_content_length(const cio_web_request *req)
{
    if (!req || req->framing != CIO_HTTP_BODY_LENGTH)
        return -1;
    return (int64_t)req->length;
}

int cio_web_remote(const cio_web_request *req, cio_addr *out)
{
    return req ? cio_stream_peer_addr(req->s, out) : -EINVAL;
}

int cio_web_local(const cio_web_request *req, cio_addr *out)
{
    return req ? cio_stream_local_addr(req->s, out) : -EINVAL;
}

cio_stream *cio_web_stream(const cio_web_request *req)
{
    return req ? req->s : NULL;
}

void *cio_web_server_arg(const cio_web_request *req)
{
    return req ? req->srv->opts.arg : NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode what the path left encoded ("%2F" and "%25"), for a match value. */
static char *decode_rest(struct web_arena *a, const char *p, size_t n)
{
    char *d = cio__web_alloc(a, n + 1), *o = d;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi = p[i] == '%' && i + 2 < n ? hexval(p[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
        if (lo >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        *o++ = p[i];
    }
    *o = 0;
    return d;
}

const char *cio_web_match(const cio_web_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->m.ncaps; i++)
        if (!strcmp(req->m.caps[i].name, name))
            return req->match_vals[i];
    return NULL;
}

int cio__web_match_values(cio_web_request *req)
{
    for (size_t i = 0; i < req->m.ncaps; i++) {
        const struct web_capture *c = &req->m.caps[i];
        if (!(req->match_vals[i] = decode_rest(&req->arena, req->path + c->off, c->len)))
            return -ENOMEM;
    }
    return 0;
}

const char *cio_web_query(cio_web_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    cio_http_str rest = {req->query, strlen(req->query)}, n, v;
    size_t want = strlen(name);
    while (cio_url_query_next(&rest, &n, &v) == 1) {
        char tmp[256];
        if (n.len > sizeof tmp)
            continue;
        ssize_t dn = cio_url_decode(tmp, sizeof tmp, n.ptr, n.len, CIO_URL_PLUS_SPACE);
        if (dn < 0 || (size_t)dn != want || memcmp(tmp, name, want))
            continue;
        char *out = cio__web_alloc(&req->arena, v.len + 1);
        if (!out)
            return NULL;
        ssize_t dv = v.len ? cio_url_decode(out, v.len + 1, v.ptr, v.len, CIO_URL_PLUS_SPACE) : 0;
        if (dv < 0)
            continue; /* a malformed value reads as absent */
        out[dv] = 0;
        return out;
    }
    return NULL;
}

const char *cio_web_header(cio_web_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    const cio_http_header *h = cio_http_header_find(req->head, name, NULL);
    if (!h)
        return NULL;
    return cio__web_strndup(&req->arena, h->value.ptr, h->value.len);
}

const char *cio_web_cookie(cio_web_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (const cio_http_header *h = NULL; (h = cio_http_header_find(req->head, "Cookie", h)) != NULL;) {
        cio_http_str rest = h->value, n, v;
        while (cio_http_cookie_next(&rest, &n, &v) == 1)
            if (n.len == strlen(name) && memcmp(n.ptr, name, n.len) == 0)
                return cio__web_strndup(&req->arena, v.ptr, v.len);
    }
    return NULL;
}

int cio_web_content_type(const cio_web_request *req, cio_http_media_type *mt)
{
    if (!req || !mt)
        return -EINVAL;
    const cio_http_header *h = cio_http_header_find(req->head, "Content-Type", NULL);
    if (!h)
        return -ENOENT;
    return cio_http_media_type_parse(mt, h->value);
}

/* ------------------------------------------------------------------------------------------------ storage */

int cio_web_set(cio_web_request *req, const void *key, void *value)
{
    if (!req || !key)
        return -EINVAL;
    for (size_t i = 0; i < req->nkv; i++) {
        if (req->kv[i].key == key) {
            if (value) {
                req->kv[i].value = value;
            } else {
                req->kv[i] = req->kv[--req->nkv];
            }
            return 0;
        }
    }
    if (!value)
        return 0;
    if (req->nkv == req->capkv) {
        size_t cap = req->capkv ? req->capkv * 2 : 8;
        struct web_kv *kv = cio__web_alloc(&req->arena, cap * sizeof(*kv));
        if (!kv)
            return -ENOMEM;
        if (req->nkv)
            memcpy(kv, req->kv, req->nkv * sizeof(*kv));
        req->kv = kv;
        req->capkv = cap;
    }
    req->kv[req->nkv++] = (struct web_kv){key, value};
    return 0;
}

void *cio_web_get_value(const cio_web_request *req, const void *key)
{
    if (!req)
        return NULL;
    for (size_t i = 0; i < req->nkv; i++)
        if (req->kv[i].key == key)
            return req->kv[i].value;
    return NULL;
}

/* ------------------------------------------------------------------------------------------------ body */

cio_http_body_in *cio_web_body(cio_web_request *req)
{
    if (!req)
        return NULL;
    if (!req->body_open) {
        /* Earlier pipelined responses go out before anything this request's reading may send (100 Continue). */
        if (cio__web_out_flush(req->conn, req->s) < 0)
            return NULL;
        const struct cio_web_app *app = req->m.napps ? req->m.apps[req->m.napps - 1] : req->srv->app;
        cio_http_body_opts o = {
            .max_size = app->opts.client_max_size,
            /* A bodiless request keeps its head in the stream until the request ends (conn.c consumes it then):
               consumed now, an empty buffer would go back to the loop with the head's views in it. A request with
               a body has had its head copied (conn.c), so the reader may consume it. */
            .skip = req->framing == CIO_HTTP_BODY_NONE ? 0 : req->head_len,
            /* No 100 may follow the final response. */
            .send_continue = cio_http_expects_continue(req->head) && !req->answered,
        };
        int rc = cio_http_body_init(&req->body, req->s, req->framing, req->length, &o);
        if (rc < 0) {
            req->body_err = rc;
            return NULL;
        }
        req->body_open = true;
        if (req->framing != CIO_HTTP_BODY_NONE) {
            req->head_len = 0; /* the reader consumes it */
            (void)cio_stream_set_read_timeout(req->s, req->srv->opts.body_timeout);
        }
    }
    return &req->body;
}

int cio_web_read_body(cio_web_request *req, const char **data, size_t *len)
{
    if (!req || !data)
        return -EINVAL;
    if (!req->body_read) {
        cio_http_body_in *b = cio_web_body(req);
        if (!b)
            return req->body_err ? req->body_err : -ENOMEM;
        cio_buf out = {0};
        int rc = cio_http_body_read_all(b, &out);
        if (rc < 0)
            return rc;
        char *copy = cio__web_strndup(&req->arena, out.data ? out.data : "", out.len);
        size_t n = out.len;
        cio_buf_free(&out);
        if (!copy)
            return -ENOMEM;
        req->body_data = copy;
        req->body_len = n;
        req->body_read = true;
    }
    *data = req->body_data;
    if (len)
        *len = req->body_len;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ forms */

/* The media type of Content-Type, without parameters, compared without case. */
static bool content_type_is(cio_web_request *req, const char *type)
{
    const cio_http_header *h = cio_http_header_find(req->head, "Content-Type", NULL);
    if (!h)
        return false;
    cio_http_str v = h->value;
    size_t n = 0;
    while (n < v.len && v.ptr[n] != ';' && v.ptr[n] != ' ' && v.ptr[n] != '\t')
        n++;
    return cio_http_str_ieq((cio_http_str){v.ptr, n}, type);
}

static int form_add(cio_web_request *req, size_t *cap, const char *name, const char *value, size_t len)
{
    if (req->nform == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct web_form_field *f = cio__web_alloc(&req->arena, ncap * sizeof(*f));
        if (!f)
            return -ENOMEM;
        if (req->nform)
            memcpy(f, req->form, req->nform * sizeof(*f));
        req->form = f;
        *cap = ncap;
    }
    req->form[req->nform++] = (struct web_form_field){name, value, len};
    return 0;
}

static int read_urlencoded(cio_web_request *req)
{
    const char *data;
    size_t len, cap = 0;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    cio_http_str rest = {data, len}, n, v;
    while (cio_url_query_next(&rest, &n, &v) == 1) {
        char *name = cio__web_alloc(&req->arena, n.len + 1), *value = cio__web_alloc(&req->arena, v.len + 1);
        if (!name || !value)
            return -ENOMEM;
        ssize_t nl = cio_url_decode(name, n.len + 1, n.ptr, n.len, CIO_URL_PLUS_SPACE);
        ssize_t vl = v.len ? cio_url_decode(value, v.len + 1, v.ptr, v.len, CIO_URL_PLUS_SPACE) : 0;
        if (nl < 0 || vl < 0)
            return CIO_EHTTP_BAD_PERCENT;
        name[nl] = 0;
        value[vl] = 0;
        if ((rc = form_add(req, &cap, name, value, (size_t)vl)) < 0)
            return rc;
    }
    return 0;
}

static int read_multipart(cio_web_request *req)
{
    cio_http_body_in *b = cio_web_body(req);
    if (!b)
        return req->body_err ? req->body_err : -ENOMEM;
    cio_http_form *f;
    int rc = cio_http_form_open(&f, b, req->head, NULL, 0);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    cio_buf acc = {0};
    size_t acc_cap = 0;
    const cio_http_head *ph;
    while ((rc = cio_http_form_next_part(f, &ph)) == 1) {
        char nbuf[256];
        ssize_t nl = cio_http_form_part_name(f, nbuf, sizeof nbuf);
        if (nl < 0)
            nbuf[nl = 0] = 0; /* a part without a name is kept under "" */
        acc.len = 0;
        const void *p;
        size_t n;
        while ((rc = cio_http_form_part_next(f, &p, &n)) == 1) {
            if (acc.len + n + 1 > acc_cap) {
                size_t ncap = (acc.len + n + 1) * 2;
                char *d = cio__realloc(acc.data, ncap);
                if (!d) {
                    rc = -ENOMEM;
                    break;
                }
                acc.data = d;
                acc_cap = ncap;
            }
            memcpy(acc.data + acc.len, p, n);
            acc.len += n;
        }
        if (rc < 0)
            break;
        char *name = cio__web_strndup(&req->arena, nbuf, (size_t)nl);
        char *value = cio__web_strndup(&req->arena, acc.data ? acc.data : "", acc.len);
        if (!name || !value || (rc = form_add(req, &cap, name, value, acc.len)) < 0) {
            rc = -ENOMEM;
            break;
        }
    }
    cio__free(acc.data);
    cio_http_form_close(f);
    return rc < 0 ? rc : 0;
}

static int read_form(cio_web_request *req)
{
    if (!req->form_read) {
        req->form_read = true;
        if (content_type_is(req, "application/x-www-form-urlencoded"))
            req->form_err = read_urlencoded(req);
        else if (content_type_is(req, "multipart/form-data"))
            req->form_err = read_multipart(req);
    }
    return req->form_err;
}

int cio_web_form(cio_web_request *req, const char *name, const char **value, size_t *len)
{
    if (!req || !name || !value)
        return -EINVAL;
    int rc = read_form(req);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < req->nform; i++) {
        if (!strcmp(req->form[i].name, name)) {
            *value = req->form[i].value;
            if (len)
                *len = req->form[i].len;
            return 0;
        }
    }
    return -ENOENT;
}

int cio_web_form_at(cio_web_request *req, size_t i, const char **name, const char **value, size_t *len)
{
    if (!req || !name || !value)
        return -EINVAL;
    int rc = read_form(req);
    if (rc < 0)
        return rc;
    if (i >= req->nform)
        return -ENOENT;
    *name = req->form[i].name;
    *value = req->form[i].value;
    if (len)
        *len = req->form[i].len;
    return 1;
}
