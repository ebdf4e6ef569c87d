/*
 * health.c - the target-health registry: a chained hash table of C structs
 * under one mutex.
 */
#include "routes/elbv2/health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "routes/elbv2/lbstate.h"

struct entry {
    struct entry *next;
    uint64_t hash;
    struct elb_health_report r;
    char key[]; /* NUL-terminated */
};

struct elb_health {
    pthread_mutex_t mu;
    struct entry **slots;
    size_t nslots; /* a power of two */
    size_t count;
    struct elb_lbstate *lbs; /* impaired load balancers, lbstate.h */
};

#define INITIAL_SLOTS 64

static const char *const state_names[] = {
    [ELB_TS_INITIAL] = "initial", [ELB_TS_HEALTHY] = "healthy",
    [ELB_TS_UNHEALTHY] = "unhealthy", [ELB_TS_UNUSED] = "unused",
    [ELB_TS_DRAINING] = "draining", [ELB_TS_UNAVAILABLE] = "unavailable",
};

static const char *const reason_names[] = {
    [ELB_R_NONE] = "",
    [ELB_R_REGISTRATION_IN_PROGRESS] = "Elb.RegistrationInProgress",
    [ELB_R_INITIAL_HEALTH_CHECKING] = "Elb.InitialHealthChecking",
    [ELB_R_RESPONSE_CODE_MISMATCH] = "Target.ResponseCodeMismatch",
    [ELB_R_TIMEOUT] = "Target.Timeout",
    [ELB_R_FAILED_HEALTH_CHECKS] = "Target.FailedHealthChecks",
    [ELB_R_NOT_REGISTERED] = "Target.NotRegistered",
    [ELB_R_NOT_IN_USE] = "Target.NotInUse",
    [ELB_R_DEREGISTRATION_IN_PROGRESS] = "Target.DeregistrationInProgress",
    [ELB_R_INVALID_STATE] = "Target.InvalidState",
    [ELB_R_IP_UNUSABLE] = "Target.IpUnusable",
    [ELB_R_HEALTH_CHECK_DISABLED] = "Target.HealthCheckDisabled",
    [ELB_R_INTERNAL_ERROR] = "Elb.InternalError",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *elb_target_state_name(enum elb_target_state s)
{
    return (size_t)s < NELEM(state_names) ? state_names[s] : "initial";
}

const char *elb_reason_name(enum elb_reason r)
{
    return (size_t)r < NELEM(reason_names) ? reason_names[r] : "";
}

int elb_target_state_parse(const char *s, enum elb_target_state *out)
{
    size_t i;

    for (i = 0; i < NELEM(state_names); i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (enum elb_target_state)i;
            return SL_OK;
        }
    return SL_EINVAL;
}

int elb_reason_parse(const char *s, enum elb_reason *out)
{
    size_t i;

    for (i = 0; i < NELEM(reason_names); i++)
        if (strcmp(s, reason_names[i]) == 0) {
            *out = (enum elb_reason)i;
            return SL_OK;
        }
    return SL_EINVAL;
}

/* FNV-1a: keys are short and not chosen to collide (only known targets get
 * in), so a simple hash is enough. */
static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int elb_health_new(struct elb_health **out)
{
    struct elb_health *h = calloc(1, sizeof(*h));

    if (h == NULL || (h->slots = calloc(INITIAL_SLOTS, sizeof(*h->slots))) == NULL ||
        elb_lbstate_new(&h->lbs) != SL_OK) {
        if (h)
            free(h->slots);
        free(h);
        return SL_ENOMEM;
    }
    h->nslots = INITIAL_SLOTS;
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return SL_OK;
}

void elb_health_free(struct elb_health *h)
{
    size_t i;

    if (h == NULL)
        return;
    for (i = 0; i < h->nslots; i++) {
        struct entry *e = h->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(h->slots);
    elb_lbstate_free(h->lbs);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

struct elb_lbstate *elb_health_lbstate(struct elb_health *h)
{
    return h ? h->lbs : NULL;
}

/* The link that points at <key>'s entry (or the slot's last link). */
static struct entry **find(struct elb_health *h, const char *key, uint64_t hash)
{
    struct entry **p = &h->slots[hash & (h->nslots - 1)];

    for (; *p; p = &(*p)->next)
        if ((*p)->hash == hash && strcmp((*p)->key, key) == 0)
            break;
    return p;
}

/* Double the table when it averages more than one entry a slot; a failed
 * allocation keeps the old table (only slower). */
static void grow(struct elb_health *h)
{
    size_t n = h->nslots * 2, i;
    struct entry **slots;

    if (h->count <= h->nslots || (slots = calloc(n, sizeof(*slots))) == NULL)
        return;
    for (i = 0; i < h->nslots; i++) {
        struct entry *e = h->slots[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = slots[e->hash & (n - 1)];
            slots[e->hash & (n - 1)] = e;
        }
    }
    free(h->slots);
    h->slots = slots;
    h->nslots = n;
}

int elb_health_set(struct elb_health *h, const char *key, const struct elb_health_report *r)
{
    uint64_t hash = hash_key(key);
    size_t len = strlen(key);
    struct entry **p, *e;

    pthread_mutex_lock(&h->mu);
    p = find(h, key, hash);
    if (*p == NULL) {
        if ((e = malloc(sizeof(*e) + len + 1)) == NULL) {
            pthread_mutex_unlock(&h->mu);
            return SL_ENOMEM;
        }
        e->next = NULL;
        e->hash = hash;
        memcpy(e->key, key, len + 1);
        *p = e;
        h->count++;
        e->r = *r;
        grow(h);
    } else {
        (*p)->r = *r;
    }
    pthread_mutex_unlock(&h->mu);
    return SL_OK;
}

int elb_health_update(struct elb_health *h, const char *key, const struct elb_health_report *r)
{
    struct entry **p;
    int rc = SL_ENOTFOUND;

    pthread_mutex_lock(&h->mu);
    p = find(h, key, hash_key(key));
    if (*p) {
        (*p)->r = *r;
        rc = SL_OK;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int elb_health_get(struct elb_health *h, const char *key, struct elb_health_report *out)
{
    struct entry **p;
    int rc = SL_ENOTFOUND;

    if (h == NULL)
        return SL_ENOTFOUND;
    pthread_mutex_lock(&h->mu);
    p = find(h, key, hash_key(key));
    if (*p) {
        *out = (*p)->r;
        rc = SL_OK;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void elb_health_forget(struct elb_health *h, const char *key)
{
    struct entry **p, *e;

    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    p = find(h, key, hash_key(key));
    if ((e = *p) != NULL) {
        *p = e->next;
        h->count--;
        free(e);
    }
    pthread_mutex_unlock(&h->mu);
}

int elb_health_keys(struct elb_health *h, void (*cb)(const char *key, void *arg), void *arg)
{
    char **keys;
    size_t n = 0, i;

    pthread_mutex_lock(&h->mu);
    keys = calloc(h->count ? h->count : 1, sizeof(*keys));
    if (keys == NULL) {
        pthread_mutex_unlock(&h->mu);
        return SL_ENOMEM;
    }
    for (i = 0; i < h->nslots; i++) {
        struct entry *e;
        for (e = h->slots[i]; e; e = e->next)
            if ((keys[n] = strdup(e->key)) != NULL)
                n++;
    }
    pthread_mutex_unlock(&h->mu);
    for (i = 0; i < n; i++) {
        cb(keys[i], arg);
        free(keys[i]);
    }
    free(keys);
    return SL_OK;
}

size_t elb_health_count(struct elb_health *h)
{
    size_t n;

    pthread_mutex_lock(&h->mu);
    n = h->count;
    pthread_mutex_unlock(&h->mu);
    return n;
}
