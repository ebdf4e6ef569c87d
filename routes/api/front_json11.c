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

/* The request members each action honours: any other member a request
 * carries is refused (api_members_check()), never dropped. */
#define M(...) ((const char *const[]){__VA_ARGS__, NULL})
#define PAGE "nextToken", "maxResults"

static const struct api_action ecs_actions[] = {
    {"RegisterTaskDefinition", api_ecs_register_task_definition,
     M("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
       "volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags",
       "pidMode", "ipcMode", "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage",
       "runtimePlatform", "enableFaultInjection")},
    {"DescribeTaskDefinition", api_ecs_describe_task_definition, M("taskDefinition", "include")},
    {"ListTaskDefinitions", api_ecs_list_task_definitions,
     M("familyPrefix", "status", "sort", PAGE)},
    {"ListTaskDefinitionFamilies", api_ecs_list_task_definition_families,
     M("familyPrefix", "status", PAGE)},
    {"DeregisterTaskDefinition", api_ecs_deregister_task_definition, M("taskDefinition")},
    {"DeleteTaskDefinitions", api_ecs_delete_task_definitions, M("taskDefinitions")},
    {"CreateCluster", api_ecs_create_cluster,
     M("clusterName", "tags", "settings", "capacityProviders", "defaultCapacityProviderStrategy",
       "serviceConnectDefaults")},
    {"UpdateCluster", api_ecs_update_cluster, M("cluster", "settings", "serviceConnectDefaults")},
    {"UpdateClusterSettings", api_ecs_update_cluster_settings, M("cluster", "settings")},
    {"PutClusterCapacityProviders", api_ecs_put_cluster_capacity_providers,
     M("cluster", "capacityProviders", "defaultCapacityProviderStrategy")},
    {"DescribeCapacityProviders", api_ecs_describe_capacity_providers,
     M("capacityProviders", "cluster", "include", PAGE)},
    {"DescribeClusters", api_ecs_describe_clusters, M("clusters", "include")},
    {"ListClusters", api_ecs_list_clusters, M(PAGE)},
    {"DeleteCluster", api_ecs_delete_cluster, M("cluster")},
    {"CreateService", api_ecs_create_service,
     M("cluster", "serviceName", "taskDefinition", "availabilityZoneRebalancing",
       "loadBalancers", "desiredCount", "clientToken", "launchType", "capacityProviderStrategy",
       "platformVersion", "role", "deploymentConfiguration", "placementStrategy",
       "networkConfiguration", "healthCheckGracePeriodSeconds", "schedulingStrategy",
       "deploymentController", "tags", "enableECSManagedTags", "propagateTags",
       "enableExecuteCommand")},
    {"UpdateService", api_ecs_update_service,
     M("cluster", "service", "desiredCount", "taskDefinition", "capacityProviderStrategy",
       "deploymentConfiguration", "availabilityZoneRebalancing", "networkConfiguration",
       "placementStrategy", "platformVersion", "forceNewDeployment",
       "healthCheckGracePeriodSeconds", "deploymentController", "enableExecuteCommand",
       "enableECSManagedTags", "loadBalancers", "propagateTags")},
    {"DescribeServices", api_ecs_describe_services, M("cluster", "services", "include")},
    {"ListServices", api_ecs_list_services,
     M("cluster", PAGE, "launchType", "schedulingStrategy", "resourceManagementType")},
    {"DeleteService", api_ecs_delete_service, M("cluster", "service", "force")},
    {"ListServiceDeployments", api_ecs_list_service_deployments,
     M("service", "cluster", "status", "createdAt", PAGE)},
    {"DescribeServiceDeployments", api_ecs_describe_service_deployments,
     M("serviceDeploymentArns")},
    {"DescribeServiceRevisions", api_ecs_describe_service_revisions, M("serviceRevisionArns")},
    {"RunTask", api_ecs_run_task,
     M("capacityProviderStrategy", "cluster", "count", "enableECSManagedTags",
       "enableExecuteCommand", "group", "launchType", "networkConfiguration", "overrides",
       "placementStrategy", "platformVersion", "propagateTags", "referenceId", "startedBy",
       "tags", "taskDefinition", "clientToken")},
    {"StartTask", api_ecs_start_task,
     M("cluster", "containerInstances", "enableECSManagedTags", "enableExecuteCommand", "group",
       "networkConfiguration", "overrides", "propagateTags", "referenceId", "startedBy", "tags",
       "taskDefinition")},
    {"StopTask", api_ecs_stop_task, M("cluster", "task", "reason")},
    {"ListTasks", api_ecs_list_tasks,
     M("cluster", "containerInstance", "family", PAGE, "startedBy", "serviceName",
       "desiredStatus", "launchType")},
    {"DescribeTasks", api_ecs_describe_tasks, M("cluster", "tasks", "include")},
    {"ListContainerInstances", api_ecs_list_container_instances,
     M("cluster", "filter", PAGE, "status")},
    {"DescribeContainerInstances", api_ecs_describe_container_instances,
     M("cluster", "containerInstances", "include")},
    {"UpdateContainerInstancesState", api_ecs_update_container_instances_state,
     M("cluster", "containerInstances", "status")},
    {"PutAttributes", api_ecs_put_attributes, M("cluster", "attributes")},
    {"DeleteAttributes", api_ecs_delete_attributes, M("cluster", "attributes")},
    {"ListAttributes", api_ecs_list_attributes,
     M("cluster", "targetType", "attributeName", "attributeValue", PAGE)},
    {"PutAccountSetting", api_ecs_put_account_setting, M("name", "value", "principalArn")},
    {"PutAccountSettingDefault", api_ecs_put_account_setting_default, M("name", "value")},
    {"DeleteAccountSetting", api_ecs_delete_account_setting, M("name", "principalArn")},
    {"ListAccountSettings", api_ecs_list_account_settings,
     M("name", "value", "principalArn", "effectiveSettings", PAGE)},
    {"TagResource", api_ecs_tag_resource, M("resourceArn", "tags")},
    {"UntagResource", api_ecs_untag_resource, M("resourceArn", "tagKeys")},
    {"ListTagsForResource", api_ecs_list_tags_for_resource, M("resourceArn")},
    {NULL, NULL, NULL},
};

/* Why the members no action above takes are refused. */
static const struct api_refusal ecs_refusals[] = {
    {"configuration", "there is no ExecuteCommand and no managed storage encryption"},
    {"serviceRegistries", "there is no Cloud Map"},
    {"placementConstraints", "tasks run on the one container instance, this host"},
    {"serviceConnectConfiguration", "there is no Service Connect"},
    {"volumeConfigurations", "there are no EBS volumes to attach"},
    {"vpcLatticeConfigurations", "there is no VPC Lattice"},
    {"daemonName", "there are no daemons"},
    {NULL, NULL},
};

/* Operations of the ECS API that sluice does not have, and why. */
static const struct api_refusal ecs_missing[] = {
    {"CreateCapacityProvider", "capacity providers need Auto Scaling groups; FARGATE and "
                               "FARGATE_SPOT are there"},
    {"UpdateCapacityProvider", "FARGATE and FARGATE_SPOT cannot be changed"},
    {"DeleteCapacityProvider", "FARGATE and FARGATE_SPOT cannot be deleted"},
    {"CreateTaskSet", "task sets belong to the EXTERNAL deployment controller"},
    {"UpdateTaskSet", "task sets belong to the EXTERNAL deployment controller"},
    {"DeleteTaskSet", "task sets belong to the EXTERNAL deployment controller"},
    {"DescribeTaskSets", "task sets belong to the EXTERNAL deployment controller"},
    {"UpdateServicePrimaryTaskSet", "task sets belong to the EXTERNAL deployment controller"},
    {"ExecuteCommand", "there is no Session Manager"},
    {"RegisterContainerInstance", "the container instance is this host, registered always"},
    {"DeregisterContainerInstance", "the container instance is this host, registered always"},
    {"UpdateContainerAgent", "there is no ECS agent"},
    {"DiscoverPollEndpoint", "there is no ECS agent"},
    {"SubmitTaskStateChange", "there is no ECS agent"},
    {"SubmitContainerStateChange", "there is no ECS agent"},
    {"SubmitAttachmentStateChanges", "there is no ECS agent"},
    {"ListServicesByNamespace", "there is no Service Connect"},
    {"GetTaskProtection", "task scale-in protection is not implemented"},
    {"UpdateTaskProtection", "task scale-in protection is not implemented"},
    {"StopServiceDeployment", "a running service deployment cannot be stopped or rolled back "
                              "by request (the circuit breaker rolls back)"},
    {"ContinueServiceDeployment", "deployment lifecycle hooks are not implemented"},
    {"CreateDaemon", "daemons are not implemented (a DAEMON service runs one task on the host)"},
    {"UpdateDaemon", "daemons are not implemented"},
    {"DeleteDaemon", "daemons are not implemented"},
    {"DescribeDaemon", "daemons are not implemented"},
    {"ListDaemons", "daemons are not implemented"},
    {"DescribeDaemonDeployments", "daemons are not implemented"},
    {"ListDaemonDeployments", "daemons are not implemented"},
    {"DescribeDaemonRevisions", "daemons are not implemented"},
    {"RegisterDaemonTaskDefinition", "daemons are not implemented"},
    {"DescribeDaemonTaskDefinition", "daemons are not implemented"},
    {"ListDaemonTaskDefinitions", "daemons are not implemented"},
    {"DeleteDaemonTaskDefinition", "daemons are not implemented"},
    {"CreateExpressGatewayService", "ECS Express Mode is not implemented"},
    {"UpdateExpressGatewayService", "ECS Express Mode is not implemented"},
    {"DeleteExpressGatewayService", "ECS Express Mode is not implemented"},
    {"DescribeExpressGatewayService", "ECS Express Mode is not implemented"},
    {NULL, NULL},
};

void front_json11_error(const struct sl_err *e, struct front_reply *out)
{
    out->status = e->status ? e->status : 400;
    out->content_type = JSON11_CONTENT_TYPE;
    json11_error(&out->body, e);
}

/* UnknownOperationException for <target>, saying why sluice lacks it when
 * it is an operation of the ECS API. */
static void unknown(const char *target, size_t plen, struct sl_err *err)
{
    const struct api_refusal *m;

    for (m = ecs_missing; target && strlen(target) > plen && m->member; m++)
        if (strncmp(target, ECS_TARGET_PREFIX, plen) == 0 &&
            strcmp(target + plen, m->member) == 0) {
            sl_err_set(err, 400, "UnknownOperationException",
                       "Unknown operation %.200s: not supported by sluice: %s", target, m->why);
            return;
        }
    sl_err_set(err, 400, "UnknownOperationException", "Unknown operation %.200s",
               target ? target : "(none)");
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
        unknown(target, plen, &err);
    else if ((out->action = op->name) != NULL &&
             (body = json11_decode(req->body, req->body_len, &err)) != NULL &&
             api_members_check(body, op->members, ecs_refusals, NULL,
                               "InvalidParameterException", &err) == SL_OK)
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
