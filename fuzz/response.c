/* response.c: fuzz the response parser: whole, resumed from a cut point, and the helpers on what it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cio/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    cio_http_header hs[16], hs2[16];
    cio_http_head h, h2;
    cio_http_parse_opts small = {.max_line = 64, .max_head = 256, .flags = CIO_HTTP_LENIENT_LF};
    const cio_http_parse_opts *o = size && (data[0] & 1) ? &small : NULL;
    cio_http_head_init(&h, hs, 16);
    int whole = cio_http_parse_response(&h, buf, size, o);

    /* The same bytes in two calls, cut where the last byte says: the same answer. */
    size_t cut = size ? data[size - 1] % (size + 1) : 0;
    cio_http_head_init(&h2, hs2, 16);
    int rc = cio_http_parse_response(&h2, buf, cut, o);
    if (rc == -EAGAIN)
        rc = cio_http_parse_response(&h2, buf, size, o);
    if (rc != whole)
        abort();
    if (whole < 0)
        return 0;
    if (h.num_headers != h2.num_headers || h.flags != h2.flags || (size_t)whole > size)
        abort();
    uint64_t len;
    cio_http_response_body(&h, size && (data[0] & 2) ? "HEAD" : NULL, &len);
    cio_http_keep_alive(&h);
    cio_http_upgrade(&h);
    cio_http_expects_continue(&h);
    cio_http_header_find(&h, "host", NULL);
    for (size_t i = 0; i < h.num_headers; i++) {
        cio_http_str rest = hs[i].value, el, tok;
        int q;
        while (cio_http_list_next(&rest, &el) > 0)
            cio_http_qvalue(el, &tok, &q);
    }
    return 0;
}
