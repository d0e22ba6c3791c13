/* signal.c: tests of signals as loop events: waiting for a signal, handlers, cancellation, and graceful shutdown
   of cio_run_opts on SIGINT / SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corekit.h"
#include "harness.h"

/* Signals are sent to the loop's own thread (pthread_kill), where cio blocks them and reads them from its fd. */
static void send_self(int signo)
{
    cr_assert_eq(pthread_kill(pthread_self(), signo), 0);
}

struct sig_wait {
    int signo;
    int started;
    int rc;
};

static int signal_waiter(void *arg)
{
    struct sig_wait *w = arg;
    w->started = 1;
    w->rc = cio_signal_wait(w->signo);
    return w->rc;
}

/* ------------------------------------------------------------------------------------------------ waiting */

static int wait_one(void *arg)
{
    (void)arg;
    struct sig_wait w = {.signo = SIGUSR1};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, signal_waiter, &w, NULL), 0);
    cr_assert_eq(tk_yield_until(&w.started), 0); /* it waits, so the signal is blocked and read from the fd */
    send_self(SIGUSR1);
    cr_assert_eq(cio_join(t), SIGUSR1);
    return 0;
}

Test(signal, signal_wait_returns_the_signal_number_when_it_arrives)
{
    tst_run(wait_one, NULL);
}

enum { WAITERS = 5 };

static int wait_many(void *arg)
{
    (void)arg;
    struct sig_wait w[WAITERS];
    cio_task *t[WAITERS];
    int st[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        w[i] = (struct sig_wait){.signo = SIGUSR2};
        cr_assert_eq(cio_spawn(&t[i], signal_waiter, &w[i], NULL), 0);
    }
    for (int i = 0; i < WAITERS; i++)
        cr_assert_eq(tk_yield_until(&w[i].started), 0);
    send_self(SIGUSR2);
    cr_assert_eq(cio_gather(t, WAITERS, st, CIO_GATHER_ALL), 0);
    for (int i = 0; i < WAITERS; i++)
        cr_assert_eq(st[i], SIGUSR2, "waiter %d: %d", i, st[i]);
    return 0;
}

Test(signal, every_task_waiting_for_the_signal_wakes)
{
    tst_run(wait_many, NULL);
}

static int wait_two_kinds(void *arg)
{
    (void)arg;
    struct sig_wait a = {.signo = SIGUSR1}, b = {.signo = SIGUSR2};
    cio_task *ta, *tb;
    cr_assert_eq(cio_spawn(&ta, signal_waiter, &a, NULL), 0);
    cr_assert_eq(cio_spawn(&tb, signal_waiter, &b, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    cr_assert_eq(tk_yield_until(&b.started), 0);
    send_self(SIGUSR2);
    cr_assert_eq(cio_join(tb), SIGUSR2);
    cr_assert_not(cio_task_done(ta), "a waiter for another signal sleeps on");
    send_self(SIGUSR1);
    cr_assert_eq(cio_join(ta), SIGUSR1);
    return 0;
}

Test(signal, a_signal_wakes_only_the_tasks_waiting_for_it)
{
    tst_run(wait_two_kinds, NULL);
}

static int cancel_wait(void *arg)
{
    (void)arg;
    struct sig_wait w = {.signo = SIGUSR1};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, signal_waiter, &w, NULL), 0);
    cr_assert_eq(tk_yield_until(&w.started), 0);
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    /* The wait is gone, and a later one still works. */
    w = (struct sig_wait){.signo = SIGUSR1};
    cr_assert_eq(cio_spawn(&t, signal_waiter, &w, NULL), 0);
    cr_assert_eq(tk_yield_until(&w.started), 0);
    send_self(SIGUSR1);
    cr_assert_eq(cio_join(t), SIGUSR1);
    return 0;
}

Test(signal, cancelling_a_signal_wait_returns_ecanceled)
{
    tst_run(cancel_wait, NULL);
}

static int timeout_wait(void *arg)
{
    (void)arg;
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_MS(1)), 0);
    cr_assert_eq(cio_signal_wait(SIGUSR1), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    return 0;
}

Test(signal, a_deadline_ends_a_signal_wait_with_etimedout)
{
    tst_run(timeout_wait, NULL);
}

static void noop_handler(int signo, void *arg)
{
    (void)signo;
    (void)arg;
}

static int bad_signals(void *arg)
{
    (void)arg;
    const int bad[] = {0, -1, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, 65, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(cio_signal_wait(bad[i]), -EINVAL, "wait %d", bad[i]);
        cr_assert_eq(cio_signal_handler_add(bad[i], noop_handler, NULL), -EINVAL, "add %d", bad[i]);
        cr_assert_eq(cio_signal_handler_remove(bad[i]), -EINVAL, "remove %d", bad[i]);
    }
    cr_assert_eq(cio_signal_handler_add(SIGUSR1, NULL, NULL), -EINVAL, "NULL callback");
    cr_assert_eq(cio_signal_handler_remove(SIGUSR1), -ENOENT, "no handler yet");
    return 0;
}

Test(signal, uncatchable_or_out_of_range_signals_and_null_callbacks_fail_with_einval)
{
    tst_run(bad_signals, NULL);
}

static int wait_in_callback_rc = 1;

static void wait_in_callback(void *arg)
{
    (void)arg;
    wait_in_callback_rc = cio_signal_wait(SIGUSR1);
}

static int wait_outside_task(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_call_soon(NULL, wait_in_callback, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(wait_in_callback_rc, CIO_ENOTASK, "%s", cio_err_name(wait_in_callback_rc));
    return 0;
}

Test(signal, signal_functions_outside_a_loop_or_task_fail_with_enoloop_or_enotask)
{
    cr_assert_eq(cio_signal_wait(SIGUSR1), CIO_ENOLOOP);
    cr_assert_eq(cio_signal_handler_add(SIGUSR1, noop_handler, NULL), CIO_ENOLOOP);
    cr_assert_eq(cio_signal_handler_remove(SIGUSR1), CIO_ENOLOOP);
    tst_run(wait_outside_task, NULL);
}

/* ------------------------------------------------------------------------------------------------ handlers */

struct handled {
    cio_loop *loop;
    pthread_t thread;
    cio_future *f;
    int calls, last_signo, wrong_thread, other_calls;
    void *arg_seen;
};

static void count_handler(int signo, void *arg)
{
    struct handled *h = arg;
    h->calls++;
    h->last_signo = signo;
    h->arg_seen = arg;
    if (!pthread_equal(pthread_self(), h->thread) || cio_loop_current() != h->loop || cio_current() != NULL)
        h->wrong_thread++;
    if (h->f && !cio_future_done(h->f))
        cio_future_set_result(h->f, NULL);
}

static void other_handler(int signo, void *arg)
{
    (void)signo;
    struct handled *h = arg;
    h->other_calls++;
    if (h->f && !cio_future_done(h->f))
        cio_future_set_result(h->f, NULL);
}

static int handler_runs(void *arg)
{
    struct handled *h = arg;
    h->loop = cio_loop_current();
    h->thread = pthread_self();
    h->f = tk_future();
    cr_assert_eq(cio_signal_handler_add(SIGUSR1, count_handler, h), 0);
    send_self(SIGUSR1);
    cr_assert_eq(cio_future_await(h->f, NULL), 0, "a handler keeps the loop listening: no -EDEADLK");
    cr_assert_eq(h->calls, 1);
    cr_assert_eq(h->last_signo, SIGUSR1);
    cr_assert_eq(h->arg_seen, h);
    cr_assert_eq(h->wrong_thread, 0, "the handler runs on the loop as a plain callback");
    cr_assert_eq(cio_future_close(h->f), 0);

    /* It runs each time the signal arrives. */
    h->f = tk_future();
    send_self(SIGUSR1);
    cr_assert_eq(cio_future_await(h->f, NULL), 0);
    cr_assert_eq(h->calls, 2);
    cr_assert_eq(cio_future_close(h->f), 0);
    h->f = NULL;

    /* Removed, it no longer runs: a waiter sees the next signal, the handler does not. */
    cr_assert_eq(cio_signal_handler_remove(SIGUSR1), 0);
    cr_assert_eq(cio_signal_handler_remove(SIGUSR1), -ENOENT, "already removed");
    struct sig_wait w = {.signo = SIGUSR1};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, signal_waiter, &w, NULL), 0);
    cr_assert_eq(tk_yield_until(&w.started), 0);
    send_self(SIGUSR1);
    cr_assert_eq(cio_join(t), SIGUSR1);
    cr_assert_eq(h->calls, 2, "the removed handler did not run");
    return 0;
}

Test(signal, a_handler_runs_on_the_loop_each_time_until_removed)
{
    struct handled h = {0};
    tst_run(handler_runs, &h);
}

static int handler_replaced(void *arg)
{
    struct handled *h = arg;
    h->loop = cio_loop_current();
    h->thread = pthread_self();
    h->f = tk_future();
    cr_assert_eq(cio_signal_handler_add(SIGUSR2, count_handler, h), 0);
    cr_assert_eq(cio_signal_handler_add(SIGUSR2, other_handler, h), 0, "replaces the first");
    send_self(SIGUSR2);
    cr_assert_eq(cio_future_await(h->f, NULL), 0);
    cr_assert_eq(h->other_calls, 1);
    cr_assert_eq(h->calls, 0);
    cr_assert_eq(cio_signal_handler_remove(SIGUSR2), 0);
    cr_assert_eq(cio_future_close(h->f), 0);
    return 0;
}

Test(signal, adding_a_handler_again_replaces_the_first)
{
    struct handled h = {0};
    tst_run(handler_replaced, &h);
}

static int pending_at_close(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_signal_handler_add(SIGUSR1, noop_handler, NULL), 0);
    cr_assert_eq(cio_signal_handler_remove(SIGUSR1), 0);
    send_self(SIGUSR1); /* still blocked in this thread: it stays pending, nobody reads it */
    return 0;
}

Test(signal, a_signal_left_pending_at_close_is_dropped_and_the_mask_is_restored)
{
    sigset_t before, after;
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, NULL, &before), 0);
    cr_assert_not(sigismember(&before, SIGUSR1));
    tst_run(pending_at_close, NULL); /* the process survives the close */
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, NULL, &after), 0);
    cr_assert_not(sigismember(&after, SIGUSR1), "SIGUSR1 is unblocked again");
    sigset_t pending;
    cr_assert_eq(sigpending(&pending), 0);
    cr_assert_not(sigismember(&pending, SIGUSR1));
}

/* ------------------------------------------------------------------------------------------------ cio_run_opts */

/* The child's main: tell the parent it runs (SIGINT and SIGTERM are blocked by now), then sleep until cancelled
   and report the cleanup, with the cancel reason, on the pipe. */
static int graceful_main(void *arg)
{
    int fd = *(int *)arg;
    if (write(fd, "ready;", 6) != 6)
        return -EIO;
    int rc = cio_sleep(TK_FOREVER);
    const char *why = cio_task_cancel_reason(NULL);
    char line[64];
    int n = snprintf(line, sizeof line, "cleanup %s %d;", why ? why : "-", rc);
    if (write(fd, line, (size_t)n) != n)
        return -EIO;
    return cio_check_cancel() == -ECANCELED && rc == -ECANCELED ? rc : -EPROTO;
}

/* The same, but it handles the cancellation and reports success. */
static int forgiving_main(void *arg)
{
    int rc = graceful_main(arg);
    return rc == -ECANCELED ? 0 : rc;
}

struct child_report {
    int status;
    char text[256];
};

/* Fork a child that runs `main` under cio_run_opts(opts) and exits with cio_exit_code; the parent sends `signo`
   once the child's main runs, and collects everything written to the pipe and the exit status. */
static struct child_report run_child(int (*main)(void *), const cio_loop_opts *opts, int signo)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(p[0]);
        int rc = cio_run_opts(main, &p[1], opts);
        char line[32];
        int n = snprintf(line, sizeof line, "rc %d;", rc);
        if (write(p[1], line, (size_t)n) != n)
            _exit(100);
        _exit(cio_exit_code(rc));
    }
    close(p[1]);
    struct child_report r = {0};
    size_t len = 0;
    int sent = 0;
    for (;;) {
        ssize_t n = read(p[0], r.text + len, sizeof r.text - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        r.text[len] = 0;
        if (!sent && strstr(r.text, "ready;")) {
            cr_assert_eq(kill(pid, signo), 0);
            sent = 1;
        }
    }
    close(p[0]);
    cr_assert_eq(waitpid(pid, &r.status, 0), pid);
    return r;
}

Test(signal, sigterm_under_cancel_on_signals_runs_main_cleanup_and_exits_143)
{
    struct child_report r = run_child(graceful_main, &(cio_loop_opts){.cancel_on_signals = true}, SIGTERM);
    cr_assert(WIFEXITED(r.status), "child died of signal %d", WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0);
    cr_assert(strstr(r.text, "cleanup SIGTERM -125;") != NULL, "the main task's cleanup ran: %s", r.text);
    cr_assert(strstr(r.text, "rc -4;") != NULL, "cio_run_opts returned -EINTR: %s", r.text);
    cr_assert_eq(WEXITSTATUS(r.status), 143, "exit status %d", WEXITSTATUS(r.status));
}

Test(signal, sigint_under_cancel_on_signals_exits_130)
{
    struct child_report r = run_child(graceful_main, &(cio_loop_opts){.cancel_on_signals = true}, SIGINT);
    cr_assert(WIFEXITED(r.status));
    cr_assert(strstr(r.text, "cleanup SIGINT -125;") != NULL, "%s", r.text);
    cr_assert(strstr(r.text, "rc -4;") != NULL, "%s", r.text);
    cr_assert_eq(WEXITSTATUS(r.status), 130);
}

Test(signal, a_main_that_handles_the_shutdown_signal_returns_its_own_status)
{
    struct child_report r = run_child(forgiving_main, &(cio_loop_opts){.cancel_on_signals = true}, SIGTERM);
    cr_assert(WIFEXITED(r.status));
    cr_assert(strstr(r.text, "cleanup SIGTERM -125;") != NULL, "%s", r.text);
    cr_assert(strstr(r.text, "rc 0;") != NULL, "%s", r.text);
    cr_assert_eq(WEXITSTATUS(r.status), 0);
}

Test(signal, without_cancel_on_signals_sigterm_keeps_its_default_action)
{
    struct child_report r = run_child(graceful_main, NULL, SIGTERM);
    cr_assert(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM, "status %#x", r.status);
    cr_assert(strstr(r.text, "cleanup") == NULL, "%s", r.text);
}

static void *exit_code_in_fresh_thread(void *arg)
{
    *(int *)arg = cio_exit_code(-EINTR);
    return NULL;
}

Test(signal, exit_code_maps_success_to_0_errors_to_1)
{
    cr_assert_eq(cio_exit_code(0), 0);
    cr_assert_eq(cio_exit_code(3), 0);
    cr_assert_eq(cio_exit_code(-EIO), 1);
    cr_assert_eq(cio_exit_code(-ECANCELED), 1);
    int code = -1;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, exit_code_in_fresh_thread, &code), 0);
    cr_assert_eq(pthread_join(th, NULL), 0);
    cr_assert_eq(code, 1, "-EINTR without a shutdown signal is an ordinary error");
}
