/*
 * log.h - leveled logging to stderr, one line per event, as text for a
 * person or as JSON for a machine (--log-format json):
 *
 *   2024-05-01T12:00:00.123Z sluiced info RegisterTargets 200 0.4 ms ...
 *   {"time":"2024-05-01T12:00:00.123Z","process":"sluiced","level":"info",
 *    "msg":"RegisterTargets 200 0.4 ms ...","action":"RegisterTargets",...}
 *
 * log_event() adds named fields: JSON lines carry them as members after
 * "msg"; text lines show only the message, which should say the same in
 * words.
 *
 * Caveats:
 *  - The level, the format and the name are configuration: set once at
 *    start-up, before threads.
 *  - A line is written with one fprintf() of a buffer (at most
 *    LOG_LINE_MAX bytes; longer messages are cut), so lines of several
 *    threads never interleave.
 */
#ifndef SL_COMMON_LOG_H
#define SL_COMMON_LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 4096

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };
enum log_format { LOG_TEXT = 0, LOG_JSON = 1 };

/* Parse "debug"/"info"/"warn"/"error"; -1 if unknown. */
int log_parse_level(const char *s);
void log_set_level(int level);
/* Parse "text"/"json"; -1 if unknown. */
int log_parse_format(const char *s);
void log_set_format(int format);
int log_get_format(void);
/* 1 when a message of <level> would be written. */
int log_enabled(int level);
/* Name printed after the timestamp (a static string), e.g. "sluice-proxy";
 * none by default. */
void log_set_name(const char *name);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A named field of log_event(): a string (NULL is written as null), an
 * integer or a number. */
struct log_field {
    const char *key;
    int kind; /* 's', 'i', 'f' */
    const char *s;
    long long i;
    double f;
};
#define LOG_S(k, v) {(k), 's', (v), 0, 0}
#define LOG_I(k, v) {(k), 'i', NULL, (long long)(v), 0}
#define LOG_F(k, v) {(k), 'f', NULL, 0, (double)(v)}

void log_event(int level, const struct log_field *fields, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
