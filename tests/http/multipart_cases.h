/* multipart_cases.h: the table of multipart bodies the parser test and the fuzz corpus share. */
#ifndef CIO_TEST_HTTP_MULTIPART_CASES_H
#define CIO_TEST_HTTP_MULTIPART_CASES_H

#include <stddef.h>

#define MP_OPT_LF     0x1 /* CIO_HTTP_LENIENT_LF */
#define MP_OPT_SMALL  0x2 /* max_parts 2, max_head 64, max_part_size 8 */
#define MP_OPT_FEWHDR 0x4 /* 2 header slots per part */

struct mp_case {
    const char *name;
    const char *boundary;
    const char *wire;
    size_t len;
    const char *want; /* the transcript, ending in "$" or in the error's name */
    unsigned opt;
};

#define W(s) s, sizeof(s) - 1
#define CD   "Content-Disposition: form-data; name=\"a\"\r\n"
#define CDL  "{Content-Disposition: form-data; name=\"a\";}"
#define B70  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-." /* 70 bchars */

/* clang-format off */
static const struct mp_case mp_cases[] = {
    /* well-formed */
    {"one part", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ--\r\n"), CDL "hello|$", 0},
    {"two parts", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ\r\nA: 1\r\nB: 2\r\n\r\nworld\r\n--XyZ--"),
     CDL "hello|{A: 1;B: 2;}world|$", 0},
    {"preamble and epilogue", "XyZ", W("This is a preamble.\r\n--XyZ\r\n" CD "\r\nx\r\n--XyZ--\r\nepilogue\r\n--XyZ\r\n"),
     CDL "x|$", 0},
    {"preamble of only a crlf", "XyZ", W("\r\n--XyZ\r\n" CD "\r\nx\r\n--XyZ--"), CDL "x|$", 0},
    {"preamble begins like the boundary", "XyZ", W("--XyQ\r\n--Xy\r\n--XyZ\r\n" CD "\r\nx\r\n--XyZ--"), CDL "x|$", 0},
    {"part without headers", "XyZ", W("--XyZ\r\n\r\nbody\r\n--XyZ--"), "{}body|$", 0},
    /* RFC 2046's grammar lets a part with no fields and no data share one CRLF between its empty header block and
       the next delimiter; cio reads that CRLF as the block's end (a form-data part needs Content-Disposition
       anyway), so what follows is data, and the close delimiter is missing. */
    {"part without headers or data", "XyZ", W("--XyZ\r\n\r\n--XyZ--"), "{}--XyZ--!CIO_EHTTP_MP_TRUNCATED", 0},
    {"empty part", "XyZ", W("--XyZ\r\n" CD "\r\n\r\n--XyZ--"), CDL "|$", 0},
    {"data ending in crlf keeps it", "XyZ", W("--XyZ\r\n" CD "\r\nab\r\n\r\n--XyZ--"), CDL "ab\r\n|$", 0},
    {"no parts", "XyZ", W("--XyZ--\r\n"), "$", 0},
    {"no parts, after a preamble", "XyZ", W("junk\r\n--XyZ--"), "$", 0},
    {"transport padding", "XyZ", W("--XyZ \t \r\n" CD "\r\nx\r\n--XyZ\t\r\nA: 1\r\n\r\ny\r\n--XyZ-- junk"),
     CDL "x|{A: 1;}y|$", 0},
    {"boundary of every bchar and a space", "a'()+_,-./:=? z",
     W("--a'()+_,-./:=? z\r\n" CD "\r\nx\r\n--a'()+_,-./:=? z--"), CDL "x|$", 0},
    {"boundary of 70 characters", B70, W("--" B70 "\r\n" CD "\r\nx\r\n--" B70 "--"),
     CDL "x|$", 0},
    {"one-character boundary", "-", W("---\r\n" CD "\r\na-b--c\r\n-----"), CDL "a-b--c|$", 0},
    {"binary data with nul and high bytes", "XyZ", W("--XyZ\r\n" CD "\r\n\0\x01\xff\xfe\r\0\n\0--XyZ\r\n--XyZ--"),
     CDL "\\0\x01\xff\xfe\r\\0\n\\0--XyZ|$", 0},
    {"header value with utf-8", "XyZ", W("--XyZ\r\nContent-Disposition: form-data; name=\"\xe2\x82\xac\"\r\n\r\nx\r\n--XyZ--"),
     "{Content-Disposition: form-data; name=\"\xe2\x82\xac\";}x|$", 0},
    {"header ows trimmed", "XyZ", W("--XyZ\r\nA:   1 \t\r\n\r\nx\r\n--XyZ--"), "{A: 1;}x|$", 0},
    /* data that looks like a delimiter, and is not one */
    {"crlf dashes and a prefix of the boundary", "XyZ", W("--XyZ\r\n" CD "\r\nab\r\n--Xy\r\n--X\r\n--\r\n-\r\n--XyZ--"),
     CDL "ab\r\n--Xy\r\n--X\r\n--\r\n-|$", 0},
    {"prefix of the boundary then another byte", "XyZ", W("--XyZ\r\n" CD "\r\n\r\n--XyY\r\n--XyZ--"),
     CDL "\r\n--XyY|$", 0},
    {"the boundary without the leading crlf", "XyZ", W("--XyZ\r\n" CD "\r\ndata--XyZ\r\n--XyZ--"),
     CDL "data--XyZ|$", 0},
    {"the boundary after a cr alone", "XyZ", W("--XyZ\r\n" CD "\r\nab\r--XyZ\r\n--XyZ--"), CDL "ab\r--XyZ|$", 0},
    {"the boundary after two dashes too many", "XyZ", W("--XyZ\r\n" CD "\r\nab\r\n----XyZ\r\n--XyZ--"),
     CDL "ab\r\n----XyZ|$", 0},
    {"cr cr lf before the delimiter", "XyZ", W("--XyZ\r\n" CD "\r\nab\r\r\n--XyZ--"), CDL "ab\r|$", 0},
    {"close delimiter ends the body, parts after it ignored", "XyZ",
     W("--XyZ\r\n" CD "\r\nx\r\n--XyZ--\r\n--XyZ\r\n" CD "\r\ny\r\n--XyZ--"), CDL "x|$", 0},
    /* broken delimiters */
    {"boundary followed by garbage", "XyZ", W("--XyZ\r\n" CD "\r\nab\r\n--XyZX\r\n--XyZ--"),
     CDL "ab|!CIO_EHTTP_MP_BAD_DELIMITER", 0},
    {"first boundary followed by garbage", "XyZ", W("--XyZabc\r\n" CD "\r\nx\r\n--XyZ--"), "!CIO_EHTTP_MP_BAD_DELIMITER", 0},
    {"boundary and one dash", "XyZ", W("--XyZ\r\n" CD "\r\nx\r\n--XyZ-x"), CDL "x|!CIO_EHTTP_MP_BAD_DELIMITER", 0},
    {"padding then dashes", "XyZ", W("--XyZ\r\n" CD "\r\nx\r\n--XyZ --"), CDL "x|!CIO_EHTTP_MP_BAD_DELIMITER", 0},
    {"padding then garbage", "XyZ", W("--XyZ  x\r\n" CD "\r\nx\r\n--XyZ--"), "!CIO_EHTTP_MP_BAD_DELIMITER", 0},
    {"delimiter cr without lf", "XyZ", W("--XyZ\rA: 1\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_BARE_CR", 0},
    /* LF alone */
    {"lf-only lines", "XyZ", W("--XyZ\nA: 1\n\nhello\n--XyZ--\n"), "!CIO_EHTTP_BARE_LF", 0},
    {"lf-only lines, lenient", "XyZ", W("--XyZ\nA: 1\n\nhello\n--XyZ\n\nx\n--XyZ--\n"), "{A: 1;}hello|{}x|$", MP_OPT_LF},
    {"lf alone before a delimiter in data", "XyZ", W("--XyZ\r\n" CD "\r\nhello\n--XyZ--"),
     CDL "hello!CIO_EHTTP_BARE_LF", 0},
    {"lf alone before a delimiter in data, lenient", "XyZ", W("--XyZ\r\n" CD "\r\nhello\n--XyZ--"), CDL "hello|$",
     MP_OPT_LF},
    {"lf alone before the first delimiter", "XyZ", W("preamble\n--XyZ\r\n" CD "\r\nx\r\n--XyZ--"), "!CIO_EHTTP_BARE_LF", 0},
    {"lf alone ends a delimiter line", "XyZ", W("--XyZ\r\n" CD "\r\nx\r\n--XyZ\nA: 1\r\n\r\ny\r\n--XyZ--"),
     CDL "x|!CIO_EHTTP_BARE_LF", 0},
    {"lf alone in a header block", "XyZ", W("--XyZ\r\nA: 1\nB: 2\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_BARE_LF", 0},
    {"lf alone ends a header block", "XyZ", W("--XyZ\r\nA: 1\r\n\nx\r\n--XyZ--"), "!CIO_EHTTP_BARE_LF", 0},
    {"lf alone in a header block, lenient", "XyZ", W("--XyZ\r\nA: 1\nB: 2\r\n\nx\r\n--XyZ--"), "{A: 1;B: 2;}x|$",
     MP_OPT_LF},
    /* header fields: cio_http_parse_trailers' rules */
    {"obs-fold", "XyZ", W("--XyZ\r\nA: 1\r\n 2\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_OBS_FOLD", 0},
    {"obs-fold with a tab", "XyZ", W("--XyZ\r\n" CD "\tfilename=\"f\"\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_OBS_FOLD", 0},
    {"header without a colon", "XyZ", W("--XyZ\r\nContent-Disposition\r\n\r\nx\r\n--XyZ--"),
     "!CIO_EHTTP_BAD_HEADER_NAME", 0},
    {"header with a space for a colon", "XyZ", W("--XyZ\r\nContent-Disposition form-data\r\n\r\nx\r\n--XyZ--"),
     "!CIO_EHTTP_SPACE_BEFORE_COLON", 0},
    {"space before colon", "XyZ", W("--XyZ\r\nA : 1\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_SPACE_BEFORE_COLON", 0},
    {"nul in a header value", "XyZ", W("--XyZ\r\nA: 1\0\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_BAD_HEADER_VALUE", 0},
    {"cr alone in a header value", "XyZ", W("--XyZ\r\nA: 1\r2\r\n\r\nx\r\n--XyZ--"), "!CIO_EHTTP_BARE_CR", 0},
    {"a delimiter where headers belong", "XyZ", W("--XyZ\r\n--XyZ--\r\n\r\n"), "!CIO_EHTTP_BAD_HEADER_NAME", 0},
    /* A header block is parsed once whole, so a block cut short by the end of the body is truncated, whatever
       its lines hold. */
    {"a close delimiter where headers belong", "XyZ", W("--XyZ\r\n--XyZ--"), "!CIO_EHTTP_MP_TRUNCATED", 0},
    {"too many header fields", "XyZ", W("--XyZ\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\nx\r\n--XyZ--"),
     "!CIO_EHTTP_TOO_MANY_HEADERS", MP_OPT_FEWHDR},
    {"header fields at the limit", "XyZ", W("--XyZ\r\nA: 1\r\nB: 2\r\n\r\nx\r\n--XyZ--"), "{A: 1;B: 2;}x|$", MP_OPT_FEWHDR},
    /* limits */
    {"header block at the limit", "XyZ", W("--XyZ\r\nA: 012345678901234567890123456789012345678901234567890123456\r\n\r\nx\r\n--XyZ--"),
     "{A: 012345678901234567890123456789012345678901234567890123456;}x|$", MP_OPT_SMALL},
    {"header block over the limit", "XyZ", W("--XyZ\r\nA: 0123456789012345678901234567890123456789012345678901234567\r\n\r\nx\r\n--XyZ--"),
     "!CIO_EHTTP_MP_HEADERS_TOO_LARGE", MP_OPT_SMALL},
    {"header block without end", "XyZ", W("--XyZ\r\nA: 0123456789012345678901234567890123456789012345678901234567890123456789"), "!CIO_EHTTP_MP_HEADERS_TOO_LARGE", MP_OPT_SMALL},
    {"parts at the limit", "XyZ", W("--XyZ\r\n\r\na\r\n--XyZ\r\n\r\nb\r\n--XyZ--"), "{}a|{}b|$", MP_OPT_SMALL},
    {"too many parts", "XyZ", W("--XyZ\r\n\r\na\r\n--XyZ\r\n\r\nb\r\n--XyZ\r\n\r\nc\r\n--XyZ--"),
     "{}a|{}b|!CIO_EHTTP_MP_TOO_MANY_PARTS", MP_OPT_SMALL},
    {"part data at the limit", "XyZ", W("--XyZ\r\n\r\n12345678\r\n--XyZ--"), "{}12345678|$", MP_OPT_SMALL},
    {"part data over the limit", "XyZ", W("--XyZ\r\n\r\n123456789\r\n--XyZ--"),
     "{}12345678!CIO_EHTTP_MP_PART_TOO_LARGE", MP_OPT_SMALL},
    {"the limit counts each part alone", "XyZ", W("--XyZ\r\n\r\n12345678\r\n--XyZ\r\n\r\n12345678\r\n--XyZ--"),
     "{}12345678|{}12345678|$", MP_OPT_SMALL},
    /* truncated */
    {"empty body", "XyZ", W(""), "!CIO_EHTTP_MP_TRUNCATED", 0},
    {"only a preamble", "XyZ", W("no delimiter here\r\n"), "!CIO_EHTTP_MP_TRUNCATED", 0},
    {"only part of the first boundary", "XyZ", W("--Xy"), "!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends after the first boundary", "XyZ", W("--XyZ"), "!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends in a header block", "XyZ", W("--XyZ\r\nA: 1\r\n"), "!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends in part data", "XyZ", W("--XyZ\r\n" CD "\r\nhello"), CDL "hello!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends in a delimiter", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--Xy"), CDL "hello!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends after a delimiter", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ"), CDL "hello|!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends after a delimiter line", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ\r\n"), CDL "hello|!CIO_EHTTP_MP_TRUNCATED",
     0},
    {"ends one dash short", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ-"), CDL "hello|!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends in padding", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ  "), CDL "hello|!CIO_EHTTP_MP_TRUNCATED", 0},
    {"ends after a delimiter's cr", "XyZ", W("--XyZ\r\n" CD "\r\nhello\r\n--XyZ\r"), CDL "hello|!CIO_EHTTP_MP_TRUNCATED",
     0},
};
/* clang-format on */
#define N_MP_CASES (sizeof(mp_cases) / sizeof(mp_cases[0]))

#endif
