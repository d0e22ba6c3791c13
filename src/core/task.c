/* task.c: spawning, finishing, joining, detaching and cancelling tasks; yield and sleep. */
#include "core/runtime.h"

#include <stdatomic.h>
#include <string.h>

#ifdef CIO_VALGRIND
#include <valgrind/memcheck.h>
#endif

static atomic_ullong next_id;

/* The task struct sits at the top of its slot, cache-line aligned, above the stack it runs on. */
static inline size_t task_room(void)
{
    return (sizeof(struct cio_task) + 63) & ~(size_t)63;
}

static int stack_slot_size(cio_loop *l, const cio_spawn_opts *opts, size_t *slot)
{
    size_t size = opts && opts->stack_size ? opts->stack_size : l->stack_size;
    if (size < CIO_STACK_MIN || size > CIO_STACK_MAX)
        return -EINVAL;
    size = (size + l->page - 1) & ~(l->page - 1);
    *slot = size + l->page; /* the guard page */
    return 0;
}

int cio__spawn(cio_task **out, cio_fn fn, void *arg, const cio_spawn_opts *opts, const char *file, int line,
               struct cio_group *g)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    if (!fn || (!out && !g))
        return -EINVAL;
    size_t slot_size;
    int rc = stack_slot_size(l, opts, &slot_size);
    if (rc < 0)
        return rc;
    bool guarded;
    char *base = cio__stack_get(&l->stacks, slot_size, &guarded);
    if (!base)
        return -ENOMEM;
    /* Successive tasks place their struct (and so their stack top) at different offsets within the page: two
       tasks switching back and forth would otherwise save and restore registers at addresses equal modulo 4 KiB,
       which the CPU treats as possibly the same (4K aliasing) and stalls on. Steps of one cache line are enough
       for that and keep the offset under 1 KiB, so a waiting task's frames still fit beside its struct in the top
       page (steps of three lines pushed a quarter of the echo server's idle handlers onto a second page). */
    size_t color = (size_t)(l->color++ & 15) * 64;
    struct cio_task *t = (struct cio_task *)(base + slot_size - task_room() - color);
#ifdef CIO_VALGRIND
    /* Valgrind marked the old frames on this reused stack dead as its stack pointer rose; the new task's struct
       and frames may sit where they were. */
    VALGRIND_MAKE_MEM_UNDEFINED(base + l->page, slot_size - l->page);
#endif
    memset(t, 0, sizeof *t);
    t->run.kind = CIO__RUN_TASK;
    t->magic = CIO__TASK_MAGIC;
    t->guarded = guarded;
    t->loop = l;
    t->id = atomic_fetch_add(&next_id, 1) + 1;
    t->fn = fn;
    t->arg = arg;
    t->slot_base = base;
    t->slot_size = slot_size;
    t->file = file ? file : "?";
    t->line = line;
    t->handle = CIO__H_OWNED;
    t->cvars = cio__cvmap_inherit(l);     /* asyncio's copy of the context: shared until either side sets a value */
    if (CIO_UNLIKELY(l->shutting_down)) { /* spawned by cleanup during cio_loop_shutdown: cancelled from birth */
        t->root.cancelled = true;
        t->root.err = -ECANCELED;
    }
    if (opts && opts->name) {
        size_t n = strnlen(opts->name, sizeof t->name - 1);
        memcpy(t->name, opts->name, n);
    }
    cio__list_init(&t->done_waiters);
    cio__list_init(&t->group_link);
    cio__list_init(&t->root.children);
    cio__list_init(&t->root.sibling);
    t->root.kind = CIO__SCOPE_ROOT;
    t->root.owner = t;
    t->root.magic = CIO__SCOPE_MAGIC;
    t->inner = &t->root;
    if (!guarded)
        cio__stack_canary_set(base, l->page);
    cio__task_ctx_make(t);
    cio__list_insert_tail(&l->tasks, &t->all);
    l->alive++;
    t->state = CIO__T_READY;
    cio__ready_push(l, &t->run);
    if (out)
        *out = t;
    return 0;
}

int cio_spawn_at(cio_task **out, cio_fn fn, void *arg, const cio_spawn_opts *opts, const char *file, int line)
{
    if (!out)
        return -EINVAL;
    return cio__spawn(out, fn, arg, opts, file, line, NULL);
}

_Noreturn void cio__task_finish(struct cio_task *t)
{
    cio_loop *l = t->loop;
    /* Scopes a body forgot to end: their deadlines must not fire into a stack that is about to be reused. */
    while (t->inner != &t->root) {
        struct cio__scope *s = t->inner;
        if (l->debug)
            cio__log(l, "cio: task %llu '%s' returned with a %s still open", (unsigned long long)t->id,
                     cio__task_name(t), s->kind == CIO__SCOPE_GROUP ? "task group" : "scope");
        if (s->kind == CIO__SCOPE_GROUP)
            cio__group_abandon(t, s); /* its children are cancelled and waited for; it pops the scope */
        else
            cio__scope_pop(t, s);
    }
    cio__list_remove(&t->root.sibling);
    if (CIO_UNLIKELY(t->cvars != NULL)) { /* nothing reads a finished task's context: its values go now */
        struct cio__cvmap *m = t->cvars;
        t->cvars = NULL;
        cio__cvmap_release(m);
    }
    t->state = CIO__T_DONE;
    l->alive--;
    struct cio__list *n;
    while ((n = cio__list_pop_head(&t->done_waiters))) {
        struct cio__waiter *w = cio__container_of(n, struct cio__waiter, link);
        w->notify(w);
    }
    if (t->group)
        cio__group_child_done(t);
    else if (t->handle == CIO__H_DETACHED) {
        if (l->debug && t->status < 0 && t->status != -ECANCELED)
            cio__log(l, "cio: detached task %llu '%s' (spawned at %s:%d) failed: %s", (unsigned long long)t->id,
                     cio__task_name(t), t->file, t->line, cio_err_name(t->status));
        l->dead = t;
    }
    cio__task_suspend(t, true);
    CIO_ASSERT(!"a finished task was resumed");
    abort();
}

void cio__task_release(struct cio_task *t)
{
    CIO_ASSERT(t->state == CIO__T_DONE);
    cio_loop *l = t->loop;
    cio__list_remove(&t->all);
    cio__list_remove(&t->group_link);
    cio__free(t->cancel_reason);
    t->cancel_reason = NULL;
    t->magic = CIO__DEAD_MAGIC;
    cio__task_ctx_release(t);
    cio__stack_put(&l->stacks, t->slot_base, t->slot_size, t->guarded);
}

static int check_task(const cio_task *t)
{
    if (!t)
        return -EINVAL;
    if (t->magic != CIO__TASK_MAGIC)
        return CIO_EBADHANDLE;
    if (t->loop != cio__tls_loop)
        return CIO_ENOTOWNER;
    return 0;
}

static void waiter_wake(struct cio__waiter *w)
{
    struct cio_task *waiting = w->data;
    if (waiting->state == CIO__T_WAITING && waiting->wait_obj == w)
        cio__unpark(waiting, 0);
}

static void waiter_unlink(struct cio_task *t)
{
    cio__list_remove(&((struct cio__waiter *)t->wait_obj)->link);
}

/* Wait until `t` is done; 0, or the caller's cancellation unless `nocancel`. */
static int wait_done(struct cio_task *cur, struct cio_task *t, bool nocancel)
{
    while (t->state != CIO__T_DONE) {
        struct cio__waiter w = {.notify = waiter_wake, .data = cur, .task = t};
        cio__list_insert_tail(&t->done_waiters, &w.link);
        int rc;
        if (nocancel) {
            rc = cio__park_nocancel(cur, &w);
        } else {
            rc = cio__park(cur, waiter_unlink, &w);
        }
        cio__list_remove(&w.link);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cio_join(cio_task *t)
{
    int rc = check_task(t);
    if (rc < 0)
        return rc;
    struct cio_task *cur = cio__current();
    if (!cur)
        return CIO_ENOTASK;
    if (t == cur)
        return -EDEADLK;
    if (t->handle != CIO__H_OWNED)
        return CIO_EBADHANDLE;
    t->handle = CIO__H_JOINING;
    if (t->state != CIO__T_DONE) {
        rc = cio__scope_check(cur);
        if (rc == 0)
            rc = wait_done(cur, t, false);
        if (rc < 0) {
            /* Like awaiting a task in asyncio: the joiner's cancellation cancels the child, whose cleanup runs
               to its end before join returns. */
            cio_cancel(t, NULL);
            wait_done(cur, t, true);
        }
    }
    rc = t->status;
    cio__task_release(t);
    return rc;
}

int cio_detach(cio_task *t)
{
    int rc = check_task(t);
    if (rc < 0)
        return rc;
    if (t->handle != CIO__H_OWNED)
        return CIO_EBADHANDLE;
    t->handle = CIO__H_DETACHED;
    if (t->state == CIO__T_DONE && t != cio__current())
        cio__task_release(t);
    return 0;
}

int cio_cancel(cio_task *t, const char *reason)
{
    int rc = check_task(t);
    if (rc < 0)
        return rc;
    if (t->state == CIO__T_DONE)
        return -EALREADY;
    if (reason) {
        /* The latest reason wins, as with repeated task.cancel(msg). Without memory the cancel still happens. */
        char *copy = cio__strdup(reason);
        if (copy) {
            cio__free(t->cancel_reason);
            t->cancel_reason = copy;
        }
    }
    cio__scope_cancel(&t->root, -ECANCELED);
    return 0;
}

int cio_yield(void)
{
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    t->state = CIO__T_READY;
    cio__ready_push(t->loop, &t->run);
    cio__task_suspend(t, false);
    return 0;
}

static void sleep_fire(struct cio__timer *tm)
{
    cio__unpark(cio__container_of(tm, struct cio_task, timer), 0);
}

static void sleep_unlink(struct cio_task *t)
{
    cio__timer_disarm(t->loop, &t->timer);
}

int cio_sleep_until(int64_t deadline)
{
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    t->timer.fire = sleep_fire;
    rc = cio__timer_arm(t->loop, &t->timer, deadline);
    if (rc < 0)
        return rc;
    return cio__park(t, sleep_unlink, NULL);
}

int cio_sleep(int64_t delay)
{
    if (delay < 0)
        return -EINVAL;
    if (delay == 0)
        return cio_yield(); /* asyncio.sleep(0): one turn of the loop */
    int64_t now = cio_now();
    return cio_sleep_until(delay > INT64_MAX - now ? INT64_MAX : now + delay);
}

static const struct cio_task *task_or_current(const cio_task *t)
{
    if (!t)
        t = cio__current();
    return t && t->magic == CIO__TASK_MAGIC ? t : NULL;
}

const char *cio__task_name(struct cio_task *t)
{
    /* The default name is made when first asked for: formatting it at every spawn cost more than the spawn. */
    if (!t->name[0])
        snprintf(t->name, sizeof t->name, "Task-%llu", (unsigned long long)t->id);
    return t->name;
}

uint64_t cio_task_id(const cio_task *t)
{
    t = task_or_current(t);
    return t ? t->id : 0;
}

const char *cio_task_name(const cio_task *t)
{
    t = task_or_current(t);
    return t ? cio__task_name((struct cio_task *)t) : NULL;
}

bool cio_task_done(const cio_task *t)
{
    t = task_or_current(t);
    return t && t->state == CIO__T_DONE;
}

bool cio_task_cancelled(const cio_task *t)
{
    t = task_or_current(t);
    return t && t->root.cancelled;
}

const char *cio_task_cancel_reason(const cio_task *t)
{
    t = task_or_current(t);
    return t ? t->cancel_reason : NULL;
}

int cio_check_cancel(void)
{
    struct cio_task *t;
    return cio__enter_wait(&t);
}
