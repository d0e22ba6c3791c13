/* threadkit.h: helpers for tests that involve other threads: gates, thread start/join, a run that shuts down. */
#ifndef CIO_TEST_THREADKIT_H
#define CIO_TEST_THREADKIT_H

#include <pthread.h>

#include "cio.h"

/* A one-shot gate: thk_gate_wait blocks the calling thread until some thread opens it. */
struct thk_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
};
void thk_gate_init(struct thk_gate *g);
void thk_gate_open(struct thk_gate *g);
void thk_gate_wait(struct thk_gate *g);
int thk_gate_is_open(struct thk_gate *g);
void thk_gate_destroy(struct thk_gate *g);

/* Start a joinable thread running fn(arg), failing the test if that fails; join it. */
pthread_t thk_start(void *(*fn)(void *), void *arg);
void thk_join(pthread_t th);

/*
 * Like tst_run_expect, but between the run and the close it calls cio_loop_shutdown (requiring 0), which waits
 * for what other threads still owe the loop. `between`, if not NULL, is called after the run and before the
 * shutdown, on the test thread, with `loop` and `arg`.
 */
void thk_run_shutdown(int (*body)(void *), void *arg, int want, void (*between)(cio_loop *loop, void *arg));

#endif
