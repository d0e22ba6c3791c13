/* queue.c: asyncio.Queue, LifoQueue and PriorityQueue of `void *` items, bounded or not, with join and shutdown. */
#include <string.h>

#include "sync/primitives.h"

struct slot {
    void *item;
    /* Order of acceptance: breaks ties between equal priorities, so equal items leave in the order put. */
    uint64_t seq;
    int prio;
};

struct cio_queue {
    uint32_t magic;
    /* Tasks inside put, get or join, woken or not: close refuses while any is. */
    uint32_t busy;
    int order;
    bool shutdown;
    size_t maxsize;
    /* FIFO: a ring of `cap` slots starting at `head`. LIFO: a stack in v[0 .. n). PRIORITY: a binary heap. */
    struct slot *v;
    size_t cap, head, n;
    uint64_t seq;
    /* Items put and not yet marked done (join waits for 0). */
    size_t unfinished;
    int (*cmp)(const void *a, const void *b, void *arg);
    void *cmp_arg;
    void (*drop)(void *item, void *arg);
    void *drop_arg;
    /* Getters wait only while the queue is empty, putters only while it is full, so at most one of the two
       queues is non-empty; a slot or an item that appears goes straight to the first waiter. */
    struct cio__waitq getters, putters, joiners;
};

/* A putter waiting for room: a get takes its item into the queue before waking it. */
struct putter {
    struct cio__wq_entry e;
    void *item;
    int prio;
};

static bool queue_live(const cio_queue *q)
{
    return q && q->magic == CIO__QUEUE_MAGIC;
}

int cio_queue_open(cio_queue **out, const cio_queue_opts *opts)
{
    static const cio_queue_opts defaults = {0};
    if (!out)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    if (opts->order < CIO_QUEUE_FIFO || opts->order > CIO_QUEUE_PRIORITY)
        return -EINVAL;
    if (opts->cmp && opts->order != CIO_QUEUE_PRIORITY)
        return -EINVAL;
    cio_queue *q = cio__calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->magic = CIO__QUEUE_MAGIC;
    q->order = opts->order;
    q->maxsize = opts->maxsize;
    q->cmp = opts->cmp;
    q->cmp_arg = opts->cmp_arg;
    q->drop = opts->drop;
    q->drop_arg = opts->drop_arg;
    cio__waitq_init(&q->getters);
    cio__waitq_init(&q->putters);
    cio__waitq_init(&q->joiners);
    *out = q;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ storage */

/* Whether slot a leaves a priority queue before slot b. */
static bool before(const cio_queue *q, const struct slot *a, const struct slot *b)
{
    int c = q->cmp ? q->cmp(a->item, b->item, q->cmp_arg) : (a->prio > b->prio) - (a->prio < b->prio);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

/* Room for one more slot. Grows by doubling (capped at maxsize), unwrapping the FIFO ring. */
static int reserve(cio_queue *q)
{
    if (q->n < q->cap)
        return 0;
    size_t cap = q->cap ? q->cap * 2 : 8;
    if (q->maxsize && cap > q->maxsize)
        cap = q->maxsize;
    if (cap <= q->n || cap > SIZE_MAX / sizeof(struct slot))
        return -ENOMEM;
    struct slot *v = cio__malloc(cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < q->n; i++)
        v[i] = q->v[(q->head + i) % q->cap];
    cio__free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
    return 0;
}

static void sift_up(cio_queue *q, size_t i)
{
    struct slot s = q->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(q, &s, &q->v[p]))
            break;
        q->v[i] = q->v[p];
        i = p;
    }
    q->v[i] = s;
}

static void sift_down(cio_queue *q, size_t i)
{
    struct slot s = q->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && before(q, &q->v[c + 1], &q->v[c]))
            c++;
        if (!before(q, &q->v[c], &s))
            break;
        q->v[i] = q->v[c];
        i = c;
    }
    q->v[i] = s;
}

/* Store an item (room reserved) and count it as unfinished. */
static void push(cio_queue *q, void *item, int prio)
{
    CIO_ASSERT(q->n < q->cap);
    struct slot s = {.item = item, .seq = q->seq++, .prio = prio};
    switch (q->order) {
    case CIO_QUEUE_FIFO: {
        /* A compare, not `%`: the division was the largest single cost of a hand-off. */
        size_t at = q->head + q->n++;
        q->v[at >= q->cap ? at - q->cap : at] = s;
        break;
    }
    case CIO_QUEUE_LIFO:
        q->v[q->n++] = s;
        break;
    default:
        q->v[q->n++] = s;
        sift_up(q, q->n - 1);
        break;
    }
    q->unfinished++;
}

static void *pop(cio_queue *q)
{
    CIO_ASSERT(q->n > 0);
    void *item;
    switch (q->order) {
    case CIO_QUEUE_FIFO:
        item = q->v[q->head].item;
        if (++q->head == q->cap)
            q->head = 0;
        q->n--;
        break;
    case CIO_QUEUE_LIFO:
        item = q->v[--q->n].item;
        break;
    default:
        item = q->v[0].item;
        q->v[0] = q->v[--q->n];
        if (q->n)
            sift_down(q, 0);
        break;
    }
    return item;
}

static bool is_full(const cio_queue *q)
{
    return q->maxsize && q->n >= q->maxsize;
}

/* Discard every item left (close, immediate shutdown); each counts as done. */
static void drop_all(cio_queue *q)
{
    while (q->n) {
        void *item = pop(q);
        if (q->unfinished)
            q->unfinished--;
        if (q->drop)
            q->drop(item, q->drop_arg);
    }
}

int cio_queue_close(cio_queue *q)
{
    if (!q)
        return 0;
    if (!queue_live(q))
        return CIO_EBADHANDLE;
    if (q->busy)
        return -EBUSY;
    drop_all(q);
    cio__free(q->v);
    q->magic = CIO__SYNC_DEAD;
    cio__free(q);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ put and get */

static int put(cio_queue *q, void *item, int prio, bool wait)
{
    if (!queue_live(q))
        return q ? CIO_EBADHANDLE : -EINVAL;
    if (q->shutdown)
        return CIO_EQSHUTDOWN;
    struct cio__wq_entry *g = cio__waitq_first(&q->getters);
    if (g) {
        /* Getters wait only on an empty queue: the item goes straight to the first of them. */
        CIO_ASSERT(q->n == 0);
        q->unfinished++;
        cio__waitq_wake_entry(g, 0, item);
        return 0;
    }
    if (!is_full(q)) {
        int rc = reserve(q);
        if (rc < 0)
            return rc;
        push(q, item, prio);
        return 0;
    }
    if (!wait)
        return -EAGAIN;
    struct putter p = {.item = item, .prio = prio};
    q->busy++;
    int rc = cio__waitq_wait(&q->putters, &p.e);
    q->busy--;
    /* Woken: the get that freed a slot has stored our item (result 0), or a shutdown refused it. */
    return rc < 0 ? rc : p.e.result;
}

static int check_prio(const cio_queue *q)
{
    if (!queue_live(q))
        return q ? CIO_EBADHANDLE : -EINVAL;
    return q->order == CIO_QUEUE_PRIORITY && !q->cmp ? 0 : -EINVAL;
}

int cio_queue_put(cio_queue *q, void *item)
{
    return put(q, item, 0, true);
}

int cio_queue_try_put(cio_queue *q, void *item)
{
    return put(q, item, 0, false);
}

int cio_queue_put_prio(cio_queue *q, void *item, int prio)
{
    int rc = check_prio(q);
    return rc < 0 ? rc : put(q, item, prio, true);
}

int cio_queue_try_put_prio(cio_queue *q, void *item, int prio)
{
    int rc = check_prio(q);
    return rc < 0 ? rc : put(q, item, prio, false);
}

static int get(cio_queue *q, void **item, bool wait)
{
    if (!item)
        return -EINVAL;
    if (!queue_live(q))
        return q ? CIO_EBADHANDLE : -EINVAL;
    if (q->n) {
        *item = pop(q);
        struct cio__wq_entry *e = cio__waitq_first(&q->putters);
        if (e) {
            /* The slot just freed goes to the first putter: store its item, then wake it. */
            struct putter *p = cio__container_of(e, struct putter, e);
            push(q, p->item, p->prio);
            cio__waitq_wake_entry(e, 0, NULL);
        }
        return 0;
    }
    if (q->shutdown)
        return CIO_EQSHUTDOWN;
    if (!wait)
        return -EAGAIN;
    struct cio__wq_entry w;
    q->busy++;
    int rc = cio__waitq_wait(&q->getters, &w);
    q->busy--;
    if (rc < 0)
        return rc;
    if (w.result < 0)
        return w.result;
    *item = w.data;
    return 0;
}

int cio_queue_get(cio_queue *q, void **item)
{
    return get(q, item, true);
}

int cio_queue_try_get(cio_queue *q, void **item)
{
    return get(q, item, false);
}

/* ------------------------------------------------------------------------------------------------ state */

size_t cio_queue_qsize(const cio_queue *q)
{
    return queue_live(q) ? q->n : 0;
}

size_t cio_queue_maxsize(const cio_queue *q)
{
    return queue_live(q) ? q->maxsize : 0;
}

bool cio_queue_empty(const cio_queue *q)
{
    return !queue_live(q) || q->n == 0;
}

bool cio_queue_full(const cio_queue *q)
{
    return queue_live(q) && is_full(q);
}

bool cio_queue_is_shutdown(const cio_queue *q)
{
    return queue_live(q) && q->shutdown;
}

/* ------------------------------------------------------------------------------------------------ join, shutdown */

int cio_queue_task_done(cio_queue *q)
{
    if (!queue_live(q))
        return q ? CIO_EBADHANDLE : -EINVAL;
    if (q->unfinished == 0)
        return CIO_ETOOMANYDONE;
    if (--q->unfinished == 0)
        cio__waitq_wake_all(&q->joiners, 0);
    return 0;
}

int cio_queue_join(cio_queue *q)
{
    if (!queue_live(q))
        return q ? CIO_EBADHANDLE : -EINVAL;
    if (q->unfinished == 0)
        return 0;
    struct cio__wq_entry w;
    q->busy++;
    int rc = cio__waitq_wait(&q->joiners, &w);
    q->busy--;
    return rc;
}

int cio_queue_shutdown(cio_queue *q, bool immediate)
{
    if (!queue_live(q))
        return q ? CIO_EBADHANDLE : -EINVAL;
    q->shutdown = true;
    if (immediate) {
        drop_all(q);
        if (q->unfinished == 0)
            cio__waitq_wake_all(&q->joiners, 0);
    }
    /* Waiting getters imply an empty queue, so each would get the error now anyway; putters keep their items. */
    cio__waitq_wake_all(&q->getters, CIO_EQSHUTDOWN);
    cio__waitq_wake_all(&q->putters, CIO_EQSHUTDOWN);
    return 0;
}
