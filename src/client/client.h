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
    cio_tls_ctx *tls;           /* the context for https, or NULL until the first one */
    bool own_tls;               /* made by the session (freed with it) */
    struct cio__list hosts;     /* struct client_host */
    struct cio__list waiters;   /* struct client_waiter, FIFO */
    struct cio__list responses; /* struct cio_client_response not released, in progress or returned */
    size_t open;                /* connections open or being opened, all hosts */
    cio_handle *expiry;         /* the timer that closes expired idle connections, or NULL */

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
};

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
void cio__client_put(struct cio_client_session *s, struct client_conn *c);
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

/* response.c */
int cio__client_map_error(const struct cio_client_response *r, int rc, int scope_rc);
/* Free a response, closing its connection if it still has one, and drop its hold on the session. */
void cio__client_response_free(struct cio_client_response *r);

#endif
