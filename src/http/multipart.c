/* multipart.c: multipart/form-data: boundaries, the incremental body parser, Content-Disposition, upload names. */
#include "cio/http.h"

#include <string.h>
#include <sys/random.h>

#include "http/scan.h"

#define DEFAULT_MAX_PARTS 1000
#define DEFAULT_MAX_HEAD  (16u << 10)
#define MAX_EXTENSION     16    /* the longest extension the sanitiser keeps when it shortens a name */
#define GO_ON             0x100 /* a step's result: no event yet, go on in this call */

/*
 * The parser's states. Only the delimiter line is read byte by byte; part data is searched with memchr for the
 * LF of "\r\n--boundary", and a header block is searched for its empty line, then handed whole to
 * cio_http_parse_trailers, which already knows every rule about header fields.
 */
enum state {
    S_START,     /* the body's first bytes: "--boundary" may come at once, without a CRLF before it */
    S_PREAMBLE,  /* before the first delimiter: skipped */
    S_DELIM,     /* right after "--boundary": "--", padding, or the line end */
    S_PADDING,   /* transport padding after the boundary: spaces and tabs, then the line end */
    S_DELIM_LF,  /* the LF after the delimiter line's CR */
    S_HEADERS,   /* a part's header block */
    S_DATA,      /* a part's data */
    S_PART_DONE, /* a delimiter was found in the data: report the end of the part */
    S_END,       /* after the close delimiter: the epilogue is discarded */
    S_SPENT,     /* an error was returned; `err` says which */
};

struct parser {
    /* "\r\n--" and the boundary: the delimiter as it appears after part data. */
    char delim[4 + CIO_HTTP_MP_MAX_BOUNDARY];
    uint8_t dlen; /* bytes in delim */
    uint8_t state;
    uint8_t lenient; /* CIO_HTTP_LENIENT_LF */
    uint8_t pad;
    int32_t err;        /* S_SPENT: the error every later call returns */
    uint32_t max_parts; /* limits, defaults applied */
    uint32_t max_head;
    uint32_t parts;      /* parts begun so far */
    uint32_t scan;       /* S_HEADERS: bytes of the block already searched for its end */
    uint32_t line;       /* S_HEADERS: where the line being searched begins */
    uint32_t skip;       /* S_PART_DONE: the delimiter's length, CR included if there was one */
    uint64_t max_part;   /* data bytes per part; UINT64_MAX for no limit */
    uint64_t part_bytes; /* data bytes of the current part so far */
};
_Static_assert(sizeof(struct parser) <= sizeof(cio_http_multipart), "grow cio_http_multipart.opaque");
_Static_assert(_Alignof(struct parser) <= _Alignof(cio_http_multipart), "align cio_http_multipart.opaque");

/* ---------------------------------------------------------------------------------------------- boundaries */

/* RFC 2046 section 5.1.1: bchars := bcharsnospace / " " */
static bool is_bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == ' ' ||
           (c != 0 && strchr("'()+_,-./:=?", c) != NULL);
}

static bool boundary_ok(cio_http_str b)
{
    if (b.len < 1 || b.len > CIO_HTTP_MP_MAX_BOUNDARY || b.ptr[b.len - 1] == ' ')
        return false;
    for (size_t i = 0; i < b.len; i++)
        if (!is_bchar((unsigned char)b.ptr[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
    return cio__is_tchar((unsigned char)c);
}

/* A parameter of a header value: `name=value`, the value a token or a quoted string (its contents, raw). */
struct param {
    cio_http_str name, value;
    bool quoted;
};

/* Take the next ";" parameter from [*p, e) (cio_http_param_next). Returns 1 with one, 0 at the end, -1 when it is
   malformed. */
static int param_next(const char **pp, const char *e, struct param *out)
{
    cio_http_str rest = {*pp, (size_t)(e - *pp)};
    int rc = cio_http_param_next(&rest, &out->name, &out->value, &out->quoted);
    if (rc < 0)
        return -1;
    *pp = rest.ptr;
    return rc;
}

int cio_http_multipart_boundary(cio_http_str *boundary, cio_http_str *subtype, cio_http_str content_type)
{
    const char *p = content_type.ptr, *e = p + content_type.len;
    while (p < e && is_ows(*p))
        p++;
    const char *t = p;
    while (p < e && is_tchar(*p))
        p++;
    if (!cio_http_str_ieq((cio_http_str){t, (size_t)(p - t)}, "multipart") || p == e || *p++ != '/')
        return CIO_EHTTP_MP_NOT_MULTIPART;
    const char *s = p;
    while (p < e && is_tchar(*p))
        p++;
    if (p == s)
        return CIO_EHTTP_MP_NOT_MULTIPART;
    if (subtype)
        *subtype = (cio_http_str){s, (size_t)(p - s)};
    struct param pr;
    bool found = false;
    int rc;
    while ((rc = param_next(&p, e, &pr)) > 0) {
        if (!cio_http_str_ieq(pr.name, "boundary"))
            continue;
        if (found || !boundary_ok(pr.value)) /* also refuses a quoted-pair: '\\' is no bchar */
            return CIO_EHTTP_MP_BAD_BOUNDARY;
        *boundary = pr.value;
        found = true;
    }
    if (rc < 0)
        return CIO_EHTTP_BAD_LIST;
    return found ? 0 : CIO_EHTTP_MP_BAD_BOUNDARY;
}

/* -------------------------------------------------------------------------------------------------- parser */

static struct parser *impl(cio_http_multipart *m)
{
    return (struct parser *)(void *)m->opaque;
}

static uint32_t clamp32(size_t v, uint32_t dflt)
{
    return v == 0 ? dflt : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int cio_http_multipart_init(cio_http_multipart *m, cio_http_str boundary, const cio_http_multipart_opts *opts)
{
    struct parser *s = impl(m);
    memset(m, 0, sizeof(*m));
    if (!boundary_ok(boundary)) {
        s->state = S_SPENT;
        s->err = CIO_EHTTP_MP_BAD_BOUNDARY;
        return CIO_EHTTP_MP_BAD_BOUNDARY;
    }
    memcpy(s->delim, "\r\n--", 4);
    memcpy(s->delim + 4, boundary.ptr, boundary.len);
    s->dlen = (uint8_t)(4 + boundary.len);
    s->state = S_START;
    s->lenient = opts && (opts->flags & CIO_HTTP_LENIENT_LF);
    s->max_parts = clamp32(opts ? opts->max_parts : 0, DEFAULT_MAX_PARTS);
    s->max_head = clamp32(opts ? opts->max_head : 0, DEFAULT_MAX_HEAD);
    if (s->max_head > INT32_MAX) /* cio_http_parse_trailers counts in int */
        s->max_head = INT32_MAX;
    s->max_part = opts && opts->max_part_size ? opts->max_part_size : UINT64_MAX;
    return 0;
}

/* Where a search for the delimiter stopped. */
struct found {
    size_t at;   /* the first byte that is not data: the delimiter's CR (or LF), or the held-back tail; or len */
    size_t skip; /* a whole delimiter was found: its length, CR included; 0 for a tail or nothing */
    bool bare;   /* the whole delimiter has no CR before its LF */
};

/*
 * Search buf[from, len) for "\n--boundary" (the LF of the delimiter; the CR before it is checked after), as a
 * whole or as a tail that the next bytes could complete. Every LF costs one memcmp of the boundary, and memchr
 * finds the LFs: a few per KiB of binary data, one per line of text.
 * The byte before `from` is never a CR that pairs with an LF at `from`: a CR at the end of a buffer is held back
 * (it could begin a delimiter), and a part's data begins after the LF of its header block's empty line.
 */
static struct found find_delim(const struct parser *s, const char *buf, size_t from, size_t len)
{
    const char *dash = s->delim + 2; /* "--boundary" */
    size_t dl = (size_t)s->dlen - 2;
    const char *p = buf + from, *e = buf + len;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            break;
        size_t rest = (size_t)(e - nl - 1);
        bool cr = nl > buf + from && nl[-1] == '\r';
        size_t at = (size_t)(nl - buf) - cr;
        if (rest >= dl) {
            if (memcmp(nl + 1, dash, dl) == 0)
                return (struct found){at, dl + 1 + cr, !cr};
        } else if (memcmp(nl + 1, dash, rest) == 0) {
            return (struct found){at, 0, false};
        }
        p = nl + 1;
    }
    if (len > from && buf[len - 1] == '\r')
        return (struct found){len - 1, 0, false};
    return (struct found){len, 0, false};
}

static int spend(struct parser *s, int err)
{
    s->state = S_SPENT;
    s->err = err;
    return err;
}

/* S_HEADERS: find the header block's empty line; then parse the block whole. */
static int read_headers(struct parser *s, cio_http_multipart_event *ev, const char *buf, size_t len, size_t *off)
{
    const char *b = buf + *off;
    size_t avail = len - *off, lim = avail < s->max_head ? avail : s->max_head;
    size_t i = s->scan, line = s->line, block = 0;
    while (i < lim) {
        const char *nl = memchr(b + i, '\n', lim - i);
        if (!nl)
            break;
        i = (size_t)(nl - b);
        bool cr = i > 0 && b[i - 1] == '\r';
        if (!cr && !s->lenient)
            return spend(s, CIO_EHTTP_BARE_LF);
        if (i - cr == line) {
            block = i + 1;
            break;
        }
        line = ++i;
    }
    if (!block) {
        if (avail >= s->max_head)
            return spend(s, CIO_EHTTP_MP_HEADERS_TOO_LARGE);
        s->scan = (uint32_t)lim, s->line = (uint32_t)line;
        return -EAGAIN;
    }
    cio_http_parse_opts po = {.max_head = block, .flags = s->lenient ? CIO_HTTP_LENIENT_LF : 0};
    cio_http_head_init(&ev->head, ev->head.headers, ev->head.max_headers);
    if (line > 0) { /* a block of fields; an empty one (the empty line alone) has nothing to parse */
        int rc = cio_http_parse_trailers(&ev->head, b, block, &po);
        if (rc < 0) /* the empty line found above ends the block for the trailer parser too: never -EAGAIN */
            return spend(s, rc == -EAGAIN ? CIO_EHTTP_BAD_HEADER_VALUE : rc);
    }
    *off += block;
    s->state = S_DATA;
    s->part_bytes = 0;
    return CIO_HTTP_MP_PART;
}

/* S_DATA, or S_PREAMBLE when `preamble`: data up to the delimiter or a held-back tail. */
static int read_data(struct parser *s, cio_http_multipart_event *ev, const char *buf, size_t len, size_t *off,
                     bool preamble)
{
    struct found f = find_delim(s, buf, *off, len);
    size_t n = f.at - *off;
    if (preamble) {
        *off = f.at;
    } else if (n > 0) {
        /* Data up to the limit is given, then the error: so the events do not depend on how input is cut. */
        if (s->part_bytes == s->max_part)
            return spend(s, CIO_EHTTP_MP_PART_TOO_LARGE);
        if (n > s->max_part - s->part_bytes)
            n = (size_t)(s->max_part - s->part_bytes);
        s->part_bytes += n;
        ev->data = (cio_http_str){buf + *off, n};
        *off += n;
        return CIO_HTTP_MP_DATA;
    }
    if (!f.skip)
        return -EAGAIN;
    if (f.bare && !s->lenient)
        return spend(s, CIO_EHTTP_BARE_LF);
    if (preamble) {
        *off += f.skip;
        s->state = S_DELIM;
    } else {
        s->state = S_PART_DONE;
        s->skip = (uint32_t)f.skip;
    }
    return GO_ON;
}

/* S_DELIM, S_PADDING and S_DELIM_LF: the rest of a delimiter line, byte by byte. */
static int read_delim_line(struct parser *s, const char *buf, size_t len, size_t *off)
{
    while (*off < len) {
        char c = buf[*off];
        if (s->state == S_DELIM_LF) {
            if (c != '\n')
                return spend(s, CIO_EHTTP_BARE_CR);
        } else if (c == '-' && s->state == S_DELIM) {
            if (len - *off < 2)
                return -EAGAIN;
            if (buf[*off + 1] != '-')
                return spend(s, CIO_EHTTP_MP_BAD_DELIMITER);
            *off += 2;
            s->state = S_END;
            return CIO_HTTP_MP_END;
        } else if (is_ows(c)) {
            s->state = S_PADDING;
            (*off)++;
            continue;
        } else if (c == '\r') {
            s->state = S_DELIM_LF;
            (*off)++;
            continue;
        } else if (c != '\n') {
            return spend(s, CIO_EHTTP_MP_BAD_DELIMITER);
        } else if (!s->lenient) {
            return spend(s, CIO_EHTTP_BARE_LF);
        }
        (*off)++; /* the line's LF: a part begins */
        if (s->parts >= s->max_parts)
            return spend(s, CIO_EHTTP_MP_TOO_MANY_PARTS);
        s->parts++;
        s->state = S_HEADERS;
        s->scan = s->line = 0;
        return GO_ON;
    }
    return -EAGAIN;
}

/* S_START: "--boundary" as the body's first bytes, or else a preamble. */
static int read_start(struct parser *s, const char *buf, size_t len, size_t *off)
{
    const char *dash = s->delim + 2;
    size_t dl = (size_t)s->dlen - 2, n = len < dl ? len : dl;
    if (memcmp(buf, dash, n) != 0) {
        s->state = S_PREAMBLE;
        return GO_ON;
    }
    if (n < dl)
        return -EAGAIN;
    *off = dl;
    s->state = S_DELIM;
    return GO_ON;
}

int cio_http_multipart_next(cio_http_multipart *m, cio_http_multipart_event *ev, const char *buf, size_t len, bool eof)
{
    struct parser *s = impl(m);
    size_t off = 0;
    int rc = GO_ON;
    ev->consumed = ev->want = 0;
    ev->data = (cio_http_str){NULL, 0};
    while (rc == GO_ON) {
        switch ((enum state)s->state) {
        case S_START:
            rc = read_start(s, buf, len, &off);
            break;
        case S_PREAMBLE:
            rc = read_data(s, ev, buf, len, &off, true);
            break;
        case S_DELIM:
        case S_PADDING:
        case S_DELIM_LF:
            rc = read_delim_line(s, buf, len, &off);
            break;
        case S_HEADERS:
            rc = read_headers(s, ev, buf, len, &off);
            break;
        case S_DATA:
            rc = read_data(s, ev, buf, len, &off, false);
            break;
        case S_PART_DONE:
            off += s->skip;
            s->state = S_DELIM;
            rc = CIO_HTTP_MP_PART_END;
            break;
        case S_END:
            off = len; /* the epilogue */
            rc = CIO_HTTP_MP_END;
            break;
        case S_SPENT:
        default:
            return s->err;
        }
    }
    if (rc == -EAGAIN && eof)
        return spend(s, CIO_EHTTP_MP_TRUNCATED);
    ev->consumed = off;
    if (rc == -EAGAIN)
        ev->want = len - off + 1;
    ev->part = rc == CIO_HTTP_MP_END || s->parts == 0 ? s->parts : s->parts - 1;
    return rc;
}

/* ----------------------------------------------------------------------------------------- Content-Disposition */

/* RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" */
static bool is_attr_char(char c)
{
    return is_tchar(c) && c != '*' && c != '\'' && c != '%';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ext-value = charset "'" [ language ] "'" value-chars; the value-chars start after the second "'". */
static bool ext_value_ok(cio_http_str v, cio_http_str *charset, cio_http_str *chars)
{
    const char *p = v.ptr, *e = p + v.len, *q1 = memchr(p, '\'', v.len);
    if (!q1 || q1 == p)
        return false;
    const char *q2 = memchr(q1 + 1, '\'', (size_t)(e - q1 - 1));
    if (!q2)
        return false;
    for (const char *c = p; c < q1; c++) /* mime-charsetc: ALPHA DIGIT "!#$%&+-^_`{}~"; tchars here */
        if (!is_tchar(*c) || *c == '*' || *c == '.' || *c == '|')
            return false;
    for (const char *c = q1 + 1; c < q2; c++) /* a language tag: letters, digits and "-" */
        if (!(*c == '-' || (*c >= '0' && *c <= '9') || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')))
            return false;
    for (const char *c = q2 + 1; c < e; c++) {
        if (*c == '%') {
            if (e - c < 3 || hexval(c[1]) < 0 || hexval(c[2]) < 0)
                return false;
            c += 2;
        } else if (!is_attr_char(*c)) {
            return false;
        }
    }
    *charset = (cio_http_str){p, (size_t)(q1 - p)};
    *chars = (cio_http_str){q2 + 1, (size_t)(e - q2 - 1)};
    return true;
}

int cio_http_disposition_parse(cio_http_disposition *d, cio_http_str value)
{
    memset(d, 0, sizeof(*d));
    const char *p = value.ptr, *e = p + value.len;
    while (p < e && is_ows(*p))
        p++;
    const char *t = p;
    while (p < e && is_tchar(*p))
        p++;
    if (p == t)
        return CIO_EHTTP_MP_BAD_DISPOSITION;
    d->type = (cio_http_str){t, (size_t)(p - t)};
    static const struct {
        const char *name;
        unsigned flag, quoted;
        size_t field;
    } known[] = {
        {"name", CIO_HTTP_DISP_NAME, CIO_HTTP_DISP_NAME_QUOTED, offsetof(cio_http_disposition, name)},
        {"filename", CIO_HTTP_DISP_FILENAME, CIO_HTTP_DISP_FILENAME_QUOTED, offsetof(cio_http_disposition, filename)},
        {"name*", CIO_HTTP_DISP_NAME_EXT, 0, offsetof(cio_http_disposition, name_ext)},
        {"filename*", CIO_HTTP_DISP_FILENAME_EXT, 0, offsetof(cio_http_disposition, filename_ext)},
    };
    struct param pr;
    int rc;
    while ((rc = param_next(&p, e, &pr)) > 0) {
        bool ext = pr.name.ptr[pr.name.len - 1] == '*';
        cio_http_str cs, chars;
        if (ext && (pr.quoted || !ext_value_ok(pr.value, &cs, &chars)))
            return CIO_EHTTP_MP_BAD_EXT_VALUE;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (!cio_http_str_ieq(pr.name, known[i].name))
                continue;
            if (d->flags & known[i].flag)
                return CIO_EHTTP_MP_BAD_DISPOSITION;
            d->flags |= known[i].flag | (pr.quoted ? known[i].quoted : 0);
            *(cio_http_str *)(void *)((char *)d + known[i].field) = pr.value;
        }
    }
    return rc < 0 ? CIO_EHTTP_MP_BAD_DISPOSITION : 0;
}

/* Bytes written into a caller's buffer, counted even past its end (snprintf style). */
struct out {
    char *dst;
    size_t cap, len;
};

static void put(struct out *o, const char *p, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->dst + o->len, p, n < room ? n : room);
    }
    o->len += n;
}

static void put_byte(struct out *o, char c)
{
    put(o, &c, 1);
}

/* The length of the valid UTF-8 sequence at p[0..n), or 0 when it is not one (overlong, surrogate, > U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, cp = c & 0x07u;
    else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

/* The charsets an ext-value is decoded from; anything else is ignored for the plain parameter. */
enum charset { CS_OTHER, CS_UTF8, CS_LATIN1 };

static enum charset charset_of(cio_http_str cs)
{
    if (cio_http_str_ieq(cs, "utf-8"))
        return CS_UTF8;
    if (cio_http_str_ieq(cs, "iso-8859-1"))
        return CS_LATIN1;
    return CS_OTHER;
}

/* Percent-decode an ext-value's chars (checked by ext_value_ok) into `o`: UTF-8 validated, or Latin-1 converted. */
static int decode_ext(struct out *o, cio_http_str chars, enum charset cs)
{
    unsigned char tmp[4];
    size_t pend = 0; /* bytes of an unfinished UTF-8 sequence, held in tmp */
    for (size_t i = 0; i < chars.len; i++) {
        unsigned char c = (unsigned char)chars.ptr[i];
        if (c == '%') {
            c = (unsigned char)(hexval(chars.ptr[i + 1]) << 4 | hexval(chars.ptr[i + 2]));
            i += 2;
        }
        if (cs == CS_LATIN1) {
            if (c < 0x80) {
                put_byte(o, (char)c);
            } else {
                put_byte(o, (char)(0xc0 | c >> 6));
                put_byte(o, (char)(0x80 | (c & 0x3f)));
            }
            continue;
        }
        tmp[pend++] = c;
        size_t need = tmp[0] < 0x80 ? 1 : tmp[0] < 0xe0 ? 2 : tmp[0] < 0xf0 ? 3 : 4;
        if (pend < need)
            continue;
        if (utf8_seq(tmp, pend) != pend)
            return CIO_EHTTP_MP_BAD_EXT_VALUE;
        put(o, (const char *)tmp, pend);
        pend = 0;
    }
    return pend ? CIO_EHTTP_MP_BAD_EXT_VALUE : 0;
}

/* A plain parameter's value: quoted-pairs undone, and the WHATWG escapes %22, %0D and %0A when quoted. */
static void decode_plain(struct out *o, cio_http_str v, bool quoted)
{
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (quoted && c == '\\' && i + 1 < v.len) {
            c = v.ptr[++i];
        } else if (quoted && c == '%' && v.len - i >= 3) {
            char h = v.ptr[i + 1], l = (char)(v.ptr[i + 2] | 0x20);
            char dec = h == '2' && l == '2' ? '"' : h == '0' && l == 'd' ? '\r' : h == '0' && l == 'a' ? '\n' : 0;
            if (dec) {
                c = dec;
                i += 2;
            }
        }
        put_byte(o, c);
    }
}

static ssize_t finish(struct out *o)
{
    if (o->len >= o->cap)
        return -ENOBUFS;
    o->dst[o->len] = '\0';
    return (ssize_t)o->len;
}

static ssize_t decode_param(const cio_http_disposition *d, char *dst, size_t cap, bool file)
{
    unsigned plain = file ? CIO_HTTP_DISP_FILENAME : CIO_HTTP_DISP_NAME;
    unsigned ext = file ? CIO_HTTP_DISP_FILENAME_EXT : CIO_HTTP_DISP_NAME_EXT;
    unsigned quoted = file ? CIO_HTTP_DISP_FILENAME_QUOTED : CIO_HTTP_DISP_NAME_QUOTED;
    struct out o = {dst, cap, 0};
    if (d->flags & ext) {
        cio_http_str cs, chars;
        if (!ext_value_ok(file ? d->filename_ext : d->name_ext, &cs, &chars))
            return CIO_EHTTP_MP_BAD_EXT_VALUE;
        enum charset c = charset_of(cs);
        if (c != CS_OTHER) {
            int rc = decode_ext(&o, chars, c);
            return rc < 0 ? rc : finish(&o);
        }
        if (!(d->flags & plain))
            return CIO_EHTTP_MP_BAD_EXT_VALUE;
    }
    if (!(d->flags & plain))
        return -ENOENT;
    decode_plain(&o, file ? d->filename : d->name, (d->flags & quoted) != 0);
    return finish(&o);
}

ssize_t cio_http_disposition_name(const cio_http_disposition *d, char *dst, size_t cap)
{
    return decode_param(d, dst, cap, false);
}

ssize_t cio_http_disposition_filename(const cio_http_disposition *d, char *dst, size_t cap)
{
    return decode_param(d, dst, cap, true);
}

/* ------------------------------------------------------------------------------------------------ file names */

/* The longest prefix of s[0..n) no longer than `max` that does not end inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80) /* s[k] continues the sequence before it */
        k--;
    return k;
}

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/*
 * The name is read as if cleaned (after its last separator, without control characters, without leading dots)
 * but never copied whole: its first max + 1 cleaned bytes go to `dst`, and a long name's extension is looked for
 * among its last cleaned bytes, so any length costs one pass and no buffer of its size.
 */
ssize_t cio_http_filename_sanitize(char *dst, size_t cap, cio_http_str name, const char *fallback)
{
    if (cap == 0)
        return -ENOBUFS;
    size_t max = cap - 1 < CIO_HTTP_FILENAME_MAX ? cap - 1 : CIO_HTTP_FILENAME_MAX;
    size_t start = 0, n = 0;
    for (size_t i = 0; i < name.len; i++)
        if (name.ptr[i] == '/' || name.ptr[i] == '\\')
            start = i + 1;
    while (start < name.len && (is_ctl((unsigned char)name.ptr[start]) || name.ptr[start] == '.'))
        start++; /* control characters go with the dots, so that "\x01.." cannot become ".." */
    for (size_t i = start; i < name.len; i++) {
        if (is_ctl((unsigned char)name.ptr[i]))
            continue;
        if (n <= max) /* one byte past max, for utf8_cut to see where a character ends */
            dst[n] = name.ptr[i];
        n++;
    }
    if (n <= max && n > 0) {
        dst[n] = '\0';
        return (ssize_t)n;
    }
    char ext[MAX_EXTENSION];
    size_t el = 0; /* the extension, dot included, gathered backwards into the end of ext */
    for (size_t i = name.len; i > start && el < MAX_EXTENSION; i--) {
        char c = name.ptr[i - 1];
        if (is_ctl((unsigned char)c))
            continue;
        ext[MAX_EXTENSION - ++el] = c;
        if (c == '.')
            break;
    }
    bool keep = el > 0 && ext[MAX_EXTENSION - el] == '.' && el < max;
    size_t out = n == 0 ? 0 : utf8_cut(dst, max + 1, keep ? max - el : max);
    if (keep && out == 0) /* no stem would be left: the name would begin with the extension's dot */
        out = utf8_cut(dst, max + 1, max), keep = false;
    if (out == 0) { /* nothing was left, or not one whole character fits */
        const char *f = fallback ? fallback : "upload";
        size_t fl = strlen(f);
        if (fl >= cap)
            return -ENOBUFS;
        memcpy(dst, f, fl + 1);
        return (ssize_t)fl;
    }
    if (keep) {
        memcpy(dst + out, ext + MAX_EXTENSION - el, el);
        out += el;
    }
    dst[out] = '\0';
    return (ssize_t)out;
}

/* ------------------------------------------------------------------------------------------------- writing */

int cio_http_multipart_boundary_new(char *dst, size_t cap)
{
    unsigned char r[16];
    if (cap <= CIO_HTTP_MP_NEW_BOUNDARY)
        return -ENOBUFS;
    for (size_t got = 0; got < sizeof(r);) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    memcpy(dst, "cio-", 4);
    for (size_t i = 0; i < sizeof(r); i++) {
        dst[4 + 2 * i] = hex[r[i] >> 4];
        dst[5 + 2 * i] = hex[r[i] & 15];
    }
    dst[CIO_HTTP_MP_NEW_BOUNDARY] = '\0';
    return CIO_HTTP_MP_NEW_BOUNDARY;
}

/* End a snprintf-style result: a NUL after what fitted. */
static ssize_t terminate(struct out *o)
{
    if (o->cap > 0)
        o->dst[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return (ssize_t)o->len;
}

ssize_t cio_http_multipart_delimiter(char *dst, size_t cap, cio_http_str boundary, unsigned flags)
{
    if (!boundary_ok(boundary))
        return CIO_EHTTP_MP_BAD_BOUNDARY;
    struct out o = {dst, cap, 0};
    if (!(flags & CIO_HTTP_MP_FIRST))
        put(&o, "\r\n", 2);
    put(&o, "--", 2);
    put(&o, boundary.ptr, boundary.len);
    if (flags & CIO_HTTP_MP_CLOSE)
        put(&o, "--", 2);
    put(&o, "\r\n", 2);
    return terminate(&o);
}

/* A name or file name in quotes, escaped as browsers do; -EINVAL for a byte a header cannot carry. */
static int put_quoted(struct out *o, cio_http_str s)
{
    put_byte(o, '"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"')
            put(o, "%22", 3);
        else if (c == '\r')
            put(o, "%0D", 3);
        else if (c == '\n')
            put(o, "%0A", 3);
        else if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -EINVAL;
        else
            put_byte(o, (char)c);
    }
    put_byte(o, '"');
    return 0;
}

ssize_t cio_http_multipart_part_head(char *dst, size_t cap, cio_http_str name, cio_http_str filename,
                                     const char *content_type)
{
    struct out o = {dst, cap, 0};
    static const char cd[] = "Content-Disposition: form-data; name=";
    put(&o, cd, sizeof(cd) - 1);
    if (put_quoted(&o, name) < 0)
        return -EINVAL;
    if (filename.ptr) {
        put(&o, "; filename=", 11);
        if (put_quoted(&o, filename) < 0)
            return -EINVAL;
    }
    put(&o, "\r\n", 2);
    if (content_type) {
        size_t n = strlen(content_type);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)content_type[i] < 0x20 || content_type[i] == 0x7f)
                return -EINVAL;
        put(&o, "Content-Type: ", 14);
        put(&o, content_type, n);
        put(&o, "\r\n", 2);
    }
    put(&o, "\r\n", 2);
    return terminate(&o);
}
