/* skip.c: tests that skip, so that under CI=true their executable must fail (run by expect_failure.sh). */
#include "harness.h"

Test(canary, a_test_that_skips_through_the_harness)
{
    tst_skip("a peer this canary pretends is missing");
}

Test(canary, a_test_that_skips_through_criterion)
{
    cr_skip_test("Criterion's own skip, which the harness does not see");
}
