/*
 * Unit tests for lab_log: the REPORT line's format (both with and without
 * Init Duration), the 4 KB tail an Invoke returns, output printed between
 * invocations landing in the next tail, and the stream's size cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lab_log.h"

static char *decode(const char *b64, size_t *len)
{
    size_t n = strlen(b64);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    int m;

    assert_non_null(out);
    m = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    assert_true(m >= 0);
    while (n > 0 && b64[n - 1] == '=') {
        m--;
        n--;
    }
    out[m] = '\0';
    *len = (size_t)m;
    return (char *)out;
}

static void test_report_cold_and_warm(void **state)
{
    char line[512];
    lab_log_report r = {.duration_ms = 9988.344, .memory_size_mb = 2048,
                        .max_memory_used_mb = 192, .init_duration_ms = 170.571};

    (void)state;
    lab_log_format_report("id-1", &r, line, sizeof(line));
    assert_string_equal(line, "REPORT RequestId: id-1\tDuration: 9988.34 ms\tBilled Duration: 9989 ms\t"
                              "Memory Size: 2048 MB\tMax Memory Used: 192 MB\tInit Duration: 170.57 ms\t");
    r.init_duration_ms = -1;
    r.duration_ms = 1.0;
    lab_log_format_report("id-2", &r, line, sizeof(line));
    assert_string_equal(line, "REPORT RequestId: id-2\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
                              "Memory Size: 2048 MB\tMax Memory Used: 192 MB\t");
}

static void test_tail_holds_invocation_and_init_output(void **state)
{
    char err[256];
    lab_log *l = lab_log_open(NULL, "fn", "[$LATEST]x", err, sizeof(err));
    lab_log_report r = {.duration_ms = 2.5, .memory_size_mb = 128, .max_memory_used_mb = 20,
                        .init_duration_ms = 50};
    char *b64, *tail;
    size_t len;

    (void)state;
    assert_non_null(l);
    lab_log_append(l, "init says DB_PASSWORD=canary-1\n", 31);
    lab_log_start(l, "req-1");
    lab_log_append(l, "handler output\n", 15);
    b64 = lab_log_finish(l, "req-1", &r, NULL);
    tail = decode(b64, &len);
    assert_non_null(strstr(tail, "init says DB_PASSWORD=canary-1\nSTART RequestId: req-1 Version: $LATEST\n"
                                 "handler output\nEND RequestId: req-1\nREPORT RequestId: req-1\t"));
    assert_non_null(strstr(tail, "Init Duration: 50.00 ms\t\n"));
    free(b64);
    free(tail);

    /* the next tail starts afresh */
    r.init_duration_ms = -1;
    lab_log_start(l, "req-2");
    b64 = lab_log_finish(l, "req-2", &r, "2024-01-01T00:00:00.000Z req-2 Task timed out after 3.01 seconds");
    tail = decode(b64, &len);
    assert_null(strstr(tail, "req-1"));
    assert_null(strstr(tail, "canary-1"));
    assert_non_null(strstr(tail, "\nREPORT RequestId: req-2\t"));
    assert_non_null(strstr(tail, "Task timed out after 3.01 seconds\n"));
    free(b64);
    free(tail);
    lab_log_close(&l);
    assert_null(l);
}

static void test_tail_is_last_4k(void **state)
{
    char err[256], chunk[1000];
    lab_log *l = lab_log_open(NULL, "fn", "s", err, sizeof(err));
    lab_log_report r = {.duration_ms = 1, .memory_size_mb = 128, .max_memory_used_mb = 1,
                        .init_duration_ms = -1};
    char *b64, *tail;
    size_t len;

    (void)state;
    lab_log_start(l, "req-big");
    for (int i = 0; i < 100; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        lab_log_append(l, chunk, sizeof(chunk));
    }
    b64 = lab_log_finish(l, "req-big", &r, NULL);
    tail = decode(b64, &len);
    assert_int_equal(len, LAB_LOG_TAIL_BYTES);
    assert_null(strstr(tail, "START")); /* pushed out by the flood */
    assert_non_null(strstr(tail, "END RequestId: req-big\nREPORT RequestId: req-big"));
    assert_int_equal(tail[len - 1], '\n');
    free(b64);
    free(tail);
    lab_log_close(&l);
}

/* A JSON line parsed back with cJSON; the test fails when it is not JSON. */
static cJSON *parse_line(const char *line)
{
    cJSON *o = cJSON_Parse(line);

    if (!o)
        fail_msg("not JSON: %s", line);
    return o;
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);

    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = a ? cJSON_GetObjectItemCaseSensitive(o, a) : o;

    v = cJSON_GetObjectItemCaseSensitive(v, b);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void test_json_platform_lines(void **state)
{
    char line[512];
    lab_log_report r = {.duration_ms = 1234.567, .memory_size_mb = 512,
                        .max_memory_used_mb = 77, .init_duration_ms = 99};
    cJSON *o, *rec, *m;

    (void)state;
    lab_log_format_json_start("2026-01-02T03:04:05.678Z", "id-\"1", line, sizeof(line));
    o = parse_line(line);
    assert_string_equal(str_at(o, NULL, "time"), "2026-01-02T03:04:05.678Z");
    assert_string_equal(str_at(o, NULL, "type"), "platform.start");
    assert_string_equal(str_at(o, "record", "requestId"), "id-\"1");
    assert_string_equal(str_at(o, "record", "version"), "$LATEST");
    cJSON_Delete(o);

    lab_log_format_json_report("2026-01-02T03:04:06.000Z", "id-2", "timeout", &r, line, sizeof(line));
    o = parse_line(line);
    assert_string_equal(str_at(o, NULL, "type"), "platform.report");
    assert_string_equal(str_at(o, "record", "requestId"), "id-2");
    assert_string_equal(str_at(o, "record", "status"), "timeout");
    rec = cJSON_GetObjectItemCaseSensitive(o, "record");
    m = cJSON_GetObjectItemCaseSensitive(rec, "metrics");
    assert_true(num_at(rec, "metrics", "durationMs") == 1234.57);
    assert_true(num_at(rec, "metrics", "billedDurationMs") == 1235);
    assert_true(num_at(rec, "metrics", "memorySizeMB") == 512);
    assert_true(num_at(rec, "metrics", "maxMemoryUsedMB") == 77);
    /* init is reported once, by platform.initReport, not on invoke reports */
    assert_null(cJSON_GetObjectItemCaseSensitive(m, "initDurationMs"));
    cJSON_Delete(o);

    lab_log_format_json_init_report("2026-01-02T03:04:05.000Z", 250.456, "success", line, sizeof(line));
    o = parse_line(line);
    assert_string_equal(str_at(o, NULL, "type"), "platform.initReport");
    assert_string_equal(str_at(o, "record", "status"), "success");
    assert_string_equal(str_at(o, "record", "phase"), "init");
    assert_true(num_at(cJSON_GetObjectItemCaseSensitive(o, "record"), "metrics", "durationMs") == 250.46);
    cJSON_Delete(o);

    /* too small a buffer: nothing rather than half a line */
    lab_log_format_json_start("2026-01-02T03:04:05.678Z", "id-3", line, 10);
    assert_string_equal(line, "");
}

/* An MI environment's tail: its ring is kept, so concurrent requests'
 * lines interleave and a later tail still holds earlier lines. */
static void test_json_tail_is_shared(void **state)
{
    char err[256];
    lab_log *l = lab_log_open(NULL, "fn", "[$LATEST]x", err, sizeof(err));
    lab_log_report r = {.duration_ms = 3, .memory_size_mb = 128, .max_memory_used_mb = 20,
                        .init_duration_ms = -1};
    char *b64, *tail, iso[40];
    size_t len;

    (void)state;
    assert_non_null(l);
    lab_log_iso_now(iso, sizeof(iso));
    assert_int_equal(strlen(iso), 24);
    assert_int_equal(iso[23], 'Z');
    lab_log_json_init_report(l, 12.5, "success");
    lab_log_json_start(l, "req-a");
    lab_log_json_start(l, "req-b");
    lab_log_append(l, "from b\n", 7);
    b64 = lab_log_json_finish(l, "req-b", &r, "success");
    tail = decode(b64, &len);
    assert_non_null(strstr(tail, "\"type\":\"platform.initReport\""));
    assert_non_null(strstr(tail, "\"requestId\":\"req-a\""));
    assert_non_null(strstr(tail, "from b\n{\"time\":"));
    assert_non_null(strstr(tail, "\"type\":\"platform.report\",\"record\":{\"requestId\":\"req-b\""));
    assert_int_equal(tail[len - 1], '\n');
    free(b64);
    free(tail);

    b64 = lab_log_json_finish(l, "req-a", &r, "error");
    tail = decode(b64, &len);
    /* b's report is before a's, in the same tail */
    assert_true(strstr(tail, "\"requestId\":\"req-b\",\"status\"") <
                strstr(tail, "\"requestId\":\"req-a\",\"status\":\"error\""));
    assert_non_null(strstr(tail, "\"requestId\":\"req-b\",\"status\""));
    /* every line of it is a JSON object but the function's raw one */
    for (char *line = strtok(tail, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "from b") == 0)
            continue;
        cJSON_Delete(parse_line(line));
    }
    free(b64);
    free(tail);
    lab_log_close(&l);
}

static void test_stream_file_and_cap(void **state)
{
    char dir[] = "/tmp/coldsec-test-lab-log-XXXXXX";
    char err[256], path[512], folder[400];
    lab_log *l;
    lab_log_report r = {.duration_ms = 1, .memory_size_mb = 128, .max_memory_used_mb = 1,
                        .init_duration_ms = -1};
    static char big[1024 * 1024];
    struct stat st;
    time_t now = time(NULL);
    struct tm tm;
    char *b64;
    char cmd[600];

    (void)state;
    assert_non_null(mkdtemp(dir));
    l = lab_log_open(dir, "fn", "[$LATEST]abc", err, sizeof(err));
    assert_non_null(l);
    memset(big, 'x', sizeof(big));
    lab_log_start(l, "r");
    for (int i = 0; i < 20; i++) /* 20 MiB > the 16 MiB cap */
        lab_log_append(l, big, sizeof(big));
    b64 = lab_log_finish(l, "r", &r, NULL);
    free(b64);
    lab_log_close(&l);
    gmtime_r(&now, &tm);
    snprintf(folder, sizeof(folder), "%s/fn/%04d/%02d/%02d", dir, tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
    snprintf(path, sizeof(path), "%s/[$LATEST]abc", folder);
    assert_int_equal(stat(path, &st), 0);
    assert_true((size_t)st.st_size <= LAB_LOG_STREAM_MAX + 4096);
    assert_true((size_t)st.st_size >= LAB_LOG_STREAM_MAX - (1 << 20));
    snprintf(cmd, sizeof(cmd), "grep -q 'log stream truncated' '%s'", path);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_cold_and_warm),
        cmocka_unit_test(test_tail_holds_invocation_and_init_output),
        cmocka_unit_test(test_tail_is_last_4k),
        cmocka_unit_test(test_stream_file_and_cap),
        cmocka_unit_test(test_json_platform_lines),
        cmocka_unit_test(test_json_tail_is_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
