/*
 * build.h - the immutable parts of a routing table made from decoded feed
 * objects: a listener with its rules in priority order and their index, a
 * target group with its targets.  The model (model.h) decides what to
 * rebuild; this only builds.
 *
 * Caveats:
 *  - Inputs are borrowed; the part returned holds its own references (on
 *    rule definitions, on target records) and starts with one reference of
 *    its own.
 *  - Not thread-safe with respect to the inputs (the subscription thread
 *    builds); the parts, once returned, are read from any thread.
 */
#ifndef SL_PROXY_BUILD_H
#define SL_PROXY_BUILD_H

#include "proxy/decode.h"
#include "proxy/table.h"

/* Listener <conf> of load balancer <lb> with the rules <defs>[0..<n>) in any
 * order (sorted here: priority, the default rule last).  NULL on
 * allocation failure. */
struct px_listener *px_build_listener(const struct pxd_listener *conf, const struct pxd_lb *lb,
                                      struct px_rule_def *const *defs, int n);

/* Group <conf> in slot <slot> with the target records <recs>[0..<n>) (in
 * key order).  NULL on allocation failure. */
struct px_tg *px_build_tg(const struct px_tg_conf *conf, int slot, struct px_target *const *recs,
                          int n);

#endif
