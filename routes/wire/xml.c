#include "routes/wire/xml.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void xml_escape(struct buf *b, const char *s, size_t len)
{
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char num[8];

        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                /* Not representable in XML 1.0; keep the byte visible. */
                snprintf(num, sizeof(num), "\\u%04x", c);
                rep = num;
            } else if (c == '\r' || c == '\n' || c == '\t') {
                snprintf(num, sizeof(num), "&#%d;", c);
                rep = num;
            }
        }
        if (rep) {
            buf_append(b, s + i - run, run);
            run = 0;
            buf_puts(b, rep);
        } else {
            run++;
        }
    }
    buf_append(b, s + len - run, run);
}

static void encode_value(struct buf *b, json_t *v);

static void encode_members(struct buf *b, json_t *obj)
{
    const char *k;
    json_t *v;

    json_object_foreach(obj, k, v) {
        size_t kl;

        if (json_is_null(v))
            continue;
        kl = strlen(k);
        buf_putc(b, '<');
        buf_append(b, k, kl);
        buf_putc(b, '>');
        encode_value(b, v);
        buf_append(b, "</", 2);
        buf_append(b, k, kl);
        buf_putc(b, '>');
    }
}

static void encode_value(struct buf *b, json_t *v)
{
    size_t i;
    json_t *e;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        encode_members(b, v);
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, e) {
            buf_append(b, "<member>", 8);
            encode_value(b, e);
            buf_append(b, "</member>", 9);
        }
        break;
    case JSON_STRING:
        xml_escape(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        char num[24], *p = num + sizeof(num);
        json_int_t n = json_integer_value(v);
        unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;

        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (n < 0)
            *--p = '-';
        buf_append(b, p, (size_t)(num + sizeof(num) - p));
        break;
    }
    case JSON_REAL:
        buf_printf(b, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        buf_puts(b, "true");
        break;
    case JSON_FALSE:
        buf_puts(b, "false");
        break;
    case JSON_NULL:
        break;
    }
}

void xml_response(struct buf *b, const char *ns, const char *op, json_t *result,
                  const char *request_id)
{
    buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"%s\">", op,
               ns);
    if (result && json_object_size(result) > 0) {
        buf_printf(b, "<%sResult>", op);
        encode_members(b, result);
        buf_printf(b, "</%sResult>", op);
    } else {
        buf_printf(b, "<%sResult/>", op);
    }
    buf_printf(b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>\n",
               request_id, op);
}

void xml_error(struct buf *b, const char *ns, const struct sl_err *e, const char *request_id)
{
    buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"%s\">"
                  "<Error><Type>%s</Type><Code>",
               ns, e->status >= 500 ? "Receiver" : "Sender");
    xml_escape(b, e->code, strlen(e->code));
    buf_puts(b, "</Code><Message>");
    xml_escape(b, e->message, strlen(e->message));
    buf_printf(b, "</Message></Error><RequestId>%s</RequestId></ErrorResponse>\n", request_id);
}
