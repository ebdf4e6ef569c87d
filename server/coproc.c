/*
 * coproc.c - the co-process record (coproc.h): a few "key value" lines.
 */
#include "server/coproc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

static int path_of(const char *dir, const char *name, char *out, size_t cap)
{
    return (size_t)snprintf(out, cap, "%s/%s", dir, name) < cap ? SL_OK : SL_EINVAL;
}

/* One "key value" line into <r>; SL_EINVAL for a malformed one. */
static int read_line(char *line, struct coproc_rec *r)
{
    char *v = strchr(line, ' '), *end;

    line[strcspn(line, "\r\n")] = '\0';
    if (v == NULL)
        return SL_EINVAL;
    *v++ = '\0';
    if (strcmp(line, "pid") == 0) {
        r->pid = strtol(v, &end, 10);
        return *end == '\0' && r->pid > 1 ? SL_OK : SL_EINVAL;
    }
    if (strcmp(line, "start") == 0) {
        r->start = strtoull(v, &end, 10);
        return *end == '\0' ? SL_OK : SL_EINVAL;
    }
    if (strcmp(line, "url") == 0)
        return (size_t)snprintf(r->url, sizeof(r->url), "%s", v) < sizeof(r->url) ? SL_OK
                                                                                 : SL_EINVAL;
    if (strcmp(line, "token") == 0)
        return (size_t)snprintf(r->token, sizeof(r->token), "%s", v) < sizeof(r->token)
                   ? SL_OK
                   : SL_EINVAL;
    return SL_OK; /* a key of a later version */
}

int coproc_read(const char *dir, struct coproc_rec *out)
{
    char path[1100], line[512];
    FILE *f;
    int rc = SL_OK;

    memset(out, 0, sizeof(*out));
    if (path_of(dir, "proxy.pid", path, sizeof(path)) != SL_OK)
        return SL_EINVAL;
    if ((f = fopen(path, "re")) == NULL)
        return errno == ENOENT ? SL_ENOTFOUND : SL_EINVAL;
    while (rc == SL_OK && fgets(line, sizeof(line), f))
        rc = read_line(line, out);
    fclose(f);
    explicit_bzero(line, sizeof(line));
    if (rc == SL_OK && (out->pid <= 1 || out->url[0] == '\0'))
        rc = SL_EINVAL;
    return rc;
}

int coproc_write(const char *dir, const struct coproc_rec *r)
{
    char path[1100], tmp[1100];
    FILE *f;
    int fd, bad;

    if (path_of(dir, "proxy.pid", path, sizeof(path)) != SL_OK ||
        path_of(dir, "proxy.pid.tmp", tmp, sizeof(tmp)) != SL_OK)
        return SL_EIO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        log_error("supervise: cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return SL_EIO;
    }
    fprintf(f, "pid %ld\nstart %llu\nurl %s\n", r->pid, r->start, r->url);
    if (r->token[0])
        fprintf(f, "token %s\n", r->token);
    bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        log_error("supervise: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return SL_EIO;
    }
    return SL_OK;
}

void coproc_remove(const char *dir)
{
    char path[1100];

    if (path_of(dir, "proxy.pid", path, sizeof(path)) == SL_OK)
        unlink(path);
}

int coproc_start_time(long pid, unsigned long long *out)
{
    char path[64], buf[1024], *p, *tok, *save = NULL;
    FILE *f;
    size_t n;
    int field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((f = fopen(path, "re")) == NULL)
        return SL_ENOTFOUND;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses,
     * so the fields are counted from the last ')'; starttime is field 22. */
    if ((p = strrchr(buf, ')')) == NULL)
        return SL_ENOTFOUND;
    for (field = 3, tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save),
        field++) {
        if (field == 3 && (tok[0] == 'Z' || tok[0] == 'X'))
            return SL_ENOTFOUND;
        if (field == 22) {
            *out = strtoull(tok, NULL, 10);
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}

int coproc_args_are(long pid, char *const argv[])
{
    char path[64], buf[4096];
    size_t len = 0, off = 0;
    ssize_t n;
    int fd, i;

    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (len == sizeof(buf)) /* longer than any command line sluiced gives */
        return 0;
    for (i = 0; argv[i]; i++) {
        size_t k = strlen(argv[i]) + 1;
        if (off + k > len || memcmp(buf + off, argv[i], k) != 0)
            return 0;
        off += k;
    }
    return off == len;
}

int coproc_runs(const struct coproc_rec *r, const char *bin)
{
    char exe[64];
    unsigned long long start;
    struct stat a, b;

    if (coproc_start_time(r->pid, &start) != SL_OK || start != r->start)
        return 0;
    snprintf(exe, sizeof(exe), "/proc/%ld/exe", r->pid);
    if (stat(exe, &a) != 0 || stat(bin, &b) != 0)
        return 0;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
