/* leak.c: a test that leaks on purpose, so it must fail under AddressSanitizer (run by expect_failure.sh). */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Reachable from here until the test ends, then dropped: the block is a leak when the check looks. */
static void *volatile kept;

static void *make_block(void)
{
    char *p = malloc(4096);
    cr_assert_not_null(p);
    memset(p, 0x5a, 4096);
    return p;
}

Test(canary, a_block_malloced_and_never_freed_fails_the_test)
{
    kept = make_block();
    kept = NULL; /* the only pointer is gone: a leak, which only LeakSanitizer sees (not cio's allocator) */
}
