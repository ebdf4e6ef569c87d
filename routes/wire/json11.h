/*
 * json11.h - the AWS JSON 1.1 protocol's bodies: a request body in, a
 * response or an error body out.  Knows no service.
 *
 * Caveats: timestamps are epoch seconds (JSON reals); responses print them
 * with 13 significant digits (1700000000.123, not 1700000000.1230001).
 */
#ifndef SL_ROUTES_WIRE_JSON11_H
#define SL_ROUTES_WIRE_JSON11_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

#define JSON11_CONTENT_TYPE "application/x-amz-json-1.1"

/* A request body: empty or blank is {}, anything else must be a JSON
 * object.  New reference, or NULL with a 400 SerializationException. */
json_t *json11_decode(const char *body, size_t len, struct sl_err *err);

/* Append <result> (borrowed) to <b>.  SL_OK, or SL_ENOMEM. */
int json11_encode(struct buf *b, json_t *result);

/* Append the error body {"__type","message"} for <e>: a 5xx is
 * "ServerException" (the protocol's word for a fault of ours), a 4xx
 * without a code "ClientException". */
void json11_error(struct buf *b, const struct sl_err *e);

#endif
