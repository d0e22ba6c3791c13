/* cio/error.h: the one table of error codes, their names and their messages. */
#ifndef CIO_ERROR_H
#define CIO_ERROR_H

#include <errno.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every cio function that can fail returns a negative error code. System errors keep their errno value
 * (`rc == -ECONNRESET` is `rc == CIO_ECONNRESET`); cio's own codes start at 4000, above any errno.
 * Ranges: 4000-4099 core, 4100-4199 I/O and DNS, 4200-4299 TLS, 4300-4399 HTTP, 4400-4449 the web server,
 * 4450-4499 the HTTP client.
 *
 * X(name, positive value, message)
 */
/* clang-format off */
#define CIO_ERRORS_SYS(X)                                                                          \
    X(EPERM,           EPERM,           "operation not permitted")                                 \
    X(ENOENT,          ENOENT,          "no such file or directory")                               \
    X(EINTR,           EINTR,           "interrupted system call")                                 \
    X(EIO,             EIO,             "input/output error")                                      \
    X(EBADF,           EBADF,           "bad file descriptor")                                     \
    X(EAGAIN,          EAGAIN,          "resource temporarily unavailable")                        \
    X(ENOMEM,          ENOMEM,          "out of memory")                                           \
    X(EACCES,          EACCES,          "permission denied")                                       \
    X(EFAULT,          EFAULT,          "bad address")                                             \
    X(EBUSY,           EBUSY,           "resource busy")                                           \
    X(EEXIST,          EEXIST,          "file exists")                                             \
    X(ENOTDIR,         ENOTDIR,         "not a directory")                                         \
    X(EISDIR,          EISDIR,          "is a directory")                                          \
    X(EINVAL,          EINVAL,          "invalid argument")                                        \
    X(ENFILE,          ENFILE,          "file table overflow")                                     \
    X(EMFILE,          EMFILE,          "too many open files")                                     \
    X(ENOSPC,          ENOSPC,          "no space left on device")                                 \
    X(EPIPE,           EPIPE,           "broken pipe")                                             \
    X(ERANGE,          ERANGE,          "result out of range")                                     \
    X(EDEADLK,         EDEADLK,         "resource deadlock avoided")                               \
    X(ENAMETOOLONG,    ENAMETOOLONG,    "name too long")                                           \
    X(ENOSYS,          ENOSYS,          "function not implemented")                                \
    X(ENOTSUP,         ENOTSUP,         "operation not supported")                                 \
    X(EOVERFLOW,       EOVERFLOW,       "value too large for defined data type")                   \
    X(EMSGSIZE,        EMSGSIZE,        "message too long")                                        \
    X(EPROTO,          EPROTO,          "protocol error")                                          \
    X(EADDRINUSE,      EADDRINUSE,      "address already in use")                                  \
    X(EADDRNOTAVAIL,   EADDRNOTAVAIL,   "address not available")                                   \
    X(ENETUNREACH,     ENETUNREACH,     "network is unreachable")                                  \
    X(ECONNABORTED,    ECONNABORTED,    "software caused connection abort")                        \
    X(ECONNRESET,      ECONNRESET,      "connection reset by peer")                                \
    X(ENOBUFS,         ENOBUFS,         "no buffer space available")                               \
    X(ENOTCONN,        ENOTCONN,        "socket is not connected")                                 \
    X(ETIMEDOUT,       ETIMEDOUT,       "timed out")                                               \
    X(ECONNREFUSED,    ECONNREFUSED,    "connection refused")                                      \
    X(EHOSTUNREACH,    EHOSTUNREACH,    "host is unreachable")                                     \
    X(EALREADY,        EALREADY,        "operation already completed")                             \
    X(EINPROGRESS,     EINPROGRESS,     "operation in progress")                                   \
    X(ECANCELED,       ECANCELED,       "operation canceled")                                      \
    X(ESRCH,           ESRCH,           "no such process")                                         \
    X(ECHILD,          ECHILD,          "no child processes")

#define CIO_ERRORS_CORE(X)                                                                         \
    X(ENOLOOP,         4000,            "no event loop is running in this thread")                 \
    X(ENOTASK,         4001,            "not called from a task")                                  \
    X(EBADHANDLE,      4002,            "handle is not live (closed, joined or detached)")         \
    X(ELOOPRUNNING,    4003,            "the loop is already running")                             \
    X(ESCOPEORDER,     4004,            "scopes must end in the reverse order of their beginning") \
    X(ENOTOWNER,       4005,            "object belongs to another task or loop")                  \
    X(EBROKEN,         4006,            "barrier is broken (aborted or reset)")                    \
    X(EQSHUTDOWN,      4007,            "queue is shut down")                                      \
    X(EOVERRELEASE,    4008,            "semaphore released more times than it was acquired")      \
    X(ETOOMANYDONE,    4009,            "task_done called more times than items were put")

/* I/O and name resolution (4100-4199). */
#define CIO_ERRORS_IO(X)                                                                           \
    X(EINCOMPLETE,     4100,            "stream ended before the expected bytes arrived")          \
    X(EAI_NONAME,      4101,            "name or service not known")                               \
    X(EAI_AGAIN,       4102,            "temporary failure in name resolution")                    \
    X(EAI_FAIL,        4103,            "non-recoverable failure in name resolution")              \
    X(EAI_NODATA,      4104,            "no address associated with the name")                     \
    X(EAI_BADNAME,     4105,            "malformed name")                                          \
    X(EAI_REFUSED,     4106,            "the name server refused the query")                       \
    X(EAI_BADRESP,     4107,            "malformed reply from the name server")                    \
    X(EAI_TIMEOUT,     4108,            "name resolution timed out")                               \
    X(EREADTIMEOUT,    4109,            "no input arrived within the stream's read timeout")       \
    X(EPEERCLOSED,     4110,            "the peer closed the connection")                          \
    X(EUNSOLICITED,    4111,            "bytes arrived on an idle connection that nobody asked for")

/* TLS (4200-4299). cio_tls_last_error gives OpenSSL's reason for the last one. */
#define CIO_ERRORS_TLS(X)                                                                              \
    X(ETLS,            4200,            "TLS connection failed")                                   \
    X(ETLSCONFIG,      4201,            "TLS configuration refused (certificate, key or setting)") \
    X(ETLSEXPIRED,     4202,            "TLS certificate has expired or is not yet valid")         \
    X(ETLSSELFSIGNED,  4203,            "TLS certificate is self-signed")                          \
    X(ETLSUNTRUSTED,   4204,            "TLS certificate issuer is not trusted")                   \
    X(ETLSHOSTNAME,    4205,            "TLS certificate does not match the host name")            \
    X(ETLSBADCERT,     4206,            "TLS certificate is invalid")                              \
    X(ETLSNOCERT,      4207,            "TLS peer sent no certificate where one is required")      \
    X(ETLSVERSION,     4208,            "no TLS protocol version in common")                       \
    X(ETLSALPN,        4209,            "no ALPN protocol in common")                              \
    X(ETLSALERT,       4210,            "TLS peer refused the connection (fatal alert)")           \
    X(ETLSPROTO,       4211,            "TLS protocol error (the peer is not speaking TLS?)")      \
    X(ETLSTRUNCATED,   4212,            "TLS peer closed without close_notify (truncated)")

/* HTTP (4300-4399): filled in by the HTTP layer. */
#define CIO_ERRORS_HTTP(X)                                                                         \
    X(EHTTP_BARE_CR,       4300, "HTTP: CR not followed by LF")                                    \
    X(EHTTP_BARE_LF,       4301, "HTTP: line ends in LF without CR")                               \
    X(EHTTP_BAD_METHOD,    4302, "HTTP: empty method or invalid character in method")              \
    X(EHTTP_BAD_TARGET,    4303, "HTTP: invalid character in request target")                      \
    X(EHTTP_BAD_REQUEST_LINE, 4304, "HTTP: malformed request line")                                \
    X(EHTTP_BAD_VERSION,   4305, "HTTP: malformed HTTP version")                                   \
    X(EHTTP_VERSION,       4306, "HTTP: version other than HTTP/1.0 or HTTP/1.1")                  \
    X(EHTTP_BAD_STATUS,    4307, "HTTP: malformed status code")                                    \
    X(EHTTP_BAD_REASON,    4308, "HTTP: invalid character in reason phrase")                       \
    X(EHTTP_BAD_HEADER_NAME, 4309, "HTTP: invalid character in header name, or no colon")          \
    X(EHTTP_SPACE_BEFORE_COLON, 4310, "HTTP: whitespace in header name or before colon")              \
    X(EHTTP_OBS_FOLD,      4311, "HTTP: obsolete line folding in header")                          \
    X(EHTTP_BAD_HEADER_VALUE, 4312, "HTTP: control character in header value")                     \
    X(EHTTP_BAD_CONTENT_LENGTH, 4313, "HTTP: Content-Length is not a plain decimal number")        \
    X(EHTTP_CONTENT_LENGTH_CONFLICT, 4314, "HTTP: Content-Length headers differ")                  \
    X(EHTTP_CL_AND_TE,     4315, "HTTP: both Content-Length and Transfer-Encoding")                \
    X(EHTTP_TE_NOT_CHUNKED, 4316, "HTTP: request Transfer-Encoding does not end in chunked")       \
    X(EHTTP_BAD_TRANSFER_ENCODING, 4317, "HTTP: malformed Transfer-Encoding")                      \
    X(EHTTP_BODY_TOO_LARGE, 4318, "HTTP: Content-Length above the limit")                          \
    X(EHTTP_LINE_TOO_LONG, 4319, "HTTP: request line or status line too long")                     \
    X(EHTTP_HEAD_TOO_LARGE, 4320, "HTTP: message head larger than the limit")                      \
    X(EHTTP_TOO_MANY_HEADERS, 4321, "HTTP: more header fields than the limit")                     \
    X(EHTTP_BAD_CHUNK_SIZE, 4322, "HTTP: malformed chunk size")                                    \
    X(EHTTP_CHUNK_SIZE_TOO_LARGE, 4323, "HTTP: chunk size has too many digits")                    \
    X(EHTTP_BAD_CHUNK_EXT, 4324, "HTTP: malformed chunk extension")                                \
    X(EHTTP_CHUNK_EXT_TOO_LONG, 4325, "HTTP: chunk extensions longer than the limit")              \
    X(EHTTP_BAD_CHUNK_END, 4326, "HTTP: chunk data not followed by CRLF")                          \
    X(EHTTP_TRAILER_TOO_LARGE, 4327, "HTTP: trailer section larger than the limit")                \
    X(EHTTP_BAD_URL,       4328, "HTTP: malformed URL")                                            \
    X(EHTTP_BAD_HOST,      4329, "HTTP: malformed host in URL")                                    \
    X(EHTTP_BAD_PORT,      4330, "HTTP: malformed port in URL")                                    \
    X(EHTTP_BAD_PERCENT,   4331, "HTTP: malformed percent-encoding")                               \
    X(EHTTP_BAD_LIST,      4332, "HTTP: malformed list or parameter in header value")                  \
    X(EHTTP_HEAD_TRUNCATED, 4333, "HTTP: the stream ended within a message head")                       \
    X(EHTTP_BODY_TRUNCATED, 4334, "HTTP: the stream ended before the message body did")                 \
    X(EHTTP_BODY_LIMIT,    4335, "HTTP: message body longer than the limit")                           \
    X(EHTTP_BAD_FIELD,     4336, "HTTP: a start line or header field the writer refuses (CR, LF, NUL, not a token)") \
    X(EHTTP_BODY_OVERRUN,  4337, "HTTP: more body bytes written than the Content-Length declared")     \
    X(EHTTP_BODY_SHORT,    4338, "HTTP: body ended before the Content-Length it declared")                          \
    X(EHTTP_BAD_DATE,      4340, "HTTP: malformed date (not IMF-fixdate, RFC 850 or asctime)")      \
    X(EHTTP_BAD_MEDIA_TYPE, 4341, "HTTP: malformed media type")                                     \
    X(EHTTP_BAD_RANGE,     4342, "HTTP: malformed Range or Content-Range")                          \
    X(EHTTP_RANGE_NOT_SATISFIABLE, 4343, "HTTP: no requested range overlaps the representation")     \
    X(EHTTP_TOO_MANY_RANGES, 4344, "HTTP: more byte ranges than the limit")                         \
    X(EHTTP_BAD_ETAG,      4345, "HTTP: malformed entity-tag")                                      \
    X(EHTTP_BAD_COOKIE,    4346, "HTTP: a cookie that is malformed or that the writer refuses")     \
    X(EHTTP_CODING_UNSUPPORTED, 4360, "HTTP: a content coding cio does not decode (not gzip, deflate, br, zstd)") \
    X(EHTTP_CODING_CORRUPT, 4361, "HTTP: a compressed body that is not valid in its coding")            \
    X(EHTTP_CODING_TRUNCATED, 4362, "HTTP: a compressed body that ended before its coded stream did")   \
    X(EHTTP_MP_NOT_MULTIPART, 4370, "HTTP: Content-Type is not multipart")                         \
    X(EHTTP_MP_BAD_BOUNDARY, 4371, "HTTP: multipart boundary missing or not 1-70 valid characters") \
    X(EHTTP_MP_BAD_DELIMITER, 4372, "HTTP: multipart boundary followed by other than CRLF or \"--\"") \
    X(EHTTP_MP_TRUNCATED,  4373, "HTTP: multipart body ended before its close delimiter")          \
    X(EHTTP_MP_TOO_MANY_PARTS, 4374, "HTTP: more multipart parts than the limit")                  \
    X(EHTTP_MP_HEADERS_TOO_LARGE, 4375, "HTTP: multipart part header block larger than the limit")  \
    X(EHTTP_MP_PART_TOO_LARGE, 4376, "HTTP: multipart part data larger than the limit")            \
    X(EHTTP_MP_BAD_DISPOSITION, 4377, "HTTP: malformed Content-Disposition")                       \
    X(EHTTP_MP_BAD_EXT_VALUE, 4378, "HTTP: malformed or undecodable RFC 8187 parameter value")

/* The web server (4400-4449). */
#define CIO_ERRORS_WEB(X)                                                                          \
    X(EWEB_BAD_PATTERN,    4400, "web: malformed route pattern or prefix")                         \
    X(EWEB_ROUTE_EXISTS,   4401, "web: route or sub-application already registered there")         \
    X(EWEB_FROZEN,         4402, "web: the application is being served and can no longer change")  \
    X(EWEB_STARTED,        4403, "web: the response head has already been sent")

/* The HTTP client (4450-4499). */
#define CIO_ERRORS_CLIENT(X)                                                                       \
    X(ECLIENT_CLOSED,      4450, "client: the session is closed")                                  \
    X(ECLIENT_TIMEOUT,     4451, "client: the request did not finish within its total timeout")    \
    X(ECLIENT_CONNECT_TIMEOUT, 4452, "client: no connection within the connect timeout (pool wait, connect, TLS)") \
    X(ECLIENT_SOCK_CONNECT_TIMEOUT, 4453, "client: a connection attempt took longer than sock_connect") \
    X(ECLIENT_READ_TIMEOUT, 4454, "client: the server sent nothing within the sock_read timeout")  \
    X(ECLIENT_BAD_SCHEME,  4455, "client: the URL's scheme is not http or https")                  \
    X(ECLIENT_BAD_RESOLVE, 4456, "client: a resolve override is not host:port:address")            \
    X(ECLIENT_DISCONNECTED, 4457, "client: the server closed the connection without a response")   \
    X(ECLIENT_UNSOLICITED_101, 4458, "client: a 101 Switching Protocols to a request that asked for no upgrade") \
    X(ECLIENT_TOO_MANY_REDIRECTS, 4459, "client: more redirects than max_redirects")               \
    X(ECLIENT_REDIRECT_LOOP, 4460, "client: a redirect back to a URL already requested")           \
    X(ECLIENT_REDIRECT_DOWNGRADE, 4461, "client: a redirect from https to http, which was not allowed") \
    X(ECLIENT_BAD_LOCATION, 4462, "client: a redirect without a Location, or one that is not a URL") \
    X(ECLIENT_STATUS,      4463, "client: the response's status is 400 or above (raise_for_status)") \
    X(ECLIENT_COOKIE_REJECTED, 4464, "client: the cookie jar refuses the cookie (its Domain does not cover the host, or it is too long)") \
    X(ECLIENT_LINE_TOO_LONG, 4470, "client: a line of the response body is longer than the limit") \
    X(ECLIENT_PROXY,       4480, "client: the proxy refused the tunnel (CONNECT answered other than 2xx, or not at all)") \
    X(ECLIENT_BAD_PROXY,   4481, "client: a proxy URL that is not http://[user:password@]host[:port]") \
    X(ECLIENT_NOT_UPGRADED, 4485, "client: not a 101 to a request that asked to upgrade: no stream to hand over")

/* The whole table, in the order above. */
#define CIO_ERRORS(X)                                                                              \
    CIO_ERRORS_SYS(X) CIO_ERRORS_CORE(X) CIO_ERRORS_IO(X) CIO_ERRORS_TLS(X) CIO_ERRORS_HTTP(X) CIO_ERRORS_WEB(X) \
        CIO_ERRORS_CLIENT(X)
/* clang-format on */

enum {
#define CIO__ERR_ENUM(name, value, text) CIO_##name = -(value),
    CIO_ERRORS(CIO__ERR_ENUM)
#undef CIO__ERR_ENUM
};

/*
 * The message for an error code: cio_strerror(-ETIMEDOUT) is "timed out". Accepts any int; a positive value is
 * read as its negation (errno style). An unknown code gives "unknown error".
 * Never NULL; the string is static.
 */
const char *cio_strerror(int err);

/*
 * The constant's name: cio_err_name(-ETIMEDOUT) is "CIO_ETIMEDOUT", 0 is "OK", a positive count "OK".
 * An unknown negative code gives "CIO_EUNKNOWN". Never NULL; the string is static.
 */
const char *cio_err_name(int err);

/*
 * Whether `err` is a timeout of any kind: a deadline or timeout scope (-ETIMEDOUT), a name lookup's
 * (CIO_EAI_TIMEOUT), a stream's read timeout (CIO_EREADTIMEOUT), the HTTP client's total, connect, sock_connect and
 * sock_read timeouts (CIO_ECLIENT_TIMEOUT, _CONNECT_TIMEOUT, _SOCK_CONNECT_TIMEOUT, _READ_TIMEOUT). Each kind has its
 * own code, so a caller can tell which limit was hit; this says "some limit on time".
 */
bool cio_is_timeout(int err);

#ifdef __cplusplus
}
#endif

#endif
