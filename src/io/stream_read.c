/* stream_read.c: a stream's input: the read buffer up to the limit, reads, lines and separators, iteration,
 * peek, consume and unread, and the liveness check of idle streams. */
#include "io/stream.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "internal.h"

/* First size of a read buffer that is not the loop's, made on first use. */
#define RBUF_FIRST ((size_t)16 * 1024)

static bool valid(const cio_stream *s)
{
    return cio__stream_valid(s);
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Make room for `want` unread bytes (at least one more than now), growing up to the limit, compacting. */
static int rbuf_reserve(cio_stream *s, size_t want)
{
    size_t have = cio__rbuffered(s);
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
 * Wait for input in the middle of a read into `*dst` (`*len` bytes). When that is the loop's buffer, empty, it goes
 * back to the loop for the wait, which is what keeps idle connections cheap, and a buffer is taken again after.
 */
static int wait_input(cio_stream *s, char **dst, size_t *len)
{
    bool ours = s->rpool && *dst == s->rbuf && cio__rbuffered(s) == 0;
    if (ours)
        cio__stream_rbuf_release(s);
    int err = s->t->ops->wait_input(s->t);
    if (s->closed)
        err = -EBADF;
    if (ours && err == 0 && (err = rbuf_reserve(s, 0)) == 0) {
        *dst = s->rbuf;
        *len = s->rcap;
    }
    return err;
}

/* Whether a read error is the transport's (it sticks: every later read returns it) rather than a wait cut short
   (cancellation, a deadline, the read timeout) or the stream closing, after which reading may go on. */
static bool sticks(ssize_t err)
{
    return err != -EBADF && err != -ECANCELED && !cio_is_timeout((int)err);
}

/* One read into `dst`, waiting while there is nothing: the count, 0 at end of stream, or an error. */
static ssize_t read_into(cio_stream *s, char *dst, size_t len)
{
    if (s->rerr)
        return s->rerr;
    if (s->eof)
        return 0;
    if (cio__stream_no_fd(s))
        return -EBADF;
    for (;;) {
        /* The stream's own socket as its transport is called directly: no indirect call on the hot path. */
        ssize_t n = s->t == &s->sock.base ? cio__sock_read_now(&s->sock, dst, len)
                                          : s->t->ops->read(s->t, dst, len, CIO__T_NOWAIT);
        if (n > 0)
            return n;
        if (n == 0) {
            s->eof = true;
            return 0;
        }
        if (n != -EAGAIN) {
            if (sticks(n))
                s->rerr = (int)n;
            return n;
        }
        int err = wait_input(s, &dst, &len);
        if (err < 0)
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
    cio__stream_rbuf_release(s);
    return cio__stream_op_end(s, &s->reading, rc);
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
    int rc = cio__stream_op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    if (cap > SSIZE_MAX)
        cap = SSIZE_MAX;
    ssize_t n = (ssize_t)cio__rbuffered(s);
    if (n == 0) {
        /* A caller's buffer at least as large as ours is filled directly, sparing a copy (and ours, if the loop's,
           goes back first: it is empty, and this call may wait). */
        if (cap >= (s->rcap && !s->rpool ? s->rcap : RBUF_FIRST)) {
            cio__stream_rbuf_release(s);
            return cio__stream_op_end(s, &s->reading, read_into(s, buf, cap));
        }
        n = fill(s, 0);
    }
    if (n > 0)
        n = (ssize_t)take(s, buf, min_size(cap, cio__rbuffered(s)));
    return read_end(s, n);
}

/* read_exactly for n beyond the limit: copy as it comes; *done says how much was copied. */
static ssize_t read_exactly_long(cio_stream *s, char *buf, size_t n, size_t *done)
{
    while (*done < n) {
        ssize_t r;
        if (cio__rbuffered(s) > 0) {
            *done += take(s, buf + *done, min_size(n - *done, cio__rbuffered(s)));
            continue;
        }
        cio__stream_rbuf_release(s);
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
    if ((rc = cio__stream_op_begin(s, &s->reading)) < 0)
        return rc;
    if (n <= s->limit) {
        /* Within the limit, gather all n bytes in the buffer first: a cancelled wait loses nothing. */
        while (cio__rbuffered(s) < n && (rc = fill(s, n)) > 0)
            ;
        if (rc >= 0) {
            done = take(s, buf, min_size(n, cio__rbuffered(s)));
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
        size_t lim = min_size(cio__rbuffered(s), max);
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
        if (cio__rbuffered(s) >= max)
            return -EMSGSIZE;
        ssize_t n = fill(s, 0); /* the buffer grows only when full */
        if (n < 0)
            return (int)n;
        if (n == 0) {
            *len = cio__rbuffered(s);
            return 0;
        }
    }
}

ssize_t cio_stream_read_until(cio_stream *s, const void *sep, size_t seplen, void *buf, size_t cap)
{
    size_t len = 0;
    if (!valid(s) || !sep || seplen == 0 || !buf || cap == 0)
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->reading);
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
    return valid(s) && s->eof && cio__rbuffered(s) == 0;
}

/* The views point into the read buffer and are consumed at once: the bytes stay in place until the next call
   moves or overwrites them, which is what "valid until the next call" allows. */
int cio_stream_next_line(cio_stream *s, const char **line, size_t *len)
{
    if (!valid(s) || !line || !len)
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->reading);
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
    return (int)cio__stream_op_end(s, &s->reading, rc);
}

int cio_stream_next_chunk(cio_stream *s, const void **chunk, size_t *len)
{
    if (!valid(s) || !chunk || !len)
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    ssize_t n = (ssize_t)cio__rbuffered(s);
    if (n == 0)
        n = fill(s, 0);
    if (n > 0) {
        *chunk = s->rbuf + s->rstart;
        *len = cio__rbuffered(s);
        s->rstart = s->rend;
        n = 1;
    }
    return (int)cio__stream_op_end(s, &s->reading, n);
}

/* ------------------------------------------------------------------------------------------------ peek, consume */

/* The buffered bytes as a view (NULL and 0 when there are none: the buffer may have gone back to the loop). */
static void view(const cio_stream *s, const void **data, size_t *len)
{
    *len = cio__rbuffered(s);
    *data = *len ? s->rbuf + s->rstart : NULL;
}

int cio_stream_peek(cio_stream *s, size_t min, const void **data, size_t *len)
{
    if (!valid(s) || !data || !len)
        return -EINVAL;
    if (min > s->limit)
        return -EMSGSIZE;
    int rc = cio__stream_op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    ssize_t n = 1;
    while (cio__rbuffered(s) < min && (n = fill(s, min)) > 0)
        ;
    if (n >= 0) {
        view(s, data, len);
        n = *len >= min ? 1 : 0;
    }
    return (int)cio__stream_op_end(s, &s->reading, n);
}

int cio_stream_peek_until(cio_stream *s, const void *sep, size_t seplen, const void **data, size_t *len)
{
    if (!valid(s) || !sep || seplen == 0 || !data || !len)
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    size_t n = 0;
    rc = find_sep(s, sep, seplen, s->limit, &n);
    if (rc >= 0) {
        *data = n ? s->rbuf + s->rstart : NULL;
        *len = n;
    }
    return (int)cio__stream_op_end(s, &s->reading, rc);
}

int cio_stream_consume(cio_stream *s, size_t n)
{
    if (!valid(s))
        return -EINVAL;
    int rc = cio__stream_op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    if (n > cio__rbuffered(s))
        rc = -EINVAL;
    else
        s->rstart += n;
    return (int)read_end(s, rc);
}

int cio_stream_unread(cio_stream *s, const void *data, size_t n)
{
    if (!valid(s) || (!data && n > 0))
        return -EINVAL;
    if (n == 0)
        return 0;
    int rc = cio__stream_op_begin(s, &s->reading);
    if (rc < 0)
        return rc;
    /* The buffer holds up to the limit (more only where a read of its own already grew it past). */
    size_t have = cio__rbuffered(s), room = !s->rpool && s->rcap > s->limit ? s->rcap : s->limit;
    if (s->rbuf && s->rstart >= n && (const char *)data == s->rbuf + s->rstart - n) {
        s->rstart -= n; /* the bytes a view just consumed, still in place */
    } else if (n > room || have > room - n) {
        rc = -EMSGSIZE;
    } else {
        /* The bytes may lie in this buffer, which making room can move: copy them out first. */
        char *tmp = cio__malloc(n);
        if (!tmp)
            rc = -ENOMEM;
        else if ((memcpy(tmp, data, n), rc = rbuf_reserve(s, have + n)) == 0) {
            if (s->rstart < n) {
                memmove(s->rbuf + n, s->rbuf + s->rstart, have);
                s->rstart = n;
                s->rend = n + have;
            }
            s->rstart -= n;
            memcpy(s->rbuf + s->rstart, tmp, n);
        }
        cio__free(tmp);
    }
    return (int)cio__stream_op_end(s, &s->reading, rc);
}

int cio_stream_check_idle(cio_stream *s)
{
    if (!valid(s))
        return -EINVAL;
    if (s->closed || s->closing || cio__stream_no_fd(s))
        return -EBADF;
    if (s->reading)
        return -EBUSY;
    if (cio__rbuffered(s) > 0)
        return CIO_EUNSOLICITED;
    if (s->rerr)
        return s->rerr;
    if (s->eof)
        return CIO_EPEERCLOSED;
    /* Nothing came since the last read found the socket empty: no system call needed. What a transport holds
       (a TLS record) may be bytes, a close_notify or a ticket: a read that may not wait tells. */
    if (!cio__sock_input_edge(&s->sock) && !(s->t->ops->pending && s->t->ops->pending(s->t)))
        return 0;
    int rc = rbuf_reserve(s, 0);
    if (rc < 0)
        return rc;
    ssize_t n = s->t->ops->read(s->t, s->rbuf + s->rend, s->rcap - s->rend, CIO__T_NOWAIT);
    if (n > 0) {
        s->rend += (size_t)n; /* kept for whoever reads next */
        rc = CIO_EUNSOLICITED;
    } else if (n == 0) {
        s->eof = true;
        rc = CIO_EPEERCLOSED;
    } else if (n != -EAGAIN) {
        s->rerr = (int)n;
        rc = (int)n;
    }
    cio__stream_rbuf_release(s);
    return rc;
}
