/*
 * rest_targets.c - the targets of a target group under REST:
 *   GET    /v1/target-groups/{id}/targets           DescribeTargetHealth
 *   POST   /v1/target-groups/{id}/targets           RegisterTargets (one)
 *   GET    /v1/target-groups/{id}/targets/{target}  one target's health
 *   PUT    /v1/target-groups/{id}/targets/{target}  RegisterTargets (the one named)
 *   DELETE /v1/target-groups/{id}/targets/{target}  DeregisterTargets (one)
 * A target's REST id is "<Id>:<Port>", an IPv6 Id in brackets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "routes/api/rest.h"
#include "routes/elbv2/view.h"
#include "routes/wire/params.h"

/* "<Id>:<Port>", with an IPv6 Id in brackets: "[::1]:8080". */
static void target_name(char *out, size_t cap, const char *id, json_t *port)
{
    int v6 = strchr(id, ':') != NULL;

    if (json_is_integer(port))
        snprintf(out, cap, "%s%s%s:%" JSON_INTEGER_FORMAT, v6 ? "[" : "", id, v6 ? "]" : "",
                 json_integer_value(port));
    else
        snprintf(out, cap, "%s", id);
}

/* Split a target name into Id and Port (*port 0 when the name has none).
 * "[v6]:port", "[v6]", "id:port", "id"; an unbracketed IPv6 address must
 * end in ":port" (the last colon splits).  0 when malformed. */
static int target_parse(const char *name, char *id, size_t cap, long *port)
{
    const char *colon, *end, *p;
    size_t n;

    *port = 0;
    if (name[0] == '[') {
        end = strchr(name, ']');
        if (end == NULL)
            return 0;
        n = (size_t)(end - name - 1);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != '\0' && colon == NULL)
            return 0;
        name++;
    } else {
        colon = strrchr(name, ':');
        n = colon ? (size_t)(colon - name) : strlen(name);
    }
    if (n == 0 || n >= cap)
        return 0;
    memcpy(id, name, n);
    id[n] = '\0';
    if (colon) {
        if (colon[1] == '\0' || strlen(colon + 1) > 5)
            return 0;
        for (p = colon + 1; *p; p++)
            if (*p < '0' || *p > '9')
                return 0;
        *port = strtol(colon + 1, NULL, 10);
        if (*port < 1 || *port > 65535)
            return 0;
    }
    return 1;
}

/* The REST item for a TargetHealthDescription. */
static json_t *target_item(json_t *d)
{
    static const char *const copy_h[] = {"State", "Reason", "Description", NULL};
    json_t *t = json_object_get(d, "Target"), *h = json_object_get(d, "TargetHealth"), *item;
    const char *id = rest_str(t, "Id");
    char name[160];
    size_t i;

    target_name(name, sizeof(name), id ? id : "", json_object_get(t, "Port"));
    item = json_pack("{ss ss}", "id", name, "Id", id ? id : "");
    if (json_is_integer(json_object_get(t, "Port")))
        json_object_set(item, "Port", json_object_get(t, "Port"));
    if (rest_str(t, "AvailabilityZone"))
        json_object_set(item, "AvailabilityZone", json_object_get(t, "AvailabilityZone"));
    for (i = 0; copy_h[i]; i++)
        if (rest_str(h, copy_h[i]))
            json_object_set(item, copy_h[i], json_object_get(h, copy_h[i]));
    if (rest_str(d, "HealthCheckPort"))
        json_object_set(item, "HealthCheckPort", json_object_get(d, "HealthCheckPort"));
    return item;
}

static void pct_encode(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

/* One request on the targets of group <tg_id>. */
struct tcall {
    const struct api_ctx *ctx;
    const char *tg_id;
    char arn[ELB_ARN_MAX];
    struct elb_target t;   /* the one target, or Id NULL */
    const char *name;      /* the target as the path names it */
    const char *method;
    json_t *item;          /* out: the target, or the list */
    int before;            /* registered before the POST */
};

enum { T_NOT_REGISTERED, T_REGISTERED, T_DRAINING };

static int tg_arn(struct store_txn *txn, struct tcall *c, struct sl_err *err)
{
    json_t *tg;

    if (elb_view_get(txn, K_TG, c->tg_id, &tg) != SL_OK)
        return sl_err_set(err, 404, "TargetGroupNotFound", "target group '%.200s' not found",
                          c->tg_id);
    snprintf(c->arn, sizeof(c->arn), "%s", rest_str(tg, "arn") ? rest_str(tg, "arn") : "");
    json_decref(tg);
    return SL_OK;
}

/* The health of target c->t: the item into *item, its registration state
 * into *state. */
static int target_get(struct store_txn *txn, struct tcall *c, json_t **item, int *state,
                      struct sl_err *err)
{
    json_t *descs, *d;
    const char *st, *reason;

    if (elb_targets_health(txn, &c->ctx->elb, c->arn, &c->t, 1, &descs, err) != SL_OK)
        return SL_ERR;
    d = json_array_get(descs, 0);
    *item = target_item(d);
    st = rest_str(*item, "State");
    reason = rest_str(*item, "Reason");
    if (st == NULL || (strcmp(st, "unused") == 0 && reason &&
                       strcmp(reason, "Target.NotRegistered") == 0))
        *state = T_NOT_REGISTERED;
    else if (strcmp(st, "draining") == 0)
        *state = T_DRAINING;
    else
        *state = T_REGISTERED;
    json_decref(descs);
    return SL_OK;
}

static int list_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tcall *c = arg;
    json_t *descs, *d;
    size_t i;

    if (tg_arn(txn, c, err) != SL_OK ||
        elb_targets_health(txn, &c->ctx->elb, c->arn, NULL, 0, &descs, err) != SL_OK)
        return SL_ERR;
    c->item = json_array();
    json_array_foreach(descs, i, d)
        json_array_append_new(c->item, target_item(d));
    json_decref(descs);
    return SL_OK;
}

static int post_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tcall *c = arg;
    json_t *item;
    int after;

    if (tg_arn(txn, c, err) != SL_OK || target_get(txn, c, &item, &c->before, err) != SL_OK)
        return SL_ERR;
    json_decref(item);
    if (elb_targets_register(txn, &c->ctx->elb, c->arn, &c->t, 1, err) != SL_OK)
        return SL_ERR;
    return target_get(txn, c, &c->item, &after, err);
}

static uint64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* GET or DELETE of one target (c->t.id NULL: the name was malformed). */
static int one_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct tcall *c = arg;
    struct sl_err e = {0};
    json_t *item = NULL;
    int state = T_NOT_REGISTERED, rc;

    if (tg_arn(txn, c, err) != SL_OK)
        return SL_ERR;
    if (c->t.id && target_get(txn, c, &item, &state, &e) != SL_OK) {
        /* A malformed Id (InvalidTarget) names no registered target. */
        if (rest_status(&e) != 400) {
            *err = e;
            return SL_ERR;
        }
    }
    if (item == NULL || state == T_NOT_REGISTERED ||
        (state == T_DRAINING && strcmp(c->method, "DELETE") == 0)) {
        json_decref(item);
        return sl_err_set(err, 404, "TargetNotFound",
                          "Target '%.200s' is not registered with this target group", c->name);
    }
    if (strcmp(c->method, "GET") == 0) {
        c->item = item;
        return SL_OK;
    }
    c->t.port = (long)json_integer_value(json_object_get(item, "Port"));
    rc = elb_targets_deregister(txn, &c->ctx->elb, c->arn, &c->t, 1, wall_ms(), err);
    json_decref(item);
    return rc;
}

/* The body of a POST: Id, Port, AvailabilityZone, and the REST id
 * "<Id>:<Port>", which must agree with them. */
static int post_decode(json_t *body, struct elb_target *t, struct sl_err *err)
{
    const char *name;
    char pid[128];
    long nport;
    int rc;

    memset(t, 0, sizeof(*t));
    if (p_str(body, "Id", P_REQUIRED, &t->id, err) != SL_OK ||
        (rc = p_int(body, "Port", P_OPTIONAL, 1, 65535, &t->port, err)) == SL_ERR ||
        p_str(body, "AvailabilityZone", P_OPTIONAL, &t->az, err) == SL_ERR ||
        p_str(body, "id", P_OPTIONAL, &name, err) == SL_ERR)
        return SL_ERR;
    if (rc != SL_OK)
        t->port = 0;
    if (name) {
        if (!target_parse(name, pid, sizeof(pid), &nport) || strcmp(pid, t->id) != 0 ||
            (t->port && nport != t->port))
            return p_invalid(err, "id", "Member must equal \"<Id>:<Port>\" of the target");
        t->port = nport;
    }
    return elb_targets_check(t, 1, err);
}

static void targets_post(struct tcall *c, json_t *body, struct front_reply *out)
{
    struct sl_err err = {0};
    char enc[256];

    if (post_decode(body, &c->t, &err) != SL_OK || api_write(c->ctx, post_tx, c, &err) != SL_OK) {
        json_decref(c->item);
        rest_reply_error(&err, out);
        return;
    }
    pct_encode(enc, sizeof(enc), rest_str(c->item, "id"));
    snprintf(out->location, sizeof(out->location), "/v1/target-groups/%.128s/targets/%s",
             c->tg_id, enc);
    rest_reply_json(out, c->before == T_REGISTERED ? 200 : 201, c->item);
}

/* PUT of the target the path names: registered (again a no-op, a draining
 * one registered anew), 201 when it was not registered, else 200.  A body
 * is optional; what it gives must name the same target (409 otherwise),
 * so that a client may PUT what it POSTed or read. */
static void targets_put(struct tcall *c, const char *target, json_t *body,
                        struct front_reply *out)
{
    struct sl_err err = {0};
    struct elb_target b;
    char id[128];

    memset(&c->t, 0, sizeof(c->t));
    if (!target_parse(target, id, sizeof(id), &c->t.port) || c->t.port == 0) {
        sl_err_set(&err, 404, "TargetNotFound",
                   "'%.200s' names no target: use \"<Id>:<Port>\"", target);
        goto fail;
    }
    c->t.id = id;
    if (body && json_object_size(body) > 0) {
        if (post_decode(body, &b, &err) != SL_OK)
            goto fail;
        if (strcmp(b.id, c->t.id) != 0 || (b.port && b.port != c->t.port)) {
            sl_err_set(&err, 409, "Conflict",
                       "The body names another target than the path ('%.200s'): a target's "
                       "Id and Port cannot change",
                       target);
            goto fail;
        }
        c->t.az = b.az;
    }
    if (elb_targets_check(&c->t, 1, &err) != SL_OK || api_write(c->ctx, post_tx, c, &err) != SL_OK)
        goto fail;
    rest_reply_json(out, c->before == T_REGISTERED ? 200 : 201, c->item);
    return;
fail:
    json_decref(c->item);
    rest_reply_error(&err, out);
}

void rest_targets(const struct api_ctx *ctx, const struct front_request *req, const char *tg_id,
                  const char *target, struct front_reply *out)
{
    struct tcall c = {ctx, tg_id, "", {NULL, 0, NULL}, target, req->method, NULL,
                      T_NOT_REGISTERED};
    struct sl_err err = {0};
    char id[128];
    json_t *body;
    int rc;

    if (!elb_valid_id(tg_id)) {
        sl_err_set(&err, 404, "TargetGroupNotFound", "target group '%.200s' not found", tg_id);
        rest_reply_error(&err, out);
        return;
    }
    if (target == NULL && strcmp(req->method, "POST") == 0) {
        if ((body = rest_parse_body(req, out)) != NULL)
            targets_post(&c, body, out);
        json_decref(body);
        return;
    }
    if (target && strcmp(req->method, "PUT") == 0) {
        body = req->body_len > 0 ? rest_parse_body(req, out) : NULL;
        if (req->body_len == 0 || body)
            targets_put(&c, target, body, out);
        json_decref(body);
        return;
    }
    if (target == NULL) {
        rc = api_read(ctx, list_tx, &c, &err);
    } else {
        if (target_parse(target, id, sizeof(id), &c.t.port))
            c.t.id = id;
        rc = strcmp(req->method, "GET") == 0 ? api_read(ctx, one_tx, &c, &err)
                                              : api_write(ctx, one_tx, &c, &err);
    }
    if (rc != SL_OK) {
        rest_reply_error(&err, out);
        return;
    }
    if (target == NULL)
        rest_reply_json(out, 200, json_pack("{so}", "items", c.item));
    else if (c.item)
        rest_reply_json(out, 200, c.item);
    else {
        out->status = 204;
        out->content_type = NULL;
    }
}
