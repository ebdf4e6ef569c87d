/*
 * front_json11.c - the JSON 1.1 front door of ECS and ACM:
 * X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op> or
 * CertificateManager.<Op> (acm_actions.c has ACM's table), a JSON object body
 * (empty = {}), replies application/x-amz-json-1.1 with epoch-second
 * timestamps; errors {"__type":code,"message":...}, 400 for client faults and
 * 500 ServerException for ours.  The ECS action table lives here.
 */
#include <string.h>

#include "routes/api/acm_actions.h"
#include "routes/api/ecs_actions.h"
#include "routes/api/front.h"
#include "routes/wire/json11.h"

#define ECS_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."

static const struct api_action ecs_actions[] = {
    {"RegisterTaskDefinition", api_ecs_register_task_definition},
    {"DescribeTaskDefinition", api_ecs_describe_task_definition},
    {"ListTaskDefinitions", api_ecs_list_task_definitions},
    {"ListTaskDefinitionFamilies", api_ecs_list_task_definition_families},
    {"DeregisterTaskDefinition", api_ecs_deregister_task_definition},
    {"CreateCluster", api_ecs_create_cluster},
    {"DescribeClusters", api_ecs_describe_clusters},
    {"ListClusters", api_ecs_list_clusters},
    {"DeleteCluster", api_ecs_delete_cluster},
    {"CreateService", api_ecs_create_service},
    {"UpdateService", api_ecs_update_service},
    {"DescribeServices", api_ecs_describe_services},
    {"ListServices", api_ecs_list_services},
    {"DeleteService", api_ecs_delete_service},
    {"RunTask", api_ecs_run_task},
    {"StopTask", api_ecs_stop_task},
    {"ListTasks", api_ecs_list_tasks},
    {"DescribeTasks", api_ecs_describe_tasks},
    {"TagResource", api_ecs_tag_resource},
    {"UntagResource", api_ecs_untag_resource},
    {"ListTagsForResource", api_ecs_list_tags_for_resource},
    {NULL, NULL},
};

void front_json11_error(const struct sl_err *e, struct front_reply *out)
{
    out->status = e->status ? e->status : 400;
    out->content_type = JSON11_CONTENT_TYPE;
    json11_error(&out->body, e);
}

void front_json11(const struct api_ctx *ctx, const char *target,
                  const struct front_request *req, struct front_reply *out)
{
    const size_t plen = strlen(ECS_TARGET_PREFIX);
    struct sl_err err = {0};
    const struct api_action *op = NULL;
    json_t *body = NULL, *result = NULL;

    if (target != NULL && strncmp(target, ECS_TARGET_PREFIX, plen) == 0)
        op = api_action_find(ecs_actions, target + plen);
    else if (target != NULL && strncmp(target, ACM_TARGET_PREFIX, strlen(ACM_TARGET_PREFIX)) == 0)
        op = api_action_find(api_acm_actions, target + strlen(ACM_TARGET_PREFIX));
    if (op == NULL)
        sl_err_set(&err, 400, "UnknownOperationException", "Unknown operation %.200s",
                   target ? target : "(none)");
    else if ((out->action = op->name) != NULL &&
             (body = json11_decode(req->body, req->body_len, &err)) != NULL)
        result = op->fn(ctx, body, &err);
    json_decref(body);
    if (result == NULL) {
        if (err.code[0] == '\0')
            sl_err_set(&err, 500, "ServerException", "operation failed");
        front_json11_error(&err, out);
        return;
    }
    out->status = 200;
    out->content_type = JSON11_CONTENT_TYPE;
    if (json11_encode(&out->body, result) != SL_OK) {
        buf_free(&out->body);
        sl_err_set(&err, 500, "ServerException", "out of memory");
        front_json11_error(&err, out);
    }
    json_decref(result);
}
