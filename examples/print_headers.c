/*
 * print_headers.c: asyncio's "get HTTP headers" example: fetch a URL's response head over TCP, or TLS for https,
 * and print it.
 *
 *     print_headers https://example.com/
 *     print_headers --cafile ca.pem https://localhost:8443/      (trust a CA of your own instead of the system's)
 *
 * The certificate and the host name are verified by default; a failure prints cio's reason and OpenSSL's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cio.h"

struct job {
    const char *url;
    const char *cafile;
};

static int print_headers(void *arg)
{
    const struct job *job = arg;
    cio_url u;
    int rc = cio_url_parse(&u, job->url, strlen(job->url));
    if (rc < 0 || !u.host.len) {
        fprintf(stderr, "print_headers: %s: not a URL\n", job->url);
        return rc < 0 ? rc : -EINVAL;
    }
    bool https = u.scheme.len == 5 && strncmp(u.scheme.ptr, "https", 5) == 0;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)u.host.len, u.host.ptr);

    cio_connect_opts opts = {.timeout = CIO_SEC(10)};
    if (https) {
        const char *alpn[] = {"http/1.1", NULL};
        rc = cio_tls_ctx_new(&opts.tls, CIO_TLS_CLIENT, &(cio_tls_opts){.ca_file = job->cafile, .alpn = alpn});
        if (rc < 0) {
            fprintf(stderr, "print_headers: TLS: %s (%s)\n", cio_strerror(rc), cio_tls_last_error());
            return rc;
        }
    }
    cio_stream *s;
    rc = cio_open_connection(&s, host, u.port >= 0 ? u.port : https ? 443 : 80, &opts);
    cio_tls_ctx_free(opts.tls); /* the stream keeps what it needs */
    if (rc < 0) {
        const char *why = https ? cio_tls_last_error() : "";
        fprintf(stderr, "print_headers: %s: %s%s%s%s\n", host, cio_strerror(rc), *why ? " (" : "", why,
                *why ? ")" : "");
        return rc;
    }

    char req[1024];
    int n = snprintf(req, sizeof req, "HEAD %.*s%s%.*s HTTP/1.0\r\nHost: %s\r\n\r\n", (int)u.path.len,
                     u.path.len ? u.path.ptr : "/", u.query.len ? "?" : "", (int)u.query.len,
                     u.query.ptr ? u.query.ptr : "", host);
    if (n < 0 || (size_t)n >= sizeof req) {
        cio_stream_close(s);
        return -ENAMETOOLONG;
    }
    if ((rc = cio_stream_write(s, req, (size_t)n)) == 0) {
        const char *line;
        size_t len;
        /* async for line in reader: until the empty line that ends the head. */
        while ((rc = cio_stream_next_line(s, &line, &len)) == 1 && !(len <= 2 && (line[0] == '\r' || line[0] == '\n')))
            printf("HTTP header> %.*s\n", (int)(len - (len >= 2 && line[len - 2] == '\r' ? 2 : 1)), line);
    }
    int end = cio_stream_close(s);
    if (rc < 0) {
        fprintf(stderr, "print_headers: %s\n", cio_strerror(rc));
        return rc;
    }
    return end;
}

int main(int argc, char **argv)
{
    struct job job = {0};
    if (argc == 4 && strcmp(argv[1], "--cafile") == 0) {
        job.cafile = argv[2];
        job.url = argv[3];
    } else if (argc == 2) {
        job.url = argv[1];
    } else {
        fprintf(stderr, "usage: %s [--cafile CA.pem] URL\n", argv[0]);
        return 2;
    }
    return cio_run(print_headers, &job) < 0;
}
