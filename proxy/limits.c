/*
 * limits.c - RLIMIT_NOFILE and the connection budget.
 */
#include "proxy/limits.h"

#include <stdio.h>
#include <sys/resource.h>

#include "common/err.h"

/* The kernel's ceiling for any RLIMIT_NOFILE (fs.nr_open). */
static rlim_t nr_open(void)
{
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long long v = 0;

    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v > 0 ? (rlim_t)v : (rlim_t)1048576;
}

int px_limits_raise_nofile(long *soft, long *was)
{
    struct rlimit rl;
    rlim_t want;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return SL_EIO;
    *was = (long)rl.rlim_cur;
    want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > nr_open() ? nr_open() : rl.rlim_max;
    if (rl.rlim_cur < want) {
        struct rlimit up = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = want;
    }
    *soft = (long)rl.rlim_cur;
    return SL_OK;
}

long px_limits_conns_for(long nofile)
{
    long n = (nofile - PX_FD_RESERVE) / 2;

    return n > 0 ? n : 1;
}
