/* cfuture.c: calling into a loop from plain threads: asyncio's run_coroutine_threadsafe and future.result(). */
#include "core/runtime.h"

#include <string.h>
#include <time.h>

struct cio_cfuture {
    struct cio__remote start; /* first: posted to the loop to spawn the task */
    struct cio__remote cancel;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status;
    /* The caller's handle, the task until it ends, and a posted cancel until it has run. */
    atomic_int refs;
    atomic_bool cancel_posted;
    atomic_bool cancel_requested;
    cio_loop *loop;
    cio_fn fn;
    void *arg;
    /* The running task; touched on the loop's thread only. */
    struct cio_task *task;
};

static void unref(cio_cfuture *cf)
{
    if (atomic_fetch_sub(&cf->refs, 1) == 1) {
        pthread_cond_destroy(&cf->cv);
        pthread_mutex_destroy(&cf->mu);
        cio__free(cf);
    }
}

static void finish(cio_cfuture *cf, int status)
{
    pthread_mutex_lock(&cf->mu);
    cf->done = true;
    cf->status = status;
    pthread_cond_broadcast(&cf->cv);
    pthread_mutex_unlock(&cf->mu);
}

static int body(void *arg)
{
    cio_cfuture *cf = arg;
    int status = cf->fn(cf->arg);
    cio_loop *l = cf->loop;
    cf->task = NULL;
    finish(cf, status);
    unref(cf);
    cio_loop_unref(l);
    return status;
}

static void start(struct cio__remote *r)
{
    cio_cfuture *cf = (cio_cfuture *)r;
    cio_task *t;
    int rc = cio_spawn(&t, body, cf, &(cio_spawn_opts){.name = "threadsafe"});
    if (rc < 0) {
        cio_loop *l = cf->loop;
        finish(cf, rc);
        unref(cf);
        cio_loop_unref(l);
        return;
    }
    cio_detach(t);
    cf->task = t;
    if (atomic_load(&cf->cancel_requested))
        cio_cancel(t, "cancelled from another thread");
}

static void cancel(struct cio__remote *r)
{
    cio_cfuture *cf = cio__container_of(r, cio_cfuture, cancel);
    if (cf->task)
        cio_cancel(cf->task, "cancelled from another thread");
    unref(cf);
}

int cio_run_coroutine_threadsafe(cio_cfuture **out, cio_loop *loop, cio_fn fn, void *arg)
{
    if (!out || !loop || !fn || loop->magic != CIO__LOOP_MAGIC)
        return -EINVAL;
    if (cio__tls_loop == loop)
        return -EDEADLK;
    cio_cfuture *cf = cio__calloc(1, sizeof *cf);
    if (!cf)
        return -ENOMEM;
    pthread_mutex_init(&cf->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cf->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&cf->refs, 2);
    cf->loop = loop;
    cf->fn = fn;
    cf->arg = arg;
    cf->start.fn = start;
    cf->cancel.fn = cancel;
    cio_loop_ref(loop);
    cio__loop_post(loop, &cf->start);
    *out = cf;
    return 0;
}

int cio_cfuture_result(cio_cfuture *cf, int64_t timeout)
{
    if (!cf || (timeout < 0 && timeout != CIO_INFINITE))
        return -EINVAL;
    if (cio__tls_loop == cf->loop && !cf->done)
        return -EDEADLK;
    struct timespec until;
    if (timeout != CIO_INFINITE) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + timeout % 1000000000;
        until.tv_sec += timeout / 1000000000 + ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
    }
    pthread_mutex_lock(&cf->mu);
    int rc = 0;
    while (!cf->done && rc == 0)
        rc = timeout == CIO_INFINITE ? pthread_cond_wait(&cf->cv, &cf->mu)
                                     : pthread_cond_timedwait(&cf->cv, &cf->mu, &until);
    int status = cf->done ? cf->status : -ETIMEDOUT;
    pthread_mutex_unlock(&cf->mu);
    return status;
}

int cio_cfuture_cancel(cio_cfuture *cf)
{
    if (!cf)
        return -EINVAL;
    /* Posted under the lock: the task cannot finish, and so drop its loop reference, until the post is in. */
    pthread_mutex_lock(&cf->mu);
    bool done = cf->done;
    if (!done) {
        atomic_store(&cf->cancel_requested, true);
        if (!atomic_exchange(&cf->cancel_posted, true)) {
            atomic_fetch_add(&cf->refs, 1);
            cio__loop_post(cf->loop, &cf->cancel);
        }
    }
    pthread_mutex_unlock(&cf->mu);
    return done ? -EALREADY : 0;
}

void cio_cfuture_close(cio_cfuture *cf)
{
    if (cf)
        unref(cf);
}
