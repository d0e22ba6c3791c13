/* echo_libuv.c: the echo suite's libuv peer: a plain C TCP echo server reading into one fixed, reused buffer. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/*
 * Usage: echo_libuv PORT. Every read lands in one static 64 KiB buffer and is sent back with uv_try_write; only
 * what the socket does not take at once is copied into the connection's own (kept, reused) buffer and sent with
 * uv_write, reading paused until it is gone. Listens on 127.0.0.1 until killed.
 */

#define BUF_SIZE (64 * 1024)

struct conn {
    uv_tcp_t tcp;
    uv_write_t wreq;
    char *pending;
    size_t pending_cap;
};

static uv_loop_t *loop;
static char buf[BUF_SIZE];

static void on_close(uv_handle_t *h)
{
    struct conn *c = h->data;

    free(c->pending);
    free(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    (void)h;
    (void)hint;
    *out = uv_buf_init(buf, sizeof(buf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void on_written(uv_write_t *req, int status)
{
    struct conn *c = req->data;

    if (status < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    uv_buf_t rest;
    int n;

    if (nread < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (nread == 0)
        return;
    rest = uv_buf_init(b->base, (unsigned)nread);
    n = uv_try_write(s, &rest, 1);
    if (n == nread)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n < 0)
        n = 0;
    /* The socket is full: keep the rest, stop reading until it has gone out. */
    if (c->pending_cap < (size_t)(nread - n)) {
        char *p = realloc(c->pending, BUF_SIZE);
        if (!p) {
            uv_close((uv_handle_t *)s, on_close);
            return;
        }
        c->pending = p;
        c->pending_cap = BUF_SIZE;
    }
    memcpy(c->pending, b->base + n, (size_t)(nread - n));
    rest = uv_buf_init(c->pending, (unsigned)(nread - n));
    uv_read_stop(s);
    c->wreq.data = c;
    if (uv_write(&c->wreq, s, &rest, 1, on_written) < 0)
        uv_close((uv_handle_t *)s, on_close);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct conn *c;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr;
    uv_tcp_t server;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &server);
    rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 4096, on_connection);
    if (rc < 0) {
        fprintf(stderr, "echo_libuv: listen on port %s: %s\n", argv[1], uv_strerror(rc));
        return 1;
    }
    printf("listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
