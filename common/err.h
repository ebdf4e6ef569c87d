/*
 * err.h - the project-wide status convention and caller-owned error detail.
 *
 * Every fallible function returns an int: SL_OK (0) on success, a negative
 * SL_E* code on failure.  SL_EAGAIN means "try again" in non-blocking I/O.
 * Detail for the user goes into a caller-owned struct sl_err, never a global;
 * the front doors map it to the wire (AWS code, message, HTTP status).
 */
#ifndef SL_COMMON_ERR_H
#define SL_COMMON_ERR_H

#include <stddef.h>

enum {
    SL_OK = 0,
    SL_ERR = -1,       /* generic failure, detail in struct sl_err */
    SL_EAGAIN = -2,    /* non-blocking I/O would block */
    SL_ENOTFOUND = -3, /* key or resource absent */
    SL_EEXIST = -4,    /* key or resource already present */
    SL_ENOMEM = -5,
    SL_EIO = -6,       /* storage or socket failure */
    SL_EINVAL = -7,    /* malformed input */
};

/* An error as the API reports it: <status> is the HTTP status the AWS
 * protocols use (400 sender, 403 auth, 500 receiver), <code> the AWS error
 * code without an "Exception" suffix for ELBv2 (e.g. "TargetGroupNotFound"). */
struct sl_err {
    int status;
    char code[64];
    char message[512];
};

/* Fill <e> (may be NULL) and return SL_ERR, so callers can write
 * `return sl_err_set(err, 400, "ValidationError", "...%s", x);`. */
int sl_err_set(struct sl_err *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Text for a status code. */
const char *sl_strerror(int rc);

#endif
