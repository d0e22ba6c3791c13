/*
 * print_headers.c: asyncio's "get HTTP headers" example, on the HTTP client session: send HEAD for a URL (over
 * TLS for https) and print the response's status line and header fields as they came.
 *
 *     print_headers https://example.com/
 *     print_headers --cafile ca.pem https://localhost:8443/      (trust a CA of your own instead of the system's)
 *
 * The certificate and the host name are verified by default; a failure prints cio's reason and OpenSSL's. A
 * redirect is not followed: its head is what is printed.
 */
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
    cio_tls_opts tls = {.ca_file = job->cafile};
    cio_client_session_opts so = {
        .tls_opts = job->cafile ? &tls : NULL,
        .max_redirects = -1,
        .timeout = {.total = CIO_SEC(10)},
    };
    cio_client_session *s;
    int rc = cio_client_session_new(&s, &so);
    if (rc < 0) {
        fprintf(stderr, "print_headers: TLS: %s (%s)\n", cio_strerror(rc), cio_tls_last_error());
        return rc;
    }
    cio_client_response *r;
    rc = cio_client_request(s, "HEAD", job->url, NULL, &r);
    if (rc < 0) {
        const char *why = rc <= CIO_ETLS && rc >= CIO_ETLSTRUNCATED ? cio_tls_last_error() : "";
        fprintf(stderr, "print_headers: %s: %s%s%s%s\n", job->url, cio_strerror(rc), *why ? " (" : "", why,
                *why ? ")" : "");
        cio_client_session_close(s);
        return rc;
    }
    const char *reason = cio_client_response_reason(r);
    printf("HTTP header> HTTP/1.%d %d%s%s\n", cio_client_response_version(r), cio_client_response_status(r),
           *reason ? " " : "", reason);
    const char *name, *value;
    for (size_t i = 0; cio_client_response_header_at(r, i, &name, &value) == 0; i++)
        printf("HTTP header> %s: %s\n", name, value);
    (void)cio_client_response_release(r);
    return cio_client_session_close(s);
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
