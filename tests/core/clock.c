/* clock.c: the mock clock (cio_loop_opts.mock_clock): time jumps to the next timer when every task waits, stands
 * still while tasks run, and holds while something outside the loop may still wake a task. */
#include "harness.h"

#include <stdatomic.h>
#include <sys/socket.h>
#include <sched.h>

#include "corekit.h"
#include "threadkit.h"

static const cio_loop_opts mock = {.mock_clock = true};

static int sleep_an_hour(void *arg)
{
    (void)arg;
    int64_t t0 = cio_now();
    cr_assert_eq(cio_sleep(CIO_SEC(3600)), 0);
    cr_assert_eq(cio_now() - t0, CIO_SEC(3600), "the clock jumped exactly to the timer");
    cr_assert_eq(cio_sleep_until(t0 + CIO_SEC(7200)), 0);
    cr_assert_eq(cio_now() - t0, CIO_SEC(7200));
    return 0;
}

Test(clock, an_hour_of_sleep_passes_at_once_and_exactly)
{
    tst_run_expect(sleep_an_hour, NULL, &mock, 0);
}

struct order {
    int64_t t0;
    int n;
    int who[3];
    int64_t at[3];
};

struct sleeper {
    struct order *o;
    int id;
    int64_t delay;
};

static int note_wake(void *arg)
{
    struct sleeper *s = arg;
    int rc = cio_sleep(s->delay);
    s->o->who[s->o->n] = s->id;
    s->o->at[s->o->n++] = cio_now() - s->o->t0;
    return rc;
}

static int timers_in_order(void *arg)
{
    (void)arg;
    struct order o = {.t0 = cio_now()};
    struct sleeper s[3] = {{&o, 0, CIO_SEC(30)}, {&o, 1, CIO_SEC(10)}, {&o, 2, CIO_SEC(20)}};
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], note_wake, &s[i], NULL), 0);
    int st[3];
    cr_assert_eq(cio_gather(t, 3, st, CIO_GATHER_ALL), 0);
    cr_assert_eq(o.n, 3);
    const int want_who[3] = {1, 2, 0};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(st[i], 0);
        cr_assert_eq(o.who[i], want_who[i], "wake %d: task %d", i, o.who[i]);
        cr_assert_eq(o.at[i], CIO_SEC(10) * (i + 1), "wake %d at %lld ns", i, (long long)o.at[i]);
    }
    return 0;
}

Test(clock, timers_fire_in_deadline_order_each_at_its_time)
{
    tst_run_expect(timers_in_order, NULL, &mock, 0);
}

static int still_while_running(void *arg)
{
    (void)arg;
    int64_t t0 = cio_now();
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, tk_yielder, (void *)(intptr_t)1000, NULL), 0);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(cio_yield(), 0);
    tk_spin_ns(CIO_MS(2));
    cr_assert_eq(cio_yield(), 0);
    cr_assert_eq(cio_now(), t0, "no timer was waited for, so no time passed");
    cr_assert_eq(cio_join(t), 0);
    return 0;
}

Test(clock, time_stands_still_while_tasks_run)
{
    tst_run_expect(still_while_running, NULL, &mock, 0);
}

static int timeout_scopes(void *arg)
{
    (void)arg;
    int64_t t0 = cio_now();
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_SEC(5)), 0);
    cr_assert_eq(cio_sleep(CIO_SEC(60)), -ETIMEDOUT);
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, CIO_SEC(5), "the deadline, not the sleep, decided when");
    return 0;
}

Test(clock, a_timeout_cuts_a_longer_wait_at_its_deadline)
{
    tst_run_expect(timeout_scopes, NULL, &mock, 0);
}

/* Two tasks on a socketpair: I/O that is ready is taken before time jumps, and a read waits in mock time. */
static int late_writer(void *arg)
{
    cio_stream *w = arg;
    int rc = cio_sleep(CIO_SEC(10));
    if (rc < 0)
        return rc;
    return cio_stream_write(w, "x", 1);
}

static int io_and_timers(void *arg)
{
    (void)arg;
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    cio_stream *r, *w;
    cr_assert_eq(cio_stream_open_fd(&r, fds[0], NULL), 0);
    cr_assert_eq(cio_stream_open_fd(&w, fds[1], NULL), 0);
    int64_t t0 = cio_now();
    cio_task *wt;
    cr_assert_eq(cio_spawn(&wt, late_writer, w, NULL), 0);
    char c;
    cio_scope s;
    cr_assert_eq(cio_timeout_begin(&s, CIO_SEC(5)), 0);
    cr_assert_eq(cio_stream_read(r, &c, 1), -ETIMEDOUT, "nothing comes for 10 s: the 5 s timeout ends the read");
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    cr_assert_eq(cio_now() - t0, CIO_SEC(5));
    cr_assert_eq(cio_timeout_begin(&s, CIO_SEC(20)), 0);
    cr_assert_eq(cio_stream_read(r, &c, 1), 1, "the byte written at 10 s comes before the 25 s deadline");
    cr_assert_eq(cio_scope_end(&s), 0);
    cr_assert_eq(cio_now() - t0, CIO_SEC(10));
    cr_assert_eq(cio_join(wt), 0);
    cr_assert_eq(cio_stream_close(r), 0);
    cr_assert_eq(cio_stream_close(w), 0);
    return 0;
}

Test(clock, io_between_tasks_interleaves_with_jumps)
{
    tst_run_expect(io_and_timers, NULL, &mock, 0);
}

/* A pool call in flight may wake a task at any moment: the clock must not jump past a timer meanwhile. */
static struct thk_gate gate;
static atomic_int entered;

static int blocked_call(void *arg)
{
    (void)arg;
    atomic_store(&entered, 1);
    thk_gate_wait(&gate);
    return 7;
}

static void *opener(void *arg)
{
    (void)arg;
    while (!atomic_load(&entered))
        sched_yield();
    thk_gate_open(&gate);
    return NULL;
}

struct held {
    int call_done;
    int done_when_woken;
};

static int pool_caller(void *arg)
{
    struct held *h = arg;
    int rc = cio_to_thread(blocked_call, NULL);
    h->call_done = 1;
    return rc;
}

static int timed_sleeper(void *arg)
{
    struct held *h = arg;
    int rc = cio_sleep(CIO_SEC(1));
    h->done_when_woken = h->call_done;
    return rc;
}

static int pool_holds_time(void *arg)
{
    (void)arg;
    struct held h = {0};
    int64_t t0 = cio_now();
    cio_task *t[2];
    cr_assert_eq(cio_spawn(&t[0], pool_caller, &h, NULL), 0);
    cr_assert_eq(cio_spawn(&t[1], timed_sleeper, &h, NULL), 0);
    int st[2];
    cr_assert_eq(cio_gather(t, 2, st, CIO_GATHER_ALL), 0);
    cr_assert_eq(st[0], 7);
    cr_assert_eq(st[1], 0);
    cr_assert_eq(h.done_when_woken, 1, "the sleep ended only after the pool call had come back");
    cr_assert_eq(cio_now() - t0, CIO_SEC(1));
    return 0;
}

Test(clock, a_pool_call_in_flight_holds_time_still)
{
    thk_gate_init(&gate);
    pthread_t th = thk_start(opener, NULL);
    tst_run_expect(pool_holds_time, NULL, &mock, 0);
    thk_join(th);
    thk_gate_destroy(&gate);
}

static int wait_on_nothing(void *arg)
{
    int *rc = arg;
    cio_future *f = tk_future();
    *rc = cio_future_await(f, NULL);
    cr_assert_eq(cio_future_close(f), 0);
    return *rc;
}

Test(clock, a_wait_with_no_timer_is_still_a_deadlock)
{
    tst_install_allocator();
    long blocks = tst_live_blocks();
    cio_loop *loop;
    int rc = 1;
    cr_assert_eq(cio_loop_open(&loop, &mock), 0);
    cr_assert_eq(cio_loop_run(loop, wait_on_nothing, &rc), -EDEADLK);
    cr_assert_eq(rc, 1, "main is left waiting");
    cr_assert_eq(cio_loop_shutdown(loop), 0);
    cr_assert_eq(rc, -ECANCELED);
    cr_assert_eq(cio_loop_close(loop), 0);
    cr_assert_eq(tst_live_blocks(), blocks);
}
