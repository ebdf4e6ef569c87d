/*
 * fuzz_query.c - libFuzzer target for routes/query.c, the Query protocol's
 * form decoding (the body of every ELBv2 request).
 *
 * The input is a form body.  query_decode() must return an object whose
 * leaves are all strings, reached through objects and arrays only, or NULL
 * with a 400 error; query_unescape() must decode into at most as many bytes
 * as it read.  Leaks (the decoder leaked a string per `X.entry.N.key`
 * without a value) fail through LeakSanitizer.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "routes/wire/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const json_t *v, int depth)
{
    const char *k;
    json_t *child;
    size_t i;

    CHECK(depth < 64);
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, child) {
            check_tree(child, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child) {
            check_tree(child, depth + 1);
        }
    } else {
        CHECK(json_is_string(v));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct sl_err err = {0};
    json_t *tree = query_decode(body, size, &err);
    char *out;
    long n;

    if (tree) {
        CHECK(json_is_object(tree) || json_is_array(tree)); /* "member.1=x" at the top */
        check_tree(tree, 0);
        json_decref(tree);
    } else {
        CHECK(err.status == 400 || err.status == 500);
        CHECK(err.code[0] != '\0' && err.message[0] != '\0');
    }
    out = malloc(size + 1);
    CHECK(out != NULL);
    n = query_unescape(body, size, out);
    CHECK(n == -1 || (n >= 0 && (size_t)n <= size && out[n] == '\0'));
    free(out);
    return 0;
}
