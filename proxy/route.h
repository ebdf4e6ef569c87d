/*
 * route.h - ALB rule matching and target selection on an acquired table.
 *
 * Caveats:
 *  - Everything is zero-copy: the request view points into the connection's
 *    buffer; nothing here allocates.
 *  - Matching follows AWS: conditions of a rule are ANDed, the values of a
 *    condition ORed; host-header, http-header values and query-string are
 *    case-insensitive, path-pattern and http-request-method case-sensitive.
 */
#ifndef SL_PROXY_ROUTE_H
#define SL_PROXY_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/http1.h"
#include "proxy/table.h"


struct px_req_view {
    const char *method;
    size_t method_len;
    const char *path; /* without the query, normalized (pathnorm.h): what
                       * path-pattern conditions match */
    size_t path_len;
    const char *raw_path; /* the path as received, for #{path} in a redirect;
                           * NULL: the same as <path> */
    size_t raw_path_len;
    const char *query; /* after '?', NULL if none */
    size_t query_len;
    const char *host; /* Host header, may include ":port" */
    size_t host_len;
    const struct h1_header *hdrs;
    size_t nhdrs;
    const struct sockaddr *peer;
};

/* Glob match of <s> against the NUL-terminated pattern <pat>: '*' any run,
 * '?' one byte; <icase> folds ASCII case; <esc> makes '\' quote the next
 * pattern byte.  Returns 1 on match. */
int route_glob(const char *pat, const char *s, size_t len, int icase, int esc);

/* 1 if every condition of <r> matches <req>. */
int route_rule_matches(const struct px_rule *r, const struct px_req_view *req);

/* The first matching rule of <l> in priority order, the default rule (which
 * matches everything) when no other does; NULL only if the listener has no
 * default rule.  Candidates come from the listener's index (rindex.h).
 * Borrowed from the table. */
const struct px_rule *route_match(const struct px_listener *l, const struct px_req_view *req);

/* route_match() that also says how many rules it evaluated (the default
 * rule included when it was taken): RuleEvaluations. */
const struct px_rule *route_match_counted(const struct px_listener *l,
                                          const struct px_req_view *req, int *evals);

/* The same answer by evaluating every rule in turn: the reference the
 * index is tested against. */
const struct px_rule *route_match_linear(const struct px_listener *l,
                                         const struct px_req_view *req);

/* Choose a target group of forward action <a> by weight from table <t>;
 * <rnd> a random 32-bit value.  NULL if none has weight or its slot holds no
 * group. */
struct px_tg *route_pick_group(const struct px_table *t, const struct px_action *a, uint32_t rnd);

/* Choose a target of <g> per its algorithm: healthy (or initial/unavailable
 * when none is healthy: fail-open), never draining or unroutable.  <now_ms>
 * drives slow start.  NULL: no target (503).  Borrowed pointer. */
struct px_target *route_pick_target(struct px_tg *g, uint64_t now_ms, uint32_t rnd);

/* Render a redirect Location for <a> into <out> (cap bytes).  <listen_port>
 * and <https> describe the listener.  Returns the length, or SL_EINVAL if it
 * does not fit. */
int route_redirect_location(const struct px_action *a, const struct px_req_view *req,
                            int listen_port, int https, char *out, size_t cap);

/* A fast thread-local xorshift random number. */
uint32_t route_rand(void);

#endif
