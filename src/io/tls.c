/* tls.c: TLS (OpenSSL 3) as a transport under cio's streams, its errors in cio's codes, and what it negotiated. */
#include "io/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "core/runtime.h"
#include "internal.h"
#include "io/stream.h"
#include "io/transport.h"

/* A TLS session as a transport over another (io/transport.h). */
struct cio__tls {
    struct cio__transport base;
    /* The transport below (the socket, or a test's wrapper over it) and the socket at the bottom. */
    struct cio__transport *lower;
    struct cio__sock *sock;
    SSL *ssl;
    cio_tls_ctx *ctx;
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
    /* The direction the last read that could not go on must wait for (a read may need to write). */
    uint32_t read_want;
};

static BIO_METHOD *bio_method; /* the BIO over the transport below */
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------------------------------------ errors */

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
        cio__tls_set_error(op, "the peer closed the connection without close_notify");
        return CIO_ETLSTRUNCATED;
    default: {
        unsigned long err = ERR_peek_last_error();
        code = ssl_code(t, err);
        if (code == CIO_ETLSEXPIRED || code == CIO_ETLSSELFSIGNED || code == CIO_ETLSUNTRUSTED ||
            code == CIO_ETLSHOSTNAME || code == CIO_ETLSBADCERT) {
            long v = SSL_get_verify_result(t->ssl);
            char msg[200];
            snprintf(msg, sizeof msg, "certificate verify failed: %s", X509_verify_cert_error_string(v));
            cio__tls_set_error(op, msg);
        } else {
            cio__tls_set_error(op, NULL);
        }
        return code;
    }
    }
}

/* ------------------------------------------------------------------------------------------------ the BIO */

/*
 * A BIO over the transport below rather than OpenSSL's socket BIO: its calls never wait (CIO__T_NOWAIT), write
 * with MSG_NOSIGNAL (a gone peer is -EPIPE, never SIGPIPE), keep the socket's edge-triggered ready bits (so a
 * read with no edge since the last EAGAIN makes no system call), and serve first the bytes read before the
 * handshake (start_tls).
 */
static int bio_read(BIO *b, char *buf, int len)
{
    struct cio__tls *t = BIO_get_data(b);
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
    struct cio__transport *lo = t->lower;
    ssize_t n = lo->ops->read(lo, buf, (size_t)len, CIO__T_NOWAIT);
    if (n > 0)
        return (int)n;
    if (n == 0) {
        t->rd_eof = true;
        return 0;
    }
    if (n == -EAGAIN)
        BIO_set_retry_read(b);
    else
        t->syserr = (int)n;
    return -1;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    struct cio__tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    struct cio__transport *lo = t->lower;
    struct iovec v = {.iov_base = (void *)buf, .iov_len = (size_t)len};
    ssize_t n = lo->ops->writev(lo, &v, 1, CIO__T_NOWAIT);
    if (n >= 0)
        return (int)n;
    if (n == -EAGAIN)
        BIO_set_retry_write(b);
    else
        t->syserr = (int)n;
    return -1;
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

static void bio_init(void)
{
    bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cio transport");
    if (bio_method) {
        BIO_meth_set_write(bio_method, bio_write);
        BIO_meth_set_read(bio_method, bio_read);
        BIO_meth_set_ctrl(bio_method, bio_ctrl);
        BIO_meth_set_create(bio_method, bio_create);
    }
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

/* The peer's address, from the socket at the bottom of the session's stack. */
static int peer_addr(struct cio__tls *t, cio_addr *a)
{
    memset(a, 0, sizeof *a);
    a->len = sizeof a->u.ss;
    return getpeername(t->sock->fd, &a->u.sa, &a->len) < 0 ? -errno : 0;
}

/* The client's session cache key: the name checked and the peer's port. */
static char *session_key(struct cio__tls *t, const char *name)
{
    cio_addr a;
    int port = 0;
    if (peer_addr(t, &a) == 0)
        port = cio_addr_port(&a);
    size_t n = strlen(name) + 16;
    char *k = cio__malloc(n);
    if (k)
        snprintf(k, n, "%s:%d", name, port < 0 ? 0 : port);
    return k;
}

/* The key of a client without a name to check (verification off): the peer's address. */
static char *address_key(struct cio__tls *t)
{
    cio_addr a;
    char text[128];
    if (peer_addr(t, &a) < 0 || cio_addr_format(&a, text, sizeof text) < 0)
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
    SSL_SESSION *sess = cio__tls_session_take(t->ctx, t->key);
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
        if (!t->ctx->no_resumption && (t->key = address_key(t)))
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
        if (!(t->key = session_key(t, ip ? bare : name)))
            return -ENOMEM;
        offer_session(t);
    }
    return 0;
}

static const struct cio__transport_ops tls_ops;

int cio__tls_open(struct cio__transport **out, struct cio__transport *lower, struct cio__sock *sock, cio_tls_ctx *ctx,
                  const char *server_name, const void *unread, size_t len)
{
    if (!cio__tls_ctx_valid(ctx))
        return -EINVAL;
    struct cio__tls *t = cio__calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->base = (struct cio__transport){.ops = &tls_ops};
    t->lower = lower;
    t->sock = sock;
    t->ctx = ctx;
    t->read_want = CIO__IO_READ;
    int rc = -ENOMEM;
    BIO *bio = NULL;
    ERR_clear_error();
    pthread_once(&bio_once, bio_init);
    if (!bio_method || !(t->ssl = SSL_new(ctx->ssl)) || !(bio = BIO_new(bio_method)))
        goto fail;
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio); /* the SSL owns the BIO from here */
    bio = NULL;
    if (ctx->role == CIO_TLS_CLIENT) {
        SSL_set_connect_state(t->ssl);
        if ((rc = client_setup(t, server_name)) < 0)
            goto fail;
        rc = -ENOMEM;
        if (t->key && !SSL_set_ex_data(t->ssl, cio__tls_key_index, t->key))
            goto fail;
    } else {
        SSL_set_accept_state(t->ssl);
    }
    /* What the stream read but nobody consumed (a ClientHello that came right after STARTTLS) comes first. */
    if (len > 0) {
        rc = -ENOMEM;
        if (!(t->pre = cio__malloc(len)))
            goto fail;
        memcpy(t->pre, unread, len);
        t->pre_len = len;
    }
    cio__tls_ctx_ref(ctx);
    *out = &t->base;
    return 0;
fail:
    BIO_free(bio);
    SSL_free(t->ssl);
    cio__free(t->key);
    cio__free(t);
    ERR_clear_error();
    return rc;
}

static struct cio__tls *tls(struct cio__transport *t)
{
    return (struct cio__tls *)t;
}

struct cio__tls *cio__tls_of(struct cio__transport *t)
{
    return t && t->ops == &tls_ops ? tls(t) : NULL;
}

/*
 * Wait for `dir` on the transport below, before calling OpenSSL again. A read that must write (a post-handshake
 * message answered) or a write that must read may find another task waiting for that direction already (one
 * waiter each): it then polls every millisecond instead of failing. Rare: renegotiation is off.
 */
static int wait_below(struct cio__tls *t, uint32_t dir)
{
    struct cio__transport *lo = t->lower;
    int rc = dir == CIO__IO_WRITE ? lo->ops->wait_output(lo) : lo->ops->wait_input(lo);
    if (rc == -EBUSY)
        rc = cio_sleep(CIO_MS(1));
    return rc;
}

/* ------------------------------------------------------------------------------------------------ transport */

/* One step of the handshake: 0 done, -EAGAIN with *want, or an error. */
static int handshake_step(struct cio__tls *t, uint32_t *want)
{
    if (t->fatal)
        return t->fatal;
    cio__tls_clear_errors();
    t->syserr = 0; /* only this call's failures count */
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->established = true;
        return 0;
    }
    int rc = fail(t, r, "TLS handshake", want);
    /* A clean close_notify during the handshake is still a handshake that did not happen. */
    if (rc == 0) {
        cio__tls_set_error("TLS handshake", "the peer closed the connection");
        rc = t->fatal = CIO_ETLSTRUNCATED;
    }
    return rc;
}

int cio__tls_handshake(struct cio__transport *tr)
{
    struct cio__tls *t = tls(tr);
    uint32_t want = CIO__IO_READ;
    int rc;
    while ((rc = handshake_step(t, &want)) == -EAGAIN) {
        if ((rc = wait_below(t, want)) < 0)
            break;
    }
    return rc;
}

static ssize_t tls_read(struct cio__transport *tr, void *dst, size_t len, int flags)
{
    struct cio__tls *t = tls(tr);
    for (;;) {
        if (t->fatal)
            return t->fatal;
        size_t n = 0;
        cio__tls_clear_errors();
        t->syserr = 0; /* only this call's failures count */
        int r = SSL_read_ex(t->ssl, dst, len > INT_MAX ? INT_MAX : len, &n);
        if (r == 1)
            return (ssize_t)n;
        int rc = fail(t, r, "TLS read", &t->read_want);
        if (rc != -EAGAIN || (flags & CIO__T_NOWAIT))
            return rc;
        if ((rc = wait_below(t, t->read_want)) < 0)
            return rc;
    }
}

static int tls_wait_input(struct cio__transport *tr)
{
    struct cio__tls *t = tls(tr);
    /* Decrypted bytes make a read progress; a partial record in OpenSSL's buffer (SSL_has_pending) does not. */
    if (t->fatal || t->pre_off < t->pre_len || SSL_pending(t->ssl) > 0)
        return 0;
    return wait_below(t, t->read_want);
}

static int tls_wait_output(struct cio__transport *tr)
{
    return wait_below(tls(tr), CIO__IO_WRITE);
}

/* OpenSSL writes one buffer at a time; the stream hands over its own buffer whole (copy_writes). */
static ssize_t tls_writev(struct cio__transport *tr, const struct iovec *iov, int cnt, int flags)
{
    struct cio__tls *t = tls(tr);
    while (cnt > 0 && iov[0].iov_len == 0)
        iov++, cnt--;
    if (cnt == 0)
        return 0;
    for (;;) {
        if (t->fatal)
            return t->fatal;
        size_t n = 0;
        uint32_t want = CIO__IO_WRITE;
        cio__tls_clear_errors();
        t->syserr = 0;
        int r = SSL_write_ex(t->ssl, iov[0].iov_base, iov[0].iov_len > INT_MAX ? INT_MAX : iov[0].iov_len, &n);
        if (r == 1)
            return (ssize_t)n;
        int rc = fail(t, r, "TLS write", &want);
        /* SSL_write never ends cleanly: the peer's close_notify makes a write fail as on a closed socket. */
        if (rc == 0)
            rc = t->fatal = -EPIPE;
        if (rc != -EAGAIN || (flags & CIO__T_NOWAIT))
            return rc;
        if ((rc = wait_below(t, want)) < 0)
            return rc;
    }
}

/* Our close_notify, once (0 at once when the session never got going or failed). */
static int tls_shutdown(struct cio__transport *tr, int flags)
{
    struct cio__tls *t = tls(tr);
    for (;;) {
        if (t->fatal)
            return t->fatal;
        if (!t->established || t->notified)
            return 0;
        uint32_t want = CIO__IO_WRITE;
        cio__tls_clear_errors();
        t->syserr = 0;
        int r = SSL_shutdown(t->ssl);
        if (r >= 0) {
            t->notified = true; /* whether the peer's came back does not matter to us */
            return 0;
        }
        int rc = fail(t, r, "TLS shutdown", &want);
        if (rc != -EAGAIN)
            return rc < 0 ? rc : 0;
        if (flags & CIO__T_NOWAIT)
            return rc;
        if ((rc = wait_below(t, want)) < 0)
            return rc;
    }
}

/* Whether the peer has said it is done: its close_notify, the end, or a failure. */
static bool peer_done(const struct cio__tls *t)
{
    return t->fatal || t->rd_eof || (SSL_get_shutdown(t->ssl) & SSL_RECEIVED_SHUTDOWN);
}

/*
 * Before the descriptor closes: our close_notify, then read (and drop) until the peer's, or its end of stream.
 * Closing at once would let bytes the peer still sends (TLS 1.3 session tickets come after the handshake,
 * unasked) arrive at a closed socket, whose reset makes the kernel drop whatever of ours it had not yet sent.
 * asyncio waits the same way. A peer slow to answer costs nothing that was sent: that wait's failure is not
 * reported.
 */
static int tls_finish(struct cio__transport *tr, int flags)
{
    struct cio__tls *t = tls(tr);
    if (!t->established || t->fatal)
        return 0;
    int rc = tls_shutdown(tr, flags);
    if (rc < 0 || (flags & CIO__T_NOREAD) || peer_done(t))
        return rc;
    if (flags & CIO__T_NOWAIT)
        return -EAGAIN;
    char scratch[1024];
    while (tls_read(tr, scratch, sizeof scratch, 0) > 0)
        ;
    return 0;
}

static bool tls_pending(const struct cio__transport *tr)
{
    const struct cio__tls *t = (const struct cio__tls *)tr;
    return t->pre_off < t->pre_len || SSL_has_pending(t->ssl);
}

/*
 * Read and drop what the socket holds unread, so that closing it sends a FIN rather than a reset. The unread
 * bytes are often the session tickets a TLS 1.3 server sends after the handshake, which a client that only
 * writes never reads; a reset could then destroy the last bytes it sent before the peer read them.
 */
static void drain_unread(int fd)
{
    char scratch[1024];
    for (int i = 0; fd >= 0 && i < 64; i++) {
        ssize_t n = recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n <= 0 && !(n < 0 && errno == EINTR))
            break;
    }
}

static void tls_close(struct cio__transport *tr, bool abort)
{
    struct cio__tls *t = tls(tr);
    if (!abort)
        drain_unread(t->sock->fd);
    struct cio__transport *lo = t->lower;
    SSL_free(t->ssl);
    cio_tls_ctx_free(t->ctx);
    cio__free(t->pre);
    cio__free(t->key);
    cio__free(t);
    lo->ops->close(lo, abort);
}

static const struct cio__transport_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .writev = tls_writev,
    .wait_input = tls_wait_input,
    .wait_output = tls_wait_output,
    .shutdown = tls_shutdown,
    .finish = tls_finish,
    .pending = tls_pending,
    .close = tls_close,
    .copy_writes = true,
};

/* ------------------------------------------------------------------------------------------------ queries */

static const struct cio__tls *tls_of(const cio_stream *s)
{
    return cio__stream_valid(s) ? cio__tls_of(s->t) : NULL;
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
