/*
 * sub.c - snapshot + watch client.
 */
#include "proxy/sub.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "proxy/apply.h"
#include "proxy/ev.h"
#include "proxy/table.h"

/* Results of one watch session. */
enum { W_ENDED, W_LOST, W_GONE, W_REFUSED };

struct px_sub {
    struct px_cp_cfg cfg;
    void (*on_table)(void *);
    void *arg;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    int fd; /* current stream socket, -1 when none (guarded by mu) */
    _Atomic uint64_t applied;
    struct px_apply *feed;
};

static int stopping(struct px_sub *s)
{
    int v;

    pthread_mutex_lock(&s->mu);
    v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Sleep up to <ms> unless stopped; returns 1 when stopping. */
static int nap(struct px_sub *s, uint64_t ms)
{
    struct timespec ts;
    int v;

    util_deadline(&ts, ms);
    pthread_mutex_lock(&s->mu);
    if (!s->stop)
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    v = s->stop;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Build and publish the table when the model changed; the applied revision
 * moves to what is complete either way. */
static void publish(struct px_sub *s)
{
    uint64_t t0 = ev_mono_ms();
    struct px_table *t;
    int rc = px_apply_commit(s->feed, &t);

    if (rc < 0) {
        log_error("sub: building the table at revision %llu failed (out of memory)",
                  (unsigned long long)px_apply_done(s->feed));
        return;
    }
    if (rc > 0) {
        px_table_publish(t);
        log_debug("sub: applied revision %llu in %llu ms",
                  (unsigned long long)px_apply_done(s->feed),
                  (unsigned long long)(ev_mono_ms() - t0));
    }
    atomic_store(&s->applied, px_apply_done(s->feed));
    if (rc > 0 && s->on_table)
        s->on_table(s->arg);
}

static int load_snapshot(struct px_sub *s)
{
    struct sl_err err = {0};
    char *body = NULL;
    size_t n;
    int status, rc;

    if (px_cp_request(&s->cfg, "GET", "/v1/dataplane/snapshot", NULL, &status, &body, &n) !=
        SL_OK)
        return SL_EIO;
    if (status != 200) {
        if (status == 401 || status == 403)
            log_error("sub: the control plane refused our credentials (HTTP %d): "
                      "check the sluice_api_token in --credentials",
                      status);
        else
            log_warn("sub: snapshot failed (HTTP %d)", status);
        free(body);
        return SL_EIO;
    }
    rc = px_apply_snapshot(s->feed, body, n, &err);
    free(body);
    if (rc != SL_OK) {
        log_error("sub: snapshot refused, keeping the last table: %s", err.message);
        return rc;
    }
    publish(s); /* a snapshot always makes a table, an empty one too */
    return SL_OK;
}

/* Split what a read delivered into lines, applying each whole one.  SL_OK,
 * W_GONE when the stream says the change log moved on, W_REFUSED when a
 * line is refused (logged), SL_ENOMEM. */
static int feed_bytes(struct px_sub *s, const char *d, size_t n, char **line, size_t *llen,
                      size_t *lcap)
{
    const char *p = d, *end = d + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t take = (size_t)((nl ? nl : end) - p);
        struct sl_err err = {0};
        int rc;
        if (*llen + take + 1 > *lcap) {
            size_t nc = (*llen + take + 1) * 2;
            char *nb = realloc(*line, nc);
            if (nb == NULL) {
                log_error("sub: out of memory for a watch line; re-reading the snapshot");
                return SL_ENOMEM;
            }
            *line = nb;
            *lcap = nc;
        }
        memcpy(*line + *llen, p, take);
        *llen += take;
        p += take;
        if (nl == NULL)
            break;
        p++;
        rc = px_apply_line(s->feed, *line, *llen, &err);
        *llen = 0;
        if (rc == PX_APPLY_GONE)
            return W_GONE;
        if (rc < 0) {
            log_error("sub: watch record refused, re-reading the snapshot: %s", err.message);
            return W_REFUSED;
        }
    }
    return SL_OK;
}

/* One watch session: W_ENDED, W_LOST, W_GONE or W_REFUSED. */
static int watch(struct px_sub *s)
{
    struct px_cp_resp rs;
    char path[96];
    char *line = NULL;
    size_t llen = 0, lcap = 0, n;
    int ret = W_LOST, rc;
    const char *d;

    snprintf(path, sizeof(path), "/v1/dataplane/watch?since=%llu",
             (unsigned long long)px_apply_done(s->feed));
    /* heartbeats come every 5 s: three missed ones mean a dead stream */
    if (px_cp_open(&s->cfg, 3 * 5 + 5, "GET", path, NULL, &rs) != SL_OK)
        return W_LOST;
    pthread_mutex_lock(&s->mu);
    s->fd = rs.fd;
    pthread_mutex_unlock(&s->mu);
    if (px_cp_read_head(&rs) != SL_OK)
        goto out;
    if (rs.r.status == 410) {
        ret = W_GONE;
        goto out;
    }
    if (rs.r.status != 200) {
        log_warn("sub: watch answered HTTP %d", rs.r.status);
        goto out;
    }
    log_info("sub: watching from revision %llu", (unsigned long long)px_apply_done(s->feed));
    while ((rc = px_cp_read_body(&rs, &d, &n)) > 0) {
        rc = feed_bytes(s, d, n, &line, &llen, &lcap);
        /* A batch is what one read delivered: every whole revision in it
         * goes into one table. */
        publish(s);
        if (rc == W_GONE || rc == W_REFUSED || rc == SL_ENOMEM) {
            ret = rc == W_GONE ? W_GONE : W_REFUSED;
            goto out;
        }
        if (stopping(s))
            break;
    }
    ret = W_ENDED;
out:
    pthread_mutex_lock(&s->mu);
    s->fd = -1;
    pthread_mutex_unlock(&s->mu);
    px_cp_resp_close(&rs);
    free(line);
    return ret;
}

static uint64_t jitter(uint64_t backoff)
{
    return backoff / 2 + (uint64_t)rand() % (backoff / 2 + 1);
}

static void *sub_main(void *arg)
{
    struct px_sub *s = arg;
    uint64_t backoff = 100;
    int need_snapshot = 1;

    while (!stopping(s)) {
        int rc;
        if (need_snapshot) {
            if (load_snapshot(s) != SL_OK) {
                if (nap(s, jitter(backoff)))
                    break;
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            need_snapshot = 0;
            backoff = 100;
        }
        rc = watch(s);
        if (rc == W_GONE || rc == W_REFUSED) {
            if (rc == W_GONE)
                log_info("sub: revision gone from the change log; re-reading snapshot");
            need_snapshot = 1;
            continue;
        }
        if (stopping(s))
            break;
        log_warn("sub: watch stream lost; keeping the last table, retrying");
        if (nap(s, jitter(backoff)))
            break;
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        if (rc == W_ENDED)
            backoff = 100;
    }
    return NULL;
}

int px_sub_start(const struct px_cp_cfg *cfg, void (*on_table)(void *), void *arg,
                 struct px_sub **out)
{
    struct px_sub *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return SL_ENOMEM;
    if (px_apply_new(&s->feed) != SL_OK) {
        free(s);
        return SL_ENOMEM;
    }
    s->cfg = *cfg;
    s->on_table = on_table;
    s->arg = arg;
    s->fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, sub_main, s) != 0) {
        px_apply_free(s->feed);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return SL_ERR;
    }
    *out = s;
    return SL_OK;
}

void px_sub_stop(struct px_sub *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    px_cp_abort(s->fd);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    px_apply_free(s->feed);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

uint64_t px_sub_applied(void *arg)
{
    struct px_sub *s = arg;

    return atomic_load(&s->applied);
}
