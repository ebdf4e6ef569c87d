#include "server/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "version.h"

static const char usage[] =
    "usage: sluiced [options]\n"
    "  --listen HOST:PORT    API address (default 127.0.0.1:7070)\n"
    "  --data-dir DIR        LMDB data directory (default ./sluice-data)\n"
    "  --region NAME         region in ARNs (default us-east-1)\n"
    "  --account-id ID       12-digit account in ARNs (default 000000000000)\n"
    "  --credentials FILE    AWS shared-credentials file; enables SigV4/Bearer auth\n"
    "  --allowed-hosts LIST  without credentials: host names besides loopback ones that\n"
    "                        requests (Host, Origin) may name, comma-separated\n"
    "  --max-connections N   open API connections at most (default 8192)\n"
    "  --max-connections-per-client N  from one client address (default 1024)\n"
    "  --client-timeout SECONDS  for a client to send its request or take its\n"
    "                        response, and for an idle connection (default 30)\n"
    "  --tls-cert FILE       serve the whole API over HTTPS with this PEM certificate\n"
    "                        (leaf first, then intermediates); needs --tls-key\n"
    "  --tls-key FILE        the certificate's PEM private key (unencrypted)\n"
    "  --log-level LEVEL     debug|info|warn|error (default info)\n"
    "  --log-format FORMAT   text (default) or json: one JSON object a line\n"
    "  --proxy-bin PATH      sluice-proxy binary (default: beside sluiced)\n"
    "  --no-proxy            run the control plane alone\n"
    "  --stop-proxy-on-exit  stop sluice-proxy when sluiced stops (by default it serves\n"
    "                        on, and the next sluiced on the data directory takes it back)\n"
    "  --changes-keep N      data-plane change records kept (default 100000)\n"
    "  --runtime NAME        ECS task runtime: auto (default: docker when an engine\n"
    "                        answers at --docker-host, else process), docker (real\n"
    "                        containers), process (host processes) or none (API only)\n"
    "  --docker-host URL     Docker Engine API (default $DOCKER_HOST, else\n"
    "                        unix:///var/run/docker.sock; Podman's service works too)\n"
    "  --task-host-address ADDR  host address task ports are published on and\n"
    "                        registered as targets (default 127.0.0.1)\n"
    "  --task-metadata-address ADDR[:PORT]  task metadata endpoint for containers\n"
    "                        (default: the engine's bridge gateway, port remembered)\n"
    "  --task-port-range LO-HI  dynamic host ports for tasks (default 49153-65535)\n"
    "  --task-dir DIR        task working dirs and logs (default <data-dir>/tasks)\n"
    "  --access-log-dir DIR  where its sluice-proxy writes load balancers' access logs,\n"
    "                        one tree per S3 bucket and prefix (default <data-dir>/access-logs)\n"
    "  --stopped-task-retention DURATION  stopped tasks (and their directories) are\n"
    "                        deleted this long after they stopped: 30s, 15m, 1h (default 1h)\n"
    "  --version             print the version and exit\n"
    "  --help                print this help and exit\n"
    "Each option may also be set as an environment variable SLUICE_<NAME>,\n"
    "e.g. SLUICE_DATA_DIR=/var/lib/sluice.\n";

enum opt_kind { OPT_STR, OPT_FLAG };

struct opt {
    const char *name;
    enum opt_kind kind;
};

static const struct opt opts[] = {
    {"listen", OPT_STR},      {"data-dir", OPT_STR},    {"region", OPT_STR},
    {"account-id", OPT_STR},  {"credentials", OPT_STR}, {"log-level", OPT_STR},
    {"log-format", OPT_STR},
    {"proxy-bin", OPT_STR},   {"no-proxy", OPT_FLAG},   {"changes-keep", OPT_STR},
    {"runtime", OPT_STR},     {"task-port-range", OPT_STR}, {"task-dir", OPT_STR},
    {"access-log-dir", OPT_STR},
    {"stopped-task-retention", OPT_STR}, {"docker-host", OPT_STR},
    {"task-host-address", OPT_STR}, {"task-metadata-address", OPT_STR},
    {"allowed-hosts", OPT_STR}, {"max-connections", OPT_STR},
    {"max-connections-per-client", OPT_STR}, {"client-timeout", OPT_STR},
    {"tls-cert", OPT_STR},    {"tls-key", OPT_STR},     {"stop-proxy-on-exit", OPT_FLAG},
    {NULL, OPT_STR},
};

static int copy(char *dst, size_t cap, const char *v, const char *name, char *errbuf,
                size_t errlen)
{
    if (strlen(v) >= cap) {
        snprintf(errbuf, errlen, "sluiced: --%s: value too long", name);
        return CONFIG_EXIT_USAGE;
    }
    strcpy(dst, v);
    return CONFIG_RUN;
}

static int valid_region(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
            return 0;
    return 1;
}

/* "<digits><s|m|h>", 1 s to 8760 h, into *out seconds; 0 on success. */
static int parse_duration(const char *v, unsigned long *out)
{
    char *end;
    unsigned long n, unit;

    if (!isdigit((unsigned char)*v))
        return -1;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno != 0 || end[0] == '\0' || end[1] != '\0')
        return -1;
    unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 0;
    if (unit == 0 || n == 0 || n > 8760UL * 3600 / unit)
        return -1;
    *out = n * unit;
    return 0;
}

/* A whole number in [lo, hi] into *out, else a usage error naming --<name>. */
static int count(const char *name, const char *v, long lo, long hi, int *out, char *errbuf,
                 size_t errlen)
{
    char *end;
    long n = strtol(v, &end, 10);

    if (!isdigit((unsigned char)*v) || *end != '\0' || n < lo || n > hi) {
        snprintf(errbuf, errlen, "sluiced: --%s: expected a whole number from %ld to %ld, got '%s'",
                 name, lo, hi, v);
        return CONFIG_EXIT_USAGE;
    }
    *out = (int)n;
    return CONFIG_RUN;
}

/* A flag: given alone, or as true/false (1/0) in the environment. */
static int flag(const char *name, const char *v, int *out, char *errbuf, size_t errlen)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || *v == '\0')
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else {
        snprintf(errbuf, errlen, "sluiced: --%s: expected true or false, got '%s'", name, v);
        return CONFIG_EXIT_USAGE;
    }
    return CONFIG_RUN;
}

/* The front door's flags (server/http.c, server/guard.c). */
static int apply_http(struct sl_config *cfg, const char *name, const char *v, char *errbuf,
                      size_t errlen)
{
    if (strcmp(name, "allowed-hosts") == 0)
        return copy(cfg->allowed_hosts, sizeof(cfg->allowed_hosts), v, name, errbuf, errlen);
    if (strcmp(name, "max-connections") == 0) {
        cfg->max_connections_set = 1;
        return count(name, v, 1, 1000000, &cfg->max_connections, errbuf, errlen);
    }
    if (strcmp(name, "max-connections-per-client") == 0)
        return count(name, v, 1, 1000000, &cfg->max_connections_per_client, errbuf, errlen);
    if (strcmp(name, "client-timeout") == 0)
        return count(name, v, 1, 3600, &cfg->client_timeout, errbuf, errlen);
    snprintf(errbuf, errlen, "sluiced: unknown option --%s", name);
    return CONFIG_EXIT_USAGE;
}

/* --log-level and --log-format. */
static int apply_log(struct sl_config *cfg, const char *name, const char *v, char *errbuf,
                     size_t errlen)
{
    int level = strcmp(name, "log-level") == 0;
    int x = level ? log_parse_level(v) : log_parse_format(v);

    if (x < 0) {
        snprintf(errbuf, errlen, "sluiced: --%s: expected %s, got '%s'", name,
                 level ? "debug|info|warn|error" : "text|json", v);
        return CONFIG_EXIT_USAGE;
    }
    if (level)
        cfg->log_level = x;
    else
        cfg->log_format = x;
    return CONFIG_RUN;
}

/* The ECS task runtime's options; the HTTP server's after them. */
static int apply_runtime(struct sl_config *cfg, const char *name, const char *v, char *errbuf,
                         size_t errlen)
{
    if (strcmp(name, "runtime") == 0) {
        if (strcmp(v, "auto") != 0 && strcmp(v, "docker") != 0 && strcmp(v, "process") != 0 &&
            strcmp(v, "none") != 0) {
            snprintf(errbuf, errlen,
                     "sluiced: --runtime: expected auto, docker, process or none, got '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        strcpy(cfg->runtime, v);
        return CONFIG_RUN;
    }
    if (strcmp(name, "docker-host") == 0) {
        if (strncmp(v, "unix:///", 8) != 0 && strncmp(v, "tcp://", 6) != 0) {
            snprintf(errbuf, errlen,
                     "sluiced: --docker-host: expected unix:///PATH or tcp://HOST:PORT, got '%s'",
                     v);
            return CONFIG_EXIT_USAGE;
        }
        return copy(cfg->docker_host, sizeof(cfg->docker_host), v, name, errbuf, errlen);
    }
    if (strcmp(name, "task-host-address") == 0) {
        struct in_addr a;
        if (inet_pton(AF_INET, v, &a) != 1) {
            snprintf(errbuf, errlen,
                     "sluiced: --task-host-address: expected an IPv4 address, got '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        return copy(cfg->task_host_address, sizeof(cfg->task_host_address), v, name, errbuf,
                    errlen);
    }
    if (strcmp(name, "task-metadata-address") == 0) {
        char host[64] = "";
        int port = 0;
        struct in_addr a;
        if (strchr(v, ':') == NULL)
            snprintf(host, sizeof(host), "%s", v);
        else if (util_parse_hostport(v, host, sizeof(host), &port) != 0)
            host[0] = '\0';
        if (inet_pton(AF_INET, host, &a) != 1) {
            snprintf(errbuf, errlen,
                     "sluiced: --task-metadata-address: expected IPV4[:PORT], got '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        return copy(cfg->task_metadata_address, sizeof(cfg->task_metadata_address), v, name,
                    errbuf, errlen);
    }
    if (strcmp(name, "task-port-range") == 0) {
        char *end;
        long lo = strtol(v, &end, 10), hi = -1;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        if (!isdigit((unsigned char)*v) || *end != '\0' || lo < 1 || hi > 65535 || lo > hi) {
            snprintf(errbuf, errlen,
                     "sluiced: --task-port-range: expected LO-HI within 1-65535, got '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        cfg->task_port_lo = (int)lo;
        cfg->task_port_hi = (int)hi;
        return CONFIG_RUN;
    }
    if (strcmp(name, "access-log-dir") == 0) {
        if (v[0] == '\0') {
            snprintf(errbuf, errlen, "sluiced: --access-log-dir: must not be empty");
            return CONFIG_EXIT_USAGE;
        }
        return copy(cfg->access_log_dir, sizeof(cfg->access_log_dir), v, name, errbuf, errlen);
    }
    if (strcmp(name, "task-dir") == 0) {
        if (*v == '\0') {
            snprintf(errbuf, errlen, "sluiced: --task-dir: must not be empty");
            return CONFIG_EXIT_USAGE;
        }
        return copy(cfg->task_dir, sizeof(cfg->task_dir), v, name, errbuf, errlen);
    }
    if (strcmp(name, "stopped-task-retention") == 0) {
        if (parse_duration(v, &cfg->stopped_task_retention_s) != 0) {
            snprintf(errbuf, errlen,
                     "sluiced: --stopped-task-retention: expected a duration from 1s to 8760h "
                     "such as 30s, 15m or 1h, got '%s'",
                     v);
            return CONFIG_EXIT_USAGE;
        }
        return CONFIG_RUN;
    }
    return apply_http(cfg, name, v, errbuf, errlen);
}

static int apply(struct sl_config *cfg, const char *name, const char *v, char *errbuf,
                 size_t errlen)
{
    if (strcmp(name, "listen") == 0) {
        if (util_parse_hostport(v, cfg->listen_host, sizeof(cfg->listen_host),
                                &cfg->listen_port) != 0) {
            snprintf(errbuf, errlen, "sluiced: --listen: expected HOST:PORT, got '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        return CONFIG_RUN;
    }
    if (strcmp(name, "data-dir") == 0) {
        if (*v == '\0') {
            snprintf(errbuf, errlen, "sluiced: --data-dir: must not be empty");
            return CONFIG_EXIT_USAGE;
        }
        return copy(cfg->data_dir, sizeof(cfg->data_dir), v, name, errbuf, errlen);
    }
    if (strcmp(name, "region") == 0) {
        if (!valid_region(v) || strlen(v) >= sizeof(cfg->region)) {
            snprintf(errbuf, errlen, "sluiced: --region: invalid region '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        strcpy(cfg->region, v);
        return CONFIG_RUN;
    }
    if (strcmp(name, "account-id") == 0) {
        size_t i;
        for (i = 0; v[i]; i++)
            if (!isdigit((unsigned char)v[i]))
                break;
        if (i != 12 || v[i] != '\0') {
            snprintf(errbuf, errlen, "sluiced: --account-id: expected 12 digits, got '%s'", v);
            return CONFIG_EXIT_USAGE;
        }
        strcpy(cfg->account_id, v);
        return CONFIG_RUN;
    }
    if (strcmp(name, "credentials") == 0)
        return copy(cfg->credentials, sizeof(cfg->credentials), v, name, errbuf, errlen);
    if (strncmp(name, "log-", 4) == 0)
        return apply_log(cfg, name, v, errbuf, errlen);
    if (strncmp(name, "tls-", 4) == 0)
        return copy(strcmp(name, "tls-cert") == 0 ? cfg->tls_cert : cfg->tls_key,
                    sizeof(cfg->tls_cert), v, name, errbuf, errlen);
    if (strcmp(name, "proxy-bin") == 0)
        return copy(cfg->proxy_bin, sizeof(cfg->proxy_bin), v, name, errbuf, errlen);
    if (strcmp(name, "no-proxy") == 0 || strcmp(name, "stop-proxy-on-exit") == 0)
        return flag(name, v, name[0] == 'n' ? &cfg->no_proxy : &cfg->stop_proxy_on_exit, errbuf,
                    errlen);
    if (strcmp(name, "changes-keep") == 0) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (!isdigit((unsigned char)*v) || *end != '\0' || n < 1 || n > 100000000ULL) {
            snprintf(errbuf, errlen,
                     "sluiced: --changes-keep: expected a count from 1 to 100000000, got '%s'",
                     v);
            return CONFIG_EXIT_USAGE;
        }
        cfg->changes_keep = n;
        return CONFIG_RUN;
    }
    return apply_runtime(cfg, name, v, errbuf, errlen);
}

int config_load(struct sl_config *cfg, int argc, char **argv, char *errbuf, size_t errlen)
{
    const struct opt *o;
    int i, rc;

    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 7070;
    strcpy(cfg->data_dir, "./sluice-data");
    strcpy(cfg->region, "us-east-1");
    strcpy(cfg->account_id, "000000000000");
    cfg->log_level = LOG_INFO;
    strcpy(cfg->runtime, "auto");
    {
        const char *dh = getenv("DOCKER_HOST");
        snprintf(cfg->docker_host, sizeof(cfg->docker_host), "%s",
                 dh && (strncmp(dh, "unix:///", 8) == 0 || strncmp(dh, "tcp://", 6) == 0)
                     ? dh
                     : "unix:///var/run/docker.sock");
    }
    strcpy(cfg->task_host_address, "127.0.0.1");
    cfg->task_port_lo = 49153;
    cfg->task_port_hi = 65535;
    cfg->stopped_task_retention_s = 3600; /* ECS keeps stopped tasks about an hour */
    cfg->max_connections = 8192;
    cfg->max_connections_per_client = 1024;
    cfg->client_timeout = 30;

    for (o = opts; o->name; o++) {
        char env[64], *p;
        const char *v;

        snprintf(env, sizeof(env), "SLUICE_%s", o->name);
        for (p = env; *p; p++)
            *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        v = getenv(env);
        if (v && (rc = apply(cfg, o->name, v, errbuf, errlen)) != CONFIG_RUN) {
            size_t n = strlen(errbuf);
            snprintf(errbuf + n, errlen - n, " (from %s)", env);
            return rc;
        }
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *val = NULL;
        char name[64];
        size_t nl;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return CONFIG_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            printf("sluiced %s\n", SLUICE_VERSION);
            return CONFIG_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(errbuf, errlen, "sluiced: unexpected argument '%s' (see --help)", a);
            return CONFIG_EXIT_USAGE;
        }
        a += 2;
        eq = strchr(a, '=');
        nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof(name)) {
            snprintf(errbuf, errlen, "sluiced: unknown option --%.40s", a);
            return CONFIG_EXIT_USAGE;
        }
        memcpy(name, a, nl);
        name[nl] = '\0';
        for (o = opts; o->name; o++)
            if (strcmp(o->name, name) == 0)
                break;
        if (o->name == NULL) {
            snprintf(errbuf, errlen, "sluiced: unknown option --%s (see --help)", name);
            return CONFIG_EXIT_USAGE;
        }
        if (o->kind == OPT_FLAG) {
            val = eq ? eq + 1 : "true";
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            snprintf(errbuf, errlen, "sluiced: --%s needs a value", name);
            return CONFIG_EXIT_USAGE;
        }
        if ((rc = apply(cfg, name, val, errbuf, errlen)) != CONFIG_RUN)
            return rc;
    }
    if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
        snprintf(errbuf, errlen, "sluiced: --tls-cert and --tls-key go together");
        return CONFIG_EXIT_USAGE;
    }
    return CONFIG_RUN;
}

int config_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}
