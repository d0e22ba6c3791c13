/* tls_ctx.c: TLS contexts (OpenSSL's SSL_CTX): configuration, the client session cache, ALPN, the key log. */
#include "io/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "internal.h"
#include "io/stream.h"

#define TLS_CTX_MAGIC 0x746c7363u /* "tlsc" */
/* Client sessions kept per context, and per host name and port; the oldest go first. */
#define SESSION_CACHE_MAX 256
#define SESSIONS_PER_KEY  4
/* The session id context a server stamps on its sessions (OpenSSL refuses to resume without one when client
   certificates are verified). */
#define SID_CTX "cio"

struct cio__tls_session {
    struct cio__tls_session *next;
    SSL_SESSION *sess;
    char key[];
};

int cio__tls_key_index = -1;
static int ctx_index = -1; /* SSL_CTX ex_data: the cio_tls_ctx */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static _Thread_local char last_error[320];

/* ------------------------------------------------------------------------------------------------ errors */

const char *cio_tls_last_error(void)
{
    return last_error;
}

void cio__tls_set_error(const char *what, const char *detail)
{
    char reason[200] = "";
    unsigned long e = ERR_peek_last_error();
    if (detail)
        snprintf(reason, sizeof reason, "%s", detail);
    else if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    snprintf(last_error, sizeof last_error, "%s%s%s", what, reason[0] ? ": " : "", reason);
    ERR_clear_error();
}

/* ------------------------------------------------------------------------------------------------ contexts */

static void init(void)
{
    cio__tls_key_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

bool cio__tls_ctx_valid(const cio_tls_ctx *c)
{
    return c && c->magic == TLS_CTX_MAGIC;
}

static void keylog_cb(const SSL *ssl, const char *line)
{
    cio_tls_ctx *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
    size_t n = strlen(line);
    char buf[512];
    if (!c || c->keylog_fd < 0 || n + 1 > sizeof buf)
        return;
    memcpy(buf, line, n);
    buf[n] = '\n';
    ssize_t w = write(c->keylog_fd, buf, n + 1);
    (void)w; /* a debugging aid: a failed write loses a line, nothing else */
}

/* Unlink and free the entry *pp. */
static void session_drop(cio_tls_ctx *c, struct cio__tls_session **pp)
{
    struct cio__tls_session *e = *pp;
    *pp = e->next;
    c->nsessions--;
    SSL_SESSION_free(e->sess);
    cio__free(e);
}

/*
 * Keep the client's new session under its host and port, the newest first, a few per key: a TLS 1.3 ticket is
 * used once (OpenSSL will not offer it again, RFC 8446 section C.4), and the server sends two per handshake so
 * that two connections can resume at once.
 */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    const char *key = SSL_get_ex_data(ssl, cio__tls_key_index);
    cio_tls_ctx *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
    if (!key || !c || c->no_resumption)
        return 0;
    size_t klen = strlen(key) + 1;
    struct cio__tls_session *e = cio__malloc(sizeof *e + klen);
    if (!e)
        return 0;
    e->sess = sess;
    memcpy(e->key, key, klen);
    pthread_mutex_lock(&c->mu);
    e->next = c->sessions;
    c->sessions = e;
    c->nsessions++;
    /* Past the limits, the key's oldest goes, then the cache's oldest. */
    size_t same = 0;
    struct cio__tls_session **pp = &c->sessions, **last = NULL;
    while (*pp) {
        if (strcmp((*pp)->key, e->key) == 0 && ++same > SESSIONS_PER_KEY) {
            session_drop(c, pp);
            continue;
        }
        last = pp;
        pp = &(*pp)->next;
    }
    if (c->nsessions > SESSION_CACHE_MAX && last)
        session_drop(c, last);
    pthread_mutex_unlock(&c->mu);
    return 1; /* the cache owns the reference */
}

SSL_SESSION *cio__tls_session_take(cio_tls_ctx *c, const char *key)
{
    SSL_SESSION *sess = NULL;
    pthread_mutex_lock(&c->mu);
    struct cio__tls_session **pp = &c->sessions;
    while (*pp && !sess) {
        struct cio__tls_session *e = *pp;
        if (strcmp(e->key, key) != 0) {
            pp = &e->next;
        } else if (!SSL_SESSION_is_resumable(e->sess) ||
                   (long)time(NULL) > SSL_SESSION_get_time(e->sess) + SSL_SESSION_get_timeout(e->sess)) {
            session_drop(c, pp); /* used up, or expired */
        } else if (SSL_SESSION_get_protocol_version(e->sess) >= TLS1_3_VERSION) {
            sess = e->sess; /* the cache's reference passes to the caller */
            *pp = e->next;
            c->nsessions--;
            cio__free(e);
        } else if (SSL_SESSION_up_ref(e->sess)) {
            sess = e->sess; /* TLS 1.2 sessions may be resumed many times */
        } else {
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return sess;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                          unsigned inlen, void *arg)
{
    (void)ssl;
    cio_tls_ctx *c = arg;
    unsigned char *sel = NULL;
    /* The server's preference decides (RFC 7301 lets it), among what the client offers. */
    if (SSL_select_next_proto(&sel, outlen, c->alpn, c->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* The ALPN list in wire format: each name's length byte, then the name. */
static int alpn_wire(const char *const *list, unsigned char **out, unsigned *outlen)
{
    size_t total = 0;
    for (size_t i = 0; list[i]; i++) {
        size_t n = strlen(list[i]);
        if (n == 0 || n > 255)
            return -EINVAL;
        total += n + 1;
    }
    if (total == 0 || total > 0xffff)
        return -EINVAL;
    unsigned char *w = cio__malloc(total), *p = w;
    if (!w)
        return -ENOMEM;
    for (size_t i = 0; list[i]; i++) {
        size_t n = strlen(list[i]);
        *p++ = (unsigned char)n;
        memcpy(p, list[i], n);
        p += n;
    }
    *out = w;
    *outlen = (unsigned)total;
    return 0;
}

/* A file the caller named must be readable: report -ENOENT / -EACCES rather than OpenSSL's words. */
static int check_file(const char *path)
{
    if (!path)
        return 0;
    if (!*path)
        return -EINVAL;
    return access(path, R_OK) == 0 ? 0 : -errno;
}

/*
 * Have OpenSSL cache each loaded CA certificate's extensions (key identifiers, purposes) now, while the context is
 * the creating thread's alone. It does so lazily on first use otherwise, under the certificate's lock, but threads
 * that share the context read those fields after an unlocked check of a flag: a data race (benign on x86, seen by
 * ThreadSanitizer in tests/io/tls_threads.c). Certificates a CA directory supplies later are still cached lazily.
 */
static void warm_store(SSL_CTX *ssl)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ssl));
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x)
            (void)X509_get_extension_flags(x);
    }
}

/* The intermediates in `path` (PEM certificates), sent after the leaf. */
static int add_chain(SSL_CTX *ssl, const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    if (!bio)
        return cio__tls_set_error("certificate chain", NULL), CIO_ETLSCONFIG;
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        int ok = SSL_CTX_add1_chain_cert(ssl, x);
        X509_free(x);
        if (!ok) {
            BIO_free(bio);
            return cio__tls_set_error("certificate chain", NULL), CIO_ETLSCONFIG;
        }
        n++;
    }
    BIO_free(bio);
    ERR_clear_error(); /* the end of the file reads as an error */
    if (!n)
        return cio__tls_set_error("certificate chain", "no certificate in the file"), CIO_ETLSCONFIG;
    return 0;
}

static int configure(cio_tls_ctx *c, const cio_tls_opts *o)
{
    SSL_CTX *ssl = c->ssl;
    int rc;
    if ((rc = check_file(o->ca_file)) < 0 || (rc = check_file(o->cert_file)) < 0 ||
        (rc = check_file(o->key_file)) < 0 || (rc = check_file(o->chain_file)) < 0)
        return rc;
    if (o->chain_file && !o->cert_file)
        return -EINVAL;
    if (o->ca_dir && (!*o->ca_dir || access(o->ca_dir, R_OK | X_OK) < 0))
        return *o->ca_dir ? -errno : -EINVAL;
    int min = o->min_version ? o->min_version : CIO_TLS_1_2;
    int max = o->max_version;
    if ((min != CIO_TLS_1_2 && min != CIO_TLS_1_3) || (max && max != CIO_TLS_1_2 && max != CIO_TLS_1_3) ||
        (max && max < min))
        return -EINVAL;
    if (!SSL_CTX_set_min_proto_version(ssl, min) || !SSL_CTX_set_max_proto_version(ssl, max))
        return CIO_ETLSCONFIG;
    if (o->client_auth < CIO_TLS_CLIENT_AUTH_NONE || o->client_auth > CIO_TLS_CLIENT_AUTH_REQUIRE ||
        (o->client_auth && c->role != CIO_TLS_SERVER))
        return -EINVAL;
    if (c->role == CIO_TLS_SERVER && (!o->cert_file || !o->key_file))
        return -EINVAL;
    if (!o->cert_file != !o->key_file)
        return -EINVAL;

    /* Partial writes report each record as it leaves, so the stream knows what was sent; the output buffer may
       move between retries (it compacts); an idle connection gives OpenSSL's buffers back. */
    SSL_CTX_set_mode(ssl,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* Read what the socket has, up to 64 KiB (four full records), rather than a record header and then its body:
       one recv per burst instead of two per record (100 KiB echo: about 12% less CPU). Reads always ask OpenSSL
       first, so bytes it holds ahead are never waited for. */
    SSL_CTX_set_read_ahead(ssl, 1);
    SSL_CTX_set_default_read_buffer_len(ssl, 64 * 1024);
    SSL_CTX_set_options(ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 (o->allow_truncation ? SSL_OP_IGNORE_UNEXPECTED_EOF : 0));
    if (o->ciphers && !SSL_CTX_set_cipher_list(ssl, o->ciphers))
        return cio__tls_set_error("cipher list", NULL), CIO_ETLSCONFIG;
    if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ssl, o->ciphersuites))
        return cio__tls_set_error("TLS 1.3 cipher suites", NULL), CIO_ETLSCONFIG;

    if (o->ca_file || o->ca_dir) {
        if (!SSL_CTX_load_verify_locations(ssl, o->ca_file, o->ca_dir))
            return cio__tls_set_error("CA certificates", NULL), CIO_ETLSCONFIG;
    } else if (c->role == CIO_TLS_CLIENT || o->client_auth) {
        if (!SSL_CTX_set_default_verify_paths(ssl))
            return cio__tls_set_error("system CA store", NULL), CIO_ETLSCONFIG;
    }
    warm_store(ssl);
    if (o->cert_file) {
        if (!SSL_CTX_use_certificate_chain_file(ssl, o->cert_file))
            return cio__tls_set_error("certificate", NULL), CIO_ETLSCONFIG;
        if (!SSL_CTX_use_PrivateKey_file(ssl, o->key_file, SSL_FILETYPE_PEM)) {
            bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
            return cio__tls_set_error("private key", mismatch ? "does not match the certificate" : NULL),
                   CIO_ETLSCONFIG;
        }
        if (!SSL_CTX_check_private_key(ssl))
            return cio__tls_set_error("private key", "does not match the certificate"), CIO_ETLSCONFIG;
        if (o->chain_file && (rc = add_chain(ssl, o->chain_file)) < 0)
            return rc;
    }

    if (c->role == CIO_TLS_CLIENT) {
        SSL_CTX_set_verify(ssl, o->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
        if (o->alpn) {
            unsigned char *w;
            unsigned n;
            if ((rc = alpn_wire(o->alpn, &w, &n)) < 0)
                return rc;
            rc = SSL_CTX_set_alpn_protos(ssl, w, n); /* 0 is success here */
            cio__free(w);
            if (rc != 0)
                return CIO_ETLSCONFIG;
        }
        /* OpenSSL keeps no client sessions by itself; the callback hands each to our cache. */
        SSL_CTX_set_session_cache_mode(
            ssl, o->no_resumption ? SSL_SESS_CACHE_OFF : SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ssl, new_session_cb);
    } else {
        int mode = SSL_VERIFY_NONE;
        if (o->client_auth == CIO_TLS_CLIENT_AUTH_OPTIONAL)
            mode = SSL_VERIFY_PEER;
        else if (o->client_auth == CIO_TLS_CLIENT_AUTH_REQUIRE)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ssl, mode, NULL);
        if (o->client_auth && o->ca_file) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
            if (names)
                SSL_CTX_set_client_CA_list(ssl, names);
        }
        if (!SSL_CTX_set_session_id_context(ssl, (const unsigned char *)SID_CTX, sizeof SID_CTX - 1))
            return CIO_ETLSCONFIG;
        if (o->no_resumption) {
            SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
            SSL_CTX_set_options(ssl, SSL_OP_NO_TICKET);
            SSL_CTX_set_num_tickets(ssl, 0);
        }
        if (o->alpn) {
            if ((rc = alpn_wire(o->alpn, &c->alpn, &c->alpn_len)) < 0)
                return rc;
            SSL_CTX_set_alpn_select_cb(ssl, alpn_select_cb, c);
        }
    }

    const char *keylog = o->keylog_file ? o->keylog_file : getenv("SSLKEYLOGFILE");
    if (keylog && *keylog) {
        c->keylog_fd = open(keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        /* A file the caller named must open; one from the environment is a debugging aid that must not stop a
           program from running (it then logs nothing). */
        if (c->keylog_fd < 0 && o->keylog_file)
            return -errno;
        if (c->keylog_fd >= 0)
            SSL_CTX_set_keylog_callback(ssl, keylog_cb);
    }
    return 0;
}

static void ctx_destroy(cio_tls_ctx *c)
{
    struct cio__tls_session *e = c->sessions;
    while (e) {
        struct cio__tls_session *next = e->next;
        SSL_SESSION_free(e->sess);
        cio__free(e);
        e = next;
    }
    if (c->keylog_fd >= 0)
        close(c->keylog_fd);
    SSL_CTX_free(c->ssl);
    pthread_mutex_destroy(&c->mu);
    cio__free(c->alpn);
    c->magic = 0;
    cio__free(c);
}

int cio_tls_ctx_new(cio_tls_ctx **out, int role, const cio_tls_opts *opts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (role != CIO_TLS_CLIENT && role != CIO_TLS_SERVER)
        return -EINVAL;
    last_error[0] = '\0';
    pthread_once(&init_once, init);
    if (cio__tls_key_index < 0 || ctx_index < 0)
        return -ENOMEM;
    const cio_tls_opts o = opts ? *opts : (cio_tls_opts){0};
    cio_tls_ctx *c = cio__calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->magic = TLS_CTX_MAGIC;
    c->role = role;
    c->keylog_fd = -1;
    c->skip_verify = o.insecure_skip_verify;
    c->allow_truncation = o.allow_truncation;
    c->no_resumption = o.no_resumption;
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->mu, NULL);
    c->ssl = SSL_CTX_new(role == CIO_TLS_CLIENT ? TLS_client_method() : TLS_server_method());
    if (!c->ssl) {
        ERR_clear_error();
        pthread_mutex_destroy(&c->mu);
        cio__free(c);
        return -ENOMEM;
    }
    int rc = SSL_CTX_set_ex_data(c->ssl, ctx_index, c) ? configure(c, &o) : -ENOMEM;
    if (rc < 0) {
        if (rc == CIO_ETLSCONFIG && !last_error[0])
            cio__tls_set_error("configuration", NULL);
        ERR_clear_error();
        ctx_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

int cio__tls_ctx_role(const cio_tls_ctx *ctx)
{
    return cio__tls_ctx_valid(ctx) ? ctx->role : -EINVAL;
}

void cio__tls_ctx_ref(cio_tls_ctx *ctx)
{
    atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
}

void cio_tls_ctx_free(cio_tls_ctx *ctx)
{
    if (!cio__tls_ctx_valid(ctx))
        return;
    if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) == 1)
        ctx_destroy(ctx);
}

void *cio_tls_ctx_native(cio_tls_ctx *ctx)
{
    return cio__tls_ctx_valid(ctx) ? ctx->ssl : NULL;
}
