/* differential.c: cio's head parser against llhttp (strict) and picohttpparser, on the table and 10,000+
 * generated messages: the same verdict as llhttp and the same fields as both, or a named, documented reason. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "cio/http.h"

#ifdef CIO_HAVE_HTTP_PEERS
#include "diff.h"

static void check_one(const char *wire, size_t len, bool response, unsigned opt, const char *what)
{
    struct diff_result r;
    diff_compare(&r, wire, len, response, opt);
    cr_assert(r.ok, "%s: %s\n--- wire (%zu bytes) ---\n%.*s", what, r.why, len, (int)len, wire);
}

/* Every row, OPT_DIFF ones too: those must be explained by a rule in diff_excuse. */
Test(differential, table_requests)
{
    for (size_t i = 0; i < N_REQUEST_CASES; i++)
        check_one(request_cases[i].wire, request_cases[i].len, false, request_cases[i].opt, request_cases[i].name);
}

Test(differential, table_responses)
{
    for (size_t i = 0; i < N_RESPONSE_CASES; i++)
        check_one(response_cases[i].wire, response_cases[i].len, true, response_cases[i].opt, response_cases[i].name);
}

/* The generator is seeded, so a failure names a message that the next run rebuilds. */
Test(differential, generated_messages, .timeout = 300)
{
    char buf[DIFF_MAX_WIRE];
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t compared = 0, skipped = 0;
    for (int i = 0; i < 12000; i++) {
        bool response = i % 3 == 2;
        bool deviation = false;
        size_t len = diff_generate(&seed, buf, sizeof(buf), response, &deviation);
        if (deviation) { /* the generator put in a rule on which cio differs on purpose (see diff.h) */
            skipped++;
            continue;
        }
        char what[64];
        snprintf(what, sizeof(what), "generated message %d", i);
        check_one(buf, len, response, 0, what);
        compared++;
    }
    cr_assert_geq(compared, 10000, "only %zu compared (%zu skipped)", compared, skipped);
}

#else

Test(differential, peers_not_built)
{
    tst_skip("llhttp's C sources (Debian's node-llhttp) or picohttpparser (libh2o-evloop-dev) were not found when "
             "the build was configured");
}

#endif
