/* pool.c: the thread pool behind cio_to_thread, for work that blocks or cannot be made asynchronous. */
#include "core/runtime.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/*
 * One pool per process, as in libuv: loops in several threads share it. Workers start lazily, one each time a
 * job finds no idle worker, up to `size`; they block every signal, so that signals reach the loops' signalfds.
 * A job's completion travels back to its loop as a posted callback, which wakes the task that asked.
 */

enum { JOB_QUEUED, JOB_RUNNING, JOB_SKIPPED };

struct job {
    struct cio__remote r; /* first: the completion posted to the loop */
    struct job *next;
    cio_thread_fn fn;
    void *arg;
    int result;
    atomic_int state;
    cio_loop *loop;
    /* The waiting task; NULL once it stopped waiting (cancelled): the completion then only frees the job. */
    struct cio_task *task;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, **tail;
    unsigned size, threads, idle;
    bool atfork;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static unsigned default_size(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 4 ? 4 : n > 1024 ? 1024 : (unsigned)n;
}

/* A forked child has none of the parent's workers: it starts over with an empty pool. */
static void after_fork_child(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
    pool.head = NULL;
    pool.tail = &pool.head;
    pool.threads = pool.idle = 0;
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.head && pool.threads <= pool.size) {
            pool.idle++;
            pthread_cond_wait(&pool.cv, &pool.mu);
            pool.idle--;
        }
        if (pool.threads > pool.size) /* the pool shrank */
            break;
        struct job *j = pool.head;
        pool.head = j->next;
        if (!pool.head)
            pool.tail = &pool.head;
        pthread_mutex_unlock(&pool.mu);
        int expected = JOB_QUEUED;
        if (atomic_compare_exchange_strong(&j->state, &expected, JOB_RUNNING))
            j->result = j->fn(j->arg);
        cio__loop_post(j->loop, &j->r);
        pthread_mutex_lock(&pool.mu);
    }
    pool.threads--;
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

/* Start a worker; called with the mutex held. */
static int start_worker(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int rc = pthread_create(&th, &attr, worker, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return -rc;
    pool.threads++;
    return 0;
}

static int submit(struct job *j)
{
    pthread_mutex_lock(&pool.mu);
    if (!pool.atfork) {
        pthread_atfork(NULL, NULL, after_fork_child);
        pool.atfork = true;
    }
    if (!pool.tail)
        pool.tail = &pool.head;
    if (!pool.size)
        pool.size = default_size();
    if (pool.idle == 0 && pool.threads < pool.size) {
        int rc = start_worker();
        if (rc < 0 && pool.threads == 0) {
            pthread_mutex_unlock(&pool.mu);
            return -EAGAIN;
        }
    }
    j->next = NULL;
    *pool.tail = j;
    pool.tail = &j->next;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

int cio_pool_set_size(unsigned n)
{
    if (n < 1 || n > 1024)
        return -EINVAL;
    pthread_mutex_lock(&pool.mu);
    pool.size = n;
    pthread_cond_broadcast(&pool.cv); /* surplus idle workers leave */
    pthread_mutex_unlock(&pool.mu);
    return 0;
}

/* On the loop: the job ran (or was skipped). */
static void job_done(struct cio__remote *r)
{
    struct job *j = (struct job *)r;
    cio_loop *l = j->loop;
    if (j->task)
        cio__unpark(j->task, 0);
    else
        cio__free(j);
    cio_loop_unref(l);
}

static void job_unlink(struct cio_task *t)
{
    struct job *j = t->wait_obj;
    j->task = NULL;
    int expected = JOB_QUEUED;
    atomic_compare_exchange_strong(&j->state, &expected, JOB_SKIPPED);
}

int cio_to_thread(cio_thread_fn fn, void *arg)
{
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    if (!fn)
        return -EINVAL;
    struct job *j = cio__malloc(sizeof *j);
    if (!j)
        return -ENOMEM;
    memset(j, 0, sizeof *j);
    j->r.fn = job_done;
    j->fn = fn;
    j->arg = arg;
    j->loop = t->loop;
    j->task = t;
    atomic_init(&j->state, JOB_QUEUED);
    cio_loop_ref(t->loop);
    rc = submit(j);
    if (rc < 0) {
        atomic_fetch_sub(&t->loop->external, 1);
        cio__free(j);
        return rc;
    }
    rc = cio__park(t, job_unlink, j);
    if (rc < 0)
        return rc; /* the job frees itself when its completion arrives */
    rc = j->result;
    cio__free(j);
    return rc;
}
