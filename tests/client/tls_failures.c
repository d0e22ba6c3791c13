/* tls_failures.c: the session against openssl s_server (-www: a status page for every GET), one server per
 * certificate of the test kit: each way a certificate fails verification has its own code (issuer not trusted,
 * expired, self-signed, a host name it lacks, reached by name through `resolve`), a good chain with an intermediate
 * is a 200, and verification is off only when a context or the session names insecure_skip_verify. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "peerkit.h"
#include "tlskit.h"

TestSuite(client_tls_failures, .init = wk_init, .timeout = 120);

static const char *openssl_path(void)
{
    static const char *const where[] = {"/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl", NULL};
    return pk_which(where);
}

/* s_server with the kit's `leaf` (.pem and .key) and the intermediates in `chain` (a kit file, or NULL) on a free
   port, with its port in *port. */
static cio_process *s_server(const char *dir, const char *leaf, const char *chain, int *port)
{
    char cert[512], key[512], name[64], accept[32], chainp[512];
    snprintf(name, sizeof name, "%s.pem", leaf);
    tlskit_path(dir, name, cert, sizeof cert);
    snprintf(name, sizeof name, "%s.key", leaf);
    tlskit_path(dir, name, key, sizeof key);
    if (chain)
        tlskit_path(dir, chain, chainp, sizeof chainp);
    for (int attempt = 0; attempt < 3; attempt++) {
        *port = pk_free_port();
        if (*port < 0)
            break;
        snprintf(accept, sizeof accept, "127.0.0.1:%d", *port);
        char *argv[] = {(char *)openssl_path(),
                        "s_server",
                        "-accept",
                        accept,
                        "-cert",
                        cert,
                        "-key",
                        key,
                        "-www",
                        "-quiet",
                        chain ? "-cert_chain" : NULL,
                        chain ? chainp : NULL,
                        NULL};
        cio_process *p;
        int rc = pk_start(&p, argv, *port);
        if (rc == 0)
            return p;
        if (rc != -ECONNREFUSED)
            break;
    }
    wk_fail(__LINE__, leaf, "openssl s_server did not start");
    return NULL;
}

/* GET `url`: the request's result; on success the status, with the body read whole (a -www page) and checked. */
static int fetch(cio_client_session *s, const char *url, const cio_client_request_opts *o)
{
    cio_client_response *r;
    int rc = cio_client_request(s, "GET", url, o, &r);
    if (rc < 0)
        return rc;
    int status = cio_client_response_status(r);
    cio_buf b = {0};
    rc = cio_client_response_read(r, &b);
    if (rc == 0 && !(b.data && strstr(b.data, "<HTML>") && strstr(b.data, "s_server")))
        rc = -EPROTO;
    cio_buf_free(&b);
    (void)cio_client_response_release(r);
    return rc < 0 ? rc : status;
}

struct tcase {
    const char *leaf;  /* the server's certificate */
    const char *chain; /* the intermediates it sends after it, or NULL */
    const char *host;  /* the name in the URL (reached at 127.0.0.1 through resolve) */
    int want;          /* the request's result: 200 or the error */
};

static const struct tcase cases[] = {
    {"untrusted", NULL, "localhost", CIO_ETLSUNTRUSTED},       /* signed by a CA the client does not trust */
    {"untrusted-chain", NULL, "localhost", CIO_ETLSUNTRUSTED}, /* that CA's own certificate sent along */
    {"expired", NULL, "localhost", CIO_ETLSEXPIRED},
    {"selfsigned", NULL, "localhost", CIO_ETLSSELFSIGNED},
    {"wronghost", NULL, "localhost", CIO_ETLSHOSTNAME},         /* a certificate for wrong.example only */
    {"server", NULL, "not-in-the-cert.test", CIO_ETLSHOSTNAME}, /* a name the certificate lacks */
    {"server", NULL, "127.0.0.1", 200},                         /* its IP SAN */
    {"server", NULL, "localhost", 200},
    {"chain-leaf", "inter.pem", "localhost", 200}, /* leaf and intermediate, as servers send them */
};

static int cases_body(void *arg)
{
    (void)arg;
    const char *bin = openssl_path();
    WK_CHECK(bin, "openssl is not installed");
    if (!bin)
        return 0;
    char dir[256], ca[512];
    WK_EQ(tlskit_make(dir, sizeof dir), 0);
    cio_tls_opts co = {.ca_file = tlskit_path(dir, "ca.pem", ca, sizeof ca)};
    cio_tls_ctx *insecure;
    WK_EQ(cio_tls_ctx_new(&insecure, CIO_TLS_CLIENT, &(cio_tls_opts){.insecure_skip_verify = true}), 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct tcase *c = &cases[i];
        int port;
        cio_process *p = s_server(dir, c->leaf, c->chain, &port);
        if (!p)
            break;
        char resolve[128], url[192];
        snprintf(resolve, sizeof resolve, "%s:%d:127.0.0.1", c->host, port);
        snprintf(url, sizeof url, "https://%s:%d/", c->host, port);
        const char *res[] = {resolve, NULL};
        cio_client_session *s;
        WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.tls_opts = &co, .resolve = res}), 0);
        int rc = fetch(s, url, NULL);
        if (rc != c->want)
            wk_fail(__LINE__, c->leaf, "%s: %s, want %s", c->host, cio_err_name(rc), cio_err_name(c->want));
        WK_EQ(cio_client_session_connections(s, NULL), 0); /* a failed handshake leaves nothing open */
        /* Verification off only for a request that names a context with insecure_skip_verify; the session's
           stays on for the next request. */
        rc = fetch(s, url, &(cio_client_request_opts){.tls = insecure});
        if (rc != 200)
            wk_fail(__LINE__, c->leaf, "%s insecure: %s", c->host, cio_err_name(rc));
        rc = fetch(s, url, NULL);
        if (rc != c->want)
            wk_fail(__LINE__, c->leaf, "%s again: %s, want %s", c->host, cio_err_name(rc), cio_err_name(c->want));
        WK_EQ(cio_client_session_close(s), 0);
        /* A session made insecure by its own options. */
        WK_EQ(cio_client_session_new(
                  &s, &(cio_client_session_opts){.tls_opts = &(cio_tls_opts){.insecure_skip_verify = true},
                                                 .resolve = res}),
              0);
        rc = fetch(s, url, NULL);
        if (rc != 200)
            wk_fail(__LINE__, c->leaf, "%s insecure session: %s", c->host, cio_err_name(rc));
        WK_EQ(cio_client_session_close(s), 0);
        pk_stop(p);
    }
    cio_tls_ctx_free(insecure);
    tlskit_remove(dir);
    return 0;
}

Test(client_tls_failures, each_certificate_failure_has_its_code_against_openssl_s_server)
{
    tst_run(cases_body, NULL);
    wk_verdict();
}

/* Without a CA of its own the session trusts the system store, where the kit's CA is not. */
static int system_body(void *arg)
{
    (void)arg;
    char dir[256];
    WK_EQ(tlskit_make(dir, sizeof dir), 0);
    int port;
    cio_process *p = s_server(dir, "server", NULL, &port);
    if (p) {
        cio_client_session *s;
        WK_EQ(cio_client_session_new(&s, NULL), 0);
        char url[64];
        snprintf(url, sizeof url, "https://127.0.0.1:%d/", port);
        WK_EQ(fetch(s, url, NULL), CIO_ETLSUNTRUSTED);
        WK_EQ(cio_client_session_close(s), 0);
        pk_stop(p);
    }
    tlskit_remove(dir);
    return 0;
}

Test(client_tls_failures, the_system_store_does_not_trust_the_test_ca)
{
    tst_run(system_body, NULL);
    wk_verdict();
}
