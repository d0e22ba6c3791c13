/* debug.c: debug-mode reports (slow steps, tasks never joined) and the stack overflow report. */
#include "core/runtime.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

void cio__debug_slow(cio_loop *l, struct cio_task *t, int64_t elapsed, const char *what)
{
    if (t)
        cio__log(l, "cio: slow %s: task %llu '%s' (spawned at %s:%d) ran %.3f ms without waiting", what,
                 (unsigned long long)t->id, cio__task_name(t), t->file, t->line, (double)elapsed / 1e6);
    else
        cio__log(l, "cio: slow %s: ran %.3f ms", what, (double)elapsed / 1e6);
}

void cio__debug_unjoined(cio_loop *l, struct cio_task *t, const char *when)
{
    if (t->debug_reported)
        return;
    t->debug_reported = true;
    cio__log(l, "cio: task %llu '%s' (spawned at %s:%d) finished with %s but was never joined nor detached (%s)",
             (unsigned long long)t->id, cio__task_name(t), t->file, t->line, cio_err_name(t->status), when);
}

/* ------------------------------------------------------------------------------------------------ overflow */

/*
 * A task that overflows its stack touches its guard page and gets SIGSEGV on a stack that no longer has room
 * for a handler, hence the alternate signal stack per loop thread. The handler writes its report with write(2)
 * only (async-signal-safe), puts back the previous disposition and returns: the fault repeats and the process
 * dies as it would have, or the earlier handler (a sanitizer's, say) takes over. Faults that are not an
 * overflow go straight to the previous handler.
 */

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static struct sigaction previous;
static int handler_rc;

static size_t fmt_u64(char *p, unsigned long long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (at + n > cap)
        n = cap - at;
    memcpy(buf + at, s, n);
    return at + n;
}

static size_t put_u64(char *buf, size_t at, size_t cap, unsigned long long v)
{
    char num[24];
    num[fmt_u64(num, v)] = 0;
    return put(buf, at, cap, num);
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
    cio_loop *l = cio__tls_loop;
    struct cio_task *t = l ? l->current : NULL;
    char *addr = si->si_addr;
    if (t && addr >= t->slot_base && addr < t->slot_base + l->page) {
        char buf[256];
        size_t at = put(buf, 0, sizeof buf, "cio: stack overflow in task ");
        at = put_u64(buf, at, sizeof buf, t->id);
        at = put(buf, at, sizeof buf, " '");
        if (t->name[0]) {
            at = put(buf, at, sizeof buf, t->name);
        } else { /* the default name, made here without snprintf, which is not async-signal-safe */
            at = put(buf, at, sizeof buf, "Task-");
            at = put_u64(buf, at, sizeof buf, t->id);
        }
        at = put(buf, at, sizeof buf, "' (spawned at ");
        at = put(buf, at, sizeof buf, t->file);
        at = put(buf, at, sizeof buf, ":");
        at = put_u64(buf, at, sizeof buf, (unsigned long long)t->line);
        at = put(buf, at, sizeof buf, ", stack of ");
        at = put_u64(buf, at, sizeof buf, (unsigned long long)(t->slot_size - l->page));
        at = put(buf, at, sizeof buf, " bytes)\n");
        ssize_t w = write(STDERR_FILENO, buf, at);
        (void)w;
        sigaction(SIGSEGV, &previous, NULL);
        return;
    }
    if (previous.sa_flags & SA_SIGINFO) {
        if (previous.sa_sigaction)
            previous.sa_sigaction(sig, si, uctx);
        return;
    }
    if (previous.sa_handler == SIG_IGN || previous.sa_handler == SIG_DFL) {
        sigaction(SIGSEGV, &previous, NULL);
        return;
    }
    previous.sa_handler(sig);
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    handler_rc = sigaction(SIGSEGV, &sa, &previous) < 0 ? -errno : 0;
}

int cio__overflow_guard_open(cio_loop *l)
{
    pthread_once(&handler_once, install_handler);
    if (handler_rc < 0)
        return handler_rc;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return 0; /* the thread already has one (a sanitizer's, or the program's): use it */
    size_t size = 64 * 1024;
    void *mem = cio__malloc(size);
    if (!mem)
        return -ENOMEM;
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) < 0) {
        int err = -errno;
        cio__free(mem);
        return err;
    }
    l->altstack = mem;
    return 0;
}

void cio__overflow_guard_close(cio_loop *l)
{
    if (!l->altstack)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    cio__free(l->altstack);
    l->altstack = NULL;
}
