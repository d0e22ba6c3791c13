/* waitq.c: FIFO queues of parked tasks, for the synchronisation primitives. */
#include "core/waitq.h"

#include "core/runtime.h"

void cio__waitq_init(struct cio__waitq *q)
{
    cio__list_init(&q->waiters);
}

static void entry_unlink(struct cio_task *t)
{
    cio__list_remove(&((struct cio__wq_entry *)t->wait_obj)->link);
}

int cio__waitq_wait(struct cio__waitq *q, struct cio__wq_entry *e)
{
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    e->task = t;
    e->data = NULL;
    e->result = 0;
    cio__list_insert_tail(&q->waiters, &e->link);
    return cio__park(t, entry_unlink, e);
}

void cio__waitq_wake_entry(struct cio__wq_entry *e, int result, void *data)
{
    cio__list_remove(&e->link);
    e->result = result;
    e->data = data;
    cio__unpark(e->task, 0);
}

bool cio__waitq_wake_one(struct cio__waitq *q, int result, void *data)
{
    struct cio__wq_entry *e = cio__waitq_first(q);
    if (!e)
        return false;
    cio__waitq_wake_entry(e, result, data);
    return true;
}

size_t cio__waitq_wake_all(struct cio__waitq *q, int result)
{
    size_t n = 0;
    while (cio__waitq_wake_one(q, result, NULL))
        n++;
    return n;
}
