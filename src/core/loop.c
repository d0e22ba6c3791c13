/* loop.c: the event loop: ready queue, scheduler, switches between tasks, polling, and loop lifetime. */
#include "core/runtime.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CIO_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CIO_ASAN_FIBERS 1
#endif
#endif
#ifdef CIO_ASAN_FIBERS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define CIO_TSAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CIO_TSAN_FIBERS 1
#endif
#endif
#ifdef CIO_TSAN_FIBERS
#include <sanitizer/tsan_interface.h>
#endif

_Thread_local cio_loop *cio__tls_loop __attribute__((tls_model("initial-exec")));
extern atomic_int cio__open_loops;

/*
 * How often a chain of task-to-task switches stops to look at the clock (every 64 switches), and how long the
 * loop may go without polling for I/O while tasks stay ready. Go's scheduler makes the same trade: yields never
 * enter the kernel, and the poller is consulted when the run queue drains or time has passed.
 */
#define CLOCK_EVERY   64u
#define POLL_INTERVAL CIO_MS(1)

static int64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void cio__loop_hook_add(cio_loop *l, struct cio__loop_hook *h)
{
    h->next = l->close_hooks;
    l->close_hooks = h;
}

void cio__loop_hook_remove(cio_loop *l, struct cio__loop_hook *h)
{
    for (struct cio__loop_hook **pp = &l->close_hooks; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            h->next = NULL;
            return;
        }
    }
}

int64_t cio__loop_clock(cio_loop *l)
{
    return l->mock_clock ? l->now : clock_ns();
}

int64_t cio_now(void)
{
    cio_loop *l = cio__tls_loop;
    return l ? l->now : clock_ns();
}

cio_loop *cio_loop_current(void)
{
    return cio__tls_loop;
}

bool cio_loop_debug(const cio_loop *l)
{
    if (!l)
        l = cio__tls_loop;
    return l && l->debug;
}

struct cio_task *cio__current(void)
{
    cio_loop *l = cio__tls_loop;
    return l ? l->current : NULL;
}

cio_task *cio_current(void)
{
    return cio__current();
}

void cio__log(cio_loop *l, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (l && l->log)
        l->log(l->log_arg, line);
    else
        fprintf(stderr, "%s\n", line);
}

/* ------------------------------------------------------------------------------------------------ ready queue */

/* ------------------------------------------------------------------------------------------------ switching */

/* Time to stop chaining tasks and let the scheduler poll: looked at only every CLOCK_EVERY switches. */
static inline bool poll_due(cio_loop *l)
{
    if (CIO_LIKELY((++l->turns & (CLOCK_EVERY - 1)) != 0))
        return false;
    if (CIO_UNLIKELY(l->mock_clock)) { /* time stands still while tasks run: poll every CLOCK_EVERY switches */
        l->poll_now = l->backend.nwatch > l->internal_watches || l->now >= cio__timers_next(l);
        return l->poll_now;
    }
    l->now = clock_ns();
    /* Remembered until the loop has polled: the scheduler must not ask again and get a different answer. */
    l->poll_now = l->now >= cio__timers_next(l) || (l->backend.nwatch > 0 && l->now - l->last_poll >= POLL_INTERVAL);
    return l->poll_now;
}

static void overflow_abort(struct cio_task *t)
{
    cio__log(t->loop, "cio: stack overflow in task %llu '%s' (spawned at %s:%d): its stack canary is broken",
             (unsigned long long)t->id, cio__task_name(t), t->file, t->line);
    abort();
}

/* What runs right after any switch lands, on whichever stack it landed. */
static inline void after_switch(cio_loop *l)
{
    if (CIO_UNLIKELY(l->dead != NULL)) {
        struct cio_task *d = l->dead;
        l->dead = NULL;
        cio__task_release(d);
    }
    if (CIO_UNLIKELY(l->debug))
        l->step_start = clock_ns();
}

/*
 * Switch from `from` (NULL: the scheduler) to `to` (NULL: the scheduler), with the sanitizers told. A task that
 * has finished passes `finished`, so AddressSanitizer drops its fake stack instead of saving it.
 */
static inline __attribute__((always_inline)) void switch_ctx(cio_loop *l, struct cio_task *from, struct cio_task *to,
                                                             bool finished)
{
    if (CIO_UNLIKELY(l->debug) && from) {
        int64_t elapsed = clock_ns() - l->step_start;
        if (elapsed > l->slow_threshold)
            cio__debug_slow(l, from, elapsed, "task step");
    }
    if (from && CIO_UNLIKELY(!from->guarded) && !cio__stack_canary_ok(from->slot_base, l->page))
        overflow_abort(from);
    l->current = to;
    cio__ctx *fc = from ? &from->ctx : &l->sched_ctx;
    cio__ctx *tc = to ? &to->ctx : &l->sched_ctx;
#ifdef CIO_TSAN_FIBERS
    __tsan_switch_to_fiber(to ? to->tsan_fiber : l->tsan_sched_fiber, 0);
#endif
#ifdef CIO_ASAN_FIBERS
    void **save = finished ? NULL : from ? &from->asan_fake_stack : &l->asan_sched_fake;
    const void *bottom = to ? to->slot_base + l->page : l->asan_main_bottom;
    size_t size = to ? (size_t)((char *)to - (to->slot_base + l->page)) : l->asan_main_size;
    __sanitizer_start_switch_fiber(save, bottom, size);
    cio__ctx_switch(fc, tc);
    __sanitizer_finish_switch_fiber(from ? from->asan_fake_stack : l->asan_sched_fake, NULL, NULL);
#else
    (void)finished;
    cio__ctx_switch(fc, tc);
#endif
}

/* First code of every task, on its own stack. */
static void task_entry(void *arg)
{
    struct cio_task *t = arg;
    cio_loop *l = t->loop;
#ifdef CIO_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    after_switch(l);
    t->status = t->fn(t->arg);
    cio__task_finish(t);
}

void cio__task_ctx_make(struct cio_task *t)
{
    char *lo = t->slot_base + t->loop->page;
#ifdef CIO_TSAN_FIBERS
    t->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef CIO_ASAN_FIBERS
    /* A reused stack may still carry poison from the frames of the task that ran on it before. */
    ASAN_UNPOISON_MEMORY_REGION(lo, (size_t)((char *)t - lo));
#endif
    cio__ctx_make(&t->ctx, lo, (size_t)((char *)t - lo), task_entry, t);
}

void cio__task_ctx_release(struct cio_task *t)
{
#ifdef CIO_TSAN_FIBERS
    if (t->tsan_fiber)
        __tsan_destroy_fiber(t->tsan_fiber);
    t->tsan_fiber = NULL;
#else
    (void)t;
#endif
}

/*
 * The running task gives up the CPU; its state says why (READY and queued, WAITING, DONE). The next ready task
 * is switched to directly, without a detour through the scheduler, unless a callback is next or it is time to
 * poll. A task that finished never comes back from here.
 */
void cio__task_suspend(struct cio_task *self, bool finished)
{
    cio_loop *l = self->loop;
    struct cio__runnable *r = l->ready.head;
    struct cio_task *next = NULL;
    /* When main finishes, control goes back to cio_loop_run, which returns (run_until_complete). */
    if (r && r->kind == CIO__RUN_TASK && !(finished && self == l->main) && !poll_due(l)) {
        cio__ready_pop(l);
        next = (struct cio_task *)r;
        if (next == self) {
            self->state = CIO__T_RUNNING;
            return;
        }
        next->state = CIO__T_RUNNING;
    }
    switch_ctx(l, self, next, finished);
    after_switch(l);
}

int cio__park(struct cio_task *t, void (*unlink)(struct cio_task *), void *obj)
{
    t->unlink = unlink;
    t->wait_obj = obj;
    t->state = CIO__T_WAITING;
    cio__task_suspend(t, false);
    return t->wake;
}

void cio__unpark(struct cio_task *t, int result)
{
    CIO_ASSERT(t->state == CIO__T_WAITING);
    t->wake = result;
    t->unlink = NULL;
    t->wait_obj = NULL;
    t->state = CIO__T_READY;
    cio__ready_push(t->loop, &t->run);
}

void cio__wake_if_cancelled(struct cio_task *t)
{
    if (t->state != CIO__T_WAITING || t->nocancel)
        return;
    int err = cio__scope_check(t);
    if (!err)
        return;
    if (t->unlink)
        t->unlink(t);
    cio__unpark(t, err);
}

int cio__park_nocancel(struct cio_task *t, void *obj)
{
    t->nocancel = true;
    int rc = cio__park(t, NULL, obj);
    t->nocancel = false;
    return rc;
}

int cio__enter_wait(struct cio_task **out)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    struct cio_task *t = l->current;
    if (!t)
        return CIO_ENOTASK;
    *out = t;
    return cio__scope_check(t);
}

/* ------------------------------------------------------------------------------------------------ the scheduler */

static void run_handle(cio_loop *l, struct cio_handle *h)
{
    if (h->state == CIO__HS_PENDING) {
        h->state = CIO__HS_DONE;
        l->pending_handles--;
        cio__list_remove(&h->link);
        int64_t t0 = l->debug ? clock_ns() : 0;
        l->cb_cvars = &h->cvars;
        h->cb(h->arg);
        l->cb_cvars = NULL;
        if (CIO_UNLIKELY(h->cvars != NULL)) { /* the callback's context is used up */
            struct cio__cvmap *m = h->cvars;
            h->cvars = NULL;
            cio__cvmap_release(m);
        }
        if (l->debug) {
            int64_t elapsed = clock_ns() - t0;
            if (elapsed > l->slow_threshold)
                cio__debug_slow(l, NULL, elapsed, "callback");
        }
    }
    cio__handle_unref(h);
}

static void dispatch(cio_loop *l, struct cio__runnable *r)
{
    switch (r->kind) {
    case CIO__RUN_TASK: {
        struct cio_task *t = (struct cio_task *)r;
        t->state = CIO__T_RUNNING;
        switch_ctx(l, NULL, t, false);
        after_switch(l);
        break;
    }
    case CIO__RUN_HANDLE:
        run_handle(l, cio__container_of(r, struct cio_handle, run));
        break;
    case CIO__RUN_FUTURE_CBS:
        cio__future_run_callbacks(r);
        break;
    default:
        CIO_ASSERT(!"unknown runnable");
    }
}

static bool main_done(cio_loop *l)
{
    return l->main->state == CIO__T_DONE;
}

static bool all_done(cio_loop *l)
{
    return l->alive == 0 && l->ready.head == NULL && atomic_load(&l->external) == 0 && !cio__remote_pending(l);
}

/* Poll the backend for at most `timeout` ns, then refresh the clock and fire due timers. */
static int poll_once(cio_loop *l, int64_t timeout)
{
    int rc = l->backend.ops->poll(&l->backend, timeout);
    l->poll_now = false;
    l->now = l->last_poll = cio__loop_clock(l);
    cio__timers_run(l);
    return rc < 0 ? rc : 0;
}

/*
 * The mock clock's step, when nothing is ready and the next timer is due at `next`: look for I/O without
 * waiting, and if that readied nothing either, every task waits for a timer, so time jumps to it. While a pool
 * call, another thread's reference or a posted callback is outstanding, something outside may still wake a task
 * before that timer: the loop waits for it in real time and time stands still (as Trio's MockClock with autojump).
 */
static int mock_step(cio_loop *l, int64_t next)
{
    bool outside = atomic_load(&l->external) > 0 || cio__remote_pending(l);
    int rc = poll_once(l, outside ? -1 : 0);
    if (rc < 0 || outside || l->ready.head || cio__timers_next(l) != next)
        return rc;
    l->now = l->last_poll = next;
    cio__timers_run(l);
    return 0;
}

/* Run the loop until `done` holds. -EDEADLK when nothing is ready and nothing could ever make anything ready. */
static int drive(cio_loop *l, bool (*done)(cio_loop *))
{
    for (;;) {
        struct cio__runnable *r;
        while ((r = cio__ready_pop(l))) {
            dispatch(l, r);
            if (done(l))
                return 0;
            if (l->poll_now || poll_due(l))
                break;
        }
        if (done(l))
            return 0;
        int64_t timeout = 0;
        if (!l->ready.head) {
            int64_t next = cio__timers_next(l);
            if (next == INT64_MAX) {
                if (l->backend.nwatch == l->internal_watches && atomic_load(&l->external) == 0 &&
                    !cio__remote_pending(l))
                    return -EDEADLK;
                timeout = -1;
            } else if (l->mock_clock) {
                int rc = mock_step(l, next);
                if (rc < 0)
                    return rc;
                continue;
            } else {
                l->now = clock_ns();
                timeout = next > l->now ? next - l->now : 0;
            }
        }
        int rc = poll_once(l, timeout);
        if (rc < 0)
            return rc;
    }
}

/* ------------------------------------------------------------------------------------------------ lifetime */

int cio_loop_open(cio_loop **out, const cio_loop_opts *opts)
{
    if (!out)
        return -EINVAL;
    if (cio__tls_loop)
        return -EBUSY;
    cio_loop_opts o = {0};
    if (opts)
        o = *opts;
    if (o.stack_size && (o.stack_size < CIO_STACK_MIN || o.stack_size > CIO_STACK_MAX))
        return -EINVAL;
    cio_loop *l = cio__calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->page = (size_t)sysconf(_SC_PAGESIZE);
    l->stack_size = o.stack_size ? o.stack_size : CIO_STACK_DEFAULT;
    if (o.debug == 0) {
        const char *env = getenv("CIO_DEBUG");
        l->debug = env && *env && strcmp(env, "0") != 0;
    } else {
        l->debug = o.debug > 0;
    }
    l->slow_threshold = o.slow_threshold > 0 ? o.slow_threshold : CIO_MS(100);
    l->log = o.log;
    l->log_arg = o.log_arg;
    cio__list_init(&l->tasks);
    cio__list_init(&l->handles);
    cio__stack_pool_init(&l->stacks);
    const struct cio__backend_ops *ops = cio__backend_find(getenv("CIO_BACKEND"));
    if (!ops)
        ops = &cio__backend_epoll;
    l->backend.ops = ops;
    int rc = ops->open(&l->backend);
    if (rc < 0)
        goto fail_backend;
    rc = cio__remote_open(l);
    if (rc < 0)
        goto fail_remote;
    rc = cio__overflow_guard_open(l);
    if (rc < 0)
        goto fail_guard;
    l->thread = pthread_self();
    l->cancel_on_signals = o.cancel_on_signals;
    l->mock_clock = o.mock_clock;
#ifdef CIO_TSAN_FIBERS
    l->tsan_sched_fiber = __tsan_get_current_fiber();
#endif
    l->now = l->last_poll = clock_ns();
    l->magic = CIO__LOOP_MAGIC;
    cio__tls_loop = l;
    atomic_fetch_add(&cio__open_loops, 1);
    *out = l;
    return 0;
fail_guard:
    cio__remote_close(l);
fail_remote:
    ops->close(&l->backend);
fail_backend:
    cio__free(l);
    return rc;
}

static int check_loop(cio_loop *l)
{
    if (!l || l->magic != CIO__LOOP_MAGIC)
        return -EINVAL;
    if (l != cio__tls_loop)
        return CIO_ENOTOWNER;
    if (l->running)
        return CIO_ELOOPRUNNING;
    return 0;
}

static void asan_note_main_stack(cio_loop *l)
{
#ifdef CIO_ASAN_FIBERS
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            l->asan_main_bottom = addr;
            l->asan_main_size = size;
        }
        pthread_attr_destroy(&attr);
    }
#else
    (void)l;
#endif
}

int cio_loop_run(cio_loop *l, cio_fn main, void *arg)
{
    int rc = check_loop(l);
    if (rc < 0)
        return rc;
    if (!main)
        return -EINVAL;
    asan_note_main_stack(l);
    cio_task *t;
    rc = cio_spawn_at(&t, main, arg, &(cio_spawn_opts){.name = "main"}, "cio_loop_run", 0);
    if (rc < 0)
        return rc;
    t->handle = CIO__H_MAIN; /* cio_loop_run joins it: user code can neither join nor detach it */
    l->main = t;
    l->running = true;
    l->now = cio__loop_clock(l);
    rc = drive(l, main_done);
    l->running = false;
    l->main = NULL;
    if (rc < 0) {
        /* The main task stays alive (and owned by nobody): shutdown cancels it, close reports it. */
        t->handle = CIO__H_DETACHED;
        return rc;
    }
    rc = t->status;
    cio__task_release(t);
    return rc;
}

int cio_loop_shutdown(cio_loop *l)
{
    int rc = check_loop(l);
    if (rc < 0)
        return rc;
    asan_note_main_stack(l);
    struct cio__list *n;
    for (n = l->handles.next; n != &l->handles;) {
        struct cio_handle *h = cio__container_of(n, struct cio_handle, link);
        n = n->next;
        cio_handle_cancel(h);
    }
    for (n = l->tasks.next; n != &l->tasks; n = n->next) {
        struct cio_task *t = cio__container_of(n, struct cio_task, all);
        if (t->state != CIO__T_DONE)
            cio__scope_cancel(&t->root, -ECANCELED);
    }
    cio__remote_drain(l);
    l->shutting_down = true; /* tasks that cleanup spawns start cancelled */
    l->running = true;
    rc = drive(l, all_done);
    l->shutting_down = false;
    l->running = false;
    if (rc < 0) {
        cio__log(l, "cio: loop shutdown: tasks still wait after being cancelled (%s)", cio_err_name(rc));
        return rc;
    }
    /* Release what finished without being joined; detached ones released themselves. */
    for (n = l->tasks.next; n != &l->tasks;) {
        struct cio_task *t = cio__container_of(n, struct cio_task, all);
        n = n->next;
        if (t->handle == CIO__H_OWNED && t->state == CIO__T_DONE) {
            if (l->debug)
                cio__debug_unjoined(l, t, "at loop shutdown");
            cio__task_release(t);
        }
    }
    return 0;
}

/* A kept buffer's link to the next one, in its last bytes: a view into a stream's buffer most often starts at
   its first byte, which must be poisoned while the loop keeps the buffer (see cio__iobuf_put). */
static inline void **iobuf_link(void *buf)
{
    return (void **)((char *)buf + CIO__IOBUF_SIZE - sizeof(void *));
}

int cio_loop_close(cio_loop *l)
{
    int rc = check_loop(l);
    if (rc < 0)
        return rc;
    for (struct cio__loop_hook *h = l->close_hooks; h; h = h->next)
        if (h->report)
            h->report(h);
    bool busy = false;
    for (struct cio__list *n = l->tasks.next; n != &l->tasks; n = n->next) {
        struct cio_task *t = cio__container_of(n, struct cio_task, all);
        busy = true;
        if (t->state != CIO__T_DONE)
            cio__log(l, "cio: loop close: task %llu '%s' (spawned at %s:%d) is still alive", (unsigned long long)t->id,
                     cio__task_name(t), t->file, t->line);
        else
            cio__debug_unjoined(l, t, "at loop close");
    }
    if (l->pending_handles) {
        busy = true;
        cio__log(l, "cio: loop close: %zu callback(s) still pending", l->pending_handles);
    }
    long refs = atomic_load(&l->external);
    if (refs > 0 || cio__remote_pending(l)) {
        busy = true;
        cio__log(l, "cio: loop close: %ld reference(s) from other threads or the pool, or posted callbacks", refs);
    }
    for (struct cio__runnable *r = l->ready.head; r; r = r->next) {
        if (r->kind == CIO__RUN_FUTURE_CBS) {
            busy = true;
            cio__log(l, "cio: loop close: a future's done callbacks are still queued");
        }
    }
    if (busy)
        return -EBUSY;
    struct cio__loop_hook *hook;
    while ((hook = l->close_hooks)) {
        l->close_hooks = hook->next;
        hook->next = NULL;
        hook->fn(hook);
    }
    /* Only cancelled callbacks are left in the queue: drop the loop's references to them. */
    struct cio__runnable *r;
    while ((r = cio__ready_pop(l)))
        cio__handle_unref(cio__container_of(r, struct cio_handle, run));
    /* Handles the caller still holds stay valid to close; they no longer belong to a loop. */
    while (!cio__list_empty(&l->handles)) {
        struct cio_handle *h = cio__container_of(l->handles.next, struct cio_handle, link);
        cio__list_remove(&h->link);
        h->loop = NULL;
    }
    cio__signals_close(l);
    cio__overflow_guard_close(l);
    cio__remote_quiesce(l);
    cio__remote_close(l);
    l->backend.ops->close(&l->backend);
    cio__stack_pool_fini(&l->stacks);
    while (l->iobufs) {
        void *b = l->iobufs;
        l->iobufs = *iobuf_link(b);
#ifdef CIO_ASAN_FIBERS
        ASAN_UNPOISON_MEMORY_REGION(b, CIO__IOBUF_SIZE);
#endif
        cio__free(b);
    }
    cio__free(l->timers.v);
    l->magic = CIO__DEAD_MAGIC;
    cio__tls_loop = NULL;
    atomic_fetch_sub(&cio__open_loops, 1);
    cio__free(l);
    return 0;
}

void *cio__iobuf_get(void)
{
    cio_loop *l = cio__tls_loop;
    if (l && l->iobufs) {
        void *b = l->iobufs;
        l->iobufs = *iobuf_link(b);
        l->n_iobufs--;
#ifdef CIO_ASAN_FIBERS
        ASAN_UNPOISON_MEMORY_REGION(b, CIO__IOBUF_SIZE);
#endif
        return b;
    }
    return cio__malloc(CIO__IOBUF_SIZE);
}

void cio__iobuf_put(void *buf)
{
    cio_loop *l = cio__tls_loop;
    if (!buf)
        return;
    if (l && l->n_iobufs < CIO__IOBUF_KEEP) {
        *iobuf_link(buf) = l->iobufs;
        l->iobufs = buf;
        l->n_iobufs++;
#ifdef CIO_ASAN_FIBERS
        /* A view into a buffer given back (a stream's, used past its next call) is then caught. */
        ASAN_POISON_MEMORY_REGION(buf, CIO__IOBUF_SIZE - sizeof(void *));
#endif
        return;
    }
    cio__free(buf);
}

int cio_run_opts(cio_fn main, void *arg, const cio_loop_opts *opts)
{
    cio_loop *l;
    int rc = cio_loop_open(&l, opts);
    if (rc < 0)
        return rc;
    if (l->cancel_on_signals) {
        rc = cio__signals_shutdown_on(l);
        if (rc < 0) {
            cio_loop_close(l);
            return rc;
        }
    }
    int status = cio_loop_run(l, main, arg);
    int sig = l->exit_signal;
    int src = cio_loop_shutdown(l);
    int crc = cio_loop_close(l);
    if (sig && status == -ECANCELED) {
        cio__last_exit_signal = sig;
        status = -EINTR;
    }
    if (status >= 0 && src < 0)
        status = src;
    if (status >= 0 && crc < 0)
        status = crc;
    return status;
}

int cio_run(cio_fn main, void *arg)
{
    return cio_run_opts(main, arg, NULL);
}

_Thread_local int cio__last_exit_signal;

int cio_exit_code(int rc)
{
    if (rc >= 0)
        return 0;
    if (rc == -EINTR && cio__last_exit_signal > 0)
        return 128 + cio__last_exit_signal;
    return 1;
}

/* ------------------------------------------------------------------------------------------------ callbacks */

void cio__handle_unref(struct cio_handle *h)
{
    if (--h->refs == 0) {
        h->magic = CIO__DEAD_MAGIC;
        cio__cvmap_release(h->cvars);
        cio__free(h);
    }
}

static void handle_timer_fire(struct cio__timer *tm)
{
    struct cio_handle *h = cio__container_of(tm, struct cio_handle, timer);
    cio__ready_push(h->loop, &h->run);
}

static int schedule(cio_handle **out, int64_t when, bool timed, cio_callback cb, void *arg)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    if (!cb)
        return -EINVAL;
    struct cio_handle *h = cio__calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->run.kind = CIO__RUN_HANDLE;
    h->magic = CIO__HANDLE_MAGIC;
    h->state = CIO__HS_PENDING;
    h->refs = out ? 2 : 1;
    h->cb = cb;
    h->arg = arg;
    h->loop = l;
    if (timed) {
        h->timer.fire = handle_timer_fire;
        if (cio__timer_arm(l, &h->timer, when) < 0) {
            cio__free(h);
            return -ENOMEM;
        }
    } else {
        cio__ready_push(l, &h->run);
    }
    h->cvars = cio__cvmap_inherit(l); /* the callback runs with the scheduler's context */
    cio__list_insert_tail(&l->handles, &h->link);
    l->pending_handles++;
    if (out)
        *out = h;
    return 0;
}

int cio_call_soon(cio_handle **out, cio_callback cb, void *arg)
{
    return schedule(out, 0, false, cb, arg);
}

int cio_call_later(cio_handle **out, int64_t delay, cio_callback cb, void *arg)
{
    if (delay < 0)
        return -EINVAL;
    int64_t now = cio_now();
    return schedule(out, delay > INT64_MAX - now ? INT64_MAX : now + delay, true, cb, arg);
}

int cio_call_at(cio_handle **out, int64_t when, cio_callback cb, void *arg)
{
    return schedule(out, when, true, cb, arg);
}

int cio_handle_cancel(cio_handle *h)
{
    if (!h || h->magic != CIO__HANDLE_MAGIC)
        return CIO_EBADHANDLE;
    if (h->state != CIO__HS_PENDING)
        return -EALREADY;
    h->state = CIO__HS_CANCELLED;
    cio_loop *l = h->loop;
    l->pending_handles--;
    cio__list_remove(&h->link);
    if (CIO_UNLIKELY(h->cvars != NULL)) { /* it will never run: its context's values may go now */
        struct cio__cvmap *m = h->cvars;
        h->cvars = NULL;
        cio__cvmap_release(m);
    }
    if (h->timer.slot) {
        /* Not queued yet: the heap's reference goes now. A queued one is dropped when the queue reaches it. */
        cio__timer_disarm(l, &h->timer);
        cio__handle_unref(h);
    }
    return 0;
}

bool cio_handle_done(const cio_handle *h)
{
    return h && h->magic == CIO__HANDLE_MAGIC && h->state == CIO__HS_DONE;
}

void cio_handle_close(cio_handle *h)
{
    if (!h || h->magic != CIO__HANDLE_MAGIC)
        return;
    if (h->state == CIO__HS_PENDING)
        cio_handle_cancel(h);
    cio__handle_unref(h);
}
