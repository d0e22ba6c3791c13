/* process.c: child processes: spawn with posix_spawn, learn of the exit through a pidfd, talk through streams. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cio/io.h"
#include "cio/sync.h"
#include "core/fd.h"
#include "internal.h"
#include "io/stream.h"

#define PROC_MAGIC 0x70726f63u /* "proc" */
#define PROC_DEAD  0xdeadbeefu

/* Without pidfds the exit is polled: the first look after 1 ms, then doubling up to 100 ms. */
#define POLL_FIRST_MS 1
#define POLL_MAX_MS   100

/*
 * A pidfd, not SIGCHLD: a signal is process-wide, so watching it means owning the program's SIGCHLD
 * disposition and reaping children that are not ours (libuv and asyncio's old child watchers fought exactly
 * this). A pidfd is one descriptor per child, readable once it exits, and it names the child even after its pid
 * could be reused, which makes send_signal safe too.
 */
struct cio_process {
    uint32_t magic;
    pid_t pid;
    /* The child's pidfd, watched by the loop; -1 once reaped, or when the kernel has none (then polled). */
    int pidfd;
    /* waitpid has collected the child (or found it gone: `lost`); `returncode` is valid unless lost. */
    bool reaped;
    bool lost;
    int returncode;
    struct cio__fd io;
    /* Set when the pidfd turns readable, and on reaping: wakes every task in cio_process_wait. */
    cio_event exited;
    cio_stream *in, *out, *err;
};

static bool valid(const cio_process *p)
{
    return p && p->magic == PROC_MAGIC;
}

/* ------------------------------------------------------------------------------------------------ exit */

static void pidfd_ready(struct cio__io_watch *w, uint32_t revents)
{
    (void)revents;
    cio_process *p = cio__container_of(w, cio_process, io.watch);
    cio_event_set(&p->exited);
}

static void drop_pidfd(cio_process *p)
{
    if (p->pidfd < 0)
        return;
    cio__fd_close(&p->io);
    close(p->pidfd);
    p->pidfd = -1;
}

static void record(cio_process *p, int st)
{
    p->reaped = true;
    p->returncode = WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
    drop_pidfd(p);
    cio_event_set(&p->exited);
}

/* Reap the child if it has exited, without waiting: 1 reaped (now or before), 0 still running, or -ECHILD. */
static int try_reap(cio_process *p, int flags)
{
    if (p->reaped)
        return p->lost ? -ECHILD : 1;
    int st;
    pid_t r;
    do
        r = waitpid(p->pid, &st, flags);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    if (r < 0) {
        /* Reaped by someone else (SIGCHLD ignored, a waitpid(-1) elsewhere): its status is gone, and its pid may
           already belong to another process, so nothing may be sent to it any more. */
        p->reaped = p->lost = true;
        drop_pidfd(p);
        cio_event_set(&p->exited);
        return -ECHILD;
    }
    record(p, st);
    return 1;
}

static int wait_exit(cio_process *p)
{
    int64_t backoff = POLL_FIRST_MS;
    for (;;) {
        int rc = try_reap(p, WNOHANG);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        if (p->pidfd >= 0 && !cio_event_is_set(&p->exited)) {
            rc = cio_event_wait(&p->exited);
        } else {
            /* No pidfd, or a readable one whose child waitpid cannot collect yet: poll. */
            rc = cio_sleep(CIO_MS(backoff));
            backoff = backoff * 2 > POLL_MAX_MS ? POLL_MAX_MS : backoff * 2;
        }
        if (rc < 0)
            return rc;
    }
}

int cio_process_wait(cio_process *p, int *status)
{
    if (!valid(p))
        return -EINVAL;
    int rc = wait_exit(p);
    if (rc == 0 && status)
        *status = p->returncode;
    return rc;
}

int cio_process_returncode(cio_process *p, int *status)
{
    if (!valid(p))
        return -EINVAL;
    int rc = try_reap(p, WNOHANG);
    if (rc == 0)
        return -EAGAIN;
    if (rc > 0 && status)
        *status = p->returncode;
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------------------------------------ signals */

int cio_process_send_signal(cio_process *p, int sig)
{
    if (!valid(p) || sig < 0 || sig >= NSIG)
        return -EINVAL;
    if (p->reaped)
        return -ESRCH;
#ifdef SYS_pidfd_send_signal
    if (p->pidfd >= 0) {
        if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) == 0)
            return 0;
        if (errno != ENOSYS)
            return -errno;
    }
#endif
    /* Not yet reaped, so the pid is still the child's (a zombie keeps it). */
    return kill(p->pid, sig) < 0 ? -errno : 0;
}

int cio_process_terminate(cio_process *p)
{
    return cio_process_send_signal(p, SIGTERM);
}

int cio_process_kill(cio_process *p)
{
    return cio_process_send_signal(p, SIGKILL);
}

/* ------------------------------------------------------------------------------------------------ accessors */

cio_stream *cio_process_stdin(const cio_process *p)
{
    return valid(p) ? p->in : NULL;
}

cio_stream *cio_process_stdout(const cio_process *p)
{
    return valid(p) ? p->out : NULL;
}

cio_stream *cio_process_stderr(const cio_process *p)
{
    return valid(p) ? p->err : NULL;
}

int cio_process_pid(const cio_process *p)
{
    return valid(p) ? (int)p->pid : -EINVAL;
}

/* ------------------------------------------------------------------------------------------------ spawn */

/* The descriptors of one spawn: the child's ends (dup2'ed onto 0, 1, 2) and the parent's (made streams). */
struct plumbing {
    int child[3];
    int parent[3];
};

/*
 * Move `*fd` to 3 or above. A parent started with 0, 1 or 2 closed gets those numbers back from pipe2, and the
 * child's dup2 onto 0..2 would then overwrite one end with another.
 */
static int above_std(int *fd)
{
    if (*fd > 2)
        return 0;
    int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (n < 0)
        return -errno;
    close(*fd);
    *fd = n;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int make_plumbing(struct plumbing *pl, const int mode[3])
{
    for (int i = 0; i < 3; i++) {
        if (mode[i] != CIO_PIPE)
            continue;
        int fds[2], rc;
        if (i == 0) {
            /* A socket pair for stdin: send(MSG_NOSIGNAL) turns a vanished reader into -EPIPE, no SIGPIPE. */
            rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
            if (rc == 0)
                (void)shutdown(fds[1], SHUT_WR);
        } else {
            rc = pipe2(fds, O_CLOEXEC);
        }
        if (rc < 0)
            return -errno;
        /* stdin: the parent writes fds[0], the child reads fds[1]; pipes: the child writes fds[1]. */
        pl->parent[i] = fds[0];
        pl->child[i] = fds[1];
        if ((rc = above_std(&pl->child[i])) < 0)
            return rc;
    }
    return 0;
}

static void close_plumbing(struct plumbing *pl)
{
    for (int i = 0; i < 3; i++) {
        close_fd(&pl->child[i]);
        close_fd(&pl->parent[i]);
    }
}

static int file_actions(posix_spawn_file_actions_t *fa, const struct plumbing *pl, const int mode[3], const char *cwd)
{
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        if (mode[i] == CIO_PIPE)
            rc = posix_spawn_file_actions_adddup2(fa, pl->child[i], i);
        else if (mode[i] == CIO_DEVNULL)
            rc = posix_spawn_file_actions_addopen(fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
        else if (mode[i] == CIO_STDOUT)
            rc = posix_spawn_file_actions_adddup2(fa, 1, 2);
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* Descriptors the program opened without O_CLOEXEC stay out of the child too (Python's close_fds). */
    if (rc == 0)
        rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
    if (rc == 0 && cwd)
        rc = posix_spawn_file_actions_addchdir_np(fa, cwd);
    return -rc;
}

static int spawn_attr(posix_spawnattr_t *attr)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    /* The loop blocks the signals it reads through its signalfd, and a program may ignore SIGPIPE: the child
       starts clean, with nothing blocked and every signal at its default action. */
    int rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(attr, &none);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(attr, &all);
    return -rc;
}

/* Watch the child's exit through a pidfd; without one (an old kernel, a seccomp filter) wait_exit polls. */
static void watch_exit(cio_process *p)
{
    p->pidfd = -1;
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, p->pid, 0); /* pidfds are always close-on-exec */
    if (fd < 0)
        return;
    p->pidfd = fd;
    if (cio__fd_open(&p->io, fd) < 0) {
        close(fd);
        p->pidfd = -1;
        return;
    }
    p->io.watch.ready = pidfd_ready;
#endif
}

static int open_streams(cio_process *p, struct plumbing *pl, const cio_stream_opts *so)
{
    cio_stream **slot[3] = {&p->in, &p->out, &p->err};
    for (int i = 0; i < 3; i++) {
        if (pl->parent[i] < 0)
            continue;
        int fd = pl->parent[i];
        pl->parent[i] = -1; /* the stream owns it now, even if opening fails */
        int rc = cio__stream_open(slot[i], fd, so, i == 0 ? CIO__SOCK_SOCKET : CIO__SOCK_PIPE);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void close_streams(cio_process *p)
{
    cio_stream_abort(p->in);
    cio_stream_abort(p->out);
    cio_stream_abort(p->err);
    p->in = p->out = p->err = NULL;
}

static int spawn(cio_process **out, const char *path, char *const argv[], const cio_process_opts *opts, bool search)
{
    static const cio_process_opts defaults;
    const cio_process_opts *o = opts ? opts : &defaults;
    const int mode[3] = {o->stdin_mode, o->stdout_mode, o->stderr_mode};
    if (out)
        *out = NULL;
    if (!out || !argv || !argv[0] || !argv[0][0])
        return -EINVAL;
    for (int i = 0; i < 3; i++)
        if (mode[i] < CIO_INHERIT || mode[i] > CIO_STDOUT || (mode[i] == CIO_STDOUT && i != 2))
            return -EINVAL;
    if (!cio_loop_current())
        return CIO_ENOLOOP;

    int rc;
    struct plumbing pl = {{-1, -1, -1}, {-1, -1, -1}};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    cio_process *p = cio__calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->pidfd = -1;
    if ((rc = cio_event_init(&p->exited)) < 0)
        goto fail_free;
    if ((rc = make_plumbing(&pl, mode)) < 0)
        goto fail_plumbing;
    /* The streams come first: once the child runs, nothing is left that can fail but the exit watch, which
       has a fallback. */
    if ((rc = open_streams(p, &pl, &o->stream)) < 0)
        goto fail_streams;
    if ((rc = -posix_spawn_file_actions_init(&fa)) < 0)
        goto fail_streams;
    if ((rc = -posix_spawnattr_init(&attr)) < 0)
        goto fail_fa;
    if ((rc = file_actions(&fa, &pl, mode, o->cwd)) < 0 || (rc = spawn_attr(&attr)) < 0)
        goto fail_attr;
    char *const *env = o->env ? o->env : environ;
    pid_t pid;
    rc = search ? posix_spawnp(&pid, path, &fa, &attr, argv, env) : posix_spawn(&pid, path, &fa, &attr, argv, env);
    rc = -rc;
    if (rc < 0)
        goto fail_attr;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close_plumbing(&pl); /* the child's ends, now that it has its own copies */
    p->magic = PROC_MAGIC;
    p->pid = pid;
    watch_exit(p);
    *out = p;
    return 0;

fail_attr:
    posix_spawnattr_destroy(&attr);
fail_fa:
    posix_spawn_file_actions_destroy(&fa);
fail_streams:
    close_streams(p);
fail_plumbing:
    close_plumbing(&pl);
    cio_event_fini(&p->exited);
fail_free:
    cio__free(p);
    return rc;
}

int cio_process_exec(cio_process **out, char *const argv[], const cio_process_opts *opts)
{
    return spawn(out, argv ? argv[0] : NULL, argv, opts, true);
}

int cio_process_shell(cio_process **out, const char *cmd, const cio_process_opts *opts)
{
    if (!cmd) {
        if (out)
            *out = NULL;
        return -EINVAL;
    }
    char *const argv[] = {"sh", "-c", (char *)(uintptr_t)cmd, NULL};
    return spawn(out, "/bin/sh", argv, opts, false);
}

/* ------------------------------------------------------------------------------------------------ communicate */

/* One of communicate's three jobs: feed `in` to the stdin stream, or drain a stream into `buf`. */
struct comm_job {
    cio_stream *s;
    const char *in;
    size_t inlen;
    /* Keep the output (else it is read and dropped); `cap` counts the room for the terminating NUL. */
    bool keep;
    char *data;
    size_t len, cap;
};

static int feed(void *arg)
{
    struct comm_job *j = arg;
    int rc = j->inlen ? cio_stream_write(j->s, j->in, j->inlen) : 0;
    if (rc == 0)
        rc = cio_stream_write_eof(j->s);
    /* A child that exits or closes its stdin without reading everything is not our failure (asyncio agrees). */
    return rc == -EPIPE || rc == -ECONNRESET ? 0 : rc;
}

static int append(struct comm_job *j, const void *chunk, size_t n)
{
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *d = cio__realloc(j->data, cap);
        if (!d)
            return -ENOMEM;
        j->data = d;
        j->cap = cap;
    }
    memcpy(j->data + j->len, chunk, n);
    j->len += n;
    j->data[j->len] = '\0';
    return 0;
}

static int drain(void *arg)
{
    struct comm_job *j = arg;
    for (;;) {
        const void *chunk;
        size_t n;
        int rc = cio_stream_next_chunk(j->s, &chunk, &n);
        if (rc <= 0)
            return rc;
        if (j->keep && (rc = append(j, chunk, n)) < 0)
            return rc;
    }
}

static void hand_over(struct comm_job *j, cio_buf *b, bool ok)
{
    if (b && ok) {
        b->data = j->data;
        b->len = j->len;
    } else {
        cio__free(j->data);
    }
}

int cio_process_communicate(cio_process *p, const void *in, size_t inlen, cio_buf *out, cio_buf *err)
{
    if (out)
        *out = (cio_buf){0};
    if (err)
        *err = (cio_buf){0};
    if (!valid(p) || (!in && inlen) || (inlen && !p->in))
        return -EINVAL;
    struct comm_job jobs[3] = {
        {.s = p->in, .in = in, .inlen = inlen},
        {.s = p->out, .keep = out != NULL},
        {.s = p->err, .keep = err != NULL},
    };
    cio_group *g;
    int rc = cio_group_open(&g);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 3 && rc == 0; i++)
        if (jobs[i].s)
            rc = cio_group_spawn(g, NULL, i == 0 ? feed : drain, &jobs[i], NULL);
    if (rc < 0)
        cio_group_cancel(g);
    int closed = cio_group_close(g);
    if (rc == 0)
        rc = closed;
    if (rc == 0)
        rc = wait_exit(p);
    hand_over(&jobs[1], out, rc == 0);
    hand_over(&jobs[2], err, rc == 0);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ close */

/* Reap a child that was just sent SIGKILL: shielded, since the wait is short and must not be skipped. */
static void reap_killed(cio_process *p)
{
    cio_scope sc;
    if (cio_shield_begin(&sc, CIO_INFINITE) == 0) {
        (void)wait_exit(p);
        CIO_ASSERT(cio_scope_end(&sc) == 0);
    } else {
        (void)try_reap(p, 0); /* not in a task: block; SIGKILL makes it brief */
    }
}

int cio_process_close(cio_process *p)
{
    if (!p)
        return 0;
    if (!valid(p))
        return -EINVAL;
    int killed = 0;
    if (try_reap(p, WNOHANG) == 0) {
        (void)cio_process_kill(p);
        killed = 1;
        reap_killed(p);
    }
    close_streams(p);
    drop_pidfd(p);
    cio_event_fini(&p->exited);
    p->magic = PROC_DEAD;
    cio__free(p);
    return killed;
}
