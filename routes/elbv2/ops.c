#include "routes/elbv2/ops.h"

#include <string.h>

const struct op_def *ops_find(const struct op_def *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

json_t *ops_call(struct op_ctx *ctx, const char *name, json_t *req, struct sl_err *err)
{
    const struct op_def *op = ops_find(elbv2_ops, name);

    if (op == NULL) {
        sl_err_set(err, 500, "InternalFailure", "no operation %s", name);
        return NULL;
    }
    return op->fn(ctx, req, err);
}
