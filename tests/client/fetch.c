/* fetch.c: the fetch and print_headers examples as their users run them, as processes: against cio's own server
 * (bodies, heads, methods and bodies sent, outputs to files, several URLs at once printed in order, redirects,
 * --fail, -v, Basic auth, a proxy, --resolve, a Unix socket, bad usage), nginx (gzip decoded, or not), openssl
 * s_server (a good chain, an unknown issuer, an expired certificate, a host name mismatch, --insecure), a refused
 * connection and a server that never answers. Each checks stdout, stderr and the exit status. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clientkit.h"
#include "netkit.h"
#include "tlskit.h"

TestSuite(client_fetch, .init = wk_init, .timeout = 120);

#define FETCH         CIO_EXAMPLES_DIR "/fetch"
#define PRINT_HEADERS CIO_EXAMPLES_DIR "/print_headers"

/* What one run of an example gave. */
struct ran {
    int status; /* the exit status, or a negative error starting it */
    cio_buf out, err;
};

static void ran_free(struct ran *r)
{
    cio_buf_free(&r->out);
    cio_buf_free(&r->err);
}

/* Run `prog` with `args` (NULL-terminated), stdin empty; stdout and stderr kept in `r`. */
static void run(struct ran *r, const char *prog, char *const args[])
{
    char *argv[48] = {(char *)prog};
    int n = 1;
    for (int i = 0; args[i] && n < 47; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    *r = (struct ran){.status = -1};
    cio_process *p;
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0) {
        r->status = rc;
        return;
    }
    rc = cio_process_communicate(p, NULL, 0, &r->out, &r->err);
    int status = -1;
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    r->status = rc < 0 ? rc : status;
}

static const char *s_or_empty(const cio_buf *b)
{
    return b->data ? b->data : "";
}

/* The exit status, stdout and stderr of a run, exactly. */
#define RAN_IS(r, st, out_, err_)                \
    do {                                         \
        WK_EQ((r)->status, (st));                \
        WK_STREQ(s_or_empty(&(r)->out), (out_)); \
        WK_STREQ(s_or_empty(&(r)->err), (err_)); \
    } while (0)

/* fetch's one line for a failed URL. */
static const char *failure(char *buf, size_t cap, const char *url, int rc)
{
    snprintf(buf, cap, "fetch: %s: %s\n", url, cio_strerror(rc));
    return buf;
}

/* ------------------------------------------------------------------------------------------------ the server */

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_text(res, 200, "hello\n");
}

/* "METHOD Content-Type body", the body as it came. */
static int h_echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_buf b = {0};
    int rc = cio_http_body_read_all(cio_web_body(req), &b);
    if (rc < 0)
        return rc;
    const char *type = cio_web_header(req, "Content-Type");
    rc = cio_web_text(res, 200, "%s %s %s", cio_web_method(req), type ? type : "-", b.data ? b.data : "");
    cio_buf_free(&b);
    return rc;
}

/* The request's Authorization and X-Test fields. */
static int h_fields(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *auth = cio_web_header(req, "Authorization"), *x = cio_web_header(req, "X-Test");
    return cio_web_text(res, 200, "auth=%s x=%s\n", auth ? auth : "-", x ? x : "-");
}

/* Answers once /fast has been asked for (or, after 5 s of waiting, says it never was): the URLs of one run must be
   in flight together, and the later URL's answer comes first while the output keeps the arguments' order. */
static bool fast_seen;

static int h_slow(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    for (int i = 0; i < 500 && !fast_seen; i++) {
        int rc = cio_sleep(CIO_MS(10));
        if (rc)
            return rc;
    }
    return cio_web_text(res, 200, fast_seen ? "slow\n" : "not concurrent\n");
}

static int h_fast(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    fast_seen = true;
    return cio_web_text(res, 200, "fast\n");
}

static int h_moved(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_add_header(res, "Location", "/hello");
    return rc ? rc : cio_web_text(res, 302, "moved\n");
}

static int h_missing(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    return cio_web_text(res, 404, "no such thing\n");
}

static int h_moved_twice(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_add_header(res, "Location", "/moved");
    return rc ? rc : cio_web_text(res, 302, "moved twice\n");
}

/* Sets a cookie and sends the client on to /showc, which shows the Cookie field it got. */
static int h_setc(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_add_header(res, "Set-Cookie", "k=v; Path=/");
    if (!rc)
        rc = cio_web_add_header(res, "Location", "/showc");
    return rc ? rc : cio_web_text(res, 302, "see /showc\n");
}

static int h_showc(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *c = cio_web_header(req, "Cookie");
    return cio_web_text(res, 200, "cookie=%s\n", c ? c : "-");
}

static cio_web_app *app_open(void)
{
    cio_web_app *app = NULL;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/hello", h_hello, NULL), 0);
    WK_EQ(cio_web_route(app, "*", "/echo", h_echo, NULL), 0);
    WK_EQ(cio_web_get(app, "/fields", h_fields, NULL), 0);
    WK_EQ(cio_web_get(app, "/slow", h_slow, NULL), 0);
    WK_EQ(cio_web_get(app, "/fast", h_fast, NULL), 0);
    WK_EQ(cio_web_get(app, "/moved", h_moved, NULL), 0);
    WK_EQ(cio_web_get(app, "/missing", h_missing, NULL), 0);
    WK_EQ(cio_web_get(app, "/moved-twice", h_moved_twice, NULL), 0);
    WK_EQ(cio_web_get(app, "/setc", h_setc, NULL), 0);
    WK_EQ(cio_web_get(app, "/showc", h_showc, NULL), 0);
    return app;
}

struct served {
    cio_web_app *app;
    cio_web_server *srv;
    int port;
};

static void serve(struct served *sv, const char *unix_path)
{
    sv->app = app_open();
    WK_EQ(cio_web_server_start(&sv->srv, sv->app, &(cio_web_server_opts){.host = "127.0.0.1", .unix_path = unix_path}),
          0);
    sv->port = unix_path ? 0 : cio_web_server_port(sv->srv);
}

static void unserve(struct served *sv)
{
    WK_EQ(cio_web_server_close(sv->srv, CIO_SEC(5)), 0);
    cio_web_app_close(sv->app);
}

static const char *url(char *buf, size_t cap, const struct served *sv, const char *path)
{
    return ck_url(buf, cap, sv->port, path);
}

/* A file's whole content into `buf` (NUL-terminated); its length, or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return (long)n;
}

/* ------------------------------------------------------------------------------------------------ cio's server */

static int bodies_body(void *arg)
{
    (void)arg;
    struct served sv;
    serve(&sv, NULL);
    char u[128], u2[128];
    struct ran r;

    run(&r, FETCH, (char *[]){(char *)url(u, sizeof u, &sv, "/hello"), NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);

    /* -i: the status line and fields as they came, CRLFs kept (curl -i's output), then the body. */
    run(&r, FETCH, (char *[]){"-i", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP/1.1 200 OK\r\n", 17), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.data && strstr(r.out.data, "\r\nContent-Length: 6\r\n"), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.len > 10 && !strcmp(r.out.data + r.out.len - 10, "\r\n\r\nhello\n"), "%s", wk_s(r.out.data));
    WK_STREQ(s_or_empty(&r.err), "");
    ran_free(&r);

    /* -I: HEAD, the head alone. */
    run(&r, FETCH, (char *[]){"-I", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP/1.1 200 OK\r\n", 17), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.len > 4 && !strcmp(r.out.data + r.out.len - 4, "\r\n\r\n"), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.data && !strstr(r.out.data, "hello"), "%s", wk_s(r.out.data));
    ran_free(&r);

    /* -d: a POST of a form unless -X and -H say otherwise. */
    url(u, sizeof u, &sv, "/echo");
    run(&r, FETCH, (char *[]){"-d", "a=1&b=two", u, NULL});
    RAN_IS(&r, 0, "POST application/x-www-form-urlencoded a=1&b=two", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"-X", "PATCH", "-H", "Content-Type: text/x-note", "-d", "note", u, NULL});
    RAN_IS(&r, 0, "PATCH text/x-note note", "");
    ran_free(&r);

    /* --data-binary: the argument as it is, or a file's content with @. */
    char dir[256], path[300], p1[300], p2[300], got[256];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/body.bin", dir);
    FILE *f = fopen(path, "wb");
    WK_CHECK(f != NULL, "%s", path);
    if (f) {
        fputs("from a file\nline 2", f);
        fclose(f);
    }
    char at[310];
    snprintf(at, sizeof at, "@%s", path);
    run(&r, FETCH, (char *[]){"-X", "PUT", "--data-binary", at, u, NULL});
    RAN_IS(&r, 0, "PUT - from a file\nline 2", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"-d", at, u, NULL});
    RAN_IS(&r, 0, "POST application/x-www-form-urlencoded from a file\nline 2", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--data-binary", "raw=1", u, NULL});
    RAN_IS(&r, 0, "POST - raw=1", "");
    ran_free(&r);
    /* A body file that is not there fails before anything is sent. */
    snprintf(at, sizeof at, "@%s/none", dir);
    run(&r, FETCH, (char *[]){"--data-binary", at, u, NULL});
    char line[512];
    RAN_IS(&r, 26, "", failure(line, sizeof line, u, -ENOENT));
    ran_free(&r);

    /* -o once per URL, in order; the -i head goes into the file too. */
    snprintf(p1, sizeof p1, "%s/one.txt", dir);
    snprintf(p2, sizeof p2, "%s/two.txt", dir);
    url(u, sizeof u, &sv, "/hello");
    url(u2, sizeof u2, &sv, "/fast");
    run(&r, FETCH, (char *[]){"-o", p1, "-o", p2, u, u2, NULL});
    RAN_IS(&r, 0, "", "");
    ran_free(&r);
    WK_EQ(slurp(p1, got, sizeof got), 6);
    WK_STREQ(got, "hello\n");
    WK_EQ(slurp(p2, got, sizeof got), 5);
    WK_STREQ(got, "fast\n");
    run(&r, FETCH, (char *[]){"-i", "-o", p1, u, NULL});
    RAN_IS(&r, 0, "", "");
    ran_free(&r);
    WK_CHECK(slurp(p1, got, sizeof got) > 6 && !strncmp(got, "HTTP/1.1 200 OK\r\n", 17) &&
                 strstr(got, "\r\n\r\nhello\n"),
             "%s", got);
    /* Fewer -o than URLs: the rest go to stdout. */
    run(&r, FETCH, (char *[]){"-o", p2, u2, u, NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);
    nk_rmdir(dir);
    unserve(&sv);
    return 0;
}

Test(client_fetch, bodies_heads_methods_data_and_output_files)
{
    tst_run(bodies_body, NULL);
    wk_verdict();
}

static int concurrent_body(void *arg)
{
    (void)arg;
    struct served sv;
    serve(&sv, NULL);
    char a[128], b[128], c[128];
    url(a, sizeof a, &sv, "/slow");
    url(b, sizeof b, &sv, "/fast");
    url(c, sizeof c, &sv, "/hello");
    struct ran r;
    /* /slow answers only once /fast was asked for, so it answers last, but is printed first: the requests are in
       flight together, and the output is in the arguments' order, not the answers'. */
    fast_seen = false;
    run(&r, FETCH, (char *[]){a, b, c, b, NULL});
    RAN_IS(&r, 0, "slow\nfast\nhello\nfast\n", "");
    ran_free(&r);
    unserve(&sv);
    return 0;
}

Test(client_fetch, several_urls_are_fetched_at_once_and_printed_in_order)
{
    tst_run(concurrent_body, NULL);
    wk_verdict();
}

static int redirects_body(void *arg)
{
    (void)arg;
    struct served sv;
    serve(&sv, NULL);
    char u[128], line[512];
    url(u, sizeof u, &sv, "/moved");
    struct ran r;
    run(&r, FETCH, (char *[]){u, NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);
    /* 0: not followed; the 3xx is the response. */
    run(&r, FETCH, (char *[]){"--max-redirects", "0", u, NULL});
    RAN_IS(&r, 0, "moved\n", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--max-redirects", "0", "-i", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP/1.1 302 Found\r\n", 20), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.data && strstr(r.out.data, "\r\nLocation: /hello\r\n"), "%s", wk_s(r.out.data));
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--max-redirects", "1", u, NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);
    url(u, sizeof u, &sv, "/moved-twice");
    run(&r, FETCH, (char *[]){"--max-redirects", "1", u, NULL});
    RAN_IS(&r, 47, "", failure(line, sizeof line, u, CIO_ECLIENT_TOO_MANY_REDIRECTS));
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--max-redirects", "2", u, NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);

    /* -b: the jar keeps the cookie set before the redirect and sends it after. */
    url(u, sizeof u, &sv, "/setc");
    run(&r, FETCH, (char *[]){"-b", u, NULL});
    RAN_IS(&r, 0, "cookie=k=v\n", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){u, NULL});
    RAN_IS(&r, 0, "cookie=-\n", "");
    ran_free(&r);

    /* 4xx is a response (exit 0) unless --fail, which exits 22 as curl -f does, printing no body. */
    url(u, sizeof u, &sv, "/missing");
    run(&r, FETCH, (char *[]){u, NULL});
    RAN_IS(&r, 0, "no such thing\n", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--fail", u, NULL});
    snprintf(line, sizeof line, "fetch: %s: %s (404)\n", u, cio_strerror(CIO_ECLIENT_STATUS));
    RAN_IS(&r, 22, "", line);
    ran_free(&r);
    unserve(&sv);
    return 0;
}

Test(client_fetch, redirects_are_followed_unless_max_redirects_is_0_and_fail_exits_22)
{
    tst_run(redirects_body, NULL);
    wk_verdict();
}

static int fields_body(void *arg)
{
    (void)arg;
    struct served sv;
    serve(&sv, NULL);
    char u[128];
    url(u, sizeof u, &sv, "/fields");
    struct ran r;
    run(&r, FETCH, (char *[]){"-u", "ann:s3cret", "-H", "X-Test: one two", u, NULL});
    RAN_IS(&r, 0, "auth=Basic YW5uOnMzY3JldA== x=one two\n", "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){u, NULL});
    RAN_IS(&r, 0, "auth=- x=-\n", "");
    ran_free(&r);

    /* -v: the request as sent (as far as fetch knows it) and the response head, on stderr. */
    url(u, sizeof u, &sv, "/hello");
    run(&r, FETCH, (char *[]){"-v", "-H", "X-Test: 1", u, NULL});
    WK_EQ(r.status, 0);
    WK_STREQ(s_or_empty(&r.out), "hello\n");
    char want[256];
    snprintf(want, sizeof want, "> GET /hello HTTP/1.1\n> Host: 127.0.0.1:%d\n", sv.port);
    WK_CHECK(r.err.data && !strncmp(r.err.data, want, strlen(want)), "%s", wk_s(r.err.data));
    WK_CHECK(r.err.data && strstr(r.err.data, "\n> X-Test: 1\n>\n"), "%s", wk_s(r.err.data));
    WK_CHECK(r.err.data && strstr(r.err.data, "\n* Connected to 127.0.0.1 port "), "%s", wk_s(r.err.data));
    WK_CHECK(r.err.data && strstr(r.err.data, "\n< HTTP/1.1 200 OK\n"), "%s", wk_s(r.err.data));
    WK_CHECK(r.err.len > 2 && !strcmp(r.err.data + r.err.len - 2, "<\n"), "%s", wk_s(r.err.data));
    ran_free(&r);

    /* --resolve: another name for the server, which Host carries. */
    char other[128], entry[128];
    snprintf(other, sizeof other, "http://fetch.invalid:%d/echo", sv.port);
    snprintf(entry, sizeof entry, "fetch.invalid:%d:127.0.0.1", sv.port);
    run(&r, FETCH, (char *[]){"--resolve", entry, "-X", "DELETE", other, NULL});
    RAN_IS(&r, 0, "DELETE - ", "");
    ran_free(&r);
    unserve(&sv);
    return 0;
}

Test(client_fetch, auth_headers_verbose_and_resolve)
{
    tst_run(fields_body, NULL);
    wk_verdict();
}

static int unix_body(void *arg)
{
    (void)arg;
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/web.sock", dir);
    struct served sv;
    serve(&sv, path);
    struct ran r;
    run(&r, FETCH, (char *[]){"--unix-socket", path, "http://daemon.invalid/hello", NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);
    /* A Unix socket and a proxy do not go together: the session refuses, before any request. */
    run(&r, FETCH, (char *[]){"--unix-socket", path, "--proxy", "http://127.0.0.1:1", "http://h/", NULL});
    char line[256];
    snprintf(line, sizeof line, "fetch: %s\n", cio_strerror(-EINVAL));
    RAN_IS(&r, 2, "", line);
    ran_free(&r);
    unserve(&sv);
    nk_rmdir(dir);
    return 0;
}

Test(client_fetch, a_unix_socket_reaches_cios_server_there)
{
    tst_run(unix_body, NULL);
    wk_verdict();
}

static int print_headers_body(void *arg)
{
    (void)arg;
    struct served sv;
    serve(&sv, NULL);
    char u[128];
    struct ran r;
    run(&r, PRINT_HEADERS, (char *[]){(char *)url(u, sizeof u, &sv, "/hello"), NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP header> HTTP/1.1 200 OK\n", 29), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.data && strstr(r.out.data, "\nHTTP header> Content-Length: 6\n"), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.data && !strstr(r.out.data, "hello"), "%s", wk_s(r.out.data));
    WK_STREQ(s_or_empty(&r.err), "");
    ran_free(&r);
    /* A redirect is printed, not followed. */
    run(&r, PRINT_HEADERS, (char *[]){(char *)url(u, sizeof u, &sv, "/moved"), NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP header> HTTP/1.1 302 Found\n", 32), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.data && strstr(r.out.data, "\nHTTP header> Location: /hello\n"), "%s", wk_s(r.out.data));
    ran_free(&r);
    run(&r, PRINT_HEADERS, (char *[]){NULL});
    WK_EQ(r.status, 2);
    ran_free(&r);
    unserve(&sv);
    return 0;
}

Test(client_fetch, print_headers_prints_the_response_head)
{
    tst_run(print_headers_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ failures */

static int refused_body(void *arg)
{
    (void)arg;
    cio_addr a;
    int fd = nk_refusing_port("127.0.0.1", &a);
    char u[128], line[256];
    ck_url(u, sizeof u, cio_addr_port(&a), "/");
    struct ran r;
    run(&r, FETCH, (char *[]){u, NULL});
    RAN_IS(&r, 7, "", failure(line, sizeof line, u, -ECONNREFUSED));
    ran_free(&r);
    /* One line per failed URL; the good ones still print, and the exit status is the first failure's. */
    struct served sv;
    serve(&sv, NULL);
    char good[128];
    url(good, sizeof good, &sv, "/hello");
    run(&r, FETCH, (char *[]){good, u, NULL});
    RAN_IS(&r, 7, "hello\n", line);
    ran_free(&r);
    unserve(&sv);
    close(fd);
    return 0;
}

Test(client_fetch, a_refused_connection_is_one_line_and_exit_7)
{
    tst_run(refused_body, NULL);
    wk_verdict();
}

/* Reads the request and never answers, until the client gives up. */
static int never_answers(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    (void)ck_read_request(s, rs);
    return ck_wait_close(s);
}

static int timeout_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = never_answers};
    WK_EQ(ck_raw_start(&rs), 0);
    char u[128], line[256];
    ck_url(u, sizeof u, rs.port, "/");
    struct ran r;
    /* The program's own real-time bound: it ends, non-zero, with the total timeout's message. */
    run(&r, FETCH, (char *[]){"--timeout", "0.2", u, NULL});
    RAN_IS(&r, 28, "", failure(line, sizeof line, u, CIO_ECLIENT_TIMEOUT));
    ran_free(&r);
    ck_raw_stop(&rs);
    return 0;
}

/* Answers with something that is not HTTP. */
static int not_http(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    int rc = ck_read_request(s, rs);
    return rc < 0 ? rc : ck_write(s, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
}

static int protocol_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = not_http};
    WK_EQ(ck_raw_start(&rs), 0);
    char u[128], line[256];
    ck_url(u, sizeof u, rs.port, "/");
    struct ran r;
    run(&r, FETCH, (char *[]){u, NULL});
    WK_EQ(r.status, 8);
    WK_STREQ(s_or_empty(&r.out), "");
    snprintf(line, sizeof line, "fetch: %s: HTTP: ", u);
    WK_CHECK(r.err.data && !strncmp(r.err.data, line, strlen(line)) &&
                 strchr(r.err.data, '\n') == r.err.data + r.err.len - 1,
             "%s", wk_s(r.err.data));
    ran_free(&r);
    ck_raw_stop(&rs);
    /* A malformed URL (3) and a header field the client refuses (1). */
    run(&r, FETCH, (char *[]){"http://h:99999/", NULL});
    RAN_IS(&r, 3, "", failure(line, sizeof line, "http://h:99999/", CIO_EHTTP_BAD_PORT));
    ran_free(&r);
    run(&r, FETCH, (char *[]){"-H", "Bad Name: x", "http://127.0.0.1:1/", NULL});
    RAN_IS(&r, 1, "", failure(line, sizeof line, "http://127.0.0.1:1/", CIO_EHTTP_BAD_FIELD));
    ran_free(&r);
    return 0;
}

Test(client_fetch, a_reply_that_is_not_http_exits_8_and_bad_urls_3)
{
    tst_run(protocol_body, NULL);
    wk_verdict();
}

static int connect_timeout_body(void *arg)
{
    (void)arg;
    cio_addr a;
    cio_stream *filler = NULL;
    int fd = nk_full_listener("127.0.0.1", 0, &a, &filler);
    WK_CHECK(fd >= 0, "%s", cio_strerror(fd));
    if (fd < 0)
        return 0;
    char u[128], line[256];
    ck_url(u, sizeof u, cio_addr_port(&a), "/");
    struct ran r;
    run(&r, FETCH, (char *[]){"--connect-timeout", "0.2", u, NULL});
    RAN_IS(&r, 28, "", failure(line, sizeof line, u, CIO_ECLIENT_CONNECT_TIMEOUT));
    ran_free(&r);
    cio_stream_close(filler);
    close(fd);
    return 0;
}

Test(client_fetch, a_connect_that_never_completes_ends_in_the_connect_timeout)
{
    tst_run(connect_timeout_body, NULL);
    wk_verdict();
}

Test(client_fetch, a_server_that_never_answers_ends_in_the_total_timeout)
{
    tst_run(timeout_body, NULL);
    wk_verdict();
}

/* What a plain HTTP proxy sees: the absolute form. */
static int proxy_answers(cio_stream *s, struct ck_raw *rs, int index)
{
    (void)index;
    int rc = ck_read_request(s, rs);
    if (rc < 0)
        return rc;
    return ck_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nproxied\r\n");
}

static int proxy_body(void *arg)
{
    (void)arg;
    struct ck_raw rs = {.fn = proxy_answers};
    WK_EQ(ck_raw_start(&rs), 0);
    char p[128];
    snprintf(p, sizeof p, "http://127.0.0.1:%d", rs.port);
    struct ran r;
    run(&r, FETCH, (char *[]){"--proxy", p, "http://origin.invalid/x?y=1", NULL});
    RAN_IS(&r, 0, "proxied\r\n", "");
    ran_free(&r);
    WK_CHECK(!strncmp(rs.last, "GET http://origin.invalid/x?y=1 HTTP/1.1\r\n", 42), "%s", rs.last);
    ck_raw_stop(&rs);
    return 0;
}

Test(client_fetch, a_proxy_gets_the_absolute_form)
{
    tst_run(proxy_body, NULL);
    wk_verdict();
}

static int usage_body(void *arg)
{
    (void)arg;
    struct ran r;
    run(&r, FETCH, (char *[]){NULL});
    WK_EQ(r.status, 2);
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--frobnicate", "http://h/", NULL});
    WK_EQ(r.status, 2);
    WK_CHECK(r.err.data && !strncmp(r.err.data, "fetch: unknown option --frobnicate\n", 35), "%s", wk_s(r.err.data));
    ran_free(&r);
    run(&r, FETCH, (char *[]){"-H", "no colon", "http://h/", NULL});
    RAN_IS(&r, 2, "", "fetch: -H no colon: not 'Name: value'\n");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--timeout", "soon", "http://h/", NULL});
    RAN_IS(&r, 2, "", "fetch: --timeout soon: not a number of seconds above 0\n");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--max-redirects", "-1", "http://h/", NULL});
    RAN_IS(&r, 2, "", "fetch: --max-redirects -1: not a count from 0 to 1000\n");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"-o", "a", "-o", "b", "http://h/", NULL});
    RAN_IS(&r, 2, "", "fetch: 2 -o for 1 URLs\n");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--cert", "c.pem", "http://h/", NULL});
    RAN_IS(&r, 2, "", "fetch: --cert and --key go together\n");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"http://h/", "-X", NULL});
    RAN_IS(&r, 2, "", "fetch: -X needs a value\n");
    ran_free(&r);
    /* What the session refuses is named by its error: a URL that is not one, a scheme it does not speak. */
    char line[256];
    run(&r, FETCH, (char *[]){"ftp://h/", NULL});
    RAN_IS(&r, 1, "", failure(line, sizeof line, "ftp://h/", CIO_ECLIENT_BAD_SCHEME));
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--proxy", "socks5://p:1", "http://h/", NULL});
    snprintf(line, sizeof line, "fetch: %s\n", cio_strerror(CIO_ECLIENT_BAD_PROXY));
    RAN_IS(&r, 2, "", line);
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--resolve", "nocolons", "http://h/", NULL});
    snprintf(line, sizeof line, "fetch: %s\n", cio_strerror(CIO_ECLIENT_BAD_RESOLVE));
    RAN_IS(&r, 2, "", line);
    ran_free(&r);
    return 0;
}

Test(client_fetch, bad_usage_exits_2_with_a_reason)
{
    tst_run(usage_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ peers */

/* A port free a moment ago (the peer binds it next; the peer's start is retried if it lost the race). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Start `argv` and wait until it accepts on `port`: 0, or -ECONNREFUSED if it never did (it is then stopped). */
static int start_peer(cio_process **p, char *const argv[], int port)
{
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_DEVNULL};
    int rc = cio_process_exec(p, argv, &po);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 250; i++) {
        cio_stream *s;
        if ((rc = cio_open_connection(&s, "127.0.0.1", port, NULL)) == 0) {
            cio_stream_close(s);
            return 0;
        }
        cio_sleep(CIO_MS(20));
    }
    cio_process_kill(*p);
    int status;
    cio_process_wait(*p, &status);
    cio_process_close(*p);
    return -ECONNREFUSED;
}

static void stop_peer(cio_process *p)
{
    WK_EQ(cio_process_terminate(p), 0);
    int status;
    WK_EQ(cio_process_wait(p, &status), 0);
    cio_process_close(p);
}

static const char *nginx_path(void)
{
    static const char *const where[] = {"/usr/sbin/nginx", "/sbin/nginx", "/usr/bin/nginx"};
    for (size_t i = 0; i < 3; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

static const char text[] = "the quick brown fox jumps over the lazy dog, again and again and again and again\n";

static int nginx_body(void *arg)
{
    const char *dir = arg;
    char conf[300], file[300], tmp[300];
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    snprintf(file, sizeof file, "%s/text.txt", dir);
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    mkdir(tmp, 0700);
    FILE *f = fopen(file, "w");
    WK_CHECK(f != NULL, "%s", file);
    if (!f)
        return 0;
    fputs(text, f);
    fclose(f);
    cio_process *p = NULL;
    int port = 0, rc = -ECONNREFUSED;
    for (int attempt = 0; attempt < 3 && rc == -ECONNREFUSED; attempt++) {
        port = free_port();
        f = fopen(conf, "w");
        WK_CHECK(f != NULL, "%s", conf);
        if (!f)
            return 0;
        fprintf(f,
                "%s"
                "daemon off; master_process off; worker_processes 1;\n"
                "pid %s/nginx.pid; error_log %s/error.log warn;\n"
                "events { worker_connections 64; }\n"
                "http {\n"
                "  access_log off;\n"
                "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
                "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
                "  gzip on; gzip_types text/plain; gzip_min_length 0;\n"
                "  types { text/plain txt; }\n"
                "  server { listen 127.0.0.1:%d; root %s; }\n"
                "}\n",
                getuid() == 0 ? "user root;\n" : "", dir, dir, tmp, tmp, tmp, tmp, tmp, port, dir);
        fclose(f);
        rc = start_peer(&p, (char *[]){(char *)nginx_path(), "-p", (char *)dir, "-c", conf, NULL}, port);
    }
    WK_EQ(rc, 0);
    if (rc < 0)
        return 0;
    char u[128];
    ck_url(u, sizeof u, port, "/text.txt");
    struct ran r;
    /* Decoded by default (the client asks for gzip, nginx compresses on the fly). */
    run(&r, FETCH, (char *[]){"-i", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && strstr(r.out.data, "\r\nContent-Encoding: gzip\r\n"), "%s", wk_s(r.out.data));
    WK_CHECK(r.out.len > strlen(text) && !strcmp(r.out.data + r.out.len - strlen(text), text), "%s", wk_s(r.out.data));
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--compressed", u, NULL});
    RAN_IS(&r, 0, text, "");
    ran_free(&r);
    /* --no-decompress: no Accept-Encoding of the client's, so nginx sends the text as it is... */
    run(&r, FETCH, (char *[]){"--no-decompress", u, NULL});
    RAN_IS(&r, 0, text, "");
    ran_free(&r);
    /* ...and when the caller asks for gzip, the gzip'd bytes as they came. */
    run(&r, FETCH, (char *[]){"--no-decompress", "-H", "Accept-Encoding: gzip", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.len > 10 && (unsigned char)r.out.data[0] == 0x1f && (unsigned char)r.out.data[1] == 0x8b,
             "%zu bytes", r.out.len);
    WK_STREQ(s_or_empty(&r.err), "");
    ran_free(&r);
    stop_peer(p);
    return 0;
}

Test(client_fetch, nginx_gzip_is_decoded_by_default_and_kept_with_no_decompress)
{
    cr_assert(nginx_path(), "nginx is not installed (apt-get install nginx)");
    char dir[64] = "/tmp/cio-fetch-nginx-XXXXXX";
    cr_assert(mkdtemp(dir));
    tst_run(nginx_body, dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    wk_verdict();
}

/* openssl s_server -www with the kit's `cert`; `*port` gets its port. */
static int start_s_server(cio_process **p, const char *dir, const char *cert, const char *key, int *port)
{
    char c[300], k[300], accept[16];
    tlskit_path(dir, cert, c, sizeof c);
    tlskit_path(dir, key, k, sizeof k);
    int rc = -ECONNREFUSED;
    for (int attempt = 0; attempt < 3 && rc == -ECONNREFUSED; attempt++) {
        *port = free_port();
        snprintf(accept, sizeof accept, "%d", *port);
        rc = start_peer(
            p, (char *[]){"openssl", "s_server", "-accept", accept, "-cert", c, "-key", k, "-www", "-quiet", NULL},
            *port);
    }
    WK_EQ(rc, 0);
    return rc;
}

static int tls_body(void *arg)
{
    const char *dir = arg;
    char ca[300], u[128], line[512];
    tlskit_path(dir, "ca.pem", ca, sizeof ca);
    cio_process *p;
    int port;
    if (start_s_server(&p, dir, "server.pem", "server.key", &port) < 0)
        return 0;
    snprintf(u, sizeof u, "https://127.0.0.1:%d/", port);
    struct ran r;
    /* A good chain: s_server -www's status page. */
    run(&r, FETCH, (char *[]){"--cafile", ca, u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && strstr(r.out.data, "s_server"), "%s", wk_s(r.out.data));
    WK_STREQ(s_or_empty(&r.err), "");
    ran_free(&r);
    run(&r, FETCH, (char *[]){"--cafile", ca, "-i", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP/1.0 200 ok\r\n", 17), "%s", wk_s(r.out.data));
    ran_free(&r);
    /* The system's store does not know the kit's CA. */
    run(&r, FETCH, (char *[]){u, NULL});
    RAN_IS(&r, 60, "", failure(line, sizeof line, u, CIO_ETLSUNTRUSTED));
    ran_free(&r);
    /* --insecure: no verification at all. */
    run(&r, FETCH, (char *[]){"--insecure", u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && strstr(r.out.data, "s_server"), "%s", wk_s(r.out.data));
    ran_free(&r);
    /* 127.0.0.1 under another name: the certificate is not that name's. */
    char other[128], entry[128];
    snprintf(other, sizeof other, "https://other.test:%d/", port);
    snprintf(entry, sizeof entry, "other.test:%d:127.0.0.1", port);
    run(&r, FETCH, (char *[]){"--cafile", ca, "--resolve", entry, other, NULL});
    RAN_IS(&r, 60, "", failure(line, sizeof line, other, CIO_ETLSHOSTNAME));
    ran_free(&r);
    /* --capath: the CA from a hashed directory. */
    char capath[300], cmd[1024];
    snprintf(capath, sizeof capath, "%s/capath", dir);
    mkdir(capath, 0700);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/' && openssl rehash '%s' 2>/dev/null", ca, capath, capath);
    WK_EQ(system(cmd), 0);
    run(&r, FETCH, (char *[]){"--capath", capath, u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && strstr(r.out.data, "s_server"), "%s", wk_s(r.out.data));
    ran_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", capath);
    WK_EQ(system(cmd), 0);
    stop_peer(p);

    /* An expired certificate of a trusted CA. */
    if (start_s_server(&p, dir, "expired.pem", "expired.key", &port) < 0)
        return 0;
    snprintf(u, sizeof u, "https://127.0.0.1:%d/", port);
    run(&r, FETCH, (char *[]){"--cafile", ca, u, NULL});
    RAN_IS(&r, 60, "", failure(line, sizeof line, u, CIO_ETLSEXPIRED));
    ran_free(&r);
    stop_peer(p);
    return 0;
}

Test(client_fetch, tls_verification_against_openssl_s_server)
{
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(tls_body, dir);
    tlskit_remove(dir);
    wk_verdict();
}

/* cio's own HTTPS server asking for a client certificate: --cert and --key, and print_headers' --cafile. */
static int client_cert_body(void *arg)
{
    const char *dir = arg;
    char ca[300], cert[300], key[300], ccert[300], ckey[300], u[128], line[512];
    tlskit_path(dir, "ca.pem", ca, sizeof ca);
    cio_tls_ctx *sctx = NULL;
    WK_EQ(cio_tls_ctx_new(&sctx, CIO_TLS_SERVER,
                          &(cio_tls_opts){.cert_file = tlskit_path(dir, "server.pem", cert, sizeof cert),
                                          .key_file = tlskit_path(dir, "server.key", key, sizeof key),
                                          .ca_file = ca,
                                          .client_auth = CIO_TLS_CLIENT_AUTH_REQUIRE}),
          0);
    struct served sv = {.app = app_open()};
    WK_EQ(cio_web_server_start(&sv.srv, sv.app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = sctx}), 0);
    snprintf(u, sizeof u, "https://localhost:%d/hello", cio_web_server_port(sv.srv));
    struct ran r;
    run(&r, FETCH,
        (char *[]){"--cafile", ca, "--cert", (char *)tlskit_path(dir, "client.pem", ccert, sizeof ccert), "--key",
                   (char *)tlskit_path(dir, "client.key", ckey, sizeof ckey), u, NULL});
    RAN_IS(&r, 0, "hello\n", "");
    ran_free(&r);
    /* Without one the server refuses: over TLS 1.3 the client learns it on its first read, as a TLS error. */
    run(&r, FETCH, (char *[]){"--cafile", ca, u, NULL});
    WK_CHECK(r.status == 35 || r.status == 60 || r.status == 7, "%d", r.status);
    snprintf(line, sizeof line, "fetch: %s: ", u);
    WK_CHECK(r.err.data && !strncmp(r.err.data, line, strlen(line)) &&
                 strchr(r.err.data, '\n') == r.err.data + r.err.len - 1,
             "%s", wk_s(r.err.data));
    WK_STREQ(s_or_empty(&r.out), "");
    ran_free(&r);
    /* A bad key file: the session refuses it at once, naming TLS's configuration error. */
    run(&r, FETCH, (char *[]){"--cafile", ca, "--cert", ccert, "--key", ca, u, NULL});
    WK_EQ(r.status, 2);
    snprintf(line, sizeof line, "fetch: %s (", cio_strerror(CIO_ETLSCONFIG));
    WK_CHECK(r.err.data && !strncmp(r.err.data, line, strlen(line)), "%s", wk_s(r.err.data));
    ran_free(&r);
    WK_EQ(cio_web_server_close(sv.srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sctx);

    /* print_headers over https, verified against --cafile. */
    WK_EQ(cio_tls_ctx_new(&sctx, CIO_TLS_SERVER, &(cio_tls_opts){.cert_file = cert, .key_file = key}), 0);
    WK_EQ(cio_web_server_start(&sv.srv, sv.app, &(cio_web_server_opts){.host = "127.0.0.1", .tls = sctx}), 0);
    snprintf(u, sizeof u, "https://localhost:%d/hello", cio_web_server_port(sv.srv));
    run(&r, PRINT_HEADERS, (char *[]){"--cafile", ca, u, NULL});
    WK_EQ(r.status, 0);
    WK_CHECK(r.out.data && !strncmp(r.out.data, "HTTP header> HTTP/1.1 200 OK\n", 29), "%s", wk_s(r.out.data));
    WK_STREQ(s_or_empty(&r.err), "");
    ran_free(&r);
    run(&r, PRINT_HEADERS, (char *[]){u, NULL});
    WK_EQ(r.status, 1);
    snprintf(line, sizeof line, "print_headers: %s: %s (", u, cio_strerror(CIO_ETLSUNTRUSTED));
    WK_CHECK(r.err.data && !strncmp(r.err.data, line, strlen(line)), "%s", wk_s(r.err.data));
    WK_STREQ(s_or_empty(&r.out), "");
    ran_free(&r);
    unserve(&sv);
    cio_tls_ctx_free(sctx);
    return 0;
}

Test(client_fetch, client_certificates_and_print_headers_over_https)
{
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(client_cert_body, dir);
    tlskit_remove(dir);
    wk_verdict();
}
