/* toolkit.h: what the tools share: their command lines' error message and the numbers and times they read. */
#ifndef CIO_TOOLKIT_H
#define CIO_TOOLKIT_H

#include <stdint.h>

/* "PROG: <message>" and "Try 'PROG --help' for more information." on stderr, as GNU tools say it; returns
   `status` (the tool's usage exit code). */
__attribute__((format(printf, 3, 4))) int tool_usage_error(const char *prog, int status, const char *fmt, ...);

/* A whole decimal number in [min, max], or -1 (which no caller's range holds). */
long long tool_parse_number(const char *s, long long min, long long max);

/* A duration, "10" or "10s", "250ms", "500us", "2m", "1h", "1.5s", in ns: more than 0 and at most a day, or -1. */
int64_t tool_parse_time(const char *s);

#endif
