/* chaoskit.c: the chaos transport: every stream opened while it is installed reads and writes a few bytes at a
 * time, hears EAGAIN when it asks not to wait, and can be made to fail at its nth call. */
#include "chaoskit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

struct chaos {
    struct cio__transport base;
    struct cio__transport *lower;
    /* A read that may not wait is told EAGAIN on odd turns, and its wait_input then returns at once. */
    unsigned turns;
    bool fake_eagain;
};

static bool installed;
static long calls, fail_at;
static int fail_err;

bool tst_chaos_on(void)
{
    return installed;
}

long tst_chaos_fail_at(long n, int err)
{
    long made = calls;
    calls = 0;
    fail_at = n;
    fail_err = err;
    return made;
}

long tst_chaos_calls(void)
{
    return calls;
}

/* Count the call; true when it is the one to fail. */
static bool failing(void)
{
    return ++calls == fail_at && fail_at > 0;
}

static struct chaos *chaos(struct cio__transport *t)
{
    return (struct chaos *)t;
}

/* 1 to 7 bytes, varying from call to call, so that record, line and chunk edges fall everywhere. */
static size_t short_len(struct chaos *c, size_t len)
{
    size_t n = 1 + (c->turns * 5u) % 7u;
    return len < n ? len : n;
}

static ssize_t chaos_read(struct cio__transport *t, void *dst, size_t len, int flags)
{
    struct chaos *c = chaos(t);
    if (failing())
        return fail_err;
    c->turns++;
    if ((flags & CIO__T_NOWAIT) && (c->turns & 1)) {
        c->fake_eagain = true;
        return -EAGAIN;
    }
    c->fake_eagain = false;
    return chaos(t)->lower->ops->read(chaos(t)->lower, dst, short_len(c, len), flags);
}

static int chaos_wait_input(struct cio__transport *t)
{
    struct chaos *c = chaos(t);
    if (failing())
        return fail_err;
    if (c->fake_eagain) {
        c->fake_eagain = false;
        return cio_yield(); /* the edge is still there: the read goes on after the others had a turn */
    }
    return chaos(t)->lower->ops->wait_input(chaos(t)->lower);
}

static int chaos_wait_output(struct cio__transport *t)
{
    if (failing())
        return fail_err;
    return chaos(t)->lower->ops->wait_output(chaos(t)->lower);
}

static ssize_t chaos_writev(struct cio__transport *t, const struct iovec *iov, int cnt, int flags)
{
    struct chaos *c = chaos(t);
    if (failing())
        return fail_err;
    c->turns++;
    while (cnt > 0 && iov[0].iov_len == 0)
        iov++, cnt--;
    if (cnt == 0)
        return 0;
    struct iovec one = {.iov_base = iov[0].iov_base, .iov_len = short_len(c, iov[0].iov_len)};
    return chaos(t)->lower->ops->writev(chaos(t)->lower, &one, 1, flags);
}

static int chaos_shutdown(struct cio__transport *t, int flags)
{
    if (failing())
        return fail_err;
    return chaos(t)->lower->ops->shutdown(chaos(t)->lower, flags);
}

static int chaos_finish(struct cio__transport *t, int flags)
{
    if (failing())
        return fail_err;
    return chaos(t)->lower->ops->finish ? chaos(t)->lower->ops->finish(chaos(t)->lower, flags) : 0;
}

static bool chaos_pending(const struct cio__transport *t)
{
    const struct cio__transport *lo = ((const struct chaos *)t)->lower;
    return lo->ops->pending && lo->ops->pending(lo);
}

static ssize_t chaos_sendfile(struct cio__transport *t, int file_fd, off_t *offset, size_t count, int flags)
{
    struct chaos *c = chaos(t);
    if (failing())
        return fail_err;
    c->turns++;
    return chaos(t)->lower->ops->sendfile(chaos(t)->lower, file_fd, offset, count < 4096 ? count : 4096, flags);
}

static void chaos_close(struct cio__transport *t, bool abort)
{
    struct cio__transport *lo = chaos(t)->lower;
    free(t);
    lo->ops->close(lo, abort);
}

static const struct cio__transport_ops chaos_ops = {
    .name = "chaos",
    .read = chaos_read,
    .writev = chaos_writev,
    .wait_input = chaos_wait_input,
    .wait_output = chaos_wait_output,
    .shutdown = chaos_shutdown,
    .finish = chaos_finish,
    .pending = chaos_pending,
    .sendfile = chaos_sendfile,
    .close = chaos_close,
};

struct cio__transport *tst_chaos_wrap(struct cio__transport *lower)
{
    /* malloc, not cio's allocator: the counting allocator's leak checks stay about cio's own blocks (a leak of
       this one is LeakSanitizer's to find). If it fails, the stream goes on unwrapped. */
    struct chaos *c = calloc(1, sizeof *c);
    if (!c)
        return lower;
    c->base = (struct cio__transport){.ops = &chaos_ops};
    c->lower = lower;
    return &c->base;
}

void tst_chaos_install(void)
{
    installed = true;
    cio__transport_wrap = tst_chaos_wrap;
}

void tst_chaos_from_env(void)
{
    const char *v = getenv("CIO_TEST_TRANSPORT");
    if (v && strcmp(v, "chaos") == 0)
        tst_chaos_install();
}
