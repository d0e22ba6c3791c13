/* cio/client.h: an HTTP/1.1 client session in the shape of aiohttp.ClientSession: a pool of kept-alive connections
 * with limits, requests in straight-line code, responses read whole (bounded) or in chunks, each kind of timeout
 * distinct, stale pooled connections retried, redirects followed. */
#ifndef CIO_CLIENT_H
#define CIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cio/error.h"
#include "cio/http.h"
#include "cio/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The model (aiohttp's):
 * - A session holds the pool: connections kept alive between requests, keyed by scheme, host, port, TLS context and
 *   proxy, up to `limit` in all and `limit_per_host` per key; a request that finds every slot taken waits for
 *   one in FIFO order, within its connect timeout. A session belongs to the loop that opened it.
 * - cio_client_request sends one request and returns once the response head is in (after any 1xx, and after the
 *   redirects it follows). The body is then read from the response, whole or chunk by chunk, and
 *   cio_client_response_release gives the connection back to the pool if the body was read to its end, or closes
 *   it otherwise: a connection never carries a half-read body into another request.
 * - Every wait is bounded: `total` from the call to the body's end, `connect` for getting a connection (pool wait,
 *   connect, TLS handshake), `sock_connect` for one connection attempt, `sock_read` for every wait for response
 *   bytes (on by default: a stalled server never hangs a program). Each has its own error code, and
 *   cio_is_timeout() says "any timeout". The caller's own scopes (a timeout, a cancel) apply too, with their codes.
 * - A pooled connection is checked before reuse (cio_stream_check_idle); one the server closed at the moment the
 *   request went out (the response's first byte never came) is replaced by a fresh one and the request sent once
 *   more, if its method is idempotent (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) or the caller says it may be.
 * Every function here that waits is a suspension point (see core.h) and runs in a task of the session's loop.
 */
typedef struct cio_client_session cio_client_session;
typedef struct cio_client_response cio_client_response;

/*
 * Timeouts in ns. In session options 0 means the default; in request options 0 means the session's. CIO_INFINITE
 * turns one off. Each expiry has its own code.
 */
typedef struct cio_client_timeouts {
    /* The whole request: connection, sending, the head, redirects and the body's reading up to its end.
       Default 5 min. CIO_ECLIENT_TIMEOUT. */
    int64_t total;
    /* Getting a connection: waiting for a pool slot, then connecting (name lookup, TCP, TLS). Default 30 s.
       CIO_ECLIENT_CONNECT_TIMEOUT. */
    int64_t connect;
    /* One connection attempt (name lookup, TCP, TLS), within `connect`. Default none.
       CIO_ECLIENT_SOCK_CONNECT_TIMEOUT. */
    int64_t sock_connect;
    /* Every wait for response bytes, head and body: an idle timeout, so a server trickling bytes keeps it going
       (bound the whole with `total`). Default 60 s. CIO_ECLIENT_READ_TIMEOUT. */
    int64_t sock_read;
} cio_client_timeouts;

/*
 * Tracing hooks (aiohttp's TraceConfig): plain callbacks, called in the requesting task at the moments named, with
 * the session's trace_arg. Any of them may be NULL; unset hooks cost a NULL check. The strings are valid during
 * the call only. A hook must not wait (it runs inside the request) and must not call into the session.
 */
typedef struct cio_client_trace {
    /* cio_client_request began, with the method and the absolute URL (the base joined, the parameters added). */
    void (*request_start)(void *arg, const char *method, const char *url);
    /* cio_client_request ends: `result` is the final response's status, or the request's error code; `url` the
       last one requested (after redirects). Called once for every request_start. */
    void (*request_end)(void *arg, const char *method, const char *url, int result);
    /* A redirect is followed: the 3xx's status, the URL that answered and the one requested next. */
    void (*redirect)(void *arg, int status, const char *from, const char *to);
    /* A new connection to `host`:`port` (the URL's) is open (TLS handshake and proxy tunnel included); `peer` is
       the address it connected to: the server's, the proxy's, or the Unix socket's. */
    void (*connection_create)(void *arg, const char *host, int port, const cio_addr *peer);
    /* A pooled connection to `host`:`port` serves the request. */
    void (*connection_reuse)(void *arg, const char *host, int port);
    /* A host name (not a numeric address nor a resolve override) was looked up for a new connection, in
       `elapsed` ns (the loop's clock). With this hook set, the connection looks the name up first on its own (to
       time it) and then connects through the loop's DNS cache, which the first lookup filled. */
    void (*dns_resolved)(void *arg, const char *host, int64_t elapsed);
} cio_client_trace;

typedef struct cio_client_session_opts {
    /* Relative URLs given to requests are resolved against this absolute URL (RFC 3986 section 5.2, as a
       browser resolves a link): "http://h/api/" with "v1/x" is "http://h/api/v1/x", with "/x" it is "http://h/x".
       NULL: every URL must be absolute. Copied. */
    const char *base_url;
    /* Header fields sent with every request, a NULL-terminated array of name, value, name, value, ...; a request's
       field of the same name (compared without case) replaces them. Copied. */
    const char *const *headers;
    /* The User-Agent sent unless a request's headers name one; NULL: "cio/<version>", "": none. Copied. */
    const char *user_agent;
    /* The most connections open at once, busy or idle, to all hosts; 0: 100. */
    size_t limit;
    /* The most connections open at once to one key of the pool (scheme, host and port, with the TLS context and the
       proxy they are made with); 0: no limit but `limit`. */
    size_t limit_per_host;
    /* An idle pooled connection is closed after this long; 0: 15 s. */
    int64_t keepalive_timeout;
    cio_client_timeouts timeout;
    /* TLS for https: a client context of the caller's (borrowed: it must outlive the session), or options the
       session makes its own context from at once (so a bad CA file fails cio_client_session_new). Neither: a
       context with the defaults (the system's CA store, verification on), made on the first https request. */
    cio_tls_ctx *tls;
    const cio_tls_opts *tls_opts;
    /* curl's --resolve: a NULL-terminated array of "host:port:address" (a numeric IPv4 or IPv6 address, brackets
       allowed): a connection to host:port goes to the address instead of the host's own, with the host still the
       name TLS verifies and Host carries. Copied. */
    const char *const *resolve;
    /* The most body bytes a response hands out (decoded, when it decodes); more is CIO_EHTTP_BODY_LIMIT, never a
       truncation. 0: 1 GiB. */
    uint64_t max_size;
    /* Redirects followed per request; 0: 10; negative: none (the 3xx is the response). */
    int max_redirects;
    /* Do not decode content codings (aiohttp's auto_decompress=False): no Accept-Encoding is sent unless a
       request's headers carry one, and bodies are handed out as they came. */
    bool no_decompress;
    /* The most header fields a response head may have; 0: 100 (CIO_EHTTP_TOO_MANY_HEADERS beyond). */
    size_t max_headers;
    /* HTTP Basic authentication for every request (aiohttp's auth=BasicAuth(user, password)):
       "Authorization: Basic base64(user:password)". NULL user: none; NULL password with a user: "". A request's
       own auth_user, or credentials in its URL, replace these; with a base_url, sent only to requests of the
       base URL's origin (aiohttp's rule); never sent on after a redirect to another origin (see
       cio_client_request). The user may not contain ':'. Copied. */
    const char *auth_user, *auth_password;
    /* Keep a cookie jar (RFC 6265 sections 5.3 and 5.4, without the public suffix list): the Set-Cookie fields of
       every response, redirects' included, are stored, and every request carries the cookies that match its URL
       in one Cookie field. Off: nothing is stored or sent, and the cio_client_cookie_* functions refuse. */
    bool cookie_jar;
    /* A final status of 400 or above fails the request with CIO_ECLIENT_STATUS (aiohttp's raise_for_status). */
    bool raise_for_status;
    /* A forward proxy for every request, "http://[user:password@]host[:port]" (the port defaults to 80; user and
       password percent-decoded): plain http requests go to it in absolute form ("GET http://h/p HTTP/1.1"), https
       ones through a tunnel (CONNECT host:port, then TLS with the target, verified as without a proxy). With
       credentials, Proxy-Authorization: Basic goes with the absolute-form requests and the CONNECT (never to the
       target through a tunnel). TLS to the proxy itself (an https:// proxy) is not supported. The pool keeps
       connections per proxy. NULL: none, or the environment's with trust_env; "": none, the environment's neither.
       Copied. */
    const char *proxy;
    /* Take proxies from the environment at cio_client_session_new, as curl and aiohttp do: http_proxy (or
       HTTP_PROXY, except in a CGI program, where REQUEST_METHOD is set and HTTP_PROXY could be a request's
       "Proxy:" header) for http URLs, https_proxy (or HTTPS_PROXY) for https ones, a value without a scheme
       taken as http://; and no_proxy (or NO_PROXY), a comma-separated list of hosts that go direct: "*" for all,
       a name matching itself and its subdomains ("example.com" and ".example.com" both match example.com and
       a.example.com), an IP address matching itself only (no CIDR), each with an optional ":port" that then must
       match too. The lowercase variable wins over the uppercase one. No proxy given here or in `proxy` by a request
       is subject to no_proxy. */
    bool trust_env;
    /* aiohttp's UnixConnector: every connection goes to this Unix socket ("@name" for an abstract one); the URL
       still gives Host, the path, and for https the name TLS verifies. No proxy is used. Copied. */
    const char *unix_socket;
    /* Tracing hooks, copied (the struct need not outlive the call), and the argument passed to each. */
    const cio_client_trace *trace;
    void *trace_arg;
} cio_client_session_opts;

/*
 * Open a session on the current loop. `opts` may be NULL: every default. In debug mode (core.h), a session
 * still open when its loop closes is reported in the loop's log, as a task never joined is.
 * Errors: -EINVAL NULL out, a negative limit or timeout other than CIO_INFINITE, both tls and tls_opts, both
 *         unix_socket and a proxy; CIO_ECLIENT_BAD_PROXY a proxy (or, with trust_env, a proxy variable) that is not
 *         http://[user:password@]host[:port]; -EINVAL, -ENAMETOOLONG as cio_addr_unix for unix_socket;
 *         CIO_EHTTP_BAD_URL (and the other URL errors) a base_url that is not an absolute URL, CIO_ECLIENT_BAD_SCHEME
 *         one that is not http or https; CIO_EHTTP_BAD_FIELD a default header the head writer would refuse (CR, LF,
 *         NUL, a name that is not a token) or an odd array; CIO_ECLIENT_BAD_RESOLVE a resolve entry that is not
 *         host:port:address; -EINVAL an auth_user containing ':', an auth_password without an auth_user, or an
 *         auth_user with an Authorization default header, a default header the client owns (Host, Content-Length,
 *         Transfer-Encoding, and Expect, which only a request's expect_continue sends); the errors of cio_tls_ctx_new
 * for tls_opts; CIO_ENOLOOP; -ENOMEM. Ownership: the caller closes it with cio_client_session_close.
 */
int cio_client_session_new(cio_client_session **out, const cio_client_session_opts *opts);

/*
 * Close the session: every idle connection is closed, requests waiting for a pool slot fail with
 * CIO_ECLIENT_CLOSED, and the connections of requests and responses still in progress are shut down, so that
 * their waits end and every later call on those responses fails with CIO_ECLIENT_CLOSED (release them still:
 * the session's memory goes with the last one). A request that has not had its response head yet (waiting for a
 * slot, connecting, sending, waiting for the answer) fails with CIO_ECLIENT_CLOSED at once. Never waits. NULL is
 * ignored.
 * After the call `s` is no longer the caller's, as after free(): closing it again or starting a request on it
 * (from any task) is a use after free. A program whose tasks share a session closes it once they are done.
 * Returns 0; -EINVAL not a session.
 */
int cio_client_session_close(cio_client_session *s);

/* The connections the session has open now (busy, idle, or being opened), and in `*idle` (may be NULL) how many
   of them are idle in the pool. 0 for NULL. */
size_t cio_client_session_connections(const cio_client_session *s, size_t *idle);

/*
 * A body a coroutine produces (aiohttp's data= with an async generator): the producer runs inside the request's
 * task, after the head went out, and writes the body piece by piece with cio_client_body_write, which waits while
 * the connection's output is above its high-water mark, so a producer never outruns the server and memory stays
 * bounded. It returns 0 at the body's end, or a negative error that fails the request (returned as it is).
 */
typedef struct cio_client_body_writer cio_client_body_writer;
typedef int (*cio_client_producer)(cio_client_body_writer *w, void *arg);

/*
 * Write `len` bytes of the body (0 writes nothing), waiting for the connection to drain as needed.
 * Returns 0. Errors: -EINVAL NULL `w`, or NULL `data` with len > 0; CIO_EHTTP_BODY_OVERRUN more bytes than the
 *         producer's declared length (nothing is written); the connection's write errors (-EPIPE, -ECONNRESET,
 *         CIO_ECLIENT_CLOSED), the request's total timeout, the caller's -ECANCELED and -ETIMEDOUT. An error
 *         sticks: later writes return it, and the request fails with it.
 * Ownership: `data` is only read during the call. `w` is valid only while the producer runs.
 */
int cio_client_body_write(cio_client_body_writer *w, const void *data, size_t len);

/*
 * One part of a multipart/form-data body: a field `name` whose data is `value` (`value_len` bytes; 0 with a
 * non-NULL value: strlen) or the file at `file` (read from disk as it is sent, never loaded whole). `filename` is
 * the part's filename parameter (NULL: none for a value, the path's last segment for a file) and `content_type`
 * its Content-Type (NULL: none for a value, application/octet-stream for a file).
 */
typedef struct cio_client_form_part {
    const char *name;
    const char *value;
    size_t value_len;
    const char *file;
    const char *filename;
    const char *content_type;
} cio_client_form_part;

typedef struct cio_client_request_opts {
    /* Header fields for this request, a NULL-terminated array of name, value, ...: they replace the session's of
       the same name. Host, Content-Length, Transfer-Encoding and Expect are the client's (-EINVAL); a
       User-Agent, an Accept-Encoding or a Content-Type here replaces the default one (form: the urlencoded type,
       json: application/json). */
    const char *const *headers;
    /* Query parameters, a NULL-terminated array of name, value, ...: each percent-encoded (everything but RFC
       3986's unreserved characters) and appended to the URL's query, in order. */
    const char *const *params;
    /*
     * The body: at most one of the kinds below (two are -EINVAL). None: a POST, PUT or PATCH is sent with
     * "Content-Length: 0", other methods without a body. Nothing is copied: what they point to must stay valid
     * until the call returns. Every kind but the producer is sent again as it was (a file from its start offset)
     * when the request is retried on a fresh connection or follows a 307 or 308.
     */
    /* From memory, sent with its Content-Length. */
    const void *body;
    size_t body_len;
    /* From the file at this path, opened by the client (O_RDONLY) when the call begins: `body_file_len` bytes
       (0: up to the file's end as it is then) from `body_file_offset`, sent with their Content-Length, with the
       kernel's sendfile over plain TCP (read and written over TLS). A file that ends before the length is -EIO. */
    const char *body_file;
    uint64_t body_file_offset;
    uint64_t body_file_len;
    /* From a producer coroutine (see cio_client_producer): sent chunked (Transfer-Encoding: chunked), or with
       "Content-Length: producer_len" when that is above 0, the writer then holding the producer to it (more is
       CIO_EHTTP_BODY_OVERRUN, fewer CIO_EHTTP_BODY_SHORT). A stream cannot be sent twice (aiohttp cannot resend
       one either): a request with a producer is never retried on a stale connection (CIO_ECLIENT_DISCONNECTED),
       and a 307 or 308 to it is not followed but is the response. 301, 302 and 303 are followed as a GET. */
    cio_client_producer producer;
    void *producer_arg;
    int64_t producer_len;
    /* An HTML form, application/x-www-form-urlencoded: a NULL-terminated array of name, value, ..., each encoded
       as forms encode them (a space as "+", every byte but unreserved ones as %XX), joined with "&". */
    const char *const *form;
    /* A multipart/form-data body of `nparts` parts (nparts 0 is a body with none), with a random boundary, sent
       with a Content-Length computed up front from the files' sizes when the call begins (a file that shrinks
       meanwhile fails the request, -EIO; of one that grows, what it had then is sent). A Content-Type header with
       it is -EINVAL (the boundary is the client's). */
    const cio_client_form_part *parts;
    size_t nparts;
    /* A JSON text the caller made (NUL-terminated; cio does not encode or check JSON), sent as from memory. */
    const char *json;
    /*
     * Expect: 100-continue, for a body the server may refuse without reading (curl's, for large uploads): the
     * head goes out with "Expect: 100-continue" and the body waits for the server's 100, or for `expect_timeout`
     * (0: 1 s, as curl's; CIO_INFINITE: no bound), after which it is sent anyway. A final answer that comes first
     * (417, 401, 413, ...) is the response, and the body is not sent; as the server was promised a body it never
     * got, that response's connection is then closed after it, not pooled. Ignored for a request without a body.
     */
    bool expect_continue;
    int64_t expect_timeout;
    cio_client_timeouts timeout;
    /* As the session's max_size, for this response; 0: the session's. */
    uint64_t max_size;
    /* As the session's max_redirects; 0: the session's. */
    int max_redirects;
    /* Follow a redirect from https to http (refused by default: CIO_ECLIENT_REDIRECT_DOWNGRADE). */
    bool allow_downgrade;
    /* Decode content codings: 1 yes, -1 no, 0 the session's choice. */
    int decompress;
    /* The request may be sent twice (a POST the server deduplicates): retried as GET is, when a reused
       connection turns out closed before the response began. */
    bool idempotent;
    /* Basic authentication for this request, in place of the session's (NULL user: the session's). Copied. */
    const char *auth_user, *auth_password;
    /* Neither send the jar's cookies nor store the responses' Set-Cookie, for this request and its redirects. */
    bool no_cookies;
    /* As the session's raise_for_status: 1 yes, -1 no, 0 the session's choice. */
    int raise_for_status;
    /* When not NULL: set to the final response's status once its head is in (also when raise_for_status fails
       the request with CIO_ECLIENT_STATUS, which is how the caller learns it), and to 0 when no response came. */
    int *status;
    /* A proxy for this request (and its redirects), as the session's: it replaces the session's and the
       environment's; "": none. NULL: the session's. Not kept past the call. */
    const char *proxy;
    /* The TLS client context for this request's https connections (and its redirects'), instead of the session's
       (borrowed: it must outlive the connections made with it, which the pool keeps apart from those of other
       contexts). NULL: the session's. */
    cio_tls_ctx *tls;
    /* If not NULL, receives the status the proxy answered the last CONNECT of this request with, 0 when no
       CONNECT was sent or none was answered: what a CIO_ECLIENT_PROXY was (407 asks for credentials). */
    int *proxy_status;
    /* Ask to switch protocols (the WebSocket handshake's "Upgrade: websocket", RFC 9110 section 7.8): a 101
       Switching Protocols is then the response (without one, a 101 is CIO_ECLIENT_UNSOLICITED_101), and
       cio_client_response_detach hands its connection over to the new protocol. The caller's headers name the
       protocol: "Upgrade" with "Connection: upgrade" (headers carrying both ask to upgrade without this flag).
       Any other answer is a response as usual (the server declined). */
    bool upgrade;
} cio_client_request_opts;

/*
 * Send `method` (a token: "GET", "POST", ...) to `url` (absolute, or relative to the session's base_url; a
 * fragment is dropped) and wait for the response head, following redirects (up to max_redirects): 301 and 302
 * turn a POST into a GET without its body, 303 turns anything but HEAD into one, 307 and 308 keep the method and
 * the body (a producer's is not sent twice: its 307 or 308 is the response); a relative Location is resolved
 * against the URL that answered; Authorization is not sent to another origin (scheme, host, port); a redirect to
 * a (method, URL) already requested is a loop. 1xx answers (100, 103) are skipped. `opts` may be NULL.
 * Authentication: credentials in the URL ("http://user:pass@host/", percent-decoded) or the request's auth_user
 * (not both), else the session's auth_user, are sent as "Authorization: Basic ..." to the request's origin only:
 * after a redirect to another origin no Authorization goes out again, whatever its source, unless a Location
 * carries credentials of its own. The URL's credentials are taken out of it (the response's URL, the history and
 * the loop check never show them). An auth together with an Authorization field (the request's or the session's
 * headers) is -EINVAL, as in aiohttp.
 * Cookies (with the session's cookie_jar, unless no_cookies): every response's Set-Cookie fields are stored
 * against the URL that answered, before a redirect is followed; each hop sends the jar's cookies for its URL. A
 * Cookie field of the caller's (the request's or else the session's) is sent in the same single field, first,
 * with the jar's cookies after a "; " (RFC 6265 section 5.4 allows one Cookie field only).
 * Returns 0 with `*resp`, whose body is then read (cio_client_response_read / _next) and which is released with
 *         cio_client_response_release, however the body was read or not.
 * Errors:  -EINVAL NULL arguments, a method that is not a token, a header the client owns, two kinds of body, a
 *          negative producer_len or expect_timeout (other than CIO_INFINITE), a form part without a name or with
 *          both or neither of value and file, a proxy on a session with unix_socket; the body file's open errors
 *          (-ENOENT, -EACCES, -EISDIR, ...) and -EIO a file shorter than asked; a producer's own error,
 *          CIO_EHTTP_BODY_OVERRUN, _BODY_SHORT; CIO_ECLIENT_BAD_PROXY a malformed proxy; CIO_ECLIENT_PROXY the
 *          proxy refused the tunnel (see proxy_status);
 *          CIO_EHTTP_BAD_FIELD a header field the head writer refuses; CIO_EHTTP_BAD_URL, _BAD_HOST, _BAD_PORT a
 *          malformed URL (or a relative one without base_url); CIO_ECLIENT_BAD_SCHEME not http or https;
 *          CIO_ECLIENT_CLOSED the session was closed; the connection's errors (CIO_EAI_* name lookup,
 *          -ECONNREFUSED, CIO_ETLS* TLS); CIO_ECLIENT_DISCONNECTED the server closed without answering (on a
 *          reused connection and a request that may not be retried: it may have acted on it); the response
 *          parser's CIO_EHTTP_* errors (a malformed status line is CIO_EHTTP_BAD_STATUS, ...);
 *          CIO_EHTTP_CODING_UNSUPPORTED a Content-Encoding cio cannot decode while decoding;
 *          CIO_ECLIENT_UNSOLICITED_101 a 101 to a request that did not ask to upgrade;
 *          CIO_ECLIENT_TOO_MANY_REDIRECTS, _REDIRECT_LOOP, _REDIRECT_DOWNGRADE, _BAD_LOCATION; CIO_ECLIENT_TIMEOUT,
 *          _CONNECT_TIMEOUT, _SOCK_CONNECT_TIMEOUT, _READ_TIMEOUT; the caller's -ECANCELED and -ETIMEDOUT; -ENOMEM;
 *          -EINVAL an auth_user containing ':' (in the URL too), an auth_password without an auth_user, auth
 *          with an Authorization field or with credentials in the URL; CIO_EHTTP_BAD_URL a bad percent-encoding
 *          in the URL's credentials; CIO_ECLIENT_STATUS a final status of 400 or above under raise_for_status (the
 *          response is released, its connection pooled only if it had no body left to read; its status is in
 *          opts->status). On error `*resp` is NULL and the connection, if any, is closed.
 * Ownership: nothing of `opts` is kept past the call.
 */
int cio_client_request(cio_client_session *s, const char *method, const char *url, const cio_client_request_opts *opts,
                       cio_client_response **resp);

/* cio_client_request(s, "GET", url, NULL, resp). */
int cio_client_get(cio_client_session *s, const char *url, cio_client_response **resp);

/* The status code (100-999), or -EINVAL for NULL. */
int cio_client_response_status(const cio_client_response *r);
/* The reason phrase as sent (may be ""), NUL-terminated; NULL for NULL. */
const char *cio_client_response_reason(const cio_client_response *r);
/* The HTTP/1.x minor version (0 or 1), or -EINVAL. */
int cio_client_response_version(const cio_client_response *r);
/* The URL that gave this response (after redirects), NUL-terminated; NULL for NULL. */
const char *cio_client_response_url(const cio_client_response *r);
/* The declared Content-Length, or -1 when there is none (chunked, until close, no body). */
int64_t cio_client_response_content_length(const cio_client_response *r);

/*
 * Header fields, NUL-terminated, valid until the response is released. _header gives the value of the first field
 * `name` (compared without case), _header_nth the `n`th (from 0) of the fields so named (repeated fields, such as
 * Set-Cookie), NULL when there is none. _header_count and _header_at go through every field in order: _header_at
 * returns 0 with `*name` and `*value`, -ENOENT past the end, -EINVAL for NULL arguments.
 */
const char *cio_client_response_header(const cio_client_response *r, const char *name);
const char *cio_client_response_header_nth(const cio_client_response *r, const char *name, size_t n);
size_t cio_client_response_header_count(const cio_client_response *r);
int cio_client_response_header_at(const cio_client_response *r, size_t i, const char **name, const char **value);

/*
 * The redirects followed before this response (aiohttp's history), oldest first: _redirects their number,
 * _history the `i`th one's status and the URL that answered with it (valid until release): 0, -ENOENT past the
 * end, -EINVAL for NULL arguments (either out-pointer may be NULL).
 */
size_t cio_client_response_redirects(const cio_client_response *r);
int cio_client_response_history(const cio_client_response *r, size_t i, int *status, const char **url);

/*
 * Read the rest of the body into `out` (allocated, NUL-terminated, freed with cio_buf_free), decoded unless
 * decoding is off.
 * Returns 0. Errors: CIO_EHTTP_BODY_LIMIT the body (decoded) is longer than max_size: an error, never a
 *         truncation (a decompression bomb ends here after at most max_size bytes); CIO_EHTTP_BODY_TRUNCATED the
 *         server closed before the Content-Length or the last chunk; CIO_EHTTP_CODING_CORRUPT, _CODING_TRUNCATED;
 *         chunked framing errors; CIO_ECLIENT_READ_TIMEOUT, CIO_ECLIENT_TIMEOUT; CIO_ECLIENT_CLOSED the session
 *         was closed; -ECONNRESET and the stream's read errors; the caller's -ECANCELED, -ETIMEDOUT; -ENOMEM;
 *         -EINVAL. On error `out` is empty. A timeout or a cancel leaves the rest readable; other errors stick.
 */
int cio_client_response_read(cio_client_response *r, cio_buf *out);

/*
 * `async for chunk in resp.content.iter_any()`: the next piece of the body, a view valid until the next call on
 * the response. Returns 1 with a piece (len > 0), 0 at the end of the body. Errors: as _read.
 */
int cio_client_response_next(cio_client_response *r, const void **data, size_t *len);

/*
 * `async for line in resp.content`: the next line of the body (decoded unless decoding is off), up to and
 * including its "\n" (the last one may lack it), as a view valid until the next call on the response. A line may
 * span any number of the body's pieces (chunks, reads). Lines and the other ways of reading mix: what a line read
 * left over is what _next, _read and _save give first.
 * Returns 1 with a line (len > 0), 0 at the end of the body.
 * Errors: CIO_ECLIENT_LINE_TOO_LONG a line (with its "\n") longer than `max` bytes (0 is -EINVAL): the body is
 *         then spent, the error sticks and the connection is closed at release; -EINVAL NULL arguments; -ENOMEM;
 *         as _read.
 */
int cio_client_response_read_line(cio_client_response *r, const char **line, size_t *len, size_t max);

/*
 * Write the rest of the body (decoded unless decoding is off) to the file at `path`, created or truncated (mode
 * 0644 before the umask), as it comes (never held whole in memory; bounded by max_size as every read).
 * Returns the bytes written. Errors: the file's open and write errors (-ENOENT, -EACCES, -ENOSPC, ...); -EINVAL
 *         NULL arguments; as _read. On an error the file keeps what was written before it.
 */
ssize_t cio_client_response_save(cio_client_response *r, const char *path);

/*
 * Take the connection of a 101 Switching Protocols (to a request with `upgrade`, or with Upgrade and
 * "Connection: upgrade" headers) for the new protocol: `*out` is the stream, holding (to be read first) any bytes
 * that came after the 101's head, with no read timeout of the client's left on it (sock_read applied to the
 * handshake only). The session no longer counts the connection (it frees its pool slot) nor shuts it down at
 * close. The response stays readable for its head (status, Sec-WebSocket-Accept, ...) and is still released,
 * which then leaves the stream alone.
 * Returns 0. Errors: -EINVAL NULL arguments; CIO_ECLIENT_NOT_UPGRADED the response is not such a 101;
 *         -EALREADY the stream was handed over already; CIO_ECLIENT_CLOSED the session was closed (its
 *         shutdown ended the connection). On error `*out` (when `out` is not NULL) is NULL.
 * Ownership: the caller owns the stream from then on and closes it (cio_stream_close), in the session's loop.
 */
int cio_client_response_detach(cio_client_response *r, cio_stream **out);

/* Whether the body has been read to its end (a response without a body is at its end at once). */
bool cio_client_response_done(const cio_client_response *r);

/*
 * Release the response: its connection goes back to the pool if the body was read to its end and the server
 * keeps it alive, and is closed otherwise (a half-read body, an error, Connection: close, a body that ran until
 * the close). Never waits. NULL is ignored.
 * Returns 1 when the connection went back to the pool, 0 when it was closed (or there was none), -EINVAL not a
 * response.
 */
int cio_client_response_release(cio_client_response *r);

/*
 * The session's cookie jar (with cookie_jar set). Its clock for Expires and Max-Age is the wall clock read when
 * the session opened, advanced by the loop's clock (cio_now) since: under a mock clock, expiry follows the mock
 * time. Expired cookies are removed; the jar holds at most 3000 cookies and 50 per domain, the least recently
 * used (stored or sent) evicted first.
 */
typedef struct cio_client_cookie {
    const char *name, *value;
    const char *domain; /* lower case; the host itself for a host-only cookie */
    const char *path;
    int64_t expires; /* seconds since the epoch, or -1 for a session cookie (neither Max-Age nor Expires) */
    bool secure;     /* sent over https only */
    bool http_only;  /* kept as given; it changes nothing for this client */
    bool host_only;  /* no Domain attribute (or an IP address host): sent to that very host only */
    int same_site;   /* enum cio_http_same_site, as given */
} cio_client_cookie;

/*
 * Store a cookie as if the response from `url` (absolute, or relative to the session's base_url) had sent
 * "Set-Cookie: <set_cookie>" (RFC 6265 section 5.3): the Domain attribute must domain-match the URL's host (an IP
 * address host takes host-only cookies only), the default path is the URL's directory, Max-Age wins over Expires,
 * and a cookie of the same name, domain and path is replaced, keeping its creation time (its place in the
 * Cookie field). One that is already expired removes its namesake and is not stored. A Secure cookie is stored
 * from http too, as RFC 6265 has it, and sent over https only. Ports play no part: a cookie of a host goes to
 * all its ports.
 * Returns 0 (stored, or removed as expired). Errors: -EINVAL NULL arguments or a session without a jar;
 *         CIO_EHTTP_BAD_COOKIE a value the message layer cannot parse (cio_http_set_cookie_parse);
 *         CIO_ECLIENT_COOKIE_REJECTED a Domain that does not domain-match the host, or a value over 4096 bytes;
 *         the URL errors of cio_client_request (CIO_EHTTP_BAD_URL, ..., CIO_ECLIENT_BAD_SCHEME); -ENOMEM.
 * Ownership: both strings are copied from.
 */
int cio_client_cookie_set(cio_client_session *s, const char *url, const char *set_cookie);

/* The cookies in the jar that have not expired; 0 for NULL or a session without a jar. */
size_t cio_client_cookie_count(const cio_client_session *s);

/*
 * The `i`th (from 0) cookie not expired, in the order they were first stored: 0 with `*out`, whose strings are
 * the jar's, valid until the next change to the jar (a request, a cookie set, a clear, the session's end).
 * Errors: -ENOENT past the end; -EINVAL NULL arguments or a session without a jar.
 */
int cio_client_cookie_at(const cio_client_session *s, size_t i, cio_client_cookie *out);

/* Empty the jar (aiohttp's cookie_jar.clear()). NULL, or a session without a jar, is ignored. */
void cio_client_cookie_clear(cio_client_session *s);

#ifdef __cplusplus
}
#endif

#endif
