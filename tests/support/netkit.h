/* netkit.h: servers, clients and socket tricks shared by the network tests (loopback and Unix sockets only). */
#ifndef CIO_TEST_NETKIT_H
#define CIO_TEST_NETKIT_H

#include <stddef.h>

#include "cio.h"

/* A connection handler that echoes every byte back until the peer ends its side. */
int nk_echo(cio_stream *s, void *arg);

/* What nk_line_keeper counts, and the extra bytes it sends with each answer (to queue output). */
struct nk_keeper {
    int calls, ends;
    size_t extra;
};

/* A handler for kept connections: per call, answers one line (plus `extra` bytes of 'x') and returns
   CIO_CONN_KEEP; at the end of the stream (or an error) counts it and returns that. `arg` is a struct nk_keeper. */
int nk_line_keeper(cio_stream *s, void *arg);

/* Write `msg` on `s`, read the same number of bytes back and require them equal (fails the test otherwise). */
void nk_roundtrip(cio_stream *s, const char *msg);

/*
 * Let the loop run, polling for I/O, until `*counter >= n`; returns 0 or a wait's error, and fails the test
 * after a million turns. Each turn is a 1 ns sleep, which parks the task so that the loop polls: a task that
 * only yields keeps the ready queue busy, and the loop then puts off polling for as long as it yields.
 */
int nk_turn_until(const int *counter, int n);

/* Start an echo server on `host` (numeric) with a kernel-chosen port; its address goes to `addr`. */
cio_server *nk_echo_server(const char *host, cio_addr *addr);

/* A fresh directory under TMPDIR (or /tmp) for socket files, and its removal with what is in it. */
void nk_tmpdir(char *out, size_t cap);
void nk_rmdir(const char *dir);

/* Raise the soft RLIMIT_NOFILE to at least `want` (up to the hard limit); returns the new soft limit. */
long nk_raise_nofile(long want);

/*
 * A listener on `host` (numeric) that never accepts, with listen(fd, 0) and its accept queue filled by one
 * connection: further connects to it stay in progress (their SYNs are dropped) until cancelled or timed out.
 * Run inside a task. Returns the listener's descriptor; its address goes to `addr`, the filling connection to
 * `*filler` (close it, then the listener, at the end).
 */
int nk_full_listener(const char *host, int port, cio_addr *addr, cio_stream **filler);

/* A port on `host` that refuses connections: a socket bound to it and not listening (close it afterwards). */
int nk_refusing_port(const char *host, cio_addr *addr);

#endif
