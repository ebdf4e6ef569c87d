/* Unit tests for common/util.c: UUIDs and request IDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* 8-4-4-4-12 lowercase hex, version 4, RFC 4122 variant. */
static void assert_uuid_v4(const char *u)
{
    size_t i;

    assert_int_equal(strlen(u), 36);
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", u[i]));
    }
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

#define IDS_PER_THREAD 5000
#define THREADS 4

static void *make_ids(void *arg)
{
    char(*ids)[37] = arg;
    int i;

    for (i = 0; i < IDS_PER_THREAD; i++)
        util_request_id(ids[i]);
    return NULL;
}

/* Request IDs from concurrent threads are well-formed and never repeat. */
static void test_request_ids_unique(void **state)
{
    static char ids[THREADS * IDS_PER_THREAD][37];
    pthread_t th[THREADS];
    int i;

    (void)state;
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, make_ids, ids[i * IDS_PER_THREAD]), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < THREADS * IDS_PER_THREAD; i++)
        assert_uuid_v4(ids[i]);
    qsort(ids, THREADS * IDS_PER_THREAD, sizeof(ids[0]), cmp_id);
    for (i = 1; i < THREADS * IDS_PER_THREAD; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
}

static void test_uuid_format(void **state)
{
    char a[37], b[37];

    (void)state;
    util_uuid(a);
    util_uuid(b);
    assert_uuid_v4(a);
    assert_uuid_v4(b);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_ids_unique),
        cmocka_unit_test(test_uuid_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
