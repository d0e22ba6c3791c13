/* cio/core.h: the runtime core: loop, time, tasks, futures, combinators, task groups, scopes. */
#ifndef CIO_CORE_H
#define CIO_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cio/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The model (asyncio's, in C):
 * - A loop runs in one thread and drives tasks. `cio_run(main, arg)` is `asyncio.run`.
 * - A task is a coroutine: a function `int body(void *arg)` running on its own stack. Any cio call that waits
 *   (sleep, join, a future, I/O) suspends the calling task and lets the others run.
 * - A body returns 0 (or a count) on success or a negative error code; `cio_join` hands that status back.
 * - Cancellation is level-triggered and scoped: once a task (or a timeout scope, or a task group) is cancelled,
 *   the wait in progress inside it and every later one return at once with -ECANCELED (or -ETIMEDOUT for an
 *   expired deadline), so cleanup cannot block forever. Code outside the cancelled scope is unaffected. A shield
 *   scope lets cleanup wait again.
 * - Every function that waits is a suspension point and may return -ECANCELED or -ETIMEDOUT; it is called only
 *   from a task (else CIO_ENOLOOP when the thread has no loop, CIO_ENOTASK when it has one but no task runs).
 */

/* Time: int64_t nanoseconds of CLOCK_MONOTONIC. Durations and absolute deadlines are distinct parameters. */
#define CIO_NS(n)  ((int64_t)(n))
#define CIO_US(n)  ((int64_t)(n)*1000)
#define CIO_MS(n)  ((int64_t)(n)*1000000)
#define CIO_SEC(n) ((int64_t)(n)*1000000000)
/* A duration that never expires (for `timeout` parameters). */
#define CIO_INFINITE ((int64_t)-1)

typedef struct cio_loop cio_loop;
typedef struct cio_task cio_task;
typedef struct cio_future cio_future;
typedef struct cio_handle cio_handle;
typedef struct cio_group cio_group;
typedef struct cio_as_completed cio_as_completed;

/* A coroutine body: returns 0 (or a count) or a negative error code. */
typedef int (*cio_fn)(void *arg);
/* A plain callback run by the loop (call_soon / call_later): it must not wait. */
typedef void (*cio_callback)(void *arg);

/* ------------------------------------------------------------------------------------------------ memory */

/*
 * Replace the allocator cio uses for every allocation it makes (like uv_replace_allocator). Call it before any
 * loop is opened. All three must be given, and `realloc_fn` must accept NULL like realloc.
 * Errors: -EINVAL a function is NULL; -EBUSY a loop is open.
 */
int cio_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t), void (*free_fn)(void *));

/* ------------------------------------------------------------------------------------------------- loop */

typedef struct cio_loop_opts {
    /* Debug mode: 1 on, -1 off, 0 (the zero default) on only if the environment has CIO_DEBUG=1. */
    int debug;
    /* In debug mode, a task step or callback that runs longer than this is reported. 0 means 100 ms. */
    int64_t slow_threshold;
    /* The default stack size of tasks spawned on this loop; 0 means CIO_STACK_DEFAULT. */
    size_t stack_size;
    /* Where debug reports and close-time reports go; NULL means standard error. `line` has no newline. */
    void (*log)(void *log_arg, const char *line);
    void *log_arg;
    /* cio_run_opts: SIGINT and SIGTERM cancel the main task (reason "SIGINT" / "SIGTERM") instead of killing the
       process, so its cleanup runs; cio_exit_code then turns the result into the conventional exit status. */
    bool cancel_on_signals;
    /* For tests: a mock clock (Trio's MockClock with autojump). cio_now() starts at the real monotonic time and
       stands still while tasks run; whenever every task waits and no I/O is ready, it jumps at once to the next
       timer, which fires. So a 30 s keep-alive expiry, a retry backoff or a slowloris cut-off takes microseconds
       and happens in the same order on every run. A pool call, a cio_loop_ref or a thread-safe call still in
       flight holds time still until it is done. Outside processes are not waited for: time may jump while one
       is still working, so use it where the peers run on this loop. DNS lookups (c-ares keeps its own real-time
       timeouts) do not belong on it. */
    bool mock_clock;
} cio_loop_opts;

/* The default stack size of a task, and the limits on an explicit one. */
#define CIO_STACK_DEFAULT ((size_t)128 * 1024)
#define CIO_STACK_MIN     ((size_t)16 * 1024)
#define CIO_STACK_MAX     ((size_t)1024 * 1024 * 1024)

/*
 * Open a loop for the calling thread. One loop may be open per thread.
 * Errors: -EBUSY the thread already has one; -ENOMEM; errors of the system poller (epoll_create1, ...).
 * Ownership: the caller closes it with cio_loop_close, from the same thread.
 */
int cio_loop_open(cio_loop **out, const cio_loop_opts *opts);

/*
 * Run `main(arg)` as a task on `loop` and drive the loop until that task finishes (asyncio's
 * run_until_complete). Other tasks keep whatever state they have when it returns.
 * Returns: main's status.
 * Errors: -EINVAL NULL argument; CIO_ELOOPRUNNING called from inside the running loop;
 *         -EDEADLK every task is waiting and nothing (timer, I/O, other thread) can ever wake one: main is left
 *         waiting, cio_loop_shutdown cancels it; -ENOMEM spawning main.
 */
int cio_loop_run(cio_loop *loop, cio_fn main, void *arg);

/*
 * Cancel every task still alive and every pending callback, then run the loop until those tasks have finished
 * their cleanup (what asyncio.run does before closing). Unjoined finished tasks are released (and reported in
 * debug mode). Returns 0, or -EDEADLK if a cancelled task waits forever inside a shield.
 */
int cio_loop_shutdown(cio_loop *loop);

/*
 * Close a loop that has nothing alive.
 * Errors: -EBUSY tasks are alive, or tasks finished without being joined or detached, or callbacks are pending:
 *         each is named through the loop's log, and the loop stays open (call cio_loop_shutdown, then close).
 *         CIO_ELOOPRUNNING called from inside the loop.
 */
int cio_loop_close(cio_loop *loop);

/*
 * asyncio.run: open a loop, run main, shut the loop down (cancelling what main left running) and close it.
 * Returns main's status; a failure to open or close the loop is returned when main succeeded.
 */
int cio_run(cio_fn main, void *arg);

/*
 * cio_run with loop options. With opts->cancel_on_signals, a SIGINT or SIGTERM cancels the main task; if main
 * then returns -ECANCELED, cio_run_opts returns -EINTR, and cio_exit_code(-EINTR) gives 128 + the signal.
 */
int cio_run_opts(cio_fn main, void *arg, const cio_loop_opts *opts);

/* A process exit status for a cio_run result: 0 for success, 128 + signal after a shutdown signal, else 1. */
int cio_exit_code(int rc);

/*
 * Tell the loop that another thread may still wake it (through cio_call_soon_threadsafe, a future completed
 * from that thread, ...), like uv_ref on an async handle. A loop with nothing ready, no timer, no I/O, no signal
 * and no reference returns -EDEADLK from cio_loop_run instead of sleeping forever. Thread-safe; `loop` must
 * stay open until the matching unref. cio_to_thread and cio_run_coroutine_threadsafe take their own.
 */
void cio_loop_ref(cio_loop *loop);
void cio_loop_unref(cio_loop *loop);

/* ------------------------------------------------------------------------------------------------ threads */

/*
 * Run `cb(arg)` on `loop`'s thread soon, from any thread (asyncio's call_soon_threadsafe). Wakes the loop with
 * an eventfd if it sleeps. Callbacks from one thread run in the order they were posted.
 * Errors: -EINVAL NULL argument or a closed loop; -ENOMEM.
 * The loop must stay open until the callback has run (hold a cio_loop_ref, or know the loop outlives it).
 */
int cio_call_soon_threadsafe(cio_loop *loop, cio_callback cb, void *arg);

/* A function run on a worker thread by cio_to_thread: it may block; it must not call cio's task functions. */
typedef int (*cio_thread_fn)(void *arg);

/*
 * asyncio.to_thread: run `fn(arg)` on the thread pool and suspend the calling task until it has run; returns
 * what fn returned. The pool starts its workers lazily, up to its size (cio_pool_set_size; by default the
 * number of cores, at least 4).
 * If the task is cancelled while waiting, cio_to_thread returns -ECANCELED (or -ETIMEDOUT) at once: a call not
 * yet started never runs; one already running finishes on its worker and its result is discarded. Anything
 * `arg` points to must therefore stay valid until fn has finished, which the caller cannot observe after a
 * cancel: pass memory that fn owns (and frees), or static data.
 * Errors: CIO_ENOTASK / CIO_ENOLOOP; -ENOMEM; -EAGAIN a worker thread could not be started and none exists.
 */
int cio_to_thread(cio_thread_fn fn, void *arg);

/*
 * Set the number of worker threads (1 to 1024). Growing takes effect at once; shrinking as workers go idle.
 * Errors: -EINVAL out of range.
 */
int cio_pool_set_size(unsigned n);

/*
 * Calling cio from plain (blocking) code: asyncio.run_coroutine_threadsafe. From a thread that is not `loop`'s
 * own, run `fn(arg)` as a task on `loop` (which another thread is running) and get a handle to wait for it.
 * The submission holds a loop reference until the task has finished.
 * Errors: -EINVAL NULL argument; -EDEADLK called from the loop's own thread (waiting would block it); -ENOMEM.
 */
typedef struct cio_cfuture cio_cfuture;
int cio_run_coroutine_threadsafe(cio_cfuture **out, cio_loop *loop, cio_fn fn, void *arg);

/*
 * Block the calling thread until the task has finished, or `timeout` ns (CIO_INFINITE: no limit) have passed.
 * Returns the task's status, or -ETIMEDOUT (the task runs on; wait again or cancel).
 */
int cio_cfuture_result(cio_cfuture *cf, int64_t timeout);

/* Ask the loop to cancel the task. Returns 0, or -EALREADY if it has finished. */
int cio_cfuture_cancel(cio_cfuture *cf);

/* Release the handle; the task, if still running, runs on and its status is dropped. NULL is ignored. */
void cio_cfuture_close(cio_cfuture *cf);

/* ------------------------------------------------------------------------------------------------ signals */

/*
 * Suspend the calling task until signal `signo` arrives; returns signo. From its first use the signal is blocked
 * in the loop's thread (until the loop closes: unblocking it with one pending would deliver it with its default
 * action) and read through a signalfd while anyone waits for it or handles it; every task waiting for it wakes.
 * Block it in your other threads too (cio's pool threads block every signal), or the kernel may deliver it
 * to one of them instead.
 * Errors: -EINVAL not a catchable signal (SIGKILL, SIGSTOP, SIGSEGV, ...); the caller's cancellation.
 */
int cio_signal_wait(int signo);

/*
 * loop.add_signal_handler: call `cb(signo, arg)` on the current loop each time `signo` arrives (a plain
 * callback: it must not wait). Replaces an earlier handler for the same signal.
 * Errors: CIO_ENOLOOP; -EINVAL bad signal or NULL cb; -ENOMEM.
 */
int cio_signal_handler_add(int signo, void (*cb)(int signo, void *arg), void *arg);

/* Remove the handler. Returns 0, or -ENOENT if there was none. */
int cio_signal_handler_remove(int signo);

/* The loop of the calling thread, or NULL. */
cio_loop *cio_loop_current(void);

/* Whether debug mode is on for the loop (NULL: the current loop). */
bool cio_loop_debug(const cio_loop *loop);

/*
 * Time now, in ns of CLOCK_MONOTONIC. Inside a running loop this is the loop's cached clock, refreshed each
 * time the loop polls and whenever it fires timers (like uv_now); elsewhere it reads the clock.
 */
int64_t cio_now(void);

/* ------------------------------------------------------------------------------------------------ callbacks */

/*
 * Schedule `cb(arg)` to run on the current loop: soon (after what is ready now, FIFO), after `delay` ns, or at
 * the absolute time `when`. If `out` is not NULL it receives a handle that the caller must release with
 * cio_handle_close (before or after the callback ran); with NULL the callback is fire-and-forget.
 * Errors: CIO_ENOLOOP no loop in this thread; -EINVAL cb NULL or delay < 0; -ENOMEM.
 */
int cio_call_soon(cio_handle **out, cio_callback cb, void *arg);
int cio_call_later(cio_handle **out, int64_t delay, cio_callback cb, void *arg);
int cio_call_at(cio_handle **out, int64_t when, cio_callback cb, void *arg);

/*
 * Cancel a pending callback: it will never run.
 * Returns 0 when cancelled; -EALREADY it already ran or was already cancelled; CIO_EBADHANDLE not a live handle.
 */
int cio_handle_cancel(cio_handle *h);

/* Whether the callback has run. */
bool cio_handle_done(const cio_handle *h);

/* Release a handle; a callback still pending is cancelled first. NULL is ignored. */
void cio_handle_close(cio_handle *h);

/* ------------------------------------------------------------------------------------------------ tasks */

typedef struct cio_spawn_opts {
    /* The task's name, copied (at most 31 bytes kept); NULL gives "Task-<id>". */
    const char *name;
    /* Stack size in bytes; 0 means the loop's default. Otherwise from CIO_STACK_MIN to CIO_STACK_MAX, rounded
       up to whole pages. The stack is a fixed mapping: deep recursion needs a large one. */
    size_t stack_size;
} cio_spawn_opts;

/*
 * Create a task that runs `fn(arg)` on the current loop (asyncio.create_task). The task starts when the loop
 * next runs ready work; the caller continues. It must later be joined (cio_join, cio_gather, cio_wait_for) or
 * detached (cio_detach): debug mode reports tasks that are neither.
 * Errors: CIO_ENOLOOP no loop open in this thread; -EINVAL fn or out NULL, or a stack size out of range;
 *         -ENOMEM no memory or address space for the stack.
 * The macro records the spawn site (file, line) for reports.
 */
int cio_spawn_at(cio_task **out, cio_fn fn, void *arg, const cio_spawn_opts *opts, const char *file, int line);
#define cio_spawn(out, fn, arg, opts) cio_spawn_at((out), (fn), (arg), (opts), __FILE__, __LINE__)

/*
 * Wait for `t` to finish and release it; returns the body's status (whatever it returned, even after a cancel).
 * If the caller is cancelled while waiting, `t` is cancelled too and join still waits for its cleanup to end
 * (like awaiting a task in asyncio); the caller's own cancellation stays in force for its later waits.
 * Errors (the handle stays valid): CIO_ENOTASK not called from a task; -EDEADLK t is the caller;
 *         CIO_EBADHANDLE t already joined or detached, or owned by a task group; -EINVAL t NULL.
 */
int cio_join(cio_task *t);

/*
 * Let `t` run on by itself; it is released when it finishes. Its status is dropped (debug mode reports a
 * negative one other than -ECANCELED).
 * Errors: CIO_EBADHANDLE t already joined or detached, or owned by a group; -EINVAL NULL.
 */
int cio_detach(cio_task *t);

/*
 * Request cancellation of `t` (task.cancel(msg)): its current wait and every later one return -ECANCELED, unless
 * inside a shield. `reason` (may be NULL) is copied and readable with cio_task_cancel_reason.
 * Returns 0; -EALREADY t has finished; -EINVAL NULL; CIO_EBADHANDLE not live.
 */
int cio_cancel(cio_task *t, const char *reason);

/* Let the other ready tasks run, then continue. Returns 0, or -ECANCELED / -ETIMEDOUT if cancelled;
   CIO_ENOLOOP / CIO_ENOTASK as cio_sleep. */
int cio_yield(void);

/* Suspend for `delay` ns (>= 0), or until the absolute time `deadline`. Returns 0, or a cancellation error;
   -EINVAL negative delay; CIO_ENOLOOP no loop in this thread; CIO_ENOTASK a loop but not in a task. */
int cio_sleep(int64_t delay);
int cio_sleep_until(int64_t deadline);

/* The running task, or NULL outside tasks (in a callback, or outside a loop). */
cio_task *cio_current(void);

/* A task's id (unique in the process, from 1), its name, and whether it has finished. NULL: current task. */
uint64_t cio_task_id(const cio_task *t);
const char *cio_task_name(const cio_task *t);
bool cio_task_done(const cio_task *t);

/* Whether cancellation was requested for `t` (NULL: the current task), and the reason given (NULL if none). */
bool cio_task_cancelled(const cio_task *t);
const char *cio_task_cancel_reason(const cio_task *t);

/*
 * Whether the current task's waits would fail now, and with which error: 0, -ECANCELED or -ETIMEDOUT.
 * Lets long computations poll for cancellation without waiting.
 */
int cio_check_cancel(void);

/* ------------------------------------------------------------------------------------------------ context */

/*
 * Task-local context (Python's contextvars). A key names a slot; every task has a context, a map from keys to
 * values (void pointers), that only it changes:
 * - A task spawned (cio_spawn, cio_group_spawn) starts with a copy of the spawning task's context, as
 *   asyncio.create_task copies the current one: the copy is shared until one side sets a value, which then
 *   copies the map first, so neither ever sees the other's later changes. The main task of cio_loop_run and
 *   cio_run starts empty, and so do tasks of cio_run_coroutine_threadsafe.
 * - A callback scheduled with cio_call_soon / cio_call_later / cio_call_at runs with the context of whoever
 *   scheduled it (a task, or a callback), as it was at scheduling time; a value it sets is its own and goes
 *   when it returns. Callbacks posted with cio_call_soon_threadsafe, a future's done callbacks and signal
 *   handlers run outside any context (get gives NULL, set CIO_ENOTASK): contexts never cross threads.
 * - A value is held by every context that has it. The key's `destroy(value)` runs once, when the last context
 *   holding the value lets it go: the value is replaced or unset, or each task and callback holding it ended.
 *   It runs on the thread of that context's loop, at that point (a join, a set, the end of a callback), and
 *   must not wait; it may not call cio_context_set or cio_context_key_free.
 * A task that never sets a value costs nothing: spawning copies a pointer and, if the parent has a context,
 * counts one more reference.
 */
typedef struct cio_context_key cio_context_key;

/*
 * Make a key (a ContextVar). Keys belong to the process: tasks of any loop and thread may use one. `destroy` (may
 * be NULL) is called on each value once no context holds it.
 * Errors: -EINVAL out NULL; -ENOMEM.
 * Ownership: the caller frees it with cio_context_key_free.
 */
int cio_context_key_new(cio_context_key **out, void (*destroy)(void *value));

/*
 * Give up the key. Values still held for it in contexts stay (cio_context_get cannot reach them without the
 * key) and are destroyed as usual when their contexts let them go; the key's memory goes with the last of them.
 * Using the key after this is the caller's bug (cio_context_set reports CIO_EBADHANDLE while the memory stays).
 * NULL is ignored.
 */
void cio_context_key_free(cio_context_key *k);

/*
 * Set the current context's value for `k` (ContextVar.set): the running task's, or the running callback's.
 * The previous value, if any, is let go (destroyed unless another context still holds it); setting the value
 * the context already has changes nothing. A NULL `value` unsets the key.
 * Returns 0.
 * Errors: -EINVAL k NULL; CIO_EBADHANDLE k already freed; CIO_ENOLOOP no loop in this thread; CIO_ENOTASK a
 *         loop but neither a task nor a callback runs; -ENOMEM (nothing changed; `value` stays the caller's).
 * Ownership: `value` belongs to the context from now on (its destroy frees it), unless the call failed.
 */
int cio_context_set(cio_context_key *k, void *value);

/*
 * The current context's value for `k` (ContextVar.get): NULL when the key was never set there (or was unset),
 * when `k` is NULL, and outside tasks and scheduled callbacks (no loop, or in the loop's own work).
 * Borrowed: valid while the context holds it (until the caller sets `k` again, or its task ends).
 */
void *cio_context_get(cio_context_key *k);

/* ------------------------------------------------------------------------------------------------ futures */

/* Open a future on the current loop. Errors: CIO_ENOLOOP; -ENOMEM; -EINVAL out NULL. */
int cio_future_open(cio_future **out);

/*
 * Complete a future with a result pointer (borrowed: the future keeps it as given), with an error (< 0), or
 * cancel it. Awaiting tasks wake in the order they began to wait; done callbacks run soon after.
 * From another thread than the future's loop these are thread-safe: the completion is handed to the loop
 * (as by cio_call_soon_threadsafe) and 0 means "posted"; a second completion is then ignored on arrival, and
 * one arriving after cio_future_close is dropped. The loop must stay open until it has arrived.
 * Errors: -EALREADY already complete; -EINVAL bad argument (err >= 0).
 */
int cio_future_set_result(cio_future *f, void *result);
int cio_future_set_error(cio_future *f, int err);
int cio_future_cancel(cio_future *f);

/*
 * Wait until `f` completes; any number of tasks may wait. On success stores the result in `*result` (if not
 * NULL) and returns 0. Returns the error it was completed with; -ECANCELED if the future was cancelled; or the
 * caller's own cancellation (-ECANCELED / -ETIMEDOUT), which leaves the future untouched: unlike asyncio, a
 * cancelled waiter does not cancel a future that other tasks may share.
 */
int cio_future_await(cio_future *f, void **result);

/* Whether it is complete, and (when complete) its status: 0, the error, or -ECANCELED. -EAGAIN when pending. */
bool cio_future_done(const cio_future *f);
int cio_future_status(const cio_future *f);

/*
 * Call `cb(f, arg)` from the loop once `f` completes (soon, if it already has). Callbacks run in the order added.
 * Errors: -EINVAL; -ENOMEM.
 */
int cio_future_add_done_callback(cio_future *f, void (*cb)(cio_future *f, void *arg), void *arg);

/*
 * Release a future. Errors: -EBUSY tasks are still waiting on it (it stays open). NULL gives -EINVAL.
 * Done callbacks not yet run are dropped.
 */
int cio_future_close(cio_future *f);

/* ------------------------------------------------------------------------------------------------ combinators */

enum cio_gather_mode {
    /* Wait for every task and report every status (asyncio.gather(..., return_exceptions=True)). */
    CIO_GATHER_ALL = 0,
    /* At the first negative status, cancel the others, wait for their cleanup, and return that status. */
    CIO_GATHER_FIRST_ERROR = 1,
};

/*
 * Wait for `n` tasks, join them all (the handles are released in every case) and store each body's status in
 * `statuses[i]` (if not NULL). Returns 0 (ALL) or the first error (FIRST_ERROR, 0 if none failed).
 * If the caller is cancelled, every task is cancelled, gather still waits for all of them, fills `statuses`
 * and returns the caller's cancellation error.
 * Errors before anything is waited for (no handle released): -EINVAL NULL tasks with n > 0, a NULL or repeated
 * task, or a bad mode; CIO_EBADHANDLE a handle not joinable; -EDEADLK the caller is among them; CIO_ENOTASK.
 */
int cio_gather(cio_task *const *tasks, size_t n, int *statuses, int mode);

enum cio_wait_when {
    CIO_FIRST_COMPLETED = 0,
    CIO_FIRST_EXCEPTION = 1, /* the first task that finishes with a negative status; else all */
    CIO_ALL_COMPLETED = 2,
};

/*
 * asyncio.wait: suspend until the condition holds or `timeout` ns pass (CIO_INFINITE: no timeout). Nothing is
 * joined or cancelled: afterwards cio_task_done tells which are done, and the caller joins them.
 * Returns the number of tasks done (a timeout is not an error: fewer are done).
 * Errors: the caller's cancellation; -EINVAL; CIO_EBADHANDLE; CIO_ENOTASK.
 */
int cio_wait(cio_task *const *tasks, size_t n, int when, int64_t timeout);

/*
 * asyncio.as_completed: iterate the tasks in the order they finish. `next` returns 1 and stores a finished task
 * (still to be joined by the caller: the join returns at once), 0 when all have been returned, -ETIMEDOUT when
 * `timeout` ns (from open; CIO_INFINITE for none) have passed, or the caller's cancellation.
 * Close releases the iterator (not the tasks). The array is copied.
 */
int cio_as_completed_open(cio_as_completed **out, cio_task *const *tasks, size_t n, int64_t timeout);
int cio_as_completed_next(cio_as_completed *it, cio_task **task);
void cio_as_completed_close(cio_as_completed *it);

/*
 * wait_for(task, timeout): join `t`, but if `timeout` ns pass first, cancel it, wait for its cleanup and return
 * -ETIMEDOUT. The handle is released in both cases. Otherwise returns the body's status.
 */
int cio_wait_for(cio_task *t, int64_t timeout);

/* ------------------------------------------------------------------------------------------------ task groups */

/*
 * asyncio.TaskGroup. Open a group in a task; spawn children into it; close waits for all of them.
 * The first child to finish with a negative status cancels the group: the other children and the owner's own
 * waits between open and close return -ECANCELED. Close then returns that first error. If the owner itself is
 * cancelled, the children are cancelled and close returns the owner's cancellation error once they are done.
 * The group is a cancellation scope: groups and scopes nest, and must close in reverse order of opening.
 * Errors: CIO_ENOTASK; -ENOMEM; -EINVAL.
 */
int cio_group_open(cio_group **out);

/*
 * Spawn a child in the group, from any task of the group's loop (the owner, a child, a grandchild, any other)
 * while the group is open: also while the owner waits in cio_group_close, which then waits for the new child too,
 * as asyncio's tg.create_task allows. With `out`, the handle stays valid (for cio_task_done, cio_cancel, ...) until
 * the group is closed; it cannot be joined or detached, the group joins it.
 * Errors: those of cio_spawn; -ECANCELED the group is already cancelled (nothing spawned, like asyncio);
 *         CIO_ENOTASK not called from a task; CIO_ENOTOWNER called from a task of another loop (or thread);
 *         CIO_EBADHANDLE a group already closed (a handle kept past cio_group_close, which freed it, is still a
 *         caller's bug: the check catches what it can).
 */
int cio_group_spawn_at(cio_group *g, cio_task **out, cio_fn fn, void *arg, const cio_spawn_opts *opts, const char *file,
                       int line);
#define cio_group_spawn(g, out, fn, arg, opts) cio_group_spawn_at((g), (out), (fn), (arg), (opts), __FILE__, __LINE__)

/* Cancel every child and the owner's waits inside the group. Returns 0, -EINVAL for NULL. */
int cio_group_cancel(cio_group *g);

/*
 * Wait for every child, release the group, return the first error (0 if none). Waiting here ignores the owner's
 * cancellation (the children are cancelled instead), so close always waits for them all.
 * Errors: CIO_ESCOPEORDER a scope opened after the group is still open (nothing is released);
 *         CIO_ENOTOWNER not the owner.
 */
int cio_group_close(cio_group *g);

/* ------------------------------------------------------------------------------------------------ scopes */

/*
 * Timeout, deadline and shield scopes, in the caller's storage (on the task's stack).
 *
 *     cio_scope s;
 *     cio_timeout_begin(&s, CIO_SEC(5));
 *     rc = do_things();                  // waits inside return -ETIMEDOUT once 5 s have passed
 *     rc2 = cio_scope_end(&s);           // -ETIMEDOUT if a wait inside was cut short by this deadline
 *
 * The innermost expired scope gives the error. A shield scope hides cancellation from outside it (the task's
 * cancel, an outer timeout, a group), so cleanup can wait; it can carry its own timeout. Scopes end in reverse
 * order of beginning, in the task that began them.
 */
typedef struct cio_scope {
    void *opaque[12];
} cio_scope;

/* `timeout` may be CIO_INFINITE (a scope that only cio_scope_cancel ends early).
   Errors: CIO_ENOTASK; -EINVAL NULL, or a negative timeout other than CIO_INFINITE. */
int cio_timeout_begin(cio_scope *s, int64_t timeout);
int cio_deadline_begin(cio_scope *s, int64_t deadline);
/* A shield, with a timeout of its own (CIO_INFINITE for none). */
int cio_shield_begin(cio_scope *s, int64_t timeout);

/* Cancel the scope: the waits inside it return -ECANCELED. Returns 0; CIO_EBADHANDLE not begun. */
int cio_scope_cancel(cio_scope *s);

/* Whether the scope's deadline has passed or it was cancelled. */
bool cio_scope_expired(const cio_scope *s);

/*
 * End a scope. Returns -ETIMEDOUT if its deadline cut a wait short inside it (or a cio_check_cancel inside it
 * reported the deadline), -ECANCELED if cio_scope_cancel did, 0 otherwise: the deadline passing while nothing
 * inside noticed is not an error, like asyncio.timeout.
 * Errors: CIO_ESCOPEORDER not the innermost scope of the calling task (nothing changes); CIO_EBADHANDLE not begun.
 */
int cio_scope_end(cio_scope *s);

#ifdef __cplusplus
}
#endif

#endif
