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
#include "server/guard.h"
#include "server/http.h"
#include "server/park.h"
#include "server/scheduler.h"
#include "server/supervise.h"
#include "server/task_exec.h"
#include "routes/acm/ca.h"
#include "routes/elbv2/health.h"
#include "store/store.h"
#include "version.h"

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
    char msg[512] = "", token[80] = "";
    sigset_t sigs;
    int rc, sig, status = 1;

    /* The process runtime's shim: a task's cgroup, ulimits, user; exec. */
    if (argc > 1 && strcmp(argv[1], TASK_EXEC_ARG) == 0)
        return task_exec_main(argc - 2, argv + 2);
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
    log_set_format(cfg.log_format);
    log_set_name("sluiced");
    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;

    if (cfg.credentials[0]) {
        char warn[512];

        if (auth_load(cfg.credentials, &app.creds, msg, sizeof(msg), warn, sizeof(warn)) !=
            SL_OK) {
            fprintf(stderr, "sluiced: --credentials: %s\n", msg);
            return 2;
        }
        if (warn[0])
            log_warn("--credentials: %s", warn);
        if (cfg.allowed_hosts[0]) {
            fprintf(stderr, "sluiced: --allowed-hosts applies only without --credentials "
                            "(signed requests are accepted from any host)\n");
            auth_free(app.creds);
            return 2;
        }
        /* The co-process's own key: it reports in every configuration.  A
         * proxy an earlier sluiced left running keeps its token. */
        if (!cfg.no_proxy)
            supervise_proxy_token(&cfg, token, sizeof(token));
        if (!cfg.no_proxy && auth_add_coprocess_token(app.creds, token, sizeof(token)) != SL_OK) {
            fprintf(stderr, "sluiced: cannot make the co-process's token\n");
            auth_free(app.creds);
            return 1;
        }
    } else if (!config_is_loopback(cfg.listen_host)) {
        fprintf(stderr,
                "sluiced: refusing to listen on non-loopback address %s without "
                "--credentials (anyone could change your load balancers)\n",
                cfg.listen_host);
        return 2;
    } else if (guard_new(cfg.listen_host, cfg.allowed_hosts, &app.guard, msg, sizeof(msg)) !=
               SL_OK) {
        fprintf(stderr, "%s\n", msg[0] ? msg : "sluiced: out of memory");
        return 2;
    }
    if (cfg.credentials[0] && !cfg.tls_cert[0] && !config_is_loopback(cfg.listen_host))
        log_warn("serving %s over plain HTTP: requests and bearer tokens can be read on the "
                 "network; use --tls-cert FILE --tls-key FILE",
                 cfg.listen_host);

    /* The store first: it locks the data directory, so a second sluiced
     * on it stops here, before it binds, forks or schedules anything. */
    store_opt.changes_keep = cfg.changes_keep;
    if ((rc = store_open(cfg.data_dir, &store_opt, &app.store, &err)) != SL_OK) {
        /* "data directory DIR is in use by pid N" is the whole line. */
        fprintf(stderr, "%s%s\n", rc == SL_EAGAIN ? "" : "sluiced: ", err.message);
        goto out;
    }
    if (acm_ca_open(cfg.data_dir, &app.ca, &err) != SL_OK) {
        fprintf(stderr, "sluiced: %s\n", err.message);
        goto out;
    }
    if (metrics_new(&app.metrics) != SL_OK || (app.agg = metrics_agg(app.metrics)) == NULL ||
        ui_new(&app, &app.ui) != SL_OK ||
        elb_health_new(&app.health) != SL_OK || dataplane_new(&app, &app.dataplane) != SL_OK ||
        park_start(app.store, &app.park) != SL_OK ||
        drain_start(app.store, app.health, 250, &drainer) != SL_OK) {
        fprintf(stderr, "sluiced: cannot start: out of memory or threads\n");
        goto out;
    }
    if (http_start(&app, &http, &err) != SL_OK) {
        fprintf(stderr, "sluiced: %s\n", err.message);
        goto out;
    }
    log_info("sluiced %s listening on %s://%s:%d, data in %s, region %s, auth %s", SLUICE_VERSION,
             cfg.tls_cert[0] ? "https" : "http", cfg.listen_host, http_port(http), cfg.data_dir,
             cfg.region, app.creds ? "on" : "off (loopback only)");

    if (!cfg.no_proxy)
        supervise_proxy_start(&cfg, http_port(http), token, &proxy);
    explicit_bzero(token, sizeof(token));
    /* ECS: tasks started by an earlier sluiced are adopted on its first pass. */
    if (strcmp(cfg.runtime, "none") == 0)
        log_info("runtime: none (--runtime none): the ECS API records tasks and services; no "
                 "scheduler runs them (they stay PROVISIONING)");
    else if (scheduler_start(&app, &scheduler, &err) != SL_OK) {
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
    park_free(app.park);
    dataplane_free(app.dataplane);
    ui_free(app.ui);
    drain_stop(drainer);
    store_close(app.store);
    elb_health_free(app.health);
    metrics_free(app.metrics);
    acm_ca_free(app.ca);
    auth_free(app.creds);
    guard_free(app.guard);
    return status;
}
