/*
 * creds.c - the shared-credentials file parser (see creds.h for the
 * grammar).  Line-oriented: each line is a section header, a comment, or a
 * key = value pair of the current section; a section is validated and moved
 * into the result when the next one starts or the text ends.
 */
#include "common/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (1024 * 1024)

struct creds {
    struct creds_entry *v;
    size_t n;
    size_t cap;
};

static int is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static int digest(const char *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;

    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return -1;
    return 0;
}

/* One section being read; strings owned until moved into an entry. */
struct section {
    char *name;
    unsigned line;
    char *key_id, *secret, *token, *role;
    unsigned key_line, secret_line, token_line, role_line;
};

struct parser {
    const char *origin;
    char *errbuf;
    size_t errlen;
    struct creds *creds;
    char **names; /* every section name seen, for duplicates */
    size_t nnames;
};

static int perr(struct parser *ps, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parser *ps, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ps->errbuf == NULL || ps->errlen == 0)
        return SL_ERR;
    n = line ? snprintf(ps->errbuf, ps->errlen, "%s:%u: ", ps->origin, line)
             : snprintf(ps->errbuf, ps->errlen, "%s: ", ps->origin);
    if (n < 0 || (size_t)n >= ps->errlen)
        return SL_ERR;
    va_start(ap, fmt);
    vsnprintf(ps->errbuf + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return SL_ERR;
}

static void section_clear(struct section *s)
{
    free(s->name);
    free(s->key_id);
    free_secret(s->secret);
    free_secret(s->token);
    free(s->role);
    memset(s, 0, sizeof(*s));
}

static void entry_clear(struct creds_entry *e)
{
    free(e->profile);
    free(e->key_id);
    free_secret(e->secret);
    free_secret(e->token);
    OPENSSL_cleanse(e->token_digest, sizeof(e->token_digest));
}

static struct creds_entry *grow(struct creds *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct creds_entry *v = realloc(c->v, cap * sizeof(*v));

        if (v == NULL)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
    return &c->v[c->n];
}

/* A section's role value; -1 when unknown. */
static int parse_role(const char *v)
{
    if (strcasecmp(v, "admin") == 0)
        return CREDS_ROLE_ADMIN;
    if (strcasecmp(v, "proxy") == 0)
        return CREDS_ROLE_PROXY;
    return -1;
}

/* Close the current section: validate it and move its key pair into the
 * creds.  A section without any of our keys is skipped. */
static int section_finish(struct parser *ps, struct section *s)
{
    struct creds *c = ps->creds;
    struct creds_entry *e;
    size_t i;

    if (s->name == NULL)
        return SL_OK;
    if (s->key_id == NULL && s->secret == NULL) {
        if (s->token || s->role)
            return perr(ps, s->token ? s->token_line : s->role_line,
                        "section [%s]: %s without aws_access_key_id and "
                        "aws_secret_access_key",
                        s->name, s->token ? "sluice_api_token" : "sluice_role");
        section_clear(s);
        return SL_OK;
    }
    if (s->secret == NULL)
        return perr(ps, s->key_line,
                    "section [%s]: aws_access_key_id without aws_secret_access_key", s->name);
    if (s->key_id == NULL)
        return perr(ps, s->secret_line,
                    "section [%s]: aws_secret_access_key without aws_access_key_id", s->name);
    if (s->role && parse_role(s->role) < 0)
        return perr(ps, s->role_line, "section [%s]: sluice_role must be admin or proxy, not '%s'",
                    s->name, s->role);
    for (i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].key_id, s->key_id) == 0)
            return perr(ps, s->key_line,
                        "section [%s]: access key id %s is already used by section [%s]", s->name,
                        s->key_id, c->v[i].profile);
        if (s->token && c->v[i].token && strcmp(c->v[i].token, s->token) == 0)
            return perr(ps, s->token_line,
                        "section [%s]: sluice_api_token is already used by section [%s]", s->name,
                        c->v[i].profile);
    }
    if ((e = grow(c)) == NULL)
        return SL_ENOMEM;
    if (s->token && digest(s->token, strlen(s->token), e->token_digest) != 0)
        return perr(ps, s->token_line, "SHA-256 failed");
    e->profile = s->name;
    e->key_id = s->key_id;
    e->secret = s->secret;
    e->token = s->token;
    e->role = s->role ? (enum creds_role)parse_role(s->role) : CREDS_ROLE_ADMIN;
    c->n++;
    free(s->role);
    memset(s, 0, sizeof(*s));
    return SL_OK;
}

/* "[name]" or "[profile name]" at <p>/<n> (already trimmed). */
static int section_start(struct parser *ps, struct section *s, unsigned line, const char *p,
                         size_t n)
{
    char **names;
    size_t i;
    int rc;

    if (n < 2 || p[n - 1] != ']')
        return perr(ps, line, "section header without a closing ']'");
    p++;
    n -= 2;
    while (n && is_blank(*p))
        p++, n--;
    while (n && is_blank(p[n - 1]))
        n--;
    if (n > 8 && strncmp(p, "profile", 7) == 0 && is_blank(p[7])) {
        p += 8;
        n -= 8;
        while (n && is_blank(*p))
            p++, n--;
    }
    if (n == 0)
        return perr(ps, line, "empty section name");
    if ((rc = section_finish(ps, s)) != SL_OK)
        return rc;
    for (i = 0; i < ps->nnames; i++)
        if (strlen(ps->names[i]) == n && memcmp(ps->names[i], p, n) == 0)
            return perr(ps, line, "section [%.*s] appears twice", (int)n, p);
    names = realloc(ps->names, (ps->nnames + 1) * sizeof(*names));
    if (names == NULL)
        return SL_ENOMEM;
    ps->names = names;
    if ((names[ps->nnames] = dup_range(p, n)) == NULL)
        return SL_ENOMEM;
    ps->nnames++;
    if ((s->name = dup_range(p, n)) == NULL)
        return SL_ENOMEM;
    s->line = line;
    return SL_OK;
}

static int bad_value_char(const char *v, int allow_slash)
{
    for (; *v; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch <= ' ' || ch == 0x7f || (!allow_slash && ch == '/'))
            return 1;
    }
    return 0;
}

/* The slot for lower-cased <key> in <s>, or NULL when the key is not ours. */
static char **key_slot(struct section *s, const char *key, unsigned **line)
{
    if (strcmp(key, "aws_access_key_id") == 0)
        return *line = &s->key_line, &s->key_id;
    if (strcmp(key, "aws_secret_access_key") == 0)
        return *line = &s->secret_line, &s->secret;
    if (strcmp(key, "sluice_api_token") == 0)
        return *line = &s->token_line, &s->token;
    if (strcmp(key, "sluice_role") == 0)
        return *line = &s->role_line, &s->role;
    return NULL; /* region, aws_session_token, ...: not ours */
}

/* "key = value" or "key: value" at <p>/<n> (already trimmed). */
static int section_key(struct parser *ps, struct section *s, unsigned line, const char *p, size_t n)
{
    const char *delim = NULL, *v;
    char key[64];
    size_t kn, vn, i;
    char **slot;
    unsigned *slot_line;

    for (i = 0; i < n; i++)
        if (p[i] == '=' || p[i] == ':') {
            delim = p + i;
            break;
        }
    if (delim == NULL)
        return perr(ps, line, "expected 'key = value', a [section] or a comment");
    kn = (size_t)(delim - p);
    while (kn && is_blank(p[kn - 1]))
        kn--;
    if (kn == 0)
        return perr(ps, line, "missing key before '%c'", *delim);
    if (s->name == NULL)
        return perr(ps, line, "key outside a [section]");
    if (kn >= sizeof(key))
        return SL_OK; /* longer than any key we use */
    for (i = 0; i < kn; i++)
        key[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
    key[kn] = '\0';
    if ((slot = key_slot(s, key, &slot_line)) == NULL)
        return SL_OK;
    if (*slot)
        return perr(ps, line, "section [%s]: %s repeated (first on line %u)", s->name, key,
                    *slot_line);
    v = delim + 1;
    vn = n - (size_t)(v - p);
    while (vn && is_blank(*v))
        v++, vn--;
    if (vn == 0)
        return perr(ps, line, "section [%s]: empty %s", s->name, key);
    if (slot == &s->key_id && vn > CREDS_MAX_KEY_ID)
        return perr(ps, line, "section [%s]: aws_access_key_id longer than %d characters", s->name,
                    CREDS_MAX_KEY_ID);
    if (vn > CREDS_MAX_SECRET)
        return perr(ps, line, "section [%s]: %s longer than %d characters", s->name, key,
                    CREDS_MAX_SECRET);
    if ((*slot = dup_range(v, vn)) == NULL)
        return SL_ENOMEM;
    *slot_line = line;
    if (slot != &s->secret && bad_value_char(*slot, slot != &s->key_id))
        return perr(ps, line, "section [%s]: %s contains a blank, '/' or control character",
                    s->name, key);
    return SL_OK;
}

static void parser_done(struct parser *ps)
{
    size_t i;

    for (i = 0; i < ps->nnames; i++)
        free(ps->names[i]);
    free(ps->names);
}

/* Feed every line of <p>..<end> to the section parser. */
static int parse_lines(struct parser *ps, struct section *s, const char *p, const char *end,
                       unsigned *line)
{
    int rc = SL_OK;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        const char *q = eol ? eol : end;

        ++*line;
        while (q > p && (q[-1] == '\r' || is_blank(q[-1])))
            q--;
        while (p < q && is_blank(*p))
            p++;
        if (p == q || *p == '#' || *p == ';')
            rc = SL_OK;
        else if (*p == '[')
            rc = section_start(ps, s, *line, p, (size_t)(q - p));
        else
            rc = section_key(ps, s, *line, p, (size_t)(q - p));
        if (rc != SL_OK)
            return rc;
        p = next;
    }
    return section_finish(ps, s);
}

int creds_parse(const char *text, size_t len, const char *origin, struct creds **out, char *errbuf,
                size_t errlen)
{
    struct parser ps = {
        .origin = origin ? origin : "credentials", .errbuf = errbuf, .errlen = errlen};
    struct section s;
    const char *p;
    unsigned line = 0;
    int rc = SL_ENOMEM;

    *out = NULL;
    memset(&s, 0, sizeof(s));
    if (text == NULL)
        text = "", len = 0;
    p = text;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if ((ps.creds = calloc(1, sizeof(*ps.creds))) == NULL)
        goto fail;
    if (memchr(text, '\0', len) != NULL) {
        rc = perr(&ps, 0, "contains a NUL byte; not a credentials file");
        goto fail;
    }
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    if ((rc = parse_lines(&ps, &s, p, text + len, &line)) != SL_OK)
        goto fail;
    if (ps.creds->n == 0) {
        rc = perr(&ps, 0, "no section with aws_access_key_id and aws_secret_access_key");
        goto fail;
    }
    parser_done(&ps);
    *out = ps.creds;
    return SL_OK;

fail:
    if (rc == SL_ENOMEM)
        perr(&ps, line, "out of memory");
    section_clear(&s);
    parser_done(&ps);
    creds_free(ps.creds);
    return rc;
}

/* "readable by other users (mode 0644)": what a shared file exposes. */
static void mode_warning(const char *path, mode_t mode, char *warnbuf, size_t warnlen)
{
    const char *what;

    if ((mode & 077) == 0)
        return;
    if ((mode & 044) && (mode & 022))
        what = "readable and writable";
    else if (mode & 022)
        what = "writable";
    else if (mode & 044)
        what = "readable";
    else
        what = "accessible";
    snprintf(warnbuf, warnlen, "%s is %s by other users (mode %04o): run chmod 600 %s", path, what,
             (unsigned)(mode & 07777), path);
}

int creds_load(const char *path, struct creds **out, char *errbuf, size_t errlen, char *warnbuf,
               size_t warnlen)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, rc = SL_EIO;

    *out = NULL;
    if (warnbuf && warnlen)
        warnbuf[0] = '\0';
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        goto io_fail;
    if (!S_ISREG(st.st_mode)) {
        snprintf(errbuf, errlen, "%s: not a regular file", path);
        goto done;
    }
    if (st.st_size > MAX_FILE_BYTES) {
        snprintf(errbuf, errlen, "%s: larger than %d bytes", path, MAX_FILE_BYTES);
        rc = SL_ERR;
        goto done;
    }
    if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        rc = SL_ENOMEM;
        goto done;
    }
    while (len < (size_t)st.st_size) {
        n = read(fd, text + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto io_fail;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    rc = creds_parse(text, len, path, out, errbuf, errlen);
    if (rc == SL_OK && warnbuf && warnlen)
        mode_warning(path, st.st_mode, warnbuf, warnlen);
    goto done;

io_fail:
    snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
done:
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

void creds_free(struct creds *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n; i++)
        entry_clear(&c->v[i]);
    free(c->v);
    free(c);
}

size_t creds_count(const struct creds *c)
{
    return c ? c->n : 0;
}

const struct creds_entry *creds_get(const struct creds *c, size_t i)
{
    return c && i < c->n ? &c->v[i] : NULL;
}

const struct creds_entry *creds_find_key(const struct creds *c, const char *key_id)
{
    size_t i;

    for (i = 0; c && key_id && i < c->n; i++)
        if (strcmp(c->v[i].key_id, key_id) == 0)
            return &c->v[i];
    return NULL;
}

const struct creds_entry *creds_match_token(const struct creds *c, const char *token, size_t len)
{
    unsigned char d[32];
    size_t i, found = 0;
    unsigned any = 0;

    if (c == NULL || token == NULL || len == 0 || digest(token, len, d) != 0)
        return NULL;
    /* Compare digests of equal length, visit every entry, no early exit. */
    for (i = 0; i < c->n; i++) {
        unsigned eq = (unsigned)(c->v[i].token != NULL) &
                      (unsigned)(CRYPTO_memcmp(d, c->v[i].token_digest, sizeof(d)) == 0);
        size_t mask = (size_t)0 - (size_t)eq;

        found = (found & ~mask) | (i & mask);
        any |= eq;
    }
    OPENSSL_cleanse(d, sizeof(d));
    return any ? &c->v[found] : NULL;
}

const struct creds_entry *creds_proxy_entry(const struct creds *c)
{
    const struct creds_entry *first = NULL;
    size_t i;

    for (i = 0; c && i < c->n; i++) {
        if (c->v[i].token == NULL)
            continue;
        if (c->v[i].role == CREDS_ROLE_PROXY)
            return &c->v[i];
        if (first == NULL)
            first = &c->v[i];
    }
    return first;
}

int creds_add(struct creds *c, const char *profile, const char *key_id, const char *secret,
              const char *token, enum creds_role role)
{
    struct creds_entry *e;

    if (c == NULL || profile == NULL || key_id == NULL || strchr(key_id, '/') == NULL ||
        creds_find_key(c, key_id) ||
        (token && (*token == '\0' || creds_match_token(c, token, strlen(token)))))
        return SL_EINVAL;
    if ((e = grow(c)) == NULL)
        return SL_ENOMEM;
    e->profile = strdup(profile);
    e->key_id = strdup(key_id);
    e->secret = secret ? strdup(secret) : NULL;
    e->token = token ? strdup(token) : NULL;
    e->role = role;
    if (e->profile == NULL || e->key_id == NULL || (secret && e->secret == NULL) ||
        (token && (e->token == NULL || digest(token, strlen(token), e->token_digest) != 0))) {
        entry_clear(e);
        return SL_ENOMEM;
    }
    c->n++;
    return SL_OK;
}
