/*
 * lbstate.c - impaired load balancers per proxy: a short list each, under
 * one mutex (a handful of proxies, rarely more than a few entries).
 */
#include "routes/elbv2/lbstate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct reporter {
    char proxy_id[129];
    struct elb_lb_impaired *v;
    size_t n;
};

struct elb_lbstate {
    pthread_mutex_t mu;
    struct reporter *r;
    size_t n, cap;
};

int elb_lbstate_new(struct elb_lbstate **out)
{
    struct elb_lbstate *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return SL_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return SL_OK;
}

void elb_lbstate_free(struct elb_lbstate *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++)
        free(s->r[i].v);
    free(s->r);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Under the lock: proxy <id>'s slot, or -1. */
static long find(const struct elb_lbstate *s, const char *id)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->r[i].proxy_id, id) == 0)
            return (long)i;
    return -1;
}

static void drop(struct elb_lbstate *s, size_t i)
{
    free(s->r[i].v);
    s->r[i] = s->r[--s->n];
}

int elb_lbstate_report(struct elb_lbstate *s, const char *proxy_id,
                       const struct elb_lb_impaired *v, size_t n)
{
    struct elb_lb_impaired *copy = NULL;
    long i;

    if (s == NULL || proxy_id == NULL)
        return SL_OK;
    if (n > ELB_LBSTATE_PER_PROXY)
        n = ELB_LBSTATE_PER_PROXY;
    if (n > 0 && (copy = malloc(n * sizeof(*copy))) == NULL)
        return SL_ENOMEM;
    if (n > 0)
        memcpy(copy, v, n * sizeof(*copy));
    pthread_mutex_lock(&s->mu);
    i = find(s, proxy_id);
    if (n == 0) {
        if (i >= 0)
            drop(s, (size_t)i);
        pthread_mutex_unlock(&s->mu);
        return SL_OK;
    }
    if (i < 0) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 4;
            struct reporter *r = realloc(s->r, cap * sizeof(*r));
            if (r == NULL) {
                pthread_mutex_unlock(&s->mu);
                free(copy);
                return SL_ENOMEM;
            }
            s->r = r;
            s->cap = cap;
        }
        i = (long)s->n++;
        memset(&s->r[i], 0, sizeof(s->r[i]));
        strncpy(s->r[i].proxy_id, proxy_id, sizeof(s->r[i].proxy_id) - 1);
    }
    free(s->r[i].v);
    s->r[i].v = copy;
    s->r[i].n = n;
    pthread_mutex_unlock(&s->mu);
    return SL_OK;
}

void elb_lbstate_forget(struct elb_lbstate *s, const char *proxy_id)
{
    long i;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    if ((i = find(s, proxy_id)) >= 0)
        drop(s, (size_t)i);
    pthread_mutex_unlock(&s->mu);
}

void elb_lbstate_apply(struct elb_lbstate *s, json_t *lb)
{
    const char *arn = json_string_value(json_object_get(lb, "LoadBalancerArn"));
    json_t *st = json_object_get(lb, "State");
    const char *code = json_string_value(json_object_get(st, "Code"));
    char reason[ELB_LBSTATE_REASON_MAX] = "";
    size_t i, j;

    if (s == NULL || arn == NULL || code == NULL || strcmp(code, "active") != 0)
        return;
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->n && !reason[0]; i++)
        for (j = 0; j < s->r[i].n; j++)
            if (strcmp(s->r[i].v[j].arn, arn) == 0) {
                memcpy(reason, s->r[i].v[j].reason, sizeof(reason));
                break;
            }
    pthread_mutex_unlock(&s->mu);
    if (reason[0])
        json_object_set_new(lb, "State", json_pack("{ss ss}", "Code", "active_impaired",
                                                   "Reason", reason));
}
