/*
 * opts.h - sluice-proxy's command line: every option, its default, its
 * --help text, and --version.
 *
 * Caveats:
 *  - Parsing touches no process state except the log level and format
 *    (--log-level, --log-format), configuration set once at start-up.
 *  - --max-connections is checked against the open-file limit by main.c
 *    (limits.h), after the soft limit was raised: 0 here means "not given".
 */
#ifndef SL_PROXY_OPTS_H
#define SL_PROXY_OPTS_H

#include <stdio.h>

#include "proxy/cpclient.h"

struct px_opts {
    struct px_cp_cfg cfg;  /* --control-plane, --id (the token comes later) */
    const char *url;       /* --control-plane, borrowed from argv */
    const char *creds;     /* --credentials FILE or NULL */
    const char *bind;      /* --bind-address ADDR or NULL */
    const char *ca;        /* --ca FILE (https control plane) or NULL */
    const char *metrics_listen; /* --metrics-listen HOST:PORT or NULL: none */
    const char *log_dir;   /* --access-log-dir; default "access-logs" */
    int log_rotate_ms;     /* --access-log-rotate; default PXA_ROTATE_S */
    int workers;           /* --workers, 1..PX_MAX_WORKERS; default 1 */
    int head_timeout_ms;   /* --header-timeout; default PX_HEAD_TIMEOUT_MS */
    int grace_ms;          /* --stop-grace; default 30 s */
    long max_conns;        /* --max-connections; 0: derive from the fd limit */
};

/* Results of px_opts_parse() besides SL_OK. */
enum {
    PX_OPTS_HELP = 1,    /* --help: print px_opts_usage() to stdout, exit 0 */
    PX_OPTS_VERSION = 2, /* --version: print px_opts_version(), exit 0 */
};

/* Parse <argv> into <o> (defaults first).  SL_OK, PX_OPTS_HELP,
 * PX_OPTS_VERSION, or SL_EINVAL with the reason in <why> (<cap> bytes):
 * print it and the usage to stderr and exit 2.  <argv> must outlive <o>. */
int px_opts_parse(int argc, char **argv, struct px_opts *o, char *why, size_t cap);

/* The --help text (every option, its argument, default and meaning). */
void px_opts_usage(FILE *f);

/* "sluice-proxy <version>\n". */
void px_opts_version(FILE *f);

#endif
