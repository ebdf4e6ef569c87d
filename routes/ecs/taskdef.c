/*
 * ecs_taskdef.c - task definitions: RegisterTaskDefinition,
 * DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
 * DeregisterTaskDefinition, and the validation the other families reuse.
 *
 * Revisions count up per family from the "ecs:tdrev:<family>" index, so a
 * revision number is never reused, even after deregistration.  Deregistered
 * revisions stay stored (INACTIVE) and describable, as on ECS.
 */
#include "routes/ecs/ecs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const net_modes[] = {"bridge", "host", "awsvpc", "none", NULL};
static const char *const compat_names[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES",
                                           NULL};
static const char *const protocols[] = {"tcp", "udp", NULL};
static const char *const app_protocols[] = {"http", "http2", "grpc", NULL};
static const char *const td_status[] = {"ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS", NULL};
static const char *const fam_status[] = {"ACTIVE", "INACTIVE", "ALL", NULL};
static const char *const sort_order[] = {"ASC", "DESC", NULL};

#define TD_MAX_CONTAINERS 10

/* ---- references and ids ---- */

int ecs_taskdef_ref(const char *ref, char *family, long *rev)
{
    const char *res = ecs_arn_resource(ref), *colon;
    size_t flen;
    char *end;

    *rev = 0;
    if (ref == NULL)
        return SL_ERR;
    if (res != NULL) {
        if (strncmp(res, "task-definition/", 16) != 0)
            return SL_ERR;
        ref = res + 16;
        if (strchr(ref, ':') == NULL)
            return SL_ERR;
    }
    colon = strchr(ref, ':');
    flen = colon ? (size_t)(colon - ref) : strlen(ref);
    if (flen == 0 || flen > ECS_NAME_MAX)
        return SL_ERR;
    memcpy(family, ref, flen);
    family[flen] = '\0';
    if (!ecs_valid_name(family))
        return SL_ERR;
    if (colon) {
        if (colon[1] < '1' || colon[1] > '9' || strlen(colon + 1) > 10)
            return SL_ERR;
        *rev = strtol(colon + 1, &end, 10);
        if (*end != '\0' || *rev <= 0 || *rev > 2147483647L)
            return SL_ERR;
    }
    return SL_OK;
}

void ecs_taskdef_id(char *out, size_t cap, const char *family, long rev)
{
    snprintf(out, cap, "%s:%08ld", family, rev);
}

struct latest_scan {
    json_t *found;
};

static int keep_latest_active(const char *id, json_t *obj, void *arg)
{
    struct latest_scan *l = arg;
    const char *st = json_string_value(json_object_get(obj, "status"));

    (void)id;
    if (st && strcmp(st, "ACTIVE") == 0) {
        json_decref(l->found);
        l->found = json_incref(obj);
    }
    return 0;
}

json_t *ecs_taskdef_find(struct store_txn *txn, const char *ref)
{
    char family[ECS_NAME_MAX + 1], id[ECS_ID_MAX], prefix[ECS_NAME_MAX + 2];
    struct latest_scan l = {NULL};
    json_t *copy;
    long rev;

    if (ecs_taskdef_ref(ref, family, &rev) != SL_OK)
        return NULL;
    if (rev > 0) {
        ecs_taskdef_id(id, sizeof(id), family, rev);
        return store_get(txn, K_ECS_TASKDEF, id);
    }
    snprintf(prefix, sizeof(prefix), "%s:", family);
    store_scan(txn, K_ECS_TASKDEF, prefix, keep_latest_active, &l);
    if (l.found == NULL)
        return NULL;
    copy = json_deep_copy(l.found);
    json_decref(l.found);
    return copy;
}

int ecs_taskdef_has_port(json_t *td, const char *name, long port, int *has_container)
{
    json_t *c, *pm;
    size_t i, j;

    *has_container = 0;
    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c) {
        const char *cn = json_string_value(json_object_get(c, "name"));
        if (cn == NULL || strcmp(cn, name) != 0)
            continue;
        *has_container = 1;
        json_array_foreach(json_object_get(c, "portMappings"), j, pm)
            if (json_integer_value(json_object_get(pm, "containerPort")) == port)
                return 1;
    }
    return 0;
}

/* ---- validation ---- */

static int name_list_ok(json_t *env, const char *what, struct sl_err *err)
{
    size_t i;
    json_t *e;

    json_array_foreach(env, i, e) {
        json_t *n = json_object_get(e, "name"), *v = json_object_get(e, "value");
        if (!json_is_object(e) || !json_is_string(n) || (v && !json_is_string(v)))
            return sl_err_set(err, 400, "SerializationException",
                              "Unable to deserialize '%s': expected a list of {name,value} "
                              "strings",
                              what);
    }
    return SL_OK;
}

static json_t *build_port_mapping(json_t *pm, const char *cname, const char *mode,
                                  struct sl_err *err)
{
    const char *proto = "tcp", *s;
    long cport, hport = 0;
    int rc, fixed;
    json_t *out;

    if (!json_is_object(pm)) {
        sl_err_set(err, 400, "SerializationException",
                   "Unable to deserialize 'portMappings': expected a list of objects");
        return NULL;
    }
    if (ecs_int(pm, "containerPort", P_REQUIRED, 1, 65535, &cport, err) != SL_OK)
        return NULL;
    if ((rc = ecs_int(pm, "hostPort", P_OPTIONAL, 0, 65535, &hport, err)) == SL_ERR)
        return NULL;
    if (ecs_enum(pm, "protocol", P_OPTIONAL, protocols, &s, err) == SL_ERR)
        return NULL;
    if (s)
        proto = s;
    fixed = strcmp(mode, "host") == 0 || strcmp(mode, "awsvpc") == 0;
    if (fixed && rc == SL_OK && hport != 0 && hport != cport) {
        ecs_client(err, "When networkMode=%s, the host ports and container ports in port "
                        "mappings must match (container %s).",
                   mode, cname);
        return NULL;
    }
    if (fixed)
        hport = cport;
    out = json_pack("{sI sI ss}", "containerPort", (json_int_t)cport, "hostPort",
                    (json_int_t)hport, "protocol", proto);
    if (ecs_str(pm, "name", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(out, "name", json_string(s));
    if (ecs_enum(pm, "appProtocol", P_OPTIONAL, app_protocols, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(out, "appProtocol", json_string(s));
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *build_health_check(json_t *hc, struct sl_err *err)
{
    json_t *cmd;
    long interval = 30, timeout = 5, retries = 3, start = 0;

    if (ecs_strlist(hc, "command", P_REQUIRED, &cmd, err) != SL_OK)
        return NULL;
    if (json_array_size(cmd) == 0) {
        ecs_client(err, "healthCheck.command should not be empty.");
        return NULL;
    }
    /* interval and timeout go down to 1 s (ECS: 5 and 2), an extension for
     * fast local rollouts, as for target groups. */
    if (ecs_int(hc, "interval", P_OPTIONAL, 1, 300, &interval, err) == SL_ERR ||
        ecs_int(hc, "timeout", P_OPTIONAL, 1, 120, &timeout, err) == SL_ERR ||
        ecs_int(hc, "retries", P_OPTIONAL, 1, 10, &retries, err) == SL_ERR ||
        ecs_int(hc, "startPeriod", P_OPTIONAL, 0, 300, &start, err) == SL_ERR)
        return NULL;
    return json_pack("{sO sI sI sI sI}", "command", cmd, "interval", (json_int_t)interval,
                     "timeout", (json_int_t)timeout, "retries", (json_int_t)retries,
                     "startPeriod", (json_int_t)start);
}

static json_t *build_container(json_t *c, const char *mode, struct sl_err *err)
{
    const char *name, *image, *s;
    json_t *out, *v, *list, *pms;
    long n;
    int b;
    size_t i;

    if (!json_is_object(c)) {
        sl_err_set(err, 400, "SerializationException",
                   "Unable to deserialize 'containerDefinitions': expected a list of objects");
        return NULL;
    }
    if (ecs_str(c, "name", P_OPTIONAL, &name, err) == SL_ERR)
        return NULL;
    if (name == NULL || name[0] == '\0') {
        ecs_client(err, "Container.name should not be null or empty.");
        return NULL;
    }
    if (!ecs_valid_name(name)) {
        ecs_client(err, "Container name '%.255s' is invalid: up to 255 letters (uppercase and "
                        "lowercase), numbers, hyphens, and underscores are allowed.",
                   name);
        return NULL;
    }
    if (ecs_str(c, "image", P_OPTIONAL, &image, err) == SL_ERR)
        return NULL;
    if (image == NULL || image[0] == '\0') {
        ecs_client(err, "Container.image should not be null or empty.");
        return NULL;
    }
    /* Members this layer does not interpret pass through as given. */
    out = json_deep_copy(c);
    json_object_set_new(out, "name", json_string(name));
    json_object_set_new(out, "image", json_string(image));
    n = 0;
    if (ecs_int(c, "cpu", P_OPTIONAL, 0, 196608, &n, err) == SL_ERR)
        goto fail;
    json_object_set_new(out, "cpu", json_integer(n));
    if (ecs_int(c, "memory", P_OPTIONAL, 6, 1L << 30, &n, err) == SL_ERR)
        goto fail;
    if (ecs_int(c, "memoryReservation", P_OPTIONAL, 6, 1L << 30, &n, err) == SL_ERR)
        goto fail;
    b = 1;
    if (ecs_bool(c, "essential", &b, err) == SL_ERR)
        goto fail;
    json_object_set_new(out, "essential", json_boolean(b));
    if (ecs_list(c, "portMappings", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    pms = json_array();
    json_object_set_new(out, "portMappings", pms);
    json_array_foreach(list, i, v) {
        json_t *pm = build_port_mapping(v, name, mode, err);
        size_t j;
        json_t *o;
        if (pm == NULL)
            goto fail;
        json_array_foreach(pms, j, o)
            if (json_equal(json_object_get(o, "containerPort"),
                           json_object_get(pm, "containerPort")) &&
                json_equal(json_object_get(o, "protocol"), json_object_get(pm, "protocol"))) {
                json_decref(pm);
                ecs_client(err, "Container '%s' maps containerPort %lld/%s more than once.",
                           name, (long long)json_integer_value(json_object_get(o, "containerPort")),
                           json_string_value(json_object_get(o, "protocol")));
                goto fail;
            }
        json_array_append_new(pms, pm);
    }
    if (ecs_list(c, "environment", P_OPTIONAL, &list, err) == SL_ERR ||
        (list && name_list_ok(list, "environment", err) != SL_OK))
        goto fail;
    if (list == NULL)
        json_object_set_new(out, "environment", json_array());
    if (ecs_strlist(c, "command", P_OPTIONAL, &list, err) == SL_ERR ||
        ecs_strlist(c, "entryPoint", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    if (ecs_str(c, "workingDirectory", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (ecs_obj(c, "healthCheck", P_OPTIONAL, &v, err) == SL_ERR)
        goto fail;
    if (v) {
        json_t *hc = build_health_check(v, err);
        if (hc == NULL)
            goto fail;
        json_object_set_new(out, "healthCheck", hc);
    }
    if (ecs_int(c, "stopTimeout", P_OPTIONAL, 2, 120, &n, err) == SL_ERR)
        goto fail;
    if (json_object_get(out, "mountPoints") == NULL)
        json_object_set_new(out, "mountPoints", json_array());
    if (json_object_get(out, "volumesFrom") == NULL)
        json_object_set_new(out, "volumesFrom", json_array());
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int list_has(json_t *list, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

json_t *ecs_taskdef_build(json_t *req, struct sl_err *err)
{
    const char *family, *mode = "bridge", *s;
    json_t *td = NULL, *defs, *list, *v, *c, *tags, *compat;
    int essential = 0;
    size_t i, j;

    if (!json_is_object(req)) {
        sl_err_set(err, 400, "SerializationException", "the request must be a JSON object");
        return NULL;
    }
    if (ecs_str(req, "family", P_REQUIRED, &family, err) != SL_OK)
        return NULL;
    if (!ecs_valid_name(family)) {
        ecs_client(err, "Family '%.255s' is invalid: up to 255 letters (uppercase and "
                        "lowercase), numbers, hyphens, and underscores are allowed.",
                   family);
        return NULL;
    }
    if (ecs_enum(req, "networkMode", P_OPTIONAL, net_modes, &s, err) == SL_ERR)
        return NULL;
    if (s)
        mode = s;
    if (ecs_list(req, "containerDefinitions", P_REQUIRED, &list, err) != SL_OK)
        return NULL;
    if (json_array_size(list) == 0) {
        ecs_client(err, "Container list cannot be empty.");
        return NULL;
    }
    if (json_array_size(list) > TD_MAX_CONTAINERS) {
        ecs_client(err, "Too many containers: a task definition can have at most %d.",
                   TD_MAX_CONTAINERS);
        return NULL;
    }
    td = json_object();
    json_object_set_new(td, "family", json_string(family));
    defs = json_array();
    json_object_set_new(td, "containerDefinitions", defs);
    json_array_foreach(list, i, v) {
        if ((c = build_container(v, mode, err)) == NULL)
            goto fail;
        for (j = 0; j < json_array_size(defs); j++)
            if (json_equal(json_object_get(json_array_get(defs, j), "name"),
                           json_object_get(c, "name"))) {
                ecs_client(err, "Duplicate container name '%s': container names must be "
                                "unique within a task definition.",
                           json_string_value(json_object_get(c, "name")));
                json_decref(c);
                goto fail;
            }
        if (json_is_true(json_object_get(c, "essential")))
            essential = 1;
        json_array_append_new(defs, c);
    }
    if (!essential) {
        ecs_client(err, "Container list must include at least one essential container.");
        goto fail;
    }
    json_object_set_new(td, "networkMode", json_string(mode));
    if (ecs_str(req, "taskRoleArn", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "taskRoleArn", json_string(s));
    if (ecs_str(req, "executionRoleArn", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "executionRoleArn", json_string(s));
    if (ecs_str(req, "cpu", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "cpu", json_string(s));
    if (ecs_str(req, "memory", P_OPTIONAL, &s, err) == SL_ERR)
        goto fail;
    if (s)
        json_object_set_new(td, "memory", json_string(s));
    if (ecs_strlist(req, "requiresCompatibilities", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    compat = json_pack("[s]", "EC2");
    json_object_set_new(td, "compatibilities", compat);
    if (list) {
        json_array_foreach(list, i, v) {
            for (j = 0; compat_names[j]; j++)
                if (strcmp(json_string_value(v), compat_names[j]) == 0)
                    break;
            if (compat_names[j] == NULL) {
                ecs_invalid(err, "Invalid value '%.64s' for requiresCompatibilities.",
                            json_string_value(v));
                goto fail;
            }
            if (!list_has(compat, json_string_value(v)))
                json_array_append(compat, v);
        }
        json_object_set(td, "requiresCompatibilities", list);
        if (list_has(list, "FARGATE") && strcmp(mode, "awsvpc") != 0) {
            ecs_client(err, "Fargate only supports network mode 'awsvpc'.");
            goto fail;
        }
    }
    if (ecs_list(req, "volumes", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    json_object_set_new(td, "volumes", list ? json_deep_copy(list) : json_array());
    if (ecs_list(req, "placementConstraints", P_OPTIONAL, &list, err) == SL_ERR)
        goto fail;
    json_object_set_new(td, "placementConstraints", list ? json_deep_copy(list) : json_array());
    json_object_set_new(td, "requiresAttributes", json_array());
    if (ecs_list(req, "tags", P_OPTIONAL, &list, err) == SL_ERR ||
        (tags = ecs_tags_param(list, err)) == NULL)
        goto fail;
    json_object_set_new(td, "tags", tags);
    return td;
fail:
    json_decref(td);
    return NULL;
}

/* ---- RegisterTaskDefinition ---- */

struct register_td {
    const struct op_ctx *ctx;
    json_t *td; /* borrowed; completed in the transaction */
};

static int register_td_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct register_td *r = arg;
    const char *family = json_string_value(json_object_get(r->td, "family"));
    char key[ECS_NAME_MAX + 16], val[32], id[ECS_ID_MAX], res[ECS_NAME_MAX + 40],
        arn[ECS_ARN_MAX];
    long rev = 0;

    snprintf(key, sizeof(key), "ecs:tdrev:%s", family);
    if (store_index_get(txn, key, val, sizeof(val)) == SL_OK)
        rev = strtol(val, NULL, 10);
    if (rev >= 1000000) /* ECS's per-family limit */
        return ecs_client(err, "Too many revisions of family '%s'.", family);
    rev++;
    snprintf(val, sizeof(val), "%ld", rev);
    snprintf(res, sizeof(res), "task-definition/%s:%ld", family, rev);
    ecs_arn(arn, sizeof(arn), r->ctx, res);
    json_object_set_new(r->td, "taskDefinitionArn", json_string(arn));
    json_object_set_new(r->td, "revision", json_integer(rev));
    json_object_set_new(r->td, "status", json_string("ACTIVE"));
    json_object_set_new(r->td, "registeredAt", json_real(ecs_now()));
    ecs_taskdef_id(id, sizeof(id), family, rev);
    if (store_put(txn, K_ECS_TASKDEF, id, r->td) != SL_OK ||
        store_index_put(txn, key, val) != SL_OK)
        return SL_EIO;
    return SL_OK;
}

static json_t *td_response(json_t *td, int with_tags)
{
    json_t *out = json_pack("{so}", "taskDefinition", ecs_public(td, 0));

    if (with_tags)
        json_object_set(out, "tags", json_object_get(td, "tags"));
    return out;
}

json_t *ecs_op_register_task_definition(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct register_td r = {ctx, NULL};
    json_t *out;

    if ((r.td = ecs_taskdef_build(req, err)) == NULL)
        return NULL;
    if (store_write(ctx->store, register_td_tx, &r, NULL, err) != SL_OK) {
        json_decref(r.td);
        return NULL;
    }
    out = td_response(r.td, 1);
    json_decref(r.td);
    return out;
}

/* ---- DescribeTaskDefinition ---- */

json_t *ecs_op_describe_task_definition(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct store_txn *txn;
    const char *ref;
    json_t *td, *out;

    if (ecs_str(req, "taskDefinition", P_REQUIRED, &ref, err) != SL_OK)
        return NULL;
    if (ecs_strlist(req, "include", P_OPTIONAL, &td, err) == SL_ERR)
        return NULL;
    if (store_read_begin(ctx->store, &txn, err) != SL_OK)
        return NULL;
    td = ecs_taskdef_find(txn, ref);
    store_txn_end(txn);
    if (td == NULL) {
        ecs_client(err, "Unable to describe task definition.");
        return NULL;
    }
    out = td_response(td, ecs_includes(req, "TAGS"));
    json_decref(td);
    return out;
}

/* ---- ListTaskDefinitions / ListTaskDefinitionFamilies ---- */

struct td_list {
    json_t *items; /* shared objects, read-only */
    const char *family_prefix;
};

static int collect_td(const char *id, json_t *obj, void *arg)
{
    struct td_list *l = arg;
    const char *fam = json_string_value(json_object_get(obj, "family"));

    (void)id;
    if (l->family_prefix && (fam == NULL || strncmp(fam, l->family_prefix,
                                                    strlen(l->family_prefix)) != 0))
        return 0;
    json_array_append(l->items, obj);
    return 0;
}

static int td_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *fx = json_string_value(json_object_get(x, "family"));
    const char *fy = json_string_value(json_object_get(y, "family"));
    int c = strcmp(fx ? fx : "", fy ? fy : "");
    json_int_t rx = json_integer_value(json_object_get(x, "revision"));
    json_int_t ry = json_integer_value(json_object_get(y, "revision"));

    if (c != 0)
        return c;
    return rx < ry ? -1 : rx > ry;
}

/* All task definitions (optionally of one family), sorted by family then
 * revision.  New array of new references. */
static json_t *all_tds(struct op_ctx *ctx, const char *family, int exact, struct sl_err *err)
{
    struct store_txn *txn;
    struct td_list l = {NULL, NULL};
    char prefix[ECS_NAME_MAX + 2];
    json_t **v, *sorted;
    size_t i, n;

    if (store_read_begin(ctx->store, &txn, err) != SL_OK)
        return NULL;
    l.items = json_array();
    if (family && exact) {
        snprintf(prefix, sizeof(prefix), "%s:", family);
        store_scan(txn, K_ECS_TASKDEF, prefix, collect_td, &l);
    } else {
        l.family_prefix = family;
        store_scan(txn, K_ECS_TASKDEF, NULL, collect_td, &l);
    }
    store_txn_end(txn);
    n = json_array_size(l.items);
    v = calloc(n ? n : 1, sizeof(*v));
    for (i = 0; i < n; i++)
        v[i] = json_array_get(l.items, i);
    qsort(v, n, sizeof(*v), td_cmp);
    sorted = json_array();
    for (i = 0; i < n; i++)
        json_array_append(sorted, v[i]);
    free(v);
    json_decref(l.items);
    return sorted;
}

json_t *ecs_op_list_task_definitions(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    const char *family, *status = "ACTIVE", *sort = "ASC", *s;
    json_t *all, *arns, *page, *next, *td, *out;
    size_t i, n;

    if (ecs_str(req, "familyPrefix", P_OPTIONAL, &family, err) == SL_ERR)
        return NULL;
    if (ecs_enum(req, "status", P_OPTIONAL, td_status, &s, err) == SL_ERR)
        return NULL;
    if (s)
        status = s;
    if (ecs_enum(req, "sort", P_OPTIONAL, sort_order, &s, err) == SL_ERR)
        return NULL;
    if (s)
        sort = s;
    /* ECS's familyPrefix is the full family name, despite its name. */
    if (family && !ecs_valid_name(family))
        return json_pack("{s[]}", "taskDefinitionArns");
    if ((all = all_tds(ctx, family, 1, err)) == NULL)
        return NULL;
    arns = json_array();
    n = json_array_size(all);
    for (i = 0; i < n; i++) {
        td = json_array_get(all, strcmp(sort, "DESC") == 0 ? n - 1 - i : i);
        s = json_string_value(json_object_get(td, "status"));
        if (s && strcmp(s, status) == 0)
            json_array_append(arns, json_object_get(td, "taskDefinitionArn"));
    }
    json_decref(all);
    page = ecs_page(req, arns, 100, &next, err);
    json_decref(arns);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", "taskDefinitionArns", page);
    if (next)
        json_object_set_new(out, "nextToken", next);
    return out;
}

json_t *ecs_op_list_task_definition_families(struct op_ctx *ctx, json_t *req,
                                             struct sl_err *err)
{
    const char *prefix, *status = "ACTIVE", *s, *fam, *prev = NULL;
    json_t *all, *fams, *page, *next, *td, *out;
    size_t i, n;
    int any_active = 0;

    if (ecs_str(req, "familyPrefix", P_OPTIONAL, &prefix, err) == SL_ERR)
        return NULL;
    if (ecs_enum(req, "status", P_OPTIONAL, fam_status, &s, err) == SL_ERR)
        return NULL;
    if (s)
        status = s;
    if ((all = all_tds(ctx, prefix, 0, err)) == NULL)
        return NULL;
    fams = json_array();
    n = json_array_size(all);
    /* Families are runs of the sorted list; decide each at its last item. */
    for (i = 0; i < n; i++) {
        td = json_array_get(all, i);
        fam = json_string_value(json_object_get(td, "family"));
        if (prev == NULL || strcmp(prev, fam) != 0)
            any_active = 0;
        prev = fam;
        if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") == 0)
            any_active = 1;
        if (i + 1 < n &&
            strcmp(json_string_value(json_object_get(json_array_get(all, i + 1), "family")),
                   fam) == 0)
            continue;
        if (strcmp(status, "ALL") == 0 || (strcmp(status, "ACTIVE") == 0) == any_active)
            json_array_append_new(fams, json_string(fam));
    }
    json_decref(all);
    page = ecs_page(req, fams, 100, &next, err);
    json_decref(fams);
    if (page == NULL)
        return NULL;
    out = json_pack("{so}", "families", page);
    if (next)
        json_object_set_new(out, "nextToken", next);
    return out;
}

/* ---- DeregisterTaskDefinition ---- */

struct deregister_td {
    char id[ECS_ID_MAX];
    json_t *result;
};

static int deregister_td_tx(struct store_txn *txn, void *arg, struct sl_err *err)
{
    struct deregister_td *d = arg;
    json_t *td = store_get(txn, K_ECS_TASKDEF, d->id);

    if (td == NULL)
        return ecs_client(err, "The specified task definition does not exist.");
    if (strcmp(json_string_value(json_object_get(td, "status")), "ACTIVE") == 0) {
        json_object_set_new(td, "status", json_string("INACTIVE"));
        json_object_set_new(td, "deregisteredAt", json_real(ecs_now()));
        if (store_put(txn, K_ECS_TASKDEF, d->id, td) != SL_OK) {
            json_decref(td);
            return SL_EIO;
        }
    }
    d->result = td;
    return SL_OK;
}

json_t *ecs_op_deregister_task_definition(struct op_ctx *ctx, json_t *req, struct sl_err *err)
{
    struct deregister_td d = {{0}, NULL};
    char family[ECS_NAME_MAX + 1];
    const char *ref;
    json_t *out;
    long rev;

    if (ecs_str(req, "taskDefinition", P_REQUIRED, &ref, err) != SL_OK)
        return NULL;
    if (ecs_taskdef_ref(ref, family, &rev) != SL_OK) {
        ecs_client(err, "The specified task definition does not exist.");
        return NULL;
    }
    if (rev == 0) {
        ecs_invalid(err, "A revision is required: use family:revision or the full task "
                         "definition ARN.");
        return NULL;
    }
    ecs_taskdef_id(d.id, sizeof(d.id), family, rev);
    if (store_write(ctx->store, deregister_td_tx, &d, NULL, err) != SL_OK)
        return NULL;
    out = td_response(d.result, 0);
    json_decref(d.result);
    return out;
}
