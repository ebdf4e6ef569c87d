/*
 * supervise.h - sluiced runs sluice-proxy as a co-process: spawned with
 * posix_spawn (the child never touches sluiced's LMDB environment),
 * restarted with exponential backoff when it dies.
 *
 * The proxy outlives sluiced (SIGTERM, SIGINT or kill -9 to sluiced alone):
 * it serves its last configuration and follows the feed again once a
 * sluiced answers.  Its pid, start time, URL and token are recorded in the
 * data directory (coproc.h); the next sluiced on that directory takes the
 * running proxy back when it runs the same binary for the same URL and
 * token, else stops it (waiting until it is gone) and starts its own, so
 * two proxies never serve one data directory.  With --stop-proxy-on-exit,
 * the proxy dies with sluiced (SIGTERM, then SIGKILL after 5 s, and
 * PR_SET_PDEATHSIG through SLUICE_PARENT_PID) as it used to.
 *
 * Caveats:
 *  - A proxy taken back is not our child: its end is noticed by polling
 *    its /proc entry every 100 ms, and its exit status is not known.
 *  - A signal to the whole process group (Ctrl-C in a terminal) reaches
 *    the proxy too and stops it.  Under systemd, KillMode=process keeps it
 *    across `systemctl restart`; the default (control-group) stops it.
 *  - supervise_start() (any other child) always ties the child to us.
 */
#ifndef SL_SERVER_SUPERVISE_H
#define SL_SERVER_SUPERVISE_H

#include "common/err.h"

#include <spawn.h>
#include <stddef.h>

struct supervisor;

/* Start supervising <argv> (argv[0] is the binary path; copied), with
 * sluiced's environment plus <extra_env> ("NAME=value" strings, copied; may
 * be NULL). */
int supervise_start(char *const argv[], char *const extra_env[], struct supervisor **out);

struct sl_config;

/* Start supervising the sluice-proxy co-process (--proxy-bin, else beside
 * sluiced) subscribed to this sluiced on <port>: at the listen address, or
 * loopback when listening on every address; with <token> (NULL without
 * credentials) in its environment as SLUICE_PROXY_TOKEN.  A proxy an
 * earlier sluiced left running is taken back or stopped first (above).
 * SL_OK, SL_ENOTFOUND (no binary: logged) or SL_ENOMEM / SL_ERR. */
int supervise_proxy_start(const struct sl_config *cfg, int port, const char *token,
                          struct supervisor **out);

/* The token of the proxy an earlier sluiced left running in cfg's data
 * directory, into <out> (<cap> bytes), so that the co-process's token can
 * stay the same and the proxy can be taken back.  SL_OK, or SL_ENOTFOUND
 * (none: make a new one). */
int supervise_proxy_token(const struct sl_config *cfg, char *out, size_t cap);

/* Pid of the running child, or 0. */
int supervise_pid(struct supervisor *s);

/* Stop the supervising thread and the child, except a proxy co-process
 * that outlives us (above), which keeps running.  NULL is a no-op. */
void supervise_stop(struct supervisor *s);

/* Initialise <attr> for a child of sluiced: an empty signal mask and
 * default dispositions (sluiced blocks SIGTERM/SIGINT in every thread for
 * sigwait()), plus <flags> (POSIX_SPAWN_*) the caller sets up further. */
void supervise_spawnattr(posix_spawnattr_t *attr, short flags);

/* The sluice-proxy path beside the running sluiced binary, into <out>. */
int supervise_sibling(const char *name, char *out, size_t cap);

#endif
