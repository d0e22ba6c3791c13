/* dns.h: what the resolver shares with the rest of the I/O layer. */
#ifndef CIO_IO_DNS_H
#define CIO_IO_DNS_H

#include "cio/core.h"

/* The cio error for a c-ares status (ARES_ENOTFOUND is CIO_EAI_NONAME, ...); 0 for ARES_SUCCESS. */
int cio__dns_error(int ares_status);

#endif
