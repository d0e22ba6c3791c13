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
 * accepts it, and cio_stream_drain waits until it is below the low-water mark (back-pressure). Queued output
 * keeps going out while no task writes.
 * One task may read while another writes; a second reader (or a second writer) at once gets -EBUSY.
 * Sockets are written with MSG_NOSIGNAL; writing to a pipe whose reader is gone, and sendfile to a gone peer,
 * raise SIGPIPE unless the program ignores it (then the call returns -EPIPE).
 */
typedef struct cio_stream cio_stream;

/*
 * With both sizes at most 256 KiB (the defaults are 64 KiB), a stream's buffers are 256 KiB ones the loop lends
 * while they hold bytes: an idle connection holds none, and one read or write moves up to 256 KiB. With a larger
 * size, a stream owns its buffers, grown as needed, until it is closed.
 */
typedef struct cio_stream_opts {
    /* The longest line (or read_until match) accepted, and what read_exactly gathers in the buffer before it
       copies as it goes. 0 means 64 KiB. */
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
 * Look at input in place, without taking it (a parser working on the stream's own buffer): wait until at least
 * `min` bytes are buffered (0: not at all), then give a view of everything buffered, `*len` >= min bytes.
 * Returns 1 with the view; 0 at end of stream with fewer than `min` (the view holds what is left, maybe none);
 * an error. Nothing is consumed: cio_stream_consume takes bytes off the front.
 * The view is valid until the next call on the stream that reads, peeks, consumes or unreads, or closes it; while
 * it lasts, the buffer is not given back to the loop (a view of zero bytes has NULL data).
 * Errors: -EMSGSIZE `min` is above the stream's limit (it could never hold that much); -EINVAL; -EBUSY another
 *         task is reading; read errors, cancellation, CIO_EREADTIMEOUT.
 */
int cio_stream_peek(cio_stream *s, size_t min, const void **data, size_t *len);

/*
 * cio_stream_peek until `sep` (`seplen` > 0 bytes) is buffered: returns 1 with the view and `*len` the bytes up to
 * and including the first separator (more may be buffered after it); 0 at end of stream without one (`*len` what
 * is left). Errors: -EMSGSIZE the limit's worth of bytes holds no separator (they stay buffered); as peek.
 */
int cio_stream_peek_until(cio_stream *s, const void *sep, size_t seplen, const void **data, size_t *len);

/* Drop the first `n` buffered bytes (after a peek). Never waits. Errors: -EINVAL more than are buffered;
   -EBUSY another task is reading; -EBADF closing. */
int cio_stream_consume(cio_stream *s, size_t n);

/*
 * Put `n` bytes back in front of the input, to be read first (what a parser read past the end of its message,
 * or a protocol sniffed and handed on). `data` may be a view this stream gave out; the bytes are copied unless
 * they are exactly the ones just consumed from in front of the buffer. Never waits.
 * Errors: -EMSGSIZE with them the stream would buffer more than its limit; -ENOMEM; -EINVAL; -EBUSY another task
 *         is reading; -EBADF closing.
 */
int cio_stream_unread(cio_stream *s, const void *data, size_t n);

/*
 * Bound every wait for input on the stream (its reads, peeks and line reads, a TLS handshake's reads, and a server
 * connection parked by CIO_CONN_KEEP): when no input arrives for `timeout` ns while one waits, the wait fails with
 * CIO_EREADTIMEOUT, and the stream stays usable. Each wait has the whole timeout (an idle timeout, aiohttp's
 * sock_read), so a peer trickling one byte in time keeps it going: bound a whole exchange with a timeout scope.
 * 0 turns it off (the default). Errors: -EINVAL negative or not a stream.
 */
int cio_stream_set_read_timeout(cio_stream *s, int64_t timeout);
/* The stream's read timeout (0: none), or -EINVAL. */
int64_t cio_stream_read_timeout(const cio_stream *s);

/*
 * Whether an idle stream (kept in a pool between requests) can still be used, without waiting and, when the loop
 * has seen nothing arrive since the stream's last read, without a system call (bytes the loop has not polled for
 * yet are not seen). Returns 0: usable.
 * Errors: CIO_EPEERCLOSED the peer ended the stream; CIO_EUNSOLICITED bytes arrived that nobody asked for (they
 *         stay buffered; over TLS, session tickets and other handshake messages are not bytes); -ECONNRESET and
 *         the stream's other read errors; -EBUSY a task is reading; -EBADF closing; -ENOMEM.
 */
int cio_stream_check_idle(cio_stream *s);

/*
 * Queue bytes for sending, sending what the descriptor takes at once; waits only while the output buffer is
 * above the high-water mark. Returns 0. Errors: -EPIPE / -ECONNRESET the peer is gone; -EINVAL after write_eof.
 */
int cio_stream_write(cio_stream *s, const void *buf, size_t len);
int cio_stream_writev(cio_stream *s, const struct iovec *iov, int iovcnt);

/* Wait until the output buffer is at or below the low-water mark (0: until all of it is sent). */
int cio_stream_drain(cio_stream *s);

/* Send what is buffered, then half-close the writing side (shutdown(SHUT_WR) on a socket, close on a pipe,
   close_notify on TLS, after which the peer may still send). */
int cio_stream_write_eof(cio_stream *s);

/*
 * Send what is buffered (waiting at most 5 s, or less under a deadline or cancel), close the descriptor and
 * free the stream. A TLS stream also sends close_notify and, within the same bounds, reads and drops what the
 * peer still sends until its close_notify or end of stream (as asyncio does): closing at once could make the
 * kernel reset the connection and drop our last bytes. Returns 0, the error that stopped the flush, an earlier write
 * error (buffered bytes may have been lost), or -EBUSY when another task was suspended writing and the bytes it had
 * queued were dropped; the stream is gone either way. NULL is ignored. A task suspended in a read or write on the
 * stream at that moment gets -EBADF.
 */
int cio_stream_close(cio_stream *s);

/* Close at once, dropping unsent bytes (a reset for TCP). NULL is ignored. */
void cio_stream_abort(cio_stream *s);

/* The descriptor (still owned by the stream), and the socket's addresses (-ENOTSUP on a pipe). */
int cio_stream_fd(const cio_stream *s);
int cio_stream_peer_addr(const cio_stream *s, cio_addr *out);
int cio_stream_local_addr(const cio_stream *s, cio_addr *out);

/* Send `count` bytes of `file_fd` from `offset` (sendfile(2) after flushing the buffer; over TLS the file is
   read in 16 KiB pieces and written like cio_stream_write). Returns the bytes sent (fewer only at the file's
   end). */
ssize_t cio_stream_sendfile(cio_stream *s, int file_fd, off_t offset, size_t count);

/* ------------------------------------------------------------------------------------------------ TLS */

/*
 * TLS (OpenSSL 3) as a transport under the stream API: a TLS stream is a cio_stream, and every stream call
 * works on it unchanged (asyncio's ssl= and start_tls). Reads return decrypted bytes; writes are buffered,
 * encrypted in records of up to 16 KiB and back-pressured as on TCP. Handshake, reads, writes and shutdown wait
 * on the loop, so deadlines and cancellation apply to them as to any wait.
 *
 * Secure by default: a client context trusts the system's CA store (ca-certificates) and checks the server's
 * chain and name (the DNS name against the certificate's DNS SANs, an IP address against its IP SANs), sending
 * SNI for names. Turning that off takes an option named for what it does (insecure_skip_verify).
 *
 * Each failure has its own code (CIO_ETLS*), and cio_tls_last_error gives OpenSSL's reason in words.
 */
typedef struct cio_tls_ctx cio_tls_ctx;

enum cio_tls_role {
    CIO_TLS_CLIENT = 0,
    CIO_TLS_SERVER = 1,
};

enum cio_tls_version {
    /* The zero default: TLS 1.2 as the minimum, the newest (1.3) as the maximum. */
    CIO_TLS_DEFAULT = 0,
    CIO_TLS_1_2 = 0x0303,
    CIO_TLS_1_3 = 0x0304,
};

/* Whether a server asks clients for a certificate. */
enum cio_tls_client_auth {
    CIO_TLS_CLIENT_AUTH_NONE = 0,
    /* Ask; verify one if given, accept a client without. */
    CIO_TLS_CLIENT_AUTH_OPTIONAL = 1,
    /* Ask and refuse a client without a valid one (CIO_ETLSNOCERT). */
    CIO_TLS_CLIENT_AUTH_REQUIRE = 2,
};

typedef struct cio_tls_opts {
    /* Trust anchors (PEM): a file of CA certificates and/or a c_rehash'ed directory. When either is set, the
       system store is not loaded (clients), and a server verifies client certificates against them. */
    const char *ca_file;
    const char *ca_dir;
    /* This side's certificate chain (PEM: the leaf first, then intermediates) and its private key (PEM); a server
       needs them, a client sends them when the server asks. */
    const char *cert_file;
    const char *key_file;
    /* ALPN protocols in preference order, a NULL-terminated array ("h2", "http/1.1"); NULL: no ALPN. A client
       offers them; a server picks the first of its own that the client offers, and refuses a client that
       offers ALPN but none of these (CIO_ETLSALPN), as RFC 7301 says. */
    const char *const *alpn;
    /* OpenSSL cipher strings for TLS 1.2 (ciphers) and 1.3 (ciphersuites); NULL: OpenSSL's defaults. */
    const char *ciphers;
    const char *ciphersuites;
    /* enum cio_tls_version bounds. */
    int min_version;
    int max_version;
    /* Server: enum cio_tls_client_auth. */
    int client_auth;
    /* Client: skip the chain and host-name checks. Only for tests and for peers checked some other way. */
    bool insecure_skip_verify;
    /* A connection that ends without close_notify reads as a clean end of stream instead of CIO_ETLSTRUNCATED
       (some peers never send it; the protocol above must then frame its own messages). */
    bool allow_truncation;
    /* Turn off session resumption: the client's session cache, or the server's session cache and tickets. */
    bool no_resumption;
    /* Append the session secrets to this file in NSS key log format (for Wireshark). NULL: the SSLKEYLOGFILE
       environment variable if set, else nothing. Never set it in production. */
    const char *keylog_file;
    /* Intermediate certificates (PEM) to send after cert_file's, for a certificate file that holds the leaf alone
       (what nginx's and Let's Encrypt's separate chain files are). NULL: only what cert_file holds. */
    const char *chain_file;
} cio_tls_opts;

/*
 * A TLS configuration for many connections (an SSL_CTX), usable from any loop and thread. A client context
 * keeps a session cache keyed by the name verified and the port (by the address, for a connection without a
 * name), so a second connection to the same server resumes.
 * Errors: -EINVAL bad role or version bounds, a server without cert_file and key_file, one of them without the
 *         other, chain_file without cert_file, client_auth on a client, an empty string for a path, an ALPN name empty
 * or over 255 bytes; -ENOENT (and other file errors) for a file that cannot be read, keylog_file included (a key log
 * from SSLKEYLOGFILE that cannot be opened is skipped); CIO_ETLSCONFIG a certificate, key or cipher string OpenSSL
 * refuses, or a key that does not match the certificate (see cio_tls_last_error); -ENOMEM.
 */
int cio_tls_ctx_new(cio_tls_ctx **out, int role, const cio_tls_opts *opts);

/* Release the caller's reference; streams using the context keep it alive until they close. NULL is ignored. */
void cio_tls_ctx_free(cio_tls_ctx *ctx);

/* The SSL_CTX, for settings cio does not cover (asyncio's SSLContext is OpenSSL's too). */
void *cio_tls_ctx_native(cio_tls_ctx *ctx);

/*
 * Run a TLS handshake on a connected stream (asyncio's start_tls; STARTTLS protocols): as a client of
 * `server_name` (a DNS name or an IP address to check the certificate against, and the SNI; NULL only with
 * insecure_skip_verify), or as a server. Bytes already buffered on the stream are the first of the handshake,
 * so a client that sent its ClientHello right after the STARTTLS command loses nothing. On success the stream
 * speaks TLS from then on. Once the handshake has begun, a failure (or a cancel) leaves the stream unusable:
 * every call returns that error; close it. A call refused before (-EINVAL, -EBUSY, -ENOMEM, or a failure
 * sending the output buffered before the call, which goes first, in the clear) leaves it as it was.
 * With client certificates required, a TLS 1.3 client learns that the server refused its certificate (or the
 * lack of one) on its first read, not from the handshake: the server decides after the client has finished.
 * Errors: -EINVAL bad arguments, the stream speaks TLS already, is a pipe, or has ended (write_eof, end of stream);
 *         -EBUSY a read or write is in progress; the CIO_ETLS* codes; -ECONNRESET, CIO_ETLSTRUNCATED the peer
 *         hung up mid-handshake; -ETIMEDOUT, -ECANCELED.
 */
int cio_stream_start_tls(cio_stream *s, cio_tls_ctx *ctx, const char *server_name);

/* Whether the stream speaks TLS. */
bool cio_stream_is_tls(const cio_stream *s);

/* What a TLS stream negotiated. The strings are static or live as long as the stream. */
typedef struct cio_tls_info {
    /* "TLSv1.3", "TLSv1.2". */
    const char *version;
    /* The cipher's OpenSSL name ("TLS_AES_256_GCM_SHA384"). */
    const char *cipher;
    /* The ALPN protocol chosen (not NUL-terminated), or NULL and 0 when none was. */
    const char *alpn;
    size_t alpn_len;
    /* The session was resumed (no certificate exchange took place). */
    bool resumed;
    /* The peer presented a certificate and it verified. */
    bool peer_verified;
    /* The SNI name the client sent (on the server side: received), or NULL. */
    const char *server_name;
} cio_tls_info;

/* Errors: -EINVAL NULL, or not a TLS stream. */
int cio_stream_tls_info(const cio_stream *s, cio_tls_info *out);

/*
 * The peer's certificate in DER, copied to `buf` (may be NULL with cap 0 to learn the size). Returns its
 * length (> cap: nothing was copied), or -ENOENT when the peer sent none, -EINVAL not a TLS stream.
 */
ssize_t cio_stream_tls_peer_cert(const cio_stream *s, void *buf, size_t cap);

/* The peer certificate's subject as one line ("CN=localhost,O=cio test"); returns the length, -ENOSPC when it
   was cut to fit `cap`, -ENOENT no certificate, -EINVAL. */
int cio_stream_tls_peer_subject(const cio_stream *s, char *buf, size_t cap);

/* The SSL object, or NULL for a plain stream (asyncio's get_extra_info("ssl_object")). */
void *cio_stream_tls_native(const cio_stream *s);

/*
 * The last TLS failure on this thread in words, with OpenSSL's reason ("certificate verify failed: certificate
 * has expired (depth 0)"); "" when there was none. Set by the call that returned a CIO_ETLS* code, valid until
 * the thread's next TLS failure; read it before the task waits again.
 */
const char *cio_tls_last_error(void);

/* ------------------------------------------------------------------------------------------------ TCP and Unix */

typedef struct cio_connect_opts {
    /* For the whole connection attempt, name lookup included; 0 means none (the caller's scopes still apply). */
    int64_t timeout;
    /* RFC 8305's delay before starting the next address; 0 means 250 ms. */
    int64_t happy_eyeballs_delay;
    cio_stream_opts stream;
    /* Speak TLS with this client context once connected (asyncio's ssl=); the handshake is within `timeout`. */
    cio_tls_ctx *tls;
    /* The name to verify and send as SNI; NULL: the host given to cio_open_connection (required with
       cio_connect_addr unless the context skips verification). */
    const char *server_name;
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

/*
 * Handles one connection in its own task; the server closes the stream after it returns, unless it returns
 * CIO_CONN_KEEP. The handler must not close the stream itself.
 */
typedef int (*cio_conn_fn)(cio_stream *s, void *arg);

/*
 * A handler's return value that keeps its connection open without a task: the server watches the stream and calls
 * the handler again, in a new task, when input, the end of the stream or an error arrives, or at once if input is
 * already there (on a connection never read from, whose first bytes may be there, that is at once too: the handler
 * then waits for them in its task). Output the handler queued keeps draining meanwhile. Returned after the stream
 * ended or failed, it closes the connection like 0. A connection kept this way costs its stream's few hundred
 * bytes instead of a task's stack page: for request/response protocols between requests (HTTP keep-alive) and
 * for mostly idle connections. State that must outlive a call belongs in memory of the caller's own, not on the
 * handler's stack; no other task may be using the stream. When the server closes, kept connections are closed,
 * each in a task of its own under the grace, without a further call of the handler (a server left open when its
 * loop ends leaks them, as it leaks itself); they count toward max_connections like any other.
 */
#define CIO_CONN_KEEP 0x6b656570 /* "keep": no count or status a handler might return by accident */

typedef struct cio_server_opts {
    /* listen(2) backlog; 0 means 511. */
    int backlog;
    /* SO_REUSEPORT, for one loop per core on the same port. SO_REUSEADDR is always on. */
    bool reuse_port;
    /* At most this many connections handled at once; further ones wait in the backlog. 0: no limit. */
    size_t max_connections;
    cio_stream_opts stream;
    /* Serve TLS with this server context: each connection's task runs the handshake before the handler, and a
       failed handshake closes the connection without calling the handler (the server goes on serving others). */
    cio_tls_ctx *tls;
    /* The most a TLS handshake may take once the client's first bytes are in, and the most a connection waits
       for them before it (a silent client holds no TLS state meanwhile); 0 means 60 s (asyncio's
       ssl_handshake_timeout). */
    int64_t tls_handshake_timeout;
    /* A connection kept by CIO_CONN_KEEP that gets no input for this long is closed (aiohttp's keepalive_timeout,
       nginx's keepalive_timeout); 0: the stream's read timeout, if any, bounds that wait too. */
    int64_t keep_timeout;
    /* The read timeout each connection's stream starts with (cio_stream_set_read_timeout): a connection whose
       peer sends nothing, or stops in the middle of a message, gets CIO_EREADTIMEOUT in the handler's read (which
       should then return) after this long. The handler may change it. 0: none. */
    int64_t read_timeout;
    /* Bytes of per-connection storage, zeroed at accept and kept as long as the connection, kept or not
       (cio_server_conn_state). 0: none. */
    size_t conn_state_size;
    /* Called exactly once for every connection the server took, however it ended (its handler returned, the peer
       closed, a timeout, the server's close, cancellation), after its stream is closed, with its storage and the
       server's `arg`: what a connection allocated is freed here. A plain callback: it must not wait. */
    void (*on_close)(void *conn_state, void *arg);
    /* At most this many TLS handshakes at once (each holds about 40 KiB of OpenSSL's memory); connections beyond
       wait for a turn within their handshake timeout. Before a client's first bytes, a connection holds no TLS
       state at all. 0 means 128. */
    size_t max_tls_handshakes;
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
int cio_start_unix_server(cio_server **out, cio_conn_fn fn, void *arg, const char *path, const cio_server_opts *opts);

/*
 * Serve a socket that already listens (TCP or Unix, any family), such as one systemd passes (LISTEN_FDS, from fd 3).
 * The server takes `fd` (made non-blocking and close-on-exec) and closes it when it closes; on error it stays the
 * caller's. Errors: -ENOTSOCK not a socket; -EINVAL not a listening stream socket, or bad arguments; CIO_ENOTASK;
 * -ENOMEM.
 */
int cio_start_server_fd(cio_server **out, cio_conn_fn fn, void *arg, int fd, const cio_server_opts *opts);

/* The address it listens on (with the port the kernel chose). */
int cio_server_addr(const cio_server *srv, cio_addr *out);

/*
 * Stop accepting (asyncio's Server.close): the listening socket is closed at once (a Unix socket's file removed),
 * connections already taken go on being served, kept ones included, until cio_server_close. Calling it again does
 * nothing. Returns 0. Errors: -EINVAL; CIO_ENOTASK.
 */
int cio_server_stop(cio_server *srv);

/* The per-connection storage (cio_server_opts.conn_state_size bytes, zeroed at accept) of a stream a server
   handed to its handler; NULL for another stream or a server without it. */
void *cio_server_conn_state(const cio_stream *s);

/* The number of connections being handled now. */
size_t cio_server_connections(const cio_server *srv);

/*
 * Graceful close: stop accepting at once, close parked (idle) connections, wait up to `grace` ns for the handlers
 * to finish, cancel those still running and wait for their cleanup, then free the server. Returns 0, or -ETIMEDOUT
 * if handlers at work had to be cancelled (closing an idle connection is not work: with grace 0 and only idle
 * connections the result is 0). Call from a task of the server's loop.
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
/* Receive one datagram into `buf` (a longer one is cut to `cap`); returns the datagram's full size, which
   exceeds `cap` when it was cut. `from` may be NULL. */
ssize_t cio_udp_recvfrom(cio_udp *u, void *buf, size_t cap, cio_addr *from);
int cio_udp_local_addr(const cio_udp *u, cio_addr *out);
void cio_udp_close(cio_udp *u);

/* ------------------------------------------------------------------------------------------------ processes, pipes,
 * files */

/*
 * Bytes that cio allocated for the caller (cio_process_communicate's outputs). `data` is NUL-terminated (the
 * NUL is not counted in `len`), or NULL when nothing was kept. Release with cio_buf_free.
 */
typedef struct cio_buf {
    char *data;
    size_t len;
} cio_buf;

/* Free `b->data` (through cio's allocator) and zero `b`. NULL is ignored. */
void cio_buf_free(cio_buf *b);

/*
 * A pipe as two streams: bytes written to `*wr` are read from `*rd` (os.pipe wrapped in asyncio streams). Both
 * ends are O_CLOEXEC and non-blocking. Writing after the reading end has closed raises SIGPIPE unless the
 * program ignores it (then the write fails with -EPIPE); cio_stream_write_eof on `*wr` closes it, and the reader
 * then sees end of stream. Each stream is the caller's, closed with cio_stream_close.
 * Errors: -EINVAL a NULL out-pointer; -EMFILE, -ENFILE; -ENOMEM; CIO_ENOLOOP. On failure both are NULL and no
 *         descriptor is left open.
 */
int cio_pipe_open(cio_stream **rd, cio_stream **wr, const cio_stream_opts *opts);

/* A child process started by cio_process_exec or cio_process_shell (asyncio.subprocess.Process). */
typedef struct cio_process cio_process;

/* What one of the child's standard descriptors is connected to. */
enum cio_process_stdio {
    /* The parent's own descriptor (the zero default, asyncio's None). */
    CIO_INHERIT = 0,
    /* A new pipe whose other end is a cio_stream of the process (cio_process_stdin/_stdout/_stderr). */
    CIO_PIPE = 1,
    /* /dev/null. */
    CIO_DEVNULL = 2,
    /* stderr only: the same file as the child's stdout (asyncio.subprocess.STDOUT). */
    CIO_STDOUT = 3,
};

typedef struct cio_process_opts {
    /* enum cio_process_stdio for each standard descriptor of the child. */
    int stdin_mode, stdout_mode, stderr_mode;
    /* The child's working directory; NULL: the parent's. */
    const char *cwd;
    /* The child's environment, a NULL-terminated "NAME=value" array; NULL: the parent's (environ). */
    char *const *env;
    /* Options of the streams made for CIO_PIPE (limit, water marks). */
    cio_stream_opts stream;
} cio_process_opts;

/*
 * asyncio.create_subprocess_exec: start `argv[0]` with arguments `argv` (NULL-terminated). A name without '/'
 * is searched in the parent's PATH (posix_spawnp), even when `opts->env` gives another one. The child gets
 * descriptors 0, 1 and 2 only (with glibc 2.34+ nothing else the parent has open, O_CLOEXEC or not; before,
 * every descriptor cio opens is O_CLOEXEC and the program's own must be too), an empty signal mask and
 * every signal at its default action (as Python's restore_signals), in the parent's session and process group.
 * A CIO_PIPE stdin is a Unix socket pair rather than a pipe, so that writing to a child that has gone fails
 * with -EPIPE instead of raising SIGPIPE in the parent; stdout and stderr pipes are pipes.
 * The exit is learned from a pidfd watched by the loop (Linux 5.3+), never from SIGCHLD, so cio does not touch
 * the program's SIGCHLD disposition; without pidfds the exit is polled (1 ms doubling to 100 ms).
 * Returns 0 with `*out` set; the process belongs to the calling loop and is released with cio_process_close.
 * Errors: -EINVAL NULL out or argv, empty argv, a bad mode (CIO_STDOUT other than for stderr); -ENOENT no such
 *         program (or cwd); -EACCES, -ENOEXEC, ... as execve(2) and chdir(2) report them; -EMFILE, -EAGAIN,
 *         -ENOMEM; CIO_ENOLOOP. On failure `*out` is NULL, no descriptor is left open and no child runs.
 */
int cio_process_exec(cio_process **out, char *const argv[], const cio_process_opts *opts);

/* asyncio.create_subprocess_shell: cio_process_exec of "/bin/sh", "-c", `cmd`. -EINVAL for a NULL cmd. */
int cio_process_shell(cio_process **out, const char *cmd, const cio_process_opts *opts);

/*
 * The parent's ends of the CIO_PIPE descriptors, NULL for the others. The streams belong to the process:
 * cio_process_close closes them; never close them yourself. To end the child's input, call
 * cio_stream_write_eof on its stdin stream.
 */
cio_stream *cio_process_stdin(const cio_process *p);
cio_stream *cio_process_stdout(const cio_process *p);
cio_stream *cio_process_stderr(const cio_process *p);

/* The child's process id (still valid, and not reused, until cio_process_close), or -EINVAL. */
int cio_process_pid(const cio_process *p);

/*
 * Wait until the child exits and reap it (Process.wait); once reaped, every call returns at once. `*status`
 * (may be NULL) receives asyncio's returncode: the exit code (0 to 255), or -N when signal N ended the child
 * (-9 after SIGKILL). Any number of tasks may wait at once. Being cancelled leaves the child running and the
 * process usable. Reading nothing from a CIO_PIPE stdout while waiting can deadlock a child that writes much:
 * use cio_process_communicate.
 * Returns 0. Errors: -ECANCELED, -ETIMEDOUT; -ECHILD the child was reaped behind cio's back (SIGCHLD set to
 *         SIG_IGN, or a waitpid(-1) elsewhere in the program); -EINVAL.
 */
int cio_process_wait(cio_process *p, int *status);

/*
 * The returncode without waiting (Process.returncode): 0 with `*status` set once the child has exited (it is
 * reaped here if it has), -EAGAIN while it runs; -ECHILD, -EINVAL as for wait.
 */
int cio_process_returncode(cio_process *p, int *status);

/*
 * Process.communicate: write `in` (`inlen` bytes; NULL or 0 for none) to the child's stdin and then close it,
 * read its stdout and stderr to their ends, all at once (three tasks of a task group, so that no pipe fills up
 * while another is being served), then wait for the child to exit. `out` and `err` (either may be NULL: the output
 * is then read and dropped) receive what came, unlimited in size; one whose descriptor is not CIO_PIPE is left
 * empty. A child that stops reading its stdin is not an error: -EPIPE and -ECONNRESET from the feed are
 * ignored, as asyncio does. The stdin stream is left half-closed, the others at end of stream.
 * Returns 0, with the returncode available from cio_process_wait (which then returns at once).
 * Errors: -EINVAL `in` given but stdin is not CIO_PIPE, or NULL p; -EBUSY another task is reading one of the
 *         streams; -ENOMEM; the streams' errors; -ECANCELED, -ETIMEDOUT (the child keeps running). On error
 *         `out` and `err` are empty (data NULL, len 0).
 * Ownership: `in` is only read during the call; `out` and `err` are the caller's, freed with cio_buf_free.
 */
int cio_process_communicate(cio_process *p, const void *in, size_t inlen, cio_buf *out, cio_buf *err);

/*
 * Send signal `sig` to the child (through its pidfd, so a recycled pid is never hit). terminate sends SIGTERM,
 * kill SIGKILL. Returns 0. Errors: -ESRCH the child has been reaped already; -EINVAL bad signal or NULL;
 * -EPERM.
 */
int cio_process_send_signal(cio_process *p, int sig);
int cio_process_terminate(cio_process *p);
int cio_process_kill(cio_process *p);

/*
 * Release the process, never leaving a zombie: a child still running is killed with SIGKILL (asyncio leaves it
 * running; we choose no orphans) and reaped, then the streams are closed without flushing (unsent stdin bytes
 * are dropped) and the pidfd is closed. The reaping wait ignores cancellation (SIGKILL makes it short); outside
 * a task it blocks in waitpid. Call it from the loop that started the process, while no other task uses it
 * (waits on it, reads its streams). NULL is ignored.
 * Returns 0 when the child had exited by itself, 1 when close killed it; -EINVAL not a live process.
 */
int cio_process_close(cio_process *p);

/*
 * Regular files, through the thread pool (cio_to_thread), since a disk read cannot wait for readiness. Each
 * call runs one system call on a worker while the calling task is suspended and other tasks run.
 *
 * Cancellation: a cancel pending when a call begins makes it return -ECANCELED / -ETIMEDOUT before anything is
 * done. A cancel that arrives while the system call runs does not cut it short: the call waits for the worker
 * (regular-file I/O is bounded) and returns what the system call did, so no byte written or read is lost
 * unreported; the cancellation stays in force and the task's next wait reports it. So the caller's buffer is
 * used only during the call, never afterwards. Because of this, cio_file refuses FIFOs and sockets, whose
 * operations may block forever: use cio_stream_open_fd for those.
 */
typedef struct cio_file cio_file;
struct stat;

/*
 * open(2) `path` with `flags` (O_RDONLY, O_WRONLY|O_CREAT|O_TRUNC, O_APPEND, ...; O_CLOEXEC is always added)
 * and `mode` (for O_CREAT). The file is opened O_NONBLOCK first and checked before the flag is cleared, so a
 * FIFO never blocks the worker. Released with cio_file_close.
 * Errors: -EINVAL NULL out or path, or a FIFO or socket; -ENOENT, -EACCES, -EISDIR, -EEXIST, ... as open(2);
 *         -ENOMEM; cancellation; CIO_ENOTASK / CIO_ENOLOOP not in a task (as for every call below).
 */
int cio_file_open(cio_file **out, const char *path, int flags, mode_t mode);

/*
 * read(2) at the file's offset / pread(2) at `offset`, one system call: returns the bytes read (fewer than
 * `cap` near the end of the file), 0 at or past the end.
 * Errors: -EINVAL NULL f, NULL buf with cap > 0, cap > SSIZE_MAX, offset < 0; -EBADF not open for reading;
 *         -EISDIR, -EIO, ... as the system call; cancellation pending at the call.
 */
ssize_t cio_file_read(cio_file *f, void *buf, size_t cap);
ssize_t cio_file_pread(cio_file *f, void *buf, size_t cap, off_t offset);

/*
 * Write all `len` bytes at the file's offset (or its end, with O_APPEND) / at `offset`, retrying short writes
 * on the worker. Returns len; or, when a write fails after some bytes went out, the count written so far.
 * Errors: -EINVAL as for read; -EBADF not open for writing; -ENOSPC, -EFBIG, -EIO, ...; cancellation pending.
 */
ssize_t cio_file_write(cio_file *f, const void *buf, size_t len);
ssize_t cio_file_pwrite(cio_file *f, const void *buf, size_t len, off_t offset);

/* fstat(2) into `st`. Errors: -EINVAL NULL; -EIO; cancellation pending. */
int cio_file_stat(cio_file *f, struct stat *st);

/* fsync(2) (fdatasync(2) with `data_only`). Errors: -EINVAL NULL; -EIO, -ENOSPC; cancellation pending. */
int cio_file_sync(cio_file *f, bool data_only);

/* The descriptor, still owned by the file (for fcntl locks, mmap, sendfile), or -EINVAL. */
int cio_file_fd(const cio_file *f);

/*
 * close(2) on a worker (closing can flush, on network file systems) and free the file, also when the task is
 * cancelled. Returns 0, or the error close reported (-EIO, ...): the file is gone either way. Outside a task
 * it closes on the calling thread. NULL is ignored.
 */
int cio_file_close(cio_file *f);

#ifdef __cplusplus
}
#endif

#endif
