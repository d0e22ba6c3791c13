/* chaoskit.h: a transport for tests that wraps a stream's socket: short reads and writes, EAGAIN storms, and an
 * error injected at a chosen call. */
#ifndef CIO_TEST_CHAOSKIT_H
#define CIO_TEST_CHAOSKIT_H

#include <stdbool.h>

#include "io/transport.h"

/*
 * Wrap `lower` (cio__transport_wrap's signature). The wrapper's reads return at most a few bytes, and a read that
 * may not wait says EAGAIN every other time although bytes may be there (its wait_input then returns at once,
 * after a yield, as a real socket's would with its edge still set); its writes take at most a few bytes. A real
 * socket says EAGAIN on output only when full, so that a later edge flushes the rest: the wrapper never says it
 * spuriously for writes. Everything else passes through.
 */
struct cio__transport *tst_chaos_wrap(struct cio__transport *lower);

/* Install tst_chaos_wrap for every stream opened from now on (CIO_TEST_TRANSPORT=chaos does it at start). */
void tst_chaos_install(void);

/* tst_chaos_install if the environment has CIO_TEST_TRANSPORT=chaos (tst_install_allocator calls it). */
void tst_chaos_from_env(void);

/* Whether the chaos transport is installed: tests that count system calls or buffer sizes relax those counts. */
bool tst_chaos_on(void);

/*
 * From now on, the `n`th call (1 = the next) into any chaos transport's read, writev, wait_input, wait_output,
 * shutdown, finish or sendfile fails with `err` instead of doing anything; 0 turns it off. Returns the number of
 * calls made since the last tst_chaos_fail_at, so a test can stop once a run made fewer calls than `n`.
 */
long tst_chaos_fail_at(long n, int err);
long tst_chaos_calls(void);

#endif
