/* tls.c: TLS (OpenSSL 3) as a transport under cio's streams: contexts, sessions, errors in cio's codes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
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

struct session_entry {
    struct session_entry *next;
    SSL_SESSION *sess;
    char key[];
};

struct cio_tls_ctx {
    uint32_t magic;
    int role;
    atomic_int refs;
    SSL_CTX *ssl;
    bool skip_verify, allow_truncation, no_resumption;
    /* The server's ALPN list in wire format (length-prefixed), for the selection callback. */
    unsigned char *alpn;
    unsigned alpn_len;
    /* The key log (O_APPEND: each line is one write, whole even with many threads), or -1. */
    int keylog_fd;
    /* Client session cache: a list with the newest first, shared by every thread using the context. */
    pthread_mutex_t mu;
    struct session_entry *sessions;
    size_t nsessions;
};

struct cio__tls {
    SSL *ssl;
    cio_tls_ctx *ctx;
    cio_stream *s;
    /* Bytes the stream had buffered before the handshake began: they are read first. */
    char *pre;
    size_t pre_len, pre_off;
    /* The last failed system call in the BIO (-errno), to report instead of OpenSSL's generic syscall error. */
    int syserr;
    bool established;
    /* The socket said end of stream (BIO_eof: OpenSSL then tells truncation from a failed read). */
    bool rd_eof;
    /* Our close_notify has gone out; SSL_shutdown must not run again (a second call reads, for the peer's). */
    bool notified;
    /* The first fatal error, which ended the session: every later call returns it without asking OpenSSL (which
       would report its error state as a bare syscall failure), and no close_notify follows (OpenSSL forbids it). */
    int fatal;
    /* The session cache key ("name:port") of a client. */
    char *key;
};

static int ssl_index = -1;     /* SSL ex_data: the struct cio__tls */
static int ctx_index = -1;     /* SSL_CTX ex_data: the cio_tls_ctx */
static BIO_METHOD *bio_method; /* the BIO over a stream's descriptor */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static _Thread_local char last_error[320];

/* ------------------------------------------------------------------------------------------------ errors */

const char *cio_tls_last_error(void)
{
    return last_error;
}

/* SSL_get_error needs the thread's error queue empty before the call. cio empties it after every failure, but
   other code in the thread may not: look first, since clearing walks all sixteen slots (2% of a 1 KiB echo). */
static inline void clear_errors(void)
{
    if (ERR_peek_error())
        ERR_clear_error();
}

/* Set the thread's last error text from `what` and the OpenSSL error queue (which it empties). */
static void set_error(const char *what, const char *detail)
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

/* The code for a certificate verification failure. */
static int verify_code(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return CIO_ETLSEXPIRED;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return CIO_ETLSSELFSIGNED;
    /* A self-signed root in the chain that no trust anchor matches: the chain's issuer is untrusted. */
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return CIO_ETLSUNTRUSTED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return CIO_ETLSHOSTNAME;
    default:
        return CIO_ETLSBADCERT;
    }
}

/* The code for an error OpenSSL put in its queue (SSL_ERROR_SSL). */
static int ssl_code(const struct cio__tls *t, unsigned long e)
{
    int reason = ERR_GET_REASON(e);
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return CIO_ETLS;
    switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
        return verify_code(SSL_get_verify_result(t->ssl));
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return CIO_ETLSNOCERT;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
        return CIO_ETLSVERSION;
    case SSL_R_NO_APPLICATION_PROTOCOL:
    case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
        return CIO_ETLSALPN;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return CIO_ETLSTRUNCATED;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_BAD_PACKET_LENGTH:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_BAD_RECORD_TYPE:
    case SSL_R_LENGTH_TOO_SHORT:
    case SSL_R_BAD_LENGTH:
    case SSL_R_RECORD_TOO_SMALL:
        return CIO_ETLSPROTO;
    default:
        /* Alerts the peer sent are reasons 1000 + the alert number. */
        return reason >= SSL_AD_REASON_OFFSET ? CIO_ETLSALERT : CIO_ETLS;
    }
}

static int fail_code(struct cio__tls *t, int r, const char *op, uint32_t *want);

/*
 * Turn SSL_*'s failure `r` into the transport's result: -EAGAIN with the direction, 0 for a clean end, or an
 * error with the thread's last error set (and remembered as the session's fatal error). `op` names the step.
 */
static int fail(struct cio__tls *t, int r, const char *op, uint32_t *want)
{
    int code = fail_code(t, r, op, want);
    if (code < 0 && code != -EAGAIN && !t->fatal)
        t->fatal = code;
    return code;
}

static int fail_code(struct cio__tls *t, int r, const char *op, uint32_t *want)
{
    int code, e = SSL_get_error(t->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = CIO__IO_READ;
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want = CIO__IO_WRITE;
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return 0;
    case SSL_ERROR_SYSCALL:
        if (t->syserr) {
            code = t->syserr;
            t->syserr = 0;
            ERR_clear_error();
            return code;
        }
        /* An end of stream OpenSSL did not classify (with the unexpected-EOF option it is a clean end). */
        set_error(op, "the peer closed the connection without close_notify");
        return CIO_ETLSTRUNCATED;
    default: {
        unsigned long err = ERR_peek_last_error();
        code = ssl_code(t, err);
        if (code == CIO_ETLSEXPIRED || code == CIO_ETLSSELFSIGNED || code == CIO_ETLSUNTRUSTED ||
            code == CIO_ETLSHOSTNAME || code == CIO_ETLSBADCERT) {
            long v = SSL_get_verify_result(t->ssl);
            char msg[200];
            snprintf(msg, sizeof msg, "certificate verify failed: %s", X509_verify_cert_error_string(v));
            set_error(op, msg);
        } else {
            set_error(op, NULL);
        }
        return code;
    }
    }
}

/* ------------------------------------------------------------------------------------------------ the BIO */

/*
 * A BIO over the stream's descriptor rather than OpenSSL's socket BIO: it writes with MSG_NOSIGNAL (a gone
 * peer is -EPIPE, never SIGPIPE), keeps the stream's edge-triggered ready bits (so a read with no edge since the
 * last EAGAIN makes no system call), and serves first the bytes read before the handshake (start_tls).
 */
static int bio_read(BIO *b, char *buf, int len)
{
    struct cio__tls *t = BIO_get_data(b);
    cio_stream *s = t->s;
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (t->pre_off < t->pre_len) {
        size_t n = t->pre_len - t->pre_off;
        if (n > (size_t)len)
            n = (size_t)len;
        memcpy(buf, t->pre + t->pre_off, n);
        t->pre_off += n;
        if (t->pre_off == t->pre_len) {
            cio__free(t->pre);
            t->pre = NULL;
            t->pre_len = t->pre_off = 0;
        }
        return (int)n;
    }
    if (s->fd < 0) {
        t->syserr = -EBADF;
        return -1;
    }
    if (s->watched && !(s->io.ready & (CIO__IO_READ | CIO__IO_ERROR | CIO__IO_HUP))) {
        BIO_set_retry_read(b);
        return -1;
    }
    for (;;) {
        ssize_t n = recv(s->fd, buf, (size_t)len, 0);
        if (n > 0) {
            /* A short read emptied the socket: the next data comes with a new edge (see stream.c). */
            if (n < len)
                s->io.ready &= ~CIO__IO_READ;
            return (int)n;
        }
        if (n == 0) {
            t->rd_eof = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            s->io.ready &= ~(CIO__IO_READ | CIO__IO_ERROR);
            BIO_set_retry_read(b);
        } else {
            t->syserr = -errno;
        }
        return -1;
    }
}

static int bio_write(BIO *b, const char *buf, int len)
{
    struct cio__tls *t = BIO_get_data(b);
    cio_stream *s = t->s;
    BIO_clear_retry_flags(b);
    if (s->fd < 0) {
        t->syserr = -EBADF;
        return -1;
    }
    if (s->watched && !(s->io.ready & (CIO__IO_WRITE | CIO__IO_ERROR))) {
        BIO_set_retry_write(b);
        return -1;
    }
    for (;;) {
        ssize_t n = send(s->fd, buf, (size_t)len, MSG_NOSIGNAL);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            s->io.ready &= ~(CIO__IO_WRITE | CIO__IO_ERROR);
            BIO_set_retry_write(b);
        } else {
            t->syserr = -errno;
        }
        return -1;
    }
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num, (void)ptr;
    struct cio__tls *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; /* writes go straight to the socket */
    case BIO_CTRL_EOF:
        return t && t->rd_eof;
    default:
        return 0; /* pending counts, kTLS and the rest: "no" */
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ------------------------------------------------------------------------------------------------ contexts */

static void init(void)
{
    ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cio stream");
    if (bio_method) {
        BIO_meth_set_write(bio_method, bio_write);
        BIO_meth_set_read(bio_method, bio_read);
        BIO_meth_set_ctrl(bio_method, bio_ctrl);
        BIO_meth_set_create(bio_method, bio_create);
    }
}

static bool ctx_valid(const cio_tls_ctx *c)
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
static void session_drop(cio_tls_ctx *c, struct session_entry **pp)
{
    struct session_entry *e = *pp;
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
    struct cio__tls *t = SSL_get_ex_data(ssl, ssl_index);
    if (!t || !t->key || t->ctx->no_resumption)
        return 0;
    cio_tls_ctx *c = t->ctx;
    size_t klen = strlen(t->key) + 1;
    struct session_entry *e = cio__malloc(sizeof *e + klen);
    if (!e)
        return 0;
    e->sess = sess;
    memcpy(e->key, t->key, klen);
    pthread_mutex_lock(&c->mu);
    e->next = c->sessions;
    c->sessions = e;
    c->nsessions++;
    /* Past the limits, the key's oldest goes, then the cache's oldest. */
    size_t same = 0;
    struct session_entry **pp = &c->sessions, **last = NULL;
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

/* A session to resume for `key` (its reference is the caller's), or NULL. A TLS 1.3 one leaves the cache. */
static SSL_SESSION *session_find(cio_tls_ctx *c, const char *key)
{
    SSL_SESSION *sess = NULL;
    pthread_mutex_lock(&c->mu);
    struct session_entry **pp = &c->sessions;
    while (*pp && !sess) {
        struct session_entry *e = *pp;
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

static int configure(cio_tls_ctx *c, const cio_tls_opts *o)
{
    SSL_CTX *ssl = c->ssl;
    int rc;
    if ((rc = check_file(o->ca_file)) < 0 || (rc = check_file(o->cert_file)) < 0 || (rc = check_file(o->key_file)) < 0)
        return rc;
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
        return set_error("cipher list", NULL), CIO_ETLSCONFIG;
    if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ssl, o->ciphersuites))
        return set_error("TLS 1.3 cipher suites", NULL), CIO_ETLSCONFIG;

    if (o->ca_file || o->ca_dir) {
        if (!SSL_CTX_load_verify_locations(ssl, o->ca_file, o->ca_dir))
            return set_error("CA certificates", NULL), CIO_ETLSCONFIG;
    } else if (c->role == CIO_TLS_CLIENT || o->client_auth) {
        if (!SSL_CTX_set_default_verify_paths(ssl))
            return set_error("system CA store", NULL), CIO_ETLSCONFIG;
    }
    warm_store(ssl);
    if (o->cert_file) {
        if (!SSL_CTX_use_certificate_chain_file(ssl, o->cert_file))
            return set_error("certificate", NULL), CIO_ETLSCONFIG;
        if (!SSL_CTX_use_PrivateKey_file(ssl, o->key_file, SSL_FILETYPE_PEM)) {
            bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
            return set_error("private key", mismatch ? "does not match the certificate" : NULL), CIO_ETLSCONFIG;
        }
        if (!SSL_CTX_check_private_key(ssl))
            return set_error("private key", "does not match the certificate"), CIO_ETLSCONFIG;
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
    struct session_entry *e = c->sessions;
    while (e) {
        struct session_entry *next = e->next;
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
    if (ssl_index < 0 || ctx_index < 0 || !bio_method)
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
            set_error("configuration", NULL);
        ERR_clear_error();
        ctx_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

int cio__tls_ctx_role(const cio_tls_ctx *ctx)
{
    return ctx_valid(ctx) ? ctx->role : -EINVAL;
}

void cio__tls_ctx_ref(cio_tls_ctx *ctx)
{
    atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
}

void cio_tls_ctx_free(cio_tls_ctx *ctx)
{
    if (!ctx_valid(ctx))
        return;
    if (atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) == 1)
        ctx_destroy(ctx);
}

void *cio_tls_ctx_native(cio_tls_ctx *ctx)
{
    return ctx_valid(ctx) ? ctx->ssl : NULL;
}

/* ------------------------------------------------------------------------------------------------ sessions */

/* Whether `name` is an IPv4 or IPv6 address (brackets allowed), which is checked against IP SANs. */
static bool is_ip(const char *name, char *bare, size_t cap)
{
    unsigned char tmp[16];
    size_t n = strlen(name);
    if (n >= 2 && name[0] == '[' && name[n - 1] == ']') {
        if (n - 2 >= cap)
            return false;
        memcpy(bare, name + 1, n - 2);
        bare[n - 2] = '\0';
    } else {
        if (n >= cap)
            return false;
        memcpy(bare, name, n + 1);
    }
    return inet_pton(AF_INET, bare, tmp) == 1 || inet_pton(AF_INET6, bare, tmp) == 1;
}

/* The client's session cache key: the name checked and the peer's port. */
static char *session_key(const cio_stream *s, const char *name)
{
    cio_addr a;
    int port = 0;
    if (cio_stream_peer_addr(s, &a) == 0)
        port = cio_addr_port(&a);
    size_t n = strlen(name) + 16;
    char *k = cio__malloc(n);
    if (k)
        snprintf(k, n, "%s:%d", name, port < 0 ? 0 : port);
    return k;
}

/* The key of a client without a name to check (verification off): the peer's address. */
static char *address_key(const cio_stream *s)
{
    cio_addr a;
    char text[128];
    if (cio_stream_peer_addr(s, &a) < 0 || cio_addr_format(&a, text, sizeof text) < 0)
        return NULL;
    size_t n = strlen(text) + 1;
    char *k = cio__malloc(n);
    if (k)
        memcpy(k, text, n);
    return k;
}

/* Offer the cached session for t->key, if there is one. */
static void offer_session(struct cio__tls *t)
{
    SSL_SESSION *sess = session_find(t->ctx, t->key);
    if (sess) {
        (void)SSL_set_session(t->ssl, sess); /* it takes its own reference */
        SSL_SESSION_free(sess);
    }
}

static int client_setup(struct cio__tls *t, const char *name)
{
    char bare[64];
    if (!name) {
        if (!t->ctx->skip_verify)
            return -EINVAL;
        if (!t->ctx->no_resumption && (t->key = address_key(t->s)))
            offer_session(t);
        return 0;
    }
    if (!*name || strlen(name) > 253)
        return -EINVAL;
    bool ip = is_ip(name, bare, sizeof bare);
    if (!t->ctx->skip_verify) {
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), bare) : SSL_set1_host(t->ssl, name);
        if (!ok)
            return -EINVAL;
        /* "*" matches a whole left-most label only ("f*.example.com" matches nothing), as browsers and curl. */
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    /* SNI carries names only (RFC 6066). */
    if (!ip && !SSL_set_tlsext_host_name(t->ssl, name))
        return -EINVAL;
    if (!t->ctx->no_resumption) {
        if (!(t->key = session_key(t->s, ip ? bare : name)))
            return -ENOMEM;
        offer_session(t);
    }
    return 0;
}

int cio__tls_attach(cio_stream *s, cio_tls_ctx *ctx, const char *server_name)
{
    if (!ctx_valid(ctx))
        return -EINVAL;
    struct cio__tls *t = cio__calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->s = s;
    t->ctx = ctx;
    int rc = -ENOMEM;
    BIO *bio = NULL;
    ERR_clear_error();
    if (!(t->ssl = SSL_new(ctx->ssl)) || !(bio = BIO_new(bio_method)) || !SSL_set_ex_data(t->ssl, ssl_index, t))
        goto fail;
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio); /* the SSL owns the BIO from here */
    bio = NULL;
    if (ctx->role == CIO_TLS_CLIENT) {
        SSL_set_connect_state(t->ssl);
        if ((rc = client_setup(t, server_name)) < 0)
            goto fail;
    } else {
        SSL_set_accept_state(t->ssl);
    }
    /* What the stream read but nobody consumed (a ClientHello that came right after STARTTLS) comes first. */
    size_t unread = s->rend - s->rstart;
    if (unread > 0) {
        rc = -ENOMEM;
        if (!(t->pre = cio__malloc(unread)))
            goto fail;
        memcpy(t->pre, s->rbuf + s->rstart, unread);
        t->pre_len = unread;
        s->rstart = s->rend = 0;
    }
    cio__tls_ctx_ref(ctx);
    s->tls = t;
    return 0;
fail:
    BIO_free(bio);
    SSL_free(t->ssl);
    cio__free(t->key);
    cio__free(t);
    ERR_clear_error();
    return rc;
}

void cio__tls_free(struct cio__tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    cio_tls_ctx_free(t->ctx);
    cio__free(t->pre);
    cio__free(t->key);
    cio__free(t);
}

bool cio__tls_pending(const cio_stream *s)
{
    const struct cio__tls *t = s->tls;
    return t && (t->pre_off < t->pre_len || SSL_has_pending(t->ssl));
}

bool cio__tls_close_owed(const cio_stream *s)
{
    return s->tls && s->tls->established && !s->tls->fatal;
}

/* ------------------------------------------------------------------------------------------------ transport */

int cio__tls_handshake(cio_stream *s, uint32_t *want)
{
    struct cio__tls *t = s->tls;
    if (t->fatal)
        return t->fatal;
    clear_errors();
    t->syserr = 0; /* only this call's failures count */
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->established = true;
        return 0;
    }
    int rc = fail(t, r, "TLS handshake", want);
    /* A clean close_notify during the handshake is still a handshake that did not happen. */
    if (rc == 0) {
        set_error("TLS handshake", "the peer closed the connection");
        rc = t->fatal = CIO_ETLSTRUNCATED;
    }
    return rc;
}

ssize_t cio__tls_read(cio_stream *s, void *dst, size_t len, uint32_t *want)
{
    struct cio__tls *t = s->tls;
    if (t->fatal)
        return t->fatal;
    size_t n = 0;
    clear_errors();
    t->syserr = 0; /* only this call's failures count */
    int r = SSL_read_ex(t->ssl, dst, len, &n);
    if (r == 1)
        return (ssize_t)n;
    return fail(t, r, "TLS read", want);
}

ssize_t cio__tls_write(cio_stream *s, const void *src, size_t len, uint32_t *want)
{
    struct cio__tls *t = s->tls;
    if (t->fatal)
        return t->fatal;
    size_t n = 0;
    clear_errors();
    t->syserr = 0; /* only this call's failures count */
    int r = SSL_write_ex(t->ssl, src, len, &n);
    if (r == 1)
        return (ssize_t)n;
    int rc = fail(t, r, "TLS write", want);
    /* SSL_write never ends cleanly: the peer's close_notify makes a write fail as on a closed socket. */
    if (rc == 0)
        rc = t->fatal = -EPIPE;
    return rc;
}

int cio__tls_close_notify(cio_stream *s, uint32_t *want)
{
    struct cio__tls *t = s->tls;
    if (t->fatal)
        return t->fatal;
    if (!t->established || t->notified)
        return 0;
    clear_errors();
    t->syserr = 0; /* only this call's failures count */
    int r = SSL_shutdown(t->ssl);
    if (r >= 0) {
        t->notified = true; /* whether the peer's came back does not matter to us */
        return 0;
    }
    int rc = fail(t, r, "TLS shutdown", want);
    return rc == -EAGAIN || rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------------------------------------ queries */

static const struct cio__tls *tls_of(const cio_stream *s)
{
    return cio__stream_valid(s) ? s->tls : NULL;
}

bool cio_stream_is_tls(const cio_stream *s)
{
    return tls_of(s) != NULL;
}

void *cio_stream_tls_native(const cio_stream *s)
{
    const struct cio__tls *t = tls_of(s);
    return t ? t->ssl : NULL;
}

int cio_stream_tls_info(const cio_stream *s, cio_tls_info *out)
{
    const struct cio__tls *t = tls_of(s);
    if (!t || !out)
        return -EINVAL;
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    *out = (cio_tls_info){
        .version = SSL_get_version(t->ssl),
        .cipher = SSL_get_cipher_name(t->ssl),
        .alpn = alpn_len ? (const char *)alpn : NULL,
        .alpn_len = alpn_len,
        .resumed = SSL_session_reused(t->ssl) == 1,
        .peer_verified = peer && SSL_get_verify_result(t->ssl) == X509_V_OK && !t->ctx->skip_verify,
        .server_name = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name),
    };
    return 0;
}

ssize_t cio_stream_tls_peer_cert(const cio_stream *s, void *buf, size_t cap)
{
    const struct cio__tls *t = tls_of(s);
    if (!t || (!buf && cap > 0))
        return -EINVAL;
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    if (!peer)
        return -ENOENT;
    int n = i2d_X509(peer, NULL);
    if (n <= 0) {
        ERR_clear_error();
        return -ENOMEM;
    }
    if ((size_t)n <= cap) {
        unsigned char *p = buf;
        if (i2d_X509(peer, &p) != n) {
            ERR_clear_error();
            return -ENOMEM;
        }
    }
    return n;
}

int cio_stream_tls_peer_subject(const cio_stream *s, char *buf, size_t cap)
{
    const struct cio__tls *t = tls_of(s);
    if (!t || !buf || cap == 0)
        return -EINVAL;
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    if (!peer)
        return -ENOENT;
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem)
        return -ENOMEM;
    int rc = -ENOMEM;
    if (X509_NAME_print_ex(mem, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
        char *data;
        long n = BIO_get_mem_data(mem, &data);
        size_t len = n > 0 ? (size_t)n : 0, take = len < cap ? len : cap - 1;
        memcpy(buf, data, take);
        buf[take] = '\0';
        rc = take < len ? -ENOSPC : (int)len;
    }
    BIO_free(mem);
    ERR_clear_error();
    return rc;
}
