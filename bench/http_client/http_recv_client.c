/*
 * http_recv_client.c: the http-client suite's download ceiling, not built on cio (so cio does not grade
 * itself): one blocking connection, one GET written by hand, then a plain recv loop into a 256 KiB buffer until
 * the server closes (the request asks for Connection: close), the bytes dropped or, with -o FILE, write(2)n to
 * FILE. What a client can reach on this path at the least cost: no parsing beyond finding the head's end.
 *
 *     http_recv_client PORT PATH [-o FILE]      (to 127.0.0.1)
 *
 * Output: "metric=NAME value=X" lines as the suite's clients print them: requests (1), errors, bytes (body
 * bytes), wall_s, req_per_s, mib_per_s, cpu_us_per_req (this process's utime+stime).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/loadkit.h"

#define BUF (256 * 1024)

static double cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int main(int argc, char **argv)
{
    static char buf[BUF];
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char req[512];
    int fd, out = -1, reqlen;
    unsigned long long body = 0;
    size_t head_seen = 0; /* bytes of the head's terminator "\r\n\r\n" matched so far */
    int in_head = 1;
    int64_t t0, t1;
    double c0, c1;
    ssize_t n;

    if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "-o"))) {
        fprintf(stderr, "usage: %s PORT PATH [-o FILE]\n", argv[0]);
        return 2;
    }
    if (argc == 5 && (out = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
        perror(argv[4]);
        return 1;
    }
    sa.sin_port = htons((uint16_t)atoi(argv[1]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    reqlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n", argv[2],
                      argv[1]);
    t0 = lk_now_ns();
    c0 = cpu_us();
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, (size_t)reqlen) != reqlen) {
        perror("connect");
        return 1;
    }
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
        size_t off = 0;
        while (in_head && off < (size_t)n) {
            char want = "\r\n\r\n"[head_seen];
            head_seen = buf[off] == want ? head_seen + 1 : (buf[off] == '\r' ? 1 : 0);
            off++;
            if (head_seen == 4)
                in_head = 0;
        }
        body += (size_t)n - off;
        if (out >= 0 && (size_t)n > off && write(out, buf + off, (size_t)n - off) != n - (ssize_t)off) {
            perror("write");
            return 1;
        }
    }
    t1 = lk_now_ns();
    c1 = cpu_us();
    if (n < 0) {
        perror("recv");
        return 1;
    }
    close(fd);
    if (out >= 0)
        close(out);
    double wall = (double)(t1 - t0) / 1e9;
    printf("metric=requests value=1\nmetric=errors value=%d\nmetric=bytes value=%llu\n", in_head, body);
    printf("metric=wall_s value=%.6f\nmetric=req_per_s value=%.3f\nmetric=mib_per_s value=%.3f\n", wall, 1 / wall,
           (double)body / 1048576.0 / wall);
    printf("metric=cpu_us_per_req value=%.3f\n", c1 - c0);
    return in_head;
}
