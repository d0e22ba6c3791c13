/* web.h: the server's insides shared by its files: apps and the route tree (router.c), requests and responses
 * (request.c, response.c), connections and servers (conn.c). */
#ifndef CIO_WEB_INTERNAL_H
#define CIO_WEB_INTERNAL_H

#include "cio/web.h"

#include <regex.h>

#include "cio/core.h"
#include "internal.h"

#define WEB_MAX_VARS   16 /* variables in one route's path */
#define WEB_MAX_DEPTH  8  /* apps mounted inside apps */
#define WEB_MAX_METHOD 32

/* ---------------------------------------------------------------------------------------- the route tree */

struct web_route {
    char method[WEB_MAX_METHOD]; /* "*" for any */
    cio_web_handler fn;
    void *arg;
    struct web_route *next;
};

enum { VAR_ANY = 1, VAR_INT, VAR_REGEX };

struct web_node;

/* A variable segment: literal text around one variable part. */
struct web_var {
    char *name;
    char *prefix, *suffix;
    size_t plen, slen;
    int kind;
    bool has_re;
    regex_t re;
    struct web_node *child;
};

struct web_lit {
    char *seg;
    size_t len;
    struct web_node *child;
};

struct web_node {
    struct web_lit *lits; /* sorted by (len, bytes) for binary search */
    size_t nlits, caplits;
    struct web_var *vars; /* in order of registration */
    size_t nvars;
    char *tail_name;               /* "{name:.*}" below this node */
    struct web_route *tail_routes; /* ... and its routes */
    struct web_route *routes;      /* routes whose pattern ends here */
    struct cio_web_app *sub;       /* a sub-application mounted at this node */
};

struct web_mw {
    cio_web_middleware fn;
    void *arg;
};

enum { HOOK_STARTUP, HOOK_SHUTDOWN, HOOK_CLEANUP, HOOK_KINDS };

struct web_hook {
    cio_web_hook fn;
    void *arg;
};

struct cio_web_app {
    struct web_node root;
    struct web_mw *mws;
    size_t nmws, capmws;
    struct web_hook *hooks[HOOK_KINDS];
    size_t nhooks[HOOK_KINDS];
    /* Set by the freeze, on the root: the app and every sub-application below it, parents first. */
    struct cio_web_app **tree;
    size_t ntree;
    cio_web_app_opts opts;
    struct cio_web_app *parent;
    bool frozen;
    struct web_owned *owned; /* what routes' arguments the app frees when it closes */
    size_t nowned;
};

struct web_owned {
    void *p;
    void (*free)(void *);
};

/* Make `p` the app's, freed with `fn` when it closes. Errors: -ENOMEM (then the caller still owns p). */
int cio__web_app_own(struct cio_web_app *app, void *p, void (*fn)(void *));

/* A capture: the variable's name, and where its text is in the path. */
struct web_capture {
    const char *name;
    size_t off, len;
};

/* What a lookup found: the routes of the matched node (NULL: no route for the path), the chain of apps from the
   root to the one that owns them, and the captures. */
struct web_match {
    struct web_route *routes;
    struct cio_web_app *apps[WEB_MAX_DEPTH];
    size_t napps;
    struct web_capture caps[WEB_MAX_VARS];
    size_t ncaps;
};

/* Find the routes for `path` (decoded, NUL-terminated, starting with "/"). Returns whether a node matched. */
bool cio__web_lookup(struct cio_web_app *app, const char *path, size_t len, struct web_match *m);
/* The route for `method` among `routes` (GET for HEAD), or NULL. */
struct web_route *cio__web_route_for(struct web_route *routes, const char *method, size_t mlen);
/* The methods `routes` serve, as an Allow value ("GET, HEAD, OPTIONS"), into `buf`. */
size_t cio__web_allow(struct web_route *routes, char *buf, size_t cap);
/* Freeze the app and its sub-applications (no more changes), and list them in app->tree. Errors: -ENOMEM. Called
   once, before the app is served on any thread. */
int cio__web_app_freeze(struct cio_web_app *app);
/* Run the hooks of `kind` of every app in the tree, parents first, in the order added. With `stop_at_error`,
   the first failure stops the run and is returned; else every hook runs and the first failure is returned. */
int cio__web_run_hooks(struct cio_web_app *app, int kind, struct cio_web_server *srv, bool stop_at_error);

/* ---------------------------------------------------------------------------------------- per request */

/* A bump allocator for the request's copies: a first block inline, more from cio's allocator. */
struct web_arena {
    char *cur, *end;
    struct web_block *blocks;
    char first[2048];
};

void cio__web_arena_init(struct web_arena *a);
void cio__web_arena_fini(struct web_arena *a);
void *cio__web_alloc(struct web_arena *a, size_t n);
char *cio__web_strndup(struct web_arena *a, const char *s, size_t n);

struct web_kv {
    const void *key;
    void *value;
};

struct web_form_field {
    const char *name, *value;
    size_t len;
};

struct web_field {
    const char *name, *value;
    size_t nlen, vlen;
};

struct web_conn;
struct cio_web_server;

struct cio_web_request {
    struct web_conn *conn;
    struct cio_web_server *srv;
    cio_stream *s;
    cio_http_head *head;
    size_t head_len;
    const char *method, *target, *path, *query;
    size_t path_len, method_len;
    const char *match_vals[WEB_MAX_VARS];
    struct web_match m;
    /* The chain: which app's middleware runs next, and which of its entries. */
    size_t chain_app, chain_mw;
    struct web_route *route;
    cio_http_body_in body;
    bool body_open;
    int body_err;   /* why the body reader could not start */
    bool answered;  /* the final response's head is out (or in the connection's output) */
    bool body_read; /* read_body's copy is in body_data */
    const char *body_data;
    size_t body_len;
    int framing;
    uint64_t length;
    bool keep_alive;
    bool head_method;
    struct web_kv *kv;
    size_t nkv, capkv;
    struct web_form_field *form; /* cio_web_form's fields, once read */
    size_t nform;
    int form_err;
    bool form_read;
    struct web_arena arena;
};

struct cio_web_response {
    struct cio_web_request *req;
    int status;
    const char *reason;
    struct web_field *fields;
    size_t nfields, capfields;
    char *body; /* cio__malloc'd, or NULL */
    size_t body_len;
    bool started, ended;
    bool no_body;
    bool compress; /* cio_web_compress: compress if the client accepts and it is worth it */
    int compress_level;
    int64_t length;
    cio_http_body_out out;
};

/* Decode the route's captures into match_vals. Errors: -ENOMEM. */
int cio__web_match_values(struct cio_web_request *req);

void cio__web_response_init(struct cio_web_response *res, struct cio_web_request *req);
void cio__web_response_fini(struct cio_web_response *res);

/* ---------------------------------------------------------------------------------------- connections */

/* The connection's output that waits to go out in one write: responses to a batch of pipelined requests. */
struct web_out {
    char *p;
    size_t len, cap;
    bool heap; /* p is cio__malloc'd (a head larger than the stack buffer) */
};

struct web_conn {
    struct cio_web_server *srv;
    cio_stream *s; /* while its task runs */
    struct web_out out;
    uint64_t requests;
};

struct cio_web_server {
    uint32_t magic;
    cio_web_app *app;
    void *state;     /* cio_web_server_set_state */
    int worker;      /* index among workers, 0 alone */
    bool started_up; /* the startup hooks ran: cleanup runs at the close */
    cio_server *srv;
    cio_web_server_opts opts;
    cio_http_parse_opts popts;
    char server_field[160]; /* "Server: cio\r\n", or "" */
    size_t server_field_len;
    bool closing;
    struct web_files *files; /* static.c's open-file cache, made at the first static request */
};

/* static.c: open files by the O_NOFOLLOW walk even where openat2 exists (for tests of the older kernels' path). */
void cio__web_static_force_walk(bool walk);
/* static.c: whether one decoded path segment may be served (not empty, ".", ".."; no "/", "\\", NUL, control
   bytes; valid UTF-8; no leading "." unless `hidden`). */
bool cio__web_segment_ok(const char *s, size_t n, bool hidden);
/* listing.c: answer with an HTML listing of the open directory `dirfd`, titled `shown` (the request's path). */
int cio__web_listing(cio_web_response *res, int dirfd, const char *shown, const cio_web_static_opts *o);
/* static.c: free a server's open-file cache (NULL is ignored). */
void cio__web_files_free(struct web_files *files);

/* The worker index of the servers this thread starts (workers.c sets it in each worker thread). */
extern _Thread_local int cio__web_worker_index;

/* Replace `res` by the error page for `rc`, a handler's error (500 for one without a status of its own, logged;
   the connection then closes for a 5xx, 413 or 408). */
int cio__web_answer_error(struct cio_web_request *req, struct cio_web_response *res, int rc);

/* Reserve `n` more bytes at the end of the connection's output. Returns where they go, or NULL (-ENOMEM). */
char *cio__web_out_reserve(struct web_conn *c, size_t n);
/* Write what the connection's output holds. */
int cio__web_out_flush(struct web_conn *c, cio_stream *s);
/* Serialise the response head (and, for a buffered response, its body) into the connection's output. */
int cio__web_response_emit(struct cio_web_response *res);
/* The status line and fields of a response, for a head about to be written: into `w`. */
int cio__web_response_head(struct cio_web_response *res, cio_http_head_out *w, int framing, uint64_t length);
/* "Date: ...\r\n" for the current second (formatted once a second per thread). */
const char *cio__web_date_field(size_t *len);

#endif
