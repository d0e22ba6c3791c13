/* stream_write.c: a stream's output: the buffer up to the high-water mark, writes straight from the caller's
 * memory when nothing is queued, drain, write_eof and sendfile. */
#include "io/stream.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* First size of a write buffer that is not the loop's, made on first use. */
#define WBUF_FIRST ((size_t)16 * 1024)
/* iovecs handed to one writev/sendmsg. */
#define IOV_BATCH 64

static bool valid(const cio_stream *s)
{
    return cio__stream_valid(s);
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void set_werr(cio_stream *s, int err)
{
    s->werr = err;
    s->wstart = s->wend = 0; /* unsendable now: drop it */
    cio__stream_wbuf_release(s);
}

/* One write of the buffered output (waiting for room unless `flags` has CIO__T_NOWAIT): 0, -EAGAIN, or the
   error, which sticks. */
static int flush_once(cio_stream *s, int flags)
{
    struct iovec v = {.iov_base = s->wbuf + s->wstart, .iov_len = cio__wbuffered(s)};
    ssize_t n = s->t == &s->sock.base && (flags & CIO__T_NOWAIT) ? cio__sock_writev_now(&s->sock, &v, 1)
                                                                 : s->t->ops->writev(s->t, &v, 1, flags);
    if (n == -EAGAIN)
        return -EAGAIN;
    if (n < 0) {
        if (n != -EBADF && n != -ECANCELED && !cio_is_timeout((int)n))
            set_werr(s, (int)n); /* the transport failed; a wait cut short did not */
        return (int)n;
    }
    s->wstart += (size_t)n;
    if (cio__wbuffered(s) == 0) {
        s->wstart = s->wend = 0;
        cio__stream_wbuf_release(s);
    }
    return 0;
}

int cio__stream_flush_now(cio_stream *s)
{
    while (cio__wbuffered(s) > 0) {
        int rc = flush_once(s, CIO__T_NOWAIT);
        if (rc < 0)
            return rc;
    }
    return s->werr;
}

int cio__stream_flush_until(cio_stream *s, size_t target)
{
    while (cio__wbuffered(s) > target) {
        int rc = flush_once(s, 0);
        if (rc < 0)
            return rc;
    }
    return s->werr;
}

/* Append `n` bytes; the caller keeps the buffer at most `high`, which bounds its growth. */
static int wbuf_append(cio_stream *s, const char *p, size_t n)
{
    size_t have = cio__wbuffered(s);
    if (have == 0)
        s->wstart = s->wend = 0;
    if (s->wpool && !s->wbuf) {
        if (!(s->wbuf = cio__iobuf_get()))
            return -ENOMEM;
        s->wcap = CIO__IOBUF_SIZE;
    }
    if (s->wcap - s->wend < n) {
        if (s->wcap < have + n) {
            CIO_ASSERT(!s->wpool); /* the loop's buffer holds `high` bytes, the most ever queued */
            size_t cap = s->wcap ? s->wcap : min_size(WBUF_FIRST, s->high);
            while (cap < have + n)
                cap *= 2;
            if (cap > s->high)
                cap = have + n > s->high ? have + n : s->high;
            char *nb = cio__realloc(s->wbuf, cap);
            if (!nb)
                return -ENOMEM;
            s->wbuf = nb;
            s->wcap = cap;
        }
        if (s->wcap - s->wend < n) {
            memmove(s->wbuf, s->wbuf + s->wstart, have);
            s->wstart = 0;
            s->wend = have;
        }
    }
    memcpy(s->wbuf + s->wend, p, n);
    s->wend += n;
    return 0;
}

/* Copy up to IOV_BATCH segments of iov[idx..] into `out`, the first one starting `off` bytes in. */
static int iov_batch(struct iovec *out, const struct iovec *iov, int cnt, int idx, size_t off)
{
    int k = 0;
    for (; idx < cnt && k < IOV_BATCH; idx++, off = 0) {
        if (iov[idx].iov_len == off)
            continue;
        out[k].iov_base = (char *)iov[idx].iov_base + off;
        out[k].iov_len = iov[idx].iov_len - off;
        k++;
    }
    return k;
}

/* Move (idx, off) forward by `n` bytes. */
static void iov_advance(const struct iovec *iov, int cnt, int *idx, size_t *off, size_t n)
{
    while (*idx < cnt) {
        size_t left = iov[*idx].iov_len - *off;
        if (n < left) {
            *off += n;
            return;
        }
        n -= left;
        (*idx)++;
        *off = 0;
    }
}

static int write_iov(cio_stream *s, const struct iovec *iov, int cnt)
{
    int idx = 0, rc;
    size_t off = 0;
    if (s->werr)
        return s->werr;
    if (s->wshut || cio__stream_no_fd(s))
        return -EINVAL;
    /* Nothing queued: hand the caller's bytes to the transport straight from their memory, unless a write cut
       short must be retried with the same bytes (TLS), which the caller's memory may not hold by then. */
    while (idx < cnt && cio__wbuffered(s) == 0 && !s->t->ops->copy_writes) {
        struct iovec v[IOV_BATCH];
        int k = iov_batch(v, iov, cnt, idx, off);
        if (k == 0)
            return 0;
        ssize_t n =
            s->t == &s->sock.base ? cio__sock_writev_now(&s->sock, v, k) : s->t->ops->writev(s->t, v, k, CIO__T_NOWAIT);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            set_werr(s, (int)n);
            return (int)n;
        }
        iov_advance(iov, cnt, &idx, &off, (size_t)n);
    }
    /* Queue the rest, sending and waiting whenever the buffer is at the high-water mark. */
    while (idx < cnt) {
        if (s->werr)
            return s->werr;
        size_t seg = iov[idx].iov_len - off, have = cio__wbuffered(s);
        if (seg == 0) {
            idx++;
            off = 0;
            continue;
        }
        if (have >= s->high) {
            if ((rc = flush_once(s, 0)) < 0)
                return rc;
            continue;
        }
        size_t take = min_size(seg, s->high - have);
        if ((rc = wbuf_append(s, (const char *)iov[idx].iov_base + off, take)) < 0)
            return rc;
        off += take;
    }
    rc = cio__stream_flush_now(s);
    return rc == -EAGAIN ? 0 : rc;
}

int cio_stream_write(cio_stream *s, const void *buf, size_t len)
{
    if (!valid(s) || (!buf && len > 0))
        return -EINVAL;
    if (len == 0)
        return s->werr;
    int rc = cio__stream_op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
    return (int)cio__stream_op_end(s, &s->writing, write_iov(s, &v, 1));
}

int cio_stream_writev(cio_stream *s, const struct iovec *iov, int iovcnt)
{
    if (!valid(s) || iovcnt < 0 || (!iov && iovcnt > 0))
        return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (!iov[i].iov_base && iov[i].iov_len > 0)
            return -EINVAL;
        if (iov[i].iov_len > SSIZE_MAX - total)
            return -EINVAL;
        total += iov[i].iov_len;
    }
    int rc = cio__stream_op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    return (int)cio__stream_op_end(s, &s->writing, write_iov(s, iov, iovcnt));
}

int cio_stream_drain(cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    return (int)cio__stream_op_end(s, &s->writing, cio__stream_flush_until(s, s->low));
}

/* Flush, then end the output. No write may follow, even if the transport's end is cut short (a TLS close_notify
   waiting for room): a later write_eof or close finishes it. */
static int shut_write(cio_stream *s)
{
    int rc = cio__stream_flush_until(s, 0);
    if (rc < 0)
        return rc;
    s->wshut = true;
    return s->t->ops->shutdown(s->t, 0);
}

int cio_stream_write_eof(cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    if (!s->wshut)
        rc = cio__stream_no_fd(s) ? -EBADF : shut_write(s);
    else if (!cio__stream_no_fd(s))
        rc = s->t->ops->shutdown(s->t, 0); /* an earlier write_eof was cut short: each transport's is idempotent */
    return (int)cio__stream_op_end(s, &s->writing, rc);
}

/* sendfile through the transport, after what is buffered. */
static ssize_t send_file(cio_stream *s, int file_fd, off_t offset, size_t count)
{
    size_t done = 0;
    int rc = s->wshut || cio__stream_no_fd(s) ? -EINVAL : cio__stream_flush_until(s, 0);
    while (rc == 0 && done < count) {
        ssize_t n = s->t->ops->sendfile(s->t, file_fd, &offset, count - done, 0);
        if (n == 0)
            break; /* the file ended */
        if (n < 0) {
            if (n == -EPIPE || n == -ECONNRESET)
                set_werr(s, (int)n);
            rc = (int)n;
            break;
        }
        done += (size_t)n;
    }
    return rc < 0 ? rc : (ssize_t)done;
}

/* sendfile where the transport cannot (TLS, without kTLS): the file passes through memory. */
static ssize_t send_file_copy(cio_stream *s, int file_fd, off_t offset, size_t count)
{
    enum { CHUNK = 16 * 1024 };
    size_t done = 0;
    int rc = s->wshut || cio__stream_no_fd(s) ? -EINVAL : 0;
    char *buf = rc == 0 ? cio__malloc(CHUNK) : NULL;
    if (rc == 0 && !buf)
        rc = -ENOMEM;
    while (rc == 0 && done < count) {
        ssize_t n = pread(file_fd, buf, min_size(count - done, CHUNK), offset + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        struct iovec v = {.iov_base = buf, .iov_len = (size_t)n};
        if ((rc = write_iov(s, &v, 1)) == 0)
            done += (size_t)n;
    }
    cio__free(buf);
    return rc < 0 ? rc : (ssize_t)done;
}

ssize_t cio_stream_sendfile(cio_stream *s, int file_fd, off_t offset, size_t count)
{
    if (!valid(s) || file_fd < 0 || offset < 0)
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    return cio__stream_op_end(s, &s->writing,
                              s->t && s->t->ops->sendfile ? send_file(s, file_fd, offset, count)
                                                          : send_file_copy(s, file_fd, offset, count));
}
