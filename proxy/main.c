/*
 * main.c - sluice-proxy: the data plane process (options: opts.h, or
 * sluice-proxy --help).
 *
 * SIGTERM/SIGINT stop gracefully: listeners close, requests in flight finish
 * for up to --stop-grace seconds (default 30), then what is left is closed,
 * and the access logs are written out (every line of a clean stop).
 *
 * With https:// the control plane's certificate is verified against --ca
 * (sluiced's --tls-cert, or the CA that signed it) or the system's trust
 * store.  A token sent in plain HTTP to an address that is not loopback is
 * warned about.
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
#include "proxy/limits.h"
#include "proxy/metrics.h"
#include "proxy/metrics_http.h"
#include "proxy/opts.h"
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

/* Started by a sluiced run with --stop-proxy-on-exit (SLUICE_PARENT_PID
 * set): die with it, even when it is killed with SIGKILL.  Otherwise the
 * co-process outlives sluiced, serving its last table, and the next sluiced
 * takes it back (server/supervise.h). */
static void exit_with_supervisor(void)
{
    const char *p = getenv("SLUICE_PARENT_PID");

    if (p == NULL)
        return;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != (pid_t)atol(p))
        exit(0); /* the parent died before prctl() took effect */
}

/* The open-file limit raised, and the connection cap checked against it:
 * an explicit --max-connections the limit cannot hold is refused (exit
 * 2), the default is what it holds.  0, or SL_EINVAL (printed). */
static int budget(struct px_opts *o)
{
    long nofile = 0, was = 0, fit;

    if (px_limits_raise_nofile(&nofile, &was) != SL_OK) {
        fprintf(stderr, "sluice-proxy: cannot read the open-file limit\n");
        return SL_EINVAL;
    }
    fit = px_limits_conns_for(nofile);
    if (o->max_conns > fit) {
        fprintf(stderr,
                "sluice-proxy: --max-connections %ld needs %ld open files (two per connection "
                "and %d more), the limit is %ld: raise it (ulimit -n, LimitNOFILE=) or ask for "
                "at most %ld\n",
                o->max_conns, o->max_conns * 2 + PX_FD_RESERVE, PX_FD_RESERVE, nofile, fit);
        return SL_EINVAL;
    }
    if (o->max_conns == 0)
        o->max_conns = fit;
    log_info("open files: limit %ld%s; up to %ld client connections", nofile,
             was < nofile ? " (soft limit raised to the hard one)" : "", o->max_conns);
    return SL_OK;
}

int main(int argc, char **argv)
{
    static struct px_admit admit;
    struct px_opts o;
    struct px_worker_cfg wc;
    struct px_sub *sub = NULL;
    struct px_report *rep = NULL;
    struct pxm_http *mh = NULL;
    struct sl_err err = {0};
    sigset_t set;
    char why[256];
    int i, sig, rc;

    log_set_name("sluice-proxy");
    rc = px_opts_parse(argc, argv, &o, why, sizeof(why));
    if (rc == PX_OPTS_HELP || rc == PX_OPTS_VERSION) {
        if (rc == PX_OPTS_HELP)
            px_opts_usage(stdout);
        else
            px_opts_version(stdout);
        return 0;
    }
    if (rc != SL_OK) {
        fprintf(stderr, "sluice-proxy: %s (sluice-proxy --help lists the options)\n", why);
        return 2;
    }
    exit_with_supervisor();
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
    if (budget(&o) != SL_OK)
        return 2;
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
    admit.max = o.max_conns;
    wc.bind_addr = o.bind;
    wc.head_timeout_ms = o.head_timeout_ms;
    wc.admit = &admit;
    for (i = 0; i < o.workers; i++)
        if (px_worker_start(i, &wc, &workers[nworkers]) == SL_OK)
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
