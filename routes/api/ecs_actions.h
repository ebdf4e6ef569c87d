/*
 * ecs_actions.h - the ECS wire actions for the JSON 1.1 door: decode the
 * request body (strict JSON types, routes/ecs/param.h), run the domain
 * function in a transaction, encode the response.
 */
#ifndef SL_ROUTES_API_ECS_ACTIONS_H
#define SL_ROUTES_API_ECS_ACTIONS_H

#include <jansson.h>

#include "routes/api/api.h"

/* ECS paging: nextToken / maxResults (1-<max>, default <max>) of <req>
 * applied to <all> (borrowed).  The page (new reference), *next a new string
 * reference or NULL; NULL with <err> on a bad token or size. */
json_t *api_ecs_page(json_t *req, json_t *all, long max, json_t **next, struct sl_err *err);

/* The cluster a request's "cluster" member names (absent: "default") into
 * <out> (ECS_NAME_MAX+1). */
int api_ecs_cluster_member(json_t *req, char *out, struct sl_err *err);

/* {<member>: page, nextToken} of <all> (stolen), or NULL with <err>. */
json_t *api_ecs_list_reply(json_t *req, json_t *all, const char *member, struct sl_err *err);

json_t *api_ecs_register_task_definition(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_task_definition(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_task_definitions(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_task_definition_families(const struct api_ctx *, json_t *,
                                              struct sl_err *);
json_t *api_ecs_deregister_task_definition(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_create_cluster(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_update_cluster(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_update_cluster_settings(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_put_cluster_capacity_providers(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_capacity_providers(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_clusters(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_clusters(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_delete_cluster(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_tag_resource(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_untag_resource(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_tags_for_resource(const struct api_ctx *, json_t *, struct sl_err *);

json_t *api_ecs_create_service(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_update_service(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_services(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_services(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_delete_service(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_run_task(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_stop_task(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_tasks(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_tasks(const struct api_ctx *, json_t *, struct sl_err *);

json_t *api_ecs_list_service_deployments(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_service_deployments(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_service_revisions(const struct api_ctx *, json_t *, struct sl_err *);

json_t *api_ecs_start_task(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_delete_task_definitions(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_container_instances(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_describe_container_instances(const struct api_ctx *, json_t *,
                                             struct sl_err *);
json_t *api_ecs_update_container_instances_state(const struct api_ctx *, json_t *,
                                                 struct sl_err *);
json_t *api_ecs_put_attributes(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_delete_attributes(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_attributes(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_put_account_setting(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_put_account_setting_default(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_delete_account_setting(const struct api_ctx *, json_t *, struct sl_err *);
json_t *api_ecs_list_account_settings(const struct api_ctx *, json_t *, struct sl_err *);

#endif
