/*
 * Unit tests for server/auth.c: the credentials file, bearer tokens, and
 * SigV4 verification against requests signed by botocore itself
 * (tests/unit/auth_vectors/<name>.vec, made by gen_auth_vectors.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/auth.h"

#define MAX_VEC_HEADERS 48
#define MAX_VECS        64
#define MIN_VECS        12 /* what gen_auth_vectors.py writes; fewer means files went missing */

/* ---- vectors ---------------------------------------------------------- */

struct vec {
    char *text; /* the file, split into NUL-terminated lines in place */
    const char *name, *method, *path, *query, *signature, *expect;
    time_t now;
    struct auth_header h[MAX_VEC_HEADERS];
    size_t nh;
    unsigned char *body;
    size_t body_len;
};

struct fixture {
    struct auth_creds *creds;
    struct vec v[MAX_VECS];
    size_t n;
    char dir[1024];
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)n + 1)) != NULL) {
        if (fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        } else {
            p[n] = '\0';
            if (len)
                *len = (size_t)n;
        }
    }
    fclose(f);
    return p;
}

static int unhex(const char *s, unsigned char **out, size_t *len)
{
    size_t n = strlen(s), i;
    unsigned int byte;

    if (n % 2)
        return -1;
    *out = malloc(n / 2 + 1);
    if (*out == NULL)
        return -1;
    for (i = 0; i < n / 2; i++) {
        if (sscanf(s + 2 * i, "%2x", &byte) != 1)
            return -1;
        (*out)[i] = (unsigned char)byte;
    }
    *len = n / 2;
    return 0;
}

static void vec_load(struct vec *v, const char *path)
{
    char *line, *next, *sp;

    memset(v, 0, sizeof(*v));
    v->text = slurp(path, NULL);
    assert_non_null(v->text);
    v->query = "";
    for (line = v->text; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        sp = strchr(line, ' ');
        if (sp)
            *sp++ = '\0';
        else
            sp = line + strlen(line);
        if (strcmp(line, "name") == 0)
            v->name = sp;
        else if (strcmp(line, "now") == 0)
            v->now = (time_t)strtoll(sp, NULL, 10);
        else if (strcmp(line, "method") == 0)
            v->method = sp;
        else if (strcmp(line, "path") == 0)
            v->path = sp;
        else if (strcmp(line, "query") == 0)
            v->query = sp;
        else if (strcmp(line, "signature") == 0)
            v->signature = sp;
        else if (strcmp(line, "expect") == 0)
            v->expect = sp;
        else if (strcmp(line, "body") == 0)
            assert_int_equal(unhex(sp, &v->body, &v->body_len), 0);
        else if (strcmp(line, "header") == 0) {
            char *colon = strstr(sp, ": ");

            assert_non_null(colon);
            assert_true(v->nh < MAX_VEC_HEADERS);
            *colon = '\0';
            v->h[v->nh].name = sp;
            v->h[v->nh].value = colon + 2;
            v->nh++;
        } else
            fail_msg("%s: unknown field '%s'", path, line);
    }
    if (v->name == NULL || v->method == NULL || v->path == NULL || v->signature == NULL ||
        v->expect == NULL || v->now == 0)
        fail_msg("%s: incomplete vector", path);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fixture_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    const char *src = getenv("SLUICE_SOURCE_DIR");
    char path[1200], errbuf[256], *names[MAX_VECS];
    size_t nnames = 0, i;
    struct dirent *de;
    DIR *d;

    if (fx == NULL)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "%s/tests/unit/auth_vectors", src ? src : ".");
    snprintf(path, sizeof(path), "%s/credentials", fx->dir);
    if (auth_load(path, &fx->creds, errbuf, sizeof(errbuf), NULL, 0) != SL_OK) {
        fprintf(stderr, "auth_load: %s (set SLUICE_SOURCE_DIR to the repo root)\n", errbuf);
        free(fx);
        return -1;
    }
    d = opendir(fx->dir);
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".vec") == 0 && nnames < MAX_VECS)
            names[nnames++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nnames, sizeof(names[0]), name_cmp);
    for (i = 0; i < nnames; i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        vec_load(&fx->v[fx->n++], path);
        free(names[i]);
    }
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    if (fx == NULL)
        return 0;
    for (i = 0; i < fx->n; i++) {
        free(fx->v[i].text);
        free(fx->v[i].body);
    }
    auth_free(fx->creds);
    free(fx);
    return 0;
}

static const struct vec *vec_named(const struct fixture *fx, const char *name)
{
    size_t i;

    for (i = 0; i < fx->n; i++)
        if (strcmp(fx->v[i].name, name) == 0)
            return &fx->v[i];
    fail_msg("no vector %s", name);
    return NULL;
}

static int vec_ok(const struct vec *v)
{
    return strcmp(v->expect, "ok") == 0;
}

/* A mutable copy of a vector's request. */
struct req {
    struct auth_request r;
    struct auth_header h[MAX_VEC_HEADERS + 2];
    unsigned char body[4096];
    char authz[1024];
};

static void req_from(struct req *q, const struct vec *v)
{
    memset(q, 0, sizeof(*q));
    memcpy(q->h, v->h, v->nh * sizeof(v->h[0]));
    assert_true(v->body_len <= sizeof(q->body));
    if (v->body_len)
        memcpy(q->body, v->body, v->body_len);
    q->r.method = v->method;
    q->r.path = v->path;
    q->r.query = v->query;
    q->r.headers = q->h;
    q->r.nheaders = v->nh;
    q->r.body = q->body;
    q->r.body_len = v->body_len;
    q->r.now = v->now;
}

static struct auth_header *req_header(struct req *q, const char *name)
{
    size_t i;

    for (i = 0; i < q->r.nheaders; i++)
        if (strcasecmp(q->h[i].name, name) == 0)
            return &q->h[i];
    return NULL;
}

/* Drop every header called <name>; returns how many went. */
static size_t req_drop(struct req *q, const char *name)
{
    size_t i, k = 0, n = q->r.nheaders;

    for (i = 0; i < n; i++)
        if (strcasecmp(q->h[i].name, name) != 0)
            q->h[k++] = q->h[i];
    q->r.nheaders = k;
    return n - k;
}

/* Replace the Authorization header with <authz> (copied). */
static void req_set_authz(struct req *q, const char *authz)
{
    struct auth_header *h = req_header(q, "authorization");

    assert_non_null(h);
    snprintf(q->authz, sizeof(q->authz), "%s", authz);
    h->value = q->authz;
}

/* Authorization with the first <from> replaced by <to>. */
static void req_edit_authz(struct req *q, const char *from, const char *to)
{
    const char *a = req_header(q, "authorization")->value, *at = strstr(a, from);
    char tmp[1024];

    if (at == NULL)
        fail_msg("'%s' not in Authorization '%s'", from, a);
    snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(at - a), a, to, at + strlen(from));
    req_set_authz(q, tmp);
}

/* Verify <q> and check the outcome: code NULL means SL_OK. */
static void check(const struct fixture *fx, const struct vec *v, const struct req *q,
                  const char *code, int status, const char *what)
{
    struct sl_err err;
    struct auth_identity id;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = auth_verify_sigv4(fx->creds, &q->r, &id, &err);
    if (code == NULL) {
        if (rc != SL_OK)
            fail_msg("%s (%s): expected OK, got %s: %s", v->name, what, err.code, err.message);
        return;
    }
    if (rc != SL_ERR || strcmp(err.code, code) != 0)
        fail_msg("%s (%s): expected %s, got rc %d %s: %s", v->name, what, code, rc, err.code,
                 err.message);
    if (err.status != status)
        fail_msg("%s (%s): %s with status %d, expected %d", v->name, what, code, err.status,
                 status);
    assert_true(err.message[0] != '\0');
    assert_int_equal(id.access_key[0], '\0'); /* nothing leaks into *out on failure */
}

/* ---- credentials file ------------------------------------------------- */

static struct auth_creds *parse_ok(const char *text)
{
    struct auth_creds *c = NULL;
    char errbuf[256] = "";

    if (auth_parse(text, strlen(text), "creds", &c, errbuf, sizeof(errbuf)) != SL_OK)
        fail_msg("auth_parse: %s", errbuf);
    assert_non_null(c);
    return c;
}

/* Expect a parse error whose message contains <needle1> and <needle2>. */
static void parse_fails(const char *text, const char *needle1, const char *needle2)
{
    struct auth_creds *c = (struct auth_creds *)1;
    char errbuf[256] = "";

    assert_int_not_equal(auth_parse(text, strlen(text), "creds", &c, errbuf, sizeof(errbuf)),
                         SL_OK);
    assert_null(c);
    if (strstr(errbuf, needle1) == NULL || (needle2 && strstr(errbuf, needle2) == NULL))
        fail_msg("error '%s' lacks '%s' / '%s'", errbuf, needle1, needle2 ? needle2 : "");
}

static void test_load_good(void **state)
{
    struct auth_creds *c = parse_ok("[default]\n"
                                    "aws_access_key_id = AKIDONE\n"
                                    "aws_secret_access_key = secret/one+x=\n"
                                    "region = us-east-1\n"
                                    "aws_session_token = ignored\n"
                                    "\n"
                                    "[profile two]\n"
                                    "aws_access_key_id = AKIDTWO\n"
                                    "aws_secret_access_key = secret-two\n"
                                    "[config-only]\n"
                                    "region = eu-west-1\n");

    assert_int_equal(auth_count(c), 2);
    assert_string_equal(auth_secret_for(c, "AKIDONE"), "secret/one+x=");
    assert_string_equal(auth_secret_for(c, "AKIDTWO"), "secret-two");
    assert_null(auth_secret_for(c, "AKIDTHREE"));
    assert_null(auth_secret_for(c, "akidone"));
    assert_null(auth_secret_for(c, NULL));
    auth_free(c);
    auth_free(NULL);
    assert_int_equal(auth_count(NULL), 0);
    assert_null(auth_secret_for(NULL, "AKIDONE"));
}

static void test_load_comments_whitespace(void **state)
{
    struct auth_creds *c = parse_ok("\xef\xbb\xbf# leading comment\r\n"
                                    "; another comment\r\n"
                                    "   [  profile   spaced  ]   \r\n"
                                    "\t AWS_Access_Key_ID\t=\t AKIDSPACED \t\r\n"
                                    "   # indented comment\r\n"
                                    "aws_secret_access_key:secret with # and ; inside  \r\n"
                                    "\r\n"
                                    "[x]\n"
                                    "aws_access_key_id=AKIDX\n"
                                    "aws_secret_access_key=sx");

    assert_int_equal(auth_count(c), 2);
    /* configparser keeps '#' and ';' after the start of a value */
    assert_string_equal(auth_secret_for(c, "AKIDSPACED"), "secret with # and ; inside");
    assert_string_equal(auth_secret_for(c, "AKIDX"), "sx");
    auth_free(c);
}

static void test_load_missing_secret(void **state)
{
    parse_fails("[ok]\naws_access_key_id = A1\naws_secret_access_key = s1\n\n"
                "[broken]\n# comment\naws_access_key_id = A2\nregion = x\n",
                "creds:7:", "[broken]: aws_access_key_id without aws_secret_access_key");
    parse_fails("[only-secret]\naws_secret_access_key = s\n",
                "creds:2:", "[only-secret]: aws_secret_access_key without aws_access_key_id");
    /* the error names the section even when it is the last one */
    parse_fails("[profile last]\n\n\naws_access_key_id = A\n", "creds:4:", "[last]");
}

static void test_load_empty(void **state)
{
    parse_fails("", "no section with aws_access_key_id", NULL);
    parse_fails("# only comments\n\n; here\n", "no section with aws_access_key_id", NULL);
    parse_fails("[default]\nregion = us-east-1\n", "no section", NULL);
}

static void test_load_rejects(void **state)
{
    parse_fails("aws_access_key_id = A\n", "creds:1:", "outside a [section]");
    parse_fails("[a]\njust some words\n", "creds:2:", "expected 'key = value'");
    parse_fails("[a\naws_access_key_id = A\n", "creds:1:", "closing ']'");
    parse_fails("[]\n", "creds:1:", "empty section name");
    parse_fails("[a]\naws_access_key_id = A\naws_secret_access_key = s\n"
                "[b]\naws_access_key_id = A\naws_secret_access_key = t\n",
                "creds:5:", "already used by section [a]");
    parse_fails("[a]\naws_access_key_id = A\naws_access_key_id = B\n", "creds:3:", "repeated");
    parse_fails("[a]\naws_access_key_id = A\naws_secret_access_key = s\n[profile a]\n",
                "creds:4:", "appears twice");
    parse_fails("[a]\naws_access_key_id =\naws_secret_access_key = s\n", "creds:2:", "empty");
    parse_fails("[a]\naws_access_key_id = A B\naws_secret_access_key = s\n", "creds:2:", "blank");
    parse_fails("[a]\naws_access_key_id = A/B\naws_secret_access_key = s\n", "creds:2:", "'/'");
    parse_fails("[t]\nsluice_api_token = tok\n", "creds:2:", "without aws_access_key_id");
    parse_fails("[a]\naws_access_key_id = A\naws_secret_access_key = s\nsluice_api_token = t\n"
                "[b]\naws_access_key_id = B\naws_secret_access_key = s\nsluice_api_token = t\n",
                "creds:8:", "sluice_api_token is already used");
    {
        static const char nul[] = "[a]\naws_access_key_id = A\0B\naws_secret_access_key = s\n";
        struct auth_creds *c = NULL;
        char errbuf[128];

        assert_int_equal(auth_parse(nul, sizeof(nul) - 1, "creds", &c, errbuf, sizeof(errbuf)),
                         SL_ERR);
        assert_non_null(strstr(errbuf, "NUL"));
    }
}

static void test_load_token(void **state)
{
    struct auth_creds *c = parse_ok("[a]\naws_access_key_id = AKIDA\naws_secret_access_key = sa\n"
                                    "sluice_api_token = tok-a-0123456789\n"
                                    "[b]\naws_access_key_id = AKIDB\naws_secret_access_key = sb\n"
                                    "[c]\naws_access_key_id = AKIDC\naws_secret_access_key = sc\n"
                                    "SLUICE_API_TOKEN = tok-c-9876543210\n");
    struct auth_identity id;

    assert_int_equal(auth_count(c), 3);
    assert_int_equal(auth_verify_bearer(c, "tok-a-0123456789", &id), SL_OK);
    assert_string_equal(id.access_key, "AKIDA");
    assert_string_equal(id.service, "");
    assert_int_equal(auth_verify_bearer(c, "  tok-c-9876543210 ", &id), SL_OK);
    assert_string_equal(id.access_key, "AKIDC");
    assert_int_equal(auth_verify_bearer(c, "tok-c-9876543210", NULL), SL_OK);
    assert_int_equal(auth_verify_bearer(c, "tok-a-012345678", &id), SL_ERR);
    assert_string_equal(id.access_key, "");
    assert_int_equal(auth_verify_bearer(c, "tok-a-01234567890", &id), SL_ERR);
    assert_int_equal(auth_verify_bearer(c, "TOK-A-0123456789", &id), SL_ERR);
    assert_int_equal(auth_verify_bearer(c, "", &id), SL_ERR);
    assert_int_equal(auth_verify_bearer(c, "   ", &id), SL_ERR);
    assert_int_equal(auth_verify_bearer(c, NULL, &id), SL_ERR);
    assert_int_equal(auth_verify_bearer(NULL, "tok-a-0123456789", &id), SL_ERR);
    /* a section without a token must not match an "empty" token's digest */
    assert_int_equal(auth_verify_bearer(c, "sb", &id), SL_ERR);
    auth_free(c);
}

static void test_load_file(void **state)
{
    struct fixture *fx = *state;
    struct auth_creds *c = (struct auth_creds *)1;
    struct auth_identity id;
    char path[1200], errbuf[256];

    assert_int_equal(auth_count(fx->creds), 2);
    assert_string_equal(auth_secret_for(fx->creds, "AKIDEXAMPLE"),
                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    assert_int_equal(auth_verify_bearer(fx->creds, "sluice-test-token-0123456789abcdef", &id),
                     SL_OK);
    assert_string_equal(id.access_key, "AKIDEXAMPLE");

    snprintf(path, sizeof(path), "%s/no-such-file", fx->dir);
    assert_int_equal(auth_load(path, &c, errbuf, sizeof(errbuf), NULL, 0), SL_EIO);
    assert_null(c);
    assert_non_null(strstr(errbuf, "no-such-file"));
    c = (struct auth_creds *)1;
    assert_int_not_equal(auth_load(fx->dir, &c, errbuf, sizeof(errbuf), NULL, 0), SL_OK);
    assert_null(c);
}

/* ---- SigV4 vectors ---------------------------------------------------- */

static void test_vectors_as_signed(void **state)
{
    struct fixture *fx = *state;
    size_t i, nok = 0;

    assert_true(fx->n >= MIN_VECS);
    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct sl_err err;
        struct auth_identity id;
        struct req q;
        const char *authz, *cred;
        char want[256];
        int rc;

        req_from(&q, v);
        authz = req_header(&q, "authorization")->value;
        assert_non_null(strstr(authz, v->signature));
        memset(&err, 0, sizeof(err));
        rc = auth_verify_sigv4(fx->creds, &q.r, &id, &err);
        if (!vec_ok(v)) {
            const char *code = v->expect + strlen("error ");

            assert_int_equal(strncmp(v->expect, "error ", 6), 0);
            if (rc != SL_ERR || strcmp(err.code, code) != 0)
                fail_msg("%s: expected %s, got %d %s: %s", v->name, code, rc, err.code,
                         err.message);
            continue;
        }
        if (rc != SL_OK)
            fail_msg("%s: %s: %s", v->name, err.code, err.message);
        nok++;
        /* *out carries the Credential scope: key/date/region/service */
        cred = strstr(authz, "Credential=") + strlen("Credential=");
        snprintf(want, sizeof(want), "%s/", id.access_key);
        assert_int_equal(strncmp(cred, want, strlen(want)), 0);
        snprintf(want, sizeof(want), "/%s/%s/aws4_request,", id.region, id.service);
        assert_non_null(strstr(cred, want));
        assert_non_null(auth_secret_for(fx->creds, id.access_key));
        /* and *out may be NULL */
        assert_int_equal(auth_verify_sigv4(fx->creds, &q.r, NULL, NULL), SL_OK);
    }
    assert_true(nok >= 9);
    /* spot-check the identities of the client-made vectors */
    {
        struct auth_identity id;
        struct req q;

        req_from(&q, vec_named(fx, "ecs_create_service"));
        assert_int_equal(auth_verify_sigv4(fx->creds, &q.r, &id, NULL), SL_OK);
        assert_string_equal(id.access_key, "AKIDSECONDPROFILE");
        assert_string_equal(id.region, "eu-west-1");
        assert_string_equal(id.service, "ecs");
        req_from(&q, vec_named(fx, "elbv2_register_targets"));
        assert_int_equal(auth_verify_sigv4(fx->creds, &q.r, &id, NULL), SL_OK);
        assert_string_equal(id.access_key, "AKIDEXAMPLE");
        assert_string_equal(id.region, "us-east-1");
        assert_string_equal(id.service, "elasticloadbalancing");
        assert_non_null(req_header(&q, "content-type"));
        assert_string_equal(req_header(&q, "content-type")->value,
                            "application/x-www-form-urlencoded; charset=utf-8");
        req_from(&q, vec_named(fx, "elbv2_session_token"));
        assert_non_null(req_header(&q, "x-amz-security-token"));
        assert_non_null(strstr(req_header(&q, "authorization")->value, "x-amz-security-token"));
    }
}

static void test_vectors_body_flip(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;
        int has_sha = 0;

        if (!vec_ok(v))
            continue;
        req_from(&q, v);
        has_sha = req_header(&q, "x-amz-content-sha256") != NULL;
        if (q.r.body_len)
            q.body[q.r.body_len / 2] ^= 0x01;
        else
            q.body[q.r.body_len++] = 'x';
        /* with X-Amz-Content-SHA256 the signature still covers the header,
         * so it is the hash check that catches the swap */
        if (has_sha)
            check(fx, v, &q, "XAmzContentSHA256Mismatch", 400, "body flipped");
        else
            check(fx, v, &q, "SignatureDoesNotMatch", 403, "body flipped");
    }
}

static void test_vectors_unknown_key(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;
        char from[160];
        const char *cred, *slash;

        req_from(&q, v);
        cred = strstr(req_header(&q, "authorization")->value, "Credential=");
        slash = strchr(cred, '/');
        snprintf(from, sizeof(from), "%.*s", (int)(slash - cred), cred);
        req_edit_authz(&q, from, "Credential=AKIDUNKNOWN");
        check(fx, v, &q, "InvalidClientTokenId", 403, "unknown key");
    }
}

static void test_vectors_clock_skew(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;

        if (!vec_ok(v))
            continue;
        req_from(&q, v);
        q.r.now = v->now + 16 * 60;
        check(fx, v, &q, "RequestExpired", 403, "now + 16 min");
        q.r.now = v->now - 16 * 60;
        check(fx, v, &q, "RequestExpired", 403, "now - 16 min");
        q.r.now = v->now + 15 * 60;
        check(fx, v, &q, NULL, 0, "now + 15 min");
        q.r.now = v->now - 15 * 60;
        check(fx, v, &q, NULL, 0, "now - 15 min");
    }
    {
        const struct vec *v = vec_named(fx, "elbv2_register_targets");
        struct sl_err err;
        struct req q;

        req_from(&q, v);
        q.r.now = v->now + 16 * 60;
        assert_int_equal(auth_verify_sigv4(fx->creds, &q.r, NULL, &err), SL_ERR);
        assert_string_equal(err.message, "Signature expired: 20261124T085322Z is now earlier "
                                         "than 20261124T085422Z (20261124T090922Z - 15 min.)");
    }
}

static void test_vectors_no_authorization(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;

        req_from(&q, v);
        assert_int_equal(req_drop(&q, "authorization"), 1);
        check(fx, v, &q, "MissingAuthenticationToken", 403, "no Authorization");
        req_from(&q, v);
        q.r.nheaders = 0;
        q.r.headers = NULL;
        check(fx, v, &q, "MissingAuthenticationToken", 403, "no headers at all");
    }
}

static void test_vectors_drop_signed_header(void **state)
{
    struct fixture *fx = *state;
    size_t i, dropped = 0;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;
        char list[512], *name, *save = NULL;
        const char *sh;

        if (!vec_ok(v))
            continue;
        req_from(&q, v);
        sh = strstr(req_header(&q, "authorization")->value, "SignedHeaders=") + 14;
        snprintf(list, sizeof(list), "%.*s", (int)strcspn(sh, ","), sh);
        for (name = strtok_r(list, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
            req_from(&q, v);
            assert_true(req_drop(&q, name) >= 1);
            dropped++;
            if (strcmp(name, "x-amz-date") == 0 || strcmp(name, "date") == 0)
                check(fx, v, &q, "IncompleteSignature", 403, name);
            else
                check(fx, v, &q, "SignatureDoesNotMatch", 403, name);
        }
    }
    assert_true(dropped >= 20);
}

static void test_vectors_header_variants(void **state)
{
    struct fixture *fx = *state;
    size_t i, j;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;
        char upper[MAX_VEC_HEADERS][64];
        struct auth_header *h;

        if (!vec_ok(v))
            continue;
        /* names in any case, headers in any order: still fine */
        req_from(&q, v);
        for (j = 0; j < q.r.nheaders; j++) {
            size_t k;

            snprintf(upper[j], sizeof(upper[j]), "%s", q.h[j].name);
            for (k = 0; upper[j][k]; k++)
                upper[j][k] = (char)(upper[j][k] >= 'a' && upper[j][k] <= 'z' ? upper[j][k] - 32
                                                                              : upper[j][k]);
            q.h[j].name = upper[j];
        }
        check(fx, v, &q, NULL, 0, "upper-case names");
        req_from(&q, v);
        for (j = 0; j < q.r.nheaders / 2; j++) {
            struct auth_header t = q.h[j];

            q.h[j] = q.h[q.r.nheaders - 1 - j];
            q.h[q.r.nheaders - 1 - j] = t;
        }
        /* reversing changes the order of repeated headers, which is signed */
        check(fx, v, &q,
              strcmp(v->name, "repeated_and_spaced_headers") ? NULL : "SignatureDoesNotMatch", 403,
              "reversed headers");
        /* an unsigned header may change or appear */
        req_from(&q, v);
        q.h[q.r.nheaders].name = "X-Forwarded-For";
        q.h[q.r.nheaders++].value = "10.1.2.3";
        if ((h = req_header(&q, "user-agent")) != NULL)
            h->value = "curl/8.0";
        check(fx, v, &q, NULL, 0, "unsigned header added");
        /* but a signed one may not */
        req_from(&q, v);
        req_header(&q, "host")->value = "evil.example.com";
        check(fx, v, &q, "SignatureDoesNotMatch", 403, "host changed");
        /* nor the method, path or query */
        req_from(&q, v);
        q.r.method = strcmp(v->method, "GET") ? "GET" : "DELETE";
        check(fx, v, &q, "SignatureDoesNotMatch", 403, "method changed");
        req_from(&q, v);
        q.r.path = "/v1/other";
        check(fx, v, &q, "SignatureDoesNotMatch", 403, "path changed");
        req_from(&q, v);
        q.r.query = "Action=DeleteLoadBalancer";
        check(fx, v, &q, "SignatureDoesNotMatch", 403, "query changed");
        /* a lower-case method is upper-cased, like botocore does */
        req_from(&q, v);
        q.r.method = strcmp(v->method, "POST") == 0 ? "post" : v->method;
        check(fx, v, &q, NULL, 0, "lower-case method");
    }
}

static void test_vectors_mangled_authorization(void **state)
{
    struct fixture *fx = *state;
    const struct vec *v = vec_named(fx, "elbv2_register_targets");
    const char *sig = v->signature;
    static const struct {
        const char *from, *to, *code;
    } edits[] = {
        {"Credential=AKIDEXAMPLE/20261124/us-east-1/elasticloadbalancing/aws4_request, ", "",
         "IncompleteSignature"},
        {"SignedHeaders=content-type;host;x-amz-date, ", "", "IncompleteSignature"},
        {", Signature=", ", Sig=", "IncompleteSignature"},
        {"/us-east-1/", "/", "IncompleteSignature"},
        {"/aws4_request", "/aws4_request/x", "IncompleteSignature"},
        {"aws4_request", "aws5_request", "IncompleteSignature"},
        {"/20261124/", "/2026112X/", "IncompleteSignature"},
        {"/20261124/", "/20261123/", "SignatureDoesNotMatch"},
        {"/us-east-1/", "/us-west-2/", "SignatureDoesNotMatch"},
        {"/elasticloadbalancing/", "/ecs/", "SignatureDoesNotMatch"},
        {"content-type;host;x-amz-date", "content-type;x-amz-date", "IncompleteSignature"},
        {"content-type;host;x-amz-date", "content-type;;host;x-amz-date", "IncompleteSignature"},
        {"content-type;host;x-amz-date", "content-type;host;host;x-amz-date",
         "IncompleteSignature"},
        {"content-type;host;x-amz-date", "host;x-amz-date", "SignatureDoesNotMatch"},
        {"AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA1 ", "MissingAuthenticationToken"},
        {"AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256X ", "MissingAuthenticationToken"},
        {"AWS4-HMAC-SHA256 ", "aws4-hmac-sha256 ", "MissingAuthenticationToken"},
        {", Signature=", ", Signature=0", "SignatureDoesNotMatch"},
    };
    struct req q;
    char tmp[512];
    size_t i;

    for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        req_from(&q, v);
        req_edit_authz(&q, edits[i].from, edits[i].to);
        check(fx, v, &q, edits[i].code, 403, edits[i].from);
    }
    /* one hex digit of the signature changed, or the signature truncated */
    req_from(&q, v);
    snprintf(tmp, sizeof(tmp), "%s", sig);
    tmp[10] = tmp[10] == '0' ? '1' : '0';
    req_edit_authz(&q, sig, tmp);
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "signature digit");
    req_from(&q, v);
    snprintf(tmp, sizeof(tmp), "%.63s", sig);
    req_edit_authz(&q, sig, tmp);
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "signature truncated");
    /* other schemes and shapes */
    req_from(&q, v);
    req_set_authz(&q, "Bearer sluice-test-token-0123456789abcdef");
    check(fx, v, &q, "MissingAuthenticationToken", 403, "bearer");
    req_from(&q, v);
    req_set_authz(&q, "AWS4-HMAC-SHA256");
    check(fx, v, &q, "IncompleteSignature", 403, "scheme only");
    req_from(&q, v);
    req_set_authz(&q, "");
    check(fx, v, &q, "MissingAuthenticationToken", 403, "empty");
    /* extra blanks and no blank after commas are tolerated */
    req_from(&q, v);
    snprintf(tmp, sizeof(tmp),
             "  AWS4-HMAC-SHA256   Credential=AKIDEXAMPLE/20261124/us-east-1/"
             "elasticloadbalancing/aws4_request,SignedHeaders=content-type;host;x-amz-date ,  "
             "Signature=%s ",
             sig);
    req_set_authz(&q, tmp);
    check(fx, v, &q, NULL, 0, "loose spacing");
    /* components in another order are fine too */
    req_from(&q, v);
    snprintf(tmp, sizeof(tmp),
             "AWS4-HMAC-SHA256 Signature=%s, SignedHeaders=content-type;host;x-amz-date, "
             "Credential=AKIDEXAMPLE/20261124/us-east-1/elasticloadbalancing/aws4_request",
             sig);
    req_set_authz(&q, tmp);
    check(fx, v, &q, NULL, 0, "reordered components");
    req_from(&q, v);
    snprintf(tmp, sizeof(tmp), "%s, Signature=%s", req_header(&q, "authorization")->value, sig);
    req_set_authz(&q, tmp);
    check(fx, v, &q, "IncompleteSignature", 403, "Signature twice");
    /* two Authorization headers */
    req_from(&q, v);
    q.h[q.r.nheaders++] = *req_header(&q, "authorization");
    check(fx, v, &q, "IncompleteSignature", 403, "two Authorization headers");
}

static void test_vectors_dates(void **state)
{
    struct fixture *fx = *state;
    const struct vec *v = vec_named(fx, "elbv2_register_targets");
    static const char *const bad[] = {"20261124T085322",      "20261324T085322Z",
                                      "20261131T085322Z",     "20261124T255322Z",
                                      "2026-11-24T08:53:22Z", "",
                                      "20261124 085322Z"};
    struct req q;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req_from(&q, v);
        req_header(&q, "x-amz-date")->value = bad[i];
        check(fx, v, &q, "RequestExpired", 403, bad[i]);
    }
    /* a well-formed date a day off fails the scope check before the clock */
    req_from(&q, v);
    req_header(&q, "x-amz-date")->value = "20261125T085322Z";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "next day");
    /* the Date-header vector: the Date wins only without X-Amz-Date */
    v = vec_named(fx, "date_header");
    req_from(&q, v);
    assert_non_null(req_header(&q, "date"));
    assert_null(req_header(&q, "x-amz-date"));
    q.r.now = v->now + 16 * 60;
    check(fx, v, &q, "RequestExpired", 403, "Date header, +16 min");
    req_from(&q, v);
    req_header(&q, "date")->value = "Tue, 24 Nov 2026 08:53:22";
    check(fx, v, &q, "RequestExpired", 403, "Date without zone");
    req_from(&q, v);
    req_header(&q, "date")->value = "yesterday";
    check(fx, v, &q, "RequestExpired", 403, "Date garbage");
    /* same instant in another zone: parses, but the signed value changed */
    req_from(&q, v);
    req_header(&q, "date")->value = "Tue, 24 Nov 2026 09:53:22 +0100";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "Date +0100");
    req_from(&q, v);
    req_header(&q, "date")->value = "Tue, 24 Nov 2026 08:53:22 GMT";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "Date GMT");
    req_from(&q, v);
    req_header(&q, "date")->value = "Wed, 25 Nov 2026 08:53:22 GMT";
    q.r.now = v->now + 86400;
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "Date next day (scope)");
}

static void test_vectors_encoding(void **state)
{
    struct fixture *fx = *state;
    const struct vec *v = vec_named(fx, "get_query_encoding");
    struct req q;

    /* the query is decoded and re-encoded: order, '+' and hex case don't matter */
    req_from(&q, v);
    q.r.query = "a=0&a=1&Marker=z&b=2&empty&name=my+target+group&path=/a/b&tilde=%7Ex%7e"
                "&unicode=caf%c3%a9%20%E2%9C%93";
    check(fx, v, &q, NULL, 0, "re-encoded query");
    req_from(&q, v);
    q.r.query = "a=0&a=1&Marker=z&b=2&empty=&name=my%20target%20group&path=%2Fa%2Fb&tilde=~x~"
                "&unicode=caf%C3%A9%20%E2%9C%93&&";
    check(fx, v, &q, NULL, 0, "empty pairs");
    req_from(&q, v);
    q.r.query = "a=0&a=1&Marker=z&b=2&empty=&name=my%20target%20group&path=%2Fa%2Fb&tilde=~x~"
                "&unicode=caf%C3%A9";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "value changed");
    req_from(&q, v);
    q.r.query = "a=1&a=1&Marker=z&b=2&empty=&name=my%20target%20group&path=%2Fa%2Fb&tilde=~x~"
                "&unicode=caf%C3%A9%20%E2%9C%93";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "repeated key value changed");
    req_from(&q, v);
    q.r.query = "marker=z&a=0&a=1&b=2&empty=&name=my%20target%20group&path=%2Fa%2Fb&tilde=~x~"
                "&unicode=caf%C3%A9%20%E2%9C%93";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "key case changed");
    /* the path must arrive raw: a decoded path does not verify */
    v = vec_named(fx, "path_encoding");
    req_from(&q, v);
    q.r.path = "/v1/target-groups/a b/caf\xc3\xa9/x!y*(1)~z/";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "decoded path");
    req_from(&q, v);
    q.r.path = "/v1/target-groups/a%20b/caf%C3%A9/x!y*(1)~z";
    check(fx, v, &q, "SignatureDoesNotMatch", 403, "trailing slash dropped");
    /* dot segments and double slashes normalise away, as in botocore */
    v = vec_named(fx, "path_dot_segments");
    req_from(&q, v);
    q.r.path = "/v1/target-groups/api";
    check(fx, v, &q, NULL, 0, "normalised path");
    req_from(&q, v);
    q.r.path = "/v1/target-groups/./x/../api";
    check(fx, v, &q, NULL, 0, "other dots, same path");
}

/* Verification from many threads at once over shared, read-only creds. */
struct thread_arg {
    const struct fixture *fx;
    int failures;
};

static void *verify_loop(void *p)
{
    struct thread_arg *a = p;
    size_t round, i;

    for (round = 0; round < 30; round++) {
        for (i = 0; i < a->fx->n; i++) {
            const struct vec *v = &a->fx->v[i];
            struct req q;
            struct sl_err err;
            struct auth_identity id;
            int rc;

            req_from(&q, v);
            rc = auth_verify_sigv4(a->fx->creds, &q.r, &id, &err);
            if ((rc == SL_OK) != vec_ok(v))
                a->failures++;
            if (auth_verify_bearer(a->fx->creds, "sluice-test-token-0123456789abcdef", &id) !=
                SL_OK)
                a->failures++;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct thread_arg args[4];
    pthread_t t[4];
    size_t i;

    for (i = 0; i < 4; i++) {
        args[i].fx = *state;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, verify_loop, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
}

/* ---- the head alone: auth_precheck ------------------------------------ */

/* A request's head decides before its body is read: the signed vectors pass
 * with no body at all, unknown keys and missing headers fail. */
static void test_precheck(void **state)
{
    struct fixture *fx = *state;
    struct auth_identity id;
    struct sl_err err;
    size_t i, checked = 0;

    for (i = 0; i < fx->n; i++) {
        const struct vec *v = &fx->v[i];
        struct req q;
        char from[160];
        const char *cred, *slash;

        if (!vec_ok(v))
            continue;
        req_from(&q, v);
        q.r.body = NULL;
        q.r.body_len = 0;
        memset(&err, 0, sizeof(err));
        if (auth_precheck(fx->creds, &q.r, 0, &id, &err) != SL_OK)
            fail_msg("%s: precheck without the body: %s %s", v->name, err.code, err.message);
        assert_int_equal(id.role, CREDS_ROLE_ADMIN);
        assert_true(id.access_key[0] != '\0');
        checked++;

        cred = strstr(req_header(&q, "authorization")->value, "Credential=");
        slash = strchr(cred, '/');
        snprintf(from, sizeof(from), "%.*s", (int)(slash - cred), cred);
        req_edit_authz(&q, from, "Credential=AKIDUNKNOWN");
        assert_int_equal(auth_precheck(fx->creds, &q.r, 1, &id, &err), SL_ERR);
        assert_string_equal(err.code, "InvalidClientTokenId");
        assert_int_equal(req_drop(&q, "authorization"), 1);
        assert_int_equal(auth_precheck(fx->creds, &q.r, 1, &id, &err), SL_ERR);
        assert_string_equal(err.code, "MissingAuthenticationToken");
    }
    assert_true(checked > 0);
}

static void test_precheck_bearer_and_coprocess(void **state)
{
    struct fixture *fx = *state;
    struct auth_creds *c = parse_ok("[a]\naws_access_key_id = AKIDA\naws_secret_access_key = sa\n"
                                    "sluice_api_token = tok-a-0123456789\n"
                                    "[edge]\naws_access_key_id = AKIDP\naws_secret_access_key = "
                                    "sp\nsluice_api_token = tok-p-0123456789\nsluice_role = "
                                    "proxy\n");
    struct auth_header h[2] = {{"Host", "x"}, {"Authorization", "Bearer tok-p-0123456789"}};
    struct auth_request r = {.method = "GET", .path = "/", .headers = h, .nheaders = 2};
    struct auth_identity id;
    struct sl_err err;
    char token[80], bearer[100];

    (void)fx;
    assert_int_equal(auth_precheck(c, &r, 1, &id, &err), SL_OK);
    assert_string_equal(id.access_key, "AKIDP");
    assert_int_equal(id.role, CREDS_ROLE_PROXY);
    /* not the REST door: a bearer token is no SigV4 signature */
    assert_int_equal(auth_precheck(c, &r, 0, &id, &err), SL_ERR);
    assert_string_equal(err.code, "MissingAuthenticationToken");
    h[1].value = "Bearer tok-p-wrong";
    assert_int_equal(auth_precheck(c, &r, 1, &id, &err), SL_ERR);
    assert_string_equal(err.code, "InvalidClientTokenId");

    assert_int_equal(auth_add_coprocess_token(c, token, sizeof(token)), SL_OK);
    assert_int_equal(strlen(token), 64);
    assert_int_equal(auth_count(c), 3);
    snprintf(bearer, sizeof(bearer), "Bearer %s", token);
    h[1].value = bearer;
    assert_int_equal(auth_precheck(c, &r, 1, &id, &err), SL_OK);
    assert_string_equal(id.access_key, "sluiced/co-process");
    assert_int_equal(id.role, CREDS_ROLE_PROXY);
    /* its key id has no secret: no SigV4 signature can name it */
    assert_null(auth_secret_for(c, "sluiced/co-process"));
    assert_int_equal(auth_add_coprocess_token(c, token, 10), SL_EINVAL);
    auth_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_good),
        cmocka_unit_test(test_load_comments_whitespace),
        cmocka_unit_test(test_load_missing_secret),
        cmocka_unit_test(test_load_empty),
        cmocka_unit_test(test_load_rejects),
        cmocka_unit_test(test_load_token),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_vectors_as_signed),
        cmocka_unit_test(test_vectors_body_flip),
        cmocka_unit_test(test_vectors_unknown_key),
        cmocka_unit_test(test_vectors_clock_skew),
        cmocka_unit_test(test_vectors_no_authorization),
        cmocka_unit_test(test_vectors_drop_signed_header),
        cmocka_unit_test(test_vectors_header_variants),
        cmocka_unit_test(test_vectors_mangled_authorization),
        cmocka_unit_test(test_vectors_dates),
        cmocka_unit_test(test_vectors_encoding),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_precheck),
        cmocka_unit_test(test_precheck_bearer_and_coprocess),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
