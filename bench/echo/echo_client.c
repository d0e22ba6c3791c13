/* echo_client.c: the echo suite's load generator (plain epoll, not cio): ping-pong over N connections. */
#include <errno.h>
#include <fcntl.h>
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

#include "../common/loadkit.h"

/*
 * Load mode: each of N connections sends an S-byte message and waits for all S bytes to come back before it
 * sends the next. After a warm-up, messages completed during the next D seconds are counted; the latency of
 * each (first byte sent to last byte back) goes into a 1 us histogram. With -p PID it also reads the server's
 * utime+stime (/proc/PID/stat) at both ends of the window, for its CPU time per message.
 * Idle mode (-i): open N connections (at most IDLE_INFLIGHT being set up at once, so no backlog overflows),
 * echo one byte on each so the server has accepted and served every one, then read the server's VmRSS growth.
 * Output: one "metric=NAME value=X" line per figure, the format bench/run.sh collects.
 */

#define HIST_US       200000 /* latencies above 200 ms land in the last bucket */
#define READ_BUF      (256 * 1024)
#define MAX_EVENTS    256
#define IDLE_INFLIGHT 64

enum { C_CONNECTING, C_WAIT_ECHO, C_DONE };

struct conn {
    int fd;
    int state;
    bool want_out;
    size_t sent, got;
    int64_t t_send;
};

static struct conn *conns;
static int nconns = 10;
static size_t msg_size = 1024;
static double duration = 2.0, warmup = 0.5;
static int server_pid;
static bool idle_mode;
static int epfd;
static char *msg, *rbuf;
static uint32_t hist[HIST_US + 1];
static uint64_t done_msgs;
static bool counting;

static void die(const char *what)
{
    fprintf(stderr, "echo_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"), or -1. */
static long proc_status_kib(int pid, const char *key)
{
    char path[64], line[256];
    size_t klen = strlen(key);
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kib = strtol(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

static void set_events(struct conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};

    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0)
        die("epoll_ctl");
}

static int open_socket(const struct sockaddr_in *sa, bool nonblock)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

    if (fd < 0)
        die("socket");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
        die("connect");
    return fd;
}

/* Send what is left of the current message; wait for EPOLLOUT only when the socket is full. */
static void push(struct conn *c)
{
    while (c->sent < msg_size) {
        ssize_t n = send(c->fd, msg + c->sent, msg_size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                die("send");
            if (!c->want_out) {
                c->want_out = true;
                set_events(c, EPOLLIN | EPOLLOUT);
            }
            return;
        }
        c->sent += (size_t)n;
    }
    if (c->want_out) {
        c->want_out = false;
        set_events(c, EPOLLIN);
    }
}

static void start_message(struct conn *c, int64_t t)
{
    c->sent = c->got = 0;
    c->t_send = t;
    push(c);
}

static void on_readable(struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, rbuf, READ_BUF, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            die("recv");
        }
        if (n == 0) {
            fprintf(stderr, "echo_client: the server closed a connection\n");
            exit(1);
        }
        c->got += (size_t)n;
        if (c->got > c->sent) {
            fprintf(stderr, "echo_client: %zu bytes back for %zu sent\n", c->got, c->sent);
            exit(1);
        }
        if (c->got == msg_size) {
            int64_t t = lk_now_ns();
            if (counting) {
                int64_t us = (t - c->t_send) / 1000;
                hist[us < HIST_US ? us : HIST_US]++;
                done_msgs++;
            }
            start_message(c, t);
            return; /* the echo cannot be back yet: spare a recv that would say EAGAIN */
        }
        if ((size_t)n < READ_BUF)
            return;
    }
}

static void run_load(const struct sockaddr_in *sa)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t t0 = lk_now_ns(), t_count = t0 + (int64_t)(warmup * 1e9), t_end = t_count + (int64_t)(duration * 1e9);
    int64_t t_start = 0;
    double srv0 = 0, srv1, self0 = 0;

    for (int i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        int fl;

        c->fd = open_socket(sa, false); /* blocking connect, then non-blocking I/O */
        fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
            die("fcntl");
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
            die("epoll_ctl");
    }
    for (int i = 0; i < nconns; i++)
        start_message(&conns[i], lk_now_ns());
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 5);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
            if ((evs[i].events & EPOLLOUT) && c->sent < msg_size)
                push(c);
        }
        int64_t t = lk_now_ns();
        if (!counting && t >= t_count && t < t_end) {
            counting = true;
            t_start = t;
            srv0 = server_pid ? lk_proc_cpu(server_pid) : 0;
            self0 = lk_self_cpu();
        } else if (counting && t >= t_end) {
            double secs = (double)(t - t_start) / 1e9, self1 = lk_self_cpu();
            srv1 = server_pid ? lk_proc_cpu(server_pid) : 0;
            lk_metric("msgs_per_s", (double)done_msgs / secs);
            lk_metric("p50_us", lk_percentile(hist, HIST_US, done_msgs, 0.50));
            lk_metric("p99_us", lk_percentile(hist, HIST_US, done_msgs, 0.99));
            lk_metric("mib_per_s", (double)done_msgs * (double)msg_size / secs / 1048576.0);
            lk_metric("client_cpu_pct", 100.0 * (self1 - self0) / secs);
            if (server_pid && srv0 >= 0 && srv1 >= 0 && done_msgs > 0) {
                lk_metric("server_cpu_pct", 100.0 * (srv1 - srv0) / secs);
                lk_metric("cpu_us_per_msg", 1e6 * (srv1 - srv0) / (double)done_msgs);
            }
            break;
        }
    }
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
}

/* Idle mode: see the comment at the top. */
static void run_idle(const struct sockaddr_in *sa)
{
    struct epoll_event evs[MAX_EVENTS];
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    long rss0 = proc_status_kib(server_pid, "VmRSS"), rss1;
    int opened = 0, done = 0, inflight = 0;
    int64_t t0 = lk_now_ns();

    while (done < nconns) {
        while (opened < nconns && inflight < IDLE_INFLIGHT) {
            struct conn *c = &conns[opened++];
            struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
            c->fd = open_socket(sa, true);
            c->state = C_CONNECTING;
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
                die("epoll_ctl");
            inflight++;
        }
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 1000);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        if (lk_now_ns() - t0 > 60 * (int64_t)1000000000) {
            fprintf(stderr, "echo_client: only %d of %d idle connections set up in 60 s\n", done, nconns);
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            int err = 0;
            socklen_t len = sizeof(err);
            char b = 'x';
            if (c->state == C_CONNECTING) {
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
                    errno = err;
                    die("connect (idle)");
                }
                if (send(c->fd, &b, 1, MSG_NOSIGNAL) != 1)
                    die("send (idle)");
                c->state = C_WAIT_ECHO;
                set_events(c, EPOLLIN);
            } else if (c->state == C_WAIT_ECHO) {
                ssize_t r = recv(c->fd, &b, 1, 0);
                if (r < 0 && errno == EAGAIN)
                    continue;
                if (r != 1) {
                    fprintf(stderr, "echo_client: idle connection %ld: no echo\n", (long)(c - conns));
                    exit(1);
                }
                c->state = C_DONE;
                if (epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL) < 0)
                    die("epoll_ctl");
                done++;
                inflight--;
            }
        }
    }
    lk_metric("setup_ms", (double)(lk_now_ns() - t0) / 1e6);
    usleep((useconds_t)(warmup * 1e6)); /* let the server settle */
    rss1 = proc_status_kib(server_pid, "VmRSS");
    if (rss0 >= 0 && rss1 >= 0) {
        lk_metric("idle_rss_mib", (double)(rss1 - rss0) / 1024.0);
        lk_metric("idle_kib_per_conn", (double)(rss1 - rss0) / nconns);
        lk_metric("server_hwm_mib", (double)proc_status_kib(server_pid, "VmHWM") / 1024.0);
    }
    if (duration > 0)
        usleep((useconds_t)(duration * 1e6));
    /* Reset rather than close: 10,000 client sockets in TIME_WAIT per run would use up the ephemeral ports. */
    for (int i = 0; i < nconns; i++) {
        setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(conns[i].fd);
    }
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-c CONNS] [-s BYTES] [-d SECS] [-w SECS] [-p SERVER_PID] [-i] HOST PORT\n"
            "  load mode: ping-pong, count messages for -d seconds after -w seconds of warm-up\n"
            "  -i: idle mode: set up CONNS idle connections, report the server's RSS growth (needs -p),\n"
            "      settle -w seconds, hold them -d seconds more\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int opt;

    while ((opt = getopt(argc, argv, "c:s:d:w:p:i")) != -1) {
        switch (opt) {
        case 'c':
            nconns = atoi(optarg);
            break;
        case 's':
            msg_size = (size_t)strtoul(optarg, NULL, 10);
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
        case 'i':
            idle_mode = true;
            break;
        default:
            usage(argv[0]);
        }
    }
    if (argc - optind != 2 || nconns <= 0 || msg_size == 0 || duration < 0 || warmup < 0 ||
        (idle_mode && server_pid <= 0))
        usage(argv[0]);
    if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
        usage(argv[0]);
    sa.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
    signal(SIGPIPE, SIG_IGN);

    conns = calloc((size_t)nconns, sizeof(*conns));
    msg = malloc(msg_size);
    rbuf = malloc(READ_BUF);
    if (!conns || !msg || !rbuf)
        die("malloc");
    for (size_t i = 0; i < msg_size; i++)
        msg[i] = (char)('a' + i % 26);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");
    if (idle_mode)
        run_idle(&sa);
    else
        run_load(&sa);
    fflush(stdout);
    return 0;
}
