/* runtime.h: the insides of the loop, tasks, scopes and timers, shared by the files of src/core. */
#ifndef CIO_CORE_RUNTIME_H
#define CIO_CORE_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "cio/core.h"
#include "core/switch.h"
#include "internal.h"

/* Magic numbers stamped on live handles and spoiled on release, so a use after close fails cleanly. */
#define CIO__LOOP_MAGIC   0x6c6f6f70u /* "loop" */
#define CIO__TASK_MAGIC   0x7461736bu /* "task" */
#define CIO__FUT_MAGIC    0x66757475u /* "futu" */
#define CIO__HANDLE_MAGIC 0x68616e64u /* "hand" */
#define CIO__SCOPE_MAGIC  0x73636f70u /* "scop" */
#define CIO__GROUP_MAGIC  0x67727570u /* "grup" */
#define CIO__DEAD_MAGIC   0xdeadbeefu

/* ------------------------------------------------------------------------------------------------ timers */

/*
 * A deadline in the loop's heap. Embedded in what it wakes (a task's sleep, a scope's deadline, a call_later
 * handle), so arming one allocates nothing.
 */
struct cio__timer {
    int64_t when;
    /* Arming order: equal deadlines fire in the order they were armed, as asyncio's call_at does. */
    uint64_t seq;
    void (*fire)(struct cio__timer *t);
    /* Position in the heap plus one; 0 when not armed. */
    uint32_t slot;
};

struct cio__heap {
    struct cio__timer **v;
    uint32_t n, cap;
};

/* Returns 0 or -ENOMEM (growing the heap). */
int cio__timer_arm(cio_loop *l, struct cio__timer *t, int64_t when);
void cio__timer_disarm(cio_loop *l, struct cio__timer *t);
/* Fire every timer due at l->now; returns how many fired. */
size_t cio__timers_run(cio_loop *l);
/* The earliest deadline, or INT64_MAX. */
int64_t cio__timers_next(const cio_loop *l);

/* ------------------------------------------------------------------------------------------------ ready queue */

/* What the ready queue holds: a task to resume, or a callback to call. */
enum { CIO__RUN_TASK = 1, CIO__RUN_HANDLE, CIO__RUN_FUTURE_CBS };

struct cio__runnable {
    struct cio__runnable *next;
    uint8_t kind;
};

struct cio__runq {
    struct cio__runnable *head, *tail;
};

/* ------------------------------------------------------------------------------------------------ scopes */

enum { CIO__SCOPE_ROOT = 1, CIO__SCOPE_TIMEOUT, CIO__SCOPE_SHIELD, CIO__SCOPE_GROUP };

/*
 * A cancellation scope (Trio's cancel scope). Scopes form a tree: each task's scopes nest in a chain from its
 * root scope (the task's own cancel) to its innermost one, and the root scope of a task spawned in a group hangs
 * under the group's scope. A task's wait fails when any scope on the path from its innermost scope up to the
 * first shield is cancelled; the innermost such scope gives the error.
 */
struct cio__scope {
    struct cio__scope *parent;
    /* Scopes nested directly inside this one: the task's next scope, and the roots of a group's children. */
    struct cio__list children;
    /* This scope's place in its parent's `children`. */
    struct cio__list sibling;
    struct cio_task *owner;
    uint32_t magic;
    uint8_t kind;
    bool cancelled;
    /* A wait inside returned this scope's error: cio_scope_end reports it. */
    bool caught;
    /* -ECANCELED or -ETIMEDOUT once cancelled. */
    int16_t err;
    struct cio__timer deadline;
};

_Static_assert(sizeof(struct cio__scope) <= sizeof(cio_scope), "grow cio_scope.opaque");
_Static_assert(_Alignof(struct cio__scope) <= _Alignof(cio_scope), "align cio_scope.opaque");

void cio__scope_push(struct cio_task *t, struct cio__scope *s, uint8_t kind);
/* Pop the innermost scope of `t`, which must be `s`. */
void cio__scope_pop(struct cio_task *t, struct cio__scope *s);
/* Cancel a scope with `err` and wake every task waiting inside it. */
void cio__scope_cancel(struct cio__scope *s, int err);
/* The error the task's waits get now (0 if none); marks the scope that gives it as caught. */
int cio__scope_check_slow(struct cio_task *t);
#define cio__scope_check(t) cio__scope_check_fast(t)

/* ------------------------------------------------------------------------------------------------ tasks */

enum { CIO__T_READY = 1, CIO__T_RUNNING, CIO__T_WAITING, CIO__T_DONE };
/* Who will release the task: its handle's owner (join), nobody (detached), or its group. */
enum { CIO__H_OWNED = 1, CIO__H_DETACHED, CIO__H_GROUP, CIO__H_GROUP_KEPT, CIO__H_JOINING, CIO__H_MAIN };

/* Something waiting for a task or a future to finish: a joiner, gather, wait, as_completed. */
struct cio__waiter {
    struct cio__list link;
    void (*notify)(struct cio__waiter *w);
    void *data;
    /* The task waited for, or NULL for a future. */
    struct cio_task *task;
};

struct cio_task {
    struct cio__runnable run; /* first: the ready queue links tasks through it */
    uint32_t magic;
    uint8_t state;
    uint8_t handle;
    /* The slot holding this struct and the stack below it was protected by a guard page (else a canary). */
    bool guarded;
    bool debug_reported;
    /* Parked in a wait that cancellation must not cut short (join's wait for a cancelled child's cleanup). */
    bool nocancel;
    /* Scratch mark for finding repeated tasks in an array. */
    bool mark;
    /* Status the body returned, once done. */
    int status;
    /* What the wake-up gave the parked task: 0, or the cancellation error. */
    int wake;
    cio__ctx ctx;
    cio_loop *loop;
    uint64_t id;
    cio_fn fn;
    void *arg;
    /* The memory slot: guard page at slot_base, the stack above it, this struct at the top. */
    char *slot_base;
    size_t slot_size;
    /* How a cancelled wait undoes its registration (remove from a wait list, disarm a timer); NULL if none. */
    void (*unlink)(struct cio_task *t);
    void *wait_obj;
    struct cio__scope root;
    struct cio__scope *inner;
    /* Waiters notified when the task finishes. */
    struct cio__list done_waiters;
    /* The loop's list of every task not yet released. */
    struct cio__list all;
    struct cio_group *group;
    struct cio__list group_link;
    /* The sleep timer (cio_sleep); armed only while sleeping. */
    struct cio__timer timer;
    const char *file;
    int line;
    char *cancel_reason;
    /* The task's context (cio_context_set), shared copy-on-write with its parent; NULL while empty. */
    struct cio__cvmap *cvars;
    void *asan_fake_stack;
    void *tsan_fiber;
    char name[32];
};

/* The common case inline: a task with no scope but its root, and nobody cancelling it. */
static inline int cio__scope_check_fast(struct cio_task *t)
{
    if (CIO_LIKELY(t->inner == &t->root && !t->root.cancelled && !t->root.parent))
        return 0;
    return cio__scope_check_slow(t);
}

/* Suspend the running task until cio__unpark; `unlink` undoes its registration if a cancellation wakes it. */
int cio__park(struct cio_task *t, void (*unlink)(struct cio_task *), void *obj);
/* Make a parked task ready; its cio__park returns `result`. */
void cio__unpark(struct cio_task *t, int result);
/* Wake a parked task with its cancellation error if it has one now. */
void cio__wake_if_cancelled(struct cio_task *t);
/* Park ignoring cancellation (waits that must see their children finish). */
int cio__park_nocancel(struct cio_task *t, void *obj);
/* Give up the CPU (state already set); `finished` for the last switch away from a task. */
void cio__task_suspend(struct cio_task *self, bool finished);
/* The body returned: wake waiters, tell the group, and leave for good. */
_Noreturn void cio__task_finish(struct cio_task *t);
void cio__task_ctx_make(struct cio_task *t);
void cio__task_ctx_release(struct cio_task *t);
void cio__handle_unref(struct cio_handle *h);
void cio__future_run_callbacks(struct cio__runnable *r);
void cio__group_child_done(struct cio_task *t);
/* A task returned with its group `s` still open: cancel the group, wait for its children, release it. */
void cio__group_abandon(struct cio_task *t, struct cio__scope *s);
/* Release a finished task: its slot returns to the pool. */
void cio__task_release(struct cio_task *t);
/* Spawn inside the core (groups use it). */
int cio__spawn(cio_task **out, cio_fn fn, void *arg, const cio_spawn_opts *opts, const char *file, int line,
               struct cio_group *g);
/* The task's name ("Task-<id>" unless one was given). */
const char *cio__task_name(struct cio_task *t);
/* The running task of this thread, or NULL. */
struct cio_task *cio__current(void);
/* The loop's clock read afresh: the monotonic clock, or the mock clock's current time (which only jumps). */
int64_t cio__loop_clock(cio_loop *l);
/* The error for a wait attempted now by the current task: CIO_ENOLOOP, CIO_ENOTASK, or its cancellation. */
int cio__enter_wait(struct cio_task **out);

/* ------------------------------------------------------------------------------------------------ context */

/*
 * A context (context.c): an array of values, each boxed with a count of the contexts holding it. A map with
 * refs > 1 is shared and never changed: setting a value copies it first. Only its loop's thread touches a map.
 */
struct cio__cvmap {
    size_t refs;
    uint32_t n, cap;
    struct cio__cvbox *v[];
};

/* Let go of one reference to `m`; the last one releases its values (their destroy may run). NULL is ignored. */
void cio__cvmap_release(struct cio__cvmap *m);

/* ------------------------------------------------------------------------------------------------ stacks */

struct cio__stack_class {
    size_t slot_size;
    /* Free slots, most recently released last (a LIFO keeps warm stacks warm). */
    char **free;
    size_t nfree, cap;
    /* free[0 .. ncold) have given their pages back to the kernel. */
    size_t ncold;
};

struct cio__stack_pool {
    struct cio__stack_class classes[8];
    /* Every chunk mapped, to unmap at close. */
    struct cio__chunk *chunks;
    size_t page;
};

void cio__stack_pool_init(struct cio__stack_pool *p);
void cio__stack_pool_fini(struct cio__stack_pool *p);
/* A slot of `slot_size` bytes (a page multiple, guard page included): its base; sets *guarded. */
char *cio__stack_get(struct cio__stack_pool *p, size_t slot_size, bool *guarded);
void cio__stack_put(struct cio__stack_pool *p, char *base, size_t slot_size, bool guarded);
/* Write and check the canary at the bottom of an unguarded stack. */
void cio__stack_canary_set(char *base, size_t page);
bool cio__stack_canary_ok(const char *base, size_t page);

/* ------------------------------------------------------------------------------------------------ the loop */

/* A message to a loop from another thread: `fn` runs on the loop's thread (remote.c). */
struct cio__remote {
    struct cio__remote *next;
    void (*fn)(struct cio__remote *r);
};

/* Post from any thread; the loop must be open. */
void cio__loop_post(cio_loop *l, struct cio__remote *r);
int cio__remote_open(cio_loop *l);
void cio__remote_close(cio_loop *l);
/* Run every posted callback now (loop thread); returns how many ran. */
size_t cio__remote_drain(cio_loop *l);
bool cio__remote_pending(cio_loop *l);
/* Wait until no other thread is in the middle of posting to the loop (before the loop frees itself). */
void cio__remote_quiesce(cio_loop *l);
/*
 * State of a higher layer kept per loop (the resolver's), released when the loop closes: core knows nothing of
 * what it is. The hook is the owner's memory; `fn` runs once, from cio_loop_close, after the hook is unlinked.
 * `report` (may be NULL) runs at the start of every cio_loop_close, before the loop looks for what is still alive,
 * so that a layer can name what the program left open (a client session) even when the close then fails.
 */
struct cio__loop_hook {
    struct cio__loop_hook *next;
    void (*fn)(struct cio__loop_hook *h);
    void (*report)(struct cio__loop_hook *h);
};
void cio__loop_hook_add(cio_loop *l, struct cio__loop_hook *h);
/* Unlink a hook that has not run (its state went away before the loop); one not linked is ignored. */
void cio__loop_hook_remove(cio_loop *l, struct cio__loop_hook *h);
/* Signals (signal.c): release the loop's signal state; make SIGINT/SIGTERM cancel the main task. */
void cio__signals_close(cio_loop *l);
int cio__signals_shutdown_on(cio_loop *l);
/* The signal behind the last cio_run_opts that returned -EINTR in this thread. */
extern _Thread_local int cio__last_exit_signal;

struct cio_handle {
    struct cio__runnable run;
    uint32_t magic;
    /* PENDING (queued or timed), DONE (ran), CANCELLED. */
    uint8_t state;
    /* References: the loop's while pending, the caller's if it asked for the handle. */
    uint8_t refs;
    struct cio__timer timer;
    cio_callback cb;
    void *arg;
    cio_loop *loop;
    struct cio__list link;
    /* The scheduler's context, which the callback runs with (dropped once it ran); NULL while empty. */
    struct cio__cvmap *cvars;
};
enum { CIO__HS_PENDING = 1, CIO__HS_DONE, CIO__HS_CANCELLED };

struct cio_loop {
    uint32_t magic;
    bool running;
    bool debug;
    /* Set while cio_loop_shutdown drives the loop: there is no main task. */
    bool shutting_down;
    cio__ctx sched_ctx;
    struct cio_task *current;
    /* While a scheduled callback runs: its handle's context slot, which cio_context_get/set use. */
    struct cio__cvmap **cb_cvars;
    struct cio_task *main;
    /* A detached task that finished: its slot is released once nothing runs on its stack. */
    struct cio_task *dead;
    struct cio__runq ready;
    struct cio__heap timers;
    uint64_t timer_seq;
    /* The cached clock (cio_now), and when the loop last polled for I/O. */
    int64_t now;
    int64_t last_poll;
    /* Counts task-to-task switches, to look at the clock only now and then. */
    uint32_t turns;
    /* A task found it time to poll and came back to the scheduler for it. */
    bool poll_now;
    /* cio_loop_opts.mock_clock: `now` moves only when the loop jumps it to the next timer (see drive). */
    bool mock_clock;
    /* Staggers where each new task's stack starts within its top page. */
    uint32_t color;
    struct cio__backend backend;
    struct cio__list tasks;
    size_t alive;
    struct cio__list handles;
    size_t pending_handles;
    /* References from outside the loop that may still wake it (cio_loop_ref, pool calls, other threads). */
    atomic_long external;
    /* Watches of the loop's own (the eventfd) that must not count as something a task waits for. */
    int internal_watches;
    /* Callbacks posted from other threads, and the eventfd that wakes the loop for them. */
    pthread_mutex_t remote_mu;
    struct cio__remote *remote_head, **remote_tail;
    atomic_int remote_signalled;
    struct cio__io_watch remote_watch;
    /* Signal state, made on first use (signal.c). */
    struct cio__signals *signals;
    bool cancel_on_signals;
    /* The shutdown signal that cancelled the main task, if any. */
    int exit_signal;
    /* The OS thread that owns the loop. */
    pthread_t thread;
    void *tsan_sched_fiber;
    struct cio__stack_pool stacks;
    /* Hooks of the layers above, run at close (cio__loop_hook_add). */
    struct cio__loop_hook *close_hooks;
    /* I/O buffers that streams gave back while they wait (cio__iobuf_get/put), linked through their first bytes. */
    void *iobufs;
    unsigned n_iobufs;
    size_t stack_size;
    size_t page;
    int64_t slow_threshold;
    int64_t step_start;
    void (*log)(void *arg, const char *line);
    void *log_arg;
    void *altstack;
    void *asan_sched_fake;
    void *asan_main_bottom;
    size_t asan_main_size;
};

/*
 * I/O buffers of CIO__IOBUF_SIZE bytes, shared by the streams of this thread's loop: a stream takes one when bytes
 * arrive or must be queued and gives it back once it is empty, so idle connections hold no buffer and busy ones
 * reuse warm memory. The loop keeps up to CIO__IOBUF_KEEP of them; the rest are freed. Without a loop the calls
 * are plain malloc and free, so a buffer may outlive the loop it came from.
 */
#define CIO__IOBUF_SIZE ((size_t)256 * 1024)
#define CIO__IOBUF_KEEP 16u
void *cio__iobuf_get(void);
void cio__iobuf_put(void *buf);

/* The loop of this thread. Initial-exec: one %fs-relative load, even from the shared library. */
extern _Thread_local cio_loop *cio__tls_loop __attribute__((tls_model("initial-exec")));

/* Add a runnable at the tail of the ready queue. */
static inline void cio__ready_push(cio_loop *l, struct cio__runnable *r)
{
    r->next = NULL;
    if (l->ready.tail)
        l->ready.tail->next = r;
    else
        l->ready.head = r;
    l->ready.tail = r;
}

static inline struct cio__runnable *cio__ready_pop(cio_loop *l)
{
    struct cio__runnable *r = l->ready.head;
    if (r) {
        l->ready.head = r->next;
        if (!r->next)
            l->ready.tail = NULL;
    }
    return r;
}
/* The current context: the running task's, or the running callback's; NULL if empty (or neither runs). */
static inline struct cio__cvmap *cio__cvmap_current(const cio_loop *l)
{
    if (l->current)
        return l->current->cvars;
    return l->cb_cvars ? *l->cb_cvars : NULL;
}

/* A new holder of the current context (a spawned task, a scheduled callback): one reference more, if any. */
static inline struct cio__cvmap *cio__cvmap_inherit(const cio_loop *l)
{
    struct cio__cvmap *m = cio__cvmap_current(l);
    if (CIO_UNLIKELY(m != NULL))
        m->refs++;
    return m;
}

/* Report a line through the loop's log (printf-style). */
void cio__log(cio_loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Debug-mode reports (debug.c). */
void cio__debug_slow(cio_loop *l, struct cio_task *t, int64_t elapsed, const char *what);
void cio__debug_unjoined(cio_loop *l, struct cio_task *t, const char *when);
/* The SIGSEGV report for stack overflows: install once per process, an alternate stack per loop thread. */
int cio__overflow_guard_open(cio_loop *l);
void cio__overflow_guard_close(cio_loop *l);

/* Sanitizer and Valgrind hooks around a switch (no-ops in plain builds). */
void cio__switch_to(cio_loop *l, cio__ctx *from, struct cio_task *to_task, cio__ctx *to, bool from_finished);

#endif
