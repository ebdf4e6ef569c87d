/*
 * limits.h - the open-file budget: the soft limit raised to the hard one,
 * and how many client connections that leaves room for.
 *
 * Caveats:
 *  - A client connection holds two descriptors while it is proxied (the
 *    client's and the target's); PX_FD_RESERVE more are kept for listening
 *    sockets, event loops, health checks and the control-plane client.
 *  - Process-wide: call from main() before any thread starts.
 */
#ifndef SL_PROXY_LIMITS_H
#define SL_PROXY_LIMITS_H

#define PX_FD_RESERVE 256

/* Raise RLIMIT_NOFILE's soft limit to its hard limit (capped at the
 * kernel's nr_open).  *<soft> gets the limit in force afterwards, *<was>
 * the soft limit before.  0, or SL_EIO when the limit cannot be read (a
 * failed raise keeps the old limit and still returns 0). */
int px_limits_raise_nofile(long *soft, long *was);

/* Client connections that <nofile> descriptors allow (at least 1). */
long px_limits_conns_for(long nofile);

#endif
