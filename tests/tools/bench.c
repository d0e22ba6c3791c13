/* bench.c: cio-bench as its users run it, against cio's own server in the test's loop and against nginx with an
 * access log: its counts are the servers' counts (plain, pipelined, over several loops, over TLS), status codes
 * are tallied, --rate counts latency from the schedule past a stalled handler, an unreachable target and the
 * command line's errors have their exit codes, and a terminal gets the progress line. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlskit.h"
#include "../web/webkit.h"

TestSuite(bench, .init = wk_init, .timeout = 240);

#define BENCH CIO_TOOLS_DIR "/cio-bench"

/* Run cio-bench with `args`; its stdout and stderr into `out` and `err` (each may be NULL). Returns its exit
   status, or a negative error. */
static int bench(char *const args[], cio_buf *out, cio_buf *err)
{
    char *argv[40] = {BENCH};
    int n = 1;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    cio_process *p;
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0)
        return rc;
    cio_buf o = {0}, e = {0};
    rc = cio_process_communicate(p, NULL, 0, &o, &e);
    int status = -1;
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    if (out)
        *out = o;
    else
        cio_buf_free(&o);
    if (err)
        *err = e;
    else
        cio_buf_free(&e);
    return rc < 0 ? rc : status;
}

/* Figures out of cio-bench's JSON, picked by Python's json module: `expr` over the object `d`, printed. */
static void json_pick(const cio_buf *json, const char *expr, cio_buf *out)
{
    char script[1024];
    snprintf(script, sizeof script, "import json,sys\nd = json.load(sys.stdin)\nprint(%s, end='')\n", expr);
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", script, NULL}, json->data, json->len, out), 0);
}

/* cio-bench --json with `args`, which must exit 0; then `expr` over its JSON must print `want`. */
static void check_run(char *const args[], const char *expr, const char *want)
{
    cio_buf out = {0}, err = {0}, picked = {0};
    int status = bench(args, &out, &err);
    WK_CHECK(status == 0, "exit %d: %s", status, wk_s(err.data));
    WK_CHECK(out.data && !strchr(out.data, '\r'), "a progress line off a terminal: %s", wk_s(out.data));
    if (out.data) {
        json_pick(&out, expr, &picked);
        WK_CHECK(wk_streq(picked.data, want), "%s: '%s', not '%s', from %s", expr, wk_s(picked.data), want, out.data);
    }
    cio_buf_free(&out);
    cio_buf_free(&err);
    cio_buf_free(&picked);
}

/* ---------------------------------------------------------------------------------- against cio's server */

struct counts {
    unsigned hits, stalls;
};

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    ((struct counts *)arg)->hits++;
    return cio_web_text(res, 200, "hello, world\n");
}

/* Every 50th request (the 50th, 100th, 150th) waits half a second before its answer. */
static int h_stall(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    struct counts *c = arg;
    if (++c->hits % 50 == 0) {
        c->stalls++;
        int rc = cio_sleep(CIO_MS(500));
        if (rc < 0)
            return rc;
    }
    return cio_web_text(res, 200, "ok\n");
}

static int open_app(cio_web_app **app, struct counts *c)
{
    int rc = cio_web_app_open(app, NULL);
    WK_EQ(rc, 0);
    if (rc < 0)
        return rc;
    WK_EQ(cio_web_get(*app, "/", h_hello, c), 0);
    WK_EQ(cio_web_get(*app, "/stall", h_stall, c), 0);
    return 0;
}

static const char counts_expr[] = "d['requests'], d['ok'], d['errors'], d['status'].get('200', 0)";

static int cio_server_body(void *arg)
{
    (void)arg;
    struct counts c = {0};
    cio_web_app *app;
    if (open_app(&app, &c) < 0)
        return 0;
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    char url[128], missing[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", cio_web_test_port(t));
    snprintf(missing, sizeof missing, "http://127.0.0.1:%d/missing", cio_web_test_port(t));
    check_run((char *[]){"-n", "1000", "-c", "10", "--json", url, NULL}, counts_expr, "1000 1000 0 1000");
    WK_EQ(c.hits, 1000);
    /* pipelined, on two loops: the same count, every answer read */
    check_run((char *[]){"-n", "1000", "-c", "10", "-t", "2", "--pipeline", "8", "--json", url, NULL}, counts_expr,
              "1000 1000 0 1000");
    WK_EQ(c.hits, 2000);
    check_run((char *[]){"-n", "1000", "-c", "10", "-t", "2", "--pipeline", "8", "--json", url, NULL},
              "d['pipeline'], d['threads'], d['connections'], d['reconnects'], d['latency_us']['count']",
              "8 2 10 0 1000");
    WK_EQ(c.hits, 3000);
    /* a route that is not there: 404s counted as answers, by status */
    check_run((char *[]){"-n", "100", "-c", "4", "--json", missing, NULL}, "d['ok'], d['status']", "100 {'404': 100}");
    /* a body and headers go out with every request; a HEAD's answer has no body to wait for */
    char body_file[] = "/tmp/cio-bench-body-XXXXXX";
    int fd = mkstemp(body_file);
    WK_CHECK(fd >= 0 && write(fd, "abc", 3) == 3, "%s", body_file);
    if (fd >= 0)
        close(fd);
    check_run((char *[]){"-n", "20", "-c", "2", "-m", "POST", "--body", body_file, "-H", "X-Test: 1", "--json", missing,
                         NULL},
              "d['method'], d['status']", "POST {'404': 20}");
    unlink(body_file);
    check_run((char *[]){"-n", "20", "-c", "2", "-m", "HEAD", "--json", url, NULL}, "d['ok'], d['status']",
              "20 {'200': 20}");
    WK_EQ(c.hits, 3020);
    /* the human summary: the table's rows */
    cio_buf out = {0};
    WK_EQ(bench((char *[]){"-n", "50", "-c", "5", url, NULL}, &out, NULL), 0);
    WK_CHECK(out.data && strstr(out.data, "Requests:      50 (50 ok, 0 errors)") && strstr(out.data, "p99.9") &&
                 strstr(out.data, "[200] 50 responses"),
             "%s", wk_s(out.data));
    cio_buf_free(&out);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(bench, counts_match_cio_servers_plain_pipelined_and_on_two_loops)
{
    tst_run(cio_server_body, NULL);
    wk_verdict();
}

static int tls_body(void *arg)
{
    const char *dir = arg;
    char cert[300], key[300], ca[300];
    tlskit_path(dir, "server.pem", cert, sizeof cert);
    tlskit_path(dir, "server.key", key, sizeof key);
    tlskit_path(dir, "ca.pem", ca, sizeof ca);
    cio_tls_ctx *tls;
    WK_EQ(cio_tls_ctx_new(&tls, CIO_TLS_SERVER, &(cio_tls_opts){.cert_file = cert, .key_file = key}), 0);
    struct counts c = {0};
    cio_web_app *app;
    if (open_app(&app, &c) < 0)
        return 0;
    cio_web_test *t;
    cio_web_server_opts so = {.tls = tls};
    WK_EQ(cio_web_test_open(&t, app, &so), 0);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", cio_web_test_port(t));
    check_run((char *[]){"-n", "200", "-c", "4", "--cafile", ca, "--json", url, NULL}, counts_expr, "200 200 0 200");
    check_run((char *[]){"-n", "200", "-c", "4", "--pipeline", "4", "--insecure", "--json", url, NULL}, counts_expr,
              "200 200 0 200");
    WK_EQ(c.hits, 400);
    /* without the test CA the certificate does not verify: nothing was reached */
    cio_buf err = {0};
    WK_EQ(bench((char *[]){"-n", "10", "-c", "1", "--json", url, NULL}, NULL, &err), 1);
    WK_CHECK(err.data && !strncmp(err.data, "cio-bench: 127.0.0.1:", 21) && strchr(err.data, '\n') &&
                 !strchr(err.data, '\n')[1],
             "%s", wk_s(err.data));
    cio_buf_free(&err);
    WK_EQ(c.hits, 400);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    cio_tls_ctx_free(tls);
    return 0;
}

Test(bench, https_with_the_test_ca_and_insecure)
{
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(tls_body, dir);
    tlskit_remove(dir);
    wk_verdict();
}

/* --rate on one connection: three answers stall for 500 ms each while the schedule goes on, so the requests due
   in the meantime go late and count from when they were due. The stalled answers alone put p99 at or above the
   stall; p90 that high comes only from the requests queued behind them (measured from their own send time, they
   would be fast). Lower bounds only: a slower machine only raises them. */
static int rate_body(void *arg)
{
    (void)arg;
    struct counts c = {0};
    cio_web_app *app;
    if (open_app(&app, &c) < 0)
        return 0;
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stall", cio_web_test_port(t));
    check_run((char *[]){"-n", "200", "-c", "1", "--rate", "100", "--json", url, NULL},
              "d['ok'], d['latency_us']['p99'] >= 500000, d['latency_us']['p90'] >= 250000, d['rate']",
              "200 True True 100.0");
    WK_EQ(c.stalls, 4); /* the 50th to the 200th */
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(bench, rate_counts_latency_from_the_schedule_past_a_stall)
{
    tst_run(rate_body, NULL);
    wk_verdict();
}

/* Under a pseudo-terminal the progress line is redrawn with "\r" once a second; a run of 2.5 s has at least one. */
static int tty_body(void *arg)
{
    (void)arg;
    struct counts c = {0};
    cio_web_app *app;
    if (open_app(&app, &c) < 0)
        return 0;
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", cio_web_test_port(t));
    static const char script[] = "import os, pty, sys\n"
                                 "pid, fd = pty.fork()\n"
                                 "if pid == 0:\n"
                                 "    os.execv(sys.argv[1], sys.argv[1:])\n"
                                 "out = b''\n"
                                 "while True:\n"
                                 "    try:\n"
                                 "        d = os.read(fd, 4096)\n"
                                 "    except OSError:\n"
                                 "        break\n"
                                 "    if not d:\n"
                                 "        break\n"
                                 "    out += d\n"
                                 "_, st = os.waitpid(pid, 0)\n"
                                 "print(os.waitstatus_to_exitcode(st), b'\\r[' in out, b' req/s' in out,\n"
                                 "      b'Summary:' in out, end='')\n";
    cio_buf out = {0};
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", (char *)script, BENCH, "-d", "2500ms", "-c", "2", "--rate", "100",
                            url, NULL},
                 NULL, 0, &out),
          0);
    WK_STREQ(out.data, "0 True True True");
    cio_buf_free(&out);
    WK_CHECK(c.hits > 0, "no requests");
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(bench, a_terminal_gets_the_progress_line)
{
    tst_run(tty_body, NULL);
    wk_verdict();
}

/* SIGINT in the middle of a one-hour run: the connections finish the request in hand and the report covers them
   all: as many answers as the handler gave, no error, exit 0. */
static int sigint_body(void *arg)
{
    (void)arg;
    struct counts c = {0};
    cio_web_app *app;
    if (open_app(&app, &c) < 0)
        return 0;
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", cio_web_test_port(t));
    char *argv[] = {BENCH, "-d", "1h", "-c", "2", "--json", url, NULL};
    cio_process *p;
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
    int rc = cio_process_exec(&p, argv, &po);
    WK_EQ(rc, 0);
    if (rc == 0) {
        for (int i = 0; i < 3000 && c.hits < 100; i++) /* bounded: until it is well under way */
            cio_sleep(CIO_MS(10));
        WK_CHECK(c.hits >= 100, "%u requests", c.hits);
        WK_EQ(cio_process_send_signal(p, SIGINT), 0);
        cio_buf out = {0}, err = {0}, picked = {0};
        WK_EQ(cio_process_communicate(p, NULL, 0, &out, &err), 0);
        int status = -1;
        WK_EQ(cio_process_wait(p, &status), 0);
        cio_process_close(p);
        WK_CHECK(status == 0, "exit %d: %s", status, wk_s(err.data));
        if (out.data) {
            json_pick(&out, "d['ok'], d['errors']", &picked);
            char want[64];
            snprintf(want, sizeof want, "%u 0", c.hits);
            WK_CHECK(wk_streq(picked.data, want), "'%s', not '%s'", wk_s(picked.data), want);
        }
        cio_buf_free(&out);
        cio_buf_free(&err);
        cio_buf_free(&picked);
    }
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(bench, sigint_ends_the_run_with_the_report_so_far)
{
    tst_run(sigint_body, NULL);
    wk_verdict();
}

/* ---------------------------------------------------------------------------------- against nginx */

static char ngx_dir[64];

/* A port free a moment ago (nginx binds it next; the test retries if it lost the race). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static const char *nginx_path(void)
{
    static const char *const where[] = {"/usr/sbin/nginx", "/sbin/nginx", "/usr/bin/nginx"};
    for (size_t i = 0; i < 3; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

static void write_nginx_conf(int port)
{
    char p[128], conf[2048];
    snprintf(p, sizeof p, "%s/nginx.conf", ngx_dir);
    int n = snprintf(conf, sizeof conf,
                     "%s"
                     "daemon off; master_process off; worker_processes 1;\n"
                     "pid %s/nginx.pid; error_log %s/error.log warn;\n"
                     "events { worker_connections 256; }\n"
                     "http {\n"
                     "  access_log %s/access.log;\n"
                     "  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;\n"
                     "  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
                     "  server { listen 127.0.0.1:%d; root %s; }\n"
                     "}\n",
                     getuid() == 0 ? "user root;\n" : "", ngx_dir, ngx_dir, ngx_dir, ngx_dir, ngx_dir, ngx_dir, ngx_dir,
                     ngx_dir, port, ngx_dir);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    cr_assert_eq(fwrite(conf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
}

/* Lines in nginx's access log (it writes each line as the request ends, before the answer's last byte leaves). */
static int log_lines(void)
{
    char p[128], line[1024];
    snprintf(p, sizeof p, "%s/access.log", ngx_dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "\"GET /index.html HTTP/1.1\" 200 ") != NULL;
    fclose(f);
    return n;
}

struct ngx_run {
    int port;
    bool listening;
};

static int nginx_body(void *arg)
{
    struct ngx_run *r = arg;
    char conf[128];
    snprintf(conf, sizeof conf, "%s/nginx.conf", ngx_dir);
    char *argv[] = {(char *)nginx_path(), "-p", ngx_dir, "-c", conf, NULL};
    cio_process *p;
    cio_process_opts po = {.stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_DEVNULL};
    int rc = cio_process_exec(&p, argv, &po);
    WK_EQ(rc, 0);
    if (rc < 0)
        return 0;
    /* wait until nginx listens (bounded), or learn that it lost the port and exited */
    rc = -ECONNREFUSED;
    for (int i = 0; i < 250 && rc == -ECONNREFUSED; i++) {
        cio_stream *s;
        if ((rc = cio_open_connection(&s, "127.0.0.1", r->port, NULL)) == 0)
            cio_stream_close(s);
        else
            cio_sleep(CIO_MS(20));
    }
    r->listening = rc == 0;
    if (r->listening) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/index.html", r->port);
        check_run((char *[]){"-n", "1000", "-c", "10", "--json", url, NULL}, counts_expr, "1000 1000 0 1000");
        WK_EQ(log_lines(), 1000);
        check_run((char *[]){"-n", "1000", "-c", "10", "--pipeline", "8", "-t", "2", "--json", url, NULL}, counts_expr,
                  "1000 1000 0 1000");
        WK_EQ(log_lines(), 2000);
    }
    cio_process_terminate(p);
    int status;
    cio_process_wait(p, &status);
    cio_process_close(p);
    return 0;
}

Test(bench, nginx_logs_exactly_the_requests_counted_plain_and_pipelined)
{
    cr_assert(nginx_path(), "nginx is not installed (scripts/deps.sh)");
    strcpy(ngx_dir, "/tmp/cio-bench-nginx-XXXXXX");
    cr_assert(mkdtemp(ngx_dir));
    char p[128];
    snprintf(p, sizeof p, "%s/tmp", ngx_dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/index.html", ngx_dir);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs("<p>hello from nginx</p>\n", f);
    fclose(f);
    struct ngx_run r = {0};
    for (int attempt = 0; attempt < 3 && !r.listening; attempt++) {
        r.port = free_port();
        write_nginx_conf(r.port);
        tst_run(nginx_body, &r);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ngx_dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert(r.listening, "nginx never listened");
    wk_verdict();
}

/* ---------------------------------------------------------------------------------- failures and usage */

/* A server that misbehaves the way `arg` says, after reading each request's head: "hang" answers nothing and waits
   for the client to go, "close" hangs up, "garbage" sends a status line that is not one. */
static int raw_conn(cio_stream *s, void *arg)
{
    const char *mode = arg;
    char head[4096];
    while (cio_stream_read_until(s, "\r\n\r\n", 4, head, sizeof head) > 0) {
        if (!strcmp(mode, "close"))
            return 0;
        if (!strcmp(mode, "garbage")) {
            cio_stream_write(s, "HTTP/1.1 2x0 OK\r\n\r\n", 19);
            return 0;
        }
    }
    return 0; /* "hang": the client's end of stream (after its read timeout) */
}

static int error_kinds_body(void *arg)
{
    (void)arg;
    static const char *const modes[] = {"hang", "close", "garbage"};
    static const char *const want[] = {"0 3 3 2", "0 3 3 2", "0 3 3 2"};
    static const char *const exprs[] = {
        "d['ok'], d['errors'], d['error_kinds']['timeout'], d['reconnects']",
        "d['ok'], d['errors'], d['error_kinds']['closed'], d['reconnects']",
        "d['ok'], d['errors'], d['error_kinds']['parse'], d['reconnects']",
    };
    for (int i = 0; i < 3; i++) {
        cio_server *srv;
        WK_EQ(cio_start_server(&srv, raw_conn, (void *)modes[i], "127.0.0.1", 0, NULL), 0);
        cio_addr a;
        WK_EQ(cio_server_addr(srv, &a), 0);
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", cio_addr_port(&a));
        cio_buf out = {0}, picked = {0};
        /* nothing succeeded: exit 1, with the report saying why */
        WK_EQ(bench((char *[]){"-n", "3", "-c", "1", "--timeout", "100ms", "--json", url, NULL}, &out, NULL), 1);
        if (out.data) {
            json_pick(&out, exprs[i], &picked);
            WK_CHECK(wk_streq(picked.data, want[i]), "%s: %s", modes[i], wk_s(out.data));
        } else {
            WK_CHECK(false, "%s: no report", modes[i]);
        }
        cio_buf_free(&out);
        cio_buf_free(&picked);
        WK_EQ(cio_server_close(srv, CIO_SEC(5)), 0);
    }
    return 0;
}

Test(bench, errors_are_counted_by_kind_timeout_closed_parse)
{
    tst_run(error_kinds_body, NULL);
    wk_verdict();
}

static int refused_body(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", free_port());
    cio_buf out = {0}, err = {0};
    WK_EQ(bench((char *[]){"-n", "10", "-c", "2", url, NULL}, &out, &err), 1);
    WK_CHECK(out.len == 0, "%s", wk_s(out.data));
    WK_CHECK(err.data && strstr(err.data, ": connection refused\n") && !strchr(err.data, '\n')[1], "%s",
             wk_s(err.data));
    cio_buf_free(&out);
    cio_buf_free(&err);
    return 0;
}

Test(bench, connection_refused_exits_1_with_one_line)
{
    tst_run(refused_body, NULL);
    wk_verdict();
}

static int cli_body(void *arg)
{
    (void)arg;
    static const struct {
        const char *args[6];
        int status;
        const char *has; /* in stderr, or in stdout for status 0 */
    } cases[] = {
        {{"--help"}, 0, "Usage: cio-bench"},
        {{"--version"}, 0, "cio-bench "},
        {{NULL}, 2, "no URL given"},
        {{"-c", "0", "http://a/"}, 2, "bad connection count '0'"},
        {{"-c"}, 2, "needs a value"},
        {{"--bogus", "http://a/"}, 2, "unknown option '--bogus'"},
        {{"-d", "soon", "http://a/"}, 2, "bad duration 'soon'"},
        {{"-d", "1s", "-n", "5", "http://a/"}, 2, "-d and -n do not go together"},
        {{"-n", "-3", "http://a/"}, 2, "bad request count"},
        {{"-t", "0", "http://a/"}, 2, "bad thread count"},
        {{"-m", "G T", "http://a/"}, 2, "bad method"},
        {{"-H", "novalue", "http://a/"}, 2, "bad header 'novalue'"},
        {{"--pipeline", "0", "http://a/"}, 2, "bad pipeline depth"},
        {{"--rate", "-1", "http://a/"}, 2, "bad rate"},
        {{"--rate", "10", "--pipeline", "2", "http://a/"}, 2, "no --pipeline with it"},
        {{"--timeout", "0", "http://a/"}, 2, "bad timeout"},
        {{"ftp://a/"}, 2, "only http:// and https://"},
        {{"not a url"}, 2, "bad URL"},
        {{"http://a/", "http://b/"}, 2, "one URL only"},
        {{"--insecure", "http://a/"}, 2, "are for https://"},
        {{"--body", "/no/such/file", "http://a/"}, 1, "/no/such/file: No such file or directory"},
        {{"--cafile", "/no/such/ca.pem", "https://a/"}, 1, "/no/such/ca.pem:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cio_buf out = {0}, err = {0};
        int status = bench((char *const *)cases[i].args, &out, &err);
        WK_CHECK(status == cases[i].status, "%s: exit %d", wk_s(cases[i].args[0]), status);
        const char *where = cases[i].status ? err.data : out.data;
        WK_CHECK(where && strstr(where, cases[i].has), "%s: %s", wk_s(cases[i].args[0]), wk_s(where));
        if (cases[i].status == 2)
            WK_CHECK(strstr(err.data, "Try 'cio-bench --help'"), "%s", err.data);
        cio_buf_free(&out);
        cio_buf_free(&err);
    }
    return 0;
}

Test(bench, usage_errors_exit_2_and_bad_files_1)
{
    tst_run(cli_body, NULL);
    wk_verdict();
}
