/* form.c: multipart/form-data on streams: a form read part by part over a body reader, and written as an upload
 * through a body writer. */
#include "cio/http.h"

#include <errno.h>
#include <string.h>

#include "internal.h"

/* The form's buffer: the parser wants a part's whole header block at once, so it holds max_head and a delimiter,
   and at least this much for data. */
#define FORM_BUF         ((size_t)64 * 1024)
#define DEFAULT_MAX_HEAD ((size_t)16 * 1024)

enum { F_START = 0, F_IN_PART, F_BETWEEN, F_END, F_FAILED };

struct cio_http_form {
    cio_http_body_in *body;
    cio_http_multipart mp;
    cio_http_multipart_event ev;
    char *buf;
    size_t len, cap;
    /* Bytes at the front of buf the parser is done with, consumed at the next call (views point into them). */
    size_t done;
    bool eof;
    int state, err;
    /* The current part's Content-Disposition, parsed once. */
    cio_http_disposition disp;
    int disp_rc;
    size_t max_headers;
    cio_http_header headers[];
};

int cio_http_form_open(cio_http_form **out, cio_http_body_in *body, const cio_http_head *h,
                       const cio_http_multipart_opts *opts, size_t max_headers)
{
    if (!out || !body || !h)
        return -EINVAL;
    *out = NULL;
    const cio_http_header *ct = cio_http_header_find(h, "content-type", NULL);
    if (!ct)
        return CIO_EHTTP_MP_NOT_MULTIPART;
    cio_http_str boundary;
    int rc = cio_http_multipart_boundary(&boundary, NULL, ct->value);
    if (rc < 0)
        return rc;
    if (max_headers == 0)
        max_headers = 16;
    size_t head = opts && opts->max_head ? opts->max_head : DEFAULT_MAX_HEAD;
    size_t cap = head + CIO_HTTP_MP_MAX_BOUNDARY + 16 > FORM_BUF ? head + CIO_HTTP_MP_MAX_BOUNDARY + 16 : FORM_BUF;
    cio_http_form *f = cio__calloc(1, sizeof *f + max_headers * sizeof(cio_http_header));
    if (!f)
        return -ENOMEM;
    if (!(f->buf = cio__malloc(cap))) {
        cio__free(f);
        return -ENOMEM;
    }
    f->cap = cap;
    f->body = body;
    f->max_headers = max_headers;
    if ((rc = cio_http_multipart_init(&f->mp, boundary, opts)) < 0) {
        cio_http_form_close(f);
        return rc;
    }
    cio_http_head_init(&f->ev.head, f->headers, max_headers);
    *out = f;
    return 0;
}

static int fail(cio_http_form *f, int err)
{
    if (err != -ECANCELED && !cio_is_timeout(err)) {
        f->state = F_FAILED;
        f->err = err;
    }
    return err;
}

/* Read more of the body behind what the buffer holds, until it holds `want` bytes or the body ends. */
static int fill(cio_http_form *f, size_t want)
{
    if (want > f->cap)
        return CIO_EHTTP_MP_HEADERS_TOO_LARGE; /* the parser's own limit is below the buffer: not reached */
    while (f->len < want && !f->eof) {
        ssize_t n = cio_http_body_read(f->body, f->buf + f->len, f->cap - f->len);
        if (n < 0)
            return (int)n;
        if (n == 0)
            f->eof = true;
        f->len += (size_t)n;
    }
    return 0;
}

/* The next parser event: PART, DATA, PART_END or END (0), or an error. */
static int event(cio_http_form *f)
{
    if (f->state == F_FAILED)
        return f->err;
    if (f->done) {
        memmove(f->buf, f->buf + f->done, f->len - f->done);
        f->len -= f->done;
        f->done = 0;
    }
    for (;;) {
        int rc = cio_http_multipart_next(&f->mp, &f->ev, f->buf, f->len, f->eof);
        f->done = f->ev.consumed;
        if (rc != -EAGAIN)
            return rc < 0 ? fail(f, rc) : rc;
        if (f->done) {
            memmove(f->buf, f->buf + f->done, f->len - f->done);
            f->len -= f->done;
            f->done = 0;
        }
        if ((rc = fill(f, f->ev.want > f->len ? f->ev.want : f->len + 1)) < 0)
            return fail(f, rc);
    }
}

int cio_http_form_next_part(cio_http_form *f, const cio_http_head **head)
{
    if (!f || !head)
        return -EINVAL;
    for (;;) {
        if (f->state == F_END)
            return 0;
        int rc = event(f);
        if (rc < 0)
            return rc;
        if (rc == CIO_HTTP_MP_END) {
            f->state = F_END;
            return 0;
        }
        if (rc == CIO_HTTP_MP_PART) {
            f->state = F_IN_PART;
            const cio_http_header *cd = cio_http_header_find(&f->ev.head, "content-disposition", NULL);
            f->disp_rc = cd ? cio_http_disposition_parse(&f->disp, cd->value) : -ENOENT;
            *head = &f->ev.head;
            return 1;
        }
        if (rc == CIO_HTTP_MP_PART_END)
            f->state = F_BETWEEN; /* DATA of a part the caller left: skipped */
    }
}

int cio_http_form_part_next(cio_http_form *f, const void **data, size_t *len)
{
    if (!f || !data || !len)
        return -EINVAL;
    if (f->state != F_IN_PART)
        return f->state == F_FAILED ? f->err : 0;
    int rc = event(f);
    if (rc < 0)
        return rc;
    if (rc == CIO_HTTP_MP_DATA) {
        *data = f->ev.data.ptr;
        *len = f->ev.data.len;
        return 1;
    }
    f->state = rc == CIO_HTTP_MP_END ? F_END : F_BETWEEN; /* PART_END (END cannot come inside a part) */
    return 0;
}

static ssize_t part_param(cio_http_form *f, char *dst, size_t cap, bool file)
{
    if (!f || !dst)
        return -EINVAL;
    if (f->state != F_IN_PART)
        return -ENOENT;
    if (f->disp_rc < 0)
        return f->disp_rc;
    return file ? cio_http_disposition_filename(&f->disp, dst, cap) : cio_http_disposition_name(&f->disp, dst, cap);
}

ssize_t cio_http_form_part_name(cio_http_form *f, char *dst, size_t cap)
{
    return part_param(f, dst, cap, false);
}

ssize_t cio_http_form_part_filename(cio_http_form *f, char *dst, size_t cap)
{
    return part_param(f, dst, cap, true);
}

ssize_t cio_http_form_part_save(cio_http_form *f, cio_file *file)
{
    if (!f || !file)
        return -EINVAL;
    const void *p;
    size_t n;
    ssize_t total = 0;
    int rc;
    while ((rc = cio_http_form_part_next(f, &p, &n)) == 1) {
        for (size_t off = 0; off < n;) {
            ssize_t w = cio_file_write(file, (const char *)p + off, n - off);
            if (w < 0)
                return w;
            off += (size_t)w;
        }
        total += (ssize_t)n;
    }
    return rc < 0 ? rc : total;
}

void cio_http_form_close(cio_http_form *f)
{
    if (!f)
        return;
    cio__free(f->buf);
    cio__free(f);
}

/* ------------------------------------------------------------------------------------------------ writing */

int cio_http_form_out_init(cio_http_form_out *w, cio_http_body_out *body, const char *boundary)
{
    if (!w || !body)
        return -EINVAL;
    *w = (cio_http_form_out){.body = body};
    if (!boundary)
        return cio_http_multipart_boundary_new(w->boundary, sizeof w->boundary) < 0 ? -EIO : 0;
    size_t n = strlen(boundary);
    char probe[CIO_HTTP_MP_MAX_BOUNDARY + 16];
    if (n > CIO_HTTP_MP_MAX_BOUNDARY ||
        cio_http_multipart_delimiter(probe, sizeof probe, (cio_http_str){boundary, n}, 0) < 0)
        return CIO_EHTTP_MP_BAD_BOUNDARY;
    memcpy(w->boundary, boundary, n + 1);
    return 0;
}

static cio_http_str str_of(const char *s)
{
    return (cio_http_str){s, s ? strlen(s) : 0};
}

/* Format the framing before a part (delimiter, header block) into `dst`; its length, snprintf style. */
static ssize_t part_framing(const cio_http_form_out *w, bool first, const char *name, const char *filename,
                            const char *content_type, char *dst, size_t cap)
{
    if (!name)
        return -EINVAL;
    ssize_t d = cio_http_multipart_delimiter(dst, cap, str_of(w->boundary), first ? CIO_HTTP_MP_FIRST : 0);
    if (d < 0)
        return d;
    size_t used = (size_t)d < cap ? (size_t)d : cap;
    ssize_t h =
        cio_http_multipart_part_head(dst ? dst + used : NULL, cap - used, str_of(name), str_of(filename), content_type);
    return h < 0 ? h : d + h;
}

int cio_http_form_out_part(cio_http_form_out *w, const char *name, const char *filename, const char *content_type)
{
    if (!w)
        return -EINVAL;
    if (w->err)
        return w->err;
    char small[1024];
    ssize_t n = part_framing(w, w->parts == 0, name, filename, content_type, small, sizeof small);
    if (n < 0)
        return (int)n;
    char *buf = small;
    if ((size_t)n >= sizeof small) {
        if (!(buf = cio__malloc((size_t)n + 1)))
            return -ENOMEM;
        (void)part_framing(w, w->parts == 0, name, filename, content_type, buf, (size_t)n + 1);
    }
    int rc = cio_http_body_out_write(w->body, buf, (size_t)n);
    if (buf != small)
        cio__free(buf);
    if (rc < 0)
        return w->err = rc;
    w->parts++;
    return 0;
}

int cio_http_form_out_write(cio_http_form_out *w, const void *data, size_t len)
{
    if (!w)
        return -EINVAL;
    if (w->err || w->parts == 0)
        return w->err ? w->err : -EINVAL;
    return cio_http_body_out_write(w->body, data, len);
}

ssize_t cio_http_form_out_file(cio_http_form_out *w, int file_fd, off_t offset, size_t count)
{
    if (!w)
        return -EINVAL;
    if (w->err || w->parts == 0)
        return w->err ? w->err : -EINVAL;
    return cio_http_body_out_sendfile(w->body, file_fd, offset, count);
}

int cio_http_form_out_end(cio_http_form_out *w)
{
    if (!w)
        return -EINVAL;
    if (w->err)
        return w->err;
    char close[CIO_HTTP_MP_MAX_BOUNDARY + 16];
    ssize_t n = cio_http_multipart_delimiter(close, sizeof close, str_of(w->boundary),
                                             CIO_HTTP_MP_CLOSE | (w->parts == 0 ? CIO_HTTP_MP_FIRST : 0));
    if (n < 0)
        return (int)n;
    return cio_http_body_out_write(w->body, close, (size_t)n);
}

ssize_t cio_http_form_out_overhead(const cio_http_form_out *w, bool first, const char *name, const char *filename,
                                   const char *content_type)
{
    return w ? part_framing(w, first, name, filename, content_type, NULL, 0) : -EINVAL;
}

ssize_t cio_http_form_out_close_size(const cio_http_form_out *w)
{
    return w ? cio_http_multipart_delimiter(NULL, 0, str_of(w->boundary), CIO_HTTP_MP_CLOSE) : -EINVAL;
}
