/* error.c: names and messages for error codes, from the one table in cio/error.h. */
#include "cio/error.h"

const char *cio_strerror(int err)
{
    if (err > 0)
        err = -err;
    switch (err) {
    case 0:
        return "success";
#define TEXT_CASE(name, value, text) \
    case CIO_##name:                 \
        return text;
        CIO_ERRORS(TEXT_CASE)
#undef TEXT_CASE
    }
    return "unknown error";
}

const char *cio_err_name(int err)
{
    if (err >= 0)
        return "OK";
    switch (err) {
#define NAME_CASE(name, value, text) \
    case CIO_##name:                 \
        return "CIO_" #name;
        CIO_ERRORS(NAME_CASE)
#undef NAME_CASE
    }
    return "CIO_EUNKNOWN";
}

bool cio_is_timeout(int err)
{
    return err == -ETIMEDOUT || err == CIO_EAI_TIMEOUT || err == CIO_EREADTIMEOUT || err == CIO_ECLIENT_TIMEOUT ||
           err == CIO_ECLIENT_CONNECT_TIMEOUT || err == CIO_ECLIENT_SOCK_CONNECT_TIMEOUT ||
           err == CIO_ECLIENT_READ_TIMEOUT;
}
