/* criterion.h: a small stand-in for Criterion's test macros, for the ThreadSanitizer build.
 *
 * Criterion's runner does not start under ThreadSanitizer (its shared arena cannot be set up in TSan's address
 * space), so the TSan build compiles the same test files against this header: each Test runs in a forked child,
 * an assertion failure ends that child, and the runner prints "N passed, N failed". Only the subset of
 * Criterion that cio's threaded tests use is here.
 */
#ifndef CIO_TSAN_CRITERION_H
#define CIO_TSAN_CRITERION_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct criterion_test_extra_data {
    double timeout;
    int signal;
    int exit_code;
    bool disabled;
    const char *description;
    void (*init)(void);
    void (*fini)(void);
};

struct cr_shim_test {
    const char *suite, *name;
    void (*fn)(void);
    struct criterion_test_extra_data extra;
    struct cr_shim_test *next;
};

void cr_shim_register(struct cr_shim_test *t);
/* No format attribute: most assertions pass no message, and an empty format is what they expand to. */
_Noreturn void cr_shim_fail(const char *file, int line, const char *cond, const char *fmt, ...);
_Noreturn void cr_shim_skip(const char *fmt, ...);
void cr_shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define Test(suite, name, ...)                                                                                      \
    static void suite##_##name##_impl(void);                                                                        \
    static struct cr_shim_test suite##_##name##_test = {#suite, #name, suite##_##name##_impl, {__VA_ARGS__}, NULL}; \
    __attribute__((constructor)) static void suite##_##name##_reg(void)                                             \
    {                                                                                                               \
        cr_shim_register(&suite##_##name##_test);                                                                   \
    }                                                                                                               \
    static void suite##_##name##_impl(void)

#define CR_SHIM_MSG(...) "" __VA_ARGS__
#define cr_assert(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond))                                                           \
            cr_shim_fail(__FILE__, __LINE__, #cond, CR_SHIM_MSG(__VA_ARGS__)); \
    } while (0)
#define cr_assert_not(cond, ...)     cr_assert(!(cond), __VA_ARGS__)
#define cr_assert_eq(a, b, ...)      cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...)     cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...)      cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...)     cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...)      cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...)     cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...)       cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...)   cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)  cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) cr_assert(strcmp((a), (b)) != 0, __VA_ARGS__)
#define cr_expect(cond, ...)         cr_assert(cond, __VA_ARGS__)
#define cr_expect_eq(a, b, ...)      cr_assert_eq(a, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...)      cr_assert_lt(a, b, __VA_ARGS__)
#define cr_assert_fail(...)          cr_shim_fail(__FILE__, __LINE__, "fail", CR_SHIM_MSG(__VA_ARGS__))
#define cr_skip_test(...)            cr_shim_skip(CR_SHIM_MSG(__VA_ARGS__))
#define cr_log_info(...)             cr_shim_log(__VA_ARGS__)
#define cr_log_warn(...)             cr_shim_log(__VA_ARGS__)

#endif
