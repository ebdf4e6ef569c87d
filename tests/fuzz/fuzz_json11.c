/*
 * fuzz_json11.c - libFuzzer target for the ECS JSON 1.1 door
 * (routes/front_json11.c) and the ECS domain beneath it, over a real store.
 *
 * The input is the X-Amz-Target operation name on its first line (with or
 * without the AmazonEC2ContainerServiceV20141113. prefix) and the JSON body.
 * Every request must get a status from 200 to 599 and a JSON body; an error
 * must carry __type and a message.  Task definitions and services are
 * stored, never run: this process starts no scheduler.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "routes/api/front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_arg(void *cls, const char *name)
{
    (void)cls;
    (void)name;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_ctx ctx = fuzz_ctx();
    struct front_request fr;
    struct front_reply out;
    char op[256], target[320];
    const char *body;
    size_t body_len;
    json_t *doc;

    fuzz_line((const char *)data, size, op, sizeof(op), &body, &body_len);
    if (strchr(op, '.'))
        snprintf(target, sizeof(target), "%s", op);
    else
        snprintf(target, sizeof(target), "AmazonEC2ContainerServiceV20141113.%s", op);
    memset(&fr, 0, sizeof(fr));
    fr.method = "POST";
    fr.path = "/";
    fr.arg = no_arg;
    fr.body = body;
    fr.body_len = body_len;
    fr.content_type = "application/x-amz-json-1.1";
    front_reply_init(&out);
    front_json11(&ctx, target, &fr, &out);
    CHECK(out.status >= 200 && out.status <= 599);
    CHECK(!buf_failed(&out.body));
    doc = json_loadb(out.body.data ? out.body.data : "", out.body.len, 0, NULL);
    CHECK(doc != NULL);
    if (out.status >= 400) {
        CHECK(json_is_string(json_object_get(doc, "__type")));
        CHECK(json_is_string(json_object_get(doc, "message")) ||
              json_is_string(json_object_get(doc, "Message")));
    }
    json_decref(doc);
    front_reply_free(&out);
    return 0;
}
