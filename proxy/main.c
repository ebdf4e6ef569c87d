/*
 * main.c - sluice-proxy: the data plane process (options: opts.h, or
 * sluice-proxy --help).
 *
 * SIGTERM/SIGINT stop gracefully: listeners close, requests in flight finish
 * for up to --stop-grace seconds (default 30), then what is left is closed.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/health.h"
#include "proxy/limits.h"
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

/* The sluice_api_token of the first section of an INI credentials file. */
static int read_token(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int sections = 0;

    if (f == NULL)
        return SL_EIO;
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *eq, *k, *v, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '[') {
            if (++sections > 1)
                break;
            continue;
        }
        if ((eq = strchr(p, '=')) == NULL)
            continue;
        *eq = '\0';
        k = p;
        for (e = eq; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
            e[-1] = '\0';
        v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\r\n")] = '\0';
        for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
            e[-1] = '\0';
        if (strcmp(k, "sluice_api_token") == 0) {
            snprintf(out, cap, "%s", v);
            fclose(f);
            return 0;
        }
    }
    fclose(f);
    return SL_ENOTFOUND;
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
    if (o.creds && read_token(o.creds, o.cfg.token, sizeof(o.cfg.token)) != SL_OK) {
        fprintf(stderr, "sluice-proxy: no sluice_api_token in %s\n", o.creds);
        return 2;
    }
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
    log_info("proxy %s: %d worker(s), control plane %s:%d", o.cfg.proxy_id, nworkers, o.cfg.host,
             o.cfg.port);
    sigwait(&set, &sig);
    log_info("signal %d: stopping gracefully (up to %d ms for requests in flight)", sig,
             o.grace_ms);
    for (i = 0; i < nworkers; i++)
        px_worker_stop(workers[i], o.grace_ms);
    px_health_stop(health);
    px_report_stop(rep);
    px_sub_stop(sub);
    px_table_publish(NULL);
    return 0;
}
