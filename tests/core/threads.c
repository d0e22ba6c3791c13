/* threads.c: tests of entering a loop from other threads: posted callbacks, loop references, futures completed
   from other threads, and running coroutines from plain threads (cio_run_coroutine_threadsafe). */
#include <pthread.h>
#include <stdatomic.h>

#include "corekit.h"
#include "harness.h"
#include "threadkit.h"

/*
 * Threads other than the loop's record what they saw and the test asserts on the loop's thread after joining
 * them. Every thread that touches a loop is joined before that loop closes.
 */

/* ------------------------------------------------------------------------------------------------ posted callbacks */

enum { POSTS = 1000 };

struct poster {
    cio_loop *loop;
    pthread_t loop_thread;
    cio_future *all_ran;
    int post_errors;
    long ran, disorder, wrong_thread;
};

static struct poster poster;

static void posted_cb(void *arg)
{
    long seq = (long)(intptr_t)arg;
    if (seq != poster.ran)
        poster.disorder++;
    if (!pthread_equal(pthread_self(), poster.loop_thread) || cio_loop_current() != poster.loop)
        poster.wrong_thread++;
    if (++poster.ran == POSTS)
        cr_assert_eq(cio_future_set_result(poster.all_ran, NULL), 0);
}

static void *post_many(void *arg)
{
    (void)arg;
    for (long i = 0; i < POSTS; i++)
        if (cio_call_soon_threadsafe(poster.loop, posted_cb, (void *)(intptr_t)i) != 0)
            poster.post_errors++;
    return NULL;
}

static int callbacks_from_a_thread(void *arg)
{
    (void)arg;
    poster.loop = cio_loop_current();
    poster.loop_thread = pthread_self();
    poster.all_ran = tk_future();
    cio_loop_ref(poster.loop); /* the thread may still post while everything here waits */
    pthread_t th = thk_start(post_many, NULL);
    cr_assert_eq(cio_future_await(poster.all_ran, NULL), 0);
    cio_loop_unref(poster.loop);
    thk_join(th);
    cr_assert_eq(poster.post_errors, 0);
    cr_assert_eq(poster.ran, POSTS);
    cr_assert_eq(poster.disorder, 0, "callbacks from one thread run in posting order");
    cr_assert_eq(poster.wrong_thread, 0, "callbacks run on the loop's thread");
    cr_assert_eq(cio_future_close(poster.all_ran), 0);
    return 0;
}

Test(threads, call_soon_threadsafe_runs_callbacks_on_the_loop_thread_in_posting_order)
{
    tst_run(callbacks_from_a_thread, NULL);
}

static void complete_future(void *arg)
{
    cr_assert_eq(cio_future_set_result(arg, arg), 0);
}

static int callback_from_own_thread(void *arg)
{
    (void)arg;
    cio_future *f = tk_future();
    void *r = NULL;
    cr_assert_eq(cio_call_soon_threadsafe(cio_loop_current(), complete_future, f), 0);
    cr_assert_eq(cio_future_await(f, &r), 0, "a posted callback counts as pending work: no -EDEADLK");
    cr_assert_eq(r, f);
    cr_assert_eq(cio_future_close(f), 0);
    return 0;
}

Test(threads, call_soon_threadsafe_from_the_loop_thread_itself_runs_the_callback)
{
    tst_run(callback_from_own_thread, NULL);
}

static void never_called(void *arg)
{
    (void)arg;
    cr_assert_fail("this callback must not run");
}

static int null_posts(void *arg)
{
    (void)arg;
    cr_assert_eq(cio_call_soon_threadsafe(NULL, never_called, NULL), -EINVAL);
    cr_assert_eq(cio_call_soon_threadsafe(cio_loop_current(), NULL, NULL), -EINVAL);
    return 0;
}

Test(threads, call_soon_threadsafe_with_null_arguments_fails_with_einval)
{
    cr_assert_eq(cio_call_soon_threadsafe(NULL, never_called, NULL), -EINVAL);
    tst_run(null_posts, NULL);
}

/* ------------------------------------------------------------------------------------------------ two loops */

enum { MESSAGES = 100000 };
enum { STREAM, PINGPONG };

struct side {
    int id;
    int mode;
    cio_loop *loop;
    struct side *peer;
    cio_future *all_in;
    long received, disorder, post_errors;
    int open_rc, run_rc, close_rc;
};

static struct side sides[2];
static pthread_barrier_t started, finished;

static void on_message(struct side *s, long seq);

static void recv0(void *arg)
{
    on_message(&sides[0], (long)(intptr_t)arg);
}

static void recv1(void *arg)
{
    on_message(&sides[1], (long)(intptr_t)arg);
}

static void send_to_peer(struct side *s, long seq)
{
    if (cio_call_soon_threadsafe(s->peer->loop, s->id == 0 ? recv1 : recv0, (void *)(intptr_t)seq) != 0)
        s->post_errors++;
}

static void on_message(struct side *s, long seq)
{
    if (seq != s->received)
        s->disorder++;
    s->received++;
    if (s->mode == PINGPONG) {
        if (s->id == 1)
            send_to_peer(s, seq); /* the echo */
        else if (seq + 1 < MESSAGES)
            send_to_peer(s, seq + 1);
    }
    if (s->received == MESSAGES)
        cio_future_set_result(s->all_in, NULL);
}

/* The main task of each loop; runs in both threads, so it reports failures through its status only. */
static int side_main(void *arg)
{
    struct side *s = arg;
    s->loop = cio_loop_current();
    int rc = cio_future_open(&s->all_in);
    if (rc < 0)
        return rc;
    cio_loop_ref(s->loop); /* the peer may post at any time until we have everything */
    pthread_barrier_wait(&started);
    if (s->mode == STREAM) {
        for (long i = 0; i < MESSAGES; i++) {
            send_to_peer(s, i);
            if (i % 1024 == 1023 && (rc = cio_yield()) < 0)
                break;
        }
    } else if (s->id == 0) {
        send_to_peer(s, 0);
    }
    if (rc == 0)
        rc = cio_future_await(s->all_in, NULL);
    cio_loop_unref(s->loop);
    /* Both sides have everything, so neither posts again: the loops may close. */
    pthread_barrier_wait(&finished);
    cio_future_close(s->all_in);
    return rc;
}

static void *side_thread(void *arg)
{
    struct side *s = arg;
    cio_loop *loop;
    s->open_rc = cio_loop_open(&loop, NULL);
    if (s->open_rc == 0) {
        s->run_rc = cio_loop_run(loop, side_main, s);
        s->close_rc = cio_loop_close(loop);
    }
    return NULL;
}

static int two_loops(void *arg)
{
    (void)arg;
    pthread_t th = thk_start(side_thread, &sides[1]);
    int rc = side_main(&sides[0]);
    thk_join(th); /* inside the run, so the leak check counts the other loop too */
    return rc;
}

static void exchange(int mode)
{
    for (int i = 0; i < 2; i++)
        sides[i] =
            (struct side){.id = i, .mode = mode, .peer = &sides[1 - i], .open_rc = 1, .run_rc = 1, .close_rc = 1};
    pthread_barrier_init(&started, NULL, 2);
    pthread_barrier_init(&finished, NULL, 2);
    tst_run(two_loops, NULL);
    pthread_barrier_destroy(&started);
    pthread_barrier_destroy(&finished);
    cr_assert_eq(sides[1].open_rc, 0);
    cr_assert_eq(sides[1].run_rc, 0, "%s", cio_err_name(sides[1].run_rc));
    cr_assert_eq(sides[1].close_rc, 0, "%s", cio_err_name(sides[1].close_rc));
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sides[i].post_errors, 0, "side %d", i);
        cr_assert_eq(sides[i].received, MESSAGES, "side %d received %ld", i, sides[i].received);
        cr_assert_eq(sides[i].disorder, 0, "side %d: %ld out of order", i, sides[i].disorder);
    }
}

Test(threads, two_loops_stream_100000_messages_each_way_none_lost_all_in_order)
{
    exchange(STREAM);
}

Test(threads, two_loops_play_100000_rounds_of_ping_pong_none_lost)
{
    exchange(PINGPONG);
}

/* ------------------------------------------------------------------------------------------------ futures */

static int marker;

struct remote_done {
    cio_loop *loop;
    cio_future *f[3];
    cio_future *flushed;
    struct thk_gate go, posted;
    int rc[3];
    int how; /* which completions the thread makes */
};

enum { SET_RESULT, THREE_KINDS, TWICE, BEFORE_CLOSE };

static void flush_cb(void *arg)
{
    struct remote_done *d = arg;
    cio_future_set_result(d->flushed, NULL);
}

static void *complete_remotely(void *arg)
{
    struct remote_done *d = arg;
    thk_gate_wait(&d->go);
    switch (d->how) {
    case SET_RESULT:
        d->rc[0] = cio_future_set_result(d->f[0], &marker);
        break;
    case THREE_KINDS:
        d->rc[0] = cio_future_set_result(d->f[0], &marker);
        d->rc[1] = cio_future_set_error(d->f[1], -EPIPE);
        d->rc[2] = cio_future_cancel(d->f[2]);
        break;
    case TWICE:
        d->rc[0] = cio_future_set_result(d->f[0], &marker);
        d->rc[1] = cio_future_set_error(d->f[0], -EIO);
        break;
    case BEFORE_CLOSE:
        d->rc[0] = cio_future_set_result(d->f[0], &marker);
        break;
    }
    /* Callbacks from one thread arrive in order: when this one runs, the completions above have arrived. */
    if (d->flushed)
        cio_call_soon_threadsafe(d->loop, flush_cb, d);
    thk_gate_open(&d->posted);
    cio_loop_unref(d->loop); /* last: until here this thread may still complete something */
    return NULL;
}

static pthread_t start_completer(struct remote_done *d, int how)
{
    d->how = how;
    d->loop = cio_loop_current();
    thk_gate_init(&d->go);
    thk_gate_init(&d->posted);
    cio_loop_ref(d->loop);
    return thk_start(complete_remotely, d);
}

static void end_completer(struct remote_done *d, pthread_t th)
{
    thk_join(th);
    thk_gate_destroy(&d->go);
    thk_gate_destroy(&d->posted);
}

static int wakes_awaiter(void *arg)
{
    (void)arg;
    struct remote_done d = {0};
    struct tk_await a = {.f = tk_future()};
    d.f[0] = a.f;
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_awaiter, &a, NULL), 0);
    cr_assert_eq(tk_yield_until(&a.started), 0);
    pthread_t th = start_completer(&d, SET_RESULT);
    thk_gate_open(&d.go); /* the awaiter is already waiting */
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(a.result, &marker);
    end_completer(&d, th);
    cr_assert_eq(d.rc[0], 0, "0 means posted");
    cr_assert_eq(cio_future_close(a.f), 0);
    return 0;
}

Test(threads, a_future_completed_from_another_thread_wakes_the_awaiting_task)
{
    tst_run(wakes_awaiter, NULL);
}

static int three_kinds(void *arg)
{
    (void)arg;
    struct remote_done d = {0};
    for (int i = 0; i < 3; i++)
        d.f[i] = tk_future();
    pthread_t th = start_completer(&d, THREE_KINDS);
    thk_gate_open(&d.go);
    void *r = NULL;
    cr_assert_eq(cio_future_await(d.f[0], &r), 0);
    cr_assert_eq(r, &marker);
    cr_assert_eq(cio_future_await(d.f[1], NULL), -EPIPE);
    cr_assert_eq(cio_future_await(d.f[2], NULL), -ECANCELED);
    cr_assert_eq(cio_future_status(d.f[2]), -ECANCELED);
    end_completer(&d, th);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(d.rc[i], 0, "completion %d: %s", i, cio_err_name(d.rc[i]));
        cr_assert_eq(cio_future_close(d.f[i]), 0);
    }
    return 0;
}

Test(threads, set_error_and_cancel_from_another_thread_complete_the_future)
{
    tst_run(three_kinds, NULL);
}

static int twice(void *arg)
{
    (void)arg;
    struct remote_done d = {0};
    d.f[0] = tk_future();
    d.flushed = tk_future();
    pthread_t th = start_completer(&d, TWICE);
    thk_gate_open(&d.go);
    cr_assert_eq(cio_future_await(d.flushed, NULL), 0, "both completions have arrived");
    void *r = NULL;
    cr_assert_eq(cio_future_await(d.f[0], &r), 0, "the first completion counts");
    cr_assert_eq(r, &marker);
    end_completer(&d, th);
    cr_assert_eq(d.rc[0], 0);
    cr_assert_eq(d.rc[1], 0, "from another thread a completion is only posted: 0");
    cr_assert_eq(cio_future_close(d.f[0]), 0);
    cr_assert_eq(cio_future_close(d.flushed), 0);
    return 0;
}

Test(threads, a_second_completion_from_another_thread_is_ignored_on_arrival)
{
    tst_run(twice, NULL);
}

static int after_close(void *arg)
{
    (void)arg;
    struct remote_done d = {0};
    d.f[0] = tk_future();
    d.flushed = tk_future();
    pthread_t th = start_completer(&d, BEFORE_CLOSE);
    thk_gate_open(&d.go);
    thk_gate_wait(&d.posted); /* blocks this loop's thread: the completion cannot arrive yet */
    cr_assert_eq(cio_future_close(d.f[0]), 0);
    cr_assert_eq(cio_future_await(d.flushed, NULL), 0, "the completion arrived after the close");
    end_completer(&d, th);
    cr_assert_eq(d.rc[0], 0);
    cr_assert_eq(cio_future_close(d.flushed), 0);
    return 0;
}

Test(threads, a_completion_arriving_after_the_future_was_closed_is_dropped)
{
    tst_run(after_close, NULL);
}

/* ------------------------------------------------------------------------------------------------ references */

struct lone {
    cio_future *f;
    struct thk_gate waiting;
    cio_loop *loop;
    pthread_t th;
    int rc;
    int after;
};

static void *complete_when_waiting(void *arg)
{
    struct lone *l = arg;
    thk_gate_wait(&l->waiting);
    cio_future_set_result(l->f, &marker);
    cio_loop_unref(l->loop);
    return NULL;
}

static int ref_held(void *arg)
{
    struct lone *l = arg;
    l->loop = cio_loop_current();
    l->f = tk_future();
    thk_gate_init(&l->waiting);
    cio_loop_ref(l->loop); /* for the thread, which completes f at some later time */
    l->th = thk_start(complete_when_waiting, l);
    thk_gate_open(&l->waiting); /* the await below parks before this thread runs again */
    void *r = NULL;
    l->rc = cio_future_await(l->f, &r);
    cr_assert_eq(l->rc, 0, "%s", cio_err_name(l->rc));
    cr_assert_eq(r, &marker);
    thk_join(l->th);
    thk_gate_destroy(&l->waiting);
    cr_assert_eq(cio_future_close(l->f), 0);
    return 0;
}

Test(threads, a_loop_ref_held_by_a_thread_that_completes_the_future_prevents_edeadlk)
{
    struct lone l = {0};
    tst_run(ref_held, &l);
}

static int await_alone(void *arg)
{
    struct lone *l = arg;
    l->f = tk_future();
    l->rc = cio_future_await(l->f, NULL);
    l->after = 1;
    cr_assert_eq(cio_future_close(l->f), 0);
    return l->rc;
}

static void left_waiting(cio_loop *loop, void *arg)
{
    (void)loop;
    struct lone *l = arg;
    cr_assert_eq(l->after, 0, "main is left waiting until shutdown cancels it");
}

Test(threads, run_gives_edeadlk_when_main_awaits_a_future_and_no_ref_is_held)
{
    struct lone l = {0};
    thk_run_shutdown(await_alone, &l, -EDEADLK, left_waiting);
    cr_assert_eq(l.after, 1);
    cr_assert_eq(l.rc, -ECANCELED);
}

static void *just_unref(void *arg)
{
    struct lone *l = arg;
    thk_gate_wait(&l->waiting);
    cio_loop_unref(l->loop);
    return NULL;
}

static int ref_dropped(void *arg)
{
    struct lone *l = arg;
    l->loop = cio_loop_current();
    thk_gate_init(&l->waiting);
    cio_loop_ref(l->loop);
    l->th = thk_start(just_unref, l);
    thk_gate_open(&l->waiting);
    return await_alone(l);
}

static void join_unref_thread(cio_loop *loop, void *arg)
{
    left_waiting(loop, arg);
    struct lone *l = arg;
    thk_join(l->th);
    thk_gate_destroy(&l->waiting);
}

Test(threads, dropping_the_last_ref_wakes_the_loop_so_that_it_reports_edeadlk)
{
    struct lone l = {0};
    thk_run_shutdown(ref_dropped, &l, -EDEADLK, join_unref_thread);
    cr_assert_eq(l.rc, -ECANCELED);
}

Test(threads, loop_ref_and_unref_ignore_null)
{
    cio_loop_ref(NULL);
    cio_loop_unref(NULL);
    tst_run(tk_return, NULL);
}

/* ------------------------------------------------------------------------------------------------
 * run_coroutine_threadsafe */

/* A plain thread's view: it submits work to the loop and records what it saw; `done` tells the loop it ended. */
struct plain {
    cio_loop *loop;
    cio_future *done;
    cio_future *gate; /* a future of the loop, completed by the plain thread */
    struct thk_gate coroutine_started, submitted;
    void *(*fn)(void *);
    int rc[6];
    int ran, finished, on_loop;
};

static int coroutine_value(void *arg)
{
    struct plain *p = arg;
    p->on_loop = cio_current() != NULL && cio_loop_current() == p->loop;
    p->ran++;
    for (int i = 0; i < 3; i++)
        cio_yield();
    return 42;
}

static int coroutine_await_gate(void *arg)
{
    struct plain *p = arg;
    p->ran++;
    int rc = cio_future_await(p->gate, NULL);
    p->finished = 1;
    return rc < 0 ? rc : 43;
}

static int coroutine_sleep(void *arg)
{
    struct plain *p = arg;
    p->ran++;
    thk_gate_open(&p->coroutine_started);
    return cio_sleep(TK_FOREVER);
}

static void *plain_result(void *arg)
{
    struct plain *p = arg;
    cio_cfuture *cf = NULL;
    p->rc[0] = cio_run_coroutine_threadsafe(&cf, p->loop, coroutine_value, p);
    if (p->rc[0] == 0) {
        p->rc[1] = cio_cfuture_result(cf, CIO_INFINITE);
        p->rc[2] = cio_cfuture_result(cf, 0); /* done: at once */
        p->rc[3] = cio_cfuture_result(cf, -5);
        p->rc[4] = cio_cfuture_cancel(cf);
        cio_cfuture_close(cf);
    }
    return NULL;
}

static void *plain_timeout(void *arg)
{
    struct plain *p = arg;
    cio_cfuture *cf = NULL;
    p->rc[0] = cio_run_coroutine_threadsafe(&cf, p->loop, coroutine_await_gate, p);
    if (p->rc[0] == 0) {
        p->rc[1] = cio_cfuture_result(cf, 0);
        p->rc[2] = cio_cfuture_result(cf, CIO_MS(1));
        p->rc[3] = cio_future_set_result(p->gate, NULL); /* lets the coroutine finish */
        p->rc[4] = cio_cfuture_result(cf, CIO_INFINITE);
        p->rc[5] = cio_cfuture_result(cf, CIO_SEC(1));
        cio_cfuture_close(cf);
    }
    return NULL;
}

static void *plain_cancel(void *arg)
{
    struct plain *p = arg;
    cio_cfuture *cf = NULL;
    p->rc[0] = cio_run_coroutine_threadsafe(&cf, p->loop, coroutine_sleep, p);
    if (p->rc[0] == 0) {
        thk_gate_wait(&p->coroutine_started);
        p->rc[1] = cio_cfuture_cancel(cf);
        p->rc[2] = cio_cfuture_result(cf, CIO_INFINITE);
        p->rc[3] = cio_cfuture_cancel(cf);
        cio_cfuture_close(cf);
    }
    return NULL;
}

static void *plain_cancel_early(void *arg)
{
    struct plain *p = arg;
    cio_cfuture *cf = NULL;
    p->rc[0] = cio_run_coroutine_threadsafe(&cf, p->loop, coroutine_sleep, p);
    if (p->rc[0] == 0) {
        p->rc[1] = cio_cfuture_cancel(cf);
        thk_gate_open(&p->submitted); /* only now may the loop take the submission */
        p->rc[2] = cio_cfuture_result(cf, CIO_INFINITE);
        cio_cfuture_close(cf);
    }
    return NULL;
}

static void *plain_close_early(void *arg)
{
    struct plain *p = arg;
    cio_cfuture *cf = NULL;
    p->rc[0] = cio_run_coroutine_threadsafe(&cf, p->loop, coroutine_await_gate, p);
    if (p->rc[0] == 0) {
        cio_cfuture_close(cf); /* the task runs on; its status is dropped */
        p->rc[1] = cio_future_set_result(p->gate, NULL);
    }
    return NULL;
}

static void *plain_errors(void *arg)
{
    struct plain *p = arg;
    cio_cfuture *cf = NULL;
    p->rc[0] = cio_run_coroutine_threadsafe(NULL, p->loop, coroutine_value, p);
    p->rc[1] = cio_run_coroutine_threadsafe(&cf, NULL, coroutine_value, p);
    p->rc[2] = cio_run_coroutine_threadsafe(&cf, p->loop, NULL, p);
    p->rc[3] = cio_cfuture_result(NULL, CIO_INFINITE);
    p->rc[4] = cio_cfuture_cancel(NULL);
    cio_cfuture_close(NULL);
    p->rc[5] = cf == NULL;
    return NULL;
}

static void *plain_thread(void *arg)
{
    struct plain *p = arg;
    p->fn(p);
    cio_future_set_result(p->done, NULL);
    return NULL;
}

/* On the loop: let a plain thread run p->fn, hold a reference until it has ended, and clean up. */
static int host_plain(void *arg)
{
    struct plain *p = arg;
    p->loop = cio_loop_current();
    p->done = tk_future();
    p->gate = tk_future();
    thk_gate_init(&p->coroutine_started);
    thk_gate_init(&p->submitted);
    cio_loop_ref(p->loop);
    pthread_t th = thk_start(plain_thread, p);
    if (p->fn == plain_cancel_early)
        thk_gate_wait(&p->submitted); /* keep the loop from running until the thread has submitted and cancelled */
    cr_assert_eq(cio_future_await(p->done, NULL), 0);
    cio_loop_unref(p->loop);
    thk_join(th);
    if (p->fn == plain_close_early)
        cr_assert_eq(tk_yield_until(&p->finished), 0, "the task runs on after its handle was closed");
    cr_assert_eq(cio_future_close(p->done), 0);
    cr_assert_eq(cio_future_close(p->gate), 0);
    thk_gate_destroy(&p->coroutine_started);
    thk_gate_destroy(&p->submitted);
    return 0;
}

static void run_plain(struct plain *p, void *(*fn)(void *))
{
    p->fn = fn;
    tst_run(host_plain, p);
}

Test(threads, run_coroutine_threadsafe_from_a_plain_thread_returns_the_task_status_through_cfuture_result)
{
    struct plain p = {0};
    run_plain(&p, plain_result);
    cr_assert_eq(p.rc[0], 0);
    cr_assert_eq(p.rc[1], 42);
    cr_assert_eq(p.rc[2], 42, "a finished task's status is returned at once, again");
    cr_assert_eq(p.rc[3], -EINVAL, "a negative timeout other than CIO_INFINITE");
    cr_assert_eq(p.rc[4], -EALREADY, "cancel after the task finished");
    cr_assert_eq(p.ran, 1);
    cr_assert(p.on_loop, "the coroutine ran as a task of the loop");
}

Test(threads, cfuture_result_with_a_timeout_gives_etimedout_then_the_real_result)
{
    struct plain p = {0};
    run_plain(&p, plain_timeout);
    cr_assert_eq(p.rc[0], 0);
    cr_assert_eq(p.rc[1], -ETIMEDOUT, "%s", cio_err_name(p.rc[1]));
    cr_assert_eq(p.rc[2], -ETIMEDOUT, "%s", cio_err_name(p.rc[2]));
    cr_assert_eq(p.rc[3], 0);
    cr_assert_eq(p.rc[4], 43, "%s", cio_err_name(p.rc[4]));
    cr_assert_eq(p.rc[5], 43);
}

Test(threads, cfuture_cancel_cancels_the_running_task_whose_status_is_ecanceled)
{
    struct plain p = {0};
    run_plain(&p, plain_cancel);
    cr_assert_eq(p.rc[0], 0);
    cr_assert_eq(p.rc[1], 0);
    cr_assert_eq(p.rc[2], -ECANCELED, "%s", cio_err_name(p.rc[2]));
    cr_assert_eq(p.rc[3], -EALREADY);
}

Test(threads, cfuture_cancel_before_the_loop_started_the_task_gives_ecanceled)
{
    struct plain p = {0};
    run_plain(&p, plain_cancel_early);
    cr_assert_eq(p.rc[0], 0);
    cr_assert_eq(p.rc[1], 0);
    cr_assert_eq(p.rc[2], -ECANCELED, "%s", cio_err_name(p.rc[2]));
}

Test(threads, cfuture_close_while_the_task_runs_lets_it_finish_and_frees_everything)
{
    struct plain p = {0};
    run_plain(&p, plain_close_early);
    cr_assert_eq(p.rc[0], 0);
    cr_assert_eq(p.rc[1], 0);
    cr_assert_eq(p.ran, 1);
}

Test(threads, run_coroutine_threadsafe_and_cfuture_functions_reject_null_with_einval)
{
    struct plain p = {0};
    run_plain(&p, plain_errors);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(p.rc[i], -EINVAL, "case %d: %s", i, cio_err_name(p.rc[i]));
    cr_assert(p.rc[5], "nothing stored on failure");
}

static int from_own_thread(void *arg)
{
    (void)arg;
    cio_cfuture *cf = NULL;
    cr_assert_eq(cio_run_coroutine_threadsafe(&cf, cio_loop_current(), tk_return, NULL), -EDEADLK);
    cr_assert_null(cf);
    return 0;
}

Test(threads, run_coroutine_threadsafe_from_the_loop_thread_fails_with_edeadlk)
{
    tst_run(from_own_thread, NULL);
}

enum { SUBMITTERS = 4, PER_SUBMITTER = 250 };

struct submitter {
    cio_loop *loop;
    cio_future *done;
    int base;
    int wrong, failed;
};

static void *submit_many(void *arg)
{
    struct submitter *s = arg;
    static _Thread_local cio_cfuture *cf[PER_SUBMITTER];
    for (int i = 0; i < PER_SUBMITTER; i++)
        if (cio_run_coroutine_threadsafe(&cf[i], s->loop, tk_return, (void *)(intptr_t)(s->base + i)) != 0)
            cf[i] = NULL, s->failed++;
    for (int i = 0; i < PER_SUBMITTER; i++) {
        if (!cf[i])
            continue;
        if (cio_cfuture_result(cf[i], CIO_INFINITE) != s->base + i)
            s->wrong++;
        cio_cfuture_close(cf[i]);
    }
    cio_future_set_result(s->done, NULL);
    return NULL;
}

static int many_submitters(void *arg)
{
    (void)arg;
    struct submitter s[SUBMITTERS];
    pthread_t th[SUBMITTERS];
    cio_loop_ref(cio_loop_current());
    for (int i = 0; i < SUBMITTERS; i++) {
        s[i] = (struct submitter){.loop = cio_loop_current(), .done = tk_future(), .base = 1000 * (i + 1)};
        th[i] = thk_start(submit_many, &s[i]);
    }
    for (int i = 0; i < SUBMITTERS; i++)
        cr_assert_eq(cio_future_await(s[i].done, NULL), 0);
    cio_loop_unref(cio_loop_current());
    for (int i = 0; i < SUBMITTERS; i++) {
        thk_join(th[i]);
        cr_assert_eq(s[i].failed, 0);
        cr_assert_eq(s[i].wrong, 0, "thread %d: %d wrong results", i, s[i].wrong);
        cr_assert_eq(cio_future_close(s[i].done), 0);
    }
    return 0;
}

Test(threads, four_threads_each_run_250_coroutines_and_get_each_result)
{
    tst_run(many_submitters, NULL);
}

enum { RACERS = 4, RACER_POSTS = 50000 };

static atomic_long raced;
static cio_future *raced_all;

static void racer_cb(void *arg)
{
    (void)arg;
    if (atomic_fetch_add(&raced, 1) + 1 == (long)RACERS * RACER_POSTS)
        cr_assert_eq(cio_future_set_result(raced_all, NULL), 0);
}

static void *racer(void *arg)
{
    cio_loop *loop = arg;
    for (int i = 0; i < RACER_POSTS; i++)
        cio_call_soon_threadsafe(loop, racer_cb, NULL);
    return NULL;
}

static int racing_posts(void *arg)
{
    (void)arg;
    cio_loop *loop = cio_loop_current();
    raced_all = tk_future();
    pthread_t th[RACERS];
    cio_loop_ref(loop);
    for (int i = 0; i < RACERS; i++)
        th[i] = thk_start(racer, loop);
    cr_assert_eq(cio_future_await(raced_all, NULL), 0); /* hangs if a post is left in the queue unsignalled */
    cio_loop_unref(loop);
    for (int i = 0; i < RACERS; i++)
        thk_join(th[i]);
    cr_assert_eq(atomic_load(&raced), (long)RACERS * RACER_POSTS);
    cr_assert_eq(cio_future_close(raced_all), 0);
    return 0;
}

Test(threads, posts_from_four_threads_racing_with_the_loop_draining_all_run)
{
    tst_run(racing_posts, NULL);
}
