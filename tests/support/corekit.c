/* corekit.c: small task bodies and helpers shared by the runtime core tests. */
#include "corekit.h"

#include <time.h>

#include <criterion/criterion.h>

int tk_sleeper(void *arg)
{
    struct tk_sleep *s = arg;
    s->started = 1;
    s->rc = cio_sleep(TK_FOREVER);
    s->cleaned = 1;
    return s->ret ? s->ret : s->rc;
}

int tk_awaiter(void *arg)
{
    struct tk_await *a = arg;
    a->started = 1;
    a->rc = cio_future_await(a->f, &a->result);
    return a->rc;
}

int tk_return(void *arg)
{
    return (int)(intptr_t)arg;
}

int tk_yielder(void *arg)
{
    int n = (int)(intptr_t)arg;
    for (int i = 0; i < n; i++) {
        int rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    return 0;
}

int tk_yield_until(const int *flag)
{
    for (long i = 0; !*(const volatile int *)flag; i++) {
        cr_assert_lt(i, 1000000L, "condition never came true");
        int rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    return 0;
}

int tk_yield_until_done(const cio_task *t)
{
    for (long i = 0; !cio_task_done(t); i++) {
        cr_assert_lt(i, 1000000L, "task never finished");
        int rc = cio_yield();
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tk_spin_ns(int64_t ns)
{
    int64_t end = mono_ns() + ns;
    while (mono_ns() < end) {
    }
}

cio_future *tk_future(void)
{
    cio_future *f = NULL;
    int rc = cio_future_open(&f);
    cr_assert_eq(rc, 0, "future open: %s", cio_err_name(rc));
    return f;
}
