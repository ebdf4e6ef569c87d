/*
 * param.h - strict access to the members of ECS JSON documents: a request
 * body (JSON 1.1) or a nested document such as a container definition.
 *
 * JSON types are strict (this is a JSON protocol): a member of the wrong
 * type is a 400 SerializationException, a missing required member or a
 * value out of range a 400 InvalidParameterException.  JSON null counts as
 * absent.  All return SL_OK, SL_ENOTFOUND (absent and optional) or SL_ERR;
 * pointers out are borrowed from <obj>.  Pure; thread-safe.
 */
#ifndef SL_ROUTES_ECS_PARAM_H
#define SL_ROUTES_ECS_PARAM_H

#include <jansson.h>

#include "common/err.h"
#include "routes/wire/params.h" /* P_OPTIONAL, P_REQUIRED */

/* 400 InvalidParameterException / ClientException with a message; return
 * SL_ERR. */
int ecs_invalid(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ecs_client(struct sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 400 SerializationException: member <name> is not <type>. */
int ecs_mistyped(const char *name, const char *type, struct sl_err *err);

int ecs_str(json_t *obj, const char *name, int required, const char **out, struct sl_err *err);
int ecs_int(json_t *obj, const char *name, int required, long min, long max, long *out,
            struct sl_err *err);
int ecs_bool(json_t *obj, const char *name, int *out, struct sl_err *err);
int ecs_list(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);
int ecs_obj(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);
/* A list whose every element is a string. */
int ecs_strlist(json_t *obj, const char *name, int required, json_t **out, struct sl_err *err);
/* A string that must be one of the NULL-terminated <allowed>. */
int ecs_enum(json_t *obj, const char *name, int required, const char *const *allowed,
             const char **out, struct sl_err *err);
/* As ecs_enum(), the index in <allowed> into *out. */
int ecs_enum_index(json_t *obj, const char *name, int required, const char *const *allowed,
                   int *out, struct sl_err *err);
/* Non-zero if the request's "include" list holds the string <what>. */
int ecs_includes(json_t *req, const char *what);

#endif
