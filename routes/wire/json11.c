/*
 * json11.c - AWS JSON 1.1 bodies.
 */
#include "routes/wire/json11.h"

#include <stdlib.h>

static int blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

json_t *json11_decode(const char *body, size_t len, struct sl_err *err)
{
    json_error_t jerr;
    json_t *v;

    if (body == NULL || blank(body, len))
        return json_object();
    if ((v = json_loadb(body, len, 0, &jerr)) == NULL) {
        sl_err_set(err, 400, "SerializationException", "Malformed JSON body: %s", jerr.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        sl_err_set(err, 400, "SerializationException", "The request body must be a JSON object");
        return NULL;
    }
    return v;
}

int json11_encode(struct buf *b, json_t *result)
{
    char *text = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(13));

    if (text == NULL)
        return SL_ENOMEM;
    buf_puts(b, text);
    free(text);
    return buf_failed(b) ? SL_ENOMEM : SL_OK;
}

void json11_error(struct buf *b, const struct sl_err *e)
{
    int status = e->status ? e->status : 400;
    json_t *body = json_pack("{ss ss}", "__type",
                             status >= 500 ? "ServerException"
                                           : (e->code[0] ? e->code : "ClientException"),
                             "message", e->message);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

    buf_puts(b, text ? text : "{\"__type\":\"ServerException\"}");
    free(text);
    json_decref(body);
}
