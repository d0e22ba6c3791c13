/* remote.c: entering a loop from other threads: posted callbacks, the eventfd wake-up, loop references. */
#include "core/runtime.h"

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * Posting appends to a mutex-protected list and writes the eventfd only when the loop has not been signalled
 * since it last drained, so a burst of posts costs one write and one wake-up. A lock-free queue would save the
 * mutex, but posts are rare next to the work they carry (a pool call, a completion), and a mutex keeps
 * ThreadSanitizer's view exact.
 */

static void remote_ready(struct cio__io_watch *w, uint32_t revents)
{
    (void)revents;
    cio_loop *l = cio__container_of(w, cio_loop, remote_watch);
    cio__remote_drain(l);
}

int cio__remote_open(cio_loop *l)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    pthread_mutex_init(&l->remote_mu, NULL);
    l->remote_head = NULL;
    l->remote_tail = &l->remote_head;
    atomic_store(&l->remote_signalled, 0);
    l->remote_watch = (struct cio__io_watch){.fd = fd, .events = CIO__IO_READ, .ready = remote_ready};
    int rc = l->backend.ops->watch(&l->backend, &l->remote_watch);
    if (rc < 0) {
        close(fd);
        pthread_mutex_destroy(&l->remote_mu);
        return rc;
    }
    l->internal_watches++;
    return 0;
}

void cio__remote_close(cio_loop *l)
{
    l->backend.ops->unwatch(&l->backend, &l->remote_watch);
    l->internal_watches--;
    close(l->remote_watch.fd);
    pthread_mutex_destroy(&l->remote_mu);
}

/* Write the eventfd unless the loop was told already since it last drained; called with remote_mu held. */
static void signal_locked(cio_loop *l)
{
    if (atomic_load_explicit(&l->remote_signalled, memory_order_relaxed) == 0) {
        atomic_store_explicit(&l->remote_signalled, 1, memory_order_relaxed);
        uint64_t one = 1;
        ssize_t n = write(l->remote_watch.fd, &one, sizeof one);
        (void)n; /* EAGAIN means the counter is already non-zero: the loop wakes anyway */
    }
}

/*
 * Everything a posting thread does to the loop happens under remote_mu, and the loop takes remote_mu before it
 * frees itself: once a poster has unlocked, the loop may drain, finish and close without the poster touching
 * freed memory afterwards.
 */
void cio__loop_post(cio_loop *l, struct cio__remote *r)
{
    r->next = NULL;
    pthread_mutex_lock(&l->remote_mu);
    *l->remote_tail = r;
    l->remote_tail = &r->next;
    signal_locked(l);
    pthread_mutex_unlock(&l->remote_mu);
}

bool cio__remote_pending(cio_loop *l)
{
    pthread_mutex_lock(&l->remote_mu);
    bool pending = l->remote_head != NULL;
    pthread_mutex_unlock(&l->remote_mu);
    return pending;
}

size_t cio__remote_drain(cio_loop *l)
{
    /* Empty the eventfd, then, under the lock, clear the flag and take the list: a post after that writes the
       eventfd again, a post before it is in this batch. */
    uint64_t v;
    while (read(l->remote_watch.fd, &v, sizeof v) > 0)
        ;
    pthread_mutex_lock(&l->remote_mu);
    atomic_store_explicit(&l->remote_signalled, 0, memory_order_relaxed);
    struct cio__remote *r = l->remote_head;
    l->remote_head = NULL;
    l->remote_tail = &l->remote_head;
    pthread_mutex_unlock(&l->remote_mu);
    size_t n = 0;
    while (r) {
        struct cio__remote *next = r->next;
        r->fn(r);
        r = next;
        n++;
    }
    return n;
}

void cio__remote_quiesce(cio_loop *l)
{
    /* A thread still inside cio__loop_post or cio_loop_unref holds the lock until it is done with the loop. */
    pthread_mutex_lock(&l->remote_mu);
    pthread_mutex_unlock(&l->remote_mu);
}

void cio_loop_ref(cio_loop *l)
{
    if (l)
        atomic_fetch_add(&l->external, 1);
}

void cio_loop_unref(cio_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->remote_mu);
    /* The last reference is gone: wake the loop so that it can notice it has nothing left to wait for. */
    if (atomic_fetch_sub(&l->external, 1) == 1)
        signal_locked(l);
    pthread_mutex_unlock(&l->remote_mu);
}

struct threadsafe_call {
    struct cio__remote r;
    cio_callback cb;
    void *arg;
};

static void run_threadsafe(struct cio__remote *r)
{
    struct threadsafe_call *c = (struct threadsafe_call *)r;
    cio_callback cb = c->cb;
    void *arg = c->arg;
    cio__free(c);
    cb(arg);
}

int cio_call_soon_threadsafe(cio_loop *l, cio_callback cb, void *arg)
{
    if (!l || !cb || l->magic != CIO__LOOP_MAGIC)
        return -EINVAL;
    struct threadsafe_call *c = cio__malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->r.fn = run_threadsafe;
    c->cb = cb;
    c->arg = arg;
    cio__loop_post(l, &c->r);
    return 0;
}
