/* bench.h: helpers shared by the runtime benchmarks: clock, /proc/self/status readings, arguments, output. */
#ifndef CIO_BENCH_RUNTIME_H
#define CIO_BENCH_RUNTIME_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cio/error.h"

/* Wall time in ns of CLOCK_MONOTONIC (read directly: cio_now is the loop's cached clock). */
static inline int64_t bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1. */
static inline long bench_status_kib(const char *key)
{
    char line[256];
    size_t klen = strlen(key);
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kib = strtol(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* The iteration count: argv[1] if given, else `def`. */
static inline long bench_arg_n(int argc, char **argv, long def)
{
    long n;

    if (argc < 2)
        return def;
    n = strtol(argv[1], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[1]);
        exit(2);
    }
    return n;
}

/* One machine-readable line per metric, the format every runtime benchmark and peer prints. */
static inline void bench_metric(const char *name, double value)
{
    printf("metric=%s value=%.3f\n", name, value);
    fflush(stdout);
}

/* Report a failed cio call and exit. */
static inline void bench_fail(const char *what, int rc)
{
    fprintf(stderr, "bench: %s failed: %s (%d)\n", what, cio_err_name(rc), rc);
    exit(1);
}

#endif
