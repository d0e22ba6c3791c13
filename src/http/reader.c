/* reader.c: HTTP messages read off streams in place: heads parsed in the stream's buffer, and body readers for
 * every framing (length, chunked, until close), bounded, handing out views of the stream's buffer. */
#include "cio/http.h"

#include <errno.h>
#include <string.h>

#include "http/coding.h"
#include "internal.h"

#define DEFAULT_MAX_SIZE ((uint64_t)1 << 30)
#define DEC_BUF          ((size_t)64 * 1024)
#define DEFAULT_MAX_LINE ((size_t)64 * 1024)

/* ------------------------------------------------------------------------------------------------ heads */

typedef int (*parse_fn)(cio_http_head *, const char *, size_t, const cio_http_parse_opts *);

/*
 * Peek a byte more each time the parser says the head is incomplete. The parser resumes where it stopped (the
 * bytes already passed are not scanned again) and takes the moved buffer in its stride, so a head that arrives a
 * byte at a time costs linear time; the stream's limit bounds the peek.
 */
static ssize_t read_head(cio_stream *s, cio_http_head *h, const cio_http_parse_opts *opts, parse_fn parse)
{
    size_t want = 1;
    for (;;) {
        const void *v;
        size_t n;
        int rc = cio_stream_peek(s, want, &v, &n);
        if (rc == -EMSGSIZE)
            return CIO_EHTTP_HEAD_TOO_LARGE; /* the stream's limit is below the head's */
        if (rc < 0)
            return rc;
        if (rc == 0)
            return n == 0 ? CIO_EPEERCLOSED : CIO_EHTTP_HEAD_TRUNCATED;
        int got = parse(h, v, n, opts);
        if (got != -EAGAIN)
            return got;
        want = n + 1;
    }
}

ssize_t cio_http_read_request(cio_stream *s, cio_http_head *h, const cio_http_parse_opts *opts)
{
    if (!s || !h)
        return -EINVAL;
    return read_head(s, h, opts, cio_http_parse_request);
}

ssize_t cio_http_read_response(cio_stream *s, cio_http_head *h, const cio_http_parse_opts *opts)
{
    if (!s || !h)
        return -EINVAL;
    return read_head(s, h, opts, cio_http_parse_response);
}

/* ------------------------------------------------------------------------------------------------ bodies */

enum { B_OPEN = 1, B_DONE, B_FAILED };

/*
 * The reader hands out views of the stream's buffer and consumes their bytes only at its next call (consuming
 * at once could give the buffer back to the loop under the view). `cur` is what is left of the current view (a
 * short read takes part of it); `pending` is how many stream bytes to consume once it is used up: the framing
 * and data the view came with.
 */
struct body {
    cio_stream *s;
    const char *cur;
    size_t cur_len;
    size_t pending;
    size_t skip;
    uint64_t left;  /* CIO_HTTP_BODY_LENGTH: bytes still to come */
    uint64_t count; /* bytes handed out */
    uint64_t max;
    uint8_t framing, state;
    bool keep_trailers, send_continue;
    int err;
    size_t trailer_len; /* after the end with keep_trailers: the trailer section, still in the stream */
    size_t max_line;
    char *line; /* next_line's buffer for a line that spans views, made on first need */
    size_t line_len, line_cap;
    struct decoding *dec; /* with opts.decode and a coding: the decoders, else NULL */
    cio_http_chunked ch;
};

/*
 * The decoders of a coded body, stage 0 reading the raw body (the last coding applied) and each next stage reading
 * the one before's output; the last stage's output is what the reader hands out. Each stage keeps its input view
 * until it has taken all of it, so the raw view (in the stream's buffer) is given back only then.
 */
struct stage {
    struct cio__dec *dec;
    const uint8_t *in;
    size_t in_len;
    bool eof;     /* its input has ended */
    bool full;    /* its last step filled the output: it may hold more without new input */
    bool ended;   /* its coded stream has ended */
    uint8_t *out; /* its output buffer (DEC_BUF) */
};

struct decoding {
    size_t n;
    uint64_t raw; /* coded bytes taken off the stream */
    bool done;    /* the decoded end has been handed out */
    struct stage st[CIO_HTTP_MAX_CODINGS];
};
_Static_assert(sizeof(struct body) <= sizeof(cio_http_body_in), "grow cio_http_body_in.opaque");
_Static_assert(_Alignof(struct body) <= _Alignof(cio_http_body_in), "align cio_http_body_in.opaque");

static struct body *B(cio_http_body_in *b)
{
    return (struct body *)b;
}

static void decoding_free(struct decoding *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        cio__dec_free(d->st[i].dec);
        cio__free(d->st[i].out);
    }
    cio__free(d);
}

/* The decoders for a Content-Encoding value; none for identity. */
static int decoding_open(struct body *b, cio_http_str value)
{
    int codings[CIO_HTTP_MAX_CODINGS];
    int n = value.len ? cio_http_codings_parse(value, codings, CIO_HTTP_MAX_CODINGS) : 0;
    if (n <= 0)
        return n;
    struct decoding *d = cio__calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        struct stage *st = &d->st[d->n];
        if (!(st->out = cio__malloc(DEC_BUF)) || cio__dec_new(&st->dec, codings[n - 1 - i]) < 0) {
            cio__free(st->out);
            decoding_free(d);
            return -ENOMEM;
        }
        d->n++;
    }
    b->dec = d;
    return 0;
}

/* Options with the head's Content-Encoding, when decoding. */
static const cio_http_body_opts *with_coding(const cio_http_head *h, const cio_http_body_opts *o,
                                             cio_http_body_opts *tmp)
{
    if (!o || !o->decode)
        return o;
    *tmp = *o;
    tmp->content_encoding = (cio_http_str){0};
    const cio_http_header *f = cio_http_header_find(h, "Content-Encoding", NULL);
    if (f)
        tmp->content_encoding = f->value;
    if (f && cio_http_header_find(h, "Content-Encoding", f))
        tmp->content_encoding = (cio_http_str){"x-repeated", 10}; /* two fields: not guessed at */
    return tmp;
}

int cio_http_body_init(cio_http_body_in *out, cio_stream *s, int framing, uint64_t length, const cio_http_body_opts *o)
{
    if (!out || !s || framing < CIO_HTTP_BODY_NONE || framing > CIO_HTTP_BODY_TUNNEL)
        return -EINVAL;
    struct body *b = B(out);
    memset(out, 0, sizeof *out);
    b->s = s;
    b->max = o && o->max_size ? o->max_size : DEFAULT_MAX_SIZE;
    b->skip = o ? o->skip : 0;
    b->keep_trailers = o && o->keep_trailers;
    b->max_line = o && o->max_line ? o->max_line : DEFAULT_MAX_LINE;
    b->framing = (uint8_t)(framing == CIO_HTTP_BODY_TUNNEL ? CIO_HTTP_BODY_UNTIL_CLOSE : framing);
    b->state = B_OPEN;
    b->left = length;
    if (framing == CIO_HTTP_BODY_LENGTH && length > b->max)
        return CIO_EHTTP_BODY_TOO_LARGE;
    if (framing == CIO_HTTP_BODY_CHUNKED) {
        cio_http_chunked_opts co = o ? o->chunked : (cio_http_chunked_opts){0};
        if (b->keep_trailers)
            co.flags |= CIO_HTTP_CHUNKED_KEEP_TRAILERS;
        cio_http_chunked_init(&b->ch, &co);
    }
    bool empty = framing == CIO_HTTP_BODY_NONE || (framing == CIO_HTTP_BODY_LENGTH && length == 0);
    if (o && o->decode && framing != CIO_HTTP_BODY_NONE) {
        int rc = decoding_open(b, o->content_encoding);
        if (rc < 0)
            return rc;
    }
    b->send_continue = o && o->send_continue && !empty;
    return 0;
}

int cio_http_body_init_request(cio_http_body_in *b, cio_stream *s, const cio_http_head *h, const cio_http_body_opts *o)
{
    if (!h)
        return -EINVAL;
    uint64_t len;
    int framing = cio_http_request_body(h, &len);
    cio_http_body_opts tmp;
    return cio_http_body_init(b, s, framing, len, with_coding(h, o, &tmp));
}

int cio_http_body_init_response(cio_http_body_in *b, cio_stream *s, const cio_http_head *h, const char *method,
                                const cio_http_body_opts *o)
{
    if (!h)
        return -EINVAL;
    uint64_t len;
    int framing = cio_http_response_body(h, method, &len);
    cio_http_body_opts tmp;
    return cio_http_body_init(b, s, framing, len, with_coding(h, o, &tmp));
}

static int fail(struct body *b, int err)
{
    if (err != -ECANCELED && !cio_is_timeout(err) && err != -EBUSY) {
        b->err = err; /* the framing is lost: every later call says so */
        b->state = B_FAILED;
    }
    return err;
}

/* Consume what the last view covered, and the head before the first. */
static int settle(struct body *b)
{
    size_t n = b->skip + b->pending;
    b->skip = b->pending = 0;
    b->cur = NULL;
    b->cur_len = 0;
    return n ? cio_stream_consume(b->s, n) : 0;
}

static int finish(struct body *b)
{
    b->state = B_DONE;
    return 0;
}

static int first_wait(struct body *b)
{
    if (!b->send_continue)
        return 0;
    b->send_continue = false;
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    return cio_stream_write(b->s, msg, sizeof msg - 1);
}

/* Take `n` bytes at `p` as the current view (covering `used` stream bytes), checking the size limit. */
static int hand_out(struct body *b, const char *p, size_t n, size_t used)
{
    /* Decoding, the coded bytes are bounded too (a Content-Length above the limit was refused at init). */
    if (n > b->max - (b->dec ? b->dec->raw : b->count))
        return fail(b, CIO_EHTTP_BODY_LIMIT);
    b->cur = p;
    b->cur_len = n;
    b->pending = used;
    return 1;
}

static int next_length(struct body *b)
{
    if (b->left == 0)
        return finish(b);
    const void *v;
    size_t n;
    int rc = cio_stream_peek(b->s, 1, &v, &n);
    if (rc < 0)
        return fail(b, rc);
    if (rc == 0)
        return fail(b, CIO_EHTTP_BODY_TRUNCATED);
    size_t take = n < b->left ? n : (size_t)b->left;
    b->left -= take;
    return hand_out(b, v, take, take);
}

static int next_until_close(struct body *b)
{
    const void *v;
    size_t n;
    int rc = cio_stream_peek(b->s, 1, &v, &n);
    if (rc < 0)
        return fail(b, rc);
    if (rc == 0)
        return finish(b);
    return hand_out(b, v, n, n);
}

/* The trailer section, kept in the stream: its length, by the trailer parser (which checks it as it goes). */
static int measure_trailers(struct body *b)
{
    size_t want = 1;
    for (;;) {
        const void *v;
        size_t n;
        int rc = cio_stream_peek(b->s, want, &v, &n);
        if (rc < 0)
            return fail(b, rc == -EMSGSIZE ? CIO_EHTTP_TRAILER_TOO_LARGE : rc);
        if (rc == 0)
            return fail(b, CIO_EHTTP_BODY_TRUNCATED);
        cio_http_header none[1];
        cio_http_head t;
        cio_http_head_init(&t, none, 0);
        /* Counting only: a head with no room for fields fails with TOO_MANY_HEADERS when it has any, so the length
           comes from a scan for the blank line the parser accepts. */
        rc = cio_http_parse_trailers(&t, v, n, NULL);
        if (rc == CIO_EHTTP_TOO_MANY_HEADERS) {
            const char *end = memmem(v, n, "\r\n\r\n", 4);
            if (!end) {
                want = n + 1;
                continue;
            }
            b->trailer_len = (size_t)(end - (const char *)v) + 4;
            return finish(b);
        }
        if (rc == -EAGAIN) {
            want = n + 1;
            continue;
        }
        if (rc < 0)
            return fail(b, rc);
        b->trailer_len = (size_t)rc;
        return finish(b);
    }
}

static int next_chunked(struct body *b)
{
    size_t want = 1;
    for (;;) {
        const void *v;
        size_t n;
        int rc = cio_stream_peek(b->s, want, &v, &n);
        if (rc == -EMSGSIZE)
            return fail(b, CIO_EHTTP_BAD_CHUNK_SIZE); /* a chunk line longer than the stream's limit */
        if (rc < 0)
            return fail(b, rc);
        if (rc == 0 && n == 0)
            return fail(b, CIO_EHTTP_BODY_TRUNCATED);
        const char *data;
        size_t dlen;
        ssize_t used = cio_http_chunked_next(&b->ch, v, n, &data, &dlen);
        if (used < 0)
            return fail(b, (int)used);
        if (dlen > 0)
            return hand_out(b, data, dlen, (size_t)used);
        if (used > 0 && (rc = cio_stream_consume(b->s, (size_t)used)) < 0)
            return fail(b, rc);
        if (cio_http_chunked_done(&b->ch))
            return b->keep_trailers ? measure_trailers(b) : finish(b);
        if (used == 0) {
            if (rc == 0)
                return fail(b, CIO_EHTTP_BODY_TRUNCATED); /* the end, within framing */
            want = n + 1;
        } else {
            want = 1;
        }
    }
}

/* Make the next raw view current: 1, 0 at the end, or an error. */
static int raw_advance(struct body *b)
{
    int rc = settle(b);
    if (rc < 0)
        return fail(b, rc);
    if (b->state == B_DONE)
        return 0;
    if ((rc = first_wait(b)) < 0)
        return fail(b, rc);
    switch (b->framing) {
    case CIO_HTTP_BODY_LENGTH:
        return next_length(b);
    case CIO_HTTP_BODY_CHUNKED:
        return next_chunked(b);
    case CIO_HTTP_BODY_UNTIL_CLOSE:
        return next_until_close(b);
    default:
        return finish(b);
    }
}

/*
 * Up to DEC_BUF decoded bytes of stage `k` into its buffer: their count, 0 at the end of its stream, or an error.
 * A stage that filled its buffer last time is stepped again before it is given more input: it may hold output.
 */
static ssize_t pull(struct body *b, size_t k)
{
    struct decoding *d = b->dec;
    struct stage *st = &d->st[k];
    for (;;) {
        if (st->in_len == 0 && !st->eof && !st->full) {
            if (k == 0) {
                int rc = raw_advance(b);
                if (rc < 0)
                    return rc;
                if (rc == 0) {
                    st->eof = true;
                } else {
                    st->in = (const uint8_t *)b->cur;
                    st->in_len = b->cur_len;
                    d->raw += b->cur_len;
                    b->cur_len = 0; /* taken; the stream's bytes stay until the next raw_advance */
                }
            } else {
                ssize_t n = pull(b, k - 1);
                if (n < 0)
                    return n;
                if (n == 0) {
                    st->eof = true;
                } else {
                    st->in = d->st[k - 1].out;
                    st->in_len = (size_t)n;
                }
            }
        }
        size_t made;
        int rc = cio__dec_step(st->dec, &st->in, &st->in_len, st->out, DEC_BUF, &made);
        if (rc < 0)
            return rc;
        st->full = made == DEC_BUF;
        st->ended = rc == 1;
        if (made)
            return (ssize_t)made;
        if (st->full)
            continue;
        if (st->eof && st->in_len == 0)
            return st->ended ? 0 : CIO_EHTTP_CODING_TRUNCATED;
    }
}

/* Make the next decoded view current. At the decoded end, the raw body is at its end too. */
static int dec_advance(struct body *b)
{
    struct decoding *d = b->dec;
    if (d->done)
        return 0;
    b->cur = NULL;
    ssize_t n = pull(b, d->n - 1);
    if (n < 0)
        return fail(b, (int)n);
    if (n == 0) {
        d->done = true;
        return 0;
    }
    if ((uint64_t)n > b->max - b->count)
        return fail(b, CIO_EHTTP_BODY_LIMIT);
    b->cur = (const char *)d->st[d->n - 1].out;
    b->cur_len = (size_t)n;
    return 1;
}

/* Make the next view current: 1, 0 at the end, or an error. */
static int advance(struct body *b)
{
    if (b->state == B_FAILED)
        return b->err;
    if (b->cur_len > 0)
        return 1;
    return b->dec ? dec_advance(b) : raw_advance(b);
}

/* Take up to `max` bytes of the current view. */
static void take(struct body *b, const void **data, size_t *len, size_t max)
{
    size_t n = b->cur_len < max ? b->cur_len : max;
    *data = b->cur;
    *len = n;
    b->cur += n;
    b->cur_len -= n;
    b->count += n;
}

int cio_http_body_next(cio_http_body_in *body, const void **data, size_t *len)
{
    if (!body || !data || !len)
        return -EINVAL;
    struct body *b = B(body);
    int rc = advance(b);
    if (rc == 1)
        take(b, data, len, SIZE_MAX);
    return rc;
}

ssize_t cio_http_body_read(cio_http_body_in *body, void *buf, size_t cap)
{
    if (!body || !buf || cap == 0)
        return -EINVAL;
    struct body *b = B(body);
    int rc = advance(b);
    if (rc != 1)
        return rc;
    const void *p;
    size_t n;
    take(b, &p, &n, cap);
    memcpy(buf, p, n);
    return (ssize_t)n;
}

int cio_http_body_read_all(cio_http_body_in *body, cio_buf *out)
{
    if (!body || !out)
        return -EINVAL;
    *out = (cio_buf){0};
    struct body *b = B(body);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;
    const void *p;
    size_t n;
    while ((rc = cio_http_body_next(body, &p, &n)) == 1) {
        if (len + n + 1 > cap) {
            size_t ncap = cap ? cap : 4096;
            while (ncap < len + n + 1)
                ncap *= 2;
            char *nb = cio__realloc(buf, ncap);
            if (!nb) {
                rc = fail(b, -ENOMEM);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + len, p, n);
        len += n;
    }
    if (rc < 0) {
        cio__free(buf);
        return rc;
    }
    if (!buf && !(buf = cio__malloc(1)))
        return fail(b, -ENOMEM);
    buf[len] = 0;
    *out = (cio_buf){.data = buf, .len = len};
    return 0;
}

/* Append `n` bytes to the line buffer, growing it up to max_line. */
static int line_append(struct body *b, const char *p, size_t n)
{
    if (b->line_len + n > b->max_line)
        return -EMSGSIZE;
    if (b->line_len + n > b->line_cap) {
        size_t cap = b->line_cap ? b->line_cap : 256;
        while (cap < b->line_len + n)
            cap *= 2;
        if (cap > b->max_line)
            cap = b->max_line;
        char *nl = cio__realloc(b->line, cap);
        if (!nl)
            return -ENOMEM;
        b->line = nl;
        b->line_cap = cap;
    }
    memcpy(b->line + b->line_len, p, n);
    b->line_len += n;
    return 0;
}

int cio_http_body_next_line(cio_http_body_in *body, const char **line, size_t *len)
{
    if (!body || !line || !len)
        return -EINVAL;
    struct body *b = B(body);
    b->line_len = 0; /* the line handed out last time */
    for (;;) {
        int rc = advance(b);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (b->line_len == 0)
                return 0;
            *line = b->line;
            *len = b->line_len;
            return 1; /* the last line, without "\n" */
        }
        const char *nl = memchr(b->cur, '\n', b->cur_len);
        size_t n = nl ? (size_t)(nl - b->cur) + 1 : b->cur_len;
        const void *p;
        size_t got;
        if (nl && b->line_len == 0 && n <= b->max_line) {
            take(b, &p, &got, n); /* the whole line is in the view: no copy */
            *line = p;
            *len = got;
            return 1;
        }
        take(b, &p, &got, n);
        if ((rc = line_append(b, p, got)) < 0)
            return fail(b, rc);
        if (nl) {
            *line = b->line;
            *len = b->line_len;
            return 1;
        }
    }
}

int cio_http_body_discard(cio_http_body_in *body)
{
    if (!body)
        return -EINVAL;
    const void *p;
    size_t n;
    int rc;
    while ((rc = cio_http_body_next(body, &p, &n)) == 1)
        ;
    return rc;
}

ssize_t cio_http_body_save(cio_http_body_in *body, cio_file *f)
{
    if (!body || !f)
        return -EINVAL;
    const void *p;
    size_t n;
    ssize_t total = 0;
    int rc;
    while ((rc = cio_http_body_next(body, &p, &n)) == 1) {
        for (size_t off = 0; off < n;) {
            ssize_t w = cio_file_write(f, (const char *)p + off, n - off);
            if (w < 0)
                return w;
            off += (size_t)w;
        }
        total += (ssize_t)n;
    }
    return rc < 0 ? rc : total;
}

int cio_http_body_continue(cio_http_body_in *body)
{
    if (!body)
        return -EINVAL;
    return first_wait((struct body *)body);
}

bool cio_http_body_continue_pending(const cio_http_body_in *body)
{
    return body && ((const struct body *)body)->send_continue;
}

bool cio_http_body_done(const cio_http_body_in *body)
{
    const struct body *b = (const struct body *)body;
    return b && b->state == B_DONE && (!b->dec || b->dec->done);
}

uint64_t cio_http_body_count(const cio_http_body_in *body)
{
    return body ? ((const struct body *)body)->count : 0;
}

int cio_http_body_trailers(cio_http_body_in *body, cio_http_head *t)
{
    if (!body || !t)
        return -EINVAL;
    struct body *b = B(body);
    if (b->state != B_DONE || !b->keep_trailers || b->trailer_len == 0)
        return -EINVAL;
    const void *v;
    size_t n;
    int rc = cio_stream_peek(b->s, b->trailer_len, &v, &n);
    if (rc <= 0)
        return rc < 0 ? rc : CIO_EHTTP_BODY_TRUNCATED;
    rc = cio_http_parse_trailers(t, v, b->trailer_len, NULL);
    return rc < 0 ? rc : (int)t->num_headers;
}

void cio_http_body_fini(cio_http_body_in *body)
{
    if (!body)
        return;
    struct body *b = B(body);
    if (b->s) {
        (void)settle(b);
        if (b->state == B_DONE && b->trailer_len) {
            (void)cio_stream_consume(b->s, b->trailer_len);
            b->trailer_len = 0;
        }
    }
    cio__free(b->line);
    b->line = NULL;
    b->line_len = b->line_cap = 0;
    decoding_free(b->dec);
    b->dec = NULL;
    b->s = NULL;
}
