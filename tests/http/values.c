/* values.c: header values: parameters and media types, dates (against Python's email.utils), ranges, entity-tags,
 * cookies (RFC 6265's examples, what browsers and servers send), and query strings (against urllib.parse). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cio/http.h"

static cio_http_str S(const char *s)
{
    return (cio_http_str){tst_guarded(s, strlen(s)), strlen(s)};
}

static bool is(cio_http_str s, const char *lit)
{
    if (!lit)
        return s.ptr == NULL;
    return s.ptr && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Run Python with `script` and return its whole stdout (malloc'd). */
static char *python(const char *script)
{
    char path[] = "/tmp/cio-values-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(script, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    cr_assert_eq(pclose(p), 0, "python failed: %s", script);
    unlink(path);
    return out;
}

/* ------------------------------------------------------------------------------------- media types */

Test(values, parameters_and_media_types)
{
    cio_http_media_type mt;
    char buf[64];
    cr_assert_eq(cio_http_media_type_parse(&mt, S("text/html; charset=UTF-8")), 0);
    cr_assert(is(mt.type, "text") && is(mt.subtype, "html"));
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, sizeof buf), 5);
    cr_assert_str_eq(buf, "utf-8");
    cr_assert(cio_http_media_type_is(&mt, "text/html") && cio_http_media_type_is(&mt, "TEXT/HTML"));
    cr_assert(cio_http_media_type_is(&mt, "text/*") && cio_http_media_type_is(&mt, "*/*"));
    cr_assert(!cio_http_media_type_is(&mt, "text/plain") && !cio_http_media_type_is(&mt, "image/*"));
    cr_assert(!cio_http_media_type_is(&mt, "text"));

    cr_assert_eq(cio_http_media_type_parse(&mt, S("  multipart/form-data ;boundary=\"a\\\"b\" ; x = y ;")), 0);
    cr_assert(is(mt.subtype, "form-data"));
    cr_assert_eq(cio_http_param_get(mt.params, "BOUNDARY", buf, sizeof buf), 3);
    cr_assert_str_eq(buf, "a\"b");
    cr_assert_eq(cio_http_param_get(mt.params, "x", buf, sizeof buf), 1);
    cr_assert_eq(cio_http_param_get(mt.params, "charset", buf, sizeof buf), -ENOENT);
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, sizeof buf), -ENOENT);
    cr_assert_eq(cio_http_param_get(mt.params, "boundary", buf, 3), -ENOBUFS);
    cr_assert_eq(cio_http_param_get(mt.params, "boundary", buf, 0), -ENOBUFS);

    cio_http_str rest = S("; a=1;b=\"two words\""), n, v;
    bool q;
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 1);
    cr_assert(is(n, "a") && is(v, "1") && !q);
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 1);
    cr_assert(is(n, "b") && is(v, "two words") && q);
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 0);

    static const char *const bad[] = {"text",
                                      "text/",
                                      "/html",
                                      "",
                                      " ",
                                      "text/ht ml",
                                      "text/html; charset",
                                      "text/html; =x",
                                      "text/html; a=\"open",
                                      "text/html x",
                                      "te\x01xt/html",
                                      "text/html; a=b c",
                                      "text/html; a=\"\x01\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(cio_http_media_type_parse(&mt, S(bad[i])), CIO_EHTTP_BAD_MEDIA_TYPE, "%s", bad[i]);
    rest = S("a=1");
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_param_get(S("; a"), "a", buf, sizeof buf), CIO_EHTTP_BAD_LIST);
}

/* ------------------------------------------------------------------------------------------ dates */

Test(values, the_rfc_examples_of_the_three_date_formats)
{
    int64_t t;
    cr_assert_eq(cio_http_date_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(cio_http_date_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(cio_http_date_parse(S("Sun Nov  6 08:49:37 1994"), &t), 0);
    cr_assert_eq(t, 784111777);
    cr_assert_eq(cio_http_date_parse(S("  Sun, 06 Nov 1994 08:49:37 GMT \t"), &t), 0);
    char d[CIO_HTTP_DATE_LEN + 1];
    cr_assert_eq(cio_http_date_format(d, 784111777), CIO_HTTP_DATE_LEN);
    cr_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    cr_assert_eq(cio_http_date_format(d, 0), CIO_HTTP_DATE_LEN);
    cr_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    cr_assert_eq(cio_http_date_format(d, -1), CIO_HTTP_DATE_LEN);
    cr_assert_str_eq(d, "Wed, 31 Dec 1969 23:59:59 GMT");
    cr_assert_eq(cio_http_date_format(d, 253402300799), CIO_HTTP_DATE_LEN);
    cr_assert_str_eq(d, "Fri, 31 Dec 9999 23:59:59 GMT");
    cr_assert_eq(cio_http_date_format(d, 253402300800), -ERANGE);
    cr_assert_eq(cio_http_date_format(d, -62167219201), -ERANGE);
    /* leap days */
    cr_assert_eq(cio_http_date_parse(S("Tue, 29 Feb 2000 12:00:00 GMT"), &t), 0);
    cr_assert_eq(t, 951825600);
    cr_assert_eq(cio_http_date_parse(S("Thu, 29 Feb 2024 00:00:00 GMT"), &t), 0);
    cr_assert_eq(t, 1709164800);
    /* RFC 850's two-digit year: within 50 years of now */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    cr_assert_eq(cio_http_date_parse(S("Thursday, 01-Jan-70 00:00:00 GMT"), &t), 0);
    cr_assert_eq(t, tm.tm_year + 1900 < 2020 ? 0 : 3155760000); /* 1970, or 2070 once 2070 is within 50 years */
}

Test(values, dates_against_python_email_utils)
{
    /* 2,000 times from 1970 to 9999 */
    static int64_t ts[2000];
    char *script = malloc(2000 * 24 + 256);
    char *o = script + sprintf(script, "import email.utils\nfor t in [");
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ts[i] = i < 4 ? (int64_t[]){0, 86399, 951782400, 253402300799}[i] : (int64_t)(x % 253402300800ull);
        o += sprintf(o, "%lld,", (long long)ts[i]);
    }
    sprintf(o, "]: print(email.utils.formatdate(t, usegmt=True))\n");
    char *out = python(script);
    char *line = out;
    for (int i = 0; i < 2000; i++) {
        char *nl = strchr(line, '\n');
        cr_assert(nl);
        *nl = '\0';
        char d[CIO_HTTP_DATE_LEN + 1];
        cr_assert_eq(cio_http_date_format(d, ts[i]), CIO_HTTP_DATE_LEN);
        cr_assert_str_eq(d, line, "t=%lld", (long long)ts[i]);
        int64_t back;
        cr_assert_eq(cio_http_date_parse(S(d), &back), 0, "%s", d);
        cr_assert_eq(back, ts[i], "%s", d);
        line = nl + 1;
    }
    free(out);
    free(script);
}

Test(values, bad_dates)
{
    static const char *const bad[] = {
        "",
        "Mon, 06 Nov 1994 08:49:37 GMT", /* the wrong day for the date */
        "Sun, 06 Nvv 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Thu, 30 Feb 2023 00:00:00 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 31-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 31 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 x",
        "1994-11-06T08:49:37Z",
        "784111777",
        "Sun, 06 Nov 1994 08:49:37 GMT\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t t = 42;
        cr_assert_eq(cio_http_date_parse(S(bad[i]), &t), CIO_EHTTP_BAD_DATE, "%s", bad[i]);
        cr_assert_eq(t, 42, "%s", bad[i]);
    }
}

Test(values, the_current_date)
{
    time_t before = time(NULL);
    const char *d = cio_http_date_now();
    time_t after = time(NULL);
    cr_assert_eq(strlen(d), CIO_HTTP_DATE_LEN);
    int64_t t;
    cr_assert_eq(cio_http_date_parse(S(d), &t), 0);
    cr_assert(t >= before && t <= after, "%s", d);
}

/* ------------------------------------------------------------------------------------------ ranges */

struct range_case {
    const char *value;
    int rc;
    cio_http_range want[4];
};

static const struct range_case range_cases[] = {
    {"bytes=0-499", 1, {{0, 499}}},
    {"bytes=500-999", 1, {{500, 999}}},
    {"bytes=-500", 1, {{9500, 9999}}},
    {"bytes=9500-", 1, {{9500, 9999}}},
    {"BYTES=0-0", 1, {{0, 0}}},
    {"bytes=0-0,-1", 2, {{0, 0}, {9999, 9999}}},
    {"bytes= 0-0 , -1 ", 2, {{0, 0}, {9999, 9999}}},
    {"bytes=100-199,0-9", 2, {{100, 199}, {0, 9}}}, /* apart: the order asked */
    {"bytes=500-600,601-999", 1, {{500, 999}}},     /* touching: coalesced */
    {"bytes=500-700,601-999", 1, {{500, 999}}},
    {"bytes=900-999,0-99,50-149", 2, {{0, 149}, {900, 999}}}, /* sorted once any overlap */
    {"bytes=0-99999", 1, {{0, 9999}}},
    {"bytes=-20000", 1, {{0, 9999}}},
    {"bytes=0-99999999999999999999999", 1, {{0, 9999}}}, /* a huge number is simply past the end */
    {"bytes=20000-,0-1", 1, {{0, 1}}},
    {"bytes=,,0-1,,", 1, {{0, 1}}},
    {"bytes=10000-", CIO_EHTTP_RANGE_NOT_SATISFIABLE, {{0}}},
    {"bytes=-0", CIO_EHTTP_RANGE_NOT_SATISFIABLE, {{0}}},
    {"bytes=99999999999999999999999-", CIO_EHTTP_RANGE_NOT_SATISFIABLE, {{0}}},
    {"bytes=", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=,", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=a-b", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=5-1", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"items=0-1", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes 0-1", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=--1", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=-", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=1", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=0-1 2-3", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=0-1,x", CIO_EHTTP_BAD_RANGE, {{0}}},
    {"bytes=0-1,3-4,6-7,9-10,12-13", CIO_EHTTP_TOO_MANY_RANGES, {{0}}},
};

Test(values, ranges_against_a_size_of_10000)
{
    for (size_t i = 0; i < sizeof range_cases / sizeof *range_cases; i++) {
        const struct range_case *c = &range_cases[i];
        cio_http_range r[4];
        int rc = cio_http_range_parse(S(c->value), 10000, r, 4);
        cr_assert_eq(rc, c->rc, "%s: %d", c->value, rc);
        for (int k = 0; k < rc; k++)
            cr_assert(r[k].first == c->want[k].first && r[k].last == c->want[k].last, "%s [%d]: %llu-%llu", c->value, k,
                      (unsigned long long)r[k].first, (unsigned long long)r[k].last);
    }
    cio_http_range r[10];
    cr_assert_eq(cio_http_range_parse(S("bytes=0-"), 0, r, 10), CIO_EHTTP_RANGE_NOT_SATISFIABLE);
    cr_assert_eq(cio_http_range_parse(S("bytes=-5"), 0, r, 10), CIO_EHTTP_RANGE_NOT_SATISFIABLE);
    cr_assert_eq(cio_http_range_parse(S("bytes=0-1"), 10, r, 0), CIO_EHTTP_TOO_MANY_RANGES);
    /* amplification: 100 copies of the whole file are one range, and more than the limit fits once coalesced */
    char many[1024] = "bytes=";
    for (int i = 0; i < 100; i++)
        strcat(many, i ? ",0-" : "0-");
    cr_assert_eq(cio_http_range_parse(S(many), 10000, r, 10), 1);
    cr_assert(r[0].first == 0 && r[0].last == 9999);
    strcpy(many, "bytes=");
    for (int i = 0; i < 30; i++)
        sprintf(many + strlen(many), "%s%d-%d", i ? "," : "", i * 10, i * 10 + 9);
    cr_assert_eq(cio_http_range_parse(S(many), 10000, r, 10), 1); /* 30 touching ranges */
    cr_assert(r[0].first == 0 && r[0].last == 299);
}

Test(values, content_range)
{
    uint64_t a, b, n;
    cr_assert_eq(cio_http_content_range_parse(S("bytes 0-499/1234"), &a, &b, &n), 0);
    cr_assert(a == 0 && b == 499 && n == 1234);
    cr_assert_eq(cio_http_content_range_parse(S("bytes 0-499/*"), &a, &b, &n), 0);
    cr_assert(a == 0 && b == 499 && n == UINT64_MAX);
    cr_assert_eq(cio_http_content_range_parse(S("bytes */1234"), &a, &b, &n), 0);
    cr_assert(a == UINT64_MAX && b == UINT64_MAX && n == 1234);
    static const char *const bad[] = {"bytes 500-0/1234", "bytes 0-1234/1234", "bytes 0-1",
                                      "bits 0-1/2",       "bytes */*",         "bytes 0-1/",
                                      "bytes -1/2",       "bytes 0-1/2x",      ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(cio_http_content_range_parse(S(bad[i]), &a, &b, &n), CIO_EHTTP_BAD_RANGE, "%s", bad[i]);
}

/* ------------------------------------------------------------------------------------- entity-tags */

Test(values, entity_tags)
{
    cio_http_str rest = S("\"a\", W/\"b\" ,\"c,d\",, \"\""), tag, op;
    bool weak;
    static const struct {
        const char *tag, *opaque;
        bool weak;
    } want[] = {{"\"a\"", "a", false}, {"W/\"b\"", "b", true}, {"\"c,d\"", "c,d", false}, {"\"\"", "", false}};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(cio_http_etag_next(&rest, &tag, &op, &weak), 1);
        cr_assert(is(tag, want[i].tag) && is(op, want[i].opaque) && weak == want[i].weak, "%zu", i);
    }
    cr_assert_eq(cio_http_etag_next(&rest, &tag, &op, &weak), 0);
    static const char *const bad[] = {"a", "\"a", "W/a", "w/\"a\"", "\"a\"b", "\"a\" \"b\"", "\"a\x01\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rest = S(bad[i]);
        cr_assert_eq(cio_http_etag_next(&rest, &tag, &op, &weak), CIO_EHTTP_BAD_ETAG, "%s", bad[i]);
        cr_assert_eq(cio_http_etag_match(S(bad[i]), S("\"a\""), 0), CIO_EHTTP_BAD_ETAG, "%s", bad[i]);
    }
    /* RFC 9110 section 8.8.3.2's table */
    static const struct {
        const char *a, *b;
        int strong, weak;
    } cmp[] = {{"W/\"1\"", "W/\"1\"", 0, 1},
               {"W/\"1\"", "W/\"2\"", 0, 0},
               {"W/\"1\"", "\"1\"", 0, 1},
               {"\"1\"", "\"1\"", 1, 1}};
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++) {
        cr_assert_eq(cio_http_etag_match(S(cmp[i].a), S(cmp[i].b), 0), cmp[i].strong, "%zu", i);
        cr_assert_eq(cio_http_etag_match(S(cmp[i].a), S(cmp[i].b), CIO_HTTP_ETAG_WEAK), cmp[i].weak, "%zu", i);
    }
    cr_assert_eq(cio_http_etag_match(S(" * "), S("\"x\""), 0), 1);
    cr_assert_eq(cio_http_etag_match(S("\"a\", \"x\", W/\"y\""), S("\"x\""), 0), 1);
    cr_assert_eq(cio_http_etag_match(S("\"a\", W/\"x\""), S("\"x\""), 0), 0);
    cr_assert_eq(cio_http_etag_match(S("\"a\", W/\"x\""), S("\"x\""), CIO_HTTP_ETAG_WEAK), 1);
    cr_assert_eq(cio_http_etag_match(S("\"x\""), S("x"), 0), CIO_EHTTP_BAD_ETAG);
    cr_assert_eq(cio_http_etag_match(S("\"x\""), S("\"x\" \"y\""), 0), CIO_EHTTP_BAD_ETAG);
}

/* --------------------------------------------------------------------------------------------- cookies */

Test(values, cookie_header)
{
    cio_http_str rest = S("a=1; b=2;c=\"3\"; ; d; =x; e=;f = 6 "), n, v;
    static const char *const want[][2] = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"e", ""}, {"f", "6"}};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 1);
        cr_assert(is(n, want[i][0]) && v.len == strlen(want[i][1]) && !memcmp(v.ptr, want[i][1], v.len), "%zu", i);
    }
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 0);
    rest = S("");
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 0);
}

Test(values, set_cookie_as_a_user_agent_reads_it)
{
    cio_http_set_cookie c;
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("SID=31d4d96e407aad42; Path=/; Domain=example.com")), 0);
    cr_assert(is(c.name, "SID") && is(c.value, "31d4d96e407aad42") && is(c.path, "/") && is(c.domain, "example.com"));
    cr_assert(c.expires == INT64_MIN && c.max_age == INT64_MIN && !c.secure && !c.http_only);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("SID=31d4d96e407aad42; Path=/; Secure; HttpOnly")), 0);
    cr_assert(c.secure && c.http_only);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT")), 0);
    cr_assert_eq(c.expires, 1623233894);
    /* what servers send: the Netscape form, two-digit years, odd case and spacing */
    static const char *const dates[] = {"Wed, 09-Jun-2021 10:18:14 GMT",     "Wed, 09-Jun-21 10:18:14 GMT",
                                        "Wednesday, 09-Jun-21 10:18:14 GMT", "wed, 09 jun 2021 10:18:14 gmt",
                                        "Wed Jun  9 10:18:14 2021",          "9 Jun 2021 10:18:14"};
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
        char v[128];
        snprintf(v, sizeof v, "a=b; expires=%s", dates[i]);
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(v)), 0);
        cr_assert_eq(c.expires, 1623233894, "%s", dates[i]);
    }
    static const char *const bad_dates[] = {"soon", "Wed, 31 Jun 2021 10:18:14 GMT", "Wed, 09 Jun 1600 10:18:14 GMT",
                                            "Wed, 09 Jun 2021 25:18:14 GMT", "Wed, 09 Jun 2021"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
        char v[128];
        snprintf(v, sizeof v, "a=b; Expires=%s", bad_dates[i]);
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(v)), 0);
        cr_assert_eq(c.expires, INT64_MIN, "%s", bad_dates[i]); /* ignored, not fatal */
    }
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b; Max-Age=3600")), 0);
    cr_assert_eq(c.max_age, 3600);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b; Max-Age=-1")), 0);
    cr_assert_eq(c.max_age, -1);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b; Max-Age=abc; max-age=1x")), 0);
    cr_assert_eq(c.max_age, INT64_MIN);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b; Max-Age=99999999999999999999")), 0);
    cr_assert_eq(c.max_age, INT64_MAX);
    static const struct {
        const char *v;
        int same_site;
    } ss[] = {{"a=b; SameSite=Lax", CIO_HTTP_SAME_SITE_LAX},
              {"a=b; samesite=STRICT", CIO_HTTP_SAME_SITE_STRICT},
              {"a=b; SameSite=None; Secure", CIO_HTTP_SAME_SITE_NONE},
              {"a=b; SameSite=bogus", CIO_HTTP_SAME_SITE_UNSET},
              {"a=b; SameSite=Lax; SameSite=Strict", CIO_HTTP_SAME_SITE_STRICT}};
    for (size_t i = 0; i < sizeof ss / sizeof *ss; i++) {
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(ss[i].v)), 0);
        cr_assert_eq(c.same_site, ss[i].same_site, "%s", ss[i].v);
    }
    cr_assert_eq(cio_http_set_cookie_parse(
                     &c, S(" id = \"q v\" ; domain=.Example.com; secure; HTTPONLY; Partitioned; path=docs; x=y")),
                 0);
    cr_assert(is(c.name, "id") && is(c.value, "\"q v\"") && is(c.domain, "Example.com") && c.secure && c.http_only &&
              c.partitioned && c.path.ptr == NULL); /* a path not starting with "/" is the default path */
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=")), 0);
    cr_assert(is(c.name, "a") && c.value.len == 0);
    static const char *const bad[] = {"noequals", "=value", " =v", "", "a=b\x01", "a=b; Path=/\x7f", "a=b\r\nX: y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(bad[i])), CIO_EHTTP_BAD_COOKIE, "%s", bad[i]);
}

static cio_http_set_cookie cookie(const char *name, const char *value)
{
    cio_http_set_cookie c = CIO_HTTP_SET_COOKIE_INIT;
    c.name = (cio_http_str){name, strlen(name)};
    c.value = (cio_http_str){value, strlen(value)};
    return c;
}

Test(values, set_cookie_written_strictly)
{
    char buf[512];
    cio_http_set_cookie c = cookie("id", "a3fWa");
    c.expires = 1634801280;
    c.max_age = 2592000;
    c.domain = (cio_http_str){"example.com", 11};
    c.path = (cio_http_str){"/docs", 5};
    c.secure = c.http_only = c.partitioned = true;
    c.same_site = CIO_HTTP_SAME_SITE_LAX;
    const char *want = "id=a3fWa; Expires=Thu, 21 Oct 2021 07:28:00 GMT; Max-Age=2592000; Domain=example.com; "
                       "Path=/docs; Secure; HttpOnly; SameSite=Lax; Partitioned";
    cr_assert_eq(cio_http_set_cookie_format(buf, sizeof buf, &c), (ssize_t)strlen(want));
    cr_assert_str_eq(buf, want);
    /* read back as written */
    cio_http_set_cookie r;
    cr_assert_eq(cio_http_set_cookie_parse(&r, S(buf)), 0);
    cr_assert(is(r.name, "id") && is(r.value, "a3fWa") && r.expires == c.expires && r.max_age == c.max_age &&
              is(r.domain, "example.com") && is(r.path, "/docs") && r.secure && r.http_only && r.partitioned &&
              r.same_site == CIO_HTTP_SAME_SITE_LAX);
    cio_http_set_cookie e = cookie("e", "");
    cr_assert_eq(cio_http_set_cookie_format(buf, sizeof buf, &e), 2);
    cr_assert_str_eq(buf, "e=");
    cio_http_set_cookie qv = cookie("q", "\"quoted\"");
    cr_assert_eq(cio_http_set_cookie_format(buf, sizeof buf, &qv), 10);
    cio_http_set_cookie h = cookie("__Host-s", "1");
    h.secure = true;
    h.path = (cio_http_str){"/", 1};
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &h), 0);
    cr_assert_eq(cio_http_set_cookie_format(buf, 10, &c), -ENOBUFS);
    cr_assert_eq(cio_http_set_cookie_format(buf, 0, &c), -ENOBUFS);

    /* refusals: nothing written */
    struct {
        cio_http_set_cookie c;
        const char *why;
    } bad[24];
    size_t nb = 0;
    static const char *const bad_values[] = {"a;b", "a\r\nSet-Cookie: x=y", "a b", "a,b", "a\"b", "a\\b", "\x01", "é"};
    for (size_t i = 0; i < sizeof bad_values / sizeof *bad_values; i++)
        bad[nb++] = (typeof(bad[0])){cookie("n", bad_values[i]), bad_values[i]};
    static const char *const bad_names[] = {"", "a=b", "a b", "a;b", "a\r\n", "(a)"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        bad[nb++] = (typeof(bad[0])){cookie(bad_names[i], "v"), bad_names[i]};
    cio_http_set_cookie x = cookie("n", "v");
    x.path = (cio_http_str){"/a;b", 4};
    bad[nb++] = (typeof(bad[0])){x, "path with ;"};
    x = cookie("n", "v");
    x.domain = (cio_http_str){"a/b", 3};
    bad[nb++] = (typeof(bad[0])){x, "domain with /"};
    x = cookie("n", "v");
    x.domain = (cio_http_str){"a;b", 3};
    bad[nb++] = (typeof(bad[0])){x, "domain with ;"};
    x = cookie("n", "v");
    x.same_site = CIO_HTTP_SAME_SITE_NONE;
    bad[nb++] = (typeof(bad[0])){x, "SameSite=None without Secure"};
    x = cookie("n", "v");
    x.partitioned = true;
    bad[nb++] = (typeof(bad[0])){x, "Partitioned without Secure"};
    x = cookie("n", "v");
    x.same_site = 7;
    bad[nb++] = (typeof(bad[0])){x, "SameSite out of range"};
    x = cookie("__Secure-x", "v");
    bad[nb++] = (typeof(bad[0])){x, "__Secure- without Secure"};
    x = h;
    x.domain = (cio_http_str){"example.com", 11};
    bad[nb++] = (typeof(bad[0])){x, "__Host- with a Domain"};
    x = h;
    x.path = (cio_http_str){"/a", 2};
    bad[nb++] = (typeof(bad[0])){x, "__Host- with Path=/a"};
    x = cookie("n", "v");
    x.expires = 253402300800;
    bad[nb++] = (typeof(bad[0])){x, "Expires past 9999"};
    for (size_t i = 0; i < nb; i++) {
        strcpy(buf, "untouched");
        cr_assert_eq(cio_http_set_cookie_format(buf, sizeof buf, &bad[i].c), CIO_EHTTP_BAD_COOKIE, "%s", bad[i].why);
        cr_assert_str_eq(buf, "untouched", "%s", bad[i].why);
    }
}

Test(values, set_cookie_as_python_reads_it)
{
    char buf[512], script[1024];
    cio_http_set_cookie c = cookie("sid", "abc123");
    c.max_age = 60;
    c.path = (cio_http_str){"/", 1};
    c.secure = c.http_only = true;
    c.same_site = CIO_HTTP_SAME_SITE_STRICT;
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &c), 0);
    snprintf(script, sizeof script,
             "from http.cookies import SimpleCookie\n"
             "c = SimpleCookie(); c.load('%s')\n"
             "m = c['sid']\n"
             "print(m.value, m['max-age'], m['path'], m['secure'], m['httponly'], m['samesite'])\n",
             buf);
    char *out = python(script);
    cr_assert_str_eq(out, "abc123 60 / True True Strict\n");
    free(out);
}

/* ------------------------------------------------------------------------------------- query strings */

Test(values, url_encoding_against_urllib)
{
    char src[256], dst[1024];
    for (int i = 0; i < 256; i++)
        src[i] = (char)i;
    char *out = python("import urllib.parse\n"
                       "b = bytes(range(256))\n"
                       "print(urllib.parse.quote(b, safe='-._~'))\n"
                       "print(urllib.parse.quote_plus(b, safe='-._~'))\n"
                       "print(urllib.parse.quote('h\\u00e9llo w\\u00f6rld/?', safe='-._~'))\n"
                       "print(urllib.parse.urlencode([('a', '1'), ('b', 'x y'), ('q', '&='), ('\\u00e9', '/')]))\n");
    char *l1 = out, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1, *l4 = strchr(l3, '\n') + 1;
    l2[-1] = l3[-1] = l4[-1] = '\0';
    *strchr(l4, '\n') = '\0';
    cr_assert_eq(cio_url_encode(dst, sizeof dst, src, 256, 0), (ssize_t)strlen(l1));
    cr_assert_str_eq(dst, l1);
    cr_assert_eq(cio_url_encode(dst, sizeof dst, src, 256, CIO_URL_PLUS_SPACE), (ssize_t)strlen(l2));
    cr_assert_str_eq(dst, l2);
    const char *u = "h\xc3\xa9llo w\xc3\xb6rld/?";
    cr_assert_gt(cio_url_encode(dst, sizeof dst, u, strlen(u), 0), 0);
    cr_assert_str_eq(dst, l3);
    char q[256];
    size_t len = 0;
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, "a", "1"), 0);
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, "b", "x y"), 0);
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, "q", "&="), 0);
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, "\xc3\xa9", "/"), 0);
    cr_assert_str_eq(q, l4);
    cr_assert_eq(len, strlen(l4));
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, "flag", NULL), 0);
    cr_assert(len == strlen(q) && !strcmp(q + strlen(l4), "&flag"));
    free(out);
    /* too small: nothing appended */
    char small[12];
    len = 0;
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, "abc", "def"), 0);
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, "ghi", "jkl"), -ENOBUFS);
    cr_assert(len == 7 && !strcmp(small, "abc=def"));
    cr_assert_eq(cio_url_encode(small, 4, "a b", 3, 0), -ENOBUFS);
    cr_assert_eq(cio_url_encode(small, 6, "a b", 3, 0), 5);
    cr_assert_str_eq(small, "a%20b");
    cr_assert_eq(cio_url_encode(small, 5, "a b", 3, 0), -ENOBUFS);
}
