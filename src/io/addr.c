/* addr.c: socket addresses: numeric IPv4 and IPv6 parsing, Unix paths, and their text form. */
#include "io/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "internal.h"

/* The longest text an IPv6 address with a scope ("fe80::1%eth0") takes, without brackets. */
#define HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

int cio__addr_check(const cio_addr *a)
{
    if (!a || a->len > sizeof a->u.ss)
        return -EINVAL;
    switch (a->u.sa.sa_family) {
    case AF_INET:
        return a->len >= sizeof(struct sockaddr_in) ? 0 : -EINVAL;
    case AF_INET6:
        return a->len >= sizeof(struct sockaddr_in6) ? 0 : -EINVAL;
    case AF_UNIX:
        /* An unnamed Unix address (just the family) is what getsockname gives a client; it cannot be used to
           connect or bind, so the callers that need a name check for more than the family. */
        return a->len >= offsetof(struct sockaddr_un, sun_path) && a->len <= sizeof(struct sockaddr_un) ? 0 : -EINVAL;
    default:
        return -EINVAL;
    }
}

/* The scope of a link-local address: a number or an interface name. if_nametoindex asks the kernel through a
   short-lived socket, never a name service, so it does not block. */
static int parse_scope(const char *s, uint32_t *out)
{
    if (!*s)
        return -EINVAL;
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || v > UINT32_MAX)
            return -EINVAL;
        *out = (uint32_t)v;
        return 0;
    }
    unsigned idx = if_nametoindex(s);
    if (!idx)
        return -EINVAL;
    *out = idx;
    return 0;
}

static int parse_ipv6(cio_addr *out, char *text, int port)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    char *pct = strchr(text, '%');
    if (pct) {
        *pct = 0;
        if (parse_scope(pct + 1, &sin6.sin6_scope_id) < 0)
            return -EINVAL;
    }
    if (inet_pton(AF_INET6, text, &sin6.sin6_addr) != 1)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    memcpy(&out->u.ss, &sin6, sizeof sin6);
    out->len = sizeof sin6;
    return 0;
}

int cio_addr_parse(cio_addr *out, const char *host, int port)
{
    if (!out || !host || port < 0 || port > 65535)
        return -EINVAL;
    size_t n = strlen(host);
    if (n == 0 || n >= HOST_MAX + 2)
        return -EINVAL;
    char text[HOST_MAX + 2];
    if (host[0] == '[') {
        /* "[::1]": brackets only around IPv6, as in URLs and "host:port" text. */
        if (n < 3 || host[n - 1] != ']')
            return -EINVAL;
        memcpy(text, host + 1, n - 2);
        text[n - 2] = 0;
        return parse_ipv6(out, text, port);
    }
    memcpy(text, host, n + 1);
    if (strchr(text, ':'))
        return parse_ipv6(out, text, port);
    /* inet_pton, not inet_aton: only the four-part dotted form, no "127.1" or octal "0177.0.0.1". */
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, text, &sin.sin_addr) != 1)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    memcpy(&out->u.ss, &sin, sizeof sin);
    out->len = sizeof sin;
    return 0;
}

int cio_addr_unix(cio_addr *out, const char *path)
{
    if (!out || !path || !*path)
        return -EINVAL;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    socklen_t len;
    if (path[0] == '@') {
        /* Abstract: a NUL, then the name; the length says where it ends, so no terminator is stored. */
        if (n == 1)
            return -EINVAL;
        if (n > sizeof sun.sun_path)
            return -ENAMETOOLONG;
        memcpy(sun.sun_path + 1, path + 1, n - 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        if (n >= sizeof sun.sun_path)
            return -ENAMETOOLONG;
        memcpy(sun.sun_path, path, n + 1);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    memset(out, 0, sizeof *out);
    memcpy(&out->u.ss, &sun, sizeof sun);
    out->len = len;
    return 0;
}

/* Copy `text` into `buf` as snprintf would: cut and NUL-terminated when it does not fit. */
static int put_text(char *buf, size_t cap, const char *text, size_t n)
{
    if (n < cap) {
        memcpy(buf, text, n);
        buf[n] = 0;
        return (int)n;
    }
    if (cap > 0) {
        memcpy(buf, text, cap - 1);
        buf[cap - 1] = 0;
    }
    return -ENOSPC;
}

static int format_unix(const cio_addr *a, char *buf, size_t cap)
{
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->u.ss;
    size_t n = a->len - offsetof(struct sockaddr_un, sun_path);
    char text[sizeof sun->sun_path + 1];
    if (n == 0) /* unnamed: a client socket that never bound */
        return put_text(buf, cap, "", 0);
    if (sun->sun_path[0] == 0) {
        text[0] = '@';
        memcpy(text + 1, sun->sun_path + 1, n - 1);
        return put_text(buf, cap, text, n);
    }
    /* A path: up to its NUL, which the length may or may not count. */
    size_t len = strnlen(sun->sun_path, n);
    return put_text(buf, cap, sun->sun_path, len);
}

int cio_addr_format(const cio_addr *a, char *buf, size_t cap)
{
    if (cio__addr_check(a) < 0 || !buf)
        return -EINVAL;
    char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 24];
    int n;
    switch (a->u.sa.sa_family) {
    case AF_INET: {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->u.ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
        n = snprintf(text, sizeof text, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->u.ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
        if (sin6->sin6_scope_id)
            n = snprintf(text, sizeof text, "[%s%%%u]:%u", host, (unsigned)sin6->sin6_scope_id,
                         (unsigned)ntohs(sin6->sin6_port));
        else
            n = snprintf(text, sizeof text, "[%s]:%u", host, (unsigned)ntohs(sin6->sin6_port));
        break;
    }
    default:
        return format_unix(a, buf, cap);
    }
    CIO_ASSERT(n > 0 && (size_t)n < sizeof text);
    return put_text(buf, cap, text, (size_t)n);
}

int cio_addr_port(const cio_addr *a)
{
    if (cio__addr_check(a) < 0)
        return -EINVAL;
    if (a->u.sa.sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->u.ss)->sin_port);
    if (a->u.sa.sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->u.ss)->sin6_port);
    return -EINVAL;
}
