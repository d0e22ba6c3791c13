/* cio/web.h: an HTTP/1.1 server in the shape of aiohttp.web: an application with a router and middleware,
 * coroutine handlers that see a request and fill in a response, and a server that runs it on streams. */
#ifndef CIO_WEB_H
#define CIO_WEB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cio/error.h"
#include "cio/http.h"
#include "cio/io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cio_web_app cio_web_app;           /* aiohttp's web.Application: routes, middleware, settings */
typedef struct cio_web_request cio_web_request;   /* one request, valid while its handler runs */
typedef struct cio_web_response cio_web_response; /* the response being built for it */
typedef struct cio_web_server cio_web_server;     /* an app served on a listening socket */

/*
 * A handler: a coroutine (it runs in the connection's task and may wait freely) that reads `req` and fills in
 * `res` (cio_web_text, cio_web_body, ... or a streamed response). Returns 0, or a negative error: one the message
 * layer maps to a status (CIO_EHTTP_BODY_LIMIT: 413, ...; cio_http_error_status) is answered with that status,
 * any other with a plain 500 page, the error logged and never shown to the client. After a streamed response has
 * started, an error closes the connection.
 */
typedef int (*cio_web_handler)(cio_web_request *req, cio_web_response *res, void *arg);

/*
 * Middleware: runs around the handler (and the middleware after it in the chain). It calls cio_web_next(req,
 * res) to go on, and may act before and after that call, answer early without calling it (authentication),
 * rewrite the response or the error the rest returned, or add headers. Returns as a handler does.
 */
typedef int (*cio_web_middleware)(cio_web_request *req, cio_web_response *res, void *arg);

/* Call the rest of the chain: the next middleware, or the route's handler. Returns what it returned. */
int cio_web_next(cio_web_request *req, cio_web_response *res);

/* ---- Applications and routes ---- */

typedef struct cio_web_app_opts {
    /* The largest request body cio_web_read_body and forms accept (aiohttp's client_max_size); 0: 1 MiB. A body
       beyond it is CIO_EHTTP_BODY_LIMIT, answered 413. */
    uint64_t client_max_size;
} cio_web_app_opts;

/* A new, empty application. Errors: -ENOMEM. `opts` may be NULL. */
int cio_web_app_open(cio_web_app **out, const cio_web_app_opts *opts);

/* Free the app, its routes and its mounted sub-applications. The app must not be served any more. NULL is
   ignored. */
void cio_web_app_close(cio_web_app *app);

/*
 * app.router.add_route: serve `method` (a token such as "GET"; "*" for every method) on paths that match
 * `pattern`. A pattern is "/"-separated segments, each either literal or one variable part with optional literal
 * text around it: "{name}" (any text but "/"), "{name:int}" (decimal digits), "{name:REGEX}" (a POSIX extended
 * regular expression the whole variable part must match, within one segment), and as the last segment
 * "{name:.*}" or "{name:path}", the tail of the path including its slashes (possibly empty). Literal segments win
 * over variable ones, variables over tails, whatever the order of registration; among variable segments the first
 * registered that leads to a match wins. A GET route serves HEAD too (without the body), unless HEAD has its own.
 * Lookup costs the same with 1 route or 10,000: a tree of segments, not a list.
 * Errors: -EINVAL a NULL or empty argument, a pattern not starting with "/", a method that is not a token;
 *         CIO_EWEB_BAD_PATTERN a malformed variable part or regular expression; CIO_EWEB_ROUTE_EXISTS the method
 *         and pattern are taken; CIO_EWEB_FROZEN the app is being served; -ENOMEM.
 */
int cio_web_route(cio_web_app *app, const char *method, const char *pattern, cio_web_handler fn, void *arg);
int cio_web_get(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg);
int cio_web_post(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg);
int cio_web_put(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg);
int cio_web_delete(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg);

/*
 * app.add_subapp: serve `sub`'s routes under `prefix` (a literal path such as "/api", no trailing "/"). The
 * parent's middleware runs first, then the sub-application's. The parent takes ownership of `sub` (freed with it).
 * Errors: -EINVAL; CIO_EWEB_BAD_PATTERN a prefix with variables or a trailing "/"; CIO_EWEB_ROUTE_EXISTS
 *         a sub-application is already mounted there, or `sub` is mounted elsewhere; CIO_EWEB_FROZEN; -ENOMEM.
 */
int cio_web_add_subapp(cio_web_app *app, const char *prefix, cio_web_app *sub);

/* Append `fn` to the app's middleware chain (aiohttp's middlewares=[...]; the first added is the outermost).
   Errors: -EINVAL; CIO_EWEB_FROZEN; -ENOMEM. */
int cio_web_use(cio_web_app *app, cio_web_middleware fn, void *arg);

/* ---- Ready-made middleware (add with cio_web_use; the `arg` is the options struct, which must outlive the app) ----
 */

enum { CIO_WEB_LOG_COMMON = 0, CIO_WEB_LOG_COMBINED = 1 };

/* Access log options. `write` gets each line (no newline), or NULL: the loop's log. */
typedef struct cio_web_access_log_opts {
    int format; /* CIO_WEB_LOG_COMMON: host ident user [time] "request line" status bytes; COMBINED adds
                   "referer" "user-agent" */
    void (*write)(void *arg, const char *line, size_t len);
    void *arg;
} cio_web_access_log_opts;

/* One line per request, after the response, with the status the client got (the error page's, when the rest of
   the chain failed) and the body bytes sent. Off unless added: cio_web_use(app, cio_web_access_log, &opts). */
int cio_web_access_log(cio_web_request *req, cio_web_response *res, void *opts);

/* CORS (the Fetch standard's CORS protocol) options. */
typedef struct cio_web_cors_opts {
    /* The origins allowed, NULL-terminated ("https://app.example"), or NULL for any ("*", or the request's Origin
       echoed when credentials are allowed). */
    const char *const *origins;
    bool allow_credentials;
    /* Preflight answers: the methods and request headers allowed (NULL: the ones the preflight asks for) and how
       long the browser may cache the answer (0: not said). */
    const char *allow_methods;
    const char *allow_headers;
    int max_age;
    /* Response headers scripts may read (Access-Control-Expose-Headers), or NULL. */
    const char *expose_headers;
} cio_web_cors_opts;

/* Answers preflight requests (OPTIONS with Access-Control-Request-Method) itself with 204, and adds the
   Access-Control-Allow-* headers to the responses to allowed origins (with Vary: Origin when it names one).
   A request from an origin not allowed is served without them, which the browser then refuses. */
int cio_web_cors(cio_web_request *req, cio_web_response *res, void *opts);

/* Turns an error the rest of the chain returns into the page the server would send (500 logged but not shown,
   413, 408, ...) right here, so that middleware outside it (an access log, CORS, headers) sees and may change the
   final response. A streamed response already started is left to fail. `opts` is unused (NULL). */
int cio_web_error_pages(cio_web_request *req, cio_web_response *res, void *opts);

/*
 * Lifecycle hooks (aiohttp's on_startup, on_shutdown, on_cleanup), run by each server of the app on its own loop, in
 * a task (they may wait), the app's first, then its sub-applications', each list in the order added:
 * - startup, before the server accepts: open what handlers share (a pool, a client session) and keep it with
 *   cio_web_server_set_state. The first failure stops the start: the cleanup hooks run, and
 *   cio_web_server_start returns that error.
 * - shutdown, once the server has stopped accepting and before it waits for the requests in progress: tell
 *   long-lived handlers (streams, WebSockets) to finish.
 * - cleanup, after the last connection has closed: free what startup opened. Every one runs; the first error is
 *   cio_web_server_close's result.
 * Errors: -EINVAL; CIO_EWEB_FROZEN; -ENOMEM.
 */
typedef int (*cio_web_hook)(cio_web_server *srv, void *arg);
int cio_web_on_startup(cio_web_app *app, cio_web_hook fn, void *arg);
int cio_web_on_shutdown(cio_web_app *app, cio_web_hook fn, void *arg);
int cio_web_on_cleanup(cio_web_app *app, cio_web_hook fn, void *arg);

/* ---- Requests ---- */

/* The method ("GET"), and the target as sent ("/a%20b?x=1"). NUL-terminated; valid while the handler runs. */
const char *cio_web_method(const cio_web_request *req);
const char *cio_web_target(const cio_web_request *req);
/* The path, percent-decoded with "." and ".." segments resolved (never above "/"); "%2F" stays "%2F", so a
   decoded path splits into the segments that were sent. The query string, raw, without "?" ("" if none). */
const char *cio_web_path(const cio_web_request *req);
const char *cio_web_query_string(const cio_web_request *req);
/* The decoded value of the first query parameter `name` (request.query[name]), or NULL; "+" reads as a space.
   A parameter without "=" has the value "". */
const char *cio_web_query(cio_web_request *req, const char *name);
/* match_info[name]: the decoded part of the path the route's variable `name` matched, or NULL. */
const char *cio_web_match(const cio_web_request *req, const char *name);
/* The value of the first header field `name` (case-insensitive), NUL-terminated, or NULL; the next ones with
   cio_web_header_next. */
const char *cio_web_header(cio_web_request *req, const char *name);
/* The value of the first cookie `name` the request sent (request.cookies[name], names compared exactly, a quoted
   value without its quotes), NUL-terminated, or NULL. */
const char *cio_web_cookie(cio_web_request *req, const char *name);
/* The request's Content-Type, parsed (cio_http_media_type_charset gives its charset). Errors: -ENOENT none;
   CIO_EHTTP_BAD_MEDIA_TYPE. */
int cio_web_content_type(const cio_web_request *req, cio_http_media_type *mt);
/* The request head as parsed (every field, in order): for repeated fields and raw views. Valid while the handler
   runs. */
const cio_http_head *cio_web_head(const cio_web_request *req);
/* HTTP/1.x minor version (0 or 1), and whether the connection stays open after this response. */
int cio_web_version(const cio_web_request *req);
bool cio_web_keep_alive(const cio_web_request *req);
/* The declared Content-Length, or -1 when the body is chunked or there is none. */
int64_t cio_web_content_length(const cio_web_request *req);
/* The peer's and our own address. */
int cio_web_remote(const cio_web_request *req, cio_addr *out);
int cio_web_local(const cio_web_request *req, cio_addr *out);
/* The connection's stream (TLS information, a protocol switch after 101). */
cio_stream *cio_web_stream(const cio_web_request *req);

/*
 * The whole body, up to the app's client_max_size, as bytes valid while the handler runs (NUL-terminated; `len`
 * may be NULL). Errors: CIO_EHTTP_BODY_LIMIT (answered 413 when returned by the handler), CIO_EHTTP_BODY_TRUNCATED,
 * framing errors, read errors, CIO_EREADTIMEOUT, -ENOMEM.
 */
int cio_web_read_body(cio_web_request *req, const char **data, size_t *len);
/* The body as a reader of the message layer (next chunk, lines, to a file, forms), bounded by client_max_size.
   What the handler leaves unread is discarded after it returns, so the connection can serve the next request. */
cio_http_body_in *cio_web_body(cio_web_request *req);

/*
 * await request.post(): the fields of an application/x-www-form-urlencoded or multipart/form-data body, read whole
 * on the first call (bounded by client_max_size, file parts included: stream large uploads with
 * cio_http_form_open on cio_web_body instead). cio_web_form gives the first field `name`; cio_web_form_at the
 * `i`th field in order. Values are decoded ("+" is a space in urlencoded ones), NUL-terminated, valid while the
 * handler runs; `len` (may be NULL) is the value's length (a multipart value may hold NULs).
 * Returns: 0 (cio_web_form) or 1 (cio_web_form_at) with a field. Errors: -ENOENT no such field, or a body of
 *          another type (it has no fields); the body's and the multipart parser's errors (CIO_EHTTP_BODY_LIMIT:
 *          413 when returned); -ENOMEM. A body read as a form cannot be read again.
 */
int cio_web_form(cio_web_request *req, const char *name, const char **value, size_t *len);
int cio_web_form_at(cio_web_request *req, size_t i, const char **name, const char **value, size_t *len);

/*
 * Per-request storage for middleware and handlers (aiohttp's request["key"]): `key` is compared by address, so
 * a static variable's address is a key nobody else can take. Set NULL to remove. Errors: -ENOMEM.
 */
int cio_web_set(cio_web_request *req, const void *key, void *value);
void *cio_web_get_value(const cio_web_request *req, const void *key);
/* The app-wide argument the server was started with (cio_web_server_opts.arg). */
void *cio_web_server_arg(const cio_web_request *req);
/* The state of the server serving this request (cio_web_server_set_state): with workers, each worker's own, so a
   handler reaches its loop's pool or cache without a lock. */
void *cio_web_state(const cio_web_request *req);
/* The server serving this request. */
cio_web_server *cio_web_request_server(const cio_web_request *req);

/* ---- Responses ---- */

/* Set the status (100-999; the default is 200) and an optional reason phrase (NULL: the standard one).
   Errors: -EINVAL; CIO_EWEB_STARTED the head is already sent. */
int cio_web_status(cio_web_response *res, int status, const char *reason);
int cio_web_status_of(const cio_web_response *res);
/*
 * Set a header (replacing every field of that name), add one more field, or remove every field of a name.
 * Names and values are checked as the message layer's head writer checks them (no CR, LF, NUL; names tokens),
 * so a handler cannot inject a field. Content-Length, Transfer-Encoding and Connection are the server's.
 * Errors: CIO_EHTTP_BAD_FIELD, -EINVAL a header the server owns, CIO_EWEB_STARTED, -ENOMEM.
 */
int cio_web_set_header(cio_web_response *res, const char *name, const char *value);
int cio_web_add_header(cio_web_response *res, const char *name, const char *value);
int cio_web_remove_header(cio_web_response *res, const char *name);
/* Add a Set-Cookie field (response.set_cookie), written by cio_http_set_cookie_format's strict rules.
   Errors: CIO_EHTTP_BAD_COOKIE; -ENOBUFS a value over 4 KiB; as cio_web_add_header. */
int cio_web_set_cookie(cio_web_response *res, const cio_http_set_cookie *c);
/* Tell the client to drop cookie `name` (response.del_cookie): expired now, Path `path` (NULL: "/"), Domain
   `domain` (NULL: none), which must be those it was set with. */
int cio_web_del_cookie(cio_web_response *res, const char *name, const char *domain, const char *path);
/* The value of the first response header `name`, or NULL. */
const char *cio_web_response_header(const cio_web_response *res, const char *name);

/* A body from memory (copied), with its Content-Type (NULL: none), and the status. Replaces an earlier body.
   Errors: -EINVAL; CIO_EWEB_STARTED; -ENOMEM. */
int cio_web_respond(cio_web_response *res, int status, const char *content_type, const void *data, size_t len);
/* web.Response(text=...): printf-formatted, "text/plain; charset=utf-8". */
int cio_web_text(cio_web_response *res, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cio_web_vtext(cio_web_response *res, int status, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* web.json_response: `json` (already serialised) as "application/json". */
int cio_web_json(cio_web_response *res, int status, const char *json);
/* HTTPFound and friends: `status` 301, 302, 303, 307 or 308 with Location `location` and a short body.
   Errors: -EINVAL another status; CIO_EHTTP_BAD_FIELD a location with CR, LF or NUL. */
int cio_web_redirect(cio_web_response *res, int status, const char *location);
/* A short, self-delimiting error page for `status` ("404: Not Found"), text/plain. */
int cio_web_error(cio_web_response *res, int status);

/*
 * A streamed response (web.StreamResponse): send the head now. With `length` >= 0 the body is exactly that long
 * (Content-Length); with -1 it is chunked (HTTP/1.1) or ends at the close (HTTP/1.0). Then write pieces with
 * cio_web_write (each waits while the peer is slow: back-pressure) and end with cio_web_write_eof (done for the
 * handler when it returns). Errors: CIO_EWEB_STARTED; the stream's write errors.
 */
int cio_web_prepare(cio_web_response *res, int64_t length);
int cio_web_write(cio_web_response *res, const void *data, size_t len);
int cio_web_drain(cio_web_response *res);
int cio_web_write_eof(cio_web_response *res);
/* Send `count` bytes of `fd` from `offset` as (part of) a streamed body: sendfile over plain TCP, read and written
   over TLS. Prepares the response with length `count` if it is not yet. Returns the bytes sent. */
ssize_t cio_web_sendfile(cio_web_response *res, int fd, off_t offset, size_t count);
/* Whether the head has been sent. */
bool cio_web_started(const cio_web_response *res);

/*
 * Compress this response when it is worth it and the client accepts it: a text-like Content-Type (text/anything, JSON,
 * JavaScript, XML, SVG, ...; never images, archives or media, which are compressed already), a body of at least
 * 256 bytes (or streamed), no Content-Encoding of the handler's own, and a coding the request's Accept-Encoding
 * takes (br, zstd, gzip or deflate: cio_http_accept_coding). Such a response says "Vary: Accept-Encoding" whatever
 * was chosen; a compressed streamed one goes chunked, its length unknown up front. `level` 0 is each coding's
 * default (gzip 6, br 5, zstd 3), up to 9. Call before the head goes. Errors: -EINVAL; CIO_EWEB_STARTED.
 */
int cio_web_compress(cio_web_response *res, int level);

/* Middleware that calls cio_web_compress(res, 0) for every response of the app (`arg` unused). */
int cio_web_compression(cio_web_request *req, cio_web_response *res, void *arg);

/*
 * Protocol switches (Upgrade: websocket, ...): a handler that accepts one sets status 101 and the Upgrade header,
 * sends the head with cio_web_prepare(res, 0) ("Connection: upgrade" is the server's), then speaks the new
 * protocol on cio_web_stream(req) until it returns; the server then closes the connection, never reading another
 * HTTP request from it. cio_http_upgrade(cio_web_head(req)) says whether the client asked.
 */

/* ---- Serving ---- */

typedef struct cio_web_server_opts {
    /* Where to listen: a numeric host (NULL: every IPv4 and IPv6 address) and a port (0: the kernel picks one,
       see cio_web_server_addr), or a Unix socket path (`unix_path`; then host and port are not used). */
    const char *host;
    int port;
    const char *unix_path;
    /* Serve this socket, which already listens (systemd's socket activation: cio_web_listen_fds), instead of
       host/port/unix_path; the server takes it. 0: none. */
    int listen_fd;
    /* Serve HTTPS with this server context. */
    cio_tls_ctx *tls;
    /* SO_REUSEPORT, for one server per loop on the same port. */
    bool reuse_port;
    /* At most this many connections at once; beyond it, accepting waits. 0: 10,000. */
    size_t max_connections;
    /* listen(2)'s backlog: connections the kernel completes before the server accepts them (capped by
       net.core.somaxconn). 0: 511. A burst beyond it waits for the client's retransmission, a second or more. */
    int backlog;
    /* The longest request line (414 beyond), the largest head (431), the most header fields (431).
       0: 8 KiB, 16 KiB and 100. */
    size_t max_line, max_head, max_headers;
    /* A request head must arrive whole within this, however it trickles in (slowloris): 408 and closed beyond.
       0: 10 s. */
    int64_t header_timeout;
    /* Every wait for body bytes gets this long (the stream's read-idle timeout). 0: 60 s. */
    int64_t body_timeout;
    /* An idle keep-alive connection (no task, no stack) is closed after this. 0: 75 s (aiohttp's, nginx's). */
    int64_t keepalive_timeout;
    /* The most requests one connection serves before the server closes it. 0: no limit. */
    uint64_t max_requests;
    /* A deadline for each handler (a timeout scope around it): past it the handler is cancelled and the client
       gets `handler_timeout_status` (0: 503) if nothing was sent yet. 0: none. */
    int64_t handler_timeout;
    int handler_timeout_status;
    /* The Server header's value; NULL: "cio", "" for none. */
    const char *server_name;
    /* Given to handlers as cio_web_server_arg. */
    void *arg;
    /* For cio_web_run: the number of worker threads (0: one per core; 1: serve on the calling loop). */
    unsigned workers;
    /* For cio_web_run: called once it listens, with the port (the kernel's pick for port 0), as aiohttp's run_app
       prints where it runs. A plain callback; `ready_arg` is its argument. */
    void (*ready)(int port, void *ready_arg);
    void *ready_arg;
} cio_web_server_opts;

/*
 * Start serving `app` on the current loop (aiohttp's AppRunner + TCPSite): the app is frozen from then on (no
 * routes or middleware added) and may be served by several servers, on several loops, at once.
 * Errors: -EINVAL; -EADDRINUSE; -EACCES; CIO_ENOTASK; -ENOMEM.
 */
int cio_web_server_start(cio_web_server **out, cio_web_app *app, const cio_web_server_opts *opts);
/* The address it listens on (with the port the kernel chose). */
int cio_web_server_addr(const cio_web_server *srv, cio_addr *out);
/* The port it listens on (TCP), or a negative error. */
int cio_web_server_port(const cio_web_server *srv);
/* The connections the server holds now, idle kept-alive ones included. */
size_t cio_web_server_connections(const cio_web_server *srv);
/* Per-server state, for hooks to set (a startup hook) and handlers to read (cio_web_state). -EINVAL for NULL. */
int cio_web_server_set_state(cio_web_server *srv, void *state);
void *cio_web_server_state(const cio_web_server *srv);
/* Which worker the server is (0 to n - 1, cio_web_workers_start), 0 for a server of its own. */
int cio_web_server_worker(const cio_web_server *srv);
/*
 * Graceful shutdown: stop accepting, close idle keep-alive connections, let requests in progress finish within
 * `grace` ns (a connection answers its current request with "Connection: close"), then cancel those left, and
 * free the server. The shutdown hooks run once accepting has stopped, the cleanup hooks after the last connection
 * closed. Returns 0, or -ETIMEDOUT when requests had to be cancelled, or a hook's error.
 */
int cio_web_server_close(cio_web_server *srv, int64_t grace);

/*
 * The sockets systemd passed to this process (socket activation: LISTEN_PID is our pid and LISTEN_FDS says how
 * many, from descriptor 3): the first is `*fd`, for cio_web_server_opts.listen_fd. The variables are removed from
 * the environment, so that children do not take them for theirs, as sd_listen_fds(1) does.
 * Returns the number of sockets passed (0: none). Errors: -EINVAL malformed variables.
 */
int cio_web_listen_fds(int *fd);

/* ---- One loop per core ---- */

/*
 * `n` worker threads (0: one per core), each with a loop of its own serving `app` with `opts` on a listening socket
 * of its own (SO_REUSEPORT on the same port: the kernel spreads connections among them). The app is frozen first
 * and shared read-only; each worker runs the startup and cleanup hooks on its own loop, with state of its own
 * (cio_web_server_set_state, cio_web_state) and its index (cio_web_server_worker). Nothing is shared on the
 * request path: no lock, no common counter. With port 0 the first worker's port is everyone's.
 * Blocks the calling thread until every worker listens (or one failed: then the others are stopped).
 * Errors: -EINVAL; -EAGAIN a thread could not start; any error of cio_web_server_start in a worker; -ENOMEM.
 * With opts->listen_fd or opts->unix_path one socket cannot be shared this way: -EINVAL unless n is 1.
 */
typedef struct cio_web_workers cio_web_workers;
int cio_web_workers_start(cio_web_workers **out, cio_web_app *app, const cio_web_server_opts *opts, unsigned n);
/* The port they listen on, and how many there are. */
int cio_web_workers_port(const cio_web_workers *w);
unsigned cio_web_workers_count(const cio_web_workers *w);
/*
 * Ask every worker to shut down gracefully within `grace` (cio_web_server_close on its own loop, reached with
 * cio_call_soon_threadsafe), then join the threads and free `w`. Blocks the calling thread meanwhile. Returns 0, or
 * the first worker's error (-ETIMEDOUT: requests were cancelled). NULL is ignored.
 */
int cio_web_workers_close(cio_web_workers *w, int64_t grace);

/*
 * web.run_app: serve `app` with `opts` until SIGINT or SIGTERM, then shut down gracefully within `grace` ns
 * (0: 10 s) and return 0. With `workers` (below) other than 1, the app is served by that many worker threads
 * (cio_web_workers_start; 0: one per core) while the calling task waits for the signal. Call from a task.
 * Errors: as cio_web_server_start and cio_web_workers_start.
 */
int cio_web_run(cio_web_app *app, const cio_web_server_opts *opts, int64_t grace);

/* ---- Static files (add_static, FileResponse) ---- */

/* A file name extension (without the dot, compared without case) and its Content-Type. */
typedef struct cio_web_mime_type {
    const char *ext, *type;
} cio_web_mime_type;

/* Options for static files; zero means the default. cio_web_add_static copies the strings and the table. */
typedef struct cio_web_static_opts {
    const char *index;              /* the file a directory serves; NULL: "index.html"; "": none */
    bool show_index;                /* an HTML listing for a directory without its index file (aiohttp's show_index) */
    bool follow_symlinks;           /* follow symlinks that lead outside the directory (inside it they always work) */
    bool show_hidden;               /* serve and list names that start with "." */
    bool precompressed;             /* serve name.br, name.zst or name.gz when the client accepts it (nginx's
                                       gzip_static), with Vary: Accept-Encoding */
    bool compress;                  /* compress text-like files on the fly otherwise (cio_web_compress) */
    bool download;                  /* Content-Disposition: attachment, with the file's name */
    const char *cache_control;      /* a Cache-Control value for files served; NULL: none */
    const cio_web_mime_type *types; /* looked up before the built-in table; ends with {NULL, NULL} */
    const char *default_type;       /* for an unknown extension; NULL: "application/octet-stream" */
    size_t max_ranges;              /* more ranges than this (once coalesced) are answered with the whole file;
                                       0: 16 (at most 64) */
    int64_t cache_valid;            /* how long an open file is trusted before it is checked again (nginx's
                                       open_file_cache_valid); 0: 1 s; negative: no cache, an open per request */
    size_t cache_max;               /* open files kept per server (per worker); 0: 256 */
} cio_web_static_opts;

/*
 * app.router.add_static: serve the files below `dir` under `prefix` ("/static"; "/" for the root), GET and HEAD,
 * and redirect `prefix` itself to `prefix/`. A request cannot name anything outside `dir`: "..", encoded slashes
 * and dots, backslashes, NUL, control bytes and invalid UTF-8 in a segment are refused (404), and the file is
 * opened below the directory's descriptor (openat2 with RESOLVE_BENEATH, or a walk with O_NOFOLLOW on a kernel
 * without it), so a symlink to outside, or one swapped in while the request runs, is never followed unless
 * follow_symlinks says so. Only regular files are served. Responses carry ETag (from inode, size and modification
 * time) and Last-Modified, answer If-None-Match and If-Modified-Since with 304, If-Match and If-Unmodified-Since
 * with 412, and Range (single, several as multipart/byteranges, suffix, open-ended; If-Range) with 206 or 416.
 * Bodies go by sendfile over plain TCP. A directory serves its index file, else (show_index) a listing, else 403;
 * "/dir" is redirected to "/dir/". Open files are cached per server for `cache_valid`.
 * Errors: -EINVAL; CIO_EWEB_BAD_PATTERN a prefix with "{"; the directory's open errors (-ENOENT, -ENOTDIR,
 *         -EACCES); as cio_web_get; -ENOMEM.
 */
int cio_web_add_static(cio_web_app *app, const char *prefix, const char *dir, const cio_web_static_opts *opts);

/*
 * web.FileResponse: answer with the file at `path` (opened as given: the handler chose it) with the same
 * validators, conditions, ranges and options as a static route (index, show_index and cache_valid aside).
 * A missing file is a 404 page, an unreadable one 403. Errors: -EINVAL; the response's errors.
 */
int cio_web_file(cio_web_request *req, cio_web_response *res, const char *path, const cio_web_static_opts *opts);

/* The Content-Type for a file name by its extension: `overrides` first (may be NULL), then the built-in table
   (mimetypes.guess_type). Returns NULL for an unknown or missing extension. */
const char *cio_web_mime_type_for(const char *name, const cio_web_mime_type *overrides);

/* ---- Testing (aiohttp's TestServer and TestClient) ---- */

/*
 * A server for `app` on an ephemeral port of 127.0.0.1 (opts' host, port and unix_path are ignored), with a client
 * that makes requests to it in straight-line code from a task of the same loop: the server's tasks serve while the
 * client waits. The client keeps one connection open while the server keeps it alive, and opens a new one when it
 * did not. Errors: as cio_web_server_start.
 */
typedef struct cio_web_test cio_web_test;
int cio_web_test_open(cio_web_test **out, cio_web_app *app, const cio_web_server_opts *opts);
/* The server's port, and the server itself (cio_web_server_addr). */
int cio_web_test_port(const cio_web_test *t);
cio_web_server *cio_web_test_server(cio_web_test *t);
/* How many connections the client has opened so far: 1 after any number of kept-alive requests. */
unsigned cio_web_test_connections(const cio_web_test *t);

#define CIO_WEB_TEST_MAX_HEADERS 64

/* A response as the client read it: the status, the head's fields (names and values NUL-terminated), the whole
   body (decoded from chunked; NUL-terminated), and whether the server kept the connection. */
typedef struct cio_web_test_response {
    int status;
    int minor_version;
    cio_http_head head;
    cio_http_header fields[CIO_WEB_TEST_MAX_HEADERS];
    cio_buf body;
    bool kept;
    char *raw; /* the head's bytes, which the fields point into */
} cio_web_test_response;

/*
 * Send `method` `target` with the header fields `headers` (NULL, or a NULL-terminated array of name, value, name,
 * value, ...) and, when `body` is not NULL, `len` bytes of body with their Content-Length; then read the response
 * (the final one, after any 1xx) into `res`. Returns 0. Errors: CIO_EHTTP_BAD_FIELD and -EINVAL a field or target
 * the head writer refuses; the connection's errors (CIO_EPEERCLOSED the server closed without answering); the
 * response parser's and body reader's errors (the body is bounded by 64 MiB); -ENOMEM. On error `res` holds
 * nothing to free. Free a response with cio_web_test_response_fini.
 */
int cio_web_test_request(cio_web_test *t, const char *method, const char *target, const char *const *headers,
                         const void *body, size_t len, cio_web_test_response *res);
/* Send `len` raw bytes as they are (a request, several, or what no client sends), then read one response to a
   request of `method` (NULL: GET), as cio_web_test_request does. */
int cio_web_test_raw(cio_web_test *t, const void *bytes, size_t len, const char *method, cio_web_test_response *res);
/* The value of the response's first field `name` (case-insensitive), or NULL. */
const char *cio_web_test_header(const cio_web_test_response *res, const char *name);
void cio_web_test_response_fini(cio_web_test_response *res);
/* Close the client's connection and the server (cio_web_server_close with `grace`). NULL is ignored. Returns as
   cio_web_server_close. */
int cio_web_test_close(cio_web_test *t, int64_t grace);

#ifdef __cplusplus
}
#endif

#endif
