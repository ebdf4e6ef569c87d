/*
 * account.h - ECS account settings: PutAccountSetting,
 * PutAccountSettingDefault, DeleteAccountSetting, ListAccountSettings.
 *
 * Caveats:
 * - Every setting has the values sluice acts on: long ARN formats are
 *   always on; there is no CloudWatch (containerInsights), no ENI trunking,
 *   no IPv6, no FIPS endpoint, no GuardDuty, no IAM to authorize tagging,
 *   and the Docker runtime's log driver mode is blocking.  A value sluice
 *   does not act on is refused as not supported, so what is stored is always
 *   what happens.  fargateTaskRetirementWaitPeriod takes any of its values:
 *   no task is ever retired here, so none has to wait.
 * - Stored as kind "ecs_setting", id "<principal ARN>|<name>"; the account
 *   default's principal is the account root ("arn:aws:iam::<account>:root").
 */
#ifndef SL_ROUTES_ECS_ACCOUNT_H
#define SL_ROUTES_ECS_ACCOUNT_H

#include <jansson.h>

#include "routes/ecs/ecs.h"

#define K_ECS_SETTING "ecs_setting"

/* <name> with <value>: a known setting with a value sluice acts on.  Pure. */
int ecs_setting_check(const char *name, const char *value, struct sl_err *err);

/* PutAccountSetting (<principal> NULL: the account root) or, with
 * <is_default>, PutAccountSettingDefault.  *out: the Setting.  Writers. */
int ecs_setting_put(struct store_txn *txn, const struct ecs_env *env, const char *name,
                    const char *value, const char *principal, json_t **out,
                    struct sl_err *err);

/* DeleteAccountSetting: *out the setting as it was (its value now the
 * default).  Writers. */
int ecs_setting_delete(struct store_txn *txn, const struct ecs_env *env, const char *name,
                       const char *principal, json_t **out, struct sl_err *err);

/* ListAccountSettings: the settings set for <principal> (NULL: the
 * account root), or with <effective> every setting's effective value;
 * filtered by <name> and <value> (NULL: any).  *out: the list. */
int ecs_settings_list(struct store_txn *txn, const struct ecs_env *env, const char *name,
                      const char *value, const char *principal, int effective, json_t **out,
                      struct sl_err *err);

#endif
