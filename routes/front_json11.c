/* ECS JSON 1.1 front door (X-Amz-Target: AmazonEC2ContainerServiceV20141113.Op). */
#include <stdlib.h>
#include <string.h>

#include "routes/front.h"

void front_json11_error(const struct sl_err *e, struct front_reply *out)
{
    json_t *body = json_pack("{ss ss}", "__type", e->code, "message", e->message);
    char *text = json_dumps(body, JSON_COMPACT);

    out->status = e->status ? e->status : 400;
    out->content_type = "application/x-amz-json-1.1";
    buf_puts(&out->body, text ? text : "{}");
    free(text);
    json_decref(body);
}

void front_json11(struct op_ctx *ctx, const char *target, const struct front_request *req,
                  struct front_reply *out)
{
    struct sl_err err = {0};

    sl_err_set(&err, 400, "UnknownOperationException", "Unknown operation %s", target);
    front_json11_error(&err, out);
}
