/* get.h: what cio-get's files share: its configuration, a download's state, and the functions of get_files.c
 * (names, .part sidecars, checksums) and get_segments.c (segmented downloads) the main file calls. */
#ifndef CIO_GET_H
#define CIO_GET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cio.h"

struct config {
    const char *dir, *output, *cafile, *sha256;
    bool clobber, resume, insecure, json, quiet;
    long jobs, per_host, retries, max_redirects;
    double retry_wait, timeout, connect_timeout;
    double limit_rate; /* bytes a second for all downloads together; 0: none */
    long segments;     /* -x: connections for one file */
};

struct job {
    const char *url;
    char *path; /* PATH_MAX bytes while the download runs and is reported, then NULL */
    uint64_t bytes;
    int status;
    int error;
    char errmsg[256];
    char sha[65];
    double seconds;
    /* for the progress display */
    bool active;
    bool named;    /* `path` is this job's: no other download of the run may take it */
    int64_t total; /* the file's whole size once known, else -1 */
    double started;
};

struct run {
    struct config *cfg;
    cio_client_session *s;
    struct job *jobs;
    size_t njobs, next;
    size_t ok, failed;
    /* the progress display, on a TTY */
    bool tty;
    size_t workers; /* still running */
    int drawn;      /* lines of progress on the screen now */
    uint64_t done_bytes;
    double t0;
    uint64_t rate_bytes; /* every body byte of the run, for --limit-rate */
};

/* What an attempt tells the retry loop. */
enum { ATTEMPT_DONE, ATTEMPT_RETRY, ATTEMPT_FAIL };

struct attempt {
    char part[PATH_MAX + 8];
    bool have_part; /* the part path is settled (resuming, or -o) */
    double wait;    /* set by a 429/503 with Retry-After */
};

/* get_files.c */
double now_s(void);
/* snprintf for paths and names: whether it all fit (a path that does not is refused, never cut). */
bool pathf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The URL's last path segment, percent-decoded and sanitised. */
void name_from_url(const char *url, char *dst, size_t cap);
/* The name in a Content-Disposition value (filename*, then filename), sanitised; false when there is none. */
bool name_from_disposition(const char *cd, char *dst, size_t cap);
bool exists(const char *path);
/* A regular file's size, or -1. */
int64_t file_size(const char *path);
/* NAME.part.meta: the validator (ETag or Last-Modified) If-Range sends; written atomically. */
void meta_read(const char *part, char *dst, size_t cap);
void meta_write(const char *part, const char *validator);
void meta_remove(const char *part);
/* SHA-256 of a file as 64 hex digits. Returns 0 or -errno. */
int sha256_file(const char *path, char hex[65]);

/* cio-get.c */
/* Record the download's error; returns ATTEMPT_FAIL. */
int set_error(struct job *j, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether an error is worth another attempt. */
bool transient(int err);
/* Retry-After in seconds, or -1. */
double retry_after(cio_client_response *r);
/* Check and rename a whole .part; an ATTEMPT_ result. */
int finish(struct run *run, struct job *j, struct attempt *a);

/* get_segments.c */
#define MAX_SEGMENTS 16
/* NAME.part.ctl, the segments' control file. */
void ctl_remove(const char *part);
bool ctl_exists(const char *part);
/* -c on a .part with a control file: fetch what it lacks. An ATTEMPT_ result. */
int seg_resume(struct run *run, struct job *j, struct attempt *a);
/* A 206 of `size` bytes to "Range: bytes=0-": cut the file into segments, the first over `r` (taken). */
int seg_start(struct run *run, struct job *j, struct attempt *a, cio_client_response *r, int64_t size,
              const char *validator);

#endif
