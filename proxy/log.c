/*
 * log.c - one line per event on stderr.
 */
#include "proxy/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int px_level = PX_LOG_INFO;

int px_log_parse(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void px_log_set_level(int level)
{
    px_level = level;
}

void px_log(int level, const char *fmt, ...)
{
    static const char *const tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[1024];
    va_list ap;
    int n;

    if (level < px_level)
        return;
    n = snprintf(line, sizeof(line), "sluice-proxy %s ", tags[level & 3]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
