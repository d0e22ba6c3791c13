/* cio_tls_echo_server.c: the tls suite's cio side: a TLS echo server on the stream API (cio_start_server). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio/core.h"
#include "cio/io.h"

/* At least a TLS record's plaintext (16 KiB), so each read can take a whole record. */
#define ECHO_BUF (64 * 1024)

static const char *host = "127.0.0.1";
static const char *cert_file, *key_file;
static int port;

/* One connection, its handshake done by the server: read what has come, write it back, until the peer closes. */
static int echo_conn(cio_stream *s, void *arg)
{
    char buf[ECHO_BUF];
    ssize_t n;
    int rc;

    (void)arg;
    while ((n = cio_stream_read(s, buf, sizeof(buf))) > 0) {
        rc = cio_stream_write(s, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
    /* A client that resets or hangs up without close_notify has only gone away. */
    return n < 0 && n != -ECONNRESET && n != CIO_ETLSTRUNCATED ? (int)n : 0;
}

static int serve(void *arg)
{
    /* As every server of the suite: no session tickets nor cache, so each handshake is a full one. */
    cio_tls_opts tls_opts = {.cert_file = cert_file, .key_file = key_file, .no_resumption = true};
    cio_server_opts opts = {0};
    cio_server *srv;
    int rc;

    (void)arg;
    rc = cio_tls_ctx_new(&opts.tls, CIO_TLS_SERVER, &tls_opts);
    if (rc < 0) {
        fprintf(stderr, "cio_tls_echo_server: cio_tls_ctx_new %s, %s: %s %s\n", cert_file, key_file, cio_err_name(rc),
                cio_tls_last_error());
        return rc;
    }
    rc = cio_start_server(&srv, echo_conn, NULL, host, port, &opts);
    if (rc < 0) {
        fprintf(stderr, "cio_tls_echo_server: cio_start_server %s:%d: %s\n", host, port, cio_err_name(rc));
        cio_tls_ctx_free(opts.tls);
        return rc;
    }
    printf("listening on %s:%d\n", host, port);
    fflush(stdout);
    /* Serve until SIGTERM or SIGINT (cancel_on_signals), then close gracefully. */
    rc = cio_sleep(CIO_SEC(86400));
    (void)cio_server_close(srv, CIO_MS(100));
    cio_tls_ctx_free(opts.tls);
    return rc == -ECANCELED ? 0 : rc;
}

int main(int argc, char **argv)
{
    cio_loop_opts opts = {.cancel_on_signals = true};
    int rc;

    if (argc < 4 || (port = atoi(argv[1])) <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT CERT KEY [HOST]\n", argv[0]);
        return 2;
    }
    cert_file = argv[2];
    key_file = argv[3];
    if (argc > 4)
        host = argv[4];
    signal(SIGPIPE, SIG_IGN);
    rc = cio_run_opts(serve, NULL, &opts);
    return rc == -EINTR ? 0 : cio_exit_code(rc);
}
