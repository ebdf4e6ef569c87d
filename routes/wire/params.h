/*
 * params.h - typed access to canonical request members.
 *
 * The Query protocol delivers every scalar as a string and an empty list as
 * "" (botocore sends `Name=`); JSON front doors deliver real types.  These
 * accessors accept both and fill <err> with an AWS ValidationError naming the
 * member when the value is missing (if required), mistyped or out of range.
 * All return SL_OK, SL_ENOTFOUND (absent and optional) or SL_ERR.
 */
#ifndef SL_ROUTES_PARAMS_H
#define SL_ROUTES_PARAMS_H

#include <jansson.h>

#include "common/err.h"

#define P_OPTIONAL 0
#define P_REQUIRED 1

/* String member; *out borrowed from <obj>.  An empty string counts as
 * present. */
int p_str(json_t *obj, const char *name, int required, const char **out, struct sl_err *err);

/* Integer member within [min, max]. */
int p_int(json_t *obj, const char *name, int required, long min, long max, long *out,
          struct sl_err *err);

/* Boolean member ("true"/"false" or JSON bool). */
int p_bool(json_t *obj, const char *name, int required, int *out, struct sl_err *err);

/* List member; *out is a borrowed array (an empty one for ""), and the
 * list length is checked against [min, max]. */
int p_list(json_t *obj, const char *name, int required, size_t min, size_t max, json_t **out,
           struct sl_err *err);

/* Object member; *out borrowed. */
int p_obj(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);

/* Enumerated string member: must be one of the NULL-terminated <allowed>. */
int p_enum(json_t *obj, const char *name, int required, const char *const *allowed,
           const char **out, struct sl_err *err);

/* Fill <err> with the AWS wording for a member that failed a constraint and
 * return SL_ERR. */
int p_invalid(struct sl_err *err, const char *name, const char *why);

#endif
