/*
 * runtime_docker_spec.c - an ECS task definition as Docker Engine create
 * bodies (POST /containers/create), one per container definition.
 *
 * Every ContainerDefinition member is applied or refused here; the README's
 * table says which Docker field each becomes.  A refusal is the task's
 * stoppedReason: "CannotCreateContainerError: <member>: <why>".
 */
#include "server/runtime_docker_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "routes/ecs/instances.h"
#include "server/task_env.h"

#define MIB (1024LL * 1024LL)

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int refuse(char *reason, size_t rlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *reason, size_t rlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, rlen, fmt, ap);
    va_end(ap);
    return SL_ERR;
}

static json_t *def_of(json_t *td, const char *name)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(td, "containerDefinitions"), i, c)
        if (strcmp(str(c, "name"), name) == 0)
            return c;
    return NULL;
}

static json_t *override_of(json_t *task, const char *name)
{
    json_t *o;
    size_t i;

    json_array_foreach(json_object_get(json_object_get(task, "overrides"), "containerOverrides"),
                       i, o)
        if (strcmp(str(o, "name"), name) == 0)
            return o;
    return NULL;
}

/* ---- environment ---- */

/* ---- members ---- */

static json_t *strings(json_t *a)
{
    json_t *out = json_array(), *v;
    size_t i;

    json_array_foreach(a, i, v)
        if (json_is_string(v))
            json_array_append(out, v);
    return out;
}

static int health(json_t *cfg, json_t *hc, char *reason, size_t rlen)
{
    json_t *cmd = json_object_get(hc, "command"), *test;
    const char *kind = json_string_value(json_array_get(cmd, 0));
    long long s = 1000000000LL;

    if (kind == NULL || (strcmp(kind, "CMD") != 0 && strcmp(kind, "CMD-SHELL") != 0 &&
                         strcmp(kind, "NONE") != 0))
        return refuse(reason, rlen, "CannotCreateContainerError: healthCheck.command must start "
                                    "with CMD, CMD-SHELL or NONE");
    test = strings(cmd);
    json_object_set_new(
        cfg, "Healthcheck",
        json_pack("{so sI sI sI sI}", "Test", test, "Interval",
                  (json_int_t)(json_integer_value(json_object_get(hc, "interval")) ?: 30) * s,
                  "Timeout",
                  (json_int_t)(json_integer_value(json_object_get(hc, "timeout")) ?: 5) * s,
                  "Retries", (json_int_t)(json_integer_value(json_object_get(hc, "retries")) ?: 3),
                  "StartPeriod",
                  (json_int_t)json_integer_value(json_object_get(hc, "startPeriod")) * s));
    return strcmp(kind, "NONE") != 0;
}

static int log_config(json_t *hc, json_t *lc, char *reason, size_t rlen)
{
    const char *drv = str(lc, "logDriver");
    json_t *opts = json_object_get(lc, "options");

    if (lc == NULL)
        return SL_OK;
    if (strcmp(drv, "json-file") != 0 && strcmp(drv, "local") != 0 && strcmp(drv, "none") != 0)
        return refuse(reason, rlen,
                      "CannotCreateContainerError: logConfiguration.logDriver %.60s is not "
                      "supported: logs stay on this host (json-file, local or none)",
                      drv);
    if (json_array_size(json_object_get(lc, "secretOptions")) > 0)
        return refuse(reason, rlen, "CannotCreateContainerError: logConfiguration.secretOptions "
                                    "is not supported (local log drivers take no secrets)");
    json_object_set_new(hc, "LogConfig",
                        json_pack("{ss so}", "Type", drv, "Config",
                                  json_is_object(opts) ? json_deep_copy(opts) : json_object()));
    return SL_OK;
}
static int linux_params(json_t *hc, json_t *lp, long long memory, char *reason, size_t rlen)
{
    json_t *caps = json_object_get(lp, "capabilities"), *v, *a;
    size_t i;

    if (lp == NULL)
        return SL_OK;
    if (json_is_true(json_object_get(lp, "initProcessEnabled")))
        json_object_set_new(hc, "Init", json_true());
    if (json_array_size(json_object_get(caps, "add")))
        json_object_set_new(hc, "CapAdd", strings(json_object_get(caps, "add")));
    if (json_array_size(json_object_get(caps, "drop")))
        json_object_set_new(hc, "CapDrop", strings(json_object_get(caps, "drop")));
    if (json_array_size(json_object_get(lp, "devices"))) {
        a = json_array();
        json_array_foreach(json_object_get(lp, "devices"), i, v) {
            char perms[4] = "";
            json_t *p;
            size_t j;
            size_t np = 0;
            json_array_foreach(json_object_get(v, "permissions"), j, p) {
                const char *ps = json_string_value(p);
                if (ps && np < 3)
                    perms[np++] = strcmp(ps, "read") == 0 ? 'r' : strcmp(ps, "write") == 0 ? 'w'
                                                                                           : 'm';
            }
            perms[np] = '\0';
            json_array_append_new(
                a, json_pack("{ss ss ss}", "PathOnHost", str(v, "hostPath"), "PathInContainer",
                             json_is_string(json_object_get(v, "containerPath"))
                                 ? str(v, "containerPath")
                                 : str(v, "hostPath"),
                             "CgroupPermissions", perms[0] ? perms : "rwm"));
        }
        json_object_set_new(hc, "Devices", a);
    }
    if (json_is_integer(json_object_get(lp, "sharedMemorySize")))
        json_object_set_new(hc, "ShmSize",
                            json_integer(json_integer_value(json_object_get(lp, "sharedMemorySize")) *
                                         MIB));
    if (json_array_size(json_object_get(lp, "tmpfs"))) {
        json_t *t = json_object();
        json_array_foreach(json_object_get(lp, "tmpfs"), i, v) {
            char opt[512];
            size_t n = (size_t)snprintf(opt, sizeof(opt), "size=%lldm",
                                        (long long)json_integer_value(json_object_get(v, "size")));
            json_t *o;
            size_t j;
            json_array_foreach(json_object_get(v, "mountOptions"), j, o)
                if (json_is_string(o) && n < sizeof(opt))
                    n += (size_t)snprintf(opt + n, sizeof(opt) - n, ",%s", json_string_value(o));
            json_object_set_new(t, str(v, "containerPath"), json_string(opt));
        }
        json_object_set_new(hc, "Tmpfs", t);
    }
    if (json_is_integer(json_object_get(lp, "maxSwap"))) {
        if (memory <= 0)
            return refuse(reason, rlen, "CannotCreateContainerError: linuxParameters.maxSwap "
                                        "needs the container's memory");
        json_object_set_new(hc, "MemorySwap",
                            json_integer(memory + json_integer_value(json_object_get(lp, "maxSwap")) *
                                                      MIB));
    }
    if (json_is_integer(json_object_get(lp, "swappiness")))
        json_object_set(hc, "MemorySwappiness", json_object_get(lp, "swappiness"));
    return SL_OK;
}

static void ulimits(json_t *hc, json_t *list)
{
    json_t *a, *u;
    size_t i;

    if (json_array_size(list) == 0)
        return;
    a = json_array();
    json_array_foreach(list, i, u)
        json_array_append_new(
            a, json_pack("{ss sI sI}", "Name", str(u, "name"), "Soft",
                         (json_int_t)json_integer_value(json_object_get(u, "softLimit")), "Hard",
                         (json_int_t)json_integer_value(json_object_get(u, "hardLimit"))));
    json_object_set_new(hc, "Ulimits", a);
}

static int is_mode(const struct dk_task *t, const char *m)
{
    return strcmp(t->net_mode, m) == 0;
}

/* portMappings -> ExposedPorts, PortBindings and the ports wanted. */
static int ports(const struct dk_plan_cfg *cfg, struct dk_task *t, struct dk_ctr *c, json_t *cd,
                 json_t *cfgj, json_t *hc, char *reason, size_t rlen)
{
    json_t *pms = json_object_get(cd, "portMappings"), *pm, *exposed, *bind;
    size_t i;

    if (json_array_size(pms) == 0)
        return SL_OK;
    if (is_mode(t, "none"))
        return refuse(reason, rlen, "CannotCreateContainerError: portMappings: networkMode none "
                                    "has no network to publish on");
    exposed = json_object();
    bind = json_object();
    json_array_foreach(pms, i, pm) {
        struct dk_port *p;
        char k[32], hp[16] = "";
        if (c->nports >= DK_MAX_PORTS) {
            json_decref(exposed);
            json_decref(bind);
            return refuse(reason, rlen, "CannotCreateContainerError: portMappings: at most %d "
                                        "per container",
                          DK_MAX_PORTS);
        }
        p = &c->ports[c->nports++];
        p->cport = (int)json_integer_value(json_object_get(pm, "containerPort"));
        p->hport = (int)json_integer_value(json_object_get(pm, "hostPort"));
        snprintf(p->proto, sizeof(p->proto), "%s",
                 strcmp(str(pm, "protocol"), "udp") == 0 ? "udp" : "tcp");
        if (is_mode(t, "host")) {
            p->hport = p->cport; /* the container binds the host's port itself */
            continue;
        }
        if (is_mode(t, "awsvpc"))
            p->hport = 0; /* each containerPort on a dynamic loopback port */
        if (p->hport > 0)
            snprintf(hp, sizeof(hp), "%d", p->hport);
        snprintf(k, sizeof(k), "%d/%s", p->cport, p->proto);
        json_object_set_new(exposed, k, json_object());
        json_object_set_new(bind, k, json_pack("[{ss ss}]", "HostIp", cfg->host_addr, "HostPort",
                                               hp));
    }
    json_object_set_new(cfgj, "ExposedPorts", exposed);
    if (json_object_size(bind))
        json_object_set_new(hc, "PortBindings", bind);
    else
        json_decref(bind);
    return SL_OK;
}

static json_t *volume_of(json_t *td, const char *name)
{
    json_t *v;
    size_t i;

    json_array_foreach(json_object_get(td, "volumes"), i, v)
        if (strcmp(str(v, "name"), name) == 0)
            return v;
    return NULL;
}

/* The Docker volume for task volume <v>, recorded once in t->volumes. */
static const char *docker_volume(struct dk_task *t, json_t *v, char *name, size_t cap)
{
    json_t *dv = json_object_get(v, "dockerVolumeConfiguration"), *e;
    int shared = strcmp(str(dv, "scope"), "shared") == 0;
    size_t i;

    if (shared)
        snprintf(name, cap, "%s", str(v, "name"));
    else
        snprintf(name, cap, "ecs-%s-%.100s", t->tid, str(v, "name"));
    json_array_foreach(t->volumes, i, e)
        if (strcmp(str(e, "Name"), name) == 0)
            return name;
    json_array_append_new(
        t->volumes,
        json_pack("{ss ss so so sb sb}", "Name", name, "Driver",
                  json_is_string(json_object_get(dv, "driver")) ? str(dv, "driver") : "local",
                  "DriverOpts",
                  json_is_object(json_object_get(dv, "driverOpts"))
                      ? json_deep_copy(json_object_get(dv, "driverOpts"))
                      : json_object(),
                  "Labels",
                  json_is_object(json_object_get(dv, "labels"))
                      ? json_deep_copy(json_object_get(dv, "labels"))
                      : json_object(),
                  "shared", shared, "autoprovision",
                  !shared || json_is_true(json_object_get(dv, "autoprovision"))));
    return name;
}

/* mountPoints over volumes -> Binds (host paths) and Mounts (Docker volumes);
 * volumesFrom -> VolumesFrom. */
static int mounts(struct dk_task *t, json_t *td, json_t *cd, json_t *hc, char *reason,
                  size_t rlen)
{
    json_t *mp, *binds = json_array(), *mnts = json_array(), *from = json_array();
    size_t i;
    int rc = SL_ERR;

    json_array_foreach(json_object_get(cd, "mountPoints"), i, mp) {
        json_t *v = volume_of(td, str(mp, "sourceVolume"));
        int ro = json_is_true(json_object_get(mp, "readOnly"));
        const char *host = str(json_object_get(v, "host"), "sourcePath");
        char b[2200], vname[200];
        if (v == NULL) {
            refuse(reason, rlen, "CannotCreateContainerError: mountPoints: sourceVolume "
                                 "'%.100s' is not a volume of the task definition",
                   str(mp, "sourceVolume"));
            goto out;
        }
        if (str(mp, "containerPath")[0] != '/') {
            refuse(reason, rlen, "CannotCreateContainerError: mountPoints: containerPath must "
                                 "be an absolute path");
            goto out;
        }
        if (json_object_get(v, "efsVolumeConfiguration") ||
            json_object_get(v, "fsxWindowsFileServerVolumeConfiguration")) {
            refuse(reason, rlen, "CannotCreateContainerError: volume %.100s: EFS and FSx volumes "
                                 "are not supported (host paths and Docker volumes are)",
                   str(v, "name"));
            goto out;
        }
        if (host[0]) {
            snprintf(b, sizeof(b), "%s:%s%s", host, str(mp, "containerPath"), ro ? ":ro" : "");
            json_array_append_new(binds, json_string(b));
            continue;
        }
        /* A Docker volume, or ECS's empty task-scoped volume. */
        docker_volume(t, v, vname, sizeof(vname));
        json_array_append_new(mnts, json_pack("{ss ss ss sb}", "Type", "volume", "Source", vname,
                                              "Target", str(mp, "containerPath"), "ReadOnly", ro));
    }
    json_array_foreach(json_object_get(cd, "volumesFrom"), i, mp) {
        char b[200];
        int k, found = -1;
        for (k = 0; k < t->n; k++)
            if (strcmp(t->c[k].name, str(mp, "sourceContainer")) == 0)
                found = k;
        if (found < 0) {
            refuse(reason, rlen, "CannotCreateContainerError: volumesFrom: sourceContainer "
                                 "'%.100s' is not a container of the task",
                   str(mp, "sourceContainer"));
            goto out;
        }
        if ((size_t)snprintf(b, sizeof(b), "%s%s", t->c[found].dname,
                             json_is_true(json_object_get(mp, "readOnly")) ? ":ro" : "") >=
            sizeof(b)) {
            refuse(reason, rlen, "CannotCreateContainerError: volumesFrom: name too long");
            goto out;
        }
        json_array_append_new(from, json_string(b));
    }
    if (json_array_size(binds))
        json_object_set(hc, "Binds", binds);
    if (json_array_size(mnts))
        json_object_set(hc, "Mounts", mnts);
    if (json_array_size(from))
        json_object_set(hc, "VolumesFrom", from);
    rc = SL_OK;
out:
    json_decref(binds);
    json_decref(mnts);
    json_decref(from);
    return rc;
}

/* links "name[:alias]" -> Links "<docker name>:alias" (bridge only). */
static int links(struct dk_task *t, json_t *cd, json_t *hc, char *reason, size_t rlen)
{
    json_t *l, *out;
    size_t i;

    if (json_array_size(json_object_get(cd, "links")) == 0)
        return SL_OK;
    if (!is_mode(t, "bridge"))
        return refuse(reason, rlen, "CannotCreateContainerError: links are supported only "
                                    "with networkMode bridge");
    out = json_array();
    json_array_foreach(json_object_get(cd, "links"), i, l) {
        const char *s = json_string_value(l) ? json_string_value(l) : "";
        const char *colon = strchr(s, ':');
        size_t nl = colon ? (size_t)(colon - s) : strlen(s);
        char b[400];
        int k, found = -1;
        for (k = 0; k < t->n; k++)
            if (strlen(t->c[k].name) == nl && strncmp(t->c[k].name, s, nl) == 0)
                found = k;
        if (found < 0) {
            json_decref(out);
            return refuse(reason, rlen, "CannotCreateContainerError: links: '%.100s' is not a "
                                        "container of the task",
                          s);
        }
        if ((size_t)snprintf(b, sizeof(b), "%s:%s", t->c[found].dname,
                             colon ? colon + 1 : t->c[found].name) >= sizeof(b)) {
            json_decref(out);
            return refuse(reason, rlen, "CannotCreateContainerError: links: '%.100s' is too long",
                          s);
        }
        json_array_append_new(out, json_string(b));
    }
    json_object_set_new(hc, "Links", out);
    return SL_OK;
}

static json_t *labels(const struct dk_plan_cfg *cfg, json_t *task, json_t *td, struct dk_task *t,
                      struct dk_ctr *c, json_t *cd)
{
    json_t *l = json_is_object(json_object_get(cd, "dockerLabels"))
                    ? json_deep_copy(json_object_get(cd, "dockerLabels"))
                    : json_object();
    const char *carn = str(task, "clusterArn"), *cl = strstr(carn, ":cluster/");
    char rev[24];

    snprintf(rev, sizeof(rev), "%lld", (long long)json_integer_value(json_object_get(td, "revision")));
    json_object_set_new(l, "com.amazonaws.ecs.task-arn", json_string(str(task, "taskArn")));
    json_object_set_new(l, "com.amazonaws.ecs.cluster", json_string(cl ? cl + 9 : carn));
    json_object_set_new(l, "com.amazonaws.ecs.container-name", json_string(c->name));
    json_object_set_new(l, "com.amazonaws.ecs.task-definition-family",
                        json_string(str(td, "family")));
    json_object_set_new(l, "com.amazonaws.ecs.task-definition-version", json_string(rev));
    json_object_set_new(l, DK_LABEL_OWNER, json_string(cfg->owner));
    json_object_set_new(l, DK_LABEL_TASK, json_string(t->key));
    json_object_set_new(l, DK_LABEL_META, json_string(c->meta_id));
    return l;
}

static int deps(struct dk_task *t, struct dk_ctr *c, json_t *cd, json_t *td, char *reason,
                size_t rlen)
{
    static const char *const conds[] = {"START", "COMPLETE", "SUCCESS", "HEALTHY"};
    json_t *d;
    size_t i;

    json_array_foreach(json_object_get(cd, "dependsOn"), i, d) {
        int k, found = -1, cond = -1;
        for (k = 0; k < t->n; k++)
            if (strcmp(t->c[k].name, str(d, "containerName")) == 0)
                found = k;
        for (k = 0; k < 4; k++)
            if (strcmp(conds[k], str(d, "condition")) == 0)
                cond = k;
        if (found < 0 || &t->c[found] == c)
            return refuse(reason, rlen, "CannotCreateContainerError: dependsOn: '%.100s' is not "
                                        "another container of the task",
                          str(d, "containerName"));
        if (cond < 0)
            return refuse(reason, rlen, "CannotCreateContainerError: dependsOn: condition must "
                                        "be START, COMPLETE, SUCCESS or HEALTHY");
        if (cond == DEP_HEALTHY && !json_object_get(def_of(td, t->c[found].name), "healthCheck"))
            return refuse(reason, rlen, "CannotCreateContainerError: dependsOn: %.100s has no "
                                        "healthCheck to wait for",
                          t->c[found].name);
        if ((cond == DEP_COMPLETE || cond == DEP_SUCCESS) && t->c[found].essential)
            return refuse(reason, rlen, "CannotCreateContainerError: dependsOn: %.100s is "
                                        "essential and cannot be waited on to %s",
                          t->c[found].name, conds[cond]);
        c->deps[c->ndeps].idx = found;
        c->deps[c->ndeps].cond = (enum dk_cond)cond;
        c->ndeps++;
    }
    return SL_OK;
}

/* 1 if the dependency graph has a cycle. */
static int has_cycle(const struct dk_task *t)
{
    int color[DK_MAX_CONTAINERS] = {0}, i;

    /* Repeatedly strip containers whose dependencies are all stripped. */
    for (;;) {
        int progress = 0, left = 0;
        for (i = 0; i < t->n; i++) {
            int j, ready = 1;
            if (color[i])
                continue;
            left++;
            for (j = 0; j < t->c[i].ndeps; j++)
                if (!color[t->c[i].deps[j].idx])
                    ready = 0;
            if (ready) {
                color[i] = 1;
                progress = 1;
            }
        }
        if (left == 0)
            return 0;
        if (!progress)
            return 1;
    }
}

/* Members no Docker field can carry on this host. */
static int refused_members(json_t *cd, char *reason, size_t rlen)
{
    json_t *r;
    size_t i;

    json_array_foreach(json_object_get(cd, "resourceRequirements"), i, r)
        return refuse(reason, rlen,
                      "CannotCreateContainerError: resourceRequirements %.40s is not supported "
                      "(no GPUs or inference accelerators are scheduled here)",
                      str(r, "type"));
    if (json_object_get(cd, "firelensConfiguration"))
        return refuse(reason, rlen, "CannotCreateContainerError: firelensConfiguration is not "
                                    "supported (no log router sidecar is injected)");
    if (json_is_true(json_object_get(json_object_get(cd, "restartPolicy"), "enabled")))
        return refuse(reason, rlen, "CannotCreateContainerError: restartPolicy is not supported "
                                    "(a container that exits is not restarted in place; an "
                                    "essential one stops its task, which its service replaces)");
    if (json_array_size(json_object_get(cd, "credentialSpecs")))
        return refuse(reason, rlen, "CannotCreateContainerError: credentialSpecs is not supported "
                                    "(no Active Directory gMSA here)");
    return SL_OK;
}

static void host_config_flags(json_t *hc, json_t *cfgj, json_t *cd)
{
    json_t *a, *v;
    size_t i;

    if (json_is_true(json_object_get(cd, "privileged")))
        json_object_set_new(hc, "Privileged", json_true());
    if (json_is_true(json_object_get(cd, "readonlyRootFilesystem")))
        json_object_set_new(hc, "ReadonlyRootfs", json_true());
    if (json_array_size(json_object_get(cd, "dnsServers")))
        json_object_set_new(hc, "Dns", strings(json_object_get(cd, "dnsServers")));
    if (json_array_size(json_object_get(cd, "dnsSearchDomains")))
        json_object_set_new(hc, "DnsSearch", strings(json_object_get(cd, "dnsSearchDomains")));
    if (json_array_size(json_object_get(cd, "dockerSecurityOptions")))
        json_object_set_new(hc, "SecurityOpt",
                            strings(json_object_get(cd, "dockerSecurityOptions")));
    if (json_array_size(json_object_get(cd, "extraHosts"))) {
        a = json_array();
        json_array_foreach(json_object_get(cd, "extraHosts"), i, v) {
            char b[600];
            snprintf(b, sizeof(b), "%s:%s", str(v, "hostname"), str(v, "ipAddress"));
            json_array_append_new(a, json_string(b));
        }
        json_object_set_new(hc, "ExtraHosts", a);
    }
    if (json_array_size(json_object_get(cd, "systemControls"))) {
        a = json_object();
        json_array_foreach(json_object_get(cd, "systemControls"), i, v)
            json_object_set_new(a, str(v, "namespace"), json_string(str(v, "value")));
        json_object_set_new(hc, "Sysctls", a);
    }
    if (json_is_true(json_object_get(cd, "disableNetworking")))
        json_object_set_new(cfgj, "NetworkDisabled", json_true());
    if (json_is_true(json_object_get(cd, "interactive")))
        json_object_set_new(cfgj, "OpenStdin", json_true());
    if (json_is_true(json_object_get(cd, "pseudoTerminal")))
        json_object_set_new(cfgj, "Tty", json_true());
    if (json_is_string(json_object_get(cd, "user")))
        json_object_set(cfgj, "User", json_object_get(cd, "user"));
    if (json_is_string(json_object_get(cd, "workingDirectory")))
        json_object_set(cfgj, "WorkingDir", json_object_get(cd, "workingDirectory"));
}

/* Docker's least CPU quota: 0.01 CPU. */
#define MIN_NANO_CPUS 10000000LL

/* Resources: the override's cpu/memory win over the definition's.  The
 * only container of a task also gets the task's size (<task>'s cpu and
 * memory: its definition's, or RunTask's override): ECS bounds the task's
 * cgroup by it, and that container is all the cgroup holds, so its Memory
 * is the lower of the two and the task's vCPUs become its CPU quota
 * (NanoCpus), as the ECS agent's task cgroup has them. */
static long long resources(json_t *hc, json_t *cd, json_t *ov, json_t *task, int alone)
{
    json_t *src = ov && json_is_integer(json_object_get(ov, "cpu")) ? ov : cd;
    long long cpu = (long long)json_integer_value(json_object_get(src, "cpu"));
    long long mem, res;
    long task_cpu, task_mem;

    src = ov && json_is_integer(json_object_get(ov, "memory")) ? ov : cd;
    mem = (long long)json_integer_value(json_object_get(src, "memory")) * MIB;
    src = ov && json_is_integer(json_object_get(ov, "memoryReservation")) ? ov : cd;
    res = (long long)json_integer_value(json_object_get(src, "memoryReservation")) * MIB;
    if (alone) {
        ecs_task_size(task, &task_cpu, &task_mem);
        if (task_mem > 0 && (mem <= 0 || task_mem * MIB < mem))
            mem = task_mem * MIB;
        if (mem > 0 && res > mem)
            res = mem; /* a soft limit above the hard one: Docker refuses it */
        if (task_cpu > 0) {
            long long n = (long long)task_cpu * 1000000000LL / 1024;
            json_object_set_new(hc, "NanoCpus",
                                json_integer(n > MIN_NANO_CPUS ? n : MIN_NANO_CPUS));
        }
    }
    /* ECS gives a container without cpu units the minimum of 2 shares. */
    json_object_set_new(hc, "CpuShares", json_integer(cpu >= 2 ? cpu : 2));
    if (mem > 0)
        json_object_set_new(hc, "Memory", json_integer(mem));
    if (res > 0)
        json_object_set_new(hc, "MemoryReservation", json_integer(res));
    return mem;
}

/* Task-level pidMode and ipcMode: "host", or "task" (the containers share
 * the first one's namespace, which therefore starts first). */
static int task_namespaces(struct dk_task *t, struct dk_ctr *c, json_t *td, json_t *hc,
                           char *reason, size_t rlen)
{
    static const char *const members[] = {"pidMode", "ipcMode"};
    static const char *const fields[] = {"PidMode", "IpcMode"};
    char v[256];
    int k;

    for (k = 0; k < 2; k++) {
        const char *m = str(td, members[k]);
        if (m[0] == '\0')
            continue;
        if (strcmp(m, "host") == 0 || (strcmp(m, "none") == 0 && k == 1))
            snprintf(v, sizeof(v), "%s", m);
        else if (strcmp(m, "task") == 0 && c == &t->c[0])
            snprintf(v, sizeof(v), "%s", k == 1 ? "shareable" : "");
        else if (strcmp(m, "task") == 0)
            snprintf(v, sizeof(v), "container:%s", t->c[0].dname);
        else
            return refuse(reason, rlen, "CannotCreateContainerError: %s %.40s is not supported",
                          members[k], m);
        if (v[0])
            json_object_set_new(hc, fields[k], json_string(v));
        if (strcmp(m, "task") == 0 && c != &t->c[0] && c->ndeps < DK_MAX_CONTAINERS) {
            c->deps[c->ndeps].idx = 0; /* the namespace's owner runs first */
            c->deps[c->ndeps].cond = DEP_START;
            c->ndeps++;
        }
    }
    return SL_OK;
}

static int plan_container(const struct dk_plan_cfg *cfg, json_t *task, json_t *td,
                          struct dk_task *t, struct dk_ctr *c, char *reason, size_t rlen)
{
    json_t *cd = def_of(td, c->name), *ov = override_of(task, c->name);
    json_t *body = json_object(), *hc = json_object(), *env = json_array(), *v;
    long long mem;
    char url[256];
    int h;

    json_object_set_new(body, "HostConfig", hc);
    json_object_set_new(body, "Env", env);
    c->create = body;
    if (refused_members(cd, reason, rlen) != SL_OK)
        return SL_ERR;
    json_object_set_new(body, "Image", json_string(c->image));
    if (json_array_size(json_object_get(cd, "entryPoint")))
        json_object_set_new(body, "Entrypoint", strings(json_object_get(cd, "entryPoint")));
    v = ov && json_is_array(json_object_get(ov, "command")) ? json_object_get(ov, "command")
                                                            : json_object_get(cd, "command");
    if (json_array_size(v))
        json_object_set_new(body, "Cmd", strings(v));
    /* An adopted container has its environment already: no files re-read. */
    if (!cfg->adopting && task_env_build(env, cd, ov, reason, rlen) != SL_OK)
        return SL_ERR;
    snprintf(url, sizeof(url), "%s/v4/%s", cfg->meta_base, c->meta_id);
    task_env_set(env, "ECS_CONTAINER_METADATA_URI_V4", url);
    json_object_set_new(body, "Labels", labels(cfg, task, td, t, c, cd));
    if (json_is_string(json_object_get(cd, "hostname"))) {
        if (!is_mode(t, "bridge"))
            return refuse(reason, rlen, "CannotCreateContainerError: hostname is not supported "
                                        "with networkMode %s",
                          t->net_mode);
        json_object_set(body, "Hostname", json_object_get(cd, "hostname"));
    }
    host_config_flags(hc, body, cd);
    c->tty = json_is_true(json_object_get(cd, "pseudoTerminal"));
    json_object_set_new(hc, "NetworkMode",
                        json_string(is_mode(t, "awsvpc") ? "bridge" : t->net_mode));
    mem = resources(hc, cd, ov, task, t->n == 1);
    if (t->cgroup[0]) {
        json_object_set_new(hc, "CgroupParent", json_string(t->cgroup));
        c->shared_cg = 1;
    }
    if ((h = json_object_get(cd, "healthCheck") ? health(body, json_object_get(cd, "healthCheck"),
                                                         reason, rlen)
                                                : 0) == SL_ERR)
        return SL_ERR;
    c->has_hc = h == 1;
    c->stop_ms = json_is_integer(json_object_get(cd, "stopTimeout"))
                     ? (long)json_integer_value(json_object_get(cd, "stopTimeout")) * 1000
                     : DK_DEFAULT_STOP_MS;
    json_object_set_new(body, "StopTimeout", json_integer(c->stop_ms / 1000));
    c->start_ms = json_is_integer(json_object_get(cd, "startTimeout"))
                      ? (long)json_integer_value(json_object_get(cd, "startTimeout")) * 1000
                      : 180000;
    if (linux_params(hc, json_object_get(cd, "linuxParameters"), mem, reason, rlen) != SL_OK ||
        log_config(hc, json_object_get(cd, "logConfiguration"), reason, rlen) != SL_OK ||
        ports(cfg, t, c, cd, body, hc, reason, rlen) != SL_OK ||
        mounts(t, td, cd, hc, reason, rlen) != SL_OK || links(t, cd, hc, reason, rlen) != SL_OK ||
        deps(t, c, cd, td, reason, rlen) != SL_OK ||
        task_namespaces(t, c, td, hc, reason, rlen) != SL_OK)
        return SL_ERR;
    ulimits(hc, json_object_get(cd, "ulimits"));
    return SL_OK;
}

/* A task of several containers is bounded by its task-level size as a
 * whole, in a cgroup they share (the only container of a task gets the
 * size itself: resources()).  Where the engine cannot do that, the size is
 * reserved on the instance and shown, not enforced (README). */
static int task_cgroup_for(const struct dk_plan_cfg *cfg, json_t *task, struct dk_task *t,
                           char *reason, size_t rlen)
{
    ecs_task_size(task, &t->cg_cpu, &t->cg_mem);
    if (!cfg->task_cgroups || t->n < 2 || (t->cg_cpu <= 0 && t->cg_mem <= 0))
        return SL_OK;
    if (task_cgroup_path(t->cgroup, sizeof(t->cgroup), cfg->owner, t->tid) != SL_OK)
        return refuse(reason, rlen, "ResourceInitializationError: no cgroup name for task %.80s",
                      t->tid);
    return SL_OK;
}

int dk_plan(const struct dk_plan_cfg *cfg, json_t *task, json_t *td, struct dk_task *t,
            char *reason, size_t rlen)
{
    json_t *jc, *cd;
    size_t i;
    const char *mode = str(td, "networkMode");
    long rev = (long)json_integer_value(json_object_get(td, "revision"));

    snprintf(t->net_mode, sizeof(t->net_mode), "%s", mode[0] ? mode : "bridge");
    snprintf(t->tid, sizeof(t->tid), "%.79s",
             strrchr(t->key, '/') ? strrchr(t->key, '/') + 1 : t->key);
    t->volumes = json_array();
    if (json_array_size(json_object_get(task, "containers")) > DK_MAX_CONTAINERS)
        return refuse(reason, rlen, "CannotCreateContainerError: at most %d containers per task",
                      DK_MAX_CONTAINERS);
    /* Names first: links and volumesFrom refer to siblings. */
    json_array_foreach(json_object_get(task, "containers"), i, jc) {
        struct dk_ctr *c = &t->c[t->n];
        int k;
        if ((cd = def_of(td, str(jc, "name"))) == NULL)
            return refuse(reason, rlen, "CannotCreateContainerError: container %.100s is not in "
                                        "the task definition",
                          str(jc, "name"));
        snprintf(c->name, sizeof(c->name), "%s", str(jc, "name"));
        snprintf(c->image, sizeof(c->image), "%s", str(cd, "image"));
        if (json_is_string(json_object_get(json_object_get(cd, "repositoryCredentials"),
                                           "credentialsParameter")))
            snprintf(c->cred_param, sizeof(c->cred_param), "%s",
                     str(json_object_get(cd, "repositoryCredentials"), "credentialsParameter"));
        c->essential = json_is_true(json_object_get(cd, "essential"));
        {
            char dn[sizeof(c->dname)], tid[sizeof(t->tid)];
            memcpy(tid, t->tid, sizeof(tid));
            snprintf(dn, sizeof(dn), "ecs-%.40s-%ld-%.40s-%s", str(td, "family"), rev,
                     str(jc, "name"), tid);
            for (k = 0; k < t->n; k++)
                if (strcmp(t->c[k].dname, dn) == 0) /* names alike in their first 40 */
                    snprintf(dn, sizeof(dn), "ecs-%.40s-%ld-%.40s-%d-%s", str(td, "family"), rev,
                             str(jc, "name"), t->n, tid);
            memcpy(c->dname, dn, sizeof(dn));
        }
        util_random_hex(c->meta_id, 16);
        c->exit_code = -1;
        c->health = "UNKNOWN";
        t->n++;
    }
    if (task_cgroup_for(cfg, task, t, reason, rlen) != SL_OK)
        goto fail;
    for (i = 0; i < (size_t)t->n; i++)
        if (plan_container(cfg, task, td, t, &t->c[i], reason, rlen) != SL_OK)
            goto fail;
    if (has_cycle(t)) {
        refuse(reason, rlen, "CannotCreateContainerError: dependsOn forms a cycle");
        goto fail;
    }
    return SL_OK;
fail:
    dk_plan_free(t);
    return SL_ERR;
}

void dk_plan_free(struct dk_task *t)
{
    int i;

    for (i = 0; i < t->n; i++) {
        json_decref(t->c[i].create);
        t->c[i].create = NULL;
    }
    json_decref(t->volumes);
    t->volumes = NULL;
}
