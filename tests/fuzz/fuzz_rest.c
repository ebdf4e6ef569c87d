/*
 * fuzz_rest.c - libFuzzer target for the REST JSON API: paths, query
 * arguments and bodies through routes/front_rest.c into the ELBv2 domain
 * over a real store, and the data-plane report and snapshot
 * (server/dataplane.c).
 *
 * The input is "METHOD /path?query\n" and the body.  Every request must get
 * a status from 200 to 599, and a JSON body (any error in the REST format
 * {"error":{"code","message"}}) unless it is a 204.  Writes accumulate in
 * the store across inputs.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "routes/api/front.h"
#include "server/app.h"
#include "server/dataplane.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A query argument of the request line, not decoded (libmicrohttpd would
 * decode; the doors see any bytes). */
static const char *arg(void *cls, const char *name)
{
    static char value[256];
    const char *q = cls, *p = q;
    size_t n = strlen(name);

    while (p && *p) {
        const char *amp = strchr(p, '&'), *eq = strchr(p, '=');
        size_t klen = (size_t)((eq && (!amp || eq < amp) ? eq : amp ? amp : p + strlen(p)) - p);

        if (klen == n && memcmp(p, name, n) == 0) {
            const char *v = eq && (!amp || eq < amp) ? eq + 1 : p + klen;
            size_t vl = (size_t)((amp ? amp : v + strlen(v)) - v);
            if (vl >= sizeof(value))
                vl = sizeof(value) - 1;
            memcpy(value, v, vl);
            value[vl] = '\0';
            return value;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct app app;
    static struct sl_config cfg;
    static struct dataplane *dp;
    struct api_ctx ctx = fuzz_ctx();
    struct front_request fr;
    struct front_reply out;
    char line[2048], *sp, *q;
    const char *body;
    size_t body_len;

    if (dp == NULL) {
        app.cfg = &cfg;
        app.store = ctx.store;
        app.health = fuzz_health;
        CHECK(dataplane_new(&app, &dp) == SL_OK);
    }
    fuzz_line((const char *)data, size, line, sizeof(line), &body, &body_len);
    sp = strchr(line, ' ');
    if (sp == NULL || sp[1] != '/')
        return 0;
    *sp = '\0';
    q = strchr(sp + 1, '?');
    if (q)
        *q++ = '\0';
    memset(&fr, 0, sizeof(fr));
    fr.method = line;
    fr.path = sp + 1;
    fr.arg = arg;
    fr.arg_cls = q ? q : (char *)"";
    fr.body = body;
    fr.body_len = body_len;
    fr.content_type = "application/json";
    front_reply_init(&out);
    if (strncmp(fr.path, "/v1/dataplane/", 14) == 0) {
        if (strcmp(fr.path, "/v1/dataplane/watch") == 0)
            return 0; /* a stream: needs a connection */
        dataplane_handle(dp, NULL, &fr, &out);
    } else {
        front_rest(&ctx, &fr, &out);
    }
    CHECK(out.status >= 200 && out.status <= 599);
    CHECK(!buf_failed(&out.body));
    if (out.status != 204) {
        json_t *doc = json_loadb(out.body.data ? out.body.data : "", out.body.len, 0, NULL);
        CHECK(doc != NULL);
        if (out.status >= 400) {
            json_t *e = json_object_get(doc, "error");
            CHECK(json_is_string(json_object_get(e, "code")));
            CHECK(json_is_string(json_object_get(e, "message")));
        }
        json_decref(doc);
    }
    front_reply_free(&out);
    return 0;
}
