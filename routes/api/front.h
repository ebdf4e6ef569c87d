/*
 * front.h - the front doors: wire format in, domain function in a store
 * transaction, wire format out.
 *
 * Each door takes a decoded HTTP request (authentication already done by the
 * server) and fills a reply.  Errors never escape as C failures: every path
 * produces a reply in the protocol's own error format.  Thread-safe: a door
 * keeps no state of its own beyond the store.
 */
#ifndef SL_ROUTES_API_FRONT_H
#define SL_ROUTES_API_FRONT_H

#include <stddef.h>

#include "common/buf.h"
#include "routes/api/api.h"

#define FRONT_MAX_BODY (1024 * 1024)

struct front_reply {
    int status;
    const char *content_type;  /* static string */
    struct buf body;
    char allow[64];            /* Allow header for 405, else empty */
    char location[512];        /* Location header for 201, else empty */
    const char *action;        /* static: the ELBv2/ECS action run, NULL if none (for logs) */
};

struct front_request {
    const char *method;
    const char *path;          /* decoded path, e.g. "/v1/target-groups/web" */
    /* Query-string argument lookup; returns NULL when absent. */
    const char *(*arg)(void *cls, const char *name);
    void *arg_cls;
    const char *body;
    size_t body_len;
    const char *content_type;  /* may be NULL */
};

void front_reply_init(struct front_reply *r);
void front_reply_free(struct front_reply *r);

/* ELBv2 Query protocol (POST / with a form body). */
void front_query(const struct api_ctx *ctx, const struct front_request *req,
                 struct front_reply *out);

/* An error in the Query protocol's XML format. */
void front_query_error(const struct sl_err *e, const char *request_id, struct front_reply *out);

/* REST JSON API under /v1. */
void front_rest(const struct api_ctx *ctx, const struct front_request *req,
                struct front_reply *out);

/* An error in the REST API's JSON format: {"error":{"code","message"}}. */
void front_rest_error(int status, const char *code, const char *message,
                      struct front_reply *out);

/* ECS JSON 1.1 (POST / with X-Amz-Target). <target> is the header value. */
void front_json11(const struct api_ctx *ctx, const char *target, const struct front_request *req,
                  struct front_reply *out);

/* An error in the JSON 1.1 format: {"__type":code,"message":...}. */
void front_json11_error(const struct sl_err *e, struct front_reply *out);

#endif
