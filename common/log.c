/*
 * log.c - text and JSON log lines.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int min_level = LOG_INFO;
static int format = LOG_TEXT;
static const char *proc_name = "";
static const char *proc_sep = "";
static const char *const tags[] = {"debug", "info", "warn", "error"};

int log_parse_level(const char *s)
{
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(s, tags[i]) == 0)
            return i;
    return -1;
}

void log_set_level(int level)
{
    min_level = level;
}

int log_parse_format(const char *s)
{
    return strcmp(s, "text") == 0 ? LOG_TEXT : strcmp(s, "json") == 0 ? LOG_JSON : -1;
}

void log_set_format(int f)
{
    format = f;
}

int log_get_format(void)
{
    return format;
}

int log_enabled(int level)
{
    return level >= min_level;
}

void log_set_name(const char *name)
{
    proc_name = name;
    proc_sep = " ";
}

struct line {
    char b[4 * LOG_LINE_MAX];
    size_t n;
    int cut; /* something did not fit */
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > sizeof(l->b) - 1 - l->n) {
        n = sizeof(l->b) - 1 - l->n;
        l->cut = 1;
    }
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

/* <s> as the inside of a JSON string. */
static void put_json(struct line *l, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            put(l, "\\", 1);
            put(l, s, 1);
        } else if (c < 0x20) {
            esc[4] = hexd[c >> 4];
            esc[5] = hexd[c & 15];
            put(l, esc, 6);
        } else
            put(l, s, 1);
    }
}

static void put_fields(struct line *l, const struct log_field *f, size_t n)
{
    char num[48];
    size_t i;
    int k;

    for (i = 0; i < n; i++) {
        put(l, ",\"", 2);
        put_json(l, f[i].key);
        put(l, "\":", 2);
        if (f[i].kind == 's' && f[i].s == NULL) {
            put(l, "null", 4);
        } else if (f[i].kind == 's') {
            put(l, "\"", 1);
            put_json(l, f[i].s);
            put(l, "\"", 1);
        } else {
            k = f[i].kind == 'i' ? snprintf(num, sizeof(num), "%lld", f[i].i)
                                 : snprintf(num, sizeof(num), "%.3f", f[i].f);
            put(l, num, k > 0 ? (size_t)k : 0);
        }
    }
}

static void json_line(struct line *l, const char *ts, int level, const char *msg,
                      const struct log_field *f, size_t n)
{
    l->n = 0;
    l->cut = 0;
    put(l, "{\"time\":\"", 9);
    put(l, ts, strlen(ts));
    put(l, "\",\"process\":\"", 13);
    put_json(l, proc_name);
    put(l, "\",\"level\":\"", 11);
    put(l, tags[level & 3], strlen(tags[level & 3]));
    put(l, "\",\"msg\":\"", 9);
    put_json(l, msg);
    put(l, "\"", 1);
    put_fields(l, f, n);
    put(l, "}", 1);
}

static void emit(int level, const struct log_field *f, size_t n, const char *fmt, va_list ap)
{
    char ts[40], msg[LOG_LINE_MAX];
    struct timespec now;
    struct tm tm;
    static __thread struct line l;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + 19, sizeof(ts) - 19, ".%03ldZ", now.tv_nsec / 1000000);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    l.n = 0;
    l.cut = 0;
    if (format == LOG_JSON) {
        json_line(&l, ts, level, msg, f, n);
        if (l.cut) { /* valid JSON still: the message cut, the fields left out */
            size_t k = 512;
            while (k > 0 && ((unsigned char)msg[k] & 0xC0) == 0x80)
                k--; /* not inside a UTF-8 character */
            msg[k] = '\0';
            json_line(&l, ts, level, msg, NULL, 0);
        }
    } else {
        put(&l, ts, strlen(ts));
        put(&l, " ", 1);
        put(&l, proc_name, strlen(proc_name));
        put(&l, proc_sep, strlen(proc_sep));
        put(&l, tags[level & 3], strlen(tags[level & 3]));
        put(&l, " ", 1);
        put(&l, msg, strlen(msg));
    }
    l.b[l.n] = '\0';
    fprintf(stderr, "%s\n", l.b);
}

void log_msg(int level, const char *fmt, ...)
{
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    emit(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_event(int level, const struct log_field *fields, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    emit(level, fields, n, fmt, ap);
    va_end(ap);
}
