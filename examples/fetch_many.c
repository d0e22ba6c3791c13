/*
 * fetch_many.c: asyncio's hello world in C: one client session, 100 URLs fetched concurrently, gathered.
 *
 *     fetch_many [URL...]
 *
 * With no URLs it serves 100 pages itself on a loopback port (a cio web server in the same loop) and fetches them
 * all; with URLs it fetches those. Prints "Fetched N URLs concurrently in T ms (B bytes)" and exits 0 when every
 * fetch succeeded, non-zero (naming the first failure) otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cio.h"

#define PAGES 100

struct fetch {
    cio_client_session *session;
    char url[512];
    size_t bytes;
};

/* One fetch: the whole body, read and dropped; its size kept. */
static int fetch_one(void *arg)
{
    struct fetch *f = arg;
    cio_client_response *r;
    int rc = cio_client_request(f->session, "GET", f->url, &(cio_client_request_opts){.raise_for_status = 1}, &r);
    if (rc < 0)
        return rc;
    cio_buf body = {0};
    rc = cio_client_response_read(r, &body);
    f->bytes = body.len;
    cio_buf_free(&body);
    cio_client_response_release(r);
    return rc;
}

/* The pages served when no URL is given: /page/N answers a line naming N. */
static int page(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_text(res, 200, "page %s of %d\n", cio_web_match(req, "n"), PAGES);
}

struct args {
    int argc;
    char **argv;
};

static int fetch_many(void *arg)
{
    const struct args *a = arg;
    int n = a->argc > 1 ? a->argc - 1 : PAGES;
    cio_web_app *app = NULL;
    cio_web_server *srv = NULL;
    int rc;
    if (a->argc <= 1) { /* our own server, on a port the kernel picks */
        if ((rc = cio_web_app_open(&app, NULL)) < 0 || (rc = cio_web_get(app, "/page/{n:int}", page, NULL)) < 0 ||
            (rc = cio_web_server_start(&srv, app, &(cio_web_server_opts){.host = "127.0.0.1"})) < 0) {
            cio_web_app_close(app);
            return rc;
        }
    }
    int port = 0;
    cio_addr addr;
    if (srv && cio_web_server_addr(srv, &addr) == 0)
        port = cio_addr_port(&addr);

    struct fetch *fetches = calloc((size_t)n, sizeof *fetches);
    cio_task **tasks = calloc((size_t)n, sizeof *tasks);
    int *status = calloc((size_t)n, sizeof *status);
    cio_client_session *session = NULL;
    if (!fetches || !tasks || !status) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = cio_client_session_new(&session, NULL)) < 0)
        goto out;
    int64_t start = cio_now();
    int spawned = 0;
    for (int i = 0; i < n; i++) {
        fetches[i].session = session;
        if (a->argc > 1)
            snprintf(fetches[i].url, sizeof fetches[i].url, "%s", a->argv[i + 1]);
        else
            snprintf(fetches[i].url, sizeof fetches[i].url, "http://127.0.0.1:%d/page/%d", port, i);
        if ((rc = cio_spawn(&tasks[i], fetch_one, &fetches[i], NULL)) < 0)
            break;
        spawned++;
    }
    /* asyncio.gather(*fetches, return_exceptions=True): every status, whatever the others did */
    int grc = cio_gather(tasks, (size_t)spawned, status, CIO_GATHER_ALL);
    int64_t took = cio_now() - start;
    if (rc == 0)
        rc = grc;
    size_t bytes = 0;
    int failed = 0, first_err = 0;
    for (int i = 0; i < spawned; i++) {
        bytes += fetches[i].bytes;
        if (status[i] < 0 && failed++ == 0) {
            first_err = status[i];
            fprintf(stderr, "fetch_many: %s: %s\n", fetches[i].url, cio_strerror(status[i]));
        }
    }
    if (rc == 0)
        rc = first_err;
    if (rc == 0 && spawned == n)
        printf("Fetched %d URLs concurrently in %.1f ms (%zu bytes)\n", n, (double)took / 1e6, bytes);
    else if (failed)
        fprintf(stderr, "fetch_many: %d of %d fetches failed\n", failed, n);
out:
    cio_client_session_close(session);
    if (srv)
        (void)cio_web_server_close(srv, CIO_SEC(1));
    cio_web_app_close(app);
    free(fetches);
    free(tasks);
    free(status);
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {argc, argv};
    int rc = cio_run(fetch_many, &a);
    if (rc < 0)
        fprintf(stderr, "fetch_many: %s\n", cio_strerror(rc));
    return cio_exit_code(rc);
}
