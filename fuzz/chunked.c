/* chunked.c: fuzz the chunked decoder: decoding in pieces gives the data and the verdict of decoding whole, and
 * the non-moving cio_http_chunked_next (the body reader's) agrees with both. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cio/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    cio_http_chunked_opts o = {
        .flags = data[0] & (CIO_HTTP_LENIENT_LF | CIO_HTTP_CHUNKED_KEEP_TRAILERS), .max_ext = 64, .max_trailers = 256};
    data++, size--;
    char *whole = malloc(size ? size : 1), *piece = malloc(size ? size : 1), *out = malloc(size ? size : 1);
    memcpy(whole, data, size);
    size_t wlen = size, olen = 0, from = 0;
    cio_http_chunked d;
    cio_http_chunked_init(&d, &o);
    ssize_t want = cio_http_chunked_decode(&d, whole, &wlen);

    /* Pieces of 1 to 16 bytes, their sizes drawn from the input itself. */
    ssize_t rc = -EAGAIN;
    cio_http_chunked_init(&d, &o);
    for (size_t i = 0; from < size && rc == -EAGAIN; i++) {
        size_t n = 1 + data[i % size] % 16;
        if (n > size - from)
            n = size - from;
        memcpy(piece, data + from, n);
        size_t len = n;
        rc = cio_http_chunked_decode(&d, piece, &len);
        if (len > n)
            abort();
        memcpy(out + olen, piece, len);
        olen += len;
        from += n;
        if (rc >= 0)
            rc += (ssize_t)(size - from); /* bytes in pieces not given yet are left over too */
    }
    if (from == size && rc == -EAGAIN && want != -EAGAIN)
        abort();
    if (rc != want || olen != wlen || memcmp(out, whole, olen) != 0)
        abort();

    /* cio_http_chunked_next over a buffer that grows as a stream's does (pieces of 1 to 16 bytes more each
       time nothing could be consumed): the same data, error or rest. */
    cio_http_chunked_init(&d, &o);
    size_t avail = 0, at = 0, got = 0;
    ssize_t nrc = -EAGAIN;
    for (size_t i = 0; nrc == -EAGAIN; i++) {
        const char *dv;
        size_t dl;
        ssize_t used = cio_http_chunked_next(&d, (const char *)data + at, avail - at, &dv, &dl);
        if (used < 0) {
            nrc = used;
            break;
        }
        if ((size_t)used > avail - at ||
            (dl && (dv < (const char *)data + at || dv + dl > (const char *)data + at + used)))
            abort();
        if (dl) {
            if (got + dl > wlen || memcmp(whole + got, dv, dl) != 0)
                abort();
            got += dl;
        }
        at += (size_t)used;
        if (cio_http_chunked_done(&d)) {
            nrc = (ssize_t)(size - at);
            break;
        }
        if (used == 0 && dl == 0) {
            if (avail == size)
                break; /* incomplete */
            size_t n = 1 + data[i % size] % 16;
            avail = avail + n > size ? size : avail + n;
        }
    }
    if (nrc != want || (want >= 0 && got != wlen))
        abort();
    free(whole);
    free(piece);
    free(out);
    return 0;
}
