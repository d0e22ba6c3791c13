/* tlskit.h: certificates and keys made at test time with OpenSSL, for TLS tests that must not ship secrets. */
#ifndef CIO_TEST_TLSKIT_H
#define CIO_TEST_TLSKIT_H

#include <stddef.h>

/*
 * Every key is EC P-256, written unencrypted as PKCS#8 PEM ("BEGIN PRIVATE KEY") with mode 0600; every
 * certificate is X.509 v3, signed with SHA-256, with a random 127-bit serial number. Leaves are valid from an
 * hour ago to a day from now unless said otherwise. The files, by name:
 *
 *   ca.pem, ca.key                  the root clients trust: CN "cio test CA", critical CA:TRUE, keyUsage
 *                                   keyCertSign and cRLSign, a subject key identifier
 *   other-ca.pem, other-ca.key      a second root, CN "cio other CA", which clients do not trust
 *   server.pem, server.key          CN localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1, EKU serverAuth
 *   server-chain.pem                the same leaf alone, for code that loads a chain file (no intermediate)
 *   inter.pem, inter.key            an intermediate CA (CA:TRUE, pathlen 0) signed by ca
 *   chain-leaf.pem, chain-leaf.key  a server leaf for localhost and 127.0.0.1 signed by inter; the .pem holds
 *                                   the leaf followed by inter's certificate, as a server sends them
 *   expired.pem, expired.key        a server leaf signed by ca, valid from two days ago to one day ago
 *   wronghost.pem, wronghost.key    a server leaf signed by ca for wrong.example only (CN and SAN)
 *   selfsigned.pem, selfsigned.key  a self-signed server leaf (CA:FALSE) for localhost and 127.0.0.1
 *   untrusted.pem, untrusted.key    a server leaf for localhost and 127.0.0.1 signed by other-ca
 *   untrusted-chain.pem, .key       the same kind of leaf; the .pem holds it followed by other-ca's (self-signed)
 *                                   certificate, an untrusted root sent along as some servers do
 *   client.pem, client.key          CN "cio test client", EKU clientAuth, signed by ca
 *   other-client.pem, .key          CN "cio other client", EKU clientAuth, signed by other-ca
 *   wildcard.pem, wildcard.key      a server leaf signed by ca for DNS:*.test.localhost and the partial
 *                                   wildcard DNS:f*.part.localhost (which verifiers should refuse)
 *
 * The kit uses only libcrypto and no Criterion, so helper threads and forked children may call it too.
 */

/*
 * Make a fresh directory "cio-tls-XXXXXX" under $TMPDIR (or /tmp if unset or empty) holding the files above, and
 * write its path into `dir`. About a dozen EC keys and certificates: a few milliseconds.
 *
 * Returns: 0.
 * Errors:  -ENAMETOOLONG  the path does not fit in `cap` bytes;
 *          -EIO           an OpenSSL call failed (its error queue is printed to stderr, then cleared);
 *          any negative errno from mkdtemp, open or write.
 *          On error nothing is left behind: the directory, if made, is removed.
 */
int tlskit_make(char *dir, size_t cap);

/*
 * Write "<dir>/<name>" into `buf`: tlskit_path(dir, "server.pem", buf, sizeof buf).
 *
 * Returns: `buf`, or NULL if the path does not fit in `cap` bytes.
 */
const char *tlskit_path(const char *dir, const char *name, char *buf, size_t cap);

/* Remove the files in `dir` and then `dir` itself. Errors are ignored: a missing directory is fine. */
void tlskit_remove(const char *dir);

#endif
