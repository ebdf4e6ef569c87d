/*
 * log.h - the proxy's leveled logging to stderr (the proxy library does not
 * link the control plane's common/log.c).  The level is configuration, set
 * once at start-up.
 */
#ifndef SL_PROXY_LOG_H
#define SL_PROXY_LOG_H

enum { PX_LOG_DEBUG = 0, PX_LOG_INFO, PX_LOG_WARN, PX_LOG_ERROR };

/* "debug"/"info"/"warn"/"error" -> level, or -1. */
int px_log_parse(const char *s);
void px_log_set_level(int level);
void px_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
