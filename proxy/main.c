/*
 * main.c - sluice-proxy: the data plane process.
 *
 *   sluice-proxy --control-plane http://HOST:PORT [--id NAME]
 *                [--credentials FILE] [--bind-address ADDR] [--workers N]
 *                [--log-level debug|info|warn|error] [--header-timeout SECONDS]
 *
 * SIGTERM/SIGINT stop gracefully: listeners close, requests in flight finish.
 */
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "proxy/conn.h"
#include "proxy/health.h"
#include "proxy/report.h"
#include "proxy/sub.h"
#include "proxy/table.h"

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

static void usage(void)
{
    fprintf(stderr, "usage: sluice-proxy --control-plane http://HOST:PORT [--id NAME] "
                    "[--credentials FILE] [--bind-address ADDR] [--workers N] "
                    "[--log-level L] [--header-timeout SECONDS]\n");
}

int main(int argc, char **argv)
{
    struct px_cp_cfg cfg = {0};
    const char *url = NULL, *creds = NULL, *bind = NULL;
    struct px_sub *sub = NULL;
    struct px_report *rep = NULL;
    sigset_t set;
    int i, n = 1, sig;

    log_set_name("sluice-proxy");
    exit_with_supervisor();
    for (i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(a, "--control-plane") == 0)
            url = v;
        else if (strcmp(a, "--id") == 0)
            snprintf(cfg.proxy_id, sizeof(cfg.proxy_id), "%s", v);
        else if (strcmp(a, "--credentials") == 0)
            creds = v;
        else if (strcmp(a, "--bind-address") == 0)
            bind = v;
        else if (strcmp(a, "--workers") == 0)
            n = atoi(v);
        else if (strcmp(a, "--header-timeout") == 0) {
            /* seconds (fractions allowed) for a whole request head; default 10 */
            char *end;
            double sec = strtod(v, &end);
            if (*v == '\0' || *end != '\0' || !(sec > 0 && sec <= 3600)) {
                usage();
                return 2;
            }
            px_worker_set_head_timeout((int)(sec * 1000 + 0.5));
        }
        else if (strcmp(a, "--log-level") == 0) {
            if (log_parse_level(v) < 0) {
                usage();
                return 2;
            }
            log_set_level(log_parse_level(v));
        } else {
            usage();
            return 2;
        }
    }
    if (url == NULL || px_cp_parse_url(url, &cfg) != 0 || n < 1 || n > PX_MAX_WORKERS) {
        usage();
        return 2;
    }
    if (creds && read_token(creds, cfg.token, sizeof(cfg.token)) != 0) {
        fprintf(stderr, "sluice-proxy: no sluice_api_token in %s\n", creds);
        return 2;
    }
    if (cfg.proxy_id[0] == '\0') {
        char host[64] = "proxy";
        gethostname(host, sizeof(host) - 1);
        snprintf(cfg.proxy_id, sizeof(cfg.proxy_id), "%s-%d", host, (int)getpid());
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit: only main waits */
    srand((unsigned)getpid());
    for (i = 0; i < n; i++)
        if (px_worker_start(i, bind, &workers[nworkers]) == 0)
            nworkers++;
    if (nworkers == 0 || px_health_start(&health) != 0 ||
        px_sub_start(&cfg, on_table, NULL, &sub) != 0 ||
        px_report_start(&cfg, px_sub_applied, sub, &rep) != 0) {
        fprintf(stderr, "sluice-proxy: start-up failed\n");
        return 1;
    }
    log_info("proxy %s: %d worker(s), control plane %s:%d", cfg.proxy_id, nworkers, cfg.host,
             cfg.port);
    sigwait(&set, &sig);
    log_info("signal %d: stopping gracefully", sig);
    for (i = 0; i < nworkers; i++)
        px_worker_stop(workers[i], 30000);
    px_health_stop(health);
    px_report_stop(rep);
    px_sub_stop(sub);
    px_table_publish(NULL);
    return 0;
}
