/* url.c: URL and request-target parsing (RFC 3986, RFC 9112 section 3.2), percent-decoding, query splitting. */
#include "cio/http.h"

#include <string.h>

#include "http/scan.h"

static bool is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static bool is_digit(unsigned char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* reg-name and IPv4 bytes: unreserved, sub-delims and "%" (whose two hex digits the host parser checks). */
static bool is_host_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("-._~!$&'()*+,;=%", c) != NULL);
}

/*
 * Path, query and fragment bytes: any visible ASCII. RFC 3986 forbids a few ("{", "|", "\"", ...), but browsers
 * send them and llhttp's strict mode accepts them in a request target, so refusing them here would only make one
 * request fail in two places for different reasons.
 */
static bool is_path_char(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e;
}

static int parse_port(cio_url *u, const char *p, const char *e)
{
    long v = 0;
    if (p == e || e - p > 5)
        return CIO_EHTTP_BAD_PORT;
    for (const char *q = p; q < e; q++) {
        if (!is_digit((unsigned char)*q))
            return CIO_EHTTP_BAD_PORT;
        v = v * 10 + (*q - '0');
    }
    if (v > 65535)
        return CIO_EHTTP_BAD_PORT;
    u->port = (int)v;
    u->port_str = (cio_http_str){p, (size_t)(e - p)};
    return 0;
}

/* host [":" port] in [p, e): a reg-name or IPv4 address, or an IPv6 literal in brackets. */
static int parse_hostport(cio_url *u, const char *p, const char *e)
{
    const char *h = p;
    if (p < e && *p == '[') {
        bool colon = false;
        for (h = ++p; p < e && *p != ']'; p++) {
            unsigned char c = (unsigned char)*p;
            if (!(cio__http_class[c] & CIO__HEX) && c != ':' && c != '.')
                return CIO_EHTTP_BAD_HOST;
            colon |= c == ':';
        }
        if (p >= e || !colon || p - h < 2)
            return CIO_EHTTP_BAD_HOST;
        u->host = (cio_http_str){h, (size_t)(p - h)};
        u->ipv6 = true;
        p++;
        if (p < e && *p != ':')
            return CIO_EHTTP_BAD_HOST;
    } else {
        while (p < e && *p != ':') {
            if (!is_host_char((unsigned char)*p))
                return CIO_EHTTP_BAD_HOST;
            /* RFC 3986 2.1: "%" starts a pct-encoded octet, two hex digits, nothing else. */
            if (*p == '%' && (e - p < 3 || !(cio__http_class[(unsigned char)p[1]] & CIO__HEX) ||
                              !(cio__http_class[(unsigned char)p[2]] & CIO__HEX)))
                return CIO_EHTTP_BAD_HOST;
            p++;
        }
        if (p == h)
            return CIO_EHTTP_BAD_HOST;
        u->host = (cio_http_str){h, (size_t)(p - h)};
    }
    return p < e ? parse_port(u, p + 1, e) : 0;
}

/* path ["?" query] ["#" fragment] from `p`. */
static int parse_tail(cio_url *u, const char *p, const char *e, bool allow_fragment)
{
    const char *s = p;
    while (p < e && *p != '?' && *p != '#') {
        if (!is_path_char((unsigned char)*p))
            return CIO_EHTTP_BAD_URL;
        p++;
    }
    u->path = (cio_http_str){s, (size_t)(p - s)};
    if (p < e && *p == '?') {
        s = ++p;
        while (p < e && *p != '#') {
            if (!is_path_char((unsigned char)*p))
                return CIO_EHTTP_BAD_URL;
            p++;
        }
        u->query = (cio_http_str){s, (size_t)(p - s)};
    }
    if (p < e) { /* "#" */
        if (!allow_fragment)
            return CIO_EHTTP_BAD_URL;
        s = ++p;
        for (; p < e; p++)
            if (!is_path_char((unsigned char)*p))
                return CIO_EHTTP_BAD_URL;
        u->fragment = (cio_http_str){s, (size_t)(p - s)};
    }
    return 0;
}

/* The length of a scheme followed by "://" at the start of [s, e), or 0. */
static size_t scheme_len(const char *s, const char *e)
{
    const char *p = s;
    if (p >= e || !is_alpha((unsigned char)*p))
        return 0;
    while (p < e && (is_alpha((unsigned char)*p) || is_digit((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
        p++;
    if (e - p < 3 || memcmp(p, "://", 3) != 0)
        return 0;
    return (size_t)(p - s);
}

static void url_clear(cio_url *u)
{
    memset(u, 0, sizeof(*u));
    u->port = -1;
}

static int parse_absolute(cio_url *u, const char *s, size_t n, bool allow_fragment)
{
    const char *e = s + n, *p;
    size_t sl = scheme_len(s, e);
    if (sl == 0)
        return CIO_EHTTP_BAD_URL;
    u->form = CIO_URL_ABSOLUTE;
    u->scheme = (cio_http_str){s, sl};
    p = s + sl + 3;
    const char *a = p, *at = NULL;
    while (p < e && *p != '/' && *p != '?' && *p != '#') {
        if (*p == '@')
            at = p;
        p++;
    }
    if (at) {
        for (const char *q = a; q < at; q++)
            if (!is_host_char((unsigned char)*q) && *q != ':')
                return CIO_EHTTP_BAD_URL;
        u->userinfo = (cio_http_str){a, (size_t)(at - a)};
        a = at + 1;
    }
    int rc = parse_hostport(u, a, p);
    return rc < 0 ? rc : parse_tail(u, p, e, allow_fragment);
}

int cio_url_parse(cio_url *u, const char *s, size_t n)
{
    url_clear(u);
    return parse_absolute(u, s, n, true);
}

int cio_url_parse_target(cio_url *u, const char *s, size_t n)
{
    url_clear(u);
    if (n == 1 && s[0] == '*') {
        u->form = CIO_URL_ASTERISK;
        u->path = (cio_http_str){s, 1};
        return 0;
    }
    if (n > 0 && s[0] == '/') {
        u->form = CIO_URL_ORIGIN;
        return parse_tail(u, s, s + n, false);
    }
    if (scheme_len(s, s + n))
        return parse_absolute(u, s, n, false);
    /* authority-form, for CONNECT: host ":" port and nothing else */
    u->form = CIO_URL_AUTHORITY;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == '?' || s[i] == '#' || s[i] == '@')
            return CIO_EHTTP_BAD_URL;
    int rc = parse_hostport(u, s, s + n);
    if (rc == 0 && u->port < 0)
        rc = CIO_EHTTP_BAD_PORT;
    return rc;
}

static int hex(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

ssize_t cio_url_decode(char *dst, size_t cap, const char *src, size_t n, unsigned flags)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (n - i < 3)
                return CIO_EHTTP_BAD_PERCENT;
            int hi = hex((unsigned char)src[i + 1]), lo = hex((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return CIO_EHTTP_BAD_PERCENT;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && (flags & CIO_URL_PLUS_SPACE)) {
            c = ' ';
        }
        if (o >= cap)
            return -ENOBUFS;
        dst[o++] = (char)c;
    }
    return (ssize_t)o;
}

int cio_url_query_next(cio_http_str *rest, cio_http_str *name, cio_http_str *value)
{
    const char *p = rest->ptr, *e = p + rest->len;
    while (p < e && *p == '&')
        p++;
    if (p >= e) {
        *rest = (cio_http_str){e, 0};
        return 0;
    }
    const char *s = p, *eq = NULL;
    for (; p < e && *p != '&'; p++)
        if (*p == '=' && !eq)
            eq = p;
    if (eq) {
        *name = (cio_http_str){s, (size_t)(eq - s)};
        *value = (cio_http_str){eq + 1, (size_t)(p - eq - 1)};
    } else {
        *name = (cio_http_str){s, (size_t)(p - s)};
        *value = (cio_http_str){NULL, 0};
    }
    *rest = (cio_http_str){p, (size_t)(e - p)};
    return 1;
}
