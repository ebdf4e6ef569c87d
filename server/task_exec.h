/*
 * task_exec.h - how the process runtime starts a container's program:
 * through sluiced itself as a shim, which puts the new process where the
 * container definition says (its cgroups, its ulimits, its user) and then
 * execs the program, so that nothing of the task runs before it is there.
 *
 *   sluiced --sluice-task-exec [-j FILE]... [-r RESOURCE=SOFT:HARD]...
 *           [-u UID:GID[:NAME]] -- PATH ARG...
 *
 * -j writes the process into a cgroup.procs FILE (task_cgroup_procs()),
 * -r sets an rlimit (-1: unlimited), -u drops to a user (its groups when NAME is given);
 * PATH is absolute (the runtime resolves it first, so that a missing
 * program fails the start, not the container).
 *
 * Caveats:
 * - The shim reports a failure on stderr (the container's stderr.log) and
 *   exits 126 (127: no such program), as a shell does.
 * - task_exec_user() and task_exec_rlimit() are what the runtime checks a
 *   definition with before it starts anything; thread-safe.
 */
#ifndef SL_SERVER_TASK_EXEC_H
#define SL_SERVER_TASK_EXEC_H

#include <stddef.h>
#include <sys/types.h>

#define TASK_EXEC_ARG "--sluice-task-exec"

/* The RLIMIT_* of an ECS ulimit name ("nofile", "core", ...), or -1. */
int task_exec_rlimit(const char *name);

/* ECS's container user "user", "user:group", "uid", "uid:gid" (and mixes)
 * resolved on this host into the shim's -u value "UID:GID[:NAME]" (GID: the
 * group given, else the user's own, else 0 as Docker has it).  SL_OK, or
 * SL_ERR with <reason> (an unknown name; another user while sluiced is
 * not root). */
int task_exec_user(const char *spec, char *out, size_t cap, char *reason, size_t rlen);

/* main() for the shim: <argc>/<argv> from the options on (after
 * TASK_EXEC_ARG).  Returns only on failure: 126 or 127. */
int task_exec_main(int argc, char **argv);

#endif
