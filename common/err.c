#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl_err_set(struct sl_err *e, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return SL_ERR;
    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return SL_ERR;
}

const char *sl_strerror(int rc)
{
    switch (rc) {
    case SL_OK: return "success";
    case SL_ERR: return "failure";
    case SL_EAGAIN: return "try again";
    case SL_ENOTFOUND: return "not found";
    case SL_EEXIST: return "already exists";
    case SL_ENOMEM: return "out of memory";
    case SL_EIO: return "I/O error";
    case SL_EINVAL: return "invalid input";
    default: return "unknown status";
    }
}
