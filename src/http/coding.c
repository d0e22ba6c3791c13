/* coding.c: content codings: gzip and deflate (zlib; deflate with or without its zlib wrapper, told apart by the
 * wrapper's check bits, as browsers do), br (libbrotli), zstd (libzstd, its window bounded as RFC 9659 asks),
 * decoders and encoders that allocate through cio's allocator; Content-Encoding lists and Accept-Encoding
 * negotiation. (libzstd takes an allocator only through its static-linking-only API, so its memory is malloc's;
 * LeakSanitizer still sees it.) */
#include "http/coding.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <errno.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "internal.h"

#define ZSTD_WINDOW_LOG_MAX 23 /* 8 MiB: what RFC 9659 requires decoders to support, and no more */
#define ENC_BUF             16384

/* ------------------------------------------------------------------------------------------------ allocators */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return cio__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    cio__free(p);
}

static void *b_alloc(void *opaque, size_t n)
{
    (void)opaque;
    return cio__malloc(n);
}

static void b_free(void *opaque, void *p)
{
    (void)opaque;
    cio__free(p);
}

/* ------------------------------------------------------------------------------------------------ names */

int cio_http_coding_from_name(cio_http_str name)
{
    if (cio_http_str_ieq(name, "gzip") || cio_http_str_ieq(name, "x-gzip"))
        return CIO_HTTP_CODING_GZIP;
    if (cio_http_str_ieq(name, "deflate"))
        return CIO_HTTP_CODING_DEFLATE;
    if (cio_http_str_ieq(name, "br"))
        return CIO_HTTP_CODING_BR;
    if (cio_http_str_ieq(name, "zstd"))
        return CIO_HTTP_CODING_ZSTD;
    if (cio_http_str_ieq(name, "identity"))
        return CIO_HTTP_CODING_IDENTITY;
    return CIO_EHTTP_CODING_UNSUPPORTED;
}

const char *cio_http_coding_name(int coding)
{
    switch (coding) {
    case CIO_HTTP_CODING_IDENTITY:
        return "identity";
    case CIO_HTTP_CODING_GZIP:
        return "gzip";
    case CIO_HTTP_CODING_DEFLATE:
        return "deflate";
    case CIO_HTTP_CODING_BR:
        return "br";
    case CIO_HTTP_CODING_ZSTD:
        return "zstd";
    default:
        return NULL;
    }
}

int cio_http_codings_parse(cio_http_str value, int *codings, size_t max)
{
    if ((!codings && max) || (!value.ptr && value.len))
        return -EINVAL;
    cio_http_str rest = value, elem;
    size_t n = 0;
    int rc;
    while ((rc = cio_http_list_next(&rest, &elem)) == 1) {
        int c = cio_http_coding_from_name(elem);
        if (c < 0)
            return c;
        if (c == CIO_HTTP_CODING_IDENTITY)
            continue;
        if (n == max)
            return CIO_EHTTP_CODING_UNSUPPORTED; /* more layers than anyone sends: refused, not guessed at */
        codings[n++] = c;
    }
    return rc < 0 ? rc : (int)n;
}

int cio_http_accept_coding(cio_http_str accept, bool present, unsigned offered)
{
    if (!present)
        return CIO_HTTP_CODING_IDENTITY; /* no header: the client did not ask, so nothing is compressed */
    /* q in thousandths for each coding, -1 when the list does not name it; the same for "*". */
    int q[CIO_HTTP_CODING_ZSTD + 1], star = -1;
    for (int i = 0; i <= CIO_HTTP_CODING_ZSTD; i++)
        q[i] = -1;
    cio_http_str rest = accept, elem, tok;
    int rc, w;
    while ((rc = cio_http_list_next(&rest, &elem)) == 1) {
        if (cio_http_qvalue(elem, &tok, &w) < 0)
            continue; /* a malformed element is ignored, as browsers' peers do */
        if (tok.len == 1 && tok.ptr[0] == '*') {
            star = w;
            continue;
        }
        int c = cio_http_coding_from_name(tok);
        if (c >= 0 && w > q[c])
            q[c] = w;
    }
    if (rc < 0)
        return CIO_HTTP_CODING_IDENTITY;
    /* The server's preference among codings of equal weight: br, zstd, gzip, deflate. */
    static const int order[] = {CIO_HTTP_CODING_BR, CIO_HTTP_CODING_ZSTD, CIO_HTTP_CODING_GZIP,
                                CIO_HTTP_CODING_DEFLATE};
    int best = -1, best_q = 0;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        int c = order[i];
        if (!(offered & CIO_HTTP_CODING_BIT(c)))
            continue;
        int cq = q[c] >= 0 ? q[c] : star >= 0 ? star : 0;
        if (cq > best_q) {
            best = c;
            best_q = cq;
        }
    }
    /* identity: refused only by "identity;q=0", or by "*;q=0" when identity is not named; when named, it competes
       by weight, else it is the fallback. */
    int id_q = q[CIO_HTTP_CODING_IDENTITY];
    bool id_ok = id_q > 0 || (id_q < 0 && star != 0);
    if (best >= 0 && !(id_q > best_q))
        return best;
    return id_ok ? CIO_HTTP_CODING_IDENTITY : -ENOENT;
}

/* ------------------------------------------------------------------------------------------------ decoders */

struct cio__dec {
    int coding;
    bool started; /* zlib: inflateInit2 done (deflate waits for two bytes to tell its wrapper) */
    bool ended;   /* the stream (or the last gzip member) ended */
    uint8_t held[2];
    size_t nheld;
    z_stream z;
    BrotliDecoderState *br;
    ZSTD_DStream *zs;
    size_t zs_hint; /* ZSTD_decompressStream's last return: 0 at the end of a frame */
};

int cio__dec_new(struct cio__dec **out, int coding)
{
    struct cio__dec *d = cio__calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->coding = coding;
    d->z.zalloc = z_alloc;
    d->z.zfree = z_free;
    switch (coding) {
    case CIO_HTTP_CODING_GZIP:
        if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
            goto nomem;
        d->started = true;
        break;
    case CIO_HTTP_CODING_DEFLATE:
        break; /* started at the first two bytes */
    case CIO_HTTP_CODING_BR:
        if (!(d->br = BrotliDecoderCreateInstance(b_alloc, b_free, NULL)))
            goto nomem;
        break;
    case CIO_HTTP_CODING_ZSTD:
        if (!(d->zs = ZSTD_createDStream()) ||
            ZSTD_isError(ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX))) {
            ZSTD_freeDStream(d->zs);
            goto nomem;
        }
        d->zs_hint = 1;
        break;
    default:
        cio__free(d);
        return -EINVAL;
    }
    *out = d;
    return 0;
nomem:
    cio__free(d);
    return -ENOMEM;
}

void cio__dec_free(struct cio__dec *d)
{
    if (!d)
        return;
    if (d->started)
        inflateEnd(&d->z);
    if (d->br)
        BrotliDecoderDestroyInstance(d->br);
    if (d->zs)
        ZSTD_freeDStream(d->zs);
    cio__free(d);
}

/* Deflate's first two bytes: a zlib header (CM 8, a window of at most 32 KiB, and the check bits) or raw. */
static int deflate_start(struct cio__dec *d, const uint8_t **in, size_t *inlen)
{
    while (d->nheld < 2 && *inlen) {
        d->held[d->nheld++] = **in;
        ++*in;
        --*inlen;
    }
    if (d->nheld < 2)
        return 0;
    bool zlib = (d->held[0] & 0x0f) == 8 && (d->held[0] >> 4) <= 7 && ((d->held[0] << 8) | d->held[1]) % 31 == 0;
    if (inflateInit2(&d->z, zlib ? MAX_WBITS : -MAX_WBITS) != Z_OK)
        return -ENOMEM;
    d->started = true;
    return 1;
}

static int zlib_step(struct cio__dec *d, const uint8_t **in, size_t *inlen, uint8_t *out, size_t cap, size_t *produced)
{
    if (d->ended) {
        if (!*inlen)
            return 1;
        /* Another gzip member may follow (gunzip reads them all); anything else after the end is corrupt. */
        if (d->coding != CIO_HTTP_CODING_GZIP || **in != 0x1f)
            return CIO_EHTTP_CODING_CORRUPT;
        if (inflateReset(&d->z) != Z_OK)
            return CIO_EHTTP_CODING_CORRUPT;
        d->ended = false;
    }
    /* The two held bytes of a deflate stream go in first. */
    uint8_t *o = out;
    size_t room = cap;
    if (d->nheld) {
        d->z.next_in = d->held;
        d->z.avail_in = (uInt)d->nheld;
        d->z.next_out = o;
        d->z.avail_out = (uInt)room;
        int zr = inflate(&d->z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            return zr == Z_MEM_ERROR ? -ENOMEM : CIO_EHTTP_CODING_CORRUPT;
        size_t used = d->nheld - d->z.avail_in;
        memmove(d->held, d->held + used, d->nheld - used);
        d->nheld -= used;
        size_t made = room - d->z.avail_out;
        o += made;
        room -= made;
        if (zr == Z_STREAM_END) {
            d->ended = true;
            *produced = (size_t)(o - out);
            return d->nheld ? CIO_EHTTP_CODING_CORRUPT : 1;
        }
        if (d->nheld) {
            *produced = (size_t)(o - out);
            return 0;
        }
    }
    /* zlib counts in uInt: feed at most 1 GiB at a time. */
    size_t feed = *inlen < (1u << 30) ? *inlen : (1u << 30);
    d->z.next_in = (Bytef *)*in;
    d->z.avail_in = (uInt)feed;
    d->z.next_out = o;
    d->z.avail_out = (uInt)(room < (1u << 30) ? room : (1u << 30));
    uInt before_out = d->z.avail_out;
    int zr = room ? inflate(&d->z, Z_NO_FLUSH) : Z_BUF_ERROR;
    size_t used = feed - d->z.avail_in;
    *in += used;
    *inlen -= used;
    *produced = (size_t)(o - out) + (before_out - d->z.avail_out);
    if (zr == Z_STREAM_END) {
        d->ended = true;
        return 1;
    }
    if (zr == Z_OK || zr == Z_BUF_ERROR)
        return 0;
    return zr == Z_MEM_ERROR ? -ENOMEM : CIO_EHTTP_CODING_CORRUPT;
}

int cio__dec_step(struct cio__dec *d, const uint8_t **in, size_t *inlen, uint8_t *out, size_t cap, size_t *produced)
{
    *produced = 0;
    switch (d->coding) {
    case CIO_HTTP_CODING_DEFLATE:
        if (!d->started) {
            int rc = deflate_start(d, in, inlen);
            if (rc <= 0)
                return rc;
        }
        /* fall through */
    case CIO_HTTP_CODING_GZIP:
        return zlib_step(d, in, inlen, out, cap, produced);
    case CIO_HTTP_CODING_BR: {
        if (d->ended)
            return *inlen ? CIO_EHTTP_CODING_CORRUPT : 1;
        size_t avail_in = *inlen, avail_out = cap;
        uint8_t *next_out = out;
        BrotliDecoderResult r = BrotliDecoderDecompressStream(d->br, &avail_in, in, &avail_out, &next_out, NULL);
        *inlen = avail_in;
        *produced = cap - avail_out;
        if (r == BROTLI_DECODER_RESULT_ERROR)
            return CIO_EHTTP_CODING_CORRUPT;
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            d->ended = true;
            return *inlen ? CIO_EHTTP_CODING_CORRUPT : 1;
        }
        return 0;
    }
    case CIO_HTTP_CODING_ZSTD: {
        if (d->ended && !*inlen)
            return 1; /* a whole frame, and nothing after it (yet) */
        ZSTD_inBuffer ib = {*in, *inlen, 0};
        ZSTD_outBuffer ob = {out, cap, 0};
        size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
        *in += ib.pos;
        *inlen -= ib.pos;
        *produced = ob.pos;
        if (ZSTD_isError(r))
            return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : CIO_EHTTP_CODING_CORRUPT;
        d->zs_hint = r;
        /* A frame is whole and flushed: the end, unless another frame follows (zstd reads them in a row). */
        d->ended = r == 0;
        return d->ended ? 1 : 0;
    }
    default:
        return -EINVAL;
    }
}

/* ------------------------------------------------------------------------------------------------ encoders */

struct cio__enc {
    int coding;
    bool finished;
    z_stream z;
    bool z_started;
    BrotliEncoderState *br;
    ZSTD_CStream *zs;
    uint8_t buf[ENC_BUF];
};

int cio__enc_new(struct cio__enc **out, int coding, int level)
{
    struct cio__enc *e = cio__calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->coding = coding;
    e->z.zalloc = z_alloc;
    e->z.zfree = z_free;
    int rc = 0;
    switch (coding) {
    case CIO_HTTP_CODING_GZIP:
    case CIO_HTTP_CODING_DEFLATE:
        if (level < 0 || level > 9)
            rc = -EINVAL;
        else if (deflateInit2(&e->z, level ? level : 6, Z_DEFLATED,
                              coding == CIO_HTTP_CODING_GZIP ? 16 + MAX_WBITS : MAX_WBITS, 8,
                              Z_DEFAULT_STRATEGY) != Z_OK)
            rc = -ENOMEM;
        else
            e->z_started = true;
        break;
    case CIO_HTTP_CODING_BR:
        if (level < 0 || level > BROTLI_MAX_QUALITY)
            rc = -EINVAL;
        else if (!(e->br = BrotliEncoderCreateInstance(b_alloc, b_free, NULL)))
            rc = -ENOMEM;
        else
            BrotliEncoderSetParameter(e->br, BROTLI_PARAM_QUALITY, (uint32_t)(level ? level : 5));
        break;
    case CIO_HTTP_CODING_ZSTD:
        if (level < 0 || level > ZSTD_maxCLevel())
            rc = -EINVAL;
        else if (!(e->zs = ZSTD_createCStream()))
            rc = -ENOMEM;
        else if (ZSTD_isError(ZSTD_CCtx_setParameter(e->zs, ZSTD_c_compressionLevel, level ? level : 3)) ||
                 ZSTD_isError(ZSTD_CCtx_setParameter(e->zs, ZSTD_c_windowLog, ZSTD_WINDOW_LOG_MAX)))
            rc = -EINVAL;
        break;
    default:
        rc = -EINVAL;
    }
    if (rc < 0) {
        cio__enc_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

void cio__enc_free(struct cio__enc *e)
{
    if (!e)
        return;
    if (e->z_started)
        deflateEnd(&e->z);
    if (e->br)
        BrotliEncoderDestroyInstance(e->br);
    if (e->zs)
        ZSTD_freeCStream(e->zs);
    cio__free(e);
}

int cio__enc_write(struct cio__enc *e, const uint8_t *in, size_t inlen, bool finish,
                   int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg)
{
    if (e->finished)
        return -EINVAL;
    int rc;
    switch (e->coding) {
    case CIO_HTTP_CODING_GZIP:
    case CIO_HTTP_CODING_DEFLATE:
        for (;;) {
            size_t feed = inlen < (1u << 30) ? inlen : (1u << 30);
            e->z.next_in = (Bytef *)in;
            e->z.avail_in = (uInt)feed;
            e->z.next_out = e->buf;
            e->z.avail_out = sizeof e->buf;
            bool last = finish && feed == inlen;
            int zr = deflate(&e->z, last ? Z_FINISH : Z_NO_FLUSH);
            if (zr == Z_STREAM_ERROR)
                return -EINVAL;
            size_t used = feed - e->z.avail_in;
            in += used;
            inlen -= used;
            size_t made = sizeof e->buf - e->z.avail_out;
            if (made && (rc = emit(arg, e->buf, made)) < 0)
                return rc;
            if (zr == Z_STREAM_END)
                break;
            if (!inlen && !last && e->z.avail_out)
                break;
        }
        break;
    case CIO_HTTP_CODING_BR:
        for (;;) {
            size_t avail_in = inlen, avail_out = sizeof e->buf;
            uint8_t *next_out = e->buf;
            if (!BrotliEncoderCompressStream(e->br, finish ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
                                             &avail_in, &in, &avail_out, &next_out, NULL))
                return -EINVAL;
            inlen = avail_in;
            size_t made = sizeof e->buf - avail_out;
            if (made && (rc = emit(arg, e->buf, made)) < 0)
                return rc;
            if (finish ? BrotliEncoderIsFinished(e->br) : (!inlen && !BrotliEncoderHasMoreOutput(e->br)))
                break;
        }
        break;
    case CIO_HTTP_CODING_ZSTD: {
        ZSTD_inBuffer ib = {in, inlen, 0};
        for (;;) {
            ZSTD_outBuffer ob = {e->buf, sizeof e->buf, 0};
            size_t r = ZSTD_compressStream2(e->zs, &ob, &ib, finish ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(r))
                return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EINVAL;
            if (ob.pos && (rc = emit(arg, e->buf, ob.pos)) < 0)
                return rc;
            if (finish ? r == 0 : (ib.pos == ib.size && ob.pos < ob.size))
                break;
        }
        break;
    }
    default:
        return -EINVAL;
    }
    if (finish)
        e->finished = true;
    return 0;
}
