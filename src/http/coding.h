/* coding.h: the content codings' steps, shared by the body reader (decoding) and the body writer (encoding):
 * zlib for gzip and deflate, libbrotli for br, libzstd for zstd, each allocating through cio's allocator. */
#ifndef CIO_HTTP_CODING_H
#define CIO_HTTP_CODING_H

#include <stddef.h>
#include <stdint.h>

#include "cio/http.h"

/* One decoding step of a stack: its coding's decoder and what it holds between calls. */
struct cio__dec;

/* A decoder for `coding` (CIO_HTTP_CODING_GZIP, _DEFLATE, _BR, _ZSTD). Errors: -EINVAL; -ENOMEM. */
int cio__dec_new(struct cio__dec **out, int coding);
void cio__dec_free(struct cio__dec *d);

/*
 * Decode from `*in` (`*inlen` bytes, advanced past what was taken) into `out[0..cap)`, `*produced` the bytes
 * written. Input may come in any pieces, including none (to flush what the decoder holds).
 * Returns: 1 when the coded stream has ended here (more input after it is refused, except another gzip member or
 *          zstd frame, which starts it again); 0 when it wants more input or more room.
 * Errors:  CIO_EHTTP_CODING_CORRUPT  not a valid stream of its coding, or bytes after its end; -ENOMEM.
 */
int cio__dec_step(struct cio__dec *d, const uint8_t **in, size_t *inlen, uint8_t *out, size_t cap, size_t *produced);

/* An encoder for `coding` at `level` (0: the library's default for HTTP: gzip 6, br 5, zstd 3). */
struct cio__enc;
int cio__enc_new(struct cio__enc **out, int coding, int level);
void cio__enc_free(struct cio__enc *e);

/*
 * Encode `inlen` bytes of `in` (all of them; `finish` to end the coded stream after them), handing each piece of
 * output to `emit(arg, p, n)` as it is made (at most the encoder's buffer size at a time). Returns 0, or emit's
 * error, -ENOMEM, -EINVAL (after finish).
 */
int cio__enc_write(struct cio__enc *e, const uint8_t *in, size_t inlen, bool finish,
                   int (*emit)(void *arg, const uint8_t *p, size_t n), void *arg);

#endif
