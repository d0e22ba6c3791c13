/* future.c: futures: a status and a result pointer that any number of tasks can wait for. */
#include "core/runtime.h"

struct done_cb {
    struct done_cb *next;
    void (*cb)(cio_future *f, void *arg);
    void *arg;
};

struct cio_future {
    uint32_t magic;
    bool done;
    bool closed;
    /* The callback runnable sits in the ready queue. */
    bool cbs_queued;
    int status;
    /* The caller's reference, one while the callbacks are queued, one per completion posted from a thread. */
    atomic_int refs;
    void *result;
    cio_loop *loop;
    struct cio__list waiters;
    struct done_cb *cbs, **cbs_tail;
    struct cio__runnable run;
};

int cio_future_open(cio_future **out)
{
    if (!out)
        return -EINVAL;
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    cio_future *f = cio__calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->magic = CIO__FUT_MAGIC;
    atomic_init(&f->refs, 1);
    f->loop = l;
    f->status = -EAGAIN;
    f->run.kind = CIO__RUN_FUTURE_CBS;
    cio__list_init(&f->waiters);
    f->cbs_tail = &f->cbs;
    *out = f;
    return 0;
}

static bool live(const cio_future *f)
{
    return f && f->magic == CIO__FUT_MAGIC && !f->closed;
}

static void unref(cio_future *f)
{
    if (atomic_fetch_sub(&f->refs, 1) == 1) {
        struct done_cb *c = f->cbs;
        while (c) {
            struct done_cb *next = c->next;
            cio__free(c);
            c = next;
        }
        f->magic = CIO__DEAD_MAGIC;
        cio__free(f);
    }
}

static void queue_callbacks(cio_future *f)
{
    if (f->cbs && !f->cbs_queued) {
        f->cbs_queued = true;
        atomic_fetch_add(&f->refs, 1);
        cio__ready_push(f->loop, &f->run);
    }
}

void cio__future_run_callbacks(struct cio__runnable *r)
{
    cio_future *f = cio__container_of(r, cio_future, run);
    f->cbs_queued = false;
    while (f->cbs && !f->closed) {
        struct done_cb *c = f->cbs;
        f->cbs = c->next;
        if (!f->cbs)
            f->cbs_tail = &f->cbs;
        c->cb(f, c->arg);
        cio__free(c);
    }
    unref(f);
}

static int complete(cio_future *f, int status, void *result);

/* A completion made on another thread, carried to the future's loop. */
struct posted {
    struct cio__remote r;
    cio_future *f;
    int status;
    void *result;
};

static void posted_arrive(struct cio__remote *r)
{
    struct posted *p = (struct posted *)r;
    if (!p->f->closed)
        complete(p->f, p->status, p->result); /* a second completion is ignored (-EALREADY) */
    unref(p->f);
    cio__free(p);
}

static int post(cio_future *f, int status, void *result)
{
    struct posted *p = cio__malloc(sizeof *p);
    if (!p)
        return -ENOMEM;
    p->r.fn = posted_arrive;
    p->f = f;
    p->status = status;
    p->result = result;
    atomic_fetch_add(&f->refs, 1);
    cio__loop_post(f->loop, &p->r);
    return 0;
}

static int complete(cio_future *f, int status, void *result)
{
    if (!f || f->magic != CIO__FUT_MAGIC)
        return f ? CIO_EBADHANDLE : -EINVAL;
    if (cio__tls_loop != f->loop)
        return post(f, status, result);
    if (f->closed)
        return CIO_EBADHANDLE;
    if (f->done)
        return -EALREADY;
    f->done = true;
    f->status = status;
    f->result = result;
    struct cio__list *n;
    while ((n = cio__list_pop_head(&f->waiters))) {
        struct cio__waiter *w = cio__container_of(n, struct cio__waiter, link);
        w->notify(w);
    }
    queue_callbacks(f);
    return 0;
}

int cio_future_set_result(cio_future *f, void *result)
{
    return complete(f, 0, result);
}

int cio_future_set_error(cio_future *f, int err)
{
    if (err >= 0)
        return -EINVAL;
    return complete(f, err, NULL);
}

int cio_future_cancel(cio_future *f)
{
    return complete(f, -ECANCELED, NULL);
}

/* A waiter keeps its own copy of the outcome: once woken it must not touch the future, which its owner may
   close before the waiter gets to run. */
struct fwaiter {
    struct cio__waiter w;
    cio_future *f;
    int status;
    void *result;
};

static void wake(struct cio__waiter *w)
{
    struct fwaiter *fw = (struct fwaiter *)w;
    struct cio_task *t = w->data;
    fw->status = fw->f->status;
    fw->result = fw->f->result;
    if (t->state == CIO__T_WAITING && t->wait_obj == w)
        cio__unpark(t, 0);
}

static void unlink_waiter(struct cio_task *t)
{
    cio__list_remove(&((struct cio__waiter *)t->wait_obj)->link);
}

int cio_future_await(cio_future *f, void **result)
{
    if (!live(f))
        return f ? CIO_EBADHANDLE : -EINVAL;
    if (!f->done) {
        struct cio_task *t;
        int rc = cio__enter_wait(&t);
        if (rc < 0)
            return rc;
        struct fwaiter fw = {.w = {.notify = wake, .data = t}, .f = f};
        cio__list_insert_tail(&f->waiters, &fw.w.link);
        rc = cio__park(t, unlink_waiter, &fw.w);
        if (rc < 0)
            return rc;
        if (fw.status == 0 && result)
            *result = fw.result;
        return fw.status;
    }
    if (f->status == 0 && result)
        *result = f->result;
    return f->status;
}

bool cio_future_done(const cio_future *f)
{
    return live(f) && f->done;
}

int cio_future_status(const cio_future *f)
{
    if (!live(f))
        return f ? CIO_EBADHANDLE : -EINVAL;
    return f->done ? f->status : -EAGAIN;
}

int cio_future_add_done_callback(cio_future *f, void (*cb)(cio_future *f, void *arg), void *arg)
{
    if (!live(f) || !cb)
        return f && cb ? CIO_EBADHANDLE : -EINVAL;
    struct done_cb *c = cio__malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->next = NULL;
    c->cb = cb;
    c->arg = arg;
    *f->cbs_tail = c;
    f->cbs_tail = &c->next;
    if (f->done)
        queue_callbacks(f);
    return 0;
}

int cio_future_close(cio_future *f)
{
    if (!live(f))
        return f ? CIO_EBADHANDLE : -EINVAL;
    if (!cio__list_empty(&f->waiters))
        return -EBUSY;
    f->closed = true;
    unref(f);
    return 0;
}
