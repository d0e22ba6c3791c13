/* message.c: framing helpers (body rule, persistence, upgrade, 100-continue), header lookup and value helpers. */
#include "harness.h"

#include <string.h>

#include "cio/http.h"

static cio_http_header hs[16];

static cio_http_head req(const char *wire)
{
    cio_http_head h;
    cio_http_head_init(&h, hs, 16);
    int rc = cio_http_parse_request(&h, wire, strlen(wire), NULL);
    cr_assert_eq(rc, (int)strlen(wire), "%s: %s", wire, cio_err_name(rc));
    return h;
}

static cio_http_head resp(const char *wire)
{
    cio_http_head h;
    cio_http_head_init(&h, hs, 16);
    int rc = cio_http_parse_response(&h, wire, strlen(wire), NULL);
    cr_assert_eq(rc, (int)strlen(wire), "%s: %s", wire, cio_err_name(rc));
    return h;
}

static cio_http_str S(const char *s)
{
    return (cio_http_str){s, strlen(s)};
}

Test(message, request_body_rule)
{
    uint64_t n = 99;
    cio_http_head h = req("GET / HTTP/1.1\r\n\r\n");
    cr_assert(cio_http_request_body(&h, &n) == CIO_HTTP_BODY_NONE && n == 0);
    h = req("POST / HTTP/1.1\r\nContent-Length: 42\r\n\r\n");
    cr_assert(cio_http_request_body(&h, &n) == CIO_HTTP_BODY_LENGTH && n == 42);
    h = req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    cr_assert(cio_http_request_body(&h, NULL) == CIO_HTTP_BODY_CHUNKED);
    cr_assert(h.flags & CIO_HTTP_TE_OTHER);
}

Test(message, response_body_rule)
{
    uint64_t n = 99;
    cio_http_head h = resp("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n");
    cr_assert(cio_http_response_body(&h, NULL, &n) == CIO_HTTP_BODY_LENGTH && n == 7);
    cr_assert(cio_http_response_body(&h, "HEAD", &n) == CIO_HTTP_BODY_NONE && n == 0);
    h = resp("HTTP/1.1 204 No Content\r\n\r\n");
    cr_assert(cio_http_response_body(&h, "GET", NULL) == CIO_HTTP_BODY_NONE);
    h = resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n");
    cr_assert(cio_http_response_body(&h, NULL, NULL) == CIO_HTTP_BODY_NONE);
    h = resp("HTTP/1.1 100 Continue\r\n\r\n");
    cr_assert(cio_http_response_body(&h, NULL, NULL) == CIO_HTTP_BODY_NONE);
    h = resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    cr_assert(cio_http_response_body(&h, NULL, NULL) == CIO_HTTP_BODY_CHUNKED);
    h = resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
    cr_assert(cio_http_response_body(&h, NULL, NULL) == CIO_HTTP_BODY_UNTIL_CLOSE);
    h = resp("HTTP/1.0 200 OK\r\n\r\n");
    cr_assert(cio_http_response_body(&h, NULL, NULL) == CIO_HTTP_BODY_UNTIL_CLOSE);
    h = resp("HTTP/1.1 200 Connection established\r\n\r\n");
    cr_assert(cio_http_response_body(&h, "CONNECT", NULL) == CIO_HTTP_BODY_TUNNEL);
    h = resp("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n");
    cr_assert(cio_http_response_body(&h, "CONNECT", NULL) == CIO_HTTP_BODY_LENGTH);
}

Test(message, keep_alive_by_version_and_connection)
{
    cio_http_head h = req("GET / HTTP/1.1\r\n\r\n");
    cr_assert(cio_http_keep_alive(&h));
    h = req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    cr_assert(!cio_http_keep_alive(&h));
    h = req("GET / HTTP/1.1\r\nConnection: foo, CLOSE\r\n\r\n");
    cr_assert(!cio_http_keep_alive(&h));
    h = req("GET / HTTP/1.0\r\n\r\n");
    cr_assert(!cio_http_keep_alive(&h));
    h = req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    cr_assert(cio_http_keep_alive(&h));
    h = req("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    cr_assert(!cio_http_keep_alive(&h));
    h = resp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
    cr_assert(cio_http_keep_alive(&h));
}

Test(message, upgrade_detection)
{
    cio_http_head h = req("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    cr_assert(cio_http_upgrade(&h));
    h = req("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
    cr_assert(!cio_http_upgrade(&h));
    h = req("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n");
    cr_assert(!cio_http_upgrade(&h));
    h = resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    cr_assert(cio_http_upgrade(&h));
    h = resp("HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    cr_assert(!cio_http_upgrade(&h));
}

Test(message, expect_continue)
{
    cio_http_head h = req("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
    cr_assert(cio_http_expects_continue(&h));
    h = req("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    cr_assert(!cio_http_expects_continue(&h));
    h = req("PUT / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n");
    cr_assert(!cio_http_expects_continue(&h) && (h.flags & CIO_HTTP_EXPECT_OTHER));
}

Test(message, header_find_iterates_case_insensitively)
{
    cio_http_head h = req("GET / HTTP/1.1\r\nSet-Cookie: a\r\nX: y\r\nset-cookie: b\r\n\r\n");
    const cio_http_header *f = cio_http_header_find(&h, "SET-COOKIE", NULL);
    cr_assert(f && f->value.ptr[0] == 'a');
    f = cio_http_header_find(&h, "set-cookie", f);
    cr_assert(f && f->value.ptr[0] == 'b');
    cr_assert_null(cio_http_header_find(&h, "set-cookie", f));
    cr_assert_null(cio_http_header_find(&h, "missing", NULL));
}

Test(message, str_ieq_and_tchar)
{
    cr_assert(cio_http_str_ieq(S("Content-Length"), "content-length"));
    cr_assert(!cio_http_str_ieq(S("Content-Lengt"), "content-length"));
    cr_assert(!cio_http_str_ieq(S("a"), "b"));
    cr_assert(cio_http_is_tchar('!') && cio_http_is_tchar('z') && cio_http_is_tchar('~'));
    cr_assert(!cio_http_is_tchar(':') && !cio_http_is_tchar(' ') && !cio_http_is_tchar(0x80) && !cio_http_is_tchar(-1));
}

Test(message, list_next_splits_and_trims)
{
    cio_http_str rest = S(" a , b;q=1,, \"c,d\" ,e\t"), el;
    const char *want[] = {"a", "b;q=1", "\"c,d\"", "e"};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(cio_http_list_next(&rest, &el), 1);
        cr_assert(el.len == strlen(want[i]) && memcmp(el.ptr, want[i], el.len) == 0, "element %d", i);
    }
    cr_assert_eq(cio_http_list_next(&rest, &el), 0);
    rest = S(", ,");
    cr_assert_eq(cio_http_list_next(&rest, &el), 0);
    rest = S("a, \"b");
    cr_assert_eq(cio_http_list_next(&rest, &el), 1);
    cr_assert_eq(cio_http_list_next(&rest, &el), CIO_EHTTP_BAD_LIST);
}

Test(message, list_has)
{
    cr_assert(cio_http_list_has(S("keep-alive, Upgrade"), "upgrade"));
    cr_assert(cio_http_list_has(S("gzip;q=0.5, br"), "gzip"));
    cr_assert(!cio_http_list_has(S("gzipx, br"), "gzip"));
    cr_assert(!cio_http_list_has(S(""), "gzip"));
}

Test(message, qvalue)
{
    cio_http_str tok;
    int q;
    cr_assert_eq(cio_http_qvalue(S("gzip;q=0.8"), &tok, &q), 0);
    cr_assert(tok.len == 4 && q == 800);
    cr_assert_eq(cio_http_qvalue(S("br"), &tok, &q), 0);
    cr_assert(q == 1000);
    cr_assert_eq(cio_http_qvalue(S("text/html ; level=1 ; Q=0.125"), &tok, &q), CIO_EHTTP_BAD_LIST); /* "/" */
    cr_assert_eq(cio_http_qvalue(S("x ; level=\"a;b\" ; Q=0.125"), &tok, &q), 0);
    cr_assert(q == 125);
    cr_assert_eq(cio_http_qvalue(S("x;q=1.000"), &tok, &q), 0);
    cr_assert(q == 1000);
    cr_assert_eq(cio_http_qvalue(S("x;q=0"), &tok, &q), 0);
    cr_assert(q == 0);
    cr_assert_eq(cio_http_qvalue(S("x;q=1.5"), &tok, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_qvalue(S("x;q=2"), &tok, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_qvalue(S("x;q=0.1234"), &tok, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_qvalue(S("x;q="), &tok, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_qvalue(S("x;q"), &tok, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_qvalue(S(";q=1"), &tok, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_qvalue(S("x;a=\"unterminated"), &tok, &q), CIO_EHTTP_BAD_LIST);
}
