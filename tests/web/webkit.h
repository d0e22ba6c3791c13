/* webkit.h: what the web tests share: checks recorded inside tasks and asserted after the loop, raw connections
 * to a test server, and reading responses off them with the message layer. */
#ifndef CIO_TEST_WEBKIT_H
#define CIO_TEST_WEBKIT_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#include "cio/web.h"

/* A check inside a task (where Criterion may not assert): the first failure is kept, with its line, and
   wk_verdict() asserts after tst_run that there was none. */
static char wk_failure[512];
static int wk_failures;

__attribute__((format(printf, 3, 4))) static inline void wk_fail(int line, const char *what, const char *fmt, ...)
{
    if (wk_failures++)
        return;
    int n = snprintf(wk_failure, sizeof wk_failure, "line %d: %s: ", line, what);
    if (n > 0 && (size_t)n < sizeof wk_failure) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(wk_failure + n, sizeof wk_failure - (size_t)n, fmt, ap);
        va_end(ap);
    }
}

/* A string for a message, never NULL. */
static inline const char *wk_s(const char *p)
{
    return p ? p : "(null)";
}

static inline bool wk_streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* Each operand is evaluated once. */
#define WK_CHECK(cond, ...)                            \
    do {                                               \
        if (!(cond))                                   \
            wk_fail(__LINE__, #cond, " " __VA_ARGS__); \
    } while (0)
#define WK_EQ(a, b)                                                        \
    do {                                                                   \
        long long wk_a_ = (long long)(a), wk_b_ = (long long)(b);          \
        if (wk_a_ != wk_b_)                                                \
            wk_fail(__LINE__, #a " == " #b, "%lld != %lld", wk_a_, wk_b_); \
    } while (0)
#define WK_STREQ(a, b)                                                                            \
    do {                                                                                          \
        const char *wk_a_ = (a), *wk_b_ = (b);                                                    \
        if (!wk_streq(wk_a_, wk_b_))                                                              \
            wk_fail(__LINE__, #a " == " #b, "\"%s\" != \"%s\"", wk_a_ ? wk_a_ : "(null)", wk_b_); \
    } while (0)
#define WK_ISNULL(a)                                           \
    do {                                                       \
        const char *wk_a_ = (const char *)(a);                 \
        if (wk_a_)                                             \
            wk_fail(__LINE__, #a " == NULL", "\"%s\"", wk_a_); \
    } while (0)

static inline void wk_reset(void)
{
    wk_failures = 0;
    wk_failure[0] = 0;
}

static inline void wk_verdict(void)
{
    cr_assert_eq(wk_failures, 0, "%d failed check(s), the first at %s", wk_failures, wk_failure);
}

static inline void wk_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    wk_reset();
}

/* A raw connection to the test server. */
static inline cio_stream *wk_connect(cio_web_test *t)
{
    cio_stream *s = NULL;
    int rc = cio_open_connection(&s, "127.0.0.1", cio_web_test_port(t), NULL);
    WK_EQ(rc, 0);
    return rc == 0 ? s : NULL;
}

/* One response off `s` to a request of `method`: its status (after any 1xx, which are counted in `*informational`
   when not NULL) and its body into `body` (may be NULL). Returns the status, or a negative error. */
static inline int wk_read_response(cio_stream *s, const char *method, cio_buf *body, int *informational)
{
    cio_http_header hdrs[64];
    cio_http_head h;
    ssize_t hl;
    for (;;) {
        cio_http_head_init(&h, hdrs, 64);
        if ((hl = cio_http_read_response(s, &h, NULL)) < 0)
            return (int)hl;
        if (h.status >= 200)
            break;
        if (informational)
            ++*informational;
        cio_stream_consume(s, (size_t)hl);
    }
    int status = h.status;
    cio_http_body_in b;
    cio_http_body_opts o = {.skip = (size_t)hl};
    int rc = cio_http_body_init_response(&b, s, &h, method, &o);
    if (rc < 0)
        return rc;
    cio_buf tmp = {0};
    rc = cio_http_body_read_all(&b, body ? body : &tmp);
    cio_buf_free(&tmp);
    cio_http_body_fini(&b);
    return rc < 0 ? rc : status;
}

/* Read to the end of `s`: whether the peer closed it (0 bytes read) with nothing more than `max` bytes first. */
static inline bool wk_closed(cio_stream *s)
{
    char buf[4096];
    for (int i = 0; i < 64; i++) {
        ssize_t n = cio_stream_read(s, buf, sizeof buf);
        if (n == 0 || n == -ECONNRESET)
            return true;
        if (n < 0)
            return false;
    }
    return false;
}

/* Run `argv` (a peer: curl, Python) with `in` on its stdin (NULL: nothing), its stdout into `out`; what it says on
   stderr is printed when it fails. Returns its exit status, or a negative error. */
static inline int wk_run(char *const argv[], const char *in, size_t inlen, cio_buf *out)
{
    cio_process *p;
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0)
        return rc;
    cio_buf err = {0};
    rc = cio_process_communicate(p, in, inlen, out, &err);
    int status = -1;
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    if (status != 0 && err.len)
        fprintf(stderr, "%s: %s\n", argv[0], err.data);
    cio_buf_free(&err);
    cio_process_close(p);
    return rc < 0 ? rc : status;
}

#endif
