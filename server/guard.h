/*
 * guard.h - keeps web pages out of an unauthenticated sluiced.
 *
 * Without --credentials sluiced accepts unsigned requests from this machine;
 * a browser on it would carry a hostile page's requests there too: a
 * cross-site form POST, or a page of a rebound DNS name whose Host is that
 * name.  The guard admits a request only when its Host is a loopback name
 * (localhost, *.localhost) or address (127.0.0.0/8, ::1, ::ffff:127.x), the
 * listen address, or a name given with --allowed-hosts; when an Origin is
 * sent, its host must be one of those too; and Sec-Fetch-Site must not be
 * cross-site.  AWS SDKs, the CLI and curl send none of Origin and
 * Sec-Fetch-Site, and a loopback Host.
 *
 * Caveats:
 * - Names compare case-insensitively and without a trailing dot; ports are
 *   not compared (a page on another loopback port is this machine's).
 * - A request without Host (HTTP/1.0) passes: browsers always send one.
 * - A loaded struct guard is read-only: guard_check() is thread-safe.
 */
#ifndef SL_SERVER_GUARD_H
#define SL_SERVER_GUARD_H

#include <stddef.h>

#include "common/err.h"

struct guard;

/* Build a guard for <listen_host> (as --listen gave it) and <allowed>, a
 * comma-separated list of host names or IP addresses, blanks around items
 * ignored (NULL or "" for none).  Refuses, with a one-line message in
 * <errbuf>, an empty item, one with a port or a path, or a character no
 * host name has.  SL_OK with *out to free with guard_free(), SL_EINVAL or
 * SL_ENOMEM. */
int guard_new(const char *listen_host, const char *allowed, struct guard **out, char *errbuf,
              size_t errlen);

/* NULL is a no-op. */
void guard_free(struct guard *g);

/* Non-zero when <host> (a host name or address without port or brackets)
 * is one the guard admits. */
int guard_host_ok(const struct guard *g, const char *host, size_t len);

/* The request's headers: each value is NULL when absent; <nhost> and
 * <norigin> count the Host and Origin headers sent. */
struct guard_request {
    const char *host;
    const char *origin;
    const char *sec_fetch_site;
    int nhost, norigin;
};

/* SL_OK when <r> may proceed; SL_ERR with <err> set to 403 AccessDenied and
 * a message that names what was refused and the --allowed-hosts flag. */
int guard_check(const struct guard *g, const struct guard_request *r, struct sl_err *err);

#endif
