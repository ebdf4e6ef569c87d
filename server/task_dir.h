/*
 * task_dir.h - the task runtimes' directory (--data-dir's tasks/): small
 * state files beside the tasks' own directories, and the runtime's owner
 * id kept there.
 *
 * Caveats:
 * - A state file is written whole (a temporary file, fsync, rename), so a
 *   crash leaves the old value or the new one.
 * - Thread-safe; blocking file I/O.
 */
#ifndef SL_SERVER_TASK_DIR_H
#define SL_SERVER_TASK_DIR_H

#include <stddef.h>

#include "common/err.h"

#define TASK_DIR_OWNER_LEN 32

/* mkdir -p <dir>: 0, or -1 with errno. */
int task_dir_make(const char *dir);

/* State file <name> of <dir> into <out> (its first line); "" when absent. */
void task_dir_read(const char *dir, const char *name, char *out, size_t cap);

/* Write state file <name> of <dir>: 0, or -1 with errno. */
int task_dir_write(const char *dir, const char *name, const char *value);

/* The id of the runtime working in <dir> (made first if need be), kept in
 * <dir>/runtime-owner: what the runtime's containers and cgroups are
 * marked with, so that a restarted sluiced finds its own and no other's.
 * SL_OK with <out> (TASK_DIR_OWNER_LEN hex digits), or SL_ERR with <err>. */
int task_dir_owner(const char *dir, char out[TASK_DIR_OWNER_LEN + 1], struct sl_err *err);

#endif
