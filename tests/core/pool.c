/* pool.c: tests of cio_to_thread and the thread pool: results, many calls, cancellation, the pool's size. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "corekit.h"
#include "harness.h"
#include "threadkit.h"

/* Worker functions get static data only: after a cancel the caller cannot tell when they finish. */

static int triple_plus_one(void *arg)
{
    return (int)(intptr_t)arg * 3 + 1;
}

static pthread_t worker_thread;

static int note_thread(void *arg)
{
    worker_thread = pthread_self();
    return (int)(intptr_t)arg;
}

static int returns_results(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_to_thread(triple_plus_one, (void *)(intptr_t)5), 16);
    cr_assert_eq(cio_to_thread(triple_plus_one, (void *)(intptr_t)-7), -20, "negative results come back as given");
    cr_assert_eq(cio_to_thread(note_thread, (void *)(intptr_t)-EPROTO), -EPROTO);
    cr_assert_not(pthread_equal(worker_thread, pthread_self()), "fn ran on a worker, not on the loop's thread");
    return 0;
}

Test(pool, to_thread_returns_what_the_function_returned_on_a_worker_thread)
{
    tst_run(returns_results, NULL);
}

/* ------------------------------------------------------------------------------------------------ many calls */

enum { MANY_TASKS = 1000, CALLS_PER_TASK = 10 };

static atomic_int many_ok;

static int many_caller(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < CALLS_PER_TASK; i++) {
        int v = id * CALLS_PER_TASK + i;
        int rc = cio_to_thread(triple_plus_one, (void *)(intptr_t)v);
        cr_assert_eq(rc, 3 * v + 1, "task %d call %d got %d", id, i, rc);
        atomic_fetch_add(&many_ok, 1);
    }
    return id;
}

static int many_calls(void *arg)
{
    (void)arg;
    static cio_task *tasks[MANY_TASKS];
    static int statuses[MANY_TASKS];
    for (int i = 0; i < MANY_TASKS; i++)
        cr_assert_eq(
            cio_spawn(&tasks[i], many_caller, (void *)(intptr_t)i, &(cio_spawn_opts){.stack_size = CIO_STACK_MIN}), 0);
    cr_assert_eq(cio_gather(tasks, MANY_TASKS, statuses, CIO_GATHER_ALL), 0);
    for (int i = 0; i < MANY_TASKS; i++)
        cr_assert_eq(statuses[i], i, "task %d: %s", i, cio_err_name(statuses[i]));
    cr_assert_eq(atomic_load(&many_ok), MANY_TASKS * CALLS_PER_TASK);
    return 0;
}

Test(pool, ten_thousand_calls_from_a_thousand_tasks_each_get_their_own_result)
{
    tst_run(many_calls, NULL);
}

/* ------------------------------------------------------------------------------------------------ bad input */

static int in_callback_rc = 1;

static void to_thread_in_callback(void *arg)
{
    (void)arg;
    in_callback_rc = cio_to_thread(triple_plus_one, NULL);
}

static int bad_calls(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_to_thread(NULL, NULL), -EINVAL);
    cio_handle *h;
    cr_assert_eq(cio_call_soon(&h, to_thread_in_callback, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    cr_assert(cio_handle_done(h));
    cio_handle_close(h);
    cr_assert_eq(in_callback_rc, CIO_ENOTASK, "in a callback: %s", cio_err_name(in_callback_rc));
    return 0;
}

Test(pool, to_thread_outside_a_task_or_with_null_fn_fails)
{
    cr_assert_eq(cio_to_thread(triple_plus_one, NULL), CIO_ENOLOOP, "no loop in this thread");
    tst_install_allocator();
    cio_loop *loop;
    cr_assert_eq(cio_loop_open(&loop, NULL), 0);
    cr_assert_eq(cio_to_thread(triple_plus_one, NULL), CIO_ENOTASK, "a loop, but not inside a task");
    cr_assert_eq(cio_loop_close(loop), 0);
    tst_run(bad_calls, NULL);
}

static int nomem_call(void *arg)
{
    (void)arg;
    tst_fail_alloc_at(1);
    int rc = cio_to_thread(triple_plus_one, NULL);
    tst_fail_alloc_at(0);
    cr_assert_eq(rc, -ENOMEM, "%s", cio_err_name(rc));
    cr_assert_eq(cio_to_thread(triple_plus_one, NULL), 1, "the pool works after a failed allocation");
    return 0;
}

Test(pool, to_thread_fails_with_enomem_when_the_job_cannot_be_allocated)
{
    tst_run(nomem_call, NULL);
}

Test(pool, set_size_accepts_1_to_1024_and_rejects_the_rest_with_einval)
{
    cr_assert_eq(cio_pool_set_size(0), -EINVAL);
    cr_assert_eq(cio_pool_set_size(1025), -EINVAL);
    cr_assert_eq(cio_pool_set_size(~0u), -EINVAL);
    cr_assert_eq(cio_pool_set_size(1024), 0);
    cr_assert_eq(cio_pool_set_size(1), 0);
    tst_run(returns_results, NULL);
}

/* ------------------------------------------------------------------------------------------------ cancellation */

/*
 * A worker function that reports it started (by completing a future from the worker, which is thread-safe),
 * then blocks until the test opens `release`.
 */
static struct {
    cio_future *entered;
    struct thk_gate release;
    atomic_int runs;
    atomic_int finished;
} blk;

static int blocker(void *arg)
{
    atomic_fetch_add(&blk.runs, 1);
    if (blk.entered)
        cio_future_set_result(blk.entered, NULL);
    thk_gate_wait(&blk.release);
    atomic_fetch_add(&blk.finished, 1);
    return (int)(intptr_t)arg;
}

static void blk_init(void)
{
    thk_gate_init(&blk.release);
    atomic_store(&blk.runs, 0);
    atomic_store(&blk.finished, 0);
}

static int call_blocker(void *arg)
{
    return cio_to_thread(blocker, arg);
}

static atomic_int counted;

static int count_call(void *arg)
{
    (void)arg;
    atomic_fetch_add(&counted, 1);
    return 0;
}

static int cancel_running(void *arg)
{
    (void)arg;
    blk.entered = tk_future();
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, call_blocker, (void *)(intptr_t)99, NULL), 0);
    cr_assert_eq(cio_future_await(blk.entered, NULL), 0, "the worker runs the function");
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED, "the task stops waiting at once");
    cr_assert_eq(atomic_load(&blk.finished), 0, "while the worker is still blocked");
    cr_assert_not(thk_gate_is_open(&blk.release));
    cr_assert_eq(cio_future_close(blk.entered), 0);
    blk.entered = NULL;
    return 0;
}

static void close_is_busy_then_release(cio_loop *loop, void *arg)
{
    (void)arg;
    /* The cancelled call's completion has not arrived (the worker is blocked): the loop is not done with it. */
    cr_assert_eq(cio_loop_close(loop), -EBUSY);
    cr_assert_eq(atomic_load(&blk.finished), 0);
    thk_gate_open(&blk.release);
}

Test(pool, cancel_while_the_worker_runs_returns_ecanceled_at_once_and_shutdown_waits_for_the_worker)
{
    blk_init();
    thk_run_shutdown(cancel_running, NULL, 0, close_is_busy_then_release);
    cr_assert_eq(atomic_load(&blk.finished), 1, "the worker finished; its result was dropped");
    cr_assert_eq(atomic_load(&blk.runs), 1);
    thk_gate_destroy(&blk.release);
}

static int cancel_queued(void *arg)
{
    (void)arg;
    blk.entered = tk_future();
    cio_task *running, *queued;
    cr_assert_eq(cio_spawn(&running, call_blocker, (void *)(intptr_t)7, NULL), 0);
    cr_assert_eq(cio_future_await(blk.entered, NULL), 0, "the only worker is busy");
    cr_assert_eq(cio_spawn(&queued, call_blocker, NULL, NULL), 0);
    cr_assert_eq(cio_yield(), 0); /* `queued` submits its call and parks */
    cr_assert_eq(cio_cancel(queued, NULL), 0);
    cr_assert_eq(cio_join(queued), -ECANCELED);
    thk_gate_open(&blk.release);
    cr_assert_eq(cio_join(running), 7);
    /* One worker takes jobs in order: once this call has run, the cancelled one was taken off the queue. */
    cr_assert_eq(cio_to_thread(count_call, NULL), 0);
    cr_assert_eq(atomic_load(&counted), 1);
    cr_assert_eq(atomic_load(&blk.runs), 1, "the cancelled call never ran");
    cr_assert_eq(cio_future_close(blk.entered), 0);
    blk.entered = NULL;
    return 0;
}

Test(pool, a_call_cancelled_before_a_worker_took_it_never_runs)
{
    blk_init();
    cr_assert_eq(cio_pool_set_size(1), 0);
    tst_run(cancel_queued, NULL);
    thk_gate_destroy(&blk.release);
}

/* A task that calls the blocker under a 1 ms timeout; returns the call's status. */
static int call_blocker_within_1ms(void *arg)
{
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_MS(1)), 0);
    int rc = cio_to_thread(blocker, arg);
    int end = cio_scope_end(&s);
    return rc == -ETIMEDOUT && end == -ETIMEDOUT ? rc : -EPROTO;
}

/* Hold the loop thread, without yielding, until the blocker has started `runs` times: no timer can fire before. */
static void hold_loop_until_runs(int runs)
{
    while (atomic_load(&blk.runs) < runs)
        sched_yield();
}

static int timeout_running(void *arg)
{
    (void)arg;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, call_blocker_within_1ms, (void *)(intptr_t)3, NULL), 0);
    cr_assert_eq(cio_yield(), 0); /* the task opened its scope and handed the call to the pool */
    hold_loop_until_runs(1);
    tk_spin_ns(CIO_MS(2)); /* the deadline has passed, while the call runs */
    cr_assert_eq(cio_join(t), -ETIMEDOUT, "the deadline ended the wait of a running call");
    cr_assert_eq(atomic_load(&blk.finished), 0, "the function is still blocked");
    thk_gate_open(&blk.release);
    /* The single worker runs the next call once the first has finished: its completion has come by then. */
    cr_assert_eq(cio_to_thread(count_call, NULL), 0);
    cr_assert_eq(atomic_load(&blk.finished), 1);
    cr_assert_eq(atomic_load(&blk.runs), 1);
    return 0;
}

Test(pool, a_deadline_cuts_a_running_call_short_with_etimedout)
{
    blk_init();
    cr_assert_eq(cio_pool_set_size(1), 0);
    tst_run(timeout_running, NULL);
    thk_gate_destroy(&blk.release);
}

static int timeout_queued(void *arg)
{
    (void)arg;
    cio_task *busy, *t;
    cr_assert_eq(cio_spawn(&busy, call_blocker, (void *)(intptr_t)5, NULL), 0);
    cr_assert_eq(cio_yield(), 0);
    hold_loop_until_runs(1); /* the only worker is taken */
    cr_assert_eq(cio_spawn(&t, call_blocker_within_1ms, (void *)(intptr_t)3, NULL), 0);
    cr_assert_eq(cio_yield(), 0); /* its call waits in the queue */
    tk_spin_ns(CIO_MS(2));
    cr_assert_eq(cio_join(t), -ETIMEDOUT, "the deadline ended the wait of a queued call");
    thk_gate_open(&blk.release);
    cr_assert_eq(cio_join(busy), 5);
    /* One worker takes calls in order: once this one has run, the timed-out call was taken off the queue. */
    cr_assert_eq(cio_to_thread(count_call, NULL), 0);
    cr_assert_eq(atomic_load(&blk.runs), 1, "the call whose deadline passed in the queue never ran");
    cr_assert_eq(atomic_load(&blk.finished), 1);
    return 0;
}

Test(pool, a_deadline_passing_before_a_worker_took_the_call_means_it_never_runs)
{
    blk_init();
    cr_assert_eq(cio_pool_set_size(1), 0);
    tst_run(timeout_queued, NULL);
    thk_gate_destroy(&blk.release);
}

/* ------------------------------------------------------------------------------------------------ pool size */

static pthread_barrier_t four;

static int meet_three_others(void *arg)
{
    pthread_barrier_wait(&four);
    return (int)(intptr_t)arg;
}

static int call_meet(void *arg)
{
    return cio_to_thread(meet_three_others, arg);
}

static int four_at_once(void *arg)
{
    (void)arg;
    cio_task *t[4];
    int st[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_spawn(&t[i], call_meet, (void *)(intptr_t)(i + 10), NULL), 0);
    cr_assert_eq(cio_gather(t, 4, st, CIO_GATHER_ALL), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(st[i], i + 10);
    return 0;
}

Test(pool, growing_the_pool_runs_that_many_calls_at_once)
{
    cr_assert_eq(cio_pool_set_size(1), 0);
    cr_assert_eq(cio_pool_set_size(4), 0);
    pthread_barrier_init(&four, NULL, 4);
    tst_run(four_at_once, NULL); /* hangs (and times out) unless four workers run together */
    pthread_barrier_destroy(&four);
}

Test(pool, after_shrinking_to_one_worker_a_queued_call_waits_for_the_running_one)
{
    cr_assert_eq(cio_pool_set_size(4), 0);
    pthread_barrier_init(&four, NULL, 4);
    tst_run(four_at_once, NULL); /* four workers exist now, idle afterwards */
    pthread_barrier_destroy(&four);
    cr_assert_eq(cio_pool_set_size(1), 0);
    blk_init();
    tst_run(cancel_queued, NULL); /* a surplus worker would have run the queued call */
    thk_gate_destroy(&blk.release);
}

/* ------------------------------------------------------------------------------------------------ two loops */

enum { PER_LOOP = 2000 };

static int calls_in_a_row(void *arg)
{
    int base = (int)(intptr_t)arg;
    for (int i = 0; i < PER_LOOP; i++) {
        int rc = cio_to_thread(triple_plus_one, (void *)(intptr_t)(base + i));
        if (rc != 3 * (base + i) + 1)
            return -EPROTO;
    }
    return 0;
}

static int calls_on_two_loops(void *arg)
{
    (void)arg;
    cio_task *t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cio_spawn(&t[i], calls_in_a_row, (void *)(intptr_t)(100000 + i * PER_LOOP), NULL), 0);
    cr_assert_eq(cio_gather(t, 4, NULL, CIO_GATHER_FIRST_ERROR), 0);
    return 0;
}

struct other_loop {
    int open_rc, run_rc, close_rc;
};

static void *run_other_loop(void *arg)
{
    struct other_loop *o = arg;
    cio_loop *loop;
    o->open_rc = cio_loop_open(&loop, NULL);
    if (o->open_rc == 0) {
        o->run_rc = cio_loop_run(loop, calls_on_two_loops, NULL);
        o->close_rc = cio_loop_close(loop);
    }
    return NULL;
}

static int two_loops(void *arg)
{
    struct other_loop *o = arg;
    pthread_t th = thk_start(run_other_loop, o);
    int rc = calls_on_two_loops(NULL);
    thk_join(th);
    return rc;
}

Test(pool, loops_in_two_threads_share_the_pool_and_each_gets_its_own_results)
{
    struct other_loop o = {1, 1, 1};
    tst_run(two_loops, &o);
    cr_assert_eq(o.open_rc, 0);
    cr_assert_eq(o.run_rc, 0, "%s", cio_err_name(o.run_rc));
    cr_assert_eq(o.close_rc, 0, "%s", cio_err_name(o.close_rc));
}
