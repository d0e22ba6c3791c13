/* url.c: fuzz the URL parsers, percent-decoding, query splitting and the header value helpers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cio/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_view(cio_http_str v, const char *s, size_t n)
{
    if (v.ptr && (v.ptr < s || v.ptr + v.len > s + n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    cio_url u;
    for (int form = 0; form < 2; form++) {
        int rc = form ? cio_url_parse_target(&u, s, size) : cio_url_parse(&u, s, size);
        if (rc == 0) {
            check_view(u.scheme, s, size), check_view(u.host, s, size), check_view(u.path, s, size);
            check_view(u.query, s, size), check_view(u.fragment, s, size), check_view(u.userinfo, s, size);
            if (u.port < -1 || u.port > 65535)
                abort();
        }
    }
    char *out = malloc(size ? size : 1);
    ssize_t n = cio_url_decode(out, size, s, size, CIO_URL_PLUS_SPACE);
    if (n > (ssize_t)size)
        abort();
    free(out);
    cio_http_str rest = {s, size}, k, v, el, tok;
    while (cio_url_query_next(&rest, &k, &v) > 0)
        check_view(k, s, size), check_view(v, s, size);
    rest = (cio_http_str){s, size};
    int q, rc;
    while ((rc = cio_http_list_next(&rest, &el)) > 0) {
        check_view(el, s, size);
        if (cio_http_qvalue(el, &tok, &q) == 0 && (q < 0 || q > 1000))
            abort();
    }
    cio_http_list_has((cio_http_str){s, size}, "chunked");
    return 0;
}
