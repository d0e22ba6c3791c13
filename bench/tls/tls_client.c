/* tls_client.c: the tls suite's load generator (OpenSSL 3 on plain epoll, not cio): TLS echo and handshakes. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../common/loadkit.h"

/*
 * Echo mode (-m echo): each of N connections does one TLS handshake, then sends an S-byte message and waits for
 * all S bytes to come back before it sends the next, as bench/echo/echo_client.c does over plain TCP. After a
 * warm-up, messages completed during the next D seconds are counted, with each one's latency (first byte
 * written to last byte read) in a 1 us histogram.
 * Handshake mode (-m handshake): each of N concurrent connection slots does, over and over: connect, a full
 * TLS handshake, one S-byte round trip (16 by default: proof that the server finished its side of the handshake
 * and serves the connection), close_notify and close. Handshakes completed in the window are counted, with
 * each one's latency from connect to the echo's last byte.
 * With -p PID both read the server's utime+stime (/proc/PID/stat) at the ends of the window, for its CPU time
 * per message or handshake. Output: one "metric=NAME value=X" line per figure (what bench/run.sh collects),
 * and one "# tls: ..." line saying what the first connection negotiated.
 *
 * TLS: 1.3 only, the client offering one suite (TLS_AES_128_GCM_SHA256, -C) and one key-exchange group (X25519,
 * -g), so every server runs the same algorithms: left to choose from OpenSSL's default list, Go picks AES-128
 * and OpenSSL-based servers AES-256. No resumption: the client keeps no session (SSL_SESS_CACHE_OFF, never
 * SSL_set_session) and asks for no tickets (SSL_OP_NO_TICKET), so every handshake is a full one. The client
 * verifies nothing (SSL_VERIFY_NONE): the servers use a throwaway self-signed certificate and the benchmark
 * measures them, not the client; OpenSSL still checks the server's CertificateVerify signature, which TLS 1.3
 * requires of every handshake.
 */

#define HIST_US    200000 /* latencies above 200 ms land in the last bucket */
#define READ_BUF   (256 * 1024)
#define MAX_EVENTS 256
/* OpenSSL's read-ahead buffer: several 16 KiB records per recv instead of two recvs (header, body) per record. */
#define SSL_RBUF (64 * 1024)

enum { MODE_ECHO, MODE_HANDSHAKE };
enum { P_HANDSHAKE, P_ECHO };

struct conn {
    int fd;
    SSL *ssl;
    int phase;
    uint32_t events;     /* the epoll interest set now */
    uint32_t write_wait; /* what an unfinished SSL_write waits for (EPOLLOUT, or EPOLLIN), or 0 */
    uint32_t read_wait;  /* what SSL_read waits for: EPOLLIN, or EPOLLOUT when TLS must write first */
    size_t sent, got;
    int64_t t_start; /* message: first byte written; handshake mode: connect */
};

static struct conn *conns;
static int mode = MODE_ECHO;
static int nconns = 10;
static size_t msg_size = 1024;
static double duration = 2.0, warmup = 0.5;
static int server_pid;
static const char *suites = "TLS_AES_128_GCM_SHA256", *groups = "X25519";
static struct sockaddr_in server;
static SSL_CTX *ctx;
static int epfd;
static char *msg, *rbuf;
static uint32_t hist[HIST_US + 1];
static uint64_t done_ops;
static bool counting, described;

static void die(const char *what)
{
    fprintf(stderr, "tls_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void die_tls(const char *what, SSL *ssl, int rc)
{
    int err = ssl ? SSL_get_error(ssl, rc) : SSL_ERROR_SSL;

    if (err == SSL_ERROR_SYSCALL && errno)
        fprintf(stderr, "tls_client: %s: %s\n", what, strerror(errno));
    else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
        fprintf(stderr, "tls_client: %s: the server closed the connection\n", what);
    else
        fprintf(stderr, "tls_client: %s failed (SSL error %d)\n", what, err);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* Set the epoll interest of `c` to `ev`, with a system call only when it changes. */
static void want(struct conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};

    if (c->events == ev)
        return;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
        die("epoll_ctl");
    c->events = ev;
}

static SSL_CTX *make_ctx(void)
{
    SSL_CTX *x = SSL_CTX_new(TLS_client_method());

    if (!x || !SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION) || !SSL_CTX_set_max_proto_version(x, TLS1_3_VERSION))
        die_tls("SSL_CTX_new", NULL, 0);
    if (!SSL_CTX_set_ciphersuites(x, suites))
        die_tls("cipher suites (-C)", NULL, 0);
    if (!SSL_CTX_set1_groups_list(x, groups))
        die_tls("groups (-g)", NULL, 0);
    SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(x, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_read_ahead(x, 1);
    SSL_CTX_set_default_read_buffer_len(x, SSL_RBUF);
    return x;
}

/* Open a connection in `c` and start its handshake; the first flight goes out from advance(). */
static void conn_open(struct conn *c, int64_t t)
{
    int one = 1;
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT};

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        die("socket");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)&server, sizeof(server)) < 0 && errno != EINPROGRESS)
        die("connect");
    c->ssl = SSL_new(ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
        die_tls("SSL_new", NULL, 0);
    SSL_set_connect_state(c->ssl);
    c->phase = P_HANDSHAKE;
    c->write_wait = 0;
    c->read_wait = EPOLLIN;
    c->t_start = t;
    c->events = e.events;
    e.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
        die("epoll_ctl");
}

/* Send close_notify (without waiting for the server's) and close; closing drops the descriptor from epoll. */
static void conn_close(struct conn *c)
{
    if (c->ssl) {
        (void)SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    close(c->fd);
    c->fd = -1;
}

/* The "# tls: ..." line: what the first connection negotiated, so a report can show every server ran alike. */
static void describe(SSL *ssl)
{
    EVP_PKEY *tmp = NULL, *cert_key = NULL;
    X509 *cert = SSL_get0_peer_certificate(ssl);

    if (cert)
        cert_key = X509_get0_pubkey(cert);
    SSL_get_peer_tmp_key(ssl, &tmp);
    printf("# tls: %s %s %s, server key %s-%d\n", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
           tmp ? EVP_PKEY_get0_type_name(tmp) : "?", cert_key ? EVP_PKEY_get0_type_name(cert_key) : "?",
           cert_key ? EVP_PKEY_get_bits(cert_key) : 0);
    EVP_PKEY_free(tmp);
    described = true;
}

/* Write what is left of the current message; wait for the socket only when TLS says so. */
static void push(struct conn *c)
{
    while (c->sent < msg_size) {
        int n = SSL_write(c->ssl, msg + c->sent, (int)(msg_size - c->sent));
        if (n <= 0) {
            int err = SSL_get_error(c->ssl, n);
            if (err == SSL_ERROR_WANT_WRITE) {
                c->write_wait = EPOLLOUT;
                want(c, EPOLLIN | EPOLLOUT);
                return;
            }
            if (err != SSL_ERROR_WANT_READ)
                die_tls("SSL_write", c->ssl, n);
            c->write_wait = EPOLLIN; /* TLS needs input first: EPOLLIN brings it */
            want(c, EPOLLIN);
            return;
        }
        c->sent += (size_t)n;
    }
    c->write_wait = 0;
    want(c, EPOLLIN);
}

static void advance(struct conn *c, uint32_t ev);

static void start_message(struct conn *c, int64_t t)
{
    c->sent = c->got = 0;
    c->t_start = t;
    push(c);
}

static void record(int64_t t0, int64_t t)
{
    int64_t us = (t - t0) / 1000;

    if (!counting)
        return;
    hist[us < HIST_US ? us : HIST_US]++;
    done_ops++;
}

/* A message came back whole: count it; the connection goes on (echo) or starts over (handshake mode). */
static void message_done(struct conn *c)
{
    int64_t t = lk_now_ns();

    record(c->t_start, t);
    if (mode == MODE_ECHO) {
        start_message(c, t);
        return;
    }
    conn_close(c);
    conn_open(c, t);
    advance(c, EPOLLIN | EPOLLOUT);
}

/* Read the echo. Returns when the message is whole, or when the socket has nothing more. */
static void pull(struct conn *c)
{
    for (;;) {
        int n = SSL_read(c->ssl, rbuf, READ_BUF);
        if (n <= 0) {
            int err = SSL_get_error(c->ssl, n);
            if (err == SSL_ERROR_WANT_READ) {
                c->read_wait = EPOLLIN;
                return;
            }
            if (err == SSL_ERROR_WANT_WRITE) {
                c->read_wait = EPOLLOUT;
                want(c, EPOLLIN | EPOLLOUT);
                return;
            }
            die_tls("SSL_read", c->ssl, n);
        }
        c->read_wait = EPOLLIN;
        c->got += (size_t)n;
        if (c->got > c->sent) {
            fprintf(stderr, "tls_client: %zu bytes back for %zu sent\n", c->got, c->sent);
            exit(1);
        }
        if (c->got == msg_size) {
            message_done(c);
            return; /* the next echo cannot be back yet: spare a read that would say EAGAIN */
        }
        if (!SSL_has_pending(c->ssl))
            return; /* level-triggered: epoll reports the socket again if more is there */
    }
}

/* Drive `c` as far as it can go on the epoll events `ev` (all of them at first) without waiting. */
static void advance(struct conn *c, uint32_t ev)
{
    if (c->phase == P_HANDSHAKE) {
        int rc = SSL_connect(c->ssl);
        if (rc != 1) {
            int err = SSL_get_error(c->ssl, rc);
            if (err == SSL_ERROR_WANT_READ)
                want(c, EPOLLIN);
            else if (err == SSL_ERROR_WANT_WRITE)
                want(c, EPOLLIN | EPOLLOUT);
            else
                die_tls("handshake", c->ssl, rc);
            return;
        }
        if (!described)
            describe(c->ssl);
        c->phase = P_ECHO;
        c->sent = c->got = 0;
        if (mode == MODE_ECHO)
            c->t_start = lk_now_ns();
        push(c);
        return;
    }
    if (ev & (EPOLLERR | EPOLLHUP))
        ev |= EPOLLIN | EPOLLOUT; /* let the next call on the socket report what happened */
    if (c->sent < msg_size && (ev & c->write_wait))
        push(c);
    if ((ev & c->read_wait) && c->sent > c->got)
        pull(c);
}

static void report(double secs, double srv0, double srv1, double self0, double self1)
{
    bool hs = mode == MODE_HANDSHAKE;

    lk_metric(hs ? "handshakes_per_s" : "msgs_per_s", (double)done_ops / secs);
    lk_metric("p50_us", lk_percentile(hist, HIST_US, done_ops, 0.50));
    lk_metric("p99_us", lk_percentile(hist, HIST_US, done_ops, 0.99));
    if (!hs)
        lk_metric("mib_per_s", (double)done_ops * (double)msg_size / secs / 1048576.0);
    lk_metric("client_cpu_pct", 100.0 * (self1 - self0) / secs);
    if (server_pid && srv0 >= 0 && srv1 >= 0 && done_ops > 0) {
        lk_metric("server_cpu_pct", 100.0 * (srv1 - srv0) / secs);
        lk_metric(hs ? "cpu_us_per_hs" : "cpu_us_per_msg", 1e6 * (srv1 - srv0) / (double)done_ops);
    }
}

static void run(void)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t t0 = lk_now_ns(), t_count = t0 + (int64_t)(warmup * 1e9), t_end = t_count + (int64_t)(duration * 1e9);
    int64_t t_start = 0;
    double srv0 = 0, self0 = 0;

    for (int i = 0; i < nconns; i++) {
        conn_open(&conns[i], t0);
        advance(&conns[i], EPOLLIN | EPOLLOUT);
    }
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 5);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++)
            advance(evs[i].data.ptr, evs[i].events);
        int64_t t = lk_now_ns();
        if (!counting && t >= t_count && t < t_end) {
            counting = true;
            t_start = t;
            srv0 = server_pid ? lk_proc_cpu(server_pid) : 0;
            self0 = lk_self_cpu();
        } else if (counting && t >= t_end) {
            double self1 = lk_self_cpu(), srv1 = server_pid ? lk_proc_cpu(server_pid) : 0;
            report((double)(t - t_start) / 1e9, srv0, srv1, self0, self1);
            break;
        }
    }
    for (int i = 0; i < nconns; i++)
        conn_close(&conns[i]);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-m echo|handshake] [-c CONNS] [-s BYTES] [-d SECS] [-w SECS] [-p SERVER_PID]\n"
            "          [-C TLS13_SUITES] [-g GROUPS] HOST PORT\n"
            "  echo: ping-pong BYTES (default 1024) over CONNS connections, counting messages for -d seconds\n"
            "        after -w seconds of warm-up (the handshakes fall in the warm-up)\n"
            "  handshake: CONNS connections at a time, each connect + full handshake + one BYTES (default 16)\n"
            "        round trip + close, counting handshakes\n"
            "  -C, -g: what the client offers (default TLS_AES_128_GCM_SHA256 and X25519)\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    bool size_set = false;
    int opt;

    server.sin_family = AF_INET;
    while ((opt = getopt(argc, argv, "m:c:s:d:w:p:C:g:")) != -1) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "echo") == 0)
                mode = MODE_ECHO;
            else if (strcmp(optarg, "handshake") == 0)
                mode = MODE_HANDSHAKE;
            else
                usage(argv[0]);
            break;
        case 'c':
            nconns = atoi(optarg);
            break;
        case 's':
            msg_size = (size_t)strtoul(optarg, NULL, 10);
            size_set = true;
            break;
        case 'd':
            duration = atof(optarg);
            break;
        case 'w':
            warmup = atof(optarg);
            break;
        case 'p':
            server_pid = atoi(optarg);
            break;
        case 'C':
            suites = optarg;
            break;
        case 'g':
            groups = optarg;
            break;
        default:
            usage(argv[0]);
        }
    }
    if (mode == MODE_HANDSHAKE && !size_set)
        msg_size = 16;
    if (argc - optind != 2 || nconns <= 0 || msg_size == 0 || msg_size > INT32_MAX || duration < 0 || warmup < 0)
        usage(argv[0]);
    if (inet_pton(AF_INET, argv[optind], &server.sin_addr) != 1)
        usage(argv[0]);
    server.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    signal(SIGPIPE, SIG_IGN);

    conns = calloc((size_t)nconns, sizeof(*conns));
    msg = malloc(msg_size);
    rbuf = malloc(READ_BUF);
    if (!conns || !msg || !rbuf)
        die("malloc");
    for (size_t i = 0; i < msg_size; i++)
        msg[i] = (char)('a' + i % 26);
    ctx = make_ctx();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");
    run();
    fflush(stdout);
    SSL_CTX_free(ctx);
    return 0;
}
