/* toolkit.c: what the tools share (see toolkit.h). */
#include "toolkit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_usage_error(const char *prog, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
    va_end(ap);
    return status;
}

long long tool_parse_number(const char *s, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    return v;
}

int64_t tool_parse_time(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0))
        return -1;
    double unit = 1e9;
    if (!strcmp(end, "ms"))
        unit = 1e6;
    else if (!strcmp(end, "us"))
        unit = 1e3;
    else if (!strcmp(end, "m"))
        unit = 60e9;
    else if (!strcmp(end, "h"))
        unit = 3600e9;
    else if (*end && strcmp(end, "s"))
        return -1;
    double ns = v * unit;
    return ns >= 1 && ns <= 86400e9 ? (int64_t)ns : -1;
}
