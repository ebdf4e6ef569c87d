/*
 * tls_policy.c - the AWS ELB security policies (see tls_policy.h).
 *
 * Transcribed from AWS's "Security policies for your Application Load
 * Balancer" tables (TLS 1.3 policies, FS policies, TLS policies).  All the
 * tables list ciphers in one order, which is each policy's priority order
 * (DescribeSSLPolicies' Priority); a policy's list below is that order with
 * the ciphers it lacks left out.
 */
#include "common/tls_policy.h"

#include <string.h>

#include "common/err.h"

/* TLS 1.3 suites first, as AWS orders them. */
static const struct tls_cipher T13_AES128 = {"TLS_AES_128_GCM_SHA256", 1};
static const struct tls_cipher T13_AES256 = {"TLS_AES_256_GCM_SHA384", 1};
static const struct tls_cipher T13_CHACHA = {"TLS_CHACHA20_POLY1305_SHA256", 1};
static const struct tls_cipher EE128G = {"ECDHE-ECDSA-AES128-GCM-SHA256", 0};
static const struct tls_cipher ER128G = {"ECDHE-RSA-AES128-GCM-SHA256", 0};
static const struct tls_cipher EE128S2 = {"ECDHE-ECDSA-AES128-SHA256", 0};
static const struct tls_cipher ER128S2 = {"ECDHE-RSA-AES128-SHA256", 0};
static const struct tls_cipher EE128S = {"ECDHE-ECDSA-AES128-SHA", 0};
static const struct tls_cipher ER128S = {"ECDHE-RSA-AES128-SHA", 0};
static const struct tls_cipher EE256G = {"ECDHE-ECDSA-AES256-GCM-SHA384", 0};
static const struct tls_cipher ER256G = {"ECDHE-RSA-AES256-GCM-SHA384", 0};
static const struct tls_cipher EE256S3 = {"ECDHE-ECDSA-AES256-SHA384", 0};
static const struct tls_cipher ER256S3 = {"ECDHE-RSA-AES256-SHA384", 0};
static const struct tls_cipher ER256S = {"ECDHE-RSA-AES256-SHA", 0};
static const struct tls_cipher EE256S = {"ECDHE-ECDSA-AES256-SHA", 0};
static const struct tls_cipher R128G = {"AES128-GCM-SHA256", 0};
static const struct tls_cipher R128S2 = {"AES128-SHA256", 0};
static const struct tls_cipher R128S = {"AES128-SHA", 0};
static const struct tls_cipher R256G = {"AES256-GCM-SHA384", 0};
static const struct tls_cipher R256S2 = {"AES256-SHA256", 0};
static const struct tls_cipher R256S = {"AES256-SHA", 0};
static const struct tls_cipher DES3 = {"DES-CBC3-SHA", 0};

#define T13 &T13_AES128, &T13_AES256, &T13_CHACHA

/* ELBSecurityPolicy-2016-08, -2015-05 (identical), -TLS-1-1-2017-01 and
 * -TLS-1-2-Ext-2018-06 share these 18; they differ in protocols. */
static const struct tls_cipher *const C_2016_08[] = {
    &EE128G,  &ER128G, &EE128S2, &ER128S2, &EE128S, &ER128S, &EE256G, &ER256G, &EE256S3,
    &ER256S3, &ER256S, &EE256S,  &R128G,   &R128S2, &R128S,  &R256G,  &R256S2, &R256S,
};
static const struct tls_cipher *const C_TLS_1_0_2015_04[] = {
    &EE128G, &ER128G, &EE128S2, &ER128S2, &EE128S, &ER128S, &EE256G, &ER256G, &EE256S3, &ER256S3,
    &ER256S, &EE256S, &R128G,   &R128S2,  &R128S,  &R256G,  &R256S2, &R256S,  &DES3,
};
static const struct tls_cipher *const C_TLS_1_2_2017_01[] = {
    &EE128G,  &ER128G,  &EE128S2, &ER128S2, &EE256G, &ER256G,
    &EE256S3, &ER256S3, &R128G,   &R128S2,  &R256G,  &R256S2,
};
/* The FS policies: ECDHE only. */
static const struct tls_cipher *const C_FS_2018_06[] = {
    &EE128G, &ER128G, &EE128S2, &ER128S2, &EE128S, &ER128S,
    &EE256G, &ER256G, &EE256S3, &ER256S3, &ER256S, &EE256S,
};
static const struct tls_cipher *const C_FS_1_2_RES_2019_08[] = {
    &EE128G, &ER128G, &EE128S2, &ER128S2, &EE256G, &ER256G, &EE256S3, &ER256S3,
};
static const struct tls_cipher *const C_FS_1_2_RES_2020_10[] = {&EE128G, &ER128G, &EE256G, &ER256G};
/* The TLS 1.3 policies. */
static const struct tls_cipher *const C_TLS13_1_3[] = {T13};
static const struct tls_cipher *const C_TLS13_1_2[] = {
    T13, &EE128G, &ER128G, &EE128S2, &ER128S2, &EE256G, &ER256G, &EE256S3, &ER256S3,
};
static const struct tls_cipher *const C_TLS13_1_2_RES[] = {
    T13, &EE128G, &ER128G, &EE256G, &ER256G,
};
static const struct tls_cipher *const C_TLS13_1_2_EXT1[] = {
    T13,      &EE128G,  &ER128G, &EE128S2, &ER128S2, &EE256G, &ER256G,
    &EE256S3, &ER256S3, &R128G,  &R128S2,  &R256G,   &R256S2,
};
/* Ext2, 1-1 and 1-0 share the full list; they differ in protocols. */
static const struct tls_cipher *const C_TLS13_EXT2[] = {
    T13,      &EE128G, &ER128G, &EE128S2, &ER128S2, &EE128S, &ER128S, &EE256G, &ER256G, &EE256S3,
    &ER256S3, &ER256S, &EE256S, &R128G,   &R128S2,  &R128S,  &R256G,  &R256S2, &R256S,
};

#define P10     TLS_PROTO_TLS1
#define P11     TLS_PROTO_TLS1_1
#define P12     TLS_PROTO_TLS1_2
#define P13     TLS_PROTO_TLS1_3
#define LIST(a) a, sizeof(a) / sizeof((a)[0])

/* AWS's own listing order (its page, newest families first). */
static const struct tls_policy policies[] = {
    {"ELBSecurityPolicy-TLS13-1-2-2021-06", P12 | P13, LIST(C_TLS13_1_2), 0},
    {"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", P12 | P13, LIST(C_TLS13_1_2_RES), 0},
    {"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", P12 | P13, LIST(C_TLS13_1_2_EXT1), 0},
    {"ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", P12 | P13, LIST(C_TLS13_EXT2), 0},
    {"ELBSecurityPolicy-TLS13-1-1-2021-06", P11 | P12 | P13, LIST(C_TLS13_EXT2), 0},
    {"ELBSecurityPolicy-TLS13-1-0-2021-06", P10 | P11 | P12 | P13, LIST(C_TLS13_EXT2), 0},
    {"ELBSecurityPolicy-TLS13-1-3-2021-06", P13, LIST(C_TLS13_1_3), 0},
    {"ELBSecurityPolicy-FS-1-2-Res-2020-10", P12, LIST(C_FS_1_2_RES_2020_10), 0},
    {"ELBSecurityPolicy-FS-1-2-Res-2019-08", P12, LIST(C_FS_1_2_RES_2019_08), 0},
    {"ELBSecurityPolicy-FS-1-2-2019-08", P12, LIST(C_FS_2018_06), 0},
    {"ELBSecurityPolicy-FS-1-1-2019-08", P11 | P12, LIST(C_FS_2018_06), 0},
    {"ELBSecurityPolicy-FS-2018-06", P10 | P11 | P12, LIST(C_FS_2018_06), 0},
    {"ELBSecurityPolicy-TLS-1-2-Ext-2018-06", P12, LIST(C_2016_08), 0},
    {"ELBSecurityPolicy-TLS-1-2-2017-01", P12, LIST(C_TLS_1_2_2017_01), 0},
    {"ELBSecurityPolicy-TLS-1-1-2017-01", P11 | P12, LIST(C_2016_08), 0},
    {"ELBSecurityPolicy-2016-08", P10 | P11 | P12, LIST(C_2016_08), 1},
    {"ELBSecurityPolicy-TLS-1-0-2015-04", P10 | P11 | P12, LIST(C_TLS_1_0_2015_04), 0},
    {"ELBSecurityPolicy-2015-05", P10 | P11 | P12, LIST(C_2016_08), 0},
};

#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))

const struct tls_policy *tls_policy_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; i < NPOLICIES; i++)
        if (strcmp(policies[i].name, name) == 0)
            return &policies[i];
    return NULL;
}

size_t tls_policy_count(void)
{
    return NPOLICIES;
}

const struct tls_policy *tls_policy_at(size_t i)
{
    return i < NPOLICIES ? &policies[i] : NULL;
}

const struct tls_policy *tls_policy_default(void)
{
    size_t i;

    for (i = 0; i < NPOLICIES; i++)
        if (policies[i].is_default)
            return &policies[i];
    return NULL; /* not reached: the table has one */
}

const char *tls_proto_name(unsigned proto)
{
    switch (proto) {
    case TLS_PROTO_TLS1:
        return "TLSv1";
    case TLS_PROTO_TLS1_1:
        return "TLSv1.1";
    case TLS_PROTO_TLS1_2:
        return "TLSv1.2";
    case TLS_PROTO_TLS1_3:
        return "TLSv1.3";
    }
    return NULL;
}

/* Bit i (0 = TLS 1.0) is wire version 0x0301 + i. */
int tls_policy_min_version(const struct tls_policy *p)
{
    int i;

    for (i = 0; i < TLS_PROTO_COUNT; i++)
        if (p->protocols & (1u << i))
            return 0x0301 + i;
    return 0;
}

int tls_policy_max_version(const struct tls_policy *p)
{
    int i;

    for (i = TLS_PROTO_COUNT - 1; i >= 0; i--)
        if (p->protocols & (1u << i))
            return 0x0301 + i;
    return 0;
}

/* Append <s> to the ':'-joined list in <out>; 0 or SL_EINVAL when full. */
static int list_add(char *out, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s), sep = *len ? 1 : 0;

    if (*len + sep + n + 1 > cap)
        return SL_EINVAL;
    if (sep)
        out[(*len)++] = ':';
    memcpy(out + *len, s, n + 1);
    *len += n;
    return 0;
}

int tls_policy_openssl_lists(const struct tls_policy *p, char *list, size_t list_len, char *suites,
                             size_t suites_len)
{
    size_t i, ln = 0, sn = 0;
    int rc = 0;

    if (list_len == 0 || suites_len == 0)
        return SL_EINVAL;
    list[0] = suites[0] = '\0';
    for (i = 0; i < p->ncipher && rc == 0; i++) {
        const struct tls_cipher *c = p->ciphers[i];

        rc = c->tls13 ? list_add(suites, suites_len, &sn, c->name)
                      : list_add(list, list_len, &ln, c->name);
    }
    if (rc != 0)
        list[0] = suites[0] = '\0';
    return rc;
}
