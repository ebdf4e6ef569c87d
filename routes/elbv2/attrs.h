/*
 * attrs.h - resource attributes ([{Key,Value}] lists): the tables of the
 * keys AWS has for each kind, with their defaults, types and what sluice
 * does with each, and the checked merge a Modify*Attributes operation makes.
 *
 * Caveats:
 * - The rule: a key sluice accepts takes effect, or it is refused with a
 *   ValidationError that says it is not supported by sluice.  A key can be
 *   refused whole (sluice behaves one fixed way, whatever the value: the
 *   message then matches the Terraform AWS provider's "attribute key 'K' is
 *   not supported" pattern, so the provider drops the key as it does for a
 *   region that lacks it), or only for the values sluice does not act on
 *   (the message names the value and does not match that pattern: a user
 *   who asked for it must hear no).
 * - Keys of other load balancer types (network, gateway) and other target
 *   group kinds are refused with AWS's own wording; unknown keys with
 *   "<Kind> attribute key 'K' is not recognized", which the provider matches
 *   case-sensitively.
 * - Describe*Attributes lists the keys sluice accepts, in table order:
 *   refused keys never appear.
 * - Pure: no store access; thread-safe.  The tables are in attr_tables.c.
 */
#ifndef SL_ROUTES_ELBV2_ATTRS_H
#define SL_ROUTES_ELBV2_ATTRS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

enum elb_attr_type { ATTR_INT, ATTR_BOOL, ATTR_ENUM, ATTR_STR };

/* What sluice does with a key. */
enum elb_attr_support {
    ATTR_DONE = 0,   /* every valid value takes effect */
    ATTR_VALUES,     /* only the values in <ok> take effect; the others are refused */
    ATTR_FIXED,      /* refused whatever the value: sluice behaves as <why> says */
    ATTR_OTHER_TYPE, /* a key of another kind of resource: refused as AWS refuses it */
};

/* One attribute: key, AWS's default, type and range (ATTR_INT: min..max;
 * ATTR_STR: at most max characters; ATTR_ENUM: one of <values>), what
 * sluice does, the accepted values (ATTR_VALUES, NULL-terminated) and why
 * (the effect, or the reason for refusing). */
struct elb_attr {
    const char *key;
    const char *def;
    enum elb_attr_type type;
    long min, max;
    const char *const *values;
    enum elb_attr_support support;
    const char *const *ok;
    const char *why;
};

/* The keys one kind of resource has. */
struct elb_attr_table {
    const char *what;        /* "Load balancer", "Target group", "Listener" */
    const char *other_type;  /* the tail of AWS's refusal of another type's key:
                                "on load balancers with type 'application'" */
    const struct elb_attr *attrs; /* NULL-key terminated */
};

extern const struct elb_attr_table elb_lb_attr_table;
extern const struct elb_attr_table elb_tg_attr_table;
extern const struct elb_attr_table elb_listener_http_attr_table;
extern const struct elb_attr_table elb_listener_https_attr_table;

/* The Describe list of <t> over the stored list <stored> (borrowed, may be
 * NULL): every key sluice accepts, stored value or default.  New
 * reference. */
json_t *elb_attrs_view(const struct elb_attr_table *t, json_t *stored);

/* <current> (borrowed) with the <n> changes <kv> applied, each checked
 * against <t> as the caveats say: a new reference, or NULL with a
 * ValidationError in <err>.  Keys keep their order; new keys go last. */
json_t *elb_attrs_merge(json_t *current, const struct elb_kv *kv, size_t n,
                        const struct elb_attr_table *t, struct sl_err *err);

/* Value of attribute <key> in a [{Key,Value}] list; NULL if absent.
 * Borrowed from <attrs>. */
const char *elb_attr_get(json_t *attrs, const char *key);

#endif
