/* tls_threads.c: TLS contexts shared between loops in different threads (the session cache, the references). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "netkit.h"
#include "threadkit.h"
#include "tlskit.h"

enum { CLIENTS = 3, CONNECTIONS = 30 };

struct shared {
    cio_addr addr;
    cio_tls_ctx *client;
    atomic_int finished;
    atomic_int resumed;
};

/* One thread's loop: connect again and again with the shared context (every stream takes a reference). */
static int client_main(void *arg)
{
    struct shared *sh = arg;
    for (int i = 0; i < CONNECTIONS; i++) {
        cio_stream *s;
        int rc = cio_connect_addr(&s, &sh->addr, &(cio_connect_opts){.tls = sh->client, .server_name = "localhost"});
        if (rc < 0)
            return rc;
        char buf[8];
        if ((rc = cio_stream_write(s, "thread", 6)) < 0 || (rc = (int)cio_stream_read_exactly(s, buf, 6, NULL)) < 0)
            return rc;
        cio_tls_info info;
        if (cio_stream_tls_info(s, &info) == 0 && info.resumed)
            sh->resumed++;
        if ((rc = cio_stream_close(s)) < 0)
            return rc;
    }
    return 0;
}

static void *client_thread(void *arg)
{
    struct shared *sh = arg;
    int rc = cio_run(client_main, sh);
    if (rc != 0)
        fprintf(stderr, "client thread: %s (%s)\n", cio_err_name(rc), cio_tls_last_error());
    sh->finished += rc == 0 ? 1 : 1000;
    return NULL;
}

static char kit[256];

static int server_main(void *arg)
{
    struct shared *sh = arg;
    char cert[320], key[320], ca[320];
    cio_tls_ctx *sc;
    cr_assert_eq(cio_tls_ctx_new(&sc, CIO_TLS_SERVER,
                                 &(cio_tls_opts){.cert_file = tlskit_path(kit, "server.pem", cert, sizeof cert),
                                                 .key_file = tlskit_path(kit, "server.key", key, sizeof key)}),
                 0);
    cr_assert_eq(cio_tls_ctx_new(&sh->client, CIO_TLS_CLIENT,
                                 &(cio_tls_opts){.ca_file = tlskit_path(kit, "ca.pem", ca, sizeof ca)}),
                 0);
    cio_server *srv;
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, &(cio_server_opts){.tls = sc}), 0);
    cr_assert_eq(cio_server_addr(srv, &sh->addr), 0);
    cio_tls_ctx_free(sc);
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        th[i] = thk_start(client_thread, sh);
    for (long i = 0; sh->finished < CLIENTS; i++) {
        cr_assert_lt(i, 10000000L, "the clients never finished");
        cr_assert_eq(cio_sleep(CIO_MS(1)), 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        thk_join(th[i]);
    cr_assert_eq(sh->finished, CLIENTS, "every client thread succeeded");
    cr_assert_geq(sh->resumed, CLIENTS * (CONNECTIONS - 1), "only each thread's first handshake is full: %d",
                  (int)sh->resumed);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sh->client);
    return 0;
}

Test(tls_threads, contexts_are_shared_between_loops_in_threads, .timeout = 300)
{
    cr_assert_eq(tlskit_make(kit, sizeof kit), 0);
    struct shared sh = {0};
    tst_run(server_main, &sh);
    tlskit_remove(kit);
}
