/* cio/http.h: HTTP/1.1: the message parser, chunked decoder, URL parser, header value helpers, multipart, and
 * messages on streams (heads and bodies read in place, heads and bodies written), shared by server and client. */
#ifndef CIO_HTTP_H
#define CIO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cio/error.h"
#include "cio/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The parser needs no loop and no allocation: it reads the caller's buffer and hands back views into it.
 * It applies RFC 9112 and RFC 9110 as a server and a client must, so that two parsers on a path (a proxy and a
 * server) cannot frame one message two ways: every rejection has its own CIO_EHTTP_* code (see cio/error.h), and
 * cio_http_error_status() maps it to the status a server answers with.
 */

/* A view of `len` bytes at `ptr` inside the caller's buffer; not NUL-terminated. */
typedef struct cio_http_str {
    const char *ptr;
    size_t len;
} cio_http_str;

/* One header field. The value has its leading and trailing whitespace removed. */
typedef struct cio_http_header {
    cio_http_str name;
    cio_http_str value;
} cio_http_header;

/* cio_http_head.flags: what the parser learnt about framing while it read the headers. */
#define CIO_HTTP_HAS_CONTENT_LENGTH    0x0001u /* a valid Content-Length; its value is in content_length */
#define CIO_HTTP_HAS_TRANSFER_ENCODING 0x0002u
#define CIO_HTTP_CHUNKED               0x0004u /* Transfer-Encoding's last coding is chunked */
#define CIO_HTTP_TE_OTHER              0x0008u /* Transfer-Encoding names a coding other than chunked */
#define CIO_HTTP_CONN_CLOSE            0x0010u /* Connection lists "close" */
#define CIO_HTTP_CONN_KEEP_ALIVE       0x0020u /* Connection lists "keep-alive" */
#define CIO_HTTP_CONN_UPGRADE          0x0040u /* Connection lists "upgrade" */
#define CIO_HTTP_HAS_UPGRADE           0x0080u /* an Upgrade header is present */
#define CIO_HTTP_EXPECT_CONTINUE       0x0100u /* Expect: 100-continue */
#define CIO_HTTP_EXPECT_OTHER          0x0200u /* an Expect value cio does not know (a server answers 417) */

/*
 * A message head (request or response), in caller storage. Initialise it with cio_http_head_init before the first
 * parse call; the parse functions fill it in. All views point into the buffer passed to the last parse call.
 */
typedef struct cio_http_head {
    cio_http_str method;      /* requests: the method token, e.g. "GET" */
    cio_http_str target;      /* requests: the request target, as sent (see cio_url_parse_target) */
    int status;               /* responses: the status code, 100-999 */
    cio_http_str reason;      /* responses: the reason phrase, possibly empty */
    int minor_version;        /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
    cio_http_header *headers; /* the caller's array, in the order received */
    size_t num_headers;       /* entries filled in */
    size_t max_headers;       /* the array's capacity: the header count limit */
    uint64_t content_length;  /* when flags has CIO_HTTP_HAS_CONTENT_LENGTH */
    unsigned flags;           /* CIO_HTTP_* above */
    uint64_t priv[4];         /* the parser's resumption state; do not touch */
} cio_http_head;

/* cio_http_parse_opts.flags */
#define CIO_HTTP_LENIENT_LF 0x1u /* accept a bare LF as a line end in responses and chunked bodies, as browsers do */

/* Limits and leniency for the parse functions. NULL, or a zero field, means the default. */
typedef struct cio_http_parse_opts {
    size_t max_line;             /* request line or status line, CRLF excluded; default 8 KiB (EHTTP_LINE_TOO_LONG) */
    size_t max_head;             /* whole head including the final CRLF; default 64 KiB (EHTTP_HEAD_TOO_LARGE) */
    uint64_t max_content_length; /* default 2^63-1 (EHTTP_BODY_TOO_LARGE) */
    unsigned flags;              /* CIO_HTTP_LENIENT_LF */
} cio_http_parse_opts;

/* Reset `h` for a new message, with `headers[max_headers]` to receive its header fields. Never fails. */
void cio_http_head_init(cio_http_head *h, cio_http_header *headers, size_t max_headers);

/*
 * Parse a request head from `buf[0..len)`, which starts at the head's first byte and may hold only part of it, or
 * more than it (a body, a pipelined request). Call again with more bytes after -EAGAIN: the parser resumes where it
 * stopped, so a head arriving a few bytes at a time costs linear time. The buffer may move between calls (say, after
 * realloc) as long as the bytes already passed stay the same; views are moved along with it.
 * Empty lines before the request line are skipped (RFC 9112 section 2.2) and counted in the head's length.
 *
 * Returns: the head's length, up to and including its final CRLF; `h` then holds the method, target, version,
 *          headers and framing flags, and stays valid while `buf` does. Call cio_http_head_init before the next one.
 * Errors:  -EAGAIN  the head is not complete yet; nothing is wrong so far.
 *          CIO_EHTTP_BARE_CR, _BARE_LF, _BAD_METHOD, _BAD_TARGET, _BAD_REQUEST_LINE, _BAD_VERSION, _VERSION,
 *          _BAD_HEADER_NAME, _SPACE_BEFORE_COLON, _OBS_FOLD, _BAD_HEADER_VALUE  syntax, at the first offending byte;
 *          _BAD_CONTENT_LENGTH, _CONTENT_LENGTH_CONFLICT, _CL_AND_TE, _TE_NOT_CHUNKED, _BAD_TRANSFER_ENCODING
 *          framing that could be read two ways; _BODY_TOO_LARGE, _LINE_TOO_LONG, _HEAD_TOO_LARGE,
 *          _TOO_MANY_HEADERS  a limit. After an error, `h` is unspecified until cio_http_head_init.
 * Ownership: cio keeps no pointer into `buf` past the call except the views in `h`.
 */
int cio_http_parse_request(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts);

/*
 * Parse a response head, as cio_http_parse_request does a request head. A status line without a reason phrase
 * ("HTTP/1.1 200\r\n") is accepted. A Transfer-Encoding that does not end in chunked is not an error here: the body
 * then runs until the connection closes (RFC 9112 section 6.3).
 *
 * Errors:  as cio_http_parse_request, with CIO_EHTTP_BAD_STATUS and _BAD_REASON for the status line, and
 *          _LINE_TOO_LONG for a status line over opts->max_line.
 */
int cio_http_parse_response(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts);

/*
 * Parse a trailer section (header fields up to an empty line, no start line), as cio_http_parse_request does the
 * headers of a request; use it on the bytes cio_http_chunked_decode leaves when asked to keep trailers.
 * Content-Length and Transfer-Encoding in a trailer are kept as fields but do not set framing flags.
 *
 * Returns: the section's length including the final CRLF. Errors: the header-field errors of cio_http_parse_request.
 */
int cio_http_parse_trailers(cio_http_head *h, const char *buf, size_t len, const cio_http_parse_opts *opts);

/* How a message body is delimited (RFC 9112 section 6.3). */
enum cio_http_body {
    CIO_HTTP_BODY_NONE = 0,    /* no body */
    CIO_HTTP_BODY_LENGTH,      /* exactly *length bytes */
    CIO_HTTP_BODY_CHUNKED,     /* chunked: feed it to cio_http_chunked_decode */
    CIO_HTTP_BODY_UNTIL_CLOSE, /* responses only: everything until the peer closes */
    CIO_HTTP_BODY_TUNNEL,      /* a 2xx answer to CONNECT: the connection becomes a tunnel */
};

/*
 * The body rule for a parsed request: chunked if Transfer-Encoding is present (the parser has checked that it ends
 * in chunked), else Content-Length, else none.
 * Returns: a CIO_HTTP_BODY_* value; `*length` (may be NULL) gets the length for CIO_HTTP_BODY_LENGTH, else 0.
 */
int cio_http_request_body(const cio_http_head *h, uint64_t *length);

/*
 * The body rule for a parsed response to a request with method `method` (NUL-terminated, e.g. "HEAD"; NULL for
 * GET): none for HEAD, 1xx, 204 and 304; a tunnel for a 2xx to CONNECT; chunked if Transfer-Encoding ends in
 * chunked; until close if it does not; Content-Length; else until close.
 * Returns: a CIO_HTTP_BODY_* value; `*length` (may be NULL) gets the length for CIO_HTTP_BODY_LENGTH, else 0.
 */
int cio_http_response_body(const cio_http_head *h, const char *method, uint64_t *length);

/*
 * Whether the connection may carry another message after this one (RFC 9112 section 9.3): for HTTP/1.1 unless
 * Connection lists "close"; for HTTP/1.0 only if it lists "keep-alive" and not "close". A response whose body runs
 * until close ends the connection whatever this says.
 */
bool cio_http_keep_alive(const cio_http_head *h);

/*
 * Whether the message switches protocols: a request with an Upgrade header and "upgrade" in Connection, or a 101
 * response. The caller reads the Upgrade header for the protocol.
 */
bool cio_http_upgrade(const cio_http_head *h);

/* Whether a request asks for 100 (Continue) before sending its body: HTTP/1.1 and Expect: 100-continue. */
bool cio_http_expects_continue(const cio_http_head *h);

/*
 * The next header named `name` (NUL-terminated, compared without case) after `after` (NULL: from the first), or
 * NULL when there is none.
 */
const cio_http_header *cio_http_header_find(const cio_http_head *h, const char *name, const cio_http_header *after);

/*
 * The status a server answers with when parsing a request failed with `err`: 413 (CIO_EHTTP_BODY_TOO_LARGE,
 * _BODY_LIMIT), 414
 * (_LINE_TOO_LONG), 431 (_HEAD_TOO_LARGE, _TOO_MANY_HEADERS), 505 (_VERSION), 400 for the other CIO_EHTTP_* codes,
 * and 0 for anything else. (A request with CIO_HTTP_TE_OTHER, a coding the server cannot decode, deserves 501.)
 */
int cio_http_error_status(int err);

/* ---- Chunked transfer coding ---- */

/* cio_http_chunked_opts.flags */
#define CIO_HTTP_CHUNKED_KEEP_TRAILERS 0x2u /* stop before the trailer section and leave it to the caller */

typedef struct cio_http_chunked_opts {
    size_t max_ext;      /* chunk extension bytes per chunk line; default 1 KiB (EHTTP_CHUNK_EXT_TOO_LONG) */
    size_t max_trailers; /* trailer section bytes; default 16 KiB (EHTTP_TRAILER_TOO_LARGE) */
    unsigned flags;      /* CIO_HTTP_LENIENT_LF, CIO_HTTP_CHUNKED_KEEP_TRAILERS */
} cio_http_chunked_opts;

/* A chunked decoder's state, in caller storage; it holds no pointer into any buffer. */
typedef struct cio_http_chunked {
    uint64_t opaque[4];
} cio_http_chunked;

/* Start decoding a new chunked body. `opts` may be NULL; it is copied. Never fails. */
void cio_http_chunked_init(cio_http_chunked *d, const cio_http_chunked_opts *opts);

/*
 * Decode the chunked body bytes in `buf[0..*len)` in place: the chunk data are moved to the front of `buf`, and
 * `*len` is set to their length. Chunk sizes have at most 16 hex digits; extensions are checked against RFC 9112's
 * grammar and skipped; trailer fields are checked and skipped (or, with CIO_HTTP_CHUNKED_KEEP_TRAILERS, left
 * undecoded for cio_http_parse_trailers). Call again with the next bytes after -EAGAIN.
 *
 * Returns: when the body is complete, the number of bytes after it, which stay undecoded at `buf + *len` (the next
 *          message, or the trailer section with CIO_HTTP_CHUNKED_KEEP_TRAILERS).
 * Errors:  -EAGAIN  more bytes are needed; `*len` data bytes were decoded.
 *          CIO_EHTTP_BAD_CHUNK_SIZE, _CHUNK_SIZE_TOO_LARGE, _BAD_CHUNK_EXT, _CHUNK_EXT_TOO_LONG, _BAD_CHUNK_END,
 *          _BARE_CR, _BARE_LF, _BAD_HEADER_NAME, _SPACE_BEFORE_COLON, _OBS_FOLD, _BAD_HEADER_VALUE (trailers),
 *          _TRAILER_TOO_LARGE. After an error, `*len` data bytes were decoded and the decoder is spent.
 */
ssize_t cio_http_chunked_decode(cio_http_chunked *d, char *buf, size_t *len);

/*
 * Decode without moving anything (for a buffer the caller may not write, such as a stream's): scan `buf[0..len)`
 * through framing bytes up to and including the next run of chunk data, which is returned as a view inside `buf`
 * (`*data`, `*data_len`; NULL and 0 when the bytes held only framing). One run per call: call again on the bytes
 * after the ones consumed.
 * Returns: the bytes consumed (framing and the data returned, at most `len`); once the body is complete (see
 *          cio_http_chunked_done) the bytes after it are not consumed. Errors: as cio_http_chunked_decode; the
 *          decoder is then spent.
 */
ssize_t cio_http_chunked_next(cio_http_chunked *d, const char *buf, size_t len, const char **data, size_t *data_len);

/* Whether the chunked body is complete: the last chunk and the trailers (or, with CIO_HTTP_CHUNKED_KEEP_TRAILERS,
   the last chunk) have been read. */
bool cio_http_chunked_done(const cio_http_chunked *d);

/* ---- URLs ---- */

/* The form of a request target (RFC 9112 section 3.2). */
enum cio_url_form {
    CIO_URL_ORIGIN = 1, /* "/path?query" */
    CIO_URL_ABSOLUTE,   /* "http://host:port/path?query" */
    CIO_URL_AUTHORITY,  /* "host:port", for CONNECT */
    CIO_URL_ASTERISK,   /* "*", for OPTIONS */
};

/* A parsed URL: views into the string parsed. Absent parts have ptr NULL and len 0. */
typedef struct cio_url {
    int form;              /* enum cio_url_form */
    cio_http_str scheme;   /* as written, e.g. "https" */
    cio_http_str userinfo; /* before "@", if any */
    cio_http_str host;     /* a name, IPv4 address or IPv6 literal (without its brackets) */
    cio_http_str port_str; /* the digits after ":", if any */
    int port;              /* 0-65535, or -1 when absent */
    bool ipv6;             /* host was a bracketed IPv6 literal */
    cio_http_str path;     /* "/..." or empty (absolute-form without a path) */
    cio_http_str query;    /* after "?", without it */
    cio_http_str fragment; /* after "#", without it; never set by cio_url_parse_target */
} cio_url;

/*
 * Parse a client URL: "scheme://[userinfo@]host[:port][/path][?query][#fragment]". The scheme must be a valid
 * RFC 3986 scheme; the host a registered name, an IPv4 address or a bracketed IPv6 literal.
 * Returns: 0. Errors: CIO_EHTTP_BAD_URL (structure or a forbidden character), _BAD_HOST, _BAD_PORT (not 0-65535).
 */
int cio_url_parse(cio_url *u, const char *s, size_t n);

/*
 * Parse a request target in any of the four forms: origin ("/..."), absolute ("scheme://..."), authority
 * ("host:port", port required) or asterisk ("*"). Fragments are not allowed in a request target.
 * Returns: 0, with u->form set. Errors: as cio_url_parse.
 */
int cio_url_parse_target(cio_url *u, const char *s, size_t n);

/* cio_url_decode flags */
#define CIO_URL_PLUS_SPACE 0x1u /* decode "+" as a space, as in form-encoded query strings */

/*
 * Percent-decode `src[0..n)` into `dst[0..cap)`; `dst` may equal `src` (decoding never grows).
 * Returns: the decoded length. Errors: CIO_EHTTP_BAD_PERCENT ("%" not followed by two hex digits),
 *          -ENOBUFS (cap too small).
 */
ssize_t cio_url_decode(char *dst, size_t cap, const char *src, size_t n, unsigned flags);

/*
 * Split a query string: take the next "name[=value]" pair from `*rest` (separated by "&"; empty pairs skipped) and
 * advance `*rest` past it. The views are raw; decode them with cio_url_decode(..., CIO_URL_PLUS_SPACE).
 * Returns: 1 with a pair (`value` is empty, ptr NULL, when there was no "="); 0 when `*rest` is exhausted.
 */
int cio_url_query_next(cio_http_str *rest, cio_http_str *name, cio_http_str *value);

/*
 * Percent-encode `src[0..n)` into `dst[0..cap)`, NUL-terminated: every byte but ALPHA, DIGIT and "-._~" (RFC 3986's
 * unreserved) becomes %XX; with CIO_URL_PLUS_SPACE a space becomes "+", as forms encode it.
 * Returns: the encoded length. Errors: -ENOBUFS (cap not larger than the result).
 */
ssize_t cio_url_encode(char *dst, size_t cap, const char *src, size_t n, unsigned flags);

/*
 * Append "name=value" to the query string `dst` of length `*len` (a "&" first unless it is empty), both encoded as
 * application/x-www-form-urlencoded, and advance `*len`. `value` NULL appends the bare name.
 * Returns: 0. Errors: -ENOBUFS (nothing appended; `dst` keeps its old string).
 */
int cio_url_query_add(char *dst, size_t cap, size_t *len, const char *name, const char *value);

/* ---- Header values ---- */

/* Whether `s` equals the NUL-terminated `lit` without regard to ASCII case. */
bool cio_http_str_ieq(cio_http_str s, const char *lit);

/*
 * Take the next element of a comma-separated list (RFC 9110 section 5.6.1) from `*rest`: whitespace around it is
 * removed, empty elements are skipped, and commas inside quoted strings do not split.
 * Returns: 1 with an element; 0 when the list is exhausted. Errors: CIO_EHTTP_BAD_LIST (an unterminated quote).
 */
int cio_http_list_next(cio_http_str *rest, cio_http_str *elem);

/* Whether the list `value` has an element whose token (before any ";") is `token`, compared without case. */
bool cio_http_list_has(cio_http_str value, const char *token);

/*
 * Split a list element such as "gzip;q=0.8" into its token ("gzip") and its weight in thousandths (800; 1000 when
 * no q parameter). Other parameters are skipped.
 * Returns: 0. Errors: CIO_EHTTP_BAD_LIST (the token is not a token, a parameter is malformed, or q is not a valid
 *          qvalue such as "0", "0.5", "1.000").
 */
int cio_http_qvalue(cio_http_str elem, cio_http_str *token, int *q);

/* Whether `c` may appear in a token (RFC 9110 section 5.6.2): method and header names, codings. */
bool cio_http_is_tchar(int c);

/*
 * Take the next ";" parameter (RFC 9110 section 5.6.6) from `*rest`, which starts at a ";" or at whitespace
 * before one (as cio_http_media_type.params does): `name=value`, the value a token or a quoted string. For a
 * quoted one `*value` is its contents, raw (quoted-pairs still escaped; cio_http_param_get unescapes) and `*quoted`
 * is set. Whitespace around "=" and a single ";" with nothing after it at the end are allowed, as some senders
 * write them.
 * Returns: 1 with a parameter; 0 at the end. Errors: CIO_EHTTP_BAD_LIST (a malformed parameter).
 */
int cio_http_param_next(cio_http_str *rest, cio_http_str *name, cio_http_str *value, bool *quoted);

/*
 * The value of parameter `name` (compared without case) in `params`, a quoted string's quoted-pairs unescaped,
 * written to `dst` NUL-terminated.
 * Returns: its length. Errors: -ENOENT no such parameter; -ENOBUFS `cap` is not larger than the value;
 *          CIO_EHTTP_BAD_LIST a malformed parameter before it.
 */
ssize_t cio_http_param_get(cio_http_str params, const char *name, char *dst, size_t cap);

/* A parsed media type (RFC 9110 section 8.3.1), "type/subtype;param=value...": views into the value. */
typedef struct cio_http_media_type {
    cio_http_str type, subtype; /* as written: compare them without case */
    cio_http_str params;        /* from the first ";" (or the end) on, for cio_http_param_next/_get */
} cio_http_media_type;

/*
 * Parse a Content-Type (or Accept element) value; every parameter is checked.
 * Returns: 0. Errors: CIO_EHTTP_BAD_MEDIA_TYPE (no "type/subtype" of tokens, or a malformed parameter).
 */
int cio_http_media_type_parse(cio_http_media_type *mt, cio_http_str value);

/* Whether `mt` is `pattern`, "type/subtype" without case, where either part of the pattern may be "*". */
bool cio_http_media_type_is(const cio_http_media_type *mt, const char *pattern);

/*
 * The charset parameter of a media type, lower-cased, into `dst`.
 * Returns: its length. Errors: as cio_http_param_get (-ENOENT when there is none).
 */
ssize_t cio_http_media_type_charset(const cio_http_media_type *mt, char *dst, size_t cap);

/* ---- Dates (RFC 9110 section 5.6.7) ---- */

/* The length of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT". */
#define CIO_HTTP_DATE_LEN 29

/*
 * Format `t` (seconds since the epoch, UTC) as an IMF-fixdate into `dst`, NUL-terminated.
 * Returns: CIO_HTTP_DATE_LEN. Errors: -ERANGE a year outside 0-9999.
 */
int cio_http_date_format(char dst[CIO_HTTP_DATE_LEN + 1], int64_t t);

/*
 * Parse an HTTP date in any of the three formats a recipient must accept: IMF-fixdate, the obsolete RFC 850 form
 * ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years ahead is taken as the past century) and
 * asctime's ("Sun Nov  6 08:49:37 1994"). Surrounding whitespace is ignored; the day name must be right for the
 * date when given, as the RFC requires of IMF-fixdate, but is not checked for the obsolete forms.
 * Returns: 0, with `*t` in seconds since the epoch. Errors: CIO_EHTTP_BAD_DATE.
 */
int cio_http_date_parse(cio_http_str s, int64_t *t);

/*
 * The current time as an IMF-fixdate, formatted at most once a second on each thread (so once a second per loop):
 * for a Date field. The string belongs to the thread and changes when the second does; copy it before waiting.
 */
const char *cio_http_date_now(void);

/* ---- Ranges (RFC 9110 section 14) ---- */

/* One byte range, resolved against a representation's size: bytes first..last, both included. */
typedef struct cio_http_range {
    uint64_t first, last;
} cio_http_range;

/*
 * Parse a Range value ("bytes=0-99,200-,-500") for a representation of `size` bytes into at most `max` ranges:
 * open-ended ranges end at the last byte, suffix ranges ("-500") are the last bytes, and ranges that start past the
 * end are dropped as unsatisfiable. When the ranges left overlap or touch, they are sorted and coalesced (so a
 * client cannot ask for more bytes than the representation has); otherwise their order is kept.
 * Returns: the number of ranges (1 to max). Errors: CIO_EHTTP_BAD_RANGE a value that is not a byte-range set (a
 *          server ignores the field and sends the whole representation); CIO_EHTTP_RANGE_NOT_SATISFIABLE no range
 *          overlaps the representation (416, with a Content-Range of "bytes", an asterisk, "/" and the size);
 * CIO_EHTTP_TOO_MANY_RANGES more than `max` once coalesced (a server sends the whole, as nginx's max_ranges does).
 */
int cio_http_range_parse(cio_http_str value, uint64_t size, cio_http_range *ranges, size_t max);

/*
 * Parse a Content-Range value: "bytes first-last/size" or with an asterisk for the size (`*size` UINT64_MAX), or the
 * unsatisfied form, an asterisk before "/size" (`*first` and `*last` UINT64_MAX).
 * Returns: 0. Errors: CIO_EHTTP_BAD_RANGE (malformed, last before first, or last not below a known size).
 */
int cio_http_content_range_parse(cio_http_str value, uint64_t *first, uint64_t *last, uint64_t *size);

/* ---- Entity tags (RFC 9110 section 8.8.3) ---- */

/*
 * Take the next entity-tag ('"opaque"' or 'W/"opaque"') from a comma-separated list such as If-None-Match.
 * `*tag` is the whole entity-tag as written, `*opaque` the part between the quotes.
 * Returns: 1 with one; 0 at the end. Errors: CIO_EHTTP_BAD_ETAG.
 */
int cio_http_etag_next(cio_http_str *rest, cio_http_str *tag, cio_http_str *opaque, bool *weak);

/* cio_http_etag_match flags */
#define CIO_HTTP_ETAG_WEAK 0x1u /* weak comparison (If-None-Match); the default is strong (If-Match, If-Range) */

/*
 * Whether the entity-tag `etag` (as a server would send it, say 'W/"x"') matches the list `list` (the value of
 * If-Match or If-None-Match): "*" matches any; otherwise an element matches by the comparison the flags choose
 * (strong: neither weak and the opaque parts equal; weak: the opaque parts equal).
 * Returns: 1 a match; 0 none. Errors: CIO_EHTTP_BAD_ETAG (`list` or `etag` malformed).
 */
int cio_http_etag_match(cio_http_str list, cio_http_str etag, unsigned flags);

/* ---- Cookies (RFC 6265; SameSite and Partitioned from their drafts) ---- */

/*
 * Take the next "name=value" pair from a Cookie value, advancing `*rest` (pairs are separated by ";" and
 * whitespace). A value in double quotes is given without them. Pairs without "=" or with an empty name are
 * skipped, as browsers send them and servers ignore them.
 * Returns: 1 with a pair; 0 at the end.
 */
int cio_http_cookie_next(cio_http_str *rest, cio_http_str *name, cio_http_str *value);

/* cio_http_set_cookie.same_site */
enum cio_http_same_site {
    CIO_HTTP_SAME_SITE_UNSET = 0,
    CIO_HTTP_SAME_SITE_NONE,
    CIO_HTTP_SAME_SITE_LAX,
    CIO_HTTP_SAME_SITE_STRICT,
};

/* A Set-Cookie field: what cio_http_set_cookie_parse finds (views into the value) or what _format writes. */
typedef struct cio_http_set_cookie {
    cio_http_str name, value;
    cio_http_str domain; /* without a leading "." when parsed; ptr NULL: none */
    cio_http_str path;   /* ptr NULL: none */
    int64_t expires;     /* seconds since the epoch; INT64_MIN: none */
    int64_t max_age;     /* seconds (0 or less: expire now); INT64_MIN: none */
    int same_site;       /* enum cio_http_same_site */
    bool secure, http_only, partitioned;
} cio_http_set_cookie;

/* A cookie with no attributes: expires and max_age INT64_MIN. */
#define CIO_HTTP_SET_COOKIE_INIT                   \
    {                                              \
        .expires = INT64_MIN, .max_age = INT64_MIN \
    }

/*
 * Parse a Set-Cookie value as a user agent does (RFC 6265 section 5.2): the name-value pair, then attributes by
 * name without case; an attribute with a bad value (an unparseable Expires, a non-numeric Max-Age, an unknown
 * SameSite) and unknown attributes are ignored; the last of an attribute given twice wins.
 * Returns: 0. Errors: CIO_EHTTP_BAD_COOKIE (no "=", an empty name, or a control character).
 */
int cio_http_set_cookie_parse(cio_http_set_cookie *c, cio_http_str value);

/*
 * Write a Set-Cookie value (without the field name) for `c`, strictly: the name a token, the value cookie-octets
 * (RFC 6265 section 4.1.1; no space, comma, semicolon, backslash, double quote or control byte), the domain a host
 * name, the path free of ";" and control bytes; SameSite=None and Partitioned only with Secure; the "__Secure-"
 * prefix only with Secure, "__Host-" only with Secure, Path=/ and no Domain. Nothing a caller passes can add an
 * attribute or a header.
 * Returns: the length written (NUL-terminated). Errors: CIO_EHTTP_BAD_COOKIE (and nothing is written);
 *          -ENOBUFS `cap` too small.
 */
ssize_t cio_http_set_cookie_format(char *dst, size_t cap, const cio_http_set_cookie *c);

/* ---- Messages on streams: heads ---- */

/*
 * Read a request head from `s` in place, waiting for its bytes as they come (bounded by the stream's read timeout,
 * cio_stream_set_read_timeout, which a server sets for a head that trickles in). `h` must have been through
 * cio_http_head_init. The views in `h` point into the stream's buffer: the head's bytes stay there, unconsumed,
 * until a body reader given the returned length (cio_http_body_opts.skip) consumes them, and the views are valid
 * until that reader's first call or any other read call on the stream. Bytes after the head (its body, pipelined
 * requests) stay in the stream.
 * Returns: the head's length (> 0), which the caller consumes (through the body reader, or cio_stream_consume).
 * Errors: CIO_EPEERCLOSED the stream ended before the head's first byte (a kept connection closing between
 *         requests); CIO_EHTTP_HEAD_TRUNCATED it ended within the head; the parser's CIO_EHTTP_* errors (see
 *         cio_http_parse_request; CIO_EHTTP_HEAD_TOO_LARGE also when the head outgrows the stream's limit);
 *         CIO_EREADTIMEOUT, -ETIMEDOUT, -ECANCELED; the stream's read errors; -EBUSY another task is reading.
 */
ssize_t cio_http_read_request(cio_stream *s, cio_http_head *h, const cio_http_parse_opts *opts);

/* The same for a response head (cio_http_parse_response's rules). A 1xx response is a head of its own: read
   again for the final one. */
ssize_t cio_http_read_response(cio_stream *s, cio_http_head *h, const cio_http_parse_opts *opts);

/* ---- Messages on streams: bodies ---- */

/*
 * A body reader in caller storage: it reads one message body off a stream in the framing the head set (a
 * length, chunked, until the peer closes, or none), in place where it can: a chunk it hands out is a view of the
 * stream's buffer, valid until the reader's next call. Every way of reading counts against a size limit, passing
 * which is an error (never a silent truncation), and a body the peer cuts short is an error of its own. Once a
 * reader has returned the end, the stream holds exactly what came after the body (the next message).
 */
typedef struct cio_http_body_in {
    uint64_t opaque[20];
} cio_http_body_in;

typedef struct cio_http_body_opts {
    /* The most bytes the reader hands out in all (after decoding, when it decodes). 0: 1 GiB. A Content-Length
       above it fails at init. */
    uint64_t max_size;
    /* Bytes to consume from the stream before the body: the head's length, as cio_http_read_* returned it (the
       head's views die at the reader's first call). */
    size_t skip;
    /* Limits of chunked framing (max_ext, max_trailers; flags CIO_HTTP_LENIENT_LF). */
    cio_http_chunked_opts chunked;
    /* Keep a chunked body's trailer section for cio_http_body_trailers instead of skipping it. */
    bool keep_trailers;
    /* A server's reader of a request with Expect: 100-continue: send "HTTP/1.1 100 Continue" before the first wait
       for body bytes (the client waits for it), unless the body is empty. */
    bool send_continue;
    /* The longest line cio_http_body_next_line returns; 0: 64 KiB. */
    size_t max_line;
    /* Decode the body's content codings (aiohttp's auto_decompress): with cio_http_body_init_request/_response,
       those the head's Content-Encoding lists; with cio_http_body_init, those in `content_encoding`. Every way of
       reading then hands out decoded bytes, and max_size bounds them (a decompression bomb is
       CIO_EHTTP_BODY_LIMIT after at most max_size bytes and one buffer of work). */
    bool decode;
    cio_http_str content_encoding;
} cio_http_body_opts;

/*
 * Start reading a body of framing `framing` (enum cio_http_body; `length` for CIO_HTTP_BODY_LENGTH) from `s`.
 * CIO_HTTP_BODY_TUNNEL reads as until-close. `opts` may be NULL.
 * Errors: -EINVAL bad arguments; CIO_EHTTP_BODY_TOO_LARGE a length above max_size (of the coded bytes, when
 *         decoding); with decode, CIO_EHTTP_CODING_UNSUPPORTED a coding not decoded here (a server answers 415),
 *         CIO_EHTTP_BAD_LIST, -ENOMEM. Nothing is read yet.
 * Ownership: the reader keeps `s` (which must outlive it) and nothing of `opts`; finish with cio_http_body_fini.
 */
int cio_http_body_init(cio_http_body_in *b, cio_stream *s, int framing, uint64_t length,
                       const cio_http_body_opts *opts);

/* cio_http_body_init with the framing of a request head (cio_http_request_body) or of a response head to a
   request with `method` (cio_http_response_body; NULL for GET). */
int cio_http_body_init_request(cio_http_body_in *b, cio_stream *s, const cio_http_head *h, const cio_http_body_opts *o);
int cio_http_body_init_response(cio_http_body_in *b, cio_stream *s, const cio_http_head *h, const char *method,
                                const cio_http_body_opts *o);

/*
 * `async for chunk in body`: the next piece of the body, as a view valid until the reader's next call.
 * Returns: 1 with a piece (len > 0); 0 at the end of the body (the stream then holds what follows it).
 * Errors: CIO_EHTTP_BODY_TRUNCATED the stream ended before the body did; CIO_EHTTP_BODY_LIMIT the body is longer
 *         than max_size; when decoding, CIO_EHTTP_CODING_CORRUPT (or bytes after the coded stream) and
 *         CIO_EHTTP_CODING_TRUNCATED (the body ended within it): never partial data taken for whole; chunked framing
 * errors (CIO_EHTTP_BAD_CHUNK_SIZE, ...); the stream's read errors, CIO_EREADTIMEOUT, -ETIMEDOUT, -ECANCELED. An error
 * sticks (every later call returns it), except a wait cut short (a timeout, cancellation) or -EBUSY, after which
 * reading may go on.
 */
int cio_http_body_next(cio_http_body_in *b, const void **data, size_t *len);

/* Read up to `cap` (> 0) bytes of the body into `buf`. Returns the count, 0 at the end; errors as _next. */
ssize_t cio_http_body_read(cio_http_body_in *b, void *buf, size_t cap);

/*
 * Read the rest of the body into `out` (allocated through cio's allocator, NUL-terminated, freed with
 * cio_buf_free). Returns 0. Errors: as _next, -ENOMEM; on error `out` is empty.
 */
int cio_http_body_read_all(cio_http_body_in *b, cio_buf *out);

/*
 * The next line of the body, up to and including "
" (the last one may lack it), as a view valid until the
 * reader's next call: `async for line in body`. Returns 1 with a line, 0 at the end.
 * Errors: -EMSGSIZE a line longer than max_line; as _next.
 */
int cio_http_body_next_line(cio_http_body_in *b, const char **line, size_t *len);

/* Read and drop the rest of the body, so that the stream's next bytes are the next message. Returns 0 at the
   end; errors as _next (a body longer than max_size is an error here too: close the connection then). */
int cio_http_body_discard(cio_http_body_in *b);

/* Write the rest of the body to `f` (cio_file_write, on the thread pool). Returns the bytes written; errors as
   _next, and the file's. */
ssize_t cio_http_body_save(cio_http_body_in *b, cio_file *f);

/* Whether the reader has returned the end of the body. */
bool cio_http_body_done(const cio_http_body_in *b);

/*
 * A reader opened with send_continue: send the "100 Continue" now rather than at the first wait for body bytes.
 * A server that starts its final response before reading the body calls this first, since no 100 may follow a
 * final response (RFC 9110 section 15.2.1) and the client may be waiting for one before it sends the body.
 * Returns 0 (also when none was pending); the stream's write errors. _pending says whether one still is.
 */
int cio_http_body_continue(cio_http_body_in *b);
bool cio_http_body_continue_pending(const cio_http_body_in *b);

/* The bytes handed out so far. */
uint64_t cio_http_body_count(const cio_http_body_in *b);

/*
 * After the end of a chunked body read with keep_trailers: parse its trailer section into `t` (headers array the
 * caller's, cio_http_head_init'ed), views valid until the reader's next call or cio_http_body_fini. Returns the
 * number of trailer fields. Errors: -EINVAL not at the end, or no trailers kept; the parser's errors.
 */
int cio_http_body_trailers(cio_http_body_in *b, cio_http_head *t);

/* Release what the reader holds (decoders, line buffer) and consume what its last view covered. It does not read
   the rest of the body: discard first to reuse the connection. */
void cio_http_body_fini(cio_http_body_in *b);

/* ---- Content codings (RFC 9110 section 8.4) ---- */

enum cio_http_coding {
    CIO_HTTP_CODING_IDENTITY = 0,
    CIO_HTTP_CODING_GZIP = 1,    /* zlib's gzip format; "x-gzip" reads as it */
    CIO_HTTP_CODING_DEFLATE = 2, /* read zlib-wrapped or raw (as browsers accept both), written zlib-wrapped */
    CIO_HTTP_CODING_BR = 3,      /* Brotli (libbrotli) */
    CIO_HTTP_CODING_ZSTD = 4,    /* Zstandard (libzstd), its window at most 8 MiB (RFC 9659) */
};
#define CIO_HTTP_CODING_BIT(c) (1u << (c))
/* The most codings one body may stack (Content-Encoding: gzip, br). */
#define CIO_HTTP_MAX_CODINGS 4

/* The coding a name names (case-insensitive), or CIO_EHTTP_CODING_UNSUPPORTED; and the name of a coding (NULL for
   none). */
int cio_http_coding_from_name(cio_http_str name);
const char *cio_http_coding_name(int coding);

/*
 * A Content-Encoding value into `codings` in the order they were applied (the first listed, the first applied:
 * decode from the last). identity is dropped.
 * Returns: the count. Errors: CIO_EHTTP_CODING_UNSUPPORTED a coding other than those above, or more than `max`;
 *          CIO_EHTTP_BAD_LIST; -EINVAL.
 */
int cio_http_codings_parse(cio_http_str value, int *codings, size_t max);

/*
 * A server's choice of coding for a response, from the request's Accept-Encoding (`present` false: no such field)
 * and the codings it offers (a mask of CIO_HTTP_CODING_BIT). Weights as RFC 9110 section 12.5.3 gives them: a
 * coding named with q=0, or not named with no "*", is not acceptable; the highest weight wins, ties going to br,
 * zstd, gzip, deflate in that order; identity is the fallback unless refused ("identity;q=0", or "*;q=0" without
 * identity). No Accept-Encoding at all: identity (the client did not ask for compression).
 * Returns: the coding. Errors: -ENOENT  nothing acceptable, identity included (a server may answer 406, or send
 *          identity anyway).
 */
int cio_http_accept_coding(cio_http_str accept, bool present, unsigned offered);

/* ---- Messages on streams: writing ---- */

/* The standard reason phrase of `status` ("Not Found"), or "" for one RFC 9110 does not name. */
const char *cio_http_reason(int status);

/*
 * A message head being built, in caller storage: a start line, then header fields, then the end. Every piece is
 * checked as it is added, so that no caller can inject a field or split a message (CR, LF and NUL are refused
 * everywhere, names must be tokens, values field-content, the method a token, the target free of spaces and
 * controls, the status 100-999); the first refusal sticks and is what cio_http_head_out_end returns.
 * With a buffer of the caller's the head must fit in it (-ENOSPC); with NULL, cio's allocator grows one as needed
 * (freed by cio_http_head_out_fini).
 */
typedef struct cio_http_head_out {
    char *buf;
    size_t len, cap;
    int err;
    bool owned;
    unsigned state;
} cio_http_head_out;

void cio_http_head_out_init(cio_http_head_out *w, char *buf, size_t cap);
void cio_http_head_out_fini(cio_http_head_out *w);
/* "METHOD target HTTP/1.1" (minor_version 0 or 1). */
int cio_http_head_out_request(cio_http_head_out *w, const char *method, const char *target, int minor_version);
/* "HTTP/1.1 status reason" (reason NULL: the standard one). */
int cio_http_head_out_status(cio_http_head_out *w, int status, const char *reason, int minor_version);
/* One field; the value's surrounding spaces and tabs are an error, not trimmed (what was asked is what is sent). */
int cio_http_head_out_header(cio_http_head_out *w, const char *name, const char *value);
int cio_http_head_out_header_n(cio_http_head_out *w, const char *name, size_t nlen, const char *value, size_t vlen);
int cio_http_head_out_header_u64(cio_http_head_out *w, const char *name, uint64_t value);
/*
 * Close the head (the final CRLF). Returns its length, the bytes at w->buf.
 * Errors: the first refusal: CIO_EHTTP_BAD_FIELD, -EINVAL a field before the start line or after the end,
 *         -ENOSPC the caller's buffer is full, -ENOMEM.
 */
ssize_t cio_http_head_out_end(cio_http_head_out *w);
/* cio_http_head_out_end, then write the head to `s` (cio_stream_write). Returns 0 or an error of either. */
int cio_http_head_out_send(cio_http_head_out *w, cio_stream *s);

/* Write "HTTP/1.1 100 Continue" (a server about to read a body whose client waits for it). */
int cio_http_write_continue(cio_stream *s);

/*
 * A body writer in caller storage, for the framing the head declared: CIO_HTTP_BODY_LENGTH (exactly `length`
 * bytes: more is an error, fewer an error at the end), CIO_HTTP_BODY_CHUNKED (each write one chunk, the end the
 * last chunk and trailers), CIO_HTTP_BODY_UNTIL_CLOSE (the caller closes the stream after it), or
 * CIO_HTTP_BODY_NONE (nothing may be written). Writes go through the stream, so they back-pressure as it does
 * (they wait above its high-water mark): a producer that loops writing cannot outrun the peer.
 */
typedef struct cio_http_body_out {
    cio_stream *s;
    uint64_t left, count;
    int framing;
    int err;
    bool ended;
    void *coder; /* cio_http_body_out_set_coding's encoder */
} cio_http_body_out;

/* Errors: -EINVAL a NULL stream or an unknown framing. */
int cio_http_body_out_init(cio_http_body_out *w, cio_stream *s, int framing, uint64_t length);
/* Errors: CIO_EHTTP_BODY_OVERRUN past the declared length (nothing is written); -EINVAL after the end or with
   CIO_HTTP_BODY_NONE; the stream's write errors. A chunked write of 0 bytes writes nothing (it is not the end). */
int cio_http_body_out_write(cio_http_body_out *w, const void *data, size_t len);
/* Send `count` bytes of `file_fd` from `offset` (cio_stream_sendfile: the kernel's sendfile over plain TCP, the
   file read and written over TLS), framed as the writer's framing requires. Returns the bytes sent. */
ssize_t cio_http_body_out_sendfile(cio_http_body_out *w, int file_fd, off_t offset, size_t count);
/* Wait until the stream's output is below its low-water mark (cio_stream_drain). */
int cio_http_body_out_drain(cio_http_body_out *w);
/*
 * End the body: the last chunk and `trailers` (a head built with only header fields, or NULL) for chunked; a
 * check for the others. Returns 0. Errors: CIO_EHTTP_BODY_SHORT fewer bytes than the declared length were written;
 * -EINVAL trailers for a body that is not chunked, or a second end; the stream's write errors.
 */
int cio_http_body_out_end(cio_http_body_out *w, cio_http_head_out *trailers);

/*
 * Compress what is written from here on with `coding` (CIO_HTTP_CODING_GZIP, _DEFLATE, _BR, _ZSTD) at `level` (0:
 * gzip 6, br 5, zstd 3), the head having said so in Content-Encoding. Each write is compressed as it comes (the
 * encoder may hold bytes back until more come or the end); cio_http_body_out_drain flushes nothing extra; the end
 * finishes the coded stream. `count` stays the bytes given (before coding).
 * Errors: -EINVAL a framing other than chunked or until-close (a length cannot be known before compressing), a bad
 *         coding or level, after a write; -ENOMEM. Free with cio_http_body_out_fini if the body is not ended.
 */
int cio_http_body_out_set_coding(cio_http_body_out *w, int coding, int level);
/* Release the encoder of a writer that was not ended (an error path). Idempotent; a writer without one is fine. */
void cio_http_body_out_fini(cio_http_body_out *w);

/* ---- Multipart ---- */

/*
 * multipart/form-data (RFC 7578), framed as RFC 2046 section 5.1 says: a preamble (ignored), parts each opened by
 * a delimiter line ("--" boundary) and a header block, and a close delimiter ("--" boundary "--") after which the
 * epilogue is ignored. The parser is pure and incremental: it reads the caller's buffer (say, a stream's, through
 * cio_stream_peek), hands back views into it, and says how many bytes it is done with (cio_stream_consume them).
 */

/* A boundary's length limit (RFC 2046 section 5.1.1), and the length of those cio_http_multipart_boundary_new makes. */
#define CIO_HTTP_MP_MAX_BOUNDARY 70
#define CIO_HTTP_MP_NEW_BOUNDARY 36

/*
 * The boundary of a Content-Type value such as `multipart/form-data; boundary="abc"`: the type must be multipart
 * (any subtype), the boundary parameter present once, token or quoted (a quoted one without backslashes), and
 * 1-70 of RFC 2046's bchars (letters, digits, '()+_,-./:=? and space), not ending in a space.
 *
 * Returns: 0; `*boundary` is the boundary, a view into `content_type` without quotes; `*subtype` (may be NULL)
 *          the subtype, e.g. "form-data", to compare with cio_http_str_ieq.
 * Errors:  CIO_EHTTP_MP_NOT_MULTIPART  the media type is not multipart/<subtype>.
 *          CIO_EHTTP_BAD_LIST  a parameter is malformed (say, an unquoted value with a '/').
 *          CIO_EHTTP_MP_BAD_BOUNDARY  no boundary parameter, two of them, or a boundary outside the rules above.
 * Ownership: the views point into `content_type`.
 */
int cio_http_multipart_boundary(cio_http_str *boundary, cio_http_str *subtype, cio_http_str content_type);

/* Limits for the multipart parser. NULL, or a zero field, means the default. */
typedef struct cio_http_multipart_opts {
    size_t max_parts;       /* parts per body; default 1000 (EHTTP_MP_TOO_MANY_PARTS) */
    size_t max_head;        /* a part's header block with its empty line; default 16 KiB (EHTTP_MP_HEADERS_TOO_LARGE) */
    uint64_t max_part_size; /* data bytes per part; default no limit (EHTTP_MP_PART_TOO_LARGE) */
    unsigned flags;         /* CIO_HTTP_LENIENT_LF: LF alone ends delimiter and header lines; else a bare LF is an
                               error (CIO_EHTTP_BARE_LF), also before a delimiter in part data */
} cio_http_multipart_opts;

/* A multipart parser's state, in caller storage; it holds a copy of the boundary and no pointer. */
typedef struct cio_http_multipart {
    uint64_t opaque[20];
} cio_http_multipart;

/* What cio_http_multipart_next returns besides errors; iteration ends at CIO_HTTP_MP_END, which is 0. */
enum cio_http_multipart_kind {
    CIO_HTTP_MP_END = 0,  /* the close delimiter: the body is complete; later calls discard the epilogue */
    CIO_HTTP_MP_PART = 1, /* a part begins: its header fields are in ev->head */
    CIO_HTTP_MP_DATA,     /* some of the part's data: ev->data */
    CIO_HTTP_MP_PART_END, /* the part's data ended (its delimiter was found) */
};

/* One event, in caller storage. Call cio_http_head_init(&ev->head, headers, max_headers) once before the first call:
   each part's fields go into that array, and max_headers is the per-part field limit. */
typedef struct cio_http_multipart_event {
    cio_http_head head; /* CIO_HTTP_MP_PART: the part's header fields, views into `buf` (cio_http_header_find) */
    cio_http_str data;  /* CIO_HTTP_MP_DATA: part data, a view into `buf`, never empty */
    size_t consumed;    /* bytes at the front of `buf` the parser is done with: use the views, then consume these */
    size_t want;        /* -EAGAIN: the next call needs at least this many bytes: the ones kept after `consumed`,
                           which might begin a delimiter or are an incomplete header block, and one more; else 0 */
    size_t part;        /* the part the event belongs to, from 0; at CIO_HTTP_MP_END, the number of parts */
} cio_http_multipart_event;

/*
 * Start parsing a body whose Content-Type gave `boundary` (cio_http_multipart_boundary). `opts` may be NULL; it is
 * copied, as is the boundary.
 * Returns: 0. Errors: CIO_EHTTP_MP_BAD_BOUNDARY (not 1-70 bchars, or ending in a space).
 */
int cio_http_multipart_init(cio_http_multipart *m, cio_http_str boundary, const cio_http_multipart_opts *opts);

/*
 * Take the next event from `buf[0..len)`: the body's bytes not consumed yet, followed by any that arrived since.
 * `eof` says that no more bytes will follow (the body ended). Data is never copied: DATA views point into `buf`,
 * and only bytes that might begin a delimiter ("\r\n--boundary" cut short by the end of `buf`) or belong to an
 * incomplete header block are held back. A header block is given whole, so the caller's buffer must be able to
 * hold opts->max_head bytes. The delimiter's CRLF belongs to the delimiter, not to the data before it.
 *
 * Returns: CIO_HTTP_MP_PART, _DATA or _PART_END, with ev->consumed; CIO_HTTP_MP_END (0) once the close delimiter
 *          is read (consumed through it; calls after that consume all of `buf`, the epilogue, and return 0 again).
 * Errors:  -EAGAIN  more bytes are needed: consume ev->consumed (possibly 0) and call again with at least ev->want.
 *          CIO_EHTTP_MP_TRUNCATED  `eof`, and the close delimiter has not been read (also for a body without any).
 *          CIO_EHTTP_MP_BAD_DELIMITER  a boundary followed by other than transport padding (spaces, tabs) and
 *          CRLF, or "--"; CIO_EHTTP_BARE_LF  a delimiter or header line ends in LF alone (without
 *          CIO_HTTP_LENIENT_LF); CIO_EHTTP_BARE_CR  a delimiter line's CR not followed by LF;
 *          CIO_EHTTP_MP_TOO_MANY_PARTS, _MP_HEADERS_TOO_LARGE, _MP_PART_TOO_LARGE  a limit;
 *          the errors of cio_http_parse_trailers for a part's header block (CIO_EHTTP_OBS_FOLD,
 *          _BAD_HEADER_NAME, _SPACE_BEFORE_COLON, _BAD_HEADER_VALUE, _TOO_MANY_HEADERS, ...).
 *          After an error the parser is spent: every later call returns the same error.
 * Ownership: the views in `ev` point into `buf` and are valid while those bytes are; cio keeps no pointer.
 */
int cio_http_multipart_next(cio_http_multipart *m, cio_http_multipart_event *ev, const char *buf, size_t len, bool eof);

/* cio_http_disposition.flags: which parameters were present, and how each was written. */
#define CIO_HTTP_DISP_NAME            0x01u /* name= */
#define CIO_HTTP_DISP_FILENAME        0x02u /* filename= */
#define CIO_HTTP_DISP_NAME_EXT        0x04u /* name*= (RFC 8187) */
#define CIO_HTTP_DISP_FILENAME_EXT    0x08u /* filename*= (RFC 8187) */
#define CIO_HTTP_DISP_NAME_QUOTED     0x10u /* name was a quoted string */
#define CIO_HTTP_DISP_FILENAME_QUOTED 0x20u /* filename was a quoted string */

/* A parsed Content-Disposition value (RFC 6266, RFC 7578 section 4.2): views into the value, still encoded. */
typedef struct cio_http_disposition {
    cio_http_str type;         /* the disposition type as sent: "form-data", "attachment", "inline", ... */
    cio_http_str name;         /* a token, or a quoted string's contents without the quotes */
    cio_http_str filename;     /* likewise */
    cio_http_str name_ext;     /* an RFC 8187 ext-value: charset "'" [language] "'" percent-encoded bytes */
    cio_http_str filename_ext; /* likewise */
    unsigned flags;            /* CIO_HTTP_DISP_* */
} cio_http_disposition;

/*
 * Parse a Content-Disposition value: a token, then "; name=value" parameters (token or quoted string; an ext-value
 * for a name ending in "*"), names compared without case; parameters other than those above are checked and
 * skipped.
 * Returns: 0. Errors: CIO_EHTTP_MP_BAD_DISPOSITION (no type, a malformed parameter, a control character, or a
 *          parameter given twice, which could be read two ways); CIO_EHTTP_MP_BAD_EXT_VALUE (filename* or name*
 *          not charset'language'value-chars, or quoted).
 * Ownership: the views point into `value`.
 */
int cio_http_disposition_parse(cio_http_disposition *d, cio_http_str value);

/*
 * Decode the field name (name*, else name) or the file name (filename*, else filename) into `dst`, followed by a
 * NUL. An ext-value in UTF-8 is percent-decoded and must be valid UTF-8; one in ISO-8859-1 is converted to UTF-8;
 * one in another charset is ignored in favour of the plain parameter. A quoted string loses its quoted-pair
 * backslashes, and %22, %0D and %0A become '"', CR and LF, undoing the escaping browsers apply (WHATWG HTML,
 * "multipart/form-data encoding algorithm"); other percent signs stay as they are.
 *
 * Returns: the decoded length, without the NUL (a name may be empty: a browser sends filename="" for no file).
 * Errors:  -ENOENT  no such parameter (nor a usable ext-value); -ENOBUFS  `cap` is not larger than the result;
 *          CIO_EHTTP_MP_BAD_EXT_VALUE  a bad percent-encoding, invalid UTF-8, or (with no plain parameter to fall
 *          back on) a charset other than UTF-8 and ISO-8859-1.
 */
ssize_t cio_http_disposition_name(const cio_http_disposition *d, char *dst, size_t cap);
ssize_t cio_http_disposition_filename(const cio_http_disposition *d, char *dst, size_t cap);

/* The longest name cio_http_filename_sanitize makes, in bytes (NAME_MAX on Linux). */
#define CIO_HTTP_FILENAME_MAX 255

/*
 * Make a client's file name (decoded, as cio_http_disposition_filename gives it) safe to save under a directory:
 * everything up to the last '/' or '\\' is dropped, then every control character (0x00-0x1f, 0x7f), then the
 * leading dots (so neither "." nor ".." nor a hidden file remains). A result longer than CIO_HTTP_FILENAME_MAX or
 * cap - 1 bytes is cut at a UTF-8 character boundary, keeping an extension of up to 16 bytes. An empty result is
 * replaced by `fallback` (NULL: "upload"). `dst` gets a NUL after the name.
 * Returns: the name's length. Errors: -ENOBUFS  `cap` is 0, or too small for the fallback.
 */
ssize_t cio_http_filename_sanitize(char *dst, size_t cap, cio_http_str name, const char *fallback);

/*
 * Make a new boundary from the kernel's CSPRNG (getrandom): "cio-" and 32 hex digits (128 random bits), with a NUL,
 * in `dst`: CIO_HTTP_MP_NEW_BOUNDARY bytes and the NUL.
 * Returns: CIO_HTTP_MP_NEW_BOUNDARY. Errors: -ENOBUFS  cap <= CIO_HTTP_MP_NEW_BOUNDARY; a getrandom error.
 */
int cio_http_multipart_boundary_new(char *dst, size_t cap);

/* cio_http_multipart_delimiter flags */
#define CIO_HTTP_MP_FIRST 0x1u /* the body's first delimiter: no CRLF before it */
#define CIO_HTTP_MP_CLOSE 0x2u /* the close delimiter: "--" after the boundary */

/*
 * Write a delimiter line into `dst[0..cap)`, snprintf style: "\r\n--boundary\r\n", without the leading CRLF for
 * CIO_HTTP_MP_FIRST, and "--boundary--\r\n" at the end for CIO_HTTP_MP_CLOSE (both flags: a body without parts).
 * Returns: the length of the whole line, which was written (with a NUL) if it is below `cap`, else cut short.
 * Errors:  CIO_EHTTP_MP_BAD_BOUNDARY  `boundary` is not 1-70 bchars or ends in a space.
 */
ssize_t cio_http_multipart_delimiter(char *dst, size_t cap, cio_http_str boundary, unsigned flags);

/*
 * Write a part's header block into `dst[0..cap)`, snprintf style: "Content-Disposition: form-data; name=\"...\"",
 * "; filename=\"...\"" when filename.ptr is not NULL (an empty one is sent as ""), CRLF, "Content-Type: ..." CRLF
 * when `content_type` (NUL-terminated) is not NULL, and the empty line. In the name and the file name, '"', CR and
 * LF are written as %22, %0D and %0A, as browsers do (WHATWG HTML); other bytes, UTF-8 included, go as they are.
 * Returns: the block's length, which was written (with a NUL) if it is below `cap`, else cut short.
 * Errors:  -EINVAL  a control character other than CR, LF and HTAB in the name or file name, or any control
 *          character in `content_type`: a header cannot carry them.
 */
ssize_t cio_http_multipart_part_head(char *dst, size_t cap, cio_http_str name, cio_http_str filename,
                                     const char *content_type);

/* ---- Multipart on streams: forms read and written ---- */

/*
 * A multipart/form-data body read as a sequence of parts, each a reader of its own (aiohttp's MultipartReader):
 * the parser above over a body reader, so it works for any framing and coding of the body. Part data is handed
 * out as views of the form's buffer (one allocation per form, never per part or chunk), valid until the form's
 * next call, so a file part can go to disk as it comes.
 */
typedef struct cio_http_form cio_http_form;

/*
 * Open a form over `body`, whose head is `h` (its Content-Type gives the boundary). `opts` may be NULL;
 * `max_headers` fields are kept per part (0: 16).
 * Errors: CIO_EHTTP_MP_NOT_MULTIPART, _MP_BAD_BOUNDARY and the other errors of cio_http_multipart_boundary (no
 *         Content-Type: CIO_EHTTP_MP_NOT_MULTIPART); -ENOMEM; -EINVAL.
 * Ownership: the form reads `body`, which must outlive it; close it with cio_http_form_close.
 */
int cio_http_form_open(cio_http_form **out, cio_http_body_in *body, const cio_http_head *h,
                       const cio_http_multipart_opts *opts, size_t max_headers);

/*
 * The next part (the rest of the current one, if any, is skipped): 1 with `*head` its header fields (views valid
 * until the form's next call), 0 at the end of the form.
 * Errors: the parser's (CIO_EHTTP_MP_TRUNCATED a body that ended before its close delimiter, ...) and the body
 *         reader's. Errors stick.
 */
int cio_http_form_next_part(cio_http_form *f, const cio_http_head **head);

/* The current part's name and file name from its Content-Disposition, decoded (cio_http_disposition_name and
   _filename) into `dst`: their lengths. Errors: -ENOENT none; CIO_EHTTP_MP_BAD_DISPOSITION; -ENOBUFS. The file
   name is the client's: cio_http_filename_sanitize it before it names a file. */
ssize_t cio_http_form_part_name(cio_http_form *f, char *dst, size_t cap);
ssize_t cio_http_form_part_filename(cio_http_form *f, char *dst, size_t cap);

/* The current part's data, piece by piece: 1 with a view (valid until the form's next call), 0 at the part's end.
   Errors: as _next_part. */
int cio_http_form_part_next(cio_http_form *f, const void **data, size_t *len);

/* Write the rest of the current part's data to `file` (cio_file_write). Returns the bytes written. */
ssize_t cio_http_form_part_save(cio_http_form *f, cio_file *file);

/* Release the form (not the body reader). NULL is ignored. */
void cio_http_form_close(cio_http_form *f);

/*
 * Writing a form (an upload) through a body writer: parts as delimiter, header block and data (from memory or a
 * file, sent with sendfile over plain TCP). With CIO_HTTP_BODY_LENGTH the caller declares the whole length:
 * cio_http_form_out_overhead gives each part's framing bytes, to add to the data's sizes.
 */
typedef struct cio_http_form_out {
    cio_http_body_out *body;
    char boundary[CIO_HTTP_MP_MAX_BOUNDARY + 1];
    size_t parts;
    int err;
} cio_http_form_out;

/* Start a form with `boundary` (NULL: a new random one, cio_http_multipart_boundary_new), read back from
   w->boundary for the Content-Type. Errors: CIO_EHTTP_MP_BAD_BOUNDARY; getrandom's. */
int cio_http_form_out_init(cio_http_form_out *w, cio_http_body_out *body, const char *boundary);
/* Begin a part (filename NULL: a plain field; content_type may be NULL). Errors: -EINVAL a control character in a
   name, the writer's errors. */
int cio_http_form_out_part(cio_http_form_out *w, const char *name, const char *filename, const char *content_type);
int cio_http_form_out_write(cio_http_form_out *w, const void *data, size_t len);
ssize_t cio_http_form_out_file(cio_http_form_out *w, int file_fd, off_t offset, size_t count);
/* The close delimiter; the body writer's end is the caller's. */
int cio_http_form_out_end(cio_http_form_out *w);
/* The framing bytes of the next part (its delimiter and header block, `first` for the form's first) and of the
   close delimiter, for a declared Content-Length. Errors: as _part. */
ssize_t cio_http_form_out_overhead(const cio_http_form_out *w, bool first, const char *name, const char *filename,
                                   const char *content_type);
ssize_t cio_http_form_out_close_size(const cio_http_form_out *w);

#ifdef __cplusplus
}
#endif

#endif
