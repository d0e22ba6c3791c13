/* pool.c: the session's connections: kept per scheme, host and port, bounded in all and per host, reused newest
 * first after a liveness check, handed over in FIFO order to requests that wait for one, closed when idle too long.
 */
#include "client/client.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------ hosts */

struct client_host *cio__client_host_get(struct cio_client_session *s, bool tls, const char *host, size_t hlen,
                                         int port, cio_tls_ctx *ctx, struct client_proxy *proxy)
{
    for (struct cio__list *n = s->hosts.next; n != &s->hosts; n = n->next) {
        struct client_host *h = cio__container_of(n, struct client_host, node);
        if (h->tls == tls && h->port == port && h->ctx == ctx && h->proxy == proxy && strlen(h->name) == hlen &&
            !strncasecmp(h->name, host, hlen)) {
            h->users++;
            return h;
        }
    }
    struct client_host *h = cio__calloc(1, sizeof(*h) + hlen + 1);
    if (!h)
        return NULL;
    h->tls = tls;
    h->port = port;
    h->ctx = ctx;
    h->proxy = proxy;
    for (size_t i = 0; i < hlen; i++)
        h->name[i] = (char)tolower((unsigned char)host[i]);
    cio__list_init(&h->idle);
    cio__list_insert_tail(&s->hosts, &h->node);
    h->users++;
    return h;
}

/* A host nobody holds a slot of or uses is forgotten, so that a session talking to many hosts stays small. */
static void host_maybe_free(struct client_host *h)
{
    if (h->open == 0 && h->users == 0) {
        CIO_ASSERT(cio__list_empty(&h->idle));
        cio__list_remove(&h->node);
        cio__free(h);
    }
}

void cio__client_host_put(struct client_host *h)
{
    CIO_ASSERT(h->users > 0);
    h->users--;
    host_maybe_free(h);
}

void cio__client_pool_free(struct cio_client_session *s)
{
    struct cio__list *n;
    while ((n = cio__list_pop_head(&s->hosts)))
        cio__free(cio__container_of(n, struct client_host, node));
}

/* ------------------------------------------------------------------------------------------------ slots */

static bool slot_free(const struct cio_client_session *s, const struct client_host *h)
{
    return s->open < s->o.limit && (!s->o.limit_per_host || h->open < s->o.limit_per_host);
}

static void slot_take(struct cio_client_session *s, struct client_host *h)
{
    s->open++;
    h->open++;
}

static void hand_over(struct client_waiter *w)
{
    cio__list_remove(&w->node);
    (void)cio_event_set(&w->ev);
}

/*
 * Give a slot back: the first waiter that may open a connection now gets it, already counted. A free slot never
 * stays free while someone waits who could use it, so a request that finds one free takes it without queueing.
 * `h` may be freed here.
 */
static void slot_release(struct cio_client_session *s, struct client_host *h)
{
    CIO_ASSERT(s->open > 0 && h->open > 0);
    s->open--;
    h->open--;
    for (struct cio__list *n = s->waiters.next; !s->closed && n != &s->waiters; n = n->next) {
        struct client_waiter *w = cio__container_of(n, struct client_waiter, node);
        if (slot_free(s, w->host)) {
            slot_take(s, w->host);
            w->slot = true;
            hand_over(w);
            break;
        }
    }
    host_maybe_free(h);
}

/* Close a connection that is in no list; its host may be freed with it. */
static void conn_free(struct cio_client_session *s, struct client_conn *c)
{
    struct client_host *h = c->host;
    if (c->s)
        cio_stream_abort(c->s); /* nothing of ours is in flight: no flush, no TLS goodbye to wait for */
    cio__free(c);
    slot_release(s, h);
}

void cio__client_conn_close(struct cio_client_session *s, struct client_conn *c)
{
    conn_free(s, c);
}

/* ------------------------------------------------------------------------------------------------ expiry */

static bool expired(const struct cio_client_session *s, const struct client_conn *c, int64_t now)
{
    return s->o.keepalive_timeout != CIO_INFINITE && now - c->idle_since >= s->o.keepalive_timeout;
}

static void arm_expiry(struct cio_client_session *s);

/* The timer: close every idle connection past its keep-alive time, then wait for the next one to be. */
static void on_expiry(void *arg)
{
    struct cio_client_session *s = arg;
    cio_handle_close(s->expiry);
    s->expiry = NULL;
    int64_t now = cio_now();
    for (struct cio__list *n = s->hosts.next, *next; n != &s->hosts; n = next) {
        next = n->next; /* the host may go with its last connection */
        struct client_host *h = cio__container_of(n, struct client_host, node);
        struct cio__list *c;
        while ((c = h->idle.next) != &h->idle) {
            struct client_conn *cc = cio__container_of(c, struct client_conn, node);
            if (!expired(s, cc, now))
                break;                                 /* the oldest first: the rest are younger */
            bool last = h->open == 1 && h->users == 0; /* the host goes with its last connection */
            cio__list_remove(c);
            conn_free(s, cc);
            if (last)
                break;
        }
    }
    arm_expiry(s);
}

/* One timer for the session, at the oldest idle connection's expiry. */
static void arm_expiry(struct cio_client_session *s)
{
    if (s->expiry || s->closed || s->o.keepalive_timeout == CIO_INFINITE)
        return;
    int64_t oldest = INT64_MAX;
    for (struct cio__list *n = s->hosts.next; n != &s->hosts; n = n->next) {
        struct client_host *h = cio__container_of(n, struct client_host, node);
        if (!cio__list_empty(&h->idle)) {
            struct client_conn *c = cio__container_of(h->idle.next, struct client_conn, node);
            if (c->idle_since < oldest)
                oldest = c->idle_since;
        }
    }
    if (oldest != INT64_MAX) {
        int64_t at = s->o.keepalive_timeout > INT64_MAX - oldest ? INT64_MAX : oldest + s->o.keepalive_timeout;
        (void)cio_call_at(&s->expiry, at, on_expiry, s);
    }
}

/* ------------------------------------------------------------------------------------------------ put */

static struct client_waiter *first_waiter_for(struct cio_client_session *s, const struct client_host *h)
{
    for (struct cio__list *n = s->waiters.next; n != &s->waiters; n = n->next) {
        struct client_waiter *w = cio__container_of(n, struct client_waiter, node);
        if (w->host == h)
            return w;
    }
    return NULL;
}

bool cio__client_put(struct cio_client_session *s, struct client_conn *c)
{
    if (s->closed) {
        conn_free(s, c);
        return false;
    }
    struct client_waiter *w = first_waiter_for(s, c->host);
    if (w) {
        /* Checked as an idle one is when it is taken: bytes nobody asked for (a body after a HEAD, 204 or 304, a
           second answer) would be read as the waiter's response, and a connection the server closed would fail
           a request that was never sent. Then its slot goes to the waiter. */
        if (cio_stream_check_idle(c->s) != 0) {
            conn_free(s, c);
            return false;
        }
        w->conn = c;
        hand_over(w);
        return true;
    }
    /* Someone waits for another host whom only the total limit stops: this connection's slot serves better
       there than idle here (slot_release hands it to the first such waiter). */
    for (struct cio__list *n = s->waiters.next; n != &s->waiters; n = n->next) {
        struct client_waiter *other = cio__container_of(n, struct client_waiter, node);
        if (!s->o.limit_per_host || other->host->open < s->o.limit_per_host) {
            conn_free(s, c);
            return false;
        }
    }
    c->idle_since = cio_now();
    cio__list_insert_tail(&c->host->idle, &c->node);
    arm_expiry(s);
    return true;
}

void cio__client_pool_close(struct cio_client_session *s)
{
    if (s->expiry) {
        cio_handle_close(s->expiry);
        s->expiry = NULL;
    }
    struct cio__list *n;
    while ((n = cio__list_pop_head(&s->waiters))) {
        struct client_waiter *w = cio__container_of(n, struct client_waiter, node);
        w->err = CIO_ECLIENT_CLOSED;
        (void)cio_event_set(&w->ev);
    }
    for (struct cio__list *h = s->hosts.next, *next; h != &s->hosts; h = next) {
        next = h->next;
        struct client_host *host = cio__container_of(h, struct client_host, node);
        struct cio__list *c;
        bool gone = false;
        while (!gone && (c = cio__list_pop_head(&host->idle))) {
            gone = host->open == 1 && host->users == 0; /* its last connection takes the host with it */
            conn_free(s, cio__container_of(c, struct client_conn, node));
        }
    }
}

/* ------------------------------------------------------------------------------------------------ acquire */

/* The newest idle connection that is still usable: expired ones and ones the server closed (or wrote to unasked)
   are closed on the way. The caller is a user of `h`, which therefore stays. */
static struct client_conn *take_idle(struct cio_client_session *s, struct client_host *h)
{
    int64_t now = cio_now();
    while (!cio__list_empty(&h->idle)) {
        struct client_conn *c = cio__container_of(h->idle.prev, struct client_conn, node);
        cio__list_remove(&c->node);
        if (!expired(s, c, now) && cio_stream_check_idle(c->s) == 0)
            return c;
        conn_free(s, c);
    }
    return NULL;
}

/* The oldest idle connection of any other host, to close for a slot under the total limit. */
static struct client_conn *oldest_idle_elsewhere(struct cio_client_session *s, const struct client_host *h)
{
    struct client_conn *best = NULL;
    for (struct cio__list *n = s->hosts.next; n != &s->hosts; n = n->next) {
        struct client_host *o = cio__container_of(n, struct client_host, node);
        if (o == h || cio__list_empty(&o->idle))
            continue;
        struct client_conn *c = cio__container_of(o->idle.next, struct client_conn, node);
        if (!best || c->idle_since < best->idle_since)
            best = c;
    }
    return best;
}

/* ------------------------------------------------------------------------------------------------ connect */

/* Connect to `host`:`port`, or its resolve override; with the dns_resolved hook, a name is looked up first on its
   own, timed, and the connection then takes the loop's cached answer. */
static int connect_host(struct cio_client_session *s, const char *host, int port, const cio_connect_opts *co,
                        cio_stream **out)
{
    const struct resolve_entry *e = cio__client_resolve_find(s, host, strlen(host), port);
    if (e)
        return cio_connect_addr(out, &e->addr, co);
    cio_addr a;
    if (s->trace.dns_resolved && cio_addr_parse(&a, host, port) < 0) {
        int64_t t0 = cio_now();
        int n = cio_resolve(host, port, &a, 1, NULL);
        if (n < 0)
            return n;
        s->trace.dns_resolved(s->trace_arg, host, cio_now() - t0);
    }
    return cio_open_connection(out, host, port, co);
}

/* "host:port", IPv6 in brackets, into buf (at least 300 bytes; names are at most 255). */
static void authority(char *buf, size_t cap, const struct client_host *h)
{
    bool v6 = strchr(h->name, ':') != NULL;
    snprintf(buf, cap, "%s%s%s:%d", v6 ? "[" : "", h->name, v6 ? "]" : "", h->port);
}

/* Open a tunnel to `h` through the proxy `st` is connected to (CONNECT host:port), then TLS with the target. */
static int tunnel(struct client_host *h, cio_stream *st, const cio_client_timeouts *t, int *proxy_status)
{
    char auth[300];
    authority(auth, sizeof auth, h);
    cio_http_head_out w;
    cio_http_head_out_init(&w, NULL, 0);
    (void)cio_http_head_out_request(&w, "CONNECT", auth, 1);
    (void)cio_http_head_out_header(&w, "Host", auth);
    if (h->proxy->auth)
        (void)cio_http_head_out_header(&w, "Proxy-Authorization", h->proxy->auth);
    ssize_t hl = cio_http_head_out_end(&w);
    int rc = hl < 0 ? (int)hl : cio_stream_write(st, w.buf, (size_t)hl);
    cio_http_head_out_fini(&w);
    if (rc < 0)
        return rc;
    (void)cio_stream_set_read_timeout(st, t->sock_read == CIO_INFINITE ? 0 : t->sock_read);
    cio_http_header fields[32];
    cio_http_head head;
    cio_http_head_init(&head, fields, 32);
    if ((hl = cio_http_read_response(st, &head, NULL)) < 0)
        return hl == CIO_EPEERCLOSED ? CIO_ECLIENT_PROXY : (int)hl;
    *proxy_status = head.status;
    if (head.status < 200 || head.status > 299)
        return CIO_ECLIENT_PROXY; /* the connection is closed: whatever body it has stays unread */
    if ((rc = cio_stream_consume(st, (size_t)hl)) < 0)
        return rc;
    return cio_stream_start_tls(st, h->ctx, h->name);
}

/* Connect to the host (or its resolve override), through its proxy or to the session's Unix socket, under the
   sock_connect timeout. */
static int open_stream(struct cio_client_session *s, struct client_host *h, const cio_client_timeouts *t,
                       cio_stream **out, int *proxy_status)
{
    cio_connect_opts co = {0};
    int rc;
    if (h->tls && !h->proxy) {
        co.tls = h->ctx;
        co.server_name = h->name;
    }
    cio_scope sc;
    if ((rc = cio_timeout_begin(&sc, t->sock_connect)) < 0)
        return rc;
    if (s->use_unix) {
        rc = cio_connect_addr(out, &s->unix_addr, &co);
    } else if (h->proxy) {
        rc = connect_host(s, h->proxy->host, h->proxy->port, &co, out);
        if (rc == 0 && h->tls && (rc = tunnel(h, *out, t, proxy_status)) < 0) {
            cio_stream_abort(*out);
            *out = NULL;
        }
    } else {
        rc = connect_host(s, h->name, h->port, &co, out);
    }
    int src = cio_scope_end(&sc);
    if (rc < 0 && src == -ETIMEDOUT)
        rc = CIO_ECLIENT_SOCK_CONNECT_TIMEOUT;
    return rc;
}

/* A new connection in a slot already counted for `h`; the slot is given back on failure. */
static int open_conn(struct cio_client_session *s, struct client_host *h, const cio_client_timeouts *t,
                     struct client_conn **out, int *proxy_status)
{
    struct client_conn *c = cio__calloc(1, sizeof(*c));
    if (!c) {
        slot_release(s, h);
        return -ENOMEM;
    }
    cio__list_init(&c->node);
    c->host = h;
    int rc = open_stream(s, h, t, &c->s, proxy_status);
    if (rc < 0)
        c->s = NULL; /* nothing is left open on failure */
    else if (s->closed)
        rc = CIO_ECLIENT_CLOSED;
    if (rc < 0) {
        conn_free(s, c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Wait in line for a connection or a slot. Returns 1 with one of them handed over (*c set, or a slot counted),
   0 to look again, or an error. */
static int wait_turn(struct cio_client_session *s, struct client_host *h, struct client_conn **c)
{
    struct client_waiter w = {.host = h};
    (void)cio_event_init(&w.ev);
    cio__list_insert_tail(&s->waiters, &w.node);
    int rc = cio_event_wait(&w.ev);
    if (!cio__list_empty(&w.node))
        cio__list_remove(&w.node); /* a cancel or a timeout woke it: still in line */
    (void)cio_event_fini(&w.ev);
    if (rc == 0 && w.err)
        rc = w.err;
    if (rc == 0) {
        *c = w.conn;
        return 1;
    }
    /* Something handed over just as the wait failed goes on to the next in line. */
    if (w.conn)
        (void)cio__client_put(s, w.conn);
    if (w.slot)
        slot_release(s, h);
    return rc;
}

int cio__client_acquire(struct cio_client_session *s, struct client_host *h, const cio_client_timeouts *t, bool fresh,
                        struct client_conn **out, bool *reused, int *proxy_status)
{
    *out = NULL;
    *reused = false;
    for (;;) {
        if (s->closed)
            return CIO_ECLIENT_CLOSED;
        if (!fresh && (*out = take_idle(s, h))) {
            *reused = true;
            return 0;
        }
        if (slot_free(s, h)) {
            slot_take(s, h);
            return open_conn(s, h, t, out, proxy_status);
        }
        /* No slot: an idle connection that holds one goes, if closing it gives us one (nobody waits who could use
           its slot, or they would have it). A fresh connection may displace an idle one of its own host. */
        struct client_conn *victim = NULL;
        if (fresh && !cio__list_empty(&h->idle))
            victim = cio__container_of(h->idle.next, struct client_conn, node);
        else if (s->open >= s->o.limit && (!s->o.limit_per_host || h->open < s->o.limit_per_host))
            victim = oldest_idle_elsewhere(s, h);
        if (victim) {
            cio__list_remove(&victim->node);
            conn_free(s, victim);
            continue;
        }
        struct client_conn *c = NULL;
        int rc = wait_turn(s, h, &c);
        if (rc < 0)
            return rc;
        if (rc == 1 && c) {
            *out = c;
            *reused = true;
            return 0;
        }
        if (rc == 1)
            return open_conn(s, h, t, out, proxy_status);
    }
}
