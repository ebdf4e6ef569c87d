/*
 * Unit tests for common/creds.c, the credentials parser both binaries use:
 * roles, the section a proxy authenticates with, the syntaxes sluiced has
 * always accepted (upper-case keys, `key: value`, a token in any section),
 * the file-mode warning, and entries added in memory.  The grammar's
 * refusals are covered through auth_parse() in test_auth.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/creds.h"

static struct creds *ok(const char *text)
{
    struct creds *c = NULL;
    char err[256];

    if (creds_parse(text, strlen(text), "t", &c, err, sizeof(err)) != SL_OK)
        fail_msg("unexpected refusal: %s", err);
    return c;
}

static void refused(const char *text, const char *why)
{
    struct creds *c = (struct creds *)1;
    char err[256];

    assert_int_equal(creds_parse(text, strlen(text), "t", &c, err, sizeof(err)), SL_ERR);
    assert_null(c);
    if (strstr(err, why) == NULL)
        fail_msg("expected '%s' in '%s'", why, err);
}

static void test_roles(void **state)
{
    struct creds *c = ok("[admin]\naws_access_key_id = A\naws_secret_access_key = a\n"
                         "[edge]\naws_access_key_id = P\naws_secret_access_key = p\n"
                         "SLUICE_ROLE = Proxy\n"
                         "[ops]\naws_access_key_id = O\naws_secret_access_key = o\n"
                         "sluice_role = admin\n");

    (void)state;
    assert_int_equal(creds_count(c), 3);
    assert_int_equal(creds_find_key(c, "A")->role, CREDS_ROLE_ADMIN);
    assert_int_equal(creds_find_key(c, "P")->role, CREDS_ROLE_PROXY);
    assert_int_equal(creds_find_key(c, "O")->role, CREDS_ROLE_ADMIN);
    assert_string_equal(creds_find_key(c, "P")->profile, "edge");
    assert_null(creds_find_key(c, "nobody"));
    creds_free(c);
    refused("[x]\naws_access_key_id = A\naws_secret_access_key = a\nsluice_role = root\n",
            "sluice_role must be admin or proxy");
    refused("[x]\nsluice_role = proxy\n", "sluice_role without aws_access_key_id");
    refused("[x]\naws_access_key_id = A\naws_secret_access_key = a\nsluice_role = proxy\n"
            "sluice_role = proxy\n",
            "sluice_role repeated");
}

/* What sluice-proxy picks: a proxy's token first, else the first token. */
static void test_proxy_entry(void **state)
{
    struct creds *c;

    (void)state;
    c = ok("[a]\naws_access_key_id = A\naws_secret_access_key = a\n"
           "[b]\naws_access_key_id = B\naws_secret_access_key = b\nsluice_api_token = tb\n"
           "[p]\naws_access_key_id = P\naws_secret_access_key = p\nsluice_api_token = tp\n"
           "sluice_role = proxy\n");
    assert_string_equal(creds_proxy_entry(c)->token, "tp");
    creds_free(c);
    /* a token in any section, upper-case keys, `key: value` */
    c = ok("[default]\nAWS_ACCESS_KEY_ID: A\nAws_Secret_Access_Key:a\n"
           "[second]\r\n  aws_access_key_id : B\r\naws_secret_access_key=b\r\n"
           "SLUICE_API_TOKEN :  tok-in-second  \r\n");
    assert_string_equal(creds_proxy_entry(c)->token, "tok-in-second");
    assert_string_equal(creds_proxy_entry(c)->profile, "second");
    assert_string_equal(creds_find_key(c, "A")->secret, "a");
    creds_free(c);
    c = ok("[a]\naws_access_key_id = A\naws_secret_access_key = a\n");
    assert_null(creds_proxy_entry(c));
    creds_free(c);
}

static void test_match_token(void **state)
{
    struct creds *c = ok("[a]\naws_access_key_id = A\naws_secret_access_key = a\n"
                         "sluice_api_token = tok-a\n"
                         "[b]\naws_access_key_id = B\naws_secret_access_key = b\n");

    (void)state;
    assert_string_equal(creds_match_token(c, "tok-a", 5)->key_id, "A");
    assert_null(creds_match_token(c, "tok-a", 4));
    assert_null(creds_match_token(c, "tok-b", 5));
    assert_null(creds_match_token(c, "", 0));
    assert_null(creds_match_token(NULL, "tok-a", 5));
    creds_free(c);
}

static void test_add(void **state)
{
    struct creds *c = ok("[a]\naws_access_key_id = A\naws_secret_access_key = a\n"
                         "sluice_api_token = tok-a\n");

    (void)state;
    /* a key id without '/' could be one a file names */
    assert_int_equal(creds_add(c, "x", "AKIDX", NULL, "t1", CREDS_ROLE_PROXY), SL_EINVAL);
    /* a token another entry has */
    assert_int_equal(creds_add(c, "x", "in/memory", NULL, "tok-a", CREDS_ROLE_PROXY), SL_EINVAL);
    assert_int_equal(creds_add(c, "x", "in/memory", NULL, "t1", CREDS_ROLE_PROXY), SL_OK);
    assert_int_equal(creds_add(c, "y", "in/memory", NULL, "t2", CREDS_ROLE_PROXY), SL_EINVAL);
    assert_int_equal(creds_count(c), 2);
    assert_int_equal(creds_match_token(c, "t1", 2)->role, CREDS_ROLE_PROXY);
    assert_null(creds_find_key(c, "in/memory")->secret);
    creds_free(c);
}

static void test_load_mode_warning(void **state)
{
    char path[] = "/tmp/sluice-creds-XXXXXX", err[256], warn[512];
    const char text[] = "[a]\naws_access_key_id = A\naws_secret_access_key = a\n";
    struct creds *c;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(creds_load(path, &c, err, sizeof(err), warn, sizeof(warn)), SL_OK);
    assert_string_equal(warn, "");
    creds_free(c);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(creds_load(path, &c, err, sizeof(err), warn, sizeof(warn)), SL_OK);
    assert_non_null(strstr(warn, "readable by other users (mode 0644)"));
    assert_non_null(strstr(warn, "chmod 600"));
    creds_free(c);
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(creds_load(path, &c, err, sizeof(err), warn, sizeof(warn)), SL_OK);
    assert_non_null(strstr(warn, "writable by other users"));
    creds_free(c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_proxy_entry),
        cmocka_unit_test(test_match_token),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_load_mode_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
