/*
 * attrs.h - resource attributes ([{Key,Value}] lists): tables of the keys a
 * kind knows with their defaults and types, and the merge a Modify*
 * Attributes operation makes.  Pure: no store access; thread-safe.
 */
#ifndef SL_ROUTES_ELBV2_ATTRS_H
#define SL_ROUTES_ELBV2_ATTRS_H

#include <jansson.h>
#include <stddef.h>

#include "routes/elbv2/elbv2.h"

enum elb_attr_type { ATTR_INT, ATTR_BOOL, ATTR_ENUM, ATTR_STR };

/* One known attribute: key, default value, type and range (ATTR_INT:
 * min..max; ATTR_STR: at most max characters; ATTR_ENUM: one of values). */
struct elb_attr {
    const char *key;
    const char *def;
    enum elb_attr_type type;
    long min, max;
    const char *const *values;
};

/* The default list [{Key,Value}] of <table> (NULL-key terminated).  New
 * reference. */
json_t *elb_attrs_default(const struct elb_attr *table);

/* <current> (borrowed) with the <n> changes <kv> applied, each checked
 * against <table>: a new reference, or NULL with a ValidationError in <err>
 * (unknown key, value out of range).  Keys keep their order; new keys go
 * last. */
json_t *elb_attrs_merge(json_t *current, const struct elb_kv *kv, size_t n,
                        const struct elb_attr *table, struct sl_err *err);

/* Value of attribute <key> in a [{Key,Value}] list; NULL if absent.
 * Borrowed from <attrs>. */
const char *elb_attr_get(json_t *attrs, const char *key);

#endif
