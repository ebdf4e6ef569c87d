/*
 * task_env.h - a container's environment as ECS builds it, for both task
 * runtimes: environmentFiles, then environment, then secrets, each over the
 * one before; a RunTask override's environmentFiles and environment over
 * the definition's.
 *
 * Caveats:
 * - sluice resolves local sources only: a secret's valueFrom is
 *   "file:///abs/path" or "/abs/path" (the file's contents, one trailing
 *   newline removed) or "env:NAME" (sluiced's environment); environmentFiles
 *   are local files.  Secrets Manager, SSM and S3 are refused.
 * - Every function reads files and sluiced's environment; thread-safe.
 */
#ifndef SL_SERVER_TASK_ENV_H
#define SL_SERVER_TASK_ENV_H

#include <jansson.h>
#include <stddef.h>

/* Set NAME=VALUE in <env> (a JSON array of "NAME=VALUE" strings),
 * replacing an earlier NAME. */
void task_env_set(json_t *env, const char *name, const char *value);

/* The value secret source <value_from> names (see the caveats).  SL_OK with
 * a malloc'd *out, or SL_ERR with <reason> in ECS's wording. */
int task_env_secret(const char *value_from, char **out, char *reason, size_t rlen);

/* Add to <env> what container definition <cd> and its override <ov> (NULL
 * for none) set.  SL_OK, or SL_ERR with <reason> in ECS's wording
 * (ResourceInitializationError, CannotCreateContainerError); <env> may
 * then hold part of it. */
int task_env_build(json_t *env, json_t *cd, json_t *ov, char *reason, size_t rlen);

#endif
