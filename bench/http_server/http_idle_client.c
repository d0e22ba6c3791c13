/*
 * http_idle_client.c: the http-server suite's idle-connection client (plain epoll, not cio). It opens N
 * connections to an HTTP server (at most IDLE_INFLIGHT being set up at once, so no backlog overflows), sends one
 * keep-alive GET on each and reads the whole response (head and Content-Length body), so that the server has
 * accepted and served every one; then it leaves them open and idle, and reads the server's VmRSS growth from
 * /proc/PID/status.
 *
 *     http_idle_client -c CONNS -p SERVER_PID [-w SETTLE_SECS] [-d HOLD_SECS] HOST PORT PATH
 *
 * Output: "metric=NAME value=X" lines (bench/run.sh collects them): base_rss_mib (before connecting),
 * idle_rss_mib (the growth), idle_kib_per_conn, server_hwm_mib, setup_ms.
 */
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/loadkit.h"

#define MAX_EVENTS    256
#define IDLE_INFLIGHT 64
#define RESP_MAX      1024

enum { C_CONNECTING, C_READING, C_DONE };

struct conn {
    int fd;
    int state;
    size_t got;
    char buf[RESP_MAX];
};

static struct conn *conns;
static int nconns = 10000, server_pid;
static double settle = 0.3, hold;
static char req[512];
static size_t req_len;

static void die(const char *what)
{
    fprintf(stderr, "http_idle_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(long i, const char *why)
{
    fprintf(stderr, "http_idle_client: connection %ld: %s\n", i, why);
    exit(1);
}

/* A field of /proc/PID/status in KiB (VmRSS, VmHWM), or -1. */
static long status_kib(int pid, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, field, flen) && line[flen] == ':') {
            v = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* 1 once c->buf holds a whole 200 response (head, then Content-Length bytes), 0 if more must come, -1 if it is
   not one. */
static int response_done(struct conn *c)
{
    const char *end, *p;
    size_t head;
    long cl = -1;

    end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (!end)
        return c->got < RESP_MAX ? 0 : -1;
    head = (size_t)(end - c->buf) + 4;
    if (c->got < 12 || memcmp(c->buf + 9, "200", 3) != 0)
        return -1;
    for (p = c->buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
        p += *p == '\n';
        if (!strncasecmp(p, "content-length:", 15)) {
            cl = strtol(p + 15, NULL, 10);
            break;
        }
    }
    if (cl < 0)
        return -1;
    return c->got >= head + (size_t)cl ? 1 : 0;
}

static int open_socket(const struct sockaddr_in *sa)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        die("socket");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
        die("connect");
    return fd;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s -c CONNS -p SERVER_PID [-w SETTLE_SECS] [-d HOLD_SECS] HOST PORT PATH\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct epoll_event evs[MAX_EVENTS];
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    int opt, epfd, opened = 0, done = 0, inflight = 0;
    long rss0, rss1;
    int64_t t0;

    while ((opt = getopt(argc, argv, "c:p:w:d:")) != -1) {
        switch (opt) {
        case 'c':
            nconns = atoi(optarg);
            break;
        case 'p':
            server_pid = atoi(optarg);
            break;
        case 'w':
            settle = atof(optarg);
            break;
        case 'd':
            hold = atof(optarg);
            break;
        default:
            usage(argv[0]);
        }
    }
    if (argc - optind != 3 || nconns <= 0 || server_pid <= 0 || settle < 0 || hold < 0 ||
        inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
        usage(argv[0]);
    sa.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    req_len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", argv[optind + 2],
                               argv[optind], argv[optind + 1]);
    if (req_len >= sizeof(req))
        usage(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    conns = calloc((size_t)nconns, sizeof(*conns));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || epfd < 0)
        die("setup");

    rss0 = status_kib(server_pid, "VmRSS");
    t0 = lk_now_ns();
    while (done < nconns) {
        while (opened < nconns && inflight < IDLE_INFLIGHT) {
            struct conn *c = &conns[opened++];
            struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
            c->fd = open_socket(&sa);
            c->state = C_CONNECTING;
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
                die("epoll_ctl");
            inflight++;
        }
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 1000);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        if (lk_now_ns() - t0 > 60 * (int64_t)1000000000) {
            fprintf(stderr, "http_idle_client: only %d of %d connections set up in 60 s\n", done, nconns);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            long idx = (long)(c - conns);
            int err = 0, rc;
            socklen_t len = sizeof(err);
            if (c->state == C_CONNECTING) {
                struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
                    errno = err;
                    die("connect");
                }
                if (send(c->fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
                    die("send");
                c->state = C_READING;
                if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
                    die("epoll_ctl");
            } else if (c->state == C_READING) {
                ssize_t r = recv(c->fd, c->buf + c->got, RESP_MAX - c->got, 0);
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                if (r <= 0)
                    fail(idx, r == 0 ? "closed before the response" : strerror(errno));
                c->got += (size_t)r;
                rc = response_done(c);
                if (rc < 0)
                    fail(idx, "not a 200 response with a Content-Length");
                if (rc == 0)
                    continue;
                c->state = C_DONE;
                if (epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL) < 0)
                    die("epoll_ctl");
                done++;
                inflight--;
            }
        }
    }
    lk_metric("setup_ms", (double)(lk_now_ns() - t0) / 1e6);
    usleep((useconds_t)(settle * 1e6)); /* let the server settle */
    rss1 = status_kib(server_pid, "VmRSS");
    if (rss0 < 0 || rss1 < 0) {
        fprintf(stderr, "http_idle_client: cannot read /proc/%d/status\n", server_pid);
        return 1;
    }
    lk_metric("base_rss_mib", (double)rss0 / 1024.0);
    lk_metric("idle_rss_mib", (double)(rss1 - rss0) / 1024.0);
    lk_metric("idle_kib_per_conn", (double)(rss1 - rss0) / nconns);
    lk_metric("server_hwm_mib", (double)status_kib(server_pid, "VmHWM") / 1024.0);
    fflush(stdout);
    if (hold > 0)
        usleep((useconds_t)(hold * 1e6));
    /* Reset rather than close: 10,000 client sockets in TIME_WAIT per run would use up the ephemeral ports. */
    for (int i = 0; i < nconns; i++) {
        setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(conns[i].fd);
    }
    return 0;
}
