/*
 * supervise.h - sluiced runs sluice-proxy as a co-process: spawned with
 * posix_spawn (the child never touches sluiced's LMDB environment),
 * restarted with exponential backoff when it dies, stopped (SIGTERM, then
 * SIGKILL after 5 s) on shutdown.
 */
#ifndef SL_SERVER_SUPERVISE_H
#define SL_SERVER_SUPERVISE_H

#include "common/err.h"

#include <spawn.h>

struct supervisor;

/* Start supervising <argv> (argv[0] is the binary path; copied), with
 * sluiced's environment plus <extra_env> ("NAME=value" strings, copied; may
 * be NULL). */
int supervise_start(char *const argv[], char *const extra_env[], struct supervisor **out);

struct sl_config;

/* Start supervising the sluice-proxy co-process (--proxy-bin, else beside
 * sluiced) subscribed to this sluiced on <port>: at the listen address, or
 * loopback when listening on every address; with <token> (NULL without
 * credentials) in its environment as SLUICE_PROXY_TOKEN.  SL_OK,
 * SL_ENOTFOUND (no binary: logged) or SL_ENOMEM / SL_ERR. */
int supervise_proxy_start(const struct sl_config *cfg, int port, const char *token,
                          struct supervisor **out);

/* Pid of the running child, or 0. */
int supervise_pid(struct supervisor *s);

/* Stop the child and the supervising thread.  NULL is a no-op. */
void supervise_stop(struct supervisor *s);

/* Initialise <attr> for a child of sluiced: an empty signal mask and
 * default dispositions (sluiced blocks SIGTERM/SIGINT in every thread for
 * sigwait()), plus <flags> (POSIX_SPAWN_*) the caller sets up further. */
void supervise_spawnattr(posix_spawnattr_t *attr, short flags);

/* The sluice-proxy path beside the running sluiced binary, into <out>. */
int supervise_sibling(const char *name, char *out, size_t cap);

#endif
