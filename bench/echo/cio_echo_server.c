/* cio_echo_server.c: the echo suite's cio side: a TCP echo server on the stream API (cio_start_server). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio/core.h"
#include "cio/io.h"

static const char *host = "127.0.0.1";
static int port;

/*
 * One connection: hand each chunk that came straight back (asyncio's `async for chunk in reader:
 * writer.write(chunk)`). The chunk is a view of the stream's read buffer: no copy, and no buffer of the
 * handler's own. Once nothing more has come, the handler returns CIO_CONN_KEEP: the connection waits with no
 * task, and the server calls the handler again when the next bytes arrive, so an idle connection holds neither
 * a stack nor a buffer.
 */
static int echo_conn(cio_stream *s, void *arg)
{
    const void *chunk;
    size_t len;
    int rc;

    (void)arg;
    rc = cio_stream_next_chunk(s, &chunk, &len);
    if (rc <= 0)
        return rc < 0 && rc != -ECONNRESET ? rc : 0;
    rc = cio_stream_write(s, chunk, len);
    return rc < 0 ? rc : CIO_CONN_KEEP;
}

static int serve(void *arg)
{
    cio_server *srv;
    int rc;

    (void)arg;
    rc = cio_start_server(&srv, echo_conn, NULL, host, port, NULL);
    if (rc < 0) {
        fprintf(stderr, "cio_echo_server: cio_start_server %s:%d: %s\n", host, port, cio_err_name(rc));
        return rc;
    }
    printf("listening on %s:%d\n", host, port);
    fflush(stdout);
    /* Serve until SIGTERM or SIGINT (cancel_on_signals), then close gracefully. */
    rc = cio_sleep(CIO_SEC(86400));
    (void)cio_server_close(srv, CIO_MS(100));
    return rc == -ECANCELED ? 0 : rc;
}

int main(int argc, char **argv)
{
    cio_loop_opts opts = {.cancel_on_signals = true};
    int rc;

    if (argc < 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
        return 2;
    }
    if (argc > 2)
        host = argv[2];
    signal(SIGPIPE, SIG_IGN);
    rc = cio_run_opts(serve, NULL, &opts);
    return rc == -EINTR ? 0 : cio_exit_code(rc);
}
