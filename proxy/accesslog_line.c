/*
 * accesslog_line.c - formatting a line without stdio: the workers format
 * one per request, so each field is written by hand (snprintf of a whole
 * line costs several times more).
 */
#include "proxy/accesslog_line.h"

#include <string.h>

/* A bounded writer: stops (and remembers) when the room runs out, keeping
 * the last byte for the newline. */
struct w {
    char *p, *end;
};

static void put(struct w *w, const char *s, size_t n)
{
    if (n > (size_t)(w->end - w->p))
        n = (size_t)(w->end - w->p);
    memcpy(w->p, s, n);
    w->p += n;
}

static void puts_(struct w *w, const char *s)
{
    put(w, s, strlen(s));
}

static void putc_(struct w *w, char c)
{
    if (w->p < w->end)
        *w->p++ = c;
}

static void put_u64(struct w *w, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(w, tmp + i, sizeof(tmp) - (size_t)i);
}

static void put_int(struct w *w, int v)
{
    if (v < 0) {
        putc_(w, '-');
        put_u64(w, (uint64_t)(-(int64_t)v));
    } else
        put_u64(w, (uint64_t)v);
}

/* Seconds with millisecond precision ("0.001"), -1 when negative. */
static void put_secs(struct w *w, int64_t us)
{
    uint64_t ms;
    char frac[3];

    if (us < 0) {
        puts_(w, "-1");
        return;
    }
    ms = ((uint64_t)us + 500) / 1000;
    put_u64(w, ms / 1000);
    putc_(w, '.');
    frac[0] = (char)('0' + ms % 1000 / 100);
    frac[1] = (char)('0' + ms % 100 / 10);
    frac[2] = (char)('0' + ms % 10);
    put(w, frac, 3);
}

/* "2018-07-02T22:23:00.186641Z"; the calendar part is cached per thread. */
static void put_time(struct w *w, const struct timespec *ts)
{
    static __thread time_t cached = -1;
    static __thread char day[20];
    char us[8];
    long u = ts->tv_nsec / 1000;
    int i;

    if (ts->tv_sec != cached) {
        struct tm tm;
        gmtime_r(&ts->tv_sec, &tm);
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        cached = ts->tv_sec;
    }
    put(w, day, 19);
    us[0] = '.';
    for (i = 6; i >= 1; i--) {
        us[i] = (char)('0' + u % 10);
        u /= 10;
    }
    us[7] = 'Z';
    put(w, us, 8);
}

static void put_or_dash(struct w *w, const char *s)
{
    puts_(w, s && *s ? s : "-");
}

static void put_quoted(struct w *w, const char *s, size_t n)
{
    putc_(w, '"');
    if (s)
        put(w, s, n);
    else
        putc_(w, '-');
    putc_(w, '"');
}

static void put_quoted_str(struct w *w, const char *s)
{
    put_quoted(w, s && *s ? s : NULL, s ? strlen(s) : 0);
}

static void put_status(struct w *w, int status)
{
    if (status > 0)
        put_u64(w, (uint64_t)status);
    else
        putc_(w, '-');
}

size_t pxa_escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0, i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o + 1 > cap)
                break;
            out[o++] = (char)c;
            continue;
        }
        if (o + 4 > cap)
            break;
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hexd[c >> 4];
        out[o++] = hexd[c & 15];
    }
    return o;
}

/* The fields up to the request's, which hold no client text but the
 * target's. */
static void head_fields(struct w *w, const struct pxa_fields *f)
{
    put_or_dash(w, f->type);
    putc_(w, ' ');
    put_time(w, &f->time);
    putc_(w, ' ');
    put_or_dash(w, f->elb);
    putc_(w, ' ');
    puts_(w, f->client_ip);
    putc_(w, ':');
    put_int(w, f->client_port);
    putc_(w, ' ');
    put_or_dash(w, f->target);
    putc_(w, ' ');
    put_secs(w, f->request_us);
    putc_(w, ' ');
    put_secs(w, f->target_us);
    putc_(w, ' ');
    put_secs(w, f->response_us);
    putc_(w, ' ');
    put_status(w, f->elb_status);
    putc_(w, ' ');
    put_status(w, f->target_status);
    putc_(w, ' ');
    put_u64(w, f->received);
    putc_(w, ' ');
    put_u64(w, f->sent);
    putc_(w, ' ');
}

size_t pxa_format(char *out, size_t cap, const struct pxa_fields *f)
{
    struct w w = {out, out + cap - 1};

    head_fields(&w, f);
    if (f->request)
        put_quoted(&w, f->request, f->request_len);
    else
        puts_(&w, "\"- - - \"");
    putc_(&w, ' ');
    put_quoted(&w, f->user_agent, f->user_agent_len);
    putc_(&w, ' ');
    put_or_dash(&w, f->ssl_cipher);
    putc_(&w, ' ');
    put_or_dash(&w, f->ssl_protocol);
    putc_(&w, ' ');
    put_or_dash(&w, f->target_group_arn);
    putc_(&w, ' ');
    put_quoted_str(&w, f->trace_id);
    putc_(&w, ' ');
    put_quoted_str(&w, f->domain_name);
    putc_(&w, ' ');
    put_quoted_str(&w, f->chosen_cert_arn);
    putc_(&w, ' ');
    if (f->rule_priority == PXA_PRIO_NONE)
        putc_(&w, '-');
    else
        put_int(&w, f->rule_priority);
    putc_(&w, ' ');
    put_time(&w, &f->created);
    putc_(&w, ' ');
    put_quoted_str(&w, f->actions);
    putc_(&w, ' ');
    put_quoted(&w, f->redirect_url, f->redirect_url_len);
    putc_(&w, ' ');
    put_quoted_str(&w, f->error_reason);
    putc_(&w, ' ');
    /* target:port_list and target_status_code_list: the one target tried */
    put_quoted_str(&w, f->target);
    putc_(&w, ' ');
    putc_(&w, '"');
    put_status(&w, f->target_status);
    putc_(&w, '"');
    putc_(&w, ' ');
    put_quoted_str(&w, f->classification);
    putc_(&w, ' ');
    put_quoted_str(&w, f->classification_reason);
    putc_(&w, ' ');
    put_or_dash(&w, f->conn_trace_id);
    *w.p++ = '\n';
    return (size_t)(w.p - out);
}
