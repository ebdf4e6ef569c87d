/*
 * sched_retention.c - deleting stopped tasks past the retention (see
 * sched_retention.h).
 */
#define _GNU_SOURCE /* nftw's FTW_PHYS, FTW_MOUNT, FTW_DEPTH */
#include "server/sched_retention.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "server/sched_write.h"

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT) {
        log_warn("scheduler: cannot remove %s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

int sched_retention_remove_dir(const char *tasks_dir, const char *task_id)
{
    char path[4096 + 96];
    struct stat st;
    size_t i, n = strlen(task_id);

    if (n == 0 || n > 64)
        return SL_EINVAL;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)task_id[i]))
            return SL_EINVAL;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", tasks_dir, task_id) >= sizeof(path))
        return SL_EINVAL;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? SL_OK : SL_EIO;
    if (!S_ISDIR(st.st_mode))
        return remove(path) == 0 ? SL_OK : SL_EIO;
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 ? SL_OK : SL_EIO;
}

void sched_retention_sweep(struct sched_pass *p)
{
    size_t i;

    /* A directory that cannot be removed is reported (remove_one()) and
     * left; the record goes anyway, so that the warning is not repeated
     * every pass. */
    for (i = 0; i < p->nexpired; i++) {
        const char *slash = strchr(p->expired[i], '/');
        sched_retention_remove_dir(p->ctx->tasks_dir, slash ? slash + 1 : "");
    }
    sched_write_forget(p, p->expired, p->nexpired);
}
