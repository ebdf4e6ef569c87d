/*
 * base64.h - the base64 of JSON protocols' blob members (RFC 4648, the
 * standard alphabet with padding, as botocore sends them).
 *
 * Caveats: strict: whitespace, a missing or misplaced '=' and any other
 * character are refused, so one blob has one spelling.  Pure.
 */
#ifndef SL_ROUTES_WIRE_BASE64_H
#define SL_ROUTES_WIRE_BASE64_H

#include <stddef.h>

/* Decode the <len> characters of <in> into a new NUL-terminated buffer
 * (*out, the caller frees; *out_len bytes before the NUL).  SL_OK,
 * SL_EINVAL for text that is not base64, or SL_ENOMEM. */
int b64_decode(const char *in, size_t len, char **out, size_t *out_len);

#endif
