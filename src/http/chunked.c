/* chunked.c: the in-place chunked transfer-coding decoder (RFC 9112 section 7.1), resumable across reads. */
#include "cio/http.h"

#include <string.h>

#include "http/scan.h"
#include "internal.h"

#define MAX_SIZE_DIGITS      16 /* 64 bits: one more digit could overflow, so it is an error, whatever its value */
#define DEFAULT_MAX_EXT      1024
#define DEFAULT_MAX_TRAILERS (16u << 10)

/*
 * One state per byte position in the grammar. The decoder walks bytes one at a time except in chunk data, which
 * it moves in one memmove: the framing bytes are few, so a byte machine costs little and needs no lookahead,
 * which is what lets it stop at any byte and resume on the next read.
 */
enum state {
    S_SIZE_FIRST,   /* the first hex digit of a chunk size */
    S_SIZE,         /* more hex digits, ";" or the line end */
    S_EXT_PRE_NAME, /* after ";": BWS, then an extension name */
    S_EXT_NAME,
    S_EXT_POST_NAME, /* BWS, then "=", ";" or the line end */
    S_EXT_PRE_VAL,   /* after "=": BWS, then a token or a quoted string */
    S_EXT_VAL,
    S_EXT_QUOTED,
    S_EXT_QUOTED_ESC,
    S_EXT_POST_VAL, /* BWS, then ";" or the line end */
    S_SIZE_LF,      /* the LF after the chunk line's CR */
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TR_LINE, /* the start of a trailer line, or of the final empty line */
    S_TR_NAME,
    S_TR_VALUE,
    S_TR_LF,     /* the LF after a trailer line's CR */
    S_TR_END_LF, /* the LF after the final empty line's CR */
    S_DONE,
    S_SPENT, /* an error was returned */
};

struct decoder {
    uint64_t remaining; /* chunk data bytes still to come (S_DATA), or the size being read (S_SIZE) */
    uint32_t state;
    uint32_t count; /* size digits, extension bytes, or trailer bytes so far, as the state says */
    uint32_t max_ext;
    uint32_t max_trailers;
    uint32_t flags;
    uint32_t pad;
};
_Static_assert(sizeof(struct decoder) <= sizeof(cio_http_chunked), "grow cio_http_chunked.opaque");
_Static_assert(_Alignof(struct decoder) <= _Alignof(cio_http_chunked), "align cio_http_chunked.opaque");

static uint32_t clamp32(size_t v, uint32_t dflt)
{
    return v == 0 ? dflt : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void cio_http_chunked_init(cio_http_chunked *d, const cio_http_chunked_opts *opts)
{
    struct decoder s = {.state = S_SIZE_FIRST};
    s.max_ext = clamp32(opts ? opts->max_ext : 0, DEFAULT_MAX_EXT);
    s.max_trailers = clamp32(opts ? opts->max_trailers : 0, DEFAULT_MAX_TRAILERS);
    s.flags = opts ? opts->flags : 0;
    memset(d, 0, sizeof(*d));
    memcpy(d, &s, sizeof(s));
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The end of a chunk line (after its size and extensions): CR, or a bare LF if lenient. Returns the next state. */
static int chunk_line_end(struct decoder *s, unsigned char c, int other)
{
    if (c == '\r')
        return S_SIZE_LF;
    if (c == '\n')
        return (s->flags & CIO_HTTP_LENIENT_LF) ? -1000 : CIO_EHTTP_BARE_LF;
    return other;
}

/* A byte of a chunk extension, in one of the S_EXT_* states. Returns the next state or an error. */
static int ext_byte(struct decoder *s, unsigned char c)
{
    bool tchar = cio__is_tchar(c);
    if (++s->count > s->max_ext)
        return CIO_EHTTP_CHUNK_EXT_TOO_LONG;
    switch (s->state) {
    case S_EXT_PRE_NAME:
        return is_ws(c) ? S_EXT_PRE_NAME : tchar ? S_EXT_NAME : CIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_NAME:
    case S_EXT_POST_NAME:
        if (tchar && s->state == S_EXT_NAME)
            return S_EXT_NAME;
        if (is_ws(c))
            return S_EXT_POST_NAME;
        if (c == '=')
            return S_EXT_PRE_VAL;
        if (c == ';')
            return S_EXT_PRE_NAME;
        return chunk_line_end(s, c, CIO_EHTTP_BAD_CHUNK_EXT);
    case S_EXT_PRE_VAL:
        return is_ws(c) ? S_EXT_PRE_VAL : c == '"' ? S_EXT_QUOTED : tchar ? S_EXT_VAL : CIO_EHTTP_BAD_CHUNK_EXT;
    case S_EXT_VAL:
    case S_EXT_POST_VAL:
        if (tchar && s->state == S_EXT_VAL)
            return S_EXT_VAL;
        if (is_ws(c))
            return S_EXT_POST_VAL;
        if (c == ';')
            return S_EXT_PRE_NAME;
        return chunk_line_end(s, c, CIO_EHTTP_BAD_CHUNK_EXT);
    case S_EXT_QUOTED: /* qdtext: HTAB, SP, VCHAR but '"' and '\\', obs-text */
        if (c == '"')
            return S_EXT_POST_VAL;
        if (c == '\\')
            return S_EXT_QUOTED_ESC;
        return (cio__http_class[c] & CIO__VCHAR) ? S_EXT_QUOTED : CIO_EHTTP_BAD_CHUNK_EXT;
    default: /* S_EXT_QUOTED_ESC */
        return (cio__http_class[c] & CIO__VCHAR) ? S_EXT_QUOTED : CIO_EHTTP_BAD_CHUNK_EXT;
    }
}

/* A byte of the trailer section. Returns the next state or an error. */
static int trailer_byte(struct decoder *s, unsigned char c)
{
    bool lenient = s->flags & CIO_HTTP_LENIENT_LF;
    if (++s->count > s->max_trailers)
        return CIO_EHTTP_TRAILER_TOO_LARGE;
    switch (s->state) {
    case S_TR_LINE:
        if (c == '\r')
            return S_TR_END_LF;
        if (c == '\n')
            return lenient ? S_DONE : CIO_EHTTP_BARE_LF;
        if (is_ws(c))
            return CIO_EHTTP_OBS_FOLD;
        return cio__is_tchar(c) ? S_TR_NAME : CIO_EHTTP_BAD_HEADER_NAME;
    case S_TR_NAME:
        if (cio__is_tchar(c))
            return S_TR_NAME;
        if (c == ':')
            return S_TR_VALUE;
        return is_ws(c) ? CIO_EHTTP_SPACE_BEFORE_COLON : CIO_EHTTP_BAD_HEADER_NAME;
    case S_TR_VALUE:
        if (cio__http_class[c] & CIO__VCHAR)
            return S_TR_VALUE;
        if (c == '\r')
            return S_TR_LF;
        if (c == '\n')
            return lenient ? S_TR_LINE : CIO_EHTTP_BARE_LF;
        return CIO_EHTTP_BAD_HEADER_VALUE;
    case S_TR_LF:
        return c == '\n' ? S_TR_LINE : CIO_EHTTP_BARE_CR;
    default: /* S_TR_END_LF */
        return c == '\n' ? S_DONE : CIO_EHTTP_BARE_CR;
    }
}

/* The state after the LF that ends a chunk line: data, or the trailer section after the last chunk. */
static int after_chunk_line(struct decoder *s)
{
    s->count = 0;
    return s->remaining ? S_DATA : S_TR_LINE;
}

/* One framing byte (any state but S_DATA and S_DONE). Returns the next state or an error. */
static int step(struct decoder *s, unsigned char c)
{
    int h, next;
    switch (s->state) {
    case S_SIZE_FIRST:
    case S_SIZE:
        if ((h = hexval(c)) >= 0) {
            if (++s->count > MAX_SIZE_DIGITS)
                return CIO_EHTTP_CHUNK_SIZE_TOO_LARGE;
            s->remaining = s->remaining << 4 | (unsigned)h;
            return S_SIZE;
        }
        if (s->state == S_SIZE_FIRST)
            return CIO_EHTTP_BAD_CHUNK_SIZE;
        s->count = 0;
        if (c == ';')
            return S_EXT_PRE_NAME;
        next = chunk_line_end(s, c, CIO_EHTTP_BAD_CHUNK_SIZE);
        return next == -1000 ? after_chunk_line(s) : next;
    case S_SIZE_LF:
        return c == '\n' ? after_chunk_line(s) : CIO_EHTTP_BARE_CR;
    case S_DATA_CR:
        if (c == '\r')
            return S_DATA_LF;
        return c == '\n' && (s->flags & CIO_HTTP_LENIENT_LF) ? S_SIZE_FIRST : CIO_EHTTP_BAD_CHUNK_END;
    case S_DATA_LF:
        return c == '\n' ? S_SIZE_FIRST : CIO_EHTTP_BAD_CHUNK_END;
    case S_TR_LINE:
    case S_TR_NAME:
    case S_TR_VALUE:
    case S_TR_LF:
    case S_TR_END_LF:
        return trailer_byte(s, c);
    default:
        next = ext_byte(s, c);
        return next == -1000 ? after_chunk_line(s) : next;
    }
}

ssize_t cio_http_chunked_decode(cio_http_chunked *d, char *buf, size_t *len)
{
    struct decoder s;
    size_t n = *len, i = 0, o = 0;
    ssize_t rc = -EAGAIN;
    memcpy(&s, d, sizeof(s));
    if (s.state == S_SPENT || s.state == S_DONE) {
        *len = 0;
        return s.state == S_DONE ? (ssize_t)n : CIO_EINVAL;
    }
    while (i < n) {
        if (s.state == S_DATA) {
            size_t take = n - i < s.remaining ? n - i : (size_t)s.remaining;
            if (o != i)
                memmove(buf + o, buf + i, take);
            o += take, i += take;
            s.remaining -= take;
            if (s.remaining == 0)
                s.state = S_DATA_CR;
            continue;
        }
        if (s.state == S_TR_LINE && s.count == 0 && (s.flags & CIO_HTTP_CHUNKED_KEEP_TRAILERS)) {
            s.state = S_DONE;
            break;
        }
        if (s.state == S_SIZE_FIRST)
            s.remaining = 0, s.count = 0;
        int next = step(&s, (unsigned char)buf[i++]);
        if (next < 0) {
            s.state = S_SPENT;
            rc = next;
            break;
        }
        s.state = (uint32_t)next;
        if (s.state == S_DONE)
            break;
    }
    if (s.state == S_TR_LINE && s.count == 0 && (s.flags & CIO_HTTP_CHUNKED_KEEP_TRAILERS))
        s.state = S_DONE;
    if (s.state == S_DONE) {
        if (o != i)
            memmove(buf + o, buf + i, n - i);
        rc = (ssize_t)(n - i);
    }
    *len = o;
    memcpy(d, &s, sizeof(s));
    return rc;
}

/*
 * The common framing in one go: the CRLF after a chunk's data, then a chunk line of hex digits and CRLF, all in the
 * buffer. Anything else (an extension, a line cut by the buffer's end, an error) is left to the byte machine, which
 * then reads the same bytes again from where this stopped, so both give one answer.
 */
static size_t fast_framing(struct decoder *s, const char *buf, size_t len, size_t i)
{
    if (s->state == S_DATA_CR) {
        if (len - i < 2 || buf[i] != '\r' || buf[i + 1] != '\n')
            return i;
        i += 2;
        s->state = S_SIZE_FIRST;
    }
    if (s->state != S_SIZE_FIRST)
        return i;
    uint64_t v = 0;
    size_t j = i, end = len - i > MAX_SIZE_DIGITS ? i + MAX_SIZE_DIGITS : len;
    int h;
    while (j < end && (h = hexval((unsigned char)buf[j])) >= 0)
        v = v << 4 | (unsigned)h, j++;
    if (j == i || len - j < 2 || buf[j] != '\r' || buf[j + 1] != '\n')
        return i;
    s->remaining = v;
    s->count = 0;
    s->state = v ? S_DATA : S_TR_LINE;
    return j + 2;
}

ssize_t cio_http_chunked_next(cio_http_chunked *d, const char *buf, size_t len, const char **data, size_t *data_len)
{
    struct decoder s;
    size_t i = 0;
    memcpy(&s, d, sizeof(s));
    *data = NULL;
    *data_len = 0;
    if (s.state == S_SPENT)
        return CIO_EINVAL;
    i = fast_framing(&s, buf, len, i);
    if (CIO_LIKELY(s.state == S_DATA && i < len)) { /* the usual call: framing done, data follows */
        size_t take = len - i < s.remaining ? len - i : (size_t)s.remaining;
        *data = buf + i;
        *data_len = take;
        s.remaining -= take;
        if (s.remaining == 0)
            s.state = S_DATA_CR;
        memcpy(d, &s, sizeof(s));
        return (ssize_t)(i + take);
    }
    while (i < len && s.state != S_DONE) {
        if (s.state == S_DATA) {
            size_t take = len - i < s.remaining ? len - i : (size_t)s.remaining;
            *data = buf + i;
            *data_len = take;
            i += take;
            s.remaining -= take;
            if (s.remaining == 0)
                s.state = S_DATA_CR;
            break; /* one run of data per call: the caller takes it before the framing after it */
        }
        if (s.state == S_TR_LINE && s.count == 0 && (s.flags & CIO_HTTP_CHUNKED_KEEP_TRAILERS)) {
            s.state = S_DONE;
            break;
        }
        if (s.state == S_SIZE_FIRST)
            s.remaining = 0, s.count = 0;
        int next = step(&s, (unsigned char)buf[i++]);
        if (next < 0) {
            memset(&s, 0, sizeof s);
            s.state = S_SPENT;
            memcpy(d, &s, sizeof(s));
            return next;
        }
        s.state = (uint32_t)next;
    }
    if (s.state == S_TR_LINE && s.count == 0 && (s.flags & CIO_HTTP_CHUNKED_KEEP_TRAILERS))
        s.state = S_DONE;
    memcpy(d, &s, sizeof(s));
    return (ssize_t)i;
}

bool cio_http_chunked_done(const cio_http_chunked *d)
{
    struct decoder s;
    memcpy(&s, d, sizeof(s));
    return s.state == S_DONE;
}
