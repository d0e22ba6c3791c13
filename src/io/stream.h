/* stream.h: how the socket, pipe and process code of the I/O layer makes streams. */
#ifndef CIO_IO_STREAM_H
#define CIO_IO_STREAM_H

#include "cio/io.h"
#include "core/fd.h"

#define CIO__STREAM_MAGIC 0x7374726du /* "strm" */
#define CIO__STREAM_DEAD  0xdeadbeefu

struct cio__tls;

/* What a stream's descriptor is; it decides how write_eof half-closes and how abort closes. */
enum cio__stream_kind {
    /* Ask fstat: a socket if S_ISSOCK, else a pipe (or anything else that is read and written whole). */
    CIO__STREAM_AUTO = 0,
    /* write_eof is shutdown(SHUT_WR); writes use send(MSG_NOSIGNAL); abort sets SO_LINGER 0 (a TCP reset). */
    CIO__STREAM_SOCKET,
    /* write_eof closes the descriptor; writes use write(2), so a closed reader raises SIGPIPE unless the
       program ignores it (then they fail with -EPIPE). */
    CIO__STREAM_PIPE,
};

/*
 * Both buffers are compacting arrays, not rings: a ring would spare a memmove of the unread bytes now and then,
 * but it splits lines and views across its end, and next_line must hand out one contiguous span. With a limit
 * and high-water mark of at most CIO__IOBUF_SIZE (256 KiB) both buffers are the loop's shared I/O buffers, taken
 * when bytes come in or must be queued and given back as soon as they are empty (the read buffer before its task
 * waits for input), so an idle connection holds only this struct. Otherwise the read buffer grows by doubling up
 * to `limit` and the write buffer up to `high`, and neither shrinks before close.
 */
struct cio_stream {
    uint32_t magic;
    int fd;
    uint8_t kind;
    /* The descriptor is registered with the loop's poller (regular files cannot be, and never block). */
    bool watched;
    /* The peer ended the stream: read returned 0. */
    bool eof;
    /* write_eof has run: further writes are refused. */
    bool wshut;
    /* A task is inside a read call (a second reader gets -EBUSY) / a write, drain, sendfile or close flush. */
    bool reading, writing;
    /* Closed while a read or write call was suspended: the last of them to return frees the stream. */
    bool closed;
    /* cio_stream_close is under way (flushing, or waiting for the peer's close_notify): no new call may start. */
    bool closing;
    /* Sticky errors of the descriptor: a read failure (after the buffered bytes), a write failure. */
    int rerr, werr;
    struct cio__fd io;
    /* The readiness callback of core/fd.c, which ours chains to after sending buffered output. */
    void (*fd_ready)(struct cio__io_watch *w, uint32_t revents);
    size_t limit, high, low;
    /* Unread input is rbuf[rstart, rend); unsent output is wbuf[wstart, wend). */
    char *rbuf, *wbuf;
    size_t rcap, rstart, rend;
    size_t wcap, wstart, wend;
    /* The TLS session when the stream speaks TLS (io/tls.c), else NULL: reads and writes then go through it. */
    struct cio__tls *tls;
    /* The direction the last output attempt that got -EAGAIN must wait for (a TLS write may need input). */
    uint32_t owant;
    /* The read / write buffer is the loop's (cio__iobuf_get), given back whenever it is empty: the limit / high
       water mark fits in that buffer's size. */
    bool rpool, wpool;
    /* Called once (then cleared) when input, the end or an error arrives while no task reads: a parked server
       connection (cio__stream_on_input). */
    void (*on_input)(void *arg);
    void *on_input_arg;
};

static inline bool cio__stream_valid(const cio_stream *s)
{
    return s && s->magic == CIO__STREAM_MAGIC;
}

/*
 * cio_stream_open_fd with the descriptor's kind given, to skip the fstat when the caller knows it (accept,
 * connect, pipe2). Same contract: the stream owns `fd` from then on, even on failure.
 */
int cio__stream_open(cio_stream **out, int fd, const cio_stream_opts *opts, enum cio__stream_kind kind);

/* What cio__stream_input_ready finds. */
enum {
    /* A read would wait. */
    CIO__INPUT_NONE = 0,
    /* Bytes are buffered, by the stream or its TLS session. */
    CIO__INPUT_BUFFERED,
    /* The socket had an edge since its last read came up short: bytes, the end or an error (almost always; in the
       rare case the last read filled its buffer exactly and nothing followed, a read waits). */
    CIO__INPUT_EDGE,
    /* Nothing is buffered and a read already returned the end or an error: nothing more will come. */
    CIO__INPUT_END,
};

/* Whether input is there to read now (CIO__INPUT_*), without a system call; -EBADF when the stream is closing or
   has no descriptor. */
int cio__stream_input_ready(cio_stream *s);

/* Give back the loop buffers the stream holds empty (views handed out earlier die with them): it is about to
   wait with no task reading it. */
void cio__stream_idle(cio_stream *s);

/* Call fn(arg) from the loop, once, when the stream next gets input, an end or an error (see cio__stream_input_ready
   for when that is already the case); NULL cancels. `fn` may free the stream. */
void cio__stream_on_input(cio_stream *s, void (*fn)(void *arg), void *arg);

/* -EINVAL when no stream could be opened with these options (low water above high water), else 0. */
int cio__stream_opts_check(const cio_stream_opts *opts);

/*
 * The TLS transport (io/tls.c). Each call makes what progress it can without waiting and returns: a byte count
 * (> 0); 0 for a read at the clean end (close_notify) or a finished handshake / close_notify; -EAGAIN with
 * `*want` set to CIO__IO_READ or CIO__IO_WRITE, the direction to wait for before calling again; or an error
 * (a CIO_ETLS* code with cio_tls_last_error set, or the socket's -errno).
 */
ssize_t cio__tls_read(cio_stream *s, void *dst, size_t len, uint32_t *want);
ssize_t cio__tls_write(cio_stream *s, const void *src, size_t len, uint32_t *want);
int cio__tls_handshake(cio_stream *s, uint32_t *want);
int cio__tls_close_notify(cio_stream *s, uint32_t *want);

/* Put a TLS session on a socket stream (s->tls), client of `server_name` or server per the context's role. The
   unread bytes of the read buffer become the first the session reads. Errors: -EINVAL, -ENOMEM, CIO_ETLS. */
int cio__tls_attach(cio_stream *s, cio_tls_ctx *ctx, const char *server_name);

/* Whether the session holds input already read from the socket (decrypted or not). */
bool cio__tls_pending(const cio_stream *s);

/* Whether close has TLS work to do: the handshake completed and no fatal error ended the session since. */
bool cio__tls_close_owed(const cio_stream *s);

/* Free the session (without a close_notify). */
void cio__tls_free(struct cio__tls *t);

/* The context's role (CIO_TLS_CLIENT or CIO_TLS_SERVER), or -EINVAL when it is not a live context. */
int cio__tls_ctx_role(const cio_tls_ctx *ctx);

/* Another reference to a context (a server using it); dropped with cio_tls_ctx_free. */
void cio__tls_ctx_ref(cio_tls_ctx *ctx);

#endif
