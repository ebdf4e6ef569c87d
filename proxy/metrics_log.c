/*
 * metrics_log.c - health transitions in words.
 */
#include "proxy/metrics_log.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

const char *pxm_reason_text(int reason, int status, char *desc, size_t cap)
{
    switch (reason) {
    case PX_R_REGISTERING:
        snprintf(desc, cap, "Target registration is in progress");
        return "Elb.RegistrationInProgress";
    case PX_R_TIMEOUT:
        snprintf(desc, cap, "Request timed out");
        return "Target.Timeout";
    case PX_R_MISMATCH:
        snprintf(desc, cap, "Health checks failed with these codes: [%d]", status);
        return "Target.ResponseCodeMismatch";
    case PX_R_FAILED:
        snprintf(desc, cap, "Health checks failed");
        return "Target.FailedHealthChecks";
    default:
        if (cap)
            desc[0] = '\0';
        return "";
    }
}

void pxm_log_health(const struct px_table *tab, int slot, const struct px_target *t, int state,
                    int reason)
{
    static const char *const states[] = {"initial", "healthy", "unhealthy", "unavailable"};
    const struct px_tg *g = tab ? px_table_slot(tab, slot) : NULL;
    char tg[PX_ARN_MAX], target[96], desc[96];
    const char *code = pxm_reason_text(reason, atomic_load(&t->status), desc, sizeof(desc)),
               *name, *st = states[state & 3];
    struct log_field f[5];

    pxm_arn_resource(g ? g->conf.arn : "", "", tg, sizeof(tg));
    /* "targetgroup/NAME/ID": the name is what a person gave it */
    name = strchr(tg, '/') ? strchr(tg, '/') + 1 : tg;
    snprintf(target, sizeof(target), "%s:%d", t->host, t->port);
    f[0] = (struct log_field)LOG_S("target_group", tg);
    f[1] = (struct log_field)LOG_S("target", target);
    f[2] = (struct log_field)LOG_S("state", st);
    f[3] = (struct log_field)LOG_S("reason", code);
    f[4] = (struct log_field)LOG_S("description", desc);
    if (code[0] && state != PX_H_HEALTHY)
        log_event(LOG_INFO, f, 5, "health: target group %.*s: target %s is %s: %s (%s)",
                  (int)strcspn(name, "/"), name, target, st, code, desc);
    else
        log_event(LOG_INFO, f, 5, "health: target group %.*s: target %s is %s",
                  (int)strcspn(name, "/"), name, target, st);
}
