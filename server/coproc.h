/*
 * coproc.h - the record of sluiced's sluice-proxy co-process, kept in the
 * data directory (DATA/proxy.pid), so that the proxy can outlive sluiced
 * and a later sluiced on the same directory takes the running proxy back
 * instead of starting a second one (server/supervise.c).
 *
 * The record names the process (pid and its start time, so that a pid the
 * kernel gave to another process since is never taken for the proxy), the
 * control-plane URL it follows and the bearer token it subscribes with.
 *
 * Caveats:
 *  - Linux only: a process is identified through /proc/PID/stat and
 *    /proc/PID/exe.
 *  - The file holds a bearer token: it is written mode 0600 (as the rest
 *    of the data directory, which holds the private keys, should be).
 *  - Written by the one sluiced that holds the data directory's lock
 *    (store.h), so there is no concurrent writer.
 */
#ifndef SL_SERVER_COPROC_H
#define SL_SERVER_COPROC_H

#include <stddef.h>

#include "common/err.h"

struct coproc_rec {
    long pid;
    unsigned long long start; /* the process's start time, clock ticks since boot */
    char url[320];            /* --control-plane it was given */
    char token[80];           /* SLUICE_PROXY_TOKEN it was given; "" for none */
};

/* Read <dir>/proxy.pid into <out>.  SL_OK, SL_ENOTFOUND (no record) or
 * SL_EINVAL (unreadable or malformed: treat as none). */
int coproc_read(const char *dir, struct coproc_rec *out);

/* Write <r> as <dir>/proxy.pid, mode 0600, atomically (a temporary file
 * renamed over it).  SL_OK or SL_EIO (logged). */
int coproc_write(const char *dir, const struct coproc_rec *r);

/* Remove <dir>/proxy.pid; no record is not an error. */
void coproc_remove(const char *dir);

/* The start time of live process <pid> into <out>.  SL_OK, or
 * SL_ENOTFOUND when there is none (gone, or a zombie). */
int coproc_start_time(long pid, unsigned long long *out);

/* 1 when the process <r> names still runs (same pid, same start time) and
 * its executable is <bin> (same file: a binary replaced since, e.g. by an
 * upgrade, does not count); else 0. */
int coproc_runs(const struct coproc_rec *r, const char *bin);

/* 1 when live process <pid>'s arguments (/proc/PID/cmdline) are exactly
 * the NULL-terminated <argv>, else 0 (gone, unreadable, or different: a
 * proxy started with another --log-format, --ca or log directory). */
int coproc_args_are(long pid, char *const argv[]);

#endif
