/*
 * Unit tests for fuzzoracle: each verdict from the answers the lab (and
 * AWS) give — Runtime.ExitError, Sandbox.Timedout and a "Task timed out"
 * log line, a variable's value in the answer or the log (and not when the
 * input carried it), memory growth over the bound from the lowest REPORT,
 * exceptions keyed by type and the innermost frame of the function's code
 * in Python's and Node's stack formats — and the probe comparison that
 * ignores request ids but nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fuzzoracle.h"

#define API_KEY "fuzz-sample-api-key-0001"

static secrets *sample_secrets(void)
{
    secrets *s = secrets_new();
    assert_non_null(s);
    assert_int_equal(secrets_add_literal(s, "API_KEY", API_KEY, strlen(API_KEY)), 0);
    return s;
}

static fuzzoracle_verdict judge(fuzzoracle *o, const char *fn_error, const char *payload, const char *log,
                                const char *input)
{
    fuzzoracle_answer a;
    fuzzoracle_verdict v;
    memset(&a, 0, sizeof(a));
    a.status = 200;
    a.function_error = fn_error;
    a.payload = payload;
    a.payload_len = payload ? strlen(payload) : 0;
    a.log = log;
    a.log_len = log ? strlen(log) : 0;
    a.input = input ? input : "{}";
    a.input_len = strlen(a.input);
    fuzzoracle_judge(o, &a, &v);
    return v;
}

static const char *report_line(char *buf, size_t len, int mb)
{
    snprintf(buf, len,
             "START RequestId: 0d7c1d4e-6b47-4a40-9a0f-3d3b0c1e2f70 Version: $LATEST\n"
             "END RequestId: 0d7c1d4e-6b47-4a40-9a0f-3d3b0c1e2f70\n"
             "REPORT RequestId: 0d7c1d4e-6b47-4a40-9a0f-3d3b0c1e2f70\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
             "Memory Size: 128 MB\tMax Memory Used: %d MB\t\n",
             mb);
    return buf;
}

static void crash_and_timeout(void **state)
{
    fuzzoracle *o = fuzzoracle_new(NULL, 16);
    fuzzoracle_verdict v;
    char log[1024];
    (void)state;
    v = judge(o, "Unhandled",
              "{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"RequestId: x Error: Runtime exited with error: "
              "exit status 3\"}",
              NULL, NULL);
    assert_int_equal(v.kind, FUZZORACLE_CRASH);
    assert_non_null(strstr(v.detail, "exit status 3"));
    assert_string_equal(v.key, "crash");
    v = judge(o, "Unhandled", "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"Task timed out after 1.00 "
                              "seconds\"}", NULL, NULL);
    assert_int_equal(v.kind, FUZZORACLE_TIMEOUT);
    /* AWS says it only in the log tail, after the REPORT line. */
    report_line(log, sizeof(log), 40);
    strncat(log, "2026-11-23T00:00:00.000Z 0d7c1d4e-6b47-4a40-9a0f-3d3b0c1e2f70 Task timed out after 1.00 seconds\n",
            sizeof(log) - strlen(log) - 1);
    v = judge(o, "Unhandled", "{\"errorMessage\":\"timeout\"}", log, NULL);
    assert_int_equal(v.kind, FUZZORACLE_TIMEOUT);
    v = judge(o, NULL, "{\"ok\":true}", NULL, NULL);
    assert_int_equal(v.kind, FUZZORACLE_NONE);
    assert_int_equal(v.max_memory_mb, -1);
    fuzzoracle_free(o);
}

static void leaks_but_not_echoes(void **state)
{
    secrets *s = sample_secrets();
    fuzzoracle *o = fuzzoracle_new(s, 16);
    fuzzoracle_verdict v;
    (void)state;
    v = judge(o, "Unhandled", "{\"errorType\":\"ValueError\",\"errorMessage\":\"bad amount for " API_KEY "\"}", NULL,
              NULL);
    assert_int_equal(v.kind, FUZZORACLE_LEAK);
    assert_non_null(strstr(v.detail, "API_KEY"));
    assert_null(strstr(v.detail, API_KEY));   /* named, never shown */
    v = judge(o, NULL, "{\"ok\":true}", "INFO key ZnV6ei1zYW1wbGUtYXBpLWtleS0wMDAx\n", NULL);
    assert_int_equal(v.kind, FUZZORACLE_LEAK);
    assert_non_null(strstr(v.detail, "base64"));
    assert_non_null(strstr(v.detail, "log tail"));
    v = judge(o, NULL, "{\"echo\":\"" API_KEY "\"}", NULL, "{\"echo\":\"" API_KEY "\"}");
    assert_int_equal(v.kind, FUZZORACLE_NONE);
    fuzzoracle_free(o);
    secrets_free(s);
}

static void memory_growth_from_the_lowest(void **state)
{
    fuzzoracle *o = fuzzoracle_new(NULL, 16);
    fuzzoracle_verdict v;
    char log[512];
    (void)state;
    v = judge(o, NULL, "{}", report_line(log, sizeof(log), 40), NULL);
    assert_int_equal(v.kind, FUZZORACLE_NONE);
    assert_int_equal(v.max_memory_mb, 40);
    v = judge(o, NULL, "{}", report_line(log, sizeof(log), 30), NULL);
    assert_int_equal(v.kind, FUZZORACLE_NONE);
    v = judge(o, NULL, "{}", report_line(log, sizeof(log), 46), NULL);
    assert_int_equal(v.kind, FUZZORACLE_NONE);   /* 16 above 30: at the bound, not over */
    v = judge(o, NULL, "{}", report_line(log, sizeof(log), 47), NULL);
    assert_int_equal(v.kind, FUZZORACLE_MEMORY);
    assert_non_null(strstr(v.detail, "17 MB above the lowest seen (30 MB)"));
    fuzzoracle_reset_memory(o);
    v = judge(o, NULL, "{}", report_line(log, sizeof(log), 90), NULL);
    assert_int_equal(v.kind, FUZZORACLE_NONE);
    fuzzoracle_free(o);
}

static void exceptions_keyed_by_type_and_frame(void **state)
{
    fuzzoracle *o = fuzzoracle_new(NULL, 16);
    fuzzoracle_verdict v;
    (void)state;
    v = judge(o, "Unhandled",
              "{\"errorType\":\"KeyError\",\"errorMessage\":\"'item'\",\"stackTrace\":["
              "\"  File \\\"/var/runtime/bootstrap.py\\\", line 80, in run\\n    r = h(e, c)\\n\","
              "\"  File \\\"/var/task/handler.py\\\", line 9, in handler\\n    return parse(event)\\n\","
              "\"  File \\\"/var/task/handler.py\\\", line 4, in parse\\n    return event['item']\\n\"]}",
              NULL, NULL);
    assert_int_equal(v.kind, FUZZORACLE_EXCEPTION);
    assert_string_equal(v.key, "KeyError at /var/task/handler.py:4");
    v = judge(o, "Unhandled",
              "{\"errorType\":\"TypeError\",\"errorMessage\":\"x is not a function\",\"stackTrace\":["
              "\"TypeError: x is not a function\",\"    at parse (/var/task/index.js:5:11)\","
              "\"    at Runtime.handler (/var/task/index.js:12:3)\",\"    at run (/var/runtime/bootstrap.js:99:1)\"]}",
              NULL, NULL);
    assert_int_equal(v.kind, FUZZORACLE_EXCEPTION);
    assert_string_equal(v.key, "TypeError at /var/task/index.js:5");
    v = judge(o, "Unhandled", "{\"errorType\":\"Runtime.UnmarshalError\",\"errorMessage\":\"Unable to unmarshal "
                              "input\"}", NULL, NULL);
    assert_int_equal(v.kind, FUZZORACLE_NONE);
    assert_true(v.not_an_event);
    v = judge(o, "Unhandled", "not json", NULL, NULL);
    assert_false(v.not_an_event);
    assert_int_equal(v.kind, FUZZORACLE_EXCEPTION);
    assert_string_equal(v.key, "Unhandled at (no frame in the function's code)");
    fuzzoracle_free(o);
}

static void probe_answers_compare_but_for_request_ids(void **state)
{
    const char *a = "{\"id\":\"0d7c1d4e-6b47-4a40-9a0f-3d3b0c1e2f70\",\"currency\":\"EUR\"}";
    const char *b = "{\"id\":\"9a9c1d4e-6b47-4a40-9a0f-3d3b0c1e2fff\",\"currency\":\"EUR\"}";
    const char *c = "{\"id\":\"9a9c1d4e-6b47-4a40-9a0f-3d3b0c1e2fff\",\"currency\":\"USD\"}";
    (void)state;
    assert_true(fuzzoracle_same_answer(a, strlen(a), b, strlen(b)));
    assert_false(fuzzoracle_same_answer(a, strlen(a), c, strlen(c)));
    assert_false(fuzzoracle_same_answer(a, strlen(a), a, strlen(a) - 1));
    assert_true(fuzzoracle_same_answer("", 0, "", 0));
    assert_false(fuzzoracle_same_answer("0d7c1d4e", 8, "0d7c1d4f", 8));
    assert_string_equal(fuzzoracle_kind_name(FUZZORACLE_POLLUTION), "pollution");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_and_timeout),
        cmocka_unit_test(leaks_but_not_echoes),
        cmocka_unit_test(memory_growth_from_the_lowest),
        cmocka_unit_test(exceptions_keyed_by_type_and_frame),
        cmocka_unit_test(probe_answers_compare_but_for_request_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
