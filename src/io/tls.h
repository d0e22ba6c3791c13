/* tls.h: what the TLS transport (io/tls.c) and TLS contexts (io/tls_ctx.c) share. */
#ifndef CIO_IO_TLS_H
#define CIO_IO_TLS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cio/io.h"

struct cio__tls_session;

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
    struct cio__tls_session *sessions;
    size_t nsessions;
};

/* Whether `c` is a live context. */
bool cio__tls_ctx_valid(const cio_tls_ctx *c);

/* The SSL ex_data index under which a client connection keeps its session cache key (a string it owns), or -1
   before the first context is made. new_session_cb files the sessions it gets under that key. */
extern int cio__tls_key_index;

/* A session to resume for `key` (its reference is the caller's), or NULL. A TLS 1.3 one leaves the cache. */
SSL_SESSION *cio__tls_session_take(cio_tls_ctx *c, const char *key);

/* Set the thread's last error text (cio_tls_last_error) from `what` and `detail`, or else the OpenSSL error
   queue, which it empties. */
void cio__tls_set_error(const char *what, const char *detail);

/* SSL_get_error needs the thread's error queue empty before the call. cio empties it after every failure, but
   other code in the thread may not: look first, since clearing walks all sixteen slots (2% of a 1 KiB echo). */
static inline void cio__tls_clear_errors(void)
{
    if (ERR_peek_error())
        ERR_clear_error();
}

#endif
