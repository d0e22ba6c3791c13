/* dns.c: name resolution on the loop with c-ares: numeric addresses, hosts files, DNS, and a per-loop cache. */
#include "io/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cio/io.h"
#include "core/runtime.h"

/*
 * How it runs. There is no resolver thread and no resolver task: c-ares tells us through its socket-state
 * callback which sockets it has open, we watch them with the loop's backend (level-triggered, so a partial read
 * by c-ares costs nothing), and a ready socket is handed to ares_process_fd right from the poller. c-ares's
 * retransmission and timeout schedule becomes one loop timer, rearmed from ares_timeout after each step. A
 * lookup parks its task; the c-ares callback unparks it. A callback that only wakes tasks is safe to run from
 * inside the poller's dispatch; what is not safe is freeing a watch whose event may still sit later in the same
 * batch, so watches that c-ares drops are unwatched at once but freed later, from task context.
 *
 * Rejected: a resolver task looping on the sockets (one more stack, and it would keep cio_loop_close busy), and
 * the loop's thread pool with getaddrinfo (DESIGN.md: lookups must not occupy the pool).
 *
 * Cancellation. c-ares 1.18 cannot cancel one query, only all of a channel's. A lookup that gives up (its task
 * cancelled, or its timeout) leaves its query behind as an orphan whose answer is dropped; as soon as no task
 * waits for any lookup, ares_cancel ends the orphans, so an idle loop holds no socket, no watch and no timer.
 */

/* For the whole lookup when opts->timeout is 0. */
#define DEFAULT_TIMEOUT CIO_SEC(5)
/* Addresses kept per answer (in the cache and from a hosts file): more than any caller tries in turn. */
#define MAX_ADDRS 32
/* Cached answers per loop; past this the one closest to expiry goes. */
#define CACHE_MAX 256
/* A TTL above a day is taken as a day, so one odd record cannot pin an answer for years. */
#define TTL_MAX 86400
/* Longer than any DNS name (253) with room for a trailing dot; anything longer is not a name. */
#define NAME_MAX_LEN 1024

/* One address without a port: what the cache, the hosts file and numeric parsing share. */
struct addr_rec {
    sa_family_t family;
    uint32_t scope;
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } u;
};

struct cache_entry {
    struct cache_entry *next;
    /* cio_now() past which the answer is stale. */
    int64_t expires;
    /* The family asked for (AF_UNSPEC, AF_INET, AF_INET6): part of the key with the name. */
    int family;
    size_t naddr;
    char *name;
    struct addr_rec addrs[];
};

/* A socket c-ares has open, watched with the loop's backend. */
struct dns_sock {
    struct cio__io_watch watch;
    struct dns_state *d;
    struct dns_sock *next;
};

struct dns_state {
    /* The loop the watches and the timer belong to, and its close hook, which releases the state. */
    cio_loop *loop;
    struct cio__loop_hook close_hook;
    ares_channel ch;
    struct dns_sock *socks;
    /* Unwatched, but maybe still named by an event later in the poller's current batch: freed in reap(). */
    struct dns_sock *retired;
    /* c-ares's next retransmission or timeout; armed only while it has queries. */
    struct cio__timer timer;
    /* Lookups whose task waits for their answer. */
    size_t live;
    /* ares_getaddrinfo calls whose callback has not run yet (live ones and orphans). */
    size_t pending;
    struct cache_entry *cache;
    size_t ncache;
    /* CIO_HOSTS_FILE, read by us; NULL lets c-ares read /etc/hosts itself. */
    char *hosts_path;
    /* A socket could not be watched for want of memory: the lookup that opened it fails with -ENOMEM. */
    bool nomem;
};

/* The per-loop registry: one loop per thread, so one slot per thread. The loop's close hook releases it. */
static _Thread_local struct dns_state *tls_dns;

/* c-ares's global setup, once per process (it is not thread-safe, and on Linux it allocates nothing). */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status;

static void lib_init(void)
{
    lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

int cio__dns_error(int st)
{
    switch (st) {
    case ARES_SUCCESS:
        return 0;
    case ARES_ENOTFOUND:
        return CIO_EAI_NONAME;
    case ARES_ENODATA:
        return CIO_EAI_NODATA;
    case ARES_ETIMEOUT:
        return CIO_EAI_TIMEOUT;
    case ARES_EREFUSED:
        return CIO_EAI_REFUSED;
    case ARES_EBADNAME:
        return CIO_EAI_BADNAME;
    case ARES_EBADRESP:
        return CIO_EAI_BADRESP;
    case ARES_ENOMEM:
        return -ENOMEM; /* ours, not the resolver's: the allocation-failure tests expect it */
    default:
        return CIO_EAI_FAIL;
    }
}

/* ------------------------------------------------------------------------------------------------ addresses */

/* Copy the records out with `port`, IPv6 first, each family in the order given. Returns the count. */
static int fill(cio_addr *out, size_t cap, const struct addr_rec *r, size_t n, int port)
{
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        sa_family_t want = pass == 0 ? AF_INET6 : AF_INET;
        for (size_t i = 0; i < n && k < cap; i++) {
            if (r[i].family != want)
                continue;
            cio_addr *a = &out[k++];
            memset(a, 0, sizeof *a);
            if (want == AF_INET6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->u.ss;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                s6->sin6_addr = r[i].u.v6;
                s6->sin6_scope_id = r[i].scope;
                a->len = sizeof *s6;
            } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&a->u.ss;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
                s4->sin_addr = r[i].u.v4;
                a->len = sizeof *s4;
            }
        }
    }
    return (int)k;
}

/* A numeric IPv4 or IPv6 address, IPv6 maybe in brackets and with a zone ("fe80::1%eth0"). */
static bool parse_numeric(const char *host, struct addr_rec *r)
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    size_t n = strlen(host);
    bool bracket = host[0] == '[';
    if (bracket) {
        if (n < 2 || host[n - 1] != ']')
            return false;
        host++;
        n -= 2;
    }
    if (n >= sizeof buf)
        return false;
    memcpy(buf, host, n);
    buf[n] = '\0';
    memset(r, 0, sizeof *r);
    if (!bracket && inet_pton(AF_INET, buf, &r->u.v4) == 1) {
        r->family = AF_INET;
        return true;
    }
    char *zone = strchr(buf, '%');
    if (zone) {
        *zone++ = '\0';
        char *end;
        unsigned long idx = strtoul(zone, &end, 10);
        if (*zone && !*end && idx <= UINT32_MAX)
            r->scope = (uint32_t)idx;
        else if (!(r->scope = if_nametoindex(zone)))
            return false;
    }
    if (inet_pton(AF_INET6, buf, &r->u.v6) != 1)
        return false;
    r->family = AF_INET6;
    return true;
}

static bool family_ok(int want, sa_family_t have)
{
    return want == AF_UNSPEC || want == have;
}

/* ------------------------------------------------------------------------------------------------ hosts file */

/* Whether `name` is among the names after the address on a hosts line (strtok_r state in `save`). */
static bool line_names(char **save, const char *name)
{
    const char *tok;
    while ((tok = strtok_r(NULL, " \t\r\n", save)))
        if (strcasecmp(tok, name) == 0)
            return true;
    return false;
}

/*
 * The addresses of `name` in a hosts file, in file order, at most `max`. A file that cannot be read has no
 * names, as for the C library. The file is small and local, so it is read right here on the loop, as c-ares
 * reads /etc/hosts.
 */
static size_t hosts_lookup(const char *path, const char *name, int family, struct addr_rec *out, size_t max)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[1024];
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n') && !feof(f)) {
            int c; /* an over-long line is skipped whole */
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *save, *addr = strtok_r(line, " \t\r\n", &save);
        struct addr_rec r;
        if (!addr || addr[0] == '[' || !parse_numeric(addr, &r) || !family_ok(family, r.family))
            continue;
        if (line_names(&save, name))
            out[n++] = r;
    }
    fclose(f);
    return n;
}

/* "localhost" and names under it (RFC 6761 6.3), whatever the case and with or without a trailing dot. */
static bool is_localhost(const char *name)
{
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(name, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(name + n - 10, ".localhost", 10) == 0);
}

/* The loopback addresses of `family`: what a localhost name missing from the hosts file means. c-ares does
   the same when it reads /etc/hosts itself, and never asks DNS for such names. */
static size_t loopback(int family, struct addr_rec *out)
{
    size_t n = 0;
    if (family_ok(family, AF_INET6)) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].family = AF_INET6;
        out[n++].u.v6 = in6addr_loopback;
    }
    if (family_ok(family, AF_INET)) {
        memset(&out[n], 0, sizeof out[n]);
        out[n].family = AF_INET;
        out[n++].u.v4.s_addr = htonl(INADDR_LOOPBACK);
    }
    return n;
}

/* What we read from a resolv.conf ourselves. */
struct conf {
    /* The nameservers as c-ares's "host:port" list. */
    char servers[512];
    /* "options timeout:n" in ms and "attempts:n"; 0 when absent. */
    int timeout_ms, attempts;
};

/* One "options" word: "timeout:n" (seconds, at most 30, as the C library) or "attempts:n" (at most 5). */
static void conf_option(struct conf *c, const char *opt)
{
    int v;
    if (sscanf(opt, "timeout:%d", &v) == 1 && v > 0)
        c->timeout_ms = (v > 30 ? 30 : v) * 1000;
    else if (sscanf(opt, "attempts:%d", &v) == 1 && v > 0)
        c->attempts = v > 5 ? 5 : v;
}

/*
 * Read the nameservers and the timing options of a resolv.conf. c-ares 1.18 parses the file too, but drops
 * "options timeout:" and "attempts:", and "ip:port" or "[ip6]:port" after "nameserver" (which the standard
 * syntax lacks, and tests need for a server on a random port) is ours. A missing file leaves all unset.
 */
static void conf_read(const char *path, struct conf *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[512];
    size_t len = 0;
    while (fgets(line, sizeof line, f)) {
        char *save, *key = strtok_r(line, " \t\r\n", &save), *val;
        if (key && strcmp(key, "options") == 0) {
            while ((val = strtok_r(NULL, " \t\r\n", &save)))
                conf_option(c, val);
            continue;
        }
        val = key ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (!val || strcmp(key, "nameserver") != 0)
            continue;
        size_t vl = strlen(val);
        if (len + vl + 2 > sizeof c->servers)
            continue;
        if (len)
            c->servers[len++] = ',';
        memcpy(c->servers + len, val, vl + 1);
        len += vl;
    }
    fclose(f);
}

/* ------------------------------------------------------------------------------------------------ cache */

static void cache_unlink(struct dns_state *d, struct cache_entry **pp)
{
    struct cache_entry *e = *pp;
    *pp = e->next;
    d->ncache--;
    cio__free(e);
}

/* Drop the stale answers. */
static void cache_purge(struct dns_state *d, int64_t now)
{
    struct cache_entry **pp = &d->cache;
    while (*pp) {
        if ((*pp)->expires <= now)
            cache_unlink(d, pp);
        else
            pp = &(*pp)->next;
    }
}

/* The live answer for (name, family), or NULL. A linear scan: it costs far less than the query it saves. */
static struct cache_entry *cache_find(struct dns_state *d, const char *name, int family, int64_t now)
{
    cache_purge(d, now);
    for (struct cache_entry *e = d->cache; e; e = e->next)
        if (e->family == family && strcasecmp(e->name, name) == 0)
            return e;
    return NULL;
}

static void cache_put(struct dns_state *d, const char *name, int family, const struct addr_rec *r, size_t n,
                      uint32_t ttl, int64_t now)
{
    if (ttl == 0 || n == 0)
        return; /* TTL 0 means "do not cache" (RFC 1035 3.2.1) */
    if (ttl > TTL_MAX)
        ttl = TTL_MAX;
    struct cache_entry **pp, **victim = NULL;
    for (pp = &d->cache; *pp;) {
        if ((*pp)->family == family && strcasecmp((*pp)->name, name) == 0) {
            cache_unlink(d, pp);
            continue;
        }
        if (!victim || (*pp)->expires < (*victim)->expires)
            victim = pp;
        pp = &(*pp)->next;
    }
    if (d->ncache >= CACHE_MAX && victim)
        cache_unlink(d, victim);
    size_t nl = strlen(name) + 1;
    struct cache_entry *e = cio__malloc(sizeof *e + n * sizeof *r + nl);
    if (!e)
        return; /* an answer not cached is only a later query */
    e->expires = now + CIO_SEC(ttl);
    e->family = family;
    e->naddr = n;
    memcpy(e->addrs, r, n * sizeof *r);
    e->name = (char *)(e->addrs + n);
    memcpy(e->name, name, nl);
    e->next = d->cache;
    d->cache = e;
    d->ncache++;
}

/* ------------------------------------------------------------------------------------------------ the channel */

static void timer_update(struct dns_state *d);

/* Level-triggered readiness on a c-ares socket, from inside the poller's dispatch. */
static void sock_ready(struct cio__io_watch *w, uint32_t revents)
{
    if (!w->registered)
        return; /* dropped by c-ares earlier in this batch: the event is stale */
    struct dns_sock *s = cio__container_of(w, struct dns_sock, watch);
    struct dns_state *d = s->d;
    ares_socket_t fd = w->fd;
    ares_socket_t rfd = revents & (CIO__IO_READ | CIO__IO_ERROR) ? fd : ARES_SOCKET_BAD;
    ares_socket_t wfd =
        (w->events & CIO__IO_WRITE) && (revents & (CIO__IO_WRITE | CIO__IO_ERROR)) ? fd : ARES_SOCKET_BAD;
    ares_process_fd(d->ch, rfd, wfd);
    timer_update(d);
}

/* c-ares opened a socket, changed what it waits for on one, or is about to close one (0, 0). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_state *d = data;
    struct dns_sock **pp = &d->socks, *s;
    while ((s = *pp) && s->watch.fd != fd)
        pp = &s->next;
    struct cio__backend *b = &d->loop->backend;
    if (!readable && !writable) {
        if (!s)
            return;
        *pp = s->next;
        b->ops->unwatch(b, &s->watch);
        s->next = d->retired;
        d->retired = s;
        return;
    }
    bool fresh = !s;
    if (fresh) {
        s = cio__calloc(1, sizeof *s);
        if (!s) {
            /* Unwatched, the query would go unanswered: the lookup sending it gives up with -ENOMEM. One that
               opens a socket later, from the poller (a retry on another server), ends at its deadline. */
            d->nomem = true;
            return;
        }
        s->d = d;
        s->watch.fd = fd;
        s->watch.ready = sock_ready;
    }
    s->watch.events = (readable ? CIO__IO_READ : 0) | (writable ? CIO__IO_WRITE : 0);
    if (b->ops->watch(b, &s->watch) < 0) {
        if (fresh) {
            cio__free(s);
            d->nomem = true;
        }
        return;
    }
    if (fresh) {
        s->next = d->socks;
        d->socks = s;
    }
}

/* Arm the loop timer for c-ares's next deadline, or disarm it when c-ares has no query. */
static void timer_update(struct dns_state *d)
{
    struct timeval tv;
    if (!ares_timeout(d->ch, NULL, &tv)) {
        cio__timer_disarm(d->loop, &d->timer);
        return;
    }
    /* ares_timeout rounds down to the millisecond: one more keeps the timer from firing just too early and
       spinning until c-ares agrees that the time has come. */
    int64_t when = cio__loop_clock(d->loop) + (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000 + CIO_MS(1);
    (void)cio__timer_arm(d->loop, &d->timer, when); /* -ENOMEM: each lookup's own deadline still ends it */
}

static void timer_fire(struct cio__timer *t)
{
    struct dns_state *d = cio__container_of(t, struct dns_state, timer);
    ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    timer_update(d);
}

/* Free the watches c-ares dropped. Task context only: the poller is not dispatching a batch. */
static void reap(struct dns_state *d)
{
    while (d->retired) {
        struct dns_sock *s = d->retired;
        d->retired = s->next;
        cio__free(s);
    }
}

/* c-ares's wait for one answer when resolv.conf names none: short enough that a second try, or a second
   server, fits in the default 5 s of a lookup (c-ares 1.18 waits 5 s, so it would never retry). */
#define TRY_TIMEOUT_MS 2000

static int channel_open(struct dns_state *d)
{
    struct ares_options o;
    memset(&o, 0, sizeof o);
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS;
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = d;
    /* secure_getenv: a set-user-ID program must not let its caller pick the name servers or the hosts file. */
    const char *path = secure_getenv("CIO_RESOLV_CONF");
    bool custom = path && *path;
    if (custom) {
        o.resolvconf_path = (char *)path;
        mask |= ARES_OPT_RESOLVCONF;
    } else {
        path = "/etc/resolv.conf";
    }
    struct conf c;
    conf_read(path, &c);
    o.timeout = c.timeout_ms ? c.timeout_ms : TRY_TIMEOUT_MS;
    if (c.attempts) {
        o.tries = c.attempts;
        mask |= ARES_OPT_TRIES;
    }
    if (d->hosts_path) {
        o.lookups = (char *)"b"; /* we read the hosts file; c-ares asks DNS only */
        mask |= ARES_OPT_LOOKUPS;
    }
    int st = ares_init_options(&d->ch, &o, mask);
    if (st != ARES_SUCCESS) {
        d->ch = NULL;
        return cio__dns_error(st);
    }
    /* Only for our own file: c-ares already has the system's servers, and its list may name what the csv
       syntax cannot (link-local scopes). */
    if (custom && c.servers[0] && (st = ares_set_servers_ports_csv(d->ch, c.servers)) != ARES_SUCCESS) {
        ares_destroy(d->ch);
        d->ch = NULL;
        return cio__dns_error(st);
    }
    return 0;
}

static void state_destroy(struct dns_state *d)
{
    CIO_ASSERT(d->live == 0);
    if (d->ch)
        ares_destroy(d->ch); /* ends any orphan (ARES_EDESTRUCTION) and drops its sockets through sock_state */
    CIO_ASSERT(d->pending == 0 && !d->socks);
    cio__timer_disarm(d->loop, &d->timer);
    reap(d);
    while (d->cache)
        cache_unlink(d, &d->cache);
    cio__free(d->hosts_path);
    cio__loop_hook_remove(d->loop, &d->close_hook);
    if (tls_dns == d)
        tls_dns = NULL;
    cio__free(d);
}

static void loop_closing(struct cio__loop_hook *h)
{
    state_destroy(cio__container_of(h, struct dns_state, close_hook));
}

static int state_get(cio_loop *l, struct dns_state **out)
{
    struct dns_state *d = tls_dns;
    if (d) {
        CIO_ASSERT(d->loop == l); /* the loop that made it closes it, before the thread can open another */
        *out = d;
        return 0;
    }
    pthread_once(&lib_once, lib_init);
    if (lib_status != ARES_SUCCESS)
        return cio__dns_error(lib_status);
    d = cio__calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->loop = l;
    d->timer.fire = timer_fire;
    const char *hosts = secure_getenv("CIO_HOSTS_FILE");
    if (hosts && *hosts && !(d->hosts_path = cio__strdup(hosts))) {
        cio__free(d);
        return -ENOMEM;
    }
    int rc = channel_open(d);
    if (rc < 0) {
        cio__free(d->hosts_path);
        cio__free(d);
        return rc;
    }
    d->close_hook.fn = loop_closing;
    cio__loop_hook_add(l, &d->close_hook);
    tls_dns = d;
    *out = d;
    return 0;
}

/*
 * After each lookup, from task context: end the orphans once nobody waits, free dropped watches, and let the
 * state go when it holds nothing worth keeping (no lookup, no cached answer), so a loop that only ever reads
 * its hosts file keeps no channel between lookups.
 */
static void settle(struct dns_state *d)
{
    if (d->live == 0 && d->pending > 0)
        ares_cancel(d->ch); /* their callbacks run now, with ARES_ECANCELLED, and free them */
    timer_update(d);
    reap(d);
    cache_purge(d, cio_now());
    if (d->live == 0 && d->pending == 0 && !d->cache)
        state_destroy(d);
}

/* ------------------------------------------------------------------------------------------------ lookups */

/* An ares_getaddrinfo in flight; outlives the lookup that started it when that one gives up. */
struct query {
    /* The waiting lookup, or NULL once it gave up (an orphan: its answer is dropped). */
    struct lookup *lk;
    struct dns_state *d;
};

/* One lookup, on its task's stack. */
struct lookup {
    /* The parked task; cleared by whichever wakes it first (answer, timeout, cancellation). */
    struct cio_task *task;
    struct query *q;
    struct cio__timer deadline;
    bool done;
    int status;
    struct ares_addrinfo *res;
};

static void query_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    struct query *q = arg;
    struct lookup *lk = q->lk;
    q->d->pending--;
    cio__free(q);
    if (!lk) {
        if (res)
            ares_freeaddrinfo(res);
        return;
    }
    lk->q = NULL;
    lk->done = true;
    lk->status = status;
    lk->res = res;
    if (lk->task) {
        struct cio_task *t = lk->task;
        lk->task = NULL;
        cio__unpark(t, 0);
    }
}

static void lookup_expired(struct cio__timer *tm)
{
    struct lookup *lk = cio__container_of(tm, struct lookup, deadline);
    if (lk->task) {
        struct cio_task *t = lk->task;
        lk->task = NULL;
        cio__unpark(t, CIO_EAI_TIMEOUT);
    }
}

static void lookup_unlink(struct cio_task *t)
{
    struct lookup *lk = t->wait_obj;
    lk->task = NULL;
}

/* The records of a c-ares answer, in its order, and the smallest TTL among them and their CNAMEs. */
static size_t answer_records(const struct ares_addrinfo *res, struct addr_rec *out, size_t max, uint32_t *ttl)
{
    size_t n = 0;
    int64_t min = TTL_MAX;
    for (const struct ares_addrinfo_node *p = res->nodes; p && n < max; p = p->ai_next) {
        struct addr_rec *r = &out[n];
        memset(r, 0, sizeof *r);
        if (p->ai_family == AF_INET && p->ai_addrlen >= sizeof(struct sockaddr_in)) {
            r->family = AF_INET;
            r->u.v4 = ((const struct sockaddr_in *)(const void *)p->ai_addr)->sin_addr;
        } else if (p->ai_family == AF_INET6 && p->ai_addrlen >= sizeof(struct sockaddr_in6)) {
            const struct sockaddr_in6 *s6 = (const void *)p->ai_addr;
            r->family = AF_INET6;
            r->u.v6 = s6->sin6_addr;
            r->scope = s6->sin6_scope_id;
        } else {
            continue;
        }
        n++;
        if (p->ai_ttl < min)
            min = p->ai_ttl;
    }
    for (const struct ares_addrinfo_cname *c = res->cnames; c; c = c->next)
        if (c->ttl < min)
            min = c->ttl;
    *ttl = min > 0 ? (uint32_t)min : 0;
    return n;
}

/* Ask DNS (through c-ares, which also reads /etc/hosts unless CIO_HOSTS_FILE is set) and wait. */
static int lookup_dns(struct dns_state *d, struct cio_task *t, const char *host, int family, int64_t timeout,
                      struct addr_rec *out, size_t *n)
{
    struct lookup lk = {.deadline = {.fire = lookup_expired}};
    struct query *q = cio__malloc(sizeof *q);
    if (!q)
        return -ENOMEM;
    *q = (struct query){.lk = &lk, .d = d};
    lk.q = q;
    int64_t now = cio__loop_clock(d->loop);
    int rc = cio__timer_arm(d->loop, &lk.deadline, timeout > INT64_MAX - now ? INT64_MAX : now + timeout);
    if (rc < 0) {
        cio__free(q);
        return rc;
    }
    struct ares_addrinfo_hints hints = {.ai_family = family, .ai_flags = ARES_AI_NOSORT};
    d->pending++;
    d->nomem = false;
    ares_getaddrinfo(d->ch, host, NULL, &hints, query_done, q); /* may answer at once (hosts, bad name) */
    if (!lk.done && d->nomem) {
        rc = -ENOMEM;
    } else if (!lk.done) {
        d->live++;
        timer_update(d);
        lk.task = t;
        rc = cio__park(t, lookup_unlink, &lk);
        d->live--;
    }
    cio__timer_disarm(d->loop, &lk.deadline);
    if (lk.q)
        lk.q->lk = NULL; /* gave up: the query is an orphan now, and settle() ends it once nobody waits */
    if (rc == 0 && lk.status == ARES_SUCCESS && lk.res) {
        uint32_t ttl;
        *n = answer_records(lk.res, out, MAX_ADDRS, &ttl);
        if (*n)
            cache_put(d, host, family, out, *n, ttl, cio_now());
        else
            rc = CIO_EAI_NODATA;
    } else if (rc == 0) {
        rc = lk.status == ARES_SUCCESS ? CIO_EAI_NODATA : cio__dns_error(lk.status);
    }
    if (lk.res)
        ares_freeaddrinfo(lk.res);
    return rc;
}

static int lookup(struct dns_state *d, struct cio_task *t, const char *host, int family, int64_t timeout,
                  struct addr_rec *out, size_t *n)
{
    if (d->hosts_path) {
        *n = hosts_lookup(d->hosts_path, host, family, out, MAX_ADDRS);
        if (!*n && is_localhost(host))
            *n = loopback(family, out);
        if (*n)
            return 0;
    }
    struct cache_entry *e = cache_find(d, host, family, cio_now());
    if (e) {
        *n = e->naddr;
        memcpy(out, e->addrs, e->naddr * sizeof *out);
        return 0;
    }
    return lookup_dns(d, t, host, family, timeout, out, n);
}

int cio_resolve(const char *host, int port, cio_addr *addrs, size_t cap, const cio_resolve_opts *opts)
{
    int family = opts ? opts->family : AF_UNSPEC;
    int64_t timeout = opts && opts->timeout ? opts->timeout : DEFAULT_TIMEOUT;
    if (!host || !*host || !addrs || cap == 0 || port < 0 || port > 65535 || timeout < 0)
        return -EINVAL;
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return -EINVAL;
    struct addr_rec r[MAX_ADDRS];
    if (parse_numeric(host, &r[0]))
        return family_ok(family, r[0].family) ? fill(addrs, cap, r, 1, port) : CIO_EAI_NODATA;
    if (strlen(host) > NAME_MAX_LEN)
        return CIO_EAI_BADNAME;
    struct cio_task *t;
    int rc = cio__enter_wait(&t);
    if (rc < 0)
        return rc;
    struct dns_state *d = NULL;
    rc = state_get(t->loop, &d);
    if (rc < 0)
        return rc;
    size_t n = 0;
    rc = lookup(d, t, host, family, timeout, r, &n);
    settle(d);
    if (rc < 0)
        return rc;
    rc = fill(addrs, cap, r, n, port);
    return rc > 0 ? rc : CIO_EAI_NODATA;
}
