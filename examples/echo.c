/*
 * echo.c: asyncio's "TCP echo server and client using streams" examples, in one program.
 *
 *     echo                 serve on 127.0.0.1, run three clients against it, close the server, exit
 *     echo --serve PORT    serve on 127.0.0.1:PORT until Ctrl-C (try: printf 'hi\nthere\n' | nc 127.0.0.1 PORT)
 *
 * The server answers each line as it comes. Between lines its handler returns CIO_CONN_KEEP: the connection then
 * waits with no task and no buffer (a few hundred bytes), and the handler runs again when the next line arrives.
 * A connection silent for 10 s is closed: between lines by keep_timeout (aiohttp's keepalive_timeout), and one that
 * never sends a line, or stops in the middle of one, by the streams' read timeout (read_timeout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

/* One line: read it, say so, send it back; then keep the connection for the next one. */
static int handle_echo(cio_stream *s, void *arg)
{
    char line[256], who[64] = "?";
    cio_addr peer;
    (void)arg;
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    if (n <= 0)
        return n == -EMSGSIZE || n == CIO_EREADTIMEOUT ? (int)n : 0; /* the end, too long, too slow: close */
    if (cio_stream_peer_addr(s, &peer) == 0)
        (void)cio_addr_format(&peer, who, sizeof who);
    printf("server: received %.*s from %s\n", (int)(n - 1), line, who);
    int rc = cio_stream_write(s, line, (size_t)n);
    return rc < 0 ? rc : CIO_CONN_KEEP;
}

static cio_server_opts server_opts = {.keep_timeout = CIO_SEC(10), .read_timeout = CIO_SEC(10)};

struct client {
    int port;
    const char *message;
};

/* asyncio's tcp_echo_client: connect, send a line, read the answer, close. */
static int tcp_echo_client(void *arg)
{
    const struct client *c = arg;
    cio_stream *s;
    char back[256];
    int rc = cio_open_connection(&s, "127.0.0.1", c->port, NULL);
    if (rc < 0) {
        fprintf(stderr, "client: connect: %s\n", cio_strerror(rc));
        return rc;
    }
    printf("client: send %s\n", c->message);
    if ((rc = cio_stream_write(s, c->message, strlen(c->message))) == 0 && (rc = cio_stream_write(s, "\n", 1)) == 0) {
        ssize_t n = cio_stream_read_line(s, back, sizeof back);
        if (n > 0)
            printf("client: received %.*s\n", (int)(n - 1), back);
        rc = n > 0 ? 0 : n == 0 ? CIO_EINCOMPLETE : (int)n;
    }
    int end = cio_stream_close(s);
    return rc < 0 ? rc : end;
}

static int demo(void *arg)
{
    cio_server *srv;
    cio_addr a;
    (void)arg;
    int rc = cio_start_server(&srv, handle_echo, NULL, "127.0.0.1", 0, &server_opts);
    if (rc < 0) {
        fprintf(stderr, "echo: start_server: %s\n", cio_strerror(rc));
        return rc;
    }
    (void)cio_server_addr(srv, &a);
    printf("serving on 127.0.0.1:%d\n", cio_addr_port(&a));
    struct client clients[] = {
        {cio_addr_port(&a), "Hello World!"}, {cio_addr_port(&a), "Bonjour"}, {cio_addr_port(&a), "Hallo Welt"}};
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        if ((rc = cio_spawn(&t[i], tcp_echo_client, &clients[i], NULL)) < 0)
            return rc;
    int failed = 0;
    for (int i = 0; i < 3; i++)
        failed += cio_join(t[i]) < 0;
    rc = cio_server_close(srv, CIO_SEC(5));
    printf("%d of 3 clients answered; server closed: %s\n", 3 - failed, rc == 0 ? "cleanly" : cio_strerror(rc));
    return failed ? CIO_EINCOMPLETE : rc;
}

static int serve(void *arg)
{
    int port = *(const int *)arg;
    cio_server *srv;
    int rc = cio_start_server(&srv, handle_echo, NULL, "127.0.0.1", port, &server_opts);
    if (rc < 0) {
        fprintf(stderr, "echo: start_server: %s\n", cio_strerror(rc));
        return rc;
    }
    printf("serving on 127.0.0.1:%d until Ctrl-C\n", port);
    fflush(stdout);
    while ((rc = cio_sleep(CIO_SEC(3600))) == 0) /* until SIGINT or SIGTERM cancels main */
        ;
    (void)cio_server_close(srv, CIO_SEC(5));
    return rc == -ECANCELED ? 0 : rc;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--serve") == 0) {
        int port = atoi(argv[2]);
        if (port <= 0 || port > 65535) {
            fprintf(stderr, "echo: bad port %s\n", argv[2]);
            return 2;
        }
        cio_loop_opts o = {.cancel_on_signals = true};
        int rc = cio_run_opts(serve, &port, &o);
        return rc == -EINTR ? 0 : cio_exit_code(rc);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--serve PORT]\n", argv[0]);
        return 2;
    }
    return cio_exit_code(cio_run(demo, NULL));
}
