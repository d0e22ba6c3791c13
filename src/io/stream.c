/* stream.c: buffered byte streams over sockets and pipes: line reads with a limit, back-pressured writes. */
#include "io/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fd.h"
#include "core/runtime.h"
#include "internal.h"

#define DEFAULT_LIMIT ((size_t)64 * 1024)
#define DEFAULT_HIGH  ((size_t)64 * 1024)
/* First sizes of buffers that are not the loop's, made on first use. */
#define RBUF_FIRST ((size_t)16 * 1024)
#define WBUF_FIRST ((size_t)16 * 1024)
/* The most a close waits to send what is buffered. */
#define CLOSE_FLUSH_NS CIO_SEC(5)
/* iovecs handed to one writev/sendmsg. */
#define IOV_BATCH 64

static bool valid(const cio_stream *s)
{
    return cio__stream_valid(s);
}

static size_t rbuffered(const cio_stream *s)
{
    return s->rend - s->rstart;
}

static size_t wbuffered(const cio_stream *s)
{
    return s->wend - s->wstart;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Give an empty loop buffer back (see struct cio_stream). */
static void rbuf_release(cio_stream *s)
{
    if (s->rpool && s->rbuf && rbuffered(s) == 0) {
        cio__iobuf_put(s->rbuf);
        s->rbuf = NULL;
        s->rcap = s->rstart = s->rend = 0;
    }
}

static void wbuf_release(cio_stream *s)
{
    if (s->wpool && s->wbuf && wbuffered(s) == 0) {
        cio__iobuf_put(s->wbuf);
        s->wbuf = NULL;
        s->wcap = s->wstart = s->wend = 0;
    }
}

static void stream_free(cio_stream *s)
{
    s->magic = CIO__STREAM_DEAD;
    cio__tls_free(s->tls);
    if (s->rpool)
        cio__iobuf_put(s->rbuf);
    else
        cio__free(s->rbuf);
    if (s->wpool)
        cio__iobuf_put(s->wbuf);
    else
        cio__free(s->wbuf);
    cio__free(s);
}

/* Forget the descriptor and close it; tasks waiting on it wake with -EBADF. */
static void release_fd(cio_stream *s)
{
    if (s->watched)
        cio__fd_close(&s->io);
    s->watched = false;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* ------------------------------------------------------------------------------------------------ calls */

/* Enter a read (`flag` = &s->reading) or write call: one task at a time in each direction. */
static int op_begin(cio_stream *s, bool *flag)
{
    if (s->closed || s->closing)
        return -EBADF;
    if (*flag)
        return -EBUSY;
    *flag = true;
    return 0;
}

/* Leave it; if the stream was closed meanwhile, the last call out frees it, and the call fails with -EBADF. */
static ssize_t op_end(cio_stream *s, bool *flag, ssize_t rc)
{
    *flag = false;
    if (CIO_UNLIKELY(s->closed)) {
        if (!s->reading && !s->writing)
            stream_free(s);
        return rc < 0 ? rc : -EBADF;
    }
    return rc;
}

/* Wait for readiness after EAGAIN. A stream closed during the wait fails, even if the wake-up came first:
   the descriptor's number may already belong to something else. */
static int wait_dir(cio_stream *s, uint32_t dir)
{
    if (!s->watched)
        return s->fd < 0 ? -EBADF : -EAGAIN;
    int rc = cio__fd_wait(&s->io, dir);
    if (s->closed)
        return -EBADF;
    return rc;
}

/*
 * wait_dir for a TLS call, which may need the other direction: a read that must write (a post-handshake message
 * answered), a write that must read. Another task may already wait for that direction (one waiter each); then
 * this one polls every millisecond instead of failing. Rare: renegotiation is off.
 */
static int wait_tls(cio_stream *s, uint32_t dir)
{
    int rc = wait_dir(s, dir);
    if (rc == -EBUSY && s->tls)
        rc = cio_sleep(CIO_MS(1));
    return rc;
}

/* ------------------------------------------------------------------------------------------------ output */

static void set_werr(cio_stream *s, int err)
{
    s->werr = err;
    s->wstart = s->wend = 0; /* unsendable now: drop it */
    wbuf_release(s);
}

/* One writev (send or sendmsg on sockets, so a gone peer gives -EPIPE rather than SIGPIPE). */
static ssize_t sys_writev(cio_stream *s, const struct iovec *iov, int cnt)
{
    ssize_t n;
    do {
        if (s->kind == CIO__STREAM_SOCKET && cnt == 1) {
            /* send spares the kernel sendmsg's copy of the message header: 4-5% of a 1 KiB echo round trip. */
            n = send(s->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
        } else if (s->kind == CIO__STREAM_SOCKET) {
            struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
            n = sendmsg(s->fd, &m, MSG_NOSIGNAL);
        } else {
            n = writev(s->fd, iov, cnt);
        }
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    int err = -errno;
    if (err == -EAGAIN)
        s->io.ready &= ~(CIO__IO_WRITE | CIO__IO_ERROR); /* the next edge sets it again */
    return err;
}

/* Whether a write could make progress without a syscall saying EAGAIN first. */
static bool may_write(const cio_stream *s)
{
    return !s->watched || (s->io.ready & (CIO__IO_WRITE | CIO__IO_ERROR));
}

/* Send buffered output until it is gone (0), the descriptor is full (-EAGAIN, s->owant the direction to wait
   for) or fails (its error). */
static int flush_now(cio_stream *s)
{
    s->owant = CIO__IO_WRITE;
    while (wbuffered(s) > 0) {
        if (!may_write(s))
            return -EAGAIN;
        ssize_t n;
        if (s->tls) {
            n = cio__tls_write(s, s->wbuf + s->wstart, wbuffered(s), &s->owant);
        } else {
            struct iovec v = {.iov_base = s->wbuf + s->wstart, .iov_len = wbuffered(s)};
            n = sys_writev(s, &v, 1);
        }
        if (n == -EAGAIN)
            return -EAGAIN;
        if (n < 0) {
            set_werr(s, (int)n);
            return (int)n;
        }
        s->wstart += (size_t)n;
    }
    s->wstart = s->wend = 0;
    wbuf_release(s);
    return s->werr;
}

/* Send and wait until at most `target` bytes remain buffered. */
static int flush_until(cio_stream *s, size_t target)
{
    while (wbuffered(s) > target) {
        int rc = flush_now(s);
        if (rc == -EAGAIN)
            rc = wait_tls(s, s->owant);
        if (rc < 0)
            return rc;
    }
    return s->werr;
}

/* The poller saw the descriptor: wake the waiting tasks, then send what is buffered, since output must leave
   even while no task is writing (a server that answered and now waits for the next request). */
static void stream_ready(struct cio__io_watch *w, uint32_t revents)
{
    cio_stream *s = cio__container_of(w, cio_stream, io.watch);
    s->fd_ready(w, revents);
    if ((revents & (CIO__IO_WRITE | CIO__IO_ERROR)) && wbuffered(s) > 0)
        (void)flush_now(s);
    if (s->on_input && (revents & (CIO__IO_READ | CIO__IO_ERROR | CIO__IO_HUP))) {
        void (*fn)(void *) = s->on_input;
        s->on_input = NULL;
        fn(s->on_input_arg); /* last: it may free the stream */
    }
}

/* Append `n` bytes; the caller keeps the buffer at most `high`, which bounds its growth. */
static int wbuf_append(cio_stream *s, const char *p, size_t n)
{
    size_t have = wbuffered(s);
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
    if (s->wshut || s->fd < 0)
        return -EINVAL;
    /* Nothing queued: hand the caller's bytes to the kernel straight from their memory. (Not over TLS: a record
       OpenSSL could not send at once must be retried with the same bytes, which the caller's memory may not
       hold by then; the output buffer does.) */
    while (idx < cnt && wbuffered(s) == 0 && !s->tls && may_write(s)) {
        struct iovec v[IOV_BATCH];
        int k = iov_batch(v, iov, cnt, idx, off);
        if (k == 0)
            return 0;
        ssize_t n = sys_writev(s, v, k);
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
        size_t seg = iov[idx].iov_len - off, have = wbuffered(s);
        if (seg == 0) {
            idx++;
            off = 0;
            continue;
        }
        if (have >= s->high) {
            rc = flush_now(s);
            if (rc == -EAGAIN)
                rc = wait_tls(s, s->owant);
            if (rc < 0)
                return rc;
            continue;
        }
        size_t take = min_size(seg, s->high - have);
        if ((rc = wbuf_append(s, (const char *)iov[idx].iov_base + off, take)) < 0)
            return rc;
        off += take;
    }
    rc = flush_now(s);
    return rc == -EAGAIN ? 0 : rc;
}

int cio_stream_write(cio_stream *s, const void *buf, size_t len)
{
    if (!valid(s) || (!buf && len > 0))
        return -EINVAL;
    if (len == 0)
        return s->werr;
    int rc = op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
    return (int)op_end(s, &s->writing, write_iov(s, &v, 1));
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
    int rc = op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    return (int)op_end(s, &s->writing, write_iov(s, iov, iovcnt));
}

int cio_stream_drain(cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    int rc = op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    return (int)op_end(s, &s->writing, flush_until(s, s->low));
}

/* Send the TLS close_notify, waiting as needed (0 at once when there is none to send). */
static int send_close_notify(cio_stream *s)
{
    int rc;
    while ((rc = cio__tls_close_notify(s, &s->owant)) == -EAGAIN) {
        if ((rc = wait_tls(s, s->owant)) < 0)
            return rc;
    }
    return rc;
}

static int shut_write(cio_stream *s)
{
    int rc = flush_until(s, 0);
    if (rc < 0)
        return rc;
    if (s->tls) {
        /* TLS's end of output is close_notify; the socket stays open for the peer's remaining bytes. No write
           may follow it, even if sending it is cut short: close finishes sending it. */
        s->wshut = true;
        return send_close_notify(s);
    }
    if (s->kind == CIO__STREAM_SOCKET) {
        if (shutdown(s->fd, SHUT_WR) < 0)
            return -errno;
    } else {
        release_fd(s);
    }
    s->wshut = true;
    return 0;
}

int cio_stream_write_eof(cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    int rc = op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    if (!s->wshut)
        rc = s->fd < 0 ? -EBADF : shut_write(s);
    else if (s->tls && s->fd >= 0)
        rc = send_close_notify(s); /* an earlier write_eof was cut short */
    return (int)op_end(s, &s->writing, rc);
}

static ssize_t send_file(cio_stream *s, int file_fd, off_t offset, size_t count)
{
    size_t done = 0;
    int rc = s->wshut || s->fd < 0 ? -EINVAL : flush_until(s, 0);
    while (rc == 0 && done < count) {
        /* One call at most 1 GiB: sendfile's own ceiling is just under 2 GiB. */
        ssize_t n = may_write(s) ? sendfile(s->fd, file_fd, &offset, min_size(count - done, (size_t)1 << 30)) : -1;
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n == 0)
            break; /* the file ended */
        int err = may_write(s) ? -errno : -EAGAIN;
        if (err == -EINTR)
            continue;
        if (err == -EAGAIN) {
            s->io.ready &= ~(CIO__IO_WRITE | CIO__IO_ERROR);
            rc = wait_dir(s, CIO__IO_WRITE);
        } else {
            if (err == -EPIPE || err == -ECONNRESET)
                set_werr(s, err);
            rc = err;
        }
    }
    return rc < 0 ? rc : (ssize_t)done;
}

/* sendfile over TLS: the kernel cannot encrypt (without kTLS), so the file passes through memory. */
static ssize_t send_file_copy(cio_stream *s, int file_fd, off_t offset, size_t count)
{
    enum { CHUNK = 16 * 1024 };
    size_t done = 0;
    int rc = s->wshut || s->fd < 0 ? -EINVAL : 0;
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
    int rc = op_begin(s, &s->writing);
    if (rc < 0)
        return rc;
    return op_end(s, &s->writing,
                  s->tls ? send_file_copy(s, file_fd, offset, count) : send_file(s, file_fd, offset, count));
}

/* ------------------------------------------------------------------------------------------------ input */

/* Make room for `want` unread bytes (at least one more than now), growing up to the limit, compacting. */
static int rbuf_reserve(cio_stream *s, size_t want)
{
    size_t have = rbuffered(s);
    if (have == 0)
        s->rstart = s->rend = 0;
    if (want <= have)
        want = have + 1;
    if (s->rpool && !s->rbuf) {
        if (!(s->rbuf = cio__iobuf_get()))
            return -ENOMEM;
        s->rcap = CIO__IOBUF_SIZE;
    }
    if (s->rcap < want) {
        CIO_ASSERT(!s->rpool); /* the loop's buffer holds `limit` bytes, the most ever wanted */
        size_t cap = s->rcap ? s->rcap : min_size(RBUF_FIRST, s->limit);
        while (cap < want)
            cap *= 2;
        if (cap > s->limit)
            cap = want > s->limit ? want : s->limit;
        char *nb = cio__realloc(s->rbuf, cap);
        if (!nb)
            return -ENOMEM;
        s->rbuf = nb;
        s->rcap = cap;
    }
    /* Compact when the tail cannot take what is wanted, or has shrunk below a quarter (reads would be small). */
    if (s->rstart > 0 && (s->rcap - s->rstart < want || s->rcap - s->rend < s->rcap / 4)) {
        memmove(s->rbuf, s->rbuf + s->rstart, have);
        s->rstart = 0;
        s->rend = have;
    }
    return 0;
}

/*
 * Wait for `dir` in the middle of a read into `*dst` (`*len` bytes). When that is the loop's buffer, empty, it goes
 * back to the loop for the wait, which is what keeps idle connections cheap, and a buffer is taken again after.
 */
static int wait_input(cio_stream *s, uint32_t dir, char **dst, size_t *len)
{
    bool ours = s->rpool && *dst == s->rbuf && rbuffered(s) == 0;
    if (ours)
        rbuf_release(s);
    int err = s->tls ? wait_tls(s, dir) : wait_dir(s, dir);
    if (ours && err == 0 && (err = rbuf_reserve(s, 0)) == 0) {
        *dst = s->rbuf;
        *len = s->rcap;
    }
    return err;
}

/* read_into over TLS: the session may hold decrypted bytes while the socket has none, so it is always asked. */
static ssize_t tls_read_into(cio_stream *s, char *dst, size_t len)
{
    for (;;) {
        uint32_t want = CIO__IO_READ;
        ssize_t n = cio__tls_read(s, dst, len > INT_MAX ? INT_MAX : len, &want);
        if (n > 0)
            return n;
        if (n == 0) {
            s->eof = true;
            return 0;
        }
        if (n != -EAGAIN) {
            s->rerr = (int)n;
            return n;
        }
        int err = wait_input(s, want, &dst, &len);
        if (err < 0)
            return err;
    }
}

/* One read into `dst`, waiting while there is nothing: the count, 0 at end of stream, or an error. */
static ssize_t read_into(cio_stream *s, char *dst, size_t len)
{
    if (s->rerr)
        return s->rerr;
    if (s->eof)
        return 0;
    if (s->fd < 0)
        return -EBADF;
    if (s->tls)
        return tls_read_into(s, dst, len);
    for (;;) {
        /* No edge since the descriptor was last found empty: wait for one instead of asking the kernel to say
           EAGAIN (one read syscall in five was that, in the echo benchmark). */
        if (s->watched && !(s->io.ready & (CIO__IO_READ | CIO__IO_ERROR | CIO__IO_HUP))) {
            int err = wait_input(s, CIO__IO_READ, &dst, &len);
            if (err < 0)
                return err;
        }
        /* recv on sockets: a shorter path through the kernel than read's file layer. */
        ssize_t n = s->kind == CIO__STREAM_SOCKET ? recv(s->fd, dst, len, 0) : read(s->fd, dst, len);
        if (n > 0) {
            /* A short read emptied the kernel's buffer: more data comes with a new edge. The end may have been
               reported already, so a hang-up seen once keeps reads going to the kernel (HUP is never cleared). */
            if ((size_t)n < len && s->kind == CIO__STREAM_SOCKET)
                s->io.ready &= ~CIO__IO_READ;
            return n;
        }
        if (n == 0) {
            s->eof = true;
            return 0;
        }
        int err = -errno;
        if (err == -EINTR)
            continue;
        if (err != -EAGAIN) {
            s->rerr = err;
            return err;
        }
        if ((err = wait_input(s, CIO__IO_READ, &dst, &len)) < 0)
            return err;
    }
}

/* Read once into the buffer, room made for `want` unread bytes: one syscall takes as much as fits. */
static ssize_t fill(cio_stream *s, size_t want)
{
    if (s->rerr || s->eof)
        return s->rerr;
    int rc = rbuf_reserve(s, want);
    if (rc < 0)
        return rc;
    ssize_t n = read_into(s, s->rbuf + s->rend, s->rcap - s->rend);
    if (n > 0)
        s->rend += (size_t)n;
    return n;
}

/* Leave a read call that copied out what it took: a loop buffer left empty goes back at once, so a stream
   nobody reads just now (its task busy elsewhere) holds none. Calls that hand out views keep it until the next. */
static ssize_t read_end(cio_stream *s, ssize_t rc)
{
    rbuf_release(s);
    return op_end(s, &s->reading, rc);
}

/* Copy `n` buffered bytes out and consume them. */
static size_t take(cio_stream *s, void *dst, size_t n)
{
    if (n == 0)
        return 0; /* the buffer may be the loop's, given back */
    memcpy(dst, s->rbuf + s->rstart, n);
    s->rstart += n;
    return n;
}

ssize_t cio_stream_read(cio_stream *s, void *buf, size_t cap)
{
    if (!valid(s) || !buf || cap == 0)
        return -EINVAL;
    int rc = op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    if (cap > SSIZE_MAX)
        cap = SSIZE_MAX;
    ssize_t n = (ssize_t)rbuffered(s);
    if (n == 0) {
        /* A caller's buffer at least as large as ours is filled directly, sparing a copy (and ours, if the loop's,
           goes back first: it is empty, and this call may wait). */
        if (cap >= (s->rcap && !s->rpool ? s->rcap : RBUF_FIRST)) {
            rbuf_release(s);
            return op_end(s, &s->reading, read_into(s, buf, cap));
        }
        n = fill(s, 0);
    }
    if (n > 0)
        n = (ssize_t)take(s, buf, min_size(cap, rbuffered(s)));
    return read_end(s, n);
}

/* read_exactly for n beyond the limit: copy as it comes; *done says how much was copied. */
static ssize_t read_exactly_long(cio_stream *s, char *buf, size_t n, size_t *done)
{
    while (*done < n) {
        ssize_t r;
        if (rbuffered(s) > 0) {
            *done += take(s, buf + *done, min_size(n - *done, rbuffered(s)));
            continue;
        }
        rbuf_release(s);
        r = read_into(s, buf + *done, n - *done);
        if (r == 0)
            return CIO_EINCOMPLETE;
        if (r < 0)
            return r;
        *done += (size_t)r;
    }
    return (ssize_t)n;
}

ssize_t cio_stream_read_exactly(cio_stream *s, void *buf, size_t n, size_t *got)
{
    size_t done = 0;
    ssize_t rc;
    if (got)
        *got = 0;
    if (!valid(s) || (!buf && n > 0) || n > SSIZE_MAX)
        return -EINVAL;
    if (n == 0)
        return 0;
    if ((rc = op_begin(s, &s->reading)) < 0)
        return rc;
    if (n <= s->limit) {
        /* Within the limit, gather all n bytes in the buffer first: a cancelled wait loses nothing. */
        while (rbuffered(s) < n && (rc = fill(s, n)) > 0)
            ;
        if (rc >= 0) {
            done = take(s, buf, min_size(n, rbuffered(s)));
            rc = done == n ? (ssize_t)n : CIO_EINCOMPLETE;
        }
    } else {
        rc = read_exactly_long(s, buf, n, &done);
    }
    if (got)
        *got = done;
    return read_end(s, rc);
}

/*
 * Buffer input until `sep` ends within the first `max` unread bytes. Returns 1 with *len the length up to and
 * including it; 0 at end of stream with *len what is left; -EMSGSIZE when `max` bytes hold no separator.
 */
static int find_sep(cio_stream *s, const void *sep, size_t seplen, size_t max, size_t *len)
{
    size_t from = 0; /* every match starting before this was ruled out */
    for (;;) {
        size_t lim = min_size(rbuffered(s), max);
        if (lim >= seplen) {
            const char *base = s->rbuf + s->rstart; /* only with bytes: an empty stream may have no buffer */
            const char *hit = seplen == 1 ? memchr(base + from, *(const char *)sep, lim - from)
                                          : memmem(base + from, lim - from, sep, seplen);
            if (hit) {
                *len = (size_t)(hit - base) + seplen;
                return 1;
            }
            from = lim - seplen + 1;
        }
        if (rbuffered(s) >= max)
            return -EMSGSIZE;
        ssize_t n = fill(s, 0); /* the buffer grows only when full */
        if (n < 0)
            return (int)n;
        if (n == 0) {
            *len = rbuffered(s);
            return 0;
        }
    }
}

ssize_t cio_stream_read_until(cio_stream *s, const void *sep, size_t seplen, void *buf, size_t cap)
{
    size_t len = 0;
    if (!valid(s) || !sep || seplen == 0 || !buf || cap == 0)
        return -EINVAL;
    int rc = op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    size_t max = min_size(min_size(cap, s->limit), SSIZE_MAX);
    rc = find_sep(s, sep, seplen, max, &len);
    if (rc < 0)
        return read_end(s, rc);
    return read_end(s, (ssize_t)take(s, buf, len));
}

ssize_t cio_stream_read_line(cio_stream *s, char *buf, size_t cap)
{
    return cio_stream_read_until(s, "\n", 1, buf, cap);
}

bool cio_stream_at_eof(const cio_stream *s)
{
    return valid(s) && s->eof && rbuffered(s) == 0;
}

/* The views point into the read buffer and are consumed at once: the bytes stay in place until the next call
   moves or overwrites them, which is what "valid until the next call" allows. */
int cio_stream_next_line(cio_stream *s, const char **line, size_t *len)
{
    if (!valid(s) || !line || !len)
        return -EINVAL;
    int rc = op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    size_t n = 0;
    rc = find_sep(s, "\n", 1, s->limit, &n);
    if (rc >= 0 && n > 0) {
        *line = s->rbuf + s->rstart;
        *len = n;
        s->rstart += n;
        rc = 1;
    }
    return (int)op_end(s, &s->reading, rc);
}

int cio_stream_next_chunk(cio_stream *s, const void **chunk, size_t *len)
{
    if (!valid(s) || !chunk || !len)
        return -EINVAL;
    int rc = op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    ssize_t n = (ssize_t)rbuffered(s);
    if (n == 0)
        n = fill(s, 0);
    if (n > 0) {
        *chunk = s->rbuf + s->rstart;
        *len = rbuffered(s);
        s->rstart = s->rend;
        n = 1;
    }
    return (int)op_end(s, &s->reading, n);
}

int cio__stream_input_ready(cio_stream *s)
{
    if (s->closed || s->closing || s->fd < 0 || !s->watched)
        return -EBADF;
    if (rbuffered(s) > 0 || cio__tls_pending(s))
        return CIO__INPUT_BUFFERED;
    if (s->eof || s->rerr)
        return CIO__INPUT_END;
    /* The ready bit is cleared by a read that came up short (the socket emptied) or said EAGAIN; still set, the
       last read filled its buffer, and more is almost surely there. Asking the kernel (MSG_PEEK) would settle it
       but costs a system call per full read, which showed as 10% on 100 KiB echo. */
    return (s->io.ready & (CIO__IO_READ | CIO__IO_ERROR | CIO__IO_HUP)) ? CIO__INPUT_EDGE : CIO__INPUT_NONE;
}

void cio__stream_idle(cio_stream *s)
{
    rbuf_release(s);
    wbuf_release(s);
}

void cio__stream_on_input(cio_stream *s, void (*fn)(void *arg), void *arg)
{
    s->on_input = fn;
    s->on_input_arg = arg;
}

/* ------------------------------------------------------------------------------------------------ open, close */

int cio__stream_open(cio_stream **out, int fd, const cio_stream_opts *opts, enum cio__stream_kind kind)
{
    int rc = -EINVAL;
    cio_stream *s;
    if (out)
        *out = NULL;
    if (fd < 0)
        return -EBADF;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -EBADF; /* not a descriptor: nothing to close */
    size_t limit = opts && opts->limit ? opts->limit : DEFAULT_LIMIT;
    size_t high = opts && opts->high_water ? opts->high_water : DEFAULT_HIGH;
    size_t low = opts && opts->low_water ? opts->low_water : high / 4;
    if (!out || cio__stream_opts_check(opts) < 0 || kind > CIO__STREAM_PIPE)
        goto fail;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        rc = -errno;
        goto fail;
    }
    if (kind == CIO__STREAM_AUTO) {
        struct stat st;
        kind = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? CIO__STREAM_SOCKET : CIO__STREAM_PIPE;
    }
    if (!(s = cio__calloc(1, sizeof *s))) {
        rc = -ENOMEM;
        goto fail;
    }
    *s = (cio_stream){.magic = CIO__STREAM_MAGIC,
                      .fd = fd,
                      .kind = (uint8_t)kind,
                      .limit = limit,
                      .high = high,
                      .low = low,
                      .rpool = limit <= CIO__IOBUF_SIZE,
                      .wpool = high <= CIO__IOBUF_SIZE};
    rc = cio__fd_open(&s->io, fd);
    if (rc == 0) {
        s->watched = true;
        s->fd_ready = s->io.watch.ready;
        s->io.watch.ready = stream_ready;
    } else if (rc != -EPERM) { /* EPERM: a regular file, always ready, so never waited for */
        cio__free(s);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    close(fd);
    return rc;
}

int cio__stream_opts_check(const cio_stream_opts *opts)
{
    size_t high = opts && opts->high_water ? opts->high_water : DEFAULT_HIGH;
    size_t low = opts && opts->low_water ? opts->low_water : high / 4;
    return low > high ? -EINVAL : 0;
}

int cio_stream_open_fd(cio_stream **out, int fd, const cio_stream_opts *opts)
{
    return cio__stream_open(out, fd, opts, CIO__STREAM_AUTO);
}

/*
 * TLS: after our close_notify, read (and drop) until the peer's, or its end of stream. Closing at once would let
 * bytes the peer still sends (TLS 1.3 session tickets come after the handshake, unasked) arrive at a closed
 * socket, whose reset makes the kernel drop whatever of ours it had not yet sent. asyncio waits the same way.
 */
static void await_peer_close(cio_stream *s)
{
    char scratch[1024];
    s->reading = true;
    while (tls_read_into(s, scratch, sizeof scratch) > 0)
        ;
    s->reading = false;
}

/* Close's flush: what the descriptor takes now (and a TLS close_notify), then waits bounded by 5 s and by the
   caller's own scopes, so a cancelled task or an expired deadline sends only what fits at once (Trio's
   graceful-if-possible close). A TLS stream then waits, within the same bounds, for the peer's close_notify. */
static int close_flush(cio_stream *s)
{
    int rc = flush_now(s);
    if (rc == 0 && s->tls)
        rc = cio__tls_close_notify(s, &s->owant);
    bool await_peer = s->tls && !s->eof && !s->rerr && !s->reading;
    if (rc != -EAGAIN && (rc < 0 || !await_peer))
        return rc;
    cio_scope sc;
    int begin = cio_timeout_begin(&sc, CLOSE_FLUSH_NS);
    if (begin < 0)
        return rc == -EAGAIN ? begin : rc; /* not in a task: nothing can wait */
    s->writing = true;
    if (rc == -EAGAIN) {
        rc = flush_until(s, 0);
        if (rc == 0 && s->tls)
            rc = send_close_notify(s);
    }
    bool flushed = rc == 0;
    if (flushed && await_peer)
        await_peer_close(s);
    s->writing = false;
    int end = cio_scope_end(&sc);
    if (rc < 0)
        return rc;
    return flushed ? 0 : end; /* a peer slow to answer our close_notify costs nothing that was sent */
}

/*
 * Read and drop what the socket holds unread, so that closing it sends a FIN rather than a reset. Over TLS the
 * unread bytes are often the session tickets a TLS 1.3 server sends after the handshake, which a client that
 * only writes never reads; a reset could then destroy the last bytes it sent before the peer read them.
 */
static void drain_unread(cio_stream *s)
{
    char scratch[1024];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(s->fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break;
    }
}

int cio_stream_close(cio_stream *s)
{
    if (!s)
        return 0;
    if (!valid(s))
        return -EINVAL;
    if (s->closed || s->closing)
        return -EBADF;
    s->closing = true;
    int rc = s->werr;
    if (!rc && s->fd >= 0 && ((!s->wshut && wbuffered(s) > 0) || cio__tls_close_owed(s))) {
        /* With another task suspended writing, the bytes it had queued are dropped: say so rather than 0. */
        rc = s->writing ? -EBUSY : close_flush(s);
        /* A peer that has ended the stream may be gone before our close_notify: nothing was lost. */
        if (s->eof && wbuffered(s) == 0 && (rc == -EPIPE || rc == -ECONNRESET))
            rc = 0;
    }
    if (s->tls && s->fd >= 0)
        drain_unread(s);
    release_fd(s);
    if (s->reading || s->writing)
        s->closed = true; /* a suspended call frees it on its way out */
    else
        stream_free(s);
    return rc;
}

void cio_stream_abort(cio_stream *s)
{
    if (!valid(s) || s->closed)
        return;
    if (s->kind == CIO__STREAM_SOCKET && s->fd >= 0) {
        /* Linger 0: close sends a reset and drops unsent data. Harmless on a Unix socket. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    s->wstart = s->wend = 0;
    release_fd(s);
    if (s->reading || s->writing)
        s->closed = true;
    else
        stream_free(s);
}

/* ------------------------------------------------------------------------------------------------ TLS */

int cio_stream_start_tls(cio_stream *s, cio_tls_ctx *ctx, const char *server_name)
{
    if (!valid(s) || !ctx)
        return -EINVAL;
    if (s->closed)
        return -EBADF;
    if (s->tls || s->kind != CIO__STREAM_SOCKET || s->fd < 0 || s->wshut || s->eof)
        return -EINVAL;
    if (s->reading || s->writing)
        return -EBUSY;
    s->reading = s->writing = true;
    int rc = s->werr ? s->werr : s->rerr;
    if (rc == 0)
        rc = flush_until(s, 0); /* what was written before the upgrade goes out in the clear */
    if (rc == 0)
        rc = cio__tls_attach(s, ctx, server_name);
    if (rc == 0) {
        uint32_t want = CIO__IO_READ;
        while ((rc = cio__tls_handshake(s, &want)) == -EAGAIN) {
            if ((rc = wait_dir(s, want)) < 0)
                break;
        }
        /* A failed or interrupted handshake leaves nothing the stream could speak: every call reports it. */
        if (rc < 0) {
            s->rerr = s->werr = rc;
            s->wstart = s->wend = 0;
        }
    }
    s->reading = false;
    return (int)op_end(s, &s->writing, rc);
}

/* ------------------------------------------------------------------------------------------------ queries */

int cio_stream_fd(const cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    return s->fd >= 0 ? s->fd : -EBADF;
}

static int sock_name(const cio_stream *s, cio_addr *out, bool peer)
{
    if (!valid(s) || !out)
        return -EINVAL;
    if (s->fd < 0)
        return -EBADF;
    if (s->kind != CIO__STREAM_SOCKET)
        return -ENOTSUP;
    memset(out, 0, sizeof *out);
    out->len = sizeof out->u.ss;
    int rc = peer ? getpeername(s->fd, &out->u.sa, &out->len) : getsockname(s->fd, &out->u.sa, &out->len);
    return rc < 0 ? -errno : 0;
}

int cio_stream_peer_addr(const cio_stream *s, cio_addr *out)
{
    return sock_name(s, out, true);
}

int cio_stream_local_addr(const cio_stream *s, cio_addr *out)
{
    return sock_name(s, out, false);
}
