#include "routes/wire/query.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KEY_DEPTH 16
#define MAX_PAIRS 10000

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long query_unescape(const char *in, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = in[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (i + 2 >= len)
                return -1;
            hi = hexval(in[i + 1]);
            lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

static int is_index(const char *s)
{
    if (*s == '\0' || *s == '0' || strlen(s) > 6)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Insert key path <key> (split on '.') with string <val> into <root>. */
static int insert(json_t *root, char *key, const char *val, struct sl_err *err)
{
    char *segs[MAX_KEY_DEPTH];
    size_t n = 0, i;
    char *p = key;
    json_t *cur = root;

    for (;;) {
        char *dot = strchr(p, '.');

        if (n == MAX_KEY_DEPTH)
            return sl_err_set(err, 400, "ValidationError", "parameter name too deeply nested");
        segs[n++] = p;
        if (dot == NULL)
            break;
        *dot = '\0';
        p = dot + 1;
    }
    for (i = 0; i < n; i++) {
        if (segs[i][0] == '\0')
            return sl_err_set(err, 400, "ValidationError", "malformed parameter name");
    }
    for (i = 0; i + 1 < n; i++) {
        json_t *next = json_object_get(cur, segs[i]);

        if (next == NULL) {
            /* fails for a name that is not UTF-8, and frees next */
            if (json_object_set_new(cur, segs[i], next = json_object()) != 0)
                return sl_err_set(err, 400, "MalformedQueryString",
                                  "a parameter name is not valid UTF-8");
        } else if (!json_is_object(next)) {
            return sl_err_set(err, 400, "ValidationError",
                              "parameter %s is both a value and a structure", segs[i]);
        }
        cur = next;
    }
    if (json_object_get(cur, segs[n - 1]) != NULL)
        return sl_err_set(err, 400, "ValidationError", "parameter %s given more than once or "
                          "both as a value and a structure", segs[n - 1]);
    if (json_object_set_new(cur, segs[n - 1], json_string(val)) != 0)
        return sl_err_set(err, 400, "MalformedQueryString",
                          "a parameter name or value is not valid UTF-8");
    return SL_OK;
}

static int cmp_index(const void *a, const void *b)
{
    long x = atol(*(const char *const *)a), y = atol(*(const char *const *)b);

    return x < y ? -1 : x > y;
}

/* Rewrite `{"member":{"1":..}}` into arrays and `{"entry":{"1":{key,value}}}`
 * into objects, bottom-up.  Returns a new reference for <v>. */
static json_t *normalize(json_t *v, struct sl_err *err)
{
    const char *k;
    json_t *child, *out, *inner;
    const char **keys;
    size_t n, i;
    int is_list;

    if (!json_is_object(v))
        return json_incref(v);
    out = json_object();
    json_object_foreach(v, k, child) {
        json_t *c = normalize(child, err);
        if (c == NULL) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, k, c);
    }
    if (json_object_size(out) != 1)
        return out;
    is_list = json_object_get(out, "member") != NULL;
    inner = json_object_get(out, is_list ? "member" : "entry");
    if (inner == NULL || !json_is_object(inner))
        return out;
    n = json_object_size(inner);
    keys = calloc(n ? n : 1, sizeof(*keys));
    i = 0;
    json_object_foreach(inner, k, child) {
        if (!is_index(k)) {
            sl_err_set(err, 400, "ValidationError", "list index '%s' is not a positive integer",
                       k);
            free(keys);
            json_decref(out);
            return NULL;
        }
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_index);
    if (is_list) {
        json_t *arr = json_array();
        for (i = 0; i < n; i++)
            json_array_append(arr, json_object_get(inner, keys[i]));
        free(keys);
        json_decref(out);
        return arr;
    } else {
        json_t *map = json_object();
        for (i = 0; i < n; i++) {
            json_t *e = json_object_get(inner, keys[i]);
            json_t *ek = json_object_get(e, "key"), *ev = json_object_get(e, "value");
            if (!json_is_string(ek)) {
                sl_err_set(err, 400, "ValidationError", "map entry %s has no key", keys[i]);
                json_decref(map);
                map = NULL;
                break;
            }
            /* A key without a value maps to "": a new string, not a leak. */
            json_object_set_new(map, json_string_value(ek), ev ? json_incref(ev) : json_string(""));
        }
        free(keys);
        json_decref(out);
        return map;
    }
}

json_t *query_decode(const char *body, size_t len, struct sl_err *err)
{
    json_t *flat = json_object(), *tree;
    size_t pos = 0, npairs = 0;
    char *kbuf = malloc(len + 1), *vbuf = malloc(len + 1);

    if (flat == NULL || kbuf == NULL || vbuf == NULL)
        goto oom;
    while (pos < len) {
        size_t end = pos, eq;
        long kl, vl;

        while (end < len && body[end] != '&')
            end++;
        if (end == pos) {
            pos++;
            continue;
        }
        if (++npairs > MAX_PAIRS) {
            sl_err_set(err, 400, "ValidationError", "too many parameters");
            goto fail;
        }
        for (eq = pos; eq < end && body[eq] != '='; eq++)
            ;
        kl = query_unescape(body + pos, eq - pos, kbuf);
        vl = eq < end ? query_unescape(body + eq + 1, end - eq - 1, vbuf) : 0;
        if (eq == end)
            vbuf[0] = '\0';
        if (kl <= 0 || vl < 0) {
            sl_err_set(err, 400, "MalformedQueryString",
                       "the request body is not valid application/x-www-form-urlencoded");
            goto fail;
        }
        if (insert(flat, kbuf, vbuf, err) != SL_OK)
            goto fail;
        pos = end + 1;
    }
    free(kbuf);
    free(vbuf);
    tree = normalize(flat, err);
    json_decref(flat);
    return tree;

oom:
    sl_err_set(err, 500, "InternalFailure", "out of memory");
fail:
    free(kbuf);
    free(vbuf);
    json_decref(flat);
    return NULL;
}
