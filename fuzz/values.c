/* values.c: fuzz the header value helpers: cookies (Cookie, Set-Cookie parsed, then written back and read again),
 * dates, ranges, entity-tags, media types and parameters. The first byte picks nothing: every parser sees every
 * input, and what one parses must satisfy its contract. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cio/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(cio_http_str v, const char *s, size_t n)
{
    if (v.ptr && (v.ptr < s || v.ptr + v.len > s + n))
        abort();
}

static bool has_byte(const char *p, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || strchr(set, p[i]))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    cio_http_str in = {s, size}, rest = in, n, v;
    while (cio_http_cookie_next(&rest, &n, &v) > 0) {
        inside(n, s, size), inside(v, s, size);
        if (n.len == 0)
            abort();
    }
    cio_http_set_cookie c;
    if (cio_http_set_cookie_parse(&c, in) == 0) {
        inside(c.name, s, size), inside(c.value, s, size), inside(c.domain, s, size), inside(c.path, s, size);
        char out[8192];
        ssize_t len = cio_http_set_cookie_format(out, sizeof out, &c);
        if (len >= 0) {
            /* what the strict writer accepts can neither split nor add a field, and reads back the same */
            if ((size_t)len != strlen(out) || has_byte(out, (size_t)len, "\r\n"))
                abort();
            cio_http_set_cookie back;
            if (cio_http_set_cookie_parse(&back, (cio_http_str){out, (size_t)len}) != 0 ||
                back.name.len != c.name.len || memcmp(back.name.ptr, c.name.ptr, c.name.len) ||
                back.value.len != c.value.len || (c.value.len && memcmp(back.value.ptr, c.value.ptr, c.value.len)) ||
                back.secure != c.secure || back.http_only != c.http_only || back.same_site != c.same_site ||
                back.expires != c.expires)
                abort();
        }
    }
    int64_t t;
    if (cio_http_date_parse(in, &t) == 0) {
        char d[CIO_HTTP_DATE_LEN + 1];
        int64_t back;
        if (cio_http_date_format(d, t) == CIO_HTTP_DATE_LEN &&
            (cio_http_date_parse((cio_http_str){d, CIO_HTTP_DATE_LEN}, &back) != 0 || back != t))
            abort();
    }
    cio_http_range r[8];
    uint64_t sizes[] = {0, 1, 10000, UINT64_MAX - 1};
    for (size_t k = 0; k < 4; k++) {
        int nr = cio_http_range_parse(in, sizes[k], r, 8);
        if (nr > 8)
            abort();
        for (int i = 0; i < nr; i++)
            if (r[i].first > r[i].last || r[i].last >= sizes[k])
                abort();
        uint64_t total = 0;
        for (int i = 0; i < nr; i++) { /* coalesced or disjoint: never more bytes than the representation */
            for (int j = i + 1; j < nr; j++)
                if (r[i].first <= r[j].last + 1 && r[j].first <= r[i].last + 1)
                    abort();
            total += r[i].last - r[i].first + 1;
        }
        if (nr > 0 && total > sizes[k])
            abort();
    }
    uint64_t a, b, z;
    if (cio_http_content_range_parse(in, &a, &b, &z) == 0 && a != UINT64_MAX && (b < a || (z != UINT64_MAX && b >= z)))
        abort();
    cio_http_str tag, op;
    bool weak;
    rest = in;
    while (cio_http_etag_next(&rest, &tag, &op, &weak) > 0)
        inside(tag, s, size), inside(op, s, size);
    cio_http_etag_match(in, (cio_http_str){"\"x\"", 3}, CIO_HTTP_ETAG_WEAK);
    cio_http_media_type mt;
    if (cio_http_media_type_parse(&mt, in) == 0) {
        inside(mt.type, s, size), inside(mt.subtype, s, size), inside(mt.params, s, size);
        char cs[64];
        ssize_t k = cio_http_media_type_charset(&mt, cs, sizeof cs);
        if (k >= (ssize_t)sizeof cs)
            abort();
    }
    char enc[256];
    ssize_t e = cio_url_encode(enc, sizeof enc, s, size < 60 ? size : 60, CIO_URL_PLUS_SPACE);
    if (e >= 0 && (size_t)e > 180)
        abort();
    return 0;
}
