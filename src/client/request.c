/* request.c: one client request from URL to response head: the head built and checked, a connection from the pool,
 * the exchange under the connect and total timeouts, the retry of a stale pooled connection, and redirects. */
#include "client/client.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define REDIRECT_DISCARD ((uint64_t)64 * 1024) /* a redirect's body read to reuse its connection; more: closed */

/* What a request carries from hop to hop of its redirects. */
struct req {
    struct cio_client_session *s;
    char method[CLIENT_MAX_METHOD + 1];
    char *url; /* absolute, without fragment, with the parameters */
    struct client_body body;
    bool expect;            /* Expect: 100-continue */
    int64_t expect_timeout; /* the wait for the 100 */
    const char *const *headers;
    cio_client_timeouts t;
    uint64_t max_size;
    int max_redirects;
    bool allow_downgrade, decode, idempotent;
    bool strip_auth;   /* a redirect went to another origin: Authorization stays behind from then on */
    bool cross_origin; /* a redirect went to another origin: the caller's Cookie fields stay behind too */
    bool conn_close;   /* the caller sent Connection: close */
    bool upgrade;      /* a 101 is the answer asked for */
    char *auth;        /* the Basic credentials' Authorization value, or NULL */
    bool auth_off; /* a redirect went to another origin: `auth` stays behind too (until a Location brings its own) */
    bool cookies;  /* the session's jar is used */
    bool raise;    /* a final status of 400 or above is CIO_ECLIENT_STATUS */
    const char *jar_cookie; /* the jar's cookies for this hop, or NULL */
    int64_t deadline;
    struct client_redirect *history;
    size_t nhistory;
    char **visited; /* "METHOD URL" of every hop, for loop detection */
    size_t nvisited;
    bool proxy_set;             /* the request named its proxy ("" included) */
    struct client_proxy *proxy; /* that proxy (NULL: none) */
    cio_tls_ctx *tls;           /* the request's TLS context, or NULL for the session's */
    int *proxy_status;          /* the caller's, or a dummy */
    int proxy_status_dummy;
};

static bool method_is(const char *m, const char *lit)
{
    return !strcmp(m, lit);
}

static bool idempotent_method(const char *m)
{
    return method_is(m, "GET") || method_is(m, "HEAD") || method_is(m, "OPTIONS") || method_is(m, "PUT") ||
           method_is(m, "DELETE") || method_is(m, "TRACE");
}

/* ------------------------------------------------------------------------------------------------ URLs */

/* The request's absolute URL: joined to the base if relative, the fragment dropped, the parameters appended. */
static int make_url(struct req *q, const char *url, const char *const *params)
{
    cio_url u;
    int rc = cio_url_parse(&u, url, strlen(url));
    char *abs = NULL;
    if (rc == 0)
        abs = cio__strdup(url);
    else if (q->s->base_url && (rc = cio__client_url_join(&abs, q->s->base_url, url)) < 0)
        return rc;
    else if (!q->s->base_url)
        return rc;
    if (!abs)
        return -ENOMEM;
    char *hash = strchr(abs, '#');
    if (hash)
        *hash = 0;
    size_t len = strlen(abs), cap = len + 1;
    bool has_query = strchr(abs, '?') != NULL;
    for (size_t i = 0; params && params[i] && params[i + 1] && rc >= 0; i += 2) {
        rc = cio__client_url_encode(&abs, &len, &cap, has_query ? "&" : "?", true);
        has_query = true;
        if (rc == 0)
            rc = cio__client_url_encode(&abs, &len, &cap, params[i], false);
        if (rc == 0)
            rc = cio__client_url_encode(&abs, &len, &cap, "=", true);
        if (rc == 0)
            rc = cio__client_url_encode(&abs, &len, &cap, params[i + 1], false);
    }
    if (rc < 0) {
        cio__free(abs);
        return rc;
    }
    q->url = abs;
    return 0;
}

/*
 * Take the credentials out of an absolute URL ("scheme://user:password@host..."), in place: `*auth` is their
 * Authorization value (NULL when the URL has none). -EINVAL a user with ':' (as "%3A"), CIO_EHTTP_BAD_URL a bad
 * percent-encoding, -ENOMEM.
 */
static int take_credentials(char *url, char **auth)
{
    *auth = NULL;
    cio_url u;
    if (cio_url_parse(&u, url, strlen(url)) < 0 || !u.userinfo.ptr)
        return 0;
    char *ui = url + (u.userinfo.ptr - url);
    size_t n = u.userinfo.len;
    int rc = 0;
    if (n) {
        const char *colon = memchr(ui, ':', n);
        size_t ul = colon ? (size_t)(colon - ui) : n, pl = colon ? n - ul - 1 : 0;
        char *user = cio__malloc(ul + 1), *pw = cio__malloc(pl + 1);
        ssize_t a = user ? cio_url_decode(user, ul + 1, ui, ul, 0) : -ENOMEM;
        ssize_t b = pw ? cio_url_decode(pw, pl + 1, colon ? colon + 1 : "", pl, 0) : -ENOMEM;
        if (a < 0 || b < 0)
            rc = a == -ENOMEM || b == -ENOMEM ? -ENOMEM : CIO_EHTTP_BAD_URL;
        else
            rc = cio__client_basic_auth(auth, user, (size_t)a, pw, (size_t)b);
        cio__free(user);
        cio__free(pw);
    }
    if (rc == 0)
        memmove(ui, ui + n + 1, strlen(ui + n + 1) + 1); /* "user:password@" goes */
    return rc;
}

/* Where a parsed URL goes: its scheme's TLS, and its port with the scheme's default. */
static int url_target(const cio_url *u, bool *tls, int *port)
{
    if (cio_http_str_ieq(u->scheme, "https"))
        *tls = true;
    else if (cio_http_str_ieq(u->scheme, "http"))
        *tls = false;
    else
        return CIO_ECLIENT_BAD_SCHEME;
    if (!u->host.len)
        return CIO_EHTTP_BAD_HOST;
    *port = u->port >= 0 ? u->port : *tls ? 443 : 80;
    return 0;
}

static bool same_origin(const char *a, const char *b)
{
    cio_url ua, ub;
    bool ta, tb;
    int pa, pb;
    if (cio_url_parse(&ua, a, strlen(a)) < 0 || cio_url_parse(&ub, b, strlen(b)) < 0 || url_target(&ua, &ta, &pa) < 0 ||
        url_target(&ub, &tb, &pb) < 0)
        return false;
    return ta == tb && pa == pb && ua.host.len == ub.host.len && !strncasecmp(ua.host.ptr, ub.host.ptr, ua.host.len);
}

/* ------------------------------------------------------------------------------------------------ heads */

static bool named_in(const char *const *h, const char *name)
{
    for (size_t i = 0; h && h[i] && h[i + 1]; i += 2)
        if (!strcasecmp(h[i], name))
            return true;
    return false;
}

/* Whether the caller sends a field `name`, from the request or the session's defaults. */
static bool named(const struct req *q, const char *name)
{
    return named_in(q->headers, name) || named_in((const char *const *)q->s->headers, name);
}

/* Whether a field of the caller's stays out of this hop's head. `to_proxy`: the request goes to a forward proxy
   in absolute form, the one place a caller's Proxy-Authorization is for. */
static bool skipped(const struct req *q, const char *name, bool to_proxy)
{
    if (q->strip_auth && !strcasecmp(name, "Authorization"))
        return true;
    if (q->jar_cookie && !strcasecmp(name, "Cookie"))
        return true; /* put_cookie sends it, with the jar's */
    /* After a redirect to another origin the caller's cookies are not the new origin's (curl since
       CVE-2022-27776, Go's net/http). */
    if (q->cross_origin && (!strcasecmp(name, "Cookie") || !strcasecmp(name, "Cookie2")))
        return true;
    /* Never to an origin server, directly or through a tunnel. */
    return !to_proxy && !strcasecmp(name, "Proxy-Authorization");
}

/* One Cookie field: the caller's (the request's, else the session's), then the jar's after "; ". */
static int put_cookie(const struct req *q, cio_http_head_out *w)
{
    const char *const *own = q->cross_origin                  ? NULL
                             : named_in(q->headers, "Cookie") ? q->headers
                                                              : (const char *const *)q->s->headers;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; own && own[i] && own[i + 1] && rc == 0; i += 2) {
        if (strcasecmp(own[i], "Cookie"))
            continue;
        rc = cio__client_url_encode(&buf, &len, &cap, own[i + 1], true);
        if (rc == 0)
            rc = cio__client_url_encode(&buf, &len, &cap, "; ", true);
    }
    if (rc == 0)
        rc = cio__client_url_encode(&buf, &len, &cap, q->jar_cookie, true);
    if (rc == 0)
        (void)cio_http_head_out_header(w, "Cookie", buf);
    cio__free(buf);
    return rc;
}

/* The Host value: the URL's host (IPv6 in brackets) and its port unless it is the scheme's default; 0 for a host
   too long to send. */
static size_t host_value(char *buf, size_t cap, const cio_url *u, bool tls, int port)
{
    size_t n = 0;
    if (u->host.len > 256 || cap < 300)
        return 0;
    if (u->ipv6)
        buf[n++] = '[';
    memcpy(buf + n, u->host.ptr, u->host.len);
    n += u->host.len;
    if (u->ipv6)
        buf[n++] = ']';
    if (u->port >= 0 && port != (tls ? 443 : 80)) {
        /* ":port" by hand: snprintf's format parsing was a visible part of a small request's cost. */
        char digits[8];
        size_t d = 0;
        unsigned v = (unsigned)port;
        do
            digits[d++] = (char)('0' + v % 10);
        while ((v /= 10) && d < sizeof digits);
        buf[n++] = ':';
        while (d)
            buf[n++] = digits[--d];
    }
    return n;
}

/* Whether the request waits for a 100 before its body: asked for, and a body to hold back. */
static bool expects(const struct req *q)
{
    uint64_t len;
    int framing = cio__client_body_framing(&q->body, &len);
    return q->expect && (framing == CIO_HTTP_BODY_CHUNKED || (framing == CIO_HTTP_BODY_LENGTH && len > 0));
}

/* Host, as host_value says. */
static void put_host(cio_http_head_out *w, const cio_url *u, bool tls, int port)
{
    char buf[300];
    size_t n = host_value(buf, sizeof buf, u, tls, port);
    if (n == 0)
        (void)cio_http_head_out_header_n(w, "Host", 4, "\r", 1); /* refused: makes the head's error stick */
    else
        (void)cio_http_head_out_header_n(w, "Host", 4, buf, n);
}

/* The request target: the origin form ("/p?q"), or with `px` (plain http through a proxy) the absolute form. */
static char *make_target(const cio_url *u, bool tls, int port, const struct client_proxy *px)
{
    char pre[310];
    size_t prelen = 0;
    if (px) {
        memcpy(pre, "http://", 7);
        size_t hn = host_value(pre + 7, sizeof pre - 7, u, tls, port);
        prelen = hn ? 7 + hn : 0; /* a host too long: put_host makes the head fail anyway */
    }
    size_t plen = u->path.len ? u->path.len : 1;
    size_t tlen = prelen + plen + (u->query.ptr ? 1 + u->query.len : 0);
    char *target = cio__malloc(tlen + 1);
    if (!target)
        return NULL;
    memcpy(target, pre, prelen);
    memcpy(target + prelen, u->path.len ? u->path.ptr : "/", plen);
    if (u->query.ptr) {
        target[prelen + plen] = '?';
        memcpy(target + prelen + plen + 1, u->query.ptr, u->query.len);
    }
    target[tlen] = 0;
    return target;
}

static ssize_t build_head(const struct req *q, const cio_url *u, bool tls, int port, const struct client_proxy *px,
                          cio_http_head_out *w)
{
    const struct cio_client_session *s = q->s;
    bool to_proxy = !tls && px;
    char *target = make_target(u, tls, port, tls ? NULL : px);
    if (!target)
        return -ENOMEM;
    cio_http_head_out_init(w, NULL, 0);
    (void)cio_http_head_out_request(w, q->method, target, 1);
    cio__free(target);
    put_host(w, u, tls, port);
    if (!tls && px && px->auth && !named(q, "Proxy-Authorization"))
        (void)cio_http_head_out_header(w, "Proxy-Authorization", px->auth);
    for (size_t i = 0; i < s->nheaders; i++) {
        const char *name = s->headers[2 * i];
        if (!named_in(q->headers, name) && !skipped(q, name, to_proxy) &&
            !(q->body.kind == CLIENT_BODY_MULTIPART && !strcasecmp(name, "Content-Type")))
            (void)cio_http_head_out_header(w, name, s->headers[2 * i + 1]);
    }
    for (size_t i = 0; q->headers && q->headers[i] && q->headers[i + 1]; i += 2)
        if (!skipped(q, q->headers[i], to_proxy))
            (void)cio_http_head_out_header(w, q->headers[i], q->headers[i + 1]);
    if (q->auth && !q->auth_off)
        (void)cio_http_head_out_header(w, "Authorization", q->auth);
    if (q->jar_cookie) {
        int rc = put_cookie(q, w);
        if (rc < 0)
            return rc;
    }
    if (s->user_agent && !named(q, "User-Agent"))
        (void)cio_http_head_out_header(w, "User-Agent", s->user_agent);
    if (!named(q, "Accept"))
        (void)cio_http_head_out_header(w, "Accept", "*/*");
    if (q->decode && !named(q, "Accept-Encoding"))
        (void)cio_http_head_out_header(w, "Accept-Encoding", "gzip, deflate, br, zstd");
    if (q->body.content_type && !named(q, "Content-Type"))
        (void)cio_http_head_out_header(w, "Content-Type", q->body.content_type);
    uint64_t len;
    int framing = cio__client_body_framing(&q->body, &len);
    if (framing == CIO_HTTP_BODY_CHUNKED)
        (void)cio_http_head_out_header(w, "Transfer-Encoding", "chunked");
    else if (framing != CIO_HTTP_BODY_NONE || method_is(q->method, "POST") || method_is(q->method, "PUT") ||
             method_is(q->method, "PATCH"))
        (void)cio_http_head_out_header_u64(w, "Content-Length", len);
    if (expects(q))
        (void)cio_http_head_out_header(w, "Expect", "100-continue");
    return cio_http_head_out_end(w);
}

/* ------------------------------------------------------------------------------------------------ responses */

static int response_new(struct req *q, struct cio_client_response **out)
{
    struct cio_client_session *s = q->s;
    struct cio_client_response *r = cio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->magic = CLIENT_RESPONSE_MAGIC;
    r->session = s;
    s->refs++;
    cio__list_insert_tail(&s->responses, &r->node);
    r->deadline = q->deadline;
    memcpy(r->method, q->method, sizeof r->method);
    /* The parser writes each field before anything reads it: no need to zero max_headers entries per response. */
    size_t nf = s->o.max_headers;
    if (!(r->url = cio__strdup(q->url)) || nf > SIZE_MAX / sizeof(*r->fields) ||
        !(r->fields = cio__malloc(nf * sizeof(*r->fields)))) {
        cio__client_response_free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

static void rebase_str(cio_http_str *v, const char *from, size_t len, char *to)
{
    static char empty[] = "";
    if (v->ptr >= from && v->ptr < from + len) {
        v->ptr = to + (v->ptr - from);
        ((char *)v->ptr)[v->len] = 0; /* over the ':', whitespace or CR after it */
    } else {
        v->ptr = empty;
        v->len = 0;
    }
}

/* Keep the head (`hl` bytes in the stream's buffer, which `r->head` points into) in memory of the response's own. */
static int keep_head(struct cio_client_response *r, cio_stream *st, size_t hl)
{
    const void *v;
    size_t n;
    int rc = cio_stream_peek(st, 0, &v, &n);
    if (rc < 0)
        return rc;
    CIO_ASSERT(n >= hl);
    if (!(r->raw = cio__malloc(hl + 1)))
        return -ENOMEM;
    memcpy(r->raw, v, hl);
    r->raw[hl] = 0;
    rebase_str(&r->head.reason, v, hl, r->raw);
    for (size_t i = 0; i < r->head.num_headers; i++) {
        rebase_str(&r->head.headers[i].name, v, hl, r->raw);
        rebase_str(&r->head.headers[i].value, v, hl, r->raw);
    }
    r->head.method = r->head.target = (cio_http_str){0};
    return 0;
}

/* Read the final response head (skipping 1xx) and open its body. */
static int read_response(const struct req *q, struct cio_client_response *r, cio_stream *st)
{
    ssize_t hl;
    for (;;) {
        cio_http_head_init(&r->head, r->fields, q->s->o.max_headers);
        if ((hl = cio_http_read_response(st, &r->head, NULL)) < 0)
            return hl == CIO_EPEERCLOSED ? CIO_ECLIENT_DISCONNECTED : (int)hl;
        if (r->head.status == 101) {
            if (!q->upgrade)
                return CIO_ECLIENT_UNSOLICITED_101;
            /* The switch: no body; what follows the head is the new protocol's, left in the stream. */
            int rc = keep_head(r, st, (size_t)hl);
            if (rc == 0)
                rc = cio_stream_consume(st, (size_t)hl);
            r->upgraded = rc == 0;
            r->keep = false;
            return rc;
        }
        if (r->head.status >= 200)
            break;
        int rc = cio_stream_consume(st, (size_t)hl); /* 100 Continue, 103 Early Hints: not the answer */
        if (rc < 0)
            return rc;
    }
    int rc = keep_head(r, st, (size_t)hl);
    if (rc < 0)
        return rc;
    uint64_t len;
    int framing = cio_http_response_body(&r->head, r->method, &len);
    r->keep = cio_http_keep_alive(&r->head) && framing != CIO_HTTP_BODY_UNTIL_CLOSE &&
              framing != CIO_HTTP_BODY_TUNNEL && !q->conn_close;
    if (framing == CIO_HTTP_BODY_NONE || (framing == CIO_HTTP_BODY_LENGTH && len == 0))
        return cio_stream_consume(st, (size_t)hl); /* nothing to read: done at once */
    cio_http_body_opts bo = {.max_size = q->max_size, .skip = (size_t)hl, .decode = q->decode};
    rc = cio_http_body_init_response(&r->body, st, &r->head, r->method, &bo);
    if (rc == CIO_EHTTP_BODY_TOO_LARGE) {
        /* A declared length above the limit: the head is still a response; reading its body is the error. */
        r->body_err = CIO_EHTTP_BODY_LIMIT;
        return 0;
    }
    if (rc < 0)
        return rc;
    r->body_open = true;
    return 0;
}

/* Wait for the response's first byte: 0, or CIO_ECLIENT_DISCONNECTED when the server closed first. */
static int first_byte(cio_stream *st)
{
    const void *v;
    size_t n;
    int rc = cio_stream_peek(st, 1, &v, &n);
    return rc > 0 ? 0 : rc == 0 ? CIO_ECLIENT_DISCONNECTED : rc;
}

/*
 * Expect: 100-continue: wait, within the expect timeout, for the server's 100 (consumed: 0) or a final answer
 * (left in the stream, *final set, the body then not sent). An expiry is 0: the body goes anyway. Other 1xx
 * (103) are skipped on the way.
 */
static int await_continue(const struct req *q, struct cio_client_response *r, cio_stream *st, bool *final)
{
    *final = false;
    for (;;) {
        cio_scope sc;
        int rc = cio_timeout_begin(&sc, q->expect_timeout);
        if (rc < 0)
            return rc;
        rc = first_byte(st);
        if (cio_scope_end(&sc) == -ETIMEDOUT)
            return 0;
        if (rc < 0)
            return rc;
        cio_http_head_init(&r->head, r->fields, q->s->o.max_headers);
        ssize_t hl = cio_http_read_response(st, &r->head, NULL);
        if (hl < 0)
            return hl == CIO_EPEERCLOSED ? CIO_ECLIENT_DISCONNECTED : (int)hl;
        if (r->head.status >= 200 || r->head.status == 101) {
            *final = true; /* read again, as the response, by read_response */
            return 0;
        }
        if ((rc = cio_stream_consume(st, (size_t)hl)) < 0)
            return rc;
        if (r->head.status == 100)
            return 0;
    }
}

/*
 * One try: a connection (fresh, for a retry), the request written, the response head read. `*retry` says that it
 * failed on a reused connection before the response's first byte: the server had closed it (or was closing it).
 */
static int attempt(const struct req *q, struct client_host *h, struct cio_client_response *r, const char *head,
                   size_t hlen, bool fresh, bool *retry)
{
    bool reused;
    cio_scope sc;
    int rc = cio_timeout_begin(&sc, q->t.connect);
    if (rc < 0)
        return rc;
    rc = cio__client_acquire(q->s, h, &q->t, fresh, &r->conn, &reused, q->proxy_status);
    int src = cio_scope_end(&sc);
    if (rc < 0)
        return src == -ETIMEDOUT ? CIO_ECLIENT_CONNECT_TIMEOUT : rc;
    cio_stream *st = r->conn->s;
    const cio_client_trace *tr = &q->s->trace;
    if (reused && tr->connection_reuse) {
        tr->connection_reuse(q->s->trace_arg, h->name, h->port);
    } else if (!reused && tr->connection_create) {
        cio_addr peer = {0};
        (void)cio_stream_peer_addr(st, &peer);
        tr->connection_create(q->s->trace_arg, h->name, h->port, &peer);
    }
    (void)cio_stream_set_read_timeout(st, q->t.sock_read == CIO_INFINITE ? 0 : q->t.sock_read);
    rc = cio_stream_write(st, head, hlen);
    bool final = false;
    if (rc == 0 && expects(q)) {
        if ((rc = await_continue(q, r, st, &final)) < 0) {
            *retry = reused && (rc == CIO_ECLIENT_DISCONNECTED || rc == -ECONNRESET || rc == -EPIPE);
            return rc;
        }
    }
    if (rc == 0 && !final)
        rc = cio__client_body_send(&q->body, st);
    if (rc < 0) {
        *retry = reused && (rc == -EPIPE || rc == -ECONNRESET);
        return rc;
    }
    if (final) {
        /* The answer came before the body, which was never sent: the server cannot be relied on to know where
           this request ends, so the connection goes with this response. */
        rc = read_response(q, r, st);
        r->keep = false;
        return rc;
    }
    /* The first byte on its own, so that "nothing came" is known for sure. */
    rc = first_byte(st);
    if (rc < 0) {
        *retry = reused && (rc == CIO_ECLIENT_DISCONNECTED || rc == -ECONNRESET);
        return rc;
    }
    return read_response(q, r, st);
}

/* Send the request and read the head, once more on a fresh connection when a reused one was stale and the request
   may be sent twice. */
static int exchange(const struct req *q, struct client_host *h, struct cio_client_response *r, const char *head,
                    size_t hlen)
{
    for (int tries = 0;; tries++) {
        bool retry = false;
        int rc = attempt(q, h, r, head, hlen, tries > 0, &retry);
        if (rc == 0)
            return 0;
        if (r->body_open) {
            cio_http_body_fini(&r->body);
            r->body_open = false;
        }
        if (r->conn) {
            cio__client_conn_close(q->s, r->conn);
            r->conn = NULL;
        }
        cio__free(r->raw);
        r->raw = NULL;
        if (retry && tries == 0 && q->idempotent && q->body.kind != CLIENT_BODY_PRODUCER && !r->err)
            continue;
        return rc;
    }
}

/* ------------------------------------------------------------------------------------------------ redirects */

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int visit(struct req *q)
{
    size_t ml = strlen(q->method), ul = strlen(q->url);
    char *key = cio__malloc(ml + 1 + ul + 1);
    if (!key)
        return -ENOMEM;
    /* "METHOD URL", copied (every request records one: snprintf here cost more than the copies). */
    memcpy(key, q->method, ml);
    key[ml] = ' ';
    memcpy(key + ml + 1, q->url, ul + 1);
    for (size_t i = 0; i < q->nvisited; i++) {
        if (!strcmp(q->visited[i], key)) {
            cio__free(key);
            return CIO_ECLIENT_REDIRECT_LOOP;
        }
    }
    char **nv = cio__realloc(q->visited, (q->nvisited + 1) * sizeof(*nv));
    if (!nv) {
        cio__free(key);
        return -ENOMEM;
    }
    q->visited = nv;
    q->visited[q->nvisited++] = key;
    return 0;
}

/* Read (up to a little) and drop a redirect's body, so that its connection can serve the next hop. */
static void drain_redirect(struct cio_client_response *r)
{
    const void *p;
    size_t n;
    uint64_t got = 0;
    while (got <= REDIRECT_DISCARD && cio_client_response_next(r, &p, &n) == 1)
        got += n;
}

/* Follow the redirect `r` answered with: the next URL and method, or an error. */
static int follow(struct req *q, struct cio_client_response *r, const char *location)
{
    char *next;
    int rc = cio__client_url_join(&next, q->url, location);
    if (rc < 0)
        return rc == -ENOMEM ? rc : CIO_ECLIENT_BAD_LOCATION;
    char *hash = strchr(next, '#');
    if (hash)
        *hash = 0;
    char *auth;
    if ((rc = take_credentials(next, &auth)) < 0) {
        cio__free(next);
        return rc == -ENOMEM ? rc : CIO_ECLIENT_BAD_LOCATION;
    }
    cio_url u;
    bool tls, was_tls = !strncasecmp(q->url, "https:", 6);
    int port;
    if (cio_url_parse(&u, next, strlen(next)) < 0)
        rc = CIO_ECLIENT_BAD_LOCATION;
    else
        rc = url_target(&u, &tls, &port);
    if (rc == 0 && was_tls && !tls && !q->allow_downgrade)
        rc = CIO_ECLIENT_REDIRECT_DOWNGRADE;
    struct client_redirect *nh = rc == 0 ? cio__realloc(q->history, (q->nhistory + 1) * sizeof(*nh)) : NULL;
    if (rc == 0 && !nh)
        rc = -ENOMEM;
    if (rc < 0) {
        cio__free(auth);
        cio__free(next);
        return rc;
    }
    q->history = nh;
    q->history[q->nhistory].status = r->head.status;
    q->history[q->nhistory].url = r->url; /* the response's copy changes hands */
    r->url = NULL;
    q->nhistory++;
    int status = r->head.status;
    /* A producer's stream cannot be sent twice: a 301 or 302 turns any method with one into a GET, as a POST is
       (307 and 308 make the 3xx itself the response, see run). */
    if ((status == 303 && !method_is(q->method, "HEAD")) ||
        ((status == 301 || status == 302) && (method_is(q->method, "POST") || q->body.kind == CLIENT_BODY_PRODUCER))) {
        strcpy(q->method, "GET");
        cio__client_body_close(&q->body);
    }
    if (!same_origin(q->url, next))
        q->strip_auth = q->auth_off = q->cross_origin = true;
    if (auth) { /* the Location's own credentials, for where it points */
        cio__free(q->auth);
        q->auth = auth;
        q->auth_off = false;
        q->strip_auth = true;
    }
    cio__free(q->url);
    q->url = next;
    return visit(q);
}

/* ------------------------------------------------------------------------------------------------ requests */

/* The proxy for a URL: the request's, else the session's, else (trust_env) the environment's unless no_proxy
   sends the host direct; never one for a Unix socket session. */
static struct client_proxy *pick_proxy(const struct req *q, const cio_url *u, bool tls, int port)
{
    const struct cio_client_session *s = q->s;
    if (s->use_unix)
        return NULL;
    if (q->proxy_set)
        return q->proxy;
    if (s->proxy_set)
        return s->proxy;
    struct client_proxy *px = tls ? s->env_https : s->env_http;
    if (px && cio__client_no_proxy(s, u->host.ptr, u->host.len, port))
        return NULL;
    return px;
}

/* One hop: the URL's connection and head, the exchange. */
static int hop(struct req *q, struct cio_client_response **out)
{
    *out = NULL;
    cio_url u;
    bool tls = false;
    int port = 0;
    int rc = cio_url_parse(&u, q->url, strlen(q->url));
    if (rc == 0)
        rc = url_target(&u, &tls, &port);
    cio_tls_ctx *ctx = q->tls;
    if (rc == 0 && tls && !ctx)
        rc = cio__client_tls(q->s, &ctx);
    if (rc < 0)
        return rc;
    if (!tls)
        ctx = NULL;
    struct client_proxy *px = pick_proxy(q, &u, tls, port);
    char *jar = NULL;
    if (q->cookies && (rc = cio__client_jar_header(q->s->jar, &u, &jar)) < 0)
        return rc;
    q->jar_cookie = jar;
    cio_http_head_out w = {0}; /* fini'd below even when build_head fails before its init */
    ssize_t hl = build_head(q, &u, tls, port, px, &w);
    q->jar_cookie = NULL;
    cio__free(jar);
    if (hl < 0) {
        cio_http_head_out_fini(&w);
        return (int)hl;
    }
    struct client_host *h = cio__client_host_get(q->s, tls, u.host.ptr, u.host.len, port, ctx, px);
    struct cio_client_response *r = NULL;
    rc = h ? response_new(q, &r) : -ENOMEM;
    if (rc == 0)
        rc = exchange(q, h, r, w.buf, (size_t)hl);
    if (h)
        cio__client_host_put(h);
    cio_http_head_out_fini(&w);
    if (rc < 0 && r) {
        rc = r->err ? r->err : rc;
        cio__client_response_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

/* Store a response's Set-Cookie fields against the URL that answered. A cookie the jar refuses is dropped, as a
   browser drops it: the response is no less a response. */
static void store_cookies(struct req *q, const struct cio_client_response *r)
{
    cio_url u;
    if (!q->cookies || cio_url_parse(&u, r->url, strlen(r->url)) < 0)
        return;
    const char *v;
    for (size_t i = 0; (v = cio_client_response_header_nth(r, "Set-Cookie", i)); i++)
        (void)cio__client_jar_store(q->s->jar, &u, v, strlen(v));
}

static int run(struct req *q, struct cio_client_response **out)
{
    int rc = visit(q);
    for (int hops = 0; rc == 0; hops++) {
        struct cio_client_response *r;
        if ((rc = hop(q, &r)) < 0)
            break;
        store_cookies(q, r);
        const char *location = cio_client_response_header(r, "Location");
        /* A producer's stream is spent: a 307 or 308, which would send it again, is the answer. */
        bool resend = r->head.status == 307 || r->head.status == 308;
        if (q->max_redirects < 0 || !is_redirect(r->head.status) || !location ||
            (resend && q->body.kind == CLIENT_BODY_PRODUCER)) {
            r->history = q->history;
            r->nhistory = q->nhistory;
            q->history = NULL;
            q->nhistory = 0;
            *out = r;
            return 0;
        }
        if (hops == q->max_redirects)
            rc = CIO_ECLIENT_TOO_MANY_REDIRECTS;
        else
            rc = follow(q, r, location);
        if (rc == 0) {
            if (q->s->trace.redirect)
                q->s->trace.redirect(q->s->trace_arg, r->head.status, q->history[q->nhistory - 1].url, q->url);
            drain_redirect(r);
            (void)cio_client_response_release(r);
        } else {
            cio__client_response_free(r);
        }
    }
    return rc;
}

/* The request's own headers: pairs, and none of those the client writes itself. */
static int check_headers(const char *const *h)
{
    size_t i = 0;
    for (; h && h[i]; i++)
        if (i % 2 == 0 && (!strcasecmp(h[i], "Host") || !strcasecmp(h[i], "Content-Length") ||
                           !strcasecmp(h[i], "Transfer-Encoding") || !strcasecmp(h[i], "Expect")))
            return -EINVAL;
    return i % 2 ? CIO_EHTTP_BAD_FIELD : 0;
}

static bool asks_close(const char *const *h)
{
    for (size_t i = 0; h && h[i] && h[i + 1]; i += 2) {
        cio_http_str v = {h[i + 1], strlen(h[i + 1])};
        if (!strcasecmp(h[i], "Connection") && cio_http_list_has(v, "close"))
            return true;
    }
    return false;
}

/* Upgrade and a Connection field listing "upgrade" among the headers: the caller asks to switch protocols. */
static bool asks_upgrade(const char *const *h)
{
    bool upgrade = false, conn = false;
    for (size_t i = 0; h && h[i] && h[i + 1]; i += 2) {
        cio_http_str v = {h[i + 1], strlen(h[i + 1])};
        if (!strcasecmp(h[i], "Upgrade") && v.len)
            upgrade = true;
        else if (!strcasecmp(h[i], "Connection") && cio_http_list_has(v, "upgrade"))
            conn = true;
    }
    return upgrade && conn;
}

static int64_t pick(int64_t req, int64_t sess)
{
    return req ? req : sess;
}

static int req_init(struct req *q, struct cio_client_session *s, const char *method, const cio_client_request_opts *o)
{
    size_t ml = strlen(method);
    if (ml == 0 || ml > CLIENT_MAX_METHOD)
        return -EINVAL;
    for (size_t i = 0; i < ml; i++)
        if (!cio_http_is_tchar((unsigned char)method[i]))
            return -EINVAL;
    memcpy(q->method, method, ml + 1);
    q->s = s;
    q->proxy_status = &q->proxy_status_dummy;
    q->t = s->o.timeout;
    q->max_size = s->o.max_size;
    q->max_redirects = s->o.max_redirects;
    q->decode = !s->o.no_decompress;
    if (o) {
        int rc = check_headers(o->headers);
        if (rc < 0)
            return rc;
        const int64_t ts[] = {o->timeout.total, o->timeout.connect, o->timeout.sock_connect, o->timeout.sock_read};
        for (size_t i = 0; i < 4; i++)
            if (ts[i] < 0 && ts[i] != CIO_INFINITE)
                return -EINVAL;
        if (o->expect_timeout < 0 && o->expect_timeout != CIO_INFINITE)
            return -EINVAL;
        if ((o->parts || o->nparts) && named_in(o->headers, "Content-Type"))
            return -EINVAL; /* the boundary is the client's */
        q->t.total = pick(o->timeout.total, q->t.total);
        q->t.connect = pick(o->timeout.connect, q->t.connect);
        q->t.sock_connect = pick(o->timeout.sock_connect, q->t.sock_connect);
        q->t.sock_read = pick(o->timeout.sock_read, q->t.sock_read);
        q->headers = o->headers;
        q->expect = o->expect_continue;
        q->expect_timeout = o->expect_timeout ? o->expect_timeout : CIO_SEC(1);
        if (o->max_size)
            q->max_size = o->max_size;
        if (o->max_redirects)
            q->max_redirects = o->max_redirects;
        q->allow_downgrade = o->allow_downgrade;
        if (o->decompress)
            q->decode = o->decompress > 0;
        q->tls = o->tls;
        if (o->proxy_status)
            q->proxy_status = o->proxy_status;
        if (o->proxy) {
            if (s->use_unix && *o->proxy)
                return -EINVAL;
            q->proxy_set = true;
            if ((rc = cio__client_proxy_get(s, o->proxy, &q->proxy)) < 0)
                return rc;
        }
    }
    q->idempotent = idempotent_method(q->method) || (o && o->idempotent);
    q->cookies = s->jar && !(o && o->no_cookies);
    q->raise = o && o->raise_for_status ? o->raise_for_status > 0 : s->o.raise_for_status;
    q->conn_close = asks_close(q->headers) || asks_close((const char *const *)s->headers);
    q->upgrade = (o && o->upgrade) || asks_upgrade(q->headers);
    int64_t now = cio_now();
    q->deadline = q->t.total == CIO_INFINITE || q->t.total > INT64_MAX - now ? INT64_MAX : now + q->t.total;
    return 0;
}

/*
 * The credentials: the URL's, or the request's (not both), else the session's (only to the base URL's origin when
 * there is one, as aiohttp); none of them together with an Authorization field.
 */
static int setup_auth(struct req *q, const cio_client_request_opts *o)
{
    char *from_url;
    int rc = take_credentials(q->url, &from_url);
    if (rc < 0)
        return rc;
    const struct cio_client_session *s = q->s;
    bool own = o && o->auth_user;
    if ((o && o->auth_password && !o->auth_user) || (from_url && own))
        rc = -EINVAL;
    else if (from_url)
        q->auth = from_url, from_url = NULL;
    else if (own)
        rc = cio__client_basic_auth(&q->auth, o->auth_user, strlen(o->auth_user),
                                    o->auth_password ? o->auth_password : "",
                                    o->auth_password ? strlen(o->auth_password) : 0);
    else if (s->auth && (!s->base_url || same_origin(s->base_url, q->url)) && !(q->auth = cio__strdup(s->auth)))
        rc = -ENOMEM;
    cio__free(from_url);
    if (rc == 0 && q->auth && named(q, "Authorization"))
        rc = -EINVAL;
    return rc;
}

static void req_fini(struct req *q)
{
    cio__free(q->auth);
    cio__client_body_close(&q->body);
    cio__free(q->url);
    for (size_t i = 0; i < q->nhistory; i++)
        cio__free(q->history[i].url);
    cio__free(q->history);
    for (size_t i = 0; i < q->nvisited; i++)
        cio__free(q->visited[i]);
    cio__free(q->visited);
}

int cio_client_request(cio_client_session *s, const char *method, const char *url, const cio_client_request_opts *opts,
                       cio_client_response **resp)
{
    if (!resp)
        return -EINVAL;
    *resp = NULL;
    if (!s || s->magic != CLIENT_SESSION_MAGIC || !method || !url)
        return -EINVAL;
    if (s->closed)
        return CIO_ECLIENT_CLOSED;
    if (opts && opts->status)
        *opts->status = 0;
    struct req q = {0};
    s->refs++; /* the session's memory stays while the request runs, even if another task closes it */
    int rc = req_init(&q, s, method, opts);
    if (opts && opts->proxy_status)
        *opts->proxy_status = 0;
    if (rc == 0)
        rc = make_url(&q, url, opts ? opts->params : NULL);
    if (rc == 0)
        rc = setup_auth(&q, opts);
    if (rc == 0)
        rc = cio__client_body_open(&q.body, opts);
    if (rc < 0) {
        req_fini(&q);
        cio__client_session_unref(s);
        return rc;
    }
    /* The total timeout bounds everything from here (the body's reads take the same deadline with them), and the
       scope is where cio_client_session_close reaches a request still connecting: it cancels it. */
    cio_scope sc;
    rc = q.deadline != INT64_MAX ? cio_deadline_begin(&sc, q.deadline) : cio_timeout_begin(&sc, CIO_INFINITE);
    if (rc < 0) {
        req_fini(&q);
        cio__client_session_unref(s);
        return rc;
    }
    struct client_inflight in = {.scope = &sc};
    cio__list_insert_tail(&s->inflight, &in.node);
    if (s->trace.request_start)
        s->trace.request_start(s->trace_arg, q.method, q.url);
    rc = run(&q, resp);
    cio__list_remove(&in.node);
    int src = cio_scope_end(&sc);
    rc = cio__client_map_error(NULL, rc, src);
    if (rc < 0 && s->closed)
        rc = CIO_ECLIENT_CLOSED;
    /* The trace sees the status that came, also when raise_for_status turns it into an error below. */
    if (s->trace.request_end)
        s->trace.request_end(s->trace_arg, q.method, q.url, rc < 0 ? rc : (*resp)->head.status);
    if (rc == 0) {
        int status = (*resp)->head.status;
        if (opts && opts->status)
            *opts->status = status;
        if (q.raise && status >= 400) {
            /* Pooled if nothing of a body is left to read (none, or an empty one); closed otherwise. */
            (void)cio_client_response_release(*resp);
            *resp = NULL;
            rc = CIO_ECLIENT_STATUS;
        }
    }
    req_fini(&q);
    cio__client_session_unref(s);
    return rc;
}

int cio_client_get(cio_client_session *s, const char *url, cio_client_response **resp)
{
    return cio_client_request(s, "GET", url, NULL, resp);
}
