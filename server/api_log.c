/*
 * api_log.c - the API's log line and its counters (api_log.h).
 */
#include "server/api_log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "routes/api/rest.h"
#include "server/metrics.h"

#define ROUTE_SEGS 8

/* Path words kept in a route's label besides the REST collections. */
static const char *const words[] = {"v1",    "health",     "dataplane", "snapshot", "watch",
                                    "report", "targets",   "ecs",       "clusters", "tasks",
                                    "services", "containers", "logs",    "ui",       "api",
                                    "state",  "events",    NULL};

static int known_word(const char *s, size_t n)
{
    const struct rest_kind *k;
    size_t i;

    for (i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
            return 1;
    for (k = rest_kinds; k->path; k++)
        if (strlen(k->path) == n && memcmp(k->path, s, n) == 0)
            return 1;
    return 0;
}

static const char *method_label(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                        "OPTIONS", NULL};
    size_t i;

    for (i = 0; known[i]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "OTHER";
}

/* "/v1/target-groups/abc/targets" -> "/v1/target-groups/{id}/targets". */
static void route(const char *url, char *out, size_t cap)
{
    static const char *const exact[] = {"/", "/healthz", "/openapi.json", "/metrics", "/ui",
                                        NULL};
    const char *p = url;
    size_t len = 0, i;
    int nseg = 0;

    for (i = 0; exact[i]; i++)
        if (strcmp(url, exact[i]) == 0) {
            snprintf(out, cap, "%s", exact[i]);
            return;
        }
    if (strncmp(url, "/v1/", 4) != 0 && strncmp(url, "/ui/", 4) != 0) {
        snprintf(out, cap, "(other path)");
        return;
    }
    if (strncmp(url, "/ui/", 4) == 0 && strncmp(url, "/ui/api/", 8) != 0) {
        snprintf(out, cap, "/ui/(asset)");
        return;
    }
    out[0] = '\0';
    while (*p == '/' && nseg < ROUTE_SEGS) {
        size_t n = strcspn(p + 1, "/");
        /* an empty segment (a trailing '/') stays empty */
        const char *seg = n == 0 || known_word(p + 1, n) ? p + 1 : "{id}";
        size_t sl = seg == p + 1 ? n : 4;
        if (len + sl + 2 >= cap)
            break;
        out[len++] = '/';
        memcpy(out + len, seg, sl);
        len += sl;
        out[len] = '\0';
        p += 1 + n;
        nseg++;
    }
    if (*p != '\0' && len + 5 < cap)
        snprintf(out + len, cap - len, "/...");
}

void api_log_label(const struct api_log_req *r, char *out, size_t cap)
{
    char path[128];
    size_t n;

    if (r->action) {
        snprintf(out, cap, "%s", r->action);
        return;
    }
    if (r->aws_door) {
        snprintf(out, cap, "POST / (unknown action)");
        return;
    }
    route(r->url, path, sizeof(path));
    n = (size_t)snprintf(out, cap, "%s %s", method_label(r->method), path);
    if (n >= cap && cap > 0)
        out[cap - 1] = '\0';
}

uint64_t api_log_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The data plane's polling, the scrapes and the dashboard: debug. */
static int quiet(const char *url)
{
    return strncmp(url, "/v1/dataplane/", 14) == 0 || strcmp(url, "/metrics") == 0 ||
           strcmp(url, "/ui") == 0 || strncmp(url, "/ui/", 4) == 0 ||
           strcmp(url, "/healthz") == 0 || strcmp(url, "/openapi.json") == 0;
}

void api_log_request(struct srv_metrics *m, const struct api_log_req *r)
{
    int level = quiet(r->url) ? LOG_DEBUG : LOG_INFO;
    const char *who = r->principal && r->principal[0] ? r->principal : NULL;
    char label[160];

    api_log_label(r, label, sizeof(label));
    metrics_api_observe(m, label, r->status, r->us);
    if (log_enabled(level)) {
        struct log_field f[] = {LOG_S("action", label),      LOG_I("status", r->status),
                                LOG_F("duration_ms", r->us / 1e3), LOG_S("principal", who),
                                LOG_S("request_id", r->request_id), LOG_S("method", r->method),
                                LOG_S("path", r->url)};
        log_event(level, f, sizeof(f) / sizeof(f[0]), "%s %d %.1f ms principal %s request %s",
                  label, r->status, r->us / 1e3, who ? who : "-", r->request_id);
    }
}
