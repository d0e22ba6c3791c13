/* differential.c: fuzz cio's head parser against llhttp (strict) and picohttpparser; any unexplained
 * difference (see tests/http/diff.h) is a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct diff_result r;
    bool response = data[0] & 1;
    diff_compare(&r, (const char *)data + 1, size - 1, response, 0);
    if (!r.ok) {
        fprintf(stderr, "%s: %s\n[%.*s]\n", response ? "response" : "request", r.why, (int)size - 1,
                (const char *)data + 1);
        abort();
    }
    return 0;
}
