/* multipart.c: fuzz the multipart parser: fed in pieces it gives the events and the verdict of one whole buffer;
 * each part's Content-Disposition is parsed and its names decoded and sanitised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cio/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: a flags byte (1 lenient LF, 2 small limits, 4 two header slots), the boundary's length, the boundary,
   then the body. The parse's events are written to `log`, so that two parses can be compared. */
struct run {
    unsigned char *log;
    size_t len, cap;
};

static void put(struct run *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        r->cap = (r->len + n) * 2;
        r->log = realloc(r->log, r->cap);
        if (!r->log)
            abort();
    }
    memcpy(r->log + r->len, p, n);
    r->len += n;
}

static void look_at_fields(const cio_http_head *h)
{
    const cio_http_header *f = cio_http_header_find(h, "Content-Disposition", NULL);
    cio_http_disposition d;
    char name[256], safe[64];
    if (!f || cio_http_disposition_parse(&d, f->value) != 0)
        return;
    (void)cio_http_disposition_name(&d, name, sizeof(name));
    ssize_t n = cio_http_disposition_filename(&d, name, sizeof(name));
    if (n >= 0) {
        n = cio_http_filename_sanitize(safe, sizeof(safe), (cio_http_str){name, (size_t)n}, NULL);
        if (n < 0 || (size_t)n >= sizeof(safe) || strlen(safe) != (size_t)n || safe[0] == '.' || strchr(safe, '/'))
            abort();
    }
}

static void log_fields(struct run *r, const cio_http_head *h)
{
    look_at_fields(h);
    put(r, "{", 1);
    for (size_t i = 0; i < h->num_headers; i++) {
        put(r, h->headers[i].name.ptr, h->headers[i].name.len);
        put(r, ":", 1);
        put(r, h->headers[i].value.ptr, h->headers[i].value.len);
        put(r, "\n", 1);
    }
    put(r, "}", 1);
}

static void log_event(struct run *r, int rc, const cio_http_multipart_event *ev, size_t len)
{
    if (rc < 0 && rc != -EAGAIN)
        return;
    if (ev->consumed > len)
        abort();
    if (rc == CIO_HTTP_MP_DATA)
        put(r, ev->data.ptr, ev->data.len);
    else if (rc == CIO_HTTP_MP_PART)
        log_fields(r, &ev->head);
    else if (rc == CIO_HTTP_MP_PART_END)
        put(r, "|", 1);
}

/* Parse body[0..n), `step(i)` bytes arriving at a time (all of them when step is NULL); returns the verdict. */
static int parse(struct run *r, const char *body, size_t n, cio_http_str b, const cio_http_multipart_opts *o,
                 size_t maxh, const uint8_t *steps, size_t nsteps)
{
    cio_http_multipart m;
    cio_http_multipart_event ev;
    cio_http_header hs[8];
    cio_http_head_init(&ev.head, hs, maxh);
    int rc = cio_http_multipart_init(&m, b, o);
    if (rc < 0)
        return rc;
    size_t have = steps ? 0 : n, pos = 0, k = 0;
    bool eof = false;
    for (;;) {
        size_t len = have - pos;
        char *exact = malloc(len ? len : 1); /* a buffer of its own, so a read past `len` is caught by ASan */
        memcpy(exact, body + pos, len);
        rc = cio_http_multipart_next(&m, &ev, exact, len, eof);
        log_event(r, rc, &ev, len);
        free(exact);
        if (rc == -EAGAIN) {
            if (ev.want != len - ev.consumed + 1)
                abort();
            pos += ev.consumed;
            if (have < n) {
                size_t s = 1 + (nsteps ? steps[k++ % nsteps] % 32 : n);
                have = have + s < n ? have + s : n;
            } else {
                eof = true;
            }
            continue;
        }
        if (rc <= 0)
            break;
        pos += ev.consumed;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    unsigned flags = data[0];
    size_t bl = data[1];
    if (bl > size - 2)
        return 0;
    cio_http_str b = {(const char *)data + 2, bl};
    const char *body = (const char *)data + 2 + bl;
    size_t n = size - 2 - bl;
    cio_http_multipart_opts o = {.flags = flags & 1 ? CIO_HTTP_LENIENT_LF : 0};
    if (flags & 2)
        o.max_parts = 2, o.max_head = 64, o.max_part_size = 8;
    size_t maxh = flags & 4 ? 2 : 8;

    cio_http_str cb, sub; /* the same bytes as a Content-Type value */
    if (cio_http_multipart_boundary(&cb, &sub, (cio_http_str){body, n < 256 ? n : 256}) == 0 &&
        (cb.len < 1 || cb.len > CIO_HTTP_MP_MAX_BOUNDARY))
        abort();

    struct run whole = {0}, pieces = {0};
    int want = parse(&whole, body, n, b, &o, maxh, NULL, 0);
    int got = parse(&pieces, body, n, b, &o, maxh, data, size);
    if (got != want || whole.len != pieces.len || (whole.len && memcmp(whole.log, pieces.log, whole.len) != 0))
        abort();
    free(whole.log);
    free(pieces.log);
    return 0;
}
