/*
 * params.h - typed access to the members of a decoded request (a Query form
 * tree or a JSON body).
 *
 * The Query protocol delivers every scalar as a string and an empty list as
 * "" (botocore sends `Name=`); JSON front doors deliver real types.  These
 * accessors accept both and fill <err> with an AWS ValidationError naming the
 * member when the value is missing (if required), mistyped or out of range.
 * All return SL_OK, SL_ENOTFOUND (absent and optional) or SL_ERR.
 */
#ifndef SL_ROUTES_WIRE_PARAMS_H
#define SL_ROUTES_WIRE_PARAMS_H

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

/* As p_enum(), the index of the value in <allowed> into *out. */
int p_enum_index(json_t *obj, const char *name, int required, const char *const *allowed,
                 int *out, struct sl_err *err);

/* List member of strings: *out (free() it; NULL when absent) gets the <n>
 * strings, borrowed from <obj>; the length is checked against [min, max]. */
int p_strv(json_t *obj, const char *name, int required, size_t min, size_t max,
           const char ***out, size_t *n, struct sl_err *err);

/* Non-zero if member <name> is present: not absent, not null, not "" and
 * not an empty list (what an empty Query list decodes to). */
int p_present(json_t *obj, const char *name);

/* Fill <err> with the AWS wording for a member that failed a constraint and
 * return SL_ERR. */
int p_invalid(struct sl_err *err, const char *name, const char *why);

/* The same for an integer <n> of member <name> outside [min, max]. */
int p_out_of_range(struct sl_err *err, const char *name, long n, long min, long max);

#endif
