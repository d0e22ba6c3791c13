/* bench_chunked.c: MB/s of chunked body decoding: cio_http_chunked_next (the body reader's, no copy),
 * cio_http_chunked_decode (in place) and llhttp's chunked parsing (strict), on the same bodies, one run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llhttp.h>

#include "cio/http.h"

static volatile size_t sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A response head and a chunked body of `total` data bytes in chunks of `chunk` (with an extension every 8th). */
static char *make(size_t total, size_t chunk, size_t *head_len, size_t *len)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t cap = total + total / chunk * 40 + 256;
    char *b = malloc(cap), *p = b;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    *head_len = sizeof head - 1;
    for (size_t done = 0, i = 0; done < total; i++) {
        size_t n = total - done < chunk ? total - done : chunk;
        p += sprintf(p, i % 8 == 7 ? "%zx;name=value\r\n" : "%zx\r\n", n);
        for (size_t k = 0; k < n; k++)
            p[k] = (char)('a' + (done + k) % 26);
        p += n;
        memcpy(p, "\r\n", 2);
        p += 2;
        done += n;
    }
    memcpy(p, "0\r\n\r\n", 5);
    p += 5;
    *len = (size_t)(p - b);
    return b;
}

static size_t run_next(const char *body, size_t len)
{
    cio_http_chunked d;
    cio_http_chunked_init(&d, NULL);
    size_t got = 0, off = 0;
    while (!cio_http_chunked_done(&d)) {
        const char *data;
        size_t dlen;
        ssize_t used = cio_http_chunked_next(&d, body + off, len - off, &data, &dlen);
        if (used <= 0)
            abort();
        off += (size_t)used;
        got += dlen;
    }
    return got;
}

static char *scratch;

static size_t run_decode(const char *body, size_t len)
{
    memcpy(scratch, body, len); /* in place: a fresh copy each time (its cost is measured apart) */
    cio_http_chunked d;
    cio_http_chunked_init(&d, NULL);
    size_t n = len;
    if (cio_http_chunked_decode(&d, scratch, &n) < 0)
        abort();
    return n;
}

static size_t run_copy(const char *body, size_t len)
{
    memcpy(scratch, body, len);
    return len;
}

static size_t ll_got;

static int ll_body(llhttp_t *p, const char *at, size_t len)
{
    (void)p, (void)at;
    ll_got += len;
    return 0;
}

static const char *ll_head;
static size_t ll_head_len;

static size_t run_llhttp(const char *body, size_t len)
{
    llhttp_settings_t st;
    llhttp_t p;
    llhttp_settings_init(&st);
    st.on_body = ll_body;
    llhttp_init(&p, HTTP_RESPONSE, &st);
    ll_got = 0;
    if (llhttp_execute(&p, ll_head, ll_head_len) != HPE_OK || llhttp_execute(&p, body, len) != HPE_OK)
        abort();
    return ll_got;
}

typedef size_t (*runner)(const char *, size_t);

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median MB/s of data decoded over `runs` runs of `iters` bodies. */
static double measure(runner r, const char *body, size_t len, size_t data, int iters, int runs)
{
    double t[16];
    sink += r(body, len);
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        for (int k = 0; k < iters; k++)
            sink += r(body, len);
        t[i] = now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp);
    return (double)data * iters / t[runs / 2] / 1e6;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    const size_t total = 8u << 20;
    const size_t chunks[] = {64, 1024, 16384};
    scratch = malloc(total * 2);
    printf("| chunk size | cio_http_chunked_next MB/s | chunked_decode (in place) MB/s | memcpy of the body MB/s | "
           "llhttp MB/s | next/llhttp |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        size_t head_len, len;
        char *msg = make(total, chunks[i], &head_len, &len);
        ll_head = msg;
        ll_head_len = head_len;
        const char *body = msg + head_len;
        len -= head_len;
        int iters = 8;
        double nx = measure(run_next, body, len, total, iters, runs);
        double dc = measure(run_decode, body, len, total, iters, runs);
        double cp = measure(run_copy, body, len, total, iters, runs);
        double ll = measure(run_llhttp, body, len, total, iters, runs);
        printf("| %zu B | %.0f | %.0f | %.0f | %.0f | %.2fx |\n", chunks[i], nx, dc, cp, ll, nx / ll);
        free(msg);
    }
    free(scratch);
    return 0;
}
