/*
 * log.h - leveled logging to stderr, one line per event.
 * The level is configuration: set once at start-up with log_set_level().
 */
#ifndef SL_COMMON_LOG_H
#define SL_COMMON_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Parse "debug"/"info"/"warn"/"error"; -1 if unknown. */
int log_parse_level(const char *s);
void log_set_level(int level);
/* Name printed after the timestamp (a static string), e.g. "sluice-proxy";
 * none by default. */
void log_set_name(const char *name);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
