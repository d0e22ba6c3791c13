/* signal.c: signals as loop events: tasks waiting for a signal, handlers run on the loop, graceful shutdown. */
#include "core/runtime.h"

#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/waitq.h"

/*
 * A signalfd per loop, created on first use. A signal somebody waits for or handles is blocked in the loop's
 * thread and read from the fd as an ordinary readable event, so handlers run as plain loop callbacks, not in
 * signal context. A signal stays blocked once used, until the loop closes: unblocking it while one is pending
 * would deliver it with its default action, which for most signals ends the process.
 */

#define NSIG_MAX 65

struct sig_slot {
    void (*cb)(int signo, void *arg);
    void *arg;
    struct cio__waitq waiters;
    /* Tasks in cio_signal_wait for this signal. */
    int waiting;
};

struct cio__signals {
    int fd;
    sigset_t mask;
    /* The thread's signal mask before the loop blocked anything, restored at close. */
    sigset_t saved;
    /* Signals with a handler or a waiter: while any, the fd is watched. */
    int interest;
    bool shutdown;
    struct cio__io_watch watch;
    struct sig_slot slot[NSIG_MAX];
};

static bool catchable(int signo)
{
    return signo > 0 && signo < NSIG_MAX && signo != SIGKILL && signo != SIGSTOP && signo != SIGSEGV &&
           signo != SIGBUS && signo != SIGILL && signo != SIGFPE;
}

static void on_readable(struct cio__io_watch *w, uint32_t revents);

static int signals_get(cio_loop *l, struct cio__signals **out)
{
    if (l->signals) {
        *out = l->signals;
        return 0;
    }
    struct cio__signals *s = cio__calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    sigemptyset(&s->mask);
    s->fd = signalfd(-1, &s->mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->fd < 0) {
        int err = -errno;
        cio__free(s);
        return err;
    }
    pthread_sigmask(SIG_BLOCK, NULL, &s->saved);
    for (int i = 0; i < NSIG_MAX; i++)
        cio__waitq_init(&s->slot[i].waiters);
    s->watch = (struct cio__io_watch){.fd = s->fd, .events = CIO__IO_READ, .ready = on_readable};
    l->signals = s;
    *out = s;
    return 0;
}

/* Start reading `signo` from the fd. */
static int listen_to(struct cio__signals *s, int signo)
{
    if (!sigismember(&s->mask, signo)) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, signo);
        sigaddset(&s->mask, signo);
        if (signalfd(s->fd, &s->mask, 0) < 0) {
            int err = -errno;
            sigdelset(&s->mask, signo);
            return err;
        }
        pthread_sigmask(SIG_BLOCK, &one, NULL);
    }
    return 0;
}

/* Recount interest; watch the fd only while somebody cares, so an idle loop can still detect deadlock. */
static void update_watch(cio_loop *l, struct cio__signals *s)
{
    int interest = s->shutdown ? 1 : 0;
    for (int i = 1; i < NSIG_MAX; i++)
        if (s->slot[i].cb || s->slot[i].waiting)
            interest++;
    if (interest && !s->interest)
        l->backend.ops->watch(&l->backend, &s->watch);
    else if (!interest && s->interest)
        l->backend.ops->unwatch(&l->backend, &s->watch);
    s->interest = interest;
}

static void deliver(cio_loop *l, struct cio__signals *s, int signo)
{
    struct sig_slot *slot = &s->slot[signo];
    cio__waitq_wake_all(&slot->waiters, signo);
    if (slot->cb)
        slot->cb(signo, slot->arg);
    if (s->shutdown && (signo == SIGINT || signo == SIGTERM) && l->main && l->main->state != CIO__T_DONE) {
        if (!l->exit_signal)
            l->exit_signal = signo;
        cio_cancel(l->main, signo == SIGINT ? "SIGINT" : "SIGTERM");
    }
}

static void on_readable(struct cio__io_watch *w, uint32_t revents)
{
    (void)revents;
    struct cio__signals *s = cio__container_of(w, struct cio__signals, watch);
    cio_loop *l = cio__tls_loop;
    struct signalfd_siginfo info[16];
    ssize_t n;
    while ((n = read(s->fd, info, sizeof info)) > 0) {
        for (size_t i = 0; i < (size_t)n / sizeof info[0]; i++)
            if (info[i].ssi_signo < NSIG_MAX)
                deliver(l, s, (int)info[i].ssi_signo);
    }
    update_watch(l, s);
}

int cio_signal_wait(int signo)
{
    if (!catchable(signo))
        return -EINVAL;
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    cio_loop *l = t->loop;
    struct cio__signals *s;
    if ((rc = signals_get(l, &s)) < 0 || (rc = listen_to(s, signo)) < 0)
        return rc;
    struct cio__wq_entry e;
    s->slot[signo].waiting++;
    update_watch(l, s);
    rc = cio__waitq_wait(&s->slot[signo].waiters, &e);
    s->slot[signo].waiting--;
    update_watch(l, s);
    return rc < 0 ? rc : e.result;
}

int cio_signal_handler_add(int signo, void (*cb)(int signo, void *arg), void *arg)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    if (!catchable(signo) || !cb)
        return -EINVAL;
    struct cio__signals *s;
    int rc;
    if ((rc = signals_get(l, &s)) < 0 || (rc = listen_to(s, signo)) < 0)
        return rc;
    s->slot[signo].cb = cb;
    s->slot[signo].arg = arg;
    update_watch(l, s);
    return 0;
}

int cio_signal_handler_remove(int signo)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    if (!catchable(signo))
        return -EINVAL;
    struct cio__signals *s = l->signals;
    if (!s || !s->slot[signo].cb)
        return -ENOENT;
    s->slot[signo].cb = NULL;
    s->slot[signo].arg = NULL;
    update_watch(l, s);
    return 0;
}

int cio__signals_shutdown_on(cio_loop *l)
{
    struct cio__signals *s;
    int rc;
    if ((rc = signals_get(l, &s)) < 0 || (rc = listen_to(s, SIGINT)) < 0 || (rc = listen_to(s, SIGTERM)) < 0)
        return rc;
    s->shutdown = true;
    update_watch(l, s);
    return 0;
}

void cio__signals_close(cio_loop *l)
{
    struct cio__signals *s = l->signals;
    if (!s)
        return;
    if (s->interest)
        l->backend.ops->unwatch(&l->backend, &s->watch);
    close(s->fd);
    /* Signals that arrived after the last read are dropped rather than delivered with their default action. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s->mask, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &s->saved, NULL);
    cio__free(s);
    l->signals = NULL;
}
