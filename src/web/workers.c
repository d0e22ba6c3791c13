/* workers.c: one loop per core: worker threads, each serving the frozen app on a socket of its own (SO_REUSEPORT),
 * started one after another so that a kernel-chosen port is the first worker's, and stopped through each loop's
 * thread-safe call; and systemd's socket activation. */
#include "web/web.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cio/sync.h"

#define WORKERS_MAGIC 0x7765626bu /* "webk" */

_Thread_local int cio__web_worker_index;

enum { W_STARTING, W_SERVING, W_FAILED, W_DONE };

struct worker {
    struct cio_web_workers *pool;
    unsigned index;
    pthread_t thread;
    bool joinable;
    cio_loop *loop;
    cio_event stop; /* on the worker's loop */
    int64_t grace;
    int state; /* under pool->mu */
    int rc;    /* the start's error, then the close's result */
};

struct cio_web_workers {
    uint32_t magic;
    cio_web_app *app;
    cio_web_server_opts opts;
    int port;
    unsigned n;
    struct worker *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void set_state(struct worker *w, int state, int rc)
{
    pthread_mutex_lock(&w->pool->mu);
    w->state = state;
    w->rc = rc;
    pthread_cond_broadcast(&w->pool->cv);
    pthread_mutex_unlock(&w->pool->mu);
}

static void on_stop(void *arg)
{
    struct worker *w = arg;
    (void)cio_event_set(&w->stop);
}

static int worker_main(void *arg)
{
    struct worker *w = arg;
    struct cio_web_workers *pool = w->pool;
    cio_web_server_opts o = pool->opts;
    o.port = pool->port;
    o.reuse_port = pool->n > 1 || o.reuse_port;
    cio__web_worker_index = (int)w->index;
    cio_web_server *srv;
    cio_event_init(&w->stop);
    int rc = cio_web_server_start(&srv, pool->app, &o);
    if (rc < 0) {
        cio_event_fini(&w->stop);
        set_state(w, W_FAILED, rc);
        return rc;
    }
    if (w->index == 0)
        pool->port = cio_web_server_port(srv); /* read by the starter once this worker says it serves */
    set_state(w, W_SERVING, 0);
    /* Wait for the word to stop: nothing but cio_web_workers_close sets it. */
    while ((rc = cio_event_wait(&w->stop)) < 0 && rc != -ECANCELED)
        ;
    rc = cio_web_server_close(srv, w->grace);
    cio_event_fini(&w->stop);
    return rc;
}

static void *worker_thread(void *arg)
{
    struct worker *w = arg;
    /* Shutdown signals are the starting thread's to receive. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    cio_loop *loop;
    int rc = cio_loop_open(&loop, NULL);
    if (rc < 0) {
        set_state(w, W_FAILED, rc);
        return NULL;
    }
    w->loop = loop;
    cio_loop_ref(loop); /* cio_web_workers_close reaches it from another thread */
    rc = cio_loop_run(loop, worker_main, w);
    cio_loop_unref(loop);
    (void)cio_loop_shutdown(loop);
    (void)cio_loop_close(loop);
    pthread_mutex_lock(&w->pool->mu);
    if (w->state == W_SERVING)
        w->rc = rc;
    w->state = w->state == W_FAILED ? W_FAILED : W_DONE;
    w->loop = NULL;
    pthread_cond_broadcast(&w->pool->cv);
    pthread_mutex_unlock(&w->pool->mu);
    return NULL;
}

/* Ask a serving worker to stop. Under pool->mu: the loop stays open while the worker is W_SERVING. */
static void ask_stop(struct worker *w, int64_t grace)
{
    pthread_mutex_lock(&w->pool->mu);
    if (w->state == W_SERVING && w->loop) {
        w->grace = grace;
        (void)cio_call_soon_threadsafe(w->loop, on_stop, w);
    }
    pthread_mutex_unlock(&w->pool->mu);
}

int cio_web_workers_close(cio_web_workers *pool, int64_t grace)
{
    if (!pool)
        return 0;
    if (pool->magic != WORKERS_MAGIC || grace < 0)
        return -EINVAL;
    for (unsigned i = 0; i < pool->n; i++)
        if (pool->w[i].joinable)
            ask_stop(&pool->w[i], grace);
    int rc = 0;
    for (unsigned i = 0; i < pool->n; i++) {
        struct worker *w = &pool->w[i];
        if (!w->joinable)
            continue;
        pthread_join(w->thread, NULL);
        if (w->state == W_DONE && w->rc < 0 && !rc)
            rc = w->rc;
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    pool->magic = 0;
    cio__free(pool->w);
    cio__free(pool);
    return rc;
}

static unsigned cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int cio_web_workers_start(cio_web_workers **out, cio_web_app *app, const cio_web_server_opts *opts, unsigned n)
{
    if (!out || !app || app->parent)
        return -EINVAL;
    *out = NULL;
    if (!n)
        n = cores();
    if (n > 1024 || (opts && (opts->listen_fd > 0 || opts->unix_path) && n > 1))
        return -EINVAL;
    int rc = cio__web_app_freeze(app); /* before any thread reads it */
    if (rc < 0)
        return rc;
    struct cio_web_workers *pool = cio__calloc(1, sizeof(*pool));
    if (!pool || !(pool->w = cio__calloc(n, sizeof(*pool->w)))) {
        cio__free(pool);
        return -ENOMEM;
    }
    pool->magic = WORKERS_MAGIC;
    pool->app = app;
    if (opts)
        pool->opts = *opts;
    pool->port = pool->opts.port;
    pool->n = n;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    for (unsigned i = 0; i < n && rc == 0; i++) {
        struct worker *w = &pool->w[i];
        w->pool = pool;
        w->index = i;
        w->state = W_STARTING;
        if (pthread_create(&w->thread, NULL, worker_thread, w) != 0) {
            rc = -EAGAIN;
            break;
        }
        w->joinable = true;
        /* One at a time: the next one binds the port this one got. */
        pthread_mutex_lock(&pool->mu);
        while (w->state == W_STARTING)
            pthread_cond_wait(&pool->cv, &pool->mu);
        if (w->state == W_FAILED)
            rc = w->rc;
        pthread_mutex_unlock(&pool->mu);
    }
    if (rc < 0) {
        (void)cio_web_workers_close(pool, 0);
        return rc;
    }
    *out = pool;
    return 0;
}

int cio_web_workers_port(const cio_web_workers *w)
{
    return w && w->magic == WORKERS_MAGIC ? w->port : -EINVAL;
}

unsigned cio_web_workers_count(const cio_web_workers *w)
{
    return w && w->magic == WORKERS_MAGIC ? w->n : 0;
}

/* ------------------------------------------------------------------------------------------------ systemd */

static int parse_uint(const char *s, unsigned long *out)
{
    if (!s || !*s)
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || s[0] == '+')
        return -EINVAL;
    *out = v;
    return 0;
}

int cio_web_listen_fds(int *fd)
{
    if (!fd)
        return -EINVAL;
    const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
    if (!pid_s || !fds_s)
        return 0;
    unsigned long pid, nfds;
    int rc = 0;
    if (parse_uint(pid_s, &pid) < 0 || parse_uint(fds_s, &nfds) < 0 || nfds > 1024)
        rc = -EINVAL;
    else if (pid != (unsigned long)getpid())
        rc = 0; /* meant for another process */
    else
        rc = (int)nfds;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (rc > 0)
        *fd = 3; /* SD_LISTEN_FDS_START */
    return rc;
}
