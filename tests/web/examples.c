/* examples.c: the HTTP examples as their users run them: started as processes on a port the kernel picks, asked
 * with curl (plain and HTTPS with a separate chain file), stopped with SIGTERM, exiting 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlskit.h"
#include "webkit.h"

TestSuite(examples, .init = wk_init);

struct running {
    cio_process *p;
    int port;
    char scheme[8];
};

/* Start `argv` and read its "listening on ..." line for the port. */
static int start(struct running *r, char *const argv[])
{
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_DEVNULL};
    int rc = cio_process_exec(&r->p, argv, &po);
    WK_EQ(rc, 0);
    if (rc < 0)
        return rc;
    char line[256];
    ssize_t n = cio_stream_read_until(cio_process_stdout(r->p), "\n", 1, line, sizeof line - 1);
    WK_CHECK(n > 0, "%s", cio_strerror((int)n));
    if (n <= 0)
        return -EIO;
    line[n] = 0;
    const char *colon = strrchr(line, ':');
    r->port = colon ? atoi(colon + 1) : 0;
    WK_CHECK(r->port > 0 && sscanf(line, "listening on %7[a-z]://", r->scheme) == 1, "%s", line);
    return r->port > 0 ? 0 : -EIO;
}

static void stop(struct running *r)
{
    WK_EQ(cio_process_terminate(r->p), 0);
    int status = -1;
    WK_EQ(cio_process_wait(r->p, &status), 0);
    WK_EQ(status, 0);
    cio_process_close(r->p);
}

/* curl with `args`; its stdout into `out`. Returns the exit status. */
static int curl(char *const args[], cio_buf *out)
{
    char *argv[32] = {"curl", "--silent", "--show-error", "--max-time", "60"};
    int n = 5;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return wk_run(argv, NULL, 0, out);
}

static int echo_body(void *arg)
{
    const char *workers = arg;
    struct running r;
    if (start(&r, (char *[]){CIO_EXAMPLES_DIR "/http_echo", "--port", "0", "--workers", (char *)workers, NULL}) < 0)
        return 0;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/any/path?q=1", r.port);
    cio_buf out = {0};
    WK_EQ(curl((char *[]){"--data-binary", "echo me", "-H", "Content-Type: text/x-echo", "-i", url, NULL}, &out), 0);
    WK_CHECK(out.data && !strncmp(out.data, "HTTP/1.1 200 OK\r\n", 17), "%s", wk_s(out.data));
    WK_CHECK(out.data && strstr(out.data, "Content-Type: text/x-echo\r\n"), "%s", wk_s(out.data));
    WK_CHECK(out.data && strstr(out.data, "Content-Length: 7\r\n\r\necho me"), "%s", wk_s(out.data));
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){"-X", "PATCH", "-T", "-", url, NULL}, &out), 0); /* stdin is empty: a chunked empty body */
    WK_EQ(out.len, 0);
    cio_buf_free(&out);
    WK_EQ(curl((char *[]){url, NULL}, &out), 0);
    WK_EQ(out.len, 0);
    cio_buf_free(&out);
    stop(&r);
    return 0;
}

Test(examples, http_echo_answers_every_method_with_the_body)
{
    tst_run(echo_body, "1");
    wk_verdict();
}

Test(examples, http_echo_with_two_workers)
{
    tst_run(echo_body, "2");
    wk_verdict();
}

/* HTTPS with a leaf-only certificate file and the intermediate in --chain: curl, trusting only the root, must get
   the chain from the server. */
static int tls_body(void *arg)
{
    const char *dir = arg;
    char leaf[300], key[300], inter[300], ca[300], both[300];
    tlskit_path(dir, "chain-leaf.key", key, sizeof key);
    tlskit_path(dir, "inter.pem", inter, sizeof inter);
    tlskit_path(dir, "ca.pem", ca, sizeof ca);
    tlskit_path(dir, "chain-leaf.pem", both, sizeof both);
    tlskit_path(dir, "leaf-only.pem", leaf, sizeof leaf);
    /* The leaf alone: the first certificate of chain-leaf.pem. */
    FILE *in = fopen(both, "r"), *outf = fopen(leaf, "w");
    char line[256];
    while (in && outf && fgets(line, sizeof line, in)) {
        fputs(line, outf);
        if (strstr(line, "END CERTIFICATE"))
            break;
    }
    if (in)
        fclose(in);
    if (outf)
        fclose(outf);
    struct running r;
    if (start(&r, (char *[]){CIO_EXAMPLES_DIR "/http_echo", "--port", "0", "--cert", leaf, "--key", key, "--chain",
                             inter, NULL}) < 0)
        return 0;
    WK_STREQ(r.scheme, "https");
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", r.port);
    cio_buf out = {0};
    WK_EQ(curl((char *[]){"--cacert", ca, "--data-binary", "over tls", url, NULL}, &out), 0);
    WK_STREQ(out.data, "over tls");
    cio_buf_free(&out);
    stop(&r);
    /* Without the chain file the same client cannot verify the server. */
    if (start(&r, (char *[]){CIO_EXAMPLES_DIR "/http_echo", "--port", "0", "--cert", leaf, "--key", key, NULL}) < 0)
        return 0;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", r.port);
    WK_EQ(curl((char *[]){"--cacert", ca, url, NULL}, &out), 60); /* curl: peer certificate cannot be verified */
    cio_buf_free(&out);
    stop(&r);
    return 0;
}

Test(examples, http_echo_over_https_with_a_chain_file)
{
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(tls_body, dir);
    tlskit_remove(dir);
    wk_verdict();
}

static int hello_body(void *arg)
{
    (void)arg;
    struct running r;
    if (start(&r, (char *[]){CIO_EXAMPLES_DIR "/http_hello", "--port", "0", NULL}) < 0)
        return 0;
    char url[128];
    cio_buf out = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello/world", r.port);
    WK_EQ(curl((char *[]){url, NULL}, &out), 0);
    WK_STREQ(out.data, "Hello, world\n");
    cio_buf_free(&out);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/users/42", r.port);
    WK_EQ(curl((char *[]){url, NULL}, &out), 0);
    WK_STREQ(out.data, "{\"id\": 42, \"name\": \"user 42\"}\n");
    cio_buf_free(&out);
    stop(&r);
    return 0;
}

Test(examples, http_hello_greets_and_answers_json)
{
    tst_run(hello_body, NULL);
    wk_verdict();
}

/* The Quick start demo: its own server, 100 URLs at once, one line saying so; a URL that fails makes it fail. */
static int fetch_many_body(void *arg)
{
    (void)arg;
    cio_buf out = {0};
    WK_EQ(wk_run((char *[]){CIO_EXAMPLES_DIR "/fetch_many", NULL}, NULL, 0, &out), 0);
    WK_CHECK(out.data && !strncmp(out.data, "Fetched 100 URLs concurrently in ", 33) &&
                 strstr(out.data, " ms (1490 bytes)\n"),
             "%s", wk_s(out.data));
    cio_buf_free(&out);
    /* a refused connection: exit 1, the cause named on stderr */
    cio_process *p;
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE};
    WK_EQ(cio_process_exec(&p, (char *[]){CIO_EXAMPLES_DIR "/fetch_many", "http://127.0.0.1:1/x", NULL}, &po), 0);
    cio_buf err = {0};
    WK_EQ(cio_process_communicate(p, NULL, 0, &out, &err), 0);
    int status = -1;
    WK_EQ(cio_process_wait(p, &status), 0);
    cio_process_close(p);
    WK_EQ(status, 1);
    WK_EQ(out.len, 0);
    WK_CHECK(err.data && strstr(err.data, "fetch_many: http://127.0.0.1:1/x: connection refused\n"), "%s",
             wk_s(err.data));
    cio_buf_free(&out);
    cio_buf_free(&err);
    return 0;
}

Test(examples, fetch_many_fetches_a_hundred_urls_concurrently)
{
    tst_run(fetch_many_body, NULL);
    wk_verdict();
}
