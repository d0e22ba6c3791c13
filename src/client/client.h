/* client.h: the client's insides shared by its files: the session, its pool of connections, responses. */
#ifndef CIO_CLIENT_INTERNAL_H
#define CIO_CLIENT_INTERNAL_H

#include "cio/client.h"

#include <stdbool.h>
#include <stdint.h>

#include "cio/sync.h"
#include "core/runtime.h"
#include "internal.h"

#define CLIENT_SESSION_MAGIC  0x636c6973u /* "clis" */
#define CLIENT_RESPONSE_MAGIC 0x636c6972u /* "clir" */
#define CLIENT_MAX_METHOD     31          /* longer method names are refused */

/* A forward proxy, parsed; the session keeps each one it was given (its own, the environment's, the requests')
   until it goes, so that the pool's keys can point to them. */
struct client_proxy {
    struct cio__list node; /* in session->proxies */
    char *spec;            /* as given, to find it again */
    char *host;            /* lower case, without IPv6 brackets */
    int port;
    char *auth; /* "Basic <base64 of user:password>", or NULL without credentials */
};

/* One key of the pool: scheme, host and port (and the TLS context, for https, and the proxy), with its idle
   connections. */
struct client_host {
    struct cio__list node; /* in session->hosts */
    bool tls;
    int port;
    cio_tls_ctx *ctx;           /* https: the context the connections were made with (part of the key) */
    struct client_proxy *proxy; /* the proxy the connections go through, or NULL (part of the key) */
    struct cio__list idle;      /* idle connections, the oldest first */
    size_t open;                /* connections open or being opened to this key: the slots it holds */
    size_t users;               /* requests getting a connection to this key, which hold the entry */
    char name[];                /* the host, lower case, without IPv6 brackets */
};

/* A connection: in its host's idle list while pooled, else owned by one request or response. */
struct client_conn {
    struct cio__list node;
    struct client_host *host;
    cio_stream *s;
    int64_t idle_since; /* when it was parked */
    unsigned served;    /* responses read to the end on it */
};

/* A request waiting for a pool slot, in session->waiters in the order of arrival. Whoever frees what it needs
   hands it over directly (an idle connection, or a slot already counted for it), so a later arrival never takes
   it first. */
struct client_waiter {
    struct cio__list node;
    struct client_host *host;
    cio_event ev;
    struct client_conn *conn; /* handed over: an idle connection */
    bool slot;                /* handed over: a slot, counted, to open a connection in */
    int err;                  /* the session closed */
};

struct resolve_entry {
    char *host;
    int port;
    cio_addr addr;
};

struct cio_client_session {
    uint32_t magic;
    bool closed;
    unsigned refs;             /* the caller's handle, and every response not released */
    cio_client_session_opts o; /* with the defaults filled in; the pointers below replace the caller's */
    char *base_url;
    char **headers; /* name, value, ..., NULL: the copied defaults */
    size_t nheaders;
    char *user_agent; /* NULL: none */
    struct resolve_entry *resolve;
    size_t nresolve;
    cio_tls_ctx *tls;                          /* the context for https, or NULL until the first one */
    bool own_tls;                              /* made by the session (freed with it) */
    struct cio__list hosts;                    /* struct client_host */
    struct cio__list waiters;                  /* struct client_waiter, FIFO */
    struct cio__list responses;                /* struct cio_client_response not released, in progress or returned */
    struct cio__list inflight;                 /* struct client_inflight: requests between their start and their head */
    size_t open;                               /* connections open or being opened, all hosts */
    cio_handle *expiry;                        /* the timer that closes expired idle connections, or NULL */
    char *auth;                                /* the default Authorization value ("Basic ..."), or NULL */
    struct client_jar *jar;                    /* the cookie jar, or NULL without cookie_jar */
    struct cio__list proxies;                  /* struct client_proxy */
    struct client_proxy *proxy;                /* the session's own, when proxy_set (NULL: none) */
    bool proxy_set;                            /* opts.proxy was given ("" included): the environment is not asked */
    struct client_proxy *env_http, *env_https; /* trust_env's, or NULL */
    char *no_proxy;                            /* trust_env's list, or NULL */
    bool use_unix;                             /* every connection goes to unix_addr */
    cio_addr unix_addr;
    cio_client_trace trace; /* the hooks, all NULL when unset */
    void *trace_arg;
    cio_loop *loop;             /* the loop the session belongs to, until it closes */
    struct cio__loop_hook hook; /* at that loop's close: reports the session if still open (debug mode) */
};

/* A request in cio_client_request, on its task's stack: close cancels its scope, so that a request still
   connecting (name lookup, connect, TLS, a CONNECT) ends at once. */
struct client_inflight {
    struct cio__list node;
    cio_scope *scope;
};

struct client_redirect {
    int status;
    char *url;
};

struct cio_client_response {
    uint32_t magic;
    struct cio__list node; /* in session->responses */
    cio_client_session *session;
    struct client_conn *conn; /* NULL once closed, or before one is taken */
    char *url;                /* the URL that answered */
    char *raw;                /* the head's bytes, which `head` points into, each name and value NUL-ended */
    cio_http_head head;
    cio_http_header *fields;
    cio_http_body_in body;
    bool body_open;
    bool keep;                          /* the server keeps the connection after this body */
    int64_t deadline;                   /* the total timeout's, or INT64_MAX */
    int err;                            /* a sticky error (CIO_ECLIENT_CLOSED) */
    int body_err;                       /* the body cannot be read: its declared length is above the limit */
    char method[CLIENT_MAX_METHOD + 1]; /* the request's, for the body rule (HEAD) */
    struct client_redirect *history;
    size_t nhistory;
    /* Line reading (cio_client_response_read_line): the rest of the body's last piece after the line handed out
       from it (a view of the reader's, valid until its next call), and a line that spanned pieces. */
    const char *pend;
    size_t pend_len;
    char *line;
    size_t line_len, line_cap;
    bool line_out; /* `line` holds what was handed out last (dropped at the next call), not a partial line */
    bool upgraded; /* a 101 to an upgrade request: the connection is for cio_client_response_detach */
    bool detached; /* and it was handed over */
};

#define CLIENT_WRITER_MAGIC 0x636c6977u /* "cliw" */

/* What a producer writes through: the body writer of the attempt running it. */
struct cio_client_body_writer {
    uint32_t magic;
    cio_http_body_out out;
};

/* A request's body, of one kind, from hop to hop: files opened once, sent again from their start on a retry. */
enum client_body_kind {
    CLIENT_BODY_NONE,
    CLIENT_BODY_MEM, /* body, form (encoded into `owned`), json */
    CLIENT_BODY_FILE,
    CLIENT_BODY_PRODUCER,
    CLIENT_BODY_MULTIPART,
};

struct client_part {
    const char *name, *value, *filename, *content_type;
    size_t value_len;
    cio_file *file; /* a file part: opened at the start, its size then in `size` */
    uint64_t size;
};

struct client_body {
    int kind;
    const void *data; /* CLIENT_BODY_MEM */
    size_t len;
    char *owned;
    cio_file *file; /* CLIENT_BODY_FILE: `flen` bytes from `off` */
    uint64_t off, flen;
    cio_client_producer producer;
    void *arg;
    int64_t plen; /* 0: chunked */
    struct client_part *parts;
    size_t nparts;
    uint64_t mplen; /* the multipart body's whole length */
    char boundary[CIO_HTTP_MP_MAX_BOUNDARY + 1];
    const char *content_type; /* the default Content-Type, or NULL */
    char ctbuf[CIO_HTTP_MP_MAX_BOUNDARY + 40];
};

/* body.c */
/* Take the request's body options: one kind at most, checked, its files opened (at once, in the task). */
int cio__client_body_open(struct client_body *b, const cio_client_request_opts *o);
void cio__client_body_close(struct client_body *b);
/* The framing the head declares (CIO_HTTP_BODY_NONE, _LENGTH with *len, _CHUNKED). */
int cio__client_body_framing(const struct client_body *b, uint64_t *len);
/* Send the whole body after the head, framed as declared. */
int cio__client_body_send(const struct client_body *b, cio_stream *st);

/* session.c */
void cio__client_session_unref(struct cio_client_session *s);
int cio__client_tls(struct cio_client_session *s, cio_tls_ctx **out);
const struct resolve_entry *cio__client_resolve_find(const struct cio_client_session *s, const char *host, size_t hlen,
                                                     int port);
/* The session's entry for the proxy `spec` ("": *out NULL), parsed and kept on first use. */
int cio__client_proxy_get(struct cio_client_session *s, const char *spec, struct client_proxy **out);
/* Whether trust_env's no_proxy list sends `host` (lower case or not, without brackets):`port` direct. */
bool cio__client_no_proxy(const struct cio_client_session *s, const char *host, size_t hlen, int port);

/* pool.c */
/* The pool's entry for a key, made if need be, held for the caller until cio__client_host_put; NULL: -ENOMEM. */
struct client_host *cio__client_host_get(struct cio_client_session *s, bool tls, const char *host, size_t hlen,
                                         int port, cio_tls_ctx *ctx, struct client_proxy *proxy);
void cio__client_host_put(struct client_host *h);
/* Get a connection to `h` (held by the caller): a live idle one (*reused true), unless `fresh`, or a new one opened
   within the caller's scopes, after waiting in line for a slot if every one is taken. A proxy's answer to the
   CONNECT of a new tunnel goes to `*proxy_status` (untouched when none was sent). */
int cio__client_acquire(struct cio_client_session *s, struct client_host *h, const cio_client_timeouts *t, bool fresh,
                        struct client_conn **out, bool *reused, int *proxy_status);
/* Park a connection whose last response was read to its end, or hand it to a waiter. */
/* Returns whether the connection was kept (parked, or handed to a waiter); false: it was closed. */
bool cio__client_put(struct cio_client_session *s, struct client_conn *c);
/* Close a connection and free its slot for the next waiter. */
void cio__client_conn_close(struct cio_client_session *s, struct client_conn *c);
/* At session close: close the idle connections, fail the waiters, cancel the timer. */
void cio__client_pool_close(struct cio_client_session *s);
/* Free the host entries (the session's memory going). */
void cio__client_pool_free(struct cio_client_session *s);

/* url.c */
/* Resolve `ref` against the absolute URL `base` (RFC 3986 section 5.2, without the fragment): a new string. */
int cio__client_url_join(char **out, const char *base, const char *ref);
/* Append `src` percent-encoded (all but unreserved characters), or as it is with `raw`, to the NUL-terminated
   buffer at *buf (len, cap), growing it. */
int cio__client_url_encode(char **buf, size_t *len, size_t *cap, const char *src, bool raw);

/* jar.c */
/* One stored cookie (RFC 6265 section 5.3's fields). */
struct client_cookie {
    char *name, *value, *domain, *path;
    int64_t expires; /* wall-clock seconds; INT64_MAX for a session cookie */
    bool persistent, secure, http_only, host_only;
    int same_site;
    uint64_t created; /* the jar's counter when first stored: the Cookie field's order among equal paths */
    uint64_t used;    /* the jar's counter when last stored or sent: eviction takes the lowest */
};

struct client_jar {
    struct client_cookie *c;
    size_t n, cap;
    uint64_t tick;
    int64_t wall0, mono0; /* the wall clock and cio_now() when the jar was made */
};

int cio__client_jar_new(struct client_jar **out);
void cio__client_jar_free(struct client_jar *j);
/* The jar's clock: wall-clock seconds. */
int64_t cio__client_jar_now(const struct client_jar *j);
/* Store a Set-Cookie value from a response of the parsed absolute URL `u`: 0, CIO_EHTTP_BAD_COOKIE,
   CIO_ECLIENT_COOKIE_REJECTED, -ENOMEM. */
int cio__client_jar_store(struct client_jar *j, const cio_url *u, const char *value, size_t len);
/* The cookies for a request to `u` ("a=1; b=2", allocated), or *out NULL when none match. 0 or -ENOMEM. */
int cio__client_jar_header(struct client_jar *j, const cio_url *u, char **out);

/* auth.c */
/* "Basic base64(user:password)", allocated; -EINVAL a user with ':' (or NULL), -ENOMEM. */
int cio__client_basic_auth(char **out, const char *user, size_t ulen, const char *password, size_t plen);

/* response.c */
int cio__client_map_error(const struct cio_client_response *r, int rc, int scope_rc);
/* Free a response, closing its connection if it still has one, and drop its hold on the session. */
void cio__client_response_free(struct cio_client_response *r);

#endif
