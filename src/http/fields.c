/* fields.c: header value helpers: case-insensitive names, comma lists, tokens and q-values (RFC 9110 5.6). */
#include "cio/http.h"

#include <string.h>

#include "http/scan.h"

bool cio_http_is_tchar(int c)
{
    return c >= 0 && c < 256 && cio__is_tchar((unsigned char)c);
}

bool cio_http_str_ieq(cio_http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (cio__lower((unsigned char)s.ptr[i]) != cio__lower((unsigned char)lit[i]))
            return false;
    return true;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int cio_http_list_next(cio_http_str *rest, cio_http_str *elem)
{
    const char *p = rest->ptr, *e = p + rest->len;
    for (;;) {
        while (p < e && (is_ows(*p) || *p == ','))
            p++;
        if (p >= e) {
            *rest = (cio_http_str){e, 0};
            return 0;
        }
        const char *s = p;
        bool quoted = false;
        for (; p < e && (quoted || *p != ','); p++) {
            if (*p == '"')
                quoted = !quoted;
            else if (quoted && *p == '\\' && p + 1 < e)
                p++;
        }
        if (quoted)
            return CIO_EHTTP_BAD_LIST;
        const char *t = p;
        while (t > s && is_ows(t[-1]))
            t--;
        *rest = (cio_http_str){p, (size_t)(e - p)};
        *elem = (cio_http_str){s, (size_t)(t - s)};
        return 1;
    }
}

bool cio_http_list_has(cio_http_str value, const char *token)
{
    cio_http_str rest = value, el;
    while (cio_http_list_next(&rest, &el) > 0) {
        size_t n = 0;
        while (n < el.len && el.ptr[n] != ';' && !is_ows(el.ptr[n]))
            n++;
        if (cio_http_str_ieq((cio_http_str){el.ptr, n}, token))
            return true;
    }
    return false;
}

/* "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")], as thousandths; -1 when malformed. */
static int parse_q(const char *p, size_t n)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1') || (n > 1 && p[1] != '.') || n > 5)
        return -1;
    int q = (p[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        q += (p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

int cio_http_qvalue(cio_http_str elem, cio_http_str *token, int *q)
{
    const char *p = elem.ptr, *e = p + elem.len;
    const char *t = p;
    while (p < e && cio__is_tchar((unsigned char)*p))
        p++;
    if (p == t)
        return CIO_EHTTP_BAD_LIST;
    *token = (cio_http_str){t, (size_t)(p - t)};
    *q = 1000;
    for (;;) {
        while (p < e && is_ows(*p))
            p++;
        if (p >= e)
            return 0;
        if (*p++ != ';')
            return CIO_EHTTP_BAD_LIST;
        while (p < e && is_ows(*p))
            p++;
        const char *n = p;
        while (p < e && cio__is_tchar((unsigned char)*p))
            p++;
        if (p == n || p >= e || *p != '=')
            return CIO_EHTTP_BAD_LIST;
        size_t nlen = (size_t)(p - n);
        const char *v = ++p;
        if (p < e && *p == '"') { /* a quoted-string value, skipped whole */
            for (p++; p < e && *p != '"'; p++)
                if (*p == '\\' && p + 1 < e)
                    p++;
            if (p >= e)
                return CIO_EHTTP_BAD_LIST;
            p++;
            continue;
        }
        while (p < e && cio__is_tchar((unsigned char)*p))
            p++;
        if (p == v)
            return CIO_EHTTP_BAD_LIST;
        if (nlen == 1 && (*n | 0x20) == 'q' && (*q = parse_q(v, (size_t)(p - v))) < 0)
            return CIO_EHTTP_BAD_LIST;
    }
}
