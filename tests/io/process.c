/* process.c: tests of child processes (exec, shell, communicate, signals, reaping) and of cio_pipe_open. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"

/* SIGPIPE keeps its default action here on purpose: a test that writes to a child that has gone would die. */
TestSuite(process, .timeout = 120);
TestSuite(pipe, .timeout = 60);

/* ------------------------------------------------------------------------------------------------ helpers */

#define BIG ((size_t)10 * 1024 * 1024)

static const cio_process_opts pipes = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};

/* This process has no child left, not even a zombie. */
static void assert_no_children(void)
{
    int st;
    errno = 0;
    cr_assert_eq(waitpid(-1, &st, WNOHANG), -1, "a child is left over");
    cr_assert_eq(errno, ECHILD);
}

/* Run `cmd` through the shell with every descriptor piped, feed `in`, and return its returncode. */
static int shell_run(const char *cmd, const char *in, cio_buf *out, cio_buf *err)
{
    cio_process *p;
    int status = INT_MIN;
    int rc = cio_process_shell(&p, cmd, &pipes);
    cr_assert_eq(rc, 0, "shell: %s", cio_err_name(rc));
    rc = cio_process_communicate(p, in, in ? strlen(in) : 0, out, err);
    cr_assert_eq(rc, 0, "communicate: %s", cio_err_name(rc));
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cr_assert_eq(cio_process_close(p), 0, "the child had exited: close does not kill it");
    return status;
}

static void assert_text(const cio_buf *b, const char *want)
{
    size_t n = strlen(want);
    cr_assert_eq(b->len, n, "got %zu bytes \"%.*s\", wanted \"%s\"", b->len, (int)b->len, b->data ? b->data : "", want);
    cr_assert(n == 0 || memcmp(b->data, want, n) == 0, "got \"%s\", wanted \"%s\"", b->data, want);
    cr_assert(b->data == NULL || b->data[n] == '\0', "the buffer is NUL-terminated");
}

/* ------------------------------------------------------------------------------------------------ exit codes */

static int exit_codes(void *arg)
{
    (void)arg;
    static const int codes[] = {0, 1, 42, 255};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "exit %d", codes[i]);
        cr_assert_eq(shell_run(cmd, NULL, NULL, NULL), codes[i]);
    }
    cio_process *p;
    char *const argv[] = {"true", NULL};
    int status = -1;
    cr_assert_eq(cio_process_exec(&p, argv, NULL), 0, "a bare name is searched in PATH");
    cr_assert_gt(cio_process_pid(p), 0);
    cr_assert_null(cio_process_stdin(p), "no pipe was asked for");
    cr_assert_null(cio_process_stdout(p));
    cr_assert_null(cio_process_stderr(p));
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cr_assert_eq(status, 0);
    status = -1;
    cr_assert_eq(cio_process_wait(p, &status), 0, "a second wait returns at once");
    cr_assert_eq(status, 0);
    cr_assert_eq(cio_process_returncode(p, &status), 0);
    cr_assert_eq(cio_process_send_signal(p, SIGTERM), -ESRCH, "a reaped child cannot be signalled");
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, wait_reports_the_exit_code_of_exec_and_shell_children)
{
    tst_run(exit_codes, NULL);
}

static int returncode_polls(void *arg)
{
    (void)arg;
    cio_process *p;
    int status = INT_MIN;
    cr_assert_eq(cio_process_shell(&p, "read line; exit 3", &pipes), 0);
    cr_assert_eq(cio_process_returncode(p, &status), -EAGAIN, "the child waits for its input");
    cr_assert_eq(status, INT_MIN, "status is untouched while it runs");
    cr_assert_eq(cio_stream_write(cio_process_stdin(p), "go\n", 3), 0);
    cr_assert_eq(cio_process_wait(p, NULL), 0, "status may be NULL");
    cr_assert_eq(cio_process_returncode(p, &status), 0);
    cr_assert_eq(status, 3);
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, returncode_says_eagain_while_running_and_the_code_after)
{
    tst_run(returncode_polls, NULL);
}

/* ------------------------------------------------------------------------------------------------ streams */

static int cat_streams(void *arg)
{
    (void)arg;
    cio_process *p;
    char *const argv[] = {"cat", NULL};
    char buf[64];
    cr_assert_eq(cio_process_exec(&p, argv, &pipes), 0);
    cio_stream *in = cio_process_stdin(p), *out = cio_process_stdout(p);
    cr_assert_not_null(in);
    cr_assert_not_null(out);
    cr_assert_not_null(cio_process_stderr(p));
    cr_assert_eq(cio_stream_write(in, "first line\n", 11), 0);
    cr_assert_eq(cio_stream_read_line(out, buf, sizeof buf), 11, "cat echoes each line as it comes");
    cr_assert_eq(memcmp(buf, "first line\n", 11), 0);
    cr_assert_eq(cio_stream_write(in, "second", 6), 0);
    cr_assert_eq(cio_stream_write_eof(in), 0, "ending stdin ends cat");
    cr_assert_eq(cio_stream_read_line(out, buf, sizeof buf), 6, "the last piece, without newline, at the end");
    cr_assert_eq(memcmp(buf, "second", 6), 0);
    cr_assert_eq(cio_stream_read(out, buf, sizeof buf), 0);
    int status = -1;
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cr_assert_eq(status, 0);
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, stdin_flows_to_stdout_through_cat_with_the_streams)
{
    tst_run(cat_streams, NULL);
}

static int communicate_small(void *arg)
{
    (void)arg;
    cio_buf out, err;
    cr_assert_eq(shell_run("cat; echo oops >&2; exit 5", "hello\n", &out, &err), 5);
    assert_text(&out, "hello\n");
    assert_text(&err, "oops\n");
    cio_buf_free(&out);
    cio_buf_free(&err);
    cr_assert_null(out.data, "free zeroes the buffer");
    cr_assert_eq(out.len, 0);
    cio_buf_free(NULL);
    cr_assert_eq(shell_run("echo dropped; echo kept >&2", NULL, NULL, &err), 0, "a NULL out drops stdout");
    assert_text(&err, "kept\n");
    cio_buf_free(&err);
    assert_no_children();
    return 0;
}

Test(process, communicate_feeds_stdin_and_collects_stdout_and_stderr)
{
    tst_run(communicate_small, NULL);
}

/* 16 bytes per line, so that 10 MiB holds whole lines and any misplaced byte shows. */
#define LINE_OUT "0123456789abcde\n"
#define LINE_ERR "ABCDEFGHIJKLMNO\n"

static void assert_lines(const cio_buf *b, const char *line, size_t total)
{
    cr_assert_eq(b->len, total, "got %zu bytes", b->len);
    uint64_t sum = 0;
    for (size_t i = 0; i < b->len; i += 16) {
        cr_assert(memcmp(b->data + i, line, 16) == 0, "bad bytes at %zu", i);
        for (size_t k = 0; k < 16; k++)
            sum = sum * 31 + (unsigned char)b->data[i + k];
    }
    uint64_t want = 0;
    for (size_t i = 0; i < total; i++)
        want = want * 31 + (unsigned char)line[i % 16];
    cr_assert_eq(sum, want, "checksum");
}

static int communicate_big(void *arg)
{
    (void)arg;
    cio_buf out, err;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "yes %.15s | head -c %zu >&2 & yes %.15s | head -c %zu; wait", LINE_ERR, BIG, LINE_OUT,
             BIG);
    cr_assert_eq(shell_run(cmd, NULL, &out, &err), 0);
    assert_lines(&out, LINE_OUT, BIG);
    assert_lines(&err, LINE_ERR, BIG);
    cio_buf_free(&out);
    cio_buf_free(&err);
    assert_no_children();
    return 0;
}

Test(process, communicate_takes_10_mib_on_stdout_and_stderr_at_once_without_deadlock)
{
    tst_run(communicate_big, NULL);
}

static int communicate_big_stdin(void *arg)
{
    (void)arg;
    cio_buf out, err;
    char cmd[256];
    char *in = malloc(BIG + 1);
    cr_assert_not_null(in);
    for (size_t i = 0; i < BIG; i += 16)
        memcpy(in + i, LINE_OUT, 16);
    in[BIG] = '\0';
    /* cat copies 10 MiB of stdin to stdout while a second writer fills stderr: all three pipes busy at once. */
    snprintf(cmd, sizeof cmd, "(yes %.15s | head -c %zu >&2) & cat; wait", LINE_ERR, BIG);
    cr_assert_eq(shell_run(cmd, in, &out, &err), 0);
    free(in);
    assert_lines(&out, LINE_OUT, BIG);
    assert_lines(&err, LINE_ERR, BIG);
    cio_buf_free(&out);
    cio_buf_free(&err);
    assert_no_children();
    return 0;
}

Test(process, communicate_feeds_10_mib_through_cat_while_stderr_carries_10_mib)
{
    tst_run(communicate_big_stdin, NULL);
}

static int stdin_ignored(void *arg)
{
    (void)arg;
    size_t n = (size_t)4 * 1024 * 1024;
    char *in = calloc(1, n);
    cio_process *p;
    char *const argv[] = {"true", NULL};
    cio_buf out;
    int status = -1;
    cr_assert_not_null(in);
    cr_assert_eq(cio_process_exec(&p, argv, &pipes), 0);
    cr_assert_eq(cio_process_communicate(p, in, n, &out, NULL), 0,
                 "a child that never reads its input is no error, and no SIGPIPE hits the parent");
    free(in);
    assert_text(&out, "");
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cr_assert_eq(status, 0);
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, communicate_ignores_a_child_that_does_not_read_its_stdin)
{
    tst_run(stdin_ignored, NULL);
}

static int stdio_modes(void *arg)
{
    (void)arg;
    cio_process *p;
    cio_buf out, err;
    int status = -1;
    cio_process_opts merged = {.stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT};
    cr_assert_eq(cio_process_shell(&p, "echo a; echo b >&2; echo c", &merged), 0);
    cr_assert_null(cio_process_stderr(p), "stderr goes into the stdout pipe");
    cr_assert_eq(cio_process_communicate(p, NULL, 0, &out, &err), 0);
    assert_text(&out, "a\nb\nc\n");
    assert_text(&err, "");
    cio_buf_free(&out);
    cr_assert_eq(cio_process_close(p), 0);

    cio_process_opts quiet = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_PIPE};
    cr_assert_eq(cio_process_shell(&p, "cat; echo gone; echo here >&2", &quiet), 0);
    cr_assert_null(cio_process_stdin(p));
    cr_assert_null(cio_process_stdout(p));
    cr_assert_eq(cio_process_communicate(p, "x", 1, NULL, NULL), -EINVAL, "input needs a stdin pipe");
    cr_assert_eq(cio_process_communicate(p, NULL, 0, &out, &err), 0, "cat reads /dev/null: it ends at once");
    assert_text(&out, "");
    assert_text(&err, "here\n");
    cio_buf_free(&err);
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cr_assert_eq(status, 0);
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, devnull_and_stderr_into_stdout_modes_connect_the_right_files)
{
    tst_run(stdio_modes, NULL);
}

static int cwd_and_env(void *arg)
{
    (void)arg;
    char dir[] = "/tmp/cio-proc-XXXXXX";
    char real[PATH_MAX], want[PATH_MAX + 2];
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_not_null(realpath(dir, real));
    snprintf(want, sizeof want, "%s\n", real);
    cio_process *p;
    cio_buf out;
    char *const env[] = {"CIO_GREETING=hello there", NULL};
    cio_process_opts o = {.stdout_mode = CIO_PIPE, .cwd = dir, .env = env};
    cr_assert_eq(cio_process_shell(&p, "pwd -P; echo \"$CIO_GREETING\"; echo \"${HOME:-unset}\"", &o), 0);
    cr_assert_eq(cio_process_communicate(p, NULL, 0, &out, NULL), 0);
    char both[PATH_MAX + 64];
    snprintf(both, sizeof both, "%shello there\nunset\n", want);
    assert_text(&out, both);
    cio_buf_free(&out);
    cr_assert_eq(cio_process_close(p), 0);
    cr_assert_eq(rmdir(dir), 0);

    o.cwd = "/nonexistent/cio-dir";
    cr_assert_eq(cio_process_shell(&p, "true", &o), -ENOENT, "a missing cwd fails the spawn");
    cr_assert_null(p);
    assert_no_children();
    return 0;
}

Test(process, cwd_and_env_reach_the_child)
{
    tst_run(cwd_and_env, NULL);
}

/* ------------------------------------------------------------------------------------------------ hygiene */

static int fds_in_child(void *arg)
{
    (void)arg;
    /* A descriptor opened without O_CLOEXEC: the child must not get it either. */
    int stray = open("/dev/null", O_RDONLY);
    cr_assert_geq(stray, 3);
    cio_process *p;
    char *const argv[] = {"ls", "/proc/self/fd", NULL};
    cio_process_opts o = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
    cio_buf out, err;
    cr_assert_eq(cio_process_exec(&p, argv, &o), 0);
    cr_assert_eq(cio_process_communicate(p, NULL, 0, &out, &err), 0);
    assert_text(&out, "0\n1\n2\n3\n"); /* 3 is ls's own handle on the directory */
    assert_text(&err, "");
    cio_buf_free(&out);
    cr_assert_eq(cio_process_close(p), 0);
    close(stray);
    assert_no_children();
    return 0;
}

Test(process, the_child_gets_only_descriptors_0_1_and_2)
{
    tst_run(fds_in_child, NULL);
}

static void on_usr1(int signo, void *arg)
{
    (void)signo;
    (void)arg;
}

static int clean_signals(void *arg)
{
    (void)arg;
    /* The loop blocks SIGUSR1 for its signalfd, and SIGPIPE is ignored: the child must see neither. */
    cr_assert_eq(cio_signal_handler_add(SIGUSR1, on_usr1, NULL), 0);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    cio_process *p;
    cio_buf out;
    cio_process_opts o = {.stdout_mode = CIO_PIPE};
    cr_assert_eq(cio_process_shell(&p, "grep -E '^Sig(Blk|Ign)' /proc/self/status", &o), 0);
    cr_assert_eq(cio_process_communicate(p, NULL, 0, &out, NULL), 0);
    unsigned long long blk = 1, ign = 1;
    cr_assert_eq(sscanf(out.data, "SigBlk: %llx SigIgn: %llx", &blk, &ign), 2, "got \"%s\"", out.data);
    /* Only signals 1 to 31: glibc keeps its own real-time ones (32, 33) as it likes. */
    cr_assert_eq(blk & 0x7fffffffu, 0, "blocked: %llx", blk);
    cr_assert_eq(ign & 0x7fffffffu, 0, "ignored: %llx", ign);
    cio_buf_free(&out);
    cr_assert_eq(cio_process_close(p), 0);
    signal(SIGPIPE, old);
    cr_assert_eq(cio_signal_handler_remove(SIGUSR1), 0);
    assert_no_children();
    return 0;
}

Test(process, the_child_starts_with_no_blocked_or_ignored_signal)
{
    tst_run(clean_signals, NULL);
}

/* ------------------------------------------------------------------------------------------------ signals */

static int killed(void *arg)
{
    (void)arg;
    static const struct {
        int (*send)(cio_process *p);
        int sig;
    } ways[] = {{cio_process_kill, SIGKILL}, {cio_process_terminate, SIGTERM}, {NULL, SIGUSR1}};
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        cio_process *p;
        char *const argv[] = {"sleep", "1000", NULL};
        int status = 0;
        cr_assert_eq(cio_process_exec(&p, argv, NULL), 0);
        int rc = ways[i].send ? ways[i].send(p) : cio_process_send_signal(p, ways[i].sig);
        cr_assert_eq(rc, 0);
        cr_assert_eq(cio_process_wait(p, &status), 0);
        cr_assert_eq(status, -ways[i].sig, "status %d says which signal ended it", status);
        cr_assert_eq(cio_process_close(p), 0);
    }
    assert_no_children();
    return 0;
}

Test(process, a_signalled_child_reports_minus_the_signal)
{
    tst_run(killed, NULL);
}

static int close_kills(void *arg)
{
    (void)arg;
    cio_process *p;
    char *const argv[] = {"sleep", "1000", NULL};
    cr_assert_eq(cio_process_exec(&p, argv, &pipes), 0);
    pid_t pid = cio_process_pid(p);
    cr_assert_eq(cio_process_close(p), 1, "close kills a running child");
    cr_assert_eq(kill(pid, 0), -1, "and reaps it");
    cr_assert_eq(errno, ESRCH);
    assert_no_children();
    cr_assert_eq(cio_process_close(NULL), 0);
    return 0;
}

Test(process, close_kills_and_reaps_a_running_child_leaving_no_zombie)
{
    tst_run(close_kills, NULL);
}

static int close_when_cancelled(void *arg)
{
    (void)arg;
    cio_process *p;
    char *const argv[] = {"sleep", "1000", NULL};
    cr_assert_eq(cio_process_exec(&p, argv, NULL), 0);
    cr_assert_eq(cio_cancel(cio_current(), "test"), 0);
    cr_assert_eq(cio_process_wait(p, NULL), -ECANCELED);
    cr_assert_eq(cio_process_close(p), 1, "a cancelled task still reaps in close");
    assert_no_children();
    return -ECANCELED;
}

Test(process, close_reaps_even_in_a_cancelled_task)
{
    tst_run_expect(close_when_cancelled, NULL, NULL, -ECANCELED);
}

/* ------------------------------------------------------------------------------------------------ waiting */

struct waiter {
    cio_process *p;
    int started;
    int status;
};

static int wait_body(void *arg)
{
    struct waiter *w = arg;
    w->started = 1;
    return cio_process_wait(w->p, &w->status);
}

static int wait_cancel(void *arg)
{
    (void)arg;
    cio_process *p;
    char *const argv[] = {"sleep", "1000", NULL};
    cr_assert_eq(cio_process_exec(&p, argv, NULL), 0);
    struct waiter w = {.p = p}, w2 = {.p = p}, w3 = {.p = p};
    cio_task *t, *t2, *t3;
    cr_assert_eq(cio_spawn(&t, wait_body, &w, NULL), 0);
    cr_assert_eq(cio_spawn(&t2, wait_body, &w2, NULL), 0);
    cr_assert_eq(tk_yield_until(&w.started), 0);
    cr_assert_eq(tk_yield_until(&w2.started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED, "a cancelled wait returns -ECANCELED");
    cr_assert_eq(cio_process_returncode(p, NULL), -EAGAIN, "and leaves the child running");

    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_MS(1)), 0);
    cr_assert_eq(cio_process_wait(p, NULL), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&sc), -ETIMEDOUT);

    cr_assert_eq(cio_spawn(&t3, wait_body, &w3, NULL), 0);
    cr_assert_eq(tk_yield_until(&w3.started), 0);
    cr_assert_eq(cio_process_kill(p), 0);
    cr_assert_eq(cio_join(t2), 0, "every waiter learns of the exit");
    cr_assert_eq(cio_join(t3), 0);
    cr_assert_eq(w2.status, -SIGKILL);
    cr_assert_eq(w3.status, -SIGKILL);
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, wait_is_cancellable_and_several_tasks_may_wait)
{
    tst_run(wait_cancel, NULL);
}

/* ------------------------------------------------------------------------------------------------ no pidfd */

/* Make pidfd_open fail with ENOSYS in this test process, as on a kernel before 5.3 (a seccomp filter). */
static void deny_pidfd_open(void)
{
#if defined(__x86_64__) && defined(SYS_pidfd_open)
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
    errno = 0;
    cr_assert_eq(syscall(SYS_pidfd_open, getpid(), 0), -1);
    cr_assert_eq(errno, ENOSYS);
#else
    tst_skip("the seccomp filter is written for x86-64");
#endif
}

static int without_pidfd(void *arg)
{
    (void)arg;
    cr_assert_eq(shell_run("exit 4", NULL, NULL, NULL), 4);
    cio_process *p;
    char *const argv[] = {"sleep", "1000", NULL};
    int status = 0;
    cr_assert_eq(cio_process_exec(&p, argv, NULL), 0);
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_MS(5)), 0);
    cr_assert_eq(cio_process_wait(p, NULL), -ETIMEDOUT, "the polling wait is cancellable too");
    cr_assert_eq(cio_scope_end(&sc), -ETIMEDOUT);
    cr_assert_eq(cio_process_kill(p), 0);
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cr_assert_eq(status, -SIGKILL);
    cr_assert_eq(cio_process_close(p), 0);
    cr_assert_eq(cio_process_exec(&p, argv, NULL), 0);
    cr_assert_eq(cio_process_close(p), 1);
    assert_no_children();
    return 0;
}

Test(process, without_pidfds_the_exit_is_polled_with_the_same_results)
{
    deny_pidfd_open();
    tst_run(without_pidfd, NULL);
}

/* ------------------------------------------------------------------------------------------------ errors */

static int bad_input(void *arg)
{
    (void)arg;
    cio_process *p = (cio_process *)1;
    char *const missing[] = {"cio-no-such-program-here", NULL};
    char *const missing_path[] = {"/nonexistent/cio/prog", NULL};
    char *const not_exec[] = {"/dev/null", NULL};
    char *const empty[] = {NULL};
    char *const blank[] = {"", NULL};
    char *const ok[] = {"true", NULL};
    cr_assert_eq(cio_process_exec(&p, missing, &pipes), -ENOENT);
    cr_assert_null(p, "out is NULL after a failure");
    cr_assert_eq(cio_process_exec(&p, missing_path, &pipes), -ENOENT);
    cr_assert_eq(cio_process_exec(&p, not_exec, NULL), -EACCES);
    cr_assert_eq(cio_process_exec(&p, empty, NULL), -EINVAL);
    cr_assert_eq(cio_process_exec(&p, blank, NULL), -EINVAL);
    cr_assert_eq(cio_process_exec(&p, NULL, NULL), -EINVAL);
    cr_assert_eq(cio_process_exec(NULL, ok, NULL), -EINVAL);
    cr_assert_eq(cio_process_shell(&p, NULL, NULL), -EINVAL);
    cio_process_opts bad = {.stdout_mode = CIO_STDOUT};
    cr_assert_eq(cio_process_exec(&p, ok, &bad), -EINVAL, "only stderr can go into stdout");
    bad = (cio_process_opts){.stdin_mode = 7};
    cr_assert_eq(cio_process_exec(&p, ok, &bad), -EINVAL);
    bad = (cio_process_opts){.stderr_mode = -1};
    cr_assert_eq(cio_process_exec(&p, ok, &bad), -EINVAL);
    cr_assert_eq(cio_process_wait(NULL, NULL), -EINVAL);
    cr_assert_eq(cio_process_returncode(NULL, NULL), -EINVAL);
    cr_assert_eq(cio_process_pid(NULL), -EINVAL);
    cr_assert_eq(cio_process_send_signal(NULL, SIGTERM), -EINVAL);
    cr_assert_eq(cio_process_kill(NULL), -EINVAL);
    cr_assert_eq(cio_process_terminate(NULL), -EINVAL);
    cr_assert_null(cio_process_stdin(NULL));
    cr_assert_eq(cio_process_communicate(NULL, NULL, 0, NULL, NULL), -EINVAL);

    cr_assert_eq(cio_process_exec(&p, ok, &pipes), 0);
    cr_assert_eq(cio_process_send_signal(p, -1), -EINVAL);
    cr_assert_eq(cio_process_send_signal(p, 100000), -EINVAL);
    cr_assert_eq(cio_process_communicate(p, NULL, 5, NULL, NULL), -EINVAL, "NULL input with a length");
    cr_assert_eq(cio_process_wait(p, NULL), 0);
    cr_assert_eq(cio_process_close(p), 0);
    assert_no_children();
    return 0;
}

Test(process, missing_programs_give_enoent_and_bad_arguments_einval)
{
    tst_run(bad_input, NULL);
}

static int spawn_alloc_failures(void *arg)
{
    (void)arg;
    char *const argv[] = {"true", NULL};
    int rc = -ENOMEM;
    for (long n = 1; rc == -ENOMEM; n++) {
        cr_assert_lt(n, 100, "spawn never succeeded");
        long blocks = tst_live_blocks();
        int fds = tst_open_fds();
        cio_process *p;
        tst_fail_alloc_at(n);
        rc = cio_process_exec(&p, argv, &pipes);
        tst_fail_alloc_at(0);
        if (rc == 0) {
            cr_assert_eq(cio_process_wait(p, NULL), 0);
            cr_assert_eq(cio_process_close(p), 0);
        } else {
            cr_assert_eq(rc, -ENOMEM, "allocation %ld: %s", n, cio_err_name(rc));
        }
        cr_assert_eq(tst_live_blocks(), blocks, "allocation %ld: memory leaked", n);
        cr_assert_eq(tst_open_fds(), fds, "allocation %ld: descriptor leaked", n);
        assert_no_children();
    }
    return 0;
}

Test(process, a_failed_allocation_in_spawn_leaks_nothing_and_starts_no_child)
{
    tst_run(spawn_alloc_failures, NULL);
}

static int outside_loop(void)
{
    cio_process *p;
    char *const argv[] = {"true", NULL};
    return cio_process_exec(&p, argv, NULL);
}

Test(process, exec_outside_a_loop_gives_enoloop)
{
    cr_assert_eq(outside_loop(), CIO_ENOLOOP);
}

/* ------------------------------------------------------------------------------------------------ pipes */

static int pipe_roundtrip(void *arg)
{
    (void)arg;
    cio_stream *rd, *wr;
    char buf[64];
    cr_assert_eq(cio_pipe_open(&rd, &wr, NULL), 0);
    cr_assert(fcntl(cio_stream_fd(rd), F_GETFD) & FD_CLOEXEC);
    cr_assert(fcntl(cio_stream_fd(wr), F_GETFD) & FD_CLOEXEC);
    cr_assert_eq(cio_stream_write(wr, "through the pipe\n", 17), 0);
    cr_assert_eq(cio_stream_read_line(rd, buf, sizeof buf), 17);
    cr_assert_eq(memcmp(buf, "through the pipe\n", 17), 0);
    cr_assert_eq(cio_stream_write(wr, "end", 3), 0);
    cr_assert_eq(cio_stream_write_eof(wr), 0);
    cr_assert_eq(cio_stream_read(rd, buf, sizeof buf), 3);
    cr_assert_eq(cio_stream_read(rd, buf, sizeof buf), 0, "write_eof closes the pipe: end of stream");
    cr_assert_eq(cio_stream_close(wr), 0);
    cr_assert_eq(cio_stream_close(rd), 0);
    return 0;
}

Test(pipe, bytes_written_come_out_of_the_read_end_then_end_of_stream)
{
    tst_run(pipe_roundtrip, NULL);
}

struct pump {
    cio_stream *wr;
    size_t n;
};

static int pump_body(void *arg)
{
    struct pump *pu = arg;
    char chunk[4096];
    for (size_t done = 0; done < pu->n; done += sizeof chunk) {
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = (char)((done + i) % 251);
        int rc = cio_stream_write(pu->wr, chunk, sizeof chunk);
        if (rc < 0)
            return rc;
    }
    return cio_stream_write_eof(pu->wr);
}

static int pipe_big(void *arg)
{
    (void)arg;
    cio_stream *rd, *wr;
    cio_task *t;
    struct pump pu = {.n = (size_t)4 * 1024 * 1024};
    cr_assert_eq(cio_pipe_open(&rd, &wr, &(cio_stream_opts){.high_water = 8192}), 0);
    pu.wr = wr;
    cr_assert_eq(cio_spawn(&t, pump_body, &pu, NULL), 0);
    size_t got = 0;
    const void *chunk;
    size_t n;
    int rc;
    while ((rc = cio_stream_next_chunk(rd, &chunk, &n)) == 1) {
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(((const unsigned char *)chunk)[i], (unsigned char)((got + i) % 251));
        got += n;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(got, pu.n);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(cio_stream_close(wr), 0);
    cr_assert_eq(cio_stream_close(rd), 0);
    return 0;
}

Test(pipe, a_writer_task_and_a_reader_move_4_mib_with_back_pressure)
{
    tst_run(pipe_big, NULL);
}

static int pipe_errors(void *arg)
{
    (void)arg;
    cio_stream *rd = (cio_stream *)1, *wr = (cio_stream *)1;
    cr_assert_eq(cio_pipe_open(NULL, &wr, NULL), -EINVAL);
    cr_assert_null(wr);
    cr_assert_eq(cio_pipe_open(&rd, NULL, NULL), -EINVAL);
    cr_assert_null(rd);
    cr_assert_eq(cio_pipe_open(&rd, &wr, &(cio_stream_opts){.high_water = 10, .low_water = 20}), -EINVAL,
                 "the stream options are checked");
    cr_assert_null(rd);
    cr_assert_null(wr);
    return 0;
}

Test(pipe, bad_arguments_give_einval_and_leave_nothing_open)
{
    tst_run(pipe_errors, NULL);
}
