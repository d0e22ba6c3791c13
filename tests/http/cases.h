/* cases.h: the table of request and response heads every parser test, the differential test and the fuzz
 * corpus share. */
#ifndef CIO_TEST_HTTP_CASES_H
#define CIO_TEST_HTTP_CASES_H

#include <stddef.h>

#include "cio/http.h"

/* How a case is parsed. */
#define OPT_SMALL 0x1 /* max_line 40, max_head 200, 4 header slots */
#define OPT_LF    0x2 /* CIO_HTTP_LENIENT_LF */
#define OPT_CL    0x4 /* max_content_length 1000 */
/* llhttp differs here on purpose (the comment on the row says why): the differential test skips the row. */
#define OPT_DIFF 0x8

struct http_case {
    const char *name;
    const char *wire;
    size_t len; /* the wire's length: rows may hold NUL bytes */
    int want;   /* 0: the whole wire is one complete head; else the error */
    unsigned opt;
};

#define W(s) s, sizeof(s) - 1

/* clang-format off */
static const struct http_case request_cases[] = {
    /* well-formed */
    {"minimal", W("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, 0},
    {"no headers", W("GET / HTTP/1.1\r\n\r\n"), 0, 0},
    {"http 1.0", W("GET / HTTP/1.0\r\n\r\n"), 0, 0},
    {"curl", W("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"), 0, 0},
    {"wrk", W("GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"), 0, 0},
    {"post cl", W("POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"), 0, 0},
    {"post chunked", W("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, 0},
    {"te gzip chunked", W("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 0, 0},
    {"te two headers", W("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, 0},
    {"te case", W("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n"), 0, 0},
    {"cl zero", W("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 0, 0},
    {"cl leading zeros", W("POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n"), 0, 0},
    {"cl ows", W("POST / HTTP/1.1\r\nContent-Length:  12 \t\r\n\r\n"), 0, 0},
    /* RFC 9110 8.6 allows equal duplicates; llhttp rejects any duplicate Content-Length. */
    {"cl equal twice", W("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0, OPT_DIFF},
    {"cl max", W("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"), 0, 0},
    {"options asterisk", W("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0, 0},
    {"connect authority", W("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 0, 0},
    {"absolute form", W("GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, 0},
    {"absolute form, scheme with - + .", W("GET web-c+a.l://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"), 0, 0},
    {"absolute form, % not hex in host (fuzz)", W("GET httpcontent-length://ea%mplttpoVc.a HTTP/1.1\r\n\r\n"),
     CIO_EHTTP_BAD_TARGET, 0},
    {"absolute form, % at end of host", W("GET http://a%4/ HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"query", W("GET /search?q=a+b&x=%20 HTTP/1.1\r\n\r\n"), 0, 0},
    {"target specials", W("GET /a{}|\"<>^`\\ HTTP/1.1\r\n\r\n"), 0, 0},
    {"empty value", W("GET / HTTP/1.1\r\nX-Empty:\r\n\r\n"), 0, 0},
    {"empty value ows", W("GET / HTTP/1.1\r\nX-Empty:   \r\n\r\n"), 0, 0},
    {"value tabs", W("GET / HTTP/1.1\r\nA:\tb\tc\t\r\n\r\n"), 0, 0},
    {"value obs-text", W("GET / HTTP/1.1\r\nA: caf\xc3\xa9\r\n\r\n"), 0, 0},
    {"value inner spaces", W("GET / HTTP/1.1\r\nA: b  c   d\r\n\r\n"), 0, 0},
    {"value colon", W("GET / HTTP/1.1\r\nA: b:c::\r\n\r\n"), 0, 0},
    {"name specials", W("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n"), 0, 0},
    {"leading crlf", W("\r\nGET / HTTP/1.1\r\n\r\n"), 0, 0},
    {"leading crlf twice", W("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 0, 0},
    {"keep-alive 1.0", W("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0, 0},
    {"close 1.1", W("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), 0, 0},
    {"connection list", W("GET / HTTP/1.1\r\nConnection: Keep-Alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"), 0, 0},
    {"websocket", W("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), 0, 0},
    {"expect", W("PUT /f HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"), 0, 0},
    {"expect other", W("PUT /f HTTP/1.1\r\nExpect: foo\r\n\r\n"), 0, 0},
    {"methods delete", W("DELETE /x HTTP/1.1\r\n\r\n"), 0, 0},
    {"methods patch", W("PATCH /x HTTP/1.1\r\n\r\n"), 0, 0},
    {"methods head", W("HEAD /x HTTP/1.1\r\n\r\n"), 0, 0},
    {"methods put", W("PUT /x HTTP/1.1\r\n\r\n"), 0, 0},
    {"methods trace", W("TRACE /x HTTP/1.1\r\n\r\n"), 0, 0},
    {"methods propfind", W("PROPFIND /x HTTP/1.1\r\n\r\n"), 0, 0},
    /* RFC 9110 9.1: any token is a method; llhttp knows a fixed list and rejects the rest. */
    {"method extension", W("FOO /x HTTP/1.1\r\n\r\n"), 0, OPT_DIFF},
    {"method lower", W("get /x HTTP/1.1\r\n\r\n"), 0, OPT_DIFF},
    {"browser", W("GET /wiki/Main_Page HTTP/1.1\r\nHost: en.wikipedia.org\r\n"
                "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
                "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
                "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
                "Cookie: session=abc123; theme=dark; _ga=GA1.2.3.4\r\nConnection: keep-alive\r\n"
                "Upgrade-Insecure-Requests: 1\r\n\r\n"), 0, 0},
    {"long target", W("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n"), 0, 0},
    {"long value", W("GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n"), 0, 0},
    {"many headers", W("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n"), 0, 0},
    {"small ok", W("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), 0, OPT_SMALL},
    {"cl under limit", W("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"), 0, OPT_CL},

    /* line endings */
    {"bare lf", W("GET / HTTP/1.1\nHost: a\n\n"), CIO_EHTTP_BARE_LF, 0},
    {"bare lf header", W("GET / HTTP/1.1\r\nHost: a\n\r\n"), CIO_EHTTP_BARE_LF, 0},
    {"bare lf end", W("GET / HTTP/1.1\r\nHost: a\r\n\n"), CIO_EHTTP_BARE_LF, 0},
    {"bare lf lenient ignored", W("GET / HTTP/1.1\nHost: a\n\n"), CIO_EHTTP_BARE_LF, OPT_LF},
    {"bare cr request line", W("GET / HTTP/1.1\rHost: a\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},
    {"bare cr header", W("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},
    {"bare cr end", W("GET / HTTP/1.1\r\nHost: a\r\n\rX"), CIO_EHTTP_BARE_CR, 0},
    {"bare cr in value", W("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},
    {"cr cr lf", W("GET / HTTP/1.1\r\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},
    {"leading lf", W("\nGET / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BARE_LF, OPT_DIFF}, /* llhttp skips a lone LF too */
    {"leading bare cr", W("\rGET / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},

    /* request line */
    {"empty method", W(" / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_METHOD, 0},
    {"method ctl", W("GE\x01T / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_METHOD, 0},
    {"method slash", W("GE/T / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_METHOD, 0},
    {"method paren", W("G(ET / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_METHOD, 0},
    {"method tab", W("GET\t/ HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_METHOD, 0},
    {"method nul", W("G\0T / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_METHOD, 0},
    {"method only", W("GET\r\n\r\n"), CIO_EHTTP_BAD_REQUEST_LINE, 0},
    {"double space", W("GET  / HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_REQUEST_LINE, 0},
    {"space before version", W("GET /  HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"http 0.9", W("GET /\r\n\r\n"), CIO_EHTTP_BAD_REQUEST_LINE, 0},
    {"target only space", W("GET  HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_REQUEST_LINE, 0},
    {"target ctl", W("GET /a\x01 HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"target del", W("GET /a\x7f HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"target tab", W("GET /a\tb HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"target high", W("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"target nul", W("GET /a\0b HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"target long ctl", W("GET /0123456789012345678901234567890123456789\x1f HTTP/1.1\r\n\r\n"), CIO_EHTTP_BAD_TARGET, 0},
    {"version lower", W("GET / http/1.1\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version short", W("GET / HTTP/1\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version letters", W("GET / HTTP/1.x\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version two digits", W("GET / HTTP/1.10\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version trailing space", W("GET / HTTP/1.1 \r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version 1.2", W("GET / HTTP/1.2\r\n\r\n"), CIO_EHTTP_VERSION, 0},
    /* llhttp 8 takes HTTP/2.0 and HTTP/0.9 heads in HTTP/1 syntax; RFC 9112 has only 1.0 and 1.1 here. */
    {"version 2.0", W("GET / HTTP/2.0\r\n\r\n"), CIO_EHTTP_VERSION, OPT_DIFF},
    {"version 0.9", W("GET / HTTP/0.9\r\n\r\n"), CIO_EHTTP_VERSION, OPT_DIFF},
    {"version 3.0", W("GET / HTTP/3.0\r\n\r\n"), CIO_EHTTP_VERSION, 0},
    {"version 9.9", W("GET / HTTP/9.9\r\n\r\n"), CIO_EHTTP_VERSION, 0},
    {"line too long", W("GET /0123456789012345678901234567890123456789 HTTP/1.1\r\n\r\n"), CIO_EHTTP_LINE_TOO_LONG, OPT_SMALL},
    {"line at limit", W("GET /01234567890123456789012345 HTTP/1.1\r\n\r\n"), 0, OPT_SMALL},
    {"line one over", W("GET /012345678901234567890123456 HTTP/1.1\r\n\r\n"), CIO_EHTTP_LINE_TOO_LONG, OPT_SMALL},

    /* header names */
    {"space before colon", W("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), CIO_EHTTP_SPACE_BEFORE_COLON, 0},
    {"tab before colon", W("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), CIO_EHTTP_SPACE_BEFORE_COLON, 0},
    {"space in name", W("GET / HTTP/1.1\r\nHo st: a\r\n\r\n"), CIO_EHTTP_SPACE_BEFORE_COLON, 0},
    {"empty name", W("GET / HTTP/1.1\r\n: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"no colon", W("GET / HTTP/1.1\r\nHost\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name at", W("GET / HTTP/1.1\r\nHo@st: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name slash", W("GET / HTTP/1.1\r\nA/B: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name quote", W("GET / HTTP/1.1\r\nA\"B: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name ctl", W("GET / HTTP/1.1\r\nA\x01: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name high", W("GET / HTTP/1.1\r\nX-\x80: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name brace", W("GET / HTTP/1.1\r\nA{B: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"name nul", W("GET / HTTP/1.1\r\nA\0: a\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"obs fold", W("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), CIO_EHTTP_OBS_FOLD, 0},
    {"obs fold tab", W("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"), CIO_EHTTP_OBS_FOLD, 0},
    {"space before first header", W("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), CIO_EHTTP_OBS_FOLD, 0},

    /* header values */
    {"value ctl", W("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"value del", W("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"value nul", W("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"value esc", W("GET / HTTP/1.1\r\nA: \x1b[31m\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"value vt", W("GET / HTTP/1.1\r\nA: b\x0b\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"value ff", W("GET / HTTP/1.1\r\nA: b\x0c\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"value long ctl", W("GET / HTTP/1.1\r\nA: 01234567890123456789012345678901234567890123456789\x02\r\n\r\n"),
     CIO_EHTTP_BAD_HEADER_VALUE, 0},

    /* framing */
    {"cl plus", W("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl minus", W("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl hex", W("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl empty", W("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl list", W("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl inner space", W("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl decimal point", W("POST / HTTP/1.1\r\nContent-Length: 1.0\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl letters", W("POST / HTTP/1.1\r\nContent-Length: five\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl differ", W("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
     CIO_EHTTP_CONTENT_LENGTH_CONFLICT, 0},
    {"cl differ case", W("POST / HTTP/1.1\r\ncontent-length: 5\r\nCONTENT-LENGTH: 50\r\n\r\n"),
     CIO_EHTTP_CONTENT_LENGTH_CONFLICT, 0},
    /* llhttp reports an overflowing Content-Length as invalid; cio as too large (413). */
    {"cl overflow", W("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n"), CIO_EHTTP_BODY_TOO_LARGE, 0},
    {"cl above int64", W("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n"), CIO_EHTTP_BODY_TOO_LARGE,
     OPT_DIFF}, /* llhttp allows up to 2^64-1; cio keeps lengths in off_t range */
    {"cl over limit", W("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n"), CIO_EHTTP_BODY_TOO_LARGE, OPT_CL | OPT_DIFF},
    {"cl and te", W("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), CIO_EHTTP_CL_AND_TE, 0},
    {"te and cl", W("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"), CIO_EHTTP_CL_AND_TE, 0},
    {"te not chunked", W("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), CIO_EHTTP_TE_NOT_CHUNKED, 0},
    {"te chunked first", W("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), CIO_EHTTP_TE_NOT_CHUNKED, 0},
    {"te identity", W("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n"), CIO_EHTTP_TE_NOT_CHUNKED, 0},
    /* An empty Transfer-Encoding names no coding, so chunked is not last; llhttp lets it through. */
    {"te empty", W("POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n"), CIO_EHTTP_TE_NOT_CHUNKED, OPT_DIFF},
    /* RFC 9112 7: chunked MUST NOT be applied twice; llhttp takes the second as the last coding. */
    {"te chunked twice", W("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
     CIO_EHTTP_BAD_TRANSFER_ENCODING, OPT_DIFF},
    {"te chunked twice headers", W("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
     CIO_EHTTP_BAD_TRANSFER_ENCODING, OPT_DIFF},
    {"te bad token", W("POST / HTTP/1.1\r\nTransfer-Encoding: chu@nked\r\n\r\n"), CIO_EHTTP_BAD_TRANSFER_ENCODING, OPT_DIFF},
    {"te chunked suffix", W("POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n"), CIO_EHTTP_TE_NOT_CHUNKED, 0},

    /* limits */
    {"too many headers", W("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"), CIO_EHTTP_TOO_MANY_HEADERS,
     OPT_SMALL | OPT_DIFF},
    {"head too large", W("GET / HTTP/1.1\r\nA: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
                       "B: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
                       "C: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n"),
     CIO_EHTTP_HEAD_TOO_LARGE, OPT_SMALL | OPT_DIFF},
    {"head too large unfinished", W("GET / HTTP/1.1\r\nA: 0123456789012345678901234567890123456789012345678901234567"
                                  "89012345678901234567890123456789012345678901234567890123456789012345678901234567"
                                  "890123456789012345678901234567890123456789012345678901234567890123456789"),
     CIO_EHTTP_HEAD_TOO_LARGE, OPT_SMALL | OPT_DIFF},
    {"line too long unfinished", W("GET /01234567890123456789012345678901234567890123456789"), CIO_EHTTP_LINE_TOO_LONG,
     OPT_SMALL | OPT_DIFF},
};

static const struct http_case response_cases[] = {
    {"ok", W("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), 0, 0},
    {"no reason", W("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), 0, 0},
    {"no reason no space", W("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), 0, 0},
    {"reason spaces", W("HTTP/1.1 404 Not  Found \r\n\r\n"), 0, 0},
    {"reason obs-text", W("HTTP/1.1 200 \xc3\xa7" "a va\r\n\r\n"), 0, 0},
    {"reason tab", W("HTTP/1.1 200 O\tK\r\n\r\n"), 0, 0},
    {"http 1.0", W("HTTP/1.0 200 OK\r\n\r\n"), 0, 0},
    {"continue", W("HTTP/1.1 100 Continue\r\n\r\n"), 0, 0},
    {"switching", W("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), 0, 0},
    {"no content", W("HTTP/1.1 204 No Content\r\n\r\n"), 0, 0},
    {"not modified", W("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), 0, 0},
    {"chunked", W("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 0, 0},
    {"te gzip", W("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 0, 0},
    {"status 999", W("HTTP/1.1 999 Odd\r\n\r\n"), 0, 0},
    {"status 599", W("HTTP/1.1 599 Odd\r\n\r\n"), 0, 0},
    {"nginx", W("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 25 Nov 2026 10:00:00 GMT\r\n"
              "Content-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Tue, 25 Nov 2026 09:00:00 GMT\r\n"
              "Connection: keep-alive\r\nETag: \"6560a1b2-267\"\r\nAccept-Ranges: bytes\r\n\r\n"), 0, 0},
    {"many headers", W("HTTP/1.1 200 OK\r\nCache-Control: private, max-age=0\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\nVary: Accept-Encoding\r\n"
                     "X-Frame-Options: SAMEORIGIN\r\nX-Content-Type-Options: nosniff\r\n"
                     "Set-Cookie: a=b; Path=/; HttpOnly\r\nSet-Cookie: c=d; Path=/; Secure\r\nContent-Length: 10\r\n\r\n"),
     0, 0},
    {"close", W("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), 0, 0},
    {"keep-alive 1.0", W("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n"), 0, 0},
    {"lenient lf", W("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), 0, OPT_LF | OPT_DIFF}, /* llhttp strict refuses */
    {"lenient lf mixed", W("HTTP/1.1 200 OK\r\nA: b\n\r\n"), 0, OPT_LF | OPT_DIFF},
    {"lenient lf no reason", W("HTTP/1.1 200\nA: b\n\n"), 0, OPT_LF | OPT_DIFF},
    /* RFC 9110 8.6 allows equal duplicates; llhttp rejects any duplicate Content-Length. */
    {"cl equal twice", W("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0, OPT_DIFF},

    {"bare lf", W("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), CIO_EHTTP_BARE_LF, 0},
    {"bare lf header", W("HTTP/1.1 200 OK\r\nA: b\n\r\n"), CIO_EHTTP_BARE_LF, 0},
    {"bare cr", W("HTTP/1.1 200 OK\rA: b\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},
    {"bare cr lenient", W("HTTP/1.1 200 OK\rA: b\r\n\r\n"), CIO_EHTTP_BARE_CR, OPT_LF},
    {"bare cr header", W("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"), CIO_EHTTP_BARE_CR, 0},
    {"version lower", W("http/1.1 200 OK\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version 2", W("HTTP/2 200 OK\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"version 2.0", W("HTTP/2.0 200 OK\r\n\r\n"), CIO_EHTTP_VERSION, OPT_DIFF}, /* as for requests */
    {"version 1.2", W("HTTP/1.2 200 OK\r\n\r\n"), CIO_EHTTP_VERSION, 0},
    {"no space after version", W("HTTP/1.1\t200 OK\r\n\r\n"), CIO_EHTTP_BAD_VERSION, 0},
    {"two spaces", W("HTTP/1.1  200 OK\r\n\r\n"), CIO_EHTTP_BAD_STATUS, 0},
    {"status two digits", W("HTTP/1.1 20 OK\r\n\r\n"), CIO_EHTTP_BAD_STATUS, 0},
    {"status four digits", W("HTTP/1.1 2000 OK\r\n\r\n"), CIO_EHTTP_BAD_STATUS, 0},
    {"status letters", W("HTTP/1.1 2x0 OK\r\n\r\n"), CIO_EHTTP_BAD_STATUS, 0},
    /* RFC 9110 15: status codes run from 100 to 599; llhttp takes any three digits. */
    {"status 099", W("HTTP/1.1 099 Odd\r\n\r\n"), CIO_EHTTP_BAD_STATUS, OPT_DIFF},
    {"status 000", W("HTTP/1.1 000 Odd\r\n\r\n"), CIO_EHTTP_BAD_STATUS, OPT_DIFF},
    {"status empty", W("HTTP/1.1 \r\n\r\n"), CIO_EHTTP_BAD_STATUS, 0},
    {"reason ctl", W("HTTP/1.1 200 O\x01K\r\n\r\n"), CIO_EHTTP_BAD_REASON, 0},
    {"reason del", W("HTTP/1.1 200 O\x7fK\r\n\r\n"), CIO_EHTTP_BAD_REASON, 0},
    {"reason nul", W("HTTP/1.1 200 O\0K\r\n\r\n"), CIO_EHTTP_BAD_REASON, 0},
    {"header space colon", W("HTTP/1.1 200 OK\r\nA : b\r\n\r\n"), CIO_EHTTP_SPACE_BEFORE_COLON, 0},
    {"header obs fold", W("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"), CIO_EHTTP_OBS_FOLD, 0},
    {"header bad name", W("HTTP/1.1 200 OK\r\nA(: b\r\n\r\n"), CIO_EHTTP_BAD_HEADER_NAME, 0},
    {"header bad value", W("HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n"), CIO_EHTTP_BAD_HEADER_VALUE, 0},
    {"cl bad", W("HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n"), CIO_EHTTP_BAD_CONTENT_LENGTH, 0},
    {"cl differ", W("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
     CIO_EHTTP_CONTENT_LENGTH_CONFLICT, 0},
    {"cl and te", W("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), CIO_EHTTP_CL_AND_TE, 0},
    {"status line too long", W("HTTP/1.1 200 0123456789012345678901234567890123456789\r\n\r\n"), CIO_EHTTP_LINE_TOO_LONG,
     OPT_SMALL | OPT_DIFF},
    {"too many headers", W("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"), CIO_EHTTP_TOO_MANY_HEADERS,
     OPT_SMALL | OPT_DIFF},
};
/* clang-format on */

#define N_REQUEST_CASES  (sizeof(request_cases) / sizeof(request_cases[0]))
#define N_RESPONSE_CASES (sizeof(response_cases) / sizeof(response_cases[0]))

static inline void case_opts(const struct http_case *c, cio_http_parse_opts *o, size_t *max_headers)
{
    *o = (cio_http_parse_opts){0};
    *max_headers = 64;
    if (c->opt & OPT_SMALL) {
        o->max_line = 40;
        o->max_head = 200;
        *max_headers = 4;
    }
    if (c->opt & OPT_LF)
        o->flags |= CIO_HTTP_LENIENT_LF;
    if (c->opt & OPT_CL)
        o->max_content_length = 1000;
}

#endif
