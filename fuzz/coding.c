/* coding.c: fuzz the content-coding decoders: any bytes, in pieces the input chooses, through one coding's decoder
 * never crash, never write past the buffer, never produce more than the limit without being stopped; and whatever
 * the input, encoding it and decoding the result gives it back. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/coding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT   4096
#define LIMIT ((size_t)1 << 20)

static const int codings[] = {CIO_HTTP_CODING_GZIP, CIO_HTTP_CODING_DEFLATE, CIO_HTTP_CODING_BR, CIO_HTTP_CODING_ZSTD};

/* Decode `in` fed in pieces of 1 to 64 bytes (sizes from `sizes`), into `got` (up to cap). Returns the step's
   last result or an error; *glen the bytes made. */
static int decode(int coding, const uint8_t *in, size_t n, const uint8_t *sizes, size_t nsizes, uint8_t *got,
                  size_t cap, size_t *glen)
{
    struct cio__dec *d;
    if (cio__dec_new(&d, coding) < 0)
        abort();
    uint8_t out[OUT];
    size_t total = 0, off = 0;
    int rc = 0;
    for (size_t i = 0; rc >= 0 && total < LIMIT; i++) {
        size_t piece = nsizes ? 1 + sizes[i % nsizes] % 64 : n;
        if (piece > n - off)
            piece = n - off;
        const uint8_t *p = in + off;
        size_t left = piece;
        size_t made;
        rc = cio__dec_step(d, &p, &left, out, OUT, &made);
        if (made > OUT || left > piece)
            abort();
        off += piece - left;
        if (got && total + made <= cap)
            memcpy(got + total, out, made);
        total += made;
        if (rc < 0 || (off == n && made < OUT && left == 0 && (rc == 1 || made == 0)))
            break;
    }
    cio__dec_free(d);
    *glen = total;
    return rc;
}

static int emit(void *arg, const uint8_t *p, size_t n)
{
    uint8_t **w = arg;
    memcpy(*w, p, n);
    *w += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 16384)
        return 0;
    int coding = codings[data[0] % 4];
    size_t nsizes = data[1] % 8;
    data += 2, size -= 2;
    if (nsizes > size)
        nsizes = size;
    size_t glen;
    (void)decode(coding, data + nsizes, size - nsizes, data, nsizes, NULL, 0, &glen);

    /* Round trip: the input, encoded, decodes to itself. */
    struct cio__enc *e;
    if (cio__enc_new(&e, coding, 1) < 0)
        abort();
    uint8_t *coded = malloc(2 * size + 1024), *w = coded;
    if (cio__enc_write(e, data, size, true, emit, &w) < 0)
        abort();
    cio__enc_free(e);
    uint8_t *back = malloc(size + 1);
    int rc = decode(coding, coded, (size_t)(w - coded), data, nsizes, back, size, &glen);
    if (rc != 1 || glen != size || memcmp(back, data, size))
        abort();
    free(back);
    free(coded);
    return 0;
}
