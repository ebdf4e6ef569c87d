#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int min_level = LOG_INFO;
static const char *proc_name = "";
static const char *proc_sep = "";

int log_parse_level(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_set_level(int level)
{
    min_level = level;
}

void log_set_name(const char *name)
{
    proc_name = name;
    proc_sep = " ";
}

void log_msg(int level, const char *fmt, ...)
{
    static const char *const tags[] = {"debug", "info", "warn", "error"};
    char line[2048], ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;
    int n;

    if (level < min_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof(line), "%s.%03ldZ %s%s%s ", ts, now.tv_nsec / 1000000, proc_name,
                 proc_sep, tags[level]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
