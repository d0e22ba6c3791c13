/* nginx.c: the session against nginx started by the test with its own configuration on loopback: its keep-alive
 * limits (keepalive_requests, keepalive_timeout) met by reconnecting transparently, gzip decoded or left raw,
 * `return 30x` chains with the method rules, a 64 MiB file read in pieces and saved, TLS with the kit's
 * certificates, and nginx as a reverse proxy in front of cio's own server. On the real clock: nginx's is its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "peerkit.h"
#include "tlskit.h"

static char dir[64];
static char tlsdir[256];

#define TEXT_LEN ((size_t)300000)
#define BIG_LEN  ((size_t)64 << 20)

/* The files' bytes: a text with lines, shifted every 4 KiB so that no two blocks are alike. */
static char pattern_at(size_t i)
{
    return "the quick brown fox jumps over the lazy dog 0123456789\n"[(i + i / 4096) % 55];
}

static void write_file(const char *name, size_t len)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    static char block[65536];
    for (size_t off = 0; off < len; off += sizeof block) {
        size_t n = len - off < sizeof block ? len - off : sizeof block;
        for (size_t i = 0; i < n; i++)
            block[i] = pattern_at(off + i);
        cr_assert_eq(fwrite(block, 1, n, f), n);
    }
    fclose(f);
}

static void setup(void)
{
    wk_init();
    signal(SIGPIPE, SIG_IGN);
    strcpy(dir, "/tmp/cio-client-nginx-XXXXXX");
    cr_assert(mkdtemp(dir));
    char p[128];
    snprintf(p, sizeof p, "%s/tmp", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    write_file("text.txt", TEXT_LEN);
    write_file("big.bin", BIG_LEN);
    cr_assert_eq(tlskit_make(tlsdir, sizeof tlsdir), 0);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    tlskit_remove(tlsdir);
}

TestSuite(client_nginx, .init = setup, .fini = teardown, .timeout = 180);

static const char *nginx_path(void)
{
    static const char *const where[] = {"/usr/sbin/nginx", "/sbin/nginx", "/usr/bin/nginx", NULL};
    return pk_which(where);
}

/* ------------------------------------------------------------------------------------------------ the server */

struct nginx {
    int port, tls_port, web_port;
    cio_process *p;
    cio_web_app *app;
    cio_web_server *web;
};

static void write_conf(const struct nginx *n)
{
    char p[128], cert[512], key[512];
    snprintf(p, sizeof p, "%s/nginx.conf", dir);
    tlskit_path(tlsdir, "server.pem", cert, sizeof cert);
    tlskit_path(tlsdir, "server.key", key, sizeof key);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fprintf(f,
            "%s"
            "daemon off; master_process off; worker_processes 1;\n"
            "pid %s/nginx.pid; error_log %s/error.log warn;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            "  access_log off;\n"
            "  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;\n"
            "  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
            "  keepalive_requests 3; keepalive_timeout 1s;\n"
            "  gzip on; gzip_min_length 1; gzip_types *;\n"
            "  types { text/plain txt; application/octet-stream bin; }\n"
            "  default_type text/plain;\n"
            "  server {\n"
            "    listen 127.0.0.1:%d;\n"
            "    listen 127.0.0.1:%d ssl;\n"
            "    ssl_certificate %s; ssl_certificate_key %s;\n"
            "    root %s;\n"
            "    location = /method { return 200 $request_method; }\n"
            "    location = /conn { return 200 \"$connection $connection_requests\"; }\n"
            "    location = /r301 { return 301 /method; }\n"
            "    location = /r302 { return 302 /method; }\n"
            "    location = /r303 { return 303 /method; }\n"
            "    location = /r307 { return 307 /method; }\n"
            "    location = /r308 { return 308 /method; }\n"
            "    location = /chain { return 308 /r307; }\n"
            "    location = /chain302 { return 308 /r302; }\n"
            "    location /proxy/ {\n"
            "      proxy_pass http://127.0.0.1:%d/;\n"
            "      proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
            "    }\n"
            "  }\n"
            "}\n",
            getuid() == 0 ? "user root;\n" : "", dir, dir, dir, dir, dir, dir, dir, n->port, n->tls_port, cert, key,
            dir, n->web_port);
    fclose(f);
}

/* cio's server behind nginx's proxy: what it was asked, and the body's length. */
static int h_echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *data;
    size_t len;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    return cio_web_text(res, 200, "cio saw %s %s %zu", cio_web_method(req), cio_web_target(req), len);
}

/* Start cio's server, then nginx (retried on another port if it lost its port meanwhile). */
static int nginx_start(struct nginx *n)
{
    WK_CHECK(nginx_path(), "nginx is not installed (apt-get install nginx)");
    if (!nginx_path())
        return -ENOENT;
    WK_EQ(cio_web_app_open(&n->app, NULL), 0);
    WK_EQ(cio_web_route(n->app, "*", "/echo", h_echo, NULL), 0);
    WK_EQ(cio_web_server_start(&n->web, n->app, &(cio_web_server_opts){.host = "127.0.0.1"}), 0);
    n->web_port = cio_web_server_port(n->web);
    char conf[128];
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    char *argv[] = {(char *)nginx_path(), "-p", dir, "-c", conf, NULL};
    int rc = -ECONNREFUSED;
    for (int attempt = 0; attempt < 3 && rc == -ECONNREFUSED; attempt++) {
        n->port = pk_free_port();
        n->tls_port = pk_free_port();
        write_conf(n);
        rc = pk_start(&n->p, argv, n->port);
    }
    WK_EQ(rc, 0);
    return rc;
}

static void nginx_stop(struct nginx *n)
{
    pk_stop(n->p);
    if (n->web)
        WK_EQ(cio_web_server_close(n->web, CIO_SEC(5)), 0);
    cio_web_app_close(n->app);
}

/* ------------------------------------------------------------------------------------------------ helpers */

struct counts {
    int created, reused;
};

static void on_create(void *arg, const char *host, int port, const cio_addr *peer)
{
    (void)host, (void)port, (void)peer;
    ((struct counts *)arg)->created++;
}

static void on_reuse(void *arg, const char *host, int port)
{
    (void)host, (void)port;
    ((struct counts *)arg)->reused++;
}

static const cio_client_trace tracer = {.connection_create = on_create, .connection_reuse = on_reuse};

/* One request read whole: its status, the body in `*b` (the caller frees it), the response's Content-Encoding
   (copied into `ce`, "" for none) and redirects. */
struct got {
    int status;
    cio_buf b;
    char ce[16];
    size_t redirects;
};

static int get(cio_client_session *s, const char *method, const char *url, const cio_client_request_opts *o,
               struct got *g)
{
    *g = (struct got){0};
    cio_client_response *r;
    int rc = cio_client_request(s, method, url, o, &r);
    if (rc < 0)
        return rc;
    g->status = cio_client_response_status(r);
    const char *ce = cio_client_response_header(r, "Content-Encoding");
    snprintf(g->ce, sizeof g->ce, "%s", ce ? ce : "");
    g->redirects = cio_client_response_redirects(r);
    rc = cio_client_response_read(r, &g->b);
    (void)cio_client_response_release(r);
    return rc;
}

static char *url_of(char *buf, size_t cap, const struct nginx *n, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", n->port, path);
    return buf;
}

/* ------------------------------------------------------------------------------------------------ keep-alive */

static int keepalive_body(void *arg)
{
    (void)arg;
    struct nginx n = {0};
    if (nginx_start(&n) < 0)
        return 0;
    struct counts c = {0};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.trace = &tracer, .trace_arg = &c}), 0);
    char url[96];
    url_of(url, sizeof url, &n, "/conn");
    /* keepalive_requests 3: nginx ends each connection after its third response; the client goes on on a new
       one. $connection_requests counts 1, 2, 3 on each. */
    char first[32] = "";
    for (int i = 0; i < 7; i++) {
        struct got g;
        WK_EQ(get(s, "GET", url, NULL, &g), 0);
        WK_EQ(g.status, 200);
        long conn = 0, nreq = 0;
        WK_CHECK(g.b.data && sscanf(g.b.data, "%ld %ld", &conn, &nreq) == 2, "%s", wk_s(g.b.data));
        WK_CHECK(nreq == i % 3 + 1, "request %d: the connection's request %ld", i, nreq);
        if (i == 0)
            snprintf(first, sizeof first, "%ld", conn);
        cio_buf_free(&g.b);
        /* The third answer said Connection: close: that connection is gone, the others wait in the pool. */
        size_t idle;
        WK_EQ(cio_client_session_connections(s, &idle), i % 3 == 2 ? 0 : 1);
        WK_EQ(idle, i % 3 == 2 ? 0 : 1);
    }
    WK_EQ(c.created, 3);
    WK_EQ(c.reused, 4);

    /* keepalive_timeout 1s: nginx closes the idle connection; the next request finds out and goes on a new one
       (a short real wait: nginx's clock is its own). Only the outcome is checked. */
    size_t idle;
    WK_EQ(cio_client_session_connections(s, &idle), 1);
    WK_EQ(idle, 1);
    WK_EQ(cio_sleep(CIO_MS(2500)), 0);
    struct got g;
    WK_EQ(get(s, "GET", url, NULL, &g), 0);
    WK_EQ(g.status, 200);
    long conn = 0, nreq = 0;
    WK_CHECK(g.b.data && sscanf(g.b.data, "%ld %ld", &conn, &nreq) == 2, "%s", wk_s(g.b.data));
    WK_EQ(nreq, 1); /* the first request of a new connection */
    cio_buf_free(&g.b);
    WK_EQ(c.created, 4);
    WK_EQ(cio_client_session_close(s), 0);
    nginx_stop(&n);
    return 0;
}

Test(client_nginx, keep_alive_limits_and_idle_expiry_reconnect_transparently)
{
    tst_run(keepalive_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ gzip */

static bool is_text(const cio_buf *b)
{
    if (!b->data || b->len != TEXT_LEN)
        return false;
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] != pattern_at(i))
            return false;
    return true;
}

static int gzip_body(void *arg)
{
    (void)arg;
    struct nginx n = {0};
    if (nginx_start(&n) < 0)
        return 0;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[96];
    url_of(url, sizeof url, &n, "/text.txt");
    /* By default: Accept-Encoding sent, gzip decoded. */
    struct got g;
    WK_EQ(get(s, "GET", url, NULL, &g), 0);
    WK_EQ(g.status, 200);
    WK_STREQ(g.ce, "gzip");
    WK_CHECK(is_text(&g.b), "the decoded body is not the file (%zu bytes)", g.b.len);
    cio_buf_free(&g.b);
    /* decompress -1 with the caller's Accept-Encoding: the gzip bytes as they came. */
    const char *ae[] = {"Accept-Encoding", "gzip", NULL};
    WK_EQ(get(s, "GET", url, &(cio_client_request_opts){.decompress = -1, .headers = ae}, &g), 0);
    WK_STREQ(g.ce, "gzip");
    WK_CHECK(g.b.len > 10 && g.b.len < TEXT_LEN / 4, "%zu bytes", g.b.len);
    WK_CHECK(g.b.data && (unsigned char)g.b.data[0] == 0x1f && (unsigned char)g.b.data[1] == 0x8b, "not gzip's magic");
    cio_buf_free(&g.b);
    /* decompress -1 alone: no Accept-Encoding goes out, so nginx sends the file as it is. */
    WK_EQ(get(s, "GET", url, &(cio_client_request_opts){.decompress = -1}, &g), 0);
    WK_STREQ(g.ce, "");
    WK_CHECK(is_text(&g.b), "the body is not the file (%zu bytes)", g.b.len);
    cio_buf_free(&g.b);
    /* A decoded body is still bounded by max_size. */
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.max_size = 1000}, &r), 0);
    cio_buf b;
    WK_EQ(cio_client_response_read(r, &b), CIO_EHTTP_BODY_LIMIT);
    WK_EQ(cio_client_response_release(r), 0);
    WK_EQ(cio_client_session_close(s), 0);
    nginx_stop(&n);
    return 0;
}

Test(client_nginx, gzip_is_decoded_by_default_and_raw_when_asked)
{
    tst_run(gzip_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ redirects */

struct redirect_case {
    const char *method, *path, *want; /* the method /method finally saw */
    size_t redirects;
};

static const struct redirect_case redirects[] = {
    {"POST", "/r301", "GET", 1},   {"POST", "/r302", "GET", 1},   {"POST", "/r303", "GET", 1},
    {"POST", "/r307", "POST", 1},  {"POST", "/r308", "POST", 1},  {"PUT", "/r301", "PUT", 1},
    {"DELETE", "/r303", "GET", 1}, {"POST", "/chain", "POST", 2}, {"POST", "/chain302", "GET", 2},
    {"GET", "/r307", "GET", 1},
};

static int redirect_body(void *arg)
{
    (void)arg;
    struct nginx n = {0};
    if (nginx_start(&n) < 0)
        return 0;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    for (size_t i = 0; i < sizeof redirects / sizeof *redirects; i++) {
        const struct redirect_case *c = &redirects[i];
        char url[96];
        struct got g;
        int rc = get(s, c->method, url_of(url, sizeof url, &n, c->path),
                     &(cio_client_request_opts){.body = "payload", .body_len = 7}, &g);
        if (rc != 0 || g.status != 200 || !wk_streq(g.b.data, c->want) || g.redirects != c->redirects)
            wk_fail(__LINE__, c->path, "%s: %s, status %d, \"%s\" after %zu redirects, want %s after %zu", c->method,
                    cio_err_name(rc), g.status, wk_s(g.b.data), g.redirects, c->want, c->redirects);
        cio_buf_free(&g.b);
    }
    /* With redirects off, the 307 is the answer. */
    char url[96];
    struct got g;
    WK_EQ(get(s, "POST", url_of(url, sizeof url, &n, "/r307"), &(cio_client_request_opts){.max_redirects = -1}, &g), 0);
    WK_EQ(g.status, 307);
    cio_buf_free(&g.b);
    WK_EQ(cio_client_session_close(s), 0);
    nginx_stop(&n);
    return 0;
}

Test(client_nginx, return_30x_chains_follow_the_method_rules)
{
    tst_run(redirect_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ a large file */

static int big_body(void *arg)
{
    (void)arg;
    struct nginx n = {0};
    if (nginx_start(&n) < 0)
        return 0;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.max_size = BIG_LEN}), 0);
    char url[96];
    url_of(url, sizeof url, &n, "/big.bin");
    /* Piece by piece, each piece checked where it falls. decompress -1: sent as it is (sendfile), not gzip'd. */
    cio_client_response *r;
    WK_EQ(cio_client_request(s, "GET", url, &(cio_client_request_opts){.decompress = -1}, &r), 0);
    WK_EQ(cio_client_response_content_length(r), (int64_t)BIG_LEN);
    const void *p;
    size_t len, total = 0, pieces = 0;
    bool same = true;
    int rc;
    while ((rc = cio_client_response_next(r, &p, &len)) == 1) {
        for (size_t i = 0; same && i < len; i++)
            same = ((const char *)p)[i] == pattern_at(total + i);
        total += len;
        pieces++;
    }
    WK_EQ(rc, 0);
    WK_EQ(total, BIG_LEN);
    WK_CHECK(same, "a piece differs from the file");
    WK_CHECK(pieces > 1, "one piece");
    WK_CHECK(cio_client_response_done(r), "not done");
    WK_EQ(cio_client_response_release(r), 1);
    /* Saved to a file, compressed on the way by nginx and decoded by the client: the same bytes. */
    char path[128];
    snprintf(path, sizeof path, "%s/saved.bin", dir);
    WK_EQ(cio_client_request(s, "GET", url, NULL, &r), 0);
    WK_STREQ(cio_client_response_header(r, "Content-Encoding"), "gzip");
    WK_EQ(cio_client_response_save(r, path), (ssize_t)BIG_LEN);
    WK_EQ(cio_client_response_release(r), 1);
    FILE *f = fopen(path, "rb");
    WK_CHECK(f, "no saved file");
    if (f) {
        static char block[65536];
        size_t got, off = 0;
        same = true;
        while (same && (got = fread(block, 1, sizeof block, f)) > 0) {
            for (size_t i = 0; same && i < got; i++)
                same = block[i] == pattern_at(off + i);
            off += got;
        }
        fclose(f);
        WK_EQ(off, BIG_LEN);
        WK_CHECK(same, "the saved file differs");
    }
    unlink(path);
    WK_EQ(cio_client_session_close(s), 0);
    nginx_stop(&n);
    return 0;
}

Test(client_nginx, a_64_mib_file_read_in_pieces_and_saved)
{
    tst_run(big_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ TLS, proxy */

static int tls_body(void *arg)
{
    (void)arg;
    struct nginx n = {0};
    if (nginx_start(&n) < 0)
        return 0;
    char ca[512];
    cio_tls_opts co = {.ca_file = tlskit_path(tlsdir, "ca.pem", ca, sizeof ca)};
    struct counts c = {0};
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.tls_opts = &co, .trace = &tracer, .trace_arg = &c}),
          0);
    char url[96];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/method", n.tls_port);
    for (int i = 0; i < 4; i++) {
        struct got g;
        WK_EQ(get(s, i % 2 ? "POST" : "GET", url, NULL, &g), 0);
        WK_EQ(g.status, 200);
        WK_STREQ(g.b.data, i % 2 ? "POST" : "GET");
        WK_STREQ(g.ce, "gzip");
        cio_buf_free(&g.b);
    }
    WK_EQ(c.created, 2); /* kept alive over TLS too, three requests a connection */
    WK_EQ(c.reused, 2);
    /* The file over TLS, decoded. */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/text.txt", n.tls_port);
    struct got g;
    WK_EQ(get(s, "GET", url, NULL, &g), 0);
    WK_CHECK(is_text(&g.b), "the body is not the file (%zu bytes)", g.b.len);
    cio_buf_free(&g.b);
    /* A name the certificate lacks. */
    snprintf(url, sizeof url, "https://127.0.0.2:%d/method", n.tls_port);
    WK_CHECK(get(s, "GET", url, NULL, &g) < 0, "127.0.0.2 verified");
    cio_buf_free(&g.b);
    WK_EQ(cio_client_session_close(s), 0);
    nginx_stop(&n);
    return 0;
}

Test(client_nginx, https_with_the_kits_certificates)
{
    tst_run(tls_body, NULL);
    wk_verdict();
}

static int proxy_body(void *arg)
{
    (void)arg;
    struct nginx n = {0};
    if (nginx_start(&n) < 0)
        return 0;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[96];
    url_of(url, sizeof url, &n, "/proxy/echo?x=1");
    static char payload[100000];
    memset(payload, 'p', sizeof payload);
    for (int i = 0; i < 3; i++) {
        struct got g;
        WK_EQ(get(s, "POST", url, &(cio_client_request_opts){.body = payload, .body_len = sizeof payload}, &g), 0);
        WK_EQ(g.status, 200);
        WK_STREQ(g.b.data, "cio saw POST /echo?x=1 100000");
        cio_buf_free(&g.b);
    }
    WK_EQ(cio_client_session_close(s), 0);
    nginx_stop(&n);
    return 0;
}

Test(client_nginx, through_nginx_as_a_reverse_proxy_to_cios_server)
{
    tst_run(proxy_body, NULL);
    wk_verdict();
}
