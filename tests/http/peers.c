/* peers.c: the message layer against real clients: a small server built on cio_http_read_request, the body
 * readers and the writers, driven by curl and Python's requests on loopback. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cio/http.h"
#include "harness.h"

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(peers, .init = ignore_sigpipe, .timeout = 120);

struct served {
    int requests, connections;
    uint64_t uploaded;
};

/* Answer one request and keep the connection:
 *   GET /chunked    a chunked body of 100 lines with a trailer
 *   GET /length     "fixed\n" with Content-Length
 *   PUT or POST     the body's byte count and a checksum, as text ("100-continue" honoured) */
static int serve_one(cio_stream *s, void *arg)
{
    struct served *sv = arg;
    if (cio_server_conn_state(s) && ++*(int *)cio_server_conn_state(s) == 1)
        sv->connections++;
    cio_http_header hs[32];
    cio_http_head h;
    cio_http_head_init(&h, hs, 32);
    ssize_t n = cio_http_read_request(s, &h, NULL);
    if (n == CIO_EPEERCLOSED)
        return 0;
    if (n < 0)
        return (int)n;
    sv->requests++;
    bool keep = cio_http_keep_alive(&h);
    cio_http_body_in in;
    int rc = cio_http_body_init_request(&in, s, &h, &(cio_http_body_opts){.skip = (size_t)n, .send_continue = true});
    if (rc < 0)
        return rc;
    char target[64];
    snprintf(target, sizeof target, "%.*s", (int)h.target.len, h.target.ptr);
    bool upload = cio_http_str_ieq(h.method, "PUT") || cio_http_str_ieq(h.method, "POST");
    uint32_t sum = 0;
    const void *p;
    size_t len;
    while ((rc = cio_http_body_next(&in, &p, &len)) == 1)
        for (size_t i = 0; i < len; i++)
            sum = sum * 31 + ((const unsigned char *)p)[i];
    uint64_t count = cio_http_body_count(&in);
    cio_http_body_fini(&in);
    if (rc < 0)
        return rc;
    sv->uploaded += count;
    cio_http_head_out w;
    char hb[512];
    cio_http_head_out_init(&w, hb, sizeof hb);
    cio_http_head_out_status(&w, 200, NULL, 1);
    cio_http_head_out_header(&w, "Content-Type", "text/plain");
    cio_http_body_out out;
    if (upload || strcmp(target, "/length") == 0) {
        char text[64];
        int tl = upload ? snprintf(text, sizeof text, "%llu %08x\n", (unsigned long long)count, sum)
                        : snprintf(text, sizeof text, "fixed\n");
        cio_http_head_out_header_u64(&w, "Content-Length", (uint64_t)tl);
        if ((rc = cio_http_head_out_send(&w, s)) < 0 ||
            (rc = cio_http_body_out_init(&out, s, CIO_HTTP_BODY_LENGTH, (uint64_t)tl)) < 0 ||
            (rc = cio_http_body_out_write(&out, text, (size_t)tl)) < 0 || (rc = cio_http_body_out_end(&out, NULL)) < 0)
            return rc;
    } else {
        cio_http_head_out_header(&w, "Transfer-Encoding", "chunked");
        cio_http_head_out_header(&w, "Trailer", "X-Lines");
        if ((rc = cio_http_head_out_send(&w, s)) < 0 ||
            (rc = cio_http_body_out_init(&out, s, CIO_HTTP_BODY_CHUNKED, 0)) < 0)
            return rc;
        for (int i = 0; i < 100 && rc == 0; i++) {
            char line[32];
            int ll = snprintf(line, sizeof line, "line %d\n", i);
            rc = cio_http_body_out_write(&out, line, (size_t)ll);
        }
        char tb[64];
        cio_http_head_out t;
        cio_http_head_out_init(&t, tb, sizeof tb);
        cio_http_head_out_header(&t, "X-Lines", "100");
        if (rc < 0 || (rc = cio_http_body_out_end(&out, &t)) < 0)
            return rc;
    }
    return keep ? CIO_CONN_KEEP : 0;
}

/* Run a shell command line (a peer) with the server's port in $PORT; its stdout goes to `out`. */
static int run_peer(const char *cmd, int port, cio_buf *out)
{
    char env_port[32];
    snprintf(env_port, sizeof env_port, "PORT=%d", port);
    char *const env[] = {env_port, "PATH=/usr/bin:/bin", NULL};
    cio_process *p;
    int rc = cio_process_shell(&p, cmd, &(cio_process_opts){.stdout_mode = CIO_PIPE, .env = env});
    if (rc < 0)
        return rc;
    int status = -1;
    rc = cio_process_communicate(p, NULL, 0, out, NULL);
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    return rc < 0 ? rc : status;
}

struct peer_case {
    const char *cmd;
    const char *want; /* the peer's exact output */
    int connections;  /* how many connections it used (0: not checked) */
};

static int peer_body(void *arg)
{
    const struct peer_case *c = arg;
    struct served sv = {0};
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(
        cio_start_server(&srv, serve_one, &sv, "127.0.0.1", 0, &(cio_server_opts){.conn_state_size = sizeof(int)}), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_buf out;
    int rc = run_peer(c->cmd, cio_addr_port(&a), &out);
    cr_assert_eq(rc, 0, "%s: exit %d", c->cmd, rc);
    cr_assert_str_eq(out.data ? out.data : "", c->want, "%s", c->cmd);
    if (c->connections)
        cr_assert_eq(sv.connections, c->connections, "%s: %d connections", c->cmd, sv.connections);
    cio_buf_free(&out);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    return 0;
}

/* The expected output of a chunked GET: 100 lines. */
static char lines100[2048];

static void make_lines(void)
{
    ignore_sigpipe();
    size_t at = 0;
    for (int i = 0; i < 100; i++)
        at += (size_t)snprintf(lines100 + at, sizeof lines100 - at, "line %d\n", i);
}

Test(peers, curl_reads_a_chunked_body_and_its_trailer, .init = make_lines)
{
    char want[4096];
    struct peer_case c = {"curl -sS --fail http://127.0.0.1:$PORT/chunked -o - -D /dev/null && "
                          "curl -sS --fail -i --raw http://127.0.0.1:$PORT/chunked | tr -d '\\r' | "
                          "grep -i '^x-lines'",
                          NULL, 0};
    /* curl prints the body, then (with -i --raw) the trailer among the raw bytes. */
    snprintf(want, sizeof want, "%sX-Lines: 100\n", lines100);
    c.want = want;
    tst_run(peer_body, &c);
}

Test(peers, curl_reuses_one_kept_connection_for_several_requests)
{
    struct peer_case c = {"curl -sS --fail http://127.0.0.1:$PORT/length http://127.0.0.1:$PORT/length "
                          "http://127.0.0.1:$PORT/length",
                          "fixed\nfixed\nfixed\n", 1};
    tst_run(peer_body, &c);
}

/* A 3 MB chunked upload with Expect: 100-continue: curl waits for the 100 before it sends the body. */
Test(peers, curl_uploads_chunked_after_100_continue)
{
    struct peer_case c = {
        "head -c 3000000 /dev/zero | tr '\\0' 'a' > /tmp/cio-peer-up.$PORT && "
        "curl -sS --fail -T /tmp/cio-peer-up.$PORT -H 'Transfer-Encoding: chunked' "
        "-H 'Expect: 100-continue' --expect100-timeout 30 -v http://127.0.0.1:$PORT/up 2>/tmp/cio-peer-up.$PORT.v; "
        "rc=$?; grep -q '^< HTTP/1.1 100 Continue' /tmp/cio-peer-up.$PORT.v || rc=9; "
        "rm -f /tmp/cio-peer-up.$PORT /tmp/cio-peer-up.$PORT.v; exit $rc",
        NULL, 0};
    /* The checksum of 3,000,000 'a's, as serve_one computes it. */
    uint32_t sum = 0;
    for (int i = 0; i < 3000000; i++)
        sum = sum * 31 + 'a';
    char want[64];
    snprintf(want, sizeof want, "3000000 %08x\n", sum);
    c.want = want;
    tst_run(peer_body, &c);
}

Test(peers, python_requests_posts_a_body_and_streams_a_chunked_answer, .init = make_lines)
{
    struct peer_case c = {"/usr/bin/python3 -c \"import requests,sys\n"
                          "s=requests.Session()\n"
                          "r=s.post('http://127.0.0.1:%s/form' % __import__('os').environ['PORT'], data=b'x'*1000)\n"
                          "sys.stdout.write(r.text)\n"
                          "r=s.get('http://127.0.0.1:%s/chunked' % __import__('os').environ['PORT'], stream=True)\n"
                          "sys.stdout.write(''.join(c.decode() for c in r.iter_content(7)))\"",
                          NULL, 1};
    uint32_t sum = 0;
    for (int i = 0; i < 1000; i++)
        sum = sum * 31 + 'x';
    static char want[4096];
    snprintf(want, sizeof want, "1000 %08x\n%s", sum, lines100);
    c.want = want;
    tst_run(peer_body, &c);
}
