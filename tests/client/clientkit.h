/* clientkit.h: what the client tests share: the web tests' checks (webkit.h), cio's own server with routes that
 * echo what the client sent, and a raw server whose connections a test scripts byte by byte, for what good servers
 * never send. */
#ifndef CIO_TEST_CLIENTKIT_H
#define CIO_TEST_CLIENTKIT_H

#include <stdio.h>
#include <string.h>

#include "../web/webkit.h"

#include "cio/client.h"

#define CK_OPTS_MOCK (&(cio_loop_opts){.mock_clock = true})

/* ------------------------------------------------------------------------------------------------ raw server */

/* A server whose every connection runs `fn(s, rs, index)` (index from 0, in the order accepted). */
struct ck_raw {
    cio_server *srv;
    int port;
    int (*fn)(cio_stream *s, struct ck_raw *rs, int index);
    int conns;    /* connections accepted */
    int requests; /* request heads read by ck_read_request */
    void *arg;
    char last[512]; /* the last request head read, NUL-terminated (cut to fit) */
};

static inline int ck_raw_conn(cio_stream *s, void *arg)
{
    struct ck_raw *rs = arg;
    int index = rs->conns++;
    return rs->fn(s, rs, index);
}

static inline int ck_raw_start(struct ck_raw *rs)
{
    int rc = cio_start_server(&rs->srv, ck_raw_conn, rs, "127.0.0.1", 0, NULL);
    if (rc < 0)
        return rc;
    cio_addr a;
    if ((rc = cio_server_addr(rs->srv, &a)) < 0)
        return rc;
    rs->port = cio_addr_port(&a);
    return 0;
}

static inline void ck_raw_stop(struct ck_raw *rs)
{
    (void)cio_server_close(rs->srv, 0);
}

/* Read one request (head and body) off `s`: 0, or the error (CIO_EPEERCLOSED when the client closed first). */
static inline int ck_read_request(cio_stream *s, struct ck_raw *rs)
{
    cio_http_header hdrs[64];
    cio_http_head h;
    cio_http_head_init(&h, hdrs, 64);
    ssize_t hl = cio_http_read_request(s, &h, NULL);
    if (hl < 0)
        return (int)hl;
    const void *v;
    size_t n;
    if (cio_stream_peek(s, 0, &v, &n) == 1) {
        size_t k = (size_t)hl < sizeof rs->last - 1 ? (size_t)hl : sizeof rs->last - 1;
        memcpy(rs->last, v, k);
        rs->last[k] = 0;
    }
    rs->requests++;
    cio_http_body_in b;
    cio_http_body_opts o = {.skip = (size_t)hl};
    int rc = cio_http_body_init_request(&b, s, &h, &o);
    if (rc == 0)
        rc = cio_http_body_discard(&b);
    cio_http_body_fini(&b);
    return rc;
}

static inline int ck_write(cio_stream *s, const char *text)
{
    return cio_stream_write(s, text, strlen(text));
}

/* Wait until the client closes (what a stalled server does: it never answers). */
static inline int ck_wait_close(cio_stream *s)
{
    char buf[4096];
    ssize_t n;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
        ;
    return 0;
}

/* "http://127.0.0.1:<port><path>" */
static inline const char *ck_url(char *buf, size_t cap, int port, const char *path)
{
    snprintf(buf, cap, "http://127.0.0.1:%d%s", port, path);
    return buf;
}

/* The whole body of `r` as a string (freed by the caller with cio_buf_free), checking that it read cleanly. */
static inline int ck_body(cio_client_response *r, cio_buf *out)
{
    return cio_client_response_read(r, out);
}

#endif
