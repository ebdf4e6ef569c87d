/*
 * xml.h - AWS Query protocol responses.
 *
 * A canonical response object becomes
 *   <OpResponse xmlns=NS><OpResult>...</OpResult>
 *   <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></OpResponse>
 * objects as nested elements (in insertion order), arrays as <member>
 * children, booleans as true/false; null members are omitted.
 */
#ifndef SL_ROUTES_XML_H
#define SL_ROUTES_XML_H

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"

#define XML_NS_ELBV2 "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

/* Append <s> with XML escaping (& < > " ' and control characters). */
void xml_escape(struct buf *b, const char *s, size_t len);

/* Append the success envelope for operation <op>. */
void xml_response(struct buf *b, const char *ns, const char *op, json_t *result,
                  const char *request_id);

/* Append an ErrorResponse; Type is Sender for 4xx, Receiver for 5xx. */
void xml_error(struct buf *b, const char *ns, const struct sl_err *e, const char *request_id);

#endif
