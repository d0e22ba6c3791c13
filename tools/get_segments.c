/* get_segments.c: cio-get's segmented downloads (-x N). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "get.h"

/* ------------------------------------------------------------------------------------------------ segments */

/*
 * A segmented download (-x N): the file is cut into N ranges, each fetched by a task of its own over its own
 * connection and written with pwrite(2) at its place in NAME.part (made the file's size at once). Which bytes of
 * each range are in is kept in NAME.part.ctl, rewritten (a temporary file renamed over it) only after the bytes it
 * counts were written: a crash at any moment leaves a control file that claims nothing missing, so -c fetches
 * what is missing only.
 */
struct seg {
    int64_t start, end, done; /* bytes [start, end), of which the first `done` are in */
};

struct segs {
    struct run *run;
    struct job *j;
    struct attempt *a;
    int fd;
    int n;
    int64_t size;
    struct seg seg[MAX_SEGMENTS];
    char validator[512];
    int64_t unsaved, save_every;
};

struct seg_task {
    struct segs *ss;
    int k;
    cio_client_response *first; /* the response that sized the file, for segment 0 */
    int err;
    char errmsg[256];
    bool changed; /* a 200 to the range request: the file is not the one the .part holds */
};

static void ctl_path(const char *part, char *dst, size_t cap)
{
    pathf(dst, cap, "%s.ctl", part);
}

void ctl_remove(const char *part)
{
    char p[PATH_MAX + 16];
    ctl_path(part, p, sizeof p);
    unlink(p);
}

bool ctl_exists(const char *part)
{
    char p[PATH_MAX + 16];
    ctl_path(part, p, sizeof p);
    return exists(p);
}

static void ctl_save(struct segs *ss)
{
    char p[PATH_MAX + 16], tmp[PATH_MAX + 24];
    ctl_path(ss->a->part, p, sizeof p);
    pathf(tmp, sizeof tmp, "%s.tmp", p);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "cio-get segments %lld %d\n", (long long)ss->size, ss->n);
    for (int k = 0; k < ss->n; k++)
        fprintf(f, "%lld %lld %lld\n", (long long)ss->seg[k].start, (long long)ss->seg[k].end,
                (long long)ss->seg[k].done);
    if (fclose(f) == 0)
        rename(tmp, p);
    else
        unlink(tmp);
    ss->unsaved = 0;
}

/* Read the control file beside the .part; false when there is none or it does not make sense. */
static bool ctl_load(struct segs *ss)
{
    char p[PATH_MAX + 16];
    ctl_path(ss->a->part, p, sizeof p);
    FILE *f = fopen(p, "r");
    if (!f)
        return false;
    long long size;
    int n;
    bool ok = fscanf(f, "cio-get segments %lld %d", &size, &n) == 2 && size > 0 && n > 0 && n <= MAX_SEGMENTS;
    int64_t at = 0;
    for (int k = 0; ok && k < n; k++) {
        long long a, b, d;
        ok = fscanf(f, "%lld %lld %lld", &a, &b, &d) == 3 && a == at && b > a && b <= size && d >= 0 && d <= b - a;
        ss->seg[k] = (struct seg){a, b, d};
        at = b;
    }
    fclose(f);
    if (!ok || at != size)
        return false;
    ss->size = size;
    ss->n = n;
    return true;
}

static void seg_fail(struct seg_task *t, int err, const char *msg)
{
    t->err = err ? err : -EIO;
    pathf(t->errmsg, sizeof t->errmsg, "segment %d: %s", t->k, msg);
}

/* One attempt at the rest of segment `t->k`: 0 when it is whole, else an error (with t->err set). */
static int seg_attempt(struct seg_task *t, double *wait)
{
    struct segs *ss = t->ss;
    struct config *cfg = ss->run->cfg;
    struct seg *g = &ss->seg[t->k];
    cio_client_response *r = t->first;
    t->first = NULL;
    int rc;
    if (!r) {
        char range[96];
        snprintf(range, sizeof range, "bytes=%lld-%lld", (long long)(g->start + g->done), (long long)(g->end - 1));
        const char *hdrs[] = {"Range", range, ss->validator[0] ? "If-Range" : NULL, ss->validator, NULL};
        if ((rc = cio_client_request(ss->run->s, "GET", ss->j->url, &(cio_client_request_opts){.headers = hdrs}, &r)) <
            0) {
            seg_fail(t, rc, cio_strerror(rc));
            return rc;
        }
        int status = cio_client_response_status(r);
        const char *cr = cio_client_response_header(r, "Content-Range");
        long long first = -1;
        if (status != 206 || !cr || sscanf(cr, "bytes %lld-", &first) != 1 || first != g->start + g->done) {
            t->changed = status == 200;
            bool again = status >= 500 || status == 429;
            if (again)
                *wait = retry_after(r);
            char msg[128];
            snprintf(msg, sizeof msg, "HTTP %d to a range request (the file changed?)", status);
            seg_fail(t, again ? -EAGAIN : CIO_ECLIENT_STATUS, msg);
            cio_client_response_release(r);
            return t->err;
        }
    }
    const void *data;
    size_t len;
    rc = 0;
    while (g->done < g->end - g->start && (rc = cio_client_response_next(r, &data, &len)) > 0) {
        const char *p = data;
        size_t want = (size_t)(g->end - g->start - g->done);
        if (len > want)
            len = want;
        while (len) {
            ssize_t w = pwrite(ss->fd, p, len, (off_t)(g->start + g->done));
            if (w < 0) {
                rc = -errno;
                break;
            }
            p += w;
            len -= (size_t)w;
            g->done += w;
            ss->j->bytes += (uint64_t)w;
            ss->run->rate_bytes += (uint64_t)w;
            ss->unsaved += w;
        }
        if (rc < 0)
            break;
        if (ss->unsaved >= ss->save_every)
            ctl_save(ss);
        if (cfg->limit_rate > 0) {
            double late = ss->run->t0 + (double)ss->run->rate_bytes / cfg->limit_rate - now_s();
            if (late > 0 && (rc = cio_sleep((int64_t)(late * 1e9))) < 0)
                break;
        }
    }
    cio_client_response_release(r);
    if (g->done == g->end - g->start)
        return 0;
    if (rc == 0)
        rc = CIO_EHTTP_BODY_TRUNCATED;
    seg_fail(t, rc, cio_strerror(rc));
    return rc;
}

/* A segment's task: its attempts, with the download's retry rule. */
static int seg_run(void *arg)
{
    struct seg_task *t = arg;
    struct config *cfg = t->ss->run->cfg;
    for (long i = 0;; i++) {
        double w = -1;
        int rc = seg_attempt(t, &w);
        if (rc == 0) {
            t->err = 0;
            return 0;
        }
        if ((!transient(rc) && rc != -EAGAIN) || i >= cfg->retries)
            return 0;
        if (w < 0) {
            double cap = cfg->retry_wait * ldexp(1.0, (int)(i < 16 ? i : 16));
            w = (cap > 60 ? 60 : cap) * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
        }
        if (cio_sleep((int64_t)(w * 1e9)) < 0)
            return 0;
    }
}

/*
 * Fetch the segments of `ss` still missing, segment 0 over `first` when given (the response that sized the file),
 * the others in tasks of their own; then finish the file. Returns an ATTEMPT_ result.
 */
static int seg_download(struct segs *ss, cio_client_response *first)
{
    struct job *j = ss->j;
    struct seg_task t[MAX_SEGMENTS] = {0};
    cio_task *tasks[MAX_SEGMENTS] = {0};
    int64_t smallest = INT64_MAX;
    j->bytes = 0;
    for (int k = 0; k < ss->n; k++) {
        t[k] = (struct seg_task){.ss = ss, .k = k};
        j->bytes += (uint64_t)ss->seg[k].done;
        if (ss->seg[k].end - ss->seg[k].start < smallest)
            smallest = ss->seg[k].end - ss->seg[k].start;
    }
    ss->save_every = smallest / 8 < (1 << 20) ? (smallest / 8 > 0 ? smallest / 8 : 1) : (1 << 20);
    j->total = ss->size;
    t[0].first = first;
    int rc = 0;
    for (int k = 1; k < ss->n && rc == 0; k++)
        if (ss->seg[k].done < ss->seg[k].end - ss->seg[k].start)
            rc = cio_spawn(&tasks[k], seg_run, &t[k], NULL);
    if (ss->seg[0].done < ss->seg[0].end - ss->seg[0].start || t[0].first)
        seg_run(&t[0]);
    for (int k = 1; k < ss->n; k++)
        if (tasks[k])
            cio_join(tasks[k]);
    if (t[0].first)
        cio_client_response_release(t[0].first);
    ctl_save(ss);
    close(ss->fd);
    ss->fd = -1;
    if (rc < 0)
        return set_error(j, rc, "%s", cio_strerror(rc));
    for (int k = 0; k < ss->n; k++)
        if (t[k].changed) {
            /* the server has another file now (If-Range did not match): start again from nothing */
            unlink(ss->a->part);
            ctl_remove(ss->a->part);
            meta_remove(ss->a->part);
            set_error(j, CIO_ECLIENT_STATUS, "the file changed on the server; starting again");
            return ATTEMPT_RETRY;
        }
    for (int k = 0; k < ss->n; k++)
        if (t[k].err)
            return set_error(j, t[k].err, "%s (kept %s; -c continues it)", t[k].errmsg, ss->a->part);
    return finish(ss->run, j, ss->a);
}

/* -c on a .part with a control file: the missing ranges. */
int seg_resume(struct run *run, struct job *j, struct attempt *a)
{
    struct segs ss = {.run = run, .j = j, .a = a, .fd = -1};
    if (!ctl_load(&ss) || file_size(a->part) != ss.size) {
        /* nothing to trust: start again */
        unlink(a->part);
        ctl_remove(a->part);
        meta_remove(a->part);
        return ATTEMPT_RETRY;
    }
    meta_read(a->part, ss.validator, sizeof ss.validator);
    j->status = 206;
    if ((ss.fd = open(a->part, O_WRONLY | O_CLOEXEC)) < 0)
        return set_error(j, -errno, "%s: %s", a->part, strerror(errno));
    return seg_download(&ss, NULL);
}

/* A 206 to "Range: bytes=0-" of `size` bytes: cut it into segments, segment 0 on `r` (taken). */
int seg_start(struct run *run, struct job *j, struct attempt *a, cio_client_response *r, int64_t size,
              const char *validator)
{
    struct segs ss = {.run = run, .j = j, .a = a, .fd = -1, .size = size, .n = (int)run->cfg->segments};
    pathf(ss.validator, sizeof ss.validator, "%s", validator ? validator : "");
    for (int k = 0; k < ss.n; k++)
        ss.seg[k] = (struct seg){size * k / ss.n, size * (k + 1) / ss.n, 0};
    if ((ss.fd = open(a->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 || ftruncate(ss.fd, size) < 0) {
        int err = errno;
        if (ss.fd >= 0)
            close(ss.fd);
        cio_client_response_release(r);
        return set_error(j, -err, "%s: %s", a->part, strerror(err));
    }
    ctl_save(&ss);
    return seg_download(&ss, r);
}
