/* guard.h: one reusable page followed by an unreadable one, for tests that place thousands of inputs flush
 * against it (tst_guarded maps a fresh pair per call, and the process would run out of mappings). */
#ifndef CIO_TEST_HTTP_GUARD_H
#define CIO_TEST_HTTP_GUARD_H

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

/* Copy `n` bytes (at most a page) so that the byte after them is unreadable; valid until the next call. */
static inline char *fence_copy(const void *src, size_t n)
{
    static char *fence;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    if (!fence) {
        char *base = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        cr_assert(base != MAP_FAILED && mprotect(base + pg, pg, PROT_NONE) == 0);
        fence = base + pg;
    }
    cr_assert_leq(n, pg);
    return memcpy(fence - n, src, n);
}

#endif
