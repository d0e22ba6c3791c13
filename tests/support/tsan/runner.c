/* runner.c: the test runner behind the Criterion stand-in used by the ThreadSanitizer build. */
#include <criterion/criterion.h>

#include "harness.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

static struct cr_shim_test *tests;

void cr_shim_register(struct cr_shim_test *t)
{
    t->next = tests;
    tests = t;
}

_Noreturn void cr_shim_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    fprintf(stderr, "%s:%d: assertion failed: %s", file, line, cond);
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

_Noreturn void cr_shim_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("skipped: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(77);
}

void cr_shim_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--filter=", 9) == 0)
            filter = argv[i] + 9;
    int passed = 0, failed = 0, skipped = 0, filtered = 0;
    for (struct cr_shim_test *t = tests; t; t = t->next) {
        if (t->extra.disabled || (filter && !strstr(t->name, filter))) {
            filtered++;
            continue;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            if (t->extra.timeout > 0)
                alarm((unsigned)t->extra.timeout);
            if (t->extra.init)
                t->extra.init();
            t->fn();
            if (t->extra.fini)
                t->extra.fini();
            fflush(NULL);
            _exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        bool ok;
        if (t->extra.signal)
            ok = WIFSIGNALED(st) && WTERMSIG(st) == t->extra.signal;
        else
            ok = WIFEXITED(st) && WEXITSTATUS(st) == t->extra.exit_code;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 77) { /* cr_skip_test */
            skipped++;
            fprintf(stderr, "[SKIP] %s::%s\n", t->suite, t->name);
            continue;
        }
        if (ok) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "[FAIL] %s::%s (%s %d)\n", t->suite, t->name, WIFSIGNALED(st) ? "signal" : "exit",
                    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        }
    }
    printf("%d passed, %d failed, %d skipped, %d not selected\n", passed, failed, skipped, filtered);
    /* In CI every peer is installed, so a skip is a test that did not run and should have (see verdict.c). */
    if (tst_in_ci() && (skipped > 0 || passed + failed == 0)) {
        fprintf(stderr, "%s under CI=true, where nothing may skip\n", skipped ? "tests skipped" : "no test ran");
        return 1;
    }
    return failed ? 1 : 0;
}
