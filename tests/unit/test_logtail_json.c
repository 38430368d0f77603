/*
 * Unit tests for logtail's JSON log format (Lambda's JSON logs, the only
 * format of Managed Instances): the platform.report record of the
 * invocation's own request id, which line belongs to which request
 * (requestId / record.requestId), and the lines kept as one invocation's
 * evidence when several requests' lines interleave in its tail. Hostile
 * shapes included: the text comes from whatever endpoint answered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logtail.h"

#define A "8d3b1f2a-0c4e-4b7a-9e21-5f6a7b8c9d01"
#define B "1a2b3c4d-5e6f-4a8b-9c0d-e1f2a3b4c5d6"

#define START(id) "{\"time\":\"2026-12-07T12:00:00.000Z\",\"type\":\"platform.start\",\"record\":{\"requestId\":\"" id \
                  "\",\"version\":\"$LATEST\"}}\n"
#define APP(id, msg) "{\"timestamp\":\"2026-12-07T12:00:00.010Z\",\"level\":\"INFO\",\"requestId\":\"" id \
                     "\",\"message\":\"" msg "\"}\n"
#define REPORT(id, status, metrics) "{\"time\":\"2026-12-07T12:00:00.050Z\",\"type\":\"platform.report\",\"record\":" \
                                    "{\"requestId\":\"" id "\",\"status\":\"" status "\",\"metrics\":{" metrics "}}}\n"
#define METRICS "\"durationMs\":41.5,\"billedDurationMs\":42,\"memorySizeMB\":512,\"maxMemoryUsedMB\":88"

/* The tail of B's invocation in one environment that served A and B at once. */
static const char interleaved[] = START(A) START(B) APP(A, "alice CSC0123") APP(B, "bob") "raw print line\n"
    REPORT(A, "success", METRICS) APP(B, "bob again") REPORT(B, "success", "\"durationMs\":60.25,"
    "\"billedDurationMs\":61,\"memorySizeMB\":512,\"maxMemoryUsedMB\":90");

/* Parses from a heap copy of exactly len bytes (no NUL after it). */
static void parse_for(const char *s, size_t len, const char *id, logtail_report *r)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    logtail_parse_for(copy, len, id, r);
    free(copy);
}

static void test_report_of_own_request(void **state)
{
    logtail_report r;
    (void)state;
    parse_for(interleaved, strlen(interleaved), B, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, B);
    assert_true(r.duration_ms == 60.25);
    assert_true(r.billed_ms == 61);
    assert_int_equal(r.memory_size_mb, 512);
    assert_int_equal(r.max_memory_used_mb, 90);
    assert_false(r.has_init);
    assert_false(r.timed_out);
    /* A's record, though it comes earlier, is A's. */
    parse_for(interleaved, strlen(interleaved), A, &r);
    assert_true(r.present);
    assert_true(r.duration_ms == 41.5);
    /* A request whose record is not in the tail has none. */
    parse_for(interleaved, strlen(interleaved), "0000-not-here", &r);
    assert_false(r.present);
    /* Without an id, the last record (the platform writes its own last). */
    parse_for(interleaved, strlen(interleaved), NULL, &r);
    assert_true(r.present);
    assert_string_equal(r.request_id, B);
    parse_for(interleaved, strlen(interleaved), "", &r);
    assert_string_equal(r.request_id, B);
}

static void test_init_timeout_and_text_report(void **state)
{
    static const char cold[] = REPORT(A, "success", METRICS ",\"initDurationMs\":180.25");
    static const char timeout[] = REPORT(A, "timeout", METRICS);
    static const char text[] = "REPORT RequestId: " A "\tDuration: 2.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 "
                               "MB\tMax Memory Used: 40 MB\t\n" REPORT(A, "success", METRICS);
    logtail_report r;
    (void)state;
    parse_for(cold, strlen(cold), A, &r);
    assert_true(r.present && r.has_init);
    assert_true(r.init_ms == 180.25);
    parse_for(timeout, strlen(timeout), A, &r);
    assert_true(r.present && r.timed_out);
    assert_true(r.timed_out_after_s == 0);
    /* Unknown id: the text REPORT line reads as logtail_parse reads it. */
    parse_for(text, strlen(text), NULL, &r);
    assert_true(r.present);
    assert_int_equal(r.memory_size_mb, 128);
    /* Known id: the record that names it. */
    parse_for(text, strlen(text), A, &r);
    assert_int_equal(r.memory_size_mb, 512);
}

static void test_malformed_records(void **state)
{
    static const char *const bad[] = {
        REPORT(A, "success", "\"durationMs\":41.5,\"billedDurationMs\":42,\"memorySizeMB\":512"),     /* missing */
        REPORT(A, "success", "\"durationMs\":\"41\",\"billedDurationMs\":42,\"memorySizeMB\":512,\"maxMemoryUsedMB\":1"),
        REPORT(A, "success", "\"durationMs\":-1,\"billedDurationMs\":42,\"memorySizeMB\":512,\"maxMemoryUsedMB\":1"),
        REPORT(A, "success", "\"durationMs\":1e300,\"billedDurationMs\":42,\"memorySizeMB\":512,\"maxMemoryUsedMB\":1"),
        REPORT(A, "success", "\"durationMs\":1,\"billedDurationMs\":42,\"memorySizeMB\":512.5,\"maxMemoryUsedMB\":1"),
        REPORT(A, "success", METRICS ",\"initDurationMs\":null"),
        "{\"type\":\"platform.report\",\"record\":{\"requestId\":\"" A "\",\"metrics\":[1,2]}}\n",
        "{\"type\":\"platform.report\",\"record\":\"" A "\"}\n",
    };
    logtail_report r;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_for(bad[i], strlen(bad[i]), A, &r);
        assert_false(r.present);
        assert_string_equal(r.request_id, "");
        assert_true(r.duration_ms == 0 && r.max_memory_used_mb == 0 && !r.has_init);
        /* ... and an earlier good record is never used in its place (the
         * last entry names no request: not A's record at all). */
        if (i + 1 < sizeof(bad) / sizeof(bad[0])) {
            char two[1024];
            snprintf(two, sizeof(two), "%s%s", REPORT(A, "success", METRICS), bad[i]);
            parse_for(two, strlen(two), A, &r);
            assert_false(r.present);
        }
    }
}

static void test_hostile_input(void **state)
{
    char *deep = malloc(200001), *id = malloc(200);
    logtail_report r;
    size_t n = 0;
    (void)state;
    assert_non_null(deep);
    assert_non_null(id);
    /* Nesting far past cJSON's limit, cut lines, NULs, a request id too long or with a space. */
    for (int i = 0; i < 100000; i++)
        deep[n++] = '[';
    memcpy(deep + n, "platform.report", 15);
    n += 15;
    parse_for(deep, n, NULL, &r);
    assert_false(r.present);
    parse_for("{\"type\":\"platform.report\",\"rec", 30, NULL, &r);
    assert_false(r.present);
    {
        static const char nul[] = "{\"type\":\"platform.re\0port\",\"record\":{}}\n";
        parse_for(nul, sizeof(nul) - 1, NULL, &r);
        assert_false(r.present);
    }
    memset(id, 'x', 199);
    id[199] = '\0';
    {
        char line[1024];
        snprintf(line, sizeof(line), REPORT("%s", "success", METRICS), id);
        parse_for(line, strlen(line), NULL, &r);
        assert_false(r.present);
        snprintf(line, sizeof(line), REPORT("%s", "success", METRICS), "a b");
        parse_for(line, strlen(line), NULL, &r);
        assert_false(r.present);
        assert_false(logtail_line_request_id(line, strlen(line), id, 200));
    }
    free(deep);
    free(id);
}

static void test_line_request_id(void **state)
{
    char id[LOGTAIL_REQUEST_ID_MAX];
    static const char app[] = APP(A, "x");
    static const char plat[] = START(B);
    static const char both[] = "{\"requestId\":\"" A "\",\"record\":{\"requestId\":\"" B "\"}}";
    (void)state;
    assert_true(logtail_line_request_id(app, strlen(app) - 1, id, sizeof(id)));
    assert_string_equal(id, A);
    assert_true(logtail_line_request_id(plat, strlen(plat) - 1, id, sizeof(id)));
    assert_string_equal(id, B);
    assert_true(logtail_line_request_id(both, strlen(both), id, sizeof(id)));
    assert_string_equal(id, A);   /* the line's own field first */
    assert_false(logtail_line_request_id("raw text " A, strlen("raw text " A), id, sizeof(id)));
    assert_string_equal(id, "");
    assert_false(logtail_line_request_id("[\"" A "\"]", strlen(A) + 4, id, sizeof(id)));
    assert_false(logtail_line_request_id("{\"requestId\":7}", 15, id, sizeof(id)));
    assert_false(logtail_line_request_id("{\"requestId\":\"\"}", 16, id, sizeof(id)));
    assert_false(logtail_line_request_id(app, 20, id, sizeof(id)));   /* cut */
    assert_false(logtail_line_request_id(app, strlen(app) - 1, id, 8)); /* does not fit */
    assert_false(logtail_line_request_id(NULL, 0, id, sizeof(id)));
}

static void test_own_lines(void **state)
{
    char *out = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(logtail_own_lines(interleaved, strlen(interleaved), B, &out, &len), 0);
    assert_string_equal(out, START(B) APP(B, "bob") APP(B, "bob again")
                        REPORT(B, "success", "\"durationMs\":60.25,\"billedDurationMs\":61,\"memorySizeMB\":512,"
                               "\"maxMemoryUsedMB\":90"));
    assert_int_equal(len, strlen(out));
    assert_null(strstr(out, "CSC0123"));   /* A's line is not B's evidence */
    assert_null(strstr(out, "raw print")); /* nor a line that names no request */
    free(out);
    /* Unknown id: nothing is evidence. */
    assert_int_equal(logtail_own_lines(interleaved, strlen(interleaved), "", &out, &len), 0);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    free(out);
    assert_int_equal(logtail_own_lines(interleaved, strlen(interleaved), NULL, &out, &len), 0);
    assert_int_equal(len, 0);
    free(out);
    /* A last line without a newline, CRLF, and exactly len bytes. */
    {
        static const char crlf[] = "{\"requestId\":\"" A "\",\"m\":1}\r\n{\"requestId\":\"" A "\",\"m\":2}";
        char *copy = malloc(sizeof(crlf) - 1);
        assert_non_null(copy);
        memcpy(copy, crlf, sizeof(crlf) - 1);
        assert_int_equal(logtail_own_lines(copy, sizeof(crlf) - 1, A, &out, &len), 0);
        assert_string_equal(out, "{\"requestId\":\"" A "\",\"m\":1}\n{\"requestId\":\"" A "\",\"m\":2}\n");
        free(out);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_of_own_request),
        cmocka_unit_test(test_init_timeout_and_text_report),
        cmocka_unit_test(test_malformed_records),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_line_request_id),
        cmocka_unit_test(test_own_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
