/*
 * fuzz_guard.c - libFuzzer target for server/guard.c: Host, Origin and
 * Sec-Fetch-Site as a browser (or an attacker) sends them, and the
 * --allowed-hosts list.
 *
 * The input's first line is an --allowed-hosts list, the next three the
 * Host, Origin and Sec-Fetch-Site values (an empty line: not sent).  The
 * list is taken or refused with a message; a request is admitted or refused
 * with 403 AccessDenied naming --allowed-hosts; a Host the guard admits is
 * admitted again with a port added, and a refused one stays refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "server/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char list[512], host[512], origin[512], site[128], msg[256], ported[600];
    const char *rest = (const char *)data;
    size_t left = size;
    struct guard *g = NULL;
    struct guard_request r = {0};
    struct sl_err err = {0};
    int rc, rc2;

    fuzz_line(rest, left, list, sizeof(list), &rest, &left);
    fuzz_line(rest, left, host, sizeof(host), &rest, &left);
    fuzz_line(rest, left, origin, sizeof(origin), &rest, &left);
    fuzz_line(rest, left, site, sizeof(site), &rest, &left);
    msg[0] = '\0';
    if (guard_new("127.0.0.1", list, &g, msg, sizeof(msg)) != SL_OK) {
        CHECK(g == NULL && strstr(msg, "--allowed-hosts") != NULL);
        CHECK(guard_new("127.0.0.1", NULL, &g, msg, sizeof(msg)) == SL_OK);
    }
    r.host = host[0] ? host : NULL;
    r.origin = origin[0] ? origin : NULL;
    r.sec_fetch_site = site[0] ? site : NULL;
    r.nhost = r.host != NULL;
    r.norigin = r.origin != NULL;
    rc = guard_check(g, &r, &err);
    if (rc != SL_OK) {
        CHECK(rc == SL_ERR && err.status == 403 && strcmp(err.code, "AccessDenied") == 0);
        CHECK(strstr(err.message, "--allowed-hosts") != NULL);
    }
    if (r.host && strchr(host, ':') == NULL && host[0] != '[') {
        struct guard_request r2 = r;

        snprintf(ported, sizeof(ported), "%s:7070", host);
        r2.host = ported;
        r2.origin = NULL;
        r2.sec_fetch_site = NULL;
        r2.norigin = 0;
        rc2 = guard_check(g, &r2, &err);
        r2.host = host;
        CHECK(rc2 == guard_check(g, &r2, &err));
    }
    guard_free(g);
    return 0;
}
