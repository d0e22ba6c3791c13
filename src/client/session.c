/* session.c: client sessions: their options checked and copied, the resolve overrides, the TLS context, and a
 * lifetime that lasts until the caller's close and the last response's release, whichever comes last. */
#include "client/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
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
            !strcasecmp(src[i], "Transfer-Encoding") || !strcasecmp(src[i], "Expect"))
            return -EINVAL; /* the client's own (Expect: a request's expect_continue, which waits for the 100) */
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

/* ------------------------------------------------------------------------------------------------ proxies */

/* The credentials of a proxy URL's userinfo ("user:password", each percent-decoded) as a Basic authorization. */
static int proxy_credentials(struct client_proxy *p, cio_http_str ui)
{
    char *plain = cio__malloc(ui.len + 1);
    if (!plain)
        return -ENOMEM;
    const char *colon = memchr(ui.ptr, ':', ui.len);
    size_t ulen = colon ? (size_t)(colon - ui.ptr) : ui.len;
    ssize_t un = cio_url_decode(plain, ui.len + 1, ui.ptr, ulen, 0);
    ssize_t pn = 0;
    if (un >= 0 && colon) {
        plain[un] = ':';
        pn = cio_url_decode(plain + un + 1, ui.len - (size_t)un, colon + 1, ui.len - ulen - 1, 0);
    }
    int rc = 0;
    if (un < 0 || pn < 0)
        rc = CIO_ECLIENT_BAD_PROXY;
    else if ((rc = cio__client_basic_auth(&p->auth, plain, (size_t)un, colon ? plain + un + 1 : "",
                                          colon ? (size_t)pn : 0)) == -EINVAL)
        rc = CIO_ECLIENT_BAD_PROXY; /* a user with ':' (percent-encoded) cannot be sent */
    cio__free(plain);
    return rc;
}

/* "http://[user:password@]host[:port][/]", or the same without "http://". */
static int proxy_parse(struct client_proxy *p, const char *spec)
{
    char *text = NULL;
    size_t n = strlen(spec);
    if (!strstr(spec, "://")) {
        if (!(text = cio__malloc(n + 8)))
            return -ENOMEM;
        memcpy(text, "http://", 7);
        memcpy(text + 7, spec, n + 1);
        n += 7;
    }
    cio_url u;
    int rc = cio_url_parse(&u, text ? text : spec, n);
    if (rc == 0 && (!cio_http_str_ieq(u.scheme, "http") || !u.host.len || u.port == 0 || u.query.ptr ||
                    u.fragment.ptr || u.path.len > 1))
        rc = CIO_ECLIENT_BAD_PROXY;
    if (rc < 0) {
        cio__free(text);
        return rc == -ENOMEM ? rc : CIO_ECLIENT_BAD_PROXY;
    }
    p->port = u.port > 0 ? u.port : 80;
    if (!(p->host = cio__malloc(u.host.len + 1)))
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < u.host.len; i++)
        p->host[i] = (char)tolower((unsigned char)u.host.ptr[i]);
    if (rc == 0)
        p->host[u.host.len] = 0;
    if (rc == 0 && u.userinfo.ptr)
        rc = proxy_credentials(p, u.userinfo);
    cio__free(text);
    return rc;
}

static void proxy_free(struct client_proxy *p)
{
    cio__free(p->spec);
    cio__free(p->host);
    cio__free(p->auth);
    cio__free(p);
}

int cio__client_proxy_get(struct cio_client_session *s, const char *spec, struct client_proxy **out)
{
    *out = NULL;
    if (!*spec)
        return 0;
    for (struct cio__list *n = s->proxies.next; n != &s->proxies; n = n->next) {
        struct client_proxy *p = cio__container_of(n, struct client_proxy, node);
        if (!strcmp(p->spec, spec)) {
            *out = p;
            return 0;
        }
    }
    struct client_proxy *p = cio__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int rc = proxy_parse(p, spec);
    if (rc == 0 && !(p->spec = cio__strdup(spec)))
        rc = -ENOMEM;
    if (rc < 0) {
        proxy_free(p);
        return rc;
    }
    cio__list_insert_tail(&s->proxies, &p->node);
    *out = p;
    return 0;
}

/* A proxy variable: the lowercase one, else (if allowed) the uppercase one; NULL when unset or empty. */
static const char *env_var(const char *lower, const char *upper)
{
    const char *v = getenv(lower);
    if (v && *v)
        return v;
    v = upper ? getenv(upper) : NULL;
    return v && *v ? v : NULL;
}

static int read_env(struct cio_client_session *s)
{
    /* httpoxy: in a CGI program HTTP_PROXY may be a request's "Proxy:" header, set by the web server. */
    const char *hp = env_var("http_proxy", getenv("REQUEST_METHOD") ? NULL : "HTTP_PROXY");
    const char *sp = env_var("https_proxy", "HTTPS_PROXY");
    const char *np = env_var("no_proxy", "NO_PROXY");
    int rc = 0;
    if (hp)
        rc = cio__client_proxy_get(s, hp, &s->env_http);
    if (rc == 0 && sp)
        rc = cio__client_proxy_get(s, sp, &s->env_https);
    if (rc == 0 && np && !(s->no_proxy = cio__strdup(np)))
        rc = -ENOMEM;
    return rc;
}

/* An IP literal (without brackets) as an address, for exact comparison; false for a name. */
static bool ip_literal(const char *p, size_t n, cio_addr *a)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, p, n);
    buf[n] = 0;
    return cio_addr_parse(a, buf, 0) == 0;
}

static bool same_ip(const cio_addr *a, const cio_addr *b)
{
    if (a->u.sa.sa_family != b->u.sa.sa_family)
        return false;
    if (a->u.sa.sa_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)&a->u.ss)->sin_addr,
                       &((const struct sockaddr_in *)&b->u.ss)->sin_addr, sizeof(struct in_addr));
    return !memcmp(&((const struct sockaddr_in6 *)&a->u.ss)->sin6_addr,
                   &((const struct sockaddr_in6 *)&b->u.ss)->sin6_addr, sizeof(struct in6_addr));
}

/* Whether one no_proxy entry [e, e + n) matches the host. */
static bool no_proxy_entry(const char *e, size_t n, const char *host, size_t hlen, int port)
{
    if (n == 1 && *e == '*')
        return true;
    int eport = -1;
    const char *colon = memchr(e, ':', n);
    if (*e == '[') { /* "[v6]" or "[v6]:port" */
        const char *close = memchr(e, ']', n);
        if (!close)
            return false;
        if (close + 1 < e + n) {
            if (close[1] != ':')
                return false;
            colon = close + 1;
        } else {
            colon = NULL;
        }
        if (colon) {
            eport = 0;
            for (const char *p = colon + 1; p < e + n; p++) {
                if (!isdigit((unsigned char)*p) || eport > 65535)
                    return false;
                eport = eport * 10 + (*p - '0');
            }
        }
        n = (size_t)(close - e) - 1;
        e++;
    } else if (colon && !memchr(colon + 1, ':', (size_t)(e + n - colon - 1))) { /* one colon: name or v4, port */
        eport = 0;
        for (const char *p = colon + 1; p < e + n; p++) {
            if (!isdigit((unsigned char)*p) || eport > 65535)
                return false;
            eport = eport * 10 + (*p - '0');
        }
        n = (size_t)(colon - e);
    }
    if (eport >= 0 && eport != port)
        return false;
    cio_addr ha, ea;
    bool hip = ip_literal(host, hlen, &ha);
    bool eip = ip_literal(e, n, &ea);
    if (hip || eip)
        return hip && eip && same_ip(&ha, &ea);
    while (n && *e == '.') {
        e++;
        n--;
    }
    if (n == 0)
        return false;
    if (hlen == n)
        return !strncasecmp(host, e, n);
    return hlen > n && host[hlen - n - 1] == '.' && !strncasecmp(host + hlen - n, e, n);
}

bool cio__client_no_proxy(const struct cio_client_session *s, const char *host, size_t hlen, int port)
{
    const char *p = s->no_proxy;
    while (p && *p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if (last > p && no_proxy_entry(p, (size_t)(last - p), host, hlen, port))
            return true;
        p = end;
    }
    return false;
}

/* ------------------------------------------------------------------------------------------------ sessions */

/* The loop closes with the session still open: a leak that debug mode names, as it names a task never joined.
   Said before the loop checks what is alive: an idle connection's expiry timer would make the close fail first. */
static void report_open(struct cio__loop_hook *h)
{
    struct cio_client_session *s = cio__container_of(h, struct cio_client_session, hook);
    if (cio_loop_debug(s->loop))
        cio__log(s->loop, "cio: client session %p was never closed (%zu connection(s) open) (at loop close)", (void *)s,
                 s->open);
}

/* The loop is gone: the session no longer belongs to one. */
static void on_loop_close(struct cio__loop_hook *h)
{
    struct cio_client_session *s = cio__container_of(h, struct cio_client_session, hook);
    s->loop = NULL;
}

static void unhook(struct cio_client_session *s)
{
    if (s->loop) {
        cio__loop_hook_remove(s->loop, &s->hook);
        s->loop = NULL;
    }
}

static void session_free(struct cio_client_session *s)
{
    unhook(s);
    cio__client_pool_free(s);
    struct cio__list *n;
    while ((n = cio__list_pop_head(&s->proxies)))
        proxy_free(cio__container_of(n, struct client_proxy, node));
    cio__free(s->no_proxy);
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
    cio__list_init(&s->inflight);
    cio__list_init(&s->proxies);
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
        } else {
            for (size_t i = 0; s->headers && s->headers[i]; i++)
                cio__free(s->headers[i]); /* what was copied before an allocation failed */
        }
        cio__free(s->headers);
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
    if (rc == 0 && o->unix_socket) {
        if (o->proxy && *o->proxy)
            rc = -EINVAL;
        else if ((rc = cio_addr_unix(&s->unix_addr, o->unix_socket)) == 0)
            s->use_unix = true;
    }
    if (rc == 0 && !s->use_unix && o->proxy) {
        s->proxy_set = true;
        rc = cio__client_proxy_get(s, o->proxy, &s->proxy);
    }
    if (rc == 0 && !s->use_unix && !s->proxy_set && o->trust_env)
        rc = read_env(s);
    if (o->trace)
        s->trace = *o->trace;
    s->trace_arg = o->trace_arg;
    /* The caller's pointers are not kept: the copies above stand for them. */
    s->o.base_url = NULL;
    s->o.headers = s->o.resolve = NULL;
    s->o.user_agent = NULL;
    s->o.tls_opts = NULL;
    s->o.auth_user = s->o.auth_password = NULL;
    s->o.proxy = s->o.unix_socket = NULL;
    s->o.trace = NULL;
    if (rc < 0) {
        session_free(s);
        return rc;
    }
    s->loop = cio_loop_current();
    s->hook.fn = on_loop_close;
    s->hook.report = report_open;
    cio__loop_hook_add(s->loop, &s->hook);
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
    unhook(s);
    cio__client_pool_close(s);
    /* Requests before their head (connecting, sending, waiting): their scopes cancelled, their waits end now. */
    for (struct cio__list *n = s->inflight.next; n != &s->inflight; n = n->next)
        (void)cio_scope_cancel(cio__container_of(n, struct client_inflight, node)->scope);
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
