/* error.c: tests of the error table: names, messages and the ranges of cio's own codes. */
#include <string.h>

#include "harness.h"

struct err_row {
    const char *name;
    int value;
    const char *text;
};

/* The whole table, as users see it. */
static const struct err_row rows[] = {
#define ROW(name, value, text) {"CIO_" #name, value, text},
    CIO_ERRORS(ROW)
#undef ROW
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The names of the rows that carry a system errno; every other row is one of cio's own codes. */
static const char *const sys_names[] = {
#define SYS_NAME(name, value, text) "CIO_" #name,
    CIO_ERRORS_SYS(SYS_NAME)
#undef SYS_NAME
};

static int is_system(const char *name)
{
    for (size_t i = 0; i < sizeof(sys_names) / sizeof(sys_names[0]); i++)
        if (strcmp(sys_names[i], name) == 0)
            return 1;
    return 0;
}

Test(error, every_row_has_its_own_name)
{
    for (size_t i = 0; i < NROWS; i++) {
        cr_assert_str_eq(cio_err_name(-rows[i].value), rows[i].name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(rows[i].name, rows[j].name);
    }
}

Test(error, every_row_has_its_own_message)
{
    for (size_t i = 0; i < NROWS; i++) {
        const char *m = cio_strerror(-rows[i].value);
        cr_assert_str_eq(m, rows[i].text, "%s", rows[i].name);
        cr_assert_neq(strlen(m), 0);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(rows[i].text, rows[j].text, "%s and %s share a message", rows[i].name, rows[j].name);
    }
}

Test(error, every_row_has_its_own_value)
{
    for (size_t i = 0; i < NROWS; i++) {
        cr_assert_gt(rows[i].value, 0, "%s", rows[i].name);
        for (size_t j = 0; j < i; j++)
            cr_assert_neq(rows[i].value, rows[j].value, "%s and %s share a value", rows[i].name, rows[j].name);
    }
}

Test(error, own_codes_start_at_4000_and_system_codes_stay_below)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (!is_system(rows[i].name))
            cr_assert_geq(rows[i].value, 4000, "%s", rows[i].name);
        else
            cr_assert_lt(rows[i].value, 4000, "%s", rows[i].name);
    }
}

Test(error, core_codes_stay_within_their_range)
{
#define CORE_RANGE(name, value, text) cr_assert(value >= 4000 && value < 4100, "CIO_" #name);
    CIO_ERRORS_CORE(CORE_RANGE)
#undef CORE_RANGE
}

Test(error, system_constants_equal_negated_errno)
{
    cr_assert_eq(CIO_ECONNRESET, -ECONNRESET);
    cr_assert_eq(CIO_ETIMEDOUT, -ETIMEDOUT);
    cr_assert_eq(CIO_ECANCELED, -ECANCELED);
    cr_assert_eq(CIO_ENOLOOP, -4000);
}

Test(error, a_positive_code_reads_as_its_negation_in_strerror)
{
    cr_assert_str_eq(cio_strerror(ETIMEDOUT), "timed out");
    cr_assert_str_eq(cio_strerror(-ETIMEDOUT), "timed out");
    cr_assert_str_eq(cio_strerror(4001), cio_strerror(CIO_ENOTASK));
}

Test(error, zero_and_counts_are_named_ok)
{
    cr_assert_str_eq(cio_err_name(0), "OK");
    cr_assert_str_eq(cio_err_name(17), "OK");
}

Test(error, unknown_codes_have_a_fallback_name_and_message)
{
    cr_assert_str_eq(cio_err_name(-3999), "CIO_EUNKNOWN");
    cr_assert_str_eq(cio_strerror(-3999), "unknown error");
    cr_assert_str_eq(cio_err_name(-4099), "CIO_EUNKNOWN");
    cr_assert_not_null(cio_strerror(-2147483647 - 1));
    cr_assert_not_null(cio_err_name(-2147483647 - 1));
}

Test(error, is_timeout_names_every_kind_of_timeout_and_nothing_else)
{
    const int timeouts[] = {-ETIMEDOUT,
                            CIO_EAI_TIMEOUT,
                            CIO_EREADTIMEOUT,
                            CIO_ECLIENT_TIMEOUT,
                            CIO_ECLIENT_CONNECT_TIMEOUT,
                            CIO_ECLIENT_SOCK_CONNECT_TIMEOUT,
                            CIO_ECLIENT_READ_TIMEOUT};
    for (size_t i = 0; i < NROWS; i++) {
        bool want = false;
        for (size_t k = 0; k < sizeof timeouts / sizeof timeouts[0]; k++)
            want = want || -rows[i].value == timeouts[k];
        cr_assert_eq(cio_is_timeout(-rows[i].value), want, "%s", rows[i].name);
    }
    cr_assert_not(cio_is_timeout(0));
    cr_assert_not(cio_is_timeout(ETIMEDOUT), "a positive value is not an error");
}
