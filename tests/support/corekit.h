/* corekit.h: small task bodies and helpers shared by the runtime core tests. */
#ifndef CIO_TEST_COREKIT_H
#define CIO_TEST_COREKIT_H

#include <stdint.h>

#include "cio.h"

/* A long time that no test waits out: waits of this length end only by cancellation or a deadline. */
#define TK_FOREVER CIO_SEC(3600)

/*
 * State of a task that sleeps "forever" (tk_sleeper): `started` is set before the sleep, `rc` receives what the
 * sleep returned and `cleaned` is set after. The body returns `ret` if it is not 0, else `rc`.
 */
struct tk_sleep {
    int started;
    int rc;
    int cleaned;
    int ret;
};
int tk_sleeper(void *arg);

/* State of a task that awaits a future (tk_awaiter): the await's status and result. Returns the status. */
struct tk_await {
    cio_future *f;
    int started;
    int rc;
    void *result;
};
int tk_awaiter(void *arg);

/* A body that returns (int)(intptr_t)arg at once. */
int tk_return(void *arg);

/* A body that yields (int)(intptr_t)arg times, then returns 0 (or the first failing yield's error). */
int tk_yielder(void *arg);

/* Yield until `*flag` is non-zero; returns 0, or a yield's error. Fails the test after a million turns. */
int tk_yield_until(const int *flag);

/* Yield until `t` has finished (cio_task_done); same results as tk_yield_until. */
int tk_yield_until_done(const cio_task *t);

/* Busy-wait, without yielding, until the monotonic clock has advanced by `ns`. */
void tk_spin_ns(int64_t ns);

/* Open a future on the current loop, failing the test if that fails. */
cio_future *tk_future(void);

#endif
