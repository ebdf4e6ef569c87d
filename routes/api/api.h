/*
 * api.h - what the front doors share: the request context, the table entry
 * of a wire action, running domain functions in store transactions, and
 * paging.
 *
 * Caveats:
 * - A wire action decodes its request into the domain's typed arguments on
 *   the request's thread (with the checks that need no store), runs the
 *   domain function in one store transaction (a write through store_write(),
 *   or a read transaction), then encodes the result.  Nothing below the
 *   front doors sees a wire request.
 * - The tables that map wire action names to handlers are in the doors
 *   (front_query.c, front_json11.c) and nowhere else.
 */
#ifndef SL_ROUTES_API_API_H
#define SL_ROUTES_API_API_H

#include <jansson.h>

#include "common/err.h"
#include "routes/acm/acm.h"
#include "routes/ecs/ecs.h"
#include "routes/elbv2/elbv2.h"
#include "store/store.h"

/* One request: the store, the domains' environments, the request id.
 * Borrowed for the request. */
struct api_ctx {
    struct store *store;
    struct elb_env elb;
    struct ecs_env ecs;
    struct acm_env acm; /* .ca set by the server after api_ctx_init() */
    const char *request_id;
};

/* Fill <ctx> for <store>, <region>, <account> and <health> (may be NULL). */
void api_ctx_init(struct api_ctx *ctx, struct store *store, const char *region,
                  const char *account, struct elb_health *health, const char *request_id);

/* A wire action: decode <req> (borrowed), run, and return the response
 * object (new reference) or NULL with <err>. */
typedef json_t *(*api_action_fn)(const struct api_ctx *ctx, json_t *req, struct sl_err *err);

struct api_action {
    const char *name;
    api_action_fn fn;
    const char *const *members; /* the request members it honours; NULL: not checked */
};

/* Why sluice refuses request member <member>: shown after "is not supported
 * by sluice: ". */
struct api_refusal {
    const char *member;
    const char *why;
};

/* The entry of <table> (terminated by {NULL, NULL}) named <name>, or NULL. */
const struct api_action *api_action_find(const struct api_action *table, const char *name);

/* No silent drop: SL_OK when every member of <obj> that is present
 * (p_present(): not null, "", or an empty list) is one of <members>
 * (NULL-terminated); else a 400 <code> in <err> saying the first other one
 * ("<where>.<member>" when <where> is not NULL) is not supported by sluice,
 * with the reason <why> (may be NULL; {NULL, NULL}-terminated) has for it. */
int api_members_check(json_t *obj, const char *const *members, const struct api_refusal *why,
                      const char *where, const char *code, struct sl_err *err);

/* store_write(ctx->store, fn, arg): SL_OK, or the callback's or the store's
 * failure with <err> filled. */
int api_write(const struct api_ctx *ctx, store_write_fn fn, void *arg, struct sl_err *err);

/* Run <fn>(txn, arg, err) in a read transaction. */
int api_read(const struct api_ctx *ctx, store_write_fn fn, void *arg, struct sl_err *err);

/* ELBv2 paging: Marker / PageSize (1-400) of <req> applied to <all>
 * (borrowed).  Returns the page (new reference) and sets *next to a new
 * string reference or NULL; NULL with <err> on a bad Marker or PageSize. */
json_t *api_page(json_t *req, json_t *all, json_t **next, struct sl_err *err);

#endif
