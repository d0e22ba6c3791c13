/* udp.c: UDP endpoints: datagrams sent and received, waiting on EAGAIN. */
#include "net/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/fd.h"
#include "core/runtime.h"

#define UDP_MAGIC 0x75647020u /* "udp " */

struct cio_udp {
    uint32_t magic;
    int fd;
    struct cio__fd f;
};

static bool is_inet(const cio_addr *a)
{
    return cio__addr_check(a) == 0 && (a->u.sa.sa_family == AF_INET || a->u.sa.sa_family == AF_INET6);
}

int cio_udp_open(cio_udp **out, const cio_addr *local, const cio_addr *remote)
{
    if (!out || (local && !is_inet(local)) || (remote && !is_inet(remote)))
        return -EINVAL;
    *out = NULL;
    if (local && remote && local->u.sa.sa_family != remote->u.sa.sa_family)
        return -EINVAL;
    if (!cio__tls_loop)
        return CIO_ENOLOOP;
    int family = local ? local->u.sa.sa_family : remote ? remote->u.sa.sa_family : AF_INET, rc;
    struct cio_udp *u = cio__malloc(sizeof *u);
    if (!u)
        return -ENOMEM;
    u->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->fd < 0) {
        rc = -errno;
        goto fail_free;
    }
    cio_addr any;
    if (!local && !remote) {
        /* Bind now, so that cio_udp_local_addr has a port to report before the first send. */
        rc = cio_addr_parse(&any, "0.0.0.0", 0);
        CIO_ASSERT(rc == 0);
        local = &any;
    }
    /* connect on a datagram socket only records the peer (and picks a route): it never waits. */
    if ((local && bind(u->fd, &local->u.sa, local->len) < 0) ||
        (remote && connect(u->fd, &remote->u.sa, remote->len) < 0)) {
        rc = -errno;
        goto fail_close;
    }
    if ((rc = cio__fd_open(&u->f, u->fd)) < 0)
        goto fail_close;
    u->magic = UDP_MAGIC;
    *out = u;
    return 0;

fail_close:
    close(u->fd);
fail_free:
    cio__free(u);
    return rc;
}

static bool live(const cio_udp *u)
{
    return u && u->magic == UDP_MAGIC;
}

static ssize_t send_to(cio_udp *u, const void *buf, size_t len, const cio_addr *to)
{
    ssize_t n;
    while ((n = sendto(u->fd, buf, len, MSG_NOSIGNAL, to ? &to->u.sa : NULL, to ? to->len : 0)) < 0) {
        int err = -errno;
        if (err == -EINTR)
            continue;
        if (err != -EAGAIN || (err = cio__fd_wait(&u->f, CIO__IO_WRITE)) < 0)
            return err;
    }
    return n;
}

ssize_t cio_udp_send(cio_udp *u, const void *buf, size_t len)
{
    if (!live(u) || !buf)
        return -EINVAL;
    return send_to(u, buf, len, NULL);
}

ssize_t cio_udp_sendto(cio_udp *u, const void *buf, size_t len, const cio_addr *to)
{
    if (!live(u) || !buf || !is_inet(to))
        return -EINVAL;
    return send_to(u, buf, len, to);
}

ssize_t cio_udp_recvfrom(cio_udp *u, void *buf, size_t cap, cio_addr *from)
{
    if (!live(u) || !buf)
        return -EINVAL;
    struct sockaddr_storage ss;
    socklen_t sslen;
    ssize_t n;
    for (;;) {
        sslen = sizeof ss;
        /* MSG_TRUNC: the datagram's own size, even when only `cap` bytes of it fit. */
        n = recvfrom(u->fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&ss, &sslen);
        if (n >= 0)
            break;
        int err = -errno;
        if (err == -EINTR)
            continue;
        if (err != -EAGAIN || (err = cio__fd_wait(&u->f, CIO__IO_READ)) < 0)
            return err;
    }
    if (from) {
        memset(from, 0, sizeof *from);
        memcpy(&from->u.ss, &ss, sslen);
        from->len = sslen;
    }
    return n;
}

int cio_udp_local_addr(const cio_udp *u, cio_addr *out)
{
    if (!live(u) || !out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    out->len = sizeof out->u.ss;
    return getsockname(u->fd, &out->u.sa, &out->len) < 0 ? -errno : 0;
}

void cio_udp_close(cio_udp *u)
{
    if (!live(u))
        return;
    u->magic = CIO__DEAD_MAGIC;
    cio__fd_close(&u->f);
    close(u->fd);
    cio__free(u);
}
