/* peerkit.h: outside servers for the client tests (nginx, openssl s_server), run as child processes on a free
 * loopback port: started, waited for until they accept, stopped. On the real clock: their clocks are their own. */
#ifndef CIO_TEST_PEERKIT_H
#define CIO_TEST_PEERKIT_H

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clientkit.h"

/* A loopback port free a moment ago (the peer binds it next; pk_start says when it lost the race), or -errno. */
static inline int pk_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0
                 ? ntohs(a.sin_port)
                 : -errno;
    close(fd);
    return rc;
}

/* The first of `where` (NULL-terminated) that is an executable file, or NULL. */
static inline const char *pk_which(const char *const *where)
{
    for (; *where; where++)
        if (access(*where, X_OK) == 0)
            return *where;
    return NULL;
}

/*
 * Run argv and wait (up to about 10 s) until 127.0.0.1:`port` accepts a connection (closed at once). Returns 0
 * with `*out`; -ECONNREFUSED the peer never listened (it exited: the port was taken meanwhile, say), after it was
 * stopped; the errors of cio_process_exec.
 */
static inline int pk_start(cio_process **out, char *const argv[], int port)
{
    cio_process *p;
    cio_process_opts po = {.stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_DEVNULL, .stdin_mode = CIO_DEVNULL};
    int rc = cio_process_exec(&p, argv, &po);
    if (rc < 0)
        return rc;
    rc = -ECONNREFUSED;
    for (int i = 0; i < 500 && rc == -ECONNREFUSED; i++) {
        int status;
        if (cio_process_returncode(p, &status) == 0)
            break; /* it exited */
        cio_stream *s;
        rc = cio_open_connection(&s, "127.0.0.1", port, NULL);
        if (rc == 0)
            cio_stream_close(s);
        else
            cio_sleep(CIO_MS(20));
    }
    if (rc < 0) {
        (void)cio_process_terminate(p);
        int status;
        (void)cio_process_wait(p, &status);
        cio_process_close(p);
        return -ECONNREFUSED;
    }
    *out = p;
    return 0;
}

static inline void pk_stop(cio_process *p)
{
    if (!p)
        return;
    (void)cio_process_terminate(p);
    int status;
    (void)cio_process_wait(p, &status);
    cio_process_close(p);
}

#endif
