/*
 * account.c - ECS account settings (see account.h).
 */
#include "routes/ecs/account.h"

#include <stdio.h>
#include <string.h>

#include "routes/ecs/param.h"

struct setting {
    const char *name;
    const char *def;               /* what sluice does */
    const char *const *values;     /* every value ECS has for it */
    const char *const *ok;         /* the values sluice acts on */
    const char *why;               /* for the others */
};

static const char *const on_off[] = {"enabled", "disabled", NULL};
static const char *const only_enabled[] = {"enabled", NULL};
static const char *const only_disabled[] = {"disabled", NULL};
static const char *const insights[] = {"enabled", "disabled", "enhanced", NULL};
static const char *const tag_auth[] = {"on", "off", NULL};
static const char *const only_off[] = {"off", NULL};
static const char *const days[] = {"0", "7", "14", NULL};
static const char *const driver_modes[] = {"blocking", "non-blocking", NULL};
static const char *const only_blocking[] = {"blocking", NULL};

static const struct setting settings[] = {
    {"serviceLongArnFormat", "enabled", on_off, only_enabled, "ARNs are always long"},
    {"taskLongArnFormat", "enabled", on_off, only_enabled, "ARNs are always long"},
    {"containerInstanceLongArnFormat", "enabled", on_off, only_enabled, "ARNs are always long"},
    {"awsvpcTrunking", "disabled", on_off, only_disabled, "tasks get no ENIs to trunk"},
    {"containerInsights", "disabled", insights, only_disabled,
     "there is no CloudWatch to send Container Insights metrics to"},
    {"dualStackIPv6", "disabled", on_off, only_disabled, "tasks get no IPv6 addresses"},
    {"fargateFIPSMode", "disabled", on_off, only_disabled, "there are no FIPS endpoints"},
    {"tagResourceAuthorization", "off", tag_auth, only_off,
     "there is no IAM to authorize tagging with"},
    {"fargateTaskRetirementWaitPeriod", "7", days, days, NULL},
    {"guardDutyActivate", "off", tag_auth, only_off, "there is no GuardDuty"},
    {"defaultLogDriverMode", "blocking", driver_modes, only_blocking,
     "the Docker runtime's log drivers run in blocking mode"},
    {"fargateEventWindows", "disabled", on_off, only_disabled,
     "no task is ever retired, so there are no event windows"},
    {NULL, NULL, NULL, NULL, NULL},
};

static const struct setting *find(const char *name)
{
    const struct setting *s;

    for (s = settings; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static int in(const char *const *list, const char *v)
{
    for (; *list; list++)
        if (strcmp(*list, v) == 0)
            return 1;
    return 0;
}

int ecs_setting_check(const char *name, const char *value, struct sl_err *err)
{
    const struct setting *s = find(name);

    if (s == NULL)
        return ecs_invalid(err, "%.64s should be one of [serviceLongArnFormat,"
                                "taskLongArnFormat,containerInstanceLongArnFormat,"
                                "awsvpcTrunking,containerInsights,dualStackIPv6,fargateFIPSMode,"
                                "tagResourceAuthorization,fargateTaskRetirementWaitPeriod,"
                                "guardDutyActivate,defaultLogDriverMode,fargateEventWindows]",
                           name);
    if (value && !in(s->values, value))
        return ecs_invalid(err, "The value '%.64s' is not valid for %s.", value, name);
    if (value && !in(s->ok, value))
        return ecs_invalid(err, "%s '%.64s' is not supported by sluice: %s.", name, value,
                           s->why);
    return SL_OK;
}

static void root_arn(const struct ecs_env *env, char *out, size_t cap)
{
    snprintf(out, cap, "arn:aws:iam::%s:root", env->account);
}

static int key_of(const struct ecs_env *env, const char *principal, const char *name, char *out,
                  size_t cap)
{
    char root[64];

    root_arn(env, root, sizeof(root));
    return (size_t)snprintf(out, cap, "%s|%s", principal ? principal : root, name) < cap
               ? SL_OK
               : SL_ERR;
}

static json_t *setting_json(const struct ecs_env *env, const char *name, const char *value,
                            const char *principal, const char *type)
{
    char root[64];

    root_arn(env, root, sizeof(root));
    return json_pack("{ss ss ss ss}", "name", name, "value", value, "principalArn",
                     principal ? principal : root, "type", type);
}

int ecs_setting_put(struct store_txn *txn, const struct ecs_env *env, const char *name,
                    const char *value, const char *principal, json_t **out,
                    struct sl_err *err)
{
    char key[STORE_ID_MAX + 1];
    json_t *s;

    if (principal && strlen(principal) > 256)
        return ecs_invalid(err, "principalArn can be at most 256 characters.");
    if (key_of(env, principal, name, key, sizeof(key)) != SL_OK)
        return ecs_invalid(err, "principalArn is too long.");
    s = setting_json(env, name, value, principal, "user");
    if (store_put(txn, K_ECS_SETTING, key, s) != SL_OK) {
        json_decref(s);
        return sl_err_set(err, 500, "ServerException", "storage failure");
    }
    *out = s;
    return SL_OK;
}

int ecs_setting_delete(struct store_txn *txn, const struct ecs_env *env, const char *name,
                       const char *principal, json_t **out, struct sl_err *err)
{
    char key[STORE_ID_MAX + 1];
    json_t *s;

    if (key_of(env, principal, name, key, sizeof(key)) != SL_OK)
        return ecs_invalid(err, "principalArn is too long.");
    if ((s = store_get(txn, K_ECS_SETTING, key)) == NULL)
        s = setting_json(env, name, find(name)->def, principal, "user");
    else if (store_del(txn, K_ECS_SETTING, key) != SL_OK) {
        json_decref(s);
        return sl_err_set(err, 500, "ServerException", "storage failure");
    }
    *out = s;
    return SL_OK;
}

int ecs_settings_list(struct store_txn *txn, const struct ecs_env *env, const char *name,
                      const char *value, const char *principal, int effective, json_t **out,
                      struct sl_err *err)
{
    const struct setting *s;
    char key[STORE_ID_MAX + 1];
    json_t *v;

    *out = json_array();
    for (s = settings; s->name; s++) {
        if (name && strcmp(name, s->name) != 0)
            continue;
        if (key_of(env, principal, s->name, key, sizeof(key)) != SL_OK)
            continue;
        v = store_get(txn, K_ECS_SETTING, key);
        if (v == NULL && effective)
            v = setting_json(env, s->name, s->def, principal, "aws_managed");
        if (v && value && strcmp(json_string_value(json_object_get(v, "value")), value) != 0) {
            json_decref(v);
            v = NULL;
        }
        if (v)
            json_array_append_new(*out, v);
    }
    (void)err;
    return SL_OK;
}
