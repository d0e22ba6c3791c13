/* stream.h: how the socket, pipe, process and server code of the I/O layer makes and drives streams. */
#ifndef CIO_IO_STREAM_H
#define CIO_IO_STREAM_H

#include "cio/io.h"
#include "core/runtime.h"
#include "io/transport.h"

#define CIO__STREAM_MAGIC 0x7374726du /* "strm" */
#define CIO__STREAM_DEAD  0xdeadbeefu

/* The read timeout's timer while a stream waits with no task reading it (parked), made on first use. */
struct cio__park_timer {
    struct cio__timer timer;
    cio_stream *stream;
};

/*
 * Both buffers are compacting arrays, not rings: a ring would spare a memmove of the unread bytes now and then,
 * but it splits lines and views across its end, and next_line and peek must hand out one contiguous span. With a
 * limit and high-water mark of at most CIO__IOBUF_SIZE (256 KiB) both buffers are the loop's shared I/O buffers,
 * taken when bytes come in or must be queued and given back as soon as they are empty (the read buffer before
 * its task waits for input), so an idle connection holds only this struct. Otherwise the read buffer grows by
 * doubling up to `limit` and the write buffer up to `high`, and neither shrinks before close.
 */
struct cio_stream {
    uint32_t magic;
    /* The peer ended the stream: a read returned 0. */
    bool eof;
    /* write_eof has run: further writes are refused. */
    bool wshut;
    /* A task is inside a read call (a second reader gets -EBUSY) / a write, drain, sendfile or close flush. */
    bool reading, writing;
    /* Closed while a read or write call was suspended: the last of them to return frees the stream. */
    bool closed;
    /* cio_stream_close is under way (flushing, or waiting for the peer's close_notify): no new call may start. */
    bool closing;
    /* The read / write buffer is the loop's (cio__iobuf_get), given back whenever it is empty: the limit / high
       water mark fits in that buffer's size. */
    bool rpool, wpool;
    /* Sticky errors of the transport: a read failure (after the buffered bytes), a write failure. */
    int rerr, werr;
    /* What the stream reads and writes through (TLS, a test's wrapper, or the socket itself), and the socket at
       the bottom of that stack, which lives inside the stream: one allocation per connection. */
    struct cio__transport *t;
    struct cio__sock sock;
    size_t limit, high, low;
    /* Unread input is rbuf[rstart, rend); unsent output is wbuf[wstart, wend). */
    char *rbuf, *wbuf;
    size_t rcap, rstart, rend;
    size_t wcap, wstart, wend;
    /* Called once (then cleared) when input, the end or an error arrives while no task reads, or the read timeout
       passes first (`why` is then CIO_EREADTIMEOUT, else 0): a parked server connection (cio__stream_on_input). */
    void (*on_input)(void *owner, int why);
    /* The server connection this stream is (server.c's, for cio_server_conn_state and on_input), or NULL. */
    void *owner;
    struct cio__park_timer *park;
};

static inline bool cio__stream_valid(const cio_stream *s)
{
    return s && s->magic == CIO__STREAM_MAGIC;
}

/*
 * cio_stream_open_fd with the descriptor's kind given, to skip the fstat when the caller knows it (accept,
 * connect, pipe2). Same contract: the stream owns `fd` from then on, even on failure.
 */
int cio__stream_open(cio_stream **out, int fd, const cio_stream_opts *opts, enum cio__sock_kind kind);

/* What cio__stream_input_ready finds. */
enum {
    /* A read would wait. */
    CIO__INPUT_NONE = 0,
    /* Bytes are buffered, by the stream or its transport. */
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

/* Whether input is buffered or a read would find some now, asking the kernel if need be (one system call): for a
   fresh connection, whose readiness nothing has told yet. */
bool cio__stream_probe_input(cio_stream *s);

/* Give back the loop buffers the stream holds empty (views handed out earlier die with them): it is about to
   wait with no task reading it. */
void cio__stream_idle(cio_stream *s);

/* Call fn(s->owner, why) from the loop, once, when the stream next gets input, an end or an error (`why` 0), or
   when `timeout` ns (> 0; 0: none) pass first (`why` CIO_EREADTIMEOUT); see cio__stream_input_ready for when
   input is already there. NULL cancels. `fn` may free the stream. Errors: -ENOMEM for the timer (nothing is
   set). */
int cio__stream_on_input_timed(cio_stream *s, void (*fn)(void *owner, int why), int64_t timeout);
static inline int cio__stream_on_input(cio_stream *s, void (*fn)(void *owner, int why), int64_t timeout)
{
    if (CIO_LIKELY(!s->park && !(fn && timeout > 0))) { /* no timer to set or to take back: once per request */
        s->on_input = fn;
        return 0;
    }
    return cio__stream_on_input_timed(s, fn, timeout);
}

/* -EINVAL when no stream could be opened with these options (low water above high water), else 0. */
int cio__stream_opts_check(const cio_stream_opts *opts);

/* The context's role (CIO_TLS_CLIENT or CIO_TLS_SERVER), or -EINVAL when it is not a live context (io/tls.c). */
int cio__tls_ctx_role(const cio_tls_ctx *ctx);

/* Another reference to a context (a server using it); dropped with cio_tls_ctx_free. */
void cio__tls_ctx_ref(cio_tls_ctx *ctx);

/* ------------------------------------------------------------------------------------------------ for stream*.c */

/* The files of the stream (stream.c: open, close, parking; stream_read.c; stream_write.c) share these. */
static inline size_t cio__rbuffered(const cio_stream *s)
{
    return s->rend - s->rstart;
}

static inline size_t cio__wbuffered(const cio_stream *s)
{
    return s->wend - s->wstart;
}

/* The descriptor is gone (closed, or a pipe's writer half-closed it). */
static inline bool cio__stream_no_fd(const cio_stream *s)
{
    return s->sock.fd < 0;
}

/* Free a stream whose transport is closed (close, or the last call out of a closed one). */
void cio__stream_free(cio_stream *s);

/* Enter a read (`flag` = &s->reading) or write call: one task at a time in each direction. */
static inline int cio__stream_op_begin(cio_stream *s, bool *flag)
{
    if (s->closed || s->closing)
        return -EBADF;
    if (*flag)
        return -EBUSY;
    *flag = true;
    return 0;
}

/* Leave it; if the stream was closed meanwhile, the last call out frees it, and the call fails with -EBADF. */
static inline ssize_t cio__stream_op_end(cio_stream *s, bool *flag, ssize_t rc)
{
    *flag = false;
    if (CIO_UNLIKELY(s->closed)) {
        if (!s->reading && !s->writing)
            cio__stream_free(s);
        return rc < 0 ? rc : -EBADF;
    }
    return rc;
}

/* Give an empty loop buffer back (see struct cio_stream). */
static inline void cio__stream_rbuf_release(cio_stream *s)
{
    if (s->rpool && s->rbuf && cio__rbuffered(s) == 0) {
        cio__iobuf_put(s->rbuf);
        s->rbuf = NULL;
        s->rcap = s->rstart = s->rend = 0;
    }
}

static inline void cio__stream_wbuf_release(cio_stream *s)
{
    if (s->wpool && s->wbuf && cio__wbuffered(s) == 0) {
        cio__iobuf_put(s->wbuf);
        s->wbuf = NULL;
        s->wcap = s->wstart = s->wend = 0;
    }
}

/* Send buffered output until it is gone (0), the transport would wait (-EAGAIN) or fails (its error). */
int cio__stream_flush_now(cio_stream *s);
/* Send and wait until at most `target` bytes remain buffered. */
int cio__stream_flush_until(cio_stream *s, size_t target);

#endif
