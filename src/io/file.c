/* file.c: regular files through the thread pool: open, read, write, pread, pwrite, stat, sync, close. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cio/io.h"
#include "internal.h"

#define FILE_MAGIC 0x66696c65u /* "file" */
#define FILE_DEAD  0xdeadbeefu

struct cio_file {
    uint32_t magic;
    int fd;
};

enum op_kind { OP_OPEN, OP_READ, OP_PREAD, OP_WRITE, OP_PWRITE, OP_STAT, OP_SYNC, OP_DATASYNC, OP_CLOSE };

/*
 * One system call's arguments and result, on the calling task's stack. The task waits for the worker in a
 * shield scope (see run), so this struct and the caller's buffer outlive the worker's use of them.
 *
 * The alternative, returning at once on cancel and letting a job-owned copy of the buffer outlive the call,
 * lost: a job that cio_to_thread skips (cancelled before a worker took it) never runs its function, so
 * nothing could free that copy; and a write that completes after its caller gave up would go unreported.
 */
struct op {
    enum op_kind kind;
    int fd;
    void *buf;
    size_t len;
    off_t off;
    const char *path;
    int flags;
    mode_t mode;
    struct stat *st;
    /* What the system call gave: a count or a descriptor, or a negative errno. */
    ssize_t result;
};

static bool valid(const cio_file *f)
{
    return f && f->magic == FILE_MAGIC && f->fd >= 0;
}

/* A system call's result as cio returns it: the value, or -errno. */
static ssize_t neg_errno(ssize_t n)
{
    return n < 0 ? -errno : n;
}

/* Write all of it, as the header promises; a failure after some bytes reports the count. */
static ssize_t write_all(const struct op *o)
{
    size_t done = 0;
    while (done < o->len) {
        const char *p = (const char *)o->buf + done;
        ssize_t n = o->kind == OP_PWRITE ? pwrite(o->fd, p, o->len - done, o->off + (off_t)done)
                                         : write(o->fd, p, o->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return done > 0 ? (ssize_t)done : n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* Open without blocking on a FIFO, refuse what may block forever, then give the caller the flags asked for. */
static ssize_t open_checked(const struct op *o)
{
    int fd;
    do
        fd = open(o->path, o->flags | O_CLOEXEC | O_NONBLOCK, o->mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) < 0)
        err = -errno;
    else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        err = -EINVAL;
    else if (!(o->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        err = -errno;
    if (err < 0) {
        close(fd);
        return err;
    }
    return fd;
}

/* On a worker thread. */
static int op_run(void *arg)
{
    struct op *o = arg;
    ssize_t n;
    switch (o->kind) {
    case OP_OPEN:
        n = open_checked(o);
        break;
    case OP_READ:
        do
            n = neg_errno(read(o->fd, o->buf, o->len));
        while (n == -EINTR);
        break;
    case OP_PREAD:
        do
            n = neg_errno(pread(o->fd, o->buf, o->len, o->off));
        while (n == -EINTR);
        break;
    case OP_WRITE:
    case OP_PWRITE:
        n = write_all(o);
        break;
    case OP_STAT:
        n = neg_errno(fstat(o->fd, o->st));
        break;
    case OP_SYNC:
        n = neg_errno(fsync(o->fd));
        break;
    case OP_DATASYNC:
        n = neg_errno(fdatasync(o->fd));
        break;
    case OP_CLOSE:
        /* Linux frees the descriptor even when close fails, EINTR included: never retry it. */
        n = neg_errno(close(o->fd));
        if (n == -EINTR)
            n = 0;
        break;
    default:
        n = -EINVAL;
    }
    o->result = n;
    return 0;
}

/*
 * Run `o` on the pool. A cancellation already pending returns before anything is submitted; once submitted the
 * task waits in a shield for the worker, and the cancellation shows at its next wait.
 */
static ssize_t run(struct op *o)
{
    int rc = cio_check_cancel();
    if (rc < 0)
        return rc;
    cio_scope sc;
    if ((rc = cio_shield_begin(&sc, CIO_INFINITE)) < 0)
        return rc;
    rc = cio_to_thread(op_run, o);
    int end = cio_scope_end(&sc);
    CIO_ASSERT(end == 0);
    return rc < 0 ? rc : o->result;
}

int cio_file_open(cio_file **out, const char *path, int flags, mode_t mode)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return -EINVAL;
    cio_file *f = cio__malloc(sizeof *f);
    if (!f)
        return -ENOMEM;
    struct op o = {.kind = OP_OPEN, .path = path, .flags = flags, .mode = mode};
    ssize_t fd = run(&o);
    if (fd < 0) {
        cio__free(f);
        return (int)fd;
    }
    *f = (cio_file){.magic = FILE_MAGIC, .fd = (int)fd};
    *out = f;
    return 0;
}

static ssize_t io(cio_file *f, enum op_kind kind, const void *buf, size_t len, off_t off)
{
    if (!valid(f) || (!buf && len > 0) || len > SSIZE_MAX || off < 0)
        return -EINVAL;
    struct op o = {.kind = kind, .fd = f->fd, .buf = (void *)(uintptr_t)buf, .len = len, .off = off};
    return run(&o);
}

ssize_t cio_file_read(cio_file *f, void *buf, size_t cap)
{
    return io(f, OP_READ, buf, cap, 0);
}

ssize_t cio_file_pread(cio_file *f, void *buf, size_t cap, off_t offset)
{
    return io(f, OP_PREAD, buf, cap, offset);
}

ssize_t cio_file_write(cio_file *f, const void *buf, size_t len)
{
    return io(f, OP_WRITE, buf, len, 0);
}

ssize_t cio_file_pwrite(cio_file *f, const void *buf, size_t len, off_t offset)
{
    return io(f, OP_PWRITE, buf, len, offset);
}

int cio_file_stat(cio_file *f, struct stat *st)
{
    if (!valid(f) || !st)
        return -EINVAL;
    struct op o = {.kind = OP_STAT, .fd = f->fd, .st = st};
    return (int)run(&o);
}

int cio_file_sync(cio_file *f, bool data_only)
{
    if (!valid(f))
        return -EINVAL;
    struct op o = {.kind = data_only ? OP_DATASYNC : OP_SYNC, .fd = f->fd};
    return (int)run(&o);
}

int cio_file_fd(const cio_file *f)
{
    return valid(f) ? f->fd : -EINVAL;
}

int cio_file_close(cio_file *f)
{
    if (!f)
        return 0;
    if (!valid(f))
        return -EINVAL;
    struct op o = {.kind = OP_CLOSE, .fd = f->fd};
    f->magic = FILE_DEAD;
    f->fd = -1;
    cio__free(f);
    /* Closing must happen even for a cancelled task, so no pending-cancel check here; outside a task (or when
       the pool cannot start a worker) the descriptor is closed right here. */
    cio_scope sc;
    int rc = cio_shield_begin(&sc, CIO_INFINITE);
    if (rc == 0) {
        rc = cio_to_thread(op_run, &o);
        CIO_ASSERT(cio_scope_end(&sc) == 0);
    }
    if (rc < 0)
        op_run(&o);
    return (int)o.result;
}
