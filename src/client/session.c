/* session.c: client sessions: their options checked and copied, the resolve overrides, the TLS context, and a
 * lifetime that lasts until the caller's close and the last response's release, whichever comes last. */
#include "client/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#ifndef CIO_VERSION_STRING
#define CIO_VERSION_STRING "0"
#endif

#define DEFAULT_LIMIT       100
#define DEFAULT_KEEPALIVE   CIO_SEC(15)
#define DEFAULT_TOTAL       CIO_SEC(300)
#define DEFAULT_CONNECT     CIO_SEC(30)
#define DEFAULT_SOCK_READ   CIO_SEC(60)
#define DEFAULT_MAX_SIZE    ((uint64_t)1 << 30)
#define DEFAULT_REDIRECTS   10
#define DEFAULT_MAX_HEADERS 100

/* A timeout option: 0 takes `def`, CIO_INFINITE stays, any other negative value is refused. */
static int timeout_opt(int64_t *t, int64_t def)
{
    if (*t == 0)
        *t = def;
    return *t < 0 && *t != CIO_INFINITE ? -EINVAL : 0;
}

/* Copy a NULL-terminated name/value array, each field checked as the head writer will check it. */
static int copy_headers(struct cio_client_session *s, const char *const *src)
{
    size_t n = 0;
    while (src[n])
        n++;
    if (n % 2)
        return CIO_EHTTP_BAD_FIELD;
    for (size_t i = 0; i < n; i += 2)
        if (!strcasecmp(src[i], "Host") || !strcasecmp(src[i], "Content-Length") ||
            !strcasecmp(src[i], "Transfer-Encoding"))
            return -EINVAL; /* the client's own */
    cio_http_head_out w;
    cio_http_head_out_init(&w, NULL, 0);
    (void)cio_http_head_out_request(&w, "GET", "/", 1);
    for (size_t i = 0; i < n; i += 2)
        (void)cio_http_head_out_header(&w, src[i], src[i + 1]);
    ssize_t rc = cio_http_head_out_end(&w);
    cio_http_head_out_fini(&w);
    if (rc < 0)
        return (int)rc;
    if (!(s->headers = cio__calloc(n + 1, sizeof(char *))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(s->headers[i] = cio__strdup(src[i])))
            return -ENOMEM;
    s->nheaders = n / 2;
    return 0;
}

/* "host:port:address", the address numeric, IPv6 with or without brackets. */
static int parse_resolve(struct resolve_entry *e, const char *spec)
{
    const char *c1 = strchr(spec, ':');
    if (!c1 || c1 == spec)
        return CIO_ECLIENT_BAD_RESOLVE;
    const char *c2 = strchr(c1 + 1, ':');
    if (!c2 || c2 == c1 + 1 || c2 - c1 - 1 > 5)
        return CIO_ECLIENT_BAD_RESOLVE;
    int port = 0;
    for (const char *p = c1 + 1; p < c2; p++) {
        if (!isdigit((unsigned char)*p))
            return CIO_ECLIENT_BAD_RESOLVE;
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535 || cio_addr_parse(&e->addr, c2 + 1, port) < 0)
        return CIO_ECLIENT_BAD_RESOLVE;
    size_t hlen = (size_t)(c1 - spec);
    if (!(e->host = cio__malloc(hlen + 1)))
        return -ENOMEM;
    for (size_t i = 0; i < hlen; i++)
        e->host[i] = (char)tolower((unsigned char)spec[i]);
    e->host[hlen] = 0;
    e->port = port;
    return 0;
}

static int copy_resolve(struct cio_client_session *s, const char *const *src)
{
    size_t n = 0;
    while (src[n])
        n++;
    if (!n)
        return 0;
    if (!(s->resolve = cio__calloc(n, sizeof(*s->resolve))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = parse_resolve(&s->resolve[i], src[i]);
        if (rc < 0)
            return rc;
        s->nresolve++;
    }
    return 0;
}

/* A base URL must be absolute and http or https. */
static int check_base(const char *base)
{
    cio_url u;
    int rc = cio_url_parse(&u, base, strlen(base));
    if (rc < 0)
        return rc;
    if (!cio_http_str_ieq(u.scheme, "http") && !cio_http_str_ieq(u.scheme, "https"))
        return CIO_ECLIENT_BAD_SCHEME;
    return 0;
}

static void session_free(struct cio_client_session *s)
{
    cio__client_pool_free(s);
    for (size_t i = 0; s->headers && s->headers[i]; i++)
        cio__free(s->headers[i]);
    cio__free(s->headers);
    for (size_t i = 0; i < s->nresolve; i++)
        cio__free(s->resolve[i].host);
    cio__free(s->resolve);
    cio__free(s->base_url);
    cio__free(s->user_agent);
    cio__free(s->auth);
    cio__client_jar_free(s->jar);
    if (s->own_tls)
        cio_tls_ctx_free(s->tls);
    s->magic = 0;
    cio__free(s);
}

static int fill_opts(struct cio_client_session *s, const cio_client_session_opts *opts)
{
    cio_client_session_opts *o = &s->o;
    if (opts)
        *o = *opts;
    if (o->tls && o->tls_opts)
        return -EINVAL;
    if (o->keepalive_timeout < 0 && o->keepalive_timeout != CIO_INFINITE)
        return -EINVAL;
    if (!o->limit)
        o->limit = DEFAULT_LIMIT;
    if (!o->keepalive_timeout)
        o->keepalive_timeout = DEFAULT_KEEPALIVE;
    if (!o->max_size)
        o->max_size = DEFAULT_MAX_SIZE;
    if (!o->max_redirects)
        o->max_redirects = DEFAULT_REDIRECTS;
    if (!o->max_headers)
        o->max_headers = DEFAULT_MAX_HEADERS;
    cio_client_timeouts *t = &o->timeout;
    int rc = timeout_opt(&t->total, DEFAULT_TOTAL);
    if (rc == 0)
        rc = timeout_opt(&t->connect, DEFAULT_CONNECT);
    if (rc == 0)
        rc = timeout_opt(&t->sock_connect, CIO_INFINITE);
    if (rc == 0)
        rc = timeout_opt(&t->sock_read, DEFAULT_SOCK_READ);
    return rc;
}

int cio_client_session_new(cio_client_session **out, const cio_client_session_opts *opts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cio_loop_current())
        return CIO_ENOLOOP;
    struct cio_client_session *s = cio__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->magic = CLIENT_SESSION_MAGIC;
    s->refs = 1;
    cio__list_init(&s->hosts);
    cio__list_init(&s->waiters);
    cio__list_init(&s->responses);
    int rc = fill_opts(s, opts);
    const cio_client_session_opts *o = &s->o;
    if (rc == 0 && o->base_url && (rc = check_base(o->base_url)) == 0 && !(s->base_url = cio__strdup(o->base_url)))
        rc = -ENOMEM;
    if (rc == 0 && o->headers)
        rc = copy_headers(s, o->headers);
    if (rc == 0 && o->resolve)
        rc = copy_resolve(s, o->resolve);
    const char *ua = o->user_agent ? o->user_agent : "cio/" CIO_VERSION_STRING;
    if (rc == 0 && *ua) {
        const char *const pair[] = {"User-Agent", ua, NULL};
        char **saved = s->headers;
        size_t nsaved = s->nheaders;
        s->headers = NULL;
        rc = copy_headers(s, pair); /* checked as a field; kept on its own */
        if (rc == 0) {
            s->user_agent = s->headers[1];
            cio__free(s->headers[0]);
            cio__free(s->headers);
        }
        s->headers = saved;
        s->nheaders = nsaved;
    }
    if (rc == 0 && o->auth_password && !o->auth_user)
        rc = -EINVAL;
    if (rc == 0 && o->auth_user) {
        const char *pw = o->auth_password ? o->auth_password : "";
        rc = cio__client_basic_auth(&s->auth, o->auth_user, strlen(o->auth_user), pw, strlen(pw));
        for (size_t i = 0; rc == 0 && i < 2 * s->nheaders; i += 2)
            if (!strcasecmp(s->headers[i], "Authorization"))
                rc = -EINVAL; /* which one would be meant? aiohttp refuses the pair too */
    }
    if (rc == 0 && o->cookie_jar)
        rc = cio__client_jar_new(&s->jar);
    if (rc == 0 && o->tls)
        s->tls = o->tls;
    if (rc == 0 && o->tls_opts && (rc = cio_tls_ctx_new(&s->tls, CIO_TLS_CLIENT, o->tls_opts)) == 0)
        s->own_tls = true;
    /* The caller's pointers are not kept: the copies above stand for them. */
    s->o.base_url = NULL;
    s->o.headers = s->o.resolve = NULL;
    s->o.user_agent = NULL;
    s->o.tls_opts = NULL;
    s->o.auth_user = s->o.auth_password = NULL;
    if (rc < 0) {
        session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int cio__client_tls(struct cio_client_session *s, cio_tls_ctx **out)
{
    if (!s->tls) {
        int rc = cio_tls_ctx_new(&s->tls, CIO_TLS_CLIENT, NULL);
        if (rc < 0)
            return rc;
        s->own_tls = true;
    }
    *out = s->tls;
    return 0;
}

const struct resolve_entry *cio__client_resolve_find(const struct cio_client_session *s, const char *host, size_t hlen,
                                                     int port)
{
    for (size_t i = 0; i < s->nresolve; i++) {
        const struct resolve_entry *e = &s->resolve[i];
        if (e->port == port && strlen(e->host) == hlen && !strncasecmp(e->host, host, hlen))
            return e;
    }
    return NULL;
}

void cio__client_session_unref(struct cio_client_session *s)
{
    CIO_ASSERT(s->refs > 0);
    if (--s->refs == 0)
        session_free(s);
}

int cio_client_session_close(cio_client_session *s)
{
    if (!s)
        return 0;
    if (s->magic != CLIENT_SESSION_MAGIC || s->closed)
        return -EINVAL;
    s->closed = true;
    cio__client_pool_close(s);
    /* Busy connections: a shutdown ends the waits on them at once (their streams stay their owners' to close). */
    for (struct cio__list *n = s->responses.next; n != &s->responses; n = n->next) {
        struct cio_client_response *r = cio__container_of(n, struct cio_client_response, node);
        r->err = CIO_ECLIENT_CLOSED;
        if (r->conn && r->conn->s)
            (void)shutdown(cio_stream_fd(r->conn->s), SHUT_RDWR);
    }
    cio__client_session_unref(s);
    return 0;
}

size_t cio_client_session_connections(const cio_client_session *s, size_t *idle)
{
    size_t n = 0;
    if (s && s->magic == CLIENT_SESSION_MAGIC) {
        for (const struct cio__list *h = s->hosts.next; h != &s->hosts; h = h->next) {
            const struct client_host *host = cio__container_of(h, struct client_host, node);
            for (const struct cio__list *c = host->idle.next; c != &host->idle; c = c->next)
                n++;
        }
    }
    if (idle)
        *idle = n;
    return s && s->magic == CLIENT_SESSION_MAGIC ? s->open : 0;
}
