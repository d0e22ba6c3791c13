/* loadkit.h: what the in-tree load clients share (bench/echo, bench/tls): clocks, CPU readings from /proc, a
   latency histogram's percentiles, and the "metric=NAME value=X" lines bench/run.sh parses. Header-only, so
   each client stays one file built on its own (neither is built on cio). */
#ifndef CIO_BENCH_LOADKIT_H
#define CIO_BENCH_LOADKIT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static inline int64_t lk_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The server's utime+stime in seconds, or -1. */
static inline double lk_proc_cpu(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* This process's utime+stime in seconds. */
static inline double lk_self_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static inline void lk_metric(const char *name, double value)
{
    printf("metric=%s value=%.3f\n", name, value);
}

/* The latency (us) below which `q` of the `count` samples in `hist` (one bucket per microsecond, the last one
   holding everything from `max_us` up) fall. */
static inline double lk_percentile(const uint32_t *hist, int max_us, uint64_t count, double q)
{
    uint64_t target = (uint64_t)(q * (double)count), seen = 0;

    for (int i = 0; i <= max_us; i++) {
        seen += hist[i];
        if (seen > target)
            return i + 0.5;
    }
    return max_us;
}

#endif
