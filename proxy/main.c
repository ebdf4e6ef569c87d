/*
 * main.c - sluice-proxy: the data plane process.
 *
 *   sluice-proxy --control-plane http[s]://HOST:PORT [--ca FILE] [--id NAME]
 *                [--credentials FILE] [--bind-address ADDR] [--workers N]
 *                [--log-level debug|info|warn|error] [--log-format text|json]
 *                [--header-timeout SECONDS] [--stop-grace SECONDS]
 *                [--metrics-listen HOST:PORT] [--access-log-dir DIR]
 *                [--access-log-rotate SECONDS]
 *
 * With https:// the control plane's certificate is verified against --ca
 * (sluiced's --tls-cert, or the CA that signed it) or the system's trust
 * store.  A token sent in plain HTTP to an address that is not loopback is
 * warned about.
 *
 * SIGTERM/SIGINT stop gracefully: listeners close, requests in flight finish
 * for up to --stop-grace seconds (default 30), then what is left is closed,
 * and the access logs are written out (every line of a clean stop).
 */
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/creds.h"
#include "common/err.h"
#include "common/log.h"
#include "proxy/accesslog.h"
#include "proxy/health.h"
#include "proxy/metrics.h"
#include "proxy/metrics_http.h"
#include "proxy/report.h"
#include "proxy/sub.h"
#include "proxy/table.h"
#include "proxy/worker.h"

static struct px_worker *workers[PX_MAX_WORKERS];
static int nworkers;
static struct px_health *health;

static void on_table(void *arg)
{
    int i;

    for (i = 0; i < nworkers; i++)
        px_worker_wake(workers[i]);
    px_health_wake(health);
}

/* The bearer token to subscribe with: the one sluiced hands its co-process
 * in SLUICE_PROXY_TOKEN, else the proxy's section of --credentials (role
 * proxy first; common/creds.h reads the file as sluiced does).  SL_OK, or
 * SL_ERR with the reason printed. */
static int load_token(const char *path, char *out, size_t cap)
{
    const struct creds_entry *e;
    const char *env = getenv("SLUICE_PROXY_TOKEN");
    struct creds *c;
    char err[512], warn[512];

    if (env && *env && path == NULL) {
        snprintf(out, cap, "%s", env);
        unsetenv("SLUICE_PROXY_TOKEN");
        return SL_OK;
    }
    if (path == NULL)
        return SL_OK;
    if (creds_load(path, &c, err, sizeof(err), warn, sizeof(warn)) != SL_OK) {
        fprintf(stderr, "sluice-proxy: --credentials: %s\n", err);
        return SL_ERR;
    }
    if (warn[0])
        log_warn("--credentials: %s", warn);
    if ((e = creds_proxy_entry(c)) == NULL || strlen(e->token) >= cap) {
        fprintf(stderr, "sluice-proxy: --credentials: %s: no section has a sluice_api_token\n",
                path);
        creds_free(c);
        return SL_ERR;
    }
    if (e->role != CREDS_ROLE_PROXY)
        log_warn("--credentials: section [%s] is not marked sluice_role = proxy: sluiced "
                 "refuses its reports",
                 e->profile);
    snprintf(out, cap, "%s", e->token);
    creds_free(c);
    return SL_OK;
}

/* Started by sluiced as its co-process (SLUICE_PARENT_PID set): die with it,
 * so a sluiced killed with SIGKILL leaves no orphan holding the listener
 * ports; the restarted sluiced starts a fresh proxy. */
static void exit_with_supervisor(void)
{
    const char *p = getenv("SLUICE_PARENT_PID");

    if (p == NULL)
        return;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != (pid_t)atol(p))
        exit(0); /* the parent died before prctl() took effect */
}

static void usage(void)
{
    fprintf(stderr, "usage: sluice-proxy --control-plane http[s]://HOST:PORT [--ca FILE] [--id NAME] "
                    "[--credentials FILE] [--bind-address ADDR] [--workers N] "
                    "[--log-level L] [--log-format text|json] [--header-timeout SECONDS] "
                    "[--stop-grace SECONDS] [--metrics-listen HOST:PORT] [--access-log-dir DIR] "
                    "[--access-log-rotate SECONDS]\n");
}

struct opts {
    struct px_cp_cfg cfg;
    const char *url, *creds, *bind, *ca;
    int workers;
    int head_timeout_ms; /* 0: the default */
    int grace_ms;
    const char *metrics_listen; /* NULL: no scrape endpoint */
    const char *log_dir;
    int log_rotate_ms;
};

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

/* SL_OK, or a failure with *<exit_code> the status to exit with (0 for
 * --help, 2 for bad usage). */
static int parse_args(int argc, char **argv, struct opts *o, int *exit_code)
{
    int i;

    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *exit_code = 0;
            return SL_ERR;
        }
        if (v == NULL)
            bad = 1;
        else if (strcmp(a, "--control-plane") == 0)
            o->url = v;
        else if (strcmp(a, "--id") == 0)
            snprintf(o->cfg.proxy_id, sizeof(o->cfg.proxy_id), "%s", v);
        else if (strcmp(a, "--credentials") == 0)
            o->creds = v;
        else if (strcmp(a, "--ca") == 0) /* https: the control plane's CA bundle */
            o->ca = v;
        else if (strcmp(a, "--bind-address") == 0)
            o->bind = v;
        else if (strcmp(a, "--workers") == 0)
            o->workers = atoi(v);
        else if (strcmp(a, "--header-timeout") == 0) /* a whole request head; default 10 */
            bad = seconds_arg(v, 0.001, 3600, &o->head_timeout_ms) != SL_OK;
        else if (strcmp(a, "--stop-grace") == 0) /* requests in flight at SIGTERM; default 30 */
            bad = seconds_arg(v, 0, 3600, &o->grace_ms) != SL_OK;
        else if (strcmp(a, "--log-level") == 0 && log_parse_level(v) >= 0)
            log_set_level(log_parse_level(v));
        else if (strcmp(a, "--log-format") == 0 && log_parse_format(v) >= 0)
            log_set_format(log_parse_format(v));
        else if (strcmp(a, "--metrics-listen") == 0)
            o->metrics_listen = v;
        else if (strcmp(a, "--access-log-dir") == 0 && *v)
            o->log_dir = v;
        else if (strcmp(a, "--access-log-rotate") == 0) /* whole seconds; default 300 */
            bad = seconds_arg(v, 1, 86400, &o->log_rotate_ms) != SL_OK ||
                  o->log_rotate_ms % 1000 != 0;
        else
            bad = 1;
        if (bad) {
            *exit_code = 2;
            return SL_EINVAL;
        }
    }
    if (o->url == NULL || px_cp_parse_url(o->url, &o->cfg) != SL_OK || o->workers < 1 ||
        o->workers > PX_MAX_WORKERS) {
        *exit_code = 2;
        return SL_EINVAL;
    }
    return SL_OK;
}

int main(int argc, char **argv)
{
    struct opts o = {.workers = 1, .grace_ms = 30000, .log_dir = "access-logs",
                     .log_rotate_ms = PXA_ROTATE_S * 1000};
    struct px_sub *sub = NULL;
    struct px_report *rep = NULL;
    struct pxm_http *mh = NULL;
    struct sl_err err = {0};
    sigset_t set;
    int i, sig, code = 0;

    log_set_name("sluice-proxy");
    exit_with_supervisor();
    if (parse_args(argc, argv, &o, &code) != SL_OK) {
        usage();
        return code;
    }
    if (load_token(o.creds, o.cfg.token, sizeof(o.cfg.token)) != SL_OK)
        return 2;
    if (o.cfg.tls) {
        if (px_cp_tls_init(&o.cfg, o.ca, &err) != SL_OK) {
            fprintf(stderr, "sluice-proxy: %s\n", err.message);
            return 2;
        }
    } else if (o.ca) {
        fprintf(stderr, "sluice-proxy: --ca needs an https:// control plane\n");
        return 2;
    } else if (o.cfg.token[0] && !px_cp_host_is_loopback(o.cfg.host))
        log_warn("the API token goes to %s in plain HTTP: anyone on the path can read it; "
                 "use --control-plane https://%s:PORT (sluiced --tls-cert/--tls-key)",
                 o.cfg.host, o.cfg.host);
    if (o.cfg.proxy_id[0] == '\0') {
        char host[64] = "proxy";
        gethostname(host, sizeof(host) - 1);
        snprintf(o.cfg.proxy_id, sizeof(o.cfg.proxy_id), "%s-%d", host, (int)getpid());
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit: only main waits */
    srand((unsigned)getpid());
    pxm_init(o.workers);
    if (pxa_start(o.log_dir, o.log_rotate_ms / 1000, o.workers, o.bind) != SL_OK) {
        fprintf(stderr, "sluice-proxy: cannot start the access log writer\n");
        return 1;
    }
    for (i = 0; i < o.workers; i++)
        if (px_worker_start(i, o.bind, o.head_timeout_ms, &workers[nworkers]) == SL_OK)
            nworkers++;
    if (nworkers == 0 || px_health_start(&health) != SL_OK ||
        px_sub_start(&o.cfg, on_table, NULL, &sub) != SL_OK ||
        px_report_start(&o.cfg, px_sub_applied, sub, &rep) != SL_OK) {
        fprintf(stderr, "sluice-proxy: start-up failed\n");
        return 1;
    }
    if (o.metrics_listen &&
        pxm_http_start(o.metrics_listen, px_sub_applied, sub, &mh, &err) != SL_OK) {
        fprintf(stderr, "sluice-proxy: %s\n", err.message);
        return err.status == 400 ? 2 : 1;
    }
    if (mh)
        log_info("metrics on %s (port %d)", o.metrics_listen, pxm_http_port(mh));
    log_info("proxy %s: %d worker(s), control plane %s://%s:%d", o.cfg.proxy_id, nworkers,
             o.cfg.tls ? "https" : "http", o.cfg.host, o.cfg.port);
    sigwait(&set, &sig);
    log_info("signal %d: stopping gracefully (up to %d ms for requests in flight)", sig,
             o.grace_ms);
    for (i = 0; i < nworkers; i++)
        px_worker_stop(workers[i], o.grace_ms);
    pxa_stop(); /* after the workers: their last lines are in the rings */
    pxm_http_stop(mh);
    px_health_stop(health);
    px_report_stop(rep);
    px_sub_stop(sub);
    px_table_publish(NULL);
    return 0;
}
