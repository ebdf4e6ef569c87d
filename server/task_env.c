/*
 * task_env.c - a container's environment: files, pairs, secrets.
 */
#include "server/task_env.h"

#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

static int refuse(char *reason, size_t rlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *reason, size_t rlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, rlen, fmt, ap);
    va_end(ap);
    return SL_ERR;
}

void task_env_set(json_t *env, const char *name, const char *value)
{
    size_t i, l = strlen(name);
    json_t *v;
    char *e = malloc(l + strlen(value) + 2);

    if (e == NULL)
        return;
    sprintf(e, "%s=%s", name, value);
    json_array_foreach(env, i, v) {
        const char *s = json_string_value(v);
        if (s && strncmp(s, name, l) == 0 && s[l] == '=') {
            json_array_set_new(env, i, json_string(e));
            free(e);
            return;
        }
    }
    json_array_append_new(env, json_string(e));
    free(e);
}

static void env_pairs(json_t *env, json_t *list)
{
    json_t *e;
    size_t i;

    json_array_foreach(list, i, e)
        if (json_is_string(json_object_get(e, "name")) &&
            json_is_string(json_object_get(e, "value")))
            task_env_set(env, str(e, "name"), str(e, "value"));
}

static char *read_file(const char *path, size_t max, char *reason, size_t rlen,
                       const char *what)
{
    FILE *f = fopen(path, "re");
    char *data;
    size_t n;

    if (f == NULL) {
        refuse(reason, rlen, "ResourceInitializationError: %s %.300s: %s", what, path,
               strerror(errno));
        return NULL;
    }
    if ((data = malloc(max + 1)) == NULL) {
        fclose(f);
        refuse(reason, rlen, "ResourceInitializationError: out of memory");
        return NULL;
    }
    n = fread(data, 1, max + 1, f);
    fclose(f);
    if (n > max) {
        free(data);
        refuse(reason, rlen, "ResourceInitializationError: %s %.300s is larger than %zu bytes",
               what, path, max);
        return NULL;
    }
    data[n] = '\0';
    return data;
}

/* A local path from "file:///abs", "/abs", or an S3 ARN's object (refused). */
static const char *local_path(const char *v)
{
    if (strncmp(v, "file://", 7) == 0)
        v += 7;
    return v[0] == '/' ? v : NULL;
}

int task_env_secret(const char *value_from, char **out, char *reason, size_t rlen)
{
    const char *path = local_path(value_from);

    if (strncmp(value_from, "env:", 4) == 0) {
        const char *v = getenv(value_from + 4);
        if (v == NULL)
            return refuse(reason, rlen,
                          "ResourceInitializationError: unable to retrieve secret from %.200s: "
                          "sluiced's environment has no %.200s",
                          value_from, value_from + 4);
        return (*out = strdup(v)) ? SL_OK
                                  : refuse(reason, rlen, "ResourceInitializationError: oom");
    }
    if (path == NULL)
        return refuse(reason, rlen,
                      "ResourceInitializationError: unable to retrieve secret from %.200s: "
                      "sluice resolves file:///path and env:NAME, not Secrets Manager or SSM",
                      value_from);
    if ((*out = read_file(path, 65536, reason, rlen, "secret file")) == NULL)
        return SL_ERR;
    {
        size_t l = strlen(*out);
        if (l > 0 && (*out)[l - 1] == '\n')
            (*out)[--l] = '\0';
        if (l > 0 && (*out)[l - 1] == '\r')
            (*out)[--l] = '\0';
    }
    return SL_OK;
}

/* environmentFiles: VARIABLE=VALUE lines, '#' comments, as ECS reads them. */
static int env_files(json_t *env, json_t *files, char *reason, size_t rlen)
{
    json_t *f;
    size_t i;

    json_array_foreach(files, i, f) {
        const char *v = str(f, "value"), *path = local_path(v);
        char *data, *line, *save = NULL;
        if (path == NULL)
            return refuse(reason, rlen,
                          "ResourceInitializationError: environmentFiles %.300s: sluice reads "
                          "local files (file:///path or /path), not S3",
                          v);
        if ((data = read_file(path, 1 << 20, reason, rlen, "environment file")) == NULL)
            return SL_ERR;
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *eq;
            size_t l = strlen(line);
            if (l > 0 && line[l - 1] == '\r')
                line[--l] = '\0';
            if (l == 0 || line[0] == '#')
                continue;
            if ((eq = strchr(line, '=')) == NULL || eq == line) {
                free(data);
                return refuse(reason, rlen,
                              "ResourceInitializationError: environment file %.300s: line "
                              "'%.60s' is not VARIABLE=VALUE",
                              path, line);
            }
            *eq = '\0';
            task_env_set(env, line, eq + 1);
        }
        free(data);
    }
    return SL_OK;
}

static int env_secrets(json_t *env, json_t *secrets, char *reason, size_t rlen)
{
    json_t *s;
    size_t i;

    json_array_foreach(secrets, i, s) {
        char *v = NULL;
        if (!json_is_string(json_object_get(s, "name")) ||
            !json_is_string(json_object_get(s, "valueFrom")))
            return refuse(reason, rlen,
                          "CannotCreateContainerError: secrets: each needs name and valueFrom");
        if (task_env_secret(str(s, "valueFrom"), &v, reason, rlen) != SL_OK)
            return SL_ERR;
        task_env_set(env, str(s, "name"), v);
        free(v);
    }
    return SL_OK;
}

int task_env_build(json_t *env, json_t *cd, json_t *ov, char *reason, size_t rlen)
{
    if (env_files(env, json_object_get(cd, "environmentFiles"), reason, rlen) != SL_OK ||
        env_files(env, json_object_get(ov, "environmentFiles"), reason, rlen) != SL_OK)
        return SL_ERR;
    env_pairs(env, json_object_get(cd, "environment"));
    env_pairs(env, json_object_get(ov, "environment"));
    return env_secrets(env, json_object_get(cd, "secrets"), reason, rlen);
}
