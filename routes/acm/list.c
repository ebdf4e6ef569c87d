/*
 * list.c - ListCertificates' filters and order, the tag calls, and the
 * checks of names and tags that need no store.
 */
#include <stdlib.h>
#include <string.h>

#include "routes/acm/acm.h"

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static int in(const char *s, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* Does one of <o>'s {Name} usages under <member> appear in <want>?  "ANY"
 * matches every certificate, "NONE" one without such usages. */
static int usage_match(json_t *o, const char *member, const char *const *want, size_t n)
{
    json_t *list = json_object_get(o, member), *u;
    size_t i;

    if (n == 0 || in("ANY", want, n))
        return 1;
    if (json_array_size(list) == 0 && in("NONE", want, n))
        return 1;
    json_array_foreach(list, i, u)
        if (in(str(u, "Name"), want, n))
            return 1;
    return 0;
}

static int passes(json_t *o, const struct acm_list_query *q, const char *status)
{
    static const char *const default_types[] = {"RSA_1024", "RSA_2048"};

    if (q->nstatuses && !in(status, q->statuses, q->nstatuses))
        return 0;
    if (!(q->nkey_types ? in(str(o, "KeyAlgorithm"), q->key_types, q->nkey_types)
                        : in(str(o, "KeyAlgorithm"), default_types, 2)))
        return 0;
    if (!usage_match(o, "KeyUsages", q->key_usages, q->nkey_usages) ||
        !usage_match(o, "ExtendedKeyUsages", q->ext_key_usages, q->next_key_usages))
        return 0;
    /* sluice never exports a private key, and CloudFront manages none */
    if (q->export_option && strcmp(q->export_option, "ENABLED") == 0)
        return 0;
    return q->managed_by == NULL;
}

static json_t *summary(json_t *o, const char *status)
{
    json_t *s = json_pack("{sO sO sO sb ss sO sO sb ss}", "CertificateArn",
                          json_object_get(o, "CertificateArn"), "DomainName",
                          json_object_get(o, "DomainName"), "SubjectAlternativeNameSummaries",
                          json_object_get(o, "SubjectAlternativeNames"),
                          "HasAdditionalSubjectAlternativeNames", 0, "Status", status, "Type",
                          json_object_get(o, "Type"), "KeyAlgorithm",
                          json_object_get(o, "KeyAlgorithm"), "InUse",
                          json_array_size(json_object_get(o, "_in_use_by")) > 0,
                          "RenewalEligibility", "INELIGIBLE");
    static const char *const times[] = {"NotBefore", "NotAfter", "CreatedAt", "ImportedAt",
                                        "IssuedAt"};
    json_t *names, *u;
    size_t i;

    if (s == NULL)
        return NULL;
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        if (json_object_get(o, times[i]))
            json_object_set(s, times[i], json_object_get(o, times[i]));
    names = json_array();
    json_array_foreach(json_object_get(o, "KeyUsages"), i, u)
        json_array_append(names, json_object_get(u, "Name"));
    json_object_set_new(s, "KeyUsages", names);
    names = json_array();
    json_array_foreach(json_object_get(o, "ExtendedKeyUsages"), i, u)
        json_array_append(names, json_object_get(u, "Name"));
    json_object_set_new(s, "ExtendedKeyUsages", names);
    json_object_set_new(s, "ExportOption", json_string("DISABLED"));
    return s;
}

struct list_scan {
    const struct acm_list_query *q;
    time_t now;
    json_t *out;
};

static int add_summary(const char *id, json_t *o, void *arg)
{
    struct list_scan *s = arg;
    json_int_t na = json_integer_value(json_object_get(o, "NotAfter"));
    const char *status = na && (time_t)na < s->now ? "EXPIRED" : "ISSUED";
    json_t *sum;

    if (!passes(o, s->q, status))
        return 0;
    if ((sum = summary(o, status)) == NULL || json_array_append_new(s->out, sum) != 0)
        return 1;
    return 0;
}

static int by_created(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    json_int_t ta = json_integer_value(json_object_get(a, "CreatedAt"));
    json_int_t tb = json_integer_value(json_object_get(b, "CreatedAt"));

    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp(str(a, "CertificateArn"), str(b, "CertificateArn"));
}

int acm_list(struct store_txn *txn, const struct acm_list_query *q, time_t now, json_t **out,
             struct sl_err *err)
{
    struct list_scan s = {q, now, json_array()};
    json_t **items = NULL, *sorted;
    size_t i, n;

    *out = NULL;
    if (s.out == NULL || store_scan(txn, K_CERT, NULL, add_summary, &s) != 0)
        goto nomem;
    n = json_array_size(s.out);
    if (n > 1) {
        if ((items = malloc(n * sizeof(*items))) == NULL)
            goto nomem;
        for (i = 0; i < n; i++)
            items[i] = json_array_get(s.out, i);
        qsort(items, n, sizeof(*items), by_created);
        sorted = json_array();
        for (i = 0; i < n; i++)
            json_array_append(sorted, items[q->descending ? n - 1 - i : i]);
        free(items);
        json_decref(s.out);
        s.out = sorted;
    }
    *out = s.out;
    return SL_OK;
nomem:
    json_decref(s.out);
    return sl_err_set(err, 500, "ServiceException", "out of memory");
}

/* ---- tags ---- */

static int tag_chars_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    /* letters, digits and spaces of any script, and _.:/=+-@ */
    for (; *p; p++)
        if (*p < 0x80 && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                           (*p >= '0' && *p <= '9') || strchr(" _.:/=+-@", *p)))
            return 0;
    return 1;
}

int acm_tags_check(const struct acm_tag *tags, size_t n, struct sl_err *err)
{
    size_t i;

    if (n > ACM_TAGS_MAX)
        return sl_err_set(err, 400, "TooManyTagsException",
                          "A certificate can have at most %d tags", ACM_TAGS_MAX);
    for (i = 0; i < n; i++) {
        const char *k = tags[i].key, *v = tags[i].value;
        if (k == NULL || k[0] == '\0' || strlen(k) > 128 || !tag_chars_ok(k))
            return sl_err_set(err, 400, "InvalidParameterException",
                              "Tag key '%.128s' must be 1-128 letters, digits, spaces or "
                              "_.:/=+-@", k ? k : "");
        if (v && (strlen(v) > 256 || !tag_chars_ok(v)))
            return sl_err_set(err, 400, "InvalidParameterException",
                              "Tag value '%.256s' must be 0-256 letters, digits, spaces or "
                              "_.:/=+-@", v);
        if (strncmp(k, "aws:", 4) == 0)
            return sl_err_set(err, 400, "InvalidTagException",
                              "Tag keys starting with 'aws:' are reserved for AWS use");
    }
    return SL_OK;
}

int acm_domain_check(const char *name, const char *member, struct sl_err *err)
{
    const char *p = name, *label;
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > 253)
        goto bad;
    if (strncmp(p, "*.", 2) == 0)
        p += 2;
    for (label = p;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t l = (size_t)(p - label);
            if (l == 0 || l > 63 || label[0] == '-' || p[-1] == '-')
                goto bad;
            if (*p == '\0')
                break;
            label = p + 1;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-'))
            goto bad;
    }
    if (strchr(name, '.') == NULL)
        goto bad; /* ACM issues for fully qualified names only */
    return SL_OK;
bad:
    return sl_err_set(err, 400, "ValidationException",
                      "1 validation error detected: Value '%.253s' at '%s' failed to satisfy "
                      "constraint: Member must be a fully qualified domain name (labels of "
                      "letters, digits and hyphens, an optional leading '*.')",
                      name ? name : "", member);
}

static int find_tag(json_t *tags, const char *key)
{
    json_t *t;
    size_t i;

    json_array_foreach(tags, i, t)
        if (strcmp(str(t, "Key"), key) == 0)
            return (int)i;
    return -1;
}

/* The certificate <arn> as a private copy, with its id. */
static json_t *cert_copy(struct store_txn *txn, const char *arn, char id[ACM_ID_MAX],
                         struct sl_err *err)
{
    json_t *o;

    if (acm_arn_id(arn, id, err) != SL_OK)
        return NULL;
    if ((o = store_get(txn, K_CERT, id)) != NULL && strcmp(str(o, "arn"), arn) == 0)
        return o;
    json_decref(o);
    sl_err_set(err, 400, "ResourceNotFoundException", "Could not find certificate %.600s.", arn);
    return NULL;
}

static int put_back(struct store_txn *txn, const char *id, json_t *o, struct sl_err *err)
{
    int rc = store_put(txn, K_CERT, id, o) == SL_OK
                 ? SL_OK
                 : sl_err_set(err, 500, "ServiceException", "cannot store the tags");

    json_decref(o);
    return rc;
}

int acm_tags_add(struct store_txn *txn, const char *arn, const struct acm_tag *tags, size_t n,
                 struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o = cert_copy(txn, arn, id, err), *list;
    size_t i;

    if (o == NULL)
        return SL_ERR;
    list = json_object_get(o, "Tags");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(o, "Tags", list);
    }
    for (i = 0; i < n; i++) {
        json_t *t = json_pack("{ss}", "Key", tags[i].key);
        int at = find_tag(list, tags[i].key);
        if (tags[i].value)
            json_object_set_new(t, "Value", json_string(tags[i].value));
        if (at >= 0)
            json_array_set_new(list, (size_t)at, t);
        else
            json_array_append_new(list, t);
    }
    if (json_array_size(list) > ACM_TAGS_MAX) {
        json_decref(o);
        return sl_err_set(err, 400, "TooManyTagsException",
                          "A certificate can have at most %d tags", ACM_TAGS_MAX);
    }
    return put_back(txn, id, o, err);
}

int acm_tags_remove(struct store_txn *txn, const char *arn, const struct acm_tag *tags,
                    size_t n, struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o = cert_copy(txn, arn, id, err), *list;
    size_t i;

    if (o == NULL)
        return SL_ERR;
    list = json_object_get(o, "Tags");
    for (i = 0; i < n; i++) {
        int at = find_tag(list, tags[i].key);
        if (at >= 0 && (tags[i].value == NULL ||
                        strcmp(str(json_array_get(list, (size_t)at), "Value"), tags[i].value) == 0))
            json_array_remove(list, (size_t)at);
    }
    return put_back(txn, id, o, err);
}

int acm_tags_list(struct store_txn *txn, const char *arn, json_t **out, struct sl_err *err)
{
    char id[ACM_ID_MAX];
    json_t *o;

    if (acm_arn_id(arn, id, err) != SL_OK)
        return SL_ERR;
    if ((o = store_get_shared(txn, K_CERT, id)) == NULL || strcmp(str(o, "arn"), arn) != 0) {
        json_decref(o);
        return sl_err_set(err, 400, "ResourceNotFoundException",
                          "Could not find certificate %.600s.", arn);
    }
    *out = json_pack("{sO}", "Tags", json_object_get(o, "Tags"));
    json_decref(o);
    return SL_OK;
}
