/* dnskit.c: a table-driven DNS responder over UDP on loopback, for tests that must never reach the network. */
#include "dnskit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define MAX_RECS 32
#define NAME_LEN 256

struct rec {
    char name[NAME_LEN];
    /* 1 (A), 28 (AAAA), or 0 for an rcode-only entry. */
    uint16_t type;
    uint8_t addr[16];
    uint32_t ttl;
    int rcode;
};

struct tst_dns {
    int fd;
    int port;
    bool silent;
    pthread_t thread;
    pthread_mutex_t mu;
    struct rec recs[MAX_RECS];
    int nrec;
    atomic_int queries;
    char conf[64];
};

/* The question's name as dotted lowercase text; returns the offset after it, or 0 if malformed. */
static size_t read_qname(const uint8_t *p, size_t n, size_t off, char *out, size_t cap)
{
    size_t len = 0;
    while (off < n && p[off]) {
        size_t l = p[off++];
        if (l > 63 || off + l > n || len + l + 2 > cap)
            return 0;
        if (len)
            out[len++] = '.';
        for (size_t i = 0; i < l; i++)
            out[len++] = (char)tolower(p[off + i]);
        off += l;
    }
    if (off >= n)
        return 0;
    out[len] = '\0';
    return off + 1;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* Build the reply to query `q` (length n) into `out`; returns its length, or 0 to stay silent. */
static size_t answer(tst_dns *s, const uint8_t *q, size_t n, uint8_t *out, size_t cap)
{
    char name[NAME_LEN];
    size_t qend = n >= 12 ? read_qname(q, n, 12, name, sizeof name) : 0;
    if (!qend || qend + 4 > n || qend + 4 > cap)
        return 0;
    uint16_t qtype = (uint16_t)(q[qend] << 8 | q[qend + 1]);
    qend += 4;
    memcpy(out, q, qend);
    int rcode = 3, nans = 0;
    size_t len = qend;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nrec; i++) {
        struct rec *r = &s->recs[i];
        if (strcmp(r->name, name) != 0)
            continue;
        if (r->type == 0) {
            rcode = r->rcode;
            break;
        }
        rcode = 0;
        size_t dlen = r->type == 1 ? 4 : 16;
        if (r->type != qtype || len + 12 + dlen > cap)
            continue;
        put16(out + len, 0xc00c); /* a pointer to the question's name */
        put16(out + len + 2, r->type);
        put16(out + len + 4, 1);
        put32(out + len + 6, r->ttl);
        put16(out + len + 10, (uint16_t)dlen);
        memcpy(out + len + 12, r->addr, dlen);
        len += 12 + dlen;
        nans++;
    }
    pthread_mutex_unlock(&s->mu);
    if (rcode == TST_DNS_DROP)
        return 0;
    out[2] = (uint8_t)(0x80 | (q[2] & 0x79)); /* QR, the query's opcode and RD */
    out[3] = (uint8_t)(0x80 | rcode);         /* RA */
    put16(out + 4, 1);
    put16(out + 6, (uint16_t)nans);
    put16(out + 8, 0);
    put16(out + 10, 0);
    return len;
}

static void *serve(void *arg)
{
    tst_dns *s = arg;
    uint8_t q[1500], out[1500];
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            continue;
        if (n == 1 && q[0] == '!')
            break; /* tst_dns_close's stop datagram */
        atomic_fetch_add(&s->queries, 1);
        if (s->silent)
            continue;
        size_t len = answer(s, q, (size_t)n, out, sizeof out);
        if (len)
            sendto(s->fd, out, len, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

tst_dns *tst_dns_open(bool silent)
{
    tst_dns *s = calloc(1, sizeof *s);
    cr_assert(s);
    s->silent = silent;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    cr_assert_eq(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->thread, NULL, serve, s), 0);
    return s;
}

void tst_dns_add(tst_dns *s, const char *name, const char *addr, uint32_t ttl)
{
    pthread_mutex_lock(&s->mu);
    cr_assert(s->nrec < MAX_RECS);
    struct rec *r = &s->recs[s->nrec];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->ttl = ttl;
    if (inet_pton(AF_INET, addr, r->addr) == 1)
        r->type = 1;
    else if (inet_pton(AF_INET6, addr, r->addr) == 1)
        r->type = 28;
    cr_assert(r->type, "not an address: %s", addr);
    s->nrec++;
    pthread_mutex_unlock(&s->mu);
}

void tst_dns_rcode(tst_dns *s, const char *name, int rcode)
{
    pthread_mutex_lock(&s->mu);
    cr_assert(s->nrec < MAX_RECS);
    struct rec *r = &s->recs[s->nrec++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->rcode = rcode;
    pthread_mutex_unlock(&s->mu);
}

int tst_dns_queries(tst_dns *s)
{
    return atomic_load(&s->queries);
}

int tst_dns_port(const tst_dns *s)
{
    return s->port;
}

void tst_dns_use(tst_dns *s)
{
    /* One try per server and a fixed search list, so that nothing depends on the host's own configuration. */
    tst_dns_use_options(s, "attempts:1");
}

void tst_dns_use_options(tst_dns *s, const char *options)
{
    char text[256];
    snprintf(text, sizeof text, "nameserver 127.0.0.1:%d\nsearch cio.test\noptions %s\n", s->port, options);
    snprintf(s->conf, sizeof s->conf, "%s", tst_write_temp(text));
    cr_assert_eq(setenv("CIO_RESOLV_CONF", s->conf, 1), 0);
}

void tst_dns_close(tst_dns *s)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(sendto(fd, "!", 1, 0, (struct sockaddr *)&a, sizeof a), 1);
    close(fd);
    pthread_join(s->thread, NULL);
    close(s->fd);
    if (s->conf[0]) {
        unlink(s->conf);
        unsetenv("CIO_RESOLV_CONF");
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const char *tst_write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/cio-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}
