/* get_files.c: cio-get's names (sanitised), .part sidecars and checksums. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "get.h"

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* snprintf for paths and names: whether it all fit (a path that does not is refused, never cut). */
bool pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

/* ------------------------------------------------------------------------------------------------ names */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode `src` (`len` bytes) into `dst`, NUL-terminated, control bytes (NUL among them) as "_"; a bad
   escape is kept as it is. */
static void percent_decode(const char *src, size_t len, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        int h, l;
        if (src[i] == '%' && i + 2 < len && (h = hexval((unsigned char)src[i + 1])) >= 0 &&
            (l = hexval((unsigned char)src[i + 2])) >= 0) {
            int c = h * 16 + l;
            dst[o++] = c < 0x20 || c == 0x7f ? '_' : (char)c; /* a NUL or a control byte never reaches a name */
            i += 2;
        } else {
            dst[o++] = src[i];
        }
    }
    dst[o] = 0;
}

/*
 * Make `name` safe as one file name inside the directory, in place: "/", "\\" and control bytes (NUL cut the
 * string already, decoded ones among them) become "_", leading dots go, so "." and ".." and hidden names cannot
 * come out; an empty result is "index.html".
 */
static void sanitise(char *name, size_t cap)
{
    size_t o = 0;
    bool lead = true;
    for (size_t i = 0; name[i]; i++) {
        unsigned char c = (unsigned char)name[i];
        if (lead && (c == '.' || c == ' '))
            continue;
        lead = false;
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            c = '_';
        name[o++] = (char)c;
    }
    name[o] = 0;
    if (o > 200)
        name[200] = 0;
    if (!*name)
        snprintf(name, cap, "index.html");
}

/* The URL's last path segment, percent-decoded and sanitised. */
void name_from_url(const char *url, char *dst, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *path = strchr(p, '/');
    if (!path) {
        snprintf(dst, cap, "index.html");
        return;
    }
    size_t end = strcspn(path, "?#");
    const char *seg = path;
    for (size_t i = 0; i < end; i++)
        if (path[i] == '/')
            seg = path + i + 1;
    percent_decode(seg, (size_t)(path + end - seg), dst, cap);
    sanitise(dst, cap);
}

/* The name in a Content-Disposition value: filename* (RFC 8187, charset''pct-encoded) first, then filename;
   sanitised. Returns false when there is none. */
bool name_from_disposition(const char *cd, char *dst, size_t cap)
{
    if (!cd)
        return false;
    const char *semi = strchr(cd, ';');
    if (!semi)
        return false;
    cio_http_str params = {semi, strlen(semi)};
    char raw[1024];
    ssize_t n = cio_http_param_get(params, "filename*", raw, sizeof raw);
    if (n > 0) {
        const char *q = strstr(raw, "''");
        if (q) {
            char dec[1024];
            percent_decode(q + 2, strlen(q + 2), dec, sizeof dec);
            pathf(raw, sizeof raw, "%s", dec);
            n = 0;
        } else {
            n = -1;
        }
    }
    if (n < 0 && cio_http_param_get(params, "filename", raw, sizeof raw) < 0)
        return false;
    /* a path in the name (absolute or not): its last segment only */
    const char *base = raw;
    for (const char *p = raw; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    pathf(dst, cap, "%s", base);
    sanitise(dst, cap);
    return true;
}

/* ------------------------------------------------------------------------------------------------ files */

bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

/* The validator saved beside a .part, or "" */
void meta_read(const char *part, char *dst, size_t cap)
{
    char p[PATH_MAX + 16];
    pathf(p, sizeof p, "%s.meta", part);
    dst[0] = 0;
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    if (fgets(dst, (int)cap, f))
        dst[strcspn(dst, "\r\n")] = 0;
    else
        dst[0] = 0;
    fclose(f);
}

/* Save `validator` beside the .part: a temporary file renamed over the old one, so the sidecar is always whole. */
void meta_write(const char *part, const char *validator)
{
    char p[PATH_MAX + 16], tmp[PATH_MAX + 24];
    pathf(p, sizeof p, "%s.meta", part);
    if (!validator) {
        unlink(p);
        return;
    }
    pathf(tmp, sizeof tmp, "%s.tmp", p);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%s\n", validator);
    if (fclose(f) == 0)
        rename(tmp, p);
    else
        unlink(tmp);
}

void meta_remove(const char *part)
{
    char p[PATH_MAX + 16];
    pathf(p, sizeof p, "%s.meta", part);
    unlink(p);
}

/* SHA-256 of the file at `path` as 64 hex digits. Returns 0 or -errno. */
int sha256_file(const char *path, char hex[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        close(fd);
        return -ENOMEM;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static _Thread_local unsigned char buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    int err = n < 0 ? -errno : 0;
    close(fd);
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return err;
}
