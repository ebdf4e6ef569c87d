/*
 * attr_tables.c - every attribute key AWS has for Application Load
 * Balancers, their target groups and listeners (and the keys of the other
 * types, refused as AWS refuses them), with what sluice does with each.
 * The README's attribute table says the same; tests/integration/
 * test_elbv2_attributes.py holds the two together.
 */
#include "routes/elbv2/attrs.h"

static const char *const only_false[] = {"false", NULL};
static const char *const only_empty[] = {"", NULL};
static const char *const only_off[] = {"off", NULL};
static const char *const only_one[] = {"1", NULL};

static const char *const desync_modes[] = {"monitor", "defensive", "strictest", NULL};
static const char *const xff_modes[] = {"append", "preserve", "remove", NULL};
static const char *const algorithms[] = {"round_robin", "least_outstanding_requests",
                                         "weighted_random", NULL};
static const char *const on_off[] = {"on", "off", NULL};
static const char *const stickiness_types[] = {"lb_cookie", "app_cookie", NULL};
static const char *const cross_zone[] = {"true", "false", "use_load_balancer_configuration",
                                         NULL};
static const char *const cross_zone_ok[] = {"true", "use_load_balancer_configuration", NULL};

#define NO_HC_LOGS "sluice writes no health check logs (transitions are in sluice-proxy's log)"
#define NO_HEADERS "sluice-proxy adds no such response header"
#define NO_TLS "sluice-proxy adds no TLS details to requests"

/* An S3 log family of three keys: only "off" is what sluice does. */
#define S3_LOGS(prefix, why)                                                                    \
    {prefix ".enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_VALUES, only_false, why},         \
        {prefix ".bucket", "", ATTR_STR, 0, 1024, NULL, ATTR_VALUES, only_empty, why},         \
        {prefix ".prefix", "", ATTR_STR, 0, 1024, NULL, ATTR_VALUES, only_empty, why}

/* ALB's access logs, written by sluice-proxy (proxy/accesslog.h); the
 * destination is checked in lb.c. */
#define ACCESS_LOGS_WHY "ALB access logs, in a directory named by the bucket under sluice-proxy's " \
                        "--access-log-dir"

/* ALB's connection logs (one line per TLS handshake on HTTPS listeners),
 * written by sluice-proxy (proxy/accesslog_conn.h) beside the access logs. */
#define CONN_LOGS_WHY "ALB connection logs of HTTPS listeners' TLS handshakes, in a directory " \
                      "named by the bucket under sluice-proxy's --access-log-dir"

static const struct elb_attr lb_attrs[] = {
    {"access_logs.s3.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL, ACCESS_LOGS_WHY},
    {"access_logs.s3.bucket", "", ATTR_STR, 0, 1024, NULL, ATTR_DONE, NULL, ACCESS_LOGS_WHY},
    {"access_logs.s3.prefix", "", ATTR_STR, 0, 1024, NULL, ATTR_DONE, NULL, ACCESS_LOGS_WHY},
    {"client_keep_alive.seconds", "3600", ATTR_INT, 60, 604800, NULL, ATTR_DONE, NULL,
     "a client connection older than this gets Connection: close on its next response"},
    {"connection_logs.s3.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL, CONN_LOGS_WHY},
    {"connection_logs.s3.bucket", "", ATTR_STR, 0, 1024, NULL, ATTR_DONE, NULL, CONN_LOGS_WHY},
    {"connection_logs.s3.prefix", "", ATTR_STR, 0, 1024, NULL, ATTR_DONE, NULL, CONN_LOGS_WHY},
    {"deletion_protection.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL,
     "DeleteLoadBalancer is refused while it is true"},
    S3_LOGS("health_check_logs.s3", NO_HC_LOGS),
    {"idle_timeout.timeout_seconds", "60", ATTR_INT, 1, 4000, NULL, ATTR_DONE, NULL,
     "an idle client connection closes after it; a target silent for it gets a 504"},
    {"ipv6.deny_all_igw_traffic", "false", ATTR_BOOL, 0, 0, NULL, ATTR_FIXED, NULL,
     "listeners bind IPv4 addresses only; there is no internet gateway"},
    {"load_balancing.cross_zone.enabled", "true", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL,
     "always true for Application Load Balancers, as on AWS"},
    {"routing.http.desync_mitigation_mode", "defensive", ATTR_ENUM, 0, 0, desync_modes,
     ATTR_DONE, NULL,
     "what sluice-proxy does with requests of ALB's classes Acceptable, Ambiguous and "
     "Severe (Severe ones get 400 in every mode)"},
    {"routing.http.drop_invalid_header_fields.enabled", "false", ATTR_BOOL, 0, 0, NULL,
     ATTR_DONE, NULL, "header fields whose name is not [-A-Za-z0-9] are not forwarded"},
    {"routing.http.preserve_host_header.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_DONE,
     NULL, "true: targets get the client's Host as sent; false: without a port unless it is "
     "not the listener's"},
    {"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false", ATTR_BOOL, 0, 0, NULL,
     ATTR_DONE, NULL,
     "HTTPS listeners add x-amzn-tls-version and x-amzn-tls-cipher-suite to requests"},
    {"routing.http.xff_client_port.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL,
     "the client's port in X-Forwarded-For (append mode)"},
    {"routing.http.xff_header_processing.mode", "append", ATTR_ENUM, 0, 0, xff_modes,
     ATTR_DONE, NULL, "X-Forwarded-For to targets: the client appended, kept as sent, or removed"},
    {"routing.http2.enabled", "true", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL,
     "HTTP/2 applies to HTTPS listeners only, as on AWS; HTTP listeners speak HTTP/1.1"},
    {"waf.fail_open.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_VALUES, only_false,
     "there is no WAF to fail open from"},
    {"zonal_shift.config.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_VALUES, only_false,
     "one host, no zones to shift away from"},
    /* Network and Gateway Load Balancers' keys. */
    {"dns_record.client_routing_policy", "", ATTR_STR, 0, 64, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {"secondary_ips.auto_assigned.per_subnet", "", ATTR_STR, 0, 64, NULL, ATTR_OTHER_TYPE, NULL,
     NULL},
    {NULL, NULL, ATTR_STR, 0, 0, NULL, ATTR_DONE, NULL, NULL},
};

const struct elb_attr_table elb_lb_attr_table = {
    "Load balancer", "on load balancers with type 'application'", lb_attrs};

static const struct elb_attr tg_attrs[] = {
    {"deregistration_delay.timeout_seconds", "300", ATTR_INT, 0, 3600, NULL, ATTR_DONE, NULL,
     "how long a deregistered target drains (ends early once every proxy reports it idle)"},
    {"load_balancing.algorithm.type", "round_robin", ATTR_ENUM, 0, 0, algorithms, ATTR_DONE,
     NULL, "how sluice-proxy picks a target"},
    {"load_balancing.algorithm.anomaly_mitigation", "off", ATTR_ENUM, 0, 0, on_off, ATTR_VALUES,
     only_off, "sluice-proxy does no anomaly mitigation"},
    {"load_balancing.cross_zone.enabled", "use_load_balancer_configuration", ATTR_ENUM, 0, 0,
     cross_zone, ATTR_VALUES, cross_zone_ok,
     "every target gets traffic whatever its zone (there is one host)"},
    {"slow_start.duration_seconds", "0", ATTR_INT, 0, 900, NULL, ATTR_DONE, NULL,
     "a new target's share of requests ramps up over this time"},
    {"stickiness.enabled", "false", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL,
     "a client's requests go to the target its cookie names while that target is healthy"},
    {"stickiness.type", "lb_cookie", ATTR_ENUM, 0, 0, stickiness_types, ATTR_DONE, NULL,
     "AWSALB or the application's cookie"},
    {"stickiness.lb_cookie.duration_seconds", "86400", ATTR_INT, 1, 604800, NULL, ATTR_DONE,
     NULL, "the AWSALB/AWSALBCORS cookies' lifetime (Expires, renewed on each response)"},
    {"stickiness.app_cookie.cookie_name", "", ATTR_STR, 0, 255, NULL, ATTR_DONE, NULL,
     "the target's cookie: when a response sets it, the proxy sets AWSALBAPP-0..3"},
    {"stickiness.app_cookie.duration_seconds", "86400", ATTR_INT, 1, 604800, NULL, ATTR_DONE,
     NULL, "how long after the target last set its cookie the AWSALBAPP-0 cookie holds"},
    {"target_group_health.dns_failover.minimum_healthy_targets.count", "1", ATTR_STR, 0, 16,
     NULL, ATTR_FIXED, NULL, "sluice serves no DNS records to fail over"},
    {"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off", ATTR_STR, 0,
     16, NULL, ATTR_FIXED, NULL, "sluice serves no DNS records to fail over"},
    {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1", ATTR_STR,
     0, 16, NULL, ATTR_VALUES, only_one,
     "sluice-proxy fails open to every target only when none is healthy"},
    {"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off",
     ATTR_STR, 0, 16, NULL, ATTR_VALUES, only_off,
     "sluice-proxy fails open to every target only when none is healthy"},
    /* Network, Gateway and Lambda target groups' keys. */
    {"deregistration_delay.connection_termination.enabled", "", ATTR_STR, 0, 8, NULL,
     ATTR_OTHER_TYPE, NULL, NULL},
    {"lambda.multi_value_headers.enabled", "", ATTR_STR, 0, 8, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {"preserve_client_ip.enabled", "", ATTR_STR, 0, 8, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {"proxy_protocol_v2.enabled", "", ATTR_STR, 0, 8, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {"target_failover.on_deregistration", "", ATTR_STR, 0, 32, NULL, ATTR_OTHER_TYPE, NULL,
     NULL},
    {"target_failover.on_unhealthy", "", ATTR_STR, 0, 32, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {"target_health_state.unhealthy.connection_termination.enabled", "", ATTR_STR, 0, 8, NULL,
     ATTR_OTHER_TYPE, NULL, NULL},
    {"target_health_state.unhealthy.draining_interval_seconds", "", ATTR_STR, 0, 8, NULL,
     ATTR_OTHER_TYPE, NULL, NULL},
    {NULL, NULL, ATTR_STR, 0, 0, NULL, ATTR_DONE, NULL, NULL},
};

const struct elb_attr_table elb_tg_attr_table = {
    "Target group", "for target groups with the HTTP protocol", tg_attrs};

/* A response header an HTTP(S) listener may add: only "" (none) is what
 * sluice-proxy does. */
#define RESPONSE_HEADER(name)                                                                   \
    {"routing.http.response." name ".header_value", "", ATTR_STR, 0, 1024, NULL, ATTR_VALUES,  \
     only_empty, NO_HEADERS}

#define HTTP_LISTENER_ATTRS                                                                     \
    {"routing.http.response.server.enabled", "true", ATTR_BOOL, 0, 0, NULL, ATTR_DONE, NULL,    \
     "the Server header on the responses sluice-proxy makes itself"},                          \
        RESPONSE_HEADER("strict_transport_security"),                                           \
        RESPONSE_HEADER("access_control_allow_origin"),                                         \
        RESPONSE_HEADER("access_control_allow_methods"),                                        \
        RESPONSE_HEADER("access_control_allow_headers"),                                        \
        RESPONSE_HEADER("access_control_allow_credentials"),                                    \
        RESPONSE_HEADER("access_control_expose_headers"),                                       \
        RESPONSE_HEADER("access_control_max_age"),                                              \
        RESPONSE_HEADER("content_security_policy"),                                             \
        RESPONSE_HEADER("x_content_type_options"), RESPONSE_HEADER("x_frame_options")

/* A request header naming a TLS or mTLS detail: HTTPS listeners only. */
#define TLS_HEADER(name, support)                                                               \
    {"routing.http.request." name ".header_name", "", ATTR_STR, 0, 40, NULL, support,          \
     only_empty, NO_TLS}

#define TLS_HEADERS(support)                                                                    \
    TLS_HEADER("x_amzn_mtls_clientcert_serial_number", support),                                \
        TLS_HEADER("x_amzn_mtls_clientcert_issuer", support),                                   \
        TLS_HEADER("x_amzn_mtls_clientcert_subject", support),                                  \
        TLS_HEADER("x_amzn_mtls_clientcert_validity", support),                                 \
        TLS_HEADER("x_amzn_mtls_clientcert_leaf", support),                                     \
        TLS_HEADER("x_amzn_mtls_clientcert", support),                                          \
        TLS_HEADER("x_amzn_tls_version", support), TLS_HEADER("x_amzn_tls_cipher_suite", support)

static const struct elb_attr listener_http_attrs[] = {
    HTTP_LISTENER_ATTRS,
    TLS_HEADERS(ATTR_OTHER_TYPE),
    {"tcp.idle_timeout.seconds", "", ATTR_STR, 0, 8, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {NULL, NULL, ATTR_STR, 0, 0, NULL, ATTR_DONE, NULL, NULL},
};

static const struct elb_attr listener_https_attrs[] = {
    HTTP_LISTENER_ATTRS,
    TLS_HEADERS(ATTR_VALUES),
    {"tcp.idle_timeout.seconds", "", ATTR_STR, 0, 8, NULL, ATTR_OTHER_TYPE, NULL, NULL},
    {NULL, NULL, ATTR_STR, 0, 0, NULL, ATTR_DONE, NULL, NULL},
};

const struct elb_attr_table elb_listener_http_attr_table = {
    "Listener", "for listeners with the HTTP protocol", listener_http_attrs};
const struct elb_attr_table elb_listener_https_attr_table = {
    "Listener", "for listeners with the HTTPS protocol", listener_https_attrs};
