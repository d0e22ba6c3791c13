/* dnskit.h: a tiny DNS server on 127.0.0.1 for resolver tests, and helpers that point cio's resolver at it. */
#ifndef CIO_TEST_DNSKIT_H
#define CIO_TEST_DNSKIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A UDP server on 127.0.0.1 with a random port, answering from a table, on a thread of its own (so it runs
 * whatever the loop under test does). A name with records gets them for the matching type (or an empty
 * NOERROR answer, NODATA); a name given an rcode gets that; any other name gets NXDOMAIN (RCODE 3). A silent
 * server counts queries and never answers. Open it before tst_run and close it after, so its socket and
 * thread stay out of the descriptor check.
 */
typedef struct tst_dns tst_dns;

/* An rcode for tst_dns_rcode: receive and count the query, never answer it. */
#define TST_DNS_DROP (-1)

tst_dns *tst_dns_open(bool silent);
/* Add an A or AAAA record (by the form of `addr`) for `name`, with its TTL in seconds. */
void tst_dns_add(tst_dns *s, const char *name, const char *addr, uint32_t ttl);
/* Answer every query for `name` with `rcode` (2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED) or TST_DNS_DROP. */
void tst_dns_rcode(tst_dns *s, const char *name, int rcode);
/* Queries received so far (each A and each AAAA question counts one). */
int tst_dns_queries(tst_dns *s);
int tst_dns_port(const tst_dns *s);
/* Write a resolv.conf naming this server ("nameserver 127.0.0.1:<port>", "search cio.test", one attempt) and
   set CIO_RESOLV_CONF to it. */
void tst_dns_use(tst_dns *s);
/* The same with another "options" line ("timeout:1 attempts:1"). */
void tst_dns_use_options(tst_dns *s, const char *options);
/* Stop the server, remove its resolv.conf and unset CIO_RESOLV_CONF. */
void tst_dns_close(tst_dns *s);

/* Write `text` to a fresh temporary file; returns its path (static storage, one at a time). */
const char *tst_write_temp(const char *text);

#endif
