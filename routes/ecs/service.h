/*
 * service.h - services: CreateService, UpdateService, DescribeServices,
 * ListServices, DeleteService.
 *
 * Caveats:
 * - These record desired state.  The service scheduler (server/scheduler.c)
 *   owns what follows: starting tasks, the running and pending counts,
 *   registering targets, moving IN_PROGRESS deployments to COMPLETED,
 *   retiring ACTIVE deployments once their tasks have drained, events, and
 *   moving DRAINING services to INACTIVE.  A deployment whose desiredCount
 *   is 0 is COMPLETED at once (there is nothing to start), and DeleteService
 *   makes a service INACTIVE at once when no task of it is left.
 * - Results are AWS Service objects (new references), tags included.
 * - A DAEMON service runs one task on each container instance: here one,
 *   on the host; its desiredCount is 1 and cannot be set, and its
 *   deployments stop the old task before starting the new one (maximumPercent
 *   100, minimumHealthyPercent 0 unless given), as on ECS.
 */
#ifndef SL_ROUTES_ECS_SERVICE_H
#define SL_ROUTES_ECS_SERVICE_H

#include <jansson.h>
#include <stddef.h>

#include "routes/ecs/ecs.h"

#define ECS_SERVICE_LBS_MAX 5
#define ECS_DESIRED_MAX 100000

/* Wire names, NULL-terminated, by value. */
extern const char *const ecs_strategy_names[];
extern const char *const ecs_propagate_names[];

enum ecs_strategy { ECS_SS_REPLICA, ECS_SS_DAEMON };
enum ecs_propagate { ECS_PT_TASK_DEFINITION, ECS_PT_SERVICE, ECS_PT_NONE };

/* A target group the service's tasks register in. */
struct ecs_lb {
    const char *tg_arn;
    const char *container;
    long port;             /* 1-65535 */
};

/* deploymentConfiguration: the members given; the others keep their value
 * (or the defaults: 200, 100, breaker off). */
struct ecs_deploy_config {
    int has_max, has_min, has_breaker;
    long max_pct;          /* 100-2000 */
    long min_pct;          /* 0-100 */
    int enable, rollback;  /* deploymentCircuitBreaker */
};

struct ecs_service_spec {
    const char *cluster;   /* a valid cluster name */
    const char *name;
    const char *td_ref;
    long desired;          /* 0-100000 */
    enum ecs_launch_type launch;
    enum ecs_strategy strategy;
    enum ecs_propagate propagate;
    long grace;            /* healthCheckGracePeriodSeconds; -1: not given */
    const struct ecs_lb *lbs;
    size_t nlbs;
    struct ecs_deploy_config dc;
    const struct ecs_tag *tags;
    size_t ntags;
    int exec;              /* enableExecuteCommand (refused when true) */
    json_t *network;       /* networkConfiguration, kept verbatim; may be NULL */
    int launch_given;      /* launchType given: else the strategy, or the cluster's default */
    json_t *capacity;      /* capacityProviderStrategy as given; NULL or []: none */
    const char *role;      /* roleArn, recorded; may be NULL */
    const char *platform;  /* platformVersion, recorded; may be NULL */
    json_t *placement;     /* placementStrategy (one host: every strategy holds); may be NULL */
    const char *client_token; /* the same token answers the same service */
    const char *az_rebalancing; /* availabilityZoneRebalancing, recorded; may be NULL */
    int managed_tags;      /* enableECSManagedTags: its tasks get aws:ecs:* tags */
    int desired_given;     /* desiredCount was given (a DAEMON service takes none) */
};

/* Name, task definition, counts, load balancers, deployment configuration,
 * tags.  Pure. */
int ecs_service_check(const struct ecs_service_spec *s, struct sl_err *err);

/* CreateService (<s> checked): the task definition must be ACTIVE, the
 * target groups must exist and the containers map their ports.  *out: the
 * service.  Writers. */
int ecs_service_create(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_service_spec *s, json_t **out, struct sl_err *err);

/* UpdateService: what to change. */
struct ecs_service_change {
    const char *cluster;
    const char *ref;       /* service name or ARN */
    const char *td_ref;    /* NULL: keep */
    int has_desired;
    long desired;
    int force;             /* forceNewDeployment */
    long grace;            /* -1: keep */
    int lbs_given;
    const struct ecs_lb *lbs;
    size_t nlbs;
    struct ecs_deploy_config dc;
    json_t *capacity;      /* capacityProviderStrategy; NULL: keep */
    json_t *network;       /* networkConfiguration; NULL: keep */
    const char *platform;  /* NULL: keep */
    json_t *placement;     /* placementStrategy; NULL: keep */
    const char *az_rebalancing; /* NULL: keep */
    int set_managed_tags, managed_tags;
    int set_propagate;
    enum ecs_propagate propagate;
};

/* Counts, load balancers and deployment configuration of <c>.  Pure. */
int ecs_service_change_check(const struct ecs_service_change *c, struct sl_err *err);

/* UpdateService: a new task definition, changed load balancers or a forced
 * deployment start a new PRIMARY deployment; the old ones stay ACTIVE until
 * the scheduler has drained them.  *out: the service.  Writers. */
int ecs_service_update(struct store_txn *txn, const struct ecs_env *env,
                       const struct ecs_service_change *c, json_t **out, struct sl_err *err);

/* DescribeServices of <refs> in <cluster>: *out {services, failures}. */
int ecs_services_describe(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                          const char *const *refs, size_t n, int with_tags, json_t **out,
                          struct sl_err *err);

/* ListServices: the ARNs of the services of <cluster> that are not
 * INACTIVE, of <launch> and <strategy> when not NULL.  *out: the list. */
int ecs_services_list(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                      const char *launch, const char *strategy, json_t **out,
                      struct sl_err *err);

/* DeleteService (refused while desiredCount > 0 unless <force>): DRAINING
 * while tasks remain, else INACTIVE.  *out: the service.  Writers. */
int ecs_service_delete(struct store_txn *txn, const struct ecs_env *env, const char *cluster,
                       const char *ref, int force, json_t **out, struct sl_err *err);

/* The capacityProviderStrategy of service <name> of <cluster> (borrowed
 * from <svc_out>, a shared reference the caller drops; NULL when it has
 * none) and whether it has a launchType. */
json_t *ecs_service_placement(struct store_txn *txn, const char *cluster, const char *name,
                              json_t **svc_out, int *has_launch);

/* A new PRIMARY deployment (ecs-svc/<19 digits>) of task definition
 * <td_arn> for <desired> tasks (<launch> NULL or "": none shown, the
 * service's strategy applies): rolloutState IN_PROGRESS until the scheduler
 * completes it, or COMPLETED at once when <desired> is 0.  New reference. */
json_t *ecs_deployment_new(const char *td_arn, long desired, const char *launch, double now);

#endif
