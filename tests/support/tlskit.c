/* tlskit.c: a throwaway PKI for TLS tests (two roots, an intermediate and their leaves), made with libcrypto. */
#include "tlskit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define HOUR (60L * 60)
#define DAY  (24 * HOUR)

/* The SAN of every leaf a client should accept for the loopback host (server.pem adds ::1). */
#define LOCAL_SAN "DNS:localhost,IP:127.0.0.1"

/* What a certificate is for: it picks basicConstraints, keyUsage and extendedKeyUsage. */
enum role { ROOT, INTER, SERVER, CLIENT };

struct role_exts {
    const char *basic, *usage;
    /* extendedKeyUsage; NULL for CAs, which any purpose may chain through. */
    const char *ext_usage;
};

static const struct role_exts role_exts[] = {
    [ROOT] = {"critical,CA:TRUE", "critical,keyCertSign,cRLSign", NULL},
    [INTER] = {"critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", NULL},
    /* digitalSignature alone: with EC keys, TLS 1.2 ECDHE-ECDSA and TLS 1.3 only ever sign. */
    [SERVER] = {"critical,CA:FALSE", "critical,digitalSignature", "serverAuth"},
    [CLIENT] = {"critical,CA:FALSE", "critical,digitalSignature", "clientAuth"},
};

/* Indices into specs[]; a signer always comes before what it signs. */
enum {
    I_CA,
    I_OTHER_CA,
    I_INTER,
    I_SERVER,
    I_CHAIN_LEAF,
    I_EXPIRED,
    I_WRONGHOST,
    I_SELFSIGNED,
    I_UNTRUSTED,
    I_UNTRUSTED_CHAIN,
    I_CLIENT,
    I_OTHER_CLIENT,
    I_WILDCARD,
    NSPECS
};

struct spec {
    /* The files are <name>.pem and <name>.key. */
    const char *name;
    const char *cn;
    /* subjectAltName in openssl.cnf syntax, or NULL for none. */
    const char *san;
    enum role role;
    /* The signer's index; the spec's own index for a self-signed certificate. */
    int issuer;
    /* Validity, in seconds from now. */
    long from, to;
    /* <name>.pem holds the issuer's certificate after the leaf's. */
    bool chain;
};

/* The roots start a week back so that expired.pem's whole life lies within its issuer's: its verification then
   fails for its own dates alone. */
static const struct spec specs[NSPECS] = {
    [I_CA] = {"ca", "cio test CA", NULL, ROOT, I_CA, -7 * DAY, 30 * DAY, false},
    [I_OTHER_CA] = {"other-ca", "cio other CA", NULL, ROOT, I_OTHER_CA, -7 * DAY, 30 * DAY, false},
    [I_INTER] = {"inter", "cio test intermediate CA", NULL, INTER, I_CA, -7 * DAY, 30 * DAY, false},
    [I_SERVER] = {"server", "localhost", LOCAL_SAN ",IP:::1", SERVER, I_CA, -HOUR, DAY, false},
    [I_CHAIN_LEAF] = {"chain-leaf", "localhost", LOCAL_SAN, SERVER, I_INTER, -HOUR, DAY, true},
    [I_EXPIRED] = {"expired", "localhost", LOCAL_SAN, SERVER, I_CA, -2 * DAY, -DAY, false},
    [I_WRONGHOST] = {"wronghost", "wrong.example", "DNS:wrong.example", SERVER, I_CA, -HOUR, DAY, false},
    [I_SELFSIGNED] = {"selfsigned", "localhost", LOCAL_SAN, SERVER, I_SELFSIGNED, -HOUR, DAY, false},
    [I_UNTRUSTED] = {"untrusted", "localhost", LOCAL_SAN, SERVER, I_OTHER_CA, -HOUR, DAY, false},
    [I_UNTRUSTED_CHAIN] = {"untrusted-chain", "localhost", LOCAL_SAN, SERVER, I_OTHER_CA, -HOUR, DAY, true},
    [I_CLIENT] = {"client", "cio test client", NULL, CLIENT, I_CA, -HOUR, DAY, false},
    [I_OTHER_CLIENT] = {"other-client", "cio other client", NULL, CLIENT, I_OTHER_CA, -HOUR, DAY, false},
    [I_WILDCARD] = {"wildcard", "*.test.localhost", "DNS:*.test.localhost,DNS:f*.part.localhost", SERVER, I_CA, -HOUR,
                    DAY, false},
};

/* ------------------------------------------------------------------------------------------------ certificates */

/* A random positive 127-bit serial with its top bit set: 16 DER octets, never zero, as RFC 5280 wants. */
static int set_serial(X509 *x)
{
    BIGNUM *bn = BN_new();
    int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -EIO;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    if (!value)
        return 0;
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext)
        return -EIO;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -EIO;
}

/* The v3 extensions; `issuer` is `x` itself for a self-signed certificate, which gets no authority key id (its
   subject key id already names its key). */
static int add_exts(X509 *x, const struct spec *s, X509 *issuer)
{
    const struct role_exts *r = &role_exts[s->role];
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509V3_set_ctx_nodb(&ctx);
    if (add_ext(x, &ctx, NID_basic_constraints, r->basic) < 0 || add_ext(x, &ctx, NID_key_usage, r->usage) < 0 ||
        add_ext(x, &ctx, NID_ext_key_usage, r->ext_usage) < 0 ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, &ctx, NID_authority_key_identifier, issuer == x ? NULL : "keyid:always") < 0 ||
        add_ext(x, &ctx, NID_subject_alt_name, s->san) < 0)
        return -EIO;
    return 0;
}

/* Everything but the signature. The subject is the CN alone; the issuer's name is copied from its certificate. */
static int fill_cert(X509 *x, const struct spec *s, EVP_PKEY *key, X509 *issuer)
{
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, X509_VERSION_3) || set_serial(x) < 0 ||
        !X509_gmtime_adj(X509_getm_notBefore(x), s->from) || !X509_gmtime_adj(X509_getm_notAfter(x), s->to) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)s->cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x)) || !X509_set_pubkey(x, key))
        return -EIO;
    return add_exts(x, s, issuer ? issuer : x);
}

/* A certificate for `key` as `s` describes it, signed with `issuer_key`; `issuer` is NULL when self-signed. */
static X509 *make_cert(const struct spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    if (!x || fill_cert(x, s, key, issuer) < 0 || X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* ------------------------------------------------------------------------------------------------ files */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write the memory BIO's bytes to the new file <dir>/<name><suffix>. fchmod makes `mode` exact whatever the
   umask, so a key is never readable by others, nor a certificate unreadable to a server run as another user. */
static int write_bio(const char *dir, const char *name, const char *suffix, BIO *bio, mode_t mode)
{
    char file[NAME_MAX + 1], path[PATH_MAX];
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    int n = snprintf(file, sizeof file, "%s%s", name, suffix);
    if (len < 0 || n < 0 || (size_t)n >= sizeof file || !tlskit_path(dir, file, path, sizeof path))
        return -ENAMETOOLONG;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    int rc = fchmod(fd, mode) < 0 ? -errno : write_all(fd, data, (size_t)len);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* <name>.key: PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"); no cipher, so no password. */
static int save_key(const char *dir, const char *name, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = -EIO;
    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        rc = write_bio(dir, name, ".key", bio, 0600);
    BIO_free(bio);
    return rc;
}

/* <name>.pem: the certificate, then `chain` if not NULL. */
static int save_cert(const char *dir, const char *name, X509 *cert, X509 *chain)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = -EIO;
    if (bio && PEM_write_bio_X509(bio, cert) && (!chain || PEM_write_bio_X509(bio, chain)))
        rc = write_bio(dir, name, ".pem", bio, 0644);
    BIO_free(bio);
    return rc;
}

/* Make specs[i]'s key and certificate into keys[i] and certs[i] (the caller frees them) and write both files. */
static int make_one(const char *dir, int i, EVP_PKEY **keys, X509 **certs)
{
    const struct spec *s = &specs[i];
    int up = s->issuer;
    /* P-256, not RSA: a key takes well under a millisecond where RSA-2048 takes tens. */
    keys[i] = EVP_EC_gen("P-256");
    if (!keys[i])
        return -EIO;
    certs[i] = make_cert(s, keys[i], up == i ? NULL : certs[up], keys[up]);
    if (!certs[i])
        return -EIO;
    int rc = save_key(dir, s->name, keys[i]);
    return rc < 0 ? rc : save_cert(dir, s->name, certs[i], s->chain ? certs[up] : NULL);
}

/* mkdtemp under $TMPDIR, as mktemp(1) does, so that a CI job's private temporary directory is honoured. */
static int make_dir(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(dir, cap, "%s/cio-tls-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return mkdtemp(dir) ? 0 : -errno;
}

/* ------------------------------------------------------------------------------------------------ API */

int tlskit_make(char *dir, size_t cap)
{
    EVP_PKEY *keys[NSPECS] = {0};
    X509 *certs[NSPECS] = {0};
    int rc = make_dir(dir, cap);
    if (rc < 0) {
        if (cap > 0)
            dir[0] = '\0';
        return rc;
    }
    for (int i = 0; i < NSPECS && rc == 0; i++)
        rc = make_one(dir, i, keys, certs);
    if (rc == 0)
        rc = save_cert(dir, "server-chain", certs[I_SERVER], NULL);
    for (int i = 0; i < NSPECS; i++) {
        X509_free(certs[i]);
        EVP_PKEY_free(keys[i]);
    }
    if (rc < 0) {
        if (rc == -EIO)
            ERR_print_errors_fp(stderr);
        ERR_clear_error();
        tlskit_remove(dir);
        dir[0] = '\0';
    }
    return rc;
}

const char *tlskit_path(const char *dir, const char *name, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? NULL : buf;
}

void tlskit_remove(const char *dir)
{
    if (!dir || !*dir)
        return;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                (void)unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    (void)rmdir(dir);
}
