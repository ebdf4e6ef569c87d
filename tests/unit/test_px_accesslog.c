/* Unit tests for proxy/accesslog_line.c and proxy/accesslog_file.c: a line
 * in ALB's field order and quoting (the AWS documentation's example, field
 * for field), escaping of client text, "-" and -1 for what did not happen;
 * gzip files that read back whole, and a write that fails (the file size
 * limit stands in for a full disk) cutting the file back to a valid gzip
 * file of exactly the rounds written before; connection log lines
 * (accesslog_conn.h) in ALB's order, successful and failed handshakes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "proxy/accesslog_conn.h"
#include "proxy/accesslog_file.h"
#include "proxy/accesslog_line.h"

static struct timespec at(time_t s, long us)
{
    struct timespec ts = {s, us * 1000};
    return ts;
}

/* The forward example of AWS's "Access log entries" page. */
static void test_line_matches_alb_example(void **state)
{
    static const char req[] = "GET http://www.example.com:80/ HTTP/1.1";
    static const char ua[] = "curl/7.46.0";
    struct pxa_fields f = {0};
    char out[PXA_FIELD_MAX * 4];
    size_t n;

    f.type = "http";
    f.time = at(1530570180, 186641); /* 2018-07-02T22:23:00.186641Z */
    f.created = at(1530570168, 364000);
    f.elb = "app/my-loadbalancer/50dc6c495c0c9188";
    f.client_ip = "192.168.131.39";
    f.client_port = 2817;
    f.target = "10.0.0.1:80";
    f.request_us = 0;
    f.target_us = 1000;
    f.response_us = 0;
    f.elb_status = f.target_status = 200;
    f.received = 34;
    f.sent = 366;
    f.request = req;
    f.request_len = sizeof(req) - 1;
    f.user_agent = ua;
    f.user_agent_len = sizeof(ua) - 1;
    f.target_group_arn =
        "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/"
        "73e2d6bc24d8a067";
    f.trace_id = "Root=1-58337262-36d228ad5d99923122bbe354";
    f.rule_priority = 0;
    f.actions = "forward";
    f.conn_trace_id = "TID_1234abcd5678ef90";
    n = pxa_format(out, sizeof(out), &f);
    out[n] = '\0';
    assert_string_equal(
        out, "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 "
             "192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "
             "\"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.46.0\" - - "
             "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/"
             "73e2d6bc24d8a067 \"Root=1-58337262-36d228ad5d99923122bbe354\" \"-\" \"-\" 0 "
             "2018-07-02T22:22:48.364000Z \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" "
             "\"-\" \"-\" TID_1234abcd5678ef90\n");
}

/* A malformed request the load balancer answered itself. */
static void test_line_of_refused_request(void **state)
{
    struct pxa_fields f = {0};
    char out[4096];
    size_t n;

    f.type = "http";
    f.time = f.created = at(0, 0);
    f.elb = "app/a/b";
    f.client_ip = "::1";
    f.client_port = 9;
    f.request_us = f.target_us = f.response_us = -1;
    f.elb_status = 400;
    f.rule_priority = PXA_PRIO_NONE;
    n = pxa_format(out, sizeof(out), &f);
    out[n] = '\0';
    assert_string_equal(out, "http 1970-01-01T00:00:00.000000Z app/a/b ::1:9 - -1 -1 -1 400 - 0 "
                             "0 \"- - - \" \"-\" - - - \"-\" \"-\" \"-\" - "
                             "1970-01-01T00:00:00.000000Z \"-\" \"-\" \"-\" \"-\" \"-\" \"-\" "
                             "\"-\" -\n");
}

static void test_escape(void **state)
{
    char out[64];
    size_t n = pxa_escape(out, sizeof(out), "a \"b\"\\\n\x01\xc3\xa9", 10);

    assert_int_equal(n, 31);
    out[n] = '\0';
    assert_string_equal(out, "a \\x22b\\x22\\x5c\\x0a\\x01\\xc3\\xa9");
    /* an escape is never cut */
    assert_int_equal(pxa_escape(out, 5, "ab\"", 3), 2);
}

static void test_seconds_round_to_milliseconds(void **state)
{
    struct pxa_fields f = {0};
    char out[4096];

    f.time = f.created = at(0, 0);
    f.client_ip = "1.2.3.4";
    f.request_us = 1499;   /* 0.001 */
    f.target_us = 1500;    /* 0.002 */
    f.response_us = 12345678; /* 12.346 */
    f.rule_priority = 7;
    out[pxa_format(out, sizeof(out), &f)] = '\0';
    assert_non_null(strstr(out, " 0.001 0.002 12.346 - - "));
}

/* ---- connection logs ---- */

static void test_conn_line(void **state)
{
    struct pxa_conn_fields f = {0};
    char out[512];

    (void)state;
    f.time = at(1696441145, 712542); /* 2023-10-04T17:39:05.712542Z */
    f.client_ip = "192.0.2.1";
    f.client_port = 45678;
    f.listener_port = 443;
    f.protocol = "TLSv1.2";
    f.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
    f.latency_us = 2993456;
    f.ok = 1;
    f.conn_trace_id = "TID_9b4fbc4a7e2a6e4a";
    out[pxa_conn_format(out, sizeof(out), &f)] = '\0';
    assert_string_equal(out, "2023-10-04T17:39:05.712542Z 192.0.2.1 45678 443 TLSv1.2 "
                             "ECDHE-RSA-AES128-GCM-SHA256 2.993 \"-\" - - Success "
                             "TID_9b4fbc4a7e2a6e4a\n");
    /* a failed handshake: no protocol or cipher, whatever the stream said */
    f.ok = 0;
    f.latency_us = 1000;
    f.conn_trace_id = NULL;
    out[pxa_conn_format(out, sizeof(out), &f)] = '\0';
    assert_string_equal(out, "2023-10-04T17:39:05.712542Z 192.0.2.1 45678 443 - - 0.001 \"-\" "
                             "- - Failed:UnmappedConnectionError -\n");
    /* cut to the room, the newline kept */
    assert_int_equal(pxa_conn_format(out, 20, &f), 20);
    assert_int_equal(out[19], '\n');
}

/* ---- files ---- */

static char dir[64];

static int setup_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_px_accesslog.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The whole decompressed content of <path> into <out>; -1 if the gzip
 * stream is not complete and valid. */
static long gunzip(const char *path, char *out, size_t cap)
{
    gzFile g = gzopen(path, "rb");
    long n;
    int err;

    if (g == NULL)
        return -1;
    n = gzread(g, out, (unsigned)cap);
    gzerror(g, &err);
    if (gzclose(g) != Z_OK || err != Z_OK)
        return -1;
    return n;
}

static void test_file_round_trip(void **state)
{
    struct pxa_file f;
    struct sl_err err = {0};
    char path[256], back[4096], sub[128];
    int i;

    snprintf(sub, sizeof(sub), "%s/a", dir); /* made by the open */
    assert_int_equal(pxa_file_open(&f, sub, "b.log.gz", 0, 300, &err), SL_OK);
    for (i = 0; i < 3; i++)
        assert_int_equal(pxa_file_add(&f, "one line\n", 9), SL_OK);
    assert_int_equal(pxa_file_round(&f, &err), SL_OK);
    snprintf(path, sizeof(path), "%s/a/b.log.gz.partial", dir);
    assert_int_equal(access(path, F_OK), 0); /* written under its .partial name */
    assert_int_equal(pxa_file_add(&f, "last\n", 5), SL_OK);
    assert_int_equal(pxa_file_finish(&f, &err), SL_OK);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/a/b.log.gz", dir);
    assert_int_equal(gunzip(path, back, sizeof(back)), 32);
    assert_memory_equal(back, "one line\none line\none line\nlast\n", 32);
}

/* Lines that compress badly, so rounds take room. */
static void noisy_line(char *out, int i)
{
    unsigned x = (unsigned)i * 2654435761u;
    int k;

    for (k = 0; k < 99; k++) {
        x = x * 1103515245u + 12345u;
        out[k] = (char)('a' + (x >> 16) % 26);
    }
    out[99] = '\n';
}

static void test_failed_write_cuts_back(void **state)
{
    struct rlimit old, lim;
    struct pxa_file f;
    struct sl_err err = {0};
    char path[256], line[100], *back = malloc(1 << 20), *want = malloc(1 << 20);
    size_t good_len = 0;
    int i, rc = SL_OK, rounds = 0;

    signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG instead */
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 16384;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(pxa_file_open(&f, dir, "full.log.gz", 0, 300, &err), SL_OK);
    for (i = 0; rc == SL_OK && i < 100000; i++) {
        noisy_line(line, i);
        assert_int_equal(pxa_file_add(&f, line, sizeof(line)), SL_OK);
        memcpy(want + good_len + (size_t)(i % 10) * 100, line, 100);
        if (i % 10 == 9) {
            rc = pxa_file_round(&f, &err);
            if (rc == SL_OK) {
                good_len += 1000;
                rounds++;
            }
        }
    }
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(rc, SL_EIO);
    assert_true(rounds > 0);
    assert_int_equal(f.fd, -1);
    assert_non_null(strstr(err.message, "full.log.gz"));
    snprintf(path, sizeof(path), "%s/full.log.gz", dir);
    /* renamed as complete, and exactly the rounds that were written */
    assert_int_equal(gunzip(path, back, 1 << 20), (long)good_len);
    assert_memory_equal(back, want, good_len);
    free(back);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_matches_alb_example),
        cmocka_unit_test(test_line_of_refused_request),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_seconds_round_to_milliseconds),
        cmocka_unit_test(test_conn_line),
        cmocka_unit_test_setup_teardown(test_file_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_failed_write_cuts_back, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
