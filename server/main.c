/*
 * main.c - sluiced: configuration, store, authentication, HTTP front door,
 * and a clean shutdown on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "server/app.h"
#include "server/metrics.h"
#include "server/ui.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/dataplane.h"
#include "server/drain.h"
#include "server/http.h"
#include "server/scheduler.h"
#include "server/supervise.h"
#include "routes/elbv2/health.h"
#include "store/store.h"
#include "version.h"

/* Run sluice-proxy beside us, subscribed over loopback. */
static void start_proxy(const struct sl_config *cfg, int port, struct supervisor **out)
{
    char bin[1024], url[64];
    char *argv[8];
    int n = 0;

    if (cfg->proxy_bin[0])
        snprintf(bin, sizeof(bin), "%s", cfg->proxy_bin);
    else if (supervise_sibling("sluice-proxy", bin, sizeof(bin)) != SL_OK)
        bin[0] = '\0';
    if (bin[0] == '\0' || access(bin, X_OK) != 0) {
        log_warn("sluice-proxy not found at '%s': running the control plane alone "
                 "(use --proxy-bin PATH, or --no-proxy to silence this)",
                 bin);
        return;
    }
    snprintf(url, sizeof(url), "http://%s:%d",
             strchr(cfg->listen_host, ':') ? "[::1]" : "127.0.0.1", port);
    argv[n++] = bin;
    argv[n++] = "--control-plane";
    argv[n++] = url;
    argv[n++] = "--id";
    argv[n++] = "local";
    if (cfg->credentials[0]) {
        argv[n++] = "--credentials";
        argv[n++] = (char *)cfg->credentials;
    }
    argv[n] = NULL;
    if (supervise_start(argv, out) != SL_OK)
        log_error("cannot supervise sluice-proxy");
}

int main(int argc, char **argv)
{
    struct sl_config cfg;
    struct app app;
    struct http_server *http = NULL;
    struct drainer *drainer = NULL;
    struct supervisor *proxy = NULL;
    struct scheduler *scheduler = NULL;
    struct sl_err err = {0};
    struct store_options store_opt = {0};
    char msg[512] = "";
    sigset_t sigs;
    int rc, sig, status = 1;

    /* Handle signals synchronously in the main thread, blocked from the
     * start so a SIGTERM during start-up is not lost: every other thread
     * inherits the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = config_load(&cfg, argc, argv, msg, sizeof(msg));
    if (rc == CONFIG_EXIT_OK)
        return 0;
    if (rc == CONFIG_EXIT_USAGE) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    log_set_level(cfg.log_level);
    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;

    if (cfg.credentials[0]) {
        if (auth_load(cfg.credentials, &app.creds, msg, sizeof(msg)) != SL_OK) {
            fprintf(stderr, "sluiced: --credentials: %s\n", msg);
            return 2;
        }
    } else if (!config_is_loopback(cfg.listen_host)) {
        fprintf(stderr,
                "sluiced: refusing to listen on non-loopback address %s without "
                "--credentials (anyone could change your load balancers)\n",
                cfg.listen_host);
        return 2;
    }


    store_opt.changes_keep = cfg.changes_keep;
    if (store_open(cfg.data_dir, &store_opt, &app.store, &err) != SL_OK) {
        fprintf(stderr, "sluiced: %s\n", err.message);
        goto out;
    }
    if (metrics_new(&app.metrics) != SL_OK || ui_new(&app, &app.ui) != SL_OK ||
        elb_health_new(&app.health) != SL_OK ||
        dataplane_new(&app, &app.dataplane) != SL_OK ||
        drain_start(app.store, app.health, 250, &drainer) != SL_OK) {
        fprintf(stderr, "sluiced: cannot start: out of memory or threads\n");
        goto out;
    }
    if (http_start(&app, &http, &err) != SL_OK) {
        fprintf(stderr, "sluiced: %s\n", err.message);
        goto out;
    }
    log_info("sluiced %s listening on %s:%d, data in %s, region %s, auth %s", SLUICE_VERSION,
             cfg.listen_host, http_port(http), cfg.data_dir, cfg.region,
             app.creds ? "on" : "off (loopback only)");

    if (!cfg.no_proxy)
        start_proxy(&cfg, http_port(http), &proxy);
    /* ECS: tasks started by an earlier sluiced are adopted on its first pass. */
    if (strcmp(cfg.runtime, "none") != 0 && scheduler_start(&app, &scheduler, &err) != SL_OK) {
        fprintf(stderr, "sluiced: %s\n", err.message);
        goto out;
    }

    do {
        rc = sigwait(&sigs, &sig);
    } while (rc == EINTR);
    log_info("signal %d: shutting down", sig);
    status = 0;

out:
    scheduler_stop(scheduler); /* tasks keep running for the next sluiced */
    supervise_stop(proxy);
    if (app.dataplane)
        dataplane_shutdown(app.dataplane);
    ui_shutdown(app.ui);
    http_stop(http);
    dataplane_free(app.dataplane);
    ui_free(app.ui);
    drain_stop(drainer);
    store_close(app.store);
    elb_health_free(app.health);
    metrics_free(app.metrics);
    auth_free(app.creds);
    return status;
}
