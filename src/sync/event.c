/* event.c: asyncio.Event: a flag whose setting wakes every waiter. */
#include "sync/primitives.h"

struct event_impl {
    uint32_t magic;
    /* Tasks inside cio_event_wait, woken or not. */
    uint32_t busy;
    bool set;
    struct cio__waitq waiters;
};

CIO__FITS(struct event_impl, cio_event);
CIO__HEADED(struct event_impl);

static struct event_impl *event_live(const cio_event *e)
{
    struct event_impl *v = (struct event_impl *)e;
    return v && v->magic == CIO__EVENT_MAGIC ? v : NULL;
}

int cio_event_init(cio_event *e)
{
    if (!e)
        return -EINVAL;
    struct event_impl *v = (struct event_impl *)e;
    *v = (struct event_impl){.magic = CIO__EVENT_MAGIC};
    cio__waitq_init(&v->waiters);
    return 0;
}

int cio_event_fini(cio_event *e)
{
    return cio__sync_fini(e, CIO__EVENT_MAGIC);
}

int cio_event_set(cio_event *e)
{
    if (!e)
        return -EINVAL;
    struct event_impl *v = event_live(e);
    if (!v)
        return CIO_EBADHANDLE;
    v->set = true;
    cio__waitq_wake_all(&v->waiters, 0);
    return 0;
}

int cio_event_clear(cio_event *e)
{
    if (!e)
        return -EINVAL;
    struct event_impl *v = event_live(e);
    if (!v)
        return CIO_EBADHANDLE;
    v->set = false;
    return 0;
}

bool cio_event_is_set(const cio_event *e)
{
    struct event_impl *v = event_live(e);
    return v && v->set;
}

int cio_event_wait(cio_event *e)
{
    if (!e)
        return -EINVAL;
    struct event_impl *v = event_live(e);
    if (!v)
        return CIO_EBADHANDLE;
    if (v->set)
        return 0;
    /* A waiter woken by set returns 0 even if the flag was cleared before it ran, as in asyncio: the set
       happened while it waited. */
    struct cio__wq_entry w;
    v->busy++;
    int rc = cio__waitq_wait(&v->waiters, &w);
    v->busy--;
    return rc;
}
