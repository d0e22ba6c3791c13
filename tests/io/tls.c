/* tls.c: tests of TLS streams: certificates and their errors, client certificates, versions, ALPN,
   resumption, STARTTLS, deadlines, cancellation, garbage, truncation, and the stream calls over TLS. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "chaoskit.h"
#include "harness.h"
#include <criterion/parameterized.h>
#include "net/net.h"
#include "netkit.h"
#include "tlskit.h"

/* ------------------------------------------------------------------------------------------------ kit */

/* Live OpenSSL objects (SSL, SSL_CTX, SSL_SESSION), counted through ex_data indexes whose callbacks run when
   one is made and freed: a leak of any of them fails the test that made it. */
static atomic_long live_ssl, live_ctx, live_sess;

static void born(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ptr, (void)ad, (void)idx, (void)argl;
    (*(atomic_long *)argp)++;
}

static void died(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ptr, (void)ad, (void)idx, (void)argl;
    (*(atomic_long *)argp)--;
}

__attribute__((constructor)) static void count_openssl_objects(void)
{
    SSL_get_ex_new_index(0, &live_ssl, born, NULL, died);
    SSL_CTX_get_ex_new_index(0, &live_ctx, born, NULL, died);
    SSL_SESSION_get_ex_new_index(0, &live_sess, born, NULL, died);
}

static char kit[256];

static void kit_up(void)
{
    int rc = tlskit_make(kit, sizeof kit);
    cr_assert_eq(rc, 0, "tlskit_make: %d", rc);
}

static void kit_down(void)
{
    tlskit_remove(kit);
    cr_assert_eq(live_ssl, 0, "every SSL object was freed");
    cr_assert_eq(live_ctx, 0, "every SSL_CTX was freed");
    cr_assert_eq(live_sess, 0, "every session was freed");
}

/* A file of the kit (a few at once: each call has its own slot). */
static const char *kp(const char *name)
{
    static char bufs[8][320];
    static int next;
    char *b = bufs[next++ % 8];
    cr_assert_not_null(tlskit_path(kit, name, b, sizeof bufs[0]));
    return b;
}

static cio_tls_ctx *server_ctx_with(const char *leaf, cio_tls_opts o)
{
    char cert[64], key[64];
    snprintf(cert, sizeof cert, "%s.pem", leaf);
    snprintf(key, sizeof key, "%s.key", leaf);
    o.cert_file = kp(cert);
    o.key_file = kp(key);
    cio_tls_ctx *c;
    int rc = cio_tls_ctx_new(&c, CIO_TLS_SERVER, &o);
    cr_assert_eq(rc, 0, "server ctx %s: %s (%s)", leaf, cio_err_name(rc), cio_tls_last_error());
    return c;
}

static cio_tls_ctx *server_ctx(const char *leaf)
{
    return server_ctx_with(leaf, (cio_tls_opts){0});
}

/* A client that trusts the kit's CA. */
static cio_tls_ctx *client_ctx_with(cio_tls_opts o)
{
    if (!o.ca_file && !o.insecure_skip_verify)
        o.ca_file = kp("ca.pem");
    cio_tls_ctx *c;
    int rc = cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &o);
    cr_assert_eq(rc, 0, "client ctx: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    return c;
}

static cio_tls_ctx *client_ctx(void)
{
    return client_ctx_with((cio_tls_opts){0});
}

static cio_server *tls_server(cio_tls_ctx *ctx, cio_conn_fn fn, void *arg, cio_addr *addr)
{
    cio_server *srv;
    int rc = cio_start_server(&srv, fn, arg, "127.0.0.1", 0, &(cio_server_opts){.tls = ctx});
    cr_assert_eq(rc, 0, "start_server: %s", cio_err_name(rc));
    cr_assert_eq(cio_server_addr(srv, addr), 0);
    return srv;
}

static int tls_connect(cio_stream **s, const cio_addr *a, cio_tls_ctx *ctx, const char *name)
{
    return cio_connect_addr(s, a, &(cio_connect_opts){.tls = ctx, .server_name = name});
}

/*
 * A plain server whose handler runs the server's handshake itself, so the test sees the server's result: then
 * it echoes. `done` counts finished handlers.
 */
struct probe {
    cio_tls_ctx *ctx;
    int rc;
    int done;
    cio_tls_info info;
    bool had_cert;
    char subject[128];
    char sni[64];
};

static int probe_handler(cio_stream *s, void *arg)
{
    struct probe *p = arg;
    p->rc = cio_stream_start_tls(s, p->ctx, NULL);
    if (p->rc == 0) {
        cr_assert_eq(cio_stream_tls_info(s, &p->info), 0);
        snprintf(p->sni, sizeof p->sni, "%s", p->info.server_name ? p->info.server_name : "");
        p->info.server_name = p->info.version = p->info.cipher = p->info.alpn = NULL; /* they die with s */
        p->had_cert = cio_stream_tls_peer_cert(s, NULL, 0) > 0;
        if (p->had_cert)
            cr_assert_gt(cio_stream_tls_peer_subject(s, p->subject, sizeof p->subject), 0);
        (void)nk_echo(s, NULL);
    }
    p->done++;
    return 0;
}

static cio_server *probe_server(struct probe *p, cio_addr *addr)
{
    cio_server *srv;
    cr_assert_eq(cio_start_server(&srv, probe_handler, p, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, addr), 0);
    return srv;
}

/* ------------------------------------------------------------------------------------------------ certificates */

static int valid_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cr_assert_eq(live_ctx, 2, "the counters see OpenSSL's objects");
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_tls_ctx_free(sc); /* the server keeps its own reference */
    cr_assert_eq(live_ctx, 2);
    cio_stream *s;
    int rc = cio_open_connection(&s, "localhost", cio_addr_port(&a), &(cio_connect_opts){.tls = cc});
    cr_assert_eq(rc, 0, "%s: %s", cio_err_name(rc), cio_tls_last_error());
    nk_roundtrip(s, "hello over TLS");
    cr_assert_gt(live_sess, 0, "the client keeps a session to resume");
    cr_assert_eq(live_ssl, 2, "one SSL at each end");

    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_str_eq(info.version, "TLSv1.3");
    cr_assert_not_null(info.cipher);
    cr_assert_null(info.alpn, "no ALPN was offered");
    cr_assert_eq(info.alpn_len, 0);
    cr_assert_not(info.resumed);
    cr_assert(info.peer_verified);
    cr_assert_str_eq(info.server_name, "localhost", "SNI was sent");
    cr_assert(cio_stream_is_tls(s));
    cr_assert_not_null(cio_stream_tls_native(s));
    cr_assert_not_null(cio_tls_ctx_native(cc));

    char subject[128];
    cr_assert_eq(cio_stream_tls_peer_subject(s, subject, sizeof subject), (int)strlen("CN=localhost"));
    cr_assert_str_eq(subject, "CN=localhost");
    cr_assert_eq(cio_stream_tls_peer_subject(s, subject, 4), -ENOSPC);
    cr_assert_str_eq(subject, "CN=");
    ssize_t n = cio_stream_tls_peer_cert(s, NULL, 0);
    cr_assert_gt(n, 100, "DER size");
    unsigned char der[4096];
    cr_assert_eq(cio_stream_tls_peer_cert(s, der, 10), n, "too small: the size, nothing copied");
    cr_assert_eq(cio_stream_tls_peer_cert(s, der, sizeof der), n);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    cr_assert_not_null(x, "the copy is a certificate");
    cr_assert_eq(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    X509_free(x);

    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(certs, a_valid_certificate_connects_and_reports_what_was_negotiated, .init = kit_up, .fini = kit_down)
{
    tst_run(valid_body, NULL);
}

/* Parameters are copied into each test's process: strings are arrays, not pointers. */
struct bad_cert {
    char leaf[32];
    int want;
    char reason[64];
};

static struct bad_cert bad_certs[] = {
    {"expired", CIO_ETLSEXPIRED, "certificate has expired"},
    {"wronghost", CIO_ETLSHOSTNAME, "hostname mismatch"},
    {"selfsigned", CIO_ETLSSELFSIGNED, "self-signed certificate"},
    {"untrusted", CIO_ETLSUNTRUSTED, "unable to get local issuer certificate"},
    /* The root is in the chain, self-signed, but nobody trusts it: the issuer is untrusted, not the leaf
       self-signed. */
    {"untrusted-chain", CIO_ETLSUNTRUSTED, "self-signed certificate in certificate chain"},
};

static int bad_cert_body(void *arg)
{
    struct bad_cert *b = arg;
    struct probe p = {.ctx = server_ctx(b->leaf)};
    cio_tls_ctx *cc = client_ctx();
    cio_addr a;
    cio_server *srv = probe_server(&p, &a);
    cio_stream *s = (cio_stream *)&p; /* must be reset to NULL */
    int rc = tls_connect(&s, &a, cc, "localhost");
    cr_assert_eq(rc, b->want, "%s: got %s (%s)", b->leaf, cio_err_name(rc), cio_tls_last_error());
    cr_assert_null(s);
    cr_assert_not_null(strstr(cio_tls_last_error(), b->reason), "%s", cio_tls_last_error());
    cr_assert_str_neq(cio_strerror(rc), "unknown error");
    cr_assert_eq(nk_turn_until(&p.done, 1), 0);
    cr_assert_eq(p.rc, CIO_ETLSALERT, "the server hears the client's alert: %s", cio_err_name(p.rc));
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(p.ctx);
    cio_tls_ctx_free(cc);
    return 0;
}

ParameterizedTestParameters(certs, each_bad_certificate_has_its_own_error)
{
    return cr_make_param_array(struct bad_cert, bad_certs, sizeof bad_certs / sizeof bad_certs[0]);
}

ParameterizedTest(struct bad_cert *b, certs, each_bad_certificate_has_its_own_error, .init = kit_up, .fini = kit_down)
{
    tst_run(bad_cert_body, b);
}

static int ip_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    int rc = tls_connect(&s, &a, cc, "127.0.0.1");
    cr_assert_eq(rc, 0, "an IP SAN matches: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_null(info.server_name, "no SNI for an address (RFC 6066)");
    nk_roundtrip(s, "by address");
    cio_stream_close(s);
    rc = tls_connect(&s, &a, cc, "127.0.0.2");
    cr_assert_eq(rc, CIO_ETLSHOSTNAME, "%s", cio_err_name(rc));
    cr_assert_not_null(strstr(cio_tls_last_error(), "IP address mismatch"), "%s", cio_tls_last_error());
    rc = tls_connect(&s, &a, cc, "[127.0.0.1]");
    cr_assert_eq(rc, 0, "brackets are allowed: %s", cio_err_name(rc));
    cio_stream_close(s);
    rc = tls_connect(&s, &a, cc, "other.localhost");
    cr_assert_eq(rc, CIO_ETLSHOSTNAME, "%s", cio_err_name(rc));
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(certs, addresses_are_checked_against_ip_sans_and_names_against_dns_sans, .init = kit_up, .fini = kit_down)
{
    tst_run(ip_body, NULL);
}

static int chain_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("chain-leaf"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    int rc = tls_connect(&s, &a, cc, "localhost");
    cr_assert_eq(rc, 0, "the server sends its intermediate: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    nk_roundtrip(s, "through an intermediate");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(certs, a_chain_with_an_intermediate_verifies, .init = kit_up, .fini = kit_down)
{
    tst_run(chain_body, NULL);
}

static int default_store_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *system, *skip;
    cr_assert_eq(cio_tls_ctx_new(&system, CIO_TLS_CLIENT, NULL), 0, "the system store: %s", cio_tls_last_error());
    cr_assert_eq(cio_tls_ctx_new(&skip, CIO_TLS_CLIENT, &(cio_tls_opts){.insecure_skip_verify = true}), 0);
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    int rc = tls_connect(&s, &a, system, "localhost");
    cr_assert_eq(rc, CIO_ETLSUNTRUSTED, "the test CA is not a system CA: %s", cio_err_name(rc));
    rc = tls_connect(&s, &a, skip, NULL);
    cr_assert_eq(rc, 0, "verification off, by name: %s", cio_err_name(rc));
    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_not(info.peer_verified);
    nk_roundtrip(s, "unverified");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(system);
    cio_tls_ctx_free(skip);
    return 0;
}

Test(certs, clients_verify_by_default_and_skipping_is_explicit, .init = kit_up, .fini = kit_down)
{
    tst_run(default_store_body, NULL);
}

static int wildcard_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("wildcard"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    struct {
        const char *name;
        int want;
    } cases[] = {
        {"a.test.localhost", 0},
        {"A.TEST.LOCALHOST", 0},
        {"a.b.test.localhost", CIO_ETLSHOSTNAME}, /* "*" is one label */
        {"test.localhost", CIO_ETLSHOSTNAME},     /* and not none */
        {"foo.part.localhost", CIO_ETLSHOSTNAME}, /* partial wildcards are refused */
        {"localhost", CIO_ETLSHOSTNAME},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cio_stream *s;
        int rc = tls_connect(&s, &a, cc, cases[i].name);
        cr_assert_eq(rc, cases[i].want, "%s: %s (%s)", cases[i].name, cio_err_name(rc), cio_tls_last_error());
        if (rc == 0) {
            nk_roundtrip(s, cases[i].name);
            cio_stream_close(s);
        }
    }
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(certs, a_wildcard_matches_one_whole_label, .init = kit_up, .fini = kit_down)
{
    tst_run(wildcard_body, NULL);
}

static int ca_dir_body(void *arg)
{
    (void)arg;
    /* A hashed directory as c_rehash makes it: "<subject hash>.0" naming the CA. */
    char dir[400], link[480];
    snprintf(dir, sizeof dir, "%s/cadir", kit);
    cr_assert_eq(mkdir(dir, 0700), 0);
    FILE *f = fopen(kp("ca.pem"), "r");
    cr_assert_not_null(f);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    cr_assert_not_null(ca);
    snprintf(link, sizeof link, "%s/%08lx.0", dir, X509_subject_name_hash(ca));
    X509_free(ca);
    cr_assert_eq(symlink(kp("ca.pem"), link), 0);

    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx_with((cio_tls_opts){.ca_dir = dir});
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    int rc = tls_connect(&s, &a, cc, "localhost");
    cr_assert_eq(rc, 0, "trusted through the directory: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    nk_roundtrip(s, "hashed dir");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    unlink(link);
    rmdir(dir);
    return 0;
}

Test(certs, a_hashed_ca_directory_is_a_trust_store, .init = kit_up, .fini = kit_down)
{
    tst_run(ca_dir_body, NULL);
}

static int suites_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server");
    cio_tls_ctx *c13 = client_ctx_with((cio_tls_opts){.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256"});
    cio_tls_ctx *c12 =
        client_ctx_with((cio_tls_opts){.max_version = CIO_TLS_1_2, .ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"});
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    cio_tls_info info;
    cr_assert_eq(tls_connect(&s, &a, c13, "localhost"), 0);
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_str_eq(info.cipher, "TLS_CHACHA20_POLY1305_SHA256");
    nk_roundtrip(s, "chacha");
    cio_stream_close(s);
    cr_assert_eq(tls_connect(&s, &a, c12, "localhost"), 0);
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_str_eq(info.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
    cr_assert_str_eq(info.version, "TLSv1.2");
    nk_roundtrip(s, "aes-gcm on 1.2");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(c13);
    cio_tls_ctx_free(c12);
    return 0;
}

Test(certs, cipher_settings_decide_what_is_negotiated, .init = kit_up, .fini = kit_down)
{
    tst_run(suites_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ client certs */

struct client_auth_case {
    int mode;
    char client_leaf[32]; /* "": none */
    int client_want;      /* the client's handshake or first read */
    int server_want;
};

static int client_auth_body(void *arg)
{
    struct client_auth_case *c = arg;
    struct probe p = {.ctx =
                          server_ctx_with("server", (cio_tls_opts){.client_auth = c->mode, .ca_file = kp("ca.pem")})};
    cio_tls_opts co = {0};
    char cert[64], key[64];
    if (c->client_leaf[0]) {
        snprintf(cert, sizeof cert, "%s.pem", c->client_leaf);
        snprintf(key, sizeof key, "%s.key", c->client_leaf);
        co.cert_file = kp(cert);
        co.key_file = kp(key);
    }
    cio_tls_ctx *cc = client_ctx_with(co);
    cio_addr a;
    cio_server *srv = probe_server(&p, &a);
    cio_stream *s;
    int rc = tls_connect(&s, &a, cc, "localhost");
    if (rc == 0) {
        /* TLS 1.3 finishes the client's handshake before the server has checked the client: the verdict comes
           with the first read. */
        char buf[8];
        rc = cio_stream_write(s, "ping", 4);
        cr_assert_eq(rc, 0);
        ssize_t n = cio_stream_read_exactly(s, buf, 4, NULL);
        rc = n == 4 ? 0 : (int)n;
        cio_stream_close(s);
    }
    cr_assert_eq(rc, c->client_want, "client: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    cr_assert_eq(nk_turn_until(&p.done, 1), 0);
    cr_assert_eq(p.rc, c->server_want, "server: %s", cio_err_name(p.rc));
    if (p.rc == 0 && c->client_leaf[0]) {
        cr_assert(p.had_cert);
        cr_assert(p.info.peer_verified);
        cr_assert_str_eq(p.subject, "CN=cio test client");
    }
    if (p.rc == 0 && !c->client_leaf[0])
        cr_assert_not(p.had_cert);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(p.ctx);
    cio_tls_ctx_free(cc);
    return 0;
}

static struct client_auth_case client_auth_cases[] = {
    {CIO_TLS_CLIENT_AUTH_REQUIRE, "client", 0, 0},
    {CIO_TLS_CLIENT_AUTH_REQUIRE, "", CIO_ETLSNOCERT, CIO_ETLSNOCERT},
    {CIO_TLS_CLIENT_AUTH_REQUIRE, "other-client", CIO_ETLSALERT, CIO_ETLSUNTRUSTED},
    {CIO_TLS_CLIENT_AUTH_OPTIONAL, "", 0, 0},
    {CIO_TLS_CLIENT_AUTH_OPTIONAL, "client", 0, 0},
};

ParameterizedTestParameters(client_auth, required_optional_missing_and_untrusted)
{
    return cr_make_param_array(struct client_auth_case, client_auth_cases,
                               sizeof client_auth_cases / sizeof client_auth_cases[0]);
}

ParameterizedTest(struct client_auth_case *c, client_auth, required_optional_missing_and_untrusted, .init = kit_up,
                  .fini = kit_down)
{
    tst_run(client_auth_body, c);
}

/* ------------------------------------------------------------------------------------------------ versions, ALPN */

static int versions_body(void *arg)
{
    (void)arg;
    struct probe p = {.ctx = server_ctx_with("server", (cio_tls_opts){.min_version = CIO_TLS_1_3})};
    cio_tls_ctx *old = client_ctx_with((cio_tls_opts){.max_version = CIO_TLS_1_2});
    cio_addr a;
    cio_server *srv = probe_server(&p, &a);
    cio_stream *s;
    int rc = tls_connect(&s, &a, old, "localhost");
    cr_assert_eq(rc, CIO_ETLSVERSION, "%s (%s)", cio_err_name(rc), cio_tls_last_error());
    cr_assert_eq(nk_turn_until(&p.done, 1), 0);
    cr_assert_eq(p.rc, CIO_ETLSVERSION, "server: %s", cio_err_name(p.rc));
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(p.ctx);

    /* Both at 1.2: it is what they speak. */
    cio_tls_ctx *sc = server_ctx("server");
    srv = tls_server(sc, nk_echo, NULL, &a);
    rc = tls_connect(&s, &a, old, "localhost");
    cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_str_eq(info.version, "TLSv1.2");
    nk_roundtrip(s, "TLS 1.2");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(old);
    return 0;
}

Test(versions, no_version_in_common_is_its_own_error_and_1_2_still_works, .init = kit_up, .fini = kit_down)
{
    tst_run(versions_body, NULL);
}

static int alpn_body(void *arg)
{
    (void)arg;
    const char *server_list[] = {"h2", "http/1.1", NULL};
    const char *client_list[] = {"http/1.1", "h2", NULL};
    const char *foreign[] = {"spdy/3", NULL};
    struct probe p = {.ctx = server_ctx_with("server", (cio_tls_opts){.alpn = server_list})};
    cio_tls_ctx *cc = client_ctx_with((cio_tls_opts){.alpn = client_list});
    cio_tls_ctx *none = client_ctx();
    cio_tls_ctx *other = client_ctx_with((cio_tls_opts){.alpn = foreign});
    cio_addr a;
    cio_server *srv = probe_server(&p, &a);
    cio_stream *s;
    cio_tls_info info;

    int rc = tls_connect(&s, &a, cc, "localhost");
    cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_eq(info.alpn_len, 2, "the server's preference wins");
    cr_assert(memcmp(info.alpn, "h2", 2) == 0);
    nk_roundtrip(s, "alpn");
    cio_stream_close(s);
    cr_assert_eq(nk_turn_until(&p.done, 1), 0);
    cr_assert_eq(p.info.alpn_len, 2);

    rc = tls_connect(&s, &a, none, "localhost");
    cr_assert_eq(rc, 0, "a client without ALPN is served: %s", cio_err_name(rc));
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert_null(info.alpn);
    cio_stream_close(s);
    cr_assert_eq(nk_turn_until(&p.done, 2), 0);

    rc = tls_connect(&s, &a, other, "localhost");
    cr_assert_eq(rc, CIO_ETLSALPN, "%s (%s)", cio_err_name(rc), cio_tls_last_error());
    cr_assert_eq(nk_turn_until(&p.done, 3), 0);
    cr_assert_eq(p.rc, CIO_ETLSALPN, "server: %s", cio_err_name(p.rc));

    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(p.ctx);
    cio_tls_ctx_free(cc);
    cio_tls_ctx_free(none);
    cio_tls_ctx_free(other);
    return 0;
}

Test(alpn, the_server_picks_and_no_overlap_is_refused, .init = kit_up, .fini = kit_down)
{
    tst_run(alpn_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ resumption */

/* Connect, exchange a message (which carries the TLS 1.3 ticket to the client), close; returns `resumed`. */
static bool one_session(const cio_addr *a, cio_tls_ctx *cc)
{
    cio_stream *s;
    int rc = tls_connect(&s, a, cc, "localhost");
    cr_assert_eq(rc, 0, "%s (%s)", cio_err_name(rc), cio_tls_last_error());
    nk_roundtrip(s, "ticket, please");
    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    cr_assert(info.peer_verified, "a resumed session keeps the verified certificate");
    cr_assert_eq(cio_stream_close(s), 0);
    return info.resumed;
}

static int resumption_body(void *arg)
{
    int version = *(int *)arg;
    cio_tls_ctx *sc = server_ctx("server");
    cio_tls_ctx *cc = client_ctx_with((cio_tls_opts){.max_version = version});
    cio_tls_ctx *off = client_ctx_with((cio_tls_opts){.max_version = version, .no_resumption = true});
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cr_assert_not(one_session(&a, cc), "the first is a full handshake");
    cr_assert(one_session(&a, cc), "the second is resumed");
    cr_assert(one_session(&a, cc), "and the third");
    cr_assert_not(one_session(&a, off));
    cr_assert_not(one_session(&a, off), "resumption off: never resumed");
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    cio_tls_ctx_free(off);
    return 0;
}

Test(resumption, the_second_handshake_is_resumed_with_tls_1_3_tickets, .init = kit_up, .fini = kit_down)
{
    int v = CIO_TLS_1_3;
    tst_run(resumption_body, &v);
}

Test(resumption, the_second_handshake_is_resumed_with_tls_1_2, .init = kit_up, .fini = kit_down)
{
    int v = CIO_TLS_1_2;
    tst_run(resumption_body, &v);
}

static int server_no_resumption_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx_with("server", (cio_tls_opts){.no_resumption = true});
    cio_tls_ctx *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cr_assert_not(one_session(&a, cc));
    cr_assert_not(one_session(&a, cc), "the server issues no tickets");
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(resumption, a_server_can_refuse_it, .init = kit_up, .fini = kit_down)
{
    tst_run(server_no_resumption_body, NULL);
}

struct resumer {
    cio_addr a;
    cio_tls_ctx *cc;
    int resumed;
};

static int resumer(void *arg)
{
    struct resumer *r = arg;
    for (int i = 0; i < 10; i++)
        r->resumed += one_session(&r->a, r->cc);
    return 0;
}

/* A TLS 1.3 ticket is used once: tasks resuming at the same time each need one of their own. */
static int concurrent_resumption_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server");
    struct resumer r = {.cc = client_ctx()};
    cio_server *srv = tls_server(sc, nk_echo, NULL, &r.a);
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_spawn(&t[i], resumer, &r, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cio_join(t[i]), 0);
    cr_assert_eq(r.resumed, 27, "only each task's first handshake is full: %d resumed", r.resumed);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(r.cc);
    return 0;
}

Test(resumption, connections_resuming_at_once_each_get_a_ticket, .init = kit_up, .fini = kit_down)
{
    tst_run(concurrent_resumption_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ many handshakes */

static int sequential_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server");
    cio_tls_ctx *cc = client_ctx_with((cio_tls_opts){.no_resumption = true});
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    for (int i = 0; i < 1000; i++) {
        cio_stream *s;
        int rc = tls_connect(&s, &a, cc, "localhost");
        cr_assert_eq(rc, 0, "handshake %d: %s", i, cio_err_name(rc));
        nk_roundtrip(s, "x");
        cr_assert_eq(cio_stream_close(s), 0);
    }
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_eq(live_ssl, 0, "no SSL object left");
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(handshakes, a_thousand_sequential_leave_nothing_behind, .init = kit_up, .fini = kit_down, .timeout = 300)
{
    tst_run(sequential_body, NULL);
}

struct concurrent {
    cio_addr a;
    cio_tls_ctx *cc;
    int ok;
};

static int concurrent_client(void *arg)
{
    struct concurrent *c = arg;
    cio_stream *s;
    int rc = tls_connect(&s, &c->a, c->cc, "localhost");
    if (rc < 0)
        return rc;
    char msg[32], back[32];
    int n = snprintf(msg, sizeof msg, "client %p", (void *)&s);
    if ((rc = cio_stream_write(s, msg, (size_t)n)) == 0 &&
        (rc = (int)cio_stream_read_exactly(s, back, (size_t)n, NULL)) == n && memcmp(msg, back, (size_t)n) == 0) {
        c->ok++;
        rc = 0;
    }
    int end = cio_stream_close(s);
    return rc < 0 ? rc : end;
}

static int concurrent_body(void *arg)
{
    (void)arg;
    enum { N = 200 };
    cio_tls_ctx *sc = server_ctx("server");
    struct concurrent c = {.cc = client_ctx_with((cio_tls_opts){.no_resumption = true})};
    cio_server *srv = tls_server(sc, nk_echo, NULL, &c.a);
    cio_task *t[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_spawn(&t[i], concurrent_client, &c, NULL), 0);
    for (int i = 0; i < N; i++) {
        int rc = cio_join(t[i]);
        cr_assert_eq(rc, 0, "client %d: %s (%s)", i, cio_err_name(rc), cio_tls_last_error());
    }
    cr_assert_eq(c.ok, N);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_eq(live_ssl, 0, "no SSL object left");
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(c.cc);
    return 0;
}

Test(handshakes, two_hundred_concurrent_leave_nothing_behind, .init = kit_up, .fini = kit_down, .timeout = 300)
{
    long nofile = nk_raise_nofile(1024);
    cr_assert_geq(nofile, 512, "two descriptors per connection");
    tst_run(concurrent_body, NULL);
}

/* Open TLS connections that have each made one round trip and now wait (the server's handlers in a read, the
   clients between calls) hold no I/O buffer of their own: one, the loop's, served them all in turn. */
static int idle_tls_body(void *arg)
{
    (void)arg;
    enum { N = 24 };
    cio_tls_ctx *sc = server_ctx("server");
    cio_tls_ctx *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s[N];
    for (int i = 0; i < N; i++) {
        int rc = tls_connect(&s[i], &a, cc, "localhost");
        cr_assert_eq(rc, 0, "connection %d: %s", i, cio_err_name(rc));
        nk_roundtrip(s[i], "hello over TLS");
    }
    for (int i = 0; i < 100; i++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0); /* the handlers go back to waiting */
    cr_assert_eq(tst_live_big_blocks(), 1, "%ld I/O buffers held by %d idle TLS connections (both ends)",
                 tst_live_big_blocks(), 2 * N);
    for (int i = 0; i < N; i++) {
        nk_roundtrip(s[i], "still there");
        cr_assert_eq(cio_stream_close(s[i]), 0);
    }
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(handshakes, idle_connections_hold_no_io_buffer, .init = kit_up, .fini = kit_down)
{
    tst_run(idle_tls_body, NULL);
}

/* A TLS connection kept between requests (CIO_CONN_KEEP): one handshake, then each request in a task of its own,
   the session carried across. */
static int tls_keep_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server");
    cio_tls_ctx *cc = client_ctx();
    cio_addr a;
    struct nk_keeper k = {0};
    cio_server *srv = tls_server(sc, nk_line_keeper, &k, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    for (int i = 0; i < 3; i++) {
        nk_roundtrip(s, "over TLS\n");
        for (int t = 0; t < 20; t++)
            cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
        struct cio__server_stats st;
        cio__server_stats(srv, &st);
        /* The chaos transport's short reads leave the socket's edge set: the server then reads on instead of
           parking, which is right when it cannot know the socket is empty. */
        if (!tst_chaos_on())
            cr_assert_eq(st.parked, (uint64_t)i + 1, "parked after answer %d", i);
    }
    cr_assert(tst_chaos_on() ? k.calls >= 3 : k.calls == 3, "%d calls", k.calls); /* chaos: a call may wait on */
    cr_assert_eq(tst_live_big_blocks(), 1, "parked, the server's side holds no buffer either");
    cr_assert_eq(cio_stream_close(s), 0, "close_notify answered by the parked side");
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_eq(live_ssl, 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(handshakes, a_kept_tls_connection_parks_between_requests, .init = kit_up, .fini = kit_down)
{
    tst_run(tls_keep_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ STARTTLS */

struct starttls {
    cio_tls_ctx *ctx;
    bool pipelined; /* the client sends its ClientHello right after the command, before any reply */
    int rc;
    int done;
};

/* Wait until the socket holds more than `n` unread bytes (the command and the start of the ClientHello). */
static void wait_unread_above(cio_stream *s, int n)
{
    for (int i = 0; i < 100000; i++) {
        int avail = 0;
        cr_assert_eq(ioctl(cio_stream_fd(s), FIONREAD, &avail), 0);
        if (avail > n)
            return;
        cr_assert_eq(cio_sleep(CIO_MS(1)), 0);
    }
    cr_assert_fail("the ClientHello never came");
}

static int starttls_handler(cio_stream *s, void *arg)
{
    struct starttls *st = arg;
    char line[64];
    if (st->pipelined)
        wait_unread_above(s, (int)strlen("STARTTLS\r\n"));
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    cr_assert_eq(n, (ssize_t)strlen("STARTTLS\r\n"));
    cr_assert(memcmp(line, "STARTTLS\r\n", (size_t)n) == 0);
    if (!st->pipelined)
        cr_assert_eq(cio_stream_write(s, "220 go ahead\r\n", 14), 0);
    cr_assert_not(cio_stream_is_tls(s));
    st->rc = cio_stream_start_tls(s, st->ctx, NULL);
    if (st->rc == 0)
        (void)nk_echo(s, NULL);
    st->done++;
    return 0;
}

static int starttls_body(void *arg)
{
    bool pipelined = *(bool *)arg;
    struct starttls st = {.ctx = server_ctx("server"), .pipelined = pipelined};
    cio_tls_ctx *cc = client_ctx();
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, starttls_handler, &st, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *s;
    cr_assert_eq(cio_connect_addr(&s, &a, NULL), 0);
    cr_assert_eq(cio_stream_write(s, "STARTTLS\r\n", 10), 0);
    if (!pipelined) {
        char line[64];
        cr_assert_eq(cio_stream_read_line(s, line, sizeof line), 14);
    }
    int rc = cio_stream_start_tls(s, cc, "localhost");
    cr_assert_eq(rc, 0, "%s (%s)", cio_err_name(rc), cio_tls_last_error());
    cr_assert(cio_stream_is_tls(s));
    nk_roundtrip(s, "now encrypted");
    cr_assert_eq(cio_stream_start_tls(s, cc, "localhost"), -EINVAL, "already TLS");
    cio_stream_close(s);
    cr_assert_eq(nk_turn_until(&st.done, 1), 0);
    cr_assert_eq(st.rc, 0, "server: %s", cio_err_name(st.rc));
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(st.ctx);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(starttls, upgrades_a_plain_stream_after_a_reply, .init = kit_up, .fini = kit_down)
{
    bool pipelined = false;
    tst_run(starttls_body, &pipelined);
}

Test(starttls, bytes_buffered_before_the_upgrade_are_the_handshakes_first, .init = kit_up, .fini = kit_down)
{
    bool pipelined = true;
    tst_run(starttls_body, &pipelined);
}

/* ------------------------------------------------------------------------------------------------ stalls, cancel */

/* A handler that answers nothing, until the peer goes (or the server cancels it). */
static int silent_handler(cio_stream *s, void *arg)
{
    int *count = arg;
    (*count)++;
    char buf[512];
    while (cio_stream_read(s, buf, sizeof buf) > 0)
        ;
    return 0;
}

static int stalled_server_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *cc = client_ctx();
    int accepted = 0;
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, silent_handler, &accepted, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *s;
    int64_t t0 = cio_now();
    int rc =
        cio_connect_addr(&s, &a, &(cio_connect_opts){.tls = cc, .server_name = "localhost", .timeout = CIO_SEC(10)});
    cr_assert_eq(rc, -ETIMEDOUT, "the handshake is within the connect timeout: %s", cio_err_name(rc));
    cr_assert_eq(cio_now() - t0, CIO_SEC(10), "given up when the timeout ran out (mock clock)");
    cr_assert_null(s);
    cr_assert_eq(live_ssl, 0);
    cr_assert_eq(accepted, 1);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(deadline, a_server_that_stalls_mid_handshake_hits_the_clients_deadline, .init = kit_up, .fini = kit_down)
{
    tst_run_expect(stalled_server_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

static int stalled_client_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server");
    int calls = 0;
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, silent_handler, &calls, "127.0.0.1", 0,
                                  &(cio_server_opts){.tls = sc, .tls_handshake_timeout = CIO_SEC(10)}),
                 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    cio_stream *raw;
    cr_assert_eq(cio_connect_addr(&raw, &a, NULL), 0);
    int64_t t0 = cio_now();
    char c;
    ssize_t n = cio_stream_read(raw, &c, 1); /* says nothing: the server gives up and closes */
    cr_assert_eq(n, 0, "%s", cio_err_name((int)n));
    cr_assert_eq(cio_now() - t0, CIO_SEC(10), "closed when the handshake timeout ran out (mock clock)");
    cr_assert_eq(calls, 0, "the handler never ran");
    struct cio__server_stats st;
    cio__server_stats(srv, &st);
    cr_assert_eq(st.tls_failed, 1);
    cio_stream_close(raw);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    return 0;
}

Test(deadline, a_client_that_stalls_mid_handshake_hits_the_servers_timeout, .init = kit_up, .fini = kit_down)
{
    tst_run_expect(stalled_client_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

struct cancelled {
    cio_addr a;
    cio_tls_ctx *cc;
    int started;
};

static int cancelled_client(void *arg)
{
    struct cancelled *c = arg;
    cio_stream *s = NULL;
    c->started = 1;
    int rc = tls_connect(&s, &c->a, c->cc, "localhost");
    cr_assert_null(s);
    return rc;
}

static int cancel_body(void *arg)
{
    (void)arg;
    int accepted = 0;
    cio_server *srv;
    struct cancelled c = {.cc = client_ctx()};
    cr_assert_eq(cio_start_server(&srv, silent_handler, &accepted, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &c.a), 0);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, cancelled_client, &c, NULL), 0);
    cr_assert_eq(nk_turn_until(&accepted, 1), 0);
    for (int i = 0; live_ssl < 1; i++) {
        cr_assert_lt(i, 100000, "the handshake never began");
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    }
    cr_assert_eq(live_ssl, 1, "the handshake is under way");
    cr_assert_eq(cio_cancel(t, NULL), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(live_ssl, 0, "no SSL object left");
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(c.cc);
    return 0; /* tst_run checks that no descriptor is left */
}

Test(cancel, cancelling_a_handshake_leaves_no_descriptor_and_no_ssl_object, .init = kit_up, .fini = kit_down)
{
    tst_run(cancel_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ garbage */

static int garbage_body(void *arg)
{
    (void)arg;
    struct probe p = {.ctx = server_ctx("server")};
    cio_addr a, b;
    cio_server *probe = probe_server(&p, &a);
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_server *srv = tls_server(sc, nk_echo, NULL, &b);

    const char *junk[] = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\xff\xff garbage in a record"};
    for (int i = 0; i < 2; i++) {
        cio_stream *raw;
        cr_assert_eq(cio_connect_addr(&raw, &a, NULL), 0);
        cr_assert_eq(cio_stream_write(raw, junk[i], strlen(junk[i])), 0);
        char buf[64];
        while (cio_stream_read(raw, buf, sizeof buf) > 0)
            ; /* an alert, perhaps, then the end */
        cio_stream_close(raw);
        cr_assert_eq(nk_turn_until(&p.done, i + 1), 0);
        cr_assert_eq(p.rc, i == 0 ? CIO_ETLSPROTO : CIO_ETLSPROTO, "junk %d: %s", i, cio_err_name(p.rc));

        /* The same at the TLS server: it goes on serving. */
        cr_assert_eq(cio_connect_addr(&raw, &b, NULL), 0);
        cr_assert_eq(cio_stream_write(raw, junk[i], strlen(junk[i])), 0);
        while (cio_stream_read(raw, buf, sizeof buf) > 0)
            ;
        cio_stream_close(raw);
        cio_stream *s;
        int rc = tls_connect(&s, &b, cc, "localhost");
        cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
        nk_roundtrip(s, "still serving");
        cio_stream_close(s);
    }
    struct cio__server_stats st;
    cio__server_stats(srv, &st);
    cr_assert_eq(st.tls_failed, 2);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_eq(cio_server_close(probe, CIO_SEC(5)), 0);
    cio_tls_ctx_free(p.ctx);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(garbage, bytes_that_are_not_a_client_hello_give_a_clear_error_and_serving_goes_on, .init = kit_up,
     .fini = kit_down)
{
    tst_run(garbage_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ closing */

/* Writes a greeting, then ends: with close_notify (cio_stream_close) or by shutting the socket (truncation). */
static int greeter(cio_stream *s, void *arg)
{
    bool truncate = *(bool *)arg;
    cr_assert_eq(cio_stream_write(s, "hello", 5), 0);
    if (truncate) {
        cr_assert_eq(cio_stream_drain(s), 0);
        cr_assert_eq(shutdown(cio_stream_fd(s), SHUT_WR), 0);
        char c;
        (void)cio_stream_read(s, &c, 1); /* until the client goes */
    }
    return 0;
}

static int closing_body(void *arg)
{
    bool truncate = *(bool *)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_tls_ctx *lax = client_ctx_with((cio_tls_opts){.allow_truncation = true});
    cio_addr a;
    cio_server *srv = tls_server(sc, greeter, &truncate, &a);
    cio_stream *s;
    char buf[16];
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    cr_assert_eq(cio_stream_read_exactly(s, buf, 5, NULL), 5);
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    cr_assert_eq(n, truncate ? CIO_ETLSTRUNCATED : 0, "%s", cio_err_name((int)n));
    cr_assert_eq(cio_stream_read(s, buf, sizeof buf), n, "it sticks");
    cr_assert_eq(cio_stream_close(s), 0);
    if (truncate) {
        cr_assert_eq(tls_connect(&s, &a, lax, "localhost"), 0);
        cr_assert_eq(cio_stream_read_exactly(s, buf, 5, NULL), 5);
        n = cio_stream_read(s, buf, sizeof buf);
        cr_assert_eq(n, 0, "allowed: a plain end, not %s", cio_err_name((int)n));
        cr_assert(cio_stream_at_eof(s));
        cr_assert_eq(cio_stream_close(s), 0);
    }
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    cio_tls_ctx_free(lax);
    return 0;
}

Test(closing, close_sends_close_notify_and_the_peer_reads_a_clean_end, .init = kit_up, .fini = kit_down)
{
    bool truncate = false;
    tst_run(closing_body, &truncate);
}

Test(closing, a_peer_that_ends_without_close_notify_is_reported_as_truncated, .init = kit_up, .fini = kit_down)
{
    bool truncate = true;
    tst_run(closing_body, &truncate);
}

/* Reads everything to the end, then sends it back and closes: a half-close over TLS. */
static int collect_then_reply(cio_stream *s, void *arg)
{
    (void)arg;
    static char all[1 << 20];
    size_t len = 0;
    ssize_t n;
    while ((n = cio_stream_read(s, all + len, sizeof all - len)) > 0)
        len += (size_t)n;
    cr_assert_eq(n, 0, "a clean end: %s", cio_err_name((int)n));
    cr_assert_eq(cio_stream_write(s, all, len), 0);
    return 0;
}

static int half_close_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, collect_then_reply, NULL, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    static char msg[300000], back[300000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    cr_assert_eq(cio_stream_write(s, msg, sizeof msg), 0);
    cr_assert_eq(cio_stream_write_eof(s), 0);
    cr_assert_eq(cio_stream_write(s, "x", 1), -EINVAL, "no writes after write_eof");
    size_t got = 0;
    cr_assert_eq(cio_stream_read_exactly(s, back, sizeof back, &got), (ssize_t)sizeof back, "got %zu", got);
    cr_assert(memcmp(msg, back, sizeof msg) == 0);
    cr_assert_eq(cio_stream_read(s, back, 1), 0);
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(closing, write_eof_sends_close_notify_and_the_peer_can_still_answer, .init = kit_up, .fini = kit_down)
{
    tst_run(half_close_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ stream calls */

struct slow {
    size_t total;
    int started;
};

/* Reads in small pieces after waiting to be told to start: the writer must wait meanwhile. */
static int slow_reader(cio_stream *s, void *arg)
{
    struct slow *sl = arg;
    while (!sl->started)
        cr_assert_eq(cio_sleep(CIO_MS(1)), 0);
    char buf[1000];
    ssize_t n;
    size_t at = 0;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++, at++)
            cr_assert_eq(buf[i], (char)(at * 7 % 251), "byte %zu", at);
    }
    sl->total = at;
    return 0;
}

static int backpressure_body(void *arg)
{
    (void)arg;
    enum { TOTAL = 32 << 20 }; /* more than the socket buffers of both ends hold */
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    struct slow sl = {0};
    cio_addr a;
    cio_server *srv = tls_server(sc, slow_reader, &sl, &a);
    cio_stream *s;
    cr_assert_eq(
        cio_connect_addr(
            &s, &a, &(cio_connect_opts){.tls = cc, .server_name = "localhost", .stream = {.high_water = 32 * 1024}}),
        0);
    char *data = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (char)(i * 7 % 251);
    /* With the reader not reading, the write cannot finish: it waits at the high-water mark. */
    cio_scope sc_;
    cr_assert_eq(cio_timeout_begin(&sc_, CIO_MS(20)), 0);
    int rc = cio_stream_write(s, data, TOTAL);
    cr_assert_eq(cio_scope_end(&sc_), -ETIMEDOUT);
    cr_assert_eq(rc, -ETIMEDOUT, "the write waited: %s", cio_err_name(rc));
    /* Now the rest, with the reader reading: nothing is lost (what was queued before the timeout stays). */
    sl.started = 1;
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(10)), 0);
    cr_assert_gt(sl.total, 32 * 1024, "more than the buffer went out");
    cr_assert_lt(sl.total, TOTAL);
    free(data);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(stream, a_write_waits_at_the_high_water_mark_and_what_was_queued_arrives, .init = kit_up, .fini = kit_down)
{
    tst_run(backpressure_body, NULL);
}

static int line_server(cio_stream *s, void *arg)
{
    (void)arg;
    cr_assert_eq(cio_stream_write(s, "one\ntwo\r\nthree and a long line\nlast", 35), 0);
    return 0;
}

static int lines_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, line_server, NULL, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    char buf[64];
    cr_assert_eq(cio_stream_read_line(s, buf, sizeof buf), 4);
    cr_assert(memcmp(buf, "one\n", 4) == 0);
    cr_assert_eq(cio_stream_read_until(s, "\r\n", 2, buf, sizeof buf), 5);
    cr_assert_eq(cio_stream_read_line(s, buf, 5), -EMSGSIZE, "over the limit: kept");
    const char *line;
    size_t len;
    cr_assert_eq(cio_stream_next_line(s, &line, &len), 1);
    cr_assert_eq(len, strlen("three and a long line\n"));
    cr_assert_eq(cio_stream_next_line(s, &line, &len), 1);
    cr_assert_eq(len, 4, "the last, without newline");
    cr_assert_eq(cio_stream_next_line(s, &line, &len), 0);
    cr_assert(cio_stream_at_eof(s));
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(stream, lines_and_limits_work_over_tls, .init = kit_up, .fini = kit_down)
{
    tst_run(lines_body, NULL);
}

struct sink {
    size_t total;
    unsigned sum;
};

static int summing_reader(cio_stream *s, void *arg)
{
    struct sink *k = arg;
    const void *chunk;
    size_t len;
    int rc;
    while ((rc = cio_stream_next_chunk(s, &chunk, &len)) == 1) {
        for (size_t i = 0; i < len; i++)
            k->sum = k->sum * 31 + ((const unsigned char *)chunk)[i];
        k->total += len;
    }
    cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    return 0;
}

static int sendfile_body(void *arg)
{
    (void)arg;
    enum { SIZE = 1 << 20 };
    char path[400];
    snprintf(path, sizeof path, "%s/payload", kit);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0);
    unsigned want = 0;
    char *data = malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (char)(i * 13 % 253);
    cr_assert_eq(write(fd, data, SIZE), SIZE);
    size_t off = 1000, count = SIZE - 2000;
    for (size_t i = off; i < off + count; i++)
        want = want * 31 + (unsigned char)data[i];
    for (size_t i = SIZE - 10; i < SIZE; i++)
        want = want * 31 + (unsigned char)data[i];
    free(data);

    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    struct sink k = {0};
    cio_addr a;
    cio_server *srv = tls_server(sc, summing_reader, &k, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    cr_assert_eq(cio_stream_sendfile(s, fd, (off_t)off, count), (ssize_t)count);
    cr_assert_eq(cio_stream_sendfile(s, fd, SIZE - 10, 100), 10, "short at the file's end");
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_eq(k.total, count + 10);
    cr_assert_eq(k.sum, want, "the bytes, in order");
    close(fd);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(stream, sendfile_goes_through_the_session, .init = kit_up, .fini = kit_down)
{
    tst_run(sendfile_body, NULL);
}

static int unix_body(void *arg)
{
    (void)arg;
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/tls.sock", dir);
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_server *srv;
    cr_assert_eq(cio_start_unix_server(&srv, nk_echo, NULL, path, &(cio_server_opts){.tls = sc}), 0);
    cio_stream *s;
    cr_assert_eq(cio_open_unix_connection(&s, path, &(cio_connect_opts){.tls = cc}), -EINVAL,
                 "a Unix socket has no name to verify");
    int rc = cio_open_unix_connection(&s, path, &(cio_connect_opts){.tls = cc, .server_name = "localhost"});
    cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    nk_roundtrip(s, "over a Unix socket");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    nk_rmdir(dir);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(stream, tls_over_a_unix_socket, .init = kit_up, .fini = kit_down)
{
    tst_run(unix_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ key log */

static int keylog_body(void *arg)
{
    const char *file = arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    nk_roundtrip(s, "secrets");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f, "the key log exists");
    char line[512];
    int secrets = 0;
    while (fgets(line, sizeof line, f))
        secrets += strncmp(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0;
    fclose(f);
    cr_assert_eq(secrets, 2, "the client's and the server's context each log the handshake");
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "secrets are private");
    return 0;
}

Test(keylog, sslkeylogfile_from_the_environment, .init = kit_up, .fini = kit_down)
{
    char file[400];
    snprintf(file, sizeof file, "%s/keys.log", kit);
    setenv("SSLKEYLOGFILE", file, 1);
    tst_run(keylog_body, file);
    unsetenv("SSLKEYLOGFILE");
}

static int keylog_option_body(void *arg)
{
    const char *file = arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx_with((cio_tls_opts){.keylog_file = file});
    cio_addr a;
    cio_server *srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    nk_roundtrip(s, "secrets");
    cio_stream_close(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f);
    char line[512];
    int lines = 0, secrets = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        secrets += strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0;
    }
    fclose(f);
    cr_assert_eq(secrets, 1, "only the client's context logs");
    cr_assert_eq(lines, 5, "TLS 1.3 has five secrets per handshake");
    return 0;
}

Test(keylog, the_option_names_the_file, .init = kit_up, .fini = kit_down)
{
    char file[400];
    snprintf(file, sizeof file, "%s/opt-keys.log", kit);
    unsetenv("SSLKEYLOGFILE");
    tst_run(keylog_option_body, file);
}

static int no_keylog_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *c;
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, NULL), 0);
    cr_assert_null(SSL_CTX_get_keylog_callback(cio_tls_ctx_native(c)), "off unless asked for");
    cio_tls_ctx_free(c);
    return 0;
}

Test(keylog, off_by_default)
{
    unsetenv("SSLKEYLOGFILE");
    tst_run(no_keylog_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ bad input */

static int bad_input_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *c = (cio_tls_ctx *)&c;
    const char *empty_alpn[] = {"", NULL};
    const char *none_alpn[] = {NULL};
    cr_assert_eq(cio_tls_ctx_new(NULL, CIO_TLS_CLIENT, NULL), -EINVAL);
    cr_assert_eq(cio_tls_ctx_new(&c, 7, NULL), -EINVAL);
    cr_assert_null(c);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_SERVER, NULL), -EINVAL, "a server needs a certificate");
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_SERVER, &(cio_tls_opts){.cert_file = kp("server.pem")}), -EINVAL,
                 "and its key");
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_SERVER,
                                 &(cio_tls_opts){.cert_file = kp("nonexistent.pem"), .key_file = kp("server.key")}),
                 -ENOENT);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.ca_file = kp("none.pem")}), -ENOENT);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.ca_dir = kp("none")}), -ENOENT);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.ca_file = ""}), -EINVAL);

    int rc = cio_tls_ctx_new(&c, CIO_TLS_SERVER,
                             &(cio_tls_opts){.cert_file = kp("server.pem"), .key_file = kp("client.key")});
    cr_assert_eq(rc, CIO_ETLSCONFIG, "%s", cio_err_name(rc));
    cr_assert_not_null(strstr(cio_tls_last_error(), "does not match"), "%s", cio_tls_last_error());
    rc = cio_tls_ctx_new(&c, CIO_TLS_SERVER,
                         &(cio_tls_opts){.cert_file = kp("server.key"), .key_file = kp("server.key")});
    cr_assert_eq(rc, CIO_ETLSCONFIG, "a key is not a certificate: %s", cio_err_name(rc));
    cr_assert_str_neq(cio_tls_last_error(), "");
    rc = cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.ca_file = kp("server.key")});
    cr_assert_eq(rc, CIO_ETLSCONFIG, "no certificate in the CA file: %s", cio_err_name(rc));
    rc = cio_tls_ctx_new(
        &c, CIO_TLS_SERVER,
        &(cio_tls_opts){.cert_file = kp("server.pem"), .key_file = kp("server.key"), .chain_file = kp("server.key")});
    cr_assert_eq(rc, CIO_ETLSCONFIG, "no certificate in the chain file: %s", cio_err_name(rc));
    cr_assert_not_null(strstr(cio_tls_last_error(), "chain"), "%s", cio_tls_last_error());
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.chain_file = kp("inter.pem")}), -EINVAL,
                 "a chain without a certificate");
    cr_assert_eq(
        cio_tls_ctx_new(
            &c, CIO_TLS_SERVER,
            &(cio_tls_opts){.cert_file = kp("server.pem"), .key_file = kp("server.key"), .chain_file = kp("none.pem")}),
        -ENOENT);
    rc = cio_tls_ctx_new(
        &c, CIO_TLS_SERVER,
        &(cio_tls_opts){.cert_file = kp("server.pem"), .key_file = kp("server.key"), .chain_file = kp("inter.pem")});
    cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    cio_tls_ctx_free(c);
    rc = cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.ciphers = "NO-SUCH-CIPHER"});
    cr_assert_eq(rc, CIO_ETLSCONFIG, "%s", cio_err_name(rc));
    rc = cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.ciphersuites = "TLS_NO_SUCH"});
    cr_assert_eq(rc, CIO_ETLSCONFIG, "%s", cio_err_name(rc));
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.alpn = empty_alpn}), -EINVAL);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.alpn = none_alpn}), -EINVAL);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.min_version = 0x0301}), -EINVAL, "TLS 1.0");
    cr_assert_eq(
        cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.min_version = CIO_TLS_1_3, .max_version = CIO_TLS_1_2}),
        -EINVAL);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.client_auth = CIO_TLS_CLIENT_AUTH_REQUIRE}),
                 -EINVAL, "client_auth is a server's");
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.client_auth = 9}), -EINVAL);
    cr_assert_eq(cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &(cio_tls_opts){.keylog_file = "/nonexistent/dir/keys"}), -ENOENT);
    cio_tls_ctx_free(NULL);
    cr_assert_null(cio_tls_ctx_native(NULL));

    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_server *srv;
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0, &(cio_server_opts){.tls = cc}), -EINVAL,
                 "a server needs a server context");
    cr_assert_eq(cio_start_server(&srv, nk_echo, NULL, "127.0.0.1", 0,
                                  &(cio_server_opts){.tls = sc, .tls_handshake_timeout = -1}),
                 -EINVAL);
    cio_addr a;
    srv = tls_server(sc, nk_echo, NULL, &a);
    cio_stream *s = NULL;
    cr_assert_eq(cio_connect_addr(&s, &a, &(cio_connect_opts){.tls = sc}), -EINVAL, "a client context");
    cr_assert_eq(cio_open_connection(&s, "127.0.0.1", cio_addr_port(&a), &(cio_connect_opts){.tls = sc}), -EINVAL);
    cr_assert_eq(cio_connect_addr(&s, &a, &(cio_connect_opts){.tls = cc}), -EINVAL, "no name to verify");
    cr_assert_eq(cio_connect_addr(&s, &a, &(cio_connect_opts){.tls = cc, .server_name = ""}), -EINVAL);

    /* start_tls on what cannot take it. */
    cr_assert_eq(cio_stream_start_tls(NULL, cc, "localhost"), -EINVAL);
    cio_stream *rd, *wr;
    cr_assert_eq(cio_pipe_open(&rd, &wr, NULL), 0);
    cr_assert_eq(cio_stream_start_tls(rd, cc, "localhost"), -EINVAL, "a pipe");
    cr_assert_not(cio_stream_is_tls(rd));
    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(rd, &info), -EINVAL, "not TLS");
    cr_assert_eq(cio_stream_tls_peer_cert(rd, NULL, 0), -EINVAL);
    char subj[16];
    cr_assert_eq(cio_stream_tls_peer_subject(rd, subj, sizeof subj), -EINVAL);
    cr_assert_null(cio_stream_tls_native(rd));
    cio_stream_close(rd);
    cio_stream_close(wr);

    cr_assert_eq(cio_connect_addr(&s, &a, NULL), 0);
    cr_assert_eq(cio_stream_start_tls(s, NULL, "localhost"), -EINVAL);
    cr_assert_eq(cio_stream_start_tls(s, cc, NULL), -EINVAL, "verification needs a name");
    cr_assert(!cio_stream_is_tls(s), "a refused start leaves the stream plain");
    int r = cio_stream_start_tls(s, cc, "localhost");
    cr_assert_eq(r, 0, "and usable: %s", cio_err_name(r));
    cr_assert_eq(cio_stream_tls_info(s, NULL), -EINVAL);
    cr_assert_eq(cio_stream_tls_peer_subject(s, NULL, 1), -EINVAL);
    cr_assert_eq(cio_stream_tls_peer_cert(s, NULL, 5), -EINVAL);
    cio_stream_close(s);

    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(bad_input, every_call_refuses_what_it_cannot_use_with_a_clear_error, .init = kit_up, .fini = kit_down)
{
    tst_run(bad_input_body, NULL);
}

static int peer_without_cert_body(void *arg)
{
    (void)arg;
    struct probe p = {.ctx = server_ctx("server")};
    cio_tls_ctx *cc = client_ctx();
    cio_addr a;
    cio_server *srv = probe_server(&p, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    nk_roundtrip(s, "x");
    cio_stream_close(s);
    cr_assert_eq(nk_turn_until(&p.done, 1), 0);
    cr_assert_eq(p.rc, 0);
    cr_assert_not(p.had_cert, "the server asked for none");
    cr_assert_not(p.info.peer_verified);
    cr_assert_str_eq(p.sni, "localhost", "the server saw the SNI");
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(p.ctx);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(certs, a_server_sees_no_client_certificate_unless_it_asks, .init = kit_up, .fini = kit_down)
{
    tst_run(peer_without_cert_body, NULL);
}

Test(errors, every_tls_code_has_a_name_and_a_message)
{
    for (int code = 4200; code <= 4212; code++) {
        cr_assert_str_neq(cio_strerror(-code), "unknown error", "%d", code);
        cr_assert(strncmp(cio_err_name(-code), "CIO_ETLS", 8) == 0, "%d: %s", code, cio_err_name(-code));
    }
    cr_assert_eq(CIO_ETLS, -4200);
    cr_assert_eq(CIO_ETLSTRUNCATED, -4212);
}

/* ------------------------------------------------------------------------------------------------ regressions */

struct held {
    int go;
    size_t got;
};

/* Reads nothing until told to, then everything to the end. */
static int held_reader(cio_stream *s, void *arg)
{
    struct held *h = arg;
    while (!h->go)
        cr_assert_eq(cio_sleep(CIO_MS(1)), 0);
    char buf[16384];
    ssize_t n;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
        h->got += (size_t)n;
    return 0;
}

struct call {
    cio_stream *s;
    int started, done;
    ssize_t rc;
};

static int closer(void *arg)
{
    struct call *c = arg;
    c->started = 1;
    c->rc = cio_stream_close(c->s);
    c->done = 1;
    return 0;
}

static int late_reader(void *arg)
{
    struct call *c = arg;
    char b[16];
    c->started = 1;
    c->rc = cio_stream_read(c->s, b, sizeof b);
    c->done = 1;
    return 0;
}

/* A read that starts while close is flushing (or waiting for close_notify) used to get in, and close then freed
   the stream under it. */
static int read_during_close_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    struct held h = {0};
    cio_addr a;
    cio_server *srv = tls_server(sc, held_reader, &h, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    static char block[16384];
    memset(block, 'x', sizeof block);
    /* Write until the peer's socket and ours are full and the buffer holds the rest: on the mock clock, the
       write that must wait for the reader (who waits for h.go) times out as soon as nothing else can run. */
    for (int rc = 0; rc == 0;) {
        cio_scope t;
        cr_assert_eq(cio_timeout_begin(&t, CIO_SEC(1)), 0);
        rc = cio_stream_write(s, block, sizeof block);
        int end = cio_scope_end(&t);
        cr_assert(rc == 0 ? end == 0 : rc == -ETIMEDOUT && end == -ETIMEDOUT, "%s", cio_err_name(rc));
    }
    struct call c = {.s = s}, r = {.s = s};
    cio_task *ct, *rt;
    cr_assert_eq(cio_spawn(&ct, closer, &c, NULL), 0);
    cr_assert_eq(cio_spawn(&rt, late_reader, &r, NULL), 0);
    cr_assert_eq(nk_turn_until(&r.done, 1), 0);
    cr_assert_eq(c.done, 0, "close is still flushing");
    cr_assert_eq(r.rc, -EBADF, "no call starts once close has: %s", cio_err_name((int)r.rc));
    h.go = 1;
    cr_assert_eq(cio_join(ct), 0);
    cr_assert_eq(c.rc, 0, "%s", cio_err_name((int)c.rc));
    cr_assert_eq(cio_join(rt), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_gt(h.got, 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(regress, a_read_cannot_start_while_close_is_under_way, .init = kit_up, .fini = kit_down)
{
    tst_run_expect(read_during_close_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

/* Sends a line in the clear with more bytes behind it, so the client's buffer holds unread bytes at start_tls.
   It then reads into a buffer of its own large enough to be read into directly: this side, in the same process,
   must not allocate while the client's allocations are made to fail. */
static int line_and_more(cio_stream *s, void *arg)
{
    static char sink[16 * 1024];
    (void)arg;
    cr_assert_eq(cio_stream_write(s, "OK\r\nmore", 8), 0);
    (void)cio_stream_read(s, sink, sizeof sink);
    return 0;
}

/* start_tls with every one of its allocations failing in turn: a clear error, never a half-made session. */
static int attach_alloc_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *cc = client_ctx();
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, line_and_more, NULL, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    bool reached_handshake = false;
    for (long n = 1; n <= 8; n++) {
        cio_stream *s;
        cr_assert_eq(cio_connect_addr(&s, &a, NULL), 0);
        char line[8];
        cr_assert_eq(cio_stream_read_line(s, line, sizeof line), 4);
        tst_fail_alloc_at(n);
        int rc = cio_stream_start_tls(s, cc, "localhost");
        tst_fail_alloc_at(0);
        /* With the chaos transport's delays the server may have closed before the client reads its answer. */
        cr_assert(rc == -ENOMEM || rc == CIO_ETLSPROTO || rc == CIO_ETLSTRUNCATED ||
                      (tst_chaos_on() && rc == -ECONNRESET),
                  "allocation %ld: %s", n, cio_err_name(rc));
        reached_handshake |= rc != -ENOMEM;
        cio_stream_abort(s);
    }
    cr_assert(reached_handshake, "past every allocation, the handshake ran (and refused \"more\")");
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(regress, start_tls_survives_each_allocation_failing, .init = kit_up, .fini = kit_down)
{
    tst_run(attach_alloc_body, NULL);
}

struct broken {
    ssize_t read_rc;
    int write_rc, close_rc;
    int done;
};

static int broken_handler(cio_stream *s, void *arg)
{
    struct broken *b = arg;
    char buf[64];
    b->read_rc = cio_stream_read(s, buf, sizeof buf);
    b->write_rc = cio_stream_write(s, "late", 4);
    b->done = 1;
    return 0;
}

/* After a fatal error reading, writing reports the same error (it said "truncated" before). */
static int fatal_both_ways_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    struct broken b = {0};
    cio_addr a;
    cio_server *srv = tls_server(sc, broken_handler, &b, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    /* An application-data record whose contents are not what the keys make: its MAC cannot verify. */
    char bad[5 + 32] = {0x17, 0x03, 0x03, 0x00, 0x20};
    memset(bad + 5, 0xa5, 32);
    cr_assert_eq(write(cio_stream_fd(s), bad, sizeof bad), (ssize_t)sizeof bad);
    cr_assert_eq(nk_turn_until(&b.done, 1), 0);
    cr_assert_eq(b.read_rc, CIO_ETLSPROTO, "%s", cio_err_name((int)b.read_rc));
    cr_assert_eq(b.write_rc, CIO_ETLSPROTO, "%s", cio_err_name(b.write_rc));
    cio_stream_abort(s);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(regress, a_fatal_error_is_reported_the_same_both_ways, .init = kit_up, .fini = kit_down)
{
    tst_run(fatal_both_ways_body, NULL);
}

/* A high-water mark below a record's size: writes of odd sizes to a slow reader still arrive whole and in order
   (OpenSSL retries a record it could not send with the same bytes, from the output buffer). */
static int small_high_water_body(void *arg)
{
    (void)arg;
    enum { TOTAL = 4 << 20 };
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    struct slow sl = {0};
    cio_addr a;
    cio_server *srv = tls_server(sc, slow_reader, &sl, &a);
    cio_stream *s;
    cr_assert_eq(cio_connect_addr(&s, &a,
                                  &(cio_connect_opts){.tls = cc,
                                                      .server_name = "localhost",
                                                      .stream = {.high_water = 1024, .low_water = 512}}),
                 0);
    char *data = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (char)(i * 7 % 251);
    sl.started = 1;
    /* Odd sizes, so that records and the caller's pieces never line up. */
    for (size_t at = 0, step = 20000; at < TOTAL; at += step, step = step * 3 % 70001 + 1) {
        size_t n = at + step > TOTAL ? TOTAL - at : step;
        int rc = cio_stream_write(s, data + at, n);
        cr_assert_eq(rc, 0, "%s", cio_err_name(rc));
    }
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(10)), 0);
    cr_assert_eq(sl.total, TOTAL, "every byte, in order (the reader checks each)");
    free(data);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(stream, a_small_high_water_mark_loses_nothing, .init = kit_up, .fini = kit_down)
{
    tst_run(small_high_water_body, NULL);
}

/* ------------------------------------------------------------------------------------------------ pending */

/* The bytes of a ClientHello, made by an OpenSSL client over memory BIOs and never followed by anything. */
static size_t client_hello(unsigned char *out, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    BIO *rd = BIO_new(BIO_s_mem()), *wr = BIO_new(BIO_s_mem());
    cr_assert(ctx && ssl && rd && wr);
    SSL_set_bio(ssl, rd, wr);
    SSL_set_connect_state(ssl);
    cr_assert_eq(SSL_do_handshake(ssl), -1);
    cr_assert_eq(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
    int n = BIO_read(wr, out, (int)cap);
    cr_assert_gt(n, 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return (size_t)n;
}

enum { SILENT = 40, STALLED = 6, TURNS = 2 };

static int echo_never(cio_stream *s, void *arg)
{
    (void)s, (void)arg;
    return 0;
}

/*
 * Clients that connect and say nothing hold no TLS state on the server (no SSL object, no task); clients that send
 * a ClientHello and stall get the server's handshake at most max_tls_handshakes at a time; a client that then
 * completes its handshake normally still gets its turn once the stalled ones time out.
 */
static int pending_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(
                     &srv, echo_never, NULL, "127.0.0.1", 0,
                     &(cio_server_opts){.tls = sc, .max_tls_handshakes = TURNS, .tls_handshake_timeout = CIO_SEC(20)}),
                 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    long before = live_ssl;
    cio_stream *silent[SILENT], *stalled[STALLED];
    for (int i = 0; i < SILENT; i++)
        cr_assert_eq(cio_connect_addr(&silent[i], &a, NULL), 0);
    for (int t = 0; t < 20; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(cio_server_connections(srv), SILENT, "all accepted");
    cr_assert_eq(live_ssl, before, "and none holds an SSL object before its client speaks");
    unsigned char hello[4096];
    size_t n = client_hello(hello, sizeof hello);
    int64_t t0 = cio_now();
    for (int i = 0; i < STALLED; i++) {
        cr_assert_eq(cio_connect_addr(&stalled[i], &a, NULL), 0);
        cr_assert_eq(cio_stream_write(stalled[i], hello, n), 0);
    }
    for (int t = 0; t < 40; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(live_ssl, before + TURNS, "handshakes at once: max_tls_handshakes");
    /* The handshake timeout (20 s, mock clock) ends the stalled ones, two at a time, and the silent ones; a
       client that speaks properly meanwhile gets a turn. */
    cio_stream *good;
    int rc = cio_connect_addr(&good, &a, &(cio_connect_opts){.tls = cc, .server_name = "localhost"});
    cr_assert_eq(rc, 0, "%s (%s)", cio_err_name(rc), cio_tls_last_error());
    cr_assert_geq(cio_now() - t0, CIO_SEC(20), "after the stalled ones before it gave up their turns");
    struct cio__server_stats st;
    cio__server_stats(srv, &st);
    cr_assert_eq(st.tls_failed, SILENT + STALLED, "each silent and stalled one timed out");
    cr_assert_eq(cio_stream_close(good), 0);
    for (int i = 0; i < SILENT; i++)
        cio_stream_abort(silent[i]);
    for (int i = 0; i < STALLED; i++)
        cio_stream_abort(stalled[i]);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cr_assert_eq(live_ssl, before);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(pending, silent_clients_hold_no_tls_state_and_handshakes_take_turns, .init = kit_up, .fini = kit_down)
{
    tst_run_expect(pending_body, NULL, &(cio_loop_opts){.mock_clock = true}, 0);
}

/* ------------------------------------------------------------------------------------------------ in place */

static int head_then_body(cio_stream *s, void *arg)
{
    (void)arg;
    return cio_stream_write(s, "HEAD 1\r\n\r\nbodyHEAD 2\r\n\r\n", 24);
}

/* peek, consume and unread over TLS, on the decrypted bytes; check_idle sees session tickets as nothing. */
static int in_place_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, head_then_body, NULL, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    for (int t = 0; t < 10; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0); /* the server's tickets and answer arrive */
    const void *v;
    size_t n;
    cr_assert_eq(cio_stream_peek_until(s, "\r\n\r\n", 4, &v, &n), 1);
    cr_assert_eq(n, 10);
    cr_assert_eq(memcmp(v, "HEAD 1\r\n\r\n", 10), 0);
    cr_assert_eq(cio_stream_consume(s, n), 0);
    char body[4];
    cr_assert_eq(cio_stream_read_exactly(s, body, 4, NULL), 4);
    cr_assert_eq(cio_stream_unread(s, "bo", 2), 0);
    cr_assert_eq(cio_stream_peek(s, 12, &v, &n), 1);
    cr_assert_eq(memcmp(v, "boHEAD 2\r\n\r\n", 12), 0);
    cr_assert_eq(cio_stream_consume(s, 12), 0);
    /* A check does not wait: the loop turns until the close_notify is in (over chaos, a check may miss it). */
    int rc = 0;
    for (int t = 0; t < 100 && (rc = cio_stream_check_idle(s)) == 0; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(rc, CIO_EPEERCLOSED, "the server closed after answering: %s", cio_err_name(rc));
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(in_place, peek_consume_and_unread_work_on_decrypted_bytes, .init = kit_up, .fini = kit_down)
{
    tst_run(in_place_body, NULL);
}

static int kept_answer(cio_stream *s, void *arg)
{
    (void)arg;
    char line[64];
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    if (n <= 0)
        return (int)n;
    int rc = cio_stream_write(s, line, (size_t)n);
    return rc < 0 ? rc : CIO_CONN_KEEP;
}

/* An idle TLS client whose server sent TLS 1.3 session tickets after the handshake: still usable, since
   tickets are not bytes of the stream. */
static int idle_with_tickets_body(void *arg)
{
    (void)arg;
    cio_tls_ctx *sc = server_ctx("server"), *cc = client_ctx();
    cio_addr a;
    cio_server *srv = tls_server(sc, kept_answer, NULL, &a);
    cio_stream *s;
    cr_assert_eq(tls_connect(&s, &a, cc, "localhost"), 0);
    nk_roundtrip(s, "one\n");
    for (int t = 0; t < 10; t++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(cio_stream_check_idle(s), 0, "tickets came, no bytes: usable");
    nk_roundtrip(s, "two\n");
    cr_assert_eq(cio_stream_close(s), 0);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(sc);
    cio_tls_ctx_free(cc);
    return 0;
}

Test(in_place, check_idle_over_tls_takes_session_tickets_for_nothing, .init = kit_up, .fini = kit_down)
{
    tst_run(idle_with_tickets_body, NULL);
}
