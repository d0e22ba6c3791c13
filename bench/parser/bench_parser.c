/* bench_parser.c: ns per message and MB/s for cio's head parser, llhttp (strict) and picohttpparser, one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llhttp.h>

#include "cio/http.h"
#include "http/scan.h"

/* picohttpparser ships in libh2o-evloop without a header; these are its documented prototypes. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg, size_t *msg_len,
                       struct phr_header *headers, size_t *num_headers, size_t last_len);

struct msgset {
    const char *name;
    bool response;
    const char *wire;
};

/* clang-format off */
static const struct msgset sets[] = {
    {"wrk GET (40 B)", false, "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"},
    {"curl GET (85 B)", false, "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\n"
                               "Accept: */*\r\n\r\n"},
    {"browser GET with cookies", false,
     "GET /wiki/Special:Search?search=asyncio&go=Go HTTP/1.1\r\nHost: en.wikipedia.org\r\n"
     "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
     "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
     "Referer: https://en.wikipedia.org/wiki/Main_Page\r\n"
     "Cookie: WMF-Last-Access=25-Nov-2026; GeoIP=FR:IDF:Paris:48.86:2.34:v4; enwikimwuser-sessionId=0a1b2c3d4e5f6a7b8c9d\r\n"
     "Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
     "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\n\r\n"},
    {"response, 14 headers", true,
     "HTTP/1.1 200 OK\r\nDate: Tue, 25 Nov 2026 10:00:00 GMT\r\nServer: nginx/1.22.1\r\n"
     "Content-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\nConnection: keep-alive\r\n"
     "Cache-Control: private, max-age=0, must-revalidate\r\nVary: Accept-Encoding\r\n"
     "Strict-Transport-Security: max-age=31536000; includeSubDomains; preload\r\n"
     "X-Frame-Options: SAMEORIGIN\r\nX-Content-Type-Options: nosniff\r\n"
     "Set-Cookie: sid=31d4d96e407aad42; Path=/; Secure; HttpOnly\r\nETag: \"6560a1b2-267\"\r\n"
     "Last-Modified: Tue, 25 Nov 2026 09:00:00 GMT\r\nAccept-Ranges: bytes\r\n\r\n"},
};
/* clang-format on */
#define N_SETS (sizeof(sets) / sizeof(sets[0]))

static volatile size_t sink; /* keeps the parsers' results alive */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t run_cio(const struct msgset *s, size_t len, long iters)
{
    cio_http_header hs[64];
    cio_http_head h;
    size_t acc = 0;
    for (long i = 0; i < iters; i++) {
        cio_http_head_init(&h, hs, 64);
        int rc = s->response ? cio_http_parse_response(&h, s->wire, len, NULL)
                             : cio_http_parse_request(&h, s->wire, len, NULL);
        acc += (size_t)rc + h.num_headers;
    }
    return acc;
}

static size_t run_pico(const struct msgset *s, size_t len, long iters)
{
    struct phr_header hs[64];
    const char *m, *p;
    size_t ml, pl, acc = 0;
    int minor, status;
    for (long i = 0; i < iters; i++) {
        size_t nh = 64;
        int rc = s->response ? phr_parse_response(s->wire, len, &minor, &status, &m, &ml, hs, &nh, 0)
                             : phr_parse_request(s->wire, len, &m, &ml, &p, &pl, &minor, hs, &nh, 0);
        acc += (size_t)rc + nh;
    }
    return acc;
}

/* llhttp hands out spans through callbacks; keep them as views, as cio and picohttpparser do. */
struct ll_out {
    struct phr_header hs[64];
    size_t n;
    const char *url;
    size_t url_len;
};

static int ll_url(llhttp_t *p, const char *at, size_t len)
{
    struct ll_out *o = p->data;
    o->url = at, o->url_len = len;
    return 0;
}

static int ll_field(llhttp_t *p, const char *at, size_t len)
{
    struct ll_out *o = p->data;
    if (o->n < 64)
        o->hs[o->n].name = at, o->hs[o->n].name_len = len;
    return 0;
}

static int ll_value(llhttp_t *p, const char *at, size_t len)
{
    struct ll_out *o = p->data;
    if (o->n < 64)
        o->hs[o->n].value = at, o->hs[o->n].value_len = len, o->n++;
    return 0;
}

static size_t run_llhttp(const struct msgset *s, size_t len, long iters)
{
    llhttp_settings_t st;
    llhttp_t p;
    struct ll_out o;
    size_t acc = 0;
    llhttp_settings_init(&st);
    st.on_url = ll_url;
    st.on_header_field = ll_field;
    st.on_header_value = ll_value;
    llhttp_init(&p, s->response ? HTTP_RESPONSE : HTTP_REQUEST, &st);
    p.data = &o;
    for (long i = 0; i < iters; i++) {
        o.n = 0;
        int rc = llhttp_execute(&p, s->wire, len); /* keep-alive: the parser is ready for the next message */
        acc += (size_t)rc + o.n;
    }
    return acc;
}

typedef size_t (*runner)(const struct msgset *, size_t, long);

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median ns per message over `runs` timed runs of `iters` messages, after one untimed warm-up run. */
static double measure(runner r, const struct msgset *s, long iters, int runs, double *lo, double *hi)
{
    size_t len = strlen(s->wire);
    double t[32];
    sink += r(s, len, iters);
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        sink += r(s, len, iters);
        t[i] = (now() - t0) / (double)iters;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    *lo = t[0], *hi = t[runs - 1];
    return t[runs / 2];
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    long iters = argc > 2 ? atol(argv[2]) : 1000000;
    const char *only = argc > 3 ? argv[3] : NULL;   /* set numbers, e.g. "01": the small GETs */
    const char *which = argc > 4 ? argv[4] : "cpl"; /* parsers: c(io), p(icohttpparser), l(lhttp) */
    if (runs < 1 || runs > 31 || iters < 1) {
        fprintf(stderr, "usage: %s [runs (1-31)] [messages per run] [sets, e.g. 01] [parsers, e.g. cp]\n", argv[0]);
        return 2;
    }
    static const struct {
        const char *name;
        runner r;
    } parsers[] = {{"cio", run_cio}, {"picohttpparser", run_pico}, {"llhttp (strict)", run_llhttp}};
    printf("cio scan path: %s; %d runs of %ld messages, median (min-max)\n\n",
           cio__http_simd_name(cio__http_simd_level()), runs, iters);
    printf("| message set | bytes | parser | ns/msg | MB/s | cio speed-up |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < N_SETS; i++) {
        if (only && !strchr(only, '0' + (int)i))
            continue;
        size_t len = strlen(sets[i].wire);
        double ns[3] = {0, 0, 0};
        for (int k = 0; k < 3; k++) {
            double lo, hi;
            if (!strchr(which, parsers[k].name[0]))
                continue;
            ns[k] = measure(parsers[k].r, &sets[i], iters, runs, &lo, &hi);
            printf("| %s | %zu | %s | %.1f (%.1f-%.1f) | %.0f | %.2fx |\n", sets[i].name, len, parsers[k].name, ns[k],
                   lo, hi, (double)len * 1e3 / ns[k], ns[0] > 0 ? ns[k] / ns[0] : 0.0);
        }
    }
    return sink == 42;
}
