/*
 * task_dir.c - small state files of the task runtimes' directory.
 */
#include "server/task_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

int task_dir_make(const char *dir)
{
    char tmp[2048], *p;

    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

void task_dir_read(const char *dir, const char *name, char *out, size_t cap)
{
    char path[1200];
    FILE *f;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "re")) == NULL)
        return;
    if (fgets(out, (int)cap, f) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    fclose(f);
}

int task_dir_write(const char *dir, const char *name, const char *value)
{
    char path[1200], tmp[1300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((f = fopen(tmp, "we")) == NULL)
        return -1;
    fprintf(f, "%s\n", value);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        return -1;
    }
    fclose(f);
    return rename(tmp, path);
}

int task_dir_owner(const char *dir, char out[TASK_DIR_OWNER_LEN + 1], struct sl_err *err)
{
    if (task_dir_make(dir) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot create %s: %s", dir,
                          strerror(errno));
    task_dir_read(dir, "runtime-owner", out, TASK_DIR_OWNER_LEN + 1);
    if (strlen(out) == TASK_DIR_OWNER_LEN)
        return SL_OK;
    util_random_hex(out, TASK_DIR_OWNER_LEN / 2);
    if (task_dir_write(dir, "runtime-owner", out) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot write %s/runtime-owner: %s", dir,
                          strerror(errno));
    return SL_OK;
}
