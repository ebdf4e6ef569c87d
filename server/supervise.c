#include "server/supervise.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "server/config.h"
#include "server/coproc.h"

extern char **environ;

#define MAX_ARGS 32
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_MS 30000

struct supervisor {
    char *argv[MAX_ARGS + 1];
    char **envp; /* environ, extra_env, and unless <keep> SLUICE_PARENT_PID (the
                  * child dies with us) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    pid_t pid;
    /* The proxy co-process only (supervise_proxy_start): */
    int keep;              /* the child outlives us; else it is stopped with us */
    char dir[1024];        /* the data directory, for its record (coproc.h); "" none */
    struct coproc_rec rec; /* the record: the running proxy, its URL and token */
    int adopted;           /* rec.pid was started by an earlier sluiced */
};

void supervise_spawnattr(posix_spawnattr_t *attr, short flags)
{
    sigset_t none, all;

    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(attr);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setflags(attr, (short)(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags));
}

static pid_t spawn(struct supervisor *s)
{
    posix_spawnattr_t attr;
    pid_t pid;
    int rc;

    supervise_spawnattr(&attr, 0);
    rc = posix_spawn(&pid, s->argv[0], NULL, &attr, s->argv, s->envp);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        log_error("supervise: cannot start %s: %s", s->argv[0], strerror(rc));
        return -1;
    }
    log_info("supervise: started %s (pid %d)", s->argv[0], (int)pid);
    if (s->dir[0]) {
        s->rec.pid = (long)pid;
        if (coproc_start_time(s->rec.pid, &s->rec.start) == SL_OK)
            coproc_write(s->dir, &s->rec);
    }
    return pid;
}

/* Sleep up to <ms>, returning early when stopping; returns s->stopping. */
static int nap(struct supervisor *s, int ms)
{
    struct timespec ts;
    int stopping;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&s->mu);
    if (!s->stopping)
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stopping;
}

/* Stop child <pid>: SIGTERM, then SIGKILL after 5 s; reaped. */
static void stop_child(pid_t pid, int *status)
{
    int waited;

    kill(pid, SIGTERM);
    for (waited = 0; waited < 5000; waited += 50) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return;
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
}

static void set_pid(struct supervisor *s, pid_t pid)
{
    pthread_mutex_lock(&s->mu);
    s->pid = pid;
    pthread_mutex_unlock(&s->mu);
}

/* Watch the proxy an earlier sluiced started (not our child: no waitpid)
 * until it ends or we stop.  1 when stopping (it keeps running). */
static int watch_adopted(struct supervisor *s)
{
    unsigned long long start;

    log_info("supervise: took back %s (pid %ld) started by an earlier sluiced", s->argv[0],
             s->rec.pid);
    set_pid(s, (pid_t)s->rec.pid);
    while (coproc_start_time(s->rec.pid, &start) == SL_OK && start == s->rec.start)
        if (nap(s, 100))
            return 1;
    log_warn("supervise: %s (pid %ld) ended", s->argv[0], s->rec.pid);
    set_pid(s, 0);
    return 0;
}

/* Wait for child <pid> to end (1, *<status> set) or for stop (0). */
static int wait_child(struct supervisor *s, pid_t pid, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r == -1 && errno != EINTR))
            return 1;
        if (nap(s, 100))
            return 0;
    }
}

static void *supervise_main(void *arg)
{
    struct supervisor *s = arg;
    int backoff = BACKOFF_MIN_MS;

    if (s->adopted && watch_adopted(s))
        return NULL;
    while (!nap(s, 0)) {
        uint64_t started = util_mono_ms();
        pid_t pid = spawn(s);
        int status = 0;

        set_pid(s, pid > 0 ? pid : 0);
        if (pid > 0 && !wait_child(s, pid, &status)) {
            if (s->keep) { /* it serves on, for the next sluiced to take back */
                log_info("supervise: leaving %s (pid %d) running", s->argv[0], (int)pid);
                return NULL;
            }
            stop_child(pid, &status);
            if (s->dir[0])
                coproc_remove(s->dir);
            set_pid(s, 0);
            return NULL;
        }
        set_pid(s, 0);
        if (pid > 0) {
            if (WIFSIGNALED(status))
                log_warn("supervise: %s (pid %d) killed by signal %d", s->argv[0], (int)pid,
                         WTERMSIG(status));
            else
                log_warn("supervise: %s (pid %d) exited with %d", s->argv[0], (int)pid,
                         WEXITSTATUS(status));
        }
        if (util_mono_ms() - started > STABLE_MS)
            backoff = BACKOFF_MIN_MS;
        log_info("supervise: restarting in %d ms", backoff);
        if (nap(s, backoff))
            break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

static void free_env(struct supervisor *s)
{
    char **e;

    for (e = s->envp; e && *e; e++) {
        explicit_bzero(*e, strlen(*e)); /* the co-process's token */
        free(*e);
    }
    free(s->envp);
}

/* Variables sluiced sets for its child, never passed through from its own
 * environment. */
static int ours(const char *var)
{
    return strncmp(var, "SLUICE_PARENT_PID=", 18) == 0 ||
           strncmp(var, "SLUICE_PROXY_TOKEN=", 19) == 0;
}

static int build_env(struct supervisor *s, char *const extra_env[], int tie)
{
    size_t n = 0, k = 0, i, j = 0;
    char pid[48];

    while (environ[n])
        n++;
    while (extra_env && extra_env[k])
        k++;
    s->envp = calloc(n + k + 2, sizeof(char *));
    if (s->envp == NULL)
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        if (!ours(environ[i]))
            s->envp[j++] = strdup(environ[i]);
    for (i = 0; i < k; i++)
        s->envp[j++] = strdup(extra_env[i]);
    if (tie) {
        snprintf(pid, sizeof(pid), "SLUICE_PARENT_PID=%ld", (long)getpid());
        s->envp[j] = strdup(pid);
    }
    return SL_OK;
}

static void free_argv(struct supervisor *s)
{
    int i;

    for (i = 0; s->argv[i]; i++)
        free(s->argv[i]);
}

/* A supervisor of <argv> not yet running (run() starts it). */
static struct supervisor *prepare(char *const argv[], char *const extra_env[], int keep)
{
    struct supervisor *s = calloc(1, sizeof(*s));
    int i;

    if (s == NULL)
        return NULL;
    for (i = 0; argv[i] && i < MAX_ARGS; i++)
        s->argv[i] = strdup(argv[i]);
    s->keep = keep;
    if (build_env(s, extra_env, !keep) != SL_OK) {
        free_argv(s);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static void destroy(struct supervisor *s)
{
    free_argv(s);
    free_env(s);
    explicit_bzero(&s->rec, sizeof(s->rec));
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static int run(struct supervisor *s, struct supervisor **out)
{
    if (pthread_create(&s->thread, NULL, supervise_main, s) != 0) {
        destroy(s);
        return SL_ERR;
    }
    *out = s;
    return SL_OK;
}

int supervise_start(char *const argv[], char *const extra_env[], struct supervisor **out)
{
    struct supervisor *s = prepare(argv, extra_env, 0);

    return s ? run(s, out) : SL_ENOMEM;
}

int supervise_pid(struct supervisor *s)
{
    int pid;

    pthread_mutex_lock(&s->mu);
    pid = (int)s->pid;
    pthread_mutex_unlock(&s->mu);
    return pid;
}

void supervise_stop(struct supervisor *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    destroy(s);
}

int supervise_sibling(const char *name, char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n <= 0)
        return SL_ERR;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL)
        return SL_ERR;
    *slash = '\0';
    if ((size_t)snprintf(out, cap, "%s/%s", self, name) >= cap)
        return SL_ERR;
    return SL_OK;
}

/* Where the co-process reaches us: the listen address itself, or loopback
 * when sluiced listens on every address; over HTTPS when sluiced serves it
 * (contracts/https-feed.md), verified against sluiced's own certificate. */
static void proxy_url(const struct sl_config *cfg, int port, char *out, size_t cap)
{
    const char *host = cfg->listen_host;
    int v6 = strchr(host, ':') != NULL;

    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0 || strcmp(host, "::0") == 0)
        host = "::1";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1"; /* what sluiced binds for it */
    snprintf(out, cap, "%s://%s%s%s:%d", cfg->tls_cert[0] ? "https" : "http", v6 ? "[" : "",
             host, v6 ? "]" : "", port);
}

/* Stop the proxy <r> an earlier sluiced started (not our child): SIGTERM,
 * SIGKILL after 5 s, and wait until it is gone, so that it holds no
 * listener port when ours starts. */
static void retire(const struct coproc_rec *r, const char *why)
{
    unsigned long long start;
    int waited, sig = SIGTERM;

    log_info("supervise: stopping sluice-proxy (pid %ld) of an earlier sluiced: %s", r->pid, why);
    kill((pid_t)r->pid, sig);
    for (waited = 0; waited < 6000; waited += 50) {
        if (coproc_start_time(r->pid, &start) != SL_OK || start != r->start)
            return;
        if (waited == 5000 && sig == SIGTERM) {
            sig = SIGKILL;
            kill((pid_t)r->pid, sig);
        }
        usleep(50 * 1000);
    }
    log_warn("supervise: sluice-proxy (pid %ld) did not stop", r->pid);
}

/* The record's process, when it is still the one recorded (a pid reused
 * since is someone else's): into <r>, 1; else 0. */
static int live_record(const char *dir, struct coproc_rec *r)
{
    unsigned long long start;

    return coproc_read(dir, r) == SL_OK && coproc_start_time(r->pid, &start) == SL_OK &&
           start == r->start;
}

int supervise_proxy_token(const struct sl_config *cfg, char *out, size_t cap)
{
    struct coproc_rec r;
    int rc = SL_ENOTFOUND;

    if (!cfg->stop_proxy_on_exit && live_record(cfg->data_dir, &r) && r.token[0] &&
        strlen(r.token) < cap) {
        memcpy(out, r.token, strlen(r.token) + 1);
        rc = SL_OK;
    }
    explicit_bzero(&r, sizeof(r));
    return rc;
}

/* Take back the proxy of an earlier sluiced when it runs <bin> for <url>
 * with <token> and the arguments we would give ours; stop it when it does
 * not (or we do not keep ours). */
static void take_back(struct supervisor *s, const char *bin)
{
    struct coproc_rec old;

    if (!live_record(s->dir, &old))
        return;
    if (!s->keep)
        retire(&old, "--stop-proxy-on-exit starts a proxy of its own");
    else if (!coproc_runs(&old, bin))
        retire(&old, "it runs another binary");
    else if (strcmp(old.url, s->rec.url) != 0)
        retire(&old, "it follows another URL");
    else if (strcmp(old.token, s->rec.token) != 0)
        retire(&old, "its credentials differ");
    else if (!coproc_args_are(old.pid, s->argv))
        retire(&old, "its options differ (--log-format, --ca, --access-log-dir)");
    else {
        s->rec.pid = old.pid;
        s->rec.start = old.start;
        s->adopted = 1;
    }
    explicit_bzero(&old, sizeof(old));
}

int supervise_proxy_start(const struct sl_config *cfg, int port, const char *token,
                          struct supervisor **out)
{
    char bin[1024], url[320], env[128], logs[1100];
    char *argv[16], *envp[2] = {NULL, NULL};
    struct supervisor *s;
    int n = 0;

    *out = NULL;
    if (cfg->proxy_bin[0])
        snprintf(bin, sizeof(bin), "%s", cfg->proxy_bin);
    else if (supervise_sibling("sluice-proxy", bin, sizeof(bin)) != SL_OK)
        bin[0] = '\0';
    if (bin[0] == '\0' || access(bin, X_OK) != 0) {
        log_warn("sluice-proxy not found at '%s': running the control plane alone "
                 "(use --proxy-bin PATH, or --no-proxy to silence this)",
                 bin);
        return SL_ENOTFOUND;
    }
    proxy_url(cfg, port, url, sizeof(url));
    argv[n++] = bin;
    argv[n++] = "--control-plane";
    argv[n++] = url;
    argv[n++] = "--id";
    argv[n++] = "local";
    /* access logs under the data directory; lines as sluiced writes its own */
    if (cfg->access_log_dir[0])
        snprintf(logs, sizeof(logs), "%s", cfg->access_log_dir);
    else
        snprintf(logs, sizeof(logs), "%s/access-logs", cfg->data_dir);
    argv[n++] = "--access-log-dir";
    argv[n++] = logs;
    argv[n++] = "--log-format";
    argv[n++] = cfg->log_format == LOG_JSON ? "json" : "text";
    if (cfg->tls_cert[0]) {
        argv[n++] = "--ca";
        argv[n++] = (char *)cfg->tls_cert;
    }
    argv[n] = NULL;
    /* In the environment, not on the command line: other users can read a
     * process's arguments, not its environment. */
    if (token && token[0]) {
        snprintf(env, sizeof(env), "SLUICE_PROXY_TOKEN=%s", token);
        envp[0] = env;
    }
    s = prepare(argv, envp, !cfg->stop_proxy_on_exit);
    explicit_bzero(env, sizeof(env));
    if (s == NULL) {
        log_error("cannot supervise sluice-proxy");
        return SL_ENOMEM;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", cfg->data_dir);
    snprintf(s->rec.url, sizeof(s->rec.url), "%s", url);
    snprintf(s->rec.token, sizeof(s->rec.token), "%s", token ? token : "");
    take_back(s, bin);
    if (run(s, out) != SL_OK) {
        log_error("cannot supervise sluice-proxy");
        return SL_ERR;
    }
    return SL_OK;
}
