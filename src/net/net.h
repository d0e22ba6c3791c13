/* net.h: what the socket files of src/net share, and the counters the server tests read. */
#ifndef CIO_NET_NET_H
#define CIO_NET_NET_H

#include <stdint.h>

#include "cio/io.h"
#include "io/addr.h"

/*
 * Open a non-blocking stream socket for `addr`'s family (TCP_NODELAY on for TCP) and connect it, waiting for
 * the connection. Returns the connected descriptor, or a negative error with nothing left open (cancellation
 * included). tcp.c; the Happy Eyeballs attempts of cio_open_connection use it too.
 */
int cio__connect_fd(const cio_addr *addr);

/*
 * Make the stream of a connected socket and, if `o->tls` is set, run the TLS handshake as a client of
 * `server_name`. On failure nothing is left open. tcp.c; cio_open_connection ends with it too.
 */
int cio__connect_finish(cio_stream **out, int fd, const cio_connect_opts *o, const char *server_name);

/* What a server's accept loop has done, for tests that must show it backs off instead of spinning. */
struct cio__server_stats {
    /* accept4 calls, and how many of them failed for lack of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM). */
    uint64_t accept_calls;
    uint64_t accept_nofd;
    /* Connections handed to a handler task. */
    uint64_t accepted;
    /* TLS handshakes that failed (the handler was not called). */
    uint64_t tls_failed;
    /* Times a handler returned CIO_CONN_KEEP and its connection was parked without a task; parked connections
       closed by keep_timeout. */
    uint64_t parked;
    uint64_t keep_expired;
};
void cio__server_stats(const cio_server *srv, struct cio__server_stats *out);

#endif
