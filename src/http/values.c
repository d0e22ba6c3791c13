/* values.c: the header values users reach for: parameters and media types, dates, ranges, entity-tags, cookies,
   and query strings built. Each is parsed in place from a view and checked byte by byte; nothing allocates. */
#include "cio/http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/scan.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
    return cio__is_tchar((unsigned char)c);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static cio_http_str trim(const char *p, const char *e)
{
    while (p < e && is_ows(*p))
        p++;
    while (e > p && is_ows(e[-1]))
        e--;
    return (cio_http_str){p, (size_t)(e - p)};
}

/* --------------------------------------------------------------------------------------------- parameters */

/* The closing quote of a quoted string whose contents begin at `p`, or NULL: unterminated, or a control byte. */
static const char *quoted_end(const char *p, const char *e)
{
    for (; p < e && *p != '"'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\' && ++p == e)
            return NULL;
        c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return NULL;
    }
    return p < e ? p : NULL;
}

int cio_http_param_next(cio_http_str *rest, cio_http_str *name, cio_http_str *value, bool *quoted)
{
    const char *p = rest->ptr, *e = p + rest->len;
    while (p < e && is_ows(*p))
        p++;
    if (p == e)
        goto end;
    if (*p++ != ';')
        return CIO_EHTTP_BAD_LIST;
    while (p < e && is_ows(*p))
        p++;
    if (p == e)
        goto end;
    const char *n = p;
    while (p < e && is_tchar(*p))
        p++;
    *name = (cio_http_str){n, (size_t)(p - n)};
    while (p < e && is_ows(*p)) /* RFC 9110 5.6.6 has no whitespace around "=", but senders write it */
        p++;
    if (name->len == 0 || p == e || *p++ != '=')
        return CIO_EHTTP_BAD_LIST;
    while (p < e && is_ows(*p))
        p++;
    const char *v = p;
    *quoted = p < e && *p == '"';
    if (*quoted) {
        if ((p = quoted_end(++v, e)) == NULL)
            return CIO_EHTTP_BAD_LIST;
        *value = (cio_http_str){v, (size_t)(p - v)};
        p++;
    } else {
        while (p < e && is_tchar(*p))
            p++;
        *value = (cio_http_str){v, (size_t)(p - v)};
        if (value->len == 0)
            return CIO_EHTTP_BAD_LIST;
    }
    const char *q = p;
    while (q < e && is_ows(*q))
        q++;
    if (q < e && *q != ';') /* a value is one token or one quoted string: "a=b/c" or "a=\"x\"y" is malformed */
        return CIO_EHTTP_BAD_LIST;
    *rest = (cio_http_str){p, (size_t)(e - p)};
    return 1;
end:
    *rest = (cio_http_str){e, 0};
    return 0;
}

ssize_t cio_http_param_get(cio_http_str params, const char *name, char *dst, size_t cap)
{
    cio_http_str n, v;
    bool q;
    int rc;
    while ((rc = cio_http_param_next(&params, &n, &v, &q)) > 0) {
        if (!cio_http_str_ieq(n, name))
            continue;
        size_t len = 0;
        for (size_t i = 0; i < v.len; i++) {
            if (q && v.ptr[i] == '\\')
                i++;
            if (len + 1 >= cap)
                return -ENOBUFS;
            dst[len++] = v.ptr[i];
        }
        if (cap == 0)
            return -ENOBUFS;
        dst[len] = '\0';
        return (ssize_t)len;
    }
    return rc < 0 ? rc : -ENOENT;
}

int cio_http_media_type_parse(cio_http_media_type *mt, cio_http_str value)
{
    const char *p = value.ptr, *e = p + value.len;
    while (p < e && is_ows(*p))
        p++;
    while (e > p && is_ows(e[-1]))
        e--;
    const char *t = p;
    while (p < e && is_tchar(*p))
        p++;
    if (p == t || p == e || *p != '/')
        return CIO_EHTTP_BAD_MEDIA_TYPE;
    mt->type = (cio_http_str){t, (size_t)(p - t)};
    const char *s = ++p;
    while (p < e && is_tchar(*p))
        p++;
    if (p == s)
        return CIO_EHTTP_BAD_MEDIA_TYPE;
    mt->subtype = (cio_http_str){s, (size_t)(p - s)};
    mt->params = (cio_http_str){p, (size_t)(e - p)};
    cio_http_str rest = mt->params, n, v;
    bool q;
    int rc;
    while ((rc = cio_http_param_next(&rest, &n, &v, &q)) > 0)
        ;
    return rc < 0 ? CIO_EHTTP_BAD_MEDIA_TYPE : 0;
}

bool cio_http_media_type_is(const cio_http_media_type *mt, const char *pattern)
{
    const char *slash = strchr(pattern, '/');
    if (!slash)
        return false;
    size_t tl = (size_t)(slash - pattern);
    const char *sub = slash + 1;
    bool type_ok =
        (tl == 1 && pattern[0] == '*') || (mt->type.len == tl && strncasecmp(mt->type.ptr, pattern, tl) == 0);
    bool sub_ok = strcmp(sub, "*") == 0 || cio_http_str_ieq(mt->subtype, sub);
    return type_ok && sub_ok;
}

ssize_t cio_http_media_type_charset(const cio_http_media_type *mt, char *dst, size_t cap)
{
    ssize_t n = cio_http_param_get(mt->params, "charset", dst, cap);
    for (ssize_t i = 0; i < n; i++)
        dst[i] = (char)cio__lower((unsigned char)dst[i]);
    return n;
}

/* -------------------------------------------------------------------------------------------------- dates */

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_names_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), and back: the usual era arithmetic. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int weekday(int64_t days)
{
    return (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
}

static int days_in_month(int64_t y, int m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int cio_http_date_format(char dst[CIO_HTTP_DATE_LEN + 1], int64_t t)
{
    if (t < -62167219200 || t > 253402300799) /* 0000-01-01 .. 9999-12-31 23:59:59 */
        return -ERANGE;
    int64_t days = floor_div(t, 86400), secs = t - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int hh = (int)(secs / 3600), mm = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    char *o = dst;
    memcpy(o, day_names[weekday(days)], 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    *o++ = (char)('0' + d / 10);
    *o++ = (char)('0' + d % 10);
    *o++ = ' ';
    memcpy(o, month_names[m - 1], 3);
    o += 3;
    *o++ = ' ';
    *o++ = (char)('0' + y / 1000);
    *o++ = (char)('0' + y / 100 % 10);
    *o++ = (char)('0' + y / 10 % 10);
    *o++ = (char)('0' + y % 10);
    *o++ = ' ';
    const int hms[3] = {hh, mm, ss};
    for (int i = 0; i < 3; i++) {
        *o++ = (char)('0' + hms[i] / 10);
        *o++ = (char)('0' + hms[i] % 10);
        *o++ = i < 2 ? ':' : ' ';
    }
    memcpy(o, "GMT", 4);
    return CIO_HTTP_DATE_LEN;
}

/* A cursor over a date being parsed. */
struct cur {
    const char *p, *e;
};

static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

static bool digits(struct cur *c, size_t n, int *v)
{
    if ((size_t)(c->e - c->p) < n)
        return false;
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(c->p[i]))
            return false;
        x = x * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *v = x;
    return true;
}

static int month_of(struct cur *c)
{
    if (c->e - c->p < 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(c->p, month_names[i], 3) == 0) {
            c->p += 3;
            return i + 1;
        }
    return 0;
}

static bool hms(struct cur *c, int *h, int *m, int *s)
{
    return digits(c, 2, h) && lit(c, ":") && digits(c, 2, m) && lit(c, ":") && digits(c, 2, s) && *h < 24 && *m < 60 &&
           *s <= 60; /* 60: a leap second, as RFC 5322 allows */
}

static int day_of(struct cur *c, bool long_name)
{
    for (int i = 0; i < 7; i++)
        if (lit(c, long_name ? day_names_long[i] : day_names[i]))
            return i;
    return -1;
}

static int64_t to_time(int64_t y, int mo, int d, int h, int mi, int s)
{
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

int cio_http_date_parse(cio_http_str str, int64_t *t)
{
    cio_http_str v = trim(str.ptr, str.ptr + str.len);
    struct cur c = {v.ptr, v.ptr + v.len};
    int wd, d, mo, y, h, mi, s;
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    struct cur a = c;
    if ((wd = day_of(&a, false)) >= 0 && lit(&a, " ")) {
        if (!(mo = month_of(&a)) || !lit(&a, " "))
            return CIO_EHTTP_BAD_DATE;
        if (a.p < a.e && *a.p == ' ') {
            a.p++;
            if (!digits(&a, 1, &d))
                return CIO_EHTTP_BAD_DATE;
        } else if (!digits(&a, 2, &d)) {
            return CIO_EHTTP_BAD_DATE;
        }
        if (!lit(&a, " ") || !hms(&a, &h, &mi, &s) || !lit(&a, " ") || !digits(&a, 4, &y) || a.p != a.e)
            return CIO_EHTTP_BAD_DATE;
        goto check;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    a = c;
    if ((wd = day_of(&a, false)) >= 0 && lit(&a, ", ")) {
        if (!digits(&a, 2, &d) || !lit(&a, " ") || !(mo = month_of(&a)) || !lit(&a, " ") || !digits(&a, 4, &y) ||
            !lit(&a, " ") || !hms(&a, &h, &mi, &s) || !lit(&a, " GMT") || a.p != a.e)
            return CIO_EHTTP_BAD_DATE;
        if (d < 1 || mo < 1 || d > days_in_month(y, mo) || weekday(days_from_civil(y, mo, d)) != wd)
            return CIO_EHTTP_BAD_DATE;
        *t = to_time(y, mo, d, h, mi, s);
        return 0;
    }
    /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
    a = c;
    if ((wd = day_of(&a, true)) >= 0 && lit(&a, ", ")) {
        if (!digits(&a, 2, &d) || !lit(&a, "-") || !(mo = month_of(&a)) || !lit(&a, "-") || !digits(&a, 2, &y) ||
            !lit(&a, " ") || !hms(&a, &h, &mi, &s) || !lit(&a, " GMT") || a.p != a.e)
            return CIO_EHTTP_BAD_DATE;
        /* RFC 9110 5.6.7: a year more than 50 years ahead is the most recent past year with those digits */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        int64_t cur = tm.tm_year + 1900, full = cur - cur % 100 + y;
        if (full > cur + 50)
            full -= 100;
        else if (full < cur - 49)
            full += 100;
        int64_t yy = full;
        if (d < 1 || d > days_in_month(yy, mo))
            return CIO_EHTTP_BAD_DATE;
        *t = to_time(yy, mo, d, h, mi, s);
        return 0;
    }
    return CIO_EHTTP_BAD_DATE;
check:
    if (d < 1 || d > days_in_month(y, mo))
        return CIO_EHTTP_BAD_DATE;
    *t = to_time(y, mo, d, h, mi, s);
    return 0;
}

static _Thread_local struct {
    time_t sec;
    char s[CIO_HTTP_DATE_LEN + 1];
} date_now = {.sec = -1};

const char *cio_http_date_now(void)
{
    time_t now = time(NULL);
    if (now != date_now.sec) {
        cio_http_date_format(date_now.s, now);
        date_now.sec = now;
    }
    return date_now.s;
}

/* ------------------------------------------------------------------------------------------------- ranges */

/* A decimal number, saturating at UINT64_MAX (no representation is that large, so a huge position is simply past
   the end). Returns the digits taken. */
static size_t number(const char **pp, const char *e, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    while (p < e && is_digit(*p)) {
        unsigned dgt = (unsigned)(*p++ - '0');
        x = x > (UINT64_MAX - dgt) / 10 ? UINT64_MAX : x * 10 + dgt;
    }
    size_t n = (size_t)(p - *pp);
    *pp = p;
    *v = x;
    return n;
}

static bool touch(cio_http_range a, cio_http_range b)
{
    return a.first <= b.last + 1 && b.first <= a.last + 1; /* last < UINT64_MAX: both are below a size */
}

/* Sort by first byte and merge ranges that overlap or touch; returns how many are left. */
static size_t coalesce(cio_http_range *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        cio_http_range x = r[i];
        size_t j = i;
        for (; j > 0 && r[j - 1].first > x.first; j--)
            r[j] = r[j - 1];
        r[j] = x;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && touch(r[k - 1], r[i])) {
            if (r[i].last > r[k - 1].last)
                r[k - 1].last = r[i].last;
        } else {
            r[k++] = r[i];
        }
    }
    return k;
}

int cio_http_range_parse(cio_http_str value, uint64_t size, cio_http_range *ranges, size_t max)
{
    const char *p = value.ptr, *e = p + value.len;
    while (p < e && is_ows(*p))
        p++;
    if ((size_t)(e - p) < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return CIO_EHTTP_BAD_RANGE;
    p += 6;
    size_t n = 0, specs = 0;
    bool overlap = false;
    for (;;) {
        while (p < e && (is_ows(*p) || *p == ','))
            p++;
        if (p == e)
            break;
        uint64_t a, b;
        cio_http_range r;
        bool ok;
        if (*p == '-') {
            p++;
            if (!number(&p, e, &b))
                return CIO_EHTTP_BAD_RANGE;
            ok = b > 0 && size > 0;
            r = (cio_http_range){b < size ? size - b : 0, size - 1};
        } else {
            if (!number(&p, e, &a) || p == e || *p++ != '-')
                return CIO_EHTTP_BAD_RANGE;
            bool has_last = number(&p, e, &b) > 0;
            if (has_last && b < a)
                return CIO_EHTTP_BAD_RANGE;
            ok = a < size;
            r = (cio_http_range){a, !has_last || b >= size ? size - 1 : b};
        }
        while (p < e && is_ows(*p))
            p++;
        if (p < e && *p != ',')
            return CIO_EHTTP_BAD_RANGE;
        specs++;
        if (!ok)
            continue;
        size_t i = 0;
        while (i < n && !touch(ranges[i], r))
            i++;
        if (i < n) {
            overlap = true;
            if (r.first < ranges[i].first)
                ranges[i].first = r.first;
            if (r.last > ranges[i].last)
                ranges[i].last = r.last;
            continue;
        }
        if (n == max) {
            if (overlap)
                n = coalesce(ranges, n);
            if (n == max)
                return CIO_EHTTP_TOO_MANY_RANGES;
        }
        ranges[n++] = r;
    }
    if (specs == 0)
        return CIO_EHTTP_BAD_RANGE;
    if (n == 0)
        return CIO_EHTTP_RANGE_NOT_SATISFIABLE;
    for (size_t i = 0; i < n && !overlap; i++)
        for (size_t j = i + 1; j < n && !overlap; j++)
            overlap = touch(ranges[i], ranges[j]);
    if (overlap)
        n = coalesce(ranges, n);
    return (int)n;
}

int cio_http_content_range_parse(cio_http_str value, uint64_t *first, uint64_t *last, uint64_t *size)
{
    cio_http_str v = trim(value.ptr, value.ptr + value.len);
    const char *p = v.ptr, *e = p + v.len;
    if ((size_t)(e - p) < 6 || strncasecmp(p, "bytes ", 6) != 0)
        return CIO_EHTTP_BAD_RANGE;
    p += 6;
    uint64_t a = UINT64_MAX, b = UINT64_MAX, n = UINT64_MAX;
    if (p < e && *p == '*') {
        p++;
        if (p == e || *p++ != '/' || !number(&p, e, &n) || p != e || n == UINT64_MAX)
            return CIO_EHTTP_BAD_RANGE;
    } else {
        if (!number(&p, e, &a) || p == e || *p++ != '-' || !number(&p, e, &b) || p == e || *p++ != '/')
            return CIO_EHTTP_BAD_RANGE;
        if (p < e && *p == '*')
            p++;
        else if (!number(&p, e, &n) || n == UINT64_MAX || b >= n)
            return CIO_EHTTP_BAD_RANGE;
        if (p != e || b < a || a == UINT64_MAX || b == UINT64_MAX)
            return CIO_EHTTP_BAD_RANGE;
    }
    *first = a;
    *last = b;
    *size = n;
    return 0;
}

/* ---------------------------------------------------------------------------------------------- entity-tags */

static bool is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* One entity-tag at [*pp, e): advances past it. */
static bool etag_one(const char **pp, const char *e, cio_http_str *tag, cio_http_str *opaque, bool *weak)
{
    const char *p = *pp, *s = p;
    *weak = e - p >= 2 && p[0] == 'W' && p[1] == '/';
    if (*weak)
        p += 2;
    if (p == e || *p++ != '"')
        return false;
    const char *o = p;
    while (p < e && is_etagc((unsigned char)*p))
        p++;
    if (p == e || *p != '"')
        return false;
    *opaque = (cio_http_str){o, (size_t)(p - o)};
    p++;
    *tag = (cio_http_str){s, (size_t)(p - s)};
    *pp = p;
    return true;
}

int cio_http_etag_next(cio_http_str *rest, cio_http_str *tag, cio_http_str *opaque, bool *weak)
{
    const char *p = rest->ptr, *e = p + rest->len;
    while (p < e && (is_ows(*p) || *p == ','))
        p++;
    if (p == e) {
        *rest = (cio_http_str){e, 0};
        return 0;
    }
    if (!etag_one(&p, e, tag, opaque, weak))
        return CIO_EHTTP_BAD_ETAG;
    while (p < e && is_ows(*p))
        p++;
    if (p < e && *p != ',')
        return CIO_EHTTP_BAD_ETAG;
    *rest = (cio_http_str){p, (size_t)(e - p)};
    return 1;
}

int cio_http_etag_match(cio_http_str list, cio_http_str etag, unsigned flags)
{
    cio_http_str et = trim(etag.ptr, etag.ptr + etag.len), tag, opaque;
    const char *p = et.ptr;
    bool weak;
    if (!etag_one(&p, et.ptr + et.len, &tag, &opaque, &weak) || p != et.ptr + et.len)
        return CIO_EHTTP_BAD_ETAG;
    cio_http_str l = trim(list.ptr, list.ptr + list.len);
    if (l.len == 1 && l.ptr[0] == '*')
        return 1;
    cio_http_str t, o;
    bool w;
    int rc, found = 0;
    while ((rc = cio_http_etag_next(&l, &t, &o, &w)) > 0) {
        if ((flags & CIO_HTTP_ETAG_WEAK || (!w && !weak)) && o.len == opaque.len &&
            memcmp(o.ptr, opaque.ptr, o.len) == 0)
            found = 1;
    }
    return rc < 0 ? rc : found;
}

/* --------------------------------------------------------------------------------------------------- cookies */

int cio_http_cookie_next(cio_http_str *rest, cio_http_str *name, cio_http_str *value)
{
    const char *p = rest->ptr, *e = p + rest->len;
    while (p < e) {
        const char *s = p;
        while (p < e && *p != ';')
            p++;
        const char *pe = p;
        if (p < e)
            p++;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        if (!eq)
            continue;
        cio_http_str n = trim(s, eq), v = trim(eq + 1, pe);
        if (n.len == 0)
            continue;
        if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
            v = (cio_http_str){v.ptr + 1, v.len - 2};
        *name = n;
        *value = v;
        *rest = (cio_http_str){p, (size_t)(e - p)};
        return 1;
    }
    *rest = (cio_http_str){e, 0};
    return 0;
}

/* RFC 6265 section 5.1.1: the delimiters between a cookie-date's tokens. */
static bool is_date_delim(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
           (c >= 0x7b && c <= 0x7e);
}

/* Up to `max` digits at the start of [p, e) followed by a non-digit or the end; at least `min`. */
static bool lead_digits(const char **pp, const char *e, int min, int max, int *v)
{
    const char *p = *pp;
    int x = 0, n = 0;
    while (p < e && is_digit(*p) && n < max) {
        x = x * 10 + (*p++ - '0');
        n++;
    }
    if (n < min || (p < e && is_digit(*p)))
        return false;
    *pp = p;
    *v = x;
    return true;
}

/* The cookie-date algorithm of RFC 6265 section 5.1.1, which accepts what servers really send in Expires
   ("Wed, 09-Jun-2021 10:18:14 GMT" among them). */
static int cookie_date(cio_http_str s, int64_t *t)
{
    const char *p = s.ptr, *e = p + s.len;
    bool got_time = false, got_day = false, got_month = false, got_year = false;
    int h = 0, mi = 0, sec = 0, d = 0, mo = 0, y = 0;
    while (p < e) {
        while (p < e && is_date_delim((unsigned char)*p))
            p++;
        const char *ts = p;
        while (p < e && !is_date_delim((unsigned char)*p))
            p++;
        if (p == ts)
            break;
        const char *q = ts;
        int a, b, c;
        if (!got_time && lead_digits(&q, p, 1, 2, &a) && q < p && *q++ == ':' && lead_digits(&q, p, 1, 2, &b) &&
            q < p && *q++ == ':' && lead_digits(&q, p, 1, 2, &c)) {
            got_time = true;
            h = a, mi = b, sec = c;
            continue;
        }
        q = ts;
        if (!got_day && lead_digits(&q, p, 1, 2, &a)) {
            got_day = true;
            d = a;
            continue;
        }
        if (!got_month && p - ts >= 3) {
            for (int i = 0; i < 12; i++)
                if (strncasecmp(ts, month_names[i], 3) == 0) {
                    got_month = true;
                    mo = i + 1;
                }
            if (got_month)
                continue;
        }
        q = ts;
        if (!got_year && lead_digits(&q, p, 2, 4, &a)) {
            got_year = true;
            y = a;
        }
    }
    if (got_year && y >= 70 && y <= 99)
        y += 1900;
    else if (got_year && y <= 69)
        y += 2000;
    if (!got_time || !got_day || !got_month || !got_year || y < 1601 || h > 23 || mi > 59 || sec > 59 || d < 1 ||
        d > days_in_month(y, mo))
        return -1;
    *t = to_time(y, mo, d, h, mi, sec);
    return 0;
}

int cio_http_set_cookie_parse(cio_http_set_cookie *c, cio_http_str value)
{
    *c = (cio_http_set_cookie)CIO_HTTP_SET_COOKIE_INIT;
    for (size_t i = 0; i < value.len; i++) {
        unsigned char ch = (unsigned char)value.ptr[i];
        if (is_ctl(ch) && ch != '\t')
            return CIO_EHTTP_BAD_COOKIE;
    }
    const char *p = value.ptr, *e = p + value.len;
    const char *semi = memchr(p, ';', value.len);
    const char *ne = semi ? semi : e;
    const char *eq = memchr(p, '=', (size_t)(ne - p));
    if (!eq)
        return CIO_EHTTP_BAD_COOKIE;
    c->name = trim(p, eq);
    c->value = trim(eq + 1, ne);
    if (c->name.len == 0)
        return CIO_EHTTP_BAD_COOKIE;
    p = ne;
    while (p < e) {
        p++; /* the ";" */
        const char *s = p;
        while (p < e && *p != ';')
            p++;
        const char *aeq = memchr(s, '=', (size_t)(p - s));
        cio_http_str an = trim(s, aeq ? aeq : p), av = aeq ? trim(aeq + 1, p) : (cio_http_str){p, 0};
        if (cio_http_str_ieq(an, "Expires")) {
            int64_t t;
            if (cookie_date(av, &t) == 0)
                c->expires = t;
        } else if (cio_http_str_ieq(an, "Max-Age")) {
            const char *q = av.ptr, *qe = q + av.len;
            bool neg = q < qe && *q == '-';
            if (neg)
                q++;
            uint64_t v;
            if (q < qe && number(&q, qe, &v) && q == qe) {
                int64_t x = v > INT64_MAX ? INT64_MAX : (int64_t)v;
                c->max_age = neg ? (x == 0 ? 0 : -x) : x;
            }
        } else if (cio_http_str_ieq(an, "Domain")) {
            if (av.len > 0 && av.ptr[0] == '.')
                av = (cio_http_str){av.ptr + 1, av.len - 1};
            if (av.len > 0)
                c->domain = av;
        } else if (cio_http_str_ieq(an, "Path")) {
            c->path = av.len > 0 && av.ptr[0] == '/' ? av : (cio_http_str){NULL, 0};
        } else if (cio_http_str_ieq(an, "Secure")) {
            c->secure = true;
        } else if (cio_http_str_ieq(an, "HttpOnly")) {
            c->http_only = true;
        } else if (cio_http_str_ieq(an, "Partitioned")) {
            c->partitioned = true;
        } else if (cio_http_str_ieq(an, "SameSite")) {
            if (cio_http_str_ieq(av, "None"))
                c->same_site = CIO_HTTP_SAME_SITE_NONE;
            else if (cio_http_str_ieq(av, "Lax"))
                c->same_site = CIO_HTTP_SAME_SITE_LAX;
            else if (cio_http_str_ieq(av, "Strict"))
                c->same_site = CIO_HTTP_SAME_SITE_STRICT;
        }
    }
    return 0;
}

/* RFC 6265 section 4.1.1's cookie-octet. */
static bool is_cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e);
}

static bool cookie_value_ok(cio_http_str v)
{
    if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
        v = (cio_http_str){v.ptr + 1, v.len - 2};
    for (size_t i = 0; i < v.len; i++)
        if (!is_cookie_octet((unsigned char)v.ptr[i]))
            return false;
    return true;
}

static bool domain_ok(cio_http_str d)
{
    size_t i = d.len > 0 && d.ptr[0] == '.';
    if (i == d.len)
        return false;
    for (; i < d.len; i++) {
        char ch = d.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static bool path_ok(cio_http_str p)
{
    for (size_t i = 0; i < p.len; i++) {
        unsigned char ch = (unsigned char)p.ptr[i];
        if (is_ctl(ch) || ch == ';' || ch >= 0x80)
            return false;
    }
    return true;
}

static bool has_prefix(cio_http_str s, const char *pre)
{
    size_t n = strlen(pre);
    return s.len >= n && memcmp(s.ptr, pre, n) == 0;
}

/* Bytes appended to a caller's buffer, counted past its end so the caller can tell it was too small. */
struct sink {
    char *dst;
    size_t cap, len;
};

static void put(struct sink *o, const char *p, size_t n)
{
    if (o->len + n < o->cap)
        memcpy(o->dst + o->len, p, n);
    o->len += n;
}

static void puts_(struct sink *o, const char *s)
{
    put(o, s, strlen(s));
}

ssize_t cio_http_set_cookie_format(char *dst, size_t cap, const cio_http_set_cookie *c)
{
    bool has_domain = c->domain.ptr != NULL, has_path = c->path.ptr != NULL;
    if (c->name.len == 0 || !c->name.ptr)
        return CIO_EHTTP_BAD_COOKIE;
    for (size_t i = 0; i < c->name.len; i++)
        if (!is_tchar(c->name.ptr[i]))
            return CIO_EHTTP_BAD_COOKIE;
    if ((c->value.len && !c->value.ptr) || !cookie_value_ok(c->value))
        return CIO_EHTTP_BAD_COOKIE;
    if ((has_domain && !domain_ok(c->domain)) || (has_path && !path_ok(c->path)))
        return CIO_EHTTP_BAD_COOKIE;
    if (c->same_site < CIO_HTTP_SAME_SITE_UNSET || c->same_site > CIO_HTTP_SAME_SITE_STRICT)
        return CIO_EHTTP_BAD_COOKIE;
    if (!c->secure && (c->same_site == CIO_HTTP_SAME_SITE_NONE || c->partitioned))
        return CIO_EHTTP_BAD_COOKIE;
    if (has_prefix(c->name, "__Secure-") && !c->secure)
        return CIO_EHTTP_BAD_COOKIE;
    if (has_prefix(c->name, "__Host-") &&
        (!c->secure || has_domain || !has_path || c->path.len != 1 || c->path.ptr[0] != '/'))
        return CIO_EHTTP_BAD_COOKIE;
    char date[CIO_HTTP_DATE_LEN + 1];
    if (c->expires != INT64_MIN && cio_http_date_format(date, c->expires) < 0)
        return CIO_EHTTP_BAD_COOKIE;

    struct sink o = {dst, cap, 0};
    put(&o, c->name.ptr, c->name.len);
    put(&o, "=", 1);
    if (c->value.len)
        put(&o, c->value.ptr, c->value.len);
    if (c->expires != INT64_MIN) {
        puts_(&o, "; Expires=");
        puts_(&o, date);
    }
    if (c->max_age != INT64_MIN) {
        char n[24];
        int k = snprintf(n, sizeof n, "%lld", (long long)(c->max_age < 0 ? 0 : c->max_age));
        puts_(&o, "; Max-Age=");
        put(&o, n, (size_t)k);
    }
    if (has_domain) {
        puts_(&o, "; Domain=");
        put(&o, c->domain.ptr, c->domain.len);
    }
    if (has_path) {
        puts_(&o, "; Path=");
        put(&o, c->path.ptr, c->path.len);
    }
    if (c->secure)
        puts_(&o, "; Secure");
    if (c->http_only)
        puts_(&o, "; HttpOnly");
    static const char *const ss[] = {NULL, "None", "Lax", "Strict"};
    if (c->same_site != CIO_HTTP_SAME_SITE_UNSET) {
        puts_(&o, "; SameSite=");
        puts_(&o, ss[c->same_site]);
    }
    if (c->partitioned)
        puts_(&o, "; Partitioned");
    if (o.len >= cap) {
        if (cap > 0)
            dst[0] = '\0';
        return -ENOBUFS;
    }
    dst[o.len] = '\0';
    return (ssize_t)o.len;
}

/* ----------------------------------------------------------------------------------------- query strings */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* The encoded length of src[0..n) (cio_url_encode), writing what fits into o. */
static void encode(struct sink *o, const char *src, size_t n, unsigned flags)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (is_unreserved(c)) {
            put(o, (const char *)&c, 1);
        } else if (c == ' ' && (flags & CIO_URL_PLUS_SPACE)) {
            put(o, "+", 1);
        } else {
            char b[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(o, b, 3);
        }
    }
}

ssize_t cio_url_encode(char *dst, size_t cap, const char *src, size_t n, unsigned flags)
{
    struct sink o = {dst, cap, 0};
    encode(&o, src, n, flags);
    if (o.len >= cap) {
        if (cap > 0)
            dst[0] = '\0';
        return -ENOBUFS;
    }
    dst[o.len] = '\0';
    return (ssize_t)o.len;
}

int cio_url_query_add(char *dst, size_t cap, size_t *len, const char *name, const char *value)
{
    if (*len >= cap)
        return -ENOBUFS;
    struct sink o = {dst + *len, cap - *len, 0};
    if (*len > 0)
        put(&o, "&", 1);
    encode(&o, name, strlen(name), CIO_URL_PLUS_SPACE);
    if (value) {
        put(&o, "=", 1);
        encode(&o, value, strlen(value), CIO_URL_PLUS_SPACE);
    }
    if (o.len >= o.cap) {
        dst[*len] = '\0';
        return -ENOBUFS;
    }
    o.dst[o.len] = '\0';
    *len += o.len;
    return 0;
}
