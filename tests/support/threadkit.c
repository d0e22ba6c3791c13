/* threadkit.c: helpers for tests that involve other threads. */
#include "threadkit.h"

#include "harness.h"

void thk_gate_init(struct thk_gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = 0;
}

void thk_gate_open(struct thk_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void thk_gate_wait(struct thk_gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

int thk_gate_is_open(struct thk_gate *g)
{
    pthread_mutex_lock(&g->mu);
    int open = g->open;
    pthread_mutex_unlock(&g->mu);
    return open;
}

void thk_gate_destroy(struct thk_gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

pthread_t thk_start(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    int rc = pthread_create(&th, NULL, fn, arg);
    cr_assert_eq(rc, 0, "pthread_create: %d", rc);
    return th;
}

void thk_join(pthread_t th)
{
    int rc = pthread_join(th, NULL);
    cr_assert_eq(rc, 0, "pthread_join: %d", rc);
}

void thk_run_shutdown(int (*body)(void *), void *arg, int want, void (*between)(cio_loop *loop, void *arg))
{
    tst_install_allocator();
    int fds = tst_open_fds();
    long blocks = tst_live_blocks();
    cio_loop *loop;
    int rc = cio_loop_open(&loop, &(cio_loop_opts){.log = tst_log_sink});
    cr_assert_eq(rc, 0, "loop open: %s", cio_err_name(rc));
    rc = cio_loop_run(loop, body, arg);
    cr_assert_eq(rc, want, "body returned %s (%d), wanted %s", cio_err_name(rc), rc, cio_err_name(want));
    if (between)
        between(loop, arg);
    rc = cio_loop_shutdown(loop);
    cr_assert_eq(rc, 0, "shutdown: %s", cio_err_name(rc));
    rc = cio_loop_close(loop);
    cr_assert_eq(rc, 0, "close: %s\n%s", cio_err_name(rc), tst_log_text());
    cr_assert_eq(tst_open_fds(), fds, "leaked file descriptors");
    cr_assert_eq(tst_live_blocks(), blocks, "leaked %ld blocks", tst_live_blocks() - blocks);
}
