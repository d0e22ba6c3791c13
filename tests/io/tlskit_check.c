/* tlskit_check.c: tests of the test PKI in support/tlskit.c, checked with plain OpenSSL (and its command line),
   so that a TLS test failing later is cio's doing and not its certificates'. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "harness.h"
#include "tlskit.h"

/* The kit of the running test, made by the suite's init and removed by its fini. */
static char kit[PATH_MAX];

static void make_kit(void)
{
    int rc = tlskit_make(kit, sizeof kit);
    cr_assert_eq(rc, 0, "tlskit_make: %s", strerror(-rc));
}

static void remove_kit(void)
{
    tlskit_remove(kit);
}

TestSuite(tlskit, .init = make_kit, .fini = remove_kit, .timeout = 60);
TestSuite(tlskit_make, .timeout = 60);

/* Every file the kit promises; each .key has the .pem of the same name. */
static const char *const certs[] = {"ca",         "other-ca",        "inter",     "server",
                                    "chain-leaf", "expired",         "wronghost", "selfsigned",
                                    "untrusted",  "untrusted-chain", "client",    "other-client"};
#define NCERTS (sizeof certs / sizeof certs[0])

/* ------------------------------------------------------------------------------------------------ helpers */

static const char *path_of(const char *name, const char *suffix)
{
    static char buf[2][PATH_MAX];
    static int turn;
    char file[NAME_MAX + 1];
    snprintf(file, sizeof file, "%s%s", name, suffix);
    char *p = buf[turn++ % 2];
    cr_assert_not_null(tlskit_path(kit, file, p, PATH_MAX));
    return p;
}

/* Every certificate in <name>.pem, in file order. */
static STACK_OF(X509) * load_certs(const char *name)
{
    BIO *bio = BIO_new_file(path_of(name, ".pem"), "r");
    cr_assert_not_null(bio, "open %s.pem", name);
    STACK_OF(X509) *sk = sk_X509_new_null();
    cr_assert_not_null(sk);
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        cr_assert_gt(sk_X509_push(sk, x), 0);
    ERR_clear_error(); /* the read that found no more certificates left PEM_R_NO_START_LINE */
    BIO_free(bio);
    cr_assert_gt(sk_X509_num(sk), 0, "%s.pem holds no certificate", name);
    return sk;
}

/* The first certificate of <name>.pem. */
static X509 *load_cert(const char *name)
{
    STACK_OF(X509) *sk = load_certs(name);
    X509 *x = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return x;
}

static EVP_PKEY *load_key(const char *name)
{
    BIO *bio = BIO_new_file(path_of(name, ".key"), "r");
    cr_assert_not_null(bio, "open %s.key", name);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    cr_assert_not_null(key, "read %s.key", name);
    return key;
}

/* What a verification asks beyond the chain: a host name, an IP address, a purpose (0: none). */
struct want {
    const char *host, *ip;
    int purpose;
};

/* Verify <leaf>.pem's first certificate against ca.pem alone, with the file's other certificates as the untrusted
   chain when `chain`; returns the verification error (X509_V_OK on success). */
static int verify(const char *leaf, bool chain, struct want w)
{
    X509_STORE *store = X509_STORE_new();
    cr_assert_not_null(store);
    cr_assert_eq(X509_STORE_load_file(store, path_of("ca", ".pem")), 1);
    STACK_OF(X509) *sk = load_certs(leaf);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    cr_assert_not_null(ctx);
    cr_assert_eq(X509_STORE_CTX_init(ctx, store, sk_X509_value(sk, 0), chain ? sk : NULL), 1);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    if (w.host)
        cr_assert_eq(X509_VERIFY_PARAM_set1_host(vp, w.host, 0), 1);
    if (w.ip)
        cr_assert_eq(X509_VERIFY_PARAM_set1_ip_asc(vp, w.ip), 1);
    if (w.purpose)
        cr_assert_eq(X509_STORE_CTX_set_purpose(ctx, w.purpose), 1);
    int ok = X509_verify_cert(ctx), err = X509_STORE_CTX_get_error(ctx);
    cr_assert_eq(ok == 1, err == X509_V_OK, "%s: returned %d with %s", leaf, ok, X509_verify_cert_error_string(err));
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(sk, X509_free);
    X509_STORE_free(store);
    ERR_clear_error();
    return err;
}

#define assert_verify(leaf, chain, want_err, ...)                                                      \
    do {                                                                                               \
        int err_ = verify((leaf), (chain), (struct want){__VA_ARGS__});                                \
        cr_assert_eq(err_, (want_err), "%s: %s, want %s", (leaf), X509_verify_cert_error_string(err_), \
                     X509_verify_cert_error_string(want_err));                                         \
    } while (0)

/* ------------------------------------------------------------------------------------------------ verification */

Test(tlskit, server_verifies_against_ca_for_localhost_and_both_loopback_addresses)
{
    assert_verify("server", false, X509_V_OK, .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("server", false, X509_V_OK, .host = "localhost", .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("server", false, X509_V_OK, .ip = "127.0.0.1", .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("server", false, X509_V_OK, .ip = "::1", .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("server-chain", true, X509_V_OK, .host = "localhost", .purpose = X509_PURPOSE_SSL_SERVER);
}

Test(tlskit, server_fails_for_another_host_or_address)
{
    assert_verify("server", false, X509_V_ERR_HOSTNAME_MISMATCH, .host = "wrong.example");
    assert_verify("server", false, X509_V_ERR_IP_ADDRESS_MISMATCH, .ip = "127.0.0.2");
}

Test(tlskit, expired_fails_with_cert_has_expired)
{
    assert_verify("expired", false, X509_V_ERR_CERT_HAS_EXPIRED, .host = "localhost");
}

Test(tlskit, wronghost_fails_with_hostname_mismatch_for_localhost)
{
    assert_verify("wronghost", false, X509_V_ERR_HOSTNAME_MISMATCH, .host = "localhost");
    assert_verify("wronghost", false, X509_V_ERR_IP_ADDRESS_MISMATCH, .ip = "127.0.0.1");
    assert_verify("wronghost", false, X509_V_OK, .host = "wrong.example");
}

Test(tlskit, selfsigned_fails_with_depth_zero_self_signed)
{
    assert_verify("selfsigned", false, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, .host = "localhost");
}

Test(tlskit, untrusted_fails_for_want_of_its_issuer)
{
    assert_verify("untrusted", false, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, .host = "localhost");
}

Test(tlskit, untrusted_chain_ends_in_a_self_signed_root_nobody_trusts)
{
    assert_verify("untrusted-chain", true, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, .host = "localhost");
}

Test(tlskit, chain_leaf_verifies_through_the_intermediate_in_its_file)
{
    STACK_OF(X509) *sk = load_certs("chain-leaf");
    X509 *inter = load_cert("inter");
    cr_assert_eq(sk_X509_num(sk), 2, "the leaf, then the intermediate");
    cr_assert_eq(X509_cmp(sk_X509_value(sk, 1), inter), 0);
    X509_free(inter);
    sk_X509_pop_free(sk, X509_free);
    assert_verify("chain-leaf", true, X509_V_OK, .host = "localhost", .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("chain-leaf", true, X509_V_OK, .ip = "127.0.0.1", .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("chain-leaf", false, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, .host = "localhost");
}

Test(tlskit, client_verifies_for_client_auth_only)
{
    assert_verify("client", false, X509_V_OK, .purpose = X509_PURPOSE_SSL_CLIENT);
    assert_verify("client", false, X509_V_ERR_INVALID_PURPOSE, .purpose = X509_PURPOSE_SSL_SERVER);
    assert_verify("server", false, X509_V_ERR_INVALID_PURPOSE, .purpose = X509_PURPOSE_SSL_CLIENT);
    assert_verify("other-client", false, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                  .purpose = X509_PURPOSE_SSL_CLIENT);
}

/* The command line builds its chains its own way; a spot check that it agrees. */
Test(tlskit, openssl_command_line_agrees)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        tst_skip("no openssl command (Debian's openssl package)");
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "openssl verify -CAfile '%s' '%s' >/dev/null 2>&1", path_of("ca", ".pem"),
             path_of("server", ".pem"));
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    /* path_of's result lives until its second next call, and arguments are evaluated in no set order. */
    char chain[PATH_MAX];
    snprintf(chain, sizeof chain, "%s", path_of("chain-leaf", ".pem"));
    snprintf(cmd, sizeof cmd, "openssl verify -CAfile '%s' -untrusted '%s' '%s' >/dev/null 2>&1", path_of("ca", ".pem"),
             chain, chain);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    /* Exit status 2 is openssl verify's "verification failed" (1 is a file it could not read), and the reason
       is error 20, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, as for the library check above. */
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s", path_of("verify", ".txt"));
    snprintf(cmd, sizeof cmd, "openssl verify -CAfile '%s' '%s' >'%s' 2>&1", path_of("ca", ".pem"),
             path_of("untrusted", ".pem"), out);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d", cmd, st);
    FILE *f = fopen(out, "r");
    cr_assert_not_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    unlink(out);
    cr_assert_not_null(strstr(text, "error 20 at 0 depth lookup"), "%s", text);
}

/* ------------------------------------------------------------------------------------------------ contents */

Test(tlskit, every_key_matches_its_certificate_and_no_other)
{
    for (size_t i = 0; i < NCERTS; i++) {
        X509 *x = load_cert(certs[i]);
        EVP_PKEY *key = load_key(certs[i]), *next = load_key(certs[(i + 1) % NCERTS]);
        cr_assert_eq(X509_check_private_key(x, key), 1, "%s", certs[i]);
        cr_assert_eq(X509_check_private_key(x, next), 0, "%s with the next key", certs[i]);
        ERR_clear_error();
        EVP_PKEY_free(next);
        EVP_PKEY_free(key);
        X509_free(x);
    }
}

Test(tlskit, keys_are_unencrypted_pkcs8_p256_readable_by_the_owner_alone)
{
    for (size_t i = 0; i < NCERTS; i++) {
        const char *p = path_of(certs[i], ".key");
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600, "%s: mode %o", p, (unsigned)(st.st_mode & 07777));
        char head[64] = {0};
        FILE *f = fopen(p, "r");
        cr_assert_not_null(f);
        cr_assert_not_null(fgets(head, sizeof head, f));
        fclose(f);
        cr_assert_str_eq(head, "-----BEGIN PRIVATE KEY-----\n", "%s", p);
        EVP_PKEY *key = load_key(certs[i]);
        char group[32];
        cr_assert(EVP_PKEY_is_a(key, "EC"));
        cr_assert_eq(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL), 1);
        cr_assert_str_eq(group, "prime256v1");
        EVP_PKEY_free(key);
    }
}

Test(tlskit, certificates_have_distinct_random_serials_of_64_bits_or_more)
{
    BIGNUM *serial[NCERTS];
    for (size_t i = 0; i < NCERTS; i++) {
        X509 *x = load_cert(certs[i]);
        serial[i] = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        cr_assert_not_null(serial[i]);
        cr_assert_geq(BN_num_bits(serial[i]), 64, "%s", certs[i]);
        cr_assert(!BN_is_negative(serial[i]));
        for (size_t j = 0; j < i; j++)
            cr_assert_neq(BN_cmp(serial[i], serial[j]), 0, "%s and %s", certs[i], certs[j]);
        X509_free(x);
    }
    for (size_t i = 0; i < NCERTS; i++)
        BN_free(serial[i]);
}

static void assert_cn(X509 *x, const char *cn)
{
    char buf[128];
    cr_assert_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, cn);
}

Test(tlskit, roots_and_intermediate_are_cas_and_leaves_are_not)
{
    X509 *ca = load_cert("ca"), *other = load_cert("other-ca"), *inter = load_cert("inter");
    assert_cn(ca, "cio test CA");
    assert_cn(other, "cio other CA");
    X509 *roots[] = {ca, other, inter};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(X509_check_ca(roots[i]), 1);
        cr_assert_eq(X509_get_key_usage(roots[i]), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
        cr_assert_not_null(X509_get0_subject_key_id(roots[i]));
        int crit = -1;
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(roots[i], NID_basic_constraints, &crit, NULL);
        cr_assert(bc && bc->ca && crit == 1, "critical CA:TRUE");
        BASIC_CONSTRAINTS_free(bc);
    }
    cr_assert(X509_get_extension_flags(ca) & EXFLAG_SS);
    cr_assert_eq(X509_check_issued(ca, inter), X509_V_OK);
    for (size_t i = 3; i < NCERTS; i++) {
        X509 *x = load_cert(certs[i]);
        cr_assert_eq(X509_check_ca(x), 0, "%s", certs[i]);
        X509_free(x);
    }
    X509 *client = load_cert("client"), *server = load_cert("server");
    assert_cn(client, "cio test client");
    assert_cn(server, "localhost");
    cr_assert_eq(X509_get_extended_key_usage(client), XKU_SSL_CLIENT);
    cr_assert_eq(X509_get_extended_key_usage(server), XKU_SSL_SERVER);
    X509_free(server);
    X509_free(client);
    X509_free(inter);
    X509_free(other);
    X509_free(ca);
}

Test(tlskit, server_chain_holds_the_server_leaf)
{
    STACK_OF(X509) *sk = load_certs("server-chain");
    X509 *server = load_cert("server");
    cr_assert_eq(sk_X509_num(sk), 1);
    cr_assert_eq(X509_cmp(sk_X509_value(sk, 0), server), 0);
    X509_free(server);
    sk_X509_pop_free(sk, X509_free);
}

Test(tlskit, remove_deletes_the_directory)
{
    struct stat st;
    cr_assert_eq(stat(kit, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0700, "mkdtemp's mode");
    tlskit_remove(kit);
    cr_assert_eq(stat(kit, &st), -1);
    cr_assert_eq(errno, ENOENT);
}

/* ------------------------------------------------------------------------------------------------ tlskit_make */

Test(tlskit_make, honours_tmpdir_and_leaves_no_descriptor_open)
{
    char parent[] = "/tmp/cio-tlskit-XXXXXX", dir[PATH_MAX], other[PATH_MAX];
    cr_assert_not_null(mkdtemp(parent));
    cr_assert_eq(setenv("TMPDIR", parent, 1), 0);
    int fds = tst_open_fds();
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    cr_assert_eq(tlskit_make(other, sizeof other), 0);
    cr_assert_eq(tst_open_fds(), fds);
    cr_assert_eq(strncmp(dir, parent, strlen(parent)), 0, "%s is under %s", dir, parent);
    cr_assert_str_neq(dir, other);
    tlskit_remove(dir);
    tlskit_remove(other);
    cr_assert_eq(rmdir(parent), 0, "the kits left nothing in %s", parent);
}

Test(tlskit_make, fails_cleanly_when_the_path_does_not_fit)
{
    char dir[8];
    cr_assert_eq(tlskit_make(dir, sizeof dir), -ENAMETOOLONG);
    cr_assert_str_empty(dir);
    char buf[8];
    cr_assert_null(tlskit_path("/tmp/x", "server.pem", buf, sizeof buf));
}

Test(tlskit_make, fails_with_enoent_under_a_missing_tmpdir)
{
    char dir[PATH_MAX];
    cr_assert_eq(setenv("TMPDIR", "/nonexistent/cio-tlskit", 1), 0);
    cr_assert_eq(tlskit_make(dir, sizeof dir), -ENOENT);
    cr_assert_str_empty(dir);
}

/* With no descriptor to spare, the first file cannot be opened after a key and certificate are made: the error
   comes back, what was made is freed (LeakSanitizer checks) and the directory is removed. */
Test(tlskit_make, fails_with_emfile_and_leaves_nothing_behind)
{
    char parent[] = "/tmp/cio-tlskit-XXXXXX", dir[PATH_MAX];
    cr_assert_not_null(mkdtemp(parent));
    cr_assert_eq(setenv("TMPDIR", parent, 1), 0);
    struct rlimit old, low;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0); /* the lowest free descriptor: the limit makes it and all above unusable */
    cr_assert_geq(lowest, 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int rc = tlskit_make(dir, sizeof dir);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    cr_assert_eq(rc, -EMFILE, "%s", strerror(-rc));
    cr_assert_str_empty(dir);
    cr_assert_eq(rmdir(parent), 0, "the kit left nothing in %s", parent);
}
