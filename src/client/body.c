/* body.c: request bodies beyond memory: a file (sendfile over plain TCP), a producer coroutine (chunked, or held to
 * its declared length), urlencoded and multipart forms (file parts streamed from disk, the length computed up
 * front), JSON; each sent through the message layer's body writer, again from its start on a retry. */
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

int cio_client_body_write(cio_client_body_writer *w, const void *data, size_t len)
{
    if (!w || w->magic != CLIENT_WRITER_MAGIC || (!data && len > 0))
        return -EINVAL;
    return cio_http_body_out_write(&w->out, data, len);
}

/* ------------------------------------------------------------------------------------------------ opening */

/* application/x-www-form-urlencoded from name, value, ..., NULL into b->owned. */
static int encode_form(struct client_body *b, const char *const *form)
{
    size_t n = 0;
    while (form[n])
        n++;
    if (n % 2)
        return -EINVAL;
    size_t cap = 256, len = 0;
    char *buf = cio__malloc(cap);
    if (!buf)
        return -ENOMEM;
    buf[0] = 0;
    for (size_t i = 0; i < n; i += 2) {
        while (cio_url_query_add(buf, cap, &len, form[i], form[i + 1]) == -ENOBUFS) {
            char *nb = cap < SIZE_MAX / 2 ? cio__realloc(buf, cap * 2) : NULL;
            if (!nb) {
                cio__free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
    }
    b->owned = buf;
    b->data = buf;
    b->len = len;
    b->content_type = "application/x-www-form-urlencoded";
    return 0;
}

/* Open `path` for reading, as a regular file: its size in *size. */
static int open_file(const char *path, cio_file **out, uint64_t *size)
{
    int rc = cio_file_open(out, path, O_RDONLY, 0);
    if (rc < 0)
        return rc;
    struct stat st;
    if ((rc = cio_file_stat(*out, &st)) == 0 && !S_ISREG(st.st_mode))
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    if (rc < 0) {
        (void)cio_file_close(*out);
        *out = NULL;
        return rc;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

static int open_body_file(struct client_body *b, const cio_client_request_opts *o)
{
    uint64_t size;
    int rc = open_file(o->body_file, &b->file, &size);
    if (rc < 0)
        return rc;
    b->off = o->body_file_offset;
    if (b->off > size || b->off > (uint64_t)INT64_MAX)
        return -EIO;
    b->flen = o->body_file_len ? o->body_file_len : size - b->off;
    return b->flen > size - b->off ? -EIO : 0;
}

static const char *last_segment(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The parts checked, their files opened, the boundary made and the whole length added up. */
static int open_parts(struct client_body *b, const cio_client_request_opts *o)
{
    if (o->nparts && !o->parts)
        return -EINVAL;
    if (o->nparts && !(b->parts = cio__calloc(o->nparts, sizeof(*b->parts))))
        return -ENOMEM;
    b->nparts = o->nparts;
    cio_http_body_out unused;
    cio_http_form_out fo;
    int rc = cio_http_form_out_init(&fo, &unused, NULL);
    if (rc < 0)
        return rc;
    memcpy(b->boundary, fo.boundary, sizeof b->boundary);
    snprintf(b->ctbuf, sizeof b->ctbuf, "multipart/form-data; boundary=%s", b->boundary);
    b->content_type = b->ctbuf;
    uint64_t total = 0;
    for (size_t i = 0; i < b->nparts; i++) {
        const cio_client_form_part *src = &o->parts[i];
        struct client_part *p = &b->parts[i];
        if (!src->name || !src->value == !src->file)
            return -EINVAL;
        p->name = src->name;
        p->filename = src->filename;
        p->content_type = src->content_type;
        if (src->value) {
            p->value = src->value;
            p->value_len = src->value_len ? src->value_len : strlen(src->value);
            p->size = p->value_len;
        } else {
            if ((rc = open_file(src->file, &p->file, &p->size)) < 0)
                return rc;
            if (!p->filename)
                p->filename = last_segment(src->file);
            if (!p->content_type)
                p->content_type = "application/octet-stream";
        }
        ssize_t over = cio_http_form_out_overhead(&fo, i == 0, p->name, p->filename, p->content_type);
        if (over < 0)
            return (int)over;
        total += (uint64_t)over + p->size;
    }
    ssize_t close = cio_http_form_out_close_size(&fo);
    if (close < 0)
        return (int)close;
    /* A form without parts is its close delimiter alone, without the CRLF that would end a part's data. */
    b->mplen = total + (uint64_t)close - (b->nparts ? 0 : 2);
    return 0;
}

int cio__client_body_open(struct client_body *b, const cio_client_request_opts *o)
{
    *b = (struct client_body){.kind = CLIENT_BODY_NONE};
    if (!o)
        return 0;
    int kinds = !!o->body + !!o->body_file + !!o->producer + !!o->form + (o->parts || o->nparts) + !!o->json;
    if (kinds > 1 || o->producer_len < 0 || (o->body_len && !o->body) ||
        ((o->body_file_offset || o->body_file_len) && !o->body_file) || (o->producer_len && !o->producer))
        return -EINVAL;
    int rc = 0;
    if (o->body) {
        b->kind = CLIENT_BODY_MEM;
        b->data = o->body;
        b->len = o->body_len;
    } else if (o->json) {
        b->kind = CLIENT_BODY_MEM;
        b->data = o->json;
        b->len = strlen(o->json);
        b->content_type = "application/json";
    } else if (o->form) {
        b->kind = CLIENT_BODY_MEM;
        rc = encode_form(b, o->form);
    } else if (o->body_file) {
        b->kind = CLIENT_BODY_FILE;
        rc = open_body_file(b, o);
    } else if (o->producer) {
        b->kind = CLIENT_BODY_PRODUCER;
        b->producer = o->producer;
        b->arg = o->producer_arg;
        b->plen = o->producer_len;
    } else if (kinds) {
        b->kind = CLIENT_BODY_MULTIPART;
        rc = open_parts(b, o);
    }
    if (rc < 0)
        cio__client_body_close(b);
    return rc;
}

void cio__client_body_close(struct client_body *b)
{
    cio__free(b->owned);
    b->owned = NULL;
    if (b->file)
        (void)cio_file_close(b->file);
    b->file = NULL;
    for (size_t i = 0; i < b->nparts; i++)
        if (b->parts[i].file)
            (void)cio_file_close(b->parts[i].file);
    cio__free(b->parts);
    b->parts = NULL;
    b->nparts = 0;
    b->kind = CLIENT_BODY_NONE;
    b->content_type = NULL;
}

int cio__client_body_framing(const struct client_body *b, uint64_t *len)
{
    *len = 0;
    switch (b->kind) {
    case CLIENT_BODY_MEM:
        *len = b->len;
        return CIO_HTTP_BODY_LENGTH;
    case CLIENT_BODY_FILE:
        *len = b->flen;
        return CIO_HTTP_BODY_LENGTH;
    case CLIENT_BODY_PRODUCER:
        *len = (uint64_t)b->plen;
        return b->plen ? CIO_HTTP_BODY_LENGTH : CIO_HTTP_BODY_CHUNKED;
    case CLIENT_BODY_MULTIPART:
        *len = b->mplen;
        return CIO_HTTP_BODY_LENGTH;
    default:
        return CIO_HTTP_BODY_NONE;
    }
}

/* ------------------------------------------------------------------------------------------------ sending */

/* `count` bytes of `f` from `off`, through the writer (sendfile, or read and written over TLS), in pieces that
   fit a size_t and an off_t. */
static int send_file(cio_http_body_out *w, cio_file *f, uint64_t off, uint64_t count)
{
    int fd = cio_file_fd(f);
    while (count > 0) {
        size_t piece = count > ((size_t)1 << 30) ? (size_t)1 << 30 : (size_t)count;
        ssize_t n = cio_http_body_out_sendfile(w, fd, (off_t)off, piece);
        if (n < 0)
            return (int)n;
        off += (uint64_t)n;
        count -= (uint64_t)n;
    }
    return 0;
}

static int send_parts(const struct client_body *b, cio_http_body_out *w)
{
    cio_http_form_out fo;
    int rc = cio_http_form_out_init(&fo, w, b->boundary);
    for (size_t i = 0; rc == 0 && i < b->nparts; i++) {
        const struct client_part *p = &b->parts[i];
        rc = cio_http_form_out_part(&fo, p->name, p->filename, p->content_type);
        if (rc == 0 && p->file)
            rc = send_file(w, p->file, 0, p->size);
        else if (rc == 0)
            rc = cio_http_form_out_write(&fo, p->value, p->value_len);
    }
    return rc == 0 ? cio_http_form_out_end(&fo) : rc;
}

int cio__client_body_send(const struct client_body *b, cio_stream *st)
{
    uint64_t len;
    int framing = cio__client_body_framing(b, &len);
    if (framing == CIO_HTTP_BODY_NONE || (framing == CIO_HTTP_BODY_LENGTH && len == 0 && !b->producer))
        return 0;
    if (b->kind == CLIENT_BODY_MEM)
        return cio_stream_write(st, b->data, b->len);
    struct cio_client_body_writer bw = {.magic = CLIENT_WRITER_MAGIC};
    int rc = cio_http_body_out_init(&bw.out, st, framing, len);
    if (rc < 0)
        return rc;
    if (b->kind == CLIENT_BODY_FILE)
        rc = send_file(&bw.out, b->file, b->off, b->flen);
    else if (b->kind == CLIENT_BODY_MULTIPART)
        rc = send_parts(b, &bw.out);
    else
        rc = b->producer(&bw, b->arg);
    bw.magic = 0;
    if (rc > 0)
        rc = 0;
    if (rc == 0)
        rc = cio_http_body_out_end(&bw.out, NULL);
    cio_http_body_out_fini(&bw.out);
    return rc;
}
