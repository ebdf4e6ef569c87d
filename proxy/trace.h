/*
 * trace.h - X-Amzn-Trace-Id as ALB adds and extends it (AWS "Request
 * tracing for your Application Load Balancer"):
 *   no header, or one that does not parse   -> Root=1-<time>-<id>
 *   a header with a Root field              -> Self=1-<time>-<id>;<its fields>
 *   a header with Root and Self             -> Self updated, the rest kept
 * where <time> is the epoch second in 8 hex digits and <id> 24 random hex
 * digits.  Fields an application added are kept in order.
 *
 * Caveats:
 *  - Request heads over 7 KB get a fresh Root only (ALB does the same).
 *  - A header value longer than fits the caller's buffer, or with anything
 *    but "Key=Value" fields of visible ASCII, does not parse.
 *  - The random part comes from a per-thread generator seeded from the
 *    kernel once: unique, not secret.  Thread-safe.
 */
#ifndef SL_PROXY_TRACE_H
#define SL_PROXY_TRACE_H

#include <stddef.h>
#include <time.h>

#include "proxy/http1.h"

#define PX_TRACE_HEAD_MAX 7168 /* heads larger than this get a fresh Root */

/* The value to send for a request with fields <hdrs>[0..<n>) and a head of
 * <head_len> bytes, at <now>, into <out> (<cap> >= 64 bytes).  Returns its
 * length. */
size_t px_trace_value(const struct h1_header *hdrs, size_t n, size_t head_len, time_t now,
                      char *out, size_t cap);

/* 1 if <v>[0..<n>) is "1-" 8 hex digits "-" 24 hex digits (a Root or Self). */
int px_trace_id_ok(const char *v, size_t n);

/* <nbytes> random bytes as hex into <out> (2*nbytes chars, no NUL). */
void px_trace_hex(char *out, size_t nbytes);

#endif
