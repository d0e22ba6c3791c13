/* bench_coding.c: decode and encode MB/s of each content coding, cio's (the decoder stage the body reader runs, the
 * writer's encoder) against the library used directly with the same 64 KiB output buffer, in one run; and the
 * whole body reader decoding from a socket pair, for scale. Prints a Markdown table of medians with their range.
 *
 *     bench_coding [RUNS] [MB]
 */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "cio.h"
#include "http/coding.h"

#define OUT ((size_t)64 * 1024)

static volatile size_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Text that compresses like a web page: words from a small vocabulary, in an order from a PRNG. */
static uint8_t *payload(size_t n)
{
    static const char *const words[] = {"the ",      "<div class=\"item\">",
                                        "value",     "</div>\n",
                                        "http ",     "server ",
                                        "client ",   "json",
                                        "{\"id\": ", "12345",
                                        ", ",        "name",
                                        "\"}",       "stream "};
    uint8_t *p = malloc(n);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n;) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *w = words[x % 14];
        size_t l = strlen(w);
        if (l > n - i)
            l = n - i;
        memcpy(p + i, w, l);
        i += l;
    }
    return p;
}

/* ------------------------------------------------------------------------------------------------ bare */

static size_t bare_decode(int coding, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t total = 0;
    if (coding == CIO_HTTP_CODING_GZIP) {
        z_stream z = {0};
        inflateInit2(&z, 16 + MAX_WBITS);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)n;
        int r;
        do {
            z.next_out = out;
            z.avail_out = OUT;
            r = inflate(&z, Z_NO_FLUSH);
            total += OUT - z.avail_out;
        } while (r == Z_OK);
        inflateEnd(&z);
    } else if (coding == CIO_HTTP_CODING_BR) {
        BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        size_t avail_in = n;
        const uint8_t *next_in = in;
        BrotliDecoderResult r;
        do {
            size_t avail_out = OUT;
            uint8_t *next_out = out;
            r = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
            total += OUT - avail_out;
        } while (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
        BrotliDecoderDestroyInstance(s);
    } else {
        ZSTD_DStream *d = ZSTD_createDStream();
        ZSTD_inBuffer ib = {in, n, 0};
        size_t r;
        do {
            ZSTD_outBuffer ob = {out, OUT, 0};
            r = ZSTD_decompressStream(d, &ob, &ib);
            total += ob.pos;
        } while (!ZSTD_isError(r) && (r != 0 || ib.pos < ib.size));
        ZSTD_freeDStream(d);
    }
    return total;
}

static size_t bare_encode(int coding, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t total = 0;
    if (coding == CIO_HTTP_CODING_GZIP) {
        z_stream z = {0};
        deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)n;
        int r;
        do {
            z.next_out = out;
            z.avail_out = 16384;
            r = deflate(&z, Z_FINISH);
            total += 16384 - z.avail_out;
        } while (r == Z_OK);
        deflateEnd(&z);
    } else if (coding == CIO_HTTP_CODING_BR) {
        BrotliEncoderState *s = BrotliEncoderCreateInstance(NULL, NULL, NULL);
        BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, 5);
        size_t avail_in = n;
        const uint8_t *next_in = in;
        while (!BrotliEncoderIsFinished(s)) {
            size_t avail_out = 16384;
            uint8_t *next_out = out;
            BrotliEncoderCompressStream(s, BROTLI_OPERATION_FINISH, &avail_in, &next_in, &avail_out, &next_out, NULL);
            total += 16384 - avail_out;
        }
        BrotliEncoderDestroyInstance(s);
    } else {
        ZSTD_CStream *c = ZSTD_createCStream();
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 23);
        ZSTD_inBuffer ib = {in, n, 0};
        size_t r;
        do {
            ZSTD_outBuffer ob = {out, 16384, 0};
            r = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
            total += ob.pos;
        } while (r != 0 && !ZSTD_isError(r));
        ZSTD_freeCStream(c);
    }
    return total;
}

/* ------------------------------------------------------------------------------------------------ cio */

static size_t cio_decode(int coding, const uint8_t *in, size_t n, uint8_t *out)
{
    struct cio__dec *d;
    if (cio__dec_new(&d, coding) < 0)
        abort();
    size_t total = 0, made;
    int rc;
    do {
        rc = cio__dec_step(d, &in, &n, out, OUT, &made);
        total += made;
    } while (rc == 0 && (made || n));
    cio__dec_free(d);
    return total;
}

static int count(void *arg, const uint8_t *p, size_t n)
{
    (void)p;
    *(size_t *)arg += n;
    return 0;
}

static size_t cio_encode(int coding, const uint8_t *in, size_t n, uint8_t *out)
{
    (void)out;
    struct cio__enc *e;
    if (cio__enc_new(&e, coding, 0) < 0)
        abort();
    size_t total = 0;
    cio__enc_write(e, in, n, true, count, &total);
    cio__enc_free(e);
    return total;
}

/* The whole reader: a task writes the coded body into a socket pair, the reader decodes it (both on one loop). */
struct reader_run {
    int coding;
    const uint8_t *coded;
    size_t n, got;
};

struct feed {
    cio_stream *s;
    const uint8_t *p;
    size_t n;
};

static int feeder(void *arg)
{
    struct feed *f = arg;
    for (size_t off = 0; off < f->n; off += 65536) {
        size_t k = f->n - off < 65536 ? f->n - off : 65536;
        if (cio_stream_write(f->s, f->p + off, k) < 0)
            return -1;
    }
    return cio_stream_write_eof(f->s);
}

static int reader_main(void *arg)
{
    struct reader_run *r = arg;
    int fds[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    cio_stream *s[2];
    cio_stream_open_fd(&s[0], fds[0], NULL);
    cio_stream_open_fd(&s[1], fds[1], NULL);
    struct feed f = {s[0], r->coded, r->n};
    cio_task *t;
    cio_spawn(&t, feeder, &f, NULL);
    const char *name = cio_http_coding_name(r->coding);
    cio_http_body_in b;
    cio_http_body_opts o = {.decode = true, .content_encoding = {name, strlen(name)}, .max_size = (uint64_t)1 << 40};
    cio_http_body_init(&b, s[1], CIO_HTTP_BODY_UNTIL_CLOSE, 0, &o);
    const void *p;
    size_t k;
    r->got = 0;
    while (cio_http_body_next(&b, &p, &k) == 1)
        r->got += k;
    cio_http_body_fini(&b);
    cio_join(t);
    cio_stream_close(s[0]);
    cio_stream_close(s[1]);
    return 0;
}

static size_t reader_decode(int coding, const uint8_t *in, size_t n, uint8_t *out)
{
    (void)out;
    struct reader_run r = {coding, in, n, 0};
    cio_run(reader_main, &r);
    return r.got;
}

/* ------------------------------------------------------------------------------------------------ table */

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* MB/s of `fn` over `n` bytes of payload (the decoded size for decoders), median and range over `runs`. */
static void measure(size_t (*fn)(int, const uint8_t *, size_t, uint8_t *), int coding, const uint8_t *in, size_t n,
                    size_t payload_len, int runs, uint8_t *out, double *med, double *lo, double *hi)
{
    double r[32];
    sink += fn(coding, in, n, out); /* warm-up */
    for (int i = 0; i < runs; i++) {
        double t = now();
        size_t got = fn(coding, in, n, out);
        t = now() - t;
        sink += got;
        r[i] = (double)payload_len / t / 1e6;
    }
    qsort(r, (size_t)runs, sizeof *r, cmp);
    *med = r[runs / 2];
    *lo = r[0];
    *hi = r[runs - 1];
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    size_t mb = argc > 2 ? (size_t)atoi(argv[2]) : 64;
    if (runs < 1 || runs > 32 || mb < 1)
        return 2;
    size_t n = mb << 20;
    uint8_t *p = payload(n), *out = malloc(OUT > 16384 ? OUT : 16384);
    static const int codings[] = {CIO_HTTP_CODING_GZIP, CIO_HTTP_CODING_BR, CIO_HTTP_CODING_ZSTD};
    printf(
        "| coding | direction | library MB/s | cio MB/s | cio / library | cio body reader on a socket pair MB/s |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t c = 0; c < 3; c++) {
        int coding = codings[c];
        /* The coded payload, made by the library in one call. */
        size_t cap = n + (n >> 3) + 65536, clen = cap;
        uint8_t *coded = malloc(cap);
        if (coding == CIO_HTTP_CODING_GZIP) {
            z_stream z = {0};
            deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
            z.next_in = p;
            z.avail_in = (uInt)n;
            z.next_out = coded;
            z.avail_out = (uInt)cap;
            deflate(&z, Z_FINISH);
            clen = z.total_out;
            deflateEnd(&z);
        } else if (coding == CIO_HTTP_CODING_BR) {
            BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, n, p, &clen, coded);
        } else {
            clen = ZSTD_compress(coded, cap, p, n, 3);
        }
        double bm, bl, bh, cm, cl, ch, rm, rl, rh;
        measure(bare_decode, coding, coded, clen, n, runs, out, &bm, &bl, &bh);
        measure(cio_decode, coding, coded, clen, n, runs, out, &cm, &cl, &ch);
        measure(reader_decode, coding, coded, clen, n, runs, out, &rm, &rl, &rh);
        printf("| %s | decode | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.2f | %.0f [%.0f-%.0f] |\n",
               cio_http_coding_name(coding), bm, bl, bh, cm, cl, ch, cm / bm, rm, rl, rh);
        measure(bare_encode, coding, p, n, n, runs, coded, &bm, &bl, &bh);
        measure(cio_encode, coding, p, n, n, runs, out, &cm, &cl, &ch);
        printf("| %s | encode | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.2f | |\n", cio_http_coding_name(coding), bm, bl,
               bh, cm, cl, ch, cm / bm);
        fflush(stdout);
        free(coded);
    }
    free(p);
    free(out);
    return 0;
}
