/*
 * cio-bench: an HTTP/1.1 load generator (wrk's job, oha's report), on cio's streams and parser.
 *
 *     cio-bench [OPTIONS] URL
 *
 * Each connection is a task that writes prebuilt request bytes (N copies at once with --pipeline) and reads the
 * answers with the message layer, never through the client session: a request costs a write and a parse, less
 * than the server it loads spends on it. Built on cio's public headers only. Run `cio-bench --help`.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cio.h"
#include "toolkit.h"

#ifndef CIO_TOOLS_VERSION
#define CIO_TOOLS_VERSION "0"
#endif

/* Exit codes, as --help lists them. */
enum { EXIT_BENCH_OK = 0, EXIT_BENCH_FAIL = 1, EXIT_BENCH_USAGE = 2 };

#define usage(...) tool_usage_error("cio-bench", EXIT_BENCH_USAGE, __VA_ARGS__)

static const char usage_text[] =
    "Usage: cio-bench [OPTIONS] URL\n"
    "Load an HTTP or HTTPS server with keep-alive connections and report throughput and latency.\n"
    "\n"
    "  -c, --connections N     keep N connections open (default 50)\n"
    "  -d, --duration TIME     run for TIME (10s, 500ms, 2m; default 10s)\n"
    "  -n, --requests N        send N requests in all instead of running for a time\n"
    "  -t, --threads N         run N threads, each with its own loop; connections are split among them\n"
    "                          (default 1)\n"
    "  -m, --method METHOD     the request method (default GET)\n"
    "  -H, --header 'N: V'     add a header to every request (repeatable; a Host given here replaces cio-bench's)\n"
    "      --body FILE         send FILE's bytes as every request's body, with its Content-Length\n"
    "      --pipeline N        write N requests at once on each connection, then read the N answers (default 1)\n"
    "      --rate R            send R requests per second in all, on a fixed schedule; latency counts from each\n"
    "                          request's scheduled time, so a stalled server cannot hide its queue\n"
    "                          (no coordinated omission)\n"
    "      --insecure          do not verify the server's certificate (https)\n"
    "      --cafile FILE       trust the CA certificates in FILE (PEM) instead of the system's\n"
    "      --timeout TIME      count a response that does not start within TIME as a timeout (default 30s)\n"
    "      --json              print the results as one JSON object instead of the summary\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Measured: requests, requests per second, transfer (MiB/s of response bytes), latency (min, mean, p50,\n"
    "p90, p99, p99.9, max, in a log-linear histogram with two significant digits from 1 us to 1 hour), status\n"
    "codes, errors by kind (connect, timeout, reset, parse, closed, other) and reconnections. On a terminal a\n"
    "progress line is updated once a second. SIGINT or SIGTERM ends the run early with the report so far.\n"
    "\n"
    "Exit status: 0 when at least one request succeeded and every connection could be opened, 1 when the\n"
    "target could not be reached (or no request succeeded), 2 for a usage error.\n";

/* ---------------------------------------------------------------------------------------------- histogram */

/* Log-linear buckets, HdrHistogram's layout with two significant digits: values below 256 us each have their own
   bucket, and every power of two above is cut into 128, so a bucket is at most 1/128 of its value wide. 32 powers
   cover 1 us to past an hour (2^32 us); above is clamped. Counters only: merging two is adding them. */
#define HIST_SUB   128
#define HIST_MAXP  32
#define HIST_SLOTS (2 * HIST_SUB + (HIST_MAXP - 8) * HIST_SUB)

struct hist {
    uint64_t count[HIST_SLOTS];
    uint64_t n, sum_us, min_us, max_us;
};

static size_t hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (size_t)v;
    int p = 63 - __builtin_clzll(v); /* 8 or more */
    if (p >= HIST_MAXP)
        return HIST_SLOTS - 1;
    int shift = p - 7; /* v >> shift is in [128, 256) */
    return (size_t)(2 * HIST_SUB + (p - 8) * HIST_SUB) + (size_t)((v >> shift) - HIST_SUB);
}

/* The highest value that lands in slot `i`, as HdrHistogram reports percentiles. */
static uint64_t hist_value(size_t i)
{
    if (i < 2 * HIST_SUB)
        return i;
    size_t k = i - 2 * HIST_SUB;
    int p = (int)(k / HIST_SUB) + 8, shift = p - 7;
    uint64_t low = (uint64_t)(HIST_SUB + k % HIST_SUB) << shift;
    return low + ((uint64_t)1 << shift) - 1;
}

static void hist_add(struct hist *h, int64_t ns)
{
    uint64_t us = ns <= 1000 ? 1 : (uint64_t)(ns + 500) / 1000;
    h->count[hist_index(us)]++;
    if (!h->n || us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
    h->n++;
    h->sum_us += us;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
    for (size_t i = 0; i < HIST_SLOTS; i++)
        into->count[i] += h->count[i];
    if (h->n && (!into->n || h->min_us < into->min_us))
        into->min_us = h->min_us;
    if (h->max_us > into->max_us)
        into->max_us = h->max_us;
    into->n += h->n;
    into->sum_us += h->sum_us;
}

/* The value at percentile `p` (0-100): the top of the bucket holding it, never above the largest value seen. */
static uint64_t hist_percentile(const struct hist *h, double p)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n), seen = 0;
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < HIST_SLOTS; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v < h->max_us ? v : h->max_us;
        }
    }
    return h->max_us;
}

/* ---------------------------------------------------------------------------------------------- the run */

enum err_kind { ERR_CONNECT, ERR_TIMEOUT, ERR_RESET, ERR_PARSE, ERR_CLOSED, ERR_OTHER, ERR__COUNT };
static const char *const err_name[ERR__COUNT] = {"connect", "timeout", "reset", "parse", "closed", "other"};

struct config {
    const char *url;
    char host[256];
    int port;
    bool https, insecure, json;
    const char *cafile;
    const char *method;
    unsigned conns, threads, pipeline;
    uint64_t requests; /* 0: run for `duration` */
    int64_t duration, timeout;
    double rate; /* 0: as fast as the server answers */
    char *req;   /* the request's bytes, `pipeline` times over */
    size_t req_len;
    cio_tls_ctx *tls;
    /* Shared by the threads. */
    int64_t start, deadline;  /* CLOCK_MONOTONIC ns, the clock cio_now reads */
    _Atomic uint64_t claimed; /* requests handed out (-n), or scheduled slots taken (--rate) */
};

/* One thread's loop and its results, merged by the main thread once it has joined them all. */
struct worker {
    struct config *cfg;
    unsigned conns;
    pthread_t thread;
    sem_t *done;
    int rc;
    _Atomic uint64_t progress; /* responses so far, read by the main thread's progress line */
    uint64_t ok, errors[ERR__COUNT], reconnects, bytes;
    uint64_t status[1000];
    struct hist lat;
    int connect_error; /* the first connect failure's code, for the message */
};

/* Set by the first SIGINT or SIGTERM: the connections stop after the batch in hand, and the report covers what was
   done (oha's behaviour; a second signal kills, as the handler is reset). */
static atomic_bool stop_requested;

static void on_stop_signal(int signo)
{
    (void)signo;
    atomic_store(&stop_requested, true);
}

static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static enum err_kind classify(int rc)
{
    if (rc == CIO_EREADTIMEOUT)
        return ERR_TIMEOUT;
    if (rc == -ECONNRESET || rc == -EPIPE)
        return ERR_RESET;
    if (rc == CIO_EPEERCLOSED || rc == CIO_EHTTP_HEAD_TRUNCATED || rc == CIO_EHTTP_BODY_TRUNCATED ||
        rc == CIO_ETLSTRUNCATED)
        return ERR_CLOSED;
    if (!strncmp(cio_err_name(rc), "CIO_EHTTP", 9))
        return ERR_PARSE;
    return ERR_OTHER;
}

/* Up to `want` requests to send now: all of them until -n's total is reached. */
static unsigned claim(struct config *cfg, unsigned want)
{
    if (!cfg->requests)
        return want;
    uint64_t old = atomic_fetch_add_explicit(&cfg->claimed, want, memory_order_relaxed);
    if (old >= cfg->requests)
        return 0;
    return old + want <= cfg->requests ? want : (unsigned)(cfg->requests - old);
}

/* Under --rate, the next slot of the schedule: its intended send time, or -1 when the run is over. */
static int64_t claim_slot(struct config *cfg)
{
    uint64_t k = atomic_fetch_add_explicit(&cfg->claimed, 1, memory_order_relaxed);
    if (cfg->requests && k >= cfg->requests)
        return -1;
    int64_t at = cfg->start + (int64_t)((double)k * 1e9 / cfg->rate);
    if (!cfg->requests && at >= cfg->deadline)
        return -1;
    return at;
}

/* Read one response off `s`: its status into `*status` and its size into the worker's transfer count. Returns
   whether the connection stays usable (1) or must close (0), or a negative error. */
static int read_one(struct worker *w, cio_stream *s, int *status)
{
    cio_http_header hdrs[64];
    cio_http_head h;
    ssize_t hl;
    for (;;) {
        cio_http_head_init(&h, hdrs, 64);
        if ((hl = cio_http_read_response(s, &h, NULL)) < 0)
            return (int)hl;
        if (h.status >= 200 || h.status == 101)
            break;
        w->bytes += (uint64_t)hl; /* a 100 Continue before the answer */
        cio_stream_consume(s, (size_t)hl);
    }
    *status = h.status;
    bool keep = cio_http_keep_alive(&h) && h.status != 101;
    w->bytes += (uint64_t)hl;
    cio_http_body_in b;
    cio_http_body_opts o = {.skip = (size_t)hl, .max_size = UINT64_MAX / 2};
    int rc = cio_http_body_init_response(&b, s, &h, w->cfg->method, &o);
    if (rc < 0)
        return rc;
    const void *data;
    size_t len;
    while ((rc = cio_http_body_next(&b, &data, &len)) > 0)
        w->bytes += len;
    cio_http_body_fini(&b);
    return rc < 0 ? rc : keep;
}

/* Whether `rc` is the end of a timed run (its deadline scope), rather than a failure: a connect timeout is
   -ETIMEDOUT too, but comes before the deadline. */
static bool run_over(const struct config *cfg, int rc)
{
    return rc == -ECANCELED || (rc == -ETIMEDOUT && !cfg->requests && cio_now() >= cfg->deadline);
}

static int connect_to(struct worker *w, cio_stream **s)
{
    struct config *cfg = w->cfg;
    cio_connect_opts co = {.timeout = cfg->timeout, .tls = cfg->tls};
    int rc = cio_open_connection(s, cfg->host, cfg->port, &co);
    if (rc == 0)
        rc = cio_stream_set_read_timeout(*s, cfg->timeout);
    return rc;
}

/* One connection's life: batches of `pipeline` requests (one under --rate), written at once, answered in order. A
   server that closes ends the batch; the requests it did not answer go again on a new connection. */
static int conn_task(void *arg)
{
    struct worker *w = arg;
    struct config *cfg = w->cfg;
    cio_stream *s = NULL;
    unsigned carry = 0; /* requests claimed but left unanswered by a closed connection */
    bool first = true;
    int64_t intended = 0; /* under --rate: when the request in hand was due (kept when it goes again) */
    int rc = 0;
    while (!atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
        unsigned n = carry;
        if (cfg->rate > 0 && !n) {
            if ((intended = claim_slot(cfg)) < 0)
                break;
            n = 1;
        } else if (!n && !(n = claim(cfg, cfg->pipeline))) {
            break;
        }
        carry = 0;
        if (!s) {
            if ((rc = connect_to(w, &s)) < 0) {
                if (run_over(cfg, rc))
                    break;
                w->errors[ERR_CONNECT]++;
                if (!w->connect_error)
                    w->connect_error = rc;
                break; /* this connection is done: the target cannot be reached */
            }
            w->reconnects += !first;
            first = false;
        }
        if (intended && cio_sleep_until(intended) < 0)
            break; /* the run's end (its deadline) or a cancel */
        /* The clock itself, not cio_now(): the loop's cached time is that of its last poll, and with many
           connections answered in one turn it runs behind by the turn's work, which would count as latency. */
        int64_t sent = intended ? intended : mono_now();
        unsigned i = 0;
        bool close_it = false;
        if ((rc = cio_stream_write(s, cfg->req, cfg->req_len / cfg->pipeline * n)) < 0) {
            close_it = true;
        } else {
            for (; i < n; i++) {
                int status = 0;
                if ((rc = read_one(w, s, &status)) < 0) {
                    close_it = true;
                    break;
                }
                hist_add(&w->lat, mono_now() - sent);
                w->ok++;
                w->status[status < 1000 ? status : 0]++;
                atomic_fetch_add_explicit(&w->progress, 1, memory_order_relaxed);
                if (!rc) {
                    close_it = true;
                    i++;
                    rc = 0;
                    break;
                }
            }
        }
        if (run_over(cfg, rc))
            break; /* the run's end cut this batch short: nothing to count */
        if (rc < 0) {
            w->errors[classify(rc)]++;
            atomic_fetch_add_explicit(&w->progress, 1, memory_order_relaxed);
            i++;
        }
        if (close_it) {
            cio_stream_abort(s);
            s = NULL;
            carry = n > i ? n - i : 0;
        }
    }
    if (s)
        cio_stream_abort(s);
    return 0;
}

static int worker_main(void *arg)
{
    struct worker *w = arg;
    cio_task **tasks = calloc(w->conns, sizeof *tasks);
    if (!tasks)
        return -ENOMEM;
    cio_scope scope;
    bool timed = !w->cfg->requests;
    if (timed)
        cio_deadline_begin(&scope, w->cfg->deadline);
    unsigned n = 0;
    int rc = 0;
    for (; n < w->conns; n++) {
        if ((rc = cio_spawn(&tasks[n], conn_task, w, NULL)) < 0)
            break;
    }
    for (unsigned i = 0; i < n; i++)
        cio_join(tasks[i]);
    if (timed)
        cio_scope_end(&scope);
    free(tasks);
    return rc;
}

static void *worker_thread(void *arg)
{
    struct worker *w = arg;
    w->rc = cio_run(worker_main, w);
    sem_post(w->done);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------- report */

struct totals {
    uint64_t ok, errors, err[ERR__COUNT], reconnects, bytes, status[1000];
    struct hist lat;
    double secs;
    int connect_error;
};

static void merge(struct totals *t, const struct worker *w, unsigned nw)
{
    for (unsigned i = 0; i < nw; i++) {
        t->ok += w[i].ok;
        t->reconnects += w[i].reconnects;
        t->bytes += w[i].bytes;
        for (int k = 0; k < ERR__COUNT; k++) {
            t->err[k] += w[i].errors[k];
            t->errors += w[i].errors[k];
        }
        for (int k = 0; k < 1000; k++)
            t->status[k] += w[i].status[k];
        hist_merge(&t->lat, &w[i].lat);
        if (!t->connect_error)
            t->connect_error = w[i].connect_error;
    }
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
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

static void print_json(const struct config *cfg, const struct totals *t)
{
    const struct hist *h = &t->lat;
    printf("{\"url\":");
    json_string(cfg->url);
    printf(",\"method\":");
    json_string(cfg->method);
    printf(",\"connections\":%u,\"threads\":%u,\"pipeline\":%u,\"rate\":%.3f,\"duration_s\":%.6f", cfg->conns,
           cfg->threads, cfg->pipeline, cfg->rate, t->secs);
    printf(",\"requests\":%llu,\"ok\":%llu,\"errors\":%llu,\"reconnects\":%llu",
           (unsigned long long)(t->ok + t->errors), (unsigned long long)t->ok, (unsigned long long)t->errors,
           (unsigned long long)t->reconnects);
    printf(",\"requests_per_s\":%.3f,\"bytes\":%llu,\"mib_per_s\":%.6f", t->secs > 0 ? (double)t->ok / t->secs : 0.0,
           (unsigned long long)t->bytes, t->secs > 0 ? (double)t->bytes / 1048576.0 / t->secs : 0.0);
    printf(",\"latency_us\":{\"count\":%llu,\"min\":%llu,\"mean\":%.3f,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,"
           "\"p99_9\":%llu,\"max\":%llu}",
           (unsigned long long)h->n, (unsigned long long)h->min_us, h->n ? (double)h->sum_us / (double)h->n : 0.0,
           (unsigned long long)hist_percentile(h, 50), (unsigned long long)hist_percentile(h, 90),
           (unsigned long long)hist_percentile(h, 99), (unsigned long long)hist_percentile(h, 99.9),
           (unsigned long long)h->max_us);
    printf(",\"status\":{");
    const char *sep = "";
    for (int k = 0; k < 1000; k++) {
        if (t->status[k]) {
            printf("%s\"%d\":%llu", sep, k, (unsigned long long)t->status[k]);
            sep = ",";
        }
    }
    printf("},\"error_kinds\":{");
    for (int k = 0; k < ERR__COUNT; k++)
        printf("%s\"%s\":%llu", k ? "," : "", err_name[k], (unsigned long long)t->err[k]);
    printf("}}\n");
}

static void print_ms(uint64_t us)
{
    printf("  %10.3f", (double)us / 1000.0);
}

static void print_summary(const struct config *cfg, const struct totals *t)
{
    const struct hist *h = &t->lat;
    printf("Summary:\n");
    printf("  Target:        %s %s\n", cfg->method, cfg->url);
    printf("  Connections:   %u on %u loop%s, pipeline %u\n", cfg->conns, cfg->threads, cfg->threads > 1 ? "s" : "",
           cfg->pipeline);
    if (cfg->rate > 0)
        printf("  Rate asked:    %.1f req/s (latency from the scheduled send time)\n", cfg->rate);
    printf("  Duration:      %.3f s\n", t->secs);
    printf("  Requests:      %llu (%llu ok, %llu errors)\n", (unsigned long long)(t->ok + t->errors),
           (unsigned long long)t->ok, (unsigned long long)t->errors);
    printf("  Requests/sec:  %.2f\n", t->secs > 0 ? (double)t->ok / t->secs : 0.0);
    printf("  Transfer:      %.2f MiB (%.2f MiB/s)\n", (double)t->bytes / 1048576.0,
           t->secs > 0 ? (double)t->bytes / 1048576.0 / t->secs : 0.0);
    printf("  Reconnects:    %llu\n", (unsigned long long)t->reconnects);
    printf("\nLatency (ms):\n");
    printf("  %10s  %10s  %10s  %10s  %10s  %10s  %10s\n", "min", "mean", "p50", "p90", "p99", "p99.9", "max");
    print_ms(h->min_us);
    printf("  %10.3f", h->n ? (double)h->sum_us / (double)h->n / 1000.0 : 0.0);
    print_ms(hist_percentile(h, 50));
    print_ms(hist_percentile(h, 90));
    print_ms(hist_percentile(h, 99));
    print_ms(hist_percentile(h, 99.9));
    print_ms(h->max_us);
    printf("\n\nStatus codes:\n");
    for (int k = 0; k < 1000; k++) {
        if (t->status[k])
            printf("  [%d] %llu responses\n", k, (unsigned long long)t->status[k]);
    }
    if (t->errors) {
        printf("\nErrors:\n");
        for (int k = 0; k < ERR__COUNT; k++) {
            if (t->err[k])
                printf("  %-8s %llu\n", err_name[k], (unsigned long long)t->err[k]);
        }
    }
}

/* ---------------------------------------------------------------------------------------------- the command line */

/* Split the URL into the config's host, port and scheme; the request target goes to `target`. */
static int parse_target(struct config *cfg, char *target, size_t cap)
{
    cio_url u;
    if (cio_url_parse(&u, cfg->url, strlen(cfg->url)) < 0)
        return usage("bad URL '%s'", cfg->url);
    if (u.scheme.len == 5 && !strncasecmp(u.scheme.ptr, "https", 5))
        cfg->https = true;
    else if (!(u.scheme.len == 4 && !strncasecmp(u.scheme.ptr, "http", 4)))
        return usage("'%s': only http:// and https:// URLs", cfg->url);
    if (!u.host.len || u.host.len >= sizeof cfg->host)
        return usage("bad host in '%s'", cfg->url);
    memcpy(cfg->host, u.host.ptr, u.host.len);
    cfg->host[u.host.len] = 0;
    cfg->port = u.port > 0 ? u.port : cfg->https ? 443 : 80;
    int n = snprintf(target, cap, "%.*s%s%.*s", (int)u.path.len, u.path.len ? u.path.ptr : "/", u.query.ptr ? "?" : "",
                     (int)u.query.len, u.query.ptr ? u.query.ptr : "");
    if (n < 0 || (size_t)n >= cap)
        return usage("URL too long");
    return 0;
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') && !((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
            return false;
    }
    return true;
}

/* Append to a growing buffer; false when memory ran out. */
static bool append(char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
    if (!n)
        return true;
    if (!*buf || *len + n > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < *len + n)
            c *= 2;
        char *p = realloc(*buf, c);
        if (!p)
            return false;
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return true;
}

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 0;
    *data = NULL;
    *len = 0;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (!append(data, len, &cap, chunk, n)) {
            fclose(f);
            return -ENOMEM;
        }
    }
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    return rc;
}

/* The request's bytes, once, then repeated `pipeline` times so a batch is one write of a prefix. */
static int build_request(struct config *cfg, const char *target, char **headers, int nheaders, const char *body_file)
{
    char *body = NULL, *one = NULL;
    size_t body_len = 0, len = 0, cap = 0;
    if (body_file) {
        int rc = read_file(body_file, &body, &body_len);
        if (rc < 0) {
            fprintf(stderr, "cio-bench: %s: %s\n", body_file, strerror(-rc));
            return EXIT_BENCH_FAIL;
        }
    }
    bool own_host = false;
    for (int i = 0; i < nheaders; i++)
        own_host |= !strncasecmp(headers[i], "host:", 5);
    char line[600];
    int n = snprintf(line, sizeof line, "%s %s HTTP/1.1\r\n", cfg->method, target);
    bool ok = append(&one, &len, &cap, line, (size_t)n);
    if (!own_host) {
        bool v6 = strchr(cfg->host, ':') != NULL, dflt = cfg->port == (cfg->https ? 443 : 80);
        n = snprintf(line, sizeof line, "Host: %s%s%s", v6 ? "[" : "", cfg->host, v6 ? "]" : "");
        if (!dflt)
            n += snprintf(line + n, sizeof line - (size_t)n, ":%d", cfg->port);
        ok = ok && append(&one, &len, &cap, line, (size_t)n) && append(&one, &len, &cap, "\r\n", 2);
    }
    n = snprintf(line, sizeof line, "User-Agent: cio-bench/%s\r\n", CIO_TOOLS_VERSION);
    ok = ok && append(&one, &len, &cap, line, (size_t)n);
    for (int i = 0; i < nheaders; i++)
        ok = ok && append(&one, &len, &cap, headers[i], strlen(headers[i])) && append(&one, &len, &cap, "\r\n", 2);
    if (body_file) {
        n = snprintf(line, sizeof line, "Content-Length: %zu\r\n", body_len);
        ok = ok && append(&one, &len, &cap, line, (size_t)n);
    }
    ok = ok && append(&one, &len, &cap, "\r\n", 2) && (!body_len || append(&one, &len, &cap, body, body_len));
    size_t total = 0, tcap = 0;
    for (unsigned i = 0; ok && i < cfg->pipeline; i++)
        ok = append(&cfg->req, &total, &tcap, one, len);
    cfg->req_len = total;
    free(one);
    free(body);
    if (!ok) {
        free(cfg->req);
        cfg->req = NULL;
        fprintf(stderr, "cio-bench: out of memory\n");
        return EXIT_BENCH_FAIL;
    }
    return 0;
}

/* Run the workers, with a progress line each second on a terminal; fills `t`. */
static int run(struct config *cfg, struct totals *t)
{
    struct worker *w = calloc(cfg->threads, sizeof *w);
    sem_t done;
    if (!w || sem_init(&done, 0, 0) < 0) {
        free(w);
        fprintf(stderr, "cio-bench: out of memory\n");
        return -ENOMEM;
    }
    bool tty = isatty(1) && !cfg->json;
    cfg->start = mono_now();
    cfg->deadline = cfg->start + cfg->duration;
    unsigned started = 0;
    for (; started < cfg->threads; started++) {
        struct worker *x = &w[started];
        x->cfg = cfg;
        x->done = &done;
        x->conns = cfg->conns / cfg->threads + (started < cfg->conns % cfg->threads);
        if (pthread_create(&x->thread, NULL, worker_thread, x) != 0)
            break;
    }
    unsigned finished = 0;
    uint64_t last = 0;
    int64_t last_at = cfg->start;
    while (finished < started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (sem_timedwait(&done, &ts) == 0) {
            finished++;
            continue;
        }
        if (!tty)
            continue;
        uint64_t now_done = 0;
        for (unsigned i = 0; i < started; i++)
            now_done += atomic_load_explicit(&w[i].progress, memory_order_relaxed);
        int64_t now = mono_now();
        double rate = (double)(now_done - last) * 1e9 / (double)(now - last_at > 0 ? now - last_at : 1);
        printf("\r[%6.1fs] %llu requests, %.0f req/s\033[K", (double)(now - cfg->start) / 1e9,
               (unsigned long long)now_done, rate);
        fflush(stdout);
        last = now_done;
        last_at = now;
    }
    t->secs = (double)(mono_now() - cfg->start) / 1e9;
    if (tty) {
        printf("\r\033[K");
        fflush(stdout);
    }
    int rc = started < cfg->threads ? -EAGAIN : 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        if (w[i].rc < 0 && !rc)
            rc = w[i].rc;
    }
    merge(t, w, started);
    sem_destroy(&done);
    free(w);
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg = {
        .conns = 50, .threads = 1, .pipeline = 1, .method = "GET", .duration = CIO_SEC(10), .timeout = CIO_SEC(30)};
    enum { O_BODY = 256, O_PIPELINE, O_RATE, O_INSECURE, O_CAFILE, O_TIMEOUT, O_JSON };
    static const struct option longopts[] = {
        {"connections", required_argument, NULL, 'c'}, {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},    {"threads", required_argument, NULL, 't'},
        {"method", required_argument, NULL, 'm'},      {"header", required_argument, NULL, 'H'},
        {"body", required_argument, NULL, O_BODY},     {"pipeline", required_argument, NULL, O_PIPELINE},
        {"rate", required_argument, NULL, O_RATE},     {"insecure", no_argument, NULL, O_INSECURE},
        {"cafile", required_argument, NULL, O_CAFILE}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"json", no_argument, NULL, O_JSON},           {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},           {NULL, 0, NULL, 0},
    };
    char **headers = calloc((size_t)argc, sizeof *headers);
    int nheaders = 0, c;
    long long v;
    const char *body_file = NULL;
    bool has_d = false;
    if (!headers)
        return EXIT_BENCH_FAIL;
    opterr = 0;
#define USAGE(...)                 \
    do {                           \
        free(headers);             \
        return usage(__VA_ARGS__); \
    } while (0)
    while ((c = getopt_long(argc, argv, ":c:d:n:t:m:H:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if ((v = tool_parse_number(optarg, 1, 100000)) < 0)
                USAGE("bad connection count '%s' (1 to 100000)", optarg);
            cfg.conns = (unsigned)v;
            break;
        case 'd':
            if ((cfg.duration = tool_parse_time(optarg)) < 0)
                USAGE("bad duration '%s' (say 10s, 500ms, 2m)", optarg);
            has_d = true;
            break;
        case 'n':
            if ((v = tool_parse_number(optarg, 1, (long long)1e15)) < 0)
                USAGE("bad request count '%s'", optarg);
            cfg.requests = (uint64_t)v;
            break;
        case 't':
            if ((v = tool_parse_number(optarg, 1, 256)) < 0)
                USAGE("bad thread count '%s' (1 to 256)", optarg);
            cfg.threads = (unsigned)v;
            break;
        case 'm':
            if (!is_token(optarg) || strlen(optarg) > 32)
                USAGE("bad method '%s'", optarg);
            cfg.method = optarg;
            break;
        case 'H': {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || strpbrk(optarg, "\r\n"))
                USAGE("bad header '%s' (say 'Name: value')", optarg);
            headers[nheaders++] = optarg;
            break;
        }
        case O_BODY:
            body_file = optarg;
            break;
        case O_PIPELINE:
            if ((v = tool_parse_number(optarg, 1, 1024)) < 0)
                USAGE("bad pipeline depth '%s' (1 to 1024)", optarg);
            cfg.pipeline = (unsigned)v;
            break;
        case O_RATE: {
            char *end;
            errno = 0;
            cfg.rate = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(cfg.rate > 0) || cfg.rate > 1e8)
                USAGE("bad rate '%s' (requests per second, more than 0)", optarg);
            break;
        }
        case O_INSECURE:
            cfg.insecure = true;
            break;
        case O_CAFILE:
            cfg.cafile = optarg;
            break;
        case O_TIMEOUT:
            if ((cfg.timeout = tool_parse_time(optarg)) < 0)
                USAGE("bad timeout '%s' (say 30s, 500ms)", optarg);
            break;
        case O_JSON:
            cfg.json = true;
            break;
        case 'h':
            free(headers);
            fputs(usage_text, stdout);
            return EXIT_BENCH_OK;
        case 'V':
            free(headers);
            printf("cio-bench %s\n", CIO_TOOLS_VERSION);
            return EXIT_BENCH_OK;
        case ':':
            USAGE("option '%s' needs a value", argv[optind - 1]);
        default:
            USAGE("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind == argc)
        USAGE("no URL given");
    if (optind + 1 < argc)
        USAGE("one URL only: '%s' is one too many", argv[optind + 1]);
    if (has_d && cfg.requests)
        USAGE("-d and -n do not go together");
    if (cfg.rate > 0 && cfg.pipeline > 1)
        USAGE("--rate sends one request at a time per connection: no --pipeline with it");
    if (cfg.threads > cfg.conns)
        cfg.threads = cfg.conns;
    if (cfg.requests && cfg.conns > cfg.requests)
        cfg.conns = (unsigned)cfg.requests, cfg.threads = cfg.threads > cfg.conns ? cfg.conns : cfg.threads;
    cfg.url = argv[optind];
    char target[8192];
    int rc = parse_target(&cfg, target, sizeof target);
    if (rc) {
        free(headers);
        return rc;
    }
    if (!cfg.https && (cfg.insecure || cfg.cafile))
        USAGE("--insecure and --cafile are for https:// URLs");
#undef USAGE
    rc = build_request(&cfg, target, headers, nheaders, body_file);
    free(headers);
    if (rc)
        return rc;
    if (cfg.https) {
        cio_tls_opts to = {.ca_file = cfg.cafile, .insecure_skip_verify = cfg.insecure};
        if ((rc = cio_tls_ctx_new(&cfg.tls, CIO_TLS_CLIENT, &to)) < 0) {
            fprintf(stderr, "cio-bench: %s: %s\n", cfg.cafile ? cfg.cafile : "TLS", cio_strerror(rc));
            free(cfg.req);
            return EXIT_BENCH_FAIL;
        }
    }
    struct totals *t = calloc(1, sizeof *t);
    if (!t) {
        free(cfg.req);
        cio_tls_ctx_free(cfg.tls);
        return EXIT_BENCH_FAIL;
    }
    struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = run(&cfg, t);
    int status = EXIT_BENCH_OK;
    if (rc < 0) {
        fprintf(stderr, "cio-bench: %s\n", cio_strerror(rc));
        status = EXIT_BENCH_FAIL;
    } else if (t->connect_error && !t->ok) {
        /* nothing got through: one line says why, and no table of zeros */
        fprintf(stderr, "cio-bench: %s:%d: %s\n", cfg.host, cfg.port, cio_strerror(t->connect_error));
        status = EXIT_BENCH_FAIL;
    } else {
        if (cfg.json)
            print_json(&cfg, t);
        else
            print_summary(&cfg, t);
        if (t->connect_error) {
            fprintf(stderr, "cio-bench: %s:%d: %s\n", cfg.host, cfg.port, cio_strerror(t->connect_error));
            status = EXIT_BENCH_FAIL;
        } else if (!t->ok) {
            status = EXIT_BENCH_FAIL;
        }
    }
    free(t);
    free(cfg.req);
    cio_tls_ctx_free(cfg.tls);
    return status;
}
