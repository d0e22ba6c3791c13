/* scope.c: cancellation scopes: a task's own cancel, timeouts and deadlines, shields, and their delivery. */
#include "core/runtime.h"

#include <string.h>

void cio__scope_push(struct cio_task *t, struct cio__scope *s, uint8_t kind)
{
    memset(s, 0, sizeof *s);
    s->magic = CIO__SCOPE_MAGIC;
    s->kind = kind;
    s->owner = t;
    s->parent = t->inner;
    cio__list_init(&s->children);
    cio__list_insert_tail(&t->inner->children, &s->sibling);
    t->inner = s;
}

void cio__scope_pop(struct cio_task *t, struct cio__scope *s)
{
    CIO_ASSERT(t->inner == s);
    cio__timer_disarm(t->loop, &s->deadline);
    cio__list_remove(&s->sibling);
    t->inner = s->parent;
    s->magic = CIO__DEAD_MAGIC;
}

int cio__scope_check_slow(struct cio_task *t)
{
    for (struct cio__scope *s = t->inner; s; s = s->parent) {
        if (CIO_UNLIKELY(s->cancelled)) {
            s->caught = true;
            return s->err;
        }
        if (s->kind == CIO__SCOPE_SHIELD)
            break;
    }
    return 0;
}

/*
 * Wake every task whose innermost scope lies in the subtree of `s`, stopping at shields: a task's innermost
 * scope is where it waits, and its own chain decides the error. The tree is shallow (scopes nest within a task,
 * and groups hang their children's roots under theirs), so recursion depth is the nesting depth.
 */
static void deliver(struct cio__scope *s)
{
    if (s->owner->inner == s)
        cio__wake_if_cancelled(s->owner);
    for (struct cio__list *n = s->children.next; n != &s->children;) {
        struct cio__scope *c = cio__container_of(n, struct cio__scope, sibling);
        n = n->next; /* waking can unlink nothing here, but stay safe against it */
        if (c->kind != CIO__SCOPE_SHIELD)
            deliver(c);
    }
}

void cio__scope_cancel(struct cio__scope *s, int err)
{
    if (!s->cancelled) {
        s->cancelled = true;
        s->err = (int16_t)err;
    }
    deliver(s);
}

static void deadline_fire(struct cio__timer *tm)
{
    cio__scope_cancel(cio__container_of(tm, struct cio__scope, deadline), -ETIMEDOUT);
}

static int begin(cio_scope *user, uint8_t kind, int64_t deadline)
{
    if (!user)
        return -EINVAL;
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    struct cio_task *t = l->current;
    if (!t)
        return CIO_ENOTASK;
    struct cio__scope *s = (struct cio__scope *)user;
    for (struct cio__scope *in = t->inner; in; in = in->parent)
        if (in == s)
            return -EBUSY; /* begun twice: linking it again would make a cycle */
    cio__scope_push(t, s, kind);
    if (deadline == INT64_MAX)
        return 0;
    if (deadline <= l->now) {
        s->cancelled = true;
        s->err = -ETIMEDOUT;
        return 0;
    }
    s->deadline.fire = deadline_fire;
    int rc = cio__timer_arm(l, &s->deadline, deadline);
    if (rc < 0)
        cio__scope_pop(t, s);
    return rc;
}

static int64_t deadline_after(int64_t timeout)
{
    int64_t now = cio_now();
    return timeout > INT64_MAX - now ? INT64_MAX : now + timeout;
}

int cio_timeout_begin(cio_scope *s, int64_t timeout)
{
    if (timeout < 0 && timeout != CIO_INFINITE)
        return -EINVAL;
    return begin(s, CIO__SCOPE_TIMEOUT, timeout == CIO_INFINITE ? INT64_MAX : deadline_after(timeout));
}

int cio_deadline_begin(cio_scope *s, int64_t deadline)
{
    return begin(s, CIO__SCOPE_TIMEOUT, deadline);
}

int cio_shield_begin(cio_scope *s, int64_t timeout)
{
    if (timeout < 0 && timeout != CIO_INFINITE)
        return -EINVAL;
    return begin(s, CIO__SCOPE_SHIELD, timeout == CIO_INFINITE ? INT64_MAX : deadline_after(timeout));
}

int cio_scope_cancel(cio_scope *user)
{
    struct cio__scope *s = (struct cio__scope *)user;
    if (!s)
        return -EINVAL;
    if (s->magic != CIO__SCOPE_MAGIC)
        return CIO_EBADHANDLE;
    cio__scope_cancel(s, -ECANCELED);
    return 0;
}

bool cio_scope_expired(const cio_scope *user)
{
    const struct cio__scope *s = (const struct cio__scope *)user;
    return s && s->magic == CIO__SCOPE_MAGIC && s->cancelled;
}

int cio_scope_end(cio_scope *user)
{
    struct cio__scope *s = (struct cio__scope *)user;
    if (!s)
        return -EINVAL;
    if (s->magic != CIO__SCOPE_MAGIC || s->kind == CIO__SCOPE_ROOT || s->kind == CIO__SCOPE_GROUP)
        return CIO_EBADHANDLE;
    struct cio_task *t = cio__current();
    if (!t || s->owner != t || t->inner != s)
        return CIO_ESCOPEORDER;
    int rc = s->caught ? s->err : 0;
    cio__scope_pop(t, s);
    return rc;
}
