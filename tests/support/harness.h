/* harness.h: what every cio test uses: run a body on a fresh loop and prove nothing was left behind. */
#ifndef CIO_TEST_HARNESS_H
#define CIO_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "cio.h"

/*
 * Open a loop (with `opts`, may be NULL), run `body(arg)` as its main task, require the body to return
 * `want`, close the loop (requiring 0: nothing alive), then require that no file descriptor and no block
 * allocated by cio is left over. The loop's log lines are kept for tst_log_contains.
 */
void tst_run_expect(int (*body)(void *), void *arg, const cio_loop_opts *opts, int want);
#define tst_run(body, arg) tst_run_expect((body), (arg), NULL, 0)

/* The number of open file descriptors of this process. */
int tst_open_fds(void);

/* Blocks allocated through cio's allocator and not yet freed (the test allocator counts them). */
long tst_live_blocks(void);
/* Of those, the blocks of at least TST_BIG_BLOCK bytes made since tst_run opened its loop (I/O buffers; task
   stacks are mapped, not allocated; the loop's own are not counted). */
#define TST_BIG_BLOCK ((size_t)64 * 1024)
long tst_live_big_blocks(void);
/* Make the nth allocation from now fail (1 = the next one); 0 turns failure off. */
void tst_fail_alloc_at(long n);
/* Allocations made since the counter was last reset. */
long tst_alloc_count(void);
void tst_alloc_count_reset(void);
/* Install the counting allocator (tst_run does it; call it yourself before opening a loop by hand). */
void tst_install_allocator(void);

/* A loop log sink that keeps lines in memory: pass it as cio_loop_opts.log (log_arg unused). */
void tst_log_sink(void *arg, const char *line);
/* Whether a kept log line contains `needle`; clear the kept lines. */
int tst_log_contains(const char *needle);
void tst_log_clear(void);
/* All kept lines joined by newlines (static storage, valid until the next log call). */
const char *tst_log_text(void);

/* Whether the tests run in CI (CI=true in the environment), where every peer is installed and nothing may skip. */
bool tst_in_ci(void);
/* Skip the current test, saying what is missing; under CI=true this fails it instead. */
#define tst_skip(...)                                                                      \
    do {                                                                                   \
        if (tst_in_ci())                                                                   \
            cr_assert_fail("skipped under CI=true, where nothing may skip: " __VA_ARGS__); \
        else                                                                               \
            cr_skip_test(__VA_ARGS__);                                                     \
    } while (0)

/* Copy `n` bytes of `src` so that the byte after them is on an unreadable page. */
const char *tst_guarded(const char *src, size_t n);

#endif
