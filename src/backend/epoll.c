/* epoll.c: the epoll backend: readiness of file descriptors, waits with nanosecond timeouts. */
#include "backend/backend.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cio/error.h"

static int ep_open(struct cio__backend *b)
{
    b->fd = epoll_create1(EPOLL_CLOEXEC);
    b->nwatch = 0;
    return b->fd < 0 ? -errno : 0;
}

static void ep_close(struct cio__backend *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
}

/* Cleared when the kernel (or Valgrind) lacks epoll_pwait2, so the fallback is taken without asking again. */
static int have_pwait2 = 1;

static int ep_poll(struct cio__backend *b, int64_t timeout_ns)
{
    struct epoll_event ev[64];
    int n;
    if (timeout_ns < 0) {
        n = epoll_wait(b->fd, ev, 64, -1);
    } else {
        /* epoll_pwait2 keeps sub-millisecond timers exact; epoll_wait would round them up to whole ms. */
        n = -1;
        errno = ENOSYS;
        if (have_pwait2) {
            struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
            n = epoll_pwait2(b->fd, ev, 64, &ts, NULL);
        }
        if (n < 0 && errno == ENOSYS) {
            have_pwait2 = 0;
            int64_t ms = (timeout_ns + 999999) / 1000000;
            n = epoll_wait(b->fd, ev, 64, ms > INT32_MAX ? INT32_MAX : (int)ms);
        }
    }
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        struct cio__io_watch *w = ev[i].data.ptr;
        uint32_t bits = 0;
        if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
            bits |= CIO__IO_READ;
        if (ev[i].events & EPOLLOUT)
            bits |= CIO__IO_WRITE;
        if (ev[i].events & (EPOLLERR | EPOLLHUP))
            bits |= CIO__IO_ERROR | CIO__IO_READ | CIO__IO_WRITE;
        if (ev[i].events & (EPOLLRDHUP | EPOLLHUP))
            bits |= CIO__IO_HUP;
        w->ready(w, bits);
    }
    return n;
}

static int ep_watch(struct cio__backend *b, struct cio__io_watch *w)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.data.ptr = w;
    if (w->events & CIO__IO_READ)
        ev.events |= EPOLLIN | EPOLLRDHUP;
    if (w->events & CIO__IO_WRITE)
        ev.events |= EPOLLOUT;
    if (w->events & CIO__IO_EDGE)
        ev.events |= EPOLLET;
    if (epoll_ctl(b->fd, w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, &ev) < 0)
        return -errno;
    if (!w->registered)
        b->nwatch++;
    w->registered = 1;
    return 0;
}

static int ep_unwatch(struct cio__backend *b, struct cio__io_watch *w)
{
    if (!w->registered)
        return 0;
    w->registered = 0;
    b->nwatch--;
    if (epoll_ctl(b->fd, EPOLL_CTL_DEL, w->fd, NULL) < 0)
        return -errno;
    return 0;
}

const struct cio__backend_ops cio__backend_epoll = {
    .name = "epoll",
    .open = ep_open,
    .close = ep_close,
    .poll = ep_poll,
    .watch = ep_watch,
    .unwatch = ep_unwatch,
};

const struct cio__backend_ops *cio__backend_find(const char *name)
{
    if (!name || !*name || strcmp(name, "epoll") == 0)
        return &cio__backend_epoll;
    return NULL;
}
