/* auth.c: HTTP Basic authentication (RFC 7617): the credentials' Authorization value, base64 by hand. */
#include "client/client.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static void base64(char *dst, const unsigned char *src, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)src[i + 1] << 8;
        if (i + 2 < n)
            v |= src[i + 2];
        dst[o++] = tab[v >> 18 & 63];
        dst[o++] = tab[v >> 12 & 63];
        dst[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        dst[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    dst[o] = 0;
}

int cio__client_basic_auth(char **out, const char *user, size_t ulen, const char *password, size_t plen)
{
    *out = NULL;
    if (!user || memchr(user, ':', ulen))
        return -EINVAL; /* the first ':' is where the password starts: a user cannot contain one */
    if (ulen > SIZE_MAX / 4 || plen > SIZE_MAX / 4)
        return -EINVAL;
    size_t n = ulen + 1 + plen;
    unsigned char *raw = cio__malloc(n);
    char *v = cio__malloc(6 + (n + 2) / 3 * 4 + 1);
    if (!raw || !v) {
        cio__free(raw);
        cio__free(v);
        return -ENOMEM;
    }
    memcpy(raw, user, ulen);
    raw[ulen] = ':';
    if (plen)
        memcpy(raw + ulen + 1, password, plen);
    memcpy(v, "Basic ", 6);
    base64(v + 6, raw, n);
    cio__free(raw);
    *out = v;
    return 0;
}
