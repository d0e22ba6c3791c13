/*
 * http_epoll_server.c: the trivial HTTP server against which wrk's own ceiling is checked: plain epoll, one
 * read per readable event, and one canned 13-byte response written per request head seen (a blank line ends
 * each; pipelined heads are answered in one write). No parsing, no routing, no Date: as little as a server
 * can do per request.
 *
 *     http_epoll_server PORT        listens on 127.0.0.1 until killed; prints "listening on ..." once ready
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE   (64 * 1024)
#define MAX_EVENTS 256
#define MAX_FDS    65536

static const char canned[] = "HTTP/1.1 200 OK\r\nServer: epoll\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
                             "\r\nHello, World!";
#define CANNED_LEN (sizeof(canned) - 1)

static char in[BUF_SIZE];
static char out[BUF_SIZE / 4 * CANNED_LEN]; /* the most answers one read can ask for: a head is >= 4 bytes */
/* Per descriptor: how many bytes of "\r\n\r\n" the end of what came so far matched. */
static unsigned char matched[MAX_FDS];

static void die(const char *what)
{
    fprintf(stderr, "http_epoll_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int write_all(int fd, const char *p, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w = send(fd, p + off, n - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
        } else if (errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, -1);
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

/* The request heads that end within in[0, n), carrying the partial match across reads. */
static size_t count_heads(int fd, size_t n)
{
    static const char end[] = "\r\n\r\n";
    unsigned m = matched[fd];
    size_t heads = 0;

    for (size_t i = 0; i < n; i++) {
        if (in[i] == end[m]) {
            if (++m == 4) {
                heads++;
                m = 0;
            }
        } else {
            m = in[i] == '\r' ? 1 : 0;
        }
    }
    matched[fd] = (unsigned char)m;
    return heads;
}

static void on_readable(int fd)
{
    for (;;) {
        ssize_t r = recv(fd, in, sizeof(in), 0);
        if (r > 0) {
            size_t heads = count_heads(fd, (size_t)r);
            for (size_t i = 0; i < heads; i++)
                memcpy(out + i * CANNED_LEN, canned, CANNED_LEN);
            if (heads && write_all(fd, out, heads * CANNED_LEN) < 0)
                break;
            if ((size_t)r < sizeof(in))
                return;
        } else if (r < 0 && errno == EAGAIN) {
            return;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    close(fd);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct epoll_event ev, evs[MAX_EVENTS];
    int one = 1, lfd, epfd;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0)
        die("bind/listen");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
        die("epoll");
    printf("listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd != lfd) {
                on_readable(fd);
                continue;
            }
            int c;
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                if (c >= MAX_FDS) {
                    close(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                matched[c] = 0;
                ev.events = EPOLLIN;
                ev.data.fd = c;
                if (epoll_ctl(epfd, EPOLL_CTL_ADD, c, &ev) < 0)
                    close(c);
            }
        }
    }
}
