/* harness.c: the test loop runner, the counting allocator, the log sink and guarded buffers. */
#include "harness.h"

#include "chaoskit.h"

#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static atomic_long live_blocks;
static atomic_long live_big, live_big_base;
static atomic_long alloc_calls;
static atomic_long fail_at;
static int allocator_installed;

static int should_fail(void)
{
    long n = atomic_load(&fail_at);
    long c = atomic_fetch_add(&alloc_calls, 1) + 1;
    return n > 0 && c == n;
}

/* Whether a block counts as big (see tst_live_big_blocks): its usable size, the same when made and freed. */
static int big(void *p)
{
    return p && malloc_usable_size(p) >= TST_BIG_BLOCK;
}

static void *tst_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    if (big(p))
        atomic_fetch_add(&live_big, 1);
    return p;
}

static void *tst_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    int was_big = big(p);
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&live_blocks, 1);
    if (q)
        atomic_fetch_add(&live_big, big(q) - was_big);
    return q;
}

static void tst_free(void *p)
{
    if (p)
        atomic_fetch_sub(&live_blocks, 1);
    if (big(p))
        atomic_fetch_sub(&live_big, 1);
    free(p);
}

void tst_install_allocator(void)
{
    tst_chaos_from_env();
    if (!allocator_installed) {
        cr_assert_eq(cio_set_allocator(tst_malloc, tst_realloc, tst_free), 0);
        allocator_installed = 1;
    }
}

long tst_live_big_blocks(void)
{
    return atomic_load(&live_big) - atomic_load(&live_big_base);
}

long tst_live_blocks(void)
{
    return atomic_load(&live_blocks);
}

void tst_fail_alloc_at(long n)
{
    atomic_store(&alloc_calls, 0);
    atomic_store(&fail_at, n);
}

long tst_alloc_count(void)
{
    return atomic_load(&alloc_calls);
}

void tst_alloc_count_reset(void)
{
    atomic_store(&alloc_calls, 0);
}

int tst_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    cr_assert(d != NULL);
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own fd */
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf;
static size_t log_len, log_cap;

void tst_log_sink(void *arg, const char *line)
{
    (void)arg;
    size_t n = strlen(line);
    pthread_mutex_lock(&log_mu);
    if (log_len + n + 2 > log_cap) {
        log_cap = (log_len + n + 2) * 2;
        log_buf = realloc(log_buf, log_cap);
    }
    memcpy(log_buf + log_len, line, n);
    log_len += n;
    log_buf[log_len++] = '\n';
    log_buf[log_len] = 0;
    pthread_mutex_unlock(&log_mu);
}

int tst_log_contains(const char *needle)
{
    pthread_mutex_lock(&log_mu);
    int found = log_buf && strstr(log_buf, needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return found;
}

void tst_log_clear(void)
{
    pthread_mutex_lock(&log_mu);
    log_len = 0;
    if (log_buf)
        log_buf[0] = 0;
    pthread_mutex_unlock(&log_mu);
}

const char *tst_log_text(void)
{
    return log_buf ? log_buf : "";
}

bool tst_in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
}

void tst_run_expect(int (*body)(void *), void *arg, const cio_loop_opts *opts, int want)
{
    tst_install_allocator();
    int fds = tst_open_fds();
    long blocks = tst_live_blocks();
    cio_loop_opts o = {0};
    if (opts)
        o = *opts;
    if (!o.log)
        o.log = tst_log_sink;
    cio_loop *loop;
    int rc = cio_loop_open(&loop, &o);
    cr_assert_eq(rc, 0, "loop open: %s", cio_err_name(rc));
    atomic_store(&live_big_base, atomic_load(&live_big)); /* the loop's own (its signal stack, in some builds) */
    rc = cio_loop_run(loop, body, arg);
    cr_assert_eq(rc, want, "body returned %s (%d), wanted %s", cio_err_name(rc), rc, cio_err_name(want));
    rc = cio_loop_close(loop);
    cr_assert_eq(rc, 0, "close: %s\n%s", cio_err_name(rc), tst_log_text());
    cr_assert_eq(tst_open_fds(), fds, "leaked file descriptors");
    cr_assert_eq(tst_live_blocks(), blocks, "leaked %ld blocks", tst_live_blocks() - blocks);
}

const char *tst_guarded(const char *src, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (n + pg - 1) / pg * pg;
    if (span == 0)
        span = pg;
    char *base = mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(base != MAP_FAILED && mprotect(base + span, pg, PROT_NONE) == 0);
    return memcpy(base + span - n, src, n);
}
