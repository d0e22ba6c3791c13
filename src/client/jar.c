/* jar.c: the session's cookie jar, as RFC 6265 has a user agent keep one: the storage model (section 5.3: expiry,
 * domain and host-only, default path, replacement) and the Cookie field (section 5.4: domain, path and Secure
 * matching, longer paths first), with limits on its size. No public suffix list: a Domain covering the host is
 * taken as given. */
#include "client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define JAR_MAX            3000 /* cookies in all */
#define JAR_MAX_PER_DOMAIN 50
#define JAR_MAX_COOKIE     4096 /* bytes of a Set-Cookie value (name, value and attributes) */

int cio__client_jar_new(struct client_jar **out)
{
    struct client_jar *j = cio__calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->wall0 = (int64_t)time(NULL);
    j->mono0 = cio_now();
    *out = j;
    return 0;
}

static void cookie_free(struct client_cookie *c)
{
    cio__free(c->name);
    cio__free(c->value);
    cio__free(c->domain);
    cio__free(c->path);
}

static void jar_clear(struct client_jar *j)
{
    for (size_t i = 0; i < j->n; i++)
        cookie_free(&j->c[i]);
    j->n = 0;
}

void cio__client_jar_free(struct client_jar *j)
{
    if (!j)
        return;
    jar_clear(j);
    cio__free(j->c);
    cio__free(j);
}

int64_t cio__client_jar_now(const struct client_jar *j)
{
    return j->wall0 + (cio_now() - j->mono0) / CIO_SEC(1);
}

static bool expired(const struct client_cookie *c, int64_t now)
{
    return c->persistent && c->expires <= now;
}

/* Remove the `i`th cookie, keeping the others in their order. */
static void remove_at(struct client_jar *j, size_t i)
{
    cookie_free(&j->c[i]);
    memmove(&j->c[i], &j->c[i + 1], (j->n - i - 1) * sizeof(*j->c));
    j->n--;
}

static void purge(struct client_jar *j, int64_t now)
{
    for (size_t i = j->n; i-- > 0;)
        if (expired(&j->c[i], now))
            remove_at(j, i);
}

static char *lower_dup(const char *s, size_t n)
{
    char *d = cio__malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    d[n] = 0;
    return d;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = cio__malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* An IP address, which only ever domain-matches itself (RFC 6265 section 5.1.3). */
static bool host_is_ip(const cio_url *u)
{
    return u->ipv6 || (u->host.len && strspn(u->host.ptr, "0123456789.") >= u->host.len);
}

/* Section 5.1.3: `host` (canonical, lower case) domain-matches `dom` (lower case). */
static bool domain_match(const char *host, size_t hlen, bool ip, const char *dom, size_t dlen)
{
    if (hlen == dlen && !memcmp(host, dom, hlen))
        return true;
    return !ip && dlen < hlen && !memcmp(host + hlen - dlen, dom, dlen) && host[hlen - dlen - 1] == '.';
}

/* Section 5.1.4: the request path `rp` path-matches the cookie's `cp`. */
static bool path_match(const char *rp, size_t rlen, const char *cp)
{
    size_t clen = strlen(cp);
    if (clen > rlen || memcmp(rp, cp, clen))
        return false;
    return clen == rlen || cp[clen - 1] == '/' || rp[clen] == '/';
}

/* The URL's path as section 5.1.4 takes it: "/" when empty. */
static cio_http_str uri_path(const cio_url *u)
{
    return u->path.len && u->path.ptr[0] == '/' ? u->path : (cio_http_str){"/", 1};
}

/* Section 5.1.4's default-path: the URL's directory, "/" at the top. */
static cio_http_str default_path(const cio_url *u)
{
    cio_http_str p = uri_path(u);
    size_t last = p.len;
    while (last > 0 && p.ptr[last - 1] != '/')
        last--;
    return last <= 1 ? (cio_http_str){"/", 1} : (cio_http_str){p.ptr, last - 1};
}

/* Evict the least recently used cookie among those of `domain` (all of them for NULL) while there are more than
   `max`. */
static void evict(struct client_jar *j, const char *domain, size_t max)
{
    for (;;) {
        size_t n = 0, victim = 0;
        for (size_t i = 0; i < j->n; i++) {
            if (domain && strcmp(j->c[i].domain, domain))
                continue;
            if (n++ == 0 || j->c[i].used < j->c[victim].used)
                victim = i;
        }
        if (n <= max)
            return;
        remove_at(j, victim);
    }
}

int cio__client_jar_store(struct client_jar *j, const cio_url *u, const char *value, size_t len)
{
    if (len > JAR_MAX_COOKIE)
        return CIO_ECLIENT_COOKIE_REJECTED;
    cio_http_set_cookie sc;
    int rc = cio_http_set_cookie_parse(&sc, (cio_http_str){value, len});
    if (rc < 0)
        return rc;
    int64_t now = cio__client_jar_now(j);
    struct client_cookie c = {
        .expires = INT64_MAX, .same_site = sc.same_site, .secure = sc.secure, .http_only = sc.http_only};
    if (sc.max_age != INT64_MIN) { /* Max-Age wins over Expires (section 5.3 step 3) */
        c.persistent = true;
        c.expires = sc.max_age <= 0 ? INT64_MIN : sc.max_age > INT64_MAX - now ? INT64_MAX : now + sc.max_age;
    } else if (sc.expires != INT64_MIN) {
        c.persistent = true;
        c.expires = sc.expires;
    }
    bool ip = host_is_ip(u);
    char *host = lower_dup(u->host.ptr, u->host.len);
    if (!host)
        return -ENOMEM;
    if (sc.domain.ptr) {
        if (!(c.domain = lower_dup(sc.domain.ptr, sc.domain.len))) {
            cio__free(host);
            return -ENOMEM;
        }
        bool ok = domain_match(host, u->host.len, ip, c.domain, sc.domain.len);
        /* Without the public suffix list, at least a top-level domain ("com", "localhost") is a public suffix
           unless it is the host itself (RFC 6265 section 5.3, step 5): evil.com cannot set a cookie for every
           .com site. Two-label suffixes (co.uk) need the list. */
        if (ok && !memchr(c.domain, '.', sc.domain.len) && strcmp(c.domain, host) != 0)
            ok = false;
        cio__free(host);
        if (!ok) {
            cio__free(c.domain);
            return CIO_ECLIENT_COOKIE_REJECTED;
        }
        c.host_only = ip; /* an address's Domain is the address itself: the same as none */
    } else {
        c.domain = host;
        c.host_only = true;
    }
    cio_http_str path = sc.path.ptr ? sc.path : default_path(u);
    c.name = dup_n(sc.name.ptr, sc.name.len);
    c.value = dup_n(sc.value.ptr, sc.value.len);
    c.path = dup_n(path.ptr, path.len);
    if (!c.name || !c.value || !c.path) {
        cookie_free(&c);
        return -ENOMEM;
    }
    purge(j, now);
    size_t old = j->n;
    for (size_t i = 0; i < j->n && old == j->n; i++)
        if (!strcmp(j->c[i].name, c.name) && !strcmp(j->c[i].domain, c.domain) && !strcmp(j->c[i].path, c.path))
            old = i;
    if (expired(&c, now)) { /* a deletion: the namesake goes, and so does this one */
        if (old < j->n)
            remove_at(j, old);
        cookie_free(&c);
        return 0;
    }
    c.used = ++j->tick;
    if (old < j->n) {
        c.created = j->c[old].created; /* section 5.3 step 11.3 */
        cookie_free(&j->c[old]);
        j->c[old] = c;
        return 0;
    }
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 16;
        struct client_cookie *nc = cio__realloc(j->c, cap * sizeof(*nc));
        if (!nc) {
            cookie_free(&c);
            return -ENOMEM;
        }
        j->c = nc;
        j->cap = cap;
    }
    c.created = c.used;
    j->c[j->n++] = c;
    evict(j, c.domain, JAR_MAX_PER_DOMAIN); /* the new one is the most recently used: never the one evicted */
    evict(j, NULL, JAR_MAX);
    return 0;
}

/* Section 5.4 step 2: longer paths first, then the earlier created. */
static int by_path_then_age(const void *a, const void *b)
{
    const struct client_cookie *x = *(const struct client_cookie *const *)a;
    const struct client_cookie *y = *(const struct client_cookie *const *)b;
    size_t lx = strlen(x->path), ly = strlen(y->path);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return x->created < y->created ? -1 : x->created > y->created;
}

int cio__client_jar_header(struct client_jar *j, const cio_url *u, char **out)
{
    *out = NULL;
    purge(j, cio__client_jar_now(j));
    if (!j->n)
        return 0;
    char *host = lower_dup(u->host.ptr, u->host.len);
    struct client_cookie **pick = cio__malloc(j->n * sizeof(*pick));
    if (!host || !pick) {
        cio__free(host);
        cio__free(pick);
        return -ENOMEM;
    }
    bool ip = host_is_ip(u), tls = cio_http_str_ieq(u->scheme, "https");
    cio_http_str rp = uri_path(u);
    size_t n = 0;
    for (size_t i = 0; i < j->n; i++) {
        struct client_cookie *c = &j->c[i];
        bool dom =
            c->host_only ? !strcmp(host, c->domain) : domain_match(host, u->host.len, ip, c->domain, strlen(c->domain));
        if (dom && path_match(rp.ptr, rp.len, c->path) && (!c->secure || tls))
            pick[n++] = c;
    }
    cio__free(host);
    qsort(pick, n, sizeof(*pick), by_path_then_age);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        pick[i]->used = ++j->tick;
        if (i)
            rc = cio__client_url_encode(&buf, &len, &cap, "; ", true);
        if (rc == 0)
            rc = cio__client_url_encode(&buf, &len, &cap, pick[i]->name, true);
        if (rc == 0)
            rc = cio__client_url_encode(&buf, &len, &cap, "=", true);
        if (rc == 0)
            rc = cio__client_url_encode(&buf, &len, &cap, pick[i]->value, true);
    }
    cio__free(pick);
    if (rc < 0) {
        cio__free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ public API */

static bool has_jar(const cio_client_session *s)
{
    return s && s->magic == CLIENT_SESSION_MAGIC && s->jar;
}

int cio_client_cookie_set(cio_client_session *s, const char *url, const char *set_cookie)
{
    if (!has_jar(s) || !url || !set_cookie)
        return -EINVAL;
    cio_url u;
    char *joined = NULL;
    int rc = cio_url_parse(&u, url, strlen(url));
    if (rc < 0 && s->base_url) {
        if ((rc = cio__client_url_join(&joined, s->base_url, url)) == 0)
            rc = cio_url_parse(&u, joined, strlen(joined));
    }
    if (rc == 0 && !cio_http_str_ieq(u.scheme, "http") && !cio_http_str_ieq(u.scheme, "https"))
        rc = CIO_ECLIENT_BAD_SCHEME;
    if (rc == 0 && !u.host.len)
        rc = CIO_EHTTP_BAD_HOST;
    if (rc == 0)
        rc = cio__client_jar_store(s->jar, &u, set_cookie, strlen(set_cookie));
    cio__free(joined);
    return rc;
}

size_t cio_client_cookie_count(const cio_client_session *s)
{
    if (!has_jar(s))
        return 0;
    int64_t now = cio__client_jar_now(s->jar);
    size_t n = 0;
    for (size_t i = 0; i < s->jar->n; i++)
        n += !expired(&s->jar->c[i], now);
    return n;
}

int cio_client_cookie_at(const cio_client_session *s, size_t i, cio_client_cookie *out)
{
    if (!has_jar(s) || !out)
        return -EINVAL;
    int64_t now = cio__client_jar_now(s->jar);
    for (size_t k = 0; k < s->jar->n; k++) {
        const struct client_cookie *c = &s->jar->c[k];
        if (expired(c, now) || i-- > 0)
            continue;
        *out = (cio_client_cookie){.name = c->name,
                                   .value = c->value,
                                   .domain = c->domain,
                                   .path = c->path,
                                   .expires = c->persistent ? (c->expires < 0 ? 0 : c->expires) : -1,
                                   .secure = c->secure,
                                   .http_only = c->http_only,
                                   .host_only = c->host_only,
                                   .same_site = c->same_site};
        return 0;
    }
    return -ENOENT;
}

void cio_client_cookie_clear(cio_client_session *s)
{
    if (has_jar(s))
        jar_clear(s->jar);
}
