/* cio/io.h: addresses, TCP, Unix and UDP sockets, buffered streams with back-pressure, servers, files, pipes. */
#ifndef CIO_IO_H
#define CIO_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "cio/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every call here that waits is a suspension point (see core.h): it may return -ECANCELED or -ETIMEDOUT, and
 * leaves the object usable or, where it cannot, says so. I/O tries the system call first and waits only on
 * EAGAIN. Every descriptor cio opens is O_CLOEXEC and non-blocking.
 */

/* ------------------------------------------------------------------------------------------------ addresses */

/* A socket address of any family cio speaks (IPv4, IPv6, Unix), in caller storage. */
typedef struct cio_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_storage ss;
    } u;
    socklen_t len;
} cio_addr;

/*
 * A numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "[::1]") and a port (0 to 65535; 0 only where a listener
 * picks its own). No name lookup: see cio_open_connection for names.
 * Errors: -EINVAL NULL, not a numeric address, or port out of range.
 */
int cio_addr_parse(cio_addr *out, const char *host, int port);

/* A Unix socket path; a leading '@' names a Linux abstract socket. Errors: -EINVAL NULL or empty;
   -ENAMETOOLONG longer than sun_path allows. */
int cio_addr_unix(cio_addr *out, const char *path);

/* "127.0.0.1:80", "[::1]:443" or the Unix path ("@name" for abstract). Returns the length written (without the
   NUL), or -ENOSPC when `cap` is too small (the text is cut and NUL-terminated), -EINVAL. */
int cio_addr_format(const cio_addr *a, char *buf, size_t cap);

/* The port of an IPv4/IPv6 address, or -EINVAL. */
int cio_addr_port(const cio_addr *a);

/* ------------------------------------------------------------------------------------------------ names */

typedef struct cio_resolve_opts {
    /* AF_UNSPEC (0: both), AF_INET or AF_INET6. */
    int family;
    /* For the whole lookup; 0 means 5 s. */
    int64_t timeout;
} cio_resolve_opts;

/*
 * Resolve `host` to at most `cap` addresses with `port` set, on the loop itself (c-ares: no thread is used):
 * numeric addresses directly, then /etc/hosts, then DNS (A and AAAA), with a per-loop cache that honours the
 * records' TTLs. Addresses come in RFC 6724-ish order: as the resolver gave them, IPv6 first when both exist.
 * Returns the count (>= 1).
 * Errors: CIO_EAI_NONAME no such name; CIO_EAI_NODATA no address of that family; CIO_EAI_TIMEOUT; CIO_EAI_*
 *         for the resolver's other reasons; -EINVAL bad argument (empty host, port out of range, cap 0);
 *         cancellation.
 * The environment variable CIO_RESOLV_CONF and CIO_HOSTS_FILE point the resolver at another resolv.conf or
 * hosts file (tests use them).
 */
int cio_resolve(const char *host, int port, cio_addr *addrs, size_t cap, const cio_resolve_opts *opts);

/* ------------------------------------------------------------------------------------------------ streams */

/*
 * A buffered, bidirectional byte stream over a socket or a pipe (asyncio's StreamReader + StreamWriter in one
 * object). Reads fill an internal buffer; writes append to an output buffer that is sent as the descriptor
 * accepts it, and cio_stream_drain waits until it is below the low-water mark (back-pressure).
 * One task may read while another writes; two tasks reading at once get -EBUSY.
 */
typedef struct cio_stream cio_stream;

typedef struct cio_stream_opts {
    /* The longest line (or read_until match) accepted, and the read buffer's size cap. 0 means 64 KiB. */
    size_t limit;
    /* cio_stream_write waits (like write + drain) once this many bytes are buffered; 0 means 64 KiB. */
    size_t high_water;
    /* cio_stream_drain returns once the output buffer is at most this; 0 means high_water / 4. */
    size_t low_water;
} cio_stream_opts;

/*
 * Wrap a connected socket or a pipe end; the stream owns `fd` from then on (even on failure, which closes it).
 * The descriptor is made non-blocking. Errors: -EINVAL, -EBADF, -ENOMEM, CIO_ENOLOOP.
 */
int cio_stream_open_fd(cio_stream **out, int fd, const cio_stream_opts *opts);

/* Read at most `cap` (> 0) bytes, waiting until at least one is there. Returns the count, 0 at end of stream. */
ssize_t cio_stream_read(cio_stream *s, void *buf, size_t cap);

/*
 * Read exactly `n` bytes. Returns n; or CIO_EINCOMPLETE when the stream ended first, with the `*got` bytes that
 * came stored in `buf` (asyncio's IncompleteReadError.partial). `got` may be NULL.
 */
ssize_t cio_stream_read_exactly(cio_stream *s, void *buf, size_t n, size_t *got);

/*
 * Read up to and including the separator ("\n" for read_line) into `buf`. Returns the length with the separator;
 * at end of stream, what is left without one (0 when nothing is). Errors: -EMSGSIZE no separator within
 * min(cap, limit) bytes: the bytes stay buffered, the stream stays usable (asyncio's LimitOverrunError).
 */
ssize_t cio_stream_read_line(cio_stream *s, char *buf, size_t cap);
ssize_t cio_stream_read_until(cio_stream *s, const void *sep, size_t seplen, void *buf, size_t cap);

/* Whether the peer has ended the stream and the buffer is empty. */
bool cio_stream_at_eof(const cio_stream *s);

/*
 * Iterate, in constant memory, asyncio's `async for line in reader` / chunks: 1 with a view (valid until the
 * next call on the stream), 0 at end of stream, or an error (-EMSGSIZE for a line over the limit).
 */
int cio_stream_next_line(cio_stream *s, const char **line, size_t *len);
int cio_stream_next_chunk(cio_stream *s, const void **chunk, size_t *len);

/*
 * Queue bytes for sending, sending what the descriptor takes at once; waits only while the output buffer is
 * above the high-water mark. Returns 0. Errors: -EPIPE / -ECONNRESET the peer is gone; -EINVAL after write_eof.
 */
int cio_stream_write(cio_stream *s, const void *buf, size_t len);
int cio_stream_writev(cio_stream *s, const struct iovec *iov, int iovcnt);

/* Wait until the output buffer is at or below the low-water mark (0: until all of it is sent). */
int cio_stream_drain(cio_stream *s);

/* Send what is buffered, then half-close the writing side (shutdown(SHUT_WR) on a socket, close on a pipe). */
int cio_stream_write_eof(cio_stream *s);

/*
 * Send what is buffered (waiting at most 5 s, or less under a deadline or cancel), close the descriptor and
 * free the stream. Returns 0 or the error that stopped the flush; the stream is gone either way. NULL is
 * ignored.
 */
int cio_stream_close(cio_stream *s);

/* Close at once, dropping unsent bytes (a reset for TCP). NULL is ignored. */
void cio_stream_abort(cio_stream *s);

/* The descriptor (still owned by the stream), and the socket's addresses. */
int cio_stream_fd(const cio_stream *s);
int cio_stream_peer_addr(const cio_stream *s, cio_addr *out);
int cio_stream_local_addr(const cio_stream *s, cio_addr *out);

/* Send `count` bytes of `file_fd` from `offset` (sendfile(2) after flushing the buffer). Returns the bytes sent
   (fewer only at the file's end). */
ssize_t cio_stream_sendfile(cio_stream *s, int file_fd, off_t offset, size_t count);

/* ------------------------------------------------------------------------------------------------ TCP and Unix */

typedef struct cio_connect_opts {
    /* For the whole connection attempt, name lookup included; 0 means none (the caller's scopes still apply). */
    int64_t timeout;
    /* RFC 8305's delay before starting the next address; 0 means 250 ms. */
    int64_t happy_eyeballs_delay;
    cio_stream_opts stream;
} cio_connect_opts;

/*
 * asyncio.open_connection: resolve `host` (a name or a numeric address), try its addresses with Happy Eyeballs
 * (RFC 8305: IPv6 and IPv4 interleaved, the next attempt started after the delay while earlier ones continue,
 * the first to connect wins, the others are closed), with TCP_NODELAY on.
 * Errors: -EINVAL bad host or port; -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, ... (the last attempt's error);
 *         name-resolution errors (CIO_EAI_*); cancellation. No descriptor is left open on failure.
 */
int cio_open_connection(cio_stream **out, const char *host, int port, const cio_connect_opts *opts);

/* Connect to one address (TCP or Unix). */
int cio_connect_addr(cio_stream **out, const cio_addr *addr, const cio_connect_opts *opts);

/* asyncio.open_unix_connection ("@name" for an abstract socket). */
int cio_open_unix_connection(cio_stream **out, const char *path, const cio_connect_opts *opts);

/* A server: a listening socket, an accept loop, a task per connection. */
typedef struct cio_server cio_server;

/* Handles one connection in its own task; the server closes the stream after it returns. */
typedef int (*cio_conn_fn)(cio_stream *s, void *arg);

typedef struct cio_server_opts {
    /* listen(2) backlog; 0 means 511. */
    int backlog;
    /* SO_REUSEPORT, for one loop per core on the same port. SO_REUSEADDR is always on. */
    bool reuse_port;
    /* At most this many connections handled at once; further ones wait in the backlog. 0: no limit. */
    size_t max_connections;
    cio_stream_opts stream;
} cio_server_opts;

/*
 * asyncio.start_server: listen on host:port (numeric address or NULL for all IPv4 and IPv6 addresses; port 0
 * picks a free port, see cio_server_addr) and start accepting in a task of the current loop. Each connection
 * runs `fn(stream, arg)` in its own task. When the process runs out of descriptors, accepting backs off and
 * retries instead of spinning, and says so once in the loop's log.
 * Errors: -EINVAL; -EADDRINUSE; -EACCES; CIO_ENOTASK; -ENOMEM.
 */
int cio_start_server(cio_server **out, cio_conn_fn fn, void *arg, const char *host, int port,
                     const cio_server_opts *opts);
int cio_start_unix_server(cio_server **out, cio_conn_fn fn, void *arg, const char *path,
                          const cio_server_opts *opts);

/* The address it listens on (with the port the kernel chose). */
int cio_server_addr(const cio_server *srv, cio_addr *out);

/* The number of connections being handled now. */
size_t cio_server_connections(const cio_server *srv);

/*
 * Graceful close: stop accepting at once, wait up to `grace` ns for the handlers to finish, cancel those still
 * running and wait for their cleanup, then free the server. Returns 0, or -ETIMEDOUT if handlers had to be
 * cancelled. Call from a task of the server's loop.
 */
int cio_server_close(cio_server *srv, int64_t grace);

/* ------------------------------------------------------------------------------------------------ UDP */

typedef struct cio_udp cio_udp;

/*
 * A UDP endpoint bound to `local` (NULL: an ephemeral port on the family of `remote`, or IPv4) and, if `remote`
 * is given, connected to it (then send/recv talk to that peer only).
 */
int cio_udp_open(cio_udp **out, const cio_addr *local, const cio_addr *remote);
ssize_t cio_udp_send(cio_udp *u, const void *buf, size_t len);
ssize_t cio_udp_sendto(cio_udp *u, const void *buf, size_t len, const cio_addr *to);
/* Receive one datagram into `buf` (a longer one is cut to `cap`); returns its size as received. `from` may be
   NULL. */
ssize_t cio_udp_recvfrom(cio_udp *u, void *buf, size_t cap, cio_addr *from);
int cio_udp_local_addr(const cio_udp *u, cio_addr *out);
void cio_udp_close(cio_udp *u);

/* ------------------------------------------------------------------------------------------------ processes, pipes, files */
/* (filled in below by the process and file layer) */

#ifdef __cplusplus
}
#endif

#endif
