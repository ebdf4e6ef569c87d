/*
 * fuzz_metrics_report.c - libFuzzer target for server/metrics_agg.c: the
 * counters of a proxy's POST /v1/dataplane/report (any JSON a proxy key
 * sends), summed into sluiced's GET /metrics.
 *
 * The input is a report body, taken in from two proxies, then from one
 * again with a lower clock (a restart).  Whatever it holds, the
 * exposition renders, every line is a "# HELP"/"# TYPE" comment or a
 * "name{labels} value" sample with a value of digits, and label values are
 * quoted with '"', '\' and newlines escaped (no line is broken by a name).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "fuzz_util.h"
#include "server/metrics_agg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *l, size_t n)
{
    size_t i = 0;

    if (n == 0)
        return;
    if (l[0] == '#') {
        CHECK(n > 7 && (memcmp(l, "# HELP ", 7) == 0 || memcmp(l, "# TYPE ", 7) == 0));
        return;
    }
    while (i < n && (l[i] == '_' || (l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9')))
        i++;
    CHECK(i > 0 && i < n);
    if (l[i] == '{') { /* to the closing brace, outside quoted values */
        int quoted = 0;
        for (i++; i < n && (quoted || l[i] != '}'); i++) {
            if (quoted && l[i] == '\\')
                i++;
            else if (l[i] == '"')
                quoted = !quoted;
        }
        CHECK(i < n);
        i++;
    }
    CHECK(i < n && l[i] == ' ');
    for (i++; i < n; i++)
        CHECK((l[i] >= '0' && l[i] <= '9') || l[i] == '.' || l[i] == 'e' || l[i] == '+' ||
              l[i] == '-');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    struct magg *a = NULL;
    struct buf b;
    const char *p, *e;

    if (body == NULL)
        return 0;
    CHECK(magg_new(&a) == 0);
    magg_ingest(a, "p1", body, 1000);
    magg_ingest(a, "p2", body, 1000);
    magg_ingest(a, "p1", body, 500);
    magg_forget(a, "p2");
    buf_init(&b);
    CHECK(magg_render(a, &b) == 0);
    for (p = b.data; p && *p; p = e + 1) {
        e = strchr(p, '\n');
        CHECK(e != NULL); /* every line ends */
        check_line(p, (size_t)(e - p));
    }
    buf_free(&b);
    magg_free(a);
    json_decref(body);
    return 0;
}
