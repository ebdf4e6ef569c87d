/*
 * health.h - target health as the data plane reports it.
 *
 * In memory only: health is a fact about the running proxies, re-reported
 * every few seconds, so it is not worth a durable write.  After a restart of
 * sluiced every target shows "initial" until the next report.
 * Thread-safe.  Keys are target object ids ("<tg id>|<Id>|<Port>").
 */
#ifndef SL_ROUTES_HEALTH_H
#define SL_ROUTES_HEALTH_H

#include <stdint.h>

#include "common/err.h"

struct health;

struct health_state {
    char state[16];        /* healthy | unhealthy | initial */
    char reason[48];       /* AWS reason code, empty for healthy */
    char description[160];
    uint64_t updated_ms;   /* monotonic */
};

int health_new(struct health **out);
void health_free(struct health *h);

/* Record the state of target <key>. */
void health_set(struct health *h, const char *key, const struct health_state *st);

/* Copy the state of <key> into *out; SL_ENOTFOUND when never reported or
 * when <h> is NULL. */
int health_lookup(struct health *h, const char *key, struct health_state *out);

#endif
