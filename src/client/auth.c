/* auth.c: HTTP Basic authentication (RFC 7617): the credentials' Authorization value, base64 by OpenSSL. */
#include "client/client.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <string.h>

int cio__client_basic_auth(char **out, const char *user, size_t ulen, const char *password, size_t plen)
{
    *out = NULL;
    if (!user || memchr(user, ':', ulen))
        return -EINVAL; /* the first ':' is where the password starts: a user cannot contain one */
    if (ulen > INT_MAX / 4 || plen > INT_MAX / 4)
        return -EINVAL; /* EVP_EncodeBlock counts in int */
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
    EVP_EncodeBlock((unsigned char *)v + 6, raw, (int)n); /* NUL-terminated, no line breaks */
    cio__free(raw);
    *out = v;
    return 0;
}
