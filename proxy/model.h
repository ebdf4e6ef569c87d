/*
 * model.h - the subscription's view of the feed as typed entries, and the
 * incremental construction of routing tables from it.
 *
 * Changes (puts and deletes of decoded objects) mark what they touch; a
 * commit rebuilds just those parts and makes a new table that shares every
 * other part with the previous one:
 *   target put/delete     -> its group (O(targets of that group))
 *   target group          -> the group; rules name it by slot, so no listener
 *   rule                  -> its listener (rules and index)
 *   listener              -> the listener
 *   load balancer         -> its listeners
 * plus, for every commit, the table's arrays of pointers (O(listeners +
 * groups)).
 *
 * Caveats:
 *  - One thread (the subscription's) owns a model; tables it returns are
 *    published and read by every thread.
 *  - References may point at objects not (yet) in the model: a rule at a
 *    listener, a listener at a load balancer, a target at a group, a forward
 *    action at an ARN.  They are kept and take effect when the object
 *    arrives; until then the listener is not served, the group not routed.
 *  - A target record (health, counters, idle connections) lives as long as
 *    its target stays in the model, across snapshot re-reads; it is marked
 *    dead (live = 0) when the target goes.
 */
#ifndef SL_PROXY_MODEL_H
#define SL_PROXY_MODEL_H

#include <stdint.h>

#include "proxy/decode.h"
#include "proxy/table.h"

struct px_model;

/* What the last commit rebuilt (tests and bench/table_build.c). */
struct px_model_stats {
    unsigned listeners_built;
    unsigned groups_built;
};

int px_model_new(struct px_model **out);
/* Free the model; its target records are marked dead.  NULL is a no-op. */
void px_model_free(struct px_model *m);

/* Apply a decoded object (create or replace); the model takes what <o> owns
 * (clearing <o>).  0 or SL_ENOMEM (then nothing changed and <o> is
 * cleared). */
int px_model_put(struct px_model *m, struct pxd_obj *o);
/* Remove object <id> of kind <k>; absent is not an error. */
void px_model_del(struct px_model *m, enum feed_kind k, const char *id);

/* Snapshot re-read: px_model_mark() before its puts, px_model_sweep() after
 * them deletes every object the snapshot did not put.  The next commit
 * makes a table even if nothing changed. */
void px_model_mark(struct px_model *m);
void px_model_sweep(struct px_model *m);

/* Non-zero when something changed since the last commit. */
int px_model_changed(const struct px_model *m);

/* The table for the model's state at revision <rev> (one reference), the
 * changed parts rebuilt.  0 or SL_ENOMEM (the model is as before: a later
 * commit retries). */
int px_model_commit(struct px_model *m, uint64_t rev, struct px_table **out);

void px_model_stats(const struct px_model *m, struct px_model_stats *out);

#endif
