/*
 * lock.c - the data directory's lock (see lock.h).
 */
#include "store/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct store_lock {
    int fd;
};

static int mkdir_p(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);

    if (n == 0 || n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0700) == -1 && errno != EEXIST)
                return -1;
            path[i] = c;
        }
    }
    return 0;
}

/* The pid written in the lock file <fd>.  The holder writes it right
 * after it locks the file, so an empty file is one whose holder is just
 * starting: read again for up to a second.  0 if it never shows. */
static long holder_pid(int fd)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    char buf[32];
    int i;

    for (i = 0; i < 100; i++) {
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            return strtol(buf, NULL, 10);
        }
        nanosleep(&pause, NULL);
    }
    return 0;
}

/* The pid of another process with <dir>'s LMDB environment open: each
 * holds a read lock on byte 0 of lock.mdb for as long as it has it open.
 * 0 if none.  Only called before this process opens it, since closing any
 * descriptor of a file drops the process's own POSIX locks on it. */
static long lmdb_user(const char *dir)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    char path[4096];
    int fd;

    if (snprintf(path, sizeof(path), "%s/lock.mdb", dir) >= (int)sizeof(path))
        return 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    if (fcntl(fd, F_GETLK, &fl) != 0)
        fl.l_type = F_UNLCK;
    close(fd);
    return fl.l_type == F_UNLCK ? 0 : (long)fl.l_pid;
}

static int in_use(const char *dir, long pid, struct sl_err *err)
{
    sl_err_set(err, 409, "DataDirectoryInUse", "data directory %s is in use by pid %ld", dir,
               pid);
    return SL_EAGAIN;
}

int store_lock_take(const char *dir, struct store_lock **out, struct sl_err *err)
{
    struct store_lock *l;
    char path[4096], pid[32];
    long other;
    int fd, n;

    *out = NULL;
    if (mkdir_p(dir) != 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot create data directory %s: %s",
                          dir, strerror(errno));
    if (snprintf(path, sizeof(path), "%s/sluiced.lock", dir) >= (int)sizeof(path))
        return sl_err_set(err, 500, "InternalFailure", "data directory path too long: %s", dir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return sl_err_set(err, 500, "InternalFailure", "cannot open %s: %s", path,
                          strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        if (e == EWOULDBLOCK) {
            other = holder_pid(fd);
            close(fd);
            return in_use(dir, other, err);
        }
        close(fd);
        return sl_err_set(err, 500, "InternalFailure", "cannot lock %s: %s", path, strerror(e));
    }
    if ((other = lmdb_user(dir)) != 0) {
        close(fd); /* releases the lock, and the file stays as it was */
        return in_use(dir, other, err);
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n ||
        (l = malloc(sizeof(*l))) == NULL) {
        sl_err_set(err, 500, "InternalFailure", "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return SL_ERR;
    }
    l->fd = fd;
    *out = l;
    return SL_OK;
}

void store_lock_release(struct store_lock *l)
{
    if (l == NULL)
        return;
    close(l->fd);
    free(l);
}
