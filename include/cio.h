/* cio.h: asyncio for C. Includes every public header. */
#ifndef CIO_H
#define CIO_H

#include "cio/error.h"
#include "cio/core.h"
#include "cio/sync.h"
#include "cio/io.h"
#include "cio/http.h"
#include "cio/web.h"
#include "cio/client.h"

#endif
