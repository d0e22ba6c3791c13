/* file.c: tests of regular files through the thread pool: open, read, write, pread, pwrite, stat, sync, close. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"

TestSuite(file, .timeout = 60);

/* ------------------------------------------------------------------------------------------------ helpers */

/* A fresh directory for one test, removed with what it holds by rm_tmp. */
struct tmp {
    char dir[64];
    char path[128];
};

static void mk_tmp(struct tmp *t, const char *name)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/cio-file-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
}

static void rm_tmp(struct tmp *t)
{
    unlink(t->path);
    cr_assert_eq(rmdir(t->dir), 0);
}

/* The whole file, read with plain system calls. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    ssize_t n = read(fd, buf, cap);
    cr_assert_geq(n, 0);
    close(fd);
    return (size_t)n;
}

/* ------------------------------------------------------------------------------------------------ basics */

static int write_read(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "a.txt");
    cio_file *f;
    char buf[64];
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT | O_EXCL, 0600), 0);
    int fd = cio_file_fd(f);
    cr_assert_geq(fd, 0);
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC, "O_CLOEXEC is added");
    cr_assert_not(fcntl(fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK is cleared when not asked for");
    cr_assert_eq(cio_file_write(f, "hello, ", 7), 7);
    cr_assert_eq(cio_file_write(f, "file\n", 5), 5, "writes advance the offset");
    cr_assert_eq(cio_file_write(f, "", 0), 0);
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), 0, "the offset is at the end");
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    cr_assert_eq(cio_file_read(f, buf, 5), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), 7, "a read near the end is short");
    cr_assert_eq(memcmp(buf, ", file\n", 7), 0);
    cr_assert_eq(cio_file_sync(f, false), 0);
    cr_assert_eq(cio_file_sync(f, true), 0);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_eq(slurp(t.path, buf, sizeof buf), 12);
    cr_assert_eq(memcmp(buf, "hello, file\n", 12), 0);
    cr_assert_eq(cio_file_close(NULL), 0);
    rm_tmp(&t);
    return 0;
}

Test(file, write_then_read_at_the_file_offset_round_trips)
{
    tst_run(write_read, NULL);
}

static int positional(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "b.bin");
    cio_file *f;
    char buf[64];
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT | O_TRUNC, 0644), 0);
    cr_assert_eq(cio_file_pwrite(f, "WORLD", 5, 10), 5);
    cr_assert_eq(cio_file_pwrite(f, "hello", 5, 0), 5);
    cr_assert_eq(cio_file_pread(f, buf, 5, 10), 5);
    cr_assert_eq(memcmp(buf, "WORLD", 5), 0);
    cr_assert_eq(cio_file_pread(f, buf, sizeof buf, 0), 15);
    cr_assert_eq(memcmp(buf, "hello\0\0\0\0\0WORLD", 15), 0, "the gap reads as zeros");
    cr_assert_eq(cio_file_pread(f, buf, sizeof buf, 1000), 0, "past the end reads nothing");
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), 15, "positional calls leave the offset alone");
    struct stat st;
    cr_assert_eq(cio_file_stat(f, &st), 0);
    cr_assert_eq(st.st_size, 15);
    cr_assert(S_ISREG(st.st_mode));
    mode_t mask = umask(0);
    umask(mask);
    cr_assert_eq(st.st_mode & 0777, 0644 & ~mask, "the mode given, less the umask");
    cr_assert_eq(cio_file_close(f), 0);
    rm_tmp(&t);
    return 0;
}

Test(file, pwrite_and_pread_work_at_offsets_and_stat_sees_the_size)
{
    tst_run(positional, NULL);
}

static int appending(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "log");
    cio_file *f;
    char buf[64];
    cr_assert_eq(cio_file_open(&f, t.path, O_WRONLY | O_CREAT | O_APPEND, 0600), 0);
    cr_assert_eq(cio_file_write(f, "one\n", 4), 4);
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_eq(cio_file_open(&f, t.path, O_WRONLY | O_APPEND, 0), 0);
    cr_assert_eq(cio_file_write(f, "two\n", 4), 4);
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), -EBADF, "not open for reading");
    cr_assert_eq(cio_file_close(f), 0);
    cr_assert_eq(slurp(t.path, buf, sizeof buf), 8);
    cr_assert_eq(memcmp(buf, "one\ntwo\n", 8), 0);
    cr_assert_eq(cio_file_open(&f, t.path, O_RDONLY, 0), 0);
    cr_assert_eq(cio_file_write(f, "x", 1), -EBADF, "not open for writing");
    cr_assert_eq(cio_file_pwrite(f, "x", 1, 0), -EBADF);
    cr_assert_eq(cio_file_close(f), 0);
    rm_tmp(&t);
    return 0;
}

Test(file, append_mode_adds_at_the_end_and_the_wrong_direction_gives_ebadf)
{
    tst_run(appending, NULL);
}

static int big_file(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "big");
    size_t n = (size_t)4 * 1024 * 1024;
    char *a = malloc(n), *b = malloc(n);
    cr_assert(a && b);
    for (size_t i = 0; i < n; i++)
        a[i] = (char)(i % 251);
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT | O_TRUNC, 0600), 0);
    cr_assert_eq(cio_file_write(f, a, n), (ssize_t)n);
    size_t got = 0;
    while (got < n) {
        ssize_t r = cio_file_pread(f, b + got, n - got, (off_t)got);
        cr_assert_gt(r, 0);
        got += (size_t)r;
    }
    cr_assert_eq(memcmp(a, b, n), 0);
    cr_assert_eq(cio_file_close(f), 0);
    free(a);
    free(b);
    rm_tmp(&t);
    return 0;
}

Test(file, four_mib_written_whole_read_back_equal)
{
    tst_run(big_file, NULL);
}

/* ------------------------------------------------------------------------------------------------ concurrency */

struct reader {
    cio_file *f;
    off_t off;
    int started;
    ssize_t rc;
    int after;
    char buf[16];
};

static int read_body(void *arg)
{
    struct reader *r = arg;
    r->started = 1;
    r->rc = cio_file_pread(r->f, r->buf, sizeof r->buf, r->off);
    r->after = cio_yield();
    return 0;
}

static int concurrent(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "c");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT, 0600), 0);
    cr_assert_eq(cio_file_write(f, "0123456789abcdefghij", 20), 20);
    struct reader r[4];
    cio_task *tasks[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct reader){.f = f, .off = i * 5};
        cr_assert_eq(cio_spawn(&tasks[i], read_body, &r[i], NULL), 0);
    }
    cr_assert_eq(cio_gather(tasks, 4, NULL, CIO_GATHER_ALL), 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(r[i].rc, 20 - i * 5 < 16 ? 20 - i * 5 : 16);
        cr_assert_eq(memcmp(r[i].buf, &"0123456789abcdefghij"[i * 5], (size_t)r[i].rc), 0);
    }
    cr_assert_eq(cio_file_close(f), 0);
    rm_tmp(&t);
    return 0;
}

Test(file, several_tasks_read_one_file_at_once)
{
    tst_run(concurrent, NULL);
}

static int cancel_during(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "d");
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT, 0600), 0);
    cr_assert_eq(cio_file_write(f, "payload", 7), 7);
    struct reader r = {.f = f};
    cio_task *task;
    cr_assert_eq(cio_spawn(&task, read_body, &r, NULL), 0);
    cr_assert_eq(tk_yield_until(&r.started), 0);
    cr_assert_eq(cio_cancel(task, NULL), 0);
    cr_assert_eq(cio_join(task), 0);
    cr_assert_eq(r.rc, 7, "the read under way completes and reports its bytes");
    cr_assert_eq(memcmp(r.buf, "payload", 7), 0);
    cr_assert_eq(r.after, -ECANCELED, "the task's next wait sees the cancel");
    cr_assert_eq(cio_file_close(f), 0);
    rm_tmp(&t);
    return 0;
}

Test(file, a_cancel_during_a_read_lets_it_finish_and_shows_at_the_next_wait)
{
    tst_run(cancel_during, NULL);
}

static int cancel_before(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "e");
    cio_file *f, *g = (cio_file *)1;
    char buf[8];
    struct stat st;
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT, 0600), 0);
    cr_assert_eq(cio_cancel(cio_current(), NULL), 0);
    cr_assert_eq(cio_file_write(f, "x", 1), -ECANCELED);
    cr_assert_eq(cio_file_read(f, buf, sizeof buf), -ECANCELED);
    cr_assert_eq(cio_file_stat(f, &st), -ECANCELED);
    cr_assert_eq(cio_file_open(&g, t.path, O_RDONLY, 0), -ECANCELED);
    cr_assert_null(g);
    cr_assert_eq(cio_file_close(f), 0, "close still closes in a cancelled task");
    cr_assert_eq(slurp(t.path, buf, sizeof buf), 0, "the cancelled write did nothing");
    rm_tmp(&t);
    return -ECANCELED;
}

Test(file, a_cancel_pending_at_the_call_returns_at_once_and_close_still_works)
{
    tst_run_expect(cancel_before, NULL, NULL, -ECANCELED);
}

/* ------------------------------------------------------------------------------------------------ errors */

static int errors(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "fifo");
    cio_file *f = (cio_file *)1;
    char buf[8];
    struct stat st;
    cr_assert_eq(cio_file_open(&f, "/nonexistent/cio/file", O_RDONLY, 0), -ENOENT);
    cr_assert_null(f);
    cr_assert_eq(cio_file_open(&f, t.dir, O_WRONLY, 0), -EISDIR);
    cr_assert_eq(cio_file_open(NULL, t.path, O_RDONLY, 0), -EINVAL);
    cr_assert_eq(cio_file_open(&f, NULL, O_RDONLY, 0), -EINVAL);
    cr_assert_eq(mkfifo(t.path, 0600), 0);
    cr_assert_eq(cio_file_open(&f, t.path, O_RDONLY, 0), -EINVAL, "a FIFO is refused, without blocking");
    unlink(t.path);
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT | O_EXCL, 0600), 0);
    cr_assert_eq(cio_file_open(&(cio_file *){NULL}, t.path, O_RDWR | O_CREAT | O_EXCL, 0600), -EEXIST);
    cr_assert_eq(cio_file_read(NULL, buf, sizeof buf), -EINVAL);
    cr_assert_eq(cio_file_read(f, NULL, 1), -EINVAL);
    cr_assert_eq(cio_file_read(f, NULL, 0), 0, "an empty read needs no buffer");
    cr_assert_eq(cio_file_read(f, buf, (size_t)SSIZE_MAX + 1), -EINVAL);
    cr_assert_eq(cio_file_pread(f, buf, sizeof buf, -1), -EINVAL);
    cr_assert_eq(cio_file_pwrite(f, buf, sizeof buf, -1), -EINVAL);
    cr_assert_eq(cio_file_write(NULL, buf, 1), -EINVAL);
    cr_assert_eq(cio_file_pwrite(NULL, buf, 1, 0), -EINVAL);
    cr_assert_eq(cio_file_pread(NULL, buf, 1, 0), -EINVAL);
    cr_assert_eq(cio_file_stat(f, NULL), -EINVAL);
    cr_assert_eq(cio_file_stat(NULL, &st), -EINVAL);
    cr_assert_eq(cio_file_sync(NULL, false), -EINVAL);
    cr_assert_eq(cio_file_fd(NULL), -EINVAL);
    cr_assert_eq(cio_file_close(f), 0);
    rm_tmp(&t);
    return 0;
}

Test(file, bad_arguments_give_einval_and_missing_files_enoent)
{
    tst_run(errors, NULL);
}

static int open_alloc_failure(void *arg)
{
    (void)arg;
    struct tmp t;
    mk_tmp(&t, "g");
    cio_file *f;
    tst_fail_alloc_at(1);
    cr_assert_eq(cio_file_open(&f, t.path, O_RDWR | O_CREAT, 0600), -ENOMEM);
    tst_fail_alloc_at(0);
    cr_assert_null(f);
    cr_assert_eq(access(t.path, F_OK), -1, "nothing was opened or created");
    rm_tmp(&t);
    return 0;
}

Test(file, open_that_cannot_allocate_gives_enomem_and_creates_nothing)
{
    tst_run(open_alloc_failure, NULL);
}

Test(file, outside_a_loop_calls_give_enoloop)
{
    cio_file *f;
    cr_assert_eq(cio_file_open(&f, "/dev/null", O_RDONLY, 0), CIO_ENOLOOP);
}
