/* eyeballs.c: cio_open_connection: resolve a host, then race its addresses (Happy Eyeballs, RFC 8305). */
#include "net/net.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cio/sync.h"
#include "internal.h"
#include "io/stream.h"

/* How many addresses of a name are tried at most; RFC 8305 gives no number, and more only adds delay. */
#define MAX_ADDRS     16
#define DEFAULT_DELAY CIO_MS(250)

/*
 * The race. Attempts run as children of a task group owned by cio_open_connection's task, and each returns 0
 * whatever happens (a negative status would cancel its siblings through the group): outcomes go here instead.
 * The first attempt to connect keeps its descriptor in `fd`; one connecting later closes its own. The owner
 * wakes on `changed` whenever an attempt ends, to start the next one at once after a failure (RFC 8305 5).
 */
struct race {
    const cio_addr *addrs;
    int fd;
    /* The error of the attempt that failed last, returned when all fail. */
    int last_err;
    /* Attempts started and not yet finished, and failures seen so far. */
    size_t running;
    size_t failures;
    cio_event changed;
};

struct attempt {
    struct race *race;
    size_t index;
};

static int attempt_main(void *arg)
{
    struct attempt *a = arg;
    struct race *r = a->race;
    int fd = cio__connect_fd(&r->addrs[a->index]);
    cio__free(a);
    r->running--;
    if (fd >= 0) {
        if (r->fd < 0)
            r->fd = fd;
        else
            close(fd); /* lost the race by a hair */
    } else if (fd != -ECANCELED) {
        r->last_err = fd;
        r->failures++;
    }
    cio_event_set(&r->changed);
    return 0;
}

static int start_attempt(cio_group *g, struct race *r, size_t index)
{
    struct attempt *a = cio__malloc(sizeof *a);
    if (!a)
        return -ENOMEM;
    *a = (struct attempt){.race = r, .index = index};
    int rc = cio_group_spawn(g, NULL, attempt_main, a, NULL);
    if (rc < 0) {
        cio__free(a);
        return rc;
    }
    r->running++;
    return 0;
}

/* RFC 8305 4: alternate the families, starting with the resolver's first choice, each in its given order. */
static void interleave(cio_addr *addrs, size_t n)
{
    cio_addr sorted[MAX_ADDRS];
    int first = addrs[0].u.sa.sa_family;
    size_t a = 0, b = 0, k = 0;
    while (k < n) {
        while (a < n && addrs[a].u.sa.sa_family != first)
            a++;
        if (a < n)
            sorted[k++] = addrs[a++];
        while (b < n && addrs[b].u.sa.sa_family == first)
            b++;
        if (b < n)
            sorted[k++] = addrs[b++];
    }
    memcpy(addrs, sorted, n * sizeof *addrs);
}

/* Wait until an attempt ends, or `delay` passes (CIO_INFINITE: no limit). Returns 1 when the delay passed, 0
   when something changed, or the caller's cancellation. */
static int wait_change(struct race *r, int64_t delay)
{
    cio_scope s;
    cio_event_clear(&r->changed);
    int rc = cio_timeout_begin(&s, delay);
    if (rc < 0)
        return rc;
    rc = cio_event_wait(&r->changed);
    int end = cio_scope_end(&s);
    if (rc < 0)
        return end == -ETIMEDOUT ? 1 : rc; /* our delay, or a cancellation from outside */
    return 0;
}

/* Run the race over `n` addresses; returns the winner's descriptor or an error. */
static int race_run(cio_addr *addrs, size_t n, int64_t delay)
{
    struct race r = {.addrs = addrs, .fd = -1, .last_err = -ECONNREFUSED};
    cio_group *g;
    int rc = cio_group_open(&g);
    if (rc < 0)
        return rc;
    cio_event_init(&r.changed);
    size_t next = 0, failures_seen = 0;
    int err = 0;
    for (;;) {
        if (r.fd >= 0)
            break;
        bool start = next < n && (next == 0 || r.failures > failures_seen || r.running == 0);
        failures_seen = r.failures;
        if (start) {
            if ((rc = start_attempt(g, &r, next++)) < 0)
                r.last_err = rc;
        }
        if (r.fd >= 0 || (r.running == 0 && next == n))
            break;
        if (start && r.running == 0)
            continue; /* the attempt could not start; try the next address at once */
        rc = wait_change(&r, next < n ? delay : CIO_INFINITE);
        if (rc < 0) {
            err = rc;
            break;
        }
        if (rc == 1 && next < n && (rc = start_attempt(g, &r, next++)) < 0)
            r.last_err = rc;
    }
    /* The winner is chosen (or all failed, or we were cancelled): the others are cut short and close their
       descriptors before the group lets us go. */
    cio_group_cancel(g);
    rc = cio_group_close(g);
    cio_event_fini(&r.changed);
    if (err == 0 && rc < 0 && r.fd < 0)
        err = rc;
    if (err < 0) {
        if (r.fd >= 0)
            close(r.fd);
        return err;
    }
    return r.fd >= 0 ? r.fd : r.last_err;
}

static int open_connection(cio_stream **out, const char *host, int port, const cio_connect_opts *o)
{
    cio_addr addrs[MAX_ADDRS];
    int n = cio_resolve(host, port, addrs, MAX_ADDRS, NULL);
    if (n < 0)
        return n;
    CIO_ASSERT(n >= 1 && n <= MAX_ADDRS);
    int fd;
    if (n == 1) {
        fd = cio__connect_fd(&addrs[0]);
    } else {
        interleave(addrs, (size_t)n);
        fd = race_run(addrs, (size_t)n, o->happy_eyeballs_delay > 0 ? o->happy_eyeballs_delay : DEFAULT_DELAY);
    }
    if (fd < 0)
        return fd;
    return cio__connect_finish(out, fd, o, o->server_name ? o->server_name : host);
}

int cio_open_connection(cio_stream **out, const char *host, int port, const cio_connect_opts *opts)
{
    if (!out || !host || !*host || port < 0 || port > 65535)
        return -EINVAL;
    *out = NULL;
    const cio_connect_opts o = opts ? *opts : (cio_connect_opts){0};
    if (o.timeout < 0 || o.happy_eyeballs_delay < 0 || (o.tls && cio__tls_ctx_role(o.tls) != CIO_TLS_CLIENT))
        return -EINVAL;
    if (o.timeout == 0)
        return open_connection(out, host, port, &o);
    cio_scope scope;
    int rc = cio_timeout_begin(&scope, o.timeout);
    if (rc < 0)
        return rc;
    rc = open_connection(out, host, port, &o);
    int end = cio_scope_end(&scope);
    CIO_ASSERT(end != CIO_ESCOPEORDER);
    return rc;
}
