/* ELBv2 Query protocol front door. */
#include <string.h>

#include "routes/api/front.h"
#include "routes/wire/query.h"
#include "routes/wire/xml.h"

void front_reply_init(struct front_reply *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
}

void front_reply_free(struct front_reply *r)
{
    buf_free(&r->body);
}

void front_query_error(const struct sl_err *e, const char *request_id, struct front_reply *out)
{
    out->status = e->status ? e->status : 400;
    out->content_type = "text/xml";
    xml_error(&out->body, XML_NS_ELBV2, e, request_id);
}

void front_query(struct op_ctx *ctx, const struct front_request *req, struct front_reply *out)
{
    struct sl_err err = {0};
    const struct op_def *op;
    const char *action, *version;
    json_t *params, *result;

    params = query_decode(req->body, req->body_len, &err);
    if (params == NULL)
        goto error;
    action = json_string_value(json_object_get(params, "Action"));
    version = json_string_value(json_object_get(params, "Version"));
    if (action == NULL) {
        sl_err_set(&err, 400, "MissingAction", "the request must contain the parameter Action");
        goto error;
    }
    if (version == NULL) {
        sl_err_set(&err, 400, "MissingParameter",
                   "the request must contain the parameter Version");
        goto error;
    }
    if (strcmp(version, "2015-12-01") != 0) {
        sl_err_set(&err, 400, "InvalidAction",
                   "Version %s is not supported; this endpoint serves ELBv2 2015-12-01",
                   version);
        goto error;
    }
    op = ops_find(elbv2_ops, action);
    if (op == NULL) {
        sl_err_set(&err, 400, "InvalidAction", "The action %s is not valid for this web service.",
                   action);
        goto error;
    }
    json_object_del(params, "Action");
    json_object_del(params, "Version");
    result = op->fn(ctx, params, &err);
    json_decref(params);
    if (result == NULL) {
        if (err.code[0] == '\0')
            sl_err_set(&err, 500, "InternalFailure", "operation failed");
        front_query_error(&err, ctx->request_id, out);
        return;
    }
    out->status = 200;
    out->content_type = "text/xml";
    xml_response(&out->body, XML_NS_ELBV2, op->name, result, ctx->request_id);
    json_decref(result);
    return;

error:
    json_decref(params);
    front_query_error(&err, ctx->request_id, out);
}
