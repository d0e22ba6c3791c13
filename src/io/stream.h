/* stream.h: how the socket, pipe and process code of the I/O layer makes streams. */
#ifndef CIO_IO_STREAM_H
#define CIO_IO_STREAM_H

#include "cio/io.h"

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
 * cio_stream_open_fd with the descriptor's kind given, to skip the fstat when the caller knows it (accept,
 * connect, pipe2). Same contract: the stream owns `fd` from then on, even on failure.
 */
int cio__stream_open(cio_stream **out, int fd, const cio_stream_opts *opts, enum cio__stream_kind kind);

/* -EINVAL when no stream could be opened with these options (low water above high water), else 0. */
int cio__stream_opts_check(const cio_stream_opts *opts);

#endif
