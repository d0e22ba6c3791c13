/* netkit.c: echo servers, temporary socket directories, descriptor limits and connect traps for tests. */
#include "netkit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <criterion/criterion.h>

int nk_echo(cio_stream *s, void *arg)
{
    (void)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = cio_stream_read(s, buf, sizeof buf);
        if (n <= 0)
            return (int)n;
        int rc = cio_stream_write(s, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
}

int nk_line_keeper(cio_stream *s, void *arg)
{
    struct nk_keeper *k = arg;
    char line[64];
    k->calls++;
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    if (n <= 0) {
        k->ends++;
        return (int)n;
    }
    int rc = cio_stream_write(s, line, (size_t)n);
    if (rc == 0 && k->extra) {
        char *big = malloc(k->extra);
        cr_assert_not_null(big);
        memset(big, 'x', k->extra);
        rc = cio_stream_write(s, big, k->extra);
        free(big);
    }
    return rc < 0 ? rc : CIO_CONN_KEEP;
}

void nk_roundtrip(cio_stream *s, const char *msg)
{
    size_t n = strlen(msg), got = 0;
    char buf[256];
    cr_assert(n <= sizeof buf);
    int rc = cio_stream_write(s, msg, n);
    cr_assert_eq(rc, 0, "write: %s", cio_err_name(rc));
    ssize_t r = cio_stream_read_exactly(s, buf, n, &got);
    cr_assert_eq(r, (ssize_t)n, "read: %s (got %zu)", cio_err_name((int)r), got);
    cr_assert(memcmp(buf, msg, n) == 0);
}

int nk_turn_until(const int *counter, int n)
{
    for (long i = 0; *(const volatile int *)counter < n; i++) {
        cr_assert_lt(i, 1000000L, "condition never came true");
        int rc = cio_sleep(CIO_NS(1)); /* parks on a timer: the loop polls before it wakes */
        if (rc < 0)
            return rc;
    }
    return 0;
}

cio_server *nk_echo_server(const char *host, cio_addr *addr)
{
    cio_server *srv;
    int rc = cio_start_server(&srv, nk_echo, NULL, host, 0, NULL);
    cr_assert_eq(rc, 0, "start_server %s: %s", host ? host : "(any)", cio_err_name(rc));
    cr_assert_eq(cio_server_addr(srv, addr), 0);
    return srv;
}

void nk_tmpdir(char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, cap, "%s/cio-net-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(out) != NULL);
}

void nk_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert(d != NULL);
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    cr_assert_eq(rmdir(dir), 0);
}

long nk_raise_nofile(long want)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if ((long)rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max > want ? (rlim_t)want : rl.rlim_max;
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    return (long)rl.rlim_cur;
}

int nk_full_listener(const char *host, int port, cio_addr *addr, cio_stream **filler)
{
    cr_assert_eq(cio_addr_parse(addr, host, port), 0);
    int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, &addr->u.sa, addr->len), 0, "bind %s: %s", host, strerror(errno));
    cr_assert_eq(listen(fd, 0), 0);
    addr->len = sizeof addr->u.ss;
    cr_assert_eq(getsockname(fd, &addr->u.sa, &addr->len), 0);
    /* With a backlog of 0 the accept queue holds one connection; this one fills it. */
    int rc = cio_connect_addr(filler, addr, NULL);
    cr_assert_eq(rc, 0, "filling connect: %s", cio_err_name(rc));
    return fd;
}

int nk_refusing_port(const char *host, cio_addr *addr)
{
    cr_assert_eq(cio_addr_parse(addr, host, 0), 0);
    int fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, &addr->u.sa, addr->len), 0);
    addr->len = sizeof addr->u.ss;
    cr_assert_eq(getsockname(fd, &addr->u.sa, &addr->len), 0);
    return fd;
}
