/*
 * accesslog_line.h - one access log line in ALB's documented field order
 * and quoting (AWS "Access log entries"), which Athena's documented
 * RegexSerDe expression and GoAccess's AWSALB format parse:
 *
 *   type time elb client:port target:port request_processing_time
 *   target_processing_time response_processing_time elb_status_code
 *   target_status_code received_bytes sent_bytes "request" "user_agent"
 *   ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
 *   "chosen_cert_arn" matched_rule_priority request_creation_time
 *   "actions_executed" "redirect_url" "error_reason" "target:port_list"
 *   "target_status_code_list" "classification" "classification_reason"
 *   conn_trace_id
 *
 * Caveats:
 *  - Text from the client (request, user agent, the redirect built from it)
 *    is escaped with pxa_escape(): '"', '\', controls and bytes outside
 *    printable ASCII become \xHH, so a quoted field never holds a quote and
 *    a line never breaks.
 *  - Absent values are "-", times that did not happen -1, as ALB writes.
 *  - Pure functions; thread-safe.
 */
#ifndef SL_PROXY_ACCESSLOG_LINE_H
#define SL_PROXY_ACCESSLOG_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PXA_FIELD_MAX 8192 /* escaped client text per field (ALB cuts the user agent at 8 KB) */
#define PXA_PRIO_NONE (-2) /* matched_rule_priority "-" */

struct pxa_fields {
    const char *type;              /* "http", "https", "h2", "ws", "wss" */
    struct timespec time;          /* the response went out (or the connection closed) */
    struct timespec created;       /* request_creation_time */
    const char *elb;               /* "app/NAME/ID" */
    const char *client_ip;
    int client_port;
    const char *target;            /* "address:port", NULL: "-" */
    int64_t request_us, target_us, response_us; /* < 0: -1 */
    int elb_status, target_status; /* 0: "-" */
    uint64_t received, sent;
    const char *request;           /* escaped "METHOD URL VERSION", NULL: "- - - " */
    size_t request_len;
    const char *user_agent;        /* escaped, NULL: "-" */
    size_t user_agent_len;
    const char *ssl_cipher, *ssl_protocol; /* NULL: "-" */
    const char *target_group_arn;  /* NULL: "-" */
    const char *trace_id;          /* NULL or "": "-" */
    const char *domain_name, *chosen_cert_arn; /* NULL: "-" */
    int rule_priority;             /* PXA_PRIO_NONE: "-" */
    const char *actions;           /* "forward", "fixed-response", ... NULL: "-" */
    const char *redirect_url;      /* escaped, NULL: "-" */
    size_t redirect_url_len;
    const char *error_reason;      /* NULL: "-" */
    const char *classification, *classification_reason; /* NULL: "-" */
    const char *conn_trace_id;     /* NULL: "-" */
};

/* The line for <f> with its '\n' into <out> (<cap> bytes; fields are cut
 * to fit, never the newline).  Returns its length (<= cap, cap >= 4096). */
size_t pxa_format(char *out, size_t cap, const struct pxa_fields *f);

/* <s>[0..<n>) escaped into <out>, at most <cap> bytes written (an escape is
 * never cut).  Returns the bytes written. */
size_t pxa_escape(char *out, size_t cap, const char *s, size_t n);

#endif
