/*
 * opts.c - sluice-proxy's options.
 */
#include "proxy/opts.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/accesslog.h"
#include "proxy/conn.h"
#include "version.h"

void px_opts_usage(FILE *f)
{
    fputs("usage: sluice-proxy --control-plane URL [options]\n"
          "The data plane of sluice: serves the listeners, rules and targets that the control\n"
          "plane (sluiced) holds, following its change feed; reports target health back.\n"
          "  --control-plane URL    sluiced to follow: http://HOST:PORT or https://HOST:PORT\n"
          "                         (required); a token in plain HTTP to an address that\n"
          "                         is not loopback is warned about\n"
          "  --ca FILE              https: the CA bundle the control plane's certificate\n"
          "                         is verified against (default the system's store)\n"
          "  --id NAME              this proxy's name in reports (default HOSTNAME-PID)\n"
          "  --credentials FILE     AWS-style credentials file holding the sluice_api_token\n"
          "                         to subscribe with, when sluiced requires one\n"
          "  --bind-address ADDR    address every listener binds (default 0.0.0.0 for\n"
          "                         internet-facing load balancers, 127.0.0.1 for internal)\n"
          "  --workers N            worker threads, each with its own listening sockets\n"
          "                         (SO_REUSEPORT), 1-64 (default 1)\n"
          "  --max-connections N    client connections open at once over all workers; at\n"
          "                         the cap new connections wait in the listen backlog until\n"
          "                         one closes (default: what the open-file limit allows,\n"
          "                         two descriptors per connection; more is refused)\n"
          "  --header-timeout SEC   a request head must arrive within SEC seconds, counted\n"
          "                         from accept for a new connection and from the first\n"
          "                         byte on a kept-alive one (default 10; fractions allowed)\n"
          "  --stop-grace SEC       on SIGTERM/SIGINT, requests in flight may finish for SEC\n"
          "                         seconds before what is left is closed (default 30)\n"
          "  --log-level LEVEL      debug|info|warn|error (default info)\n"
          "  --log-format FORMAT    text|json (default text)\n"
          "  --metrics-listen HOST:PORT\n"
          "                         serve GET /metrics (Prometheus text) there (default off)\n"
          "  --access-log-dir DIR   where load balancers' access logs are written, one tree\n"
          "                         per S3 bucket and prefix (default ./access-logs)\n"
          "  --access-log-rotate SEC\n"
          "                         a new access log file every SEC whole seconds\n"
          "                         (default 300, as ALB)\n"
          "  --version              print the version and exit\n"
          "  --help                 print this help and exit\n"
          "The open-file soft limit is raised to the hard limit at start.\n",
          f);
}

void px_opts_version(FILE *f)
{
    fprintf(f, "sluice-proxy %s\n", SLUICE_VERSION);
}

/* Seconds (fractions allowed) in [<min>, <max>] into *ms.  0 or SL_EINVAL. */
static int seconds_arg(const char *v, double min, double max, int *ms)
{
    char *end;
    double sec = strtod(v, &end);

    if (*v == '\0' || *end != '\0' || !(sec >= min && sec <= max))
        return SL_EINVAL;
    *ms = (int)(sec * 1000 + 0.5);
    return SL_OK;
}

/* A decimal integer in [<min>, <max>].  0 or SL_EINVAL. */
static int int_arg(const char *v, long min, long max, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);

    if (*v == '\0' || *end != '\0' || n < min || n > max)
        return SL_EINVAL;
    *out = n;
    return SL_OK;
}

static int bad(char *why, size_t cap, const char *opt, const char *want)
{
    snprintf(why, cap, "%s %s", opt, want);
    return SL_EINVAL;
}

/* One option and its value <v> (NULL when it was the last argument). */
static int one(struct px_opts *o, const char *a, const char *v, char *why, size_t cap)
{
    long n;

    if (v == NULL)
        return bad(why, cap, a, "needs a value");
    if (strcmp(a, "--control-plane") == 0) {
        o->url = v;
        if (px_cp_parse_url(v, &o->cfg) != SL_OK)
            return bad(why, cap, a, "must be http://HOST:PORT or https://HOST:PORT");
    } else if (strcmp(a, "--id") == 0) {
        if (*v == '\0' || strlen(v) >= sizeof(o->cfg.proxy_id))
            return bad(why, cap, a, "must be 1-128 characters");
        snprintf(o->cfg.proxy_id, sizeof(o->cfg.proxy_id), "%s", v);
    } else if (strcmp(a, "--ca") == 0) {
        o->ca = v;
    } else if (strcmp(a, "--log-format") == 0) {
        if (log_parse_format(v) < 0)
            return bad(why, cap, a, "must be text or json");
        log_set_format(log_parse_format(v));
    } else if (strcmp(a, "--metrics-listen") == 0) {
        o->metrics_listen = v;
    } else if (strcmp(a, "--access-log-dir") == 0) {
        if (*v == '\0')
            return bad(why, cap, a, "must be a directory");
        o->log_dir = v;
    } else if (strcmp(a, "--access-log-rotate") == 0) {
        if (seconds_arg(v, 1, 86400, &o->log_rotate_ms) != SL_OK || o->log_rotate_ms % 1000 != 0)
            return bad(why, cap, a, "must be whole seconds, 1-86400");
    } else if (strcmp(a, "--credentials") == 0) {
        o->creds = v;
    } else if (strcmp(a, "--bind-address") == 0) {
        o->bind = v;
    } else if (strcmp(a, "--workers") == 0) {
        if (int_arg(v, 1, PX_MAX_WORKERS, &n) != SL_OK)
            return bad(why, cap, a, "must be 1-64");
        o->workers = (int)n;
    } else if (strcmp(a, "--max-connections") == 0) {
        if (int_arg(v, 1, 100000000, &n) != SL_OK)
            return bad(why, cap, a, "must be a number of connections, 1 or more");
        o->max_conns = n;
    } else if (strcmp(a, "--header-timeout") == 0) {
        if (seconds_arg(v, 0.001, 3600, &o->head_timeout_ms) != SL_OK)
            return bad(why, cap, a, "must be seconds, 0.001-3600");
    } else if (strcmp(a, "--stop-grace") == 0) {
        if (seconds_arg(v, 0, 3600, &o->grace_ms) != SL_OK)
            return bad(why, cap, a, "must be seconds, 0-3600");
    } else if (strcmp(a, "--log-level") == 0) {
        if (log_parse_level(v) < 0)
            return bad(why, cap, a, "must be debug, info, warn or error");
        log_set_level(log_parse_level(v));
    } else {
        snprintf(why, cap, "unknown option '%s'", a);
        return SL_EINVAL;
    }
    return SL_OK;
}

int px_opts_parse(int argc, char **argv, struct px_opts *o, char *why, size_t cap)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->workers = 1;
    o->head_timeout_ms = PX_HEAD_TIMEOUT_MS;
    o->grace_ms = 30000;
    o->log_dir = "access-logs";
    o->log_rotate_ms = PXA_ROTATE_S * 1000;
    why[0] = '\0';
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return PX_OPTS_HELP;
        if (strcmp(a, "--version") == 0)
            return PX_OPTS_VERSION;
    }
    for (i = 1; i < argc; i += 2)
        if (one(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL, why, cap) != SL_OK)
            return SL_EINVAL;
    if (o->url == NULL) {
        snprintf(why, cap, "--control-plane is required");
        return SL_EINVAL;
    }
    return SL_OK;
}
