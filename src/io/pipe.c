/* pipe.c: cio_pipe_open, a pipe as two streams, and cio_buf, the byte buffers handed to callers. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "internal.h"
#include "io/stream.h"

void cio_buf_free(cio_buf *b)
{
    if (!b)
        return;
    cio__free(b->data);
    b->data = NULL;
    b->len = 0;
}

int cio_pipe_open(cio_stream **rd, cio_stream **wr, const cio_stream_opts *opts)
{
    if (rd)
        *rd = NULL;
    if (wr)
        *wr = NULL;
    if (!rd || !wr)
        return -EINVAL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    /* The stream owns its descriptor even when opening fails, so only the other end needs closing here. */
    int rc = cio__stream_open(rd, fds[0], opts, CIO__SOCK_PIPE);
    if (rc < 0) {
        close(fds[1]);
        return rc;
    }
    rc = cio__stream_open(wr, fds[1], opts, CIO__SOCK_PIPE);
    if (rc < 0) {
        cio_stream_abort(*rd);
        *rd = NULL;
        return rc;
    }
    return 0;
}
