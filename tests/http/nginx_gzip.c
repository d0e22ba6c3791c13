/* nginx_gzip.c: the body reader decoding what nginx's gzip module sends (chunked, gzip'd on the fly, in the
 * pieces nginx writes), on loopback, whole and against a limit smaller than the decoded body. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "cio/http.h"

static char dir[64];
static char *text;
static const size_t text_len = 3000000;

/* A port free a moment ago (nginx binds it next; the test retries once if it lost the race). */
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

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    strcpy(dir, "/tmp/cio-nginx-gz-XXXXXX");
    cr_assert(mkdtemp(dir));
    text = malloc(text_len);
    for (size_t i = 0; i < text_len; i++)
        text[i] = "the quick brown fox jumps over the lazy dog 0123456789\n"[(i + i / 4096) % 55];
    char p[128];
    snprintf(p, sizeof p, "%s/big.txt", dir);
    FILE *f = fopen(p, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(text, 1, text_len, f), text_len);
    fclose(f);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(text);
}

TestSuite(nginx_gzip, .init = setup, .fini = teardown, .timeout = 120);

static const char *nginx_path(void)
{
    static const char *const where[] = {"/usr/sbin/nginx", "/sbin/nginx", "/usr/bin/nginx"};
    for (size_t i = 0; i < 3; i++)
        if (access(where[i], X_OK) == 0)
            return where[i];
    return NULL;
}

static void write_conf(int port)
{
    char p[128], conf[2048];
    snprintf(p, sizeof p, "%s/nginx.conf", dir);
    int n = snprintf(conf, sizeof conf,
                     "%s"
                     "daemon off; master_process off; worker_processes 1;\n"
                     "pid %s/nginx.pid; error_log %s/error.log warn;\n"
                     "events { worker_connections 64; }\n"
                     "http {\n"
                     "  access_log off;\n"
                     "  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;\n"
                     "  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
                     "  gzip on; gzip_types text/plain; gzip_min_length 0; gzip_comp_level 6;\n"
                     "  types { text/plain txt; }\n"
                     "  server { listen 127.0.0.1:%d; root %s; }\n"
                     "}\n",
                     getuid() == 0 ? "user root;\n" : "", dir, dir, dir, dir, dir, dir, dir, port, dir);
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fwrite(conf, 1, (size_t)n, f);
    fclose(f);
}

struct run {
    int port;
    uint64_t max;
    int rc;
    bool gzip, chunked;
    size_t len;
    bool same; /* the decoded body is the file (compared in the loop: cio's buffers are freed before it ends) */
};

/* One GET with Accept-Encoding: gzip, retried while nginx is not yet listening. */
static int get(void *arg)
{
    struct run *r = arg;
    cio_stream *s = NULL;
    int rc = -ECONNREFUSED;
    for (int i = 0; i < 200 && rc == -ECONNREFUSED; i++) {
        rc = cio_open_connection(&s, "127.0.0.1", r->port, NULL);
        if (rc == -ECONNREFUSED)
            cio_sleep(CIO_MS(20));
    }
    if (rc < 0)
        return r->rc = rc;
    static const char req[] = "GET /big.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";
    rc = cio_stream_write(s, req, sizeof req - 1);
    cio_http_header hdrs[32];
    cio_http_head h;
    cio_http_head_init(&h, hdrs, 32);
    ssize_t hl = rc < 0 ? rc : cio_http_read_response(s, &h, NULL);
    if (hl > 0) {
        const cio_http_header *ce = cio_http_header_find(&h, "Content-Encoding", NULL);
        r->gzip = ce && cio_http_str_ieq(ce->value, "gzip");
        const cio_http_header *te = cio_http_header_find(&h, "Transfer-Encoding", NULL);
        r->chunked = te && cio_http_list_has(te->value, "chunked");
        cio_http_body_in b;
        cio_http_body_opts o = {.skip = (size_t)hl, .decode = true, .max_size = r->max};
        rc = cio_http_body_init_response(&b, s, &h, "GET", &o);
        if (rc == 0) {
            cio_buf body = {0};
            rc = cio_http_body_read_all(&b, &body);
            r->len = body.len;
            r->same = body.len == text_len && memcmp(body.data, text, text_len) == 0;
            cio_buf_free(&body);
            cio_http_body_fini(&b);
        }
    } else {
        rc = (int)hl;
    }
    cio_stream_close(s);
    return r->rc = rc;
}

static int with_nginx(void *arg)
{
    struct run *r = arg;
    char conf[128];
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    char *argv[] = {(char *)nginx_path(), "-p", dir, "-c", conf, NULL};
    cio_process *p;
    cio_process_opts po = {.stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_DEVNULL};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0)
        return rc;
    get(r);
    cio_process_terminate(p);
    int status;
    cio_process_wait(p, &status);
    cio_process_close(p);
    return 0;
}

static void run_case(struct run *r)
{
    cr_assert(nginx_path(), "nginx is not installed (apt-get install nginx)");
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    mkdir(tmp, 0700);
    for (int attempt = 0; attempt < 3; attempt++) {
        r->port = free_port();
        write_conf(r->port);
        r->rc = 0;
        tst_run(with_nginx, r);
        if (r->rc != -ECONNREFUSED)
            return;
    }
}

Test(nginx_gzip, a_gzip_body_nginx_compresses_on_the_fly_decodes_whole)
{
    struct run r = {.max = 0};
    run_case(&r);
    cr_assert_eq(r.rc, 0, "%s", cio_strerror(r.rc));
    cr_assert(r.gzip && r.chunked, "nginx sent neither gzip nor chunked: gzip %d chunked %d", r.gzip, r.chunked);
    cr_assert_eq(r.len, text_len);
    cr_assert(r.same);
}

Test(nginx_gzip, the_decoded_size_is_bounded_by_the_limit)
{
    struct run r = {.max = 1000000};
    run_case(&r);
    cr_assert_eq(r.rc, CIO_EHTTP_BODY_LIMIT, "%s", cio_strerror(r.rc));
    cr_assert(r.gzip);
}
