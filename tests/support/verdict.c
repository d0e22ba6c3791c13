/* verdict.c: what decides a test executable's result besides its assertions: a leak found by LeakSanitizer
 * fails the test that made it, and under CI=true a skip, or an executable that ran no test, fails the run. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TST_LSAN 1
#endif
#endif

#ifdef TST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/*
 * Criterion reports a test's verdict when its body returns, before the child process exits; LeakSanitizer's own
 * check runs at exit, too late to change it (a leaking test passed). So the call that runs each test body is
 * wrapped (the link has --wrap=criterion_internal_test_main): the body runs, then, still inside the test, a
 * recoverable leak check, whose report fails the test. Blocks still reachable (a library's globals, the thread
 * pool's threads) are not leaks and are not reported.
 */
void __real_criterion_internal_test_main(void (*fn)(void));
void __wrap_criterion_internal_test_main(void (*fn)(void));

static void (*test_body)(void);

/* A parameterised test's body takes the parameter; a plain one is called with it too and ignores it, as
   Criterion's own trampolines do. */
static void body_then_leak_check(void *param)
{
    ((void (*)(void *))test_body)(param);
#ifdef TST_LSAN
    if (__lsan_do_recoverable_leak_check())
        cr_assert_fail("LeakSanitizer found memory leaked by this test (its report is above)");
#endif
}

void __wrap_criterion_internal_test_main(void (*fn)(void))
{
    test_body = fn;
    __real_criterion_internal_test_main((void (*)(void))body_then_leak_check);
}

/*
 * In CI every peer and tool is installed, so a skip means a test did not run that should have: the executable
 * fails. So does one that ran no test at all (a filter or a build option that compiled every test out). Criterion's
 * main prints its summary after this hook, so the failing exit status is set by an exit handler.
 */
static void fail_at_exit(void)
{
    fflush(NULL);
    _exit(1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    if (!tst_in_ci())
        return;
    /* Criterion counts the tests a --filter left out as skipped too; those are marked disabled, and no cio test
       is disabled in its source, so a skip that is not disabled is one that ran and skipped. */
    size_t skipped = 0;
    for (struct criterion_suite_stats *s = stats->suites; s; s = s->next)
        for (struct criterion_test_stats *t = s->tests; t; t = t->next)
            if (t->test_status == CR_STATUS_SKIPPED && !t->test->data->disabled)
                skipped++;
    size_t ran = stats->tests_passed + stats->tests_failed + stats->tests_crashed;
    if (skipped > 0)
        fprintf(stderr, "cio tests: %zu test(s) skipped under CI=true, where nothing may skip\n", skipped);
    if (ran == 0)
        fprintf(stderr, "cio tests: this executable ran no test\n");
    if (skipped > 0 || ran == 0)
        atexit(fail_at_exit);
}
