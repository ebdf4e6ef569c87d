/*
 * ops.h - the one operation table behind every front door.
 *
 * An operation takes a canonical request (a jansson object shaped like the
 * AWS API model: "TargetGroupArn", "Targets":[{"Id","Port"}]) and returns a
 * canonical response object, or NULL with <err> filled (AWS code, message,
 * HTTP status).  The Query/XML, JSON 1.1 and REST front doors only translate.
 *
 * Caveats:
 * - Scalars may arrive as strings (the Query protocol has no types); read
 *   them through routes/params.h, which accepts both forms.
 * - Operations are called concurrently from many threads; they keep no
 *   state of their own beyond the store.
 */
#ifndef SL_ROUTES_OPS_H
#define SL_ROUTES_OPS_H

#include <jansson.h>

#include "common/err.h"

struct store;
struct health;

struct op_ctx {
    struct store *store;
    struct health *health; /* data-plane reports; may be NULL */
    const char *region;
    const char *account;
    const char *request_id;
};

/* Returns a new reference to the response object, or NULL with <err>. */
typedef json_t *(*op_fn)(struct op_ctx *ctx, json_t *req, struct sl_err *err);

struct op_def {
    const char *name;
    op_fn fn;
};

/* The ELBv2 operation table, terminated by {NULL, NULL}. */
extern const struct op_def elbv2_ops[];

/* Find <name> in <table>; NULL when unknown. */
const struct op_def *ops_find(const struct op_def *table, const char *name);

/* Run <name> from the ELBv2 table: a convenience for the REST front door. */
json_t *ops_call(struct op_ctx *ctx, const char *name, json_t *req, struct sl_err *err);

#endif
