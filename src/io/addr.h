/* addr.h: what the I/O layer's address code (io/addr.c) offers the files that make sockets. */
#ifndef CIO_IO_ADDR_H
#define CIO_IO_ADDR_H

#include "cio/io.h"

/* Check that `a` holds an address of a family cio speaks, with a length that fits it: 0 or -EINVAL. */
int cio__addr_check(const cio_addr *a);

#endif
