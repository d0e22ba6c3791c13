/* group.c: task groups (asyncio.TaskGroup): children that the owner waits for, failing together. */
#include "core/runtime.h"

struct cio_group {
    uint32_t magic;
    struct cio_task *owner;
    /* The group's cancellation scope, in the owner's chain; the children's root scopes hang under it. */
    struct cio__scope scope;
    /* Children not yet released: the running ones and those whose handle the caller kept. */
    struct cio__list children;
    size_t running;
    int first_err;
    /* The owner is parked in close, waiting for the last child. */
    bool closing;
};

int cio_group_open(cio_group **out)
{
    if (!out)
        return -EINVAL;
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    struct cio_task *t = l->current;
    if (!t)
        return CIO_ENOTASK;
    cio_group *g = cio__calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->magic = CIO__GROUP_MAGIC;
    g->owner = t;
    cio__list_init(&g->children);
    cio__scope_push(t, &g->scope, CIO__SCOPE_GROUP);
    *out = g;
    return 0;
}

int cio_group_spawn_at(cio_group *g, cio_task **out, cio_fn fn, void *arg, const cio_spawn_opts *opts, const char *file,
                       int line)
{
    if (!g)
        return -EINVAL;
    if (g->magic != CIO__GROUP_MAGIC)
        return CIO_EBADHANDLE;
    /* Any task of the group's loop may spawn into it while it is open, closing included (asyncio's
       tg.create_task from a child: a crawler's pages spawning pages); close waits for those too. */
    struct cio_task *cur = cio__current();
    if (!cur)
        return CIO_ENOTASK;
    if (cur->loop != g->owner->loop)
        return CIO_ENOTOWNER;
    if (g->scope.cancelled)
        return -ECANCELED;
    cio_task *t;
    int rc = cio__spawn(&t, fn, arg, opts, file, line, g);
    if (rc < 0)
        return rc;
    t->group = g;
    t->handle = out ? CIO__H_GROUP_KEPT : CIO__H_GROUP;
    t->root.parent = &g->scope;
    cio__list_insert_tail(&g->scope.children, &t->root.sibling);
    cio__list_insert_tail(&g->children, &t->group_link);
    g->running++;
    if (out)
        *out = t;
    return 0;
}

void cio__group_child_done(struct cio_task *t)
{
    cio_group *g = t->group;
    g->running--;
    /* A child that was cancelled is not a failure (as in asyncio); anything else negative fails the group. */
    if (t->status < 0 && t->status != -ECANCELED && g->first_err == 0) {
        g->first_err = t->status;
        cio__scope_cancel(&g->scope, -ECANCELED);
    }
    if (t->handle == CIO__H_GROUP)
        t->loop->dead = t; /* released once the switch away from its stack is done */
    if (g->running == 0 && g->closing && g->owner->state == CIO__T_WAITING && g->owner->wait_obj == g)
        cio__unpark(g->owner, 0);
}

int cio_group_cancel(cio_group *g)
{
    if (!g)
        return -EINVAL;
    if (g->magic != CIO__GROUP_MAGIC)
        return CIO_EBADHANDLE;
    cio__scope_cancel(&g->scope, -ECANCELED);
    return 0;
}

/* The cancellation error of a scope above the group (up to a shield), marked as reported; 0 if none. */
static int outer_cancel(cio_group *g)
{
    for (struct cio__scope *s = g->scope.parent; s; s = s->parent) {
        if (s->cancelled) {
            s->caught = true;
            return s->err;
        }
        if (s->kind == CIO__SCOPE_SHIELD)
            break;
    }
    return 0;
}

int cio_group_close(cio_group *g)
{
    if (!g)
        return -EINVAL;
    if (g->magic != CIO__GROUP_MAGIC)
        return CIO_EBADHANDLE;
    struct cio_task *t = cio__current();
    if (g->owner != t)
        return CIO_ENOTOWNER;
    if (t->inner != &g->scope)
        return CIO_ESCOPEORDER;
    /* The owner's own cancellation (from outside the group) cancels the children; close still waits. */
    int outer = outer_cancel(g);
    if (outer)
        cio__scope_cancel(&g->scope, -ECANCELED);
    g->closing = true;
    while (g->running > 0)
        cio__park_nocancel(t, g);
    if (!outer)
        outer = outer_cancel(g); /* it may have come while close waited */
    struct cio__list *n;
    while ((n = cio__list_pop_head(&g->children))) {
        struct cio_task *c = cio__container_of(n, struct cio_task, group_link);
        cio__task_release(c);
    }
    cio__scope_pop(t, &g->scope);
    int rc = g->first_err ? g->first_err : outer;
    g->magic = CIO__DEAD_MAGIC;
    cio__free(g);
    return rc;
}

void cio__group_abandon(struct cio_task *t, struct cio__scope *s)
{
    cio_group *g = cio__container_of(s, cio_group, scope);
    (void)t;
    cio__scope_cancel(&g->scope, -ECANCELED);
    cio_group_close(g);
}
