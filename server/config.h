/*
 * config.h - sluiced's configuration: flags, each also an environment
 * variable SLUICE_<NAME> (flags win).  Loaded once at start-up, read-only
 * afterwards.
 */
#ifndef SL_SERVER_CONFIG_H
#define SL_SERVER_CONFIG_H

#include <stddef.h>

struct sl_config {
    char listen_host[256];
    int listen_port;
    char data_dir[1024];
    char region[64];
    char account_id[16];
    char credentials[1024]; /* empty: no authentication */
    char tls_cert[1024];    /* PEM certificate (chain) file: serve the API over HTTPS */
    char tls_key[1024];     /* its PEM private key; both or neither */
    int log_level;
    int log_format;         /* LOG_TEXT or LOG_JSON (common/log.h) */
    char proxy_bin[1024];   /* empty: sibling of sluiced */
    int no_proxy;
    int stop_proxy_on_exit; /* the co-process dies with sluiced (else it outlives it) */
    unsigned long long changes_keep; /* watch change records kept; 0: store default */
    char runtime[32];       /* ECS task runtime: auto, docker, process, none (no scheduler) */
    char docker_host[1024]; /* Docker Engine API: $DOCKER_HOST, else unix:///var/run/docker.sock */
    char task_host_address[64];      /* where task ports are published and registered */
    char task_metadata_address[128]; /* "ADDR[:PORT]"; empty: the bridge's gateway */
    int task_port_lo, task_port_hi; /* dynamic host ports for tasks, inclusive */
    char access_log_dir[1024]; /* its proxy's access logs; empty: <data_dir>/access-logs */
    char task_dir[1024];    /* task working dirs and logs; empty: <data_dir> (tasks/ under it) */
    unsigned long stopped_task_retention_s; /* stopped tasks are deleted this long after stopping */
    char allowed_hosts[1024]; /* unauthenticated mode: more names Host/Origin may give */
    int max_connections;      /* API connections in total */
    int max_connections_set;  /* given explicitly (else lowered to the open-file limit) */
    int max_connections_per_client; /* from one client address */
    int client_timeout;       /* seconds a client may keep the server waiting */
};

enum { CONFIG_RUN = 0, CONFIG_EXIT_OK = 1, CONFIG_EXIT_USAGE = 2 };

/* Fill <cfg> from defaults, then SLUICE_* environment variables, then argv.
 * Returns CONFIG_RUN, CONFIG_EXIT_OK (after --help/--version, printed to
 * stdout) or CONFIG_EXIT_USAGE with a one-line message in <errbuf>. */
int config_load(struct sl_config *cfg, int argc, char **argv, char *errbuf, size_t errlen);

/* Non-zero if <host> is a loopback address (127.0.0.0/8, ::1, localhost). */
int config_is_loopback(const char *host);

#endif
