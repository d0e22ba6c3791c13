/*
 * cio-get: download URLs concurrently over one HTTP client session, resuming .part files, retrying with backoff,
 * checking SHA-256, as wget and `curl -Z` do.
 *
 *     cio-get [OPTIONS] URL... [-i FILE]
 *
 * Built on cio's public headers only, like any program of a cio user. Run `cio-get --help` for the options.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cio.h"
#include "get.h"
#include "toolkit.h"

#ifndef CIO_TOOLS_VERSION
#define CIO_TOOLS_VERSION "0"
#endif

/* Exit codes, as --help lists them. */
enum { EXIT_GET_OK = 0, EXIT_GET_SOME = 1, EXIT_GET_USAGE = 2, EXIT_GET_ALL = 3 };

static const char usage_text[] =
    "Usage: cio-get [OPTIONS] URL...\n"
    "Download each URL into a file, many at once over one connection pool.\n"
    "\n"
    "  -i, --input FILE        read URLs from FILE, one a line (\"-\": stdin; blank lines and # comments skipped)\n"
    "  -d, --dir DIR           write the files into DIR (default: the current directory)\n"
    "  -o, --output FILE       write the one URL given to FILE (a path, not sanitised)\n"
    "      --clobber           replace files that exist (default: refuse, an error for that URL)\n"
    "  -c, --continue          continue a NAME.part left by an earlier run (Range, with If-Range from\n"
    "                          NAME.part.meta); a server that ignores the range restarts the file\n"
    "  -j, --jobs N            N downloads at once (default 16)\n"
    "      --limit-per-host N  at most N connections to one host (default: no limit but -j)\n"
    "  -x, --segments N        fetch each file over N connections at once (1 to 16), ranges written in place;\n"
    "                          NAME.part.ctl says which are in, so -c after a crash fetches only the rest;\n"
    "                          one stream when the server does not do ranges\n"
    "      --limit-rate RATE   at most RATE bytes a second for all downloads together (suffixes k, M, G:\n"
    "                          1024, 1024^2, 1024^3)\n"
    "      --retries N         retry a download N times (default 5) after a connection error, a timeout,\n"
    "                          a 5xx or a 429, waiting as Retry-After says or with exponential backoff\n"
    "      --retry-wait SEC    the first backoff, doubled each time, with jitter (default 1; may be 0.01)\n"
    "      --timeout SEC       each whole download attempt (default 0: none)\n"
    "      --connect-timeout SEC  getting a connection (default 30)\n"
    "      --max-redirects N   follow at most N redirects (default 10; 0: none)\n"
    "      --cafile FILE       verify HTTPS servers against the CA certificates in FILE (PEM)\n"
    "  -k, --insecure          do not verify HTTPS servers\n"
    "      --sha256 HEX        check the file's SHA-256 (one URL): a mismatch is an error, the file stays .part\n"
    "      --json              one JSON object per file on stdout: url, path, bytes, status, seconds, sha256,\n"
    "                          error\n"
    "  -q, --quiet             no log lines on stderr (errors still go there)\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Names come from Content-Disposition (filename* or filename) or the URL's last path segment, sanitised: no\n"
    "\"/\", \"\\\", control bytes, no leading \".\", never \".\" or \"..\"; an empty name is index.html. Data is\n"
    "written to NAME.part, renamed to NAME once complete (and checked).\n"
    "\n"
    "Exit status: 0 every download done, 1 some failed, 2 a usage error, 3 every download failed.\n";

/* The usage error's message, and its exit code. */
#define usage_error(...) tool_usage_error("cio-get", EXIT_GET_USAGE, __VA_ARGS__)

static double parse_seconds(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e6)
        return -1;
    return v;
}

/* "100k", "2M", "512": bytes a second, or -1. */
static double parse_rate(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0))
        return -1;
    if (*end == 'k' || *end == 'K')
        v *= 1024, end++;
    else if (*end == 'M')
        v *= 1024 * 1024, end++;
    else if (*end == 'G')
        v *= 1024.0 * 1024 * 1024, end++;
    return *end ? -1 : v;
}

/* ------------------------------------------------------------------------------------------------ downloads */

int set_error(struct job *j, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof j->errmsg, fmt, ap);
    va_end(ap);
    j->error = err ? err : -EIO;
    return ATTEMPT_FAIL;
}

/* Whether an error is worth another attempt: the connection's, the timeouts, a body cut short. */
bool transient(int err)
{
    return cio_is_timeout(err) || err == -ECONNREFUSED || err == -ECONNRESET || err == -EPIPE ||
           err == CIO_ECLIENT_DISCONNECTED || err == CIO_EHTTP_BODY_TRUNCATED || err == -ETIMEDOUT ||
           err == -EHOSTUNREACH || err == -ENETUNREACH;
}

/* The Retry-After of `r` in seconds (delta-seconds or an HTTP date), or -1. */
double retry_after(cio_client_response *r)
{
    const char *v = cio_client_response_header(r, "Retry-After");
    if (!v)
        return -1;
    long long n = tool_parse_number(v, 0, 86400);
    if (n >= 0)
        return (double)n;
    int64_t t;
    if (cio_http_date_parse((cio_http_str){v, strlen(v)}, &t) == 0) {
        double d = (double)(t - (int64_t)time(NULL));
        return d < 0 ? 0 : d > 86400 ? 86400 : d;
    }
    return -1;
}

/* Move the finished .part to its name: without --clobber through link(2), which never replaces a file. */
int finish(struct run *run, struct job *j, struct attempt *a)
{
    if (run->cfg->sha256) {
        char hex[65];
        int rc = sha256_file(a->part, hex);
        if (rc < 0)
            return set_error(j, rc, "%s: %s", a->part, strerror(-rc));
        pathf(j->sha, sizeof j->sha, "%s", hex);
        if (strcasecmp(hex, run->cfg->sha256) != 0)
            return set_error(j, -EBADMSG, "SHA-256 mismatch: got %s, kept %s", hex, a->part);
    } else if (run->cfg->json) {
        sha256_file(a->part, j->sha);
    }
    if (run->cfg->clobber) {
        if (rename(a->part, j->path) < 0)
            return set_error(j, -errno, "%s: %s", j->path, strerror(errno));
    } else {
        if (link(a->part, j->path) < 0)
            return set_error(j, -errno, "%s: %s%s", j->path, strerror(errno),
                             errno == EEXIST ? " (use --clobber to replace it)" : "");
        unlink(a->part);
    }
    meta_remove(a->part);
    ctl_remove(a->part);
    return ATTEMPT_DONE;
}

/* Whether another download of this run still running has the path `j` just took (two URLs with one name). */
static bool name_taken(const struct run *run, const struct job *j)
{
    for (size_t i = 0; i < run->njobs; i++) {
        const struct job *o = &run->jobs[i];
        if (o != j && o->active && o->named && o->path && !strcmp(o->path, j->path))
            return true;
    }
    return false;
}

/* An attempt goes on: what on_head, take_name and write_body return when they found nothing to stop for. */
#define ATTEMPT_GO (-1)

/* The status and the range of the head just in: ATTEMPT_GO with `*append` (a 206 continuing the .part), or how
   the attempt ends. */
static int on_head(struct run *run, struct job *j, struct attempt *a, cio_client_response *r, int64_t have,
                   bool *append)
{
    int status = cio_client_response_status(r);
    j->status = status;
    if (status == 416 && have > 0) {
        /* the .part is complete already, unless the 416 names another size: then it starts again */
        const char *cr = cio_client_response_header(r, "Content-Range");
        long long size = -1;
        if (cr && sscanf(cr, "bytes */%lld", &size) == 1 && size != have) {
            unlink(a->part);
            meta_remove(a->part);
            set_error(j, CIO_ECLIENT_STATUS, "HTTP 416: the .part is longer than the file (%lld bytes)", size);
            a->wait = 0;
            return ATTEMPT_RETRY;
        }
        j->bytes = (uint64_t)have;
        return finish(run, j, a);
    }
    if (status >= 500 || status == 429) {
        a->wait = retry_after(r);
        set_error(j, CIO_ECLIENT_STATUS, "HTTP %d %s", status, cio_client_response_reason(r));
        return ATTEMPT_RETRY;
    }
    if (status != 200 && status != 206)
        return set_error(j, CIO_ECLIENT_STATUS, "HTTP %d %s", status, cio_client_response_reason(r));
    *append = false;
    if (status == 206) {
        const char *cr = cio_client_response_header(r, "Content-Range");
        long long first = -1;
        if (!cr || sscanf(cr, "bytes %lld-", &first) != 1 || first != (have > 0 ? have : 0))
            return set_error(j, CIO_EHTTP_BAD_RANGE, "a 206 for another range (%s)", cr ? cr : "none");
        *append = have > 0;
    }
    return ATTEMPT_GO;
}

/* The file's name, once the head is in: Content-Disposition's, else the URL's. ATTEMPT_GO, or the error. */
static int take_name(struct run *run, struct job *j, struct attempt *a, cio_client_response *r)
{
    struct config *cfg = run->cfg;
    char name[512];
    if (!name_from_disposition(cio_client_response_header(r, "Content-Disposition"), name, sizeof name))
        name_from_url(j->url, name, sizeof name); /* the URL asked for, as -c finds it */
    if (!pathf(j->path, PATH_MAX, "%s/%s", cfg->dir, name) || !pathf(a->part, sizeof a->part, "%s.part", j->path))
        return set_error(j, -ENAMETOOLONG, "%s/%s: %s", cfg->dir, name, strerror(ENAMETOOLONG));
    a->have_part = true;
    if (name_taken(run, j))
        return set_error(j, -EEXIST, "%s: another download of this run writes it", j->path);
    j->named = true;
    if (!cfg->clobber && exists(j->path))
        return set_error(j, -EEXIST, "%s: %s (use --clobber to replace it)", j->path, strerror(EEXIST));
    return ATTEMPT_GO;
}

/* The body into `fd`, at the --limit-rate schedule. ATTEMPT_GO at its end, or how the attempt ends. */
static int write_body(struct run *run, struct job *j, struct attempt *a, cio_client_response *r, int fd)
{
    struct config *cfg = run->cfg;
    const void *data;
    size_t len;
    int rc;
    while ((rc = cio_client_response_next(r, &data, &len)) > 0) {
        const char *p = data;
        while (len) {
            ssize_t w = write(fd, p, len);
            if (w < 0)
                return set_error(j, -errno, "%s: %s", a->part, strerror(errno));
            p += w;
            len -= (size_t)w;
            j->bytes += (uint64_t)w;
            run->rate_bytes += (uint64_t)w;
        }
        if (cfg->limit_rate > 0) {
            /* all downloads share one schedule: byte n is due n / rate seconds after the start */
            double late = run->t0 + (double)run->rate_bytes / cfg->limit_rate - now_s();
            if (late > 0 && (rc = cio_sleep((int64_t)(late * 1e9))) < 0)
                return set_error(j, rc, "%s", cio_strerror(rc));
        }
    }
    if (rc < 0) {
        set_error(j, rc, "%s", cio_strerror(rc));
        return transient(rc) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
    }
    return ATTEMPT_GO;
}

/* The request's Range and If-Range for a .part of `have` bytes (or the probe of -x), into `hdrs`. */
static void range_headers(const struct config *cfg, const struct attempt *a, int64_t have, const char **hdrs,
                          char *range, size_t rcap, char *validator, size_t vcap)
{
    size_t nh = 0;
    if (have <= 0 && cfg->segments > 1) {
        /* the answer says whether the server does ranges, and the size */
        hdrs[nh++] = "Range";
        hdrs[nh++] = "bytes=0-";
    }
    if (have > 0) {
        snprintf(range, rcap, "bytes=%lld-", (long long)have);
        hdrs[nh++] = "Range";
        hdrs[nh++] = range;
        meta_read(a->part, validator, vcap);
        if (*validator) {
            hdrs[nh++] = "If-Range";
            hdrs[nh++] = validator;
        }
    }
    hdrs[nh] = NULL;
}

/* One request and its body. */
static int attempt_body(struct run *run, struct job *j, struct attempt *a, int64_t have)
{
    struct config *cfg = run->cfg;
    char range[64], validator[512] = "";
    const char *hdrs[8];
    range_headers(cfg, a, have, hdrs, range, sizeof range, validator, sizeof validator);
    cio_client_response *r = NULL;
    int rc = cio_client_request(run->s, "GET", j->url, &(cio_client_request_opts){.headers = hdrs}, &r);
    if (rc < 0) {
        set_error(j, rc, "%s", cio_strerror(rc));
        return transient(rc) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
    }
    bool append = false;
    int result = on_head(run, j, a, r, have, &append);
    if (result == ATTEMPT_GO && !a->have_part)
        result = take_name(run, j, a, r);
    if (result != ATTEMPT_GO) {
        cio_client_response_release(r);
        return result;
    }
    const char *etag = cio_client_response_header(r, "ETag");
    const char *lm = cio_client_response_header(r, "Last-Modified");
    /* a weak ETag cannot be used in If-Range */
    const char *v = etag && strncmp(etag, "W/", 2) ? etag : lm;
    if (!append)
        meta_write(a->part, v);
    long long first_b, last_b, size_b;
    const char *crange = j->status == 206 ? cio_client_response_header(r, "Content-Range") : NULL;
    if (!append && crange && cfg->segments > 1 &&
        sscanf(crange, "bytes %lld-%lld/%lld", &first_b, &last_b, &size_b) == 3 && first_b == 0 &&
        last_b == size_b - 1 && size_b >= cfg->segments * 4096)
        return seg_start(run, j, a, r, size_b, v);
    int fd = open(a->part, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) {
        cio_client_response_release(r);
        return set_error(j, -errno, "%s: %s", a->part, strerror(errno));
    }
    j->bytes = append ? (uint64_t)have : 0;
    int64_t cl = cio_client_response_content_length(r);
    j->total = cl < 0 ? -1 : cl + (append ? have : 0);
    result = write_body(run, j, a, r, fd);
    close(fd);
    cio_client_response_release(r);
    return result == ATTEMPT_GO ? finish(run, j, a) : result;
}

/* One attempt: a segmented resume, or one request within --timeout. */
static int attempt_once(struct run *run, struct job *j, struct attempt *a)
{
    struct config *cfg = run->cfg;
    if (a->have_part && ctl_exists(a->part))
        return seg_resume(run, j, a);
    int64_t have = a->have_part ? file_size(a->part) : -1;
    cio_scope sc;
    if (cfg->timeout > 0)
        cio_timeout_begin(&sc, (int64_t)(cfg->timeout * 1e9));
    int result = attempt_body(run, j, a, have);
    if (cfg->timeout > 0 && cio_scope_end(&sc) == -ETIMEDOUT && result != ATTEMPT_DONE) {
        result = ATTEMPT_RETRY;
        set_error(j, -ETIMEDOUT, "timed out");
    }
    return result;
}

static void download(struct run *run, struct job *j)
{
    struct config *cfg = run->cfg;
    struct attempt a = {0};
    double t0 = now_s();
    if (cfg->output) {
        a.have_part = true;
        if (!pathf(j->path, PATH_MAX, "%s", cfg->output) || !pathf(a.part, sizeof a.part, "%s.part", j->path)) {
            set_error(j, -ENAMETOOLONG, "%s: %s", cfg->output, strerror(ENAMETOOLONG));
            goto out;
        }
    } else if (cfg->resume) {
        /* a .part of the URL's name is what an earlier run would have left */
        char name[512];
        name_from_url(j->url, name, sizeof name);
        if (!pathf(j->path, PATH_MAX, "%s/%s", cfg->dir, name) || !pathf(a.part, sizeof a.part, "%s.part", j->path)) {
            set_error(j, -ENAMETOOLONG, "%s/%s: %s", cfg->dir, name, strerror(ENAMETOOLONG));
            goto out;
        }
        if (name_taken(run, j)) {
            set_error(j, -EEXIST, "%s: another download of this run writes it", j->path);
            goto out;
        }
        j->named = true;
        a.have_part = exists(a.part);
    }
    if (a.have_part && !cfg->clobber && exists(j->path)) {
        set_error(j, -EEXIST, "%s: %s (use --clobber to replace it)", j->path, strerror(EEXIST));
        goto out;
    }
    if (a.have_part && !cfg->resume) {
        unlink(a.part);
        ctl_remove(a.part);
    } /* without -c a .part starts again */
    for (long i = 0;; i++) {
        j->error = 0;
        j->errmsg[0] = 0;
        a.wait = -1;
        int res = attempt_once(run, j, &a);
        if (res == ATTEMPT_DONE) {
            j->error = 0;
            break;
        }
        if (res == ATTEMPT_FAIL || i >= cfg->retries)
            break;
        double w = a.wait;
        if (w < 0) {
            /* full jitter on an exponential backoff, capped at a minute */
            double cap = cfg->retry_wait * ldexp(1.0, (int)(i < 16 ? i : 16));
            if (cap > 60)
                cap = 60;
            w = cap / 2 + cap / 2 * ((double)rand() / RAND_MAX);
        }
        if (cio_sleep((int64_t)(w * 1e9)) < 0)
            break;
        /* the next attempt continues the .part this one wrote (a.have_part is set once it has a name) */
    }
out:
    j->seconds = now_s() - t0;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void progress_erase(struct run *run);

static void report(struct run *run, struct job *j)
{
    if (j->error)
        run->failed++;
    else
        run->ok++;
    if (run->cfg->json) {
        printf("{\"url\":");
        json_string(j->url);
        printf(",\"path\":");
        json_string(j->path);
        printf(",\"bytes\":%llu,\"status\":%d,\"seconds\":%.3f,\"sha256\":", (unsigned long long)j->bytes, j->status,
               j->seconds);
        if (j->sha[0])
            json_string(j->sha);
        else
            printf("null");
        printf(",\"error\":");
        if (j->error)
            json_string(j->errmsg);
        else
            printf("null");
        printf("}\n");
        fflush(stdout);
    }
    if (run->tty)
        progress_erase(run);
    if (j->error)
        fprintf(stderr, "cio-get: %s: %s\n", j->url, j->errmsg);
    else if (!run->cfg->quiet)
        fprintf(stderr, "cio-get: %s -> %s (%llu bytes, %.2f s)\n", j->url, j->path, (unsigned long long)j->bytes,
                j->seconds);
}

static int worker(void *arg)
{
    struct run *run = arg;
    while (run->next < run->njobs) {
        struct job *j = &run->jobs[run->next++];
        /* the path is held while the download runs (10,000 URLs do not keep 10,000 of them) */
        if (!(j->path = calloc(1, PATH_MAX)))
            abort();
        j->active = true;
        j->total = -1;
        j->started = now_s();
        download(run, j);
        j->active = false;
        run->done_bytes += j->bytes;
        report(run, j);
        free(j->path);
        j->path = NULL;
    }
    run->workers--;
    return 0;
}

/* "12.3 MiB" */
static const char *human(double v, char *buf, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* Take the progress lines off the screen: up to the first one, then clear to the end of the screen. */
static void progress_erase(struct run *run)
{
    if (run->drawn > 0)
        fprintf(stderr, "\033[%dA\r\033[J", run->drawn);
    else if (run->drawn == 0)
        fprintf(stderr, "\r\033[J");
    run->drawn = 0;
}

/* One line per active download (name, percent, bytes, rate, ETA), then the total. */
static void progress_draw(struct run *run, bool final)
{
    progress_erase(run);
    double now = now_s();
    uint64_t active_bytes = 0;
    char b1[32], b2[32], b3[32];
    int lines = 0;
    for (size_t i = 0; i < run->njobs && !final; i++) {
        struct job *j = &run->jobs[i];
        if (!j->active)
            continue;
        active_bytes += j->bytes;
        if (lines >= 20)
            continue; /* the total line still counts them */
        const char *name = j->path[0] ? strrchr(j->path, '/') : NULL;
        name = name ? name + 1 : j->path[0] ? j->path : j->url;
        double dt = now - j->started, rate = dt > 0 ? (double)j->bytes / dt : 0;
        if (j->total > 0) {
            double left = rate > 0 ? (double)((uint64_t)j->total - j->bytes) / rate : 0;
            fprintf(stderr, "%-40.40s %3d%% %10s/%-10s %10s/s ETA %4.0fs\033[K\n", name,
                    (int)((double)j->bytes * 100 / (double)j->total), human((double)j->bytes, b1, sizeof b1),
                    human((double)j->total, b2, sizeof b2), human(rate, b3, sizeof b3), left);
        } else {
            fprintf(stderr, "%-40.40s   ?%% %10s            %10s/s\033[K\n", name,
                    human((double)j->bytes, b1, sizeof b1), human(rate, b3, sizeof b3));
        }
        lines++;
    }
    double dt = now - run->t0, all = (double)(run->done_bytes + active_bytes);
    fprintf(stderr, "%s%zu/%zu files, %zu failed, %s, %s/s, %.1f s\033[K\n",
            final ? "done: " : "total: ", run->ok + run->failed, run->njobs, run->failed, human(all, b1, sizeof b1),
            human(dt > 0 ? all / dt : 0, b2, sizeof b2), dt);
    run->drawn = final ? -1 : lines + 1;
    fflush(stderr);
}

/* Redraw at most 10 times a second while downloads run, then leave the final total. */
static int progress(void *arg)
{
    struct run *run = arg;
    while (run->workers > 0) {
        progress_draw(run, false);
        if (cio_sleep(CIO_SEC(1) / 10) < 0)
            break;
    }
    progress_draw(run, true);
    return 0;
}

static int get_all(void *arg)
{
    struct run *run = arg;
    struct config *cfg = run->cfg;
    cio_tls_opts to = {.ca_file = cfg->cafile, .insecure_skip_verify = cfg->insecure};
    cio_client_session_opts so = {
        .limit = (size_t)(cfg->jobs * cfg->segments), /* each download may hold -x connections */
        .limit_per_host = (size_t)cfg->per_host,
        .max_redirects = cfg->max_redirects ? (int)cfg->max_redirects : -1,
        .no_decompress = true,
        .max_size = UINT64_MAX,
        .tls_opts = (cfg->cafile || cfg->insecure) ? &to : NULL,
        .timeout = {.connect = (int64_t)(cfg->connect_timeout * 1e9), .total = CIO_INFINITE},
    };
    int rc = cio_client_session_new(&run->s, &so);
    if (rc < 0) {
        fprintf(stderr, "cio-get: %s\n", cio_strerror(rc));
        return rc;
    }
    cio_group *g;
    if ((rc = cio_group_open(&g)) == 0) {
        size_t n = (size_t)cfg->jobs < run->njobs ? (size_t)cfg->jobs : run->njobs;
        run->t0 = now_s();
        for (size_t i = 0; i < n; i++) {
            if ((rc = cio_group_spawn(g, NULL, worker, run, NULL)) < 0)
                break;
            run->workers++;
        }
        if (rc == 0 && run->tty)
            rc = cio_group_spawn(g, NULL, progress, run, NULL);
        int crc = cio_group_close(g);
        if (rc == 0)
            rc = crc;
    }
    cio_client_session_close(run->s);
    return rc;
}

/* Append the URLs of `path` ("-": stdin) to the list. */
static int read_input(const char *path, char ***urls, size_t *n, size_t *cap)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "cio-get: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t l = strcspn(s, "\r\n");
        while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
            l--;
        s[l] = 0;
        if (!*s || *s == '#')
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            char **nu = realloc(*urls, *cap * sizeof **urls);
            if (!nu)
                abort();
            *urls = nu;
        }
        (*urls)[(*n)++] = strdup(s);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return 0;
}

/* Download every URL; the exit code. */
static int get_urls(struct config *cfg, char **urls, size_t nurls)
{
    srand((unsigned)(time(NULL) ^ getpid()));
    struct run run = {.cfg = cfg, .njobs = nurls, .tty = isatty(2) && !cfg->quiet};
    run.jobs = calloc(nurls, sizeof *run.jobs);
    if (!run.jobs)
        abort();
    for (size_t i = 0; i < nurls; i++)
        run.jobs[i].url = urls[i];
    int rc = cio_run(get_all, &run);
    free(run.jobs);
    if (rc < 0 && run.ok == 0)
        return EXIT_GET_ALL;
    return run.failed == 0 ? EXIT_GET_OK : run.ok == 0 ? EXIT_GET_ALL : EXIT_GET_SOME;
}

int main(int argc, char **argv)
{
    struct config cfg = {.dir = ".",
                         .segments = 1,
                         .jobs = 16,
                         .retries = 5,
                         .max_redirects = 10,
                         .retry_wait = 1,
                         .connect_timeout = 30};
    enum {
        O_CLOBBER = 256,
        O_PER_HOST,
        O_RETRIES,
        O_RETRY_WAIT,
        O_TIMEOUT,
        O_CONNECT_TIMEOUT,
        O_MAX_REDIRECTS,
        O_CAFILE,
        O_SHA256,
        O_JSON,
        O_LIMIT_RATE,
    };
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},
        {"dir", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'},
        {"clobber", no_argument, NULL, O_CLOBBER},
        {"continue", no_argument, NULL, 'c'},
        {"jobs", required_argument, NULL, 'j'},
        {"limit-per-host", required_argument, NULL, O_PER_HOST},
        {"retries", required_argument, NULL, O_RETRIES},
        {"retry-wait", required_argument, NULL, O_RETRY_WAIT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
        {"max-redirects", required_argument, NULL, O_MAX_REDIRECTS},
        {"cafile", required_argument, NULL, O_CAFILE},
        {"insecure", no_argument, NULL, 'k'},
        {"sha256", required_argument, NULL, O_SHA256},
        {"json", no_argument, NULL, O_JSON},
        {"limit-rate", required_argument, NULL, O_LIMIT_RATE},
        {"segments", required_argument, NULL, 'x'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char **urls = NULL;
    size_t nurls = 0, cap = 0;
    const char *inputs[16];
    size_t ninputs = 0;
    int c;
    long long v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:d:o:cj:x:kqhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (ninputs == 16)
                return usage_error("at most 16 input files");
            inputs[ninputs++] = optarg;
            break;
        case 'd':
            cfg.dir = optarg;
            break;
        case 'o':
            cfg.output = optarg;
            break;
        case O_CLOBBER:
            cfg.clobber = true;
            break;
        case 'c':
            cfg.resume = true;
            break;
        case 'j':
            if ((v = tool_parse_number(optarg, 1, 10000)) < 0)
                return usage_error("bad job count '%s' (1 to 10000)", optarg);
            cfg.jobs = (long)v;
            break;
        case O_PER_HOST:
            if ((v = tool_parse_number(optarg, 1, 10000)) < 0)
                return usage_error("bad per-host limit '%s' (1 to 10000)", optarg);
            cfg.per_host = (long)v;
            break;
        case O_RETRIES:
            if ((v = tool_parse_number(optarg, 0, 1000)) < 0)
                return usage_error("bad retry count '%s' (0 to 1000)", optarg);
            cfg.retries = (long)v;
            break;
        case O_MAX_REDIRECTS:
            if ((v = tool_parse_number(optarg, 0, 1000)) < 0)
                return usage_error("bad redirect count '%s' (0 to 1000)", optarg);
            cfg.max_redirects = (long)v;
            break;
        case O_RETRY_WAIT:
            if ((cfg.retry_wait = parse_seconds(optarg)) < 0)
                return usage_error("bad retry wait '%s' (seconds)", optarg);
            break;
        case O_TIMEOUT:
            if ((cfg.timeout = parse_seconds(optarg)) < 0)
                return usage_error("bad timeout '%s' (seconds)", optarg);
            break;
        case O_CONNECT_TIMEOUT:
            if ((cfg.connect_timeout = parse_seconds(optarg)) <= 0)
                return usage_error("bad connect timeout '%s' (seconds, above 0)", optarg);
            break;
        case O_CAFILE:
            cfg.cafile = optarg;
            break;
        case 'k':
            cfg.insecure = true;
            break;
        case O_SHA256:
            if (strlen(optarg) != 64 || strspn(optarg, "0123456789abcdefABCDEF") != 64)
                return usage_error("bad SHA-256 '%s' (64 hex digits)", optarg);
            cfg.sha256 = optarg;
            break;
        case 'x':
            if ((v = tool_parse_number(optarg, 1, MAX_SEGMENTS)) < 0)
                return usage_error("bad segment count '%s' (1 to 16)", optarg);
            cfg.segments = (long)v;
            break;
        case O_LIMIT_RATE:
            if ((cfg.limit_rate = parse_rate(optarg)) <= 0)
                return usage_error("bad rate '%s' (bytes a second, with k, M or G)", optarg);
            break;
        case O_JSON:
            cfg.json = true;
            break;
        case 'q':
            cfg.quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_GET_OK;
        case 'V':
            printf("cio-get %s\n", CIO_TOOLS_VERSION);
            return EXIT_GET_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (nurls == cap) {
            cap = cap ? cap * 2 : 64;
            urls = realloc(urls, cap * sizeof *urls);
            if (!urls)
                abort();
        }
        urls[nurls++] = strdup(argv[i]);
    }
    int code = EXIT_GET_OK;
    struct stat st;
    for (size_t i = 0; i < ninputs && code == EXIT_GET_OK; i++)
        if (read_input(inputs[i], &urls, &nurls, &cap) < 0)
            code = EXIT_GET_USAGE;
    if (code != EXIT_GET_OK) {
        /* the input's error is printed */
    } else if (!nurls)
        code = usage_error("no URL given");
    else if (cfg.output && nurls > 1)
        code = usage_error("-o takes one URL only (%zu given)", nurls);
    else if (cfg.sha256 && nurls > 1)
        code = usage_error("--sha256 takes one URL only (%zu given)", nurls);
    else if (!cfg.output && (stat(cfg.dir, &st) < 0 || !S_ISDIR(st.st_mode)))
        code = usage_error("%s: not a directory", cfg.dir);
    else
        code = get_urls(&cfg, urls, nurls);
    for (size_t i = 0; i < nurls; i++)
        free(urls[i]);
    free(urls);
    return code;
}
