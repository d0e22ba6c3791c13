/* url.c: the client's URL work that parsing alone does not do: references resolved against a base (RFC 3986
 * section 5.2: redirects' Location, the session's base URL) and query parameters percent-encoded. */
#include "client/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

/* A URL or reference split into its five parts (RFC 3986 appendix B's regular expression, by hand). Absent parts
   have ptr NULL; a present but empty one (an "?" with nothing after it) has ptr set and len 0. */
struct parts {
    cio_http_str scheme, authority, path, query;
};

static void split(struct parts *p, const char *s)
{
    memset(p, 0, sizeof *p);
    size_t n = strcspn(s, ":/?#");
    if (s[n] == ':' && n > 0 && isalpha((unsigned char)s[0])) {
        bool ok = true;
        for (size_t i = 1; i < n && ok; i++)
            ok = isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.';
        if (ok) {
            p->scheme = (cio_http_str){s, n};
            s += n + 1;
        }
    }
    if (s[0] == '/' && s[1] == '/') {
        size_t a = strcspn(s + 2, "/?#");
        p->authority = (cio_http_str){s + 2, a};
        s += 2 + a;
    }
    size_t pl = strcspn(s, "?#");
    p->path = (cio_http_str){s, pl};
    s += pl;
    if (*s == '?') {
        size_t ql = strcspn(s + 1, "#");
        p->query = (cio_http_str){s + 1, ql};
    }
}

/* RFC 3986 section 5.2.4, in place: `buf` holds `n` bytes of path; returns the new length. */
static size_t remove_dots(char *buf, size_t n)
{
    size_t in = 0, out = 0;
    while (in < n) {
        const char *p = buf + in;
        size_t left = n - in;
        if (left >= 3 && !memcmp(p, "../", 3)) {
            in += 3;
        } else if (left >= 2 && !memcmp(p, "./", 2)) {
            in += 2;
        } else if (left >= 3 && !memcmp(p, "/./", 3)) {
            in += 2;
        } else if (left == 2 && !memcmp(p, "/.", 2)) {
            buf[in + 1] = '/';
            in += 1;
        } else if ((left >= 4 && !memcmp(p, "/../", 4)) || (left == 3 && !memcmp(p, "/..", 3))) {
            if (left == 3) {
                buf[in + 2] = '/';
                in += 2;
            } else {
                in += 3;
            }
            while (out > 0 && buf[out - 1] != '/')
                out--;
            if (out > 0)
                out--;
        } else if ((left == 1 && p[0] == '.') || (left == 2 && !memcmp(p, "..", 2))) {
            in = n;
        } else {
            size_t seg = 1;
            while (seg < left && p[seg] != '/')
                seg++;
            memmove(buf + out, p, seg); /* out <= in: never overtakes */
            out += seg;
            in += seg;
        }
    }
    return out;
}

struct sbuf {
    char *p;
    size_t len, cap;
    int err;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (n > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) { /* no URL is this long: a caller's length went wrong */
        b->err = -EOVERFLOW;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = cio__realloc(b->p, cap);
        if (!np) {
            b->err = -ENOMEM;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void put_str(struct sbuf *b, cio_http_str s)
{
    put(b, s.ptr ? s.ptr : "", s.len);
}

/* Append a path with its dot segments removed. */
static void put_path(struct sbuf *b, const char *a, size_t alen, const char *c, size_t clen)
{
    size_t start = b->len;
    put(b, a, alen);
    put(b, c, clen);
    if (!b->err) {
        b->len = start + remove_dots(b->p + start, b->len - start);
        b->p[b->len] = 0;
    }
}

int cio__client_url_join(char **out, const char *base, const char *ref)
{
    *out = NULL;
    struct parts B, R;
    split(&B, base);
    split(&R, ref);
    if (!B.scheme.ptr || !B.authority.ptr)
        return CIO_EHTTP_BAD_URL;
    struct sbuf b = {0};
    put_str(&b, R.scheme.ptr ? R.scheme : B.scheme);
    put(&b, "://", 3);
    if (R.scheme.ptr || R.authority.ptr) {
        if (!R.authority.ptr) { /* "http:path": nothing a server means; refuse rather than guess */
            cio__free(b.p);
            return CIO_EHTTP_BAD_URL;
        }
        put_str(&b, R.authority);
        put_path(&b, R.path.ptr, R.path.len, "", 0);
        if (R.query.ptr) {
            put(&b, "?", 1);
            put_str(&b, R.query);
        }
    } else {
        put_str(&b, B.authority);
        if (R.path.len == 0) {
            put_str(&b, B.path);
            cio_http_str q = R.query.ptr ? R.query : B.query;
            if (q.ptr) {
                put(&b, "?", 1);
                put_str(&b, q);
            }
        } else {
            if (R.path.ptr[0] == '/') {
                put_path(&b, R.path.ptr, R.path.len, "", 0);
            } else if (B.path.len == 0) {
                put_path(&b, "/", 1, R.path.ptr, R.path.len);
            } else {
                size_t keep = B.path.len;
                while (keep > 0 && B.path.ptr[keep - 1] != '/')
                    keep--;
                put_path(&b, B.path.ptr, keep, R.path.ptr, R.path.len);
            }
            if (R.query.ptr) {
                put(&b, "?", 1);
                put_str(&b, R.query);
            }
        }
    }
    if (b.err) {
        cio__free(b.p);
        return b.err;
    }
    *out = b.p;
    return 0;
}

int cio__client_url_encode(char **buf, size_t *len, size_t *cap, const char *src, bool raw)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sbuf b = {*buf, *len, *cap, 0};
    for (const unsigned char *p = (const unsigned char *)src; *p && !b.err; p++) {
        if (raw || isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            put(&b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            put(&b, e, 3);
        }
    }
    *buf = b.p;
    *len = b.len;
    *cap = b.cap;
    return b.err;
}
