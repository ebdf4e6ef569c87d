/*
 * reply.c - answers the proxy makes itself: fixed responses, redirects and
 * its error pages (the nginx-style HTML that ALB sends too).
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "proxy/conn.h"
#include "proxy/hbuf.h"

const char *px_reason(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Temporarily Unavailable";
    case 504: return "Gateway Time-out";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

void px_reply(struct px_conn *c, int code, const char *ctype, const char *body,
              const char *location, int close_conn)
{
    struct px_hbuf h = px_hbuf_at(&c->hc, &c->hc_cap);
    size_t blen = body ? strlen(body) : 0;
    char line[256];
    int n;

    if (c->resp_started) { /* too late for a status: just close */
        c->close_after = 1;
        c->client_eof = 1;
        c->state = S_LOCAL;
        return;
    }
    pxm_req_reply(c, code);
    n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n", code,
                 px_reason(code), c->fwdc.no_server ? "" : "Server: sluice\r\n", blen);
    px_hput(&h, line, (size_t)n);
    if (ctype && blen) {
        px_hputs(&h, "Content-Type: ");
        px_hputs(&h, ctype);
        px_hputs(&h, "\r\n");
    }
    if (location) {
        px_hputs(&h, "Location: ");
        px_hputs(&h, location);
        px_hputs(&h, "\r\n");
    }
    if (close_conn || c->close_after)
        px_hputs(&h, "Connection: close\r\n");
    else if (c->client_minor == 0)
        px_hputs(&h, "Connection: keep-alive\r\n");
    px_hputs(&h, "\r\n");
    if (!c->head_req && blen)
        px_hput(&h, body, blen);
    c->to_cl.n = 0;
    if (px_hbuf_ok(&h) != 0) { /* no memory for the answer: close instead */
        c->close_after = 1;
        c->client_eof = 1;
    } else
        px_outq_add(&c->to_cl, c->hc, h.len);
    if (close_conn)
        c->close_after = 1;
    c->resp_started = 1;
    c->state = S_LOCAL;
}

void px_reply_error(struct px_conn *c, int code, int close_conn)
{
    char body[256];

    snprintf(body, sizeof(body),
             "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1>"
             "</center>\r\n</body>\r\n</html>\r\n",
             code, px_reason(code), code, px_reason(code));
    /* px_reply() copies the body into the connection's head buffer */
    px_reply(c, code, "text/html", body, NULL, close_conn);
}
