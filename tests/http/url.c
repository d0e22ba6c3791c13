/* url.c: URL and request-target parsing, percent-decoding and query splitting. */
#include "harness.h"

#include <string.h>

#include "cio/http.h"

static bool is(cio_http_str s, const char *lit)
{
    if (!lit)
        return s.ptr == NULL && s.len == 0;
    return s.ptr && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static int url(cio_url *u, const char *s)
{
    return cio_url_parse(u, tst_guarded(s, strlen(s)), strlen(s));
}

static int target(cio_url *u, const char *s)
{
    return cio_url_parse_target(u, tst_guarded(s, strlen(s)), strlen(s));
}

Test(url, full_client_url)
{
    cio_url u;
    cr_assert_eq(url(&u, "https://user:pw@example.com:8443/a/b?x=1&y=2#frag"), 0);
    cr_assert(u.form == CIO_URL_ABSOLUTE && is(u.scheme, "https") && is(u.userinfo, "user:pw"));
    cr_assert(is(u.host, "example.com") && is(u.port_str, "8443") && u.port == 8443 && !u.ipv6);
    cr_assert(is(u.path, "/a/b") && is(u.query, "x=1&y=2") && is(u.fragment, "frag"));
}

Test(url, minimal_and_ipv6)
{
    cio_url u;
    cr_assert_eq(url(&u, "http://a"), 0);
    cr_assert(is(u.host, "a") && u.port == -1 && u.path.len == 0 && is(u.query, NULL));
    cr_assert_eq(url(&u, "http://[::1]:80/"), 0);
    cr_assert(u.ipv6 && is(u.host, "::1") && u.port == 80 && is(u.path, "/"));
    cr_assert_eq(url(&u, "http://[2001:db8::7]"), 0);
    cr_assert(u.ipv6 && is(u.host, "2001:db8::7") && u.port == -1);
    cr_assert_eq(url(&u, "http://127.0.0.1:0?q"), 0);
    cr_assert(is(u.host, "127.0.0.1") && u.port == 0 && is(u.query, "q") && u.path.len == 0);
    cr_assert_eq(url(&u, "http://h:65535"), 0);
}

Test(url, bad_urls)
{
    cio_url u;
    cr_assert_eq(url(&u, "example.com/a"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "1http://a/"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "http:/a/"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "http:///a"), CIO_EHTTP_BAD_HOST);
    cr_assert_eq(url(&u, "http://a b/"), CIO_EHTTP_BAD_HOST);
    cr_assert_eq(url(&u, "http://[::1/"), CIO_EHTTP_BAD_HOST);
    cr_assert_eq(url(&u, "http://[]/"), CIO_EHTTP_BAD_HOST);
    cr_assert_eq(url(&u, "http://[1.2.3.4]/"), CIO_EHTTP_BAD_HOST);
    cr_assert_eq(url(&u, "http://[::1]x/"), CIO_EHTTP_BAD_HOST);
    cr_assert_eq(url(&u, "http://a:65536/"), CIO_EHTTP_BAD_PORT);
    cr_assert_eq(url(&u, "http://a:/"), CIO_EHTTP_BAD_PORT);
    cr_assert_eq(url(&u, "http://a:8x/"), CIO_EHTTP_BAD_PORT);
    cr_assert_eq(url(&u, "http://a:123456/"), CIO_EHTTP_BAD_PORT);
    cr_assert_eq(url(&u, "http://a/b c"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "http://a/\x01"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "http://a/?\x7f"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "http://a/#\x80"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, "http://u\"@a/"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(url(&u, ""), CIO_EHTTP_BAD_URL);
}

Test(url, target_forms)
{
    cio_url u;
    cr_assert_eq(target(&u, "/index.html?a=b"), 0);
    cr_assert(u.form == CIO_URL_ORIGIN && is(u.path, "/index.html") && is(u.query, "a=b") && u.port == -1);
    cr_assert_eq(target(&u, "*"), 0);
    cr_assert(u.form == CIO_URL_ASTERISK);
    cr_assert_eq(target(&u, "example.com:443"), 0);
    cr_assert(u.form == CIO_URL_AUTHORITY && is(u.host, "example.com") && u.port == 443);
    cr_assert_eq(target(&u, "[::1]:8080"), 0);
    cr_assert(u.form == CIO_URL_AUTHORITY && u.ipv6 && u.port == 8080);
    cr_assert_eq(target(&u, "http://example.com/x?y"), 0);
    cr_assert(u.form == CIO_URL_ABSOLUTE && is(u.host, "example.com") && is(u.path, "/x") && is(u.query, "y"));
    cr_assert_eq(target(&u, "/a#frag"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(target(&u, "http://a/#f"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(target(&u, "example.com"), CIO_EHTTP_BAD_PORT);
    cr_assert_eq(target(&u, "example.com:443/x"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(target(&u, "u@example.com:443"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(target(&u, "**"), CIO_EHTTP_BAD_PORT); /* "*" is a sub-delim: a host, without a port */
    cr_assert_eq(target(&u, ""), CIO_EHTTP_BAD_HOST);
}

Test(url, percent_decoding)
{
    char out[64];
    const char *s = "a%20b%2Fc+d%e2%82%ac";
    ssize_t n = cio_url_decode(out, sizeof(out), s, strlen(s), 0);
    cr_assert(n == 10 && memcmp(out, "a b/c+d\xe2\x82\xac", 10) == 0);
    n = cio_url_decode(out, sizeof(out), s, strlen(s), CIO_URL_PLUS_SPACE);
    cr_assert(n == 10 && memcmp(out, "a b/c d\xe2\x82\xac", 10) == 0);
    char inplace[] = "x%41y";
    cr_assert_eq(cio_url_decode(inplace, sizeof(inplace), inplace, 5, 0), 3);
    cr_assert(memcmp(inplace, "xAy", 3) == 0);
    const char *bad[] = {"%", "%4", "%4g", "a%zz", "%%41"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(cio_url_decode(out, sizeof(out), tst_guarded(bad[i], strlen(bad[i])), strlen(bad[i]), 0),
                     CIO_EHTTP_BAD_PERCENT, "%s", bad[i]);
    cr_assert_eq(cio_url_decode(out, 2, "abc", 3, 0), -ENOBUFS);
    cr_assert_eq(cio_url_decode(out, 0, "", 0, 0), 0);
}

Test(url, query_splitting)
{
    cio_http_str rest = {"a=1&&b=&c&=d&e=f=g&", 19}, k, v;
    const char *want[][2] = {{"a", "1"}, {"b", ""}, {"c", NULL}, {"", "d"}, {"e", "f=g"}};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(cio_url_query_next(&rest, &k, &v), 1);
        cr_assert(is(k, want[i][0]) || (k.len == 0 && !*want[i][0]), "key %d", i);
        if (want[i][1] == NULL)
            cr_assert(v.ptr == NULL && v.len == 0);
        else
            cr_assert(v.len == strlen(want[i][1]) && memcmp(v.ptr, want[i][1], v.len) == 0, "value %d", i);
    }
    cr_assert_eq(cio_url_query_next(&rest, &k, &v), 0);
    cr_assert_eq(cio_url_query_next(&rest, &k, &v), 0);
}
