/* dns.h: the resolver's per-loop state, as the loop's close and the tests see it. */
#ifndef CIO_IO_DNS_H
#define CIO_IO_DNS_H

#include "cio/core.h"

/*
 * Release this thread's resolver state (the c-ares channel and the cache of answers) now. The state is made
 * by the first lookup that needs DNS and otherwise lives until the loop closes, or until no lookup runs and
 * the cache is empty. cio_loop_close calls this; a call with no state, or a second call, does nothing. No
 * lookup may be waiting (none can be once the loop's tasks are done).
 */
void cio__dns_loop_close(cio_loop *l);

/* The cio error for a c-ares status (ARES_ENOTFOUND is CIO_EAI_NONAME, ...); 0 for ARES_SUCCESS. */
int cio__dns_error(int ares_status);

#endif
