/*
 * cio_http_client.c: the http-client suite's cio side: one cio_client_session, C tasks each looping
 * cio_client_get + reading the body + cio_client_response_release, as an aiohttp program with one ClientSession
 * and a TCPConnector(limit=C) does.
 *
 *     cio_http_client URL N [C] [--cafile FILE] [-o FILE]
 *
 * N requests of URL in all, C (default 100) at once over a session with limit C, so at most C keep-alive
 * connections, each reused. A body is read with cio_client_response_next and its bytes dropped; with -o FILE it
 * is written to FILE with cio_client_response_save instead (every response to the same file, truncated each
 * time: meant for N = 1). --cafile FILE trusts the CA certificates (PEM) in FILE for https, instead of the
 * system's store. max_size is lifted (a 1 GiB body is above the default bound).
 * Output: "metric=NAME value=X" lines (bench/run.sh collects them): requests, errors (non-200 answers and
 * failed requests), bytes (body bytes read), wall_s, req_per_s, mib_per_s, cpu_us_per_req (this process's
 * utime+stime over the requests, every thread), hwm_mib (VmHWM at the end). The first failure is reported on
 * stderr; the exit status is 1 if any request failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cio.h"

struct config {
    const char *url;
    long n;
    long conc;
    const char *cafile;
    const char *out;
};

struct state {
    const struct config *cfg;
    cio_client_session *s;
    long next;      /* requests handed out so far */
    long errors;    /* failed requests and non-200 answers */
    uint64_t bytes; /* body bytes */
    int first_err;  /* the first failure's code, or 0 */
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static long status_kib(const char *key)
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

static void metric(const char *name, double value)
{
    printf("metric=%s value=%.3f\n", name, value);
}

static void metric6(const char *name, double value)
{
    printf("metric=%s value=%.6f\n", name, value);
}

static void failed(struct state *st, int rc)
{
    st->errors++;
    if (!st->first_err)
        st->first_err = rc;
}

/* One request: the head, the body (dropped, or saved), the release. */
static void one(struct state *st)
{
    cio_client_response *r;
    const void *p;
    size_t len;
    int rc = cio_client_get(st->s, st->cfg->url, &r);

    if (rc < 0) {
        failed(st, rc);
        return;
    }
    if (st->cfg->out) {
        ssize_t n = cio_client_response_save(r, st->cfg->out);
        rc = n < 0 ? (int)n : 0;
        if (n > 0)
            st->bytes += (uint64_t)n;
    } else {
        while ((rc = cio_client_response_next(r, &p, &len)) == 1)
            st->bytes += len;
    }
    if (rc < 0)
        failed(st, rc);
    else if (cio_client_response_status(r) != 200)
        failed(st, CIO_ECLIENT_STATUS);
    cio_client_response_release(r);
}

static int worker(void *arg)
{
    struct state *st = arg;

    while (st->next < st->cfg->n) {
        st->next++;
        one(st);
    }
    return 0;
}

static int run(void *arg)
{
    const struct config *cfg = arg;
    cio_tls_opts tls = {.ca_file = cfg->cafile};
    cio_client_session_opts so = {
        .limit = (size_t)cfg->conc,
        .max_size = UINT64_MAX,
        .tls_opts = cfg->cafile ? &tls : NULL,
    };
    struct state st = {.cfg = cfg};
    cio_task **tasks;
    int64_t t0, t1;
    double c0, c1, wall;
    int rc;

    rc = cio_client_session_new(&st.s, &so);
    if (rc < 0) {
        fprintf(stderr, "cio_http_client: session: %s\n", cio_strerror(rc));
        return rc;
    }
    tasks = calloc((size_t)cfg->conc, sizeof(*tasks));
    if (!tasks) {
        cio_client_session_close(st.s);
        return -ENOMEM;
    }
    t0 = now_ns();
    c0 = cpu_us();
    for (long i = 0; i < cfg->conc; i++) {
        rc = cio_spawn(&tasks[i], worker, &st, NULL);
        if (rc < 0) {
            fprintf(stderr, "cio_http_client: spawn: %s\n", cio_strerror(rc));
            exit(1);
        }
    }
    for (long i = 0; i < cfg->conc; i++)
        cio_join(tasks[i]);
    t1 = now_ns();
    c1 = cpu_us();
    free(tasks);
    cio_client_session_close(st.s);

    wall = (double)(t1 - t0) / 1e9;
    metric("requests", (double)cfg->n);
    metric("errors", (double)st.errors);
    metric("bytes", (double)st.bytes);
    metric6("wall_s", wall);
    metric("req_per_s", (double)cfg->n / wall);
    metric("mib_per_s", (double)st.bytes / 1048576.0 / wall);
    metric("cpu_us_per_req", (c1 - c0) / (double)cfg->n);
    metric("hwm_mib", (double)status_kib("VmHWM") / 1024.0);
    fflush(stdout);
    if (st.first_err) {
        fprintf(stderr, "cio_http_client: %ld of %ld failed, the first: %s (%s)\n", st.errors, cfg->n,
                cio_strerror(st.first_err), cio_err_name(st.first_err));
        return 1;
    }
    return 0;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s URL N [C] [--cafile FILE] [-o FILE]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    struct config cfg = {.n = 0, .conc = 100};
    int pos = 0, rc;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cafile") || !strcmp(argv[i], "-o")) {
            if (i + 1 >= argc)
                usage(argv[0]);
            if (argv[i][1] == 'o')
                cfg.out = argv[++i];
            else
                cfg.cafile = argv[++i];
        } else if (pos == 0) {
            cfg.url = argv[i];
            pos++;
        } else if (pos == 1) {
            cfg.n = strtol(argv[i], NULL, 10);
            pos++;
        } else if (pos == 2) {
            cfg.conc = strtol(argv[i], NULL, 10);
            pos++;
        } else {
            usage(argv[0]);
        }
    }
    if (!cfg.url || cfg.n <= 0 || cfg.conc <= 0 || cfg.conc > 100000)
        usage(argv[0]);
    if (cfg.conc > cfg.n)
        cfg.conc = cfg.n;
    signal(SIGPIPE, SIG_IGN);
    rc = cio_run(run, &cfg);
    if (rc < 0) {
        fprintf(stderr, "cio_http_client: %s\n", cio_strerror(rc));
        return 1;
    }
    return rc;
}
