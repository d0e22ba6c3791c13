/* values.c: header values: parameters and media types, dates (against Python's email.utils), ranges, entity-tags,
 * cookies (RFC 6265's examples, what browsers and servers send, Python's http.cookies), and query strings (against
 * urllib.parse). Every input sits at the end of a guarded page, so a read past it faults. */
#include "harness.h"

#include <errno.h>
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

/* A NUL-terminated copy of `s` whose NUL is the last readable byte. */
static const char *G(const char *s)
{
    return tst_guarded(s, strlen(s) + 1);
}

static bool is(cio_http_str s, const char *lit)
{
    if (!lit)
        return s.ptr == NULL;
    return s.ptr && s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* Run /usr/bin/python3 on `script` and return its whole stdout (malloc'd). */
static char *python(const char *script)
{
    char path[] = "/tmp/cio-values-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    cr_assert(f);
    fputs(script, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", path);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (len + 1 == cap)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    int st = pclose(p);
    unlink(path);
    cr_assert_eq(st, 0, "python failed on:\n%s", script);
    return out;
}

/* The next line of `*out` (NUL-terminated in place), advancing `*out`. */
static char *next_line(char **out)
{
    char *l = *out, *nl = strchr(l, '\n');
    cr_assert(nl, "python's output ended early");
    *nl = '\0';
    *out = nl + 1;
    return l;
}

/* ------------------------------------------------------------------------------- parameters, media types */

Test(values, media_type_with_a_charset)
{
    cio_http_media_type mt;
    char buf[64];
    cr_assert_eq(cio_http_media_type_parse(&mt, S("text/html; charset=UTF-8")), 0);
    cr_assert(is(mt.type, "text") && is(mt.subtype, "html"));
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, sizeof buf), 5);
    cr_assert_str_eq(buf, "utf-8");
    cr_assert_eq(cio_http_param_get(mt.params, "charset", buf, sizeof buf), 5);
    cr_assert_str_eq(buf, "UTF-8"); /* only _charset lower-cases */

    /* quoted, with a quoted-pair */
    cr_assert_eq(cio_http_media_type_parse(&mt, S("text/plain;charset=\"ISO\\-8859-1\"")), 0);
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, sizeof buf), 10);
    cr_assert_str_eq(buf, "iso-8859-1");
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, 10), -ENOBUFS);
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, 11), 10);

    cr_assert_eq(cio_http_media_type_parse(&mt, S("Text/HTML")), 0);
    cr_assert(is(mt.type, "Text") && is(mt.subtype, "HTML") && mt.params.len == 0); /* as written */
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, sizeof buf), -ENOENT);
}

struct is_case {
    const char *type, *pattern;
    bool want;
};

static const struct is_case is_cases[] = {
    {"text/html; charset=UTF-8", "text/html", true},
    {"text/html; charset=UTF-8", "TEXT/HTML", true},
    {"text/html; charset=UTF-8", "text/*", true},
    {"text/html; charset=UTF-8", "*/*", true},
    {"text/html; charset=UTF-8", "*/html", true},
    {"TEXT/Html", "text/html", true},
    {"text/html", "text/plain", false},
    {"text/html", "image/*", false},
    {"text/html", "text/htm", false},
    {"text/html", "text/html5", false},
    {"text/html", "texts/html", false},
    {"text/html", "text", false},
    {"*/*", "*/*", true},
    {"*/*", "text/html", false},
    {"text/*", "text/*", true},
    {"text/*", "text/html", false},
};

Test(values, media_type_is)
{
    for (size_t i = 0; i < sizeof is_cases / sizeof *is_cases; i++) {
        cio_http_media_type mt;
        cr_assert_eq(cio_http_media_type_parse(&mt, S(is_cases[i].type)), 0, "%s", is_cases[i].type);
        cr_assert_eq(cio_http_media_type_is(&mt, is_cases[i].pattern), is_cases[i].want, "%s is %s", is_cases[i].type,
                     is_cases[i].pattern);
    }
}

Test(values, parameters)
{
    cio_http_media_type mt;
    char buf[64];
    /* spaces around ";" and "=", a quoted-pair, a trailing ";" (allowed, as some senders write it) */
    cr_assert_eq(cio_http_media_type_parse(&mt, S("multipart/form-data ;boundary=\"a\\\"b\" ; x = y ;")), 0);
    cr_assert(is(mt.type, "multipart") && is(mt.subtype, "form-data"));
    cr_assert_eq(cio_http_param_get(mt.params, "BOUNDARY", buf, sizeof buf), 3);
    cr_assert_str_eq(buf, "a\"b");
    cr_assert_eq(cio_http_param_get(mt.params, "x", buf, sizeof buf), 1);
    cr_assert_str_eq(buf, "y");
    cr_assert_eq(cio_http_param_get(mt.params, "charset", buf, sizeof buf), -ENOENT);
    cr_assert_eq(cio_http_param_get(mt.params, "bound", buf, sizeof buf), -ENOENT);
    cr_assert_eq(cio_http_media_type_charset(&mt, buf, sizeof buf), -ENOENT);
    /* cap must be larger than the value */
    cr_assert_eq(cio_http_param_get(mt.params, "boundary", buf, 3), -ENOBUFS);
    cr_assert_eq(cio_http_param_get(mt.params, "boundary", buf, 0), -ENOBUFS);
    cr_assert_eq(cio_http_param_get(mt.params, "boundary", buf, 4), 3);
    cr_assert_str_eq(buf, "a\"b");

    const char *trailing[] = {"text/html;", "text/html ;", "text/html; a=1;"};
    for (size_t i = 0; i < sizeof trailing / sizeof *trailing; i++) {
        cr_assert_eq(cio_http_media_type_parse(&mt, S(trailing[i])), 0, "%s", trailing[i]);
        cr_assert(is(mt.type, "text") && is(mt.subtype, "html"), "%s", trailing[i]);
    }

    /* param_next: raw views, quoted-pairs left escaped */
    cio_http_str rest = S("; a=1;b=\"two words\" ;c = \"x\\\"y\"; D=tok/en"), n, v;
    bool q;
    static const struct {
        const char *name, *value;
        bool quoted;
    } want[] = {{"a", "1", false}, {"b", "two words", true}, {"c", "x\\\"y", true}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 1, "%zu", i);
        cr_assert(is(n, want[i].name) && is(v, want[i].value) && q == want[i].quoted, "%zu: %.*s=%.*s", i, (int)n.len,
                  n.ptr, (int)v.len, v.ptr);
    }
    /* "tok/en": "/" is not a tchar, so the list is malformed (whether on this call or the next) */
    int rc;
    while ((rc = cio_http_param_next(&rest, &n, &v, &q)) == 1)
        ;
    cr_assert_eq(rc, CIO_EHTTP_BAD_LIST);

    rest = S("; a=1;");
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 1);
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 0);
    rest = S("");
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), 0);
    rest = S("; a");
    cr_assert_eq(cio_http_param_next(&rest, &n, &v, &q), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_param_get(S("; a"), "b", buf, sizeof buf), CIO_EHTTP_BAD_LIST);
    cr_assert_eq(cio_http_param_get(S("; a=\"open"), "a", buf, sizeof buf), CIO_EHTTP_BAD_LIST);
    /* a quoted backslash */
    cr_assert_eq(cio_http_param_get(S("; a=1; b=\"x\\\\y\""), "b", buf, sizeof buf), 3);
    cr_assert_str_eq(buf, "x\\y");
}

/* A parameter whose value runs on past its token or quoted string is malformed: its value is not the part before
 * the junk. */
Test(values, a_malformed_parameter_has_no_value)
{
    static const char *const bad[] = {"; a=b/c", "; a=b c", "; a=\"x\"y", "; a=b\"c\"", "; a=\"x\"\"y\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char buf[64] = "";
        ssize_t rc = cio_http_param_get(S(bad[i]), "a", buf, sizeof buf);
        cr_expect_eq(rc, CIO_EHTTP_BAD_LIST, "'%s': %zd '%s'", bad[i], rc, rc >= 0 ? buf : "");
        cio_http_str rest = S(bad[i]), n, v;
        bool q;
        int r = cio_http_param_next(&rest, &n, &v, &q);
        cr_expect_eq(r, CIO_EHTTP_BAD_LIST, "'%s': %d %.*s=%.*s", bad[i], r, r == 1 ? (int)n.len : 0,
                     r == 1 ? n.ptr : "", r == 1 ? (int)v.len : 0, r == 1 ? v.ptr : "");
    }
}

Test(values, bad_media_types)
{
    static const char *const bad[] = {
        "",
        " ",
        "text",
        "text/",
        "/html",
        "/",
        "text/html/x",
        "text/ht ml",
        "te xt/html",
        "text/html x",
        "text/html; charset",
        "text/html; charset=",
        "text/html; =x",
        "text/html; a=\"open",
        "text/html; a=b c",
        "text/html; a=b/c",
        "te\x01xt/html",
        "text/html\x7f",
        "text/html; a=\"\x01\"",
        "text/html; a=\x01",
        "text(html)/x",
        "text/html, text/plain",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cio_http_media_type mt;
        cr_assert_eq(cio_http_media_type_parse(&mt, S(bad[i])), CIO_EHTTP_BAD_MEDIA_TYPE, "'%s'", bad[i]);
    }
}

/* ------------------------------------------------------------------------------------------------ dates */

static const char *const day_names[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

struct date_case {
    const char *s;
    int64_t t;
};

static const struct date_case date_cases[] = {
    /* RFC 9110 section 5.6.7's three examples */
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Sun Nov  6 08:49:37 1994", 784111777},
    /* surrounding whitespace */
    {"  Sun, 06 Nov 1994 08:49:37 GMT \t", 784111777},
    {"\tSun Nov  6 08:49:37 1994 ", 784111777},
    /* the day name is not checked for the obsolete forms */
    {"Monday, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Mon Nov  6 08:49:37 1994", 784111777},
    {"Sun Nov 16 08:49:37 1994", 784975777},
    /* leap days; 1900 and 2100 are not leap years, 2000 is */
    {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
    {"Tue, 29 Feb 2000 12:00:00 GMT", 951825600},
    {"Thu, 29 Feb 2024 00:00:00 GMT", 1709164800},
    {"Tue Feb 29 00:00:00 2000", 951782400},
    {"Wed, 28 Feb 1900 00:00:00 GMT", -2203977600},
    {"Thu, 01 Mar 1900 00:00:00 GMT", -2203891200},
    {"Sun, 28 Feb 2100 00:00:00 GMT", 4107456000},
    {"Mon, 01 Mar 2100 00:00:00 GMT", 4107542400},
    /* the edges of the formattable range, and of the epoch */
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
    {"Mon, 01 Jan 0001 00:00:00 GMT", -62135596800},
    {"Sat, 01 Jan 0000 00:00:00 GMT", -62167219200},
};

Test(values, dates_in_the_three_formats)
{
    for (size_t i = 0; i < sizeof date_cases / sizeof *date_cases; i++) {
        int64_t t = 42;
        cr_assert_eq(cio_http_date_parse(S(date_cases[i].s), &t), 0, "'%s'", date_cases[i].s);
        cr_assert_eq(t, date_cases[i].t, "'%s': %lld", date_cases[i].s, (long long)t);
    }
    /* RFC 850's two-digit year: more than 50 years ahead is the past century */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int year = tm.tm_year + 1900;
    char s[64], d[CIO_HTTP_DATE_LEN + 1];
    for (int ahead = -45; ahead <= 45; ahead += 5) {
        int y = year + ahead;
        int64_t jan1 = ((int64_t)(y - 1970) * 365 + (y - 1969) / 4 - (y - 1901) / 100 + (y - 1601) / 400) * 86400;
        cr_assert_eq(cio_http_date_format(d, jan1), CIO_HTTP_DATE_LEN);
        cr_assert(strncmp(d + 5, "01 Jan ", 7) == 0, "%d: %s", y, d);
        int wd = 0;
        while (strncmp(day_names[wd], d, 3) != 0)
            wd++;
        snprintf(s, sizeof s, "%s, 01-Jan-%02d 00:00:00 GMT", day_names[wd], y % 100);
        int64_t t;
        cr_assert_eq(cio_http_date_parse(S(s), &t), 0, "%s", s);
        cr_assert_eq(t, jan1, "%s (year %d): %lld", s, y, (long long)t);
    }
}

Test(values, dates_formatted)
{
    char d[CIO_HTTP_DATE_LEN + 1];
    for (size_t i = 0; i < sizeof date_cases / sizeof *date_cases; i++) {
        const char *s = date_cases[i].s;
        if (s[3] != ',' || s[0] == ' ')
            continue; /* IMF-fixdates only */
        memset(d, 'x', sizeof d);
        cr_assert_eq(cio_http_date_format(d, date_cases[i].t), CIO_HTTP_DATE_LEN);
        cr_assert_str_eq(d, s);
    }
    static const int64_t out_of_range[] = {253402300800, -62167219201, INT64_MAX, INT64_MIN, 1LL << 50, -(1LL << 50)};
    for (size_t i = 0; i < sizeof out_of_range / sizeof *out_of_range; i++)
        cr_assert_eq(cio_http_date_format(d, out_of_range[i]), -ERANGE, "%lld", (long long)out_of_range[i]);
}

Test(values, dates_against_python_email_utils)
{
    enum { N = 2000 };
    static int64_t ts[N];
    static const int64_t fixed[] = {0,          86399,        951782400,    951868799,   1709164800,   4107456000,
                                    4107542400, 253402214400, 253402300799, 2147483647,  2147483648,   4294967295,
                                    -1,         -2208988800,  -2203891200,  -2203977600, -12219292800, -62135596800};
    size_t nf = sizeof fixed / sizeof *fixed;
    char *script = malloc(N * 24 + 512);
    char *o = script + sprintf(script, "import email.utils, datetime\n"
                                       "E = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)\n"
                                       "for t in [");
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if ((size_t)i < nf)
            ts[i] = fixed[i];
        else if (i % 10 == 0) /* before the epoch, back to year 1 */
            ts[i] = -(int64_t)(x % 62135596801ull);
        else /* from the epoch to the end of 9999 */
            ts[i] = (int64_t)(x % 253402300800ull);
        o += sprintf(o, "%lld,", (long long)ts[i]);
    }
    sprintf(o, "]:\n"
               "    print(email.utils.formatdate(t, usegmt=True) if t >= 0 else\n"
               "          email.utils.format_datetime(E + datetime.timedelta(seconds=t), usegmt=True))\n");
    char *out = python(script), *rest = out;
    free(script);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int year_now = tm.tm_year + 1900;
    for (int i = 0; i < N; i++) {
        const char *want = next_line(&rest);
        char d[CIO_HTTP_DATE_LEN + 1], s[64];
        cr_assert_eq(cio_http_date_format(d, ts[i]), CIO_HTTP_DATE_LEN, "t=%lld", (long long)ts[i]);
        cr_assert_str_eq(d, want, "t=%lld", (long long)ts[i]);
        int64_t back;
        cr_assert_eq(cio_http_date_parse(S(d), &back), 0, "%s", d);
        cr_assert_eq(back, ts[i], "%s", d);

        /* the same instant in asctime's form */
        int day = atoi(d + 5), year = atoi(d + 12);
        snprintf(s, sizeof s, "%.3s %.3s %2d %.8s %.4s", d, d + 8, day, d + 17, d + 12);
        cr_assert_eq(cio_http_date_parse(S(s), &back), 0, "%s", s);
        cr_assert_eq(back, ts[i], "%s", s);
        /* and RFC 850's, within the years its two digits can name */
        if (year >= year_now - 45 && year <= year_now + 45) {
            int wd = 0;
            while (strncmp(day_names[wd], d, 3) != 0)
                wd++;
            snprintf(s, sizeof s, "%s, %.2s-%.3s-%.2s %.8s GMT", day_names[wd], d + 5, d + 8, d + 14, d + 17);
            cr_assert_eq(cio_http_date_parse(S(s), &back), 0, "%s", s);
            cr_assert_eq(back, ts[i], "%s", s);
        }
        /* an IMF-fixdate naming the wrong day */
        if (i % 7 == 0) {
            int wd = 0;
            while (strncmp(day_names[wd], d, 3) != 0)
                wd++;
            memcpy(s, d, sizeof d);
            memcpy(s, day_names[(wd + 1 + i % 6) % 7], 3);
            cr_assert_eq(cio_http_date_parse(S(s), &back), CIO_EHTTP_BAD_DATE, "%s", s);
        }
    }
    free(out);
}

Test(values, bad_dates)
{
    static const char *const bad[] = {
        "",
        " ",
        "Mon, 06 Nov 1994 08:49:37 GMT", /* the wrong day for the date */
        "Sat, 06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nvv 1994 08:49:37 GMT",
        "Sun, 06 NOV 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 06 Nov 1994 08:49:37 GMT\x01",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 01994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 06  Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, -6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:+7 GMT",
        "Sun, 06 Nov 199 08:49:37 GMT",
        "Sun, 06 Nov 1994",
        "Sun, 06 Nov 1994 08:49:37 G",
        "Thu, 30 Feb 2023 00:00:00 GMT",
        "Thu, 29 Feb 1900 00:00:00 GMT", /* the day it would be, were 1900 a leap year */
        "Mon, 29 Feb 2100 00:00:00 GMT",
        "Wed, 29 Feb 2023 00:00:00 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sunday, 06-Nov-94 08:49:37 GMTx",
        "Sunday, 31-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-94 25:49:37 GMT",
        "Sunday, 6-Nov-94 08:49:37 GMT",
        "Sunday 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 31 08:49:37 1994",
        "Thu Feb 29 00:00:00 1900",
        "Sun Nov  6 08:49:37 1994 x",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov  6 08:49:60 1994x",
        "Sun Nov  6 24:00:00 1994",
        "Sun Foo  6 08:49:37 1994",
        "1994-11-06T08:49:37Z",
        "784111777",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t t;
        cr_assert_eq(cio_http_date_parse(S(bad[i]), &t), CIO_EHTTP_BAD_DATE, "'%s'", bad[i]);
    }
    /* a NUL inside, the length saying more */
    int64_t t;
    cr_assert_eq(cio_http_date_parse((cio_http_str){tst_guarded("Sun, 06 Nov 1994 08:49:37 GMT\0", 30), 30}, &t),
                 CIO_EHTTP_BAD_DATE);
    cr_assert_eq(cio_http_date_parse((cio_http_str){tst_guarded("Sun, 06\0Nov 1994 08:49:37 GMT", 29), 29}, &t),
                 CIO_EHTTP_BAD_DATE);
    /* every prefix of a good date is bad */
    const char *good = "Sun, 06 Nov 1994 08:49:37 GMT";
    for (size_t n = 0; n < strlen(good); n++)
        cr_assert_eq(cio_http_date_parse((cio_http_str){tst_guarded(good, n), n}, &t), CIO_EHTTP_BAD_DATE, "%zu", n);
}

Test(values, the_current_date)
{
    for (int k = 0; k < 3; k++) {
        time_t before = time(NULL);
        const char *d = cio_http_date_now();
        time_t after = time(NULL);
        cr_assert(d);
        cr_assert_eq(strlen(d), CIO_HTTP_DATE_LEN, "%s", d);
        int64_t t;
        cr_assert_eq(cio_http_date_parse(S(d), &t), 0, "%s", d);
        cr_assert(t >= (int64_t)before && t <= (int64_t)after, "%s: %lld not in [%lld, %lld]", d, (long long)t,
                  (long long)before, (long long)after);
    }
}

/* ----------------------------------------------------------------------------------------------- ranges */

struct range_case {
    const char *value;
    uint64_t size;
    size_t max;
    int rc;
    cio_http_range want[4];
};

#define NS   CIO_EHTTP_RANGE_NOT_SATISFIABLE
#define BAD  CIO_EHTTP_BAD_RANGE
#define MANY CIO_EHTTP_TOO_MANY_RANGES

static const struct range_case range_cases[] = {
    {"bytes=0-499", 10000, 4, 1, {{0, 499}}},
    {"bytes=500-999", 10000, 4, 1, {{500, 999}}},
    {"bytes=-500", 10000, 4, 1, {{9500, 9999}}},
    {"bytes=9500-", 10000, 4, 1, {{9500, 9999}}},
    {"bytes=0-", 10000, 4, 1, {{0, 9999}}},
    {"bytes=9999-9999", 10000, 4, 1, {{9999, 9999}}},
    {"BYTES=0-0", 10000, 4, 1, {{0, 0}}}, /* range units are case-insensitive */
    {"bytes=0-0,-1", 10000, 4, 2, {{0, 0}, {9999, 9999}}},
    {"bytes=0-0 , -1", 10000, 4, 2, {{0, 0}, {9999, 9999}}},
    {"bytes=100-199,0-9", 10000, 4, 2, {{100, 199}, {0, 9}}}, /* apart: the order asked */
    {"bytes=500-600,601-999", 10000, 4, 1, {{500, 999}}},     /* touching: coalesced */
    {"bytes=500-700,601-999", 10000, 4, 1, {{500, 999}}},     /* overlapping */
    {"bytes=601-999,500-600", 10000, 4, 1, {{500, 999}}},
    {"bytes=0-9,500-999,400-499", 10000, 4, 2, {{0, 9}, {400, 999}}},
    {"bytes=900-999,0-99,50-149", 10000, 4, 2, {{0, 149}, {900, 999}}}, /* sorted once any overlap */
    {"bytes=0-99999", 10000, 4, 1, {{0, 9999}}},                        /* the last clamped */
    {"bytes=9990-20000", 10000, 4, 1, {{9990, 9999}}},
    {"bytes=-20000", 10000, 4, 1, {{0, 9999}}},
    {"bytes=0-99999999999999999999999", 10000, 4, 1, {{0, 9999}}}, /* digits past uint64: still past the end */
    {"bytes=-99999999999999999999999", 10000, 4, 1, {{0, 9999}}},
    {"bytes=20000-,0-1", 10000, 4, 1, {{0, 1}}}, /* the unsatisfiable one dropped */
    {"bytes=-0,0-1", 10000, 4, 1, {{0, 1}}},
    {"bytes=,,0-1,,", 10000, 4, 1, {{0, 1}}}, /* empty list elements */
    {"bytes=0-0", 1, 4, 1, {{0, 0}}},
    {"bytes=-1", 1, 4, 1, {{0, 0}}},
    {"bytes=10000-", 10000, 4, NS, {{0}}},
    {"bytes=10000-10001", 10000, 4, NS, {{0}}},
    {"bytes=-0", 10000, 4, NS, {{0}}},
    {"bytes=99999999999999999999999-", 10000, 4, NS, {{0}}},
    {"bytes=20000-,30000-", 10000, 4, NS, {{0}}},
    {"bytes=0-", 0, 4, NS, {{0}}},
    {"bytes=-5", 0, 4, NS, {{0}}},
    {"bytes=0-0", 0, 4, NS, {{0}}},
    {"bytes=", 10000, 4, BAD, {{0}}},
    {"bytes=,", 10000, 4, BAD, {{0}}},
    {"bytes", 10000, 4, BAD, {{0}}},
    {"", 10000, 4, BAD, {{0}}},
    {"=0-1", 10000, 4, BAD, {{0}}},
    {"bytes=a-b", 10000, 4, BAD, {{0}}},
    {"bytes=0-b", 10000, 4, BAD, {{0}}},
    {"bytes=5-1", 10000, 4, BAD, {{0}}},
    {"bytes=0-1,5-1", 10000, 4, BAD, {{0}}},
    {"bytes=20000-10000", 10000, 4, BAD, {{0}}},
    {"items=0-1", 10000, 4, BAD, {{0}}},
    {"bytes 0-1", 10000, 4, BAD, {{0}}},
    {"bytes=--1", 10000, 4, BAD, {{0}}},
    {"bytes=-", 10000, 4, BAD, {{0}}},
    {"bytes=1", 10000, 4, BAD, {{0}}},
    {"bytes=1-2-3", 10000, 4, BAD, {{0}}},
    {"bytes=+1-2", 10000, 4, BAD, {{0}}},
    {"bytes=0x10-0x20", 10000, 4, BAD, {{0}}},
    {"bytes=0-1 2-3", 10000, 4, BAD, {{0}}},
    {"bytes=0-1;2-3", 10000, 4, BAD, {{0}}},
    {"bytes=0-1,x", 10000, 4, BAD, {{0}}},
    {"bytes=0-1\x01", 10000, 4, BAD, {{0}}},
    {"bytes=10000-x", 10000, 4, BAD, {{0}}}, /* malformed beats unsatisfiable */
    {"bytes=0-1,3-4,6-7", 10000, 2, MANY, {{0}}},
    {"bytes=0-1,3-4,6-7,9-10,12-13", 10000, 4, MANY, {{0}}},
    {"bytes=0-1", 10000, 0, MANY, {{0}}},
    {"bytes=0-1,3-4", 10000, 2, 2, {{0, 1}, {3, 4}}},
    {"bytes=0-1,3-4,2-2", 10000, 2, 1, {{0, 4}}}, /* more than max asked, fewer once coalesced */
    {"bytes=0-1,3-4,20000-", 10000, 2, 2, {{0, 1}, {3, 4}}},
};

Test(values, ranges)
{
    for (size_t i = 0; i < sizeof range_cases / sizeof *range_cases; i++) {
        const struct range_case *c = &range_cases[i];
        cio_http_range r[4];
        int rc = cio_http_range_parse(S(c->value), c->size, r, c->max);
        cr_assert_eq(rc, c->rc, "'%s' (size %llu, max %zu): %d", c->value, (unsigned long long)c->size, c->max, rc);
        for (int k = 0; k < rc; k++)
            cr_assert(r[k].first == c->want[k].first && r[k].last == c->want[k].last, "'%s' [%d]: %llu-%llu", c->value,
                      k, (unsigned long long)r[k].first, (unsigned long long)r[k].last);
    }
}

Test(values, range_amplification)
{
    cio_http_range r[10];
    /* 100 copies of the whole: one range */
    char many[4096] = "bytes=";
    for (int i = 0; i < 100; i++)
        strcat(many, i ? ",0-" : "0-");
    cr_assert_eq(cio_http_range_parse(S(many), 10000, r, 10), 1);
    cr_assert(r[0].first == 0 && r[0].last == 9999);
    /* 100 overlapping suffixes and prefixes */
    strcpy(many, "bytes=");
    for (int i = 0; i < 100; i++)
        sprintf(many + strlen(many), "%s%d-%d,-%d", i ? "," : "", i, 5000 + i, 5000 + i);
    cr_assert_eq(cio_http_range_parse(S(many), 10000, r, 10), 1);
    cr_assert(r[0].first == 0 && r[0].last == 9999, "%llu-%llu", (unsigned long long)r[0].first,
              (unsigned long long)r[0].last);
    /* 30 touching ranges are one */
    strcpy(many, "bytes=");
    for (int i = 0; i < 30; i++)
        sprintf(many + strlen(many), "%s%d-%d", i ? "," : "", i * 10, i * 10 + 9);
    cr_assert_eq(cio_http_range_parse(S(many), 10000, r, 10), 1);
    cr_assert(r[0].first == 0 && r[0].last == 299);
    /* 30 apart, with one overlap so they are sorted: still more than 10 */
    strcpy(many, "bytes=0-5");
    for (int i = 0; i < 30; i++)
        sprintf(many + strlen(many), ",%d-%d", i * 10, i * 10 + 1);
    cr_assert_eq(cio_http_range_parse(S(many), 10000, r, 10), CIO_EHTTP_TOO_MANY_RANGES);
    /* whatever comes back never adds up to more than the representation */
    strcpy(many, "bytes=");
    for (int i = 0; i < 200; i++)
        sprintf(many + strlen(many), "%s%d-%d", i ? "," : "", (i * 37) % 9000, (i * 37) % 9000 + 900);
    int n = cio_http_range_parse(S(many), 10000, r, 10);
    cr_assert(n > 0 || n == CIO_EHTTP_TOO_MANY_RANGES, "%d", n);
    uint64_t total = 0;
    for (int k = 0; k < n; k++)
        total += r[k].last - r[k].first + 1;
    cr_assert_leq(total, 10000);
}

struct content_range_case {
    const char *value;
    int rc;
    uint64_t first, last, size;
};

static const struct content_range_case content_range_cases[] = {
    {"bytes 0-499/1234", 0, 0, 499, 1234},
    {"bytes 734-1233/1234", 0, 734, 1233, 1234},
    {"bytes 0-0/1", 0, 0, 0, 1},
    {"bytes 0-499/*", 0, 0, 499, UINT64_MAX},
    {"bytes */1234", 0, UINT64_MAX, UINT64_MAX, 1234},
    {"bytes */0", 0, UINT64_MAX, UINT64_MAX, 0},
    {"bytes 500-0/1234", BAD, 0, 0, 0},
    {"bytes 0-1234/1234", BAD, 0, 0, 0},
    {"bytes 0-0/0", BAD, 0, 0, 0},
    {"bytes 0-1", BAD, 0, 0, 0},
    {"bits 0-1/2", BAD, 0, 0, 0},
    {"bytes=0-1/2", BAD, 0, 0, 0},
    {"bytes */*", BAD, 0, 0, 0},
    {"bytes 0-1/", BAD, 0, 0, 0},
    {"bytes -1/2", BAD, 0, 0, 0},
    {"bytes 0-/2", BAD, 0, 0, 0},
    {"bytes 0-1/2x", BAD, 0, 0, 0},
    {"bytes 0-1/2,", BAD, 0, 0, 0},
    {"bytes a-b/c", BAD, 0, 0, 0},
    {"bytes", BAD, 0, 0, 0},
    {"", BAD, 0, 0, 0},
};

Test(values, content_range)
{
    for (size_t i = 0; i < sizeof content_range_cases / sizeof *content_range_cases; i++) {
        const struct content_range_case *c = &content_range_cases[i];
        uint64_t a = 7, b = 7, n = 7;
        cr_assert_eq(cio_http_content_range_parse(S(c->value), &a, &b, &n), c->rc, "'%s'", c->value);
        if (c->rc == 0)
            cr_assert(a == c->first && b == c->last && n == c->size, "'%s': %llu-%llu/%llu", c->value,
                      (unsigned long long)a, (unsigned long long)b, (unsigned long long)n);
    }
}

/* ------------------------------------------------------------------------------------------ entity-tags */

Test(values, entity_tag_lists)
{
    cio_http_str rest = S("\"a\", W/\"b\" ,\"c,d\",, \"\" , \"\xc3\xa9\""), tag, op;
    bool weak;
    static const struct {
        const char *tag, *opaque;
        bool weak;
    } want[] = {{"\"a\"", "a", false},
                {"W/\"b\"", "b", true},
                {"\"c,d\"", "c,d", false},
                {"\"\"", "", false},
                {"\"\xc3\xa9\"", "\xc3\xa9", false}}; /* obs-text is an etagc */
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        cr_assert_eq(cio_http_etag_next(&rest, &tag, &op, &weak), 1, "%zu", i);
        cr_assert(is(tag, want[i].tag) && is(op, want[i].opaque) && weak == want[i].weak, "%zu: %.*s", i, (int)tag.len,
                  tag.ptr);
    }
    cr_assert_eq(cio_http_etag_next(&rest, &tag, &op, &weak), 0);
    rest = S("");
    cr_assert_eq(cio_http_etag_next(&rest, &tag, &op, &weak), 0);
}

Test(values, bad_entity_tags)
{
    static const char *const bad[] = {"a",           "\"a",       "W/a",       "w/\"a\"",   "\"a\"b",
                                      "\"a\" \"b\"", "\"a\x01\"", "\"a b\"",   "W/ \"a\"",  "W\"a\"",
                                      "/\"a\"",      "\"a\", b",  "\"a\\\"\"", "\"a\x7f\"", "W/W/\"a\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cio_http_str rest = S(bad[i]), tag, op;
        bool weak;
        int rc;
        while ((rc = cio_http_etag_next(&rest, &tag, &op, &weak)) == 1)
            ;
        cr_assert_eq(rc, CIO_EHTTP_BAD_ETAG, "'%s'", bad[i]);
        cr_assert_eq(cio_http_etag_match(S(bad[i]), S("\"zz\""), 0), CIO_EHTTP_BAD_ETAG, "list '%s'", bad[i]);
        cr_assert_eq(cio_http_etag_match(S("\"a\""), S(bad[i]), 0), CIO_EHTTP_BAD_ETAG, "etag '%s'", bad[i]);
    }
}

struct etag_match_case {
    const char *list, *etag;
    int strong, weak;
};

static const struct etag_match_case etag_match_cases[] = {
    /* RFC 9110 section 8.8.3.2's table */
    {"W/\"1\"", "W/\"1\"", 0, 1},
    {"W/\"1\"", "W/\"2\"", 0, 0},
    {"W/\"1\"", "\"1\"", 0, 1},
    {"\"1\"", "\"1\"", 1, 1},
    {"\"1\"", "W/\"1\"", 0, 1},
    {"\"1\"", "\"2\"", 0, 0},
    {"\"1\"", "\"11\"", 0, 0},
    {"\"a\"", "\"A\"", 0, 0}, /* opaque-tags are compared as octets */
    /* "*" */
    {"*", "\"x\"", 1, 1},
    {" * ", "W/\"x\"", 1, 1},
    /* lists */
    {"\"a\", \"x\", W/\"y\"", "\"x\"", 1, 1},
    {"\"a\",\"b\",\"x\"", "\"x\"", 1, 1},
    {"\"a\", W/\"x\"", "\"x\"", 0, 1},
    {"\"a\", W/\"x\", \"x\"", "\"x\"", 1, 1},
    {"\"a\", \"b\"", "\"x\"", 0, 0},
    {"\"x,y\"", "\"x\"", 0, 0},
    {"\"x\", \"y\"", "\"y\"", 1, 1},
    {"", "\"x\"", 0, 0},
    /* malformed */
    {"\"a\", x", "\"a\"", BAD, BAD},
    {"\"x\"", "x", CIO_EHTTP_BAD_ETAG, CIO_EHTTP_BAD_ETAG},
    {"\"x\"", "\"x\" \"y\"", CIO_EHTTP_BAD_ETAG, CIO_EHTTP_BAD_ETAG},
    {"\"x\"", "\"x\", \"y\"", CIO_EHTTP_BAD_ETAG, CIO_EHTTP_BAD_ETAG},
    {"\"x\"", "", CIO_EHTTP_BAD_ETAG, CIO_EHTTP_BAD_ETAG},
};

Test(values, entity_tag_comparison)
{
    for (size_t i = 0; i < sizeof etag_match_cases / sizeof *etag_match_cases; i++) {
        const struct etag_match_case *c = &etag_match_cases[i];
        int strong = c->strong == BAD ? CIO_EHTTP_BAD_ETAG : c->strong;
        int weak = c->weak == BAD ? CIO_EHTTP_BAD_ETAG : c->weak;
        cr_assert_eq(cio_http_etag_match(S(c->list), S(c->etag), 0), strong, "strong: '%s' vs '%s'", c->list, c->etag);
        cr_assert_eq(cio_http_etag_match(S(c->list), S(c->etag), CIO_HTTP_ETAG_WEAK), weak, "weak: '%s' vs '%s'",
                     c->list, c->etag);
    }
}

/* ------------------------------------------------------------------------------------------------ cookies */

Test(values, cookie_field)
{
    cio_http_str rest = S("a=1; b=2;c=\"3\"; ; d; =x; e=; g=\"\"; h=x=y"), n, v;
    static const char *const want[][2] = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"e", ""}, {"g", ""}, {"h", "x=y"}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 1, "%zu", i);
        cr_assert(is(n, want[i][0]) && v.len == strlen(want[i][1]) && (!v.len || !memcmp(v.ptr, want[i][1], v.len)),
                  "%zu: %.*s=%.*s", i, (int)n.len, n.ptr, (int)v.len, v.ptr);
    }
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 0);
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 0);
    static const char *const empty[] = {"", " ", ";", " ; ;", "d", "=x", "d; =x;"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        rest = S(empty[i]);
        cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 0, "'%s'", empty[i]);
    }
    rest = S("SID=31d4d96e407aad42; lang=en-US");
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 1);
    cr_assert(is(n, "SID") && is(v, "31d4d96e407aad42"));
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 1);
    cr_assert(is(n, "lang") && is(v, "en-US"));
    cr_assert_eq(cio_http_cookie_next(&rest, &n, &v), 0);
}

Test(values, set_cookie_as_a_user_agent_reads_it)
{
    cio_http_set_cookie c;
    /* RFC 6265 section 3.1's examples */
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("SID=31d4d96e407aad42")), 0);
    cr_assert(is(c.name, "SID") && is(c.value, "31d4d96e407aad42") && c.domain.ptr == NULL && c.path.ptr == NULL);
    cr_assert(c.expires == INT64_MIN && c.max_age == INT64_MIN && !c.secure && !c.http_only && !c.partitioned &&
              c.same_site == CIO_HTTP_SAME_SITE_UNSET);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("SID=31d4d96e407aad42; Path=/; Domain=example.com")), 0);
    cr_assert(is(c.name, "SID") && is(c.value, "31d4d96e407aad42") && is(c.path, "/") && is(c.domain, "example.com"));
    cr_assert(c.expires == INT64_MIN && c.max_age == INT64_MIN && !c.secure && !c.http_only);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("SID=31d4d96e407aad42; Path=/; Secure; HttpOnly")), 0);
    cr_assert(c.secure && c.http_only && is(c.path, "/"));
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT")), 0);
    cr_assert(is(c.name, "lang") && is(c.value, "en-US"));
    cr_assert_eq(c.expires, 1623233894);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("lang=; Expires=Sun, 06 Nov 1994 08:49:37 GMT")), 0);
    cr_assert(is(c.name, "lang") && c.value.len == 0 && c.expires == 784111777);

    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=")), 0);
    cr_assert(is(c.name, "a") && c.value.len == 0);
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b=c; Path=/x")), 0);
    cr_assert(is(c.name, "a") && is(c.value, "b=c") && is(c.path, "/x"));
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b;")), 0);
    cr_assert(is(c.name, "a") && is(c.value, "b"));
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b; Domain=.example.com")), 0);
    cr_assert(is(c.domain, "example.com"));

    /* case-insensitive names, unknown attributes ignored, spacing */
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("id=x; secure; HTTPONLY; partitioned; DOMAIN=a.example; pAtH=/p; "
                                                 "foo=bar; baz")),
                 0);
    cr_assert(is(c.name, "id") && is(c.value, "x") && c.secure && c.http_only && c.partitioned);
    cr_assert(is(c.domain, "a.example") && is(c.path, "/p"));
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("id=x;Secure;HttpOnly;Path=/q")), 0);
    cr_assert(c.secure && c.http_only && is(c.path, "/q"));
    /* the value as written, quotes and all; a path not starting with "/" is the default path (none here) */
    cr_assert_eq(cio_http_set_cookie_parse(&c, S(" id = \"q v\" ; domain=.Example.com; path=docs; x=y")), 0);
    cr_assert(is(c.name, "id") && is(c.value, "\"q v\"") && is(c.domain, "Example.com") && c.path.ptr == NULL);
    /* the last of an attribute given twice wins */
    cr_assert_eq(cio_http_set_cookie_parse(&c, S("a=b; Path=/1; Path=/2; Domain=x.example; Domain=y.example")), 0);
    cr_assert(is(c.path, "/2") && is(c.domain, "y.example"));
}

Test(values, set_cookie_attribute_values)
{
    cio_http_set_cookie c;
    static const struct {
        const char *v;
        int64_t max_age;
    } ma[] = {{"a=b; Max-Age=3600", 3600},
              {"a=b; Max-Age=0", 0},
              {"a=b; Max-Age=-1", -1},
              {"a=b; max-age=60", 60},
              {"a=b; Max-Age=abc", INT64_MIN},
              {"a=b; Max-Age=", INT64_MIN},
              {"a=b; Max-Age=1x", INT64_MIN},
              {"a=b; Max-Age=+5", INT64_MIN},
              {"a=b; Max-Age=10; Max-Age=abc", 10}, /* a bad value is ignored, the earlier stands */
              {"a=b; Max-Age=10; Max-Age=20", 20},
              {"a=b; Max-Age=99999999999999999999", INT64_MAX}}; /* the latest representable */
    for (size_t i = 0; i < sizeof ma / sizeof *ma; i++) {
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(ma[i].v)), 0, "%s", ma[i].v);
        cr_assert_eq(c.max_age, ma[i].max_age, "%s: %lld", ma[i].v, (long long)c.max_age);
    }
    static const struct {
        const char *v;
        int same_site;
    } ss[] = {{"a=b; SameSite=Lax", CIO_HTTP_SAME_SITE_LAX},
              {"a=b; SameSite=Strict", CIO_HTTP_SAME_SITE_STRICT},
              {"a=b; samesite=STRICT", CIO_HTTP_SAME_SITE_STRICT},
              {"a=b; SameSite=None; Secure", CIO_HTTP_SAME_SITE_NONE},
              {"a=b; SameSite=none", CIO_HTTP_SAME_SITE_NONE},
              {"a=b; SameSite=bogus", CIO_HTTP_SAME_SITE_UNSET},
              {"a=b; SameSite=", CIO_HTTP_SAME_SITE_UNSET},
              {"a=b; SameSite", CIO_HTTP_SAME_SITE_UNSET},
              {"a=b; SameSite=Lax; SameSite=Strict", CIO_HTTP_SAME_SITE_STRICT}};
    for (size_t i = 0; i < sizeof ss / sizeof *ss; i++) {
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(ss[i].v)), 0, "%s", ss[i].v);
        cr_assert_eq(c.same_site, ss[i].same_site, "%s", ss[i].v);
    }
    /* Expires as servers send it (RFC 6265 section 5.1.1's algorithm) */
    static const char *const dates[] = {"Wed, 09 Jun 2021 10:18:14 GMT",
                                        "Wed, 09-Jun-2021 10:18:14 GMT",
                                        "Wed, 09-Jun-21 10:18:14 GMT",
                                        "Wednesday, 09-Jun-21 10:18:14 GMT",
                                        "wed, 09 jun 2021 10:18:14 gmt",
                                        "Wed Jun  9 10:18:14 2021",
                                        "9 Jun 2021 10:18:14"};
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
        char v[128];
        snprintf(v, sizeof v, "a=b; expires=%s", dates[i]);
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(v)), 0, "%s", v);
        cr_assert_eq(c.expires, 1623233894, "%s", dates[i]);
    }
    static const char *const bad_dates[] = {"soon",
                                            "",
                                            "Wed, 31 Jun 2021 10:18:14 GMT",
                                            "Wed, 09 Jun 2021 25:18:14 GMT",
                                            "Wed, 09 Jun 2021",
                                            "Wed, 09 Jun 1600 10:18:14 GMT"};
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++) {
        char v[128];
        snprintf(v, sizeof v, "a=b; Expires=%s", bad_dates[i]);
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(v)), 0, "%s", v);
        cr_assert_eq(c.expires, INT64_MIN, "%s", bad_dates[i]); /* ignored, not fatal */
    }
}

Test(values, bad_set_cookies)
{
    static const char *const bad[] = {
        "noequals", "=value", " =v", "", ";a=b", "a=b\x01", "a\x01=b", "a=b; Path=/\x7f", "a=b\r\nX-Injected: y",
        "a=b\nX: y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cio_http_set_cookie c;
        cr_assert_eq(cio_http_set_cookie_parse(&c, S(bad[i])), CIO_EHTTP_BAD_COOKIE, "'%s'", bad[i]);
    }
    cio_http_set_cookie c;
    cr_assert_eq(cio_http_set_cookie_parse(&c, (cio_http_str){tst_guarded("a=b\0c", 5), 5}), CIO_EHTTP_BAD_COOKIE);
}

static cio_http_set_cookie cookie(const char *name, const char *value)
{
    cio_http_set_cookie c = CIO_HTTP_SET_COOKIE_INIT;
    c.name = (cio_http_str){G(name), strlen(name)};
    c.value = (cio_http_str){G(value), strlen(value)};
    return c;
}

static cio_http_str V(const char *s)
{
    return (cio_http_str){G(s), strlen(s)};
}

static cio_http_set_cookie full_cookie(void)
{
    cio_http_set_cookie c = cookie("id", "a3fWa");
    c.expires = 1634801280;
    c.max_age = 2592000;
    c.domain = V("example.com");
    c.path = V("/docs");
    c.secure = c.http_only = c.partitioned = true;
    c.same_site = CIO_HTTP_SAME_SITE_LAX;
    return c;
}

Test(values, set_cookie_written)
{
    char buf[512];
    cio_http_set_cookie c = full_cookie();
    /* the header fixes no order of the attributes: each is there once, after the pair */
    ssize_t n = cio_http_set_cookie_format(buf, sizeof buf, &c);
    cr_assert_gt(n, 0);
    cr_assert_eq((size_t)n, strlen(buf));
    cr_assert(strncmp(buf, "id=a3fWa; ", 10) == 0 || strcmp(buf, "id=a3fWa") == 0, "%s", buf);
    static const char *const attrs[] = {"; Expires=Thu, 21 Oct 2021 07:28:00 GMT",
                                        "; Max-Age=2592000",
                                        "; Domain=example.com",
                                        "; Path=/docs",
                                        "; Secure",
                                        "; HttpOnly",
                                        "; SameSite=Lax",
                                        "; Partitioned"};
    size_t total = strlen("id=a3fWa");
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
        char *at = strstr(buf, attrs[i]);
        cr_assert(at, "%s lacks '%s'", buf, attrs[i]);
        cr_assert(at[strlen(attrs[i])] == ';' || at[strlen(attrs[i])] == '\0', "%s: '%s'", buf, attrs[i]);
        cr_assert_null(strstr(at + 1, attrs[i]), "%s: '%s' twice", buf, attrs[i]);
        total += strlen(attrs[i]);
    }
    cr_assert_eq((size_t)n, total, "%s: something else in it", buf);

    /* read back as written */
    cio_http_set_cookie r;
    cr_assert_eq(cio_http_set_cookie_parse(&r, S(buf)), 0);
    cr_assert(is(r.name, "id") && is(r.value, "a3fWa") && r.expires == c.expires && r.max_age == c.max_age &&
              is(r.domain, "example.com") && is(r.path, "/docs") && r.secure && r.http_only && r.partitioned &&
              r.same_site == CIO_HTTP_SAME_SITE_LAX);

    /* a bare pair */
    static const struct {
        const char *name, *value, *want;
    } bare[] = {
        {"e", "", "e="},
        {"q", "\"quoted\"", "q=\"quoted\""}, /* a DQUOTE-wrapped value is a cookie-value */
        {"q", "\"\"", "q=\"\""},
        {"tok!#$%&'*+-.^_`|~", "!#$%&'()*+-./:<=>?@[]^_`{|}~", "tok!#$%&'*+-.^_`|~=!#$%&'()*+-./:<=>?@[]^_`{|}~"},
        {"SID", "31d4d96e407aad42", "SID=31d4d96e407aad42"}};
    for (size_t i = 0; i < sizeof bare / sizeof *bare; i++) {
        cio_http_set_cookie b = cookie(bare[i].name, bare[i].value);
        cr_assert_eq(cio_http_set_cookie_format(buf, sizeof buf, &b), (ssize_t)strlen(bare[i].want), "%s",
                     bare[i].want);
        cr_assert_str_eq(buf, bare[i].want);
    }
    /* each attribute alone, and read back */
    static const int same_sites[] = {CIO_HTTP_SAME_SITE_LAX, CIO_HTTP_SAME_SITE_STRICT, CIO_HTTP_SAME_SITE_NONE};
    static const char *const ss_names[] = {"Lax", "Strict", "None"};
    for (size_t i = 0; i < 3; i++) {
        cio_http_set_cookie s = cookie("s", "1");
        s.same_site = same_sites[i];
        s.secure = true;
        cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &s), 0);
        char want[32];
        snprintf(want, sizeof want, "; SameSite=%s", ss_names[i]);
        cr_assert(strstr(buf, want) && strstr(buf, "; Secure"), "%s", buf);
        cr_assert_eq(cio_http_set_cookie_parse(&r, S(buf)), 0);
        cr_assert(r.same_site == same_sites[i] && r.secure);
    }
    cio_http_set_cookie m = cookie("m", "1");
    m.max_age = 0;
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &m), 0);
    cr_assert_str_eq(buf, "m=1; Max-Age=0");
    m.max_age = -5; /* "0 or less: expire now" */
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &m), 0);
    cr_assert_eq(cio_http_set_cookie_parse(&r, S(buf)), 0);
    cr_assert_leq(r.max_age, 0, "%s", buf);
    m = cookie("m", "1");
    m.expires = 0;
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &m), 0);
    cr_assert_str_eq(buf, "m=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT");

    /* the prefixes, as they are allowed */
    cio_http_set_cookie h = cookie("__Host-s", "1");
    h.secure = true;
    h.path = V("/");
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &h), 0);
    cr_assert(strstr(buf, "; Secure") && strstr(buf, "; Path=/") && !strstr(buf, "Domain"), "%s", buf);
    cio_http_set_cookie sp = cookie("__Secure-s", "1");
    sp.secure = true;
    sp.domain = V("example.com");
    sp.path = V("/a");
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &sp), 0);
    cio_http_set_cookie pt = cookie("p", "1");
    pt.secure = pt.partitioned = true;
    cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &pt), 0);

    /* too small */
    n = cio_http_set_cookie_format(buf, sizeof buf, &c);
    cr_assert_gt(n, 0);
    cr_assert_eq(cio_http_set_cookie_format(buf, (size_t)n, &c), -ENOBUFS); /* no room for the NUL */
    cr_assert_eq(cio_http_set_cookie_format(buf, (size_t)n + 1, &c), n);
    cr_assert_eq(cio_http_set_cookie_format(buf, 10, &c), -ENOBUFS);
    cr_assert_eq(cio_http_set_cookie_format(buf, 1, &c), -ENOBUFS);
    cr_assert_eq(cio_http_set_cookie_format(buf, 0, &c), -ENOBUFS);
}

Test(values, set_cookie_refusals)
{
    struct {
        cio_http_set_cookie c;
        const char *why;
    } bad[64];
    size_t nb = 0;
#define REFUSE(cookie_, why_)   \
    do {                        \
        bad[nb].c = (cookie_);  \
        bad[nb++].why = (why_); \
    } while (0)
    static const char *const bad_values[] = {"a;b",       "a\r\nSet-Cookie: x=y",
                                             "a\nb",      "a b",
                                             "a,b",       "a\"b",
                                             "\"ab",      "a\\b",
                                             "\x01",      "\x7f",
                                             "\t",        "\xc3\xa9",
                                             "a; Secure", "a; Domain=evil"};
    for (size_t i = 0; i < sizeof bad_values / sizeof *bad_values; i++)
        REFUSE(cookie("n", bad_values[i]), bad_values[i]);
    static const char *const bad_names[] = {"",    "a=b", "a b", "a;b",  "a\r\n", "(a)",     "a,b",
                                            "a\"", "a/b", "@",   "\x01", "a:b",   "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        REFUSE(cookie(bad_names[i], "v"), bad_names[i]);
    cio_http_set_cookie x = cookie("n", "v");
    x.path = V("/a;b");
    REFUSE(x, "path with ;");
    x.path = V("/a\r\nSet-Cookie: y=z");
    REFUSE(x, "path with CRLF");
    x.path = V("/a\x01");
    REFUSE(x, "path with a control byte");
    x = cookie("n", "v");
    x.domain = V("a/b");
    REFUSE(x, "domain with /");
    x.domain = V("a;b");
    REFUSE(x, "domain with ;");
    x.domain = V("a b");
    REFUSE(x, "domain with a space");
    x.domain = V("example.com; Secure");
    REFUSE(x, "domain with an attribute");
    x.domain = V("a\r\n");
    REFUSE(x, "domain with CRLF");
    x = cookie("n", "v");
    x.same_site = CIO_HTTP_SAME_SITE_NONE;
    REFUSE(x, "SameSite=None without Secure");
    x = cookie("n", "v");
    x.partitioned = true;
    REFUSE(x, "Partitioned without Secure");
    x = cookie("__Secure-x", "v");
    REFUSE(x, "__Secure- without Secure");
    x.path = V("/");
    x.http_only = true;
    REFUSE(x, "__Secure- without Secure, with a path");
    x = cookie("__Host-x", "v");
    x.path = V("/");
    REFUSE(x, "__Host- without Secure");
    x.secure = true;
    x.domain = V("example.com");
    REFUSE(x, "__Host- with a Domain");
    x = cookie("__Host-x", "v");
    x.secure = true;
    x.path = V("/a");
    REFUSE(x, "__Host- with Path=/a");
    x.path = (cio_http_str){NULL, 0};
    REFUSE(x, "__Host- without a Path");
    x = cookie("n", "v");
    x.same_site = 7;
    REFUSE(x, "SameSite out of range");
    x = cookie("n", "v");
    x.expires = 253402300800; /* no IMF-fixdate for it */
    REFUSE(x, "Expires past 9999");
    for (size_t i = 0; i < nb; i++) {
        char buf[512];
        strcpy(buf, "untouched");
        cr_assert_eq(cio_http_set_cookie_format(buf, sizeof buf, &bad[i].c), CIO_EHTTP_BAD_COOKIE, "%s: wrote '%s'",
                     bad[i].why, buf);
        cr_assert_str_eq(buf, "untouched", "%s", bad[i].why);
    }
#undef REFUSE
}

Test(values, set_cookie_as_python_reads_it)
{
    static const struct {
        const char *name, *value, *path, *domain;
        int64_t max_age, expires;
        bool secure, http_only;
        int same_site;
    } cases[] = {
        {"sid", "abc123", "/", NULL, 60, INT64_MIN, true, true, CIO_HTTP_SAME_SITE_STRICT},
        {"lang", "en-US", "/docs", "example.com", INT64_MIN, 1623233894, false, false, CIO_HTTP_SAME_SITE_LAX},
        {"x", "", NULL, NULL, 0, INT64_MIN, false, true, CIO_HTTP_SAME_SITE_UNSET},
        {"tok", "a!b#c$d%e&f", "/", "a.example", 3600, 784111777, true, false, CIO_HTTP_SAME_SITE_NONE},
    };
    size_t nc = sizeof cases / sizeof *cases;
    char script[8192], buf[512];
    char *o = script + sprintf(script, "from http.cookies import SimpleCookie\n"
                                       "def show(h, n):\n"
                                       "    c = SimpleCookie(); c.load(h); m = c[n]\n"
                                       "    print('|'.join([m.value] + [str(m[k]) for k in ('path', 'domain', "
                                       "'max-age', 'expires', 'secure', 'httponly', 'samesite')]))\n");
    for (size_t i = 0; i < nc; i++) {
        cio_http_set_cookie c = cookie(cases[i].name, cases[i].value);
        if (cases[i].path)
            c.path = V(cases[i].path);
        if (cases[i].domain)
            c.domain = V(cases[i].domain);
        c.max_age = cases[i].max_age;
        c.expires = cases[i].expires;
        c.secure = cases[i].secure;
        c.http_only = cases[i].http_only;
        c.same_site = cases[i].same_site;
        cr_assert_gt(cio_http_set_cookie_format(buf, sizeof buf, &c), 0, "%zu", i);
        cr_assert_null(strchr(buf, '\''));
        o += sprintf(o, "show('%s', '%s')\n", buf, cases[i].name);
    }
    char *out = python(script), *rest = out;
    static const char *const ss[] = {"", "None", "Lax", "Strict"};
    for (size_t i = 0; i < nc; i++) {
        char want[512], date[CIO_HTTP_DATE_LEN + 1] = "", ma[24] = "";
        if (cases[i].expires != INT64_MIN)
            cio_http_date_format(date, cases[i].expires);
        if (cases[i].max_age != INT64_MIN)
            snprintf(ma, sizeof ma, "%lld", (long long)cases[i].max_age);
        snprintf(want, sizeof want, "%s|%s|%s|%s|%s|%s|%s|%s", cases[i].value, cases[i].path ? cases[i].path : "",
                 cases[i].domain ? cases[i].domain : "", ma, date, cases[i].secure ? "True" : "",
                 cases[i].http_only ? "True" : "", ss[cases[i].same_site]);
        cr_assert_str_eq(next_line(&rest), want, "%zu", i);
    }
    free(out);
}

/* ------------------------------------------------------------------------------------------- query strings */

Test(values, url_encoding_against_urllib)
{
    char src[256], dst[1024];
    for (int i = 0; i < 256; i++)
        src[i] = (char)i;
    const char *u = "h\xc3\xa9llo w\xc3\xb6rld/?&=+%#\xe2\x82\xac\xf0\x9f\x98\x80";
    char *out = python("import urllib.parse\n"
                       "for i in range(256):\n"
                       "    print(urllib.parse.quote(bytes([i]), safe='-._~'),\n"
                       "          urllib.parse.quote_plus(bytes([i]), safe='-._~'))\n"
                       "b = bytes(range(256))\n"
                       "print(urllib.parse.quote(b, safe='-._~'))\n"
                       "print(urllib.parse.quote_plus(b, safe='-._~'))\n"
                       "u = 'h\\u00e9llo w\\u00f6rld/?&=+%#\\u20ac\\U0001f600'\n"
                       "print(urllib.parse.quote(u, safe='-._~'))\n"
                       "print(urllib.parse.quote_plus(u, safe='-._~'))\n");
    char *rest = out;
    for (int i = 0; i < 256; i++) {
        char *line = next_line(&rest), *sp = strchr(line, ' ');
        cr_assert(sp);
        *sp = '\0';
        const char *one = tst_guarded(src + i, 1);
        cr_assert_eq(cio_url_encode(dst, sizeof dst, one, 1, 0), (ssize_t)strlen(line), "byte %d", i);
        cr_assert_str_eq(dst, line, "byte %d", i);
        cr_assert_eq(cio_url_encode(dst, sizeof dst, one, 1, CIO_URL_PLUS_SPACE), (ssize_t)strlen(sp + 1), "byte %d",
                     i);
        cr_assert_str_eq(dst, sp + 1, "byte %d (plus)", i);
    }
    const char *all = tst_guarded(src, 256);
    const char *l = next_line(&rest);
    cr_assert_eq(cio_url_encode(dst, sizeof dst, all, 256, 0), (ssize_t)strlen(l));
    cr_assert_str_eq(dst, l);
    l = next_line(&rest);
    cr_assert_eq(cio_url_encode(dst, sizeof dst, all, 256, CIO_URL_PLUS_SPACE), (ssize_t)strlen(l));
    cr_assert_str_eq(dst, l);
    l = next_line(&rest);
    cr_assert_eq(cio_url_encode(dst, sizeof dst, tst_guarded(u, strlen(u)), strlen(u), 0), (ssize_t)strlen(l));
    cr_assert_str_eq(dst, l);
    l = next_line(&rest);
    cr_assert_eq(cio_url_encode(dst, sizeof dst, tst_guarded(u, strlen(u)), strlen(u), CIO_URL_PLUS_SPACE),
                 (ssize_t)strlen(l));
    cr_assert_str_eq(dst, l);
    free(out);

    /* round trip through cio_url_decode */
    char back[256];
    ssize_t n = cio_url_encode(dst, sizeof dst, all, 256, CIO_URL_PLUS_SPACE);
    cr_assert_gt(n, 0);
    cr_assert_eq(cio_url_decode(back, sizeof back, dst, (size_t)n, CIO_URL_PLUS_SPACE), 256);
    cr_assert(memcmp(back, src, 256) == 0);

    /* empty, and too small: cap must be larger than the result */
    char small[8];
    cr_assert_eq(cio_url_encode(small, sizeof small, "", 0, 0), 0);
    cr_assert_str_eq(small, "");
    cr_assert_eq(cio_url_encode(small, 0, "", 0, 0), -ENOBUFS);
    cr_assert_eq(cio_url_encode(small, 1, "a", 1, 0), -ENOBUFS);
    cr_assert_eq(cio_url_encode(small, 4, "a b", 3, 0), -ENOBUFS);
    cr_assert_eq(cio_url_encode(small, 5, "a b", 3, 0), -ENOBUFS);
    cr_assert_eq(cio_url_encode(small, 6, "a b", 3, 0), 5);
    cr_assert_str_eq(small, "a%20b");
    cr_assert_eq(cio_url_encode(small, 4, "a b", 3, CIO_URL_PLUS_SPACE), 3);
    cr_assert_str_eq(small, "a+b");
    cr_assert_eq(cio_url_encode(small, 3, "a b", 3, CIO_URL_PLUS_SPACE), -ENOBUFS);
}

Test(values, query_strings_built)
{
    char q[256];
    size_t len = 0;
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, G("a"), G("1")), 0);
    cr_assert(len == 3 && !strcmp(q, "a=1"));
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, G("b"), G("x y")), 0);
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, G("c"), NULL), 0);
    cr_assert_str_eq(q, "a=1&b=x+y&c");
    cr_assert_eq(len, strlen(q));
    len = 0;
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, G("q"), G("&=")), 0);
    cr_assert_str_eq(q, "q=%26%3D");
    cr_assert_eq(len, 8);
    len = 0;
    cr_assert_eq(cio_url_query_add(q, sizeof q, &len, G(""), G("")), 0);
    cr_assert(len == 1 && !strcmp(q, "="));

    /* against urllib.parse.urlencode */
    static const char *const pairs[][2] = {{"a", "1"},          {"b", "x y"},    {"q", "&="},
                                           {"\xc3\xa9", "/"},   {"a+b", "c%d"},  {"k", ""},
                                           {"x~y.z_-", "~._-"}, {"#frag", "?q"}, {"\xe2\x82\xac", "\xf0\x9f\x98\x80"}};
    size_t np = sizeof pairs / sizeof *pairs;
    char script[2048];
    char *o = script + sprintf(script, "import urllib.parse\nprint(urllib.parse.urlencode([");
    for (size_t i = 0; i < np; i++) {
        o += sprintf(o, "(bytes.fromhex('");
        for (const char *p = pairs[i][0]; *p; p++)
            o += sprintf(o, "%02x", (unsigned char)*p);
        o += sprintf(o, "'), bytes.fromhex('");
        for (const char *p = pairs[i][1]; *p; p++)
            o += sprintf(o, "%02x", (unsigned char)*p);
        o += sprintf(o, "')),");
    }
    sprintf(o, "], safe='-._~'))\n");
    char *out = python(script), *rest = out;
    const char *want = next_line(&rest);
    len = 0;
    for (size_t i = 0; i < np; i++)
        cr_assert_eq(cio_url_query_add(q, sizeof q, &len, G(pairs[i][0]), G(pairs[i][1])), 0, "%zu", i);
    cr_assert_str_eq(q, want);
    cr_assert_eq(len, strlen(want));

    /* split back with cio_url_query_next */
    cio_http_str r = {q, len}, n, v;
    for (size_t i = 0; i < np; i++) {
        char dn[64], dv[64];
        cr_assert_eq(cio_url_query_next(&r, &n, &v), 1);
        ssize_t a = cio_url_decode(dn, sizeof dn, n.ptr, n.len, CIO_URL_PLUS_SPACE);
        ssize_t b = cio_url_decode(dv, sizeof dv, v.ptr ? v.ptr : "", v.len, CIO_URL_PLUS_SPACE);
        cr_assert(a >= 0 && b >= 0);
        cr_assert((size_t)a == strlen(pairs[i][0]) && !memcmp(dn, pairs[i][0], (size_t)a), "%zu", i);
        cr_assert((size_t)b == strlen(pairs[i][1]) && !memcmp(dv, pairs[i][1], (size_t)b), "%zu", i);
    }
    cr_assert_eq(cio_url_query_next(&r, &n, &v), 0);
    free(out);

    /* too small: nothing appended, the old string kept */
    char small[12];
    len = 0;
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, G("abc"), G("def")), 0);
    cr_assert(len == 7 && !strcmp(small, "abc=def"));
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, G("ghi"), G("jkl")), -ENOBUFS);
    cr_assert(len == 7 && !strcmp(small, "abc=def"), "%zu '%s'", len, small);
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, G("g"), G("h i")),
                 -ENOBUFS); /* 7 + "&g=h+i" and the NUL is 14 */
    cr_assert(len == 7 && !strcmp(small, "abc=def"));
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, G("g"), G("h")), 0); /* "&g=h": 11 and the NUL */
    cr_assert(len == 11 && !strcmp(small, "abc=def&g=h"));
    cr_assert_eq(cio_url_query_add(small, sizeof small, &len, G("x"), NULL), -ENOBUFS);
    cr_assert(len == 11 && !strcmp(small, "abc=def&g=h"));
    len = 0;
    strcpy(small, "old");
    cr_assert_eq(cio_url_query_add(small, 4, &len, G("a"), G("b")), 0);
    cr_assert_str_eq(small, "a=b");
    len = 0;
    cr_assert_eq(cio_url_query_add(small, 3, &len, G("a"), G("b")), -ENOBUFS);
    cr_assert_eq(len, 0);
}
