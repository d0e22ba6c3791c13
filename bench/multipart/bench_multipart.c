/* bench_multipart.c: MB/s of the multipart parser on two bodies, whole and fed as a stream's reads would feed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cio/http.h"

#define BOUNDARY "------------------------86630704c1db58c6" /* curl's shape */

static volatile size_t sink; /* keeps the parser's results alive */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct body {
    char *p;
    size_t len, cap;
};

static void put(struct body *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void puts_(struct body *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Four files of 4 MiB of pseudo-random bytes (an LF about every 256 bytes, as in compressed data). */
static void large_files(struct body *b)
{
    uint32_t x = 2463534242u;
    char head[256];
    for (int f = 0; f < 4; f++) {
        snprintf(head, sizeof(head),
                 "%s--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file%d\"; filename=\"photo%d.jpg\"\r\n"
                 "Content-Type: image/jpeg\r\n\r\n",
                 f ? "\r\n" : "", f, f);
        puts_(b, head);
        for (size_t i = 0; i < (4u << 20); i += 4) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            put(b, &x, 4);
        }
    }
    puts_(b, "\r\n--" BOUNDARY "--\r\n");
}

/* 20000 text fields of 10-30 bytes each, as a big HTML form sends them. */
static void small_fields(struct body *b)
{
    char part[256];
    for (int i = 0; i < 20000; i++) {
        snprintf(part, sizeof(part),
                 "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"field_%d\"\r\n\r\nvalue number %d%s\r\n", i,
                 i * 7919, i % 3 ? "" : " with more text");
        puts_(b, part);
    }
    puts_(b, "--" BOUNDARY "--\r\n");
}

/* Parse `b` once, `feed` bytes arriving per read (0: all at once) into a buffer of 256 KiB, as a stream's. */
static size_t parse(const struct body *b, size_t feed, char *buf, size_t cap, size_t max_parts)
{
    cio_http_multipart m;
    cio_http_multipart_event ev;
    cio_http_header hs[8];
    cio_http_multipart_opts o = {.max_parts = max_parts};
    cio_http_head_init(&ev.head, hs, 8);
    if (cio_http_multipart_init(&m, (cio_http_str){BOUNDARY, sizeof(BOUNDARY) - 1}, &o) != 0)
        abort();
    const char *data = b->p;
    size_t start = 0, end = 0, in = 0, acc = 0;
    if (feed == 0) { /* the whole body in place: no copy at all */
        data = b->p, end = b->len, in = b->len;
    }
    for (;;) {
        int rc = cio_http_multipart_next(&m, &ev, (feed ? buf : b->p) + start, end - start, in == b->len);
        if (rc == CIO_HTTP_MP_END)
            return acc;
        if (rc == -EAGAIN) {
            start += ev.consumed;
            size_t kept = end - start, n = b->len - in < feed ? b->len - in : feed;
            if (kept + n > cap)
                abort();
            memmove(buf, buf + start, kept); /* the few bytes kept move to the front, as a stream compacts */
            memcpy(buf + kept, data + in, n);
            start = 0, end = kept + n, in += n;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "parse failed: %s\n", cio_err_name(rc));
            exit(1);
        }
        acc += rc == CIO_HTTP_MP_DATA ? ev.data.len : ev.head.num_headers;
        start += ev.consumed;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    double mb = argc > 2 ? atof(argv[2]) : 512;
    if (runs < 1 || runs > 31 || mb <= 0) {
        fprintf(stderr, "usage: %s [runs (1-31)] [megabytes per run]\n", argv[0]);
        return 2;
    }
    struct body bodies[2] = {{0}, {0}};
    large_files(&bodies[0]);
    small_fields(&bodies[1]);
    static const char *const names[] = {"4 files of 4 MiB", "20000 small fields"};
    static const size_t feeds[] = {0, 65536, 4096};
    size_t cap = 256 << 10;
    char *buf = malloc(cap);
    printf("%d runs of %.0f MB each, median (min-max)\n\n", runs, mb);
    printf("| body | bytes | feed | MB/s | parts/s |\n|---|---|---|---|---|\n");
    for (int i = 0; i < 2; i++) {
        const struct body *b = &bodies[i];
        size_t parts = i == 0 ? 4 : 20000;
        long iters = (long)(mb * 1e6 / (double)b->len) + 1;
        for (size_t f = 0; f < sizeof(feeds) / sizeof(feeds[0]); f++) {
            double t[32];
            sink += parse(b, feeds[f], buf, cap, parts);
            for (int r = 0; r < runs; r++) {
                double t0 = now();
                for (long k = 0; k < iters; k++)
                    sink += parse(b, feeds[f], buf, cap, parts);
                t[r] = (now() - t0) / (double)iters; /* ns per body */
            }
            qsort(t, (size_t)runs, sizeof(double), cmp_double);
            char feed[32];
            if (feeds[f])
                snprintf(feed, sizeof(feed), "%zu KiB reads", feeds[f] >> 10);
            else
                snprintf(feed, sizeof(feed), "whole, in place");
            printf("| %s | %zu | %s | %.0f (%.0f-%.0f) | %.0f |\n", names[i], b->len, feed,
                   (double)b->len * 1e3 / t[runs / 2], (double)b->len * 1e3 / t[runs - 1], (double)b->len * 1e3 / t[0],
                   (double)parts * 1e9 / t[runs / 2]);
        }
    }
    free(buf);
    free(bodies[0].p);
    free(bodies[1].p);
    return 0;
}
