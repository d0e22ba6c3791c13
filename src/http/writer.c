/* writer.c: HTTP messages written to streams: heads built and checked against injection, bodies framed by
 * Content-Length or chunked, from memory or a file. */
#include "cio/http.h"

#include "http/coding.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/scan.h"
#include "internal.h"

enum { W_START = 1u, W_FIELDS = 2u, W_ENDED = 4u };

const char *cio_http_reason(int status)
{
    switch (status) {
    /* clang-format off */
    case 100: return "Continue";            case 101: return "Switching Protocols";
    case 200: return "OK";                  case 201: return "Created";
    case 202: return "Accepted";            case 203: return "Non-Authoritative Information";
    case 204: return "No Content";          case 205: return "Reset Content";
    case 206: return "Partial Content";     case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";   case 302: return "Found";
    case 303: return "See Other";           case 304: return "Not Modified";
    case 305: return "Use Proxy";           case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";  case 400: return "Bad Request";
    case 401: return "Unauthorized";        case 402: return "Payment Required";
    case 403: return "Forbidden";           case 404: return "Not Found";
    case 405: return "Method Not Allowed";  case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";     case 409: return "Conflict";
    case 410: return "Gone";                case 411: return "Length Required";
    case 412: return "Precondition Failed"; case 413: return "Content Too Large";
    case 414: return "URI Too Long";        case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";  case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";   case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";     case 502: return "Bad Gateway";
    case 503: return "Service Unavailable"; case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    /* clang-format on */
    default:
        return "";
    }
}

/* ------------------------------------------------------------------------------------------------ heads */

void cio_http_head_out_init(cio_http_head_out *w, char *buf, size_t cap)
{
    *w = (cio_http_head_out){.buf = buf, .cap = buf ? cap : 0, .owned = !buf};
}

void cio_http_head_out_fini(cio_http_head_out *w)
{
    if (w && w->owned)
        cio__free(w->buf);
    if (w)
        *w = (cio_http_head_out){0};
}

static int refuse(cio_http_head_out *w, int err)
{
    if (!w->err)
        w->err = err;
    return w->err;
}

/* Room for `n` more bytes (and a NUL, so the head can be logged as a string). */
static int room(cio_http_head_out *w, size_t n)
{
    if (w->len + n + 1 <= w->cap)
        return 0;
    if (!w->owned)
        return refuse(w, -ENOSPC);
    size_t cap = w->cap ? w->cap : 512;
    while (cap < w->len + n + 1)
        cap *= 2;
    char *nb = cio__realloc(w->buf, cap);
    if (!nb)
        return refuse(w, -ENOMEM);
    w->buf = nb;
    w->cap = cap;
    return 0;
}

static void put(cio_http_head_out *w, const char *p, size_t n)
{
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!cio__is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* field-content (RFC 9110 5.5): visible characters, obs-text, and spaces or tabs between them, never at an end
   (the class allows them anywhere; a peer would trim them, so what was sent would not be what was asked). */
static bool is_field_value(const char *s, size_t n)
{
    if (n > 0 && (is_ws(s[0]) || is_ws(s[n - 1])))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(cio__http_class[(unsigned char)s[i]] & CIO__VCHAR))
            return false;
    return true;
}

/* A request target or a reason phrase: no CR, LF, NUL or other controls; the target no spaces either. */
static bool is_clean(const char *s, size_t n, bool spaces)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c == ' ' || c == '\t') ? !spaces : !(cio__http_class[c] & CIO__VCHAR))
            return false;
    }
    return true;
}

static int start_line(cio_http_head_out *w)
{
    if (w->err)
        return w->err;
    if (w->state)
        return refuse(w, -EINVAL);
    w->state = W_START;
    return 0;
}

int cio_http_head_out_request(cio_http_head_out *w, const char *method, const char *target, int minor_version)
{
    if (!w || !method || !target)
        return -EINVAL;
    int rc = start_line(w);
    if (rc < 0)
        return rc;
    size_t ml = strlen(method), tl = strlen(target);
    if (!is_token(method, ml) || tl == 0 || !is_clean(target, tl, false) || (minor_version != 0 && minor_version != 1))
        return refuse(w, CIO_EHTTP_BAD_FIELD);
    if ((rc = room(w, ml + tl + 12)) < 0)
        return rc;
    put(w, method, ml);
    put(w, " ", 1);
    put(w, target, tl);
    put(w, minor_version ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
    return 0;
}

int cio_http_head_out_status(cio_http_head_out *w, int status, const char *reason, int minor_version)
{
    if (!w)
        return -EINVAL;
    int rc = start_line(w);
    if (rc < 0)
        return rc;
    if (!reason)
        reason = cio_http_reason(status);
    size_t rl = strlen(reason);
    if (status < 100 || status > 999 || !is_clean(reason, rl, true) || (minor_version != 0 && minor_version != 1))
        return refuse(w, CIO_EHTTP_BAD_FIELD);
    if ((rc = room(w, rl + 15)) < 0)
        return rc;
    char line[16];
    int n = snprintf(line, sizeof line, "HTTP/1.%d %03d ", minor_version, status);
    put(w, line, (size_t)n);
    put(w, reason, rl);
    put(w, "\r\n", 2);
    return 0;
}

int cio_http_head_out_header_n(cio_http_head_out *w, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (!w || !name || (!value && vlen > 0))
        return -EINVAL;
    if (w->err)
        return w->err;
    if (w->state & W_ENDED)
        return refuse(w, -EINVAL);
    if (!is_token(name, nlen) || !is_field_value(value, vlen))
        return refuse(w, CIO_EHTTP_BAD_FIELD);
    int rc = room(w, nlen + vlen + 4);
    if (rc < 0)
        return rc;
    w->state |= W_FIELDS;
    put(w, name, nlen);
    put(w, ": ", 2);
    if (vlen)
        put(w, value, vlen);
    put(w, "\r\n", 2);
    return 0;
}

int cio_http_head_out_header(cio_http_head_out *w, const char *name, const char *value)
{
    if (!name || !value)
        return w ? refuse(w, -EINVAL) : -EINVAL;
    return cio_http_head_out_header_n(w, name, strlen(name), value, strlen(value));
}

int cio_http_head_out_header_u64(cio_http_head_out *w, const char *name, uint64_t value)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", (unsigned long long)value);
    return cio_http_head_out_header_n(w, name, name ? strlen(name) : 0, num, (size_t)n);
}

ssize_t cio_http_head_out_end(cio_http_head_out *w)
{
    if (!w)
        return -EINVAL;
    if (w->err)
        return w->err;
    if (w->state & W_ENDED)
        return refuse(w, -EINVAL);
    int rc = room(w, 2);
    if (rc < 0)
        return rc;
    put(w, "\r\n", 2);
    w->state |= W_ENDED;
    return (ssize_t)w->len;
}

int cio_http_head_out_send(cio_http_head_out *w, cio_stream *s)
{
    if (!w || !s)
        return -EINVAL;
    if (!(w->state & W_START))
        return refuse(w, -EINVAL); /* a message head needs its start line */
    ssize_t n = cio_http_head_out_end(w);
    return n < 0 ? (int)n : cio_stream_write(s, w->buf, (size_t)n);
}

int cio_http_write_continue(cio_stream *s)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    return s ? cio_stream_write(s, msg, sizeof msg - 1) : -EINVAL;
}

/* ------------------------------------------------------------------------------------------------ bodies */

int cio_http_body_out_init(cio_http_body_out *w, cio_stream *s, int framing, uint64_t length)
{
    if (!w || !s || framing < CIO_HTTP_BODY_NONE || framing > CIO_HTTP_BODY_TUNNEL)
        return -EINVAL;
    *w = (cio_http_body_out){.s = s,
                             .framing = framing == CIO_HTTP_BODY_TUNNEL ? CIO_HTTP_BODY_UNTIL_CLOSE : framing,
                             .left = framing == CIO_HTTP_BODY_LENGTH ? length : 0};
    return 0;
}

/* May `len` more body bytes go out? */
static int body_room(cio_http_body_out *w, size_t len)
{
    if (w->err)
        return w->err;
    if (w->ended || w->framing == CIO_HTTP_BODY_NONE)
        return -EINVAL;
    if (w->framing == CIO_HTTP_BODY_LENGTH && len > w->left)
        return CIO_EHTTP_BODY_OVERRUN;
    return 0;
}

static int body_failed(cio_http_body_out *w, int rc)
{
    if (rc < 0 && rc != -ECANCELED && !cio_is_timeout(rc))
        w->err = rc; /* some of it may have gone: the framing is lost */
    return rc;
}

/* A chunk's size line. */
static size_t chunk_line(char *out, size_t len)
{
    return (size_t)snprintf(out, 20, "%zx\r\n", len);
}

/* `len` (> 0) bytes as the framing wants them, uncounted. */
static int frame_write(cio_http_body_out *w, const void *data, size_t len)
{
    int rc;
    if (w->framing == CIO_HTTP_BODY_CHUNKED) {
        char size[20];
        struct iovec v[3] = {{size, chunk_line(size, len)}, {(void *)data, len}, {(void *)"\r\n", 2}};
        rc = cio_stream_writev(w->s, v, 3);
    } else {
        rc = cio_stream_write(w->s, data, len);
    }
    return rc < 0 ? body_failed(w, rc) : 0;
}

static int emit_coded(void *arg, const uint8_t *p, size_t n)
{
    return frame_write(arg, p, n);
}

int cio_http_body_out_write(cio_http_body_out *w, const void *data, size_t len)
{
    if (!w || (!data && len > 0))
        return -EINVAL;
    int rc = body_room(w, len);
    if (rc < 0 || len == 0)
        return rc;
    rc = w->coder ? cio__enc_write(w->coder, data, len, false, emit_coded, w) : frame_write(w, data, len);
    if (rc < 0)
        return body_failed(w, rc);
    w->count += len;
    if (w->framing == CIO_HTTP_BODY_LENGTH)
        w->left -= len;
    return 0;
}

int cio_http_body_out_set_coding(cio_http_body_out *w, int coding, int level)
{
    if (!w || w->coder || w->count || w->ended ||
        (w->framing != CIO_HTTP_BODY_CHUNKED && w->framing != CIO_HTTP_BODY_UNTIL_CLOSE))
        return -EINVAL;
    if (coding == CIO_HTTP_CODING_IDENTITY)
        return 0;
    struct cio__enc *e;
    int rc = cio__enc_new(&e, coding, level);
    if (rc < 0)
        return rc;
    w->coder = e;
    return 0;
}

void cio_http_body_out_fini(cio_http_body_out *w)
{
    if (w && w->coder) {
        cio__enc_free(w->coder);
        w->coder = NULL;
    }
}

/* A file through the encoder: read in pieces (from the page cache, as the plain path's sendfile does) and
   compressed. */
static ssize_t coded_file(cio_http_body_out *w, int fd, off_t offset, size_t count)
{
    char *buf = cio__malloc(65536);
    if (!buf)
        return -ENOMEM;
    size_t done = 0;
    int rc = 0;
    while (done < count) {
        size_t want = count - done < 65536 ? count - done : 65536;
        ssize_t n = pread(fd, buf, want, offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO; /* a file that ended early */
            break;
        }
        if ((rc = cio__enc_write(w->coder, (const uint8_t *)buf, (size_t)n, false, emit_coded, w)) < 0)
            break;
        done += (size_t)n;
    }
    cio__free(buf);
    if (rc < 0)
        return body_failed(w, rc);
    w->count += done;
    return (ssize_t)done;
}

ssize_t cio_http_body_out_sendfile(cio_http_body_out *w, int file_fd, off_t offset, size_t count)
{
    if (!w || file_fd < 0 || offset < 0)
        return -EINVAL;
    int rc = body_room(w, count);
    if (rc < 0 || count == 0)
        return rc;
    if (w->coder)
        return coded_file(w, file_fd, offset, count);
    if (w->framing == CIO_HTTP_BODY_CHUNKED) {
        char size[20];
        if ((rc = cio_stream_write(w->s, size, chunk_line(size, count))) < 0)
            return body_failed(w, rc);
    }
    ssize_t n = cio_stream_sendfile(w->s, file_fd, offset, count);
    if (n < 0)
        return body_failed(w, (int)n);
    if ((size_t)n < count && w->framing != CIO_HTTP_BODY_UNTIL_CLOSE)
        return body_failed(w, -EIO); /* the file ended early: the framing announced more */
    if (w->framing == CIO_HTTP_BODY_CHUNKED && (rc = cio_stream_write(w->s, "\r\n", 2)) < 0)
        return body_failed(w, rc);
    w->count += (uint64_t)n;
    if (w->framing == CIO_HTTP_BODY_LENGTH)
        w->left -= (uint64_t)n;
    return n;
}

int cio_http_body_out_drain(cio_http_body_out *w)
{
    return w ? cio_stream_drain(w->s) : -EINVAL;
}

int cio_http_body_out_end(cio_http_body_out *w, cio_http_head_out *trailers)
{
    if (!w)
        return -EINVAL;
    if (w->err)
        return w->err;
    if (w->ended || (trailers && (w->framing != CIO_HTTP_BODY_CHUNKED || (trailers->state & W_START))))
        return -EINVAL;
    if (w->framing == CIO_HTTP_BODY_LENGTH && w->left > 0)
        return w->err = CIO_EHTTP_BODY_SHORT;
    if (w->coder) {
        /* The coded stream's tail, then the framing's end. */
        int rc = cio__enc_write(w->coder, NULL, 0, true, emit_coded, w);
        cio_http_body_out_fini(w);
        if (rc < 0)
            return body_failed(w, rc);
    }
    w->ended = true;
    if (w->framing != CIO_HTTP_BODY_CHUNKED)
        return 0;
    if (!trailers)
        return body_failed(w, cio_stream_write(w->s, "0\r\n\r\n", 5));
    ssize_t n = cio_http_head_out_end(trailers);
    if (n < 0)
        return (int)n;
    struct iovec v[2] = {{(void *)"0\r\n", 3}, {trailers->buf, (size_t)n}};
    return body_failed(w, cio_stream_writev(w->s, v, 2));
}
