/*
 * sched_retention.h - stopped tasks leave ListTasks and DescribeTasks a
 * retention after they stopped (--stopped-task-retention, default 1 h, as
 * ECS keeps stopped tasks for about an hour), and their directories under
 * the task directory go with them.
 *
 * Caveats:
 * - The directory goes first, then the record (one transaction for the
 *   pass's batch): a crash in between leaves a record whose directory is
 *   gone, deleted at the next pass, never a directory nobody removes.  A
 *   directory that cannot be removed (permissions) is logged and left.
 * - Only <tasks_dir>/<task id> is removed (never following symbolic links
 *   or crossing file systems); a container's workingDirectory elsewhere is
 *   the user's.
 * - At most 100 tasks per pass (sched_pass.c lists them).
 */
#ifndef SL_SERVER_SCHED_RETENTION_H
#define SL_SERVER_SCHED_RETENTION_H

#include "server/sched_pass.h"

/* Remove the directories, then the records, of the pass's expired tasks. */
void sched_retention_sweep(struct sched_pass *p);

/* Remove <tasks_dir>/<task_id> and everything under it.  SL_OK (also when
 * it does not exist), SL_EINVAL for an id that is not 1-64 letters and
 * digits, SL_EIO when something could not be removed (logged). */
int sched_retention_remove_dir(const char *tasks_dir, const char *task_id);

#endif
