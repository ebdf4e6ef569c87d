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

extern char **environ;

#define MAX_ARGS 32
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_MS 30000

struct supervisor {
    char *argv[MAX_ARGS + 1];
    char **envp; /* environ plus SLUICE_PARENT_PID (the child dies with us), extra_env */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    pid_t pid;
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

static void *supervise_main(void *arg)
{
    struct supervisor *s = arg;
    int backoff = BACKOFF_MIN_MS;

    while (!nap(s, 0)) {
        uint64_t started = util_mono_ms();
        pid_t pid = spawn(s);
        int status = 0;

        pthread_mutex_lock(&s->mu);
        s->pid = pid > 0 ? pid : 0;
        pthread_mutex_unlock(&s->mu);
        while (pid > 0) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid || (r == -1 && errno != EINTR))
                break;
            if (nap(s, 100)) {
                int waited;
                kill(pid, SIGTERM);
                for (waited = 0; waited < 5000; waited += 50) {
                    if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                    usleep(50 * 1000);
                }
                if (waited >= 5000) {
                    kill(pid, SIGKILL);
                    waitpid(pid, &status, 0);
                }
                pthread_mutex_lock(&s->mu);
                s->pid = 0;
                pthread_mutex_unlock(&s->mu);
                return NULL;
            }
        }
        pthread_mutex_lock(&s->mu);
        s->pid = 0;
        pthread_mutex_unlock(&s->mu);
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

static int build_env(struct supervisor *s, char *const extra_env[])
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
    snprintf(pid, sizeof(pid), "SLUICE_PARENT_PID=%ld", (long)getpid());
    s->envp[j] = strdup(pid);
    return SL_OK;
}

int supervise_start(char *const argv[], char *const extra_env[], struct supervisor **out)
{
    struct supervisor *s = calloc(1, sizeof(*s));
    int i;

    if (s == NULL)
        return SL_ENOMEM;
    for (i = 0; argv[i] && i < MAX_ARGS; i++)
        s->argv[i] = strdup(argv[i]);
    if (build_env(s, extra_env) != SL_OK) {
        for (i = 0; s->argv[i]; i++)
            free(s->argv[i]);
        free(s);
        return SL_ENOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, supervise_main, s) != 0) {
        for (i = 0; s->argv[i]; i++)
            free(s->argv[i]);
        free_env(s);
        free(s);
        return SL_ERR;
    }
    *out = s;
    return SL_OK;
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
    int i;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    for (i = 0; s->argv[i]; i++)
        free(s->argv[i]);
    free_env(s);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
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

int supervise_proxy_start(const struct sl_config *cfg, int port, const char *token,
                          struct supervisor **out)
{
    char bin[1024], url[320], env[128], logs[1100];
    char *argv[16], *envp[2] = {NULL, NULL};
    int n = 0, rc;

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
    rc = supervise_start(argv, envp, out);
    explicit_bzero(env, sizeof(env));
    if (rc != SL_OK)
        log_error("cannot supervise sluice-proxy");
    return rc;
}
