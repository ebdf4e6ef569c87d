/*
 * fuzz_sigv4.c - libFuzzer target for server/sigv4.c and server/auth.c:
 * the SigV4 Authorization header, the date headers, the canonical request
 * (path, query, signed headers) and bearer tokens.
 *
 * The input is a request: "METHOD PATH[?QUERY]\n", then "Name: value\n"
 * header lines up to an empty line, then the body.  It is checked against
 * the key pairs tests/unit/auth_vectors/ are signed with, at the time its
 * own date says (so a well-formed signature reaches the HMAC).  Every
 * verdict must be SL_OK or an AWS error with status 400/403/500, and a
 * request that verifies must also pass the head-only precheck as the same
 * key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "server/auth.h"
#include "server/sigv4.h"

#define MAX_HDRS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CREDS[] = "[default]\n"
                            "aws_access_key_id = AKIDEXAMPLE\n"
                            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
                            "sluice_api_token = sluice-test-token-0123456789abcdef\n"
                            "[profile second]\n"
                            "aws_access_key_id=AKIDSECONDPROFILE\n"
                            "aws_secret_access_key=s3cr3t+with/odd=chars\n"
                            "sluice_role = proxy\n";

static struct auth_creds *creds;

static void check_err(int rc, const struct sl_err *e)
{
    if (rc == SL_OK)
        return;
    CHECK(rc == SL_ERR);
    CHECK(e->status == 400 || e->status == 403 || e->status == 500);
    CHECK(e->code[0] != '\0' && e->message[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_header h[MAX_HDRS];
    struct auth_request r;
    struct auth_identity id, pre;
    struct sigv4_auth a;
    struct sl_err err;
    char *text = malloc(size + 1), *p, *end, *line, *q;
    size_t n = 0;
    int rc;

    CHECK(text != NULL);
    if (creds == NULL) {
        char msg[256];
        CHECK(auth_parse(CREDS, sizeof(CREDS) - 1, "fuzz", &creds, msg, sizeof(msg)) == SL_OK);
    }
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&r, 0, sizeof(r));
    end = text + size;
    line = text;
    p = memchr(line, '\n', (size_t)(end - line));
    if (p)
        *p = '\0';
    r.method = line;
    q = strchr(line, ' ');
    r.path = "/";
    if (q) {
        *q = '\0';
        r.path = q + 1;
        if ((q = strchr(q + 1, '?')) != NULL) {
            *q = '\0';
            r.query = q + 1;
        }
    }
    p = p ? p + 1 : end;
    while (p < end && n < MAX_HDRS) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
        if (nl)
            *nl = '\0';
        if (*p == '\0') { /* the blank line: the body follows */
            p = nl ? nl + 1 : end;
            break;
        }
        colon = strchr(p, ':');
        h[n].name = p;
        h[n].value = "";
        if (colon) {
            *colon = '\0';
            h[n].value = colon + 1 + (colon[1] == ' ');
        }
        n++;
        p = nl ? nl + 1 : end;
    }
    r.headers = h;
    r.nheaders = n;
    r.body = p;
    r.body_len = (size_t)(end - p);
    r.now = 1795510402; /* the vectors' clock, unless the request names its own */
    memset(&err, 0, sizeof(err));
    if (sigv4_parse(&r, &a, &err) == SL_OK)
        r.now = a.t;
    else
        check_err(SL_ERR, &err);

    memset(&err, 0, sizeof(err));
    rc = auth_verify_sigv4(creds, &r, &id, &err);
    check_err(rc, &err);
    memset(&err, 0, sizeof(err));
    check_err(auth_precheck(creds, &r, 0, &pre, &err), &err);
    memset(&err, 0, sizeof(err));
    check_err(auth_precheck(creds, &r, 1, &pre, &err), &err);
    if (rc == SL_OK) {
        memset(&err, 0, sizeof(err));
        CHECK(auth_precheck(creds, &r, 0, &pre, &err) == SL_OK);
        CHECK(strcmp(pre.access_key, id.access_key) == 0 && pre.role == id.role);
    }
    free(text);
    return 0;
}
