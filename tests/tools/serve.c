/* serve.c: cio-serve as its users run it: a process on a port the kernel picks, asked with curl and Python's
 * requests (files, listings, ranges, conditional requests, compression, HTTPS, CORS, the access log), stopped with
 * SIGTERM in the middle of a transfer that must still finish, and its command line's errors with their exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlskit.h"
#include "../web/webkit.h"

TestSuite(serve, .init = wk_init);

#define SERVE CIO_TOOLS_DIR "/cio-serve"

static char root[256];

static void put(const char *name, const char *data, size_t len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void make_root(void)
{
    snprintf(root, sizeof root, "%s/cio-serve-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(root));
    put("hello.txt", "hello, world\n", 13);
    static char text[20000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "abcdefgh\n"[i % 9];
    put("page.html", text, sizeof text);
    char p[512];
    snprintf(p, sizeof p, "%s/sub", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    put("sub/index.html", "<p>sub index</p>\n", 17);
    snprintf(p, sizeof p, "%s/list", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    put("list/a & b.txt", "a", 1);
    /* 8 MiB for the transfer that SIGTERM must not cut short */
    static char big[1 << 20];
    memset(big, 'z', sizeof big);
    snprintf(p, sizeof p, "%s/big.bin", root);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(fwrite(big, 1, sizeof big, f), sizeof big);
    fclose(f);
}

static void remove_root(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

struct running {
    cio_process *p;
    int port;
};

/* Start cio-serve with `args` (after "-p 0 -b 127.0.0.1") and read its "Serving ..." line for the port. */
static int start(struct running *r, char *const args[])
{
    char *argv[32] = {SERVE, "-p", "0", "-b", "127.0.0.1"};
    int n = 5;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_DEVNULL};
    int rc = cio_process_exec(&r->p, argv, &po);
    WK_EQ(rc, 0);
    if (rc < 0)
        return rc;
    char line[1024];
    ssize_t len = cio_stream_read_until(cio_process_stdout(r->p), "\n", 1, line, sizeof line - 1);
    WK_CHECK(len > 0, "%s", cio_strerror((int)len));
    if (len <= 0)
        return -EIO;
    line[len] = 0;
    const char *port = strstr(line, " port ");
    r->port = port ? atoi(port + 6) : 0;
    WK_CHECK(r->port > 0 && !strncmp(line, "Serving ", 8), "%s", line);
    return r->port > 0 ? 0 : -EIO;
}

/* SIGTERM, then its exit status, which must be 0. */
static void stop(struct running *r)
{
    WK_EQ(cio_process_terminate(r->p), 0);
    int status = -1;
    WK_EQ(cio_process_wait(r->p, &status), 0);
    WK_EQ(status, 0);
    cio_process_close(r->p);
}

/* curl with `args`, stdout into `out`. Returns its exit status. */
static int curl(char *const args[], cio_buf *out)
{
    char *argv[32] = {"curl", "--silent", "--show-error", "--max-time", "60"};
    int n = 5;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return wk_run(argv, NULL, 0, out);
}

static const char *url(char *buf, size_t cap, const struct running *r, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", r->port, path);
    return buf;
}

static int files_body(void *arg)
{
    (void)arg;
    char log[600];
    snprintf(log, sizeof log, "%s.log", root);
    unlink(log);
    struct running r;
    if (start(&r, (char *[]){"--log", log, "--cors", root, NULL}) < 0)
        return 0;
    char u[256];
    cio_buf out = {0};
    /* a file, whole and in a range */
    WK_EQ(curl((char *[]){(char *)url(u, sizeof u, &r, "/hello.txt"), NULL}, &out), 0);
    WK_STREQ(out.data, "hello, world\n");
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){"-r", "7-11", u, NULL}, &out), 0);
    WK_STREQ(out.data, "world");
    cio_buf_free(&out);
    /* conditional: the ETag it sent makes the next request a 304 */
    WK_EQ(curl((char *[]){"-I", u, NULL}, &out), 0);
    const char *etag = out.data ? strcasestr(out.data, "\r\nETag: ") : NULL;
    WK_CHECK(etag != NULL, "%s", wk_s(out.data));
    char inm[128] = "If-None-Match: ";
    if (etag) {
        size_t k = strcspn(etag + 8, "\r");
        snprintf(inm + 15, sizeof inm - 15, "%.*s", (int)k, etag + 8);
    }
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){"-o", "/dev/null", "-w", "%{http_code}", "-H", inm, u, NULL}, &out), 0);
    WK_STREQ(out.data, "304");
    cio_buf_free(&out);
    /* a text file compressed for a client that accepts it, and the same bytes once decoded */
    WK_EQ(curl((char *[]){"-o", "/dev/null", "-w", "%{size_download} %{content_type}", "-H", "Accept-Encoding: gzip",
                          (char *)url(u, sizeof u, &r, "/page.html"), NULL},
               &out),
          0);
    WK_CHECK(out.data && atoi(out.data) > 0 && atoi(out.data) < 2000, "%s", wk_s(out.data));
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){"--compressed", "-o", "/dev/null", "-w", "%{size_download}", u, NULL}, &out), 0);
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){"--compressed", u, NULL}, &out), 0);
    WK_EQ(out.len, 20000);
    cio_buf_free(&out);
    /* a directory's index, a listing with its names escaped, the redirect to the slash */
    WK_EQ(curl((char *[]){(char *)url(u, sizeof u, &r, "/sub/"), NULL}, &out), 0);
    WK_STREQ(out.data, "<p>sub index</p>\n");
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){(char *)url(u, sizeof u, &r, "/list/"), NULL}, &out), 0);
    WK_CHECK(out.data && strstr(out.data, "a &amp; b.txt"), "%s", wk_s(out.data));
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){"-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                          (char *)url(u, sizeof u, &r, "/list"), NULL},
               &out),
          0);
    char want[256];
    snprintf(want, sizeof want, "301 http://127.0.0.1:%d/list/", r.port);
    WK_STREQ(out.data, want);
    cio_buf_free(&out);
    /* nothing outside the root */
    WK_EQ(curl((char *[]){"--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
                          (char *)url(u, sizeof u, &r, "/../../etc/passwd"), NULL},
               &out),
          0);
    WK_STREQ(out.data, "404");
    cio_buf_free(&out);
    /* CORS */
    WK_EQ(curl((char *[]){"-I", "-H", "Origin: http://app.example", (char *)url(u, sizeof u, &r, "/hello.txt"), NULL},
               &out),
          0);
    WK_CHECK(out.data && strcasestr(out.data, "Access-Control-Allow-Origin: *"), "%s", wk_s(out.data));
    cio_buf_free(&out);
    /* Python's requests: a range, streamed */
    char script[512];
    snprintf(script, sizeof script,
             "import requests\n"
             "r = requests.get('http://127.0.0.1:%d/page.html', headers={'Range': 'bytes=9-17'}, timeout=30)\n"
             "print(r.status_code, r.headers['Content-Range'], r.text)\n",
             r.port);
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", script, NULL}, NULL, 0, &out), 0);
    WK_STREQ(out.data, "206 bytes 9-17/20000 abcdefgh\n\n");
    cio_buf_free(&out);
    stop(&r);
    /* The access log: one combined-format line per request, the ones above in order. */
    FILE *f = fopen(log, "r");
    WK_CHECK(f != NULL, "%s", log);
    int lines = 0;
    char line[1024];
    bool first_ok = false;
    while (f && fgets(line, sizeof line, f)) {
        if (lines == 0)
            first_ok = !strncmp(line, "127.0.0.1 - - [", 15) &&
                       strstr(line, "] \"GET /hello.txt HTTP/1.1\" 200 13 \"-\" \"curl/");
        lines++;
    }
    if (f)
        fclose(f);
    WK_CHECK(first_ok, "first line");
    WK_EQ(lines, 13);
    unlink(log);
    return 0;
}

Test(serve, files_ranges_conditions_compression_listings_cors_and_the_access_log)
{
    make_root();
    tst_run(files_body, NULL);
    remove_root();
    wk_verdict();
}

static int no_list_body(void *arg)
{
    (void)arg;
    struct running r;
    if (start(&r, (char *[]){"--no-list", "--workers", "2", root, NULL}) < 0)
        return 0;
    char u[256];
    cio_buf out = {0};
    WK_EQ(curl((char *[]){"-o", "/dev/null", "-w", "%{http_code}", (char *)url(u, sizeof u, &r, "/list/"), NULL}, &out),
          0);
    WK_STREQ(out.data, "403");
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){(char *)url(u, sizeof u, &r, "/sub/"), NULL}, &out), 0);
    WK_STREQ(out.data, "<p>sub index</p>\n");
    cio_buf_free(&out);
    stop(&r);
    return 0;
}

Test(serve, no_list_answers_403_for_a_directory_without_index)
{
    make_root();
    tst_run(no_list_body, NULL);
    remove_root();
    wk_verdict();
}

static int https_body(void *arg)
{
    const char *dir = arg;
    char cert[300], key[300], ca[300];
    tlskit_path(dir, "server.pem", cert, sizeof cert);
    tlskit_path(dir, "server.key", key, sizeof key);
    tlskit_path(dir, "ca.pem", ca, sizeof ca);
    struct running r;
    if (start(&r, (char *[]){"--cert", cert, "--key", key, root, NULL}) < 0)
        return 0;
    char u[256];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/hello.txt", r.port);
    cio_buf out = {0};
    WK_EQ(curl((char *[]){"--cacert", ca, u, NULL}, &out), 0);
    WK_STREQ(out.data, "hello, world\n");
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){u, NULL}, &out), 60); /* curl: the test CA is not in the system store */
    cio_buf_free(&out);
    stop(&r);
    return 0;
}

Test(serve, https_with_the_tests_certificates)
{
    make_root();
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(https_body, dir);
    tlskit_remove(dir);
    remove_root();
    wk_verdict();
}

/* SIGTERM in the middle of a 256 MiB transfer (a sparse file: more than every socket buffer holds, so the transfer
   spans the shutdown): the server stops accepting at once, the transfer still finishes whole within the grace
   period, and the server exits 0 after it. */
static int sigterm_body(void *arg)
{
    (void)arg;
    char p[512];
    snprintf(p, sizeof p, "%s/huge.bin", root);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    WK_CHECK(fd >= 0 && ftruncate(fd, 256 << 20) == 0, "%s", p);
    if (fd >= 0)
        close(fd);
    struct running r;
    if (start(&r, (char *[]){"--grace", "120", root, NULL}) < 0)
        return 0;
    cio_stream *s;
    WK_EQ(cio_open_connection(&s, "127.0.0.1", r.port, NULL), 0);
    static const char req[] = "GET /huge.bin HTTP/1.1\r\nHost: t\r\n\r\n";
    WK_EQ(cio_stream_write(s, req, sizeof req - 1), 0);
    char head[1024];
    ssize_t hl = cio_stream_read_until(s, "\r\n\r\n", 4, head, sizeof head - 1);
    WK_CHECK(hl > 0, "%s", cio_strerror((int)hl));
    head[hl > 0 ? hl : 0] = 0;
    WK_CHECK(strstr(head, "\r\nContent-Length: 268435456\r\n") != NULL, "%s", head);
    static char buf[65536];
    uint64_t got = 0;
    ssize_t n;
    while (got < (1u << 20) && (n = cio_stream_read(s, buf, sizeof buf)) > 0)
        got += (uint64_t)n;
    WK_EQ(cio_process_terminate(r.p), 0); /* mid-transfer */
    /* The listener closes when the shutdown starts: wait for a connection to be refused (bounded), while the
       transfer waits, unread. */
    int refused = 0;
    for (int i = 0; i < 2000 && !refused; i++) {
        cio_stream *probe;
        int rc = cio_open_connection(&probe, "127.0.0.1", r.port, NULL);
        if (rc == 0) {
            cio_stream_close(probe);
            cio_sleep(CIO_MS(5));
        } else {
            refused = rc == -ECONNREFUSED;
            WK_EQ(rc, -ECONNREFUSED);
        }
    }
    WK_CHECK(refused, "the listener still accepts after SIGTERM");
    WK_CHECK(got < (256u << 20), "%llu bytes before the shutdown", (unsigned long long)got);
    bool zeros = true;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            zeros &= buf[i] == 0;
        got += (uint64_t)n;
    }
    WK_EQ(n, 0);
    WK_EQ(got, 256u << 20);
    WK_CHECK(zeros, "bytes");
    cio_stream_close(s);
    int status = -1;
    WK_EQ(cio_process_wait(r.p, &status), 0);
    WK_EQ(status, 0);
    cio_process_close(r.p);
    return 0;
}

Test(serve, sigterm_lets_a_transfer_in_progress_finish, .timeout = 300)
{
    make_root();
    tst_run(sigterm_body, NULL);
    remove_root();
    wk_verdict();
}

/* The command line's errors: each its exit code and one message on stderr. */
static int cli_body(void *arg)
{
    (void)arg;
    static const struct {
        const char *args[6];
        int status;
        const char *stderr_has;
    } cases[] = {
        {{"--help"}, 0, NULL},
        {{"--version"}, 0, NULL},
        {{"--port", "70000"}, 2, "bad port '70000'"},
        {{"-p"}, 2, "needs a value"},
        {{"--bogus"}, 2, "unknown option '--bogus'"},
        {{"--cert", "x.pem"}, 2, "--cert and --key go together"},
        {{"--workers", "-1"}, 2, "bad worker count"},
        {{"/no/such/dir"}, 1, "/no/such/dir: No such file or directory"},
        {{"a", "b"}, 2, "one directory only"},
        {{"-b", "not-an-address", "-p", "0", "."}, 1, "cio-serve: not-an-address:0:"},
        {{"--log", "/no/such/dir/log", "."}, 1, "/no/such/dir/log:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[8] = {SERVE};
        int n = 1;
        for (int k = 0; cases[i].args[k]; k++)
            argv[n++] = (char *)cases[i].args[k];
        argv[n] = NULL;
        cio_process *p;
        cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
        if (cio_process_exec(&p, argv, &po) < 0) {
            WK_CHECK(false, "exec");
            continue;
        }
        cio_buf out = {0}, err = {0};
        WK_EQ(cio_process_communicate(p, NULL, 0, &out, &err), 0);
        int status = -1;
        WK_EQ(cio_process_wait(p, &status), 0);
        cio_process_close(p);
        WK_CHECK(status == cases[i].status, "%s: exit %d", cases[i].args[0], status);
        if (cases[i].stderr_has)
            WK_CHECK(err.data && strstr(err.data, cases[i].stderr_has), "%s: %s", cases[i].args[0], wk_s(err.data));
        if (i == 0)
            WK_CHECK(out.data && !strncmp(out.data, "Usage: cio-serve", 16) && strstr(out.data, "Exit status:"), "%s",
                     wk_s(out.data));
        if (i == 1)
            WK_CHECK(out.data && !strncmp(out.data, "cio-serve ", 10), "%s", wk_s(out.data));
        cio_buf_free(&out);
        cio_buf_free(&err);
    }
    return 0;
}

Test(serve, command_line_errors_exit_2_and_serving_errors_1)
{
    tst_run(cli_body, NULL);
    wk_verdict();
}
